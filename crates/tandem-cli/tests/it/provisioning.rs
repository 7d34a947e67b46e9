//! The provisioning file as the `tandem` command reads it: `tandem config show` and where
//! each value came from, invalid files reported by key, the provisioned server and
//! organisation CA used by `login` and `sync` against a real HTTPS tandem-server, and a
//! revocation by an admin through the server's API, end to end.

use std::path::Path;
use std::process::Output;

use serde_json::{Value as Json, json};
use tandem_protocol::Role;
use tandem_server::clock::{Clock, SystemClock};
use tandem_server::store::ServerStore;
use tandem_testkit::TestPki;
use uuid::Uuid;

use crate::TestStore;
use crate::sync_server::{PASSWORD, server, start_server};

/// `tandem --json login ARGS --username USER --password-stdin` with the right password.
fn login(store: &TestStore, args: &[&str], username: &str) -> Output {
    let mut all = vec!["--json", "login"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--username", username, "--password-stdin"]);
    store.run_with_input(&all, format!("{PASSWORD}\n").as_bytes())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn config_show_prints_each_value_with_where_it_came_from() {
    let store = TestStore::new();
    let shown = store.json(&["config", "show"]);
    assert_eq!(shown["provisioning_file_present"], false);
    let setting = |shown: &Json, key: &str| {
        shown["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("{key} missing from {shown}"))
            .clone()
    };
    assert_eq!(
        setting(&shown, "lock_after_minutes"),
        json!({"key": "lock_after_minutes", "value": "10", "source": {"kind": "default"}})
    );

    store.provision(
        "server_url = \"https://tandem.vantaa.example\"\norganisation = \"City of Vantaa\"\nlock_after_minutes = 5\n",
    );
    let file = store.provisioning_file().display().to_string();
    let shown = store.json(&["config", "show"]);
    assert_eq!(shown["provisioning_file"], file);
    assert_eq!(shown["provisioning_file_present"], true);
    for (key, value) in [
        ("server_url", "https://tandem.vantaa.example"),
        ("organisation", "City of Vantaa"),
        ("lock_after_minutes", "5"),
    ] {
        assert_eq!(
            setting(&shown, key),
            json!({"key": key, "value": value, "source": {"kind": "provisioning_file", "path": file}})
        );
    }
    assert_eq!(
        setting(&shown, "updates.enabled"),
        json!({"key": "updates.enabled", "value": "false", "source": {"kind": "default"}})
    );

    let text = store.ok(&["config", "show"]);
    let line = text
        .lines()
        .find(|l| l.starts_with("organisation"))
        .unwrap();
    assert!(line.contains("City of Vantaa"), "{text}");
    assert!(
        line.contains(&format!("(provisioning file {file})")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("lock_after_minutes") && l.contains("5")),
        "{text}"
    );
}

#[test]
fn an_invalid_provisioning_file_is_reported_with_its_key_and_nothing_is_signed_in() {
    let store = TestStore::new();
    store.provision(
        "server_url = \"https://tandem.vantaa.example\"\nlock_after_minutes = \"ten\"\n",
    );
    let file = store.provisioning_file().display().to_string();
    let message = store.fails(&["config", "show"]);
    assert!(message.contains(&file), "{message}");
    assert!(message.contains("key `lock_after_minutes`"), "{message}");
    assert!(message.contains("whole number of minutes"), "{message}");

    store.provision("server_url = \"https://tandem.vantaa.example\"\norganization = \"Vantaa\"\n");
    let output = login(&store, &[], "nobody");
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("key `organization`"), "{message}");
    assert!(message.contains("is not a provisioning key"), "{message}");
    assert!(!store.db_path().exists() || store.json(&["status"])["server_url"].is_null());
}

#[test]
fn a_provisioned_server_is_used_by_login_and_cannot_be_changed() {
    let server = server();
    let team = server.new_team();
    let store = TestStore::new();
    store.ok(&["init"]);
    store.provision(&format!("server_url = \"{}/\"\n", server.base));

    let output = login(&store, &["--server", "http://127.0.0.1:9"], &team.coach);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("set by IT"), "{message}");
    assert!(message.contains(&server.base), "{message}");

    let output = login(&store, &[], &team.coach);
    assert!(output.status.success(), "{}", stderr(&output));
    let signed_in: Json = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(signed_in["server_url"], server.base.as_str());
}

#[test]
fn the_provisioned_organisation_ca_is_trusted_by_login_and_sync_and_nothing_else_is() {
    let pki = TestPki::new();
    let server = start_server(Some((&pki.cert(), &pki.key())));
    let team = server.new_team();
    let store = TestStore::new();
    store.ok(&["init"]);

    // Without the CA the server's certificate is refused, and nothing is signed in.
    store.provision(&format!("server_url = \"{}\"\n", server.base));
    let output = login(&store, &[], &team.coach);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("cannot be reached"), "{message}");
    assert!(
        message.to_lowercase().contains("certificate"),
        "the refusal names the certificate: {message}"
    );
    assert!(store.json(&["status"])["server_url"].is_null());

    // With it (a path relative to the provisioning file's folder works too), login and sync
    // go through.
    std::fs::copy(
        pki.ca(),
        Path::new(&store.provisioning_file()).with_file_name("city-ca.pem"),
    )
    .unwrap();
    store.provision(&format!(
        "server_url = \"{}\"\nca_cert = \"city-ca.pem\"\n",
        server.base
    ));
    let output = login(&store, &[], &team.coach);
    assert!(output.status.success(), "{}", stderr(&output));
    store.ok(&["client", "add", "--given-name", "Leila"]);
    let report = store.json(&["sync"]);
    assert_eq!(report["pushed"], 1, "{report}");
    assert_eq!(store.pending(), 0);
    drop(server.runtime);
}

#[test]
fn an_admin_revokes_a_laptop_through_the_server_and_its_next_sync_wipes_store_and_keyring() {
    let server = server();
    let team = server.new_team();
    let admin = format!("admin-{}", Uuid::now_v7());
    server.runtime.block_on(async {
        server
            .store
            .add_user(
                Uuid::now_v7(),
                &admin,
                &server.hash,
                Role::Admin,
                &[],
                SystemClock.now(),
            )
            .await
            .unwrap();
    });
    let store = TestStore::new();
    store.ok(&["init"]);
    let signed_in = store.login(server, &team.coach);
    let device = signed_in["device_id"].as_str().unwrap().to_owned();
    store.ok(&["client", "add", "--given-name", "Sami"]);
    assert!(
        tandem_sync::credentials::load_device_token(&store.data_dir())
            .unwrap()
            .is_some()
    );
    assert!(
        tandem_store::key::load_key(&store.data_dir())
            .unwrap()
            .is_some()
    );

    // The admin revokes the laptop through the API, as the admin tools do.
    let http = reqwest::Client::new();
    let status = server.runtime.block_on(async {
        let login: Json = http
            .post(format!("{}/v1/auth/login", server.base))
            .json(&json!({"username": admin, "password": PASSWORD, "device_name": "admin-desk"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["device_token"]
            .as_str()
            .expect("admin token")
            .to_owned();
        http.post(format!("{}/v1/devices/{device}/revoke", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, reqwest::StatusCode::OK);

    let message = store.fails(&["sync"]);
    assert!(message.contains("revoked by an administrator"), "{message}");
    assert!(message.contains("1 unsent change"), "{message}");
    assert!(!store.db_path().exists(), "the store file is gone");
    for suffix in ["-wal", "-shm"] {
        let path = format!("{}{suffix}", store.db_path().display());
        assert!(!Path::new(&path).exists(), "{path} is gone");
    }
    assert!(
        tandem_sync::credentials::load_device_token(&store.data_dir())
            .unwrap()
            .is_none(),
        "the device token left the keyring"
    );
    assert!(
        tandem_store::key::load_key(&store.data_dir())
            .unwrap()
            .is_none(),
        "the store key left the keyring"
    );
}

#[test]
fn the_documented_example_provisioning_file_is_valid() {
    let example = include_str!("../../../../packaging/config.example.toml");
    let pki = TestPki::new();
    let store = TestStore::new();
    let ca = pki.ca().display().to_string();
    assert!(example.contains("/etc/tandem/organisation-ca.pem"));
    store.provision(&example.replace("/etc/tandem/organisation-ca.pem", &ca));
    let shown = store.json(&["config", "show"]);
    let value = |key: &str| {
        shown["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(value("server_url"), "https://tandem.vantaa.example");
    assert_eq!(value("ca_cert"), ca.as_str());
    assert_eq!(value("lock_after_minutes"), "10");
    assert_eq!(value("updates.enabled"), "false");
    assert!(value("updates.pubkey").is_string());

    // Turned on, the example's update policy is complete.
    store.provision(
        &example
            .replace("/etc/tandem/organisation-ca.pem", &ca)
            .replace("enabled = false", "enabled = true"),
    );
    assert_eq!(
        store.json(&["config", "show"])["settings"][4]["value"],
        "true"
    );
}

#[test]
fn status_reports_the_provisioning_file_and_its_error_for_support_calls() {
    let store = TestStore::new();
    store.ok(&["init"]);
    let status = store.json(&["status"]);
    assert_eq!(status["provisioning"], "not present");
    assert!(status["provisioning_error"].is_null());

    store.provision("organisation = \"Vantaa\"\n");
    assert_eq!(store.json(&["status"])["provisioning"], "valid");

    store.provision("server_url = \"tandem.vantaa.example\"\n");
    let status = store.json(&["status"]);
    assert_eq!(status["provisioning"], "invalid");
    let error = status["provisioning_error"].as_str().unwrap();
    assert!(error.contains("key `server_url`"), "{error}");
    let text = store.ok(&["status"]);
    assert!(text.contains("(invalid)"), "{text}");
    assert!(text.contains("key `server_url`"), "{text}");
    assert!(
        text.contains(&store.provisioning_file().display().to_string()),
        "{text}"
    );
}
