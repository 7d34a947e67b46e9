-- Tandem central server, PostgreSQL dialect, schema version 6: the records a push refused
-- whole that the server does not hold: those that link to an erased record, and an erased
-- record written again (see the SQLite dialect). Ids only, no value;
-- kept for good, like `purges`. Never edit a landed migration.
CREATE TABLE refused_records (
    record_id   UUID PRIMARY KEY,
    entity      TEXT NOT NULL,
    team_id     UUID NOT NULL REFERENCES teams (id),
    refused_ms  BIGINT NOT NULL
);
