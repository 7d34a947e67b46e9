//! A full disk under PostgreSQL, for real: the test's database lives in a tablespace on a
//! tmpfs of a few MiB that the test fills to the last byte. A push must be answered 503
//! `storage_full` with `Retry-After`, store nothing of itself, and go through when sent again
//! once there is room. (SQLite's full disk is tested in the store, `store::sqlite`.)
//!
//! Only the database's files are on the small disk; the cluster's write-ahead log is not, so
//! PostgreSQL reports the disk as an error of the statement (SQLSTATE 53100) rather than
//! stopping, which is what a tablespace or data disk filling up looks like in production.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;
use tandem_protocol::{ChangeIn, ChangeStatus};
use uuid::Uuid;

use crate::harness::{self, Device, TestDatabase, TestServer};
use crate::pg_cluster::{self, DatabaseIn};

/// A tmpfs of `mib` MiB owned by the `postgres` user, mounted where the test's PostgreSQL
/// cluster can see it. A holder process mounts it and unmounts it when its standard input
/// (a pipe from the test) closes: at [`SmallDisk::unmount`], once the database on it is
/// gone, or else when the test process ends, however it ends (a test that failed before
/// removing its database frees the disk and leaves it to PostgreSQL, which may still write
/// the database's pages there, until the cluster stops). Mounting needs root, as
/// `scripts/test` runs (and as root the cluster runs as `postgres`).
struct SmallDisk {
    holder: Child,
    mount_point: PathBuf,
    unmount_now: bool,
}

impl SmallDisk {
    fn new(mib: u32) -> Self {
        let mount_point = tempfile::Builder::new()
            .prefix("tandem-pg-disk-")
            .tempdir_in("/tmp")
            .expect("temp dir")
            .keep();
        let mut holder = Command::new("sh")
            .arg("-c")
            .arg(format!(
                r#"owner=$(id -u postgres) || exit 1
                   mount -t tmpfs -o "size={mib}m,mode=0700,uid=$owner,gid=$(id -g postgres)" \
                       tandem-test-pg-disk "$0" || exit 1
                   echo mounted
                   cat >/dev/null
                   umount -l "$0"; rmdir "$0""#
            ))
            .arg(&mount_point)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("run sh");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().expect("stdout piped"))
            .read_line(&mut line)
            .expect("read the holder's output");
        if line.trim() != "mounted" {
            let output = holder.wait_with_output().expect("wait for the holder");
            let _ = std::fs::remove_dir(&mount_point);
            panic!(
                "cannot mount a {mib} MiB tmpfs for the postgres user (the test needs root and \
                 Debian's postgresql package, as scripts/test provides): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Self {
            holder,
            mount_point,
            unmount_now: false,
        }
    }

    /// Unmounts the disk now: nothing of PostgreSQL's may be left on it.
    fn unmount(mut self) {
        self.unmount_now = true;
    }

    fn filler(&self) -> PathBuf {
        self.mount_point.join("filler")
    }

    /// Fills the disk to the last byte.
    fn fill(&self) {
        tandem_testkit::fill_until_full(&self.filler());
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let input = self.holder.stdin.take();
        if self.unmount_now {
            // Closing its input ends the holder, which unmounts the disk and removes the point.
            drop(input);
            let _ = self.holder.wait();
        } else {
            // Room for PostgreSQL to write the database's pages; the pipe closes when this
            // process ends.
            let _ = std::fs::remove_file(self.filler());
            std::mem::forget(input);
        }
    }
}

/// One push's worth of new clients, each with a long note: about 48 KiB of values.
fn new_clients(device: &Device) -> (Vec<Uuid>, Vec<ChangeIn>) {
    let mut ids = Vec::new();
    let mut changes = Vec::new();
    for i in 0..20 {
        let id = Uuid::now_v7();
        ids.push(id);
        for (field, value) in [
            ("given_name", json!(format!("Client {i}"))),
            ("notes", json!("Asked about Finnish courses. ".repeat(80))),
        ] {
            changes.push(harness::change(
                device,
                "client",
                id,
                field,
                value,
                0,
                harness::NOW_MS,
            ));
        }
    }
    (ids, changes)
}

fn pulled_records(changes: &[tandem_protocol::PulledChange]) -> Vec<Uuid> {
    changes.iter().map(|change| change.record_id).collect()
}

#[tokio::test]
async fn a_push_on_a_full_postgresql_disk_is_answered_503_and_stored_whole_once_there_is_room() {
    let disk = SmallDisk::new(32);
    let database = DatabaseIn::create(&disk.mount_point).await;
    let server: TestServer = harness::start_on(TestDatabase::Postgres {
        url: database.url.clone(),
    })
    .await;
    let coach = server.login("coach_a").await;
    let (stored, changes) = new_clients(&coach);
    server.push(&coach, changes).await;

    // Every page of the database gets its space first: a page written later into a hole of
    // a file on the full disk would fail in whichever process writes it, maybe another
    // test's (PostgreSQL's backends write each other's dirty pages).
    pg_cluster::checkpoint().await;
    disk.fill();
    // Pages PostgreSQL already holds may take a push or two; a new page cannot be had.
    let mut pushes = 0;
    let (refused_ids, refused_changes, reply) = loop {
        pushes += 1;
        assert!(pushes <= 200, "the database never ran out of space");
        let (ids, changes) = new_clients(&coach);
        let reply = server.push_reply(&coach, changes.clone()).await;
        if reply.status != StatusCode::OK {
            break (ids, changes, reply);
        }
    };
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.error_code(), "storage_full", "{}", reply.body);
    assert_eq!(reply.headers["retry-after"], "60");
    let held = pulled_records(&server.pull_all(&coach).await);
    assert!(held.contains(&stored[0]), "what was stored before stays");
    assert!(
        refused_ids.iter().all(|id| !held.contains(id)),
        "nothing of the refused push was stored"
    );

    disk.free();
    let results = server.push(&coach, refused_changes).await;
    assert!(
        results
            .iter()
            .all(|result| result.status == ChangeStatus::Applied),
        "{results:?}"
    );
    let held = pulled_records(&server.pull_all(&coach).await);
    for id in &refused_ids {
        assert_eq!(
            held.iter().filter(|held| *held == id).count(),
            2,
            "both fields of {id}, once each"
        );
    }

    drop(server);
    database.remove().await;
    disk.unmount();
}
