//! One sync cycle: push the outbox in batches (each answer stored in one transaction with
//! the removal of its outbox rows), then pull pages after the cursor until the server has no
//! more (each page stored in one transaction with the new cursor), then, for team leads,
//! mirror the team's conflicts. A new server epoch in an answer (a restored server) rewinds
//! the cursor and queues journalled changes again (`tandem_store::ServerEpoch`); the cycle
//! then pushes and pulls once more. A push that fails on an answer about what it carried
//! still lets the pull run (`SyncError::still_pulls_after_push`). Every step is idempotent,
//! so a cycle cut short anywhere costs at most one batch redone by the next one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tandem_protocol::PullResponse;
use tandem_store::{CLOCK_SKEW_WARNING_MS, Store};

use crate::SyncError;
use crate::observer::{PullProgress, SyncObserver, SyncPhase};
use crate::planner::{self, MAX_BATCH_BYTES, MAX_BATCH_CHANGES, PULL_PAGE_SIZE};
use crate::transport::HttpTransport;

/// Where the engine reads the time. Binaries pass [`SystemClock`]; tests pass a skewed or
/// fixed clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The device's idea of now.
    fn now(&self) -> DateTime<Utc>;
}

/// The device's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The edge of the sync engine: the one place it reads the wall clock.
        #[allow(clippy::disallowed_methods)]
        Utc::now()
    }
}

/// What one cycle did, for the summary line and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Push requests sent and answered.
    pub push_batches: u64,
    /// Changes the server acknowledged (any status).
    pub pushed: u64,
    /// Of those, refused and kept in the rejected list.
    pub rejected: u64,
    /// Changes not sent but moved to the rejected list with them: the later edits of a record
    /// the server refused as erased (`tandem_store::PushApplied::withheld`).
    pub withheld: u64,
    /// Of those, with a conflict recorded.
    pub conflicts: u64,
    /// Pull pages stored.
    pub pull_pages: u64,
    /// Server writes received.
    pub pulled: u64,
    /// Fields that took the server's value.
    pub updated_fields: u64,
    /// Records seen for the first time.
    pub new_records: u64,
    /// Records removed because the server erased or purged them.
    pub purged_records: u64,
    /// Changes still in the outbox at the end (0 after a complete cycle).
    pub pending_after: u64,
    /// The pull cursor at the end.
    pub cursor: u64,
    /// The server's clock minus the device's, in milliseconds, at the last answer.
    pub clock_skew_ms: i64,
    /// Whether that skew is over five minutes either way.
    pub clock_skewed: bool,
    /// Open conflicts known to this device at the end.
    pub open_conflicts: u64,
    /// Acknowledged changes queued again because the server was restored from a backup
    /// (a new database epoch).
    pub requeued_after_restore: u64,
    /// Why the list of sites could not be refreshed, if it could not (the cycle went on
    /// with the list this laptop had).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sites_not_refreshed: Option<String>,
    /// Why the list of the team's users could not be refreshed, if it could not (the cycle
    /// went on with the list this laptop had).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_not_refreshed: Option<String>,
}

/// Runs one cycle on a signed-in store and records its outcome in the store (last sync, or
/// last error and "update required"). On [`SyncError::DeviceRevoked`] the caller must drop
/// the store and call [`crate::wipe_local_data`].
pub async fn sync_once(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    observer: &mut (dyn SyncObserver + Send),
) -> Result<SyncReport, SyncError> {
    let outcome = run(store, transport, clock, observer).await;
    let now = clock.now();
    match &outcome {
        Ok(_) => store.record_sync_success(now)?,
        Err(SyncError::DeviceRevoked) => {}
        Err(error) => {
            // The failure is what the user must see; failing to note it must not hide it.
            let _ = store.record_sync_failure(
                now,
                &error.to_string(),
                matches!(error, SyncError::UpdateRequired { .. }),
            );
        }
    }
    observer.phase(SyncPhase::Done, store.pending_count().unwrap_or(0));
    outcome
}

async fn run(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    observer: &mut (dyn SyncObserver + Send),
) -> Result<SyncReport, SyncError> {
    let sign_in = store.sign_in()?.ok_or(SyncError::NotSignedIn)?;
    let mut report = SyncReport::default();

    // A new server epoch met while pulling (a restored server) rewinds the cursor and queues
    // journalled changes again: push those, then pull from the rewound cursor. A second
    // round meets the same epoch, so this ends unless the server is restored meanwhile.
    //
    // A push that fails still lets the pull run when the failure concerns what was pushed
    // (`SyncError::still_pulls_after_push`): while one record cannot be sent (over the body
    // limit) or the server cannot store (503 `storage_full`), erasures and colleagues' writes
    // still arrive. The cycle then ends with the push's failure, which is what is reported
    // and scheduled, unless the pull's own failure ends things for good (a revoked device).
    let mut push_failure;
    loop {
        push_failure =
            match push_outbox(store, transport, clock, observer, &sign_in, &mut report).await {
                Ok(()) => None,
                Err(error) if error.still_pulls_after_push() => Some(error),
                Err(error) => return Err(error),
            };
        match pull_pages(store, transport, clock, observer, &mut report).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Err(match push_failure {
                    Some(push)
                        if !error.is_disk_full()
                            && (error.is_transient() || error.still_pulls_after_push()) =>
                    {
                        push
                    }
                    _ => error,
                });
            }
        }
    }
    if let Some(error) = push_failure {
        return Err(error);
    }

    report.sites_not_refreshed = refresh_reference(transport.sites().await, |list| {
        store.replace_sites(&planner::stored_sites(&list.sites))
    })?;
    report.users_not_refreshed = refresh_reference(transport.users().await, |list| {
        store.replace_team_users(&planner::stored_team_users(&list.users))
    })?;

    if sign_in.role == "team_lead" {
        observer.phase(SyncPhase::Conflicts, store.pending_count()?);
        crate::review::refresh_conflicts(store, transport, clock).await?;
    }

    let status = store.sync_status()?;
    report.pending_after = status.pending_count;
    report.cursor = status.pull_cursor;
    report.open_conflicts = status.open_conflicts;
    Ok(report)
}

/// Stores a list of the server's reference data (the sites, the team's users: shown by name
/// and offered in forms) with `replace`, or keeps the list this laptop has when the server's
/// cannot be read: push and pull are done and stored by then, so a transient failure or an
/// error status (a server from before the list answers 404) does not fail the cycle; it is
/// returned, for the report. What needs a person (a revoked device, an update) still ends
/// the cycle.
fn refresh_reference<List>(
    answer: Result<List, SyncError>,
    replace: impl FnOnce(List) -> Result<(), tandem_store::StoreError>,
) -> Result<Option<String>, SyncError> {
    match answer {
        Ok(list) => {
            replace(list)?;
            Ok(None)
        }
        // A server from before the list answers 404, which is not transient any more than
        // any other 4xx: it is still no reason to fail a cycle whose push and pull are done.
        Err(error @ SyncError::Server { .. }) => Ok(Some(error.to_string())),
        Err(error) if error.is_transient() => Ok(Some(error.to_string())),
        Err(error) => Err(error),
    }
}

/// Notes the epoch of a server answer (`tandem_store::ServerEpoch`); whether the cycle must
/// push and pull again.
fn adopt_epoch(
    store: &mut Store,
    epoch: Option<&tandem_protocol::DatabaseEpoch>,
    report: &mut SyncReport,
) -> Result<bool, SyncError> {
    let Some(epoch) = epoch else {
        return Ok(false);
    };
    let adoption = store.adopt_server_epoch(&planner::server_epoch(epoch))?;
    report.requeued_after_restore += adoption.requeued;
    Ok(adoption.needs_resync())
}

async fn push_outbox(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    observer: &mut (dyn SyncObserver + Send),
    sign_in: &tandem_store::SignIn,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    observer.phase(SyncPhase::Push, store.pending_count()?);
    let mut max_changes = MAX_BATCH_CHANGES;
    loop {
        let pending = store.pending_count()?;
        let outbox = store.outbox_batch(max_changes)?;
        let Some(plan) = planner::plan_push(
            sign_in.device_id,
            Some(sign_in.user_id),
            pending,
            &outbox,
            max_changes,
            MAX_BATCH_BYTES,
        )?
        else {
            return Ok(());
        };
        let sent = plan.request.changes.len();
        let response = match transport.push(&plan.request).await {
            Ok(response) => response,
            // A server with a smaller body limit than ours: halve the batch and go on. The
            // planner still cuts between records, so a batch of one record is as small as it
            // gets: it is never sent in parts (the server judges a record's changes per
            // batch), and the push ends with the error, the record in the outbox.
            Err(SyncError::PayloadTooLarge { .. }) if plan.records > 1 => {
                max_changes = (sent / 2).max(1);
                continue;
            }
            Err(error) => return Err(error),
        };
        let acks = planner::acknowledgements(&plan.request, &response)?;
        // Before the answers are journalled: they belong to the new epoch, the journal's
        // earlier rows to the old one. The rows queued again go in the next batches.
        adopt_epoch(store, response.epoch.as_ref(), report)?;
        let now = clock.now();
        note_skew(
            report,
            store.observe_server_time(response.server_time, now)?,
        );
        let applied = store.apply_push_results(&acks, now)?;
        report.push_batches += 1;
        report.pushed += applied.acknowledged;
        report.rejected += applied.rejected;
        report.withheld += applied.withheld;
        report.conflicts += applied.conflicts;
        observer.pushed(sent, &applied, store.pending_count()?);
    }
}

/// Pulls until the server has no more; `true` when a new epoch interrupted it.
///
/// The pages are pipelined: once a page has been checked, the request for the next one (after
/// this page's `next`, which is the cursor this page commits) goes out while this page is
/// being stored, so the server's work and the transfer overlap the store's. The store alone
/// decides what is kept: a page and its cursor still commit together, one page at a time, in
/// order, and a page fetched ahead is dropped unread (its request aborted) when the cycle ends
/// before it is stored, by an error, a new epoch or the caller dropping the cycle; the next
/// cycle asks for it again from the stored cursor. The overlap needs a multi-threaded
/// runtime; on a single-threaded one the next request simply waits for the store.
async fn pull_pages(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    observer: &mut (dyn SyncObserver + Send),
    report: &mut SyncReport,
) -> Result<bool, SyncError> {
    observer.phase(SyncPhase::Pull, store.pending_count()?);
    let mut store = store.pull_session()?;
    let mut after = store.pull_cursor()?;
    let started_at = after;
    let mut received = 0;
    let mut page = transport.pull(after, PULL_PAGE_SIZE).await?;
    loop {
        if adopt_epoch(&mut store, page.epoch.as_ref(), report)? {
            // The page answered a cursor that is gone; the changes queued again go first.
            return Ok(true);
        }
        let writes = planner::server_writes(after, &page)?;
        let purges = planner::purged_records(after, &page)?;
        let next_page = page
            .has_more
            .then(|| PageFetch::start(transport, page.next));
        let applied =
            store.apply_pulled_page(&writes, &purges, page.next, page.server_time, clock.now())?;
        note_skew(report, applied.clock_skew_ms);
        report.pull_pages += 1;
        report.pulled += writes.len() as u64;
        report.updated_fields += applied.updated;
        report.new_records += applied.new_records;
        report.purged_records += applied.purged;
        received += writes.len() as u64;
        let progress = PullProgress {
            received,
            started_at,
            cursor: page.next,
            head: page.head,
            has_more: page.has_more,
        };
        observer.pulled(writes.len(), &applied, &progress);
        let Some(next_page) = next_page else {
            return Ok(false);
        };
        after = page.next;
        page = next_page.finish().await?;
    }
}

/// The request for the next pull page, running on its own task while the current page is
/// stored; aborted when dropped unfinished.
struct PageFetch(tokio::task::JoinHandle<Result<PullResponse, SyncError>>);

impl PageFetch {
    fn start(transport: &HttpTransport, after: u64) -> Self {
        let transport = transport.clone();
        Self(tokio::spawn(async move {
            transport.pull(after, PULL_PAGE_SIZE).await
        }))
    }

    async fn finish(mut self) -> Result<PullResponse, SyncError> {
        match (&mut self.0).await {
            Ok(page) => page,
            // Only `Drop` aborts the task, and then nobody waits for it: this is a panic in
            // the request, which goes on as the panic it was.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
}

impl Drop for PageFetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn note_skew(report: &mut SyncReport, skew_ms: i64) {
    report.clock_skew_ms = skew_ms;
    report.clock_skewed = skew_ms.abs() > CLOCK_SKEW_WARNING_MS;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::{Site, SiteList, TeamUser, UserList};
    use uuid::Uuid;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with_key(
            &dir.path().join("tandem.db"),
            &tandem_store::StoreKey::generate(),
        )
        .unwrap();
        (dir, store)
    }

    #[test]
    fn the_teams_users_are_kept_when_the_server_cannot_give_them() {
        let (_dir, mut store) = store();
        let refresh = |store: &mut Store, answer: Result<UserList, SyncError>| {
            refresh_reference(answer, |list| {
                store.replace_team_users(&planner::stored_team_users(&list.users))
            })
        };
        let lead = TeamUser {
            id: Uuid::from_u128(7),
            username: "lead1".to_owned(),
            role: tandem_protocol::Role::TeamLead,
        };
        let answer = Ok(UserList { users: vec![lead] });
        assert_eq!(refresh(&mut store, answer).unwrap(), None);
        let stored = store.team_users().unwrap();
        assert_eq!(
            (stored[0].username.as_str(), stored[0].role.as_str()),
            ("lead1", "team_lead")
        );

        // A server from before the list: the cycle goes on, with the list this laptop has.
        let older_server = Err(SyncError::Server {
            status: 404,
            code: "not_found".to_owned(),
            message: "no route".to_owned(),
            retry_after_secs: None,
            reason_code: None,
        });
        let kept = refresh(&mut store, older_server).unwrap();
        assert!(kept.is_some_and(|why| why.contains("404")));
        assert_eq!(store.team_users().unwrap(), stored, "kept");
    }

    /// What a cycle does with the server's answer to `GET /v1/sites`.
    fn refresh_sites(
        store: &mut Store,
        answer: Result<SiteList, SyncError>,
    ) -> Result<Option<String>, SyncError> {
        refresh_reference(answer, |list| {
            store.replace_sites(&planner::stored_sites(&list.sites))
        })
    }

    #[test]
    fn the_sites_are_kept_when_the_server_cannot_give_them_and_a_revoked_device_still_stops() {
        let (_dir, mut store) = store();
        let library = Site {
            id: Uuid::from_u128(1),
            name: "Myyrmäki library drop-in".to_owned(),
            archived: false,
        };
        let answer = Ok(SiteList {
            sites: vec![library],
        });
        assert_eq!(refresh_sites(&mut store, answer).unwrap(), None);
        assert_eq!(store.sites().unwrap().len(), 1);

        // A server from before sites: the cycle goes on, with the list this laptop has.
        let older_server = Err(SyncError::Server {
            status: 404,
            code: "not_found".to_owned(),
            message: "no route".to_owned(),
            retry_after_secs: None,
            reason_code: None,
        });
        let kept = refresh_sites(&mut store, older_server).unwrap();
        assert!(kept.is_some_and(|why| why.contains("404")));
        assert_eq!(store.sites().unwrap().len(), 1, "kept");

        let revoked = refresh_sites(&mut store, Err(SyncError::DeviceRevoked));
        assert!(
            matches!(revoked, Err(SyncError::DeviceRevoked)),
            "{revoked:?}"
        );
    }
}
