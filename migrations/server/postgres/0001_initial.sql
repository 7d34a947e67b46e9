-- Tandem central server, PostgreSQL dialect, schema version 1.
-- Never edit a landed migration: add 0002_... instead (and list it in store/postgres.rs).
-- The same tables as the SQLite dialect, with native types: ids are UUID, times are Unix
-- milliseconds (BIGINT, as in SQLite, so both backends read and write the same numbers),
-- flags are BOOLEAN, and values are the compact JSON text of tandem-domain's
-- FieldValue::to_json (TEXT, not JSONB: JSONB would re-normalise the canonical text that
-- "same value" compares byte for byte).

CREATE TABLE teams (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,            -- argon2id PHC string
    role           TEXT NOT NULL CHECK (role IN ('coach', 'team_lead', 'admin')),
    created_ms     BIGINT NOT NULL
);

CREATE TABLE team_members (
    user_id  UUID NOT NULL REFERENCES users (id),
    team_id  UUID NOT NULL REFERENCES teams (id),
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE devices (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users (id),
    team_id         UUID REFERENCES teams (id),  -- NULL for an admin without a team
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,        -- SHA-256 of the bearer token, hex
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms      BIGINT NOT NULL,
    last_sync_ms    BIGINT,
    pending_count   BIGINT NOT NULL DEFAULT 0,
    app_version     TEXT,
    schema_version  BIGINT
);

-- Which team owns a record: fixed by the first change that writes it.
CREATE TABLE records (
    record_id   UUID PRIMARY KEY,
    entity      TEXT NOT NULL CHECK (entity IN ('client', 'contact')),
    team_id     UUID NOT NULL REFERENCES teams (id),
    created_seq BIGINT NOT NULL
);

-- The append-only change log: the field history and the pull feed in one.
-- seq is NOT a SEQUENCE or an identity column: a sequence hands out numbers when asked, not
-- when the transaction commits, so a transaction holding seq 7 could commit after one
-- holding seq 8 had been pulled, and the device's cursor (after=8) would skip 7 forever.
-- Instead every transaction that appends here first takes the transaction-scoped advisory
-- lock SEQ_LOCK_KEY (see store/postgres.rs), then reads MAX(seq) + 1 in READ COMMITTED:
-- writers run one at a time, across every server instance on this database, and each one
-- sees the previous writer's commit. Commit order therefore equals seq order.
-- `effective` TRUE: this value became the field's value at `seq` (pulled by devices);
-- FALSE: kept in history only (an lww loser, a provisional loser, the submitted side of a
-- merge).
CREATE TABLE change_log (
    seq          BIGINT PRIMARY KEY,
    team_id      UUID NOT NULL REFERENCES teams (id),
    entity       TEXT NOT NULL,
    record_id    UUID NOT NULL,
    field        TEXT NOT NULL,
    value        TEXT NOT NULL,
    hlc          TEXT NOT NULL,
    author_id    UUID NOT NULL,
    change_id    UUID NOT NULL,
    device_id    UUID,                          -- NULL for changes written by the server
    effective    BOOLEAN NOT NULL,
    recorded_ms  BIGINT NOT NULL
);
CREATE INDEX change_log_team_seq ON change_log (team_id, effective, seq);
CREATE INDEX change_log_field ON change_log (record_id, field, seq);

-- The authoritative state of every written field; `version` is the seq of its last write.
CREATE TABLE field_state (
    record_id   UUID NOT NULL REFERENCES records (record_id),
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    hlc         TEXT NOT NULL,
    author_id   UUID NOT NULL,
    change_id   UUID NOT NULL,
    recorded_ms BIGINT NOT NULL,               -- when the server received the write
    PRIMARY KEY (record_id, field)
);

-- Every change id a push has answered, with its first answer (idempotent push).
CREATE TABLE applied_changes (
    change_id    UUID PRIMARY KEY,
    team_id      UUID,
    device_id    UUID NOT NULL,
    result       TEXT NOT NULL,                 -- the ChangeResult JSON
    recorded_ms  BIGINT NOT NULL
);

CREATE TABLE conflicts (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id               UUID NOT NULL REFERENCES teams (id),
    entity                TEXT NOT NULL,
    record_id             UUID NOT NULL,
    field                 TEXT NOT NULL,
    policy                TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('open', 'auto_resolved', 'resolved')),
    base_version          BIGINT NOT NULL,
    base_value            TEXT NOT NULL,
    values_json           TEXT NOT NULL,        -- [ConflictValue], every value in conflict
    clock_skew            BOOLEAN NOT NULL,
    created_ms            BIGINT NOT NULL,
    resolved_by           UUID,
    resolved_ms           BIGINT,
    resolution_change_id  UUID
);
CREATE INDEX conflicts_team_status ON conflicts (team_id, status, id);

CREATE TABLE login_attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    TEXT NOT NULL,
    address     TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    succeeded   BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at_ms);
CREATE INDEX login_attempts_address ON login_attempts (address, at_ms);
