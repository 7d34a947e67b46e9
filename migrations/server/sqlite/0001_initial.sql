-- Tandem central server, SQLite dialect, schema version 1.
-- Never edit a landed migration: add 0002_... instead.
-- Times are Unix milliseconds (INTEGER); ids are hyphenated UUID text; values are the
-- compact JSON text of tandem-domain's FieldValue::to_json.

CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,            -- argon2id PHC string
    role           TEXT NOT NULL CHECK (role IN ('coach', 'team_lead', 'admin')),
    created_ms     INTEGER NOT NULL
);

CREATE TABLE team_members (
    user_id  TEXT NOT NULL REFERENCES users (id),
    team_id  TEXT NOT NULL REFERENCES teams (id),
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    team_id         TEXT REFERENCES teams (id),  -- NULL for an admin without a team
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,        -- SHA-256 of the bearer token, hex
    revoked         INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    last_sync_ms    INTEGER,
    pending_count   INTEGER NOT NULL DEFAULT 0,
    app_version     TEXT,
    schema_version  INTEGER
);

-- Which team owns a record: fixed by the first change that writes it.
CREATE TABLE records (
    record_id   TEXT PRIMARY KEY,
    entity      TEXT NOT NULL CHECK (entity IN ('client', 'contact')),
    team_id     TEXT NOT NULL REFERENCES teams (id),
    created_seq INTEGER NOT NULL
);

-- The append-only change log: the field history and the pull feed in one.
-- seq is assigned inside the writing transaction, and every writing transaction starts
-- with BEGIN IMMEDIATE, so SQLite runs writers one at a time: commit order equals seq order
-- and a pull cursor can never pass a change that commits later with a smaller seq.
-- `effective` = 1: this value became the field's value at `seq` (pulled by devices);
-- `effective` = 0: kept in history only (an lww loser, a provisional loser, the submitted
-- side of a merge).
CREATE TABLE change_log (
    seq          INTEGER PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams (id),
    entity       TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    field        TEXT NOT NULL,
    value        TEXT NOT NULL,
    hlc          TEXT NOT NULL,
    author_id    TEXT NOT NULL,
    change_id    TEXT NOT NULL,
    device_id    TEXT,                          -- NULL for changes written by the server
    effective    INTEGER NOT NULL,
    recorded_ms  INTEGER NOT NULL
);
CREATE INDEX change_log_team_seq ON change_log (team_id, effective, seq);
CREATE INDEX change_log_field ON change_log (record_id, field, seq);

-- The authoritative state of every written field; `version` is the seq of its last write.
CREATE TABLE field_state (
    record_id  TEXT NOT NULL REFERENCES records (record_id),
    field      TEXT NOT NULL,
    value      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    hlc        TEXT NOT NULL,
    author_id  TEXT NOT NULL,
    change_id  TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL,              -- when the server received the write
    PRIMARY KEY (record_id, field)
);

-- Every change id a push has answered, with its first answer (idempotent push).
CREATE TABLE applied_changes (
    change_id    TEXT PRIMARY KEY,
    team_id      TEXT,
    device_id    TEXT NOT NULL,
    result       TEXT NOT NULL,                 -- the ChangeResult JSON
    recorded_ms  INTEGER NOT NULL
);

CREATE TABLE conflicts (
    id                    INTEGER PRIMARY KEY,
    team_id               TEXT NOT NULL REFERENCES teams (id),
    entity                TEXT NOT NULL,
    record_id             TEXT NOT NULL,
    field                 TEXT NOT NULL,
    policy                TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('open', 'auto_resolved', 'resolved')),
    base_version          INTEGER NOT NULL,
    base_value            TEXT NOT NULL,
    values_json           TEXT NOT NULL,        -- [ConflictValue], every value in conflict
    clock_skew            INTEGER NOT NULL,
    created_ms            INTEGER NOT NULL,
    resolved_by           TEXT,
    resolved_ms           INTEGER,
    resolution_change_id  TEXT
);
CREATE INDEX conflicts_team_status ON conflicts (team_id, status, id);

CREATE TABLE login_attempts (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL,
    address     TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    succeeded   INTEGER NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at_ms);
CREATE INDEX login_attempts_address ON login_attempts (address, at_ms);
