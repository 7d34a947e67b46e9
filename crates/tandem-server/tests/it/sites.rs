//! Sites, the organisation's NGO premises: server-owned reference data that the admin
//! commands make (through the store here; `binary.rs` runs the commands themselves) and
//! every signed-in device reads from `GET /v1/sites`.

use reqwest::Method;
use tandem_protocol::{RejectCode, Site, SiteList};
use tandem_server::ServerError;
use tandem_server::clock::Clock;
use tandem_server::store::MAX_SITE_NAME_CHARS;
use uuid::Uuid;

use crate::harness::*;

/// `GET /v1/sites` as `device`, which must succeed.
async fn sites(server: &TestServer, device: &Device) -> Vec<Site> {
    server.get_ok::<SiteList>("/v1/sites", device).await.sites
}

fn named(sites: &[Site]) -> Vec<(&str, bool)> {
    sites
        .iter()
        .map(|site| (site.name.as_str(), site.archived))
        .collect()
}

both_backends!(sites_added_on_the_server_are_listed_to_a_coach_by_name_archived_ones_flagged);
async fn sites_added_on_the_server_are_listed_to_a_coach_by_name_archived_ones_flagged(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    assert!(sites(&server, &coach).await.is_empty());
    let now = server.clock.now();
    let tikkurila = Uuid::from_u128(0x5173_0001);
    let hakunila = Uuid::from_u128(0x5173_0002);
    let myyrmaki = Uuid::from_u128(0x5173_0003);
    let added = server
        .store
        .add_site(tikkurila, "  Tikkurila NGO house ", now)
        .await
        .unwrap();
    assert_eq!(
        added,
        Site {
            id: tikkurila,
            name: "Tikkurila NGO house".into(),
            archived: false
        },
        "stored trimmed, active"
    );
    // Lower case sorts among upper case: the order ignores case.
    server
        .store
        .add_site(hakunila, "hakunila community centre", now)
        .await
        .unwrap();
    server
        .store
        .add_site(myyrmaki, "Myyrmäki library drop-in", now)
        .await
        .unwrap();
    let archived = server
        .store
        .set_site_archived(myyrmaki, true)
        .await
        .unwrap();
    assert!(archived.archived);

    let listed = sites(&server, &coach).await;
    assert_eq!(
        named(&listed),
        [
            ("hakunila community centre", false),
            ("Myyrmäki library drop-in", true),
            ("Tikkurila NGO house", false),
        ]
    );
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        [hakunila, myyrmaki, tikkurila]
    );
    assert_eq!(listed, server.store.list_sites().await.unwrap());
    // The raw JSON is the documented one.
    let reply = server
        .request(Method::GET, "/v1/sites", Some(&coach.token), None)
        .await;
    assert_eq!(
        reply.body["sites"][0],
        serde_json::json!({"id": hakunila, "name": "hakunila community centre", "archived": false})
    );
}

both_backends!(a_site_name_differing_only_in_case_or_spaces_is_refused_and_bad_names_too);
async fn a_site_name_differing_only_in_case_or_spaces_is_refused_and_bad_names_too(
    backend: Backend,
) {
    let server = start(backend).await;
    let now = server.clock.now();
    let store = &server.store;
    let first = Uuid::from_u128(0x5173_0011);
    store
        .add_site(first, "Myyrmäki library drop-in", now)
        .await
        .unwrap();
    // Unicode case: Ä and ä are one letter (SQLite's lower() would not know).
    for duplicate in ["Myyrmäki library drop-in", " MYYRMÄKI LIBRARY DROP-IN\t"] {
        match store
            .add_site(Uuid::from_u128(0x5173_0012), duplicate, now)
            .await
        {
            Err(err @ ServerError::SiteExists(_)) => {
                assert!(err.to_string().contains("exists already"), "{err}");
            }
            other => panic!("{duplicate:?} was not refused: {other:?}"),
        }
    }
    for bad in [
        "",
        "   ",
        &"x".repeat(MAX_SITE_NAME_CHARS + 1),
        "Tikkurila\nNGO",
    ] {
        let refused = store.add_site(Uuid::from_u128(0x5173_0013), bad, now).await;
        assert!(
            matches!(refused, Err(ServerError::InvalidSiteName(_))),
            "{bad:?}: {refused:?}"
        );
    }
    let longest = "x".repeat(MAX_SITE_NAME_CHARS);
    store
        .add_site(Uuid::from_u128(0x5173_0014), &longest, now)
        .await
        .unwrap();
    assert_eq!(store.list_sites().await.unwrap().len(), 2);
    // Renaming onto another site's name is refused too; onto its own name in other case not.
    let renamed = store.rename_site(first, &longest.to_uppercase()).await;
    assert!(
        matches!(renamed, Err(ServerError::SiteExists(_))),
        "{renamed:?}"
    );
    let recased = store
        .rename_site(first, "MYYRMÄKI library drop-in")
        .await
        .unwrap();
    assert_eq!(recased.name, "MYYRMÄKI library drop-in");
}

both_backends!(a_rename_and_an_archive_show_in_the_next_list_and_unknown_ids_are_errors);
async fn a_rename_and_an_archive_show_in_the_next_list_and_unknown_ids_are_errors(
    backend: Backend,
) {
    let server = start(backend).await;
    let lead_s = server.login("lead_s").await;
    let admin = server.login("admin").await;
    let now = server.clock.now();
    let site = Uuid::from_u128(0x5173_0021);
    let other = Uuid::from_u128(0x5173_0022);
    server
        .store
        .add_site(site, "Tikkurila drop-in", now)
        .await
        .unwrap();
    server
        .store
        .add_site(other, "Martinlaakso family centre", now)
        .await
        .unwrap();

    let renamed = server
        .store
        .rename_site(site, " Tikkurila NGO house ")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Tikkurila NGO house");
    server.store.set_site_archived(other, true).await.unwrap();
    // Sites are the organisation's: another team's lead and an admin see the same list.
    for device in [&lead_s, &admin] {
        assert_eq!(
            named(&sites(&server, device).await),
            [
                ("Martinlaakso family centre", true),
                ("Tikkurila NGO house", false)
            ]
        );
    }
    let unarchived = server.store.set_site_archived(other, false).await.unwrap();
    assert!(!unarchived.archived);
    assert_eq!(
        named(&sites(&server, &lead_s).await)[0],
        ("Martinlaakso family centre", false)
    );

    let unknown = Uuid::from_u128(0x5173_0029);
    for result in [
        server.store.rename_site(unknown, "Hakunila").await,
        server.store.set_site_archived(unknown, true).await,
        server.store.set_site_archived(unknown, false).await,
    ] {
        match result {
            Err(err @ ServerError::UnknownSite(id)) => {
                assert_eq!(id, unknown);
                assert!(err.to_string().contains(&unknown.to_string()), "{err}");
            }
            other => panic!("an unknown site was changed: {other:?}"),
        }
    }
    assert_eq!(server.store.list_sites().await.unwrap().len(), 2);
}

both_backends!(listing_sites_needs_a_live_device_token_and_writes_no_audit_entry);
async fn listing_sites_needs_a_live_device_token_and_writes_no_audit_entry(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    server
        .store
        .add_site(Uuid::from_u128(0x5173_0031), "Hakunila", server.clock.now())
        .await
        .unwrap();
    let before = server.audit_len().await;
    assert_eq!(sites(&server, &coach).await.len(), 1);
    assert_eq!(
        server.audit_len().await,
        before,
        "reading sites is not audited"
    );
    server
        .assert_get_needs_a_live_token("/v1/sites", &coach)
        .await;
}

both_backends!(a_contact_naming_a_site_the_server_lacks_is_refused_and_a_known_one_is_applied);
async fn a_contact_naming_a_site_the_server_lacks_is_refused_and_a_known_one_is_applied(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let closed = Uuid::from_u128(0x5173_0001);
    server
        .store
        .add_site(closed, "Old premises", server.clock.now())
        .await
        .unwrap();
    server.store.set_site_archived(closed, true).await.unwrap();
    let contact = Uuid::now_v7();
    let at = |site: Uuid| {
        change(
            &coach,
            "contact",
            contact,
            "site",
            serde_json::json!(site.to_string()),
            0,
            NOW_MS,
        )
    };
    let results = server
        .push(&coach, vec![at(Uuid::from_u128(0x5173_0009)), at(closed)])
        .await;
    assert_eq!(results[0].status, tandem_protocol::ChangeStatus::Rejected);
    assert!(
        results[0]
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with("site: no site has the id")),
        "{results:?}"
    );
    assert_eq!(results[0].reason_code, Some(RejectCode::UnknownSite));
    // An archived site is still a site: an old contact may be corrected.
    assert_eq!(results[1].status, tandem_protocol::ChangeStatus::Applied);
    let pulled = server.pull_all(&coach).await;
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].value, serde_json::json!(closed.to_string()));
}
