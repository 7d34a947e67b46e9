//! A store written by the previous schema version (a committed fixture: schema 1, one client
//! registered offline and edited, never signed in) migrates when opened and syncs its work.

use serde_json::json;
use tandem_domain::{Entity, RecordId};
use tandem_store::{SCHEMA_VERSION, Store, StoreKey};

use crate::device::{TestDevice, temp_dir};
use crate::server::shared;

/// The test key the fixture was encrypted with (see tests/fixtures/make_store_v1.py).
const FIXTURE_KEY: [u8; 32] = [0x5a; 32];
const CLIENT: &str = "019a0000-0000-7000-8000-000000000001";

#[test]
fn a_schema_1_store_migrates_to_the_current_schema_and_pushes_its_offline_work() {
    let server = shared();
    let team = server.new_team();
    let dir = temp_dir();
    let path = dir.path().join("tandem.db");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store-v1.db");
    std::fs::copy(fixture, &path).unwrap();

    let store = Store::open_with_key(&path, &StoreKey::from_bytes(FIXTURE_KEY)).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    assert_eq!(store.pending_count().unwrap(), 3);
    let id = RecordId::parse(CLIENT).unwrap();
    let client = store.record(Entity::Client, id).unwrap().unwrap();
    assert_eq!(client.get("given_name").as_text(), Some("Maryam"));
    assert_eq!(store.search_clients("maryam").unwrap().len(), 1);

    let mut old = TestDevice::sign_in_store(server, &team, &team.coach, 0, dir, store);
    let report = old.sync(server);
    assert_eq!(report.pushed, 3, "{report:?}");
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(report.pending_after, 0);

    let mut fresh = TestDevice::sign_in(server, &team, &team.lead, 0);
    fresh.sync(server);
    assert_eq!(fresh.value(id, "given_name"), Some(json!("Maryam")));
    assert_eq!(fresh.value(id, "languages"), Some(json!(["ar", "fi"])));
    assert_eq!(fresh.value(id, "nickname"), Some(json!("Mary")));
}
