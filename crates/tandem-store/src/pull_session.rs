//! A pull session: the store's settings while the sync engine stores page after page of
//! pulled writes (an initial sync brings millions of values).
//!
//! A profile of applying pulled pages with SQLite's default 2 MiB page cache showed most of
//! the time spent on pages, not rows: index pages spilled to the WAL in the middle of a
//! transaction (and written again at its commit), read back and decrypted on the next
//! page, each time with SQLCipher's AES and HMAC-SHA512, and a checkpoint every 1,000 WAL
//! frames copying index pages that the next commits rewrite anyway. During a session the
//! cache holds the pages every write touches (the right edges of the tables and indexes, the
//! pages of the value indexes of `client_id` and `merged_into` and of the open follow-ups'
//! table, which pulled values hit all over), and checkpoints come less often. Afterwards the
//! connection goes back to its usual settings: a much larger cache makes each later commit of
//! an edit slower (docs/benchmarks.md, second run).
//!
//! The first pull into a store that holds no record yet (a new laptop's initial sync) writes
//! without two indexes and builds them once when the session ends ([`DEFERRED_INDEXES`]):
//! the history's `field_history_by_record` and the contacts' `record_fields_occurred_at`.
//! Every pulled value adds a history row, and that index orders the rows by record, so each
//! page dirtied an index page for almost every record it brought (each one encrypted,
//! authenticated and written to the WAL): a first pull's pages take 0.65 to 0.74 of the time
//! without it, and the initial sync 0.8 (docs/benchmarks.md, sixth run). The contacts' index
//! orders them by when they happened, which the feed does not, and cost a first pull's pages
//! about a tenth (seventh run). Nothing reads wrong meanwhile: a lookup of a record's history
//! scans the table instead, and the Today screen's recent clients read every contact
//! (`Store::recent_clients`). A session that ends early (an error, a lost connection) builds
//! the indexes all the same, and the next session pulls the rest with them; a process killed
//! during the session leaves them to the next opening of the store
//! ([`ensure_deferred_indexes`]).
//!
//! Nothing about durability changes: every page still commits with its cursor under
//! `synchronous = FULL`; the cache only holds pages, the checkpoint interval only decides
//! when committed frames move from the WAL into the database file, and an index holds
//! nothing the table does not.

use std::ops::{Deref, DerefMut};

use rusqlite::Connection;

use crate::connection::StoreConnection;
use crate::{Store, StoreError};

/// The page cache of a pull session, in KiB (the store's usual one is 8 MiB,
/// `connection::PAGE_CACHE_KIB`). Pages are allocated as they are read, so a small store
/// never takes all of it.
const PULL_CACHE_KIB: i64 = 128 * 1024;

/// WAL frames between automatic checkpoints in a pull session (the default is 1,000; a frame
/// is a 4 KiB page, so the WAL file grows to about 64 MiB). Fewer checkpoints copy each
/// index page fewer times: the commits in between rewrite the same pages.
const PULL_WAL_AUTOCHECKPOINT: i64 = 16_000;

/// The store with a pull session's settings; the usual ones come back when it is dropped,
/// whichever way the pull ends. Everything of [`Store`] is reachable through it.
#[derive(Debug)]
pub struct PullSession<'s> {
    store: &'s mut Store,
    cache_size: i64,
    wal_autocheckpoint: i64,
    /// The [`DEFERRED_INDEXES`] were dropped for this session and are built when it ends.
    indexes_deferred: bool,
}

impl Store {
    /// Starts a pull session (see the module documentation).
    pub fn pull_session(&mut self) -> Result<PullSession<'_>, StoreError> {
        let read = |name: &str| -> Result<i64, StoreError> {
            Ok(self.conn.pragma_query_value(None, name, |row| row.get(0))?)
        };
        let cache_size = read("cache_size")?;
        let wal_autocheckpoint = read("wal_autocheckpoint")?;
        // Made before anything changes, so that `Drop` undoes whatever a failure leaves.
        let mut session = PullSession {
            store: self,
            cache_size,
            wal_autocheckpoint,
            indexes_deferred: false,
        };
        let conn = &mut session.store.conn;
        conn.pragma_update(None, "cache_size", -PULL_CACHE_KIB)?;
        conn.pragma_update(None, "wal_autocheckpoint", PULL_WAL_AUTOCHECKPOINT)?;
        session.indexes_deferred = defer_indexes(conn)?;
        Ok(session)
    }
}

/// The indexes a first pull builds when it ends: (name, definition), each as the migration
/// that made it defines it (schema 1's history index, schema 7's contacts by time). A
/// migration that changes one of them must change it here too (a test compares them).
pub(crate) const DEFERRED_INDEXES: [(&str, &str); 2] = [
    (
        "field_history_by_record",
        "CREATE INDEX IF NOT EXISTS field_history_by_record
         ON field_history(entity, record_id, field, id)",
    ),
    (
        "record_fields_occurred_at",
        "CREATE INDEX IF NOT EXISTS record_fields_occurred_at
         ON record_fields(julianday(json_extract(value, '$')))
         WHERE entity = 'contact' AND field = 'occurred_at'",
    ),
];

/// Drops the [`DEFERRED_INDEXES`] when the store holds no record yet; returns whether it did.
fn defer_indexes(conn: &mut StoreConnection) -> Result<bool, StoreError> {
    let tx = conn.write_transaction()?;
    let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM records)", [], |row| {
        row.get(0)
    })?;
    if empty {
        for (name, _) in DEFERRED_INDEXES {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
        }
    }
    tx.commit()?;
    Ok(empty)
}

/// Builds whichever of the [`DEFERRED_INDEXES`] is missing (a first pull's session defers
/// them; a process killed during that session leaves them missing), when a session ends and
/// when the store opens. A store that cannot build one (a full disk) is used without it: the
/// indexes only make lookups faster, and a coach must never be kept from the data for them;
/// the next opening tries again.
pub(crate) fn ensure_deferred_indexes(conn: &Connection) {
    for (_, definition) in DEFERRED_INDEXES {
        let _ = conn.execute_batch(definition);
    }
}

impl Deref for PullSession<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
    }
}

impl DerefMut for PullSession<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store
    }
}

impl Drop for PullSession<'_> {
    fn drop(&mut self) {
        let conn = &self.store.conn;
        if self.indexes_deferred {
            // Built while the session's large cache is still there, in a turn at the write
            // gate (seconds on a big store: a save waits for it in order, not on the busy
            // timeout alone).
            conn.with_write_turn(ensure_deferred_indexes);
        }
        // Setting a pragma back fails only on a broken connection, whose next statement then
        // reports the error; the settings are performance, never correctness.
        let _ = conn.pragma_update(None, "cache_size", self.cache_size);
        let _ = conn.pragma_update(None, "wal_autocheckpoint", self.wal_autocheckpoint);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::connection::{fill_the_disk, free_the_disk, query_plan, test_store};
    use crate::{STORE_FILE_NAME, ServerWrite, StoreKey};
    use tandem_domain::{Entity, RecordId};

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .conn
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_pull_session_enlarges_the_cache_and_gives_the_usual_settings_back_when_it_ends() {
        let (_dir, mut store) = test_store();
        let usual = (
            pragma(&store, "cache_size"),
            pragma(&store, "wal_autocheckpoint"),
        );
        {
            let session = store.pull_session().unwrap();
            assert_eq!(pragma(&session, "cache_size"), -PULL_CACHE_KIB);
            assert_eq!(
                pragma(&session, "wal_autocheckpoint"),
                PULL_WAL_AUTOCHECKPOINT
            );
            assert_eq!(session.pull_cursor().unwrap(), 0, "the store is reachable");
        }
        assert_eq!(
            (
                pragma(&store, "cache_size"),
                pragma(&store, "wal_autocheckpoint")
            ),
            usual
        );
    }

    fn at() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_768_471_200_000).unwrap()
    }

    fn pulled(record_id: Uuid, value: &str, seq: u64) -> ServerWrite {
        ServerWrite {
            seq,
            entity: "client".into(),
            record_id,
            field: "given_name".into(),
            value: value.into(),
            version: seq,
            hlc: format!("1768471300000-0000{seq}-{}", Uuid::from_u128(0x9001)),
            author_id: Uuid::from_u128(0x9001),
        }
    }

    /// Stores a pulled page of one write, its seq the page's cursor.
    fn apply_page(store: &mut Store, write: ServerWrite) {
        let seq = write.seq;
        store
            .apply_pulled_page(&[write], &[], seq, at(), at())
            .unwrap();
    }

    fn has_index(store: &Store, name: &str) -> bool {
        store
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
                [name],
                |row| row.get(0),
            )
            .unwrap()
    }

    /// Both indexes a first pull defers are there.
    fn has_deferred_indexes(store: &Store) -> bool {
        has_index(store, "field_history_by_record") && has_index(store, "record_fields_occurred_at")
    }

    /// A pulled contact of `client`, which happened at `occurred_at`.
    fn pulled_contact(
        client: Uuid,
        contact: Uuid,
        occurred_at: &str,
        seq: u64,
    ) -> [ServerWrite; 2] {
        let write = |field: &str, value: String, seq: u64| ServerWrite {
            entity: "contact".into(),
            field: field.into(),
            value,
            ..pulled(contact, "", seq)
        };
        [
            write("client_id", format!("\"{client}\""), seq),
            write("occurred_at", format!("\"{occurred_at}\""), seq + 1),
        ]
    }

    fn recent_client_names(store: &Store) -> Vec<String> {
        store
            .recent_clients(8)
            .unwrap()
            .iter()
            .map(|c| c.get("given_name").as_text().unwrap().to_owned())
            .collect()
    }

    fn history_lookup_plan(store: &Store) -> String {
        query_plan(
            store,
            "SELECT value FROM field_history
             WHERE entity = 'client' AND record_id = 'x' AND field = 'given_name' ORDER BY id",
        )
        .join("; ")
    }

    #[test]
    fn a_first_pull_into_an_empty_store_indexes_the_history_once_when_it_ends() {
        let (_dir, mut store) = test_store();
        let id = Uuid::from_u128(0xc1);
        {
            let mut session = store.pull_session().unwrap();
            assert!(
                !has_index(&session, "field_history_by_record"),
                "the pulled history of an empty store is written unindexed"
            );
            for page in 1..=2 {
                apply_page(&mut session, pulled(id, &format!("\"Amina{page}\""), page));
            }
            assert_eq!(
                session
                    .field_history("client", id, "given_name")
                    .unwrap()
                    .len(),
                2,
                "the history is read without its index too"
            );
        }
        assert!(
            has_index(&store, "field_history_by_record"),
            "indexed when the session ends"
        );
        assert!(
            history_lookup_plan(&store).contains("USING INDEX field_history_by_record"),
            "{}",
            history_lookup_plan(&store)
        );
        assert_eq!(
            store
                .field_history("client", id, "given_name")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn the_deferred_indexes_are_built_as_the_migrations_define_them() {
        let (_dir, store) = test_store();
        let words = |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ");
        for (name, definition) in DEFERRED_INDEXES {
            let migrated: String = store
                .conn
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(
                words(&definition.replace("IF NOT EXISTS ", "")),
                words(&migrated),
                "{name}: a first pull would rebuild it unlike its migration"
            );
        }
    }

    #[test]
    fn a_first_pull_into_an_empty_store_indexes_the_contacts_by_time_when_it_ends() {
        let (_dir, mut store) = test_store();
        let (amina, olga) = (Uuid::from_u128(0xc1), Uuid::from_u128(0xc2));
        {
            let mut session = store.pull_session().unwrap();
            assert!(
                !has_index(&session, "record_fields_occurred_at"),
                "the pulled contacts of an empty store are written unindexed"
            );
            let mut page = vec![pulled(amina, "\"Amina\"", 1), pulled(olga, "\"Olga\"", 2)];
            page.extend(pulled_contact(
                amina,
                Uuid::from_u128(0xd1),
                "2026-11-24T10:00:00+02:00",
                3,
            ));
            page.extend(pulled_contact(
                olga,
                Uuid::from_u128(0xd2),
                "2026-11-25T10:00:00+02:00",
                5,
            ));
            session
                .apply_pulled_page(&page, &[], 6, at(), at())
                .unwrap();
            assert_eq!(
                recent_client_names(&session),
                ["Olga", "Amina"],
                "the Today screen reads the contacts without their index too"
            );
        }
        assert!(
            has_index(&store, "record_fields_occurred_at"),
            "indexed when the session ends"
        );
        assert_eq!(recent_client_names(&store), ["Olga", "Amina"]);
    }

    #[test]
    fn a_pull_into_a_store_that_holds_records_keeps_the_indexes() {
        let (_dir, mut store) = test_store();
        apply_page(
            &mut store.pull_session().unwrap(),
            pulled(Uuid::from_u128(0xc1), "\"Amina\"", 1),
        );
        let session = store.pull_session().unwrap();
        assert!(has_deferred_indexes(&session));
    }

    #[test]
    fn a_store_opened_after_its_first_pull_was_killed_has_its_indexes_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE_NAME);
        let key = StoreKey::generate();
        let mut store = Store::open_with_key(&path, &key).unwrap();
        let mut session = store.pull_session().unwrap();
        apply_page(&mut session, pulled(Uuid::from_u128(0xc1), "\"Amina\"", 1));
        // A killed process runs no destructor.
        std::mem::forget(session);
        drop(store);
        let store = Store::open_with_key(&path, &key).unwrap();
        assert!(has_deferred_indexes(&store));
        assert_eq!(store.pull_cursor().unwrap(), 1, "the page stays");
    }

    #[test]
    fn a_pulled_page_on_a_full_disk_is_refused_whole_and_stored_once_there_is_room() {
        let (_dir, mut store) = test_store();
        let amina = Uuid::from_u128(0xc1);
        apply_page(&mut store, pulled(amina, "\"Amina\"", 1));
        fill_the_disk(&mut store);
        let olga = Uuid::from_u128(0xc2);
        // Long notes need pages of their own, which the full disk cannot give.
        let notes = ServerWrite {
            field: "notes".into(),
            value: serde_json::to_string(&"Asked about a rental contract. ".repeat(300)).unwrap(),
            ..pulled(olga, "", 3)
        };
        let page = [pulled(olga, "\"Olga\"", 2), notes];
        let error = store
            .apply_pulled_page(&page, &[], 3, at(), at())
            .unwrap_err();
        assert!(matches!(error, StoreError::DiskFull), "{error:?}");
        assert_eq!(store.pull_cursor().unwrap(), 1, "the cursor stays");
        assert!(
            store
                .record(Entity::Client, RecordId::from_uuid(olga))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            recent_client_names(&store),
            ["Amina"],
            "what was stored before is there"
        );

        free_the_disk(&store);
        store.apply_pulled_page(&page, &[], 3, at(), at()).unwrap();
        assert_eq!(store.pull_cursor().unwrap(), 3);
        let olga = store
            .record(Entity::Client, RecordId::from_uuid(olga))
            .unwrap()
            .unwrap();
        assert_eq!(olga.get("given_name").as_text(), Some("Olga"));
    }

    #[test]
    fn a_store_whose_disk_is_too_full_to_build_the_deferred_indexes_stays_usable() {
        let (_dir, mut store) = test_store();
        let id = Uuid::from_u128(0xc1);
        let mut session = store.pull_session().unwrap();
        apply_page(&mut session, pulled(id, "\"Amina\"", 1));
        std::mem::forget(session);
        // Not one page more (and none free, the dropped index's among them).
        fill_the_disk(&mut store);
        // What the opening of the store does; it goes on.
        ensure_deferred_indexes(&store.conn);
        assert!(!has_index(&store, "field_history_by_record"));
        assert_eq!(
            store
                .field_history("client", id, "given_name")
                .unwrap()
                .len(),
            1,
            "the history is read without its index"
        );
        assert!(!has_index(&store, "record_fields_occurred_at"));
        assert_eq!(recent_client_names(&store), ["Amina"]);
    }
}
