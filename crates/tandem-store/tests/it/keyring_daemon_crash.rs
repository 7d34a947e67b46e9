//! gnome-keyring-daemon dies while it holds a call of ours: the call is made again and
//! answered by the daemon D-Bus starts in its place, and the key is read as if nothing had
//! happened.
//!
//! gnome-keyring-daemon (42.x in Debian 12, still in 50.x) aborts when a client leaves in the
//! middle of opening a Secret Service session (upstream work items 190, 196, 199); every
//! other client's call in flight then fails with "Message recipient disconnected from message
//! bus without replying". That took down an unrelated test in CI, and it takes down a coach's
//! sign-in the same way when another program crashes the daemon.
//!
//! The daemon is killed here for real, so the test runs itself again as a child process in a
//! keyring session of its own (`scripts/with-keyring`): no other test shares that daemon. To
//! kill it while it holds our call, the child stops it (SIGSTOP), makes the call, waits until
//! `dbus-monitor` has seen the call delivered to it, and kills it (SIGKILL).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use tandem_store::key;

use crate::{DataDir, open};

/// Set in the child process that runs inside its own keyring session.
const CHILD: &str = "TANDEM_TEST_KEYRING_CRASH_CHILD";

#[test]
fn a_key_read_while_the_keyring_daemon_dies_is_read_from_the_daemon_started_in_its_place() {
    if std::env::var_os(CHILD).is_some() {
        read_a_key_while_the_daemon_dies();
        return;
    }
    let with_keyring = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
    let output = Command::new(with_keyring)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keyring_daemon_crash::a_key_read_while_the_keyring_daemon_dies_is_read_from_the_daemon_started_in_its_place",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("scripts/with-keyring runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child test failed:\n{stdout}\n{stderr}"
    );
}

fn read_a_key_while_the_daemon_dies() {
    let dir = DataDir::new();
    drop(open(&dir.path));
    let stored = dir.key().expect("the store made its key");

    let daemon = keyring_daemon_pid();
    signal(daemon, "STOP");
    // Ended after a minute, so that a call never delivered fails the test instead of
    // hanging it (`wait_for_line` then finds the output ended).
    let mut monitor = Command::new("timeout")
        .args([
            "60",
            "dbus-monitor",
            "--session",
            "type='method_call',destination='org.freedesktop.secrets'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor runs");
    let mut lines = BufReader::new(monitor.stdout.take().unwrap()).lines();
    // A monitor gives up its own bus name once it is monitoring.
    wait_for_line(&mut lines, "member=NameLost");

    let reader = std::thread::spawn({
        let path = dir.path.clone();
        move || key::load_key(&path)
    });
    wait_for_line(&mut lines, "method call");
    signal(daemon, "KILL");
    let read = reader.join().expect("the reading thread");
    // `timeout` passes TERM on to dbus-monitor (KILL would leave it running).
    signal(monitor.id(), "TERM");
    let _ = monitor.wait();

    assert_eq!(
        read.expect("the key is read although the daemon died"),
        Some(stored)
    );
    assert_ne!(keyring_daemon_pid(), daemon, "a new daemon answered");
}

/// The process that owns the Secret Service name on the session bus, asked of the bus.
fn keyring_daemon_pid() -> u32 {
    let output = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send runs");
    let reply = String::from_utf8_lossy(&output.stdout);
    reply
        .split_whitespace()
        .skip_while(|word| *word != "uint32")
        .nth(1)
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no Secret Service on the session bus: {reply}"))
}

/// Sends `signal` (`STOP`, `KILL`, `TERM`) with the shell's `kill` builtin.
fn signal(pid: u32, signal: &str) {
    let status = Command::new("sh")
        .args(["-c", "kill -s \"$0\" \"$1\"", signal, &pid.to_string()])
        .status()
        .expect("sh runs");
    assert!(status.success(), "kill -s {signal} {pid} failed");
}

fn wait_for_line(lines: &mut impl Iterator<Item = std::io::Result<String>>, needle: &str) {
    for line in lines {
        if line.expect("dbus-monitor's output").contains(needle) {
            return;
        }
    }
    panic!("dbus-monitor ended (or timed out) before printing {needle:?}");
}
