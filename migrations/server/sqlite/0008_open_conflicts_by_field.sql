-- Tandem central server, SQLite dialect, schema version 8: every write of a field closes the
-- field's open conflicts it settles (as `auto_resolved`: `append_log` in store/sqlite.rs),
-- so each write looks up the open conflicts of its field; open conflicts are few, and this
-- index holds only them. Never edit a landed migration.
CREATE INDEX conflicts_open_by_field ON conflicts (record_id, field) WHERE status = 'open';
