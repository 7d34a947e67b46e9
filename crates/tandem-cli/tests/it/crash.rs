//! A process killed with SIGKILL in the middle of a burst of writes leaves a store that
//! opens, holds every write it acknowledged with its outbox rows, and no half-written record.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::TestStore;

/// Fields of each imported client that are not empty, and so queued once each.
const FIELDS_PER_CLIENT: u64 = 4;

fn kill_import_after(store: &TestStore, acknowledged_before_kill: usize) -> BTreeSet<String> {
    let mut child = store
        .command(&["client", "import"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tandem client import");
    // Read on a thread of its own, so that a full pipe never stalls the import; it says why
    // an import ended before its kill.
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut stdin = child.stdin.take().unwrap();
    // Feed far more clients than will be written before the kill.
    let feeder = std::thread::spawn(move || {
        for i in 0..100_000 {
            let line = format!(
                "{{\"given_name\": \"Burst{i}\", \"family_name\": \"Writer\", \"birth_year\": 1990, \"languages\": [\"ar\", \"fi\"]}}\n"
            );
            if stdin.write_all(line.as_bytes()).is_err() {
                break; // The child is gone.
            }
        }
    });
    let mut acknowledged = BTreeSet::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acknowledged.len() < acknowledged_before_kill {
        let Some(id) = lines.next() else {
            let status = child.wait().unwrap();
            panic!(
                "the import ended ({status}) after acknowledging {} of the {acknowledged_before_kill} \
                 ids awaited: {}",
                acknowledged.len(),
                stderr.join().unwrap()
            );
        };
        let id = id.expect("readable output");
        acknowledged.insert(id);
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    // Ids printed between our last read and the kill were acknowledged too.
    for line in lines.map_while(Result::ok) {
        acknowledged.insert(line);
    }
    feeder.join().unwrap();
    let _ = stderr.join();
    acknowledged
}

#[test]
fn a_store_killed_mid_burst_keeps_every_acknowledged_write_and_no_half_record() {
    let store = TestStore::new();
    store.ok(&["init"]);
    let mut acknowledged = BTreeSet::new();
    for kill_after in [1, 7, 30, 3, 60] {
        acknowledged.extend(kill_import_after(&store, kill_after));

        let listed = store.json(&["client", "list"]);
        let clients = listed.as_array().unwrap();
        let stored: BTreeSet<String> = clients
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            acknowledged.is_subset(&stored),
            "an acknowledged client was lost"
        );
        // At most the one write in flight at the kill may have committed unacknowledged.
        assert!(
            stored.len() <= acknowledged.len() + 5,
            "more clients than were written"
        );
        for client in clients {
            assert_eq!(
                client["family_name"], "Writer",
                "half-written client {client}"
            );
            assert_eq!(client["birth_year"], 1990, "half-written client {client}");
            assert_eq!(
                client["languages"],
                serde_json::json!(["ar", "fi"]),
                "half-written client {client}"
            );
        }
        assert_eq!(
            store.pending(),
            FIELDS_PER_CLIENT * stored.len() as u64,
            "outbox rows do not match the records"
        );
    }
}
