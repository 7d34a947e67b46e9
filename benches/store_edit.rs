//! Saving a client edit (the value, its history row, its outbox row and the search row, in
//! one transaction of the encrypted store) against a plain insert of the same row into
//! SQLCipher (goal: at most 1.3 times as long) and into plain SQLite (the cost of the
//! encryption). Every database is a file on disk with `synchronous = FULL`, as on a laptop.

use std::collections::BTreeMap;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use serde_json::json;
use tandem_benches::{PlainDatabase, disk_dir, fill_store, now, open_store, server_writes, size};
use tandem_domain::{Entity, RecordId};
use tandem_store::EditContext;
use tandem_synth::SyntheticData;

fn client_edit(c: &mut Criterion) {
    let dir = disk_dir();
    let mut store = open_store(dir.path());
    let clients: Vec<RecordId> = fill_store(&mut store, 11, size(2_000, 20), 0)
        .iter()
        .filter(|r| r.entity == Entity::Client)
        .map(|r| RecordId::from_uuid(r.id))
        .collect();
    // The baselines insert rows of the same shape and size as the edit's new value.
    let rows = server_writes(&SyntheticData::new(12, now(), Vec::new()).dataset(1, 0), 1);
    let row = rows
        .iter()
        .find(|w| w.field == "given_name")
        .expect("a name")
        .clone();

    let mut group = c.benchmark_group("client_edit");
    // Each save waits for its fsync; equal samples keep the run to about a minute.
    group.sample_size(30).sampling_mode(SamplingMode::Flat);
    let mut n = 0u64;
    group.bench_function("tandem_store_edit", |b| {
        b.iter(|| {
            n += 1;
            let id = clients[(n as usize) % clients.len()];
            let changes = BTreeMap::from([("nickname".to_owned(), json!(format!("Ami {n}")))]);
            let outcome = store
                .edit_record(Entity::Client, id, &changes, EditContext::at(now()))
                .expect("edit");
            assert_eq!(outcome.changed_fields, ["nickname"]);
        });
    });
    for (name, encrypted) in [
        ("plain_insert_sqlcipher", true),
        ("plain_insert_sqlite", false),
    ] {
        let mut plain = PlainDatabase::open(encrypted);
        let mut write = row.clone();
        group.bench_function(name, |b| {
            b.iter(|| {
                write.version += 1;
                plain.insert_one(&write);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, client_edit);
criterion_main!(benches);
