//! Client search over a store of 100,000 clients: what a coach types (a given name, a
//! family name, the first letters of one, a phone number), in every script of the data.
//! Criterion measures the mean; the same run then times each query once and reports the
//! median, the 95th percentile (goal: under 10 ms) and the slowest.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value as Json;
use tandem_benches::{disk_dir, fill_store, open_store, quantile, size};
use tandem_domain::Entity;

fn client_search(c: &mut Criterion) {
    let clients = size(100_000, 50);
    let dir = disk_dir();
    let mut store = open_store(dir.path());
    let records = fill_store(&mut store, 51, clients, 0);
    let queries: Vec<String> = records
        .iter()
        .filter(|r| r.entity == Entity::Client)
        .step_by((clients / 250).max(1))
        .flat_map(|r| {
            let text = |f| {
                r.get(f)
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let family = text("family_name");
            let prefix: String = family.chars().take(3).collect();
            let phone = text("phone").replace("+358", "0");
            [text("given_name"), family, prefix, phone[..7].to_owned()]
        })
        .collect();

    let mut group = c.benchmark_group(format!("client_search_{clients}"));
    let mut next = 0;
    group.bench_function("tandem_search_clients", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            let found = store.search_clients(&queries[next]).expect("search");
            assert!(!found.is_empty(), "`{}` found nothing", queries[next]);
        });
    });
    group.finish();

    let mut times: Vec<Duration> = queries
        .iter()
        .map(|query| {
            let started = Instant::now();
            let found = store.search_clients(query).expect("search");
            let elapsed = started.elapsed();
            assert!(!found.is_empty(), "`{query}` found nothing");
            elapsed
        })
        .collect();
    let median = quantile(&mut times, 0.5);
    let p95 = quantile(&mut times, 0.95);
    let slowest = quantile(&mut times, 1.0);
    println!(
        "FIGURE client_search_{clients}: {} queries, median {median:.2?}, p95 {p95:.2?}, slowest {slowest:.2?}",
        times.len()
    );
}

criterion_group!(benches, client_search);
criterion_main!(benches);
