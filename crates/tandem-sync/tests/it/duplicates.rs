//! A team lead's duplicate clients against the real server: the candidate pair, a merge
//! that shows on the lead's laptop at once and on a coach's laptop after its pull (the
//! duplicate hidden, its contacts under the survivor, opening it leads to the survivor), the
//! undo, dismissing, and coaches refused.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use tandem_domain::{Entity, RecordId};
use tandem_sync::SyncError;
use tandem_sync::duplicates::{
    dismiss_duplicate, duplicate_candidates, duplicate_merges, merge_duplicate,
    undo_duplicate_merge,
};

use crate::device::TestDevice;
use crate::server::shared;

fn add_contact(device: &mut TestDevice, client: RecordId) {
    let input: BTreeMap<String, Json> = serde_json::from_value(json!({
        "client_id": client.to_string(),
        "occurred_at": "2026-01-14T10:00:00+02:00",
    }))
    .unwrap();
    let at = device.edit_context();
    device
        .store
        .create_record(Entity::Contact, &input, at)
        .unwrap();
}

fn listed(device: &TestDevice) -> Vec<RecordId> {
    device
        .store
        .list_clients(false)
        .unwrap()
        .iter()
        .map(|c| c.id())
        .collect()
}

#[test]
fn a_merge_by_the_team_lead_reaches_a_coachs_laptop_and_its_undo_too() {
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut other = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let survivor = coach
        .create_client(json!({"given_name": "Olga", "family_name": "Ivanova", "birth_year": 1972}));
    add_contact(&mut coach, survivor);
    let duplicate = other.create_client(
        json!({"given_name": "Ольга", "family_name": "Иванова", "birth_year": 1972}),
    );
    add_contact(&mut other, duplicate);
    add_contact(&mut other, duplicate);
    coach.sync(server);
    other.sync(server);
    coach.sync(server);
    lead.sync(server);
    assert_eq!(listed(&coach).len(), 2);

    let rt = &server.runtime;
    let refused = rt
        .block_on(duplicate_candidates(&mut coach.store, &coach.transport))
        .unwrap_err();
    assert!(
        matches!(refused, SyncError::Forbidden { .. }),
        "{refused:?}"
    );
    let candidates = rt
        .block_on(duplicate_candidates(&mut lead.store, &lead.transport))
        .unwrap();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    assert_eq!(
        (candidates[0].first.id, candidates[0].second.id),
        (*survivor.as_uuid(), *duplicate.as_uuid())
    );

    let merge = rt
        .block_on(merge_duplicate(
            &mut lead.store,
            &lead.transport,
            &lead.clock,
            *survivor.as_uuid(),
            *duplicate.as_uuid(),
        ))
        .unwrap();
    assert_eq!(merge.contact_ids.len(), 2);
    // On the lead's laptop at once, and not as a local edit.
    assert_eq!(listed(&lead), vec![survivor]);
    assert_eq!(lead.store.contacts_of_client(survivor).unwrap().len(), 3);
    assert_eq!(lead.store.pending_count().unwrap(), 0);
    // On the coach's laptop after its pull.
    coach.sync(server);
    assert_eq!(listed(&coach), vec![survivor]);
    assert_eq!(coach.store.contacts_of_client(survivor).unwrap().len(), 3);
    assert_eq!(
        coach
            .store
            .surviving_client(duplicate)
            .unwrap()
            .unwrap()
            .id(),
        survivor
    );
    assert_eq!(
        coach.value(duplicate, "merged_into"),
        Some(json!(survivor.to_string()))
    );
    assert!(
        rt.block_on(duplicate_candidates(&mut lead.store, &lead.transport))
            .unwrap()
            .is_empty()
    );

    // Merging again is refused with the server's reason; nothing changes.
    let again = rt
        .block_on(merge_duplicate(
            &mut lead.store,
            &lead.transport,
            &lead.clock,
            *survivor.as_uuid(),
            *duplicate.as_uuid(),
        ))
        .unwrap_err();
    assert!(
        matches!(&again, SyncError::Server { status: 409, message, .. } if message.contains("merged")),
        "{again:?}"
    );

    // The undo, listed among the merges, brings both back everywhere.
    let merges = rt
        .block_on(duplicate_merges(&mut lead.store, &lead.transport))
        .unwrap();
    assert_eq!(merges[0].id, merge.id);
    let undone = rt
        .block_on(undo_duplicate_merge(
            &mut lead.store,
            &lead.transport,
            &lead.clock,
            merge.id,
        ))
        .unwrap();
    assert!(undone.undone_at.is_some());
    assert_eq!(listed(&lead).len(), 2);
    coach.sync(server);
    assert_eq!(listed(&coach).len(), 2);
    assert_eq!(coach.store.contacts_of_client(duplicate).unwrap().len(), 2);
    assert_eq!(coach.store.contacts_of_client(survivor).unwrap().len(), 1);

    // Not the same person after all: dismissed, never proposed again.
    rt.block_on(dismiss_duplicate(
        &mut lead.store,
        &lead.transport,
        *duplicate.as_uuid(),
        *survivor.as_uuid(),
    ))
    .unwrap();
    assert!(
        rt.block_on(duplicate_candidates(&mut lead.store, &lead.transport))
            .unwrap()
            .is_empty()
    );
}
