//! Convergence, property-based: 2 to 6 laptops, each a real store, make random creates,
//! edits and deletes over fields of every merge policy, go offline and online, with clocks up
//! to a day off either way, and sync in random orders against the real server. After a final
//! sync of all: every laptop equals the server; every change a laptop ever queued is on the
//! server (current value or history, losing and merged values included) or in that laptop's
//! rejected list, and none was applied twice; open conflicts are exactly the review-policy
//! disagreements, each with differing values, and the team lead's laptop mirrors them all;
//! their number equals the concurrent, differing pushes to review fields, counted from the
//! `base_version` each change was sent with (recorded in front of the server) against the
//! field's log. "Race" steps make two laptops edit the same field of a shared client.
//! Laptops also record and clear a lawful basis and special-category data concurrently: the
//! server never ends with such data on a client without a basis (the consent gate).
//!
//! `TANDEM_PROPTEST_CASES` sets the number of cases (default 1000).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Value as Json, json};
use tandem_domain::RecordId;

use crate::device::TestDevice;
use tandem_server::store::ServerStore;

use crate::server::{SharedServer, TestTeam, shared};

/// The fields exercised, covering every policy: review, lww, set, text.
const FIELDS: &[&str] = &[
    "given_name",
    "gender",
    "nickname",
    "municipality",
    "languages",
    "tags",
    "notes",
];

fn value_of(field: &str, pick: usize) -> Json {
    let pool: [Json; 4] = match field {
        "given_name" => [json!("Amina"), json!("Omar"), json!("Li"), json!("Sanna")],
        "gender" => [
            json!("female"),
            json!("male"),
            json!("non_binary"),
            json!("undisclosed"),
        ],
        "nickname" => [json!("Ami"), json!("O"), json!("L"), Json::Null],
        "municipality" => [
            json!("Vantaa"),
            json!("Helsinki"),
            json!("Espoo"),
            json!("Kerava"),
        ],
        "languages" => [json!(["fi"]), json!(["fi", "so"]), json!(["ar"]), json!([])],
        "tags" => [json!(["a"]), json!(["a", "b"]), json!(["c"]), json!([])],
        "notes" => [
            json!("l1\nl2\nl3\nl4\nl5"),
            json!("L1\nl2\nl3\nl4\nl5"),
            json!("l1\nl2\nl3\nl4\nL5"),
            json!("other"),
        ],
        _ => unreachable!("{field}"),
    };
    pool[pick % 4].clone()
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        device: usize,
        name: usize,
    },
    Edit {
        device: usize,
        record: usize,
        field: usize,
        value: usize,
    },
    Delete {
        device: usize,
        record: usize,
    },
    /// The lawful basis and a special-category field together (recorded, changed, cleared, or
    /// the data without a basis, which the laptop itself refuses).
    Consent {
        device: usize,
        record: usize,
        pick: usize,
    },
    /// Two laptops edit the same field of the same client to different values, each without
    /// seeing the other's edit (both sync first, so both know the client): the concurrent
    /// edits every merge policy exists for, review conflicts among them.
    RaceEdit {
        first: usize,
        second: usize,
        record: usize,
        field: usize,
        value: usize,
    },
    /// An edit made while the laptop's clock wrongly says next year: the server refuses it.
    RefusedEdit {
        device: usize,
        record: usize,
    },
    Sync {
        device: usize,
    },
    Offline {
        device: usize,
    },
    Online {
        device: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>()).prop_map(|(device, name)| Op::Create { device, name }),
        8 => (any::<usize>(), any::<usize>(), 0..FIELDS.len(), any::<usize>())
            .prop_map(|(device, record, field, value)| Op::Edit { device, record, field, value }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(device, record)| Op::Delete { device, record }),
        3 => (any::<usize>(), any::<usize>(), any::<usize>(), 0..FIELDS.len(), any::<usize>())
            .prop_map(|(first, second, record, field, value)| Op::RaceEdit { first, second, record, field, value }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(device, record)| Op::RefusedEdit { device, record }),
        2 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(device, record, pick)| Op::Consent { device, record, pick }),
        4 => any::<usize>().prop_map(|device| Op::Sync { device }),
        1 => any::<usize>().prop_map(|device| Op::Offline { device }),
        1 => any::<usize>().prop_map(|device| Op::Online { device }),
    ]
}

const DAY_MS: i64 = 24 * 3600 * 1000;

fn scenario() -> impl Strategy<Value = (Vec<i64>, Vec<Op>)> {
    (
        prop::collection::vec(-DAY_MS..=DAY_MS, 2..=6),
        prop::collection::vec(op(), 1..16),
    )
}

fn cases() -> u32 {
    std::env::var("TANDEM_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

/// An empty value and an absent field are the same thing.
fn is_empty(value: &Json) -> bool {
    value.is_null() || value.as_array().is_some_and(Vec::is_empty)
}

type FieldMap = BTreeMap<(String, uuid::Uuid, String), Json>;

fn device_fields(device: &TestDevice) -> FieldMap {
    device
        .store
        .all_field_values()
        .unwrap()
        .into_iter()
        .map(|(e, r, f, v)| ((e, r, f), serde_json::from_str::<Json>(&v).unwrap()))
        .filter(|(_, v)| !is_empty(v))
        .collect()
}

fn server_fields(server: &SharedServer, team: uuid::Uuid) -> (FieldMap, u64) {
    let mut fields = FieldMap::new();
    let mut after = 0;
    loop {
        let (changes, _purges, more) = server
            .runtime
            .block_on(server.store.pull(team, after, 1000))
            .unwrap();
        for change in &changes {
            after = change.seq;
            fields.insert(
                (
                    change.entity.clone(),
                    change.record_id,
                    change.field.clone(),
                ),
                change.value.clone(),
            );
        }
        if !more {
            break;
        }
    }
    fields.retain(|_, v| !is_empty(v));
    (fields, after)
}

fn known_clients(device: &TestDevice) -> Vec<RecordId> {
    device
        .store
        .list_clients(true)
        .unwrap()
        .iter()
        .map(|c| c.id())
        .collect()
}

fn run_case(offsets: &[i64], ops: &[Op]) -> Result<(), TestCaseError> {
    let server = shared();
    let team = server.new_team();
    let mut devices: Vec<TestDevice> = offsets
        .iter()
        .enumerate()
        .map(|(i, offset)| {
            let user = if i == 0 { &team.lead } else { &team.coach };
            TestDevice::sign_in(server, &team, user, *offset)
        })
        .collect();
    let mut online = vec![true; devices.len()];
    let n = devices.len();
    for op in ops {
        match *op {
            Op::Create { device, name } => {
                devices[device % n].create_client(json!({
                    "given_name": value_of("given_name", name),
                    "notes": "l1\nl2\nl3\nl4\nl5",
                    "tags": ["a"],
                }));
            }
            Op::Edit {
                device,
                record,
                field,
                value,
            } => {
                let d = &mut devices[device % n];
                let clients = known_clients(d);
                if let Some(id) = clients.get(record % clients.len().max(1)) {
                    let field = FIELDS[field];
                    d.edit_client(*id, json!({ field: value_of(field, value) }));
                }
            }
            Op::Delete { device, record } => {
                let d = &mut devices[device % n];
                let clients = known_clients(d);
                if let Some(id) = clients.get(record % clients.len().max(1)) {
                    d.edit_client(*id, json!({"deleted": true}));
                }
            }
            Op::Consent {
                device,
                record,
                pick,
            } => {
                let d = &mut devices[device % n];
                let clients = known_clients(d);
                if let Some(id) = clients.get(record % clients.len().max(1)) {
                    let edit = [
                        json!({"lawful_basis": "consent", "disability": "yes"}),
                        json!({"lawful_basis": "public_task"}),
                        json!({"lawful_basis": null, "disability": null}),
                        json!({"disability": "declined"}),
                        json!({"lawful_basis": null}),
                    ];
                    d.try_edit_client(*id, edit[pick % edit.len()].clone());
                }
            }
            Op::RaceEdit {
                first,
                second,
                record,
                field,
                value,
            } => {
                let (a, b) = (first % n, second % n);
                if a != b && online[a] && online[b] {
                    if known_clients(&devices[a]).is_empty() {
                        devices[a]
                            .create_client(json!({"given_name": value_of("given_name", record)}));
                    }
                    devices[a].sync(server);
                    devices[b].sync(server);
                    let of_b = known_clients(&devices[b]);
                    let shared: Vec<_> = known_clients(&devices[a])
                        .into_iter()
                        .filter(|id| of_b.contains(id))
                        .collect();
                    if let Some(&id) = shared.get(record % shared.len().max(1)) {
                        let field = FIELDS[field];
                        devices[a].edit_client(id, json!({ field: value_of(field, value) }));
                        devices[b].edit_client(id, json!({ field: value_of(field, value + 1) }));
                    }
                }
            }
            Op::RefusedEdit { device, record } => {
                let d = &mut devices[device % n];
                let clients = known_clients(d);
                if let Some(id) = clients.get(record % clients.len().max(1)) {
                    let mut at = d.edit_context();
                    at.now += chrono::TimeDelta::days(366);
                    let year = chrono::Datelike::year(&at.now);
                    d.edit_client_at(*id, json!({"birth_year": year}), at);
                }
            }
            Op::Sync { device } => {
                if online[device % n] {
                    devices[device % n].sync(server);
                }
            }
            Op::Offline { device } => online[device % n] = false,
            Op::Online { device } => online[device % n] = true,
        }
    }
    // Everyone back online: two rounds, so that the first pushes everything and the second
    // brings every laptop what the later ones pushed.
    for _ in 0..2 {
        for device in &mut devices {
            device.sync(server);
        }
    }
    assert_converged(server, &team, &devices)?;
    assert_review_conflicts_counted(server, &team, &devices)?;
    // The consent gate held on the server whatever the laptops did concurrently.
    let (fields, _) = server_fields(server, team.id);
    for (entity, record, field) in fields.keys() {
        if field == "disability" {
            prop_assert!(
                fields.contains_key(&(entity.clone(), *record, "lawful_basis".to_owned())),
                "client {} has disability without a lawful basis",
                record
            );
        }
    }
    Ok(())
}

/// The oracle: every device equals the server, nothing queued was lost or applied twice,
/// open conflicts are review disagreements mirrored by the team lead (device 0).
pub(crate) fn assert_converged(
    server: &SharedServer,
    team: &TestTeam,
    devices: &[TestDevice],
) -> Result<(), TestCaseError> {
    let (expected, last_seq) = server_fields(server, team.id);
    for (i, device) in devices.iter().enumerate() {
        prop_assert_eq!(device.store.pending_count().unwrap(), 0, "device {}", i);
        prop_assert_eq!(
            device.store.pull_cursor().unwrap(),
            last_seq,
            "device {}",
            i
        );
        let actual = device_fields(device);
        prop_assert_eq!(&actual, &expected, "device {} differs from the server", i);
    }

    // Nothing lost, nothing applied twice.
    let mut histories = BTreeMap::new();
    for (i, device) in devices.iter().enumerate() {
        let rejected: BTreeSet<_> = device
            .store
            .rejected_changes()
            .unwrap()
            .into_iter()
            .map(|r| r.change_id)
            .collect();
        for change in device.seen.values() {
            if rejected.contains(&change.change_id) {
                continue;
            }
            let key = (change.record_id, change.field.clone());
            let history = histories.entry(key).or_insert_with(|| {
                server
                    .runtime
                    .block_on(
                        server
                            .store
                            .field_history(team.id, change.record_id, &change.field),
                    )
                    .unwrap()
            });
            let copies = history
                .iter()
                .filter(|h| h.change_id == change.change_id)
                .count();
            prop_assert!(
                copies <= 1,
                "change {} applied {} times",
                change.change_id,
                copies
            );
            let value: Json = serde_json::from_str(&change.value).unwrap();
            let kept = copies == 1 || history.iter().any(|h| h.value == value);
            prop_assert!(
                kept,
                "device {}: change {} ({} = {}) is neither on the server nor rejected",
                i,
                change.change_id,
                change.field,
                change.value
            );
        }
    }

    // Open conflicts: only review-policy disagreements (text overlaps go to review too),
    // each between differing values, mirrored by the team lead's laptop.
    let open = server
        .runtime
        .block_on(server.store.list_conflicts(team.id, true))
        .unwrap();
    for conflict in &open {
        prop_assert!(
            conflict.policy == "review" || conflict.policy == "text",
            "open conflict on a {} field",
            conflict.policy
        );
        let values: BTreeSet<String> = conflict
            .values
            .iter()
            .map(|v| v.value.to_string())
            .collect();
        prop_assert!(
            values.len() >= 2,
            "a conflict between equal values: {:?}",
            conflict
        );
    }
    let mirrored: BTreeSet<i64> = devices[0]
        .store
        .conflicts(false)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let on_server: BTreeSet<i64> = open.iter().map(|c| c.id).collect();
    prop_assert_eq!(mirrored, on_server);
    // Every conflict a coach's laptop was told about is one the server recorded.
    let all: BTreeSet<i64> = server
        .runtime
        .block_on(server.store.list_conflicts(team.id, false))
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    for device in &devices[1..] {
        for conflict in device.store.conflicts(true).unwrap() {
            prop_assert!(all.contains(&conflict.id));
        }
    }
    Ok(())
}

/// The open review conflicts, counted independently of the server's decisions: replaying
/// each review-policy field's log in seq order, a change a laptop pushed is concurrent when
/// the `base_version` it was sent with (recorded in front of the server) is older than the
/// field's version at that point, and a disagreement when its value also differs from the one
/// standing then. Every such change, and nothing else, must have opened one review conflict
/// (nobody resolves any in these cases).
fn assert_review_conflicts_counted(
    server: &SharedServer,
    team: &TestTeam,
    devices: &[TestDevice],
) -> Result<(), TestCaseError> {
    let review_fields: BTreeSet<(uuid::Uuid, String)> = devices
        .iter()
        .flat_map(|device| device.seen.values())
        .filter(|change| {
            tandem_domain::Entity::parse(&change.entity)
                .and_then(|entity| tandem_domain::field_spec(entity, &change.field))
                .is_ok_and(|spec| spec.policy == tandem_domain::MergePolicy::Review)
        })
        .map(|change| (change.record_id, change.field.clone()))
        .collect();
    let bases = server.pushed_bases.lock().unwrap().clone();
    let mut disagreements = 0;
    for (record_id, field) in &review_fields {
        let history = server
            .runtime
            .block_on(server.store.field_history(team.id, *record_id, field))
            .unwrap();
        // (value, version) standing before each write; the version is the seq of the last
        // effective write.
        let mut standing: Option<(Json, u64)> = None;
        for write in history {
            if let (Some(base), Some((value, version))) = (bases.get(&write.change_id), &standing)
                && *base < *version
                && write.value != *value
            {
                disagreements += 1;
            }
            if write.effective {
                standing = Some((write.value, write.seq));
            }
        }
    }
    let open = server
        .runtime
        .block_on(server.store.list_conflicts(team.id, true))
        .unwrap()
        .into_iter()
        .filter(|conflict| conflict.policy == "review")
        .count();
    eprintln!(
        "ORACLE open={open} disagreements={disagreements} fields={} bases={}",
        review_fields.len(),
        bases.len()
    );
    prop_assert_eq!(
        open,
        disagreements,
        "open review conflicts against concurrent, differing pushes to review fields"
    );
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Config::default()
    })]

    #[test]
    fn laptops_that_edit_offline_with_skewed_clocks_converge_without_losing_an_edit(
        (offsets, ops) in scenario()
    ) {
        run_case(&offsets, &ops)?;
    }
}
