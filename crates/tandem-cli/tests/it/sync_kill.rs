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
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value as Json;
use tandem_server::store::ServerStore;

use crate::TestStore;
use crate::relay::Relay;
use crate::sync_server::{PASSWORD, server};

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
    let relay = Relay::to(&server.base);
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
