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

#[tokio::test]
async fn sqlite_conflicts_keep_their_ids_through_schema_7_and_later_ids_come_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tandem-server.db");
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/server/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    // A database as schema 6 left it, holding a conflict whose id is not the first.
    let team = uuid::Uuid::from_u128(0x7000);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for file in &files[..6] {
            conn.execute_batch(&std::fs::read_to_string(file).unwrap())
                .unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute(
            "INSERT INTO teams (id, name, created_ms) VALUES (?1, 'north', 0)",
            [team.to_string()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO conflicts (id, team_id, entity, record_id, field, policy, status,
                 base_version, base_value, values_json, clock_skew, created_ms)
             VALUES (41, ?1, 'client', ?2, 'given_name', 'review', 'open', 3, '\"Maryam\"',
                 '[]', 0, 0)",
            [team.to_string(), uuid::Uuid::from_u128(0x42).to_string()],
        )
        .unwrap();
    }
    let store = tandem_server::store::SqliteStore::open(&path).unwrap();
    let kept = tandem_server::store::ServerStore::conflict(&store, team, 41)
        .await
        .unwrap()
        .expect("the conflict is kept with its id");
    assert_eq!(
        (kept.field.as_str(), kept.base_version, kept.base_value),
        ("given_name", 3, serde_json::json!("Maryam"))
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM conflicts WHERE id = 41", [])
        .unwrap();
    conn.execute(
        "INSERT INTO conflicts (team_id, entity, record_id, field, policy, status,
             base_version, base_value, values_json, clock_skew, created_ms)
         VALUES (?1, 'client', ?2, 'given_name', 'review', 'open', 3, 'null', '[]', 0, 0)",
        [team.to_string(), uuid::Uuid::from_u128(0x43).to_string()],
    )
    .unwrap();
    assert_eq!(conn.last_insert_rowid(), 42, "41 is not given again");
}

/// The migration files of one dialect (`sqlite` or `postgres`), in order.
fn migration_files(dialect: &str) -> Vec<std::path::PathBuf> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations/server")
        .join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Brings an empty `database` to schema `version` with the migration files themselves, as a
/// server of that version left it, and then runs `sql` on it.
async fn database_at_schema(database: &TestDatabase, version: usize, sql: &str) {
    match database {
        TestDatabase::Sqlite { path, .. } => {
            let conn = rusqlite::Connection::open(path).unwrap();
            for file in &migration_files("sqlite")[..version] {
                conn.execute_batch(&std::fs::read_to_string(file).unwrap())
                    .unwrap();
            }
            conn.pragma_update(None, "user_version", version as i64)
                .unwrap();
            conn.execute_batch(sql).unwrap();
        }
        TestDatabase::Postgres { url } => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let connection = tokio::spawn(connection);
            client
                .batch_execute(
                    "CREATE TABLE tandem_schema_migrations (
                         version     INTEGER PRIMARY KEY,
                         applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                     )",
                )
                .await
                .unwrap();
            for (index, file) in migration_files("postgres")[..version].iter().enumerate() {
                client
                    .batch_execute(&std::fs::read_to_string(file).unwrap())
                    .await
                    .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
                client
                    .execute(
                        "INSERT INTO tandem_schema_migrations (version) VALUES ($1)",
                        &[&(index as i32 + 1)],
                    )
                    .await
                    .unwrap();
            }
            client.batch_execute(sql).await.unwrap();
            drop(client);
            connection.await.unwrap().unwrap();
        }
    }
}

/// Every stored push answer, by change id.
async fn stored_push_answers(database: &TestDatabase) -> Vec<(String, String)> {
    let sql = "SELECT CAST(change_id AS TEXT), result FROM applied_changes ORDER BY 1";
    match database {
        TestDatabase::Sqlite { path, .. } => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut statement = conn.prepare(sql).unwrap();
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
        TestDatabase::Postgres { url } => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let connection = tokio::spawn(connection);
            let rows = client.query(sql, &[]).await.unwrap();
            let answers = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
            drop(client);
            connection.await.unwrap().unwrap();
            answers
        }
    }
}

both_backends!(push_answers_stored_before_schema_8_keep_no_words_that_quote_a_refused_value);
async fn push_answers_stored_before_schema_8_keep_no_words_that_quote_a_refused_value(
    backend: Backend,
) {
    use tandem_protocol::{ChangeResult, ChangeStatus, RejectCode};
    let refused = |n: u128, reason: &str, reason_code: Option<RejectCode>| ChangeResult {
        change_id: uuid::Uuid::from_u128(n),
        status: ChangeStatus::Rejected,
        version: 0,
        value: serde_json::Value::Null,
        conflict_id: None,
        reason: Some(reason.to_owned()),
        reason_code,
    };
    // What servers before schema 8 stored: the first answer whole, words and all.
    let answers = [
        refused(
            1,
            "email: `amina.qzmarker at example` is not an email address",
            Some(RejectCode::InvalidValue),
        ),
        // A server before reason codes wrote none.
        refused(2, "phone: `+358 qzmarker` is not a phone number", None),
        refused(
            3,
            "given_name: `Qzmarker` was refused",
            Some(RejectCode::Other),
        ),
        // The words of these codes name no value and are kept.
        refused(
            4,
            "site: 0195f000-0000-7000-8000-000000000001 names no site",
            Some(RejectCode::UnknownSite),
        ),
        refused(5, "the record was erased", Some(RejectCode::RecordErased)),
        ChangeResult {
            change_id: uuid::Uuid::from_u128(6),
            status: ChangeStatus::Applied,
            version: 7,
            value: serde_json::json!("Ami"),
            conflict_id: None,
            reason: None,
            reason_code: None,
        },
        // A value or a field name with U+0000 in it (a device sent it), which PostgreSQL's
        // jsonb refuses to read: the upgrade must not stop on it.
        refused(
            7,
            "gender: unknown value `\u{0}qzmarker`",
            Some(RejectCode::InvalidValue),
        ),
        refused(8, "unknown field `\u{0}x`", Some(RejectCode::UnknownField)),
    ];
    let inserts: String = answers
        .iter()
        .map(|answer| {
            format!(
                "INSERT INTO applied_changes (change_id, team_id, device_id, result, recorded_ms)
                 VALUES ('{}', NULL, '{}', '{}', 0);\n",
                answer.change_id,
                uuid::Uuid::from_u128(0xd),
                serde_json::to_string(answer).unwrap().replace('\'', "''"),
            )
        })
        .collect();
    let database = TestDatabase::create(backend).await;
    database_at_schema(&database, 7, &inserts).await;

    drop(database.open_store().await);

    let stored = stored_push_answers(&database).await;
    assert_eq!(stored.len(), answers.len());
    for ((change_id, text), answer) in stored.iter().zip(&answers) {
        assert_eq!(change_id, &answer.change_id.to_string());
        assert!(!text.to_lowercase().contains("qzmarker"), "{text}");
        let migrated: ChangeResult = serde_json::from_str(text).unwrap();
        assert_eq!(
            migrated,
            tandem_server::push::stored_answer(answer),
            "stored as this server stores it"
        );
    }
    // Nor is it anywhere in the file (its freed space zeroed, its WAL checkpointed away).
    if let TestDatabase::Sqlite { path, .. } = &database {
        for entry in std::fs::read_dir(path.parent().unwrap()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes
                    .windows(8)
                    .any(|window| window.eq_ignore_ascii_case(b"qzmarker")),
                "the value is still in the file"
            );
        }
    }
}

both_backends!(login_attempts_stored_before_schema_9_count_as_answered_once_migrated);
async fn login_attempts_stored_before_schema_9_count_as_answered_once_migrated(backend: Backend) {
    use chrono::{DateTime, TimeDelta, Utc};
    use tandem_server::store::{LoginLimits, LoginOutcome, LoginReservation, RecentFailures};
    let now = DateTime::<Utc>::from_timestamp_millis(NOW_MS).unwrap();
    let limits = LoginLimits {
        since: now - TimeDelta::minutes(15),
        in_progress_since: now - TimeDelta::seconds(30),
        per_username: 5,
        per_address: 50,
    };
    // What a schema-8 server stored: every attempt answered, a failure or a success. Olli's
    // five failures twenty seconds ago fill his limit; Maija's four are ten seconds old.
    // All are younger than a request's timeout (the 30 s in-progress window), so had the
    // migration marked them in progress they would not count as failures; her success is
    // older.
    let attempt = |username: &str, address: &str, ago_ms: i64, succeeded: bool| {
        let succeeded = match (backend, succeeded) {
            (Backend::Sqlite, flag) => i32::from(flag).to_string(),
            (Backend::Postgres, flag) => flag.to_string(),
        };
        format!(
            "INSERT INTO login_attempts (username, address, at_ms, succeeded)
             VALUES ('{username}', '{address}', {}, {succeeded});\n",
            NOW_MS - ago_ms
        )
    };
    let mut rows = String::new();
    for _ in 0..5 {
        rows.push_str(&attempt("olli", "10.0.0.1", 20_000, false));
    }
    rows.push_str(&attempt("maija", "10.0.0.2", 600_000, true));
    for _ in 0..4 {
        rows.push_str(&attempt("maija", "10.0.0.2", 10_000, false));
    }
    let database = TestDatabase::create(backend).await;
    database_at_schema(&database, 8, &rows).await;

    let store = database.open_store().await;
    // Olli's failures are failures, not logins in progress: refused for the window (429),
    // not asked to come back in a moment (what five attempts in progress would get).
    assert_eq!(
        store
            .reserve_login_attempt("olli", "10.0.0.1", limits, now)
            .await
            .unwrap(),
        LoginReservation::Refused(RecentFailures {
            by_username: 5,
            oldest_by_username_ms: Some(NOW_MS - 20_000),
            by_address: 5,
            oldest_by_address_ms: Some(NOW_MS - 20_000),
        })
    );
    // Maija may try once more; while that attempt is checked a sixth waits a moment, and
    // once it proved wrong her limit is full.
    let LoginReservation::Reserved { attempt_id } = store
        .reserve_login_attempt("maija", "10.0.0.2", limits, now)
        .await
        .unwrap()
    else {
        panic!("Maija's fifth attempt is refused");
    };
    assert_eq!(
        store
            .reserve_login_attempt("maija", "10.0.0.2", limits, now)
            .await
            .unwrap(),
        LoginReservation::AttemptsInProgress
    );
    store
        .settle_login_attempt(attempt_id, "maija", LoginOutcome::Failed)
        .await
        .unwrap();
    assert!(matches!(
        store
            .reserve_login_attempt("maija", "10.0.0.2", limits, now)
            .await
            .unwrap(),
        LoginReservation::Refused(RecentFailures { by_username: 5, .. })
    ));
}
