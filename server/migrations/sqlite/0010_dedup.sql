-- Alert storms: events with the same deduplication key, while their alert
-- is still OPEN or TRIAGED and within the destinations' window, are folded
-- into that alert instead of making a new message.
ALTER TABLE alerts ADD COLUMN dedup_key TEXT;
-- Events folded in, the first one included.
ALTER TABLE alerts ADD COLUMN event_count INTEGER NOT NULL DEFAULT 1;
-- Unix milliseconds of the latest event (NULL: the first, received_at).
ALTER TABLE alerts ADD COLUMN last_seen_at INTEGER;
-- JSON array of the events before the latest, newest first, at most 20:
-- [{"at": ms, "context": "<compact JSON>" | null}].
ALTER TABLE alerts ADD COLUMN earlier_events TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alerts_by_dedup_key ON alerts (dedup_key, received_at) WHERE dedup_key IS NOT NULL AND status IN ('OPEN', 'TRIAGED');

-- Minutes an alert takes matching events in; 0: every event is an alert.
ALTER TABLE destinations ADD COLUMN dedup_window INTEGER NOT NULL DEFAULT 60;

-- The history says "12 more events" (action EVENTS, from the alert
-- pipeline: source API). SQLite cannot change a CHECK, so the table is
-- built again with the wider ones.
CREATE TABLE alert_activity_new (
    id          INTEGER PRIMARY KEY,
    alert_id    TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- Unix milliseconds.
    at          INTEGER NOT NULL,
    actor_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_name  TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('SLACK', 'CONSOLE', 'API')),
    action      TEXT NOT NULL CHECK (action IN ('STATUS', 'ASSIGN', 'COMMENT', 'RESOLVE', 'QUESTION', 'ANSWER', 'EVENTS')),
    old_value   TEXT,
    new_value   TEXT,
    comment     TEXT
) STRICT;
INSERT INTO alert_activity_new (id, alert_id, at, actor_id, actor_name, source, action, old_value, new_value, comment)
    SELECT id, alert_id, at, actor_id, actor_name, source, action, old_value, new_value, comment FROM alert_activity;
DROP TABLE alert_activity;
ALTER TABLE alert_activity_new RENAME TO alert_activity;
CREATE INDEX alert_activity_by_alert ON alert_activity (alert_id, at);
