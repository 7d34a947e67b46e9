//! The initial sync of a new laptop from a team of 100,000 clients and 300,000 contacts,
//! end to end over loopback HTTP, against a raw transfer of the same bytes (see `sync`).

use criterion::{Criterion, criterion_group, criterion_main};
use tandem_benches::{bench_initial_sync, size};

fn initial_sync_large(c: &mut Criterion) {
    bench_initial_sync(c, size(100_000, 30), size(300_000, 90));
}

criterion_group!(benches, initial_sync_large);
criterion_main!(benches);
