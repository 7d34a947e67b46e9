//! Sync over loopback HTTP against a real tandem-server (SQLite file): the initial sync of
//! a new laptop from a team of 20,000 clients and 100,000 contacts (goal: under 5 seconds
//! end to end) against a raw transfer of the same bytes, and an incremental sync of 100
//! pending edits on a laptop holding that team (goal: under 100 ms).
//! The larger initial sync (100,000 clients, 300,000 contacts) is `sync_large`.

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tandem_benches::{BenchServer, COACH, bench_initial_sync, now, size};
use tandem_domain::{Entity, RecordId};
use tandem_store::EditContext;
use tandem_synth::SyntheticData;

const PENDING_EDITS: usize = 100;

fn initial_sync(c: &mut Criterion) {
    bench_initial_sync(c, size(20_000, 20), size(100_000, 100));
}

fn incremental_sync(c: &mut Criterion) {
    let server = BenchServer::start_sqlite();
    let clients: Vec<RecordId> = server
        .seed(41, size(20_000, 20), size(100_000, 100))
        .iter()
        .filter(|r| r.entity == Entity::Client)
        .map(|r| RecordId::from_uuid(r.id))
        .collect();
    let mut laptop = server.laptop(COACH);
    laptop.sync(&server);
    let mut edits = SyntheticData::new(42, now(), Vec::new());
    let mut next_client = 0;

    let mut group = c.benchmark_group(format!("incremental_sync_{PENDING_EDITS}_edits"));
    group
        .sample_size(30)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("tandem_sync_once", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                for _ in 0..PENDING_EDITS {
                    next_client = (next_client + 1) % clients.len();
                    laptop
                        .store
                        .edit_record(
                            Entity::Client,
                            clients[next_client],
                            &edits.client_edit(),
                            EditContext::at(now()),
                        )
                        .expect("edit");
                }
                let pending = laptop.store.pending_count().expect("pending");
                let started = Instant::now();
                let report = laptop.sync(&server);
                total += started.elapsed();
                assert_eq!(report.pushed, pending);
                assert_eq!(report.pending_after, 0);
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, initial_sync, incremental_sync);
criterion_main!(benches);
