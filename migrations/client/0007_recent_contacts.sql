-- Schema 7: contacts indexed by when they happened, for the Today screen's recent clients.
--
-- `Store::recent_clients` walks the contacts from the newest and stops once it has the
-- clients it shows; without this index it read every contact (about 0.5 s at 20,000 clients
-- and 40,000 contacts, on every visit to the Today screen). `occurred_at` keeps the offset
-- it was entered with, so the index orders the instants (`julianday`), not the text. A test
-- in tandem-store (`records.rs`) checks that the query walks it.
CREATE INDEX record_fields_occurred_at
    ON record_fields(julianday(json_extract(value, '$')))
    WHERE entity = 'contact' AND field = 'occurred_at';
