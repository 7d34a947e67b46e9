//! The server's one view of the wall clock. Handlers and the store take the time from a
//! [`Clock`], so tests can hold time still or move it; only [`SystemClock`] reads the
//! real clock.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use uuid::{NoContext, Timestamp, Uuid};

/// Where the server gets the current time.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The edge of the server: the one place that reads the wall clock.
        #[allow(clippy::disallowed_methods)]
        Utc::now()
    }
}

/// A clock that stands still until told to move (tests, seeding).
#[derive(Debug)]
pub struct ManualClock {
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            millis: AtomicI64::new(now.timestamp_millis()),
        }
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance_ms(&self, ms: i64) {
        self.millis.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis.load(Ordering::SeqCst))
            .single()
            .unwrap_or_default()
    }
}

/// A UUIDv7 for something the server creates, timed by the given clock.
pub fn new_uuid_v7(clock: &dyn Clock) -> Uuid {
    uuid_v7_at(clock.now())
}

/// A UUIDv7 for something the server creates at `now` (its random part keeps ids made at
/// the same instant apart).
pub fn uuid_v7_at(now: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        secs,
        now.timestamp_subsec_nanos(),
    ))
}

/// Unix milliseconds of a time, as stored.
pub fn to_ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// The time of stored Unix milliseconds.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(from_ms(1_000));
        assert_eq!(to_ms(clock.now()), 1_000);
        clock.advance_ms(500);
        assert_eq!(to_ms(clock.now()), 1_500);
    }

    #[test]
    fn server_made_ids_are_version_7() {
        let clock = ManualClock::new(from_ms(1_764_000_000_000));
        assert_eq!(new_uuid_v7(&clock).get_version_num(), 7);
        assert_ne!(new_uuid_v7(&clock), new_uuid_v7(&clock));
    }
}
