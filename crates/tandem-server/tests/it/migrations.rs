//! Schema migrations: a database written by a newer server refuses to open, on either
//! backend, and instances starting together on an empty PostgreSQL database migrate it
//! exactly once.

use tandem_server::ServerError;

use crate::harness::*;

both_backends!(a_database_migrated_by_a_newer_server_refuses_to_open_naming_both_versions);
async fn a_database_migrated_by_a_newer_server_refuses_to_open_naming_both_versions(
    backend: Backend,
) {
    let database = TestDatabase::create(backend).await;
    database.open_store().await;
    // What a later server version would leave behind: one more migration recorded.
    match &database {
        TestDatabase::Sqlite { path, .. } => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let current: i64 = conn
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            conn.pragma_update(None, "user_version", current + 1)
                .unwrap();
        }
        TestDatabase::Postgres { url } => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let connection = tokio::spawn(connection);
            client
                .batch_execute(
                    "INSERT INTO tandem_schema_migrations (version)
                     SELECT MAX(version) + 1 FROM tandem_schema_migrations",
                )
                .await
                .unwrap();
            drop(client);
            connection.await.unwrap().unwrap();
        }
    }
    match database.try_open_store().await {
        Err(err @ ServerError::SchemaTooNew { found, supported }) => {
            assert_eq!(found, supported + 1);
            assert!(err.to_string().contains("upgrade the server"), "{err}");
        }
        other => panic!("opened a newer schema: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_on_an_empty_postgres_database_migrate_it_once() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let TestDatabase::Postgres { url } = &database else {
        unreachable!("a PostgreSQL database was asked for");
    };
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { tandem_server::store::PostgresStore::connect(&url).await })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap();
    }
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM tandem_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let expected: Vec<i32> = (1..=versions.len() as i32).collect();
    assert!(!versions.is_empty());
    assert_eq!(versions, expected, "each migration recorded once, in order");
    drop(client);
    connection.await.unwrap().unwrap();
}

#[test]
fn processes_starting_together_on_an_empty_sqlite_file_migrate_it_once() {
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/server/sqlite"
    ))
    .unwrap()
    .count() as i64;
    // Many rounds: the race of turning a new file to WAL is lost rarely (SQLite answers
    // "database is locked" at once, without waiting, to the loser of that race).
    for _ in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tandem-server.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let starts: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    tandem_server::store::SqliteStore::open(&path).map(drop)
                })
            })
            .collect();
        for start in starts {
            start.join().unwrap().unwrap();
        }
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, migrations);
    }
}
