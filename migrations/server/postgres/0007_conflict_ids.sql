-- Tandem central server, PostgreSQL dialect, schema version 7: nothing to change. Conflict
-- ids come from an identity column (a sequence), which never gives an id twice, also after
-- the conflict that had it was erased; the SQLite dialect's 0007 makes its ids behave alike.
-- Kept so that both dialects' migrations keep the same numbers. Never edit a landed migration.
SELECT 1;
