-- Schema 9: the sites (NGO premises) where contacts happen, as the server names them.
--
-- A contact's `site` holds a site's id. Sites are the server's reference data: every sync
-- replaces this table with the server's list (`GET /v1/sites`), and nothing here edits it.
-- Archived sites stay, so that the contacts naming them still show a name; they are only
-- not offered for new contacts.
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  archived INTEGER NOT NULL CHECK (archived IN (0, 1))) STRICT, WITHOUT ROWID;
