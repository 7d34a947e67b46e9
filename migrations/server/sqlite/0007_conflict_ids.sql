-- Tandem central server, SQLite dialect, schema version 7: conflict ids are never given
-- again. Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so the id of the
-- newest conflict, erased with its client, went to the next conflict, and a team lead (or a
-- laptop's mirror) still holding the old id would resolve another record's conflict with it.
-- With AUTOINCREMENT the largest id ever given is kept in `sqlite_sequence`. The table is
-- made again (SQLite cannot add AUTOINCREMENT to a table); the rows keep their ids, and the
-- sequence starts at the largest id left (an id erased before this migration above it cannot
-- be known). Never edit a landed migration.
CREATE TABLE conflicts_autoincrement (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO conflicts_autoincrement (id, team_id, entity, record_id, field, policy, status,
        base_version, base_value, values_json, clock_skew, created_ms, resolved_by,
        resolved_ms, resolution_change_id)
    SELECT id, team_id, entity, record_id, field, policy, status, base_version, base_value,
        values_json, clock_skew, created_ms, resolved_by, resolved_ms, resolution_change_id
    FROM conflicts;
DROP TABLE conflicts;
ALTER TABLE conflicts_autoincrement RENAME TO conflicts;
CREATE INDEX conflicts_team_status ON conflicts (team_id, status, id);
