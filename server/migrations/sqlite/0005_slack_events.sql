-- What Slack told Herald about an app (uninstalled, tokens revoked), and
-- the events already handled, so Slack's retries change nothing.
ALTER TABLE slack_apps ADD COLUMN problem TEXT;

CREATE TABLE slack_events (
    event_id    TEXT PRIMARY KEY NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
