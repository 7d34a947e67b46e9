//! Two server instances on one database serving the same team, the way a city deployment
//! grows past one machine: devices push through both at once, and what any device pulls is
//! one sequence in which every committed change appears exactly once, in seq order, with no
//! seq skipped. On PostgreSQL the instances are two connection pools; on SQLite two
//! connections to one file.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::json;
use tandem_protocol::{ChangeIn, ChangeResult, ChangeStatus, PullResponse, PulledChange};
use uuid::Uuid;

use crate::harness::*;

/// Devices pushing at once (coach_a twice: two laptops of one coach).
const PUSHING_USERS: [&str; 4] = ["coach_a", "coach_b", "lead_n", "coach_a"];
/// Batches each device pushes, alternating between the instances.
const BATCHES: usize = 12;
/// New clients in each batch; every batch also adds one tag to the shared client.
const NEW_CLIENTS_PER_BATCH: usize = 8;
/// A bound on the racing puller's requests; past it, it waits for the pushes to end.
const MAX_RACING_PULLS: usize = 5_000;

struct TwoInstances {
    instances: [Arc<TestServer>; 2],
    devices: Vec<Device>,
    /// A client whose `tags` (a set field) every batch adds one tag to.
    shared_client: Uuid,
}

async fn two_instances(backend: Backend) -> TwoInstances {
    let first = start(backend).await;
    let second = first.another_instance().await;
    let instances = [Arc::new(first), Arc::new(second)];
    let mut devices = Vec::new();
    // Log in through alternating instances: a device registered by one works on the other.
    for (i, user) in PUSHING_USERS.iter().enumerate() {
        devices.push(instances[i % 2].login(user).await);
    }
    let (shared_client, _) = create_client(
        &instances[0],
        &devices[0],
        &[("given_name", json!("Ayaan"))],
    )
    .await;
    TwoInstances {
        instances,
        devices,
        shared_client,
    }
}

fn tag(device: usize, batch: usize) -> String {
    format!("d{device}-b{batch}")
}

/// Every device pushes its batches from its own task, through instance (device + batch) % 2,
/// all at once. Returns every change with its result.
async fn push_from_every_device_through_both(
    setup: &TwoInstances,
) -> Vec<(ChangeIn, ChangeResult)> {
    let mut tasks = Vec::new();
    for (d, device) in setup.devices.iter().enumerate() {
        let (instances, device) = (setup.instances.clone(), device.clone());
        let shared_client = setup.shared_client;
        tasks.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            for b in 0..BATCHES {
                let mut batch: Vec<ChangeIn> = (0..NEW_CLIENTS_PER_BATCH)
                    .map(|i| {
                        change(
                            &device,
                            "client",
                            Uuid::now_v7(),
                            "given_name",
                            json!(format!("Client {d}-{b}-{i}")),
                            0,
                            NOW_MS,
                        )
                    })
                    .collect();
                // Base version 0: the device never pulled the shared client's tags, so each
                // addition is concurrent with the others and must be merged, never lost.
                batch.push(change(
                    &device,
                    "client",
                    shared_client,
                    "tags",
                    json!([tag(d, b)]),
                    0,
                    NOW_MS,
                ));
                let results = instances[(d + b) % 2].push(&device, batch.clone()).await;
                answered.extend(batch.into_iter().zip(results));
            }
            answered
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

fn assert_one_sequence(pulled: &[PulledChange]) {
    for pair in pulled.windows(2) {
        assert!(
            pair[0].seq < pair[1].seq,
            "seqs not strictly increasing: {} then {}",
            pair[0].seq,
            pair[1].seq
        );
    }
    let ids: BTreeSet<Uuid> = pulled.iter().map(|c| c.change_id).collect();
    assert_eq!(ids.len(), pulled.len(), "a change was pulled twice");
}

both_backends!(
    multi_thread: pushes_through_two_instances_at_once_give_one_gap_free_sequence_and_lose_no_concurrent_set_addition
);
async fn pushes_through_two_instances_at_once_give_one_gap_free_sequence_and_lose_no_concurrent_set_addition(
    backend: Backend,
) {
    let setup = two_instances(backend).await;
    let answered = push_from_every_device_through_both(&setup).await;
    let [first, second] = &setup.instances;

    let pulled = second.pull_all(&setup.devices[1]).await;
    assert_one_sequence(&pulled);
    assert_eq!(pulled, first.pull_all(&setup.devices[2]).await);
    let by_seq: HashMap<u64, &PulledChange> = pulled.iter().map(|c| (c.seq, c)).collect();

    // Every accepted change is in the feed once, at the seq its push was told.
    let mut answered_seqs = BTreeSet::new();
    for (sent, result) in &answered {
        assert!(
            matches!(result.status, ChangeStatus::Applied | ChangeStatus::Merged),
            "{result:?}"
        );
        assert!(
            answered_seqs.insert(result.version),
            "seq {} given twice",
            result.version
        );
        let found = by_seq
            .get(&result.version)
            .unwrap_or_else(|| panic!("seq {} is not pulled", result.version));
        assert_eq!(found.value, result.value);
        if result.status == ChangeStatus::Applied {
            assert_eq!(found.change_id, sent.change_id);
        }
    }

    // No seq skipped: the seqs pulled and the history-only rows (the submitted side of each
    // merge) together are exactly 1..=max.
    let history = first
        .store
        .field_history(first.team("north"), setup.shared_client, "tags")
        .await
        .unwrap();
    let mut every_seq: Vec<u64> = pulled.iter().map(|c| c.seq).collect();
    every_seq.extend(history.iter().filter(|h| !h.effective).map(|h| h.seq));
    every_seq.sort_unstable();
    let max = *every_seq.last().unwrap();
    assert_eq!(every_seq, (1..=max).collect::<Vec<_>>());

    // The shared client's tags hold every device's every addition.
    let tags = pulled
        .iter()
        .rfind(|c| c.record_id == setup.shared_client && c.field == "tags")
        .unwrap();
    let expected: BTreeSet<String> = (0..PUSHING_USERS.len())
        .flat_map(|d| (0..BATCHES).map(move |b| tag(d, b)))
        .collect();
    let got: BTreeSet<String> = serde_json::from_value(tags.value.clone()).unwrap();
    assert_eq!(got, expected);
}

/// Takes one pulled page as a device would: stores its changes and moves the cursor.
/// Returns whether more wait.
fn follow(cursor: &mut u64, seen: &mut Vec<PulledChange>, page: PullResponse) -> bool {
    assert!(page.next >= *cursor, "the cursor went back");
    *cursor = page.next;
    seen.extend(page.changes);
    page.has_more
}

both_backends!(multi_thread: a_pull_racing_with_pushes_through_two_instances_never_skips_a_change);
async fn a_pull_racing_with_pushes_through_two_instances_never_skips_a_change(backend: Backend) {
    let setup = Arc::new(two_instances(backend).await);
    let reader = setup.instances[1].login("coach_b").await;
    let pushes = tokio::spawn({
        let setup = Arc::clone(&setup);
        async move { push_from_every_device_through_both(&setup).await }
    });

    // Pull like a device that syncs over and over while the others push: follow the cursor,
    // asking each instance in turn. A change that committed after a larger seq had been
    // pulled would fall behind the cursor and never be seen.
    let (mut cursor, mut seen, mut pulls) = (0, Vec::new(), 0);
    while !pushes.is_finished() && pulls < MAX_RACING_PULLS {
        let page = setup.instances[pulls % 2].pull(&reader, cursor, 50).await;
        follow(&mut cursor, &mut seen, page);
        pulls += 1;
    }
    let answered = pushes.await.unwrap();
    // Then catch up with what committed after the last racing pull.
    loop {
        let page = setup.instances[pulls % 2].pull(&reader, cursor, 50).await;
        pulls += 1;
        if !follow(&mut cursor, &mut seen, page) {
            break;
        }
    }

    assert_one_sequence(&seen);
    let full = setup.instances[0].pull_all(&reader).await;
    assert_eq!(seen.len(), full.len(), "the racing pull missed changes");
    assert_eq!(seen, full);
    let pulled_ids: BTreeSet<Uuid> = full.iter().map(|c| c.change_id).collect();
    for (sent, result) in answered {
        if result.status == ChangeStatus::Applied {
            assert!(pulled_ids.contains(&sent.change_id), "{result:?}");
        }
    }
}
