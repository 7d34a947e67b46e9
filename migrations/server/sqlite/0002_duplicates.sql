-- Duplicate clients (docs/duplicates.md): merges kept for undo, and pairs a team lead
-- dismissed as "not the same person". The merge itself is ordinary changes in change_log.

CREATE TABLE duplicate_merges (
    id            TEXT PRIMARY KEY,
    team_id       TEXT NOT NULL REFERENCES teams (id),
    survivor_id   TEXT NOT NULL REFERENCES records (record_id),
    duplicate_id  TEXT NOT NULL REFERENCES records (record_id),
    contact_ids   TEXT NOT NULL,                -- JSON array of the contacts moved
    merged_by     TEXT NOT NULL REFERENCES users (id),
    merged_ms     INTEGER NOT NULL,
    undone_by     TEXT REFERENCES users (id),
    undone_ms     INTEGER
);
CREATE INDEX duplicate_merges_team ON duplicate_merges (team_id, merged_ms);

-- A pair is stored once, the smaller id first.
CREATE TABLE duplicate_dismissals (
    team_id       TEXT NOT NULL REFERENCES teams (id),
    first_id      TEXT NOT NULL,
    second_id     TEXT NOT NULL,
    dismissed_by  TEXT NOT NULL REFERENCES users (id),
    dismissed_ms  INTEGER NOT NULL,
    PRIMARY KEY (team_id, first_id, second_id)
);
