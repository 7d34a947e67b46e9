-- Tandem central server, PostgreSQL dialect, schema version 8: the push answers stored before
-- `push::stored_answer` keep no words that may quote a refused value. A refused change has
-- no row in the change log, so an erasure of its record never found the first answer's
-- words, and those of an `invalid_value` refusal quote the value (so may those of `other`,
-- and of a refusal stored by a server before reason codes, which has none). They are
-- rewritten as this server stores them now: the status, code, version and value kept, the
-- words replaced by the same sentence `stored_answer` writes, naming the code (`other` for
-- a refusal without one). The words of the codes listed below name fields, ids, clocks and
-- versions, never a value, and stay. A rewritten answer is jsonb's text of it (its keys in
-- jsonb's order, with spaces), which reads as the same answer. The LIKE only spares parsing
-- the JSON of answers that were no refusal. jsonb refuses the escape of U+0000, which a
-- refusal may quote (a device sent it), and one such row would stop the whole upgrade: the
-- JSON is read with it written as U+FFFD. Never edit a landed migration.
UPDATE applied_changes
SET result = jsonb_set(
        replace(result, E'\\u0000', E'\\ufffd')::jsonb,
        '{reason}',
        to_jsonb(
            'refused as '
                || CASE replace(result, E'\\u0000', E'\\ufffd')::jsonb ->> 'reason_code'
                       WHEN 'invalid_value' THEN 'invalid_value'
                       ELSE 'other'
                   END
                || '; the reason first given is not kept, as it may quote the value '
                || '(this answer is to a push sent again)'
        )
    )::text
WHERE result LIKE '%rejected%'
  AND replace(result, E'\\u0000', E'\\ufffd')::jsonb ->> 'status' = 'rejected'
  AND COALESCE(replace(result, E'\\u0000', E'\\ufffd')::jsonb ->> 'reason_code', '') NOT IN (
        'unknown_field', 'unknown_site', 'user_not_in_team', 'lawful_basis_required',
        'lawful_basis_in_use', 'record_erased', 'other_team', 'invalid_change'
  );
