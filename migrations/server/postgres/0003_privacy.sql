-- Tandem central server, PostgreSQL dialect, schema version 2: erasure, retention and the
-- audit log (docs/security.md). Never edit a landed migration.

-- One row per erased or purged record, with a seq from the change log's sequence (taken
-- under SEQ_LOCK_KEY like every seq), pulled by devices, kept for good; no personal data.
CREATE TABLE purges (
    seq          BIGINT PRIMARY KEY,
    team_id      UUID NOT NULL REFERENCES teams (id),
    entity       TEXT NOT NULL,
    record_id    UUID NOT NULL UNIQUE,
    purged_ms    BIGINT NOT NULL
);
CREATE INDEX purges_team_seq ON purges (team_id, seq);

-- The append-only, hash-chained audit log (see the SQLite dialect). Appends take the
-- advisory lock AUDIT_LOCK_KEY, so the chain has one order across every instance.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    team_id    UUID,
    entity     TEXT,
    record_id  UUID,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_id, seq);
CREATE INDEX audit_log_team ON audit_log (team_id, seq);

-- Finds the contacts of a client and the clients merged into it, for erasure and retention.
CREATE INDEX field_state_links ON field_state (field, value)
    WHERE field IN ('client_id', 'merged_into');
