-- Tandem central server, SQLite dialect, schema version 10: the closed conflicts a team lead's
-- laptop mirrors are the most recently closed ones, not the highest ids. A conflict closes
-- when it is resolved (`resolved_ms`) or, auto-resolved when made, when it is made
-- (`created_ms`); ties by id. `GET /v1/conflicts?status=all&closed_limit=N` reads each closed
-- status backwards along this index and stops after N rows. The query must spell the
-- expression exactly so. Never edit a landed migration.
CREATE INDEX conflicts_team_closed ON conflicts (team_id, status, COALESCE(resolved_ms, created_ms), id);
