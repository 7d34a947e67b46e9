//! Forward-only schema migrations, embedded from `migrations/client/NNNN_name.sql` at the
//! top of the repository and applied when a store opens.
//!
//! Applied versions are recorded in `schema_migrations(version, name, applied_at)` rather
//! than in `PRAGMA user_version`, so that `tandem status` and support can see when each step
//! ran. Every migration runs in its own `IMMEDIATE` transaction together with its
//! `schema_migrations` row, so a crash leaves the store at the previous version or the
//! next, never between; and two processes opening the same store at once do not both apply
//! it. Landed migrations are never edited: a change is a new file.

use rusqlite::{Connection, OptionalExtension};

use crate::StoreError;

/// One migration file.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration, in order; `version` is the position counted from 1.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../../migrations/client/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "sync_state",
        sql: include_str!("../../../migrations/client/0002_sync_state.sql"),
    },
    Migration {
        version: 3,
        name: "privacy",
        sql: include_str!("../../../migrations/client/0003_privacy.sql"),
    },
    Migration {
        version: 4,
        name: "perf_search",
        sql: include_str!("../../../migrations/client/0004_perf_search.sql"),
    },
    Migration {
        version: 5,
        name: "epoch",
        sql: include_str!("../../../migrations/client/0005_epoch.sql"),
    },
    Migration {
        version: 6,
        name: "reference_indexes",
        sql: include_str!("../../../migrations/client/0006_reference_indexes.sql"),
    },
    Migration {
        version: 7,
        name: "recent_contacts",
        sql: include_str!("../../../migrations/client/0007_recent_contacts.sql"),
    },
    Migration {
        version: 8,
        name: "open_follow_ups",
        sql: include_str!("../../../migrations/client/0008_open_follow_ups.sql"),
    },
    Migration {
        version: 9,
        name: "sites",
        sql: include_str!("../../../migrations/client/0009_sites.sql"),
    },
    Migration {
        version: 10,
        name: "users",
        sql: include_str!("../../../migrations/client/0010_users.sql"),
    },
    Migration {
        version: 11,
        name: "reason_codes",
        sql: include_str!("../../../migrations/client/0011_reason_codes.sql"),
    },
];

/// The newest schema version this build knows (and leaves every store it opens at).
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

const CREATE_SCHEMA_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT";

/// The newest applied version, 0 for a new store.
pub(crate) fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    let table_exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !table_exists {
        return Ok(0);
    }
    let version: Option<u32> = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .optional()?
        .flatten();
    Ok(version.unwrap_or(0))
}

/// Brings the store up to [`SCHEMA_VERSION`], or refuses a store written by a newer build.
pub(crate) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let found = current_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        apply_one(conn, migration).map_err(|source| StoreError::MigrationFailed {
            version: migration.version,
            name: migration.name,
            source,
        })?;
    }
    Ok(())
}

fn apply_one(conn: &mut Connection, migration: &Migration) -> Result<(), rusqlite::Error> {
    let tx = crate::connection::write_transaction(conn)?;
    tx.execute_batch(CREATE_SCHEMA_MIGRATIONS)?;
    // Another process may have applied it while this one waited for the write lock.
    let already: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
        [migration.version],
        |row| row.get(0),
    )?;
    if !already {
        tx.execute_batch(migration.sql)?;
        // SQLite reads the clock, so the store's Rust code does not have to.
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            rusqlite::params![migration.version, migration.name],
        )?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreKey;

    fn empty_encrypted_db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::connection::unlock(
            &conn,
            &StoreKey::generate(),
            std::path::Path::new(":memory:"),
        )
        .unwrap();
        conn
    }

    fn table_names(conn: &Connection) -> Vec<String> {
        let mut statement = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name",
            )
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn migration_files_are_numbered_from_one_without_gaps_and_match_the_embedded_list() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/client");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files.len(),
            MIGRATIONS.len(),
            "files in {}: {files:?}",
            dir.display()
        );
        for (position, (file, migration)) in files.iter().zip(MIGRATIONS).enumerate() {
            let expected_version = u32::try_from(position + 1).unwrap();
            assert_eq!(migration.version, expected_version, "{file}");
            assert_eq!(
                file,
                &format!("{:04}_{}.sql", migration.version, migration.name),
                "a migration file is named NNNN_name.sql after its entry in MIGRATIONS"
            );
            let on_disk = std::fs::read_to_string(dir.join(file)).unwrap();
            assert_eq!(
                on_disk, migration.sql,
                "{file} differs from the embedded text"
            );
        }
    }

    #[test]
    fn all_migrations_apply_to_an_empty_encrypted_database() {
        let mut conn = empty_encrypted_db();
        assert_eq!(current_version(&conn).unwrap(), 0);
        apply(&mut conn).unwrap();
        assert_eq!(current_version(&conn).unwrap(), SCHEMA_VERSION);
        let names = table_names(&conn);
        for table in [
            "meta",
            "records",
            "record_fields",
            "outbox",
            "field_history",
            "client_search",
        ] {
            assert!(
                names.iter().any(|n| n == table),
                "{table} missing from {names:?}"
            );
        }
    }

    #[test]
    fn applying_the_migrations_twice_changes_nothing() {
        let mut conn = empty_encrypted_db();
        apply(&mut conn).unwrap();
        let before = table_names(&conn);
        let applied_before: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .unwrap();
        apply(&mut conn).unwrap();
        assert_eq!(table_names(&conn), before);
        let applied_after: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(applied_after, applied_before);
        assert_eq!(applied_after, i64::from(SCHEMA_VERSION));
    }

    #[test]
    fn a_store_with_a_newer_schema_is_refused_with_a_message_to_update() {
        let mut conn = empty_encrypted_db();
        apply(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', '2099-01-01T00:00:00Z')",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        let error = apply(&mut conn).unwrap_err();
        assert!(
            matches!(error, StoreError::SchemaTooNew { found, supported }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{error:?}"
        );
        assert!(error.to_string().contains("update Tandem"), "{error}");
    }

    #[test]
    fn schema_11_keeps_the_refusals_a_store_holds_without_a_code() {
        let mut conn = empty_encrypted_db();
        for migration in &MIGRATIONS[..10] {
            apply_one(&mut conn, migration).unwrap();
        }
        conn.execute(
            "INSERT INTO rejected_changes (change_id, entity, record_id, field, value, base_version,
                 hlc, author_id, created_at, reason, rejected_at)
             VALUES ('c1', 'client', 'r1', 'email', '\"x@\"', 0, 'h', 'u', 't',
                 'email: `x@` has no domain', 't')",
            [],
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let kept: (String, Option<String>) = conn
            .query_row(
                "SELECT reason, reason_code FROM rejected_changes WHERE change_id = 'c1'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, ("email: `x@` has no domain".to_owned(), None));
    }

    #[test]
    fn schema_8_finds_the_open_follow_ups_a_store_already_holds() {
        let mut conn = empty_encrypted_db();
        for migration in &MIGRATIONS[..7] {
            apply_one(&mut conn, migration).unwrap();
        }
        for (record, field, value) in [
            ("a", "follow_up_on", r#""2026-11-24""#),
            ("a", "coach_id", r#""0190f0c4-8d5e-7c3a-9f1e-0000000000c0""#),
            ("b", "follow_up_on", r#""2026-11-25""#),
            ("c", "follow_up_on", r#""2026-11-26""#),
            ("c", "follow_up_done", "true"),
            ("d", "follow_up_on", r#""2026-11-27""#),
            ("d", "deleted", "true"),
            ("e", "follow_up_on", "null"),
            ("f", "follow_up_on", r#""2026-11-28""#),
            ("f", "follow_up_done", "false"),
        ] {
            conn.execute(
                "INSERT INTO record_fields (entity, record_id, field, value, hlc, author_id)
                 VALUES ('contact', ?1, ?2, ?3, 'h', 'u')",
                [record, field, value],
            )
            .unwrap();
        }
        apply(&mut conn).unwrap();
        let mut statement = conn
            .prepare("SELECT record_id, due, coach FROM open_follow_ups ORDER BY record_id")
            .unwrap();
        let open: Vec<(String, String, Option<String>)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let row = |id: &str, due: &str, coach: Option<&str>| {
            (id.to_owned(), due.to_owned(), coach.map(str::to_owned))
        };
        assert_eq!(
            open,
            [
                row(
                    "a",
                    r#""2026-11-24""#,
                    Some(r#""0190f0c4-8d5e-7c3a-9f1e-0000000000c0""#)
                ),
                row("b", r#""2026-11-25""#, None),
                row("f", r#""2026-11-28""#, None),
            ]
        );
        let names = table_names(&conn);
        assert!(
            !names.iter().any(|n| n == "record_fields_follow_up_on"),
            "{names:?}"
        );
    }

    #[test]
    fn schema_3_pulls_once_more_from_the_start_to_learn_the_purges_it_stepped_over() {
        let mut conn = empty_encrypted_db();
        for migration in &MIGRATIONS[..2] {
            apply_one(&mut conn, migration).unwrap();
        }
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('sync.pull_cursor', '4711')",
            [],
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let cursor: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'sync.pull_cursor'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(cursor, "0");
    }
}
