//! `tandem sync` killed with SIGKILL at random moments, 100 times, while the coach keeps
//! registering clients; then one clean sync. Every client reaches the server exactly once
//! with its fields, each written once (nothing lost, nothing applied twice).
//!
//! The random moment is drawn from the sync cycle proper: from the first connection to the
//! server on. Before that, the process is reading its keys from the keyring, and
//! gnome-keyring-daemon (42.x in Debian 12, also later versions) aborts when a client dies
//! in the middle of opening a Secret Service session, failing the call in flight of every
//! other test in this process (Tandem asks such a call again, see
//! `tandem_store::key::retry_if_keyring_daemon_left`, but this test is about the sync).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value as Json;
use tandem_server::store::ServerStore;

use crate::TestStore;
use crate::sync_server::{PASSWORD, server};

/// A TCP relay to the test server that counts the connections made through it.
struct CountingRelay {
    base: String,
    connections: Arc<AtomicUsize>,
}

impl CountingRelay {
    fn to(upstream: &str) -> CountingRelay {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// base")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        CountingRelay { base, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn tandem(store: &TestStore, args: &[&str]) -> Command {
    let mut command = store.command(args);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

#[test]
fn a_sync_killed_at_random_moments_a_hundred_times_loses_and_duplicates_nothing() {
    let server = server();
    let team = server.new_team();
    let a = TestStore::new();
    a.ok(&["init"]);
    let relay = CountingRelay::to(&server.base);
    let login = a.login_at(&relay.base, &team.coach, PASSWORD);
    assert!(login.status.success(), "{login:?}");
    let lines: String = (0..300)
        .map(|i| format!("{{\"given_name\": \"Bulk{i}\", \"nickname\": \"b{i}\"}}\n"))
        .collect();
    let mut import = a
        .command(&["client", "import"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    import
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    assert!(import.wait().unwrap().success());

    let mut rng = StdRng::seed_from_u64(0x5161_4b11);
    let mut expected = 300;
    let mut killed_running = 0;
    for round in 0..100 {
        if round % 4 == 0 {
            a.ok(&["client", "add", "--given-name", &format!("Live{round}")]);
            expected += 1;
        }
        let connections_before = relay.connections();
        let mut child = tandem(&a, &["sync"]).spawn().unwrap();
        // Wait for the cycle to reach the server (see the module comment), then a random
        // moment: during or (rarely) after the cycle.
        let started = Instant::now();
        while relay.connections() == connections_before
            && child.try_wait().unwrap().is_none()
            && started.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(
        killed_running >= 50,
        "only {killed_running} of 100 syncs were still running when killed"
    );
    let report = a.json(&["sync"]);
    assert_eq!(report["pending_after"], 0, "{report}");

    let b = TestStore::new();
    b.ok(&["init"]);
    b.login(server, &team.lead);
    b.json(&["sync"]);
    let clients = b.json(&["client", "list"]);
    let clients = clients.as_array().unwrap();
    assert_eq!(clients.len(), expected);
    for client in clients {
        let id: uuid::Uuid = client["id"].as_str().unwrap().parse().unwrap();
        for field in ["given_name", "nickname"] {
            if field == "nickname" && client["nickname"] == Json::Null {
                continue;
            }
            let history = server
                .runtime
                .block_on(server.store.field_history(team.id, id, field))
                .unwrap();
            assert_eq!(
                history.len(),
                1,
                "{field} of {id} written {} times",
                history.len()
            );
        }
    }
    assert_eq!(
        a.json(&["client", "list"]).as_array().unwrap().len(),
        expected
    );
}
