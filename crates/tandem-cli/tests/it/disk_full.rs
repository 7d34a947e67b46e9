//! A full disk, for real: the store lives on a tmpfs of a few MiB that the test fills to the
//! last byte. `tandem` must say that the disk is full and what to do, keep everything saved
//! before, and work again once there is room.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A tmpfs mounted in a mount namespace of its own (`unshare`): nothing outside the test
/// sees it, and it goes with the namespace when the test ends, even if the test is killed
/// (the namespace's one lasting process reads its standard input from the test, and ends
/// when that pipe closes). `tandem` runs inside the namespace (`nsenter`); the test reaches
/// the files through the namespace holder's `/proc/PID/root`. Mounting needs root, as
/// `scripts/test` runs.
struct SmallDisk {
    holder: Child,
    mount_point: tempfile::TempDir,
}

impl SmallDisk {
    fn new(mib: u32) -> Self {
        let mount_point = tempfile::tempdir().expect("temp dir");
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o size={mib}m tandem-test-disk \"$0\" && echo mounted && exec cat >/dev/null"
            ))
            .arg(mount_point.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run unshare (util-linux)");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().expect("stdout piped"))
            .read_line(&mut line)
            .expect("read unshare's output");
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let output = holder.wait_with_output().expect("wait for unshare");
            panic!(
                "cannot mount a {mib} MiB tmpfs in a mount namespace of its own (the test needs \
                 root, as scripts/test is run): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Self {
            holder,
            mount_point,
        }
    }

    /// The data directory of the store, as `tandem` inside the namespace sees it.
    fn data_dir(&self) -> PathBuf {
        self.mount_point.path().join("data")
    }

    /// `relative` on the small disk, as this test process sees it.
    fn seen_from_here(&self, relative: &str) -> PathBuf {
        let inside = self.mount_point.path().join(relative);
        Path::new(&format!("/proc/{}/root", self.holder.id()))
            .join(inside.strip_prefix("/").expect("an absolute temp dir"))
    }

    /// Fills the disk to the last byte.
    fn fill(&self) {
        tandem_testkit::fill_until_full(&self.seen_from_here("filler"));
    }

    /// Gives back `bytes` of the filler: room to open the store, not to write much.
    fn free_some(&self, bytes: u64) {
        let filler = std::fs::OpenOptions::new()
            .write(true)
            .open(self.seen_from_here("filler"))
            .expect("filler");
        let size = filler.metadata().expect("filler's size").len();
        filler.set_len(size - bytes).expect("shrink the filler");
    }

    fn free(&self) {
        std::fs::remove_file(self.seen_from_here("filler")).expect("remove the filler");
    }

    /// Runs `tandem --data-dir DIR ARGS...` inside the namespace.
    fn tandem(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .arg(format!("--target={}", self.holder.id()))
            .args(["--mount", "--"])
            .arg(env!("CARGO_BIN_EXE_tandem"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
            .env(
                "TANDEM_PROVISIONING_FILE",
                self.mount_point.path().join("provisioning.toml"),
            )
            .output()
            .expect("run nsenter (util-linux)")
    }

    fn ok(&self, args: &[&str]) -> String {
        crate::succeeded(args, self.tandem(args))
    }

    /// Runs `tandem`, expects it to fail because the disk is full, and returns its message.
    fn refused_for_a_full_disk(&self, args: &[&str]) -> String {
        let output = self.tandem(args);
        let message = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !output.status.success(),
            "tandem {args:?} should have failed"
        );
        assert!(
            message.contains("The disk holding Tandem's local store is full")
                && message.contains("everything saved before is intact")
                && message.contains("Free some disk space"),
            "tandem {args:?}: {message}"
        );
        message
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

#[test]
fn on_a_full_disk_tandem_says_so_keeps_everything_and_works_again_once_there_is_room() {
    let disk = SmallDisk::new(8);
    let amina = disk.ok(&["client", "add", "--given-name", "Amina"]);
    let contact = [
        "contact",
        "add",
        "--client",
        amina.as_str(),
        "--topic",
        "housing",
        "--summary",
        "Asked about a rental contract.",
    ];
    disk.ok(&contact);

    disk.fill();
    // Opening the store needs its shared-memory file, which a full disk cannot give.
    disk.refused_for_a_full_disk(&contact);
    disk.refused_for_a_full_disk(&["client", "list"]);
    let mut as_json = vec!["--json"];
    as_json.extend_from_slice(&contact);
    let refused: serde_json::Value =
        serde_json::from_str(&disk.refused_for_a_full_disk(&as_json)).expect("a JSON error");
    assert_eq!(refused["error"]["kind"], "disk_full", "{refused}");

    // Room to open the store (its 32 KiB shared-memory file) and to read, not for a long
    // summary, which the store writes three times (value, history, outbox): the write
    // itself meets the full disk, and is rolled back whole.
    disk.free_some(96 << 10);
    let long = "語".repeat(19_000);
    let mut long_contact = contact.to_vec();
    *long_contact.last_mut().expect("the summary") = &long;
    disk.refused_for_a_full_disk(&long_contact);
    let listed: serde_json::Value =
        serde_json::from_str(&disk.ok(&["--json", "contact", "list", "--client", &amina]))
            .expect("JSON");
    assert_eq!(listed.as_array().expect("a list").len(), 1, "{listed}");

    disk.free();
    disk.ok(&long_contact);
    let contacts: serde_json::Value =
        serde_json::from_str(&disk.ok(&["--json", "contact", "list", "--client", &amina]))
            .expect("JSON");
    assert_eq!(
        contacts.as_array().expect("a list").len(),
        2,
        "the contact saved before the disk filled up, and the one saved after: {contacts}"
    );
    let clients = disk.ok(&["client", "list"]);
    assert!(clients.contains("Amina"), "{clients}");
}
