//! Sync cycles between real stores and the real server: the rules of DESIGN.md's "Client
//! rules", one scenario each.

use serde_json::json;
use tandem_domain::{Entity, RecordId};
use tandem_server::store::ServerStore;
use tandem_sync::{Clock, SyncError};

use crate::device::TestDevice;
use crate::server::shared;

#[test]
fn a_client_registered_on_one_laptop_reaches_another_and_concurrent_edits_converge() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.lead, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let id =
        a.create_client(json!({"given_name": "Amina", "family_name": "Warsame", "tags": ["x"]}));
    let report = a.sync(server);
    assert_eq!(report.pushed, 3);
    assert_eq!(report.pending_after, 0);
    b.sync(server);
    assert_eq!(b.value(id, "given_name"), Some(json!("Amina")));

    // Offline on both: different fields, the same review field, and the same set field.
    a.edit_client(
        id,
        json!({"nickname": "Ami", "given_name": "Aminah", "tags": ["x", "a"]}),
    );
    b.edit_client(
        id,
        json!({"municipality": "Vantaa", "given_name": "Amiina", "tags": ["x", "b"]}),
    );
    a.sync(server);
    let report = b.sync(server);
    assert_eq!(
        report.conflicts, 1,
        "the review field conflicts, the set merges"
    );
    a.sync(server);
    for device in [&a, &b] {
        assert_eq!(device.value(id, "nickname"), Some(json!("Ami")));
        assert_eq!(device.value(id, "municipality"), Some(json!("Vantaa")));
        assert_eq!(device.value(id, "tags"), Some(json!(["a", "b", "x"])));
        assert_eq!(device.store.pending_count().unwrap(), 0);
    }
    assert_eq!(a.value(id, "given_name"), b.value(id, "given_name"));
    // The team lead mirrors the team's conflicts; the coach knows the one it ran into.
    let open_a = a.store.conflicts(false).unwrap();
    let open_b = b.store.conflicts(false).unwrap();
    assert_eq!(open_a.len(), 1, "{open_a:?}");
    assert_eq!(open_b.len(), 1, "{open_b:?}");
    assert_eq!(open_a[0].id, open_b[0].id);
    assert_eq!(open_a[0].field, "given_name");
    assert!(open_a[0].detail.as_deref().unwrap().contains("Amiina"));
}

#[test]
fn several_edits_of_one_field_before_a_sync_reach_the_server_in_order_without_a_self_conflict() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let id = a.create_client(json!({"given_name": "Omar"}));
    a.edit_client(id, json!({"given_name": "Omar A."}));
    a.edit_client(id, json!({"given_name": "Omar Ali"}));
    assert_eq!(a.store.pending_count().unwrap(), 3);
    let report = a.sync(server);
    assert_eq!(report.pushed, 3);
    assert_eq!(report.push_batches, 3, "one change per field per push");
    assert_eq!(report.conflicts, 0);
    assert_eq!(a.value(id, "given_name"), Some(json!("Omar Ali")));
    let history = server
        .runtime
        .block_on(
            server
                .store
                .field_history(team.id, *id.as_uuid(), "given_name"),
        )
        .unwrap();
    let values: Vec<_> = history.iter().map(|h| h.value.clone()).collect();
    assert_eq!(values, [json!("Omar"), json!("Omar A."), json!("Omar Ali")]);
}

#[test]
fn a_change_the_server_refuses_is_listed_with_its_reason_and_the_field_returns_to_the_servers_value()
 {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let id = a.create_client(json!({"given_name": "Li", "birth_year": 1990}));
    a.sync(server);
    // A laptop whose clock says next year accepts next year as a birth year; the server,
    // whose clock is right, does not.
    let next_year = chrono::Datelike::year(&a.clock.now()) + 1;
    let mut later = a.edit_context();
    later.now += chrono::TimeDelta::days(366);
    a.edit_client_at(id, json!({"birth_year": next_year}), later);
    assert_eq!(a.value(id, "birth_year"), Some(json!(next_year)));
    let report = a.sync(server);
    assert_eq!(report.rejected, 1);
    assert_eq!(
        report.pending_after, 0,
        "a refused change never blocks the outbox"
    );
    let rejected = a.store.rejected_changes().unwrap();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].reason.contains("birth_year"),
        "{}",
        rejected[0].reason
    );
    assert_eq!(
        rejected[0].reason_code.as_deref(),
        Some("invalid_value"),
        "the server's code is kept beside its words"
    );
    assert_eq!(rejected[0].value, next_year.to_string());
    assert_eq!(a.value(id, "birth_year"), Some(json!(1990)));
    assert_eq!(a.store.sync_status().unwrap().rejected_count, 1);
}

#[test]
fn a_revoked_device_is_told_so_and_keeps_nothing_pending_pushed() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    a.create_client(json!({"given_name": "Sami"}));
    server.revoke(a.device_id);
    let error = a.try_sync(server).unwrap_err();
    assert!(matches!(error, SyncError::DeviceRevoked), "{error:?}");
    assert!(error.to_string().contains("revoked"));
    assert_eq!(a.store.pending_count().unwrap(), 1);
}

#[test]
fn a_server_that_cannot_be_reached_is_reported_as_offline_and_loses_nothing() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    a.create_client(json!({"given_name": "Sami"}));
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    a.transport = tandem_sync::HttpTransport::new(
        &format!("http://127.0.0.1:{port}"),
        Some("tdt1_nothing".into()),
        tandem_sync::TransportSettings::default(),
    )
    .unwrap();
    let error = a.try_sync(server).unwrap_err();
    assert!(matches!(error, SyncError::Offline { .. }), "{error:?}");
    assert!(error.is_transient());
    let status = a.store.sync_status().unwrap();
    assert_eq!(status.pending_count, 1);
    assert!(
        status
            .last_sync_error
            .unwrap()
            .contains("cannot be reached")
    );
}

#[test]
fn a_laptop_clock_a_day_behind_is_reported_as_skewed_and_still_syncs() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, -24 * 3600 * 1000);
    a.create_client(json!({"given_name": "Sami"}));
    let report = a.sync(server);
    assert!(report.clock_skewed);
    assert!(
        report.clock_skew_ms > 23 * 3600 * 1000,
        "{}",
        report.clock_skew_ms
    );
    let status = a.store.sync_status().unwrap();
    assert!(status.clock_skewed);
    assert_eq!(status.pending_count, 0);
}

/// A server whose body limit is below one record's changes together, though not below any
/// one of them: the smaller records before it go in smaller pushes, and the record is never
/// sent in parts (the server judges a record's changes per batch: a part could pass where
/// the whole is refused). The push stops with the error; the record stays in the outbox.
/// The cycle still pulls: a colleague's client and an erasure arrive all the same.
#[test]
fn a_record_over_the_servers_body_limit_is_never_sent_in_parts_and_stays_in_the_outbox() {
    let server = crate::server::private_with_body_limit(8 * 1024);
    let team = server.new_team();
    let mut coach = TestDevice::sign_in(&server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(&server, &team, &team.lead, 0);
    let erased = coach.create_client(json!({"given_name": "Leyla"}));
    coach.sync(&server);
    let colleagues = lead.create_client(json!({"given_name": "Sami"}));
    lead.sync(&server);
    server.erase_client(&team, *erased.as_uuid());
    let small: Vec<RecordId> = (0..20)
        .map(|i| {
            coach.create_client(
                json!({"given_name": format!("Amina {i}"), "notes": "x".repeat(400)}),
            )
        })
        .collect();
    let tags: Vec<String> = (0..60)
        .map(|i| format!("tag-{i:02}-{}", "t".repeat(24)))
        .collect();
    let large =
        coach.create_client(json!({"given_name": "Olga", "notes": "y".repeat(7000), "tags": tags}));
    let of_large = coach
        .store
        .pending_changes()
        .unwrap()
        .iter()
        .filter(|c| c.record_id == *large.as_uuid())
        .count() as u64;

    let refused = coach.try_sync(&server).unwrap_err();
    assert!(
        matches!(refused, SyncError::PayloadTooLarge { .. }),
        "{refused:?}"
    );
    assert_eq!(coach.store.pending_count().unwrap(), of_large);
    assert!(
        coach
            .store
            .record(Entity::Client, colleagues)
            .unwrap()
            .is_some(),
        "pulled after the failed push"
    );
    assert!(
        coach
            .store
            .record(Entity::Client, erased)
            .unwrap()
            .is_none(),
        "the erasure arrives while a record cannot be sent"
    );
    assert!(
        coach
            .store
            .sync_status()
            .unwrap()
            .last_sync_error
            .is_some_and(|error| error.contains("larger than the server accepts")),
        "the push's failure is still what the cycle reports"
    );
    lead.sync(&server);
    for client in &small {
        assert!(
            lead.store
                .record(Entity::Client, *client)
                .unwrap()
                .is_some()
        );
    }
    assert!(
        lead.store.record(Entity::Client, large).unwrap().is_none(),
        "no part of it"
    );
}
