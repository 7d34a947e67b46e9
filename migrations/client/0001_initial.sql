-- Local store of one laptop. Values are canonical JSON text (see tandem-domain FieldValue::to_json).
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- Current value of every field of every record, with the server version the device last saw
-- (0 = never synced) and the HLC/author of the value.
CREATE TABLE record_fields (
  entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,
  value TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL, author_id TEXT NOT NULL,
  PRIMARY KEY (entity, record_id, field)) STRICT, WITHOUT ROWID;
CREATE INDEX record_fields_by_value ON record_fields(entity, field, value);
CREATE TABLE records (
  entity TEXT NOT NULL, record_id TEXT NOT NULL, team_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (entity, record_id)) STRICT, WITHOUT ROWID;
-- Local edits waiting to be pushed; removed only with the server's acknowledgement.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, change_id TEXT NOT NULL UNIQUE,
  entity TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL,
  value TEXT NOT NULL, base_version INTEGER NOT NULL, hlc TEXT NOT NULL,
  author_id TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
CREATE INDEX outbox_by_field ON outbox(entity, record_id, field);
-- Every value this device accepted, local or pulled.
CREATE TABLE field_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, record_id TEXT NOT NULL,
  field TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL, hlc TEXT NOT NULL,
  author_id TEXT NOT NULL, origin TEXT NOT NULL CHECK (origin IN ('local','server')),
  recorded_at TEXT NOT NULL) STRICT;
CREATE INDEX field_history_by_record ON field_history(entity, record_id, field, id);
-- Client search: names, nickname and phone, folded (case, diacritics) by the unicode61 tokenizer.
CREATE VIRTUAL TABLE client_search USING fts5(
  record_id UNINDEXED, names, phone, tokenize = "unicode61 remove_diacritics 2");
