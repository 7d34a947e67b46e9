-- Schema 8: the open follow-ups, kept in a table of their own.
--
-- The Follow-ups screen counts a team's open follow-ups by when they are due. Found through
-- the partial index of `follow_up_on` (schema 6), each contact due before today had to be
-- looked up for `follow_up_done`, `deleted` and `coach_id`, one page read per contact: 1.7 s
-- at 100,000 clients and 300,000 contacts, most of those follow-ups long done
-- (docs/benchmarks.md, "Ninth run"). This table holds one row per open follow-up (due, not
-- done, the contact not deleted), with its coach; the triggers below keep it in step with
-- `record_fields` on every write, pull and purge of those four fields of a contact (a
-- migration that ever rebuilds `record_fields` must create them again: dropping a table
-- drops its triggers). Nothing looks `follow_up_on` up by value any more, so its partial
-- index goes at the end: it cost every pulled or saved follow-up day an index entry.
CREATE TABLE open_follow_ups (
  record_id TEXT PRIMARY KEY, due TEXT NOT NULL, coach TEXT) STRICT, WITHOUT ROWID;
CREATE INDEX open_follow_ups_by_due ON open_follow_ups(due, record_id);
CREATE INDEX open_follow_ups_by_coach ON open_follow_ups(coach, due, record_id);

-- The open follow-ups as `record_fields` has them: a contact's `follow_up_on` a date (a JSON
-- string, the only JSON text that starts with a quote; no JSON function, which would fail on
-- a malformed value, and the write with it), neither `follow_up_done` nor `deleted` true,
-- with its coach. Each trigger below copies the row of the contact written (through the key
-- of `record_fields`).
CREATE VIEW open_follow_ups_in_fields AS
SELECT due.record_id AS record_id, due.value AS due,
       (SELECT coach.value FROM record_fields AS coach
        WHERE coach.entity = 'contact' AND coach.record_id = due.record_id
          AND coach.field = 'coach_id' AND coach.value <> 'null') AS coach
FROM record_fields AS due
WHERE due.entity = 'contact' AND due.field = 'follow_up_on' AND substr(due.value, 1, 1) = '"'
  AND NOT EXISTS (SELECT 1 FROM record_fields AS closed
      WHERE closed.entity = 'contact' AND closed.record_id = due.record_id
        AND closed.field IN ('follow_up_done', 'deleted') AND closed.value = 'true');

CREATE TRIGGER open_follow_ups_field_inserted AFTER INSERT ON record_fields
WHEN new.entity = 'contact'
  AND new.field IN ('follow_up_on', 'follow_up_done', 'deleted', 'coach_id')
BEGIN
  DELETE FROM open_follow_ups WHERE record_id = new.record_id;
  INSERT INTO open_follow_ups (record_id, due, coach)
  SELECT record_id, due, coach FROM open_follow_ups_in_fields WHERE record_id = new.record_id;
END;
CREATE TRIGGER open_follow_ups_field_updated AFTER UPDATE OF value ON record_fields
WHEN new.entity = 'contact'
  AND new.field IN ('follow_up_on', 'follow_up_done', 'deleted', 'coach_id')
BEGIN
  DELETE FROM open_follow_ups WHERE record_id = new.record_id;
  INSERT INTO open_follow_ups (record_id, due, coach)
  SELECT record_id, due, coach FROM open_follow_ups_in_fields WHERE record_id = new.record_id;
END;
CREATE TRIGGER open_follow_ups_field_deleted AFTER DELETE ON record_fields
WHEN old.entity = 'contact'
  AND old.field IN ('follow_up_on', 'follow_up_done', 'deleted', 'coach_id')
BEGIN
  DELETE FROM open_follow_ups WHERE record_id = old.record_id;
  INSERT INTO open_follow_ups (record_id, due, coach)
  SELECT record_id, due, coach FROM open_follow_ups_in_fields WHERE record_id = old.record_id;
END;

-- The open follow-ups of the store as it is (found through the index that goes next).
INSERT INTO open_follow_ups (record_id, due, coach)
SELECT record_id, due, coach FROM open_follow_ups_in_fields;
DROP INDEX record_fields_follow_up_on;
