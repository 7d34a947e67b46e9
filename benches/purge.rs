//! Erasing a client from a laptop's store of 20,000 clients and 100,000 contacts: the
//! pulled page that carries the purge of the client and of its contacts, as the server's
//! feed names them (the deletes, the search index's optimisation and the commit). The
//! pulled page holds the sync's write lock, so this is how long an erasure keeps the coach's
//! next save waiting. Each erasure is timed once; the run reports the median and the
//! slowest, and then the time of one page that purges as many clients at once (a retention
//! run on the server).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tandem_benches::{disk_dir, fill_store, now, open_store, quantile, repeats, size};
use tandem_domain::Entity;
use tandem_store::PurgedRecord;
use uuid::Uuid;

fn main() {
    let clients = size(20_000, 50);
    let contacts = size(100_000, 250);
    let dir = disk_dir();
    let mut store = open_store(dir.path());
    let records = fill_store(&mut store, 61, clients, contacts);
    let mut seq = records.iter().map(|r| r.fields.len() as u64).sum::<u64>();

    // Each client with its contacts, in the order the server's erasure names them.
    let mut erasures: BTreeMap<Uuid, Vec<PurgedRecord>> = BTreeMap::new();
    for record in &records {
        let client = match record.entity {
            Entity::Client => record.id,
            Entity::Contact => record
                .get("client_id")
                .and_then(|id| id.as_str())
                .and_then(|id| id.parse().ok())
                .expect("a contact names its client"),
        };
        erasures.entry(client).or_default().push(PurgedRecord {
            seq: 0,
            entity: record.entity.as_str().to_owned(),
            record_id: record.id,
        });
    }

    let mut erasures = erasures.into_values();
    let mut purge = |purges: Vec<PurgedRecord>| {
        let purges: Vec<PurgedRecord> = purges
            .into_iter()
            .map(|purge| {
                seq += 1;
                PurgedRecord { seq, ..purge }
            })
            .collect();
        let started = Instant::now();
        let applied = store
            .apply_pulled_page(&[], &purges, seq, now(), now())
            .expect("apply the purge");
        let elapsed = started.elapsed();
        assert_eq!(applied.purged, purges.len() as u64, "every record purged");
        (elapsed, purges.len())
    };

    let clients_erased = repeats(20, 3);
    let mut times: Vec<Duration> = Vec::new();
    let mut erased_records = 0;
    for purges in erasures.by_ref().take(clients_erased) {
        let (elapsed, records) = purge(purges);
        times.push(elapsed);
        erased_records += records;
    }
    let median = quantile(&mut times, 0.5);
    let slowest = quantile(&mut times, 1.0);
    println!(
        "FIGURE client_erasure_{clients}_{contacts}: {clients_erased} clients erased one a page \
         ({erased_records} records with their contacts), median {median:.2?}, slowest {slowest:.2?}"
    );

    let (elapsed, records) = purge(erasures.take(clients_erased).flatten().collect());
    println!(
        "FIGURE client_erasure_{clients}_{contacts}: {clients_erased} clients erased in one page \
         ({records} records with their contacts) in {elapsed:.2?}"
    );
}
