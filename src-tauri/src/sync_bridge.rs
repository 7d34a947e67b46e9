//! The one place the shell talks to the sync engine (tandem-sync): online sign-in, offline
//! unlock, the background schedule and its cycles, the progress channel to the UI, and the
//! views of what has not reached the server, and a team lead's review (resolving a
//! conflict, the team's laptops). Kept small so that the rest of the shell does
//! not change when the engine's API does.
//!
//! A cycle runs on its own connection to the store (SQLite in WAL mode allows it), so the
//! coach's commands never wait for the network: the shared connection is only taken for
//! the short, local calls of the commands.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use tandem_store::{CLOSED_CONFLICTS_KEPT, LocalConflict, Store, StoreError};
use tandem_sync::{
    ConflictChoice, CycleOutcome, HttpTransport, LoginInput, PullProgress, STALE_DEVICE_DAYS,
    SyncError, SyncLock, SyncObserver, SyncPhase, SyncPolicy, SyncReport, SyncSchedule,
    SystemClock,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};

use crate::dto::{
    CommandErrorView, ConflictCandidate, ConflictResolution, ConflictView, DeviceHealthView,
    PendingChangeView, RejectedChangeView, SessionState, SignInInput, SyncEvent, SyncStatusView,
    TeamDevicesView, UnsyncedView,
};
use crate::dto::{
    DuplicateClientView, DuplicateMergeView, DuplicatePairInput, DuplicatePairView, DuplicatesView,
};
use crate::error::{CommandError, ErrorKind};
use crate::state::{AppState, lock};

/// How often the background task looks at the schedule.
const TICK: Duration = Duration::from_secs(1);

impl From<SyncError> for CommandError {
    fn from(error: SyncError) -> Self {
        Self::from(&error)
    }
}

impl From<&SyncError> for CommandError {
    fn from(error: &SyncError) -> Self {
        let kind = match error {
            _ if error.is_disk_full() => ErrorKind::DiskFull,
            // A value the store refused during a sync came from the server, not a form.
            SyncError::Store(StoreError::Invalid(_)) => ErrorKind::Store,
            SyncError::Store(store) => ErrorKind::of_store_error(store),
            SyncError::Io { .. } => ErrorKind::Store,
            SyncError::Offline { .. } => ErrorKind::Offline,
            SyncError::WrongServerAddress { .. } => ErrorKind::WrongServerAddress,
            SyncError::DeviceRevoked => ErrorKind::DeviceRevoked,
            SyncError::UpdateRequired { .. } => ErrorKind::UpdateRequired,
            SyncError::InvalidCredentials => ErrorKind::WrongPassword,
            SyncError::LockedOut { .. } => ErrorKind::LockedOut,
            SyncError::NotSignedIn => ErrorKind::NotSignedIn,
            SyncError::Unauthorized { .. } => ErrorKind::DeviceNotRecognised,
            SyncError::InvalidServerUrl { .. } | SyncError::ProvisionedServer { .. } => {
                return CommandError::invalid_field("server_url", error.to_string());
            }
            SyncError::InvalidProvisioning { key, .. } => {
                return CommandError {
                    field: key.clone(),
                    ..CommandError::new(ErrorKind::InvalidProvisioning, error.to_string())
                };
            }
            SyncError::Keyring { .. } => ErrorKind::KeyringUnavailable,
            SyncError::Forbidden { .. } => ErrorKind::NotAllowed,
            SyncError::ConflictNotOpen { .. } => ErrorKind::ConflictNotOpen,
            SyncError::UnknownConflict { .. } | SyncError::NoSuchConflictValue { .. } => {
                ErrorKind::NotFound
            }
            SyncError::InvalidResolution {
                field,
                message,
                rule,
                reason_code,
            } => {
                return CommandError {
                    rule: rule.clone(),
                    reason_code: *reason_code,
                    ..CommandError::invalid_field(field, message.clone())
                };
            }
            _ => ErrorKind::Server,
        };
        CommandError::new(kind, error.to_string())
    }
}

/// An error of a team lead's action that needs the server: offline means nothing was done
/// (not "sent later", as for edits).
pub(crate) fn online_only(error: SyncError) -> CommandError {
    match error {
        SyncError::Offline { .. } => {
            CommandError::new(ErrorKind::NeedsConnection, error.to_string())
        }
        SyncError::Server { status: 404, .. } => {
            CommandError::new(ErrorKind::NotOnServer, error.to_string())
        }
        other => other.into(),
    }
}

/// What the shell knows about syncing beyond the store: the schedule, whether the last
/// attempt reached the server, whether a cycle runs now, and where to send progress.
#[derive(Default)]
pub struct SyncRuntime {
    schedule: Mutex<Option<SyncSchedule>>,
    online: Mutex<Option<bool>>,
    syncing: Mutex<bool>,
    last_error: Mutex<Option<CommandErrorView>>,
    channel: Mutex<Option<Channel<SyncEvent>>>,
    /// Woken whenever a cycle of this app ends (`run_fresh_cycle` waits on it).
    finished: tokio::sync::Notify,
}

impl std::fmt::Debug for SyncRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRuntime")
            .field("online", &*lock(&self.online))
            .field("syncing", &*lock(&self.syncing))
            .finish_non_exhaustive()
    }
}

impl SyncRuntime {
    /// Starts the schedule of background cycles (a cycle is due at once).
    pub fn start_schedule(&self) {
        *lock(&self.schedule) = Some(SyncSchedule::new(SyncPolicy::default(), now()));
    }

    /// A local edit was saved: the schedule syncs soon. A save proves the disk has room
    /// again, so a sync stopped by a full disk is no longer reported and runs now instead of
    /// after its back-off.
    pub fn local_save(&self) {
        let disk_was_full = {
            let mut last_error = lock(&self.last_error);
            let full = last_error
                .as_ref()
                .is_some_and(|error| error.kind == ErrorKind::DiskFull);
            if full {
                *last_error = None;
            }
            full
        };
        if let Some(schedule) = lock(&self.schedule).as_mut() {
            if disk_was_full {
                schedule.sync_requested(now());
            } else {
                schedule.local_save(now());
            }
        }
    }

    fn send(&self, event: SyncEvent) {
        if let Some(channel) = lock(&self.channel).as_ref() {
            // A closed window is no reason to stop syncing.
            let _ = channel.send(event);
        }
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    #[allow(clippy::disallowed_methods)] // The shell is the edge where the clock is read.
    Utc::now()
}

/// A copy of the runtime facts for one status view.
#[derive(Debug, Clone, Default)]
pub struct RuntimeFacts {
    /// Whether the last attempt reached the server.
    pub online: Option<bool>,
    /// Whether a cycle runs now.
    pub syncing: bool,
    /// The error of the last attempt.
    pub last_error: Option<CommandErrorView>,
    /// When the schedule tries again after failures.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The runtime facts now.
pub fn runtime_of(state: &AppState) -> RuntimeFacts {
    RuntimeFacts {
        online: *lock(&state.sync.online),
        syncing: *lock(&state.sync.syncing),
        last_error: lock(&state.sync.last_error).clone(),
        next_attempt_at: lock(&state.sync.schedule)
            .as_ref()
            .and_then(SyncSchedule::retry_at),
    }
}

/// Sends progress and status to `channel` from now on.
pub fn watch(state: &AppState, channel: Channel<SyncEvent>) {
    *lock(&state.sync.channel) = Some(channel);
}

/// The sign-in facts of a store as the UI needs them.
pub fn session_state(store: &Store, unlocked: bool) -> Result<SessionState, StoreError> {
    let sign_in = store.sign_in()?;
    let now = now();
    let unlock_wait_secs = store.unlock_locked_until(now)?.map(|until| {
        u64::try_from((until - now).num_milliseconds()).map_or(0, |ms| ms.div_ceil(1000))
    });
    Ok(SessionState {
        unlock_wait_secs,
        signed_in: sign_in.is_some(),
        unlocked: unlocked && sign_in.is_some(),
        username: sign_in.as_ref().map(|s| s.username.clone()),
        role: sign_in.as_ref().map(|s| s.role.clone()),
        team: sign_in.as_ref().map(|s| s.team_name.clone()),
        server_url: sign_in.map(|s| s.server_url),
    })
}

/// This laptop's name, shown to team leads.
fn device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "laptop".to_owned())
}

/// Signs this laptop in online (on a connection of its own, since the login waits for the
/// network), keeps the device token in the OS keyring, and asks for a first sync.
pub async fn sign_in_online(state: &AppState, input: &SignInInput) -> Result<(), CommandError> {
    let provisioning = state.valid_provisioning()?;
    let server = provisioning.sign_in_server(Some(&input.server_url))?;
    let transport = HttpTransport::new(&server, None, provisioning.transport_settings())?;
    let mut store = Store::open(&state.data_dir)?;
    let login = LoginInput {
        username: input.username.clone(),
        password: zeroize::Zeroizing::new(input.password.clone()),
        team: None,
        device_name: device_name(),
    };
    let (_, token) = tandem_sync::sign_in(&mut store, &transport, &login).await?;
    tandem_sync::credentials::save_device_token(&state.data_dir, &token)?;
    *lock(&state.sync.online) = Some(true);
    *lock(&state.sync.last_error) = None;
    if let Some(schedule) = lock(&state.sync.schedule).as_mut() {
        schedule.server_answered(now());
        schedule.sync_requested(now());
    }
    Ok(())
}

/// Checks a password against the verifier kept at the last online sign-in; repeated wrong
/// ones lock out for a growing wait (`ErrorKind::LockedOut`).
pub fn verify_offline(store: &mut Store, password: &str) -> Result<bool, CommandError> {
    let sign_in = store.sign_in()?.ok_or_else(|| {
        CommandError::new(
            ErrorKind::NotSignedIn,
            "nobody has signed in on this laptop yet; the first sign-in needs the network",
        )
    })?;
    Ok(tandem_sync::verify_offline(
        store,
        &sign_in.username,
        password,
        now(),
    )?)
}

/// Forwards the engine's progress to the UI.
struct ChannelObserver<'a> {
    runtime: &'a SyncRuntime,
}

impl SyncObserver for ChannelObserver<'_> {
    fn phase(&mut self, phase: SyncPhase, _pending: u64) {
        if phase == SyncPhase::Push {
            self.runtime.send(SyncEvent::Started);
        }
    }

    fn pushed(&mut self, changes: usize, _applied: &tandem_store::PushApplied, _remaining: u64) {
        self.runtime.send(SyncEvent::Pushed {
            count: changes as u64,
        });
    }

    fn pulled(
        &mut self,
        changes: usize,
        applied: &tandem_store::PullApplied,
        progress: &PullProgress,
    ) {
        self.runtime.send(SyncEvent::Pulled {
            count: changes as u64,
            purged: applied.purged,
            received: progress.received,
            percent: progress.percent(),
        });
    }
}

async fn cycle(state: &AppState) -> Result<SyncReport, SyncError> {
    let _lock = SyncLock::try_acquire(&state.data_dir)?;
    let mut store = Store::open(&state.data_dir)?;
    let transport = signed_in_transport(state, &store)?;
    let mut observer = ChannelObserver {
        runtime: &state.sync,
    };
    tandem_sync::sync_once(&mut store, &transport, &SystemClock, &mut observer).await
}

/// Runs one cycle unless one is running; records its outcome in the schedule and the
/// runtime, and sends the status after it; returns its result, or `None` when it did not run.
/// A revoked device wipes its local data.
async fn run_cycle(state: &AppState) -> Option<Result<SyncReport, SyncError>> {
    let started = lock(&state.sync.schedule)
        .as_mut()
        .is_some_and(SyncSchedule::start);
    if !started {
        return None;
    }
    *lock(&state.sync.syncing) = true;
    state.sync.send(SyncEvent::Started);
    // Whether the cycle changed the conflicts held, which the screens read again for: a team
    // lead's mirror of the server's list can change without a value or a count moving.
    let conflicts_before = state.with_store_unlocked_or_not(held_conflicts).ok();
    let result = cycle(state).await;
    // Another process (`tandem sync` in a terminal) syncing this store right now tells
    // nothing new of the server or of this laptop's sync: the bar keeps what it showed.
    let outcome = CycleOutcome::of(&result);
    let busy = outcome == CycleOutcome::Busy;
    let online = Some(outcome != CycleOutcome::Unreachable);
    if let Err(SyncError::DeviceRevoked) = &result {
        state.close_store();
        let _ = tandem_sync::wipe_local_data(&state.data_dir);
        state.set_unlocked(false);
    }
    if !busy {
        *lock(&state.sync.last_error) = result.as_ref().err().map(|error| {
            let error = CommandError::from(error);
            CommandErrorView {
                kind: error.kind,
                message: error.message,
            }
        });
        *lock(&state.sync.online) = online;
    }
    *lock(&state.sync.syncing) = false;
    if let Some(schedule) = lock(&state.sync.schedule).as_mut() {
        schedule.finished(outcome, now(), tandem_sync::schedule::jitter());
    }
    let runtime = runtime_of(state);
    if let Ok(status) = state.with_store_unlocked_or_not(|store| status_view(store, &runtime)) {
        // Conflicts that became unreadable (or readable again) during the cycle count as
        // changed, once: conflicts that stay unreadable do not make every sync read the
        // screens again. The bar hears that the sync finished either way.
        let conflicts_after = state.with_store_unlocked_or_not(held_conflicts).ok();
        state.sync.send(SyncEvent::Finished {
            status,
            conflicts_changed: conflicts_before != conflicts_after,
        });
    }
    state.sync.finished.notify_waiters();
    Some(result)
}

/// What of the conflicts held can change a screen's list without a value or a count moving:
/// the open ones (a team lead's: one closed by another lead leaves them, one opened joins
/// them, a detail rewritten by the mirror changes), and the newest id, which a conflict listed
/// closed from the start (auto-resolved) moves. Closed conflicts stay closed, so the rest of
/// them (every conflict ever, for years) is not read.
fn held_conflicts(store: &mut Store) -> Result<(Vec<LocalConflict>, Option<i64>), StoreError> {
    Ok((store.conflicts(false)?, store.newest_conflict_id()?))
}

/// How long a fresh cycle waits for the one running (an initial sync may take minutes).
const FRESH_CYCLE_WAIT: Duration = Duration::from_secs(120);

/// Runs a cycle that starts now, in the app's schedule (the status bar shows it), and returns
/// its report. A cycle in progress may have pulled before the server had what the caller just
/// wrote there, so it is waited for first (woken when it ends), as is a sync of the `tandem`
/// command on the same store; after [`FRESH_CYCLE_WAIT`] the caller gets an error and the
/// next scheduled cycle does the work.
pub(crate) async fn run_fresh_cycle(state: &AppState) -> Result<SyncReport, CommandError> {
    let deadline = tokio::time::Instant::now() + FRESH_CYCLE_WAIT;
    let waited_too_long = || {
        CommandError::new(
            ErrorKind::Server,
            "another sync kept running; the next scheduled sync will finish the work",
        )
    };
    loop {
        // Registered before trying, so that a cycle ending in between still wakes us.
        let finished = state.sync.finished.notified();
        tokio::pin!(finished);
        finished.as_mut().enable();
        match run_cycle(state).await {
            // The `tandem` command holds the store's sync lock: it does not wake us.
            Some(Err(SyncError::AlreadyRunning { .. })) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(waited_too_long());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some(result) => return result.map_err(CommandError::from),
            None if lock(&state.sync.schedule).is_none() => {
                return Err(CommandError::new(
                    ErrorKind::InvalidProvisioning,
                    "this app does not sync: its provisioning file is invalid",
                ));
            }
            None => {
                if tokio::time::timeout_at(deadline, finished).await.is_err() {
                    return Err(waited_too_long());
                }
            }
        }
    }
}

/// Runs one sync cycle now (a person asked) and returns the status after it.
pub async fn sync_now(state: &AppState) -> Result<SyncStatusView, CommandError> {
    if let Some(schedule) = lock(&state.sync.schedule).as_mut() {
        schedule.sync_requested(now());
    }
    run_cycle(state).await;
    let runtime = runtime_of(state);
    state.with_store_unlocked_or_not(|store| status_view(store, &runtime))
}

/// Starts the background sync: the engine's schedule, a cycle when it is due, and while the
/// server is unreachable a probe when the schedule asks for one, so that a returning network
/// is used at once.
pub fn start_background_sync(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        state.sync.start_schedule();
        loop {
            tokio::time::sleep(TICK).await;
            let signed_in = state
                .with_store_unlocked_or_not(|store| store.sign_in())
                .ok()
                .flatten();
            let Some(sign_in) = signed_in else {
                continue;
            };
            let probe = lock(&state.sync.schedule)
                .as_ref()
                .is_some_and(|schedule| schedule.probe_due(now()));
            if probe {
                let reachable = tandem_sync::transport::server_reachable(&sign_in.server_url).await;
                if let Some(schedule) = lock(&state.sync.schedule).as_mut() {
                    schedule.probe_answered(reachable, now());
                }
            }
            let due = lock(&state.sync.schedule)
                .as_ref()
                .is_some_and(|schedule| schedule.is_due(now()));
            if due {
                run_cycle(&state).await;
            }
        }
    });
}

/// A store connection of its own and a transport with the device token, for a team lead's
/// request that waits for the network without holding the shared connection.
pub(crate) fn signed_in_connection(
    state: &AppState,
) -> Result<(Store, HttpTransport), CommandError> {
    let store = Store::open(&state.data_dir)?;
    let transport = signed_in_transport(state, &store)?;
    Ok((store, transport))
}

/// A transport to the server `store` is signed in to, with its device token from the keyring
/// and the provisioned organisation CA.
fn signed_in_transport(state: &AppState, store: &Store) -> Result<HttpTransport, SyncError> {
    let sign_in = store.sign_in()?.ok_or(SyncError::NotSignedIn)?;
    let token = tandem_sync::credentials::load_device_token(&state.data_dir)?;
    HttpTransport::new(
        &sign_in.server_url,
        token.map(|t| t.expose().to_owned()),
        state.provisioning.transport_settings(),
    )
}

/// Resolves a conflict with the value a team lead chose, through the server (which writes it
/// as an ordinary new change that every device pulls). Needs the server: offline nothing
/// changes and the UI says so.
pub async fn resolve_conflict(
    state: &AppState,
    resolution: &ConflictResolution,
) -> Result<(), CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let (mut store, transport) = signed_in_connection(state)?;
    tandem_sync::review::resolve_conflict(
        &mut store,
        &transport,
        &SystemClock,
        resolution.conflict_id,
        ConflictChoice::Value(resolution.value.clone()),
    )
    .await
    .map_err(online_only)?;
    Ok(())
}

/// Restores a value that lost an auto-resolved (lww) conflict: an ordinary local edit of the
/// field, synced like any other (the server has no open conflict to resolve).
pub fn revert_auto_resolved(
    store: &mut Store,
    resolution: &ConflictResolution,
    at: DateTime<Utc>,
) -> Result<(), CommandError> {
    let conflict = store
        .conflict(resolution.conflict_id)?
        .filter(|c| c.status == "auto_resolved")
        .ok_or_else(|| {
            CommandError::new(
                ErrorKind::NotFound,
                format!("no auto-resolved conflict {}", resolution.conflict_id),
            )
        })?;
    let detail: Option<tandem_protocol::Conflict> = conflict
        .detail
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    let known = detail.is_some_and(|d| d.values.iter().any(|v| v.value == resolution.value));
    if !known {
        return Err(CommandError::new(
            ErrorKind::NotFound,
            format!("conflict {} has no such value", resolution.conflict_id),
        ));
    }
    let entity = tandem_domain::Entity::parse(&conflict.entity).map_err(CommandError::from)?;
    let id = tandem_domain::RecordId::from_uuid(conflict.record_id);
    let change = std::collections::BTreeMap::from([(conflict.field, resolution.value.clone())]);
    store.edit_record(entity, id, &change, tandem_store::EditContext::at(at))?;
    Ok(())
}

/// The team's laptops and their health (team leads; needs the server).
pub async fn team_devices(state: &AppState) -> Result<TeamDevicesView, CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let (_, transport) = signed_in_connection(state)?;
    let devices = tandem_sync::review::team_devices(&transport, &SystemClock)
        .await
        .map_err(online_only)?;
    Ok(TeamDevicesView {
        devices: devices
            .into_iter()
            .map(|health| DeviceHealthView {
                id: health.device.id.to_string(),
                name: health.device.name,
                username: health.device.user.username,
                user_id: health.device.user.id.to_string(),
                app_version: health.device.app_version,
                pending_count: health.device.pending_count,
                last_sync_at: health.device.last_sync_at.map(|at| at.to_rfc3339()),
                days_since_sync: health.days_since_sync,
                at_risk: health.at_risk,
            })
            .collect(),
        stale_after_days: STALE_DEVICE_DAYS,
    })
}

/// The status bar's view of syncing.
pub fn status_view(store: &Store, runtime: &RuntimeFacts) -> Result<SyncStatusView, StoreError> {
    let status = store.sync_status()?;
    Ok(SyncStatusView {
        online: runtime.online,
        syncing: runtime.syncing,
        pending_count: status.pending_count,
        rejected_count: status.rejected_count,
        open_conflicts: status.open_conflicts,
        last_sync_at: status.last_sync_at,
        // This run's failures only: the store keeps the last one's message (`tandem
        // status` shows it) but not its kind, and the first cycle is due when the app starts.
        last_error: runtime.last_error.clone(),
        next_attempt_at: runtime.next_attempt_at.map(|at| at.to_rfc3339()),
        clock_skewed: status.clock_skewed,
        update_required: status.update_required,
        server_url: status.server_url,
    })
}

/// Pending changes, refused changes, open conflicts and (team leads) decided ones.
pub fn unsynced_view(store: &Store) -> Result<UnsyncedView, StoreError> {
    let label = |entity: &str, id: &str| record_label(store, entity, id);
    let names = store.known_user_names()?;
    let pending = store
        .pending_changes()?
        .into_iter()
        .map(|change| PendingChangeView {
            change_id: change.change_id.to_string(),
            record_label: label(&change.entity, &change.record_id.to_string()),
            entity: change.entity,
            record_id: change.record_id.to_string(),
            field: change.field,
            value: serde_json::from_str(&change.value).unwrap_or_default(),
            created_at: change.created_at,
            author: author_name(&names, &change.author_id),
            author_id: change.author_id,
        })
        .collect();
    let rejected = store
        .rejected_changes()?
        .into_iter()
        .map(|change| RejectedChangeView {
            change_id: change.change_id.to_string(),
            record_label: label(&change.entity, &change.record_id.to_string()),
            entity: change.entity,
            record_id: change.record_id.to_string(),
            field: change.field,
            value: serde_json::from_str(&change.value).unwrap_or_default(),
            reason: change.reason,
            reason_code: change
                .reason_code
                .as_deref()
                .map(tandem_protocol::RejectCode::parse),
            rejected_at: change.rejected_at,
            author: author_name(&names, &change.author_id),
            author_id: change.author_id,
        })
        .collect();
    let sign_in = store.sign_in()?;
    let team_lead = sign_in.as_ref().is_some_and(|s| s.role == "team_lead");
    let device = sign_in.map(|s| s.device_id.to_string());
    let view = |conflict: LocalConflict| {
        let record_label = label(&conflict.entity, &conflict.record_id.to_string());
        let current = current_value(store, &conflict);
        conflict_view(
            conflict,
            record_label,
            current,
            device.as_deref(),
            &names,
            team_lead,
        )
    };
    let open = store.conflicts(false)?.into_iter().map(view).collect();
    // Only the mirrored list (team leads) has the values of closed conflicts: the most
    // recently closed ones the mirror keeps, most recent first, up to that many.
    let closed_conflicts: Vec<ConflictView> = if team_lead {
        store
            .closed_conflicts(CLOSED_CONFLICTS_KEPT)?
            .into_iter()
            .map(view)
            .filter(|view| !view.candidates.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    Ok(UnsyncedView {
        pending,
        rejected,
        conflicts: open,
        closed_conflicts,
        team_lead,
        user_names: crate::views::user_names(names),
    })
}

/// The value of a conflict's field on this laptop now (the provisional winner once synced).
fn current_value(store: &Store, conflict: &LocalConflict) -> Json {
    let Ok(entity) = tandem_domain::Entity::parse(&conflict.entity) else {
        return Json::Null;
    };
    let id = tandem_domain::RecordId::from_uuid(conflict.record_id);
    match store.record(entity, id) {
        Ok(Some(record)) => record.get(&conflict.field).to_json(),
        _ => Json::Null,
    }
}

/// A conflict side by side, from the server's conflict JSON kept in the store (team leads);
/// without it (a coach's own change ran into the conflict) only the value now in use.
fn conflict_view(
    conflict: LocalConflict,
    record_label: String,
    current: Json,
    device: Option<&str>,
    names: &BTreeMap<uuid::Uuid, String>,
    team_lead: bool,
) -> ConflictView {
    let detail: Option<tandem_protocol::Conflict> = conflict
        .detail
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok());
    let created_at = detail.as_ref().map(|d| d.created_at.to_rfc3339());
    let resolved_at = detail
        .as_ref()
        .and_then(|d| d.resolved_at)
        .map(|at| at.to_rfc3339());
    let (base_value, candidates, clock_skew) = match detail {
        Some(detail) => {
            // Settled by a write after the conflict (none of these values): none stands.
            let superseded = detail.resolved_by.is_none()
                && detail.resolution_change_id.is_some_and(|settled| {
                    !detail.values.iter().any(|value| value.change_id == settled)
                });
            let candidates = detail
                .values
                .into_iter()
                .map(|value| {
                    let from_this_device =
                        device.is_some_and(|device_id| value.hlc.ends_with(device_id));
                    let author = author_name(names, &value.author_id.to_string());
                    ConflictCandidate {
                        author_id: value.author_id.to_string(),
                        written_at: hlc_time(&value.hlc),
                        value: value.value,
                        author,
                        from_this_device,
                        standing: value.provisional && !superseded,
                    }
                })
                .collect();
            (detail.base_value, candidates, detail.clock_skew)
        }
        None => (Json::Null, Vec::new(), false),
    };
    let can_resolve = team_lead && conflict.status == "open" && !candidates.is_empty();
    ConflictView {
        id: conflict.id,
        entity: conflict.entity,
        record_id: conflict.record_id.to_string(),
        record_label,
        field: conflict.field,
        policy: conflict.policy,
        status: conflict.status,
        base_value,
        candidates,
        current_value: current,
        clock_skew,
        created_at,
        resolved_at,
        can_resolve,
    }
}

/// The name of the user `author_id` when one signed in on this laptop, else the end of the
/// id (a UUIDv7 starts with its time: the end tells users apart).
fn author_name(names: &BTreeMap<uuid::Uuid, String>, author_id: &str) -> String {
    let known = uuid::Uuid::parse_str(author_id)
        .ok()
        .and_then(|id| names.get(&id));
    match known {
        Some(name) => name.clone(),
        None => {
            let id = author_id.replace('-', "");
            id.get(id.len().saturating_sub(8)..)
                .unwrap_or(&id)
                .to_owned()
        }
    }
}

/// The wall-clock time of an HLC (RFC 3339), or the HLC itself if it cannot be read.
fn hlc_time(hlc: &str) -> String {
    tandem_domain::Hlc::parse(hlc)
        .ok()
        .and_then(|hlc| i64::try_from(hlc.physical_ms()).ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(|| hlc.to_owned(), |at| at.to_rfc3339())
}

/// A readable name of a record: a client's name, or the contact's date.
fn record_label(store: &Store, entity: &str, id: &str) -> String {
    let Ok(entity_kind) = tandem_domain::Entity::parse(entity) else {
        return id.to_owned();
    };
    let Ok(record_id) = tandem_domain::RecordId::parse(id) else {
        return id.to_owned();
    };
    match store.record(entity_kind, record_id) {
        Ok(Some(record)) if entity_kind == tandem_domain::Entity::Client => {
            let given = record.get("given_name").as_text().unwrap_or_default();
            match record.get("family_name").as_text() {
                Some(family) => format!("{given} {family}"),
                None => given.to_owned(),
            }
        }
        Ok(Some(record)) => record
            .get("occurred_at")
            .as_date_time()
            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| id.to_owned()),
        _ => id.to_owned(),
    }
}

/// How many recent merges the Duplicates panel offers to undo.
const MAX_MERGES_SHOWN: usize = 20;

/// The team's duplicate candidates and recent merges (team leads; needs the server).
pub async fn duplicates(state: &AppState) -> Result<DuplicatesView, CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let (mut store, transport) = signed_in_connection(state)?;
    let candidates = tandem_sync::duplicates::duplicate_candidates(&mut store, &transport)
        .await
        .map_err(online_only)?;
    let merges = tandem_sync::duplicates::duplicate_merges(&mut store, &transport)
        .await
        .map_err(online_only)?;
    let label = |id: uuid::Uuid| -> Result<String, CommandError> {
        let client = store.record(
            tandem_domain::Entity::Client,
            tandem_domain::RecordId::from_uuid(id),
        )?;
        Ok(client.map_or_else(
            || id.to_string(),
            |client| {
                let summary = crate::views::client_summary(&client);
                [Some(summary.given_name), summary.family_name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        ))
    };
    Ok(DuplicatesView {
        candidates: candidates.into_iter().map(duplicate_pair_view).collect(),
        merges: merges
            .into_iter()
            .take(MAX_MERGES_SHOWN)
            .map(|merge| {
                Ok(DuplicateMergeView {
                    id: merge.id.to_string(),
                    survivor_id: merge.survivor_id.to_string(),
                    survivor_label: label(merge.survivor_id)?,
                    duplicate_id: merge.duplicate_id.to_string(),
                    duplicate_label: label(merge.duplicate_id)?,
                    contact_count: merge.contact_ids.len() as u64,
                    merged_at: merge.merged_at.to_rfc3339(),
                    undone_at: merge.undone_at.map(|at| at.to_rfc3339()),
                })
            })
            .collect::<Result<_, CommandError>>()?,
    })
}

/// A candidate pair for the UI, with the fields whose values differ.
fn duplicate_pair_view(candidate: tandem_protocol::DuplicateCandidate) -> DuplicatePairView {
    let client = |c: tandem_protocol::DuplicateClient| DuplicateClientView {
        id: c.id.to_string(),
        fields: c.fields.into_iter().collect(),
        contact_count: c.contact_count,
    };
    let (first, second) = (client(candidate.first), client(candidate.second));
    let names: std::collections::BTreeSet<&String> =
        first.fields.keys().chain(second.fields.keys()).collect();
    let differing_fields = names
        .into_iter()
        .filter(|name| {
            first.fields.get(*name).unwrap_or(&Json::Null)
                != second.fields.get(*name).unwrap_or(&Json::Null)
        })
        .cloned()
        .collect();
    DuplicatePairView {
        reasons: candidate
            .reasons
            .iter()
            .map(|reason| match reason {
                tandem_protocol::DuplicateReason::SamePhone => "same_phone".to_owned(),
                tandem_protocol::DuplicateReason::SameBirthYearAndName => {
                    "same_birth_year_and_name".to_owned()
                }
            })
            .collect(),
        score: candidate.score,
        first,
        second,
        differing_fields,
    }
}

/// Parses an id the UI sent; a bad one is a validation error of `field`.
pub(crate) fn client_uuid(field: &str, text: &str) -> Result<uuid::Uuid, CommandError> {
    uuid::Uuid::parse_str(text)
        .map_err(|error| CommandError::invalid_field(field, error.to_string()))
}

/// Merges `second_id` into `first_id` through the server; the merge shows on this laptop at
/// once, which then syncs, and reaches every other one by its next pull (team leads; needs
/// the server).
pub async fn merge_duplicate(
    state: &AppState,
    pair: &DuplicatePairInput,
) -> Result<(), CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let survivor = client_uuid("first_id", &pair.first_id)?;
    let duplicate = client_uuid("second_id", &pair.second_id)?;
    let (mut store, transport) = signed_in_connection(state)?;
    tandem_sync::duplicates::merge_duplicate(
        &mut store,
        &transport,
        &SystemClock,
        survivor,
        duplicate,
    )
    .await
    .map_err(online_only)?;
    drop(store);
    // Coaches may have registered the two clients since this laptop last synced: it then
    // holds only what the merge wrote, and the panel could not name them. A sync now brings
    // them (its errors show in the status bar, as any sync's; the merge itself is done).
    let _ = run_fresh_cycle(state).await;
    Ok(())
}

/// Undoes a merge through the server (team leads; needs the server). The server refuses
/// when a moved contact or the duplicate changed since; its sentence says what.
pub async fn undo_duplicate_merge(state: &AppState, merge_id: &str) -> Result<(), CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let id = client_uuid("merge_id", merge_id)?;
    let (mut store, transport) = signed_in_connection(state)?;
    tandem_sync::duplicates::undo_duplicate_merge(&mut store, &transport, &SystemClock, id)
        .await
        .map_err(online_only)?;
    Ok(())
}

/// Records that a pair is not one person, so it is not proposed again (team leads; needs
/// the server).
pub async fn dismiss_duplicate(
    state: &AppState,
    pair: &DuplicatePairInput,
) -> Result<(), CommandError> {
    if !state.is_unlocked() {
        return Err(CommandError::new(ErrorKind::Locked, "unlock first"));
    }
    let first = client_uuid("first_id", &pair.first_id)?;
    let second = client_uuid("second_id", &pair.second_id)?;
    let (mut store, transport) = signed_in_connection(state)?;
    tandem_sync::duplicates::dismiss_duplicate(&mut store, &transport, first, second)
        .await
        .map_err(online_only)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use tandem_domain::Rule;

    use super::*;

    /// The events `runtime` sends to the UI from now on, as JSON.
    fn heard_events(runtime: &SyncRuntime) -> Arc<Mutex<Vec<Json>>> {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&heard);
        *lock(&runtime.channel) = Some(Channel::new(move |body| {
            if let tauri::ipc::InvokeResponseBody::Json(json) = body {
                lock(&into).push(serde_json::from_str::<Json>(&json).unwrap());
            }
            Ok(())
        }));
        heard
    }

    #[test]
    fn a_pulled_page_tells_the_ui_the_records_it_purged_beside_the_values_it_brought() {
        // A page holding only an erasure brings no value; the screens read again for it too.
        let runtime = SyncRuntime::default();
        let heard = heard_events(&runtime);
        let applied = tandem_store::PullApplied {
            purged: 2,
            ..Default::default()
        };
        let progress = PullProgress {
            received: 0,
            started_at: 7,
            cursor: 9,
            head: Some(9),
            has_more: false,
        };
        ChannelObserver { runtime: &runtime }.pulled(0, &applied, &progress);
        assert_eq!(
            *lock(&heard),
            [serde_json::json!({
                "event": "pulled", "count": 0, "purged": 2, "received": 0, "percent": 100
            })]
        );
    }

    #[test]
    fn a_conflict_settled_by_a_later_write_shows_neither_of_its_values_as_the_one_in_use() {
        let value = |text: &str, provisional: bool, n: u128| tandem_protocol::ConflictValue {
            value: serde_json::json!(text),
            hlc: "1768471200000-00000-device".to_owned(),
            author_id: uuid::Uuid::from_u128(0xa0),
            change_id: uuid::Uuid::from_u128(n),
            provisional,
        };
        let view = |resolved_by: Option<uuid::Uuid>, settled_by: u128| {
            let detail = tandem_protocol::Conflict {
                id: 4,
                entity: "client".to_owned(),
                record_id: uuid::Uuid::from_u128(0xc1),
                field: "phone".to_owned(),
                policy: "review".to_owned(),
                status: tandem_protocol::ConflictStatus::AutoResolved,
                base_version: 3,
                base_value: serde_json::json!("+358401111111"),
                values: vec![
                    value("+358402222222", true, 1),
                    value("+358403333333", false, 2),
                ],
                clock_skew: false,
                created_at: now(),
                resolved_by,
                resolved_at: Some(now()),
                resolution_change_id: Some(uuid::Uuid::from_u128(settled_by)),
            };
            let conflict = LocalConflict {
                id: 4,
                entity: "client".to_owned(),
                record_id: detail.record_id,
                field: "phone".to_owned(),
                policy: "review".to_owned(),
                status: "auto_resolved".to_owned(),
                detail: Some(serde_json::to_string(&detail).unwrap()),
            };
            let current = serde_json::json!("+358404444444");
            conflict_view(
                conflict,
                "Amina".to_owned(),
                current,
                None,
                &BTreeMap::new(),
                true,
            )
        };
        let standing = |view: ConflictView| -> Vec<bool> {
            view.candidates.iter().map(|c| c.standing).collect()
        };
        // A later write (change 9) settled it: the field holds neither value.
        assert_eq!(standing(view(None, 9)), [false, false]);
        // Decided by the team lead: the provisional value is the one shown as it was.
        assert_eq!(
            standing(view(Some(uuid::Uuid::from_u128(0x1ead)), 9)),
            [true, false]
        );
    }

    #[test]
    fn an_unreachable_server_reaches_the_ui_as_offline() {
        let error = CommandError::from(SyncError::Offline {
            server: "http://127.0.0.1:9".to_owned(),
            detail: "connection refused".to_owned(),
        });
        assert_eq!(error.kind, ErrorKind::Offline);
        let error = CommandError::from(SyncError::InvalidCredentials);
        assert_eq!(error.kind, ErrorKind::WrongPassword);
    }

    #[test]
    fn the_sync_bar_shows_this_runs_failures_not_a_guess_at_an_older_one() {
        let (_dir, mut store) = crate::test_store();
        // An earlier run (or the CLI) failed to sync, for whatever reason.
        store
            .record_sync_failure(
                now(),
                "The disk holding Tandem's local store is full",
                false,
            )
            .unwrap();
        let starting = RuntimeFacts::default();
        let view = status_view(&store, &starting).unwrap();
        assert_eq!(
            view.last_error, None,
            "not called offline before any cycle ran"
        );
        let failed = CommandErrorView {
            kind: ErrorKind::DiskFull,
            message: "full".to_owned(),
        };
        let after_a_cycle = RuntimeFacts {
            last_error: Some(failed.clone()),
            online: Some(true),
            ..starting
        };
        let view = status_view(&store, &after_a_cycle).unwrap();
        assert_eq!(view.last_error, Some(failed));
    }

    fn disk_full_error() -> CommandErrorView {
        CommandErrorView {
            kind: ErrorKind::DiskFull,
            message: "The disk holding Tandem's local store is full".to_owned(),
        }
    }

    #[test]
    fn a_save_after_a_full_disk_clears_its_error_and_syncs_now_not_after_the_back_off() {
        let runtime = SyncRuntime::default();
        runtime.start_schedule();
        let later = now() + chrono::Duration::minutes(10);
        // A cycle that failed (the back-off runs past `now()`).
        let fail_a_cycle = || {
            let mut schedule = lock(&runtime.schedule);
            let schedule = schedule.as_mut().unwrap();
            assert!(schedule.start());
            let failed = CycleOutcome::TransientFailure { retry_after: None };
            schedule.finished(failed, later, 0.0);
        };
        fail_a_cycle();
        *lock(&runtime.last_error) = Some(disk_full_error());
        runtime.local_save();
        assert_eq!(*lock(&runtime.last_error), None);
        assert!(lock(&runtime.schedule).as_ref().unwrap().is_due(now()));

        // Any other failure stays, and the save waits for the back-off as before.
        let offline = CommandErrorView {
            kind: ErrorKind::Offline,
            message: "connection refused".to_owned(),
        };
        fail_a_cycle();
        *lock(&runtime.last_error) = Some(offline.clone());
        runtime.local_save();
        assert_eq!(*lock(&runtime.last_error), Some(offline));
        assert!(!lock(&runtime.schedule).as_ref().unwrap().is_due(now()));
    }

    #[tokio::test]
    async fn a_cycle_that_finds_another_process_syncing_keeps_what_the_bar_showed() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().to_path_buf(),
            Ok(tandem_sync::Provisioning::default()),
            crate::settings::UserSettings::default(),
        );
        state.sync.start_schedule();
        *lock(&state.sync.last_error) = Some(disk_full_error());
        *lock(&state.sync.online) = Some(true);
        // `tandem sync` in a terminal holds the store's sync lock.
        let _terminal = SyncLock::try_acquire(dir.path()).unwrap();
        let result = run_cycle(&state).await;
        assert!(
            matches!(result, Some(Err(SyncError::AlreadyRunning { .. }))),
            "{result:?}"
        );
        assert_eq!(*lock(&state.sync.last_error), Some(disk_full_error()));
        assert_eq!(*lock(&state.sync.online), Some(true));
        assert!(!*lock(&state.sync.syncing));
        assert_eq!(
            runtime_of(&state).next_attempt_at,
            None,
            "no failure to retry"
        );
    }

    /// A laptop of `username` signed in to the server at `base` (the `tandem` command's kind:
    /// a store and a transport with its device token).
    struct Laptop {
        _dir: tempfile::TempDir,
        store: Store,
        transport: HttpTransport,
    }

    impl Laptop {
        async fn sign_in(base: &str, username: &str) -> Self {
            let (dir, mut store) = crate::test_store();
            let settings = tandem_sync::Provisioning::default().transport_settings();
            let login = LoginInput {
                username: username.to_owned(),
                password: zeroize::Zeroizing::new(crate::TEST_PASSWORD.to_owned()),
                team: None,
                device_name: format!("{username}'s laptop"),
            };
            let anonymous = HttpTransport::new(base, None, settings.clone()).unwrap();
            let (_, token) = tandem_sync::sign_in(&mut store, &anonymous, &login)
                .await
                .unwrap();
            let transport =
                HttpTransport::new(base, Some(token.expose().to_owned()), settings).unwrap();
            Self {
                _dir: dir,
                store,
                transport,
            }
        }

        async fn sync(&mut self) {
            let mut progress = tandem_sync::NoProgress;
            tandem_sync::sync_once(
                &mut self.store,
                &self.transport,
                &SystemClock,
                &mut progress,
            )
            .await
            .unwrap();
        }

        fn edit(&mut self, client: tandem_domain::RecordId, field: &str, value: &str) {
            let change = BTreeMap::from([(field.to_owned(), serde_json::json!(value))]);
            let at = tandem_store::EditContext::at(now());
            let entity = tandem_domain::Entity::Client;
            self.store.edit_record(entity, client, &change, at).unwrap();
        }
    }

    /// The two coaches write `field` of `client` each with one of `values`: a conflict for
    /// review.
    async fn conflicting_edits(
        coaches: &mut [Laptop; 2],
        client: tandem_domain::RecordId,
        field: &str,
        values: [&str; 2],
    ) {
        for (coach, value) in coaches.iter_mut().zip(values) {
            coach.edit(client, field, value);
        }
        for coach in coaches.iter_mut() {
            coach.sync().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_team_leads_sync_tells_the_ui_when_the_mirrored_conflicts_changed_though_as_many_are_open()
     {
        use tandem_protocol::Role;
        let base = crate::test_server(&[
            ("lead", Role::TeamLead),
            ("coach1", Role::Coach),
            ("coach2", Role::Coach),
        ])
        .await;
        let mut coaches = [
            Laptop::sign_in(&base, "coach1").await,
            Laptop::sign_in(&base, "coach2").await,
        ];
        let fields = BTreeMap::from([("given_name".to_owned(), serde_json::json!("Maryam"))]);
        let at = tandem_store::EditContext::at(now());
        let client = coaches[0]
            .store
            .create_record(tandem_domain::Entity::Client, &fields, at)
            .unwrap();
        coaches[0].sync().await;
        coaches[1].sync().await;
        conflicting_edits(
            &mut coaches,
            client,
            "phone",
            ["040 111 2222", "040 999 8888"],
        )
        .await;

        // The lead's app, and the lead's other laptop.
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().join("data"),
            Ok(tandem_sync::Provisioning::default()),
            crate::settings::UserSettings::default(),
        );
        let input = SignInInput {
            server_url: base.clone(),
            username: "lead".to_owned(),
            password: crate::TEST_PASSWORD.to_owned(),
        };
        sign_in_online(&state, &input).await.unwrap();
        state.set_unlocked(true);
        state.sync.start_schedule();
        let heard = heard_events(&state.sync);
        let finished = || -> Json {
            let heard = lock(&heard);
            let last = heard.last().unwrap();
            assert_eq!(last["event"], "finished", "{heard:?}");
            last.clone()
        };
        sync_now(&state).await.unwrap();
        assert_eq!(finished()["status"]["open_conflicts"], 1);
        assert_eq!(finished()["conflicts_changed"], true);
        // Most syncs find nothing to do: the screens read nothing again.
        sync_now(&state).await.unwrap();
        assert_eq!(finished()["conflicts_changed"], false);

        // The lead decides on the other laptop, and the coaches run into another conflict.
        let mut other_laptop = Laptop::sign_in(&base, "lead").await;
        other_laptop.sync().await;
        let decided = other_laptop.store.conflicts(false).unwrap()[0].id;
        tandem_sync::review::resolve_conflict(
            &mut other_laptop.store,
            &other_laptop.transport,
            &SystemClock,
            decided,
            ConflictChoice::Pick(1),
        )
        .await
        .unwrap();
        conflicting_edits(&mut coaches, client, "given_name", ["Mariam", "Miriam"]).await;

        sync_now(&state).await.unwrap();
        let open = state.with_store(|store| store.conflicts(false)).unwrap();
        assert!(open.len() == 1 && open[0].id != decided, "{open:?}");
        assert_eq!(finished()["status"]["open_conflicts"], 1);
        assert_eq!(finished()["conflicts_changed"], true);

        // The coaches write the nickname at once, which the later write settles: a conflict
        // closed from the start, listed on the lead's screen, with the open ones as they were.
        conflicting_edits(&mut coaches, client, "nickname", ["Mari", "Mimi"]).await;
        sync_now(&state).await.unwrap();
        let held = state.with_store(|store| store.conflicts(true)).unwrap();
        let closed = held.last().unwrap();
        assert!(
            closed.field == "nickname" && closed.status == "auto_resolved",
            "{held:?}"
        );
        assert_eq!(
            state.with_store(|store| store.conflicts(false)).unwrap(),
            open
        );
        assert_eq!(finished()["conflicts_changed"], true);
        sync_now(&state).await.unwrap();
        assert_eq!(finished()["conflicts_changed"], false);
    }

    #[tokio::test]
    async fn a_sync_finishes_for_the_ui_though_the_conflicts_held_cannot_be_read() {
        // A store opened with a key the test knows, so that a row it cannot read (a record id
        // that is no UUID) can be written beside it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(tandem_store::STORE_FILE_NAME);
        let store =
            Store::open_with_key(&path, &tandem_store::StoreKey::from_bytes([7; 32])).unwrap();
        let state = AppState::new(
            dir.path().to_path_buf(),
            Ok(tandem_sync::Provisioning::default()),
            crate::settings::UserSettings::default(),
        );
        state.hold_store(store);
        state.sync.start_schedule();
        let heard = heard_events(&state.sync);
        // Each cycle fails (the keyring holds no key of this store), and ends like any other.
        async fn cycle_heard(state: &AppState, heard: &Mutex<Vec<Json>>) -> Json {
            assert!(run_cycle(state).await.unwrap().is_err());
            lock(heard).last().cloned().unwrap()
        }

        let readable = cycle_heard(&state, &heard).await;
        assert_eq!(readable["event"], "finished", "{readable}");
        assert_eq!(readable["conflicts_changed"], false, "{readable}");

        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
            .unwrap();
        raw.execute(
            "INSERT INTO conflicts (id, entity, record_id, field, policy, status, detail, updated_at)
             VALUES (3, 'client', 'not-a-uuid', 'phone', 'review', 'open', NULL, '2026-12-07T10:00:00Z')",
            [],
        )
        .unwrap();
        // Unreadable before and after the cycle: the bar still hears that it finished, with
        // the status, and the screens are not told of a change (none was seen; a list that
        // stays unreadable must not make every sync read every screen again).
        let unreadable = cycle_heard(&state, &heard).await;
        assert_eq!(unreadable["event"], "finished", "{unreadable}");
        assert_eq!(unreadable["status"]["open_conflicts"], 1);
        assert_eq!(unreadable["status"]["syncing"], false);
        assert_eq!(unreadable["conflicts_changed"], false, "{unreadable}");
    }

    #[test]
    fn the_sync_bar_says_when_a_failed_sync_is_tried_again() {
        let (dir, store) = crate::test_store();
        let state = AppState::new(
            dir.path().to_path_buf(),
            Ok(tandem_sync::Provisioning::default()),
            crate::settings::UserSettings::default(),
        );
        state.sync.start_schedule();
        assert_eq!(runtime_of(&state).next_attempt_at, None, "nothing failed");
        let failed_at = now();
        {
            let mut schedule = lock(&state.sync.schedule);
            let schedule = schedule.as_mut().unwrap();
            assert!(schedule.start());
            schedule.finished(CycleOutcome::Unreachable, failed_at, 1.0);
        }
        let runtime = runtime_of(&state);
        let retry = failed_at + chrono::Duration::seconds(5);
        assert_eq!(runtime.next_attempt_at, Some(retry));
        let view = status_view(&store, &runtime).unwrap();
        assert_eq!(view.next_attempt_at, Some(retry.to_rfc3339()));
    }

    /// A conflict of the team as the server lists it: two values of `nickname` of
    /// `record_id`, the first one standing.
    fn listed_conflict(
        id: i64,
        record_id: uuid::Uuid,
        status: tandem_protocol::ConflictStatus,
    ) -> tandem_protocol::Conflict {
        let value = |v: &str, provisional| tandem_protocol::ConflictValue {
            value: serde_json::json!(v),
            hlc: "1768471200000-00000-aaaa".to_owned(),
            author_id: uuid::Uuid::now_v7(),
            change_id: uuid::Uuid::now_v7(),
            provisional,
        };
        tandem_protocol::Conflict {
            id,
            entity: "client".to_owned(),
            record_id,
            field: "nickname".to_owned(),
            policy: "lww".to_owned(),
            status,
            base_version: 1,
            base_value: Json::Null,
            values: vec![value("Ami", true), value("Mina", false)],
            clock_skew: false,
            created_at: now(),
            resolved_by: None,
            resolved_at: None,
            resolution_change_id: None,
        }
    }

    fn store_with_auto_resolved_nickname() -> (tempfile::TempDir, Store, uuid::Uuid) {
        let (dir, mut store) = crate::test_store();
        let at = now();
        let fields = std::collections::BTreeMap::from([
            ("given_name".to_owned(), serde_json::json!("Amina")),
            ("nickname".to_owned(), serde_json::json!("Ami")),
        ]);
        let id = store
            .create_record(
                tandem_domain::Entity::Client,
                &fields,
                tandem_store::EditContext::at(at),
            )
            .unwrap();
        let record_id = *id.as_uuid();
        let conflict = listed_conflict(5, record_id, tandem_protocol::ConflictStatus::AutoResolved);
        store
            .replace_team_conflicts(&tandem_sync::planner::mirrored_conflicts(&[conflict]), at)
            .unwrap();
        (dir, store, record_id)
    }

    #[test]
    fn a_team_lead_sees_every_open_conflict_and_the_most_recently_closed_ones_first() {
        use tandem_protocol::ConflictStatus::{AutoResolved, Open, Resolved};
        let (_dir, mut store) = crate::test_store();
        let record_id = uuid::Uuid::now_v7();
        let kept = CLOSED_CONFLICTS_KEPT as i64;
        let mut listed: Vec<_> = (1..=2 * kept + 5)
            .map(|id| {
                let status = [Open, Resolved, AutoResolved][usize::try_from(id % 3).unwrap()];
                listed_conflict(id, record_id, status)
            })
            .collect();
        // The oldest, resolved after all the others closed: shown first. The others closed
        // together: the higher id first.
        assert_eq!(listed[0].status, Resolved);
        listed[0].resolved_at = Some(now() + chrono::Duration::hours(1));
        store
            .replace_team_conflicts(&tandem_sync::planner::mirrored_conflicts(&listed), now())
            .unwrap();
        let ids = |views: &[ConflictView]| views.iter().map(|v| v.id).collect::<Vec<_>>();
        let open: Vec<i64> = (1..=2 * kept + 5).filter(|id| id % 3 == 0).collect();
        let newest_closed: Vec<i64> = std::iter::once(1)
            .chain(
                (2..=2 * kept + 5)
                    .rev()
                    .filter(|id| id % 3 != 0)
                    .take(CLOSED_CONFLICTS_KEPT - 1),
            )
            .collect();

        let mut lead = crate::sign_in_as(0x9001, "lead1");
        lead.role = "team_lead".to_owned();
        store.record_sign_in(&lead).unwrap();
        let view = unsynced_view(&store).unwrap();
        assert_eq!(ids(&view.conflicts), open);
        assert_eq!(ids(&view.closed_conflicts), newest_closed);

        // A coach's laptop lists no closed conflicts (it has not their values).
        store
            .record_sign_in(&crate::sign_in_as(0x9002, "coach2"))
            .unwrap();
        let view = unsynced_view(&store).unwrap();
        assert_eq!(ids(&view.conflicts), open);
        assert!(view.closed_conflicts.is_empty());
    }

    #[test]
    fn reverting_an_automatic_decision_restores_the_losing_value_as_a_pending_edit() {
        let (_dir, mut store, record_id) = store_with_auto_resolved_nickname();
        let pending_before = store.pending_count().unwrap();
        let unknown = ConflictResolution {
            conflict_id: 5,
            value: serde_json::json!("Someone else"),
        };
        let error = revert_auto_resolved(&mut store, &unknown, now()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound);
        let revert = ConflictResolution {
            conflict_id: 5,
            value: serde_json::json!("Mina"),
        };
        revert_auto_resolved(&mut store, &revert, now()).unwrap();
        let record = store
            .record(
                tandem_domain::Entity::Client,
                tandem_domain::RecordId::from_uuid(record_id),
            )
            .unwrap()
            .unwrap();
        assert_eq!(record.get("nickname").to_json(), serde_json::json!("Mina"));
        assert_eq!(store.pending_count().unwrap(), pending_before + 1);
        // An open conflict is not reverted locally: it is resolved through the server.
        let open = ConflictResolution {
            conflict_id: 6,
            value: serde_json::json!("Mina"),
        };
        let error = revert_auto_resolved(&mut store, &open, now()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound);
    }

    #[test]
    fn the_changes_left_by_each_coach_of_a_shared_laptop_carry_their_author() {
        let (_dir, mut store) = crate::test_store();
        let create = |store: &mut Store, name: &str| {
            let fields = std::collections::BTreeMap::from([(
                "given_name".to_owned(),
                serde_json::json!(name),
            )]);
            store
                .create_record(
                    tandem_domain::Entity::Client,
                    &fields,
                    tandem_store::EditContext::at(now()),
                )
                .unwrap();
        };
        // coach1 works on the laptop; the server refuses their change.
        store
            .record_sign_in(&crate::sign_in_as(0x9001, "coach1"))
            .unwrap();
        create(&mut store, "Amina");
        let refused: Vec<tandem_store::PushAck> = store
            .pending_changes()
            .unwrap()
            .into_iter()
            .map(|change| tandem_store::PushAck {
                change_id: change.change_id,
                outcome: tandem_store::PushOutcome::Rejected {
                    reason: "coach_id: not a member".to_owned(),
                    reason_code: Some("user_not_in_team".to_owned()),
                },
            })
            .collect();
        store.apply_push_results(&refused, now()).unwrap();
        // coach2 signs in on the same laptop and registers a client offline.
        store
            .record_sign_in(&crate::sign_in_as(0x9002, "coach2"))
            .unwrap();
        create(&mut store, "Olga");

        let view = unsynced_view(&store).unwrap();
        let (coach1, coach2) = (
            uuid::Uuid::from_u128(0x9001).to_string(),
            uuid::Uuid::from_u128(0x9002).to_string(),
        );
        let rejected: BTreeSet<_> = view
            .rejected
            .iter()
            .map(|c| (c.author_id.as_str(), c.author.as_str()))
            .collect();
        assert_eq!(rejected, BTreeSet::from([(coach1.as_str(), "coach1")]));
        assert!(
            view.rejected
                .iter()
                .all(|c| c.reason_code == Some(tandem_protocol::RejectCode::UserNotInTeam)),
            "the code is read back as the protocol's: {:?}",
            view.rejected
        );
        let pending: BTreeSet<_> = view
            .pending
            .iter()
            .map(|c| (c.author_id.as_str(), c.author.as_str()))
            .collect();
        assert_eq!(pending, BTreeSet::from([(coach2.as_str(), "coach2")]));
        assert_eq!(
            view.user_names,
            BTreeMap::from([(coach1, "coach1".to_owned()), (coach2, "coach2".to_owned())]),
            "a contact's coach can be named"
        );
    }

    #[test]
    fn an_author_who_never_signed_in_here_is_named_by_the_end_of_the_id() {
        let names = BTreeMap::from([(uuid::Uuid::from_u128(0x9001), "coach1".to_owned())]);
        assert_eq!(
            author_name(&names, &uuid::Uuid::from_u128(0x9001).to_string()),
            "coach1"
        );
        assert_eq!(
            author_name(&names, "0190f0c4-8d5e-7c3a-9f1e-00000000abcd"),
            "0000abcd"
        );
        assert_eq!(author_name(&names, "node"), "node");
    }

    #[test]
    fn an_invalid_resolution_reaches_the_ui_as_a_validation_error_of_its_field() {
        let error = CommandError::from(SyncError::InvalidResolution {
            field: "phone".to_owned(),
            message: "phone: too short".to_owned(),
            rule: Some(Rule::PhoneLength),
            reason_code: None,
        });
        assert_eq!(
            (error.kind, error.field.as_deref(), error.rule),
            (
                ErrorKind::Validation,
                Some("phone"),
                Some(Rule::PhoneLength)
            )
        );
        let refused = CommandError::from(SyncError::InvalidResolution {
            field: "consent_by".to_owned(),
            message: "consent_by: x is not a user of this team".to_owned(),
            rule: None,
            reason_code: Some(tandem_protocol::RejectCode::UserNotInTeam),
        });
        assert_eq!(
            (refused.kind, refused.field.as_deref(), refused.reason_code),
            (
                ErrorKind::Validation,
                Some("consent_by"),
                Some(tandem_protocol::RejectCode::UserNotInTeam)
            )
        );
        let error = online_only(SyncError::Offline {
            server: "http://127.0.0.1:9".to_owned(),
            detail: "connection refused".to_owned(),
        });
        assert_eq!(error.kind, ErrorKind::NeedsConnection);
        let error = CommandError::from(SyncError::ConflictNotOpen { id: 3 });
        assert_eq!(error.kind, ErrorKind::ConflictNotOpen);
    }

    #[test]
    fn a_sync_stopped_by_the_store_names_what_the_store_met() {
        let kind = |store| CommandError::from(SyncError::Store(store)).kind;
        assert_eq!(kind(StoreError::DiskFull), ErrorKind::DiskFull);
        assert_eq!(
            kind(StoreError::WrongKey {
                path: "tandem.db".into()
            }),
            ErrorKind::StoreUnreadable
        );
        let pulled = tandem_domain::DomainError::MissingField {
            field: "given_name".to_owned(),
        };
        assert_eq!(kind(StoreError::Invalid(pulled)), ErrorKind::Store);
    }

    #[test]
    fn a_sync_answered_404_at_the_server_address_asks_for_the_address_to_be_checked() {
        let error = CommandError::from(SyncError::WrongServerAddress {
            server: "https://tandem.example".to_owned(),
            status: 404,
            code: "none".to_owned(),
            message: "Not Found".to_owned(),
        });
        assert_eq!(error.kind, ErrorKind::WrongServerAddress);
        assert!(error.message.contains("404"), "{}", error.message);
    }

    #[test]
    fn a_device_token_the_server_does_not_know_is_not_called_a_missing_sign_in() {
        let error = CommandError::from(SyncError::Unauthorized {
            message: "the device token is not known".to_owned(),
        });
        assert_eq!(error.kind, ErrorKind::DeviceNotRecognised);
        assert_eq!(
            CommandError::from(SyncError::NotSignedIn).kind,
            ErrorKind::NotSignedIn
        );
    }
}

#[cfg(test)]
mod provisioning_tests {
    use std::path::Path;

    use tandem_sync::Provisioning;

    use super::*;
    use crate::settings::UserSettings;

    fn sign_in_input(server_url: &str) -> SignInInput {
        SignInInput {
            server_url: server_url.to_owned(),
            username: "coach".to_owned(),
            password: "correct horse battery".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_sign_in_to_another_server_than_the_provisioned_one_is_refused_before_anything_is_opened()
     {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let provisioning = Provisioning::parse(
            Path::new("/etc/tandem/config.toml"),
            "server_url = \"https://tandem.vantaa.example\"",
        );
        let state = AppState::new(data_dir.clone(), provisioning, UserSettings::default());
        let error = sign_in_online(&state, &sign_in_input("https://elsewhere.example"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Validation);
        assert_eq!(error.field.as_deref(), Some("server_url"));
        assert!(
            error.message.contains("https://tandem.vantaa.example"),
            "{}",
            error.message
        );
        assert!(!data_dir.exists(), "no store was created");
    }

    #[tokio::test]
    async fn an_invalid_provisioning_file_blocks_the_sign_in_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let provisioning = Provisioning::parse(
            Path::new("/etc/tandem/config.toml"),
            "server_url = \"https://tandem.vantaa.example\"\n[updates]\nenabled = true\n",
        );
        let state = AppState::new(data_dir.clone(), provisioning, UserSettings::default());
        let error = sign_in_online(&state, &sign_in_input("https://tandem.vantaa.example"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidProvisioning);
        assert_eq!(error.field.as_deref(), Some("updates.endpoint"));
        assert!(!data_dir.exists(), "no store was created");
    }
}

#[cfg(test)]
mod duplicate_tests {
    use serde_json::json;
    use tandem_protocol::{DuplicateCandidate, DuplicateClient, DuplicateReason};
    use uuid::Uuid;

    use super::duplicate_pair_view;

    fn client(id: u128, fields: serde_json::Value) -> DuplicateClient {
        DuplicateClient {
            id: Uuid::from_u128(id),
            fields: fields.as_object().unwrap().clone(),
            contact_count: 1,
        }
    }

    #[test]
    fn a_pair_names_the_fields_whose_values_differ_including_ones_only_one_side_has() {
        let view = duplicate_pair_view(DuplicateCandidate {
            first: client(
                1,
                json!({"given_name": "Olga", "birth_year": 1972, "phone": "+358401234567"}),
            ),
            second: client(
                2,
                json!({"given_name": "Ольга", "birth_year": 1972, "email": null}),
            ),
            reasons: vec![
                DuplicateReason::SameBirthYearAndName,
                DuplicateReason::SamePhone,
            ],
            score: 1.0,
        });
        assert_eq!(view.differing_fields, vec!["given_name", "phone"]);
        assert_eq!(view.reasons, vec!["same_birth_year_and_name", "same_phone"]);
        assert_eq!(view.first.id, Uuid::from_u128(1).to_string());
    }
}
