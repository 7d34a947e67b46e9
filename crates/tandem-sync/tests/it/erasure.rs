//! Erasure reaches every laptop: after its next sync a device holds no trace of an erased
//! client, checked through the decrypted store (every table, FTS5's shadow tables included,
//! after VACUUM) and in the raw file, whatever it held: history, a mirrored conflict, a
//! pending edit, a contact logged offline, and the rejections of both.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use tandem_domain::{Entity, RecordId};
use tandem_store::STORE_FILE_NAME;

use crate::device::TestDevice;
use crate::server::shared;

const MARKER: &str = "Zyxwvutsrq";

fn contact_for(device: &mut TestDevice, client: RecordId, summary: &str) -> RecordId {
    let fields: BTreeMap<String, Json> = serde_json::from_value(json!({
        "client_id": client.to_string(),
        "occurred_at": "2026-01-14T10:00:00+02:00",
        "channel": "drop_in",
        "summary": summary,
    }))
    .unwrap();
    let at = device.edit_context();
    device
        .store
        .create_record(Entity::Contact, &fields, at)
        .unwrap()
}

fn raw_file_holds(device: &TestDevice, needle: &str) -> bool {
    let dir = device.store.path().parent().unwrap().to_owned();
    [STORE_FILE_NAME, "tandem.db-wal"].iter().any(|name| {
        std::fs::read(dir.join(name)).is_ok_and(|bytes| {
            bytes
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        })
    })
}

#[test]
fn an_erased_client_leaves_no_trace_on_any_device_after_its_next_sync() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = a.create_client(json!({
        "given_name": MARKER, "family_name": format!("{MARKER}nen"),
        "notes": format!("{MARKER} asked about housing"),
    }));
    let other = a.create_client(json!({"given_name": "Amina"}));
    contact_for(&mut a, id, &format!("talked with {MARKER}"));
    a.sync(server);
    for round in 1..=3 {
        a.edit_client(id, json!({"given_name": format!("{MARKER}{round}")}));
        a.sync(server);
    }
    b.sync(server);
    // A conflict that the lead's laptop mirrors.
    a.edit_client(id, json!({"family_name": format!("{MARKER}-a")}));
    b.edit_client(id, json!({"family_name": format!("{MARKER}-b")}));
    a.sync(server);
    assert_eq!(b.sync(server).conflicts, 1);
    lead.sync(server);
    assert_eq!(lead.store.conflicts(false).unwrap().len(), 1);
    // Laptop b goes offline with an edit and a new contact for the client.
    b.edit_client(id, json!({"nickname": format!("{MARKER}-nick")}));
    contact_for(&mut b, id, &format!("{MARKER} came by again"));
    for device in [&a, &b, &lead] {
        assert!(
            !device.store.tables_containing(MARKER).unwrap().is_empty(),
            "the scan finds the name before the erasure"
        );
    }

    let erased = server.erase_client(&team, *id.as_uuid());
    assert_eq!(erased.len(), 2, "the client and its synced contact");

    for (name, device) in [("a", &mut a), ("b", &mut b), ("lead", &mut lead)] {
        let report = device.sync(server);
        assert!(report.purged_records >= 2, "{name}: {report:?}");
        device.store.vacuum().unwrap();
        assert_eq!(
            device.store.tables_containing(MARKER).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        assert!(!raw_file_holds(device, MARKER), "{name}");
        assert!(
            device
                .store
                .search_clients(&MARKER.to_lowercase())
                .unwrap()
                .is_empty()
        );
        assert!(device.store.record(Entity::Client, id).unwrap().is_none());
        assert!(
            device
                .store
                .record(Entity::Client, other)
                .unwrap()
                .is_some()
        );
        assert_eq!(device.store.pending_count().unwrap(), 0, "{name}");
        assert!(
            device.store.rejected_changes().unwrap().is_empty(),
            "{name}"
        );
        assert!(device.store.conflicts(true).unwrap().is_empty(), "{name}");
        // The next cycle has nothing left to do about it.
        let again = device.sync(server);
        assert_eq!(again.purged_records, 0, "{name}");
    }
}

fn edit_contact(device: &mut TestDevice, contact: RecordId, fields: Json) {
    let input: BTreeMap<String, Json> = serde_json::from_value(fields).unwrap();
    let at = device.edit_context();
    device
        .store
        .edit_record(Entity::Contact, contact, &input, at)
        .unwrap();
}

fn contact_field(device: &TestDevice, contact: RecordId, field: &str) -> Option<Json> {
    device
        .store
        .field_state("contact", *contact.as_uuid(), field)
        .unwrap()
        .map(|state| serde_json::from_str(&state.value).unwrap())
}

/// A contact logged for the wrong client and corrected names the erased client only in what
/// each laptop remembers of it (the history, the journal of acknowledged changes): the
/// server keeps it as the other client's, and so must every laptop, with an edit made
/// offline meanwhile.
#[test]
fn a_contact_corrected_away_from_an_erased_client_stays_on_every_laptop_with_its_edits() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let wrong = a.create_client(json!({"given_name": MARKER}));
    let right = a.create_client(json!({"given_name": "Amina"}));
    let contact = contact_for(&mut a, wrong, "talked about the flat");
    a.sync(server);
    edit_contact(&mut a, contact, json!({"client_id": right.to_string()}));
    a.sync(server);
    b.sync(server);
    lead.sync(server);
    edit_contact(
        &mut b,
        contact,
        json!({"summary": "talked about the flat and the job"}),
    );

    let erased = server.erase_client(&team, *wrong.as_uuid());
    assert_eq!(erased.len(), 1, "the server keeps the corrected contact");

    for (name, device) in [("b", &mut b), ("a", &mut a), ("lead", &mut lead)] {
        device.sync(server);
        assert!(
            device
                .store
                .record(Entity::Client, wrong)
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert_eq!(
            contact_field(device, contact, "client_id"),
            Some(json!(right.to_string())),
            "{name}"
        );
        assert_eq!(
            contact_field(device, contact, "summary"),
            Some(json!("talked about the flat and the job")),
            "{name}"
        );
        assert_eq!(device.store.contacts_of_client(right).unwrap().len(), 1);
        assert_eq!(device.store.pending_count().unwrap(), 0, "{name}");
        assert_eq!(
            device.store.tables_containing(MARKER).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

/// A merge undone leaves the duplicate's `merged_into` and its contacts' `client_id` naming
/// the survivor in the history only: erasing the survivor keeps the duplicate and its
/// contacts, on the server and on every laptop.
#[test]
fn erasing_a_client_keeps_the_duplicate_whose_merge_into_it_was_undone_and_its_contacts() {
    use tandem_sync::duplicates::{merge_duplicate, undo_duplicate_merge};
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let survivor = coach
        .create_client(json!({"given_name": MARKER, "family_name": "Ivanova", "birth_year": 1972}));
    let duplicate = coach
        .create_client(json!({"given_name": "Olga", "family_name": "Ivanova", "birth_year": 1972}));
    let contact = contact_for(&mut coach, duplicate, "came about the course");
    coach.sync(server);
    lead.sync(server);
    let rt = &server.runtime;
    let merge = rt
        .block_on(merge_duplicate(
            &mut lead.store,
            &lead.transport,
            &lead.clock,
            *survivor.as_uuid(),
            *duplicate.as_uuid(),
        ))
        .unwrap();
    rt.block_on(undo_duplicate_merge(
        &mut lead.store,
        &lead.transport,
        &lead.clock,
        merge.id,
    ))
    .unwrap();
    coach.sync(server);
    lead.sync(server);
    assert_eq!(coach.store.contacts_of_client(duplicate).unwrap().len(), 1);

    let erased = server.erase_client(&team, *survivor.as_uuid());
    assert_eq!(
        erased.len(),
        1,
        "the server keeps the duplicate and its contact"
    );

    for (name, device) in [("coach", &mut coach), ("lead", &mut lead)] {
        device.sync(server);
        assert!(
            device
                .store
                .record(Entity::Client, survivor)
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(
            device
                .store
                .record(Entity::Client, duplicate)
                .unwrap()
                .is_some(),
            "{name}"
        );
        assert_eq!(
            contact_field(device, contact, "client_id"),
            Some(json!(duplicate.to_string())),
            "{name}"
        );
        assert_eq!(
            device.store.tables_containing(MARKER).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

/// A laptop offline with more than a push's worth of changes logs a contact for a client
/// erased meanwhile, so that the cut after 500 changes falls right after the contact's link:
/// the contact still travels whole, the server refuses all of it, and its summary reaches
/// neither the server nor another laptop.
#[test]
fn a_contact_for_an_erased_client_is_refused_whole_where_a_push_would_be_cut() {
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let erased = coach.create_client(json!({"given_name": "Leyla"}));
    coach.sync(server);
    lead.sync(server);
    // The contact's changes go in field order: `channel`, then `client_id` (500th).
    while coach.store.pending_count().unwrap() < 498 {
        coach.create_client(json!({"given_name": "Amina"}));
    }
    let contact = contact_for(&mut coach, erased, &format!("{MARKER} asked about asylum"));
    let pending = coach.store.pending_changes().unwrap();
    assert_eq!(
        (pending[499].record_id, pending[499].field.as_str()),
        (*contact.as_uuid(), "client_id"),
        "the 500th change is the contact's link, its other fields come after"
    );
    let of_contact = pending
        .iter()
        .filter(|c| c.record_id == *contact.as_uuid())
        .count() as u64;
    server.erase_client(&team, *erased.as_uuid());

    let report = coach.sync(server);
    assert_eq!(
        report.rejected, of_contact,
        "every change of the contact: {report:?}"
    );
    assert!(
        coach
            .store
            .record(Entity::Contact, contact)
            .unwrap()
            .is_none()
    );
    lead.sync(server);
    assert!(
        lead.store
            .record(Entity::Contact, contact)
            .unwrap()
            .is_none()
    );
    for (name, device) in [("coach", &coach), ("lead", &lead)] {
        assert_eq!(
            device.store.tables_containing(MARKER).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn a_team_lead_erases_from_the_laptop_and_exports_as_json_and_csv() {
    use tandem_sync::privacy::{ExportFormat, export_client};
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = coach.create_client(json!({"given_name": MARKER}));
    coach.sync(server);
    lead.sync(server);
    let uuid = *id.as_uuid();

    let json_export = server
        .runtime
        .block_on(export_client(&lead.transport, uuid, ExportFormat::Json))
        .unwrap();
    let export: tandem_protocol::ClientExport = serde_json::from_slice(&json_export).unwrap();
    assert_eq!(export.client["given_name"], json!(MARKER));
    let csv = server
        .runtime
        .block_on(export_client(&lead.transport, uuid, ExportFormat::Csv))
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("section,entity,record_id,field,value"),
        "{csv}"
    );
    assert!(csv.contains(&format!("current,client,{uuid},given_name,{MARKER},")));

    // A coach may do neither.
    let refused = server
        .runtime
        .block_on(coach.transport.erase_client(uuid))
        .unwrap_err();
    assert!(
        matches!(refused, tandem_sync::SyncError::Forbidden { .. }),
        "{refused:?}"
    );

    let erased = server
        .runtime
        .block_on(lead.transport.erase_client(uuid))
        .unwrap();
    assert_eq!(erased.records.len(), 1);
    assert_eq!(
        lead.sync(server).purged_records,
        1,
        "the lead's laptop removes it at its next sync"
    );
    assert!(lead.store.record(Entity::Client, id).unwrap().is_none());
    assert!(coach.store.record(Entity::Client, id).unwrap().is_some());
    coach.sync(server);
    assert!(coach.store.record(Entity::Client, id).unwrap().is_none());
}

#[test]
fn retention_purges_a_client_last_met_over_five_years_ago_on_the_server_and_the_laptop() {
    use tandem_server::audit::AuditActor;
    use tandem_server::retention::{RetentionPolicy, run_retention};
    use tandem_sync::Clock;

    // Its own server: a retention run reaches every team.
    let server = crate::server::private();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(&server, &team, &team.coach, 0);
    let old = coach.create_client(json!({"given_name": "Vanha"}));
    let recent = coach.create_client(json!({"given_name": "Uusi"}));
    let fields = |client: RecordId, at: &str| -> BTreeMap<String, Json> {
        serde_json::from_value(json!({"client_id": client.to_string(), "occurred_at": at})).unwrap()
    };
    let at = coach.edit_context();
    coach
        .store
        .create_record(
            Entity::Contact,
            &fields(old, "2019-03-04T10:00:00+02:00"),
            at,
        )
        .unwrap();
    let today = coach.clock.now().to_rfc3339();
    coach
        .store
        .create_record(Entity::Contact, &fields(recent, &today), at)
        .unwrap();
    coach.sync(&server);

    let report = server
        .runtime
        .block_on(run_retention(
            server.store.as_ref(),
            RetentionPolicy::default(),
            coach.clock.now(),
            AuditActor::System,
            false,
        ))
        .unwrap();
    assert_eq!(report.expired_clients, vec![*old.as_uuid()]);
    assert_eq!(report.purged.len(), 2, "the client and its contact");

    let synced = coach.sync(&server);
    assert_eq!(synced.purged_records, 2, "{synced:?}");
    assert!(coach.store.record(Entity::Client, old).unwrap().is_none());
    assert!(
        coach
            .store
            .record(Entity::Client, recent)
            .unwrap()
            .is_some()
    );
    assert_eq!(coach.store.contacts_of_client(recent).unwrap().len(), 1);
    assert_eq!(
        coach.store.tables_containing("Vanha").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn a_team_lead_pages_through_the_audit_log_of_a_client_and_a_coach_is_refused() {
    use tandem_protocol::AuditQuery;
    use tandem_sync::privacy::{ExportFormat, export_client};
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = coach.create_client(json!({"given_name": MARKER}));
    coach.sync(server);
    coach.edit_client(id, json!({"nickname": format!("{MARKER}ko")}));
    coach.sync(server);
    lead.sync(server);
    let uuid = *id.as_uuid();
    server
        .runtime
        .block_on(export_client(&lead.transport, uuid, ExportFormat::Csv))
        .unwrap();
    server
        .runtime
        .block_on(lead.transport.erase_client(uuid))
        .unwrap();

    // One entry per page, following the cursor until the server says there is no more.
    let mut query = AuditQuery {
        after: 0,
        limit: 1,
        record_id: Some(uuid),
    };
    let mut actions = Vec::new();
    loop {
        let page = server
            .runtime
            .block_on(lead.transport.audit(&query))
            .unwrap();
        assert!(page.entries.len() <= 1);
        for entry in &page.entries {
            assert_eq!(entry.record_id, Some(uuid));
            assert_eq!(entry.team_id, Some(team.id));
            assert!(!entry.detail.contains(MARKER), "{entry:?}");
            actions.push(entry.action.clone());
        }
        if !page.has_more {
            break;
        }
        assert!(page.next > query.after, "the cursor moves on");
        query.after = page.next;
    }
    assert_eq!(actions, ["change", "change", "export", "erase"]);

    // Without a filter a team lead sees the own team's entries only, sign-ins included.
    let all = server
        .runtime
        .block_on(lead.transport.audit(&AuditQuery {
            after: 0,
            limit: 1000,
            record_id: None,
        }))
        .unwrap();
    assert!(all.entries.iter().any(|entry| entry.action == "login"));
    assert!(
        all.entries
            .iter()
            .all(|entry| entry.team_id == Some(team.id))
    );

    let refused = server
        .runtime
        .block_on(coach.transport.audit(&query))
        .unwrap_err();
    assert!(
        matches!(refused, tandem_sync::SyncError::Forbidden { .. }),
        "{refused:?}"
    );
}

/// A contact logged offline for a client erased meanwhile, its summary edited twice: only
/// one change of a field travels per push, so the second edit waits for the next one. The
/// server refuses the first push of the contact whole; nothing of the contact goes in a later
/// push (alone, the edit would make a contact of no one, which every laptop pulls), and the
/// report counts the edit kept back (`tandem sync` says how many went to the rejected list).
#[test]
fn a_later_edit_of_a_contact_refused_for_an_erased_client_is_never_sent() {
    let server = shared();
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let erased = coach.create_client(json!({"given_name": "Leyla"}));
    coach.sync(server);
    let contact = contact_for(&mut coach, erased, "came about the flat");
    let summary: BTreeMap<String, Json> =
        serde_json::from_value(json!({"summary": format!("{MARKER} asked about asylum")})).unwrap();
    let at = coach.edit_context();
    coach
        .store
        .edit_record(Entity::Contact, contact, &summary, at)
        .unwrap();
    let pending = coach.store.pending_changes().unwrap();
    let second_edit = pending
        .iter()
        .find(|c| c.value.contains(MARKER))
        .unwrap()
        .change_id;
    server.erase_client(&team, *erased.as_uuid());

    let report = coach.sync(server);
    assert_eq!(
        report.rejected,
        pending.len() as u64 - 1,
        "every change of the contact sent: {report:?}"
    );
    assert_eq!(
        report.withheld, 1,
        "the second summary edit, kept back and listed with them, is counted: {report:?}"
    );
    assert_eq!(coach.store.pending_count().unwrap(), 0);
    assert!(
        !server
            .pushed_bases
            .lock()
            .unwrap()
            .contains_key(&second_edit),
        "the second summary edit never left the laptop"
    );
    coach.sync(server);
    lead.sync(server);
    for (name, device) in [("coach", &coach), ("lead", &lead)] {
        assert!(
            device
                .store
                .record(Entity::Contact, contact)
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert_eq!(
            device.store.tables_containing(MARKER).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}
