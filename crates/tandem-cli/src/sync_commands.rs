//! The sync commands of `tandem`: `login`, `sync`, `conflicts list`, `rejected list|retry|
//! dismiss`, and the sync part of `status`. They read the password, the keyring and the
//! clock here at the edge, and make one call into tandem-sync each.

#![allow(clippy::print_stderr)] // The progress bar and the revocation notice go to stderr.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
use serde_json::{Value as Json, json};
use tandem_store::{PullApplied, PushApplied, Store};
use tandem_sync::credentials::{load_device_token, save_device_token};
use tandem_sync::schedule::jitter;
use tandem_sync::transport::server_reachable;
use tandem_sync::{
    ConflictChoice, CycleOutcome, HttpTransport, LoginInput, Provisioning, PullProgress, SyncError,
    SyncLock, SyncObserver, SyncPhase, SyncPolicy, SyncSchedule, SystemClock, sync_once,
    wipe_local_data,
};
use uuid::Uuid;

use crate::output::{self, Output};
use crate::sync_args::{ConfigCommand, ConflictsCommand, LoginArgs, RejectedCommand};
use tandem_store::{LocalConflict, RejectedChange, SyncStatus};
use tandem_sync::SyncReport;

/// The network runtime: multi-threaded, so that a sync fetches the next pull page on a worker
/// while this thread stores the current one (`tandem_sync::engine`).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

/// A name for this laptop when none is given: the host name.
fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tandem-cli".to_owned())
}

/// `tandem login`: signs the store in online, keeps the device token in the OS keyring.
pub(crate) fn login(
    args: LoginArgs,
    provisioning: &Provisioning,
    dir: &Path,
    mut store: Store,
    out: &Output,
) -> Result<()> {
    if !args.password_stdin {
        bail!(
            "give the password on standard input with --password-stdin (never on the command line)"
        );
    }
    // The address is checked before the password is read.
    let server = match provisioning.sign_in_server(args.server.as_deref()) {
        Err(SyncError::InvalidServerUrl { .. }) if args.server.is_none() => bail!(
            "give the server with --server URL (no server_url is provisioned in {})",
            tandem_sync::provisioning::provisioning_file_path().display()
        ),
        other => other?,
    };
    let transport = HttpTransport::new(&server, None, provisioning.transport_settings())?;
    let mut password = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = zeroize::Zeroizing::new(password.trim_end_matches(['\r', '\n']).to_owned());
    if password.is_empty() {
        bail!("password: standard input was empty");
    }
    let input = LoginInput {
        username: args.username.clone(),
        password,
        team: args.team.clone(),
        device_name: args.device_name.unwrap_or_else(default_device_name),
    };
    let (response, token) = runtime()?
        .block_on(tandem_sync::sign_in(&mut store, &transport, &input))
        .map_err(|error| match error {
            SyncError::Offline { .. } => {
                anyhow::Error::new(error).context("the first sign-in on a laptop needs the server")
            }
            other => other.into(),
        })?;
    save_device_token(dir, &token).context("the sign-in worked, but the device token could not be kept; run `tandem login` again once the keyring works")?;
    let team = response.team.map(|t| t.name).unwrap_or_default();
    out.print(
        &json!({
            "server_url": transport.server_url(),
            "user_id": response.user.id,
            "username": response.user.username,
            "role": response.role.as_str(),
            "team": team,
            "device_id": response.device_id,
        }),
        || {
            format!(
                "signed in to {} as {} ({}) for team {team}; device {}",
                transport.server_url(),
                response.user.username,
                response.role.as_str(),
                response.device_id
            )
        },
    );
    Ok(())
}

/// Shows progress on a terminal; silent otherwise.
struct ProgressObserver {
    bar: Option<ProgressBar>,
    pushed: u64,
    pulled: u64,
}

impl ProgressObserver {
    fn new(show: bool) -> Self {
        let bar = show.then(|| {
            // Cleared however the sync ends: a failure's message stands alone.
            let bar = ProgressBar::new_spinner().with_finish(ProgressFinish::AndClear);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:>5} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            pushed: 0,
            pulled: 0,
        }
    }
}

impl SyncObserver for ProgressObserver {
    fn phase(&mut self, phase: SyncPhase, pending: u64) {
        let Some(bar) = &self.bar else { return };
        match phase {
            SyncPhase::Push => {
                bar.set_prefix("push");
                bar.set_length(pending);
                bar.set_message(format!("{pending} change(s) to send"));
            }
            SyncPhase::Pull => {
                bar.set_prefix("pull");
                bar.set_message("fetching changes from the team");
            }
            SyncPhase::Conflicts => {
                bar.set_prefix("sync");
                bar.set_message("reading the team's conflicts");
            }
            SyncPhase::Done => bar.finish_and_clear(),
        }
    }

    fn pushed(&mut self, _changes: usize, applied: &PushApplied, remaining: u64) {
        self.pushed += applied.acknowledged;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} sent, {remaining} to go", self.pushed));
        }
    }

    fn pulled(&mut self, changes: usize, _applied: &PullApplied, progress: &PullProgress) {
        self.pulled += changes as u64;
        if let Some(bar) = &self.bar {
            bar.set_message(pull_progress_text(self.pulled, progress));
        }
    }
}

/// `tandem sync`: one cycle, under the store's sync lock.
pub(crate) fn sync(
    provisioning: &Provisioning,
    dir: &Path,
    open: impl FnOnce() -> Result<Store>,
    out: &Output,
    json_mode: bool,
) -> Result<()> {
    let lock = SyncLock::try_acquire(dir)?;
    let mut store = open()?;
    let transport = signed_in_transport(provisioning, dir, &store)?;
    let mut observer = ProgressObserver::new(!json_mode && std::io::stderr().is_terminal());
    let result = runtime()?.block_on(sync_once(
        &mut store,
        &transport,
        &SystemClock,
        &mut observer,
    ));
    match result {
        Ok(report) => {
            out.print(&serde_json::to_value(&report)?, || {
                sync_report_text(&report)
            });
            Ok(())
        }
        Err(SyncError::DeviceRevoked) => Err(revoked(store, dir, lock)),
        Err(error) => Err(error.into()),
    }
}

/// Wipes the local data of a device the server revoked (the store is closed first, and the
/// sync lock let go after), and says so.
fn revoked(store: Store, dir: &Path, lock: SyncLock) -> anyhow::Error {
    let lost = store.pending_count().unwrap_or(0);
    drop(store);
    if let Err(error) = wipe_local_data(dir) {
        return anyhow::Error::new(error)
            .context("this device was revoked, but wiping its local data failed");
    }
    drop(lock);
    anyhow!(
        "this device was revoked by an administrator: its local store, store key and device token were removed from this laptop ({lost} unsent change(s) were discarded with it); ask IT or your team lead if this is a mistake"
    )
}

/// How often `tandem sync --watch` looks at the schedule and at the outbox.
const WATCH_TICK: Duration = Duration::from_secs(1);
/// How long `tandem sync --watch` waits after it sees a change saved on this laptop (by
/// another `tandem` process): a burst of commands shares one sync.
const WATCH_AFTER_SAVE: Duration = Duration::from_secs(2);

/// Why `tandem sync --watch` ended.
enum WatchEnd {
    /// Ctrl-C or SIGTERM.
    Stopped,
    /// Whoever read the lines closed the pipe.
    OutputClosed,
    /// A failure that needs a person, and the sync lock if the cycle had it.
    Failed(SyncError, Option<SyncLock>),
}

/// `tandem sync --watch`: cycles on the schedule of the desktop app (`SyncSchedule`), one
/// line each (with --json, one compact JSON object per line: `{"at", "report"}` or `{"at",
/// "error", "next_attempt_at"}`), until stopped or until a failure needs a person. Each
/// cycle takes the store's sync lock, so `tandem sync` and the app can sync the same store
/// meanwhile (a cycle that finds the lock taken is tried again soon, and said once). A
/// change saved by another process shows as a higher outbox high-water mark.
pub(crate) fn watch(
    provisioning: &Provisioning,
    dir: &Path,
    mut store: Store,
    out: &Output,
    json_mode: bool,
    interval: Duration,
) -> Result<()> {
    let transport = signed_in_transport(provisioning, dir, &store)?;
    let policy = SyncPolicy {
        interval,
        after_save: WATCH_AFTER_SAVE,
        ..SyncPolicy::default()
    };
    let show_progress = !json_mode && std::io::stderr().is_terminal();
    let runtime = runtime()?;
    let ended: Result<WatchEnd> = runtime.block_on(async {
        let mut stop =
            std::pin::pin!(stop_requested().context("cannot listen for Ctrl-C and SIGTERM")?);
        let mut schedule = SyncSchedule::new(policy, crate::now());
        let mut high_water = store.outbox_high_water().unwrap_or(0);
        // Whether the last cycle found another process syncing (said once, not every retry).
        let mut was_busy = false;
        loop {
            if schedule.is_due(crate::now()) {
                schedule.start();
                let (lock, result) = match SyncLock::try_acquire(dir) {
                    Ok(lock) => {
                        let mut observer = ProgressObserver::new(show_progress);
                        let cycle = sync_once(&mut store, &transport, &SystemClock, &mut observer);
                        let result = tokio::select! {
                            () = &mut stop => return Ok(WatchEnd::Stopped),
                            result = cycle => result,
                        };
                        (Some(lock), result)
                    }
                    Err(error) => (None, Err(error)),
                };
                let outcome = CycleOutcome::of(&result);
                let now = crate::now();
                schedule.finished(outcome, now, jitter());
                let busy = outcome == CycleOutcome::Busy;
                let printed = match result {
                    Ok(report) => watch_report(out, now, &report),
                    Err(error) if outcome == CycleOutcome::NeedsAttention => {
                        return Ok(WatchEnd::Failed(error, lock));
                    }
                    Err(_) if busy && was_busy => Ok(()),
                    Err(error) => watch_failure(out, now, &error, &schedule),
                };
                was_busy = busy;
                if printed.is_err() {
                    return Ok(WatchEnd::OutputClosed);
                }
            }
            tokio::select! {
                () = &mut stop => return Ok(WatchEnd::Stopped),
                () = tokio::time::sleep(WATCH_TICK) => {}
            }
            // A change saved by another `tandem` process (`client add`, `contact add`).
            if let Ok(now_high) = store.outbox_high_water() {
                if now_high > high_water {
                    schedule.local_save(crate::now());
                }
                high_water = now_high;
            }
            if schedule.probe_due(crate::now()) {
                let reachable = tokio::select! {
                    () = &mut stop => return Ok(WatchEnd::Stopped),
                    reachable = server_reachable(transport.server_url()) => reachable,
                };
                schedule.probe_answered(reachable, crate::now());
            }
        }
    });
    // A probe's or a request's name lookup may still block a thread: not waited for.
    runtime.shutdown_background();
    match ended? {
        WatchEnd::Stopped => {
            // The reader may be gone with the signal (a closed terminal): nothing to add.
            let _ = out.line(&json!({ "at": crate::now(), "stopped": true }), || {
                "stopped".to_owned()
            });
            Ok(())
        }
        WatchEnd::OutputClosed => Ok(()),
        WatchEnd::Failed(SyncError::DeviceRevoked, Some(lock)) => Err(revoked(store, dir, lock)),
        WatchEnd::Failed(error, _) => Err(error.into()),
    }
}

/// Listens for Ctrl-C and SIGTERM (the way a service manager stops a process) from now on;
/// the future resolves at the first of them.
#[cfg(unix)]
fn stop_requested() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Listens for Ctrl-C; the future resolves at it.
#[cfg(not(unix))]
fn stop_requested() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// A time for the lines of `tandem sync --watch`, in the reader's zone.
fn watch_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn watch_report(out: &Output, at: DateTime<Utc>, report: &SyncReport) -> std::io::Result<()> {
    out.line(&json!({ "at": at, "report": report }), || {
        format!(
            "{}  {}",
            watch_time(at),
            sync_report_text(report).replace('\n', "; ")
        )
    })
}

fn watch_failure(
    out: &Output,
    at: DateTime<Utc>,
    error: &SyncError,
    schedule: &SyncSchedule,
) -> std::io::Result<()> {
    let next = schedule.next_due();
    let value = json!({
        "at": at,
        "error": { "kind": error.kind(), "message": error.to_string() },
        "next_attempt_at": next,
    });
    out.warning_line(&value, || {
        let mut next = next.map_or_else(String::new, |next| {
            format!("next attempt at {}", watch_time(next))
        });
        if schedule.is_unreachable() {
            next.push_str(", or as soon as the server answers");
        }
        format!("{}  {error} ({next})", watch_time(at))
    })
}

/// `tandem config show`: each effective setting, its value and where it came from.
pub(crate) fn config(
    command: ConfigCommand,
    provisioning: &Provisioning,
    dir: &Path,
    out: &Output,
) -> Result<()> {
    match command {
        ConfigCommand::Show => {
            let settings = provisioning.effective_settings(dir);
            let file = tandem_sync::provisioning::provisioning_file_path();
            let value = json!({
                "provisioning_file": file,
                "provisioning_file_present": provisioning.file.is_some(),
                "data_dir": dir,
                "settings": settings,
            });
            out.print(&value, || {
                let presence = if provisioning.file.is_some() {
                    ""
                } else {
                    " (not present)"
                };
                let mut lines = vec![
                    format!("provisioning file: {}{presence}", file.display()),
                    format!("data directory:    {}", dir.display()),
                ];
                for setting in &settings {
                    lines.push(format!(
                        "{:<19} {:<40} ({})",
                        setting.key,
                        setting.value.as_deref().unwrap_or("(not set)"),
                        setting.source
                    ));
                }
                lines.join("\n")
            });
        }
    }
    Ok(())
}

/// A transport for a signed-in store, with its device token from the keyring and the
/// provisioned organisation CA.
fn signed_in_transport(
    provisioning: &Provisioning,
    dir: &Path,
    store: &Store,
) -> Result<HttpTransport> {
    let sign_in = store.sign_in()?.ok_or(SyncError::NotSignedIn)?;
    let token = load_device_token(dir)?.ok_or_else(|| {
        anyhow!("the device token of this store is missing from the OS keyring; run `tandem login` again")
    })?;
    Ok(HttpTransport::new(
        &sign_in.server_url,
        Some(token.expose().to_owned()),
        provisioning.transport_settings(),
    )?)
}

/// `tandem conflicts list|resolve`.
pub(crate) fn conflicts(
    command: ConflictsCommand,
    dir: &Path,
    store: &mut Store,
    out: &Output,
) -> Result<()> {
    match command {
        ConflictsCommand::Resolve { id, value, pick } => {
            let choice = match (value, pick) {
                (Some(text), _) => {
                    ConflictChoice::Value(serde_json::from_str(&text).with_context(|| {
                        format!("--value: {text:?} is not JSON (a text needs quotes: '\"{text}\"')")
                    })?)
                }
                (None, Some(n)) => ConflictChoice::Pick(n),
                (None, None) => bail!("give the value with --value JSON or --pick N"),
            };
            let transport = signed_in_transport(&Provisioning::load_system()?, dir, store)?;
            let conflict = runtime()?
                .block_on(tandem_sync::review::resolve_conflict(
                    store,
                    &transport,
                    &SystemClock,
                    id,
                    choice,
                ))
                .map_err(|error| match error {
                    SyncError::Offline { .. } => anyhow::Error::new(error)
                        .context("resolving a conflict needs the server; nothing was changed"),
                    other => other.into(),
                })?;
            let entity = tandem_domain::Entity::parse(&conflict.entity)?;
            let record_id = tandem_domain::RecordId::from_uuid(conflict.record_id);
            let value = store
                .record(entity, record_id)?
                .map_or(Json::Null, |record| record.get(&conflict.field).to_json());
            // The text names the field, not its value: this line often ends up in a script's
            // log; `tandem client show` and `--json` give the value to whoever asks.
            out.print(&json!({"conflict": conflict, "value": value}), || {
                format!(
                    "conflict {id} resolved: {} of {} {} is set",
                    conflict.field, conflict.entity, conflict.record_id
                )
            });
        }
        ConflictsCommand::List { all } => {
            let conflicts = store.conflicts(all)?;
            let shown: Vec<Json> = conflicts
                .iter()
                .map(|c| {
                    let mut value = serde_json::to_value(c).unwrap_or(Json::Null);
                    value["detail"] = c
                        .detail
                        .as_deref()
                        .and_then(|d| serde_json::from_str(d).ok())
                        .unwrap_or(Json::Null);
                    value
                })
                .collect();
            out.print(&Json::Array(shown), || conflict_lines(&conflicts));
        }
    }
    Ok(())
}

/// `tandem rejected list|retry|dismiss`.
pub(crate) fn rejected(command: RejectedCommand, store: &mut Store, out: &Output) -> Result<()> {
    match command {
        RejectedCommand::List => {
            let rejected = store.rejected_changes()?;
            let shown: Vec<Json> = rejected
                .iter()
                .map(|r| {
                    let mut value = serde_json::to_value(r).unwrap_or(Json::Null);
                    value["value"] = serde_json::from_str(&r.value).unwrap_or(Json::Null);
                    value
                })
                .collect();
            out.print(&Json::Array(shown), || rejected_lines(&rejected));
        }
        RejectedCommand::Retry { change_id } => {
            let id = Uuid::parse_str(&change_id)
                .with_context(|| format!("change id: {change_id:?} is not a UUID"))?;
            let new_id = store.retry_rejected(id, tandem_store::EditContext::at(crate::now()))?;
            out.print(&json!({"change_id": id, "queued_as": new_id}), || {
                format!("queued again as change {new_id}; run `tandem sync`")
            });
        }
        RejectedCommand::Dismiss { change_id } => {
            let id = Uuid::parse_str(&change_id)
                .with_context(|| format!("change id: {change_id:?} is not a UUID"))?;
            store.dismiss_rejected(id)?;
            out.print(&json!({"change_id": id, "dismissed": true}), || {
                format!("dismissed {id}")
            });
        }
    }
    Ok(())
}

/// `tandem status`: the store's status with the sync state and the provisioning file's
/// state added.
pub(crate) fn status(
    store: &Store,
    provisioning: &Result<Provisioning, SyncError>,
    out: &Output,
) -> Result<()> {
    let status = store.status()?;
    let sync = store.sync_status()?;
    let file = tandem_sync::provisioning::provisioning_file_path();
    let (provisioning_state, provisioning_error) = match provisioning {
        Ok(p) if p.file.is_some() => ("valid", None),
        Ok(_) => ("not present", None),
        Err(error) => ("invalid", Some(error.to_string())),
    };
    let mut value = serde_json::to_value(&status)?;
    value["provisioning_file"] = json!(file);
    value["provisioning"] = json!(provisioning_state);
    value["provisioning_error"] = json!(provisioning_error);
    if let (Some(object), Json::Object(extra)) =
        (value.as_object_mut(), serde_json::to_value(&sync)?)
    {
        for (key, field) in extra {
            object.entry(key).or_insert(field);
        }
    }
    out.print(&value, || {
        let mut provisioning_line =
            format!("provisioning:   {} ({provisioning_state})", file.display());
        if let Some(error) = &provisioning_error {
            provisioning_line.push_str(&format!("\n                {error}"));
        }
        format!(
            "{}\n{}\n{provisioning_line}",
            output::status_text(&status),
            sync_status_text(&sync)
        )
    });
    Ok(())
}

fn sync_report_text(report: &SyncReport) -> String {
    let mut lines = vec![format!(
        "sent {} change(s) in {} batch(es), received {} in {} page(s); {} record(s) new, {} field(s) updated",
        report.pushed,
        report.push_batches,
        report.pulled,
        report.pull_pages,
        report.new_records,
        report.updated_fields
    )];
    if report.purged_records > 0 {
        lines.push(format!(
            "{} record(s) removed: erased or past retention on the server",
            report.purged_records
        ));
    }
    if report.requeued_after_restore > 0 {
        lines.push(format!(
            "the server was restored from a backup: {} change(s) it had lost sent again",
            report.requeued_after_restore
        ));
    }
    for (list, why) in [
        ("list of sites", &report.sites_not_refreshed),
        ("list of the team's users", &report.users_not_refreshed),
    ] {
        if let Some(why) = why {
            lines.push(format!(
                "the server's {list} could not be read ({why}); the one this laptop had is kept"
            ));
        }
    }
    if report.rejected + report.withheld > 0 {
        let withheld = match report.withheld {
            0 => String::new(),
            withheld => format!(
                ", {withheld} of them not sent: later changes of a record the server refused as erased"
            ),
        };
        lines.push(format!(
            "{} change(s) refused by the server{withheld}: see `tandem rejected list`",
            report.rejected + report.withheld
        ));
    }
    if report.conflicts > 0 || report.open_conflicts > 0 {
        lines.push(format!(
            "{} conflict(s) recorded in this sync, {} open: see `tandem conflicts list`",
            report.conflicts, report.open_conflicts
        ));
    }
    if report.clock_skewed {
        lines.push(format!(
            "warning: this laptop's clock differs from the server's by {}; check the date and time settings",
            skew_text(report.clock_skew_ms)
        ));
    }
    lines.push(format!("{} change(s) still pending", report.pending_after));
    lines.join("\n")
}

/// The progress bar's message while pulling: what this cycle received, and how far along
/// the pull is when the server said where it ends.
fn pull_progress_text(received: u64, progress: &PullProgress) -> String {
    match progress.percent() {
        Some(percent) => format!("{received} received ({percent} %)"),
        None => format!("{received} received (server seq {})", progress.cursor),
    }
}

fn skew_text(ms: i64) -> String {
    let secs = ms.abs() / 1000;
    let direction = if ms > 0 { "behind" } else { "ahead of" };
    format!(
        "{}h {:02}m {:02}s (laptop {direction} the server)",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn sync_status_text(sync: &SyncStatus) -> String {
    let or = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    let mut lines = vec![
        format!(
            "signed in as:   {} ({}), team {}",
            or(&sync.username, "nobody"),
            or(&sync.role, "-"),
            or(&sync.team, "-")
        ),
        format!(
            "rejected:       {} change(s) refused by the server",
            sync.rejected_count
        ),
        format!("conflicts:      {} open", sync.open_conflicts),
        format!(
            "clock skew:     {}",
            sync.clock_skew_ms
                .map_or("unknown (never synced)".to_owned(), |ms| {
                    if sync.clock_skewed {
                        format!("{} (over five minutes: check the clock)", skew_text(ms))
                    } else {
                        format!("{} ms", ms)
                    }
                })
        ),
    ];
    if sync.update_required {
        lines.push("update required: the server no longer accepts this version of Tandem; unsent changes are kept".to_owned());
    }
    lines.join("\n")
}

fn conflict_lines(conflicts: &[LocalConflict]) -> String {
    if conflicts.is_empty() {
        return "no conflicts".to_owned();
    }
    conflicts
        .iter()
        .map(|c| {
            let mut text = format!(
                "#{} {} {} {} {} ({})",
                c.id, c.status, c.entity, c.record_id, c.field, c.policy
            );
            // The values in conflict, numbered for `tandem conflicts resolve ID --pick N`.
            let detail: Option<tandem_protocol::Conflict> = c
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok());
            if let Some(detail) = detail {
                text.push_str(&format!("\n    base: {}", detail.base_value));
                for (n, candidate) in detail.values.iter().enumerate() {
                    text.push_str(&format!(
                        "\n    {}. {} (author {}, {}{})",
                        n + 1,
                        candidate.value,
                        candidate.author_id,
                        candidate.hlc,
                        if candidate.provisional {
                            ", standing"
                        } else {
                            ""
                        }
                    ));
                }
            }
            text
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rejected_lines(rejected: &[RejectedChange]) -> String {
    if rejected.is_empty() {
        return "no rejected changes".to_owned();
    }
    rejected
        .iter()
        .map(|r| {
            let code = r
                .reason_code
                .as_ref()
                .map(|code| format!(" [{code}]"))
                .unwrap_or_default();
            format!(
                "{} {} {} {} = {}: {}{code}",
                r.change_id, r.entity, r.record_id, r.field, r.value, r.reason
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_that_could_not_read_a_list_of_reference_data_says_so_and_what_it_kept() {
        let report = SyncReport {
            users_not_refreshed: Some("the server answered 404".to_owned()),
            ..SyncReport::default()
        };
        let text = sync_report_text(&report);
        assert!(
            text.contains(
                "the server's list of the team's users could not be read (the server answered \
                 404); the one this laptop had is kept"
            ),
            "{text}"
        );
        assert!(!text.contains("list of sites"), "{text}");
    }

    #[test]
    fn a_sync_counts_the_changes_kept_back_with_a_record_refused_as_erased_among_the_refused() {
        let report = SyncReport {
            pushed: 5,
            rejected: 5,
            withheld: 1,
            ..SyncReport::default()
        };
        let text = sync_report_text(&report);
        assert!(
            text.contains(
                "6 change(s) refused by the server, 1 of them not sent: later changes of a \
                 record the server refused as erased: see `tandem rejected list`"
            ),
            "{text}"
        );
        let refused = SyncReport {
            rejected: 2,
            ..SyncReport::default()
        };
        assert!(
            sync_report_text(&refused)
                .contains("2 change(s) refused by the server: see `tandem rejected list`")
        );
    }

    #[test]
    fn a_pull_shows_its_share_done_when_the_server_says_where_it_ends() {
        let progress = PullProgress {
            received: 1500,
            started_at: 0,
            cursor: 3000,
            head: Some(12_000),
            has_more: true,
        };
        assert_eq!(pull_progress_text(1500, &progress), "1500 received (25 %)");
        let older_server = PullProgress {
            head: None,
            ..progress
        };
        assert_eq!(
            pull_progress_text(1500, &older_server),
            "1500 received (server seq 3000)"
        );
    }
}
