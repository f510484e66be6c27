-- Who a destination's messages mention, per severity: a JSON object
-- such as {"CRITICAL": ["@here", "<!subteam^S0123ABCD|@sec-oncall>"]}.
ALTER TABLE destinations ADD COLUMN mentions TEXT NOT NULL DEFAULT '{}';
-- Reminders while an alert stays Open and unassigned: after how many
-- minutes (0: never), and at most how many times.
ALTER TABLE destinations ADD COLUMN remind_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE destinations ADD COLUMN remind_times INTEGER NOT NULL DEFAULT 3;

-- Reminders still to come: one row per alert and destination, written with
-- the alert, gone once the alert is triaged or its reminders are all sent.
-- When the next is due is read with the destination's settings, so a
-- change to them applies to alerts already open.
CREATE TABLE reminders (
    alert_id       TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    -- Unix milliseconds: when Herald received the alert.
    since          INTEGER NOT NULL,
    -- Reminders sent so far.
    sent           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, destination_id)
) STRICT;
