-- Sync state of one laptop (schema 2): what the server last said about every field, the
-- changes it refused, and the conflicts of the team as the device knows them.
-- The server's value and version of a field as this device last heard them. `version` stays
-- the base of local edits; these two let a refused change fall back to the server's value
-- even when pulls skipped the field while a local change was pending.
ALTER TABLE record_fields ADD COLUMN server_value TEXT;
ALTER TABLE record_fields ADD COLUMN server_version INTEGER NOT NULL DEFAULT 0;
-- Changes the server refused: acknowledged (so they never block the outbox), kept with the
-- reason until someone retries or dismisses them.
CREATE TABLE rejected_changes (
  change_id TEXT PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL,
  field TEXT NOT NULL, value TEXT NOT NULL, base_version INTEGER NOT NULL, hlc TEXT NOT NULL,
  author_id TEXT NOT NULL, created_at TEXT NOT NULL, reason TEXT NOT NULL,
  rejected_at TEXT NOT NULL) STRICT;
-- Conflicts of the device's team: from push answers (own changes) and, for team leads,
-- mirrored from GET /v1/conflicts. `detail` is the server's conflict JSON when known.
CREATE TABLE conflicts (
  id INTEGER PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,
  policy TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('open','auto_resolved','resolved')),
  detail TEXT, updated_at TEXT NOT NULL) STRICT;
CREATE INDEX conflicts_by_status ON conflicts(status, id);
