-- Tandem central server, PostgreSQL dialect, schema version 8: the open conflicts of a field,
-- which every write of it closes when it settles them (see the SQLite dialect). Never edit a
-- landed migration.
CREATE INDEX conflicts_open_by_field ON conflicts (record_id, field) WHERE status = 'open';
