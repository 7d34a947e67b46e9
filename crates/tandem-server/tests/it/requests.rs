//! Bad requests: malformed JSON, wrong types, unknown entities and fields, invalid values,
//! oversized bodies, old schema versions. Each gets a 4xx JSON error (or a `rejected`
//! result) that names the problem, and nothing is stored.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tandem_protocol::{ChangeStatus, RejectCode};
use uuid::Uuid;

use crate::harness::*;

both_backends!(malformed_or_mistyped_bodies_get_a_json_error_naming_the_problem_and_store_nothing);
async fn malformed_or_mistyped_bodies_get_a_json_error_naming_the_problem_and_store_nothing(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let malformed = server
        .raw(
            "/v1/sync/push",
            Some(&a.token),
            b"{\"device_id\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "invalid_json");

    let wrong_type = server
        .request(
            Method::POST,
            "/v1/sync/push",
            Some(&a.token),
            Some(
                json!({"device_id": a.id, "schema_version": "one", "app_version": "t",
                        "pending_count": 0, "changes": []}),
            ),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_type.error_code(), "invalid_request");
    assert!(
        wrong_type.body["message"]
            .as_str()
            .unwrap()
            .contains("schema_version")
    );

    let missing = server
        .request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"username": "coach_a"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body["message"]
            .as_str()
            .unwrap()
            .contains("password")
    );

    let bad_limit = server
        .request(Method::GET, "/v1/sync/pull?after=-1", Some(&a.token), None)
        .await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_limit.error_code(), "invalid_request");

    let unknown_route = server.request(Method::GET, "/v1/nothing", None, None).await;
    assert_eq!(unknown_route.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_route.error_code(), "not_found");

    assert!(server.pull_all(&a).await.is_empty());
}

both_backends!(a_change_naming_a_client_as_a_contact_is_rejected_as_an_invalid_change);
async fn a_change_naming_a_client_as_a_contact_is_rejected_as_an_invalid_change(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let id = Uuid::now_v7();
    let created = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                id,
                "given_name",
                json!("Li"),
                0,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(created[0].status, ChangeStatus::Applied);
    let as_contact = server
        .push(
            &a,
            vec![change(
                &a,
                "contact",
                id,
                "summary",
                json!("x"),
                0,
                NOW_MS + 1,
            )],
        )
        .await;
    assert_eq!(
        (
            as_contact[0].status,
            as_contact[0].reason_code,
            as_contact[0].reason.as_deref()
        ),
        (
            ChangeStatus::Rejected,
            Some(RejectCode::InvalidChange),
            Some("summary: the record is a client, not a contact")
        )
    );
}

both_backends!(unknown_entities_fields_invalid_values_and_bad_clocks_are_rejected_naming_the_field);
async fn unknown_entities_fields_invalid_values_and_bad_clocks_are_rejected_naming_the_field(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let id = Uuid::now_v7();
    let mut bad_hlc = change(&a, "client", id, "nickname", json!("N"), 0, NOW_MS);
    bad_hlc.hlc = "yesterday".into();
    let mut forged_author = change(&a, "client", id, "municipality", json!("Vantaa"), 0, NOW_MS);
    forged_author.author_id = Uuid::now_v7();
    let results = server
        .push(
            &a,
            vec![
                change(&a, "household", id, "given_name", json!("X"), 0, NOW_MS),
                change(&a, "client", id, "shoe_size", json!(42), 0, NOW_MS),
                change(&a, "client", id, "birth_year", json!(1850), 0, NOW_MS),
                change(&a, "client", id, "gender", json!("robot"), 0, NOW_MS),
                change(
                    &a,
                    "client",
                    id,
                    "email",
                    json!("not an address"),
                    0,
                    NOW_MS,
                ),
                bad_hlc,
                forged_author,
                change(&a, "client", id, "nickname", json!("N"), 7, NOW_MS),
            ],
        )
        .await;
    let named = [
        ("household", RejectCode::UnknownField),
        ("shoe_size", RejectCode::UnknownField),
        ("birth_year", RejectCode::InvalidValue),
        ("gender", RejectCode::InvalidValue),
        ("email", RejectCode::InvalidValue),
        ("nickname", RejectCode::InvalidChange),
        ("municipality", RejectCode::InvalidChange),
        ("nickname", RejectCode::InvalidChange),
    ];
    for (result, (name, code)) in results.iter().zip(named) {
        assert_eq!(result.status, ChangeStatus::Rejected, "{result:?}");
        assert!(
            result.reason.as_deref().unwrap().contains(name),
            "{result:?}"
        );
        assert_eq!(result.reason_code, Some(code), "{result:?}");
    }
    assert!(server.pull_all(&a).await.is_empty());
}

both_backends!(a_body_over_the_limit_gets_413_as_json_and_stores_nothing);
async fn a_body_over_the_limit_gets_413_as_json_and_stores_nothing(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let id = Uuid::now_v7();
    let changes: Vec<_> = (0..BODY_LIMIT / 100)
        .map(|_| change(&a, "client", id, "notes", json!("n".repeat(200)), 0, NOW_MS))
        .collect();
    let reply = server.push_reply(&a, changes).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "payload_too_large");
    assert!(server.pull_all(&a).await.is_empty());
}

both_backends!(a_schema_version_newer_than_the_server_asks_for_an_update);
async fn a_schema_version_newer_than_the_server_asks_for_an_update(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let reply = server
        .request(
            Method::POST,
            "/v1/sync/push",
            Some(&a.token),
            Some(
                json!({"device_id": a.id, "schema_version": 99, "app_version": "t",
                        "pending_count": 0, "changes": []}),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UPGRADE_REQUIRED);
    assert_eq!(reply.error_code(), "update_required");
}

/// `body` gzip-compressed.
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

both_backends!(gzipped_bodies_are_accepted_and_their_limit_counts_what_they_unpack_to);
async fn gzipped_bodies_are_accepted_and_their_limit_counts_what_they_unpack_to(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let post = |body: Vec<u8>| {
        server
            .http
            .post(format!("{}/v1/sync/push", server.base))
            .bearer_auth(&a.token)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(body)
            .send()
    };
    let push = |changes| {
        serde_json::to_vec(&json!({
            "device_id": a.id, "schema_version": tandem_protocol::SCHEMA_VERSION,
            "app_version": "t", "pending_count": 0, "changes": changes,
        }))
        .unwrap()
    };

    let id = Uuid::now_v7();
    let name = change(&a, "client", id, "given_name", json!("Ilona"), 0, NOW_MS);
    let reply = post(gzip(&push(vec![name]))).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let pulled = server.pull_all(&a).await;
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    assert_eq!(pulled[0].value, json!("Ilona"));

    // A few kilobytes that unpack to more than the limit: refused like a large plain body.
    let bomb: Vec<_> = (0..BODY_LIMIT / 100)
        .map(|_| change(&a, "client", id, "notes", json!("n".repeat(200)), 0, NOW_MS))
        .collect();
    let bomb = gzip(&push(bomb));
    assert!(bomb.len() < BODY_LIMIT / 4, "{} bytes", bomb.len());
    let reply = into_reply(post(bomb).await.unwrap()).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.error_code(), "payload_too_large");

    // Bytes that are not gzip at all: a JSON error, nothing stored.
    let reply = into_reply(post(b"not gzip at all".to_vec()).await.unwrap()).await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert!(!reply.error_code().is_empty(), "{:?}", reply.body);
    assert_eq!(server.pull_all(&a).await.len(), 1);
}
