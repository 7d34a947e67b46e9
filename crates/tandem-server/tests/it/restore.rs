//! Restore drills for both backends, done as docs/it-guide.md says: a live server (the real
//! binary) is backed up, more data is written, the server is stopped, the backup restored and
//! a server started on it; its users sign in and laptops pull exactly the backup's data.

use std::path::Path;

use serde_json::json;
use tandem_protocol::{ChangeStatus, PulledChange};
use tandem_server::seed::DEMO_PASSWORD;
use uuid::Uuid;

use crate::binary::{Laptop, ServerProcess, admin_with_input, run_failing, run_ok};
use crate::pg_cluster;

/// coach1's laptop, the client it registered and every change it pulled before the backup:
/// what the restored server must give back.
struct Synced {
    http: reqwest::Client,
    coach: Laptop,
    client: Uuid,
    at_backup: Vec<PulledChange>,
    /// The changes pushed after the backup, as the laptop's journal keeps them.
    after_backup: Vec<serde_json::Value>,
    /// The highest seq the restored server handed out (answered to the laptop).
    restored_highest: u64,
}

/// Seeds the demo team into `database` (the binary's flags naming it), starts a server on
/// it, and has coach1 register a client.
async fn seed_and_sync(database: &[&str]) -> (ServerProcess, Synced) {
    run_ok(&[database, &["seed-demo", "--clients", "3"]].concat()).await;
    let server = ServerProcess::start(database).await;
    let http = reqwest::Client::new();
    let mut coach = Laptop::login(&http, &server.base, "coach1", DEMO_PASSWORD).await;
    let client = Uuid::now_v7();
    let changes = vec![
        coach.change(client, "given_name", json!("Ennen"), 0),
        coach.change(client, "family_name", json!("Varmuuskopiota"), 0),
    ];
    coach.push(&http, &server.base, changes).await;
    let at_backup = coach.pull_all(&http, &server.base).await;
    assert!(at_backup.iter().any(|c| c.record_id == client));
    let synced = Synced {
        http,
        coach,
        client,
        at_backup,
        after_backup: Vec::new(),
        restored_highest: 0,
    };
    (server, synced)
}

impl Synced {
    /// After the backup: an edit of the backed-up client and a new client, which the
    /// restored server must not have.
    async fn change_after_backup(&mut self, server: &ServerProcess) {
        let version = self
            .at_backup
            .iter()
            .rfind(|c| c.record_id == self.client && c.field == "given_name")
            .unwrap()
            .version;
        let changes = vec![
            self.coach
                .change(self.client, "given_name", json!("Jälkeen"), version),
            self.coach
                .change(Uuid::now_v7(), "given_name", json!("Uusi"), 0),
        ];
        self.coach
            .push(&self.http, &server.base, changes.clone())
            .await;
        self.after_backup = changes;
        let now = self.coach.pull_all(&self.http, &server.base).await;
        assert_eq!(now.len(), self.at_backup.len() + 2);
    }

    /// A server on the restored database: coach1's laptop (registered before the backup)
    /// pulls exactly what was there at backup time; lead1 signs in and sees the same.
    async fn check_restored(&self, database: &[&str]) {
        let server = ServerProcess::start(database).await;
        let pulled = self.coach.pull_all(&self.http, &server.base).await;
        assert_eq!(pulled, self.at_backup);
        let lead = Laptop::login(&self.http, &server.base, "lead1", DEMO_PASSWORD).await;
        assert_eq!(
            lead.pull_all(&self.http, &server.base).await,
            self.at_backup
        );
        server.stop().await;
    }

    /// The restored database is in a new epoch that follows the one the laptop knew, and
    /// its seqs start far above every seq handed out before the restore.
    async fn check_new_epoch(&mut self, database: &[&str]) {
        let server = ServerProcess::start(database).await;
        let change = self
            .coach
            .change(Uuid::now_v7(), "given_name", json!("Uusin"), 0);
        let answer = self
            .coach
            .push(&self.http, &server.base, vec![change])
            .await;
        let epoch = answer.epoch.clone().expect("the answer carries the epoch");
        let highest = self.at_backup.iter().map(|c| c.seq).max().unwrap();
        assert!(epoch.previous_id.is_some(), "{epoch:?}");
        assert!(epoch.restored_seq >= highest, "{epoch:?}");
        assert!(epoch.start_seq > highest, "{epoch:?}");
        assert!(answer.results[0].version >= epoch.start_seq, "{answer:?}");
        self.restored_highest = answer.results[0].version;
        server.stop().await;
    }

    /// What the laptop does at its next sync: push again, with their change ids, the changes
    /// acknowledged after the backup. The restored server applies them in the new epoch, a
    /// newly signed-in laptop pulls them, and the device list says who has synced since.
    async fn check_pushed_again(&mut self, database: &[&str]) {
        let server = ServerProcess::start(database).await;
        let answer = self
            .coach
            .push(&self.http, &server.base, self.after_backup.clone())
            .await;
        let start_seq = answer.epoch.as_ref().unwrap().start_seq;
        for result in &answer.results {
            assert_eq!(result.status, ChangeStatus::Applied, "{answer:?}");
            assert!(result.version >= start_seq, "{answer:?}");
            self.restored_highest = self.restored_highest.max(result.version);
        }
        let again = self
            .coach
            .push(&self.http, &server.base, self.after_backup.clone())
            .await;
        assert_eq!(again.results, answer.results, "a change id is applied once");
        let lead = Laptop::login(&self.http, &server.base, "lead1", DEMO_PASSWORD).await;
        let pulled = lead.pull_all(&self.http, &server.base).await;
        for change in &self.after_backup {
            let id: Uuid = serde_json::from_value(change["change_id"].clone()).unwrap();
            assert_eq!(
                pulled.iter().filter(|c| c.change_id == id).count(),
                1,
                "{change}"
            );
        }
        server.stop().await;
        let devices = run_ok(&[database, &["admin", "device", "list"]].concat()).await;
        let coach = devices
            .lines()
            .find(|line| line.starts_with(&self.coach.id.to_string()))
            .unwrap_or_else(|| panic!("{devices}"));
        assert!(coach.ends_with("\tsynced since the restore"), "{devices}");
        let epochs = run_ok(&[database, &["admin", "epoch", "list"]].concat()).await;
        assert_eq!(
            epochs.lines().count(),
            2,
            "the first epoch and the restored one: {epochs}"
        );
    }
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test]
async fn a_sqlite_backup_of_a_live_server_restores_exactly_its_data_and_never_under_a_running_server()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("tandem-2026-11-27.db");
    let database = ["--data-dir", text(&data)];
    let (server, mut synced) = seed_and_sync(&database).await;
    run_ok(&[&database[..], &["backup", "--to", text(&backup)]].concat()).await;
    let backup_bytes = std::fs::read(&backup).unwrap();
    synced.change_after_backup(&server).await;

    let restore = [&database[..], &["restore", "--from", text(&backup)]].concat();
    let forced = [&restore[..], &["--force"]].concat();
    let refused = run_failing(&forced).await;
    assert!(refused.contains("stop every instance"), "{refused}");
    server.stop().await;

    let refused = run_failing(&restore).await;
    assert!(refused.contains("--force"), "{refused}");
    let not_a_backup = dir.path().join("notes.txt");
    std::fs::write(
        &not_a_backup,
        "not a database, but long enough to look like one".repeat(50),
    )
    .unwrap();
    let refused = run_failing(
        &[
            &database[..],
            &["restore", "--force", "--from", text(&not_a_backup)],
        ]
        .concat(),
    )
    .await;
    assert!(
        refused.contains("not a readable SQLite database"),
        "{refused}"
    );
    assert!(refused.contains(text(&not_a_backup)), "{refused}");

    let printed = run_ok(&forced).await;
    assert!(printed.contains("restored from"), "{printed}");
    assert!(printed.contains("new database epoch"), "{printed}");
    assert!(
        printed.contains("erasures done after the backup"),
        "{printed}"
    );
    let kept = printed
        .lines()
        .find_map(|line| line.strip_prefix("the previous database is kept as "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(Path::new(kept).starts_with(&data), "{kept}");
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        backup_bytes,
        "the backup is only read"
    );

    synced.check_restored(&database).await;
    synced.check_new_epoch(&database).await;
    synced.check_pushed_again(&database).await;

    // The replaced database is whole: restoring it brings the later changes back. It never
    // knew the epoch of the first restore, yet its new epoch hands out none of that epoch's
    // seqs again: a laptop's version from it still names no write.
    let back = run_ok(&[&database[..], &["restore", "--force", "--from", kept]].concat()).await;
    assert!(back.contains("restored from"), "{back}");
    let server = ServerProcess::start(&database).await;
    let pulled = synced.coach.pull_all(&synced.http, &server.base).await;
    assert_eq!(pulled.len(), synced.at_backup.len() + 2);
    let change = synced
        .coach
        .change(Uuid::now_v7(), "given_name", json!("Kolmas"), 0);
    let answer = synced
        .coach
        .push(&synced.http, &server.base, vec![change])
        .await;
    let epoch = answer.epoch.clone().expect("the answer carries the epoch");
    assert!(
        epoch.start_seq > synced.restored_highest,
        "{epoch:?} hands out the first restore's seq {} again",
        synced.restored_highest
    );
    assert!(
        answer.results[0].version > synced.restored_highest,
        "{answer:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_postgres_dump_of_a_live_server_restores_into_a_new_database_with_exactly_its_data() {
    let url = pg_cluster::fresh_database().await;
    let database = ["--database-url", url.as_str()];
    let (server, mut synced) = seed_and_sync(&database).await;
    let bin = pg_cluster::find_bin_dir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("tandem-2026-11-27.dump");
    pg_tool(
        &bin.join("pg_dump"),
        &["--format=custom", "--file", text(&dump), "--dbname", &url],
    );
    synced.change_after_backup(&server).await;
    server.stop().await;

    // The guide: a new, empty database owned by the server's role (the cluster's `tandem`).
    let restored = pg_cluster::fresh_database().await;
    pg_tool(
        &bin.join("pg_restore"),
        &[
            "--dbname",
            &restored,
            "--no-owner",
            "--role=tandem",
            "--exit-on-error",
            text(&dump),
        ],
    );
    // The guide: then a new epoch, so that laptops push again what the dump lacks.
    let restored_database = ["--database-url", restored.as_str()];
    let rotated = run_ok(&[&restored_database[..], &["admin", "epoch", "rotate"]].concat()).await;
    assert!(rotated.contains("new database epoch"), "{rotated}");
    synced.check_restored(&restored_database).await;
    synced.check_new_epoch(&restored_database).await;
    synced.check_pushed_again(&restored_database).await;

    let refused = run_failing(&[
        "--database-url",
        restored.as_str(),
        "restore",
        "--from",
        text(&dump),
    ])
    .await;
    assert!(refused.contains("pg_restore"), "{refused}");
}

fn pg_tool(program: &Path, args: &[&str]) {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_backup_of_an_older_schema_is_migrated_and_one_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let older = dir.path().join("older.db");
    let conn = rusqlite::Connection::open(&older).unwrap();
    conn.execute_batch(include_str!(
        "../../../../migrations/server/sqlite/0001_initial.sql"
    ))
    .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let data = dir.path().join("data");
    let database = ["--data-dir", text(&data)];
    run_ok(&[&database[..], &["restore", "--from", text(&older)]].concat()).await;
    let restored = rusqlite::Connection::open(data.join("tandem-server.db")).unwrap();
    let version: i64 = restored
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert!(version > 1, "the restored database was not migrated");

    let newer = dir.path().join("newer.db");
    std::fs::copy(data.join("tandem-server.db"), &newer).unwrap();
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", version + 1)
        .unwrap();
    drop(conn);
    let refused = run_failing(
        &[
            &database[..],
            &["restore", "--force", "--from", text(&newer)],
        ]
        .concat(),
    )
    .await;
    assert!(
        refused.contains("newer than this server supports"),
        "{refused}"
    );
    assert!(
        !std::fs::read_dir(&data).unwrap().any(|entry| entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("replaced")),
        "a refused restore moved the database aside"
    );
}

#[tokio::test]
async fn the_replaced_database_lists_the_users_and_sites_a_restore_lost_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("tandem-2026-11-27.db");
    let database = ["--data-dir", text(&data)];
    run_ok(&[&database[..], &["seed-demo", "--clients", "1"]].concat()).await;
    run_ok(&[&database[..], &["backup", "--to", text(&backup)]].concat()).await;
    // After the backup: a user and a site, which laptops may name by now.
    let coach7 = Uuid::from_u128(0x9207);
    let args = [
        "user",
        "add",
        "coach7",
        "--role",
        "coach",
        "--team",
        "demo",
        "--password-stdin",
        "--id",
        &coach7.to_string(),
    ];
    let added = admin_with_input(text(&data), &args, "a long password\n").await;
    assert!(added.status.success(), "{added:?}");
    let site = Uuid::from_u128(0x5207).to_string();
    let args = [
        "admin",
        "site",
        "add",
        "Länsimäki youth centre",
        "--id",
        &site,
    ];
    run_ok(&[&database[..], &args].concat()).await;

    let printed = run_ok(
        &[
            &database[..],
            &["restore", "--force", "--from", text(&backup)],
        ]
        .concat(),
    )
    .await;
    let kept = printed
        .lines()
        .find_map(|line| line.strip_prefix("the previous database is kept as "))
        .unwrap_or_else(|| panic!("{printed}"));
    let files = |dir: &Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let (kept_bytes, data_files) = (std::fs::read(kept).unwrap(), files(&data));

    // The guide: the admin commands pointed at the replaced database (the path `restore`
    // printed) list what the restore lost.
    let replaced = ["--database-url", kept];
    let users =
        run_ok(&[&replaced[..], &["admin", "user", "list", "--team", "demo"]].concat()).await;
    assert!(
        users.contains(&format!("{coach7}\tcoach7\tcoach\tdemo\n")),
        "{users}"
    );
    let sites = run_ok(&[&replaced[..], &["admin", "site", "list"]].concat()).await;
    assert!(
        sites.contains(&format!("{site}\tLänsimäki youth centre\tactive\n")),
        "{sites}"
    );
    let teams = run_ok(&[&replaced[..], &["admin", "team", "list"]].concat()).await;
    assert!(teams.contains("\tdemo\t4\n"), "{teams}");
    let restored = run_ok(&[&database[..], &["admin", "user", "list"]].concat()).await;
    assert!(!restored.contains("coach7"), "{restored}");

    assert_eq!(
        std::fs::read(kept).unwrap(),
        kept_bytes,
        "listing changed nothing in the replaced database"
    );
    assert_eq!(files(&data), data_files, "and left no file beside it");
}
