//! Registering, editing, finding and listing records through the CLI.

use serde_json::json;

use crate::TestStore;

fn ids(found: &serde_json::Value) -> Vec<String> {
    found
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_registered_client_can_be_shown_edited_and_listed() {
    let store = TestStore::new();
    let id = store.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--family-name",
        "Warsame",
        "--birth-year",
        "1988",
        "--gender",
        "female",
        "--language",
        "so",
        "--language",
        "fi",
        "--phone",
        "040 123 4567",
        "--email",
        "amina@example.fi",
        "--notes",
        "Looking for work in logistics.",
    ]);
    let client = store.json(&["client", "show", &id]);
    assert_eq!(client["given_name"], "Amina");
    assert_eq!(client["languages"], json!(["fi", "so"]));
    assert_eq!(client["phone"], "+358401234567");
    // Every non-empty field of a new record is queued once.
    assert_eq!(store.pending(), 8);

    let changed = store.json(&[
        "client",
        "edit",
        &id,
        "--nickname",
        "Ami",
        "--birth-year",
        "1988",
    ]);
    assert_eq!(
        changed["changed"],
        json!(["nickname"]),
        "an unchanged value queues nothing"
    );
    assert_eq!(store.pending(), 9);
    store.ok(&["client", "edit", &id, "--clear", "email"]);
    assert_eq!(store.json(&["client", "show", &id])["email"], json!(null));

    let listed = store.json(&["client", "list"]);
    assert_eq!(ids(&listed), vec![id.clone()]);
    store.ok(&["client", "edit", &id, "--deleted", "true"]);
    assert_eq!(store.json(&["client", "list"]), json!([]));
    assert_eq!(
        ids(&store.json(&["client", "list", "--include-deleted"])),
        vec![id]
    );
}

#[test]
fn search_ignores_case_and_diacritics_and_works_in_cyrillic_and_arabic() {
    let store = TestStore::new();
    let finnish = store.ok(&[
        "client",
        "add",
        "--given-name",
        "Matti",
        "--family-name",
        "Häkkinen",
    ]);
    let russian = store.ok(&[
        "client",
        "add",
        "--given-name",
        "Мария",
        "--family-name",
        "Иванова",
    ]);
    let arabic = store.ok(&[
        "client",
        "add",
        "--given-name",
        "فاطمة",
        "--family-name",
        "الحسن",
    ]);
    let somali = store.ok(&[
        "client",
        "add",
        "--given-name",
        "Amina",
        "--nickname",
        "Ami",
        "--phone",
        "+358 40 765 4321",
    ]);

    assert_eq!(
        ids(&store.json(&["client", "search", "hakkinen"])),
        vec![finnish.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "HÄKK"])),
        vec![finnish.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "матти"])),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "мария"])),
        vec![russian.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "Иван"])),
        vec![russian]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "فاطمة"])),
        vec![arabic.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "الحسن"])),
        vec![arabic]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "ami"])),
        vec![somali.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "040 765"])),
        vec![somali.clone()]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "+35840765"])),
        vec![somali]
    );
    assert_eq!(
        ids(&store.json(&["client", "search", "matti häkkinen"])),
        vec![finnish]
    );
    assert_eq!(store.json(&["client", "search", "\"*) OR ("]), json!([]));
}

#[test]
fn contacts_are_listed_newest_first_and_anonymous_visitors_need_no_client() {
    let store = TestStore::new();
    let client = store.ok(&["client", "add", "--given-name", "Omar"]);
    let older = store.ok(&[
        "contact",
        "add",
        "--client",
        &client,
        "--occurred-at",
        "2026-11-02T10:00:00+02:00",
        "--topic",
        "housing",
        "--referral",
        "kela",
    ]);
    let newer = store.ok(&[
        "contact",
        "add",
        "--client",
        &client,
        "--occurred-at",
        "2026-11-20T14:30:00+02:00",
        "--topic",
        "employment",
        "--topic",
        "language_learning",
        "--channel",
        "appointment",
        "--summary",
        "CV reviewed.",
        "--follow-up-on",
        "2026-12-01",
    ]);
    let listed = store.json(&["contact", "list", "--client", &client]);
    assert_eq!(ids(&listed), vec![newer, older]);
    assert_eq!(
        listed[0]["topics"],
        json!(["employment", "language_learning"])
    );
    assert_eq!(
        listed[1]["channel"], "drop_in",
        "drop_in is the default channel"
    );

    let anonymous = store.json(&[
        "contact",
        "add",
        "--anonymous",
        "--topic",
        "digital_services",
    ]);
    assert!(anonymous["id"].is_string());
    let text = store.ok(&["client", "show", &client]);
    assert!(text.contains("contacts (2):"), "{text}");
}

#[test]
fn status_and_export_describe_the_store() {
    let store = TestStore::new();
    let client = store.ok(&["client", "add", "--given-name", "Li", "--language", "zh"]);
    store.ok(&["contact", "add", "--client", &client]);
    let status = store.json(&["status"]);
    assert_eq!(status["schema_version"], tandem_store::SCHEMA_VERSION);
    assert_eq!(status["last_sync_at"], json!(null));
    assert!(status["path"].as_str().unwrap().ends_with("tandem.db"));
    assert!(status["pending_count"].as_u64().unwrap() >= 4);
    let text = store.ok(&["status"]);
    assert!(text.contains("last sync:      never"), "{text}");

    let export: serde_json::Value = serde_json::from_str(&store.ok(&["export"])).unwrap();
    assert_eq!(export["format"], "tandem-export");
    assert_eq!(export["clients"][0]["given_name"], "Li");
    assert_eq!(export["contacts"][0]["client_id"], json!(client));
}

#[test]
fn a_contact_is_corrected_field_by_field_and_deleted_by_mistake_leaves_the_lists() {
    let store = TestStore::new();
    let client = store.ok(&["client", "add", "--given-name", "Hodan"]);
    let contact = store.ok(&[
        "contact",
        "add",
        "--client",
        &client,
        "--topic",
        "housing",
        "--duration-min",
        "20",
        "--follow-up-on",
        "2026-12-01",
    ]);

    let edited = store.json(&[
        "contact",
        "edit",
        &contact,
        "--topic",
        "housing",
        "--topic",
        "employment",
        "--duration-min",
        "45",
        "--clear",
        "follow-up-on",
    ]);
    assert_eq!(
        edited["changed"],
        json!(["duration_min", "follow_up_on", "topics"])
    );
    let listed = store.json(&["contact", "list", "--client", &client]);
    assert_eq!(listed[0]["duration_min"], 45);
    assert_eq!(listed[0]["topics"], json!(["employment", "housing"]));
    assert_eq!(listed[0]["follow_up_on"], json!(null));
    assert_eq!(
        store.ok(&["contact", "edit", &contact, "--duration-min", "45"]),
        "nothing changed"
    );

    // The same rules as a new contact's, and a contact that is not there is named.
    let refused = store.fails(&["contact", "edit", &contact, "--duration-min", "601"]);
    assert!(refused.contains("duration_min"), "{refused}");
    let nothing = store.fails(&["contact", "edit", &contact]);
    assert!(nothing.contains("nothing to change"), "{nothing}");
    let unknown = store.fails(&[
        "contact",
        "edit",
        "0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70",
        "--summary",
        "x",
    ]);
    assert!(
        unknown.contains("0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70"),
        "{unknown}"
    );

    store.ok(&["contact", "edit", &contact, "--deleted", "true"]);
    assert_eq!(
        store.json(&["contact", "list", "--client", &client]),
        json!([])
    );
    // A contact deleted by mistake in turn comes back.
    store.ok(&["contact", "edit", &contact, "--deleted", "false"]);
    assert_eq!(
        store.json(&["contact", "list", "--client", &client])[0]["id"],
        json!(contact)
    );
    // A new contact is never logged deleted, nor with fields to clear.
    let help = store.ok(&["contact", "add", "--help"]);
    assert!(
        !help.contains("--deleted") && !help.contains("--clear"),
        "{help}"
    );
}
