-- Triage: who an alert is assigned to, and everything that happened to it.
ALTER TABLE alerts ADD COLUMN assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL;
-- The assignee's name and, when known, their Slack user ID (for mentions).
ALTER TABLE alerts ADD COLUMN assignee_name TEXT;
ALTER TABLE alerts ADD COLUMN assignee_slack_id TEXT;

CREATE TABLE alert_activity (
    id          INTEGER PRIMARY KEY,
    alert_id    TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- Unix milliseconds.
    at          INTEGER NOT NULL,
    actor_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_name  TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('SLACK', 'CONSOLE')),
    action      TEXT NOT NULL CHECK (action IN ('STATUS', 'ASSIGN', 'COMMENT', 'RESOLVE', 'QUESTION', 'ANSWER')),
    old_value   TEXT,
    new_value   TEXT,
    comment     TEXT
) STRICT;
CREATE INDEX alert_activity_by_alert ON alert_activity (alert_id, at);
