-- Links an alert shows as buttons (Grafana's dashboard, panel and
-- silence; `links` of the ingest API): a JSON array of {label, url}.
ALTER TABLE alerts ADD COLUMN links JSONB NOT NULL DEFAULT '[]';
