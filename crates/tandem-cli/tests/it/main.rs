//! End-to-end tests of the `tandem` command over a real SQLCipher store whose key lives in
//! the real OS keyring (run them through `scripts/test` or `scripts/with-keyring`). As root:
//! `disk_full` mounts a small tmpfs (in a mount namespace of its own).

mod crash;
mod disk_full;
mod encryption;
mod logs;
mod provisioning;
mod records;
mod relay;
mod report;
mod sync;
mod sync_kill;
mod sync_server;
mod sync_watch;
mod validation;

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

/// A data directory of its own, removed at the end of the test.
pub(crate) struct TestStore {
    dir: tempfile::TempDir,
}

impl TestStore {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.data_dir().join("tandem.db")
    }

    /// The provisioning file of this test store's `tandem` processes (absent until
    /// [`TestStore::provision`] writes it), so that the machine's /etc/tandem/config.toml
    /// never leaks into a test.
    pub(crate) fn provisioning_file(&self) -> PathBuf {
        self.dir.path().join("provisioning.toml")
    }

    /// Writes the provisioning file.
    pub(crate) fn provision(&self, text: &str) {
        std::fs::write(self.provisioning_file(), text).expect("write the provisioning file");
    }

    /// `tandem --data-dir DIR ARGS...`, not yet run.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        command
            .env("TANDEM_PROVISIONING_FILE", self.provisioning_file())
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(args);
        command
    }

    /// Runs `tandem` and returns its output, whatever the exit code.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tandem")
    }

    /// Runs `tandem` with `input` on its standard input and returns its output, whatever the
    /// exit code (see [`output_with_input`]).
    pub(crate) fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        output_with_input(self.command(args), input)
    }

    /// Runs `tandem` and returns its standard output, failing the test on a non-zero exit.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.run(args))
    }

    /// Runs `tandem --json` and parses its output.
    pub(crate) fn json(&self, args: &[&str]) -> Json {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        serde_json::from_str(&self.ok(&with_json)).expect("JSON output")
    }

    /// Runs `tandem` expecting failure, and returns standard error.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "tandem {args:?} should have failed"
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    pub(crate) fn pending(&self) -> u64 {
        self.json(&["status"])["pending_count"]
            .as_u64()
            .expect("pending_count")
    }
}

/// Runs `command` with `input` on its standard input and returns its output, whatever the
/// exit code. A command may refuse before it reads its input (a `login` with an invalid
/// provisioning file exits at once): the pipe it closed is then no error of the test, its
/// exit status and message say what happened.
pub(crate) fn output_with_input(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tandem");
    let mut stdin = child.stdin.take().expect("stdin piped");
    match stdin.write_all(input) {
        Err(error) if error.kind() == ErrorKind::BrokenPipe => {}
        written => written.expect("write tandem's standard input"),
    }
    drop(stdin);
    child.wait_with_output().expect("wait for tandem")
}

/// The standard output of `tandem ARGS`, trimmed; fails the test on a non-zero exit.
pub(crate) fn succeeded(args: &[&str], output: Output) -> String {
    assert!(
        output.status.success(),
        "tandem {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 output")
        .trim()
        .to_owned()
}

/// Whether `needle` occurs in the file at `path` (a missing file contains nothing).
pub(crate) fn file_contains(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

#[test]
fn input_for_a_command_that_exits_without_reading_it_is_no_error_of_the_test() {
    // More than a pipe holds, so the write is still going when `tandem --version` exits.
    let output = TestStore::new().run_with_input(&["--version"], &vec![b'x'; 4 << 20]);
    assert!(output.status.success());
}
