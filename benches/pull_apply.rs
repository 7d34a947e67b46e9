//! Applying a pulled page of new records in one transaction of the encrypted store (a page
//! of 500 writes and one of 5,000; and a page of 5,000 of a first pull into an empty store,
//! which writes the history unindexed) against plain inserts of the same values into
//! SQLCipher in one transaction (the limit). Goal: at least 500,000 field values a second.
//! Each iteration applies writes the store has not seen before.

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tandem_benches::{PlainDatabase, disk_dir, now, open_store, server_writes, size};
use tandem_store::{ServerWrite, Store};
use tandem_synth::SyntheticData;

/// Endless pages of new clients with their contacts, as the server would send them.
struct Pages {
    data: SyntheticData,
    next_seq: u64,
    values: usize,
}

impl Pages {
    fn next(&mut self) -> Vec<ServerWrite> {
        let mut writes = Vec::with_capacity(self.values + 40);
        while writes.len() < self.values {
            let client = self.data.client();
            let contacts = self.data.contacts_of(&client, 5);
            let records: Vec<_> = std::iter::once(client).chain(contacts).collect();
            let page = server_writes(&records, self.next_seq);
            self.next_seq += page.len() as u64;
            writes.extend(page);
        }
        writes.truncate(self.values);
        writes
    }
}

fn pull_apply(c: &mut Criterion) {
    let pages = |values| Pages {
        data: SyntheticData::new(21, now(), Vec::new()),
        next_seq: 1,
        values,
    };
    for values in [500, size(5_000, 600)] {
        apply_pages(
            c,
            &format!("pull_apply_{values}"),
            &mut pages(values),
            false,
        );
    }
    let values = size(5_000, 600);
    apply_pages(
        c,
        &format!("first_pull_apply_{values}"),
        &mut pages(values),
        true,
    );
}

/// `first_pull`: the pull session starts on an empty store, as a new laptop's initial sync
/// does (its history is indexed when the session ends, which is not timed here: the `sync`
/// bench's initial sync times it); otherwise the store already holds a page, as at every
/// later pull.
fn apply_pages(c: &mut Criterion, group_name: &str, pages: &mut Pages, first_pull: bool) {
    let values = pages.values;
    let mut group = c.benchmark_group(group_name);
    // Twenty samples of equal length: a 5,000-value page takes tens of milliseconds,
    // and Criterion's default (100 samples of growing length) would take many minutes.
    group
        .throughput(Throughput::Elements(values as u64))
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat);
    let dir = disk_dir();
    let mut store_file = open_store(dir.path());
    if !first_pull {
        apply(&mut store_file, &pages.next());
    }
    // As the sync engine stores pulled pages (`tandem_sync::engine`).
    let mut store = store_file.pull_session().expect("a pull session");
    group.bench_function("tandem_apply_pulled_page", |b| {
        b.iter_batched(
            || pages.next(),
            |writes| apply(&mut store, &writes),
            BatchSize::PerIteration,
        );
    });
    let mut plain = PlainDatabase::open(true);
    group.bench_function("plain_insert_sqlcipher", |b| {
        b.iter_batched(
            || pages.next(),
            |writes| plain.insert_all(&writes),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn apply(store: &mut Store, writes: &[ServerWrite]) {
    let next = writes.last().map_or(0, |w| w.seq);
    let applied = store
        .apply_pulled_page(writes, &[], next, now(), now())
        .expect("apply");
    assert_eq!(applied.updated as usize, writes.len());
}

criterion_group!(benches, pull_apply);
criterion_main!(benches);
