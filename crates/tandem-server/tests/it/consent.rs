//! The consent gate on pushes: special-category data on a client without a lawful basis is
//! rejected with the reason, whatever order a batch carries the basis and the data in, and
//! a basis cannot be cleared from under special-category data.

use serde_json::{Value, json};
use tandem_protocol::{ChangeStatus, RejectCode};
use uuid::Uuid;

use crate::harness::*;

both_backends!(special_category_data_without_a_lawful_basis_is_rejected_with_the_reason);
async fn special_category_data_without_a_lawful_basis_is_rejected_with_the_reason(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let (client, _) = create_client(&server, &a, &[("given_name", json!("Hodan"))]).await;
    for field in ["disability", "third_country_national", "foreign_background"] {
        let results = server
            .push(
                &a,
                vec![change(
                    &a,
                    "client",
                    client,
                    field,
                    json!("declined"),
                    0,
                    NOW_MS,
                )],
            )
            .await;
        assert_eq!(results[0].status, ChangeStatus::Rejected, "{field}");
        assert_eq!(
            results[0].reason_code,
            Some(RejectCode::LawfulBasisRequired)
        );
        let reason = results[0].reason.as_deref().unwrap();
        assert!(
            reason.starts_with(&format!(
                "{field}: special-category data can be recorded only when the client has a lawful basis"
            )),
            "{reason}"
        );
    }
    // A new client whose first batch carries the data but no basis: nothing of it stands.
    let id = Uuid::now_v7();
    let results = server
        .push(
            &a,
            vec![
                change(&a, "client", id, "given_name", json!("Abdi"), 0, NOW_MS),
                change(&a, "client", id, "disability", json!("yes"), 0, NOW_MS),
            ],
        )
        .await;
    assert_eq!(results[0].status, ChangeStatus::Applied);
    assert_eq!(results[1].status, ChangeStatus::Rejected);
    let pulled = server.pull_all(&a).await;
    assert!(
        pulled.iter().all(|c| c.field != "disability"
            && c.field != "third_country_national"
            && c.field != "foreign_background"),
        "{pulled:?}"
    );
}

both_backends!(a_batch_recording_the_basis_and_the_data_passes_in_either_order);
async fn a_batch_recording_the_basis_and_the_data_passes_in_either_order(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    for data_first in [true, false] {
        let id = Uuid::now_v7();
        let basis = change(
            &a,
            "client",
            id,
            "lawful_basis",
            json!("consent"),
            0,
            NOW_MS,
        );
        let data = change(&a, "client", id, "disability", json!("no"), 0, NOW_MS);
        let name = change(&a, "client", id, "given_name", json!("Li"), 0, NOW_MS);
        let batch = if data_first {
            vec![data, name, basis]
        } else {
            vec![basis, name, data]
        };
        let ids: Vec<Uuid> = batch.iter().map(|c| c.change_id).collect();
        let results = server.push(&a, batch).await;
        // Answered in the order sent, every change applied.
        let answered: Vec<Uuid> = results.iter().map(|r| r.change_id).collect();
        assert_eq!(answered, ids);
        assert!(
            results.iter().all(|r| r.status == ChangeStatus::Applied),
            "{results:?}"
        );
        // Clearing both in one batch passes too, in either order; clearing the basis alone
        // does not.
        let (basis_v, data_v) = if data_first {
            (results[2].version, results[0].version)
        } else {
            (results[0].version, results[2].version)
        };
        let clear_basis = || {
            change(
                &a,
                "client",
                id,
                "lawful_basis",
                Value::Null,
                basis_v,
                NOW_MS + 1,
            )
        };
        let alone = server.push(&a, vec![clear_basis()]).await;
        assert_eq!(alone[0].status, ChangeStatus::Rejected);
        assert_eq!(alone[0].reason_code, Some(RejectCode::LawfulBasisInUse));
        assert_eq!(
            alone[0].reason.as_deref(),
            Some(
                "lawful_basis: cannot be cleared while disability holds special-category data: \
                 clear disability first"
            )
        );
        let clear_data = change(
            &a,
            "client",
            id,
            "disability",
            Value::Null,
            data_v,
            NOW_MS + 1,
        );
        let both = if data_first {
            vec![clear_basis(), clear_data]
        } else {
            vec![clear_data, clear_basis()]
        };
        let results = server.push(&a, both).await;
        assert!(
            results.iter().all(|r| r.status == ChangeStatus::Applied),
            "{results:?}"
        );
    }
}

both_backends!(a_basis_that_loses_a_conflict_does_not_open_the_gate);
async fn a_basis_that_loses_a_conflict_does_not_open_the_gate(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[
            ("given_name", json!("Omar")),
            ("lawful_basis", json!("consent")),
        ],
    )
    .await;
    // b clears the basis later by its clock; a, concurrently and earlier, changes it and adds
    // special-category data. a's basis loses the review conflict, so the data is refused.
    let cleared = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "lawful_basis",
                Value::Null,
                v[1],
                NOW_MS + 9_000,
            )],
        )
        .await;
    assert_eq!(cleared[0].status, ChangeStatus::Applied);
    let results = server
        .push(
            &a,
            vec![
                change(
                    &a,
                    "client",
                    client,
                    "disability",
                    json!("yes"),
                    0,
                    NOW_MS + 1_000,
                ),
                change(
                    &a,
                    "client",
                    client,
                    "lawful_basis",
                    json!("public_task"),
                    v[1],
                    NOW_MS + 1_000,
                ),
            ],
        )
        .await;
    assert_eq!(results[1].status, ChangeStatus::Conflict);
    assert_eq!(results[1].value, Value::Null);
    assert_eq!(results[0].status, ChangeStatus::Rejected, "{results:?}");
}

/// Two coaches of the team and its lead, signed in.
async fn two_coaches_and_their_lead(server: &TestServer) -> (Device, Device, Device) {
    (
        server.login("coach_a").await,
        server.login("coach_b").await,
        server.login("lead_n").await,
    )
}

/// A client with a lawful basis and a disability answer, by `device`; the versions of
/// given_name, lawful_basis and disability.
async fn client_with_special_category_data(
    server: &TestServer,
    device: &Device,
) -> (Uuid, Vec<u64>) {
    let fields = [
        ("given_name", json!("Hodan")),
        ("lawful_basis", json!("consent")),
        ("disability", json!("yes")),
    ];
    create_client(server, device, &fields).await
}

both_backends!(a_resolution_cannot_take_the_basis_from_under_special_category_data);
async fn a_resolution_cannot_take_the_basis_from_under_special_category_data(backend: Backend) {
    let server = start(backend).await;
    let (a, b, lead) = two_coaches_and_their_lead(&server).await;
    let (client, versions) = client_with_special_category_data(&server, &a).await;
    // Two coaches record a different basis from the same version: a review conflict.
    for (device, basis) in [(&a, "public_task"), (&b, "legal_obligation")] {
        let results = server
            .push(
                device,
                vec![change(
                    device,
                    "client",
                    client,
                    "lawful_basis",
                    json!(basis),
                    versions[1],
                    NOW_MS,
                )],
            )
            .await;
        assert_ne!(results[0].status, ChangeStatus::Rejected, "{results:?}");
    }
    let conflicts: Value = server.get_ok("/v1/conflicts", &lead).await;
    let id = conflicts["conflicts"][0]["id"].as_i64().unwrap();
    let resolve = format!("/v1/conflicts/{id}/resolve");

    let cleared = server
        .request(
            reqwest::Method::POST,
            &resolve,
            Some(&lead.token),
            Some(json!({"value": null})),
        )
        .await;
    assert_eq!(cleared.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        cleared.error_code(),
        "consent_required",
        "{:?}",
        cleared.body
    );
    assert_eq!(
        cleared.body["reason_code"], "lawful_basis_in_use",
        "{:?}",
        cleared.body
    );
    assert!(
        cleared.body["message"]
            .as_str()
            .unwrap()
            .contains("disability"),
        "{:?}",
        cleared.body
    );
    let basis_now = |pulled: Vec<tandem_protocol::PulledChange>| -> Value {
        pulled
            .into_iter()
            .rfind(|c| c.record_id == client && c.field == "lawful_basis")
            .unwrap()
            .value
    };
    assert_ne!(basis_now(server.pull_all(&a).await), Value::Null);

    // The conflict is still open and a value that keeps a basis resolves it.
    let chosen = server
        .request(
            reqwest::Method::POST,
            &resolve,
            Some(&lead.token),
            Some(json!({"value": "consent"})),
        )
        .await;
    assert_eq!(chosen.status, reqwest::StatusCode::OK, "{:?}", chosen.body);
    assert_eq!(basis_now(server.pull_all(&a).await), json!("consent"));
}

both_backends!(a_resolution_cannot_put_special_category_data_on_a_client_without_a_basis);
async fn a_resolution_cannot_put_special_category_data_on_a_client_without_a_basis(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b, lead) = two_coaches_and_their_lead(&server).await;
    let (client, v) = client_with_special_category_data(&server, &a).await;
    let push_one = |device, field: &'static str, value: Value, base, at| {
        let change = change(device, "client", client, field, value, base, at);
        server.push(device, vec![change])
    };
    // From the same version one coach answers and the other clears the answer: an open review
    // conflict, the later clearing standing meanwhile.
    push_one(&a, "disability", json!("declined"), v[2], NOW_MS + 1_000).await;
    let second = push_one(&b, "disability", Value::Null, v[2], NOW_MS + 2_000).await;
    assert_eq!(second[0].status, ChangeStatus::Conflict, "{second:?}");
    assert_eq!(second[0].value, Value::Null, "{second:?}");
    let conflict = second[0].conflict_id.unwrap();
    // With no special-category data left, the basis is cleared too.
    let basis = push_one(&a, "lawful_basis", Value::Null, v[1], NOW_MS + 4_000).await;
    assert_eq!(basis[0].status, ChangeStatus::Applied, "{basis:?}");

    // The lead's choice of an answer would be special-category data without a basis.
    let refused = server
        .request(
            reqwest::Method::POST,
            &format!("/v1/conflicts/{conflict}/resolve"),
            Some(&lead.token),
            Some(json!({"value": "declined"})),
        )
        .await;
    assert_eq!(
        refused.status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.error_code(), "consent_required");
    assert_eq!(refused.body["reason_code"], "lawful_basis_required");
    // Nothing changed: the conflict is open, the answer still cleared.
    let open: Value = server.get_ok("/v1/conflicts", &lead).await;
    assert_eq!(open["conflicts"][0]["id"], json!(conflict));
    let disability = server
        .pull_all(&a)
        .await
        .into_iter()
        .rfind(|c| c.record_id == client && c.field == "disability")
        .unwrap();
    assert_eq!(disability.value, Value::Null);
}
