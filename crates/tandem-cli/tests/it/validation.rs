//! Invalid input exits non-zero, names the field, and writes nothing.

use chrono::Datelike;

use crate::TestStore;

fn this_year() -> i32 {
    #[allow(clippy::disallowed_methods)] // The CLI checks years against today's date too.
    chrono::Utc::now().year()
}

fn assert_refused(store: &TestStore, args: &[&str], field: &str) {
    let stderr = store.fails(args);
    assert!(
        stderr.contains(field),
        "error for {args:?} should name {field}: {stderr}"
    );
}

#[test]
fn invalid_client_values_are_refused_naming_the_field_and_nothing_is_written() {
    let store = TestStore::new();
    store.ok(&["init"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--birth-year", "1850"],
            "birth_year: must be a year from 1900",
        ),
        (&["--email", "x@"], "email:"),
        (
            &["--language", "xx"],
            "languages: `xx` is not an ISO 639 language code",
        ),
        (&["--gender", "robot"], "gender: unknown value `robot`"),
        (
            &["--employment-status", "astronaut"],
            "employment_status: unknown value",
        ),
        (&["--phone", "12345"], "phone:"),
        (&["--birth-year", "soon"], "birth_year: expected a year"),
    ];
    for (extra, field) in cases {
        let mut args = vec!["client", "add", "--given-name", "Amina"];
        args.extend_from_slice(extra);
        assert_refused(&store, &args, field);
    }
    assert_refused(
        &store,
        &["client", "add", "--family-name", "Warsame"],
        "given_name: a value is required",
    );
    // The message is said once, as a sentence a person can act on.
    assert_eq!(
        store.fails(&[
            "client",
            "add",
            "--given-name",
            "Amina",
            "--birth-year",
            "1850"
        ]),
        format!(
            "error: birth_year: must be a year from 1900 to {} (got 1850)\n",
            this_year()
        )
    );
    assert_eq!(store.json(&["client", "list"]), serde_json::json!([]));
    assert_eq!(store.pending(), 0);
}

#[test]
fn a_ten_megabyte_note_is_refused_and_nothing_is_written() {
    let store = TestStore::new();
    let note = store.data_dir().with_file_name("note.txt");
    std::fs::write(&note, "x".repeat(10 * 1024 * 1024)).unwrap();
    assert_refused(
        &store,
        &[
            "client",
            "add",
            "--given-name",
            "Amina",
            "--notes-file",
            note.to_str().unwrap(),
        ],
        "notes: is longer than 20000 characters",
    );
    assert_eq!(store.json(&["client", "list"]), serde_json::json!([]));
    assert_eq!(store.pending(), 0);
}

#[test]
fn an_invalid_edit_changes_nothing_and_names_the_field() {
    let store = TestStore::new();
    let id = store.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--birth-year",
        "1990",
    ]);
    let pending = store.pending();
    assert_refused(
        &store,
        &[
            "client",
            "edit",
            &id,
            "--nickname",
            "Ami",
            "--birth-year",
            "3000",
        ],
        "birth_year",
    );
    let client = store.json(&["client", "show", &id]);
    assert_eq!(client["birth_year"], 1990);
    assert_eq!(client["nickname"], serde_json::Value::Null);
    assert_eq!(store.pending(), pending);
}

#[test]
fn contacts_refuse_unknown_topics_durations_and_clients() {
    let store = TestStore::new();
    let id = store.ok(&["client", "add", "--given-name", "Amina"]);
    assert_refused(
        &store,
        &["contact", "add", "--client", &id, "--topic", "astrology"],
        "topics: unknown value `astrology`",
    );
    assert_refused(
        &store,
        &["contact", "add", "--client", &id, "--duration-min", "601"],
        "duration_min: must be from 0 to 600",
    );
    assert_refused(
        &store,
        &[
            "contact",
            "add",
            "--client",
            &id,
            "--follow-up-on",
            "tomorrow",
        ],
        "follow_up_on: `tomorrow` is not a date",
    );
    assert_refused(
        &store,
        &[
            "contact",
            "add",
            "--client",
            "0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70",
        ],
        "client_id: no client",
    );
    assert_refused(
        &store,
        &["contact", "add", "--client", "nope"],
        "invalid record id `nope`",
    );
    assert_eq!(
        store.json(&["contact", "list", "--client", &id]),
        serde_json::json!([])
    );
}

#[test]
fn an_unknown_client_id_is_reported() {
    let store = TestStore::new();
    store.ok(&["init"]);
    assert_refused(
        &store,
        &["client", "show", "0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70"],
        "no client 0190f0c4",
    );
}

#[test]
fn a_bad_import_line_is_refused_with_its_line_number_and_earlier_lines_are_kept() {
    let store = TestStore::new();
    let output = store.run_with_input(
        &["client", "import"],
        b"{\"given_name\": \"Amina\"}\n{\"given_name\": \"Omar\", \"birth_year\": 1850}\n{\"given_name\": \"Never\"}\n",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2: birth_year: must be a year from 1900"),
        "{stderr}"
    );
    let names: Vec<_> = store
        .json(&["client", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["given_name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("Amina")]);
}

#[test]
fn without_a_keyring_the_json_error_names_its_kind_and_no_store_is_made() {
    let store = TestStore::new();
    let output = store
        .command(&["--json", "client", "add", "--given-name", "Amina"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tandem-test-bus",
        )
        .output()
        .expect("run tandem");
    assert!(!output.status.success());
    let error: serde_json::Value =
        serde_json::from_slice(&output.stderr).expect("a JSON error on standard error");
    assert_eq!(error["error"]["kind"], "keyring_unavailable", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("OS keyring")),
        "{error}"
    );
    assert!(!store.db_path().exists(), "no store without its key");
}

#[test]
fn merged_into_is_written_only_by_a_team_leads_merge_never_by_an_edit() {
    let store = TestStore::new();
    let kept = store.ok(&["client", "add", "--given-name", "Amina"]);
    let id = store.ok(&["client", "add", "--given-name", "Aminah"]);
    let pending = store.pending();
    let stderr = store.fails(&["client", "edit", &id, "--merged-into", &kept]);
    assert!(stderr.contains("--merged-into"), "{stderr}");
    for clear in ["merged-into", "merged_into"] {
        assert_refused(
            &store,
            &["client", "edit", &id, "--clear", clear],
            "merged_into: only a team lead's duplicate merge",
        );
    }
    assert_refused(
        &store,
        &[
            "client",
            "add",
            "--given-name",
            "Ami",
            "--clear",
            "merged-into",
        ],
        "merged_into",
    );
    assert_eq!(store.pending(), pending);
    assert_eq!(
        store.json(&["client", "list"]).as_array().unwrap().len(),
        2,
        "both clients are listed"
    );
}
