-- Jobs one server at a time does (delivering): who holds each, until when.
-- A SQLite file has one server, which always holds them; the table is
-- here so both backends share the code that takes them.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    -- A random ID the holding process chose at start.
    holder     TEXT NOT NULL,
    -- Unix milliseconds; renewed well before.
    expires_at INTEGER NOT NULL
) STRICT;
