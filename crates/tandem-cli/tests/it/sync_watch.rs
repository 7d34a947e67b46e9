//! `tandem sync --watch` against a real server: it sends what another `tandem` process saves
//! on the laptop and brings what other laptops sent, says when the server is gone and syncs
//! as soon as it answers again, stops cleanly on SIGTERM, ends with an error when a failure
//! needs a person (a revoked device), and keeps retrying, slowly, when the server's address
//! answers 404 (a proxy while the server behind it restarts).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tandem_server::store::ServerStore;

use crate::TestStore;
use crate::relay::Relay;
use crate::sync_server::{PASSWORD, server, start_server};

/// How long the test waits for an expected line or exit: far longer than a sync takes here;
/// only a broken watch makes the test wait this long (and then fail, not hang).
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `tandem --json sync --watch`, its lines as they come, and its end.
struct Watch {
    pid: u32,
    lines: mpsc::Receiver<Json>,
    exit: mpsc::Receiver<(ExitStatus, String)>,
    seen: Vec<Json>,
    ended: bool,
}

impl Watch {
    fn start(store: &TestStore, interval: &str) -> Self {
        let mut child = store
            .command(&["--json", "sync", "--watch", "--interval", interval])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tandem sync --watch");
        let stdout = child.stdout.take().expect("stdout piped");
        let (line_sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Json::String(line));
                if line_sender.send(value).is_err() {
                    break;
                }
            }
        });
        let (exit_sender, exit) = mpsc::channel();
        let pid = child.id();
        std::thread::spawn(move || {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let status = child.wait().expect("wait for tandem sync --watch");
            let _ = exit_sender.send((status, stderr));
        });
        Self {
            pid,
            lines,
            exit,
            seen: Vec::new(),
            ended: false,
        }
    }

    /// The next line that `wanted` accepts (other cycles may come before it).
    fn until(&mut self, what: &str, wanted: impl Fn(&Json) -> bool) -> Json {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "tandem sync --watch printed no line with {what} within {PATIENCE:?}; \
                     it printed {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits for the watch to end by itself; its exit status, the lines it printed since the
    /// last one taken, and its standard error.
    fn end(mut self) -> (ExitStatus, Vec<Json>, String) {
        let (status, stderr) = self
            .exit
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("tandem sync --watch did not end within {PATIENCE:?}"));
        self.ended = true;
        // The reader ends at the end of the output, which the exit came before.
        let mut rest = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => rest.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the output of tandem sync --watch did not end")
                }
            }
        }
        (status, rest, stderr)
    }

    /// Stops the watch as a service manager would (SIGTERM), and waits for its end.
    fn terminate(self) -> (ExitStatus, Vec<Json>, String) {
        signal(self.pid, "-TERM");
        self.end()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.ended {
            signal(self.pid, "-KILL");
        }
    }
}

fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

fn pushed(line: &Json) -> u64 {
    line["report"]["pushed"].as_u64().unwrap_or(0)
}

#[test]
fn a_watch_sends_what_is_saved_brings_what_others_sent_and_stops_on_sigterm() {
    let server = server();
    let team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    laptop.login(server, &team.coach);
    let other = TestStore::new();
    other.ok(&["init"]);
    other.login(server, &team.lead);

    // An hour between timed syncs: every sync after the first is the watch's own doing.
    let mut watch = Watch::start(&laptop, "3600");
    watch.until("a first sync", |line| line["report"].is_object());

    let bea = other.ok(&["client", "add", "--given-name", "Bea"]);
    other.ok(&["sync"]);
    // Saved by another process: the watch notices the outbox grow and syncs within seconds.
    laptop.ok(&["client", "add", "--given-name", "Aino"]);
    let line = watch.until("the saved client sent", |line| pushed(line) > 0);
    assert!(line["at"].is_string(), "{line}");
    assert!(
        line["report"]["new_records"].as_u64() >= Some(1),
        "the same sync brought the other laptop's client: {line}"
    );
    assert_eq!(laptop.pending(), 0);
    laptop.ok(&["client", "show", bea.trim()]);
    other.ok(&["sync"]);
    assert!(other.ok(&["client", "search", "aino"]).contains("Aino"));

    let (status, rest, stderr) = watch.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(
        rest.last().map(|line| &line["stopped"]),
        Some(&Json::Bool(true))
    );
}

#[test]
fn a_watch_waits_for_a_server_that_is_gone_syncs_when_it_answers_and_ends_when_revoked() {
    let server = start_server(None);
    let team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    let login = laptop.login(&server, &team.coach);
    let device: uuid::Uuid = login["device_id"].as_str().unwrap().parse().unwrap();
    let mut watch = Watch::start(&laptop, "3600");
    watch.until("a first sync", |line| line["report"].is_object());

    let stopped = server.stop();
    laptop.ok(&["client", "add", "--given-name", "Offline"]);
    let line = watch.until("the server gone", |line| line["error"]["kind"] == "offline");
    assert!(
        line["next_attempt_at"].is_string(),
        "a timed retry besides the probe: {line}"
    );
    assert_eq!(laptop.pending(), 1, "the change waits in the outbox");

    let server = stopped.restart();
    watch.until("the change sent once the server answers", |line| {
        pushed(line) > 0
    });
    assert_eq!(laptop.pending(), 0);

    server
        .runtime
        .block_on(server.store.revoke_device(device))
        .unwrap();
    laptop.ok(&["client", "add", "--given-name", "Lost"]);
    let (status, _, stderr) = watch.end();
    assert!(!status.success(), "a revoked device ends the watch");
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(stderr.contains("1 unsent change"), "{stderr}");
    assert!(!laptop.db_path().exists(), "the store file is gone");
}

#[test]
fn a_watch_that_finds_another_sync_running_tries_again_later() {
    let server = server();
    let team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    laptop.login(server, &team.coach);
    // Another process syncing this store (the desktop app, `tandem sync`) holds the lock.
    let held = tandem_sync::SyncLock::try_acquire(&laptop.data_dir()).unwrap();
    let mut watch = Watch::start(&laptop, "3600");
    let line = watch.until("the lock found taken", |line| {
        line["error"]["kind"] == "already_running"
    });
    assert!(line["next_attempt_at"].is_string(), "{line}");
    drop(held);
    watch.until("a sync once the lock is free", |line| {
        line["report"].is_object()
    });
    let (status, _, stderr) = watch.terminate();
    assert!(status.success(), "{status}: {stderr}");
}

fn time_of(line: &Json, key: &str) -> chrono::DateTime<chrono::Utc> {
    line[key]
        .as_str()
        .and_then(|at| at.parse().ok())
        .unwrap_or_else(|| panic!("no time at {key}: {line}"))
}

#[test]
fn a_watch_answered_404_says_to_check_the_address_and_keeps_retrying_slowly() {
    let server = server();
    let team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    let proxy = Relay::to(&server.base);
    let login = laptop.login_at(&proxy.base, &team.coach, PASSWORD);
    assert!(login.status.success(), "{login:?}");
    proxy.misroute();

    let mut watch = Watch::start(&laptop, "3600");
    let line = watch.until("the address named as the problem", |line| {
        line["error"]["kind"] == "wrong_server_address"
    });
    // Not parked: a server restarting behind its proxy answers 404 for a moment, and every
    // laptop must come back by itself; but slowly, at the longest backoff (7.5 to 15 minutes
    // with the jitter), since it may as well be a wrong address that only a person can fix.
    let wait = time_of(&line, "next_attempt_at") - time_of(&line, "at");
    assert!(
        wait >= chrono::TimeDelta::seconds(450) && wait <= chrono::TimeDelta::seconds(900),
        "{line}"
    );
    let (status, rest, stderr) = watch.terminate();
    assert!(
        status.success(),
        "still watching until stopped: {status}: {stderr}"
    );
    assert_eq!(
        rest.last().map(|line| &line["stopped"]),
        Some(&Json::Bool(true))
    );
}
