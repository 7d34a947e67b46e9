//! Merges per field policy, idempotent pushes and pull pagination.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tandem_domain::Hlc;
use tandem_protocol::{ChangeStatus, ConflictList, ConflictStatus, ResolveConflictResponse};
use uuid::Uuid;

use crate::harness::*;

both_backends!(
    two_devices_editing_different_fields_of_one_client_are_both_applied_without_conflict
);
async fn two_devices_editing_different_fields_of_one_client_are_both_applied_without_conflict(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, versions) = create_client(&server, &a, &[("given_name", json!("Hodan"))]).await;
    let _ = versions;
    let ra = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                "nickname",
                json!("Ho"),
                0,
                NOW_MS,
            )],
        )
        .await;
    let rb = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "birth_year",
                json!(1990),
                0,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(ra[0].status, ChangeStatus::Applied);
    assert_eq!(rb[0].status, ChangeStatus::Applied);
    let lead = server.login("lead_n").await;
    let conflicts: ConflictList = server
        .request(
            Method::GET,
            "/v1/conflicts?status=all",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    assert!(conflicts.conflicts.is_empty());
    let pulled = server.pull_all(&b).await;
    assert!(
        pulled
            .iter()
            .any(|c| c.field == "nickname" && c.value == json!("Ho"))
    );
    assert!(
        pulled
            .iter()
            .any(|c| c.field == "birth_year" && c.value == json!(1990))
    );
}

both_backends!(
    concurrent_lww_edits_keep_the_higher_hlc_and_record_the_loser_and_an_auto_resolved_conflict
);
async fn concurrent_lww_edits_keep_the_higher_hlc_and_record_the_loser_and_an_auto_resolved_conflict(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[("given_name", json!("Abdi")), ("nickname", json!("A"))],
    )
    .await;
    // b edited later (higher HLC) but pushes first; a's older edit arrives second.
    let later = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "nickname",
                json!("Later"),
                v[1],
                NOW_MS + 5_000,
            )],
        )
        .await;
    assert_eq!(later[0].status, ChangeStatus::Applied);
    let earlier = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                "nickname",
                json!("Earlier"),
                v[1],
                NOW_MS + 1_000,
            )],
        )
        .await;
    assert_eq!(earlier[0].status, ChangeStatus::Conflict);
    assert_eq!(earlier[0].value, json!("Later"));
    assert_eq!(earlier[0].version, later[0].version);

    let history = server
        .store
        .field_history(server.team("north"), client, "nickname")
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.value == json!("Earlier") && !h.effective)
    );
    let lead = server.login("lead_n").await;
    let all: ConflictList = server
        .request(
            Method::GET,
            "/v1/conflicts?status=all",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    assert_eq!(all.conflicts.len(), 1);
    assert_eq!(all.conflicts[0].status, ConflictStatus::AutoResolved);
    assert_eq!(all.conflicts[0].base_value, json!("A"));
    let open: ConflictList = server
        .request(Method::GET, "/v1/conflicts", Some(&lead.token), None)
        .await
        .json();
    assert!(open.conflicts.is_empty());
    // The loser is never pulled as the field's value.
    let pulled = server.pull_all(&a).await;
    assert!(!pulled.iter().any(|c| c.value == json!("Earlier")));
}

both_backends!(
    concurrent_review_edits_open_a_conflict_that_a_team_lead_resolves_and_every_device_pulls
);
async fn concurrent_review_edits_open_a_conflict_that_a_team_lead_resolves_and_every_device_pulls(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(&server, &a, &[("given_name", json!("Maryam"))]).await;
    server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                "given_name",
                json!("Mariam"),
                v[0],
                NOW_MS + 1_000,
            )],
        )
        .await;
    let second = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "given_name",
                json!("Miriam"),
                v[0],
                NOW_MS + 2_000,
            )],
        )
        .await;
    assert_eq!(second[0].status, ChangeStatus::Conflict);
    assert_eq!(
        second[0].value,
        json!("Miriam"),
        "the higher HLC wins provisionally"
    );
    let conflict_id = second[0].conflict_id.unwrap();

    let lead = server.login("lead_n").await;
    let open: ConflictList = server
        .request(Method::GET, "/v1/conflicts", Some(&lead.token), None)
        .await
        .json();
    assert_eq!(open.conflicts.len(), 1);
    let conflict = &open.conflicts[0];
    assert_eq!(
        (conflict.id, conflict.status),
        (conflict_id, ConflictStatus::Open)
    );
    assert_eq!(conflict.base_value, json!("Maryam"));
    let values: Vec<_> = conflict.values.iter().map(|v| v.value.clone()).collect();
    assert_eq!(values, vec![json!("Mariam"), json!("Miriam")]);
    assert!(!conflict.clock_skew);

    let path = format!("/v1/conflicts/{conflict_id}/resolve");
    let by_coach = server
        .request(
            Method::POST,
            &path,
            Some(&a.token),
            Some(json!({"value": "Mariam"})),
        )
        .await;
    assert_eq!(by_coach.status, StatusCode::FORBIDDEN);
    let invalid = server
        .request(
            Method::POST,
            &path,
            Some(&lead.token),
            Some(json!({"value": 42})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        invalid.body["message"]
            .as_str()
            .unwrap()
            .contains("given_name")
    );
    assert_eq!(invalid.body["reason_code"], "invalid_value");
    // A refusal that is not of a value says no reason code.
    assert_eq!(by_coach.body.get("reason_code"), None, "{}", by_coach.body);
    let resolved = server
        .request(
            Method::POST,
            &path,
            Some(&lead.token),
            Some(json!({"value": "Mariam"})),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let resolved: ResolveConflictResponse = resolved.json();
    assert_eq!(resolved.conflict.status, ConflictStatus::Resolved);
    assert_eq!(resolved.conflict.resolved_by, Some(lead.user_id));
    let again = server
        .request(
            Method::POST,
            &path,
            Some(&lead.token),
            Some(json!({"value": "Mariam"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    for device in [&a, &b] {
        let pulled = server.pull_all(device).await;
        let last = pulled.iter().rfind(|c| c.field == "given_name").unwrap();
        assert_eq!(last.value, json!("Mariam"));
        assert_eq!(last.change_id, resolved.change.change_id);
    }
}

both_backends!(a_resolution_never_replaces_an_edit_made_after_the_conflict);
async fn a_resolution_never_replaces_an_edit_made_after_the_conflict(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[
            ("given_name", json!("Hanna")),
            ("phone", json!("040 111 1111")),
        ],
    )
    .await;
    let phone = |device, value: &str, base, hlc_ms| {
        change(
            device,
            "client",
            client,
            "phone",
            json!(value),
            base,
            hlc_ms,
        )
    };
    server
        .push(&a, vec![phone(&a, "040 222 2222", v[1], NOW_MS + 1_000)])
        .await;
    let second = server
        .push(&b, vec![phone(&b, "040 333 3333", v[1], NOW_MS + 2_000)])
        .await;
    assert_eq!(second[0].status, ChangeStatus::Conflict);
    let conflict_id = second[0].conflict_id.unwrap();
    // A later edit made knowing the field as the conflict left it: not concurrent.
    let later = server
        .push(
            &a,
            vec![phone(&a, "040 444 4444", second[0].version, NOW_MS + 3_000)],
        )
        .await;
    assert_eq!(later[0].status, ChangeStatus::Applied);

    let lead = server.login("lead_n").await;
    let path = format!("/v1/conflicts/{conflict_id}/resolve");
    let stale = server
        .request(
            Method::POST,
            &path,
            Some(&lead.token),
            Some(json!({"value": "040 222 2222"})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert_eq!(stale.error_code(), "conflict_not_open", "{}", stale.body);
    // The later edit stands, and the conflict is closed as settled by it, not by the lead.
    let pulled = server.pull_all(&b).await;
    let last = pulled.iter().rfind(|c| c.field == "phone").unwrap();
    assert_eq!(last.value, later[0].value);
    assert_eq!(last.change_id, later[0].change_id);
    let open: ConflictList = server
        .request(Method::GET, "/v1/conflicts", Some(&lead.token), None)
        .await
        .json();
    assert!(open.conflicts.is_empty(), "{:?}", open.conflicts);
    let all: ConflictList = server
        .request(
            Method::GET,
            "/v1/conflicts?status=all",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    let closed = &all.conflicts[0];
    assert_eq!(closed.status, ConflictStatus::AutoResolved);
    assert_eq!(closed.resolved_by, None);
    assert_eq!(closed.resolution_change_id, Some(later[0].change_id));
}

/// Opens a conflict on `field` of `client` (`given_name`: open for review; `nickname`: lww,
/// auto-resolved): `a` writes first, `b` concurrently from the same version. Returns the
/// conflict's id and the field's version after it. Round `round` orders the HLCs.
async fn open_a_conflict(
    server: &TestServer,
    (a, b): (&Device, &Device),
    client: Uuid,
    field: &str,
    base: u64,
    round: i64,
) -> (i64, u64) {
    let at = NOW_MS + round * 10_000;
    let first = server
        .push(
            a,
            vec![change(
                a,
                "client",
                client,
                field,
                json!(format!("A{round}")),
                base,
                at + 5_000,
            )],
        )
        .await;
    assert_eq!(first[0].status, ChangeStatus::Applied, "{first:?}");
    let second = server
        .push(
            b,
            vec![change(
                b,
                "client",
                client,
                field,
                json!(format!("B{round}")),
                base,
                at + 1_000,
            )],
        )
        .await;
    assert_eq!(second[0].status, ChangeStatus::Conflict, "{second:?}");
    (second[0].conflict_id.unwrap(), second[0].version)
}

/// North's two coaches, its lead, and a client made by the first coach (given name Hodan,
/// nickname Ho) with the versions of those fields.
async fn coaches_lead_and_a_client(
    server: &TestServer,
) -> (Device, Device, Device, (Uuid, Vec<u64>)) {
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let lead = server.login("lead_n").await;
    let client = create_client(
        server,
        &a,
        &[("given_name", json!("Hodan")), ("nickname", json!("Ho"))],
    )
    .await;
    (a, b, lead, client)
}

/// `lead` resolves conflict `id` with the value "Hodan".
async fn resolve_as_hodan(server: &TestServer, lead: &Device, id: i64) -> ResolveConflictResponse {
    let answer = server
        .request(
            Method::POST,
            &format!("/v1/conflicts/{id}/resolve"),
            Some(&lead.token),
            Some(json!({"value": "Hodan"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

/// The ids `GET /v1/conflicts?{query}` lists to `lead`, in its order.
async fn listed_conflict_ids(server: &TestServer, lead: &Device, query: &str) -> Vec<i64> {
    let reply = server
        .request(
            Method::GET,
            &format!("/v1/conflicts?{query}"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    let list: ConflictList = reply.json();
    list.conflicts.iter().map(|c| c.id).collect()
}

both_backends!(a_closed_limit_lists_every_open_conflict_and_only_the_newest_closed_ones);
async fn a_closed_limit_lists_every_open_conflict_and_only_the_newest_closed_ones(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b, lead, (client, v)) = coaches_lead_and_a_client(&server).await;
    let coaches = (&a, &b);
    // In id order: auto-resolved, open then resolved by the lead, auto-resolved, open (left
    // open), auto-resolved.
    let (auto1, nick) = open_a_conflict(&server, coaches, client, "nickname", v[1], 1).await;
    let (resolved, name) = open_a_conflict(&server, coaches, client, "given_name", v[0], 2).await;
    let name = resolve_as_hodan(&server, &lead, resolved)
        .await
        .change
        .version
        .max(name);
    let (auto2, nick) = open_a_conflict(&server, coaches, client, "nickname", nick, 3).await;
    let (open, _) = open_a_conflict(&server, coaches, client, "given_name", name, 4).await;
    let (auto3, _) = open_a_conflict(&server, coaches, client, "nickname", nick, 5).await;
    // Another team's conflicts are never listed.
    let (c, d) = (server.login("coach_s").await, server.login("lead_s").await);
    let (south, sv) = create_client(&server, &c, &[("nickname", json!("Su"))]).await;
    open_a_conflict(&server, (&c, &d), south, "nickname", sv[0], 6).await;

    let listed = |query: &'static str| listed_conflict_ids(&server, &lead, query);
    assert_eq!(
        listed("status=all").await,
        vec![auto1, resolved, auto2, open, auto3],
        "without a limit: every conflict, oldest first"
    );
    assert_eq!(
        listed("status=all&closed_limit=3").await,
        vec![resolved, auto2, open, auto3],
        "the open ones and the three newest closed ones, of either kind, oldest first"
    );
    assert_eq!(listed("status=all&closed_limit=1").await, vec![open, auto3]);
    assert_eq!(listed("status=all&closed_limit=0").await, vec![open]);
    assert_eq!(
        listed("status=all&closed_limit=100").await,
        listed("status=all").await
    );
    assert_eq!(listed("status=open&closed_limit=3").await, vec![open]);
    assert_eq!(
        listed("closed_limit=3").await,
        vec![open],
        "open is still the default"
    );
    for bad in [
        "closed_limit=-1",
        "closed_limit=x",
        "status=all&closed_limit=1001",
    ] {
        let reply = server
            .request(
                Method::GET,
                &format!("/v1/conflicts?{bad}"),
                Some(&lead.token),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{bad}");
    }
}

both_backends!(a_closed_limit_keeps_the_most_recently_closed_not_the_highest_ids);
async fn a_closed_limit_keeps_the_most_recently_closed_not_the_highest_ids(backend: Backend) {
    let server = start(backend).await;
    let (a, b, lead, (client, v)) = coaches_lead_and_a_client(&server).await;
    let coaches = (&a, &b);
    // X opened first; then auto-resolved ones (closed when made, higher ids); then X
    // resolved: the most recently closed, though the lowest id.
    let (x, _) = open_a_conflict(&server, coaches, client, "given_name", v[0], 1).await;
    server.clock.advance_ms(1_000);
    let (auto1, nick) = open_a_conflict(&server, coaches, client, "nickname", v[1], 2).await;
    server.clock.advance_ms(1_000);
    let (auto2, _) = open_a_conflict(&server, coaches, client, "nickname", nick, 3).await;
    server.clock.advance_ms(1_000);
    resolve_as_hodan(&server, &lead, x).await;

    let listed = |query: &'static str| listed_conflict_ids(&server, &lead, query);
    assert_eq!(listed("status=all").await, vec![x, auto1, auto2]);
    assert_eq!(
        listed("status=all&closed_limit=1").await,
        vec![x],
        "the one decided last, not the highest id"
    );
    assert_eq!(
        listed("status=all&closed_limit=2").await,
        vec![x, auto2],
        "then the one made (and closed) last; listed oldest first"
    );
}

both_backends!(concurrent_set_edits_merge_additions_and_removals_without_conflict);
async fn concurrent_set_edits_merge_additions_and_removals_without_conflict(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[
            ("given_name", json!("Lan")),
            ("languages", json!(["fi", "vi"])),
        ],
    )
    .await;
    server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                "languages",
                json!(["en", "fi", "vi"]),
                v[1],
                NOW_MS,
            )],
        )
        .await;
    let merged = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "languages",
                json!(["vi"]),
                v[1],
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(merged[0].status, ChangeStatus::Merged);
    assert_eq!(merged[0].value, json!(["en", "vi"]));
    let lead = server.login("lead_n").await;
    let all: ConflictList = server
        .request(
            Method::GET,
            "/v1/conflicts?status=all",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    assert!(all.conflicts.is_empty());
    let pulled = server.pull_all(&a).await;
    let last = pulled.iter().rfind(|c| c.field == "languages").unwrap();
    assert_eq!(last.value, json!(["en", "vi"]));
    assert_eq!(last.version, merged[0].version);
}

/// Two coaches edit `field` of one client concurrently from `base`, each staying within the
/// field's limits, but the combination of both edits would not (a text over 20,000
/// characters, a set over 100 members). The combination is not stored: an open conflict
/// keeps both values for the team lead, the later edit stands meanwhile, and the field stays
/// writable and readable (a stored value over the limit would fail every later read of it).
async fn a_combination_past_the_fields_limit_goes_to_review(
    backend: Backend,
    field: &str,
    base: serde_json::Value,
    ours: serde_json::Value,
    theirs: serde_json::Value,
) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[("given_name", json!("Nadia")), (field, base.clone())],
    )
    .await;
    let first = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                field,
                ours.clone(),
                v[1],
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(first[0].status, ChangeStatus::Applied);
    let second = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                field,
                theirs.clone(),
                v[1],
                NOW_MS + 1_000,
            )],
        )
        .await;
    assert_eq!(
        second[0].status,
        ChangeStatus::Conflict,
        "{field}: {:?}",
        second[0].conflict_id
    );
    assert_eq!(second[0].value, theirs, "the later edit stands meanwhile");
    let conflict_id = second[0].conflict_id.unwrap();

    let lead = server.login("lead_n").await;
    let open: ConflictList = server
        .request(Method::GET, "/v1/conflicts", Some(&lead.token), None)
        .await
        .json();
    assert_eq!(open.conflicts.len(), 1);
    let conflict = &open.conflicts[0];
    assert_eq!(
        (conflict.id, conflict.status, conflict.field.as_str()),
        (conflict_id, ConflictStatus::Open, field)
    );
    assert_eq!(conflict.base_value, base);
    let values: Vec<_> = conflict.values.iter().map(|v| v.value.clone()).collect();
    assert_eq!(values, vec![ours.clone(), theirs.clone()]);

    // The field stays writable and every device can read it.
    let on_top = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                client,
                field,
                ours.clone(),
                second[0].version,
                NOW_MS + 2_000,
            )],
        )
        .await;
    assert_eq!(on_top[0].status, ChangeStatus::Applied, "{on_top:?}");
    let pulled = server.pull_all(&b).await;
    let last = pulled.iter().rfind(|c| c.field == field).unwrap();
    assert_eq!(last.value, ours);

    // That later edit settled the conflict: a resolution would replace it unseen.
    let resolved = server
        .request(
            Method::POST,
            &format!("/v1/conflicts/{conflict_id}/resolve"),
            Some(&lead.token),
            Some(json!({ "value": theirs })),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::CONFLICT, "{}", resolved.body);
    let pulled = server.pull_all(&b).await;
    let last = pulled.iter().rfind(|c| c.field == field).unwrap();
    assert_eq!(last.value, ours);
}

both_backends!(concurrent_text_edits_whose_merge_would_be_too_long_go_to_review);
async fn concurrent_text_edits_whose_merge_would_be_too_long_go_to_review(backend: Backend) {
    // Each side rewrites a different line (a clean three-way merge) to about 10,000
    // characters: each text is within 20,000, the merge is not.
    let long = |c: &str| c.repeat(10_050);
    a_combination_past_the_fields_limit_goes_to_review(
        backend,
        "notes",
        json!("first\nsecond\nthird"),
        json!(format!("{}\nsecond\nthird", long("a"))),
        json!(format!("first\nsecond\n{}", long("b"))),
    )
    .await;
}

both_backends!(concurrent_set_edits_whose_merge_would_have_too_many_members_go_to_review);
async fn concurrent_set_edits_whose_merge_would_have_too_many_members_go_to_review(
    backend: Backend,
) {
    // 60 tags; each side adds 30 of its own: 90 each, 120 merged (at most 100 are allowed).
    let tags = |prefix: &'static str, n: usize| (0..n).map(move |i| format!("{prefix}{i:02}"));
    let base: Vec<String> = tags("t", 60).collect();
    let mut ours: Vec<String> = base.iter().cloned().chain(tags("a", 30)).collect();
    let mut theirs: Vec<String> = base.iter().cloned().chain(tags("b", 30)).collect();
    ours.sort();
    theirs.sort();
    a_combination_past_the_fields_limit_goes_to_review(
        backend,
        "tags",
        json!(base),
        json!(ours),
        json!(theirs),
    )
    .await;
}

both_backends!(a_repeated_push_returns_the_first_results_and_adds_nothing);
async fn a_repeated_push_returns_the_first_results_and_adds_nothing(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let client = Uuid::now_v7();
    let batch = vec![
        change(
            &a,
            "client",
            client,
            "given_name",
            json!("Kadri"),
            0,
            NOW_MS,
        ),
        change(&a, "client", client, "shoe_size", json!(41), 0, NOW_MS),
        change(&a, "client", client, "nickname", json!("K"), 0, NOW_MS),
    ];
    let first = server.push(&a, batch.clone()).await;
    let pulled_before = server.pull_all(&a).await;
    let history_before = server
        .store
        .field_history(server.team("north"), client, "given_name")
        .await
        .unwrap();
    let second = server.push(&a, batch).await;
    assert_eq!(first, second);
    assert_eq!(first[1].status, ChangeStatus::Rejected);
    assert_eq!(server.pull_all(&a).await, pulled_before);
    let history_after = server
        .store
        .field_history(server.team("north"), client, "given_name")
        .await
        .unwrap();
    assert_eq!(history_after, history_before);
}

both_backends!(a_change_id_twice_in_one_push_gets_the_first_answer_and_is_applied_once);
async fn a_change_id_twice_in_one_push_gets_the_first_answer_and_is_applied_once(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let client = Uuid::now_v7();
    let first = change(
        &a,
        "client",
        client,
        "given_name",
        json!("Kadri"),
        0,
        NOW_MS,
    );
    let mut again = change(&a, "client", client, "given_name", json!("Liis"), 0, NOW_MS);
    again.change_id = first.change_id;
    let answers = server.push(&a, vec![first, again]).await;
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].status, ChangeStatus::Applied);
    let history = server
        .store
        .field_history(server.team("north"), client, "given_name")
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].value, json!("Kadri"));
}

both_backends!(pull_pagination_returns_each_change_exactly_once_at_every_boundary);
async fn pull_pagination_returns_each_change_exactly_once_at_every_boundary(backend: Backend) {
    const LIMIT: u32 = 5;
    for count in [0, 1, LIMIT - 1, LIMIT, LIMIT + 1, 2 * LIMIT + 1] {
        let server = start(backend).await;
        let a = server.login("coach_a").await;
        // The other team's writes are interleaved and must never appear.
        let s = server.login("coach_s").await;
        let mut expected = Vec::new();
        for i in 0..count {
            let id = Uuid::now_v7();
            let results = server
                .push(
                    &a,
                    vec![change(
                        &a,
                        "client",
                        id,
                        "given_name",
                        json!(format!("Name {i}")),
                        0,
                        NOW_MS,
                    )],
                )
                .await;
            expected.push(results[0].version);
            server
                .push(
                    &s,
                    vec![change(
                        &s,
                        "client",
                        Uuid::now_v7(),
                        "given_name",
                        json!("Other"),
                        0,
                        NOW_MS,
                    )],
                )
                .await;
        }
        // Where every pull of this team ends: its newest write, not the other team's.
        let head = expected.last().copied().unwrap_or(0);
        let (mut after, mut seen, mut pages) = (0, Vec::new(), 0);
        loop {
            let page = server.pull(&a, after, LIMIT).await;
            pages += 1;
            assert!(page.changes.len() <= LIMIT as usize);
            assert_eq!(page.head, Some(head), "count {count}, after {after}");
            seen.extend(page.changes.iter().map(|c| c.seq));
            assert!(page.changes.iter().all(|c| c.value != json!("Other")));
            after = page.next;
            if !page.has_more {
                break;
            }
        }
        assert_eq!(seen, expected, "count {count}");
        assert_eq!(
            pages,
            (count.max(1) as usize).div_ceil(LIMIT as usize),
            "count {count}"
        );
        let tail = server.pull(&a, after, LIMIT).await;
        assert!(tail.changes.is_empty() && !tail.has_more && tail.next == after);
        assert_eq!(tail.head, Some(after));
    }
}

both_backends!(a_push_decides_its_changes_as_if_each_came_in_a_push_of_its_own);
async fn a_push_decides_its_changes_as_if_each_came_in_a_push_of_its_own(backend: Backend) {
    // A push reads the state it needs up front and writes at the end; a change must still see
    // every earlier change of the same push: the concurrent ones below conflict (a name, two
    // edits of one line of text), merge (languages) or match (the same family name) with the
    // first, as they would one push later.
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let fields = [
        ("given_name", json!("Lan")),
        ("languages", json!(["fi", "vi"])),
        ("notes", json!("Met.\n")),
    ];
    let batch = |client: Uuid, v: &[u64]| {
        vec![
            change(
                &a,
                "client",
                client,
                "given_name",
                json!("Lanh"),
                v[0],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "given_name",
                json!("Lam"),
                v[0],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "languages",
                json!(["en", "fi", "vi"]),
                v[1],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "languages",
                json!(["vi"]),
                v[1],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "notes",
                json!("Met.\nCalled.\n"),
                v[2],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "notes",
                json!("Met twice.\n"),
                v[2],
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "family_name",
                json!("Tran"),
                0,
                NOW_MS,
            ),
            change(
                &a,
                "client",
                client,
                "family_name",
                json!("Tran"),
                0,
                NOW_MS,
            ),
        ]
    };
    let (together, v) = create_client(&server, &a, &fields).await;
    let together_first = v[0];
    let answers_together = server.push(&a, batch(together, &v)).await;
    let (apart, v) = create_client(&server, &a, &fields).await;
    let apart_first = v[0];
    let mut answers_apart = Vec::new();
    for change in batch(apart, &v) {
        answers_apart.extend(server.push(&a, vec![change]).await);
    }
    // Versions count from the record's first write (seqs differ between the two records).
    let shape = |answers: &[tandem_protocol::ChangeResult], first: u64| {
        answers
            .iter()
            .map(|r| {
                let version = (r.version > 0).then(|| r.version - first);
                (r.status, version, r.value.clone(), r.conflict_id.is_some())
            })
            .collect::<Vec<_>>()
    };
    let together_shape = shape(&answers_together, together_first);
    assert_eq!(together_shape, shape(&answers_apart, apart_first));
    let statuses: Vec<ChangeStatus> = answers_together.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            ChangeStatus::Applied,
            ChangeStatus::Conflict,
            ChangeStatus::Applied,
            ChangeStatus::Merged,
            ChangeStatus::Applied,
            ChangeStatus::Conflict,
            ChangeStatus::Applied,
            ChangeStatus::Applied,
        ],
        "{answers_together:?}"
    );
    let team = server.team("north");
    for field in ["given_name", "languages", "notes", "family_name"] {
        let mut histories = Vec::new();
        for client in [together, apart] {
            let entries = server
                .store
                .field_history(team, client, field)
                .await
                .unwrap();
            histories.push(
                entries
                    .into_iter()
                    .map(|e| (e.value, e.effective))
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(histories[0], histories[1], "{field}");
    }
    let pulled = server.pull_all(&a).await;
    let last = |client: Uuid, field: &str| {
        pulled
            .iter()
            .rfind(|c| c.record_id == client && c.field == field)
            .map(|c| (c.value.clone(), c.version))
            .unwrap()
    };
    for field in ["given_name", "languages", "notes", "family_name"] {
        let (value_together, version_together) = last(together, field);
        let (value_apart, version_apart) = last(apart, field);
        assert_eq!(value_together, value_apart, "{field}");
        assert_eq!(
            version_together - together_first,
            version_apart - apart_first,
            "{field}"
        );
    }
}

both_backends!(a_clock_far_ahead_syncs_but_wins_a_field_for_a_day_at_most);
async fn a_clock_far_ahead_syncs_but_wins_a_field_for_a_day_at_most(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(
        &server,
        &a,
        &[("given_name", json!("Hodan")), ("nickname", json!("Ho"))],
    )
    .await;
    let mut crafted = change(&b, "client", client, "nickname", json!("Forever"), v[1], 0);
    crafted.hlc = format!("9999999999999-99999-{}", b.id);
    let mut days_ahead = change(&b, "client", client, "given_name", json!("Hoda"), v[0], 0);
    days_ahead.hlc = b.hlc(NOW_MS + 3 * 24 * 3_600_000);
    // Skew never blocks sync: both are stored, their HLCs taken as 25 hours ahead at most.
    let stored = server.push(&b, vec![crafted, days_ahead]).await;
    for result in &stored {
        assert_eq!(result.status, ChangeStatus::Applied, "{result:?}");
    }
    let limit = NOW_MS + 25 * 3_600_000;
    let pulled = server.pull_all(&a).await;
    for value in [json!("Forever"), json!("Hoda")] {
        let write = pulled.iter().find(|c| c.value == value).unwrap();
        assert_eq!(
            Hlc::parse(&write.hlc).unwrap().physical_ms(),
            limit as u64,
            "{write:?}"
        );
    }
    let concurrent =
        |value: &str, at: i64| change(&a, "client", client, "nickname", json!(value), v[1], at);
    // Within the day, the write ahead wins a concurrent edit, as a clock ahead does.
    let within = server.push(&a, vec![concurrent("Dani", NOW_MS)]).await;
    assert_eq!(within[0].status, ChangeStatus::Conflict, "{within:?}");
    assert_eq!(within[0].value, json!("Forever"), "{within:?}");
    // After it, a colleague's concurrent edit is decided as usual: the crafted HLC does not
    // win the field for good.
    server.clock.advance_ms(26 * 3_600_000);
    let after = server
        .push(&a, vec![concurrent("Dana", NOW_MS + 26 * 3_600_000)])
        .await;
    assert_eq!(after[0].status, ChangeStatus::Conflict, "{after:?}");
    assert_eq!(
        after[0].value,
        json!("Dana"),
        "the newer HLC wins: {after:?}"
    );
}

both_backends!(
    a_contact_refused_for_its_erased_client_stays_refused_when_its_later_edits_come_alone
);
async fn a_contact_refused_for_its_erased_client_stays_refused_when_its_later_edits_come_alone(
    backend: Backend,
) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let lead = server.login("lead_n").await;
    let (client, _) = create_client(&server, &a, &[("given_name", json!("Hodan"))]).await;
    let erased = server
        .request(
            Method::POST,
            &format!("/v1/clients/{client}/erase"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);

    // Logged offline for the client before the erasure reached this laptop: its first push
    // carries the first change of every field, the link among them, and is refused whole.
    let contact = Uuid::now_v7();
    let first = server
        .push(
            &b,
            vec![
                change(
                    &b,
                    "contact",
                    contact,
                    "summary",
                    json!("First words"),
                    0,
                    NOW_MS,
                ),
                change(
                    &b,
                    "contact",
                    contact,
                    "client_id",
                    json!(client),
                    0,
                    NOW_MS,
                ),
                change(
                    &b,
                    "contact",
                    contact,
                    "occurred_at",
                    json!("2026-01-14T10:00:00+02:00"),
                    0,
                    NOW_MS,
                ),
            ],
        )
        .await;
    // The later edits come one per field, without the link: refused the same way, so the
    // contact is never made without its client.
    let later = server
        .push(
            &b,
            vec![change(
                &b,
                "contact",
                contact,
                "summary",
                json!("Second words"),
                0,
                NOW_MS + 1,
            )],
        )
        .await;
    let again = server
        .push(
            &b,
            vec![
                change(
                    &b,
                    "contact",
                    contact,
                    "duration_min",
                    json!(30),
                    0,
                    NOW_MS + 2,
                ),
                change(
                    &b,
                    "contact",
                    contact,
                    "summary",
                    json!("Third words"),
                    0,
                    NOW_MS + 3,
                ),
            ],
        )
        .await;
    for result in first.iter().chain(&later).chain(&again) {
        assert_eq!(result.status, ChangeStatus::Rejected, "{result:?}");
        assert_eq!(
            result.reason_code,
            Some(tandem_protocol::RejectCode::RecordErased),
            "{result:?}"
        );
    }
    for device in [&a, &b] {
        let pulled = server.pull_all(device).await;
        assert!(
            pulled.iter().all(|c| c.record_id != contact),
            "no laptop pulls the contact: {pulled:?}"
        );
    }

    // An anonymous visit (no client) is made as before, and so is a contact of another client.
    let (other, _) = create_client(&server, &a, &[("given_name", json!("Amina"))]).await;
    let (anonymous, filed) = (Uuid::now_v7(), Uuid::now_v7());
    let made = server
        .push(
            &a,
            vec![
                change(
                    &a,
                    "contact",
                    anonymous,
                    "summary",
                    json!("Asked the way"),
                    0,
                    NOW_MS,
                ),
                change(&a, "contact", filed, "client_id", json!(other), 0, NOW_MS),
                change(&a, "contact", filed, "summary", json!("Work"), 0, NOW_MS),
            ],
        )
        .await;
    assert!(
        made.iter().all(|r| r.status == ChangeStatus::Applied),
        "{made:?}"
    );
}

both_backends!(a_conflict_id_is_never_given_again_after_its_conflict_was_erased);
async fn a_conflict_id_is_never_given_again_after_its_conflict_was_erased(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let lead = server.login("lead_n").await;
    // Two concurrent review edits of a client's name: a conflict, the newest one.
    let conflict_of = |client: Uuid, base: u64| {
        let (a, b, server) = (&a, &b, &server);
        async move {
            server
                .push(
                    a,
                    vec![change(
                        a,
                        "client",
                        client,
                        "given_name",
                        json!("Mariam"),
                        base,
                        NOW_MS,
                    )],
                )
                .await;
            let results = server
                .push(
                    b,
                    vec![change(
                        b,
                        "client",
                        client,
                        "given_name",
                        json!("Miriam"),
                        base,
                        NOW_MS + 1,
                    )],
                )
                .await;
            assert_eq!(results[0].status, ChangeStatus::Conflict, "{results:?}");
            results[0].conflict_id.unwrap()
        }
    };
    let (erased, v) = create_client(&server, &a, &[("given_name", json!("Maryam"))]).await;
    let old_id = conflict_of(erased, v[0]).await;
    let reply = server
        .request(
            Method::POST,
            &format!("/v1/clients/{erased}/erase"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    // A lead who still holds the old id must not resolve someone else's conflict with it.
    let (other, v) = create_client(&server, &a, &[("given_name", json!("Maryam"))]).await;
    let new_id = conflict_of(other, v[0]).await;
    assert!(new_id > old_id, "{new_id} after {old_id}");
    let stale = server
        .request(
            Method::POST,
            &format!("/v1/conflicts/{old_id}/resolve"),
            Some(&lead.token),
            Some(json!({"value": "Maryam"})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND, "{}", stale.body);
}
