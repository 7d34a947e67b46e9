-- Schema 11: the code of a refusal beside the server's words.
--
-- The server says why it refused a change twice: `reason`, its own words in English (for IT),
-- and a code (`invalid_value`, `user_not_in_team`, ...) that the app explains in its user's
-- language. Refusals stored before this schema, and those of a server that sends no code,
-- have none: the app shows their `reason` as it is.
ALTER TABLE rejected_changes ADD COLUMN reason_code TEXT;
