//! When to sync: at once, every few minutes, shortly after a local save, after a failure
//! with exponential backoff and jitter (and never before the server's `Retry-After`), so
//! that a room full of laptops does not hit the server at the same instant, and while the
//! server cannot be reached, as soon as a probe finds it back. Pure but for [`jitter`]: the
//! desktop shell and the CLI feed it events and the time and ask when to run and probe.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::SyncError;

/// How often, while offline, the server is probed (a TCP connect) to notice it is back.
pub const OFFLINE_PROBE_EVERY: Duration = Duration::from_secs(3);

/// The knobs of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Sync this often while online and idle.
    pub interval: Duration,
    /// Sync this long after a local save (saves in a burst share one sync).
    pub after_save: Duration,
    /// The first retry delay after a failure.
    pub backoff_base: Duration,
    /// The longest retry delay.
    pub backoff_max: Duration,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5 * 60),
            after_save: Duration::from_secs(10),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(15 * 60),
        }
    }
}

/// How a cycle ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleOutcome {
    /// Everything was pushed and pulled.
    Success,
    /// The server could not be reached (the network, or the server, is gone): retry with
    /// backoff, and probe the server meanwhile to notice it is back.
    Unreachable,
    /// A server error, a broken answer, a full disk: retry with backoff, and not before the
    /// server's `Retry-After` if it sent one (a full disk, a rate limit).
    TransientFailure {
        /// What the server's `Retry-After` said.
        retry_after: Option<Duration>,
    },
    /// A person should look, but the cycle may still succeed, or still does part of its work:
    /// the address answers a push or a pull 404, 405, 422 (a wrong address, or a proxy
    /// answering so while the server behind it restarts), or one record is too large to send
    /// (the cycle still pulls erasures and colleagues' writes). Retried at the longest backoff,
    /// so that the laptops come back by themselves without hammering what answers.
    SlowRetry,
    /// Needs a person (sign in again, update, revoked): do not retry on a timer.
    NeedsAttention,
    /// Another process (`tandem sync`, the app) was syncing this store: it learns whatever
    /// this cycle would have, so nothing is counted; try again after the wait the schedule
    /// was in (after a save's, or the backoff's if it was backing off).
    Busy,
}

impl CycleOutcome {
    /// What a cycle's result means for the schedule.
    pub fn of<T>(result: &Result<T, SyncError>) -> Self {
        match result {
            Ok(_) => CycleOutcome::Success,
            Err(SyncError::Offline { .. }) => CycleOutcome::Unreachable,
            Err(SyncError::AlreadyRunning { .. }) => CycleOutcome::Busy,
            Err(error) if error.is_transient() => CycleOutcome::TransientFailure {
                retry_after: error.retry_after(),
            },
            Err(error) if error.is_retried_slowly() => CycleOutcome::SlowRetry,
            Err(_) => CycleOutcome::NeedsAttention,
        }
    }
}

/// A random number in `[0, 1)` for [`SyncSchedule::finished`], different on every laptop and
/// every call (from the operating system's random source, through a v4 UUID).
pub fn jitter() -> f64 {
    // The low 62 bits of a v4 UUID are random (above them: its variant and version);
    // 53 of them make every multiple of 2^-53 in [0, 1) equally likely.
    let bits = (uuid::Uuid::new_v4().as_u128() as u64 & ((1 << 62) - 1)) >> 9;
    bits as f64 / (1u64 << 53) as f64
}

/// The delay before retry number `failures` (1 for the first): `base * 2^(failures-1)`,
/// capped at `max`, then "equal jitter": a random point in the upper half, `jitter` in
/// `[0, 1)` chosen by the caller.
pub fn backoff_delay(policy: &SyncPolicy, failures: u32, jitter: f64) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let ceiling = policy
        .backoff_base
        .saturating_mul(1u32 << exponent)
        .min(policy.backoff_max);
    let jitter = jitter.clamp(0.0, 1.0);
    ceiling / 2 + ceiling.mul_f64(jitter / 2.0)
}

/// The schedule of one store.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSchedule {
    policy: SyncPolicy,
    running: bool,
    failures: u32,
    needs_attention: bool,
    next_due: Option<DateTime<Utc>>,
    /// When a save made while a cycle ran asked to be synced (the cycle may have pushed
    /// before it): the end of that cycle keeps it.
    saved_while_running: Option<DateTime<Utc>>,
    /// Since the last cycle found the server unreachable (until the next one reaches it).
    unreachable: Option<Probing>,
}

/// The probes of an unreachable server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Probing {
    /// When the server was last probed (or found unreachable).
    last: DateTime<Utc>,
    /// Whether a probe was refused since. A probe that answers after one was refused means
    /// the server is back; one that answers from the start tells nothing (a TCP connection
    /// can open where HTTPS fails, behind a proxy or with a wrong certificate), and the
    /// backoff keeps the pace.
    refused: bool,
}

fn after(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX)
}

impl SyncSchedule {
    /// A schedule that syncs at once (the app just started).
    pub fn new(policy: SyncPolicy, now: DateTime<Utc>) -> Self {
        Self {
            policy,
            running: false,
            failures: 0,
            needs_attention: false,
            next_due: Some(now),
            saved_while_running: None,
            unreachable: None,
        }
    }

    /// When the next cycle should start (`None`: waiting for a person).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        if self.needs_attention {
            return None;
        }
        self.next_due
    }

    /// Whether a cycle should start now.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        !self.running && self.next_due().is_some_and(|due| due <= now)
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When the next attempt after a failure is due, for people waiting on it (the status
    /// bar): `None` while nothing failed, while a cycle runs, and when a person is needed.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        if self.failures == 0 || self.running {
            return None;
        }
        self.next_due()
    }

    /// Whether the last cycle found the server unreachable, and no cycle or probe has
    /// reached it since.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable.is_some()
    }

    /// Whether to probe the server now ([`OFFLINE_PROBE_EVERY`] while it is unreachable and
    /// no cycle runs); the answer goes to [`SyncSchedule::probe_answered`].
    pub fn probe_due(&self, now: DateTime<Utc>) -> bool {
        !self.running
            && self.unreachable.is_some_and(|probing| {
                now.signed_duration_since(probing.last)
                    >= TimeDelta::from_std(OFFLINE_PROBE_EVERY).unwrap_or(TimeDelta::MAX)
            })
    }

    /// A probe's answer: one that answers after one was refused means the network is back,
    /// and [`SyncSchedule::server_answered`] follows.
    pub fn probe_answered(&mut self, reachable: bool, now: DateTime<Utc>) {
        let Some(probing) = self.unreachable.as_mut() else {
            return;
        };
        probing.last = now;
        if !reachable {
            probing.refused = true;
        } else if probing.refused {
            self.server_answered(now);
        }
    }

    /// The server answered (a probe after a refusal, an online sign-in): the backoff starts
    /// over and a cycle runs at once.
    pub fn server_answered(&mut self, now: DateTime<Utc>) {
        self.unreachable = None;
        self.failures = 0;
        self.next_due = Some(now);
    }

    /// A local edit was saved: sync soon, unless backing off after failures (then the
    /// retry already scheduled will carry it).
    pub fn local_save(&mut self, now: DateTime<Utc>) {
        if self.failures > 0 {
            return;
        }
        let soon = after(now, self.policy.after_save);
        self.next_due = Some(self.next_due.map_or(soon, |due| due.min(soon)));
        if self.running {
            self.saved_while_running =
                Some(self.saved_while_running.map_or(soon, |at| at.min(soon)));
        }
    }

    /// A person asked to sync (or signed in again): run now, whatever the state.
    pub fn sync_requested(&mut self, now: DateTime<Utc>) {
        self.needs_attention = false;
        self.next_due = Some(now);
    }

    /// Marks a cycle as started; `false` if one is already running (never two at once).
    pub fn start(&mut self) -> bool {
        if self.running {
            return false;
        }
        self.running = true;
        true
    }

    /// A cycle ended at `now`; `jitter` in `[0, 1)` ([`jitter`]) spreads retries. A
    /// server's `Retry-After` delays the retry to at least that long, spread over half as
    /// long again, up to the longest backoff (a server cannot park its laptops for longer).
    pub fn finished(&mut self, outcome: CycleOutcome, now: DateTime<Utc>, jitter: f64) {
        self.running = false;
        let saved_while_running = self.saved_while_running.take();
        let retry_after = match outcome {
            CycleOutcome::Success => {
                self.failures = 0;
                self.unreachable = None;
                let idle = after(now, self.policy.interval);
                self.next_due = Some(saved_while_running.map_or(idle, |soon| soon.min(idle)));
                return;
            }
            CycleOutcome::NeedsAttention => {
                self.needs_attention = true;
                self.next_due = None;
                return;
            }
            CycleOutcome::Busy => {
                let wait = match self.failures {
                    0 => self.policy.after_save,
                    failures => backoff_delay(&self.policy, failures, jitter),
                };
                self.next_due = Some(after(now, wait));
                return;
            }
            CycleOutcome::Unreachable => {
                self.unreachable = Some(Probing {
                    last: now,
                    refused: false,
                });
                None
            }
            CycleOutcome::TransientFailure { retry_after } => {
                self.unreachable = None;
                retry_after
            }
            CycleOutcome::SlowRetry => {
                self.unreachable = None;
                self.failures = self.failures.saturating_add(1);
                let longest = backoff_delay(&self.policy, u32::MAX, jitter);
                self.next_due = Some(after(now, longest));
                return;
            }
        };
        self.failures = self.failures.saturating_add(1);
        let backoff = backoff_delay(&self.policy, self.failures, jitter);
        let asked = retry_after
            .map(|asked| asked.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 2.0))
            .unwrap_or_default()
            .min(self.policy.backoff_max);
        self.next_due = Some(after(now, backoff.max(asked)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_768_471_200 + secs, 0).unwrap()
    }

    const FAILED: CycleOutcome = CycleOutcome::TransientFailure { retry_after: None };

    #[test]
    fn a_new_schedule_syncs_at_once_and_then_every_interval() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        assert!(schedule.is_due(t(0)));
        assert!(schedule.start());
        assert!(!schedule.is_due(t(0)), "never two cycles at once");
        assert!(!schedule.start());
        schedule.finished(CycleOutcome::Success, t(1), 0.5);
        assert_eq!(schedule.next_due(), Some(t(301)));
        assert!(!schedule.is_due(t(300)));
        assert!(schedule.is_due(t(301)));
    }

    #[test]
    fn a_save_while_a_cycle_runs_is_synced_shortly_after_it_not_at_the_next_interval() {
        // The cycle may have pushed before the save: what it saved is still waiting.
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        assert!(schedule.start());
        schedule.local_save(t(2));
        schedule.finished(CycleOutcome::Success, t(5), 0.0);
        assert_eq!(schedule.next_due(), Some(t(12)));
        // Ended after the save's wait: at once. The next cycle finds nothing saved meanwhile.
        assert!(schedule.start());
        schedule.local_save(t(13));
        schedule.finished(CycleOutcome::Success, t(40), 0.0);
        assert!(schedule.is_due(t(40)));
        assert!(schedule.start());
        schedule.finished(CycleOutcome::Success, t(41), 0.0);
        assert_eq!(schedule.next_due(), Some(t(341)));
    }

    #[test]
    fn a_local_save_brings_the_next_sync_forward_to_shortly_after_it() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        schedule.start();
        schedule.finished(CycleOutcome::Success, t(0), 0.0);
        schedule.local_save(t(100));
        assert_eq!(schedule.next_due(), Some(t(110)));
        schedule.local_save(t(105));
        assert_eq!(
            schedule.next_due(),
            Some(t(110)),
            "a burst of saves shares one sync"
        );
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_the_cap() {
        let policy = SyncPolicy::default();
        assert_eq!(backoff_delay(&policy, 1, 0.0), Duration::from_millis(2500));
        assert_eq!(backoff_delay(&policy, 1, 1.0), Duration::from_secs(5));
        assert_eq!(backoff_delay(&policy, 2, 1.0), Duration::from_secs(10));
        assert_eq!(backoff_delay(&policy, 4, 0.5), Duration::from_secs(30));
        assert_eq!(
            backoff_delay(&policy, 30, 1.0),
            Duration::from_secs(15 * 60)
        );
        assert_eq!(
            backoff_delay(&policy, 30, 0.0),
            Duration::from_secs(15 * 60 / 2)
        );
        let mut schedule = SyncSchedule::new(policy, t(0));
        for (n, expected) in [(1, 5), (2, 10), (3, 20)] {
            schedule.start();
            schedule.finished(FAILED, t(0), 1.0);
            assert_eq!(schedule.failures(), n);
            assert_eq!(schedule.next_due(), Some(t(expected)));
        }
        schedule.local_save(t(1));
        assert_eq!(
            schedule.next_due(),
            Some(t(20)),
            "a save does not cut a backoff short"
        );
    }

    #[test]
    fn a_servers_retry_after_delays_the_retry_up_to_the_longest_backoff() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        let full_disk = SyncError::Server {
            status: 503,
            code: "storage_full".to_owned(),
            message: "The server's disk is full.".to_owned(),
            retry_after_secs: Some(60),
            reason_code: None,
        };
        let full_disk = CycleOutcome::of::<()>(&Err(full_disk));
        schedule.start();
        schedule.finished(full_disk, t(0), 0.0);
        assert_eq!(
            schedule.next_due(),
            Some(t(60)),
            "not the first backoff's 5 s"
        );
        schedule.start();
        schedule.finished(full_disk, t(0), 0.999);
        assert_eq!(
            schedule.next_due().map(|due| (due - t(0)).num_seconds()),
            Some(89),
            "spread over half as long again: a room of laptops does not come back at once"
        );
        schedule.start();
        schedule.finished(full_disk, t(0), 0.0);
        assert!(!schedule.is_due(t(59)));
        schedule.local_save(t(10));
        assert_eq!(
            schedule.next_due(),
            Some(t(60)),
            "a save does not cut it short"
        );

        // A longer backoff wins over a short Retry-After; an absurd one is capped.
        for _ in 0..4 {
            schedule.start();
            schedule.finished(FAILED, t(0), 1.0);
        }
        let short = CycleOutcome::TransientFailure {
            retry_after: Some(Duration::from_secs(1)),
        };
        schedule.start();
        schedule.finished(short, t(0), 1.0);
        assert_eq!(schedule.next_due(), Some(t(5 << 7)));
        let a_day = CycleOutcome::of::<()>(&Err(SyncError::RateLimited {
            retry_after_secs: 86_400,
        }));
        schedule.start();
        schedule.finished(a_day, t(0), 0.0);
        assert_eq!(schedule.next_due(), Some(t(15 * 60)));
    }

    #[test]
    fn the_outcome_of_a_cycle_is_named_by_its_error() {
        assert_eq!(CycleOutcome::of(&Ok(())), CycleOutcome::Success);
        let offline = SyncError::Offline {
            server: "http://127.0.0.1:9".to_owned(),
            detail: "connection refused".to_owned(),
        };
        assert_eq!(
            CycleOutcome::of::<()>(&Err(offline)),
            CycleOutcome::Unreachable
        );
        let internal = SyncError::Server {
            status: 500,
            code: "internal".to_owned(),
            message: "the server failed".to_owned(),
            retry_after_secs: None,
            reason_code: None,
        };
        assert_eq!(CycleOutcome::of::<()>(&Err(internal)), FAILED);
        assert_eq!(
            CycleOutcome::of::<()>(&Err(SyncError::DeviceRevoked)),
            CycleOutcome::NeedsAttention
        );
    }

    #[test]
    fn an_unreachable_server_is_probed_and_synced_with_as_soon_as_it_answers_again() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        for _ in 0..3 {
            schedule.start();
            schedule.finished(CycleOutcome::Unreachable, t(0), 1.0);
        }
        assert!(schedule.is_unreachable());
        assert_eq!(schedule.next_due(), Some(t(20)), "the backoff still runs");
        assert!(!schedule.probe_due(t(2)));
        assert!(schedule.probe_due(t(3)));
        schedule.probe_answered(false, t(3));
        assert!(!schedule.probe_due(t(5)), "every 3 s");
        schedule.probe_answered(true, t(6));
        assert!(schedule.is_due(t(6)), "back: at once, not at 20 s");
        assert_eq!(schedule.failures(), 0);
        assert!(!schedule.is_unreachable());
        assert!(!schedule.probe_due(t(100)));
    }

    #[test]
    fn a_probe_that_answers_from_the_start_tells_nothing_and_the_backoff_keeps_the_pace() {
        // TCP connects, HTTPS fails (a proxy, a wrong certificate): no retry every 3 s.
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        schedule.start();
        schedule.finished(CycleOutcome::Unreachable, t(0), 1.0);
        schedule.probe_answered(true, t(3));
        assert!(!schedule.is_due(t(3)));
        assert!(schedule.is_due(t(5)), "the first backoff");
        schedule.start();
        schedule.finished(CycleOutcome::Unreachable, t(5), 1.0);
        schedule.probe_answered(true, t(8));
        assert_eq!(schedule.failures(), 2);
        assert_eq!(schedule.next_due(), Some(t(15)));
    }

    #[test]
    fn a_server_no_probe_reaches_is_still_retried_on_the_backoff() {
        // A proxy between the laptop and the server: the direct probe never connects.
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        schedule.start();
        schedule.finished(CycleOutcome::Unreachable, t(0), 1.0);
        for second in [3, 6, 9] {
            schedule.probe_answered(false, t(second));
        }
        assert!(schedule.is_due(t(5)));
        schedule.start();
        assert!(!schedule.probe_due(t(20)), "no probe while a cycle runs");
        schedule.finished(CycleOutcome::Success, t(10), 0.0);
        assert!(!schedule.is_unreachable());
    }

    #[test]
    fn jitter_is_spread_over_zero_to_one() {
        let draws: Vec<f64> = (0..200).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)), "{draws:?}");
        assert!(draws.iter().any(|j| *j < 0.25) && draws.iter().any(|j| *j > 0.75));
    }

    fn wrong_server_address() -> SyncError {
        SyncError::WrongServerAddress {
            server: "https://tandem.example".to_owned(),
            status: 404,
            code: "none".to_owned(),
            message: "Not Found".to_owned(),
        }
    }

    #[test]
    fn a_wrong_server_address_is_retried_at_the_longest_backoff_and_not_parked() {
        // A proxy answering 404 while the server behind it restarts looks the same as a
        // wrong address: parked, every laptop would stop syncing until someone clicked.
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        let misrouted = CycleOutcome::of::<()>(&Err(wrong_server_address()));
        schedule.start();
        schedule.finished(misrouted, t(0), 1.0);
        assert_eq!(schedule.next_due(), Some(t(15 * 60)), "not parked");
        assert_eq!(schedule.retry_at(), Some(t(15 * 60)), "the bar says when");
        assert_eq!(schedule.failures(), 1);
        schedule.local_save(t(10));
        assert_eq!(
            schedule.next_due(),
            Some(t(15 * 60)),
            "a save does not cut it short"
        );
        assert!(schedule.is_due(t(15 * 60)));
        schedule.start();
        schedule.finished(misrouted, t(15 * 60), 0.0);
        assert_eq!(
            schedule.next_due(),
            Some(t(15 * 60 + 15 * 60 / 2)),
            "spread like any backoff, so a room of laptops does not come back at once"
        );
        schedule.sync_requested(t(1000));
        assert!(schedule.is_due(t(1000)), "a person can still ask at once");
        schedule.start();
        schedule.finished(CycleOutcome::Success, t(1001), 0.0);
        assert_eq!(schedule.failures(), 0);
        assert_eq!(schedule.retry_at(), None);
    }

    #[test]
    fn a_record_too_large_to_send_keeps_the_cycle_running_at_the_longest_backoff() {
        // The cycle pulls after the refused push: erasures and colleagues' writes must keep
        // arriving while the record waits for the server's limit to be raised.
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        let too_large = CycleOutcome::of::<()>(&Err(SyncError::PayloadTooLarge {
            message: "body over 2 MiB".to_owned(),
        }));
        for round in 0..3 {
            schedule.start();
            schedule.finished(too_large, t(round * 900), 1.0);
            assert_eq!(schedule.next_due(), Some(t(round * 900 + 900)), "{round}");
        }
    }

    #[test]
    fn a_failure_that_needs_a_person_stops_the_timer_until_asked_again() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        schedule.start();
        schedule.finished(CycleOutcome::NeedsAttention, t(0), 0.0);
        assert_eq!(schedule.next_due(), None);
        assert_eq!(schedule.retry_at(), None, "no attempt is coming");
        schedule.sync_requested(t(9));
        assert!(schedule.is_due(t(9)));
    }

    #[test]
    fn another_process_syncing_the_store_is_no_failure_and_keeps_the_probe() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        schedule.start();
        schedule.finished(CycleOutcome::Busy, t(0), 0.0);
        assert_eq!(schedule.failures(), 0);
        assert_eq!(schedule.retry_at(), None, "nothing failed");
        assert_eq!(schedule.next_due(), Some(t(10)), "as soon as after a save");

        schedule.start();
        schedule.finished(CycleOutcome::Unreachable, t(10), 1.0);
        schedule.probe_answered(false, t(13));
        assert!(schedule.is_due(t(15)));
        schedule.start();
        schedule.finished(CycleOutcome::Busy, t(15), 1.0);
        assert_eq!(schedule.failures(), 1, "not counted");
        assert_eq!(
            schedule.next_due(),
            Some(t(20)),
            "the backoff's wait, not a longer one"
        );
        assert!(schedule.is_unreachable(), "still probing");
        schedule.probe_answered(true, t(18));
        assert!(schedule.is_due(t(18)), "the server is back: at once");
        let busy = Err::<(), _>(SyncError::AlreadyRunning {
            path: std::path::PathBuf::from("tandem.sync.lock"),
        });
        assert_eq!(CycleOutcome::of(&busy), CycleOutcome::Busy);
    }

    #[test]
    fn a_retry_is_announced_only_after_a_failure_and_not_while_it_runs() {
        let mut schedule = SyncSchedule::new(SyncPolicy::default(), t(0));
        assert_eq!(schedule.retry_at(), None, "the first sync is no retry");
        schedule.start();
        schedule.finished(CycleOutcome::Unreachable, t(0), 1.0);
        assert_eq!(schedule.retry_at(), Some(t(5)));
        schedule.sync_requested(t(2));
        assert_eq!(schedule.retry_at(), Some(t(2)), "asked for: due now");
        schedule.start();
        assert_eq!(schedule.retry_at(), None, "running, not waiting");
        schedule.finished(FAILED, t(3), 1.0);
        assert_eq!(schedule.retry_at(), Some(t(13)));
        schedule.start();
        schedule.finished(CycleOutcome::Success, t(13), 0.0);
        assert_eq!(schedule.retry_at(), None);
        assert_eq!(
            schedule.next_due(),
            Some(t(313)),
            "the usual interval is no retry"
        );
    }
}
