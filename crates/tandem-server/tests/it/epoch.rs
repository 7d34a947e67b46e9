//! Database epochs on both backends (docs/protocol.md, "Epochs"): answers carry the epoch; a
//! new one starts its seqs far above the old ones; a change based on a seq the restore lost
//! is concurrent with what stands, so its field's policy decides.

use serde_json::json;
use tandem_protocol::{ChangeStatus, ConflictStatus};
use tandem_server::clock::Clock;

use crate::harness::*;

both_backends!(a_change_based_on_a_seq_lost_in_a_restore_goes_to_its_fields_policy);
async fn a_change_based_on_a_seq_lost_in_a_restore_goes_to_its_fields_policy(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let (client, versions) = create_client(
        &server,
        &coach,
        &[
            ("given_name", json!("Hodan")),
            ("nickname", json!("Ho")),
            ("tags", json!(["a"])),
        ],
    )
    .await;
    let first = server.pull(&coach, 0, 100).await.epoch.unwrap();
    assert_eq!((first.start_seq, first.restored_seq), (1, 0));
    assert_eq!(first.previous_id, None);

    let now = server.clock.now();
    let rotated = server.store.rotate_epoch(now).await.unwrap();
    let highest = *versions.iter().max().unwrap();
    assert_eq!(rotated.restored_seq, highest);
    assert_eq!(
        rotated.start_seq,
        u64::try_from(now.timestamp_micros()).unwrap(),
        "a new epoch starts at the time of the restore, in microseconds"
    );
    let page = server.pull(&coach, 0, 100).await;
    let epoch = page.epoch.unwrap();
    assert_eq!(epoch.id, rotated.id);
    assert_eq!(epoch.previous_id, Some(first.id));

    // Three changes based on a seq handed out before the restore and lost with it.
    let lost = highest + 7;
    let results = server
        .push(
            &coach,
            vec![
                change(
                    &coach,
                    "client",
                    client,
                    "given_name",
                    json!("Hodon"),
                    lost,
                    NOW_MS,
                ),
                change(
                    &coach,
                    "client",
                    client,
                    "nickname",
                    json!("Hodi"),
                    lost,
                    NOW_MS,
                ),
                change(&coach, "client", client, "tags", json!(["b"]), lost, NOW_MS),
            ],
        )
        .await;
    assert_eq!(results[0].status, ChangeStatus::Conflict, "{results:?}");
    assert_eq!(results[1].status, ChangeStatus::Conflict, "{results:?}");
    assert_eq!(results[2].status, ChangeStatus::Merged, "{results:?}");
    assert_eq!(
        results[2].value,
        json!(["a", "b"]),
        "a set keeps both sides"
    );
    for result in &results {
        assert!(result.version >= rotated.start_seq, "{result:?}");
    }
    let conflicts = server
        .store
        .list_conflicts(server.team("north"), true)
        .await
        .unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, "given_name");
    assert_eq!(conflicts[0].status, ConflictStatus::Open);

    // A change based on a seq of the new epoch is an ordinary write.
    let results = server
        .push(
            &coach,
            vec![change(
                &coach,
                "client",
                client,
                "nickname",
                json!("H"),
                results[1].version,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(results[0].status, ChangeStatus::Applied, "{results:?}");
}
