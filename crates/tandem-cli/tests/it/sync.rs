//! `tandem login`, `sync`, `conflicts list|resolve`, `rejected list` and `status` against a real
//! server over HTTP, with the device token and store key in the real OS keyring.

use serde_json::Value as Json;
use tandem_server::store::ServerStore;

use crate::TestStore;
use crate::sync_server::server;

fn client(store: &TestStore, id: &str) -> Json {
    store.json(&["client", "show", id])
}

#[test]
fn two_laptops_editing_one_client_offline_each_show_both_edits_and_one_open_conflict() {
    let server = server();
    let team = server.new_team();
    let (a, b) = (TestStore::new(), TestStore::new());
    a.ok(&["init"]);
    // Registered before signing in: the change is given to the user at login.
    let id = a.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--family-name",
        "Warsame",
    ]);
    a.login(server, &team.lead);
    let report = a.json(&["sync"]);
    assert_eq!(report["pushed"], 2, "{report}");
    assert_eq!(report["pending_after"], 0);

    b.ok(&["init"]);
    b.login(server, &team.coach);
    let report = b.json(&["sync"]);
    assert_eq!(report["new_records"], 1, "{report}");
    assert_eq!(client(&b, &id)["given_name"], "Amina");

    // Both offline: different fields, and the same review field.
    a.ok(&[
        "client",
        "edit",
        &id,
        "--nickname",
        "Ami",
        "--given-name",
        "Aminah",
    ]);
    b.ok(&[
        "client",
        "edit",
        &id,
        "--municipality",
        "Vantaa",
        "--given-name",
        "Amiina",
    ]);
    a.json(&["sync"]);
    let report = b.json(&["sync"]);
    assert_eq!(report["conflicts"], 1, "{report}");
    a.json(&["sync"]);

    let (shown_a, shown_b) = (client(&a, &id), client(&b, &id));
    for shown in [&shown_a, &shown_b] {
        assert_eq!(shown["nickname"], "Ami", "{shown}");
        assert_eq!(shown["municipality"], "Vantaa", "{shown}");
        assert_eq!(shown["family_name"], "Warsame");
    }
    assert_eq!(shown_a["given_name"], shown_b["given_name"]);
    for store in [&a, &b] {
        let conflicts = store.json(&["conflicts", "list"]);
        let conflicts = conflicts.as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0]["field"], "given_name");
        assert_eq!(conflicts[0]["status"], "open");
        let status = store.json(&["status"]);
        assert_eq!(status["pending_count"], 0);
        assert_eq!(status["open_conflicts"], 1);
        assert_eq!(status["rejected_count"], 0);
        assert!(status["last_sync_at"].is_string(), "{status}");
        assert!(status["last_sync_error"].is_null());
        assert!(status["clock_skew_ms"].is_i64(), "{status}");
        assert_eq!(store.json(&["rejected", "list"]), Json::Array(vec![]));
    }
    // The lead's laptop has the server's whole conflict, with both values.
    let detail = &a.json(&["conflicts", "list"])[0]["detail"];
    let values: Vec<_> = detail["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].clone())
        .collect();
    assert!(
        values.contains(&Json::from("Aminah")) && values.contains(&Json::from("Amiina")),
        "{detail}"
    );

    // The lead resolves it by picking the second value; the coach may not, and learns it by
    // the next sync.
    let conflict_id = detail["id"].to_string();
    let listed = a.ok(&["conflicts", "list"]);
    assert!(
        listed.contains("2. \"") && listed.contains("base: "),
        "{listed}"
    );
    let refused = b.fails(&["conflicts", "resolve", &conflict_id, "--pick", "1"]);
    assert!(refused.contains("team lead"), "{refused}");
    let not_json = a.fails(&["conflicts", "resolve", &conflict_id, "--value", "Amina"]);
    assert!(not_json.contains("not JSON"), "{not_json}");
    let resolved = a.json(&["conflicts", "resolve", &conflict_id, "--pick", "2"]);
    assert_eq!(resolved["conflict"]["status"], "resolved", "{resolved}");
    assert_eq!(resolved["value"], values[1], "{resolved}");
    let again = a.fails(&["conflicts", "resolve", &conflict_id, "--pick", "1"]);
    assert!(again.contains("no longer open"), "{again}");
    b.json(&["sync"]);
    assert_eq!(client(&b, &id)["given_name"], values[1]);
    assert_eq!(b.json(&["status"])["pending_count"], 0);
    assert_eq!(a.json(&["conflicts", "list"]), Json::Array(vec![]));
}

#[test]
fn a_wrong_password_is_refused_clearly_and_signs_nothing_in() {
    let server = server();
    let team = server.new_team();
    let store = TestStore::new();
    store.ok(&["init"]);
    let output = store.login_with(server, &team.coach, "not the password");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Wrong username or password"), "{stderr}");
    assert!(store.json(&["status"])["server_url"].is_null());
    let stderr = store.fails(&["sync"]);
    assert!(stderr.contains("not signed in"), "{stderr}");
}

#[test]
fn a_revoked_laptop_wipes_its_store_and_says_why() {
    let server = server();
    let team = server.new_team();
    let store = TestStore::new();
    store.ok(&["init"]);
    let login = store.login(server, &team.coach);
    store.ok(&["client", "add", "--given-name", "Sami"]);
    let device: uuid::Uuid = login["device_id"].as_str().unwrap().parse().unwrap();
    server
        .runtime
        .block_on(server.store.revoke_device(device))
        .unwrap();
    let stderr = store.fails(&["sync"]);
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(stderr.contains("1 unsent change"), "{stderr}");
    assert!(!store.db_path().exists(), "the store file is gone");
    // The key went with it: a new store starts empty and not signed in.
    let status = store.json(&["status"]);
    assert_eq!(status["pending_count"], 0);
    assert!(status["server_url"].is_null());
}

/// `tandem contact add` for `client` at `site`.
fn contact_at<'a>(client: &'a str, site: &'a str) -> [&'a str; 6] {
    ["contact", "add", "--client", client, "--site", site]
}

#[test]
fn a_sync_brings_the_sites_and_a_contact_names_its_site_by_name() {
    let server = server();
    let team = server.new_team();
    let unique = uuid::Uuid::now_v7();
    let library = format!("Myyrmäki library {unique}");
    let old = format!("Old premises {unique}");
    let library_id = server.add_site(&library, false);
    let old_id = server.add_site(&old, true);
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    laptop.login(server, &team.coach);
    let client = laptop.ok(&["client", "add", "--given-name", "Amina"]);
    let refused = laptop.fails(&contact_at(&client, &library));
    assert!(refused.contains("sync first"), "{refused}");

    laptop.json(&["sync"]);
    let sites = laptop.json(&["sites"]);
    let listed = |id: uuid::Uuid| {
        sites
            .as_array()
            .unwrap()
            .iter()
            .find(|site| site["id"] == id.to_string())
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {sites}"))
    };
    assert_eq!(listed(library_id)["name"], library.as_str());
    assert_eq!(listed(library_id)["archived"], false);
    assert_eq!(listed(old_id)["archived"], true);
    assert!(
        laptop
            .ok(&["sites"])
            .contains(&format!("{old}  (archived)"))
    );

    // By name, in any case, or by id.
    laptop.ok(&contact_at(&client, &library.to_uppercase()));
    laptop.ok(&contact_at(&client, &old_id.to_string()));
    let contacts = laptop.json(&["contact", "list", "--client", &client]);
    let mut named: Vec<_> = contacts
        .as_array()
        .unwrap()
        .iter()
        .map(|contact| contact["site"].as_str().unwrap().to_owned())
        .collect();
    named.sort();
    let mut expected = [library_id.to_string(), old_id.to_string()];
    expected.sort();
    assert_eq!(named, expected);
    // The text names them.
    let listed = laptop.ok(&["contact", "list", "--client", &client]);
    assert!(
        listed.contains(&format!("  at {library}  ")) && listed.contains(&format!("  at {old}  ")),
        "{listed}"
    );
    let unknown = laptop.fails(&contact_at(&client, "Nowhere"));
    assert!(
        unknown.contains("no site `Nowhere`") && unknown.contains(&library),
        "{unknown}"
    );
}

#[test]
fn a_sync_brings_the_teams_users_and_a_contact_names_its_coach_by_username() {
    let server = server();
    let team = server.new_team();
    let other_team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    laptop.login(server, &team.lead);
    assert!(laptop.ok(&["users"]).contains("no users yet"));
    let client = laptop.ok(&["client", "add", "--given-name", "Amina"]);
    // Before a sync the laptop knows only who signed in on it.
    let refused = laptop.fails(&[
        "contact",
        "add",
        "--client",
        &client,
        "--coach",
        &team.coach,
    ]);
    assert!(
        refused.contains(&format!("no user of the team `{}`", team.coach))
            && refused.contains("a sync brings new ones"),
        "{refused}"
    );
    laptop.ok(&["contact", "add", "--client", &client, "--coach", &team.lead]);

    laptop.json(&["sync"]);
    let users = laptop.json(&["users"]);
    let usernames: Vec<_> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|user| {
            (
                user["username"].as_str().unwrap(),
                user["role"].as_str().unwrap(),
            )
        })
        .collect();
    let mut expected = [
        (team.coach.as_str(), "coach"),
        (team.lead.as_str(), "team_lead"),
    ];
    expected.sort();
    assert_eq!(usernames, expected, "the team's members only, by username");
    let coach_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == team.coach.as_str())
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .unwrap();

    // By username, in any case; the contact reaches the server with its coach.
    let contact = laptop.ok(&[
        "contact",
        "add",
        "--client",
        &client,
        "--coach",
        &team.coach.to_uppercase(),
        "--occurred-at",
        "2026-11-26T09:30:00+02:00",
    ]);
    let listed = laptop.json(&["contact", "list", "--client", &client]);
    let logged = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|listed| listed["id"] == contact.as_str())
        .unwrap();
    assert_eq!(logged["coach_id"], coach_id.as_str());
    // Consent recorded by a colleague, named by username too.
    let consented = laptop.ok(&[
        "client",
        "add",
        "--given-name",
        "Bashir",
        "--consent",
        "recorded",
        "--consent-by",
        &team.coach,
    ]);
    assert_eq!(
        laptop.json(&["client", "show", &consented])["consent_by"],
        coach_id.as_str()
    );
    // The text names them.
    let shown = laptop.ok(&["client", "show", &consented]);
    assert!(
        shown.contains(&format!("consent_by: {}\n", team.coach)),
        "{shown}"
    );
    let listed = laptop.ok(&["contact", "list", "--client", &client]);
    assert!(
        listed.contains(&format!(
            "{contact}  2026-11-26 09:30 +02:00  drop_in  coach {}",
            team.coach
        )) && listed.contains(&format!("  coach {}", team.lead)),
        "{listed}"
    );
    let report = laptop.json(&["sync"]);
    assert_eq!(report["rejected"], 0, "{report}");

    let stranger = laptop.fails(&[
        "contact",
        "add",
        "--client",
        &client,
        "--coach",
        &other_team.coach,
    ]);
    assert!(
        stranger.contains(&format!("no user of the team `{}`", other_team.coach))
            && stranger.contains(&team.lead),
        "{stranger}"
    );
}

#[test]
fn a_refused_change_is_listed_with_the_servers_reason_and_its_code() {
    let server = server();
    let team = server.new_team();
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    // Before the first sync no user is known, so an id is taken as it is: this one is no
    // user of the team, and the server refuses that field only.
    let stranger = uuid::Uuid::now_v7().to_string();
    let id = laptop.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--consent-by",
        &stranger,
    ]);
    laptop.login(server, &team.coach);
    let report = laptop.json(&["sync"]);
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(client(&laptop, &id)["given_name"], "Amina");

    let listed = laptop.json(&["rejected", "list"]);
    let refused = &listed[0];
    assert_eq!(refused["field"], "consent_by", "{listed}");
    assert_eq!(refused["value"], stranger.as_str());
    assert_eq!(refused["reason_code"], "user_not_in_team");
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|reason| reason.starts_with("consent_by: ")),
        "{refused}"
    );
    let text = laptop.ok(&["rejected", "list"]);
    assert!(
        text.contains("consent_by") && text.ends_with("[user_not_in_team]"),
        "{text}"
    );
}
