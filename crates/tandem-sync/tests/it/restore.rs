//! The server restored from a backup while laptops synced after it: every change the server
//! acknowledged after the backup comes back from the laptops' journals, a fresh laptop sees
//! it all, a concurrent edit of a review field across the restore waits in review, and
//! nothing arrives twice (docs/protocol.md, "Epochs").

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde_json::json;
use tandem_server::clock::{Clock, SystemClock};
use tandem_server::store::{ServerStore, SqliteStore};
use tandem_store::EditContext;
use tandem_sync::{HttpTransport, TransportSettings};
use uuid::Uuid;

use crate::device::{TestDevice, temp_dir};
use crate::server::{self, SharedServer, TestTeam};

/// Points a laptop at the restored server (a new port; the same token, which the backup has).
fn reconnect(device: &mut TestDevice, server: &SharedServer) {
    device.transport = HttpTransport::new(
        &server.base,
        Some(device.token.clone()),
        TransportSettings::default(),
    )
    .unwrap();
}

/// Every change id the server keeps in a field's history, by change id (counted).
fn server_change_ids(
    server: &SharedServer,
    team: &TestTeam,
    device: &TestDevice,
) -> BTreeMap<Uuid, usize> {
    let mut ids = BTreeMap::new();
    let fields: Vec<(Uuid, String)> = device
        .seen
        .values()
        .map(|change| (change.record_id, change.field.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for (record_id, field) in fields {
        let history = server
            .runtime
            .block_on(server.store.field_history(team.id, record_id, &field))
            .unwrap();
        for entry in history {
            *ids.entry(entry.change_id).or_default() += 1;
        }
    }
    ids
}

#[test]
fn after_a_restore_laptops_push_again_what_the_backup_lacks_and_a_fresh_laptop_sees_it_all() {
    let dir = temp_dir();
    let database = dir.path().join("tandem-server.db");
    let backup = dir.path().join("backup.db");
    let server = server::serve(SqliteStore::open(&database).unwrap());
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(&server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(&server, &team, &team.lead, 0);
    let anna =
        coach.create_client(json!({"given_name": "Anna", "tags": ["a"], "phone": "0401111111"}));
    coach.sync(&server);
    // A laptop that writes after the backup and is then lost for good.
    let mut gone = TestDevice::sign_in(&server, &team, &team.coach, 0);
    gone.sync(&server);
    // A laptop whose offline edit of the phone loses, after the backup, to a later one made
    // before it: its own write goes to history and review, at a seq the restore loses.
    let mut late = TestDevice::sign_in(&server, &team, &team.coach, 0);
    late.sync(&server);
    late.edit_client(anna, json!({"phone": "0403333333"}));
    let later = EditContext::at(SystemClock.now() + TimeDelta::seconds(2));
    coach.edit_client_at(anna, json!({"phone": "0402222222"}), later);
    coach.sync(&server);
    lead.sync(&server);
    server
        .runtime
        .block_on(server.store.backup_to(&backup))
        .unwrap();

    // After the backup: both laptops write, the server acknowledges, both pull everything.
    coach.edit_client(anna, json!({"given_name": "Anni", "nickname": "Ann"}));
    let bertta = coach.create_client(json!({"given_name": "Bertta"}));
    let cecilia = lead.create_client(json!({"given_name": "Cecilia", "phone": "0401234567"}));
    gone.edit_client(anna, json!({"tags": ["a", "g"]}));
    gone.sync(&server);
    drop(gone);
    let report = late.sync(&server);
    assert_eq!(report.conflicts, 1);
    assert_eq!(
        late.value(anna, "phone"),
        Some(json!("+358402222222")),
        "the later edit stands"
    );
    coach.sync(&server);
    lead.sync(&server);
    coach.sync(&server);
    assert_eq!(coach.store.pending_count().unwrap(), 0);
    assert!(coach.store.journalled_count().unwrap() > 0);
    let cursor_before = lead.store.pull_cursor().unwrap();

    // The server dies and is restored from the backup.
    drop(server);
    let restored = SqliteStore::restore(&backup, &database, true, SystemClock.now()).unwrap();
    let server = server::serve(SqliteStore::open(&database).unwrap());
    reconnect(&mut coach, &server);
    reconnect(&mut lead, &server);
    reconnect(&mut late, &server);

    // Offline meanwhile, the lead edited the coach's client on top of the lost "Anni".
    lead.edit_client(anna, json!({"given_name": "Anne"}));

    let report = coach.sync(&server);
    assert!(report.requeued_after_restore > 0, "{report:?}");
    let report = lead.sync(&server);
    assert!(report.requeued_after_restore > 0, "{report:?}");
    assert!(
        restored.epoch.start_seq > cursor_before
            && lead.store.pull_cursor().unwrap() >= restored.epoch.start_seq,
        "the new epoch's seqs start above every seq handed out before the restore, and the \
         lead pulled them"
    );
    assert!(late.sync(&server).requeued_after_restore > 0);
    coach.sync(&server);
    lead.sync(&server);
    late.sync(&server);

    // Every change any laptop ever had acknowledged is on the server, once.
    for device in [&coach, &lead, &late] {
        let on_server = server_change_ids(&server, &team, device);
        for change in device.seen.values() {
            assert_eq!(
                on_server.get(&change.change_id),
                Some(&1),
                "{} of {}: {:?}",
                change.field,
                change.record_id,
                change.value
            );
        }
    }

    // The lead's "Anne" was based on "Anni", a value the restore lost: concurrent with it, so
    // the review field waits for a team lead instead of silently taking either.
    let conflicts = server
        .runtime
        .block_on(server.store.list_conflicts(team.id, true))
        .unwrap();
    let given_name: Vec<_> = conflicts
        .iter()
        .filter(|c| c.record_id == *anna.as_uuid() && c.field == "given_name")
        .collect();
    assert_eq!(given_name.len(), 1, "{conflicts:?}");
    let values: Vec<_> = given_name[0]
        .values
        .iter()
        .map(|v| v.value.clone())
        .collect();
    assert!(values.contains(&json!("Anne")), "{values:?}");
    // The phone that lost before the restore is in review again.
    let phone: Vec<_> = conflicts
        .iter()
        .filter(|c| c.record_id == *anna.as_uuid() && c.field == "phone")
        .collect();
    assert_eq!(phone.len(), 1, "{conflicts:?}");
    assert!(
        phone[0]
            .values
            .iter()
            .any(|v| v.value == json!("+358403333333")),
        "{phone:?}"
    );

    // A fresh laptop sees every record and the same values as those that were there.
    let mut fresh = TestDevice::sign_in(&server, &team, &team.coach, 0);
    fresh.sync(&server);
    for id in [anna, bertta, cecilia] {
        assert!(fresh.value(id, "given_name").is_some(), "{id:?}");
    }
    assert_eq!(fresh.value(anna, "nickname"), Some(json!("Ann")));
    assert_eq!(fresh.value(cecilia, "phone"), Some(json!("+358401234567")));
    // The lost laptop's tags are gone from the server; the laptops that had pulled them show
    // the server's value again (theirs stays in their history), once per version.
    assert_eq!(fresh.value(anna, "tags"), Some(json!(["a"])));
    let values = fresh.store.all_field_values().unwrap();
    for device in [&coach, &lead, &late] {
        assert_eq!(device.store.all_field_values().unwrap(), values);
        for field in ["given_name", "tags", "nickname"] {
            let history = device
                .store
                .field_history("client", *anna.as_uuid(), field)
                .unwrap();
            let versions: Vec<_> = history
                .iter()
                .filter(|row| row.origin == "server")
                .map(|row| row.version)
                .collect();
            let distinct: std::collections::BTreeSet<_> = versions.iter().collect();
            assert_eq!(versions.len(), distinct.len(), "{field}: {history:?}");
        }
        let tags = device
            .store
            .field_history("client", *anna.as_uuid(), "tags")
            .unwrap();
        assert!(
            tags.iter().any(|row| row.value == r#"["a","g"]"#),
            "{tags:?}"
        );
    }
}
