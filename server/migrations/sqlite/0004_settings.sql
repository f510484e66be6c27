-- Server-wide values, such as the check that the secret key file matches
-- the secrets this database holds.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
