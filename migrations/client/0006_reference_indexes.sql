-- Schema 6: only the fields that are looked up by their value have their values indexed.
--
-- Schema 1 indexed the value of every field of every record (`record_fields_by_value`), the
-- notes included, so every value a coach saved or a sync pulled was written a second time,
-- in an index nothing read: on a laptop's first sync that index grows as large as the table
-- and its pages fill the cache and the commits. The store looks values up in three fields
-- only, each with an index of its own (partial indexes, used by queries naming the field):
--   contact.client_id    a client's contacts (`contacts_of_client`)
--   client.merged_into   the duplicates merged into a client (`contacts_of_client`)
--   contact.follow_up_on the follow-ups due (`follow_ups_due`)
-- A test in tandem-store (`records.rs`) checks that these queries use them.
DROP INDEX record_fields_by_value;
CREATE INDEX record_fields_client_id ON record_fields(entity, value) WHERE field = 'client_id';
CREATE INDEX record_fields_merged_into ON record_fields(entity, value) WHERE field = 'merged_into';
CREATE INDEX record_fields_follow_up_on ON record_fields(entity, value) WHERE field = 'follow_up_on';
