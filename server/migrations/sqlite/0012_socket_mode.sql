-- Socket Mode: the app-level token (xapp-…) Herald opens its own
-- connection to Slack with, sealed like the other secrets.
ALTER TABLE slack_apps ADD COLUMN app_token TEXT;
ALTER TABLE slack_apps ADD COLUMN app_token_hint TEXT;
