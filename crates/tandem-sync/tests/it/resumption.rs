//! Resumption: a new laptop's first sync of 50,000 records, interrupted halfway (the process
//! dies in the middle of the pull), resumes from its stored cursor instead of from zero.

use std::panic::AssertUnwindSafe;

use tandem_protocol::{ChangeIn, LoginRequest, PushRequest, SCHEMA_VERSION};
use tandem_store::{PullApplied, PushApplied};
use tandem_sync::{HttpTransport, SyncObserver, TransportSettings};
use uuid::Uuid;

use crate::device::TestDevice;
use crate::server::{PASSWORD, shared};

const RECORDS: usize = 50_000;

/// Counts what a cycle pulled, and dies (panics) once it has stored `die_after` writes.
#[derive(Default)]
struct PullCounter {
    first_cursor_seen: Option<u64>,
    pulled: u64,
    die_after: Option<u64>,
}

impl SyncObserver for PullCounter {
    fn pushed(&mut self, _changes: usize, _applied: &PushApplied, _remaining: u64) {}

    fn pulled(&mut self, changes: usize, _applied: &PullApplied, cursor: u64, _more: bool) {
        self.first_cursor_seen.get_or_insert(cursor);
        self.pulled += changes as u64;
        // Counted in records, not in seqs: other tests' teams share the server's sequence.
        if self.die_after.is_some_and(|limit| self.pulled >= limit) {
            panic!("the laptop dies in the middle of its first sync");
        }
    }
}

#[test]
fn an_initial_sync_of_50000_records_interrupted_halfway_resumes_from_its_cursor() {
    let server = shared();
    let team = server.new_team();
    // Another laptop already put 50,000 clients on the server.
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
    for chunk in 0..RECORDS / 1000 {
        let changes = (0..1000)
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
                pending_count: 1000,
                changes,
            }))
            .unwrap();
    }

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

    let mut resumed = PullCounter::default();
    server
        .runtime
        .block_on(tandem_sync::sync_once(
            &mut laptop.store,
            &laptop.transport,
            &laptop.clock,
            &mut resumed,
        ))
        .unwrap();
    assert_eq!(
        resumed.pulled as usize,
        RECORDS - stored_before,
        "the second sync fetched only what the first did not store"
    );
    assert!(resumed.first_cursor_seen.unwrap() > cursor);
    assert_eq!(laptop.store.list_clients(true).unwrap().len(), RECORDS);
}
