-- Schema 5: the journal of acknowledged changes and the server's database epoch
-- (docs/protocol.md, "Epochs"). An outbox row the server acknowledged moves here instead of
-- disappearing, and stays for 30 days: if the server is restored from a backup made before
-- the acknowledgement, the change is queued again (same change_id) and nothing is lost.
-- `seq` is the row's outbox seq, so a change queued again keeps its place before later edits.
-- Erasure removes a record's rows here as everywhere else.
CREATE TABLE acknowledged_changes (
  seq INTEGER PRIMARY KEY, change_id TEXT NOT NULL UNIQUE,
  entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,
  value TEXT NOT NULL, base_version INTEGER NOT NULL, hlc TEXT NOT NULL,
  author_id TEXT NOT NULL, created_at TEXT NOT NULL,
  acknowledged_version INTEGER NOT NULL, acknowledged_at TEXT NOT NULL) STRICT;
CREATE INDEX acknowledged_changes_by_version ON acknowledged_changes(acknowledged_version);
CREATE INDEX acknowledged_changes_by_time ON acknowledged_changes(acknowledged_at);
CREATE INDEX acknowledged_changes_by_record ON acknowledged_changes(record_id);
