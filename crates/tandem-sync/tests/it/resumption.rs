//! Resumption: a new laptop's first sync of 50,000 records, interrupted halfway (the process
//! dies in the middle of the pull), resumes from its stored cursor instead of from zero; and
//! a pipelined pull stopped while the next page is on its way keeps exactly the pages it
//! stored.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use tandem_protocol::{ChangeIn, LoginRequest, PushRequest, SCHEMA_VERSION};
use tandem_store::{PullApplied, PushApplied};
use tandem_sync::planner::PULL_PAGE_SIZE;
use tandem_sync::{HttpTransport, PullProgress, SyncObserver, TransportSettings};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::device::TestDevice;
use crate::faults::{Fault, handle};
use crate::server::{PASSWORD, SharedServer, TestTeam, shared};

const RECORDS: usize = 50_000;

/// Counts what a cycle pulled, and dies (panics) once it has stored `die_after` writes.
#[derive(Default)]
struct PullCounter {
    first_cursor_seen: Option<u64>,
    started_at: Option<u64>,
    percents: Vec<u8>,
    pulled: u64,
    die_after: Option<u64>,
}

impl SyncObserver for PullCounter {
    fn pushed(&mut self, _changes: usize, _applied: &PushApplied, _remaining: u64) {}

    fn pulled(&mut self, changes: usize, _applied: &PullApplied, progress: &PullProgress) {
        self.first_cursor_seen.get_or_insert(progress.cursor);
        self.started_at.get_or_insert(progress.started_at);
        self.percents.extend(progress.percent());
        self.pulled += changes as u64;
        assert_eq!(progress.received, self.pulled);
        // Counted in records, not in seqs: other tests' teams share the server's sequence.
        if self.die_after.is_some_and(|limit| self.pulled >= limit) {
            panic!("the laptop dies in the middle of its first sync");
        }
    }
}

/// A full sync of `laptop`, counting what it pulled.
fn sync_counting(server: &SharedServer, laptop: &mut TestDevice) -> PullCounter {
    let mut counter = PullCounter::default();
    server
        .runtime
        .block_on(tandem_sync::sync_once(
            &mut laptop.store,
            &laptop.transport,
            &laptop.clock,
            &mut counter,
        ))
        .unwrap();
    counter
}

/// Another laptop of `team` puts `records` clients (one field each) on the server.
fn seed_clients(server: &SharedServer, team: &TestTeam, records: usize) {
    let seeder = server.runtime.block_on(async {
        let anonymous =
            HttpTransport::new(&server.base, None, TransportSettings::default()).unwrap();
        anonymous
            .login(&LoginRequest {
                username: team.lead.clone(),
                password: PASSWORD.to_owned(),
                device_name: "seeder".into(),
                team: None,
            })
            .await
            .unwrap()
    });
    let transport = HttpTransport::new(
        &server.base,
        Some(seeder.device_token.clone()),
        TransportSettings::default(),
    )
    .unwrap();
    for chunk in 0..records.div_ceil(1000) {
        let changes: Vec<ChangeIn> = (0..1000.min(records - chunk * 1000))
            .map(|i| ChangeIn {
                change_id: Uuid::now_v7(),
                entity: "client".into(),
                record_id: Uuid::now_v7(),
                field: "given_name".into(),
                value: format!("Client {chunk}-{i}").into(),
                base_version: 0,
                hlc: format!("1768471200000-{:05}-{}", i, seeder.device_id),
                author_id: seeder.user.id,
            })
            .collect();
        server
            .runtime
            .block_on(transport.push(&PushRequest {
                device_id: seeder.device_id,
                schema_version: SCHEMA_VERSION,
                app_version: "seed".into(),
                pending_count: changes.len() as u64,
                changes,
            }))
            .unwrap();
    }
}

#[test]
fn an_initial_sync_of_50000_records_interrupted_halfway_resumes_from_its_cursor() {
    let server = shared();
    let team = server.new_team();
    // Another laptop already put 50,000 clients on the server.
    seed_clients(server, &team, RECORDS);

    let mut laptop = TestDevice::sign_in(server, &team, &team.coach, 0);
    let mut dying = PullCounter {
        die_after: Some(RECORDS as u64 / 2),
        ..PullCounter::default()
    };
    let died = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = server.runtime.block_on(tandem_sync::sync_once(
            &mut laptop.store,
            &laptop.transport,
            &laptop.clock,
            &mut dying,
        ));
    }));
    assert!(died.is_err(), "the first sync was interrupted");
    let cursor = laptop.store.pull_cursor().unwrap();
    assert!(
        cursor > 0,
        "the pages stored before the interruption are kept"
    );
    let stored_before = laptop.store.list_clients(true).unwrap().len();
    assert_eq!(stored_before as u64, dying.pulled);
    assert!((RECORDS / 2..RECORDS).contains(&stored_before));

    let resumed = sync_counting(server, &mut laptop);
    assert_eq!(
        resumed.pulled as usize,
        RECORDS - stored_before,
        "the second sync fetched only what the first did not store"
    );
    assert!(resumed.first_cursor_seen.unwrap() > cursor);
    assert_eq!(laptop.store.list_clients(true).unwrap().len(), RECORDS);
    // Its progress ran from the stored cursor, page by page, to 100 % at the last page only.
    assert_eq!(resumed.started_at, Some(cursor));
    let percents = &resumed.percents;
    assert_eq!(
        percents.len(),
        (RECORDS - stored_before).div_ceil(PULL_PAGE_SIZE as usize),
        "{percents:?}"
    );
    assert!(percents.is_sorted(), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
    assert!(
        percents[..percents.len() - 1].iter().all(|p| *p < 100),
        "{percents:?}"
    );
    assert!(
        dying.percents.iter().all(|p| *p < 100),
        "{:?}",
        dying.percents
    );
}

/// A proxy to the shared server that passes every connection on but the `hold`-th, which it
/// accepts and never answers. Returns its base URL.
fn start_holding_proxy(hold: u64) -> String {
    let server = shared();
    let upstream = server.base.trim_start_matches("http://").to_owned();
    server.runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            let mut accepted = 0;
            while let Ok((client, _)) = listener.accept().await {
                accepted += 1;
                if accepted == hold {
                    held.push(client);
                } else {
                    tokio::spawn(handle(client, upstream.clone(), Fault::Pass));
                }
            }
        });
        base
    })
}

/// Stops the cycle once it has stored `stop_after` pages: the engine has then already asked
/// for the next page, which is on its way while the page is stored.
struct PageStopper {
    pages: u64,
    pulled: u64,
    cursor: u64,
    stop_after: u64,
    stop: Arc<Notify>,
}

impl SyncObserver for PageStopper {
    fn pulled(&mut self, changes: usize, _applied: &PullApplied, progress: &PullProgress) {
        self.pages += 1;
        self.pulled += changes as u64;
        self.cursor = progress.cursor;
        if self.pages == self.stop_after {
            self.stop.notify_one();
        }
    }
}

#[test]
fn a_pipelined_pull_stopped_between_pages_resumes_without_losing_or_repeating_a_value() {
    const CLIENTS: usize = 4 * PULL_PAGE_SIZE as usize + 321;
    let server = shared();
    let team = server.new_team();
    seed_clients(server, &team, CLIENTS);
    let mut laptop = TestDevice::sign_in(server, &team, &team.coach, 0);
    // One connection per request; the coach's cycle sends only pulls, so the third connection
    // is the request for page 3, sent while page 2 is stored, and it never gets an answer.
    let settings = TransportSettings {
        reuse_connections: false,
        ..TransportSettings::default()
    };
    let held = HttpTransport::new(
        &start_holding_proxy(3),
        Some(laptop.token.clone()),
        settings,
    )
    .unwrap();

    // The cycle is dropped where it waits for the page fetched ahead, as when the app quits
    // or the user cancels a sync.
    let mut stopper = PageStopper {
        pages: 0,
        pulled: 0,
        cursor: 0,
        stop_after: 2,
        stop: Arc::new(Notify::new()),
    };
    let stop = Arc::clone(&stopper.stop);
    server.runtime.block_on(async {
        tokio::select! {
            biased;
            () = stop.notified() => {}
            result = tandem_sync::sync_once(
                &mut laptop.store,
                &held,
                &laptop.clock,
                &mut stopper,
            ) => panic!("the cycle ran to its end: {result:?}"),
        }
    });
    assert_eq!(stopper.pages, 2);
    assert!(
        (stopper.pulled as usize) < CLIENTS,
        "stopped before the end"
    );
    assert_eq!(
        laptop.store.pull_cursor().unwrap(),
        stopper.cursor,
        "the cursor of the last page stored, not of the page fetched ahead"
    );
    assert_eq!(
        laptop.store.list_clients(true).unwrap().len() as u64,
        stopper.pulled,
        "nothing of a page that was fetched but not stored"
    );

    let resumed = sync_counting(server, &mut laptop);
    assert_eq!(resumed.pulled + stopper.pulled, CLIENTS as u64);
    let clients = laptop.store.list_clients(true).unwrap();
    assert_eq!(clients.len(), CLIENTS);
    for client in &clients {
        let history = laptop
            .store
            .field_history("client", *client.id().as_uuid(), "given_name")
            .unwrap();
        assert_eq!(history.len(), 1, "each value stored once: {history:?}");
    }
    let names: std::collections::BTreeSet<String> = laptop
        .store
        .all_field_values()
        .unwrap()
        .into_iter()
        .map(|(_, _, _, value)| value)
        .collect();
    assert_eq!(names.len(), CLIENTS, "every value, each a different one");
}
