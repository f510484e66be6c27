-- Alert destinations. Later migrations add the Slack settings and filters.
CREATE TABLE destinations (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
