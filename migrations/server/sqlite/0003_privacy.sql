-- Tandem central server, SQLite dialect, schema version 2: erasure, retention and the audit
-- log (docs/security.md). Never edit a landed migration.

-- One row per erased or purged record. It takes a seq from the same sequence as the change
-- log (the larger of both maxima plus one), so devices pull it in commit order like a write
-- and remove the record; it is kept for good, so that a laptop offline for months still gets
-- it, and so that later changes to the record are refused. It holds no personal data.
CREATE TABLE purges (
    seq          INTEGER PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams (id),
    entity       TEXT NOT NULL,
    record_id    TEXT NOT NULL UNIQUE,
    purged_ms    INTEGER NOT NULL
);
CREATE INDEX purges_team_seq ON purges (team_id, seq);

-- The append-only, hash-chained audit log: who did what to which record, and when, without
-- personal data. hash = SHA-256(prev_hash || canonical bytes of the entry) (src/audit.rs).
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL,           -- user:<id>, device:<id>, or system
    action     TEXT NOT NULL,
    team_id    TEXT,
    entity     TEXT,
    record_id  TEXT,
    detail     TEXT NOT NULL,           -- counts and field names, never values
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_id, seq);
CREATE INDEX audit_log_team ON audit_log (team_id, seq);

-- Finds the contacts of a client and the clients merged into it, for erasure and retention.
CREATE INDEX field_state_links ON field_state (field, value)
    WHERE field IN ('client_id', 'merged_into');
