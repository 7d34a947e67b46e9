//! A team lead's review against the real server: resolving a conflict reaches every device
//! by pull, a second resolution is refused, coaches cannot resolve, offline changes nothing,
//! and the team's laptops are listed with their health.

use serde_json::json;
use tandem_server::store::ServerStore;
use tandem_store::CLOSED_CONFLICTS_KEPT;
use tandem_sync::SyncError;
use tandem_sync::review::{ConflictChoice, resolve_conflict, team_devices};

use crate::device::TestDevice;
use crate::server::{SharedServer, shared};

fn resolve(
    device: &mut TestDevice,
    server: &SharedServer,
    id: i64,
    choice: ConflictChoice,
) -> Result<tandem_protocol::Conflict, SyncError> {
    server.runtime.block_on(resolve_conflict(
        &mut device.store,
        &device.transport,
        &device.clock,
        id,
        choice,
    ))
}

#[test]
fn a_team_leads_resolution_reaches_every_device_by_pull_and_cannot_be_made_twice() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = a.create_client(json!({"given_name": "Maryam"}));
    a.sync(server);
    b.sync(server);
    a.edit_client(id, json!({"given_name": "Mariam"}));
    b.edit_client(id, json!({"given_name": "Miriam"}));
    a.sync(server);
    assert_eq!(b.sync(server).conflicts, 1);
    a.sync(server);
    lead.sync(server);
    let open = lead.store.conflicts(false).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let conflict_id = open[0].id;

    // A coach may look but not decide.
    let refused = resolve(&mut a, server, conflict_id, ConflictChoice::Pick(1)).unwrap_err();
    assert!(
        matches!(refused, SyncError::Forbidden { .. }),
        "{refused:?}"
    );
    // A value the field does not accept is refused before anything is sent.
    let invalid = resolve(
        &mut lead,
        server,
        conflict_id,
        ConflictChoice::Value(json!("")),
    )
    .unwrap_err();
    assert!(
        matches!(&invalid, SyncError::InvalidResolution { field, .. } if field == "given_name"),
        "{invalid:?}"
    );
    let beyond = resolve(&mut lead, server, conflict_id, ConflictChoice::Pick(3)).unwrap_err();
    assert!(
        matches!(beyond, SyncError::NoSuchConflictValue { count: 2, .. }),
        "{beyond:?}"
    );

    // The team lead writes another value; it stands on the lead's laptop at once.
    let resolved = resolve(
        &mut lead,
        server,
        conflict_id,
        ConflictChoice::Value(json!("Maryam A.")),
    )
    .unwrap();
    assert_eq!(resolved.status, tandem_protocol::ConflictStatus::Resolved);
    assert_eq!(lead.value(id, "given_name"), Some(json!("Maryam A.")));
    assert!(lead.store.conflicts(false).unwrap().is_empty());
    assert_eq!(
        lead.store.conflict(conflict_id).unwrap().unwrap().status,
        "resolved"
    );
    assert_eq!(
        lead.store.pending_count().unwrap(),
        0,
        "a resolution is not a local edit"
    );

    // Every device gets it by pull, the lead's own pull finds it already stored; the coach
    // whose push ran into the conflict no longer shows it open.
    assert_eq!(b.store.conflicts(false).unwrap().len(), 1);
    for device in [&mut a, &mut b, &mut lead] {
        device.sync(server);
        assert_eq!(device.value(id, "given_name"), Some(json!("Maryam A.")));
        assert_eq!(device.store.pending_count().unwrap(), 0);
        assert!(device.store.conflicts(false).unwrap().is_empty());
    }

    // Resolving again is refused, and the mirror shows why.
    let again = resolve(&mut lead, server, conflict_id, ConflictChoice::Pick(1)).unwrap_err();
    assert!(
        matches!(again, SyncError::ConflictNotOpen { .. }),
        "{again:?}"
    );
}

#[test]
fn a_pick_resolves_with_that_value_and_a_second_lead_laptop_learns_it_was_resolved() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let mut lead2 = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = a.create_client(json!({"given_name": "Sami", "phone": "040 123 4567"}));
    a.sync(server);
    b.sync(server);
    a.edit_client(id, json!({"phone": "040 111 2222"}));
    b.edit_client(id, json!({"phone": "040 999 8888"}));
    a.sync(server);
    b.sync(server);
    lead.sync(server);
    lead2.sync(server);
    let conflict_id = lead.store.conflicts(false).unwrap()[0].id;
    let detail: tandem_protocol::Conflict = serde_json::from_str(
        lead.store
            .conflict(conflict_id)
            .unwrap()
            .unwrap()
            .detail
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    let first = detail.values[0].value.clone();

    resolve(&mut lead, server, conflict_id, ConflictChoice::Pick(1)).unwrap();
    // The other lead laptop still shows it open; its attempt is refused and refreshes it.
    let late = resolve(&mut lead2, server, conflict_id, ConflictChoice::Pick(2)).unwrap_err();
    assert!(
        matches!(late, SyncError::ConflictNotOpen { .. }),
        "{late:?}"
    );
    assert!(lead2.store.conflicts(false).unwrap().is_empty());
    for device in [&mut a, &mut b, &mut lead2] {
        device.sync(server);
        assert_eq!(device.value(id, "phone"), Some(first.clone()));
    }
}

#[test]
fn resolving_offline_changes_nothing_and_says_the_server_cannot_be_reached() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = a.create_client(json!({"given_name": "Aino", "birth_year": 1980}));
    a.sync(server);
    b.sync(server);
    a.edit_client(id, json!({"birth_year": 1981}));
    b.edit_client(id, json!({"birth_year": 1982}));
    a.sync(server);
    b.sync(server);
    lead.sync(server);
    let conflict_id = lead.store.conflicts(false).unwrap()[0].id;
    let before = lead.value(id, "birth_year");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let online = std::mem::replace(
        &mut lead.transport,
        tandem_sync::HttpTransport::new(
            &format!("http://127.0.0.1:{port}"),
            Some(lead.token.clone()),
            tandem_sync::TransportSettings::default(),
        )
        .unwrap(),
    );
    let error = resolve(
        &mut lead,
        server,
        conflict_id,
        ConflictChoice::Value(json!(1980)),
    )
    .unwrap_err();
    assert!(matches!(error, SyncError::Offline { .. }), "{error:?}");
    assert_eq!(lead.value(id, "birth_year"), before);
    assert_eq!(lead.store.conflicts(false).unwrap().len(), 1);
    assert_eq!(lead.store.pending_count().unwrap(), 0);
    // Back online, the same choice goes through.
    lead.transport = online;
    resolve(
        &mut lead,
        server,
        conflict_id,
        ConflictChoice::Value(json!(1980)),
    )
    .unwrap();
    a.sync(server);
    assert_eq!(a.value(id, "birth_year"), Some(json!(1980)));
}

#[test]
fn a_team_lead_sees_the_teams_laptops_with_their_last_sync_and_pending_count() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    a.create_client(json!({"given_name": "Leila"}));
    a.sync(server);
    let devices = server
        .runtime
        .block_on(team_devices(&lead.transport, &lead.clock))
        .unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let coach_laptop = devices.iter().find(|d| d.device.id == a.device_id).unwrap();
    assert_eq!(coach_laptop.days_since_sync, Some(0));
    assert!(!coach_laptop.at_risk);
    assert_eq!(
        coach_laptop.device.app_version.as_deref(),
        Some(tandem_sync::APP_VERSION)
    );
    // The lead's own laptop has not synced yet, but signed in today: not at risk.
    let own = devices
        .iter()
        .find(|d| d.device.id == lead.device_id)
        .unwrap();
    assert_eq!(own.days_since_sync, None);
    assert!(!own.at_risk);
    // A coach may not list devices.
    let refused = server
        .runtime
        .block_on(team_devices(&a.transport, &a.clock))
        .unwrap_err();
    assert!(
        matches!(refused, SyncError::Forbidden { .. }),
        "{refused:?}"
    );
}

#[test]
fn a_resolution_the_server_refuses_says_which_refusal_it_is() {
    let server = shared();
    let team = server.new_team();
    let mut a = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let id = a.create_client(json!({
        "given_name": "Hodan", "lawful_basis": "consent", "disability": "yes",
    }));
    a.sync(server);
    b.sync(server);
    a.edit_client(id, json!({"lawful_basis": "public_task"}));
    b.edit_client(id, json!({"lawful_basis": "legal_obligation"}));
    a.sync(server);
    assert_eq!(b.sync(server).conflicts, 1);
    lead.sync(server);
    let conflict_id = lead.store.conflicts(false).unwrap()[0].id;

    // Clearing the basis passes this laptop's check of the field alone; the server sees the
    // client's special-category data and refuses, saying so by code.
    let refused = resolve(
        &mut lead,
        server,
        conflict_id,
        ConflictChoice::Value(json!(null)),
    )
    .unwrap_err();
    assert!(
        matches!(
            &refused,
            SyncError::InvalidResolution {
                field,
                rule: None,
                reason_code: Some(tandem_protocol::RejectCode::LawfulBasisInUse),
                ..
            } if field == "lawful_basis"
        ),
        "{refused:?}"
    );
    assert!(
        refused.to_string().ends_with(" [lawful_basis_in_use]"),
        "{refused}"
    );
    assert_eq!(lead.store.conflicts(false).unwrap().len(), 1, "still open");
}

/// The ids of what the server lists for `team` (every conflict), split into the open ones
/// and the most recently closed ones a laptop keeps, most recent first.
fn on_server(server: &SharedServer, team: &crate::server::TestTeam) -> (Vec<i64>, Vec<i64>) {
    let every = server
        .runtime
        .block_on(server.store.list_conflicts(team.id, false))
        .unwrap();
    let (open, mut closed): (Vec<_>, Vec<_>) = every
        .iter()
        .partition(|c| c.status == tandem_protocol::ConflictStatus::Open);
    // Most recently closed last: by when it was decided (made, if closed when made), then id.
    closed.sort_by_key(|c| (c.resolved_at.unwrap_or(c.created_at), c.id));
    assert!(
        closed.len() > CLOSED_CONFLICTS_KEPT,
        "more closed conflicts than a laptop keeps: {}",
        closed.len()
    );
    let newest_closed = closed
        .iter()
        .rev()
        .take(CLOSED_CONFLICTS_KEPT)
        .map(|c| c.id);
    (open.iter().map(|c| c.id).collect(), newest_closed.collect())
}

/// What a lead's laptop holds: the open conflicts, the closed ones shown (newest first), and
/// how many it holds in all.
fn mirror(device: &TestDevice) -> (Vec<i64>, Vec<i64>, usize) {
    let ids = |list: Vec<tandem_store::LocalConflict>| list.iter().map(|c| c.id).collect();
    (
        ids(device.store.conflicts(false).unwrap()),
        ids(device
            .store
            .closed_conflicts(CLOSED_CONFLICTS_KEPT)
            .unwrap()),
        device.store.conflicts(true).unwrap().len(),
    )
}

/// A team with more closed (lww) conflicts than a laptop keeps, then one open conflict;
/// returns the coaches' laptops and the client.
fn many_closed_conflicts_then_an_open_one(
    server: &SharedServer,
    team: &crate::server::TestTeam,
) -> (TestDevice, TestDevice, tandem_domain::RecordId) {
    let (mut a, mut b, id) = two_coaches_with_a_client(server, team);
    more_auto_resolved_conflicts_than_kept(server, (&mut a, &mut b), id);
    a.edit_client(id, json!({"given_name": "Mariam"}));
    b.edit_client(id, json!({"given_name": "Miriam"}));
    a.sync(server);
    assert_eq!(b.sync(server).conflicts, 1);
    (a, b, id)
}

/// Two coaches' laptops of `team` that both know a new client (Maryam, nickname M).
fn two_coaches_with_a_client(
    server: &SharedServer,
    team: &crate::server::TestTeam,
) -> (TestDevice, TestDevice, tandem_domain::RecordId) {
    let mut a = TestDevice::sign_in(server, team, &team.coach, 0);
    let mut b = TestDevice::sign_in(server, team, &team.coach, 0);
    let id = a.create_client(json!({"given_name": "Maryam", "nickname": "M"}));
    a.sync(server);
    b.sync(server);
    (a, b, id)
}

/// More auto-resolved (lww) conflicts on `id`'s nickname than a laptop keeps: each round
/// edits it on both laptops before either learns of the other's. Both end in sync.
fn more_auto_resolved_conflicts_than_kept(
    server: &SharedServer,
    (a, b): (&mut TestDevice, &mut TestDevice),
    id: tandem_domain::RecordId,
) {
    for round in 0..=CLOSED_CONFLICTS_KEPT {
        a.edit_client(id, json!({"nickname": format!("A{round}")}));
        b.edit_client(id, json!({"nickname": format!("B{round}")}));
        a.sync(server);
        b.sync(server);
    }
    a.sync(server);
}

#[test]
fn a_conflict_decided_after_more_newer_auto_resolved_ones_than_kept_is_shown_and_kept() {
    let server = shared();
    let team = server.new_team();
    let (mut a, mut b, id) = two_coaches_with_a_client(server, &team);
    // X: opened first, for review.
    a.edit_client(id, json!({"given_name": "Mariam"}));
    b.edit_client(id, json!({"given_name": "Miriam"}));
    a.sync(server);
    assert_eq!(b.sync(server).conflicts, 1);
    a.sync(server);
    // Then more auto-resolved ones than a laptop keeps, all with higher ids than X.
    more_auto_resolved_conflicts_than_kept(server, (&mut a, &mut b), id);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let mut lead2 = TestDevice::sign_in(server, &team, &team.lead, 0);
    lead.sync(server);
    let open = lead.store.conflicts(false).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let x = open[0].id;

    // X decided on another lead's laptop: the most recently closed conflict of the team.
    lead2.sync(server);
    resolve(&mut lead2, server, x, ConflictChoice::Pick(1)).unwrap();
    let listed = server
        .runtime
        .block_on(lead.transport.conflicts(CLOSED_CONFLICTS_KEPT))
        .unwrap();
    assert!(
        listed.conflicts.iter().any(|c| c.id == x),
        "the server lists it among the closed ones"
    );
    lead.sync(server);
    let (open_now, shown, held) = mirror(&lead);
    assert!(open_now.is_empty(), "{open_now:?}");
    assert_eq!(
        shown.first(),
        Some(&x),
        "shown first among the decided ones"
    );
    assert_eq!(lead.store.conflict(x).unwrap().unwrap().status, "resolved");
    assert_eq!(
        (shown.len(), held),
        (CLOSED_CONFLICTS_KEPT, CLOSED_CONFLICTS_KEPT)
    );
    // And it stays through the next sync.
    lead.sync(server);
    assert_eq!(mirror(&lead).1.first(), Some(&x));
    assert_eq!(mirror(&lead).1, on_server(server, &team).1);
}

#[test]
fn a_team_leads_laptop_mirrors_every_open_conflict_and_only_the_newest_closed_ones() {
    let server = shared();
    let team = server.new_team();
    let (_a, _b, _) = many_closed_conflicts_then_an_open_one(server, &team);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let mut lead2 = TestDevice::sign_in(server, &team, &team.lead, 0);
    lead.sync(server);
    let (open, newest_closed) = on_server(server, &team);
    assert_eq!(open.len(), 1);
    assert_eq!(
        mirror(&lead),
        (open.clone(), newest_closed, 1 + CLOSED_CONFLICTS_KEPT)
    );

    // Resolved on another lead's laptop: after the next sync it is no longer open here, and
    // it is the newest of the closed ones shown.
    lead2.sync(server);
    resolve(&mut lead2, server, open[0], ConflictChoice::Pick(1)).unwrap();
    lead.sync(server);
    let (open_now, shown, held) = mirror(&lead);
    assert!(open_now.is_empty(), "{open_now:?}");
    assert_eq!(shown[0], open[0]);
    assert_eq!(
        lead.store.conflict(open[0]).unwrap().unwrap().status,
        "resolved"
    );
    assert_eq!(
        (shown.len(), held),
        (CLOSED_CONFLICTS_KEPT, CLOSED_CONFLICTS_KEPT)
    );
}

/// A proxy in front of the server that takes `closed_limit` out of every request, as a
/// server from before it ignores it; its base URL.
fn start_server_ignoring_closed_limit(server: &SharedServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = server.base.trim_start_matches("http://").to_owned();
    server.runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.split();
                    let up = async {
                        let mut buffer = vec![0u8; 1 << 16];
                        while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
                            let text = String::from_utf8_lossy(&buffer[..n]);
                            let bytes = if text.starts_with("GET /v1/conflicts?") {
                                let line_end = text.find("\r\n").unwrap();
                                let line = text[..line_end].replace("&closed_limit=50", "");
                                [line.as_bytes(), &buffer[line_end..n]].concat()
                            } else {
                                buffer[..n].to_vec()
                            };
                            if server_write.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut server_read, &mut client_write);
                    tokio::select! {
                        () = up => {}
                        _ = down => {}
                    }
                });
            }
        });
        base
    })
}

#[test]
fn a_server_that_lists_every_conflict_gives_the_same_mirror() {
    let server = shared();
    let team = server.new_team();
    let (_a, _b, _) = many_closed_conflicts_then_an_open_one(server, &team);
    let mut lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    let mut old_lead = TestDevice::sign_in(server, &team, &team.lead, 0);
    old_lead.transport = tandem_sync::HttpTransport::new(
        &start_server_ignoring_closed_limit(server),
        Some(old_lead.token.clone()),
        tandem_sync::TransportSettings {
            // One connection per request: the proxy rewrites the first packet of each.
            reuse_connections: false,
            ..tandem_sync::TransportSettings::default()
        },
    )
    .unwrap();
    let everything = server
        .runtime
        .block_on(old_lead.transport.conflicts(CLOSED_CONFLICTS_KEPT))
        .unwrap();
    let (open, newest_closed) = on_server(server, &team);
    assert!(
        everything.conflicts.len() > open.len() + CLOSED_CONFLICTS_KEPT,
        "the proxy answers as a server from before `closed_limit`: {}",
        everything.conflicts.len()
    );
    lead.sync(server);
    old_lead.sync(server);
    let expected = (open, newest_closed, 1 + CLOSED_CONFLICTS_KEPT);
    assert_eq!(mirror(&lead), expected);
    assert_eq!(mirror(&old_lead), expected);
}
