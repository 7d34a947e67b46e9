//! Sync over loopback HTTP against a real tandem-server (SQLite file): the initial sync of
//! a new laptop from a team of 20,000 clients and 100,000 contacts (goal: under 5 seconds
//! end to end) against a raw transfer of the same bytes, then incremental syncs of 100
//! pending edits on that laptop (goal: under 100 ms). The larger initial sync (100,000
//! clients, 300,000 contacts) is `sync_large`.
//!
//! A plain harness, not Criterion: one initial sync takes minutes at full size, and
//! Criterion wants at least ten samples of each routine.

use std::time::{Duration, Instant};

use tandem_benches::{measure_initial_sync, now, quantile, repeats, size};
use tandem_domain::{Entity, RecordId};
use tandem_store::EditContext;
use tandem_synth::SyntheticData;

const PENDING_EDITS: usize = 100;

fn main() {
    let (server, mut laptop, records) =
        measure_initial_sync(size(20_000, 20), size(100_000, 100), repeats(2, 1));
    let clients: Vec<RecordId> = records
        .iter()
        .filter(|r| r.entity == Entity::Client)
        .map(|r| RecordId::from_uuid(r.id))
        .collect();
    let mut edits = SyntheticData::new(42, now(), Vec::new());
    let mut next_client = 0;
    let mut times: Vec<Duration> = (0..repeats(20, 2))
        .map(|_| {
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
            let elapsed = started.elapsed();
            assert!(pending > 0);
            assert_eq!(report.pushed, pending);
            assert_eq!(report.pending_after, 0);
            elapsed
        })
        .collect();
    println!(
        "FIGURE incremental_sync_{PENDING_EDITS}_edits: {} syncs; median {:.2?}, p95 {:.2?}, slowest {:.2?}",
        times.len(),
        quantile(&mut times, 0.5),
        quantile(&mut times, 0.95),
        quantile(&mut times, 1.0),
    );
}
