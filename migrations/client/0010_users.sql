-- Schema 10: the users of the team, as the server names them.
--
-- A contact's `coach_id`, a client's `consent_by` and every change's author hold a user's
-- id. Users are the server's reference data: every sync replaces this table with the
-- team's members (`GET /v1/users`), and nothing here edits it. The names of the users who
-- signed in on this laptop are kept apart (in `meta`), so that a laptop that has not synced
-- since still names them.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('coach', 'team_lead', 'admin'))) STRICT, WITHOUT ROWID;
