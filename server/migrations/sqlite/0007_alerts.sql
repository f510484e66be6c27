-- Alerts and the outbox of their deliveries: an alert and one delivery per
-- destination it is routed to are written in one transaction, and workers
-- claim due deliveries from here, so an accepted alert survives a crash.
CREATE TABLE alerts (
    -- The sender's alertId, or one Herald assigned: repeats are refused.
    id            TEXT PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    type          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('OPEN', 'TRIAGED', 'RESOLVED', 'CLOSED')),
    detection_id  TEXT,
    -- JSON arrays.
    log_types     TEXT NOT NULL DEFAULT '[]',
    tags          TEXT NOT NULL DEFAULT '[]',
    description   TEXT,
    runbook       TEXT,
    reference     TEXT,
    -- Compact JSON, as sent.
    alert_context TEXT,
    -- Unix milliseconds.
    created_at    INTEGER NOT NULL,
    received_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX alerts_by_created ON alerts (created_at);

-- What Slack should show of an alert, per destination: its message (POST),
-- and later the message updated (UPDATE) and replies in its thread (REPLY).
CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    alert_id       TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL DEFAULT 'POST' CHECK (kind IN ('POST', 'UPDATE', 'REPLY')),
    -- A reply's mrkdwn text.
    body           TEXT,
    state          TEXT NOT NULL CHECK (state IN ('QUEUED', 'SENDING', 'SENT', 'RETRYING', 'FAILED')),
    -- Attempts that reached Slack and failed or succeeded (a wait for the
    -- channel's pace is not one).
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds: when a QUEUED or RETRYING delivery is due; when the
    -- claim on a SENDING one lapses.
    due_at         INTEGER NOT NULL,
    slack_channel  TEXT,
    slack_ts       TEXT,
    last_error     TEXT,
    -- Unix milliseconds.
    updated_at     INTEGER NOT NULL,
    -- Counts claims: an outcome is recorded only for the claim it ends.
    claim          INTEGER NOT NULL DEFAULT 0
) STRICT;
-- One message per alert and destination.
CREATE UNIQUE INDEX deliveries_one_post ON deliveries (alert_id, destination_id) WHERE kind = 'POST';
-- Updates and replies go out in order, after the message they follow.
CREATE INDEX deliveries_in_order ON deliveries (alert_id, destination_id, id) WHERE kind != 'POST';
-- What is due, messages apart from their updates and replies: the
-- messages are claimed straight from the index, in order.
CREATE INDEX deliveries_due_posts ON deliveries (due_at) WHERE state IN ('QUEUED', 'RETRYING', 'SENDING') AND kind = 'POST';
CREATE INDEX deliveries_due_follow_ups ON deliveries (due_at) WHERE state IN ('QUEUED', 'RETRYING', 'SENDING') AND kind != 'POST';
CREATE INDEX deliveries_by_destination ON deliveries (destination_id, updated_at);

-- Why deliveries to a destination fail for good (not in the channel, token
-- revoked); cleared by the next message that gets through.
ALTER TABLE destinations ADD COLUMN delivery_problem TEXT;
