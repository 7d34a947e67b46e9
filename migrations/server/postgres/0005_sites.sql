-- Tandem central server, PostgreSQL dialect, schema version 5: sites, the NGO premises where
-- contacts happen (see the SQLite dialect). Never edit a landed migration.

-- `name_key` is the trimmed name in lower case, made by the server (not lower(), which
-- depends on the database's locale), so both backends agree on which names are one site.
CREATE TABLE sites (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms  BIGINT NOT NULL
);
