-- Retention (HERALD_RETENTION): alerts are deleted, oldest first, once
-- their last change is older than the setting.
CREATE INDEX alerts_by_received ON alerts (received_at);
