-- Installs through Herald's own "Add to Slack": the single-use states of
-- installs in progress, and what Slack said about the installation.
CREATE TABLE oauth_states (
    -- SHA-256 of the state sent to Slack (and kept in the browser's cookie).
    state_hash     TEXT PRIMARY KEY NOT NULL,
    destination_id TEXT NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    -- Unix seconds.
    expires_at     INTEGER NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) STRICT;

ALTER TABLE slack_apps ADD COLUMN team_id TEXT;
ALTER TABLE slack_apps ADD COLUMN team_name TEXT;
ALTER TABLE slack_apps ADD COLUMN enterprise_id TEXT;
ALTER TABLE slack_apps ADD COLUMN is_enterprise_install INTEGER NOT NULL DEFAULT 0;
ALTER TABLE slack_apps ADD COLUMN bot_user_id TEXT;
ALTER TABLE slack_apps ADD COLUMN app_id TEXT;
ALTER TABLE slack_apps ADD COLUMN scopes TEXT;
-- Token rotation: the sealed refresh token and when the bot token expires.
ALTER TABLE slack_apps ADD COLUMN refresh_token TEXT;
ALTER TABLE slack_apps ADD COLUMN refresh_token_hint TEXT;
ALTER TABLE slack_apps ADD COLUMN token_expires_at INTEGER;
