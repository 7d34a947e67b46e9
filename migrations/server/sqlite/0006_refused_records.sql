-- Tandem central server, SQLite dialect, schema version 6: the records a push refused whole
-- that the server does not hold: those that link to an erased record (a contact logged
-- offline for a client erased meanwhile), which the server never stored, and an erased
-- record written again (its id is also in `purges`). A push carries one change per field,
-- so the contact's later edits come without its `client_id`: they are refused as erased too
-- (`record_erased`) rather than creating the contact without its client. Ids only, no value;
-- kept for good, like `purges`. Never edit a landed migration.
CREATE TABLE refused_records (
    record_id   TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,
    team_id     TEXT NOT NULL REFERENCES teams (id),
    refused_ms  INTEGER NOT NULL
);
