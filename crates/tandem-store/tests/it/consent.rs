//! The consent gate on local writes: special-category fields need a lawful basis, refused
//! writes change nothing, and recording consent records when and by whom.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use serde_json::{Value as Json, json};
use tandem_domain::{Entity, RecordId};
use tandem_store::{EditContext, STORE_FILE_NAME, SignIn, Store, StoreError, StoreKey};
use uuid::Uuid;

const USER: Uuid = Uuid::from_u128(0x0190_f0c4_8d5e_7c3a_9f1e_2b3c_4d5e_6f71);

fn signed_in_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::open_with_key(&dir.path().join(STORE_FILE_NAME), &StoreKey::generate()).unwrap();
    store
        .record_sign_in(&SignIn {
            server_url: "http://127.0.0.1:1".into(),
            user_id: USER,
            username: "coach".into(),
            role: "coach".into(),
            team_id: Uuid::from_u128(0x7e),
            team_name: "north".into(),
            device_id: Uuid::from_u128(0xd1),
            device_name: "laptop".into(),
            password_verifier: String::new(),
        })
        .unwrap();
    (dir, store)
}

fn at() -> EditContext {
    EditContext::at(Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap())
}

fn map(fields: Json) -> BTreeMap<String, Json> {
    serde_json::from_value(fields).unwrap()
}

fn create(store: &mut Store, fields: Json) -> Result<RecordId, StoreError> {
    store.create_record(Entity::Client, &map(fields), at())
}

fn edit(store: &mut Store, id: RecordId, fields: Json) -> Result<Vec<&'static str>, StoreError> {
    store
        .edit_record(Entity::Client, id, &map(fields), at())
        .map(|outcome| outcome.changed_fields)
}

#[test]
fn a_new_client_with_special_category_data_and_no_lawful_basis_is_refused_and_not_stored() {
    let (_dir, mut store) = signed_in_store();
    let err = create(
        &mut store,
        json!({"given_name": "Amina", "disability": "yes"}),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("disability: special-category data can be recorded only when the client has a lawful basis"),
        "{err}"
    );
    assert!(store.list_clients(true).unwrap().is_empty());
    assert_eq!(store.pending_count().unwrap(), 0);
    create(
        &mut store,
        json!({"given_name": "Amina", "disability": "declined", "lawful_basis": "public_task"}),
    )
    .unwrap();
}

#[test]
fn an_edit_may_set_the_basis_and_the_gated_field_together_but_not_the_field_alone() {
    let (_dir, mut store) = signed_in_store();
    let id = create(&mut store, json!({"given_name": "Omar"})).unwrap();
    let err = edit(&mut store, id, json!({"third_country_national": "yes"})).unwrap_err();
    assert!(
        err.to_string().starts_with("third_country_national:"),
        "{err}"
    );
    assert!(
        store
            .record(Entity::Client, id)
            .unwrap()
            .unwrap()
            .get("third_country_national")
            .is_null()
    );
    let pending = store.pending_count().unwrap();
    let changed = edit(
        &mut store,
        id,
        json!({"third_country_national": "yes", "lawful_basis": "consent"}),
    )
    .unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!(store.pending_count().unwrap(), pending + 2);
}

#[test]
fn the_basis_cannot_be_cleared_while_special_category_data_remains() {
    let (_dir, mut store) = signed_in_store();
    let id = create(
        &mut store,
        json!({"given_name": "Li", "foreign_background": "no", "lawful_basis": "consent"}),
    )
    .unwrap();
    let err = edit(&mut store, id, json!({"lawful_basis": null})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lawful_basis: cannot be cleared while foreign_background holds special-category data: \
         clear foreign_background first"
    );
    edit(
        &mut store,
        id,
        json!({"lawful_basis": null, "foreign_background": null}),
    )
    .unwrap();
    let record = store.record(Entity::Client, id).unwrap().unwrap();
    assert!(record.get("lawful_basis").is_null());
}

#[test]
fn recording_consent_fills_its_date_and_the_signed_in_user() {
    let (_dir, mut store) = signed_in_store();
    let id = create(&mut store, json!({"given_name": "Sanna"})).unwrap();
    let changed = edit(&mut store, id, json!({"consent": "recorded"})).unwrap();
    assert_eq!(changed, ["consent", "consent_date", "consent_by"]);
    let record = store.record(Entity::Client, id).unwrap().unwrap();
    assert_eq!(record.get("consent_date").to_json(), json!("2026-11-26"));
    assert_eq!(record.get("consent_by").to_json(), json!(USER.to_string()));
    // A date given with the consent is kept; recording it on creation fills the rest.
    let other = create(
        &mut store,
        json!({"given_name": "Aino", "consent": "partnership_sharing", "consent_date": "2026-11-20"}),
    )
    .unwrap();
    let record = store.record(Entity::Client, other).unwrap().unwrap();
    assert_eq!(record.get("consent_date").to_json(), json!("2026-11-20"));
    assert_eq!(record.get("consent_by").to_json(), json!(USER.to_string()));
}
