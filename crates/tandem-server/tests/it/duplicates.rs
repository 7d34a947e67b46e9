//! Duplicate clients (docs/duplicates.md): the candidate list, a merge written as ordinary
//! changes that every device pulls, its undo, the refusals, and dismissing a pair; on both
//! backends.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_protocol::{
    DuplicateList, DuplicateMergeList, DuplicateMergeResponse, DuplicateReason, PulledChange,
};
use uuid::Uuid;

use crate::harness::*;

/// Creates a contact of `client` (the version of its `client_id` second).
async fn create_contact(server: &TestServer, device: &Device, client: Uuid) -> (Uuid, u64) {
    let id = Uuid::now_v7();
    let results = server
        .push(
            device,
            vec![
                change(
                    device,
                    "contact",
                    id,
                    "occurred_at",
                    json!("2026-01-14T10:00:00+02:00"),
                    0,
                    NOW_MS - 30_000,
                ),
                change(
                    device,
                    "contact",
                    id,
                    "client_id",
                    json!(client),
                    0,
                    NOW_MS - 30_000,
                ),
            ],
        )
        .await;
    (id, results[1].version)
}

/// Every field's latest pulled value, by (record, field).
fn latest(changes: &[PulledChange]) -> HashMap<(Uuid, String), Value> {
    changes
        .iter()
        .map(|c| ((c.record_id, c.field.clone()), c.value.clone()))
        .collect()
}

async fn candidates(server: &TestServer, lead: &Device) -> DuplicateList {
    let reply = server
        .request(Method::GET, "/v1/duplicates", Some(&lead.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

both_backends!(a_team_lead_merges_a_duplicate_every_device_converges_and_the_merge_can_be_undone);
async fn a_team_lead_merges_a_duplicate_every_device_converges_and_the_merge_can_be_undone(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach_a = server.login("coach_a").await;
    let coach_b = server.login("coach_b").await;
    let lead = server.login("lead_n").await;
    let coach_s = server.login("coach_s").await;
    let olga = [
        ("given_name", json!("Olga")),
        ("family_name", json!("Ivanova")),
        ("birth_year", json!(1972)),
    ];
    let (survivor, _) = create_client(&server, &coach_a, &olga).await;
    let (duplicate, _) = create_client(
        &server,
        &coach_b,
        &[
            ("given_name", json!("Ольга")),
            ("family_name", json!("Иванова")),
            ("birth_year", json!(1972)),
        ],
    )
    .await;
    // Distinct look-alikes and another team's namesake are never proposed.
    let mut older = olga.clone();
    older[2].1 = json!(1975);
    create_client(&server, &coach_a, &older).await;
    create_client(&server, &coach_s, &olga).await;
    let (moved_1, _) = create_contact(&server, &coach_b, duplicate).await;
    let (moved_2, _) = create_contact(&server, &coach_b, duplicate).await;
    let (kept, _) = create_contact(&server, &coach_a, survivor).await;

    let list = candidates(&server, &lead).await;
    assert_eq!(list.candidates.len(), 1, "{list:?}");
    let pair = &list.candidates[0];
    assert_eq!((pair.first.id, pair.second.id), (survivor, duplicate));
    assert_eq!(pair.reasons, vec![DuplicateReason::SameBirthYearAndName]);
    assert_eq!(pair.score, 1.0);
    assert_eq!(pair.first.fields["given_name"], json!("Olga"));
    assert_eq!(pair.second.fields["family_name"], json!("Иванова"));
    assert_eq!(
        (pair.first.contact_count, pair.second.contact_count),
        (1, 2)
    );

    let reply = merge(&server, &lead, survivor, duplicate).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let merged: DuplicateMergeResponse = reply.json();
    let mut moved = vec![moved_1, moved_2];
    moved.sort();
    assert_eq!(merged.merge.contact_ids, moved);
    assert_eq!(merged.merge.merged_by, lead.user_id);
    assert_eq!(merged.changes.len(), 3);
    assert!(merged.changes.iter().all(|c| c.author_id == lead.user_id));

    // Another device pulls the merge like any edit: the contacts are the survivor's, the
    // duplicate points to it, and the contact that was the survivor's stays.
    let seen = latest(&server.pull_all(&coach_a).await);
    for contact in moved.iter().chain([&kept]) {
        assert_eq!(seen[&(*contact, "client_id".to_owned())], json!(survivor));
    }
    assert_eq!(
        seen[&(duplicate, "merged_into".to_owned())],
        json!(survivor)
    );
    let history = server
        .store
        .field_history(server.team("north"), duplicate, "merged_into")
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].author_id, lead.user_id);

    assert!(candidates(&server, &lead).await.candidates.is_empty());
    let again = merge(&server, &lead, survivor, duplicate).await;
    assert_eq!(
        (again.status, again.error_code()),
        (StatusCode::CONFLICT, "not_mergeable")
    );
    let merges: DuplicateMergeList = server
        .request(
            Method::GET,
            "/v1/duplicates/merges",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    assert_eq!(merges.merges, vec![merged.merge.clone()]);

    // Undo: the contacts go back, merged_into is cleared, the pair is proposed again.
    server.clock.advance_ms(1000);
    let reply = undo(&server, &lead, merged.merge.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let undone: DuplicateMergeResponse = reply.json();
    assert_eq!(undone.merge.undone_by, Some(lead.user_id));
    assert!(undone.merge.undone_at.is_some());
    let seen = latest(&server.pull_all(&coach_b).await);
    for contact in &moved {
        assert_eq!(seen[&(*contact, "client_id".to_owned())], json!(duplicate));
    }
    assert_eq!(seen[&(kept, "client_id".to_owned())], json!(survivor));
    assert_eq!(seen[&(duplicate, "merged_into".to_owned())], Value::Null);
    assert_eq!(candidates(&server, &lead).await.candidates.len(), 1);
    let twice = undo(&server, &lead, merged.merge.id).await;
    assert_eq!(
        (twice.status, twice.error_code()),
        (StatusCode::CONFLICT, "merge_not_undoable")
    );
    assert!(
        twice.body["message"]
            .as_str()
            .unwrap()
            .contains("undone already")
    );

    // Dismissed: not the same person after all, never proposed again.
    let dismissed = server
        .request(
            Method::POST,
            "/v1/duplicates/dismiss",
            Some(&lead.token),
            Some(json!({"first_id": duplicate, "second_id": survivor})),
        )
        .await;
    assert_eq!(
        dismissed.status,
        StatusCode::NO_CONTENT,
        "{}",
        dismissed.body
    );
    assert!(candidates(&server, &lead).await.candidates.is_empty());
}

both_backends!(an_undo_is_refused_when_a_moved_contact_was_reassigned_since);
async fn an_undo_is_refused_when_a_moved_contact_was_reassigned_since(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let name = [
        ("given_name", json!("Amina")),
        ("phone", json!("040 123 4567")),
    ];
    let (survivor, _) = create_client(&server, &coach, &name).await;
    let (duplicate, _) = create_client(&server, &coach, &name).await;
    let (third, _) = create_client(&server, &coach, &[("given_name", json!("Sahra"))]).await;
    let (contact, _) = create_contact(&server, &coach, duplicate).await;
    let list = candidates(&server, &lead).await;
    assert_eq!(list.candidates[0].reasons, vec![DuplicateReason::SamePhone]);
    let merged: DuplicateMergeResponse = merge(&server, &lead, survivor, duplicate).await.json();
    let moved_version = merged.changes[0].version;
    // A coach, having pulled the merge, files the contact under a third client.
    let result = server
        .push(
            &coach,
            vec![change(
                &coach,
                "contact",
                contact,
                "client_id",
                json!(third),
                moved_version,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(result[0].status, tandem_protocol::ChangeStatus::Applied);

    let refused = undo(&server, &lead, merged.merge.id).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (StatusCode::CONFLICT, "merge_not_undoable")
    );
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("1 of its 1 contacts"),
        "{}",
        refused.body
    );
    // Nothing changed: the contact stays with the third client, the duplicate merged.
    let seen = latest(&server.pull_all(&coach).await);
    assert_eq!(seen[&(contact, "client_id".to_owned())], json!(third));
    assert_eq!(
        seen[&(duplicate, "merged_into".to_owned())],
        json!(survivor)
    );
}

both_backends!(a_merge_refuses_another_teams_client_a_deleted_client_and_a_client_with_itself);
async fn a_merge_refuses_another_teams_client_a_deleted_client_and_a_client_with_itself(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let coach_s = server.login("coach_s").await;
    let lead = server.login("lead_n").await;
    let (north, _) = create_client(&server, &coach, &[("given_name", json!("Ali"))]).await;
    let (deleted, _) = create_client(
        &server,
        &coach,
        &[("given_name", json!("Ali")), ("deleted", json!(true))],
    )
    .await;
    let (south, _) = create_client(&server, &coach_s, &[("given_name", json!("Ali"))]).await;

    let reply = merge(&server, &lead, north, south).await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let reply = merge(&server, &lead, north, Uuid::now_v7()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = merge(&server, &lead, north, north).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = merge(&server, &lead, north, deleted).await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (StatusCode::CONFLICT, "not_mergeable")
    );
    assert!(reply.body["message"].as_str().unwrap().contains("deleted"));
    let reply = undo(&server, &lead, Uuid::now_v7()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server
        .request(
            Method::POST,
            "/v1/duplicates/dismiss",
            Some(&lead.token),
            Some(json!({"first_id": north, "second_id": south})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Nothing was written by the refusals.
    let pulled = server.pull_all(&coach).await;
    assert!(
        pulled.iter().all(|c| c.field != "merged_into"),
        "{pulled:?}"
    );
}

both_backends!(a_device_cannot_write_merged_into_only_a_team_leads_merge_and_undo_do);
async fn a_device_cannot_write_merged_into_only_a_team_leads_merge_and_undo_do(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let (kept, _) = create_client(&server, &coach, &[("given_name", json!("Yusuf"))]).await;
    let refused_as_invalid_change = |result: &tandem_protocol::ChangeResult| {
        assert_eq!(result.status, tandem_protocol::ChangeStatus::Rejected);
        assert_eq!(
            result.reason_code,
            Some(tandem_protocol::RejectCode::InvalidChange),
            "{result:?}"
        );
        let reason = result.reason.as_deref().unwrap();
        assert!(
            reason.starts_with("merged_into:") && reason.contains("duplicate"),
            "{reason}"
        );
    };

    // A coach registers a client already marked merged into another: only that change is
    // refused, the client itself arrives and stays in every list.
    let other = Uuid::now_v7();
    let results = server
        .push(
            &coach,
            vec![
                change(
                    &coach,
                    "client",
                    other,
                    "given_name",
                    json!("Xavier"),
                    0,
                    NOW_MS,
                ),
                change(
                    &coach,
                    "client",
                    other,
                    "merged_into",
                    json!(kept),
                    0,
                    NOW_MS,
                ),
            ],
        )
        .await;
    assert_eq!(results[0].status, tandem_protocol::ChangeStatus::Applied);
    refused_as_invalid_change(&results[1]);
    // A team lead's laptop is a device too.
    let results = server
        .push(
            &lead,
            vec![change(
                &lead,
                "client",
                other,
                "merged_into",
                json!(kept),
                0,
                NOW_MS,
            )],
        )
        .await;
    refused_as_invalid_change(&results[0]);
    let pulled = server.pull_all(&coach).await;
    assert!(
        pulled.iter().all(|c| c.field != "merged_into"),
        "{pulled:?}"
    );
    assert!(
        server
            .store
            .field_history(server.team("north"), other, "merged_into")
            .await
            .unwrap()
            .is_empty()
    );

    // So erasing the client it named erases that client alone.
    let reply = server
        .request(
            Method::POST,
            &format!("/v1/clients/{kept}/erase"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let erased: tandem_protocol::ErasureResponse = reply.json();
    let ids: Vec<Uuid> = erased.records.iter().map(|p| p.record_id).collect();
    assert_eq!(ids, vec![kept]);
    let seen = latest(&server.pull_all(&coach).await);
    assert_eq!(seen[&(other, "given_name".to_owned())], json!("Xavier"));

    // A merge made by a team lead cannot be taken back by a device either, only undone.
    let name = [
        ("given_name", json!("Sara")),
        ("phone", json!("040 765 4321")),
    ];
    let (survivor, _) = create_client(&server, &coach, &name).await;
    let (duplicate, _) = create_client(&server, &coach, &name).await;
    let reply = merge(&server, &lead, survivor, duplicate).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let merged: DuplicateMergeResponse = reply.json();
    let merged_into = merged
        .changes
        .iter()
        .find(|c| c.field == "merged_into")
        .unwrap();
    let results = server
        .push(
            &coach,
            vec![change(
                &coach,
                "client",
                duplicate,
                "merged_into",
                Value::Null,
                merged_into.version,
                NOW_MS + 1_000,
            )],
        )
        .await;
    refused_as_invalid_change(&results[0]);
    let seen = latest(&server.pull_all(&coach).await);
    assert_eq!(
        seen[&(duplicate, "merged_into".to_owned())],
        json!(survivor)
    );
    server.clock.advance_ms(1000);
    let reply = undo(&server, &lead, merged.merge.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let seen = latest(&server.pull_all(&coach).await);
    assert_eq!(seen[&(duplicate, "merged_into".to_owned())], Value::Null);
}

/// The entries of the audit log about `record` that `lead` may see.
async fn audit_about(
    server: &TestServer,
    lead: &Device,
    record: Uuid,
) -> Vec<tandem_protocol::AuditEntry> {
    let reply = server
        .request(
            Method::GET,
            &format!("/v1/audit?record_id={record}"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json::<tandem_protocol::AuditList>().entries
}

both_backends!(a_merge_and_its_undo_are_in_the_audit_log_of_every_record_they_touch);
async fn a_merge_and_its_undo_are_in_the_audit_log_of_every_record_they_touch(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let lead_s = server.login("lead_s").await;
    let amina = [("given_name", json!("Amina")), ("birth_year", json!(1990))];
    let (survivor, _) = create_client(&server, &coach, &amina).await;
    let (duplicate, _) = create_client(&server, &coach, &amina).await;
    let (moved, _) = create_contact(&server, &coach, duplicate).await;
    let before = server.audit_len().await;

    // A refused merge leaves no entry.
    let refused = merge(&server, &lead, survivor, survivor).await;
    assert_ne!(refused.status, StatusCode::OK);
    assert_eq!(server.audit_len().await, before);

    let reply = merge(&server, &lead, survivor, duplicate).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let merge_id = reply.json::<DuplicateMergeResponse>().merge.id;
    server.clock.advance_ms(60_000);
    let reply = undo(&server, &lead, merge_id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // Whichever record one asks about (the client kept, the duplicate, the contact moved
    // and moved back), the merge and the undo are there: who, when, which records.
    for record in [survivor, duplicate, moved] {
        let entries = audit_about(&server, &lead, record).await;
        let actions: Vec<&str> = entries
            .iter()
            .map(|e| e.action.as_str())
            .filter(|a| *a == "merge" || *a == "undo_merge")
            .collect();
        assert_eq!(actions, ["merge", "undo_merge"], "{record}: {entries:#?}");
        for (entry, at) in entries
            .iter()
            .filter(|e| e.action.contains("merge"))
            .zip([NOW_MS, NOW_MS + 60_000])
        {
            assert_eq!(entry.actor, format!("user:{}", lead.user_id), "{entry:?}");
            assert_eq!(entry.at.timestamp_millis(), at, "{entry:?}");
            assert_eq!(entry.team_id, Some(server.team("north")));
            for id in [merge_id, survivor, duplicate, moved] {
                assert!(entry.detail.contains(&id.to_string()), "{id}: {entry:?}");
            }
        }
    }
    // Another team's lead does not see them; the chain stays whole.
    assert!(
        audit_about(&server, &lead_s, duplicate)
            .await
            .iter()
            .all(|e| !e.action.contains("merge"))
    );
    let entries = server
        .store
        .audit_entries(tandem_server::store::AuditFilter {
            after: 0,
            limit: 1000,
            team_id: None,
            record_id: None,
        })
        .await
        .unwrap();
    let mut walker = tandem_server::audit::ChainWalker::default();
    for entry in &entries {
        walker.check(entry).unwrap();
    }
}

both_backends!(the_access_export_of_a_client_gives_the_duplicates_merged_into_it);
async fn the_access_export_of_a_client_gives_the_duplicates_merged_into_it(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let (kept, _) = create_client(&server, &coach, &[("given_name", json!("Olga"))]).await;
    let (first, _) = create_client(&server, &coach, &[("given_name", json!("Ольга"))]).await;
    let (second, _) = create_client(
        &server,
        &coach,
        &[
            ("given_name", json!("Olgamergedqx")),
            ("phone", json!("+358401234567")),
        ],
    )
    .await;
    let (visit, _) = create_contact(&server, &coach, second).await;
    // A chain: the second duplicate into the first, then the first into the client kept.
    for (survivor, duplicate) in [(first, second), (kept, first)] {
        let reply = merge(&server, &lead, survivor, duplicate).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    let reply = server
        .request(
            Method::GET,
            &format!("/v1/clients/{kept}/export"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let export: tandem_protocol::ClientExport = reply.json();
    let mut expected = vec![first, second];
    expected.sort_unstable();
    let merged: Vec<Uuid> = export
        .merged_clients
        .iter()
        .map(|c| Uuid::parse_str(c["record_id"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(merged, expected, "both duplicates, through the chain");
    let second_fields = export
        .merged_clients
        .iter()
        .find(|c| c["record_id"] == json!(second.to_string()))
        .unwrap();
    assert_eq!(second_fields["given_name"], json!("Olgamergedqx"));
    assert_eq!(second_fields["phone"], json!("+358401234567"));
    assert_eq!(second_fields["merged_into"], json!(first.to_string()));
    let contacts: Vec<&Value> = export.contacts.iter().map(|c| &c["record_id"]).collect();
    assert_eq!(contacts, [&json!(visit.to_string())]);
    // Every value of the duplicates is in the history, the merge's writes included.
    for (record, field) in [
        (first, "given_name"),
        (first, "merged_into"),
        (second, "given_name"),
        (second, "phone"),
        (second, "merged_into"),
    ] {
        assert!(
            export
                .history
                .iter()
                .any(|v| v.record_id == record && v.field == field && v.entity == "client"),
            "{record} {field}"
        );
    }
    assert!(export.history.windows(2).all(|w| w[0].seq < w[1].seq));

    let text = server
        .http
        .get(format!("{}/v1/clients/{kept}/export", server.base))
        .bearer_auth(&lead.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("current,client,{second},given_name,Olgamergedqx,")),
        "{text}"
    );
    assert!(
        text.contains(&format!("history,client,{first},given_name,Ольга,")),
        "{text}"
    );
}

both_backends!(a_dismissed_pair_is_in_the_audit_log_of_both_clients);
async fn a_dismissed_pair_is_in_the_audit_log_of_both_clients(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let lead_s = server.login("lead_s").await;
    let amina = [("given_name", json!("Amina")), ("birth_year", json!(1990))];
    let (first, _) = create_client(&server, &coach, &amina).await;
    let (second, _) = create_client(&server, &coach, &amina).await;
    let server_ref = &server;
    let dismiss = |token: String| async move {
        server_ref
            .request(
                Method::POST,
                "/v1/duplicates/dismiss",
                Some(&token),
                Some(json!({"first_id": second, "second_id": first})),
            )
            .await
    };
    let before = server.audit_len().await;
    // Another team's lead is refused, and leaves no entry.
    assert_eq!(
        dismiss(lead_s.token.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.audit_len().await, before);

    let reply = dismiss(lead.token.clone()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    // Dismissed again (a lost answer): nothing changes, so nothing more is recorded.
    assert_eq!(
        dismiss(lead.token.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(server.audit_len().await, before + 2, "one entry per client");

    for record in [first, second] {
        let entries: Vec<_> = audit_about(&server, &lead, record)
            .await
            .into_iter()
            .filter(|e| e.action == "dismiss_duplicate")
            .collect();
        assert_eq!(entries.len(), 1, "{record}: {entries:#?}");
        let entry = &entries[0];
        assert_eq!(entry.actor, format!("user:{}", lead.user_id));
        assert_eq!(entry.at.timestamp_millis(), NOW_MS);
        assert_eq!(entry.team_id, Some(server.team("north")));
        assert_eq!(entry.entity.as_deref(), Some("client"));
        for id in [first, second] {
            assert!(entry.detail.contains(&id.to_string()), "{id}: {entry:?}");
        }
        assert!(!entry.detail.contains("Amina"));
        assert!(
            audit_about(&server, &lead_s, record)
                .await
                .iter()
                .all(|e| e.action != "dismiss_duplicate")
        );
    }
    let entries = server
        .store
        .audit_entries(tandem_server::store::AuditFilter {
            after: 0,
            limit: 1000,
            team_id: None,
            record_id: None,
        })
        .await
        .unwrap();
    let mut walker = tandem_server::audit::ChainWalker::default();
    for entry in &entries {
        walker.check(entry).unwrap();
    }
}
