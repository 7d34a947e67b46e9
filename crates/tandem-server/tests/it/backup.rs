//! `tandem-server backup`: a consistent copy of the SQLite database, made by the real binary
//! next to a live database, that opens as a server database holding what was there at the
//! time of the backup; an existing file is never overwritten; PostgreSQL is pointed to pg_dump.

use std::path::Path;
use std::process::Output;

use tandem_server::store::{ServerStore, SqliteStore};

fn server_command(data_dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TANDEM_DATABASE_URL")
        .env_remove("TANDEM_CONFIG")
        .output()
        .expect("run tandem-server")
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    let output = server_command(data_dir, args);
    assert!(
        output.status.success(),
        "tandem-server {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_backup_is_a_snapshot_that_opens_as_a_server_database_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("tandem-2026-11-27.db");
    ok(&data, &["migrate"]);
    ok(&data, &["admin", "team", "add", "north"]);
    let printed = ok(&data, &["backup", "--to", backup.to_str().unwrap()]);
    assert!(printed.contains("backed up to"), "{printed}");
    ok(&data, &["admin", "team", "add", "south"]);

    let restored = SqliteStore::open(&backup).unwrap();
    assert!(restored.team_by_name("north").await.unwrap().is_some());
    assert!(
        restored.team_by_name("south").await.unwrap().is_none(),
        "the backup is the state at backup time"
    );

    let again = server_command(&data, &["backup", "--to", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    let message = String::from_utf8_lossy(&again.stderr);
    assert!(message.contains("exists already"), "{message}");
    assert!(message.contains(backup.to_str().unwrap()), "{message}");

    let postgres = server_command(
        &data,
        &[
            "--database-url",
            "postgres://tandem@localhost/tandem",
            "backup",
            "--to",
            dir.path().join("pg.db").to_str().unwrap(),
        ],
    );
    assert!(!postgres.status.success());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
}
