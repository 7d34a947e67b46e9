-- Tandem central server, PostgreSQL dialect, schema version 4: database epochs (see the
-- SQLite dialect and docs/protocol.md, "Epochs"). Never edit a landed migration.
CREATE TABLE epochs (
    id            UUID PRIMARY KEY,
    start_seq     BIGINT NOT NULL UNIQUE,
    restored_seq  BIGINT NOT NULL,
    started_ms    BIGINT NOT NULL
);
INSERT INTO epochs (id, start_seq, restored_seq, started_ms)
VALUES (gen_random_uuid(), 1, 0, (extract(epoch FROM now()) * 1000)::BIGINT);
