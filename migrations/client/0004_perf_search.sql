-- Schema 4: faster writes and search.
--
-- Client search keyed by rowid. The search text of a client lives in an ordinary table, one
-- row per client found through its record id's unique index, and the FTS5 index is built
-- over it as external content, kept in step by the triggers below. Rewriting a client's
-- search row now touches that row and its own index entries; in schema 1 it was
-- `DELETE FROM client_search WHERE record_id = ?`, and an FTS5 column is not indexed, so
-- every edit of a client scanned the whole search table.
CREATE TABLE client_search_rows (
  id INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE,
  names TEXT NOT NULL, phone TEXT NOT NULL) STRICT;
-- Schema 1 rewrote a row by deleting and inserting it, so the newest row of a client wins.
INSERT OR IGNORE INTO client_search_rows (record_id, names, phone)
  SELECT record_id, names, phone FROM client_search ORDER BY rowid DESC;
DROP TABLE client_search;
-- The same tokenizer as schema 1 (case and diacritics folded, words split in any script).
CREATE VIRTUAL TABLE client_search USING fts5(
  names, phone, content = 'client_search_rows', content_rowid = 'id',
  tokenize = "unicode61 remove_diacritics 2");
CREATE TRIGGER client_search_rows_inserted AFTER INSERT ON client_search_rows BEGIN
  INSERT INTO client_search (rowid, names, phone) VALUES (new.id, new.names, new.phone);
END;
CREATE TRIGGER client_search_rows_deleted AFTER DELETE ON client_search_rows BEGIN
  INSERT INTO client_search (client_search, rowid, names, phone)
    VALUES ('delete', old.id, old.names, old.phone);
END;
CREATE TRIGGER client_search_rows_updated AFTER UPDATE ON client_search_rows BEGIN
  INSERT INTO client_search (client_search, rowid, names, phone)
    VALUES ('delete', old.id, old.names, old.phone);
  INSERT INTO client_search (rowid, names, phone) VALUES (new.id, new.names, new.phone);
END;
INSERT INTO client_search (client_search) VALUES ('rebuild');
