-- Duplicate clients (docs/duplicates.md): merges kept for undo, and pairs a team lead
-- dismissed as "not the same person". The merge itself is ordinary changes in change_log.

CREATE TABLE duplicate_merges (
    id            UUID PRIMARY KEY,
    team_id       UUID NOT NULL REFERENCES teams (id),
    survivor_id   UUID NOT NULL REFERENCES records (record_id),
    duplicate_id  UUID NOT NULL REFERENCES records (record_id),
    contact_ids   TEXT NOT NULL,                -- JSON array of the contacts moved
    merged_by     UUID NOT NULL REFERENCES users (id),
    merged_ms     BIGINT NOT NULL,
    undone_by     UUID REFERENCES users (id),
    undone_ms     BIGINT
);
CREATE INDEX duplicate_merges_team ON duplicate_merges (team_id, merged_ms);

-- A pair is stored once, the smaller id first.
CREATE TABLE duplicate_dismissals (
    team_id       UUID NOT NULL REFERENCES teams (id),
    first_id      UUID NOT NULL,
    second_id     UUID NOT NULL,
    dismissed_by  UUID NOT NULL REFERENCES users (id),
    dismissed_ms  BIGINT NOT NULL,
    PRIMARY KEY (team_id, first_id, second_id)
);
