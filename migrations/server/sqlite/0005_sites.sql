-- Tandem central server, SQLite dialect, schema version 5: sites, the NGO premises where
-- contacts happen (a contact's `site` is a site's id). Organisation-wide reference data,
-- shared by every team: made, renamed and archived by `tandem-server admin site`, pulled by
-- devices from `GET /v1/sites`. Never edit a landed migration.

-- `name` is the name as given, trimmed; `name_key` is that name in lower case (made by the
-- server, Unicode-aware, which SQLite's lower() is not), so two names that differ only in
-- case or surrounding spaces are one site. A site is never deleted: contacts keep its id,
-- and an archived site is still named for them.
CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL
);
