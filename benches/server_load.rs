//! The server under load: 200 devices at once, each pushing 50 changes in one request and
//! then pulling everything new since the run began, against a real tandem-server over
//! loopback HTTP, on a SQLite file and on PostgreSQL. Reports throughput, the 50th and 99th percentile request
//! latency, and errors (goal: none). Not a Criterion benchmark: the figures are a
//! distribution over one concurrent run, not the time of a repeated routine.

use std::time::{Duration, Instant};

use tandem_benches::{Backend, BenchServer, now, quantile, size};
use tandem_protocol::{ChangeIn, ChangeStatus, PushRequest};
use tandem_sync::HttpTransport;
use tandem_sync::planner::PULL_PAGE_SIZE;
use tandem_synth::SyntheticData;
use uuid::Uuid;

/// What one device saw.
#[derive(Debug, Default)]
struct DeviceRun {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    pulled: u64,
}

/// `count` changes of new clients and their contacts by one device, from a generator of its
/// own; the server gets the generator's sites first (named after the device, since names are
/// unique), as a contact's site must name one.
fn changes_of(
    server: &BenchServer,
    device: u64,
    author: Uuid,
    device_id: Uuid,
    count: usize,
) -> Vec<ChangeIn> {
    let mut data = SyntheticData::new(1_000 + device, now(), vec![author]);
    server.runtime.block_on(async {
        for site in data.sites() {
            let name = format!("{} ({device})", site.name);
            let added = server.store.add_site(site.id, &name, now());
            added.await.expect("add the generator's site");
        }
    });
    let mut changes = Vec::with_capacity(count);
    while changes.len() < count {
        let client = data.client();
        let contacts = data.contacts_of(&client, 2);
        for record in std::iter::once(client).chain(contacts) {
            for (field, value) in record.fields {
                let ms = now().timestamp_millis();
                changes.push(ChangeIn {
                    change_id: Uuid::now_v7(),
                    entity: record.entity.as_str().to_owned(),
                    record_id: record.id,
                    field: field.to_owned(),
                    value,
                    base_version: 0,
                    hlc: format!("{ms:013}-{:05}-{device_id}", changes.len()),
                    author_id: author,
                });
            }
        }
    }
    changes.truncate(count);
    changes
}

async fn device_run(transport: HttpTransport, request: PushRequest, after: u64) -> DeviceRun {
    let mut run = DeviceRun::default();
    let started = Instant::now();
    match transport.push(&request).await {
        Ok(answer) => {
            run.latencies.push(started.elapsed());
            let refused = answer
                .results
                .iter()
                .filter(|r| r.status == ChangeStatus::Rejected)
                .count();
            if answer.results.len() != request.changes.len() || refused > 0 {
                run.errors.push(format!(
                    "push: {} answers for {} changes, {refused} rejected",
                    answer.results.len(),
                    request.changes.len()
                ));
            }
        }
        Err(error) => run.errors.push(format!("push: {error}")),
    }
    let mut cursor = after;
    loop {
        let started = Instant::now();
        match transport.pull(cursor, PULL_PAGE_SIZE).await {
            Ok(page) => {
                run.latencies.push(started.elapsed());
                run.pulled += page.changes.len() as u64;
                cursor = page.next;
                if !page.has_more {
                    break;
                }
            }
            Err(error) => {
                run.errors.push(format!("pull: {error}"));
                break;
            }
        }
    }
    run
}

fn main() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        load(backend);
    }
}

fn load(backend: Backend) {
    let devices = size(200, 4);
    // At the smoke size too, enough for contacts (and their sites) after the first client.
    let per_device = size(50, 45);
    let server = BenchServer::start(backend);
    // A team that already has data, as in production.
    server.seed(61, size(2_000, 10), size(6_000, 20));
    let coaches = server.add_coaches(devices);
    let logins: Vec<_> = coaches
        .iter()
        .map(|coach| server.runtime.block_on(server.log_in(coach)))
        .collect();
    let after = server.runtime.block_on(async {
        let transport = &logins[0].1;
        let mut cursor = 0;
        loop {
            let page = transport.pull(cursor, PULL_PAGE_SIZE).await.expect("pull");
            cursor = page.next;
            if !page.has_more {
                return cursor;
            }
        }
    });
    let work: Vec<_> = logins
        .into_iter()
        .zip(0u64..)
        .map(|((login, transport), index)| {
            let request = PushRequest {
                device_id: login.device_id,
                schema_version: tandem_protocol::SCHEMA_VERSION,
                app_version: "bench".to_owned(),
                pending_count: per_device as u64,
                changes: changes_of(&server, index, login.user.id, login.device_id, per_device),
            };
            (transport, request)
        })
        .collect();

    let started = Instant::now();
    let runs: Vec<DeviceRun> = server.runtime.block_on(async {
        let tasks: Vec<_> = work
            .into_iter()
            .map(|(transport, request)| tokio::spawn(device_run(transport, request, after)))
            .collect();
        let mut runs = Vec::with_capacity(tasks.len());
        for task in tasks {
            runs.push(task.await.expect("a device task"));
        }
        runs
    });
    let wall = started.elapsed();

    let mut latencies: Vec<Duration> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    let errors: Vec<&String> = runs.iter().flat_map(|r| &r.errors).collect();
    let pushed = devices * per_device;
    let pulled: u64 = runs.iter().map(|r| r.pulled).sum();
    let requests = latencies.len() + errors.len();
    println!(
        "FIGURE server_load_{backend:?}: {devices} devices x {per_device} changes pushed, then pulled; \
         wall {wall:.2?}; {:.0} changes pushed/s; {:.0} requests/s ({requests} requests, \
         {pulled} changes pulled in all); latency p50 {:.2?}, p99 {:.2?}, max {:.2?}; errors {}",
        pushed as f64 / wall.as_secs_f64(),
        requests as f64 / wall.as_secs_f64(),
        quantile(&mut latencies, 0.5),
        quantile(&mut latencies, 0.99),
        quantile(&mut latencies, 1.0),
        errors.len(),
    );
    for error in errors.iter().take(5) {
        println!("  error: {error}");
    }
    // Every device must at least see its own changes come back.
    for run in &runs {
        assert!(
            run.pulled >= per_device as u64 || !run.errors.is_empty(),
            "{run:?}"
        );
    }
    assert!(errors.is_empty(), "{} requests failed", errors.len());
}
