-- Tandem central server, PostgreSQL dialect, schema version 9: a login attempt whose password
-- is being checked is told apart from one found wrong. An attempt was stored as a failure
-- when reserved and marked succeeded after the check, so right logins arriving together
-- counted each other as failures and were refused for 15 minutes. `in_progress` is set on
-- reserving and cleared when the check answers (wrong or right); one left set after its
-- request's timeout had no answer and counts as failed. Rows from before were all answered.
-- Never edit a landed migration.
ALTER TABLE login_attempts ADD COLUMN in_progress BOOLEAN NOT NULL DEFAULT FALSE;
