//! Upgrading a laptop's store to schema 8 (the open follow-ups' table, filled from the
//! contacts' fields; `migrations/client/0008_open_follow_ups.sql`) over 100,000 clients and
//! 300,000 contacts: what the first start of a new version does before its first screen.
//! The store is filled by the current code, then taken back to schema 7 (the table, its
//! view and triggers dropped, schema 6's partial index of `follow_up_on` made again, and
//! the later schemas' empty tables of sites and users and the rejected changes' empty
//! `reason_code` column dropped, the version rows deleted),
//! then opened, which migrates it. Timed once (the migration changes the store); the
//! baseline is opening the migrated store again, with nothing to do.

use std::time::Instant;

use chrono::NaiveDate;
use rusqlite::Connection;
use tandem_benches::{disk_dir, fill_store, size};
use tandem_store::{DueOrder, Store, StoreKey};

/// Every open follow-up of the store, counted through the table schema 8 keeps.
fn open_follow_ups(store: &Store) -> u64 {
    let far = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");
    store
        .open_follow_ups(None, far, None, DueOrder::EarliestFirst, 1)
        .expect("follow-ups")
        .total
}

/// Takes the store back to what schema 7 had, through a connection of its own.
fn rewind_to_schema_7(path: &std::path::Path, key: &[u8; 32]) {
    let conn = Connection::open(path).expect("open the store file");
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key)))
        .expect("key");
    conn.execute_batch(
        "BEGIN;
         DROP TRIGGER open_follow_ups_field_inserted;
         DROP TRIGGER open_follow_ups_field_updated;
         DROP TRIGGER open_follow_ups_field_deleted;
         DROP VIEW open_follow_ups_in_fields;
         DROP TABLE open_follow_ups;
         CREATE INDEX record_fields_follow_up_on ON record_fields(entity, value)
           WHERE field = 'follow_up_on';
         DROP TABLE sites;
         DROP TABLE users;
         ALTER TABLE rejected_changes DROP COLUMN reason_code;
         DELETE FROM schema_migrations WHERE version >= 8;
         COMMIT;",
    )
    .expect("back to schema 7");
}

fn main() {
    let clients = size(100_000, 50);
    let contacts = 3 * clients;
    let dir = disk_dir();
    let path = dir.path().join("tandem.db");
    let key: [u8; 32] = rand::random();
    let mut store = Store::open_with_key(&path, &StoreKey::from_bytes(key)).expect("open");
    fill_store(&mut store, 61, clients, contacts);
    let open = open_follow_ups(&store);
    drop(store);
    rewind_to_schema_7(&path, &key);

    let started = Instant::now();
    let store = Store::open_with_key(&path, &StoreKey::from_bytes(key)).expect("migrate");
    let migrated = started.elapsed();
    assert_eq!(
        open_follow_ups(&store),
        open,
        "the migration rebuilt every open follow-up"
    );
    assert!(open > 0, "the data have open follow-ups");
    drop(store);
    let started = Instant::now();
    let store = Store::open_with_key(&path, &StoreKey::from_bytes(key)).expect("reopen");
    let reopened = started.elapsed();
    drop(store);
    println!(
        "FIGURE migrate_schema_8_{clients}: {open} open follow-ups of {contacts} contacts; opening the schema-7 store (migrating) {migrated:.2?}; baseline: opening it again {reopened:.2?}"
    );
}
