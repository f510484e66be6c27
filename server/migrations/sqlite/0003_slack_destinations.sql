-- The Slack app Slack Bot destinations share, and each destination's
-- settings. A destination is a draft until its setup is finished.

CREATE TABLE slack_apps (
    id                  TEXT PRIMARY KEY NOT NULL,
    client_id           TEXT NOT NULL UNIQUE,
    -- Secrets are sealed (AES-256-GCM under HERALD_SECRET_KEY_FILE); the
    -- hints are their last four characters, for "••••abcd".
    client_secret       TEXT,
    client_secret_hint  TEXT,
    signing_secret      TEXT,
    signing_secret_hint TEXT,
    bot_token           TEXT,
    bot_token_hint      TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

ALTER TABLE destinations ADD COLUMN status TEXT NOT NULL DEFAULT 'DRAFT'
    CHECK (status IN ('DRAFT', 'ACTIVE', 'DISABLED'));
-- Which wizard step a draft is at (1 to 7).
ALTER TABLE destinations ADD COLUMN wizard_step INTEGER NOT NULL DEFAULT 1;
ALTER TABLE destinations ADD COLUMN channel TEXT NOT NULL DEFAULT '';
-- The Slack app (slack_apps.client_id); as typed while a draft.
ALTER TABLE destinations ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
-- JSON arrays.
ALTER TABLE destinations ADD COLUMN severities TEXT NOT NULL DEFAULT '[]';
ALTER TABLE destinations ADD COLUMN alert_kinds TEXT NOT NULL DEFAULT '[]';
ALTER TABLE destinations ADD COLUMN log_types TEXT NOT NULL DEFAULT '[]';
ALTER TABLE destinations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE destinations ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
