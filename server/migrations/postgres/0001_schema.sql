-- Herald's schema on PostgreSQL, as the SQLite migrations 1 to 10 left it
-- there. Append only from here: a released migration never changes.
--
-- Times the API shows as text (`*_at` of destinations, apps, users and
-- tokens) are RFC 3339 UTC text, as in SQLite, so a record reads the same
-- from either backend and `herald migrate-db` copies them as they are; the
-- times Herald computes with are Unix milliseconds (seconds for sessions
-- and install states) in BIGINT. `seq` columns keep insertion order where
-- SQLite orders by rowid.

CREATE TABLE destinations (
    id               TEXT PRIMARY KEY,
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'ACTIVE', 'DISABLED')),
    -- Which wizard step a draft is at (1 to 7).
    wizard_step      BIGINT NOT NULL DEFAULT 1,
    display_name     TEXT NOT NULL,
    channel          TEXT NOT NULL DEFAULT '',
    -- The Slack app (slack_apps.client_id); as typed while a draft.
    client_id        TEXT NOT NULL DEFAULT '',
    severities       JSONB NOT NULL DEFAULT '[]',
    alert_kinds      JSONB NOT NULL DEFAULT '[]',
    log_types        JSONB NOT NULL DEFAULT '[]',
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    -- Why deliveries to it fail for good; cleared by the next message that gets through.
    delivery_problem TEXT,
    -- Minutes an alert takes matching events in; 0: every event is an alert.
    dedup_window     BIGINT NOT NULL DEFAULT 60,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    -- Lower-cased email: unique without regard to case.
    email_key     TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    -- Argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('ADMIN', 'ANALYST', 'VIEWER')),
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's value: a stolen database opens no session.
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    -- Unix seconds.
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    name         TEXT NOT NULL,
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE slack_apps (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL UNIQUE,
    -- Secrets are sealed (AES-256-GCM under HERALD_SECRET_KEY_FILE); the
    -- hints are their last four characters, for "••••abcd".
    client_secret         TEXT,
    client_secret_hint    TEXT,
    signing_secret        TEXT,
    signing_secret_hint   TEXT,
    bot_token             TEXT,
    bot_token_hint        TEXT,
    -- What Slack said is wrong (uninstalled, tokens revoked).
    problem               TEXT,
    team_id               TEXT,
    team_name             TEXT,
    enterprise_id         TEXT,
    is_enterprise_install BOOLEAN NOT NULL DEFAULT FALSE,
    bot_user_id           TEXT,
    app_id                TEXT,
    scopes                TEXT,
    -- Token rotation: the sealed refresh token and when the bot token expires (Unix seconds).
    refresh_token         TEXT,
    refresh_token_hint    TEXT,
    token_expires_at      BIGINT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);

-- Server-wide values, such as the check that the secret key file matches
-- the secrets this database holds.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Events API events already handled, so Slack's retries change nothing.
CREATE TABLE slack_events (
    event_id    TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);

-- The single-use states of installs in progress.
CREATE TABLE oauth_states (
    -- SHA-256 of the state sent to Slack (and kept in the browser's cookie).
    state_hash     TEXT PRIMARY KEY,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    -- Unix seconds.
    expires_at     BIGINT NOT NULL,
    used           BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE alerts (
    -- The sender's alertId, or one Herald assigned: repeats are refused.
    id                TEXT PRIMARY KEY,
    seq               BIGINT GENERATED ALWAYS AS IDENTITY,
    title             TEXT NOT NULL,
    severity          TEXT NOT NULL CHECK (severity IN ('INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    type              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('OPEN', 'TRIAGED', 'RESOLVED', 'CLOSED')),
    detection_id      TEXT,
    log_types         JSONB NOT NULL DEFAULT '[]',
    tags              JSONB NOT NULL DEFAULT '[]',
    description       TEXT,
    runbook           TEXT,
    reference         TEXT,
    -- Compact JSON, as sent: text, because jsonb would reorder its keys.
    alert_context     TEXT,
    -- Unix milliseconds.
    created_at        BIGINT NOT NULL,
    received_at       BIGINT NOT NULL,
    assignee_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- The assignee's name and, when known, their Slack user ID (for mentions).
    assignee_name     TEXT,
    assignee_slack_id TEXT,
    dedup_key         TEXT,
    -- Events folded in, the first one included.
    event_count       BIGINT NOT NULL DEFAULT 1,
    -- Unix milliseconds of the latest event (NULL: the first, received_at).
    last_seen_at      BIGINT,
    -- The events before the latest, newest first, at most 20:
    -- [{"at": ms, "context": "<compact JSON>" | null}].
    earlier_events    JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX alerts_by_created ON alerts (created_at);
CREATE INDEX alerts_by_received ON alerts (received_at);
CREATE INDEX alerts_by_dedup_key ON alerts (dedup_key, received_at) WHERE dedup_key IS NOT NULL AND status IN ('OPEN', 'TRIAGED');

-- What Slack should show of an alert, per destination: its message (POST),
-- and later the message updated (UPDATE) and replies in its thread (REPLY).
CREATE TABLE deliveries (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id       TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL DEFAULT 'POST' CHECK (kind IN ('POST', 'UPDATE', 'REPLY')),
    -- A reply's mrkdwn text.
    body           TEXT,
    state          TEXT NOT NULL CHECK (state IN ('QUEUED', 'SENDING', 'SENT', 'RETRYING', 'FAILED')),
    -- Attempts that reached Slack (a wait for the channel's pace is not one).
    attempts       BIGINT NOT NULL DEFAULT 0,
    -- Unix milliseconds: when a QUEUED or RETRYING delivery is due; when the
    -- claim on a SENDING one lapses.
    due_at         BIGINT NOT NULL,
    slack_channel  TEXT,
    slack_ts       TEXT,
    last_error     TEXT,
    -- Unix milliseconds.
    updated_at     BIGINT NOT NULL,
    -- Counts claims: an outcome is recorded only for the claim it ends.
    claim          BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX deliveries_one_post ON deliveries (alert_id, destination_id) WHERE kind = 'POST';
CREATE INDEX deliveries_in_order ON deliveries (alert_id, destination_id, id) WHERE kind != 'POST';
CREATE INDEX deliveries_due_posts ON deliveries (due_at, id) WHERE state IN ('QUEUED', 'RETRYING', 'SENDING') AND kind = 'POST';
CREATE INDEX deliveries_due_follow_ups ON deliveries (due_at, id) WHERE state IN ('QUEUED', 'RETRYING', 'SENDING') AND kind != 'POST';
CREATE INDEX deliveries_by_destination ON deliveries (destination_id, updated_at);

CREATE TABLE alert_activity (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- Unix milliseconds.
    at         BIGINT NOT NULL,
    actor_id   TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('SLACK', 'CONSOLE', 'API')),
    action     TEXT NOT NULL CHECK (action IN ('STATUS', 'ASSIGN', 'COMMENT', 'RESOLVE', 'QUESTION', 'ANSWER', 'EVENTS')),
    old_value  TEXT,
    new_value  TEXT,
    comment    TEXT
);
CREATE INDEX alert_activity_by_alert ON alert_activity (alert_id, at);

-- Jobs one replica at a time does (delivering, so the pace of every
-- channel is kept in one place): who holds each, until when. A replica
-- that dies stops renewing, and another takes the job over.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    -- A random ID the holding process chose at start.
    holder     TEXT NOT NULL,
    -- Unix milliseconds; renewed well before.
    expires_at BIGINT NOT NULL
);
