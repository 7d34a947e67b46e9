//! The hybrid logical clock. Every write carries an HLC: a wall-clock time in milliseconds,
//! a logical counter that orders writes within one millisecond (or while the wall clock
//! stands behind a time already seen), and the id of the node that made it. The text form
//! `PPPPPPPPPPPPP-LLLLL-NODE` compares like the clock, so the store and the server can order
//! HLCs as strings.
//!
//! The clock never reads the time itself: callers pass `now_ms` in.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// Largest logical counter the five-digit text form can hold.
pub const MAX_LOGICAL: u32 = 99_999;
/// Largest physical time the thirteen-digit text form can hold (the year 2286).
const MAX_PHYSICAL_MS: u64 = 9_999_999_999_999;
/// How far a remote clock may run ahead of ours and still move our clock forward. A day
/// covers a laptop whose clock is off by a time zone or a day; a clock further ahead is
/// reported but not followed, so one broken clock cannot drag every device into the future.
pub const DEFAULT_MAX_DRIFT_MS: u64 = 25 * 60 * 60 * 1000;

/// One reading of a hybrid logical clock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hlc {
    physical_ms: u64,
    logical: u32,
    node: String,
}

impl Hlc {
    /// Builds a reading; the node must be non-empty and free of whitespace.
    pub fn new(physical_ms: u64, logical: u32, node: &str) -> Result<Self, DomainError> {
        if physical_ms > MAX_PHYSICAL_MS
            || logical > MAX_LOGICAL
            || node.is_empty()
            || node.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(DomainError::InvalidHlc(format!(
                "{physical_ms:013}-{logical:05}-{node}"
            )));
        }
        Ok(Self {
            physical_ms,
            logical,
            node: node.to_owned(),
        })
    }

    /// Wall-clock part, Unix milliseconds.
    pub fn physical_ms(&self) -> u64 {
        self.physical_ms
    }

    /// Logical counter.
    pub fn logical(&self) -> u32 {
        self.logical
    }

    /// The node (device) that made the reading.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::InvalidHlc(text.to_owned());
        let mut parts = text.splitn(3, '-');
        let physical = parts.next().filter(|p| p.len() == 13).ok_or_else(invalid)?;
        let logical = parts.next().filter(|l| l.len() == 5).ok_or_else(invalid)?;
        let node = parts.next().ok_or_else(invalid)?;
        if !physical.bytes().all(|b| b.is_ascii_digit())
            || !logical.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let physical_ms = physical.parse().map_err(|_| invalid())?;
        let logical = logical.parse().map_err(|_| invalid())?;
        Self::new(physical_ms, logical, node).map_err(|_| invalid())
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.physical_ms, self.logical, &self.node).cmp(&(
            other.physical_ms,
            other.logical,
            &other.node,
        ))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:013}-{:05}-{}",
            self.physical_ms, self.logical, self.node
        )
    }
}

impl FromStr for Hlc {
    type Err = DomainError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// What observing a remote time did to the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockObservation {
    /// The clock now stands at or after the remote time.
    Followed,
    /// The remote time lies further ahead of our wall clock than the allowed drift; the clock
    /// was left alone. `ahead_ms` says by how much it was ahead.
    TooFarAhead { ahead_ms: u64 },
}

/// A node's hybrid logical clock. The store persists [`HlcClock::last`] and resumes from it,
/// so readings keep increasing across restarts even if the wall clock goes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
    max_drift_ms: u64,
}

impl HlcClock {
    /// A clock that has not ticked yet.
    pub fn new(node: &str) -> Result<Self, DomainError> {
        Ok(Self::resume(Hlc::new(0, 0, node)?))
    }

    /// A clock that continues after a persisted reading.
    pub fn resume(last: Hlc) -> Self {
        Self {
            last,
            max_drift_ms: DEFAULT_MAX_DRIFT_MS,
        }
    }

    /// Sets how far ahead a remote clock may be and still be followed.
    pub fn with_max_drift_ms(mut self, max_drift_ms: u64) -> Self {
        self.max_drift_ms = max_drift_ms;
        self
    }

    /// The latest reading given out or observed (to persist).
    pub fn last(&self) -> &Hlc {
        &self.last
    }

    /// The node of this clock.
    pub fn node(&self) -> &str {
        &self.last.node
    }

    /// A new reading for a local write, later than every reading before it.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let now_ms = now_ms.min(MAX_PHYSICAL_MS);
        if now_ms > self.last.physical_ms {
            self.last.physical_ms = now_ms;
            self.last.logical = 0;
        } else {
            self.bump_logical();
        }
        self.last.clone()
    }

    /// Moves the clock past a remote reading (a pulled change or the server's time), so
    /// that the next local write orders after what this node has seen.
    pub fn observe(
        &mut self,
        remote_physical_ms: u64,
        remote_logical: u32,
        now_ms: u64,
    ) -> ClockObservation {
        let ahead_ms = remote_physical_ms.saturating_sub(now_ms);
        if ahead_ms > self.max_drift_ms {
            return ClockObservation::TooFarAhead { ahead_ms };
        }
        let now_ms = now_ms.min(MAX_PHYSICAL_MS);
        let remote_physical_ms = remote_physical_ms.min(MAX_PHYSICAL_MS);
        let physical = now_ms.max(self.last.physical_ms).max(remote_physical_ms);
        let logical = if physical == self.last.physical_ms && physical == remote_physical_ms {
            self.last.logical.max(remote_logical)
        } else if physical == self.last.physical_ms {
            self.last.logical
        } else if physical == remote_physical_ms {
            remote_logical
        } else {
            0
        };
        self.last.physical_ms = physical;
        self.last.logical = logical;
        ClockObservation::Followed
    }

    /// [`HlcClock::observe`] for a full remote reading.
    pub fn observe_hlc(&mut self, remote: &Hlc, now_ms: u64) -> ClockObservation {
        self.observe(remote.physical_ms, remote.logical, now_ms)
    }

    fn bump_logical(&mut self) {
        if self.last.logical >= MAX_LOGICAL {
            if self.last.physical_ms >= MAX_PHYSICAL_MS {
                // The largest reading the text form holds (only a crafted or broken clock
                // gets here): the clock stays on it rather than make a reading no one can
                // read back. It then orders after nothing new, only by its node.
                return;
            }
            // The counter is full: borrow the next millisecond rather than wrap.
            self.last.physical_ms += 1;
            self.last.logical = 0;
        } else {
            self.last.logical += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NODE: &str = "0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70";

    #[test]
    fn the_text_form_has_fixed_width_parts_and_round_trips() {
        let hlc = Hlc::new(1_764_150_000_000, 7, NODE).unwrap();
        assert_eq!(hlc.to_string(), format!("1764150000000-00007-{NODE}"));
        assert_eq!(Hlc::parse(&hlc.to_string()).unwrap(), hlc);
        for bad in [
            "",
            "1-2-3",
            "176415000000-00007-n",
            "1764150000000-0007-n",
            "1764150000000-00007-",
            "17641500000x0-00007-n",
        ] {
            assert!(Hlc::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ticks_increase_even_when_the_wall_clock_stands_still_or_goes_back() {
        let mut clock = HlcClock::new(NODE).unwrap();
        let a = clock.tick(1000);
        let b = clock.tick(1000);
        let c = clock.tick(900);
        assert!(a < b && b < c);
        assert_eq!((c.physical_ms(), c.logical()), (1000, 2));
        let d = clock.tick(2000);
        assert_eq!((d.physical_ms(), d.logical()), (2000, 0));
    }

    #[test]
    fn a_full_logical_counter_borrows_the_next_millisecond() {
        let mut clock = HlcClock::resume(Hlc::new(5, MAX_LOGICAL, NODE).unwrap());
        let next = clock.tick(5);
        assert_eq!((next.physical_ms(), next.logical()), (6, 0));
    }

    #[test]
    fn a_clock_at_the_largest_reading_stays_on_it_instead_of_overflowing_its_text_form() {
        let mut clock = HlcClock::resume(Hlc::new(MAX_PHYSICAL_MS, MAX_LOGICAL, NODE).unwrap());
        for now in [0, 1_764_000_000_000, u64::MAX] {
            let next = clock.tick(now);
            assert_eq!(
                (next.physical_ms(), next.logical()),
                (MAX_PHYSICAL_MS, MAX_LOGICAL)
            );
            assert_eq!(Hlc::parse(&next.to_string()).unwrap(), next);
        }
        let mut clock = HlcClock::new(NODE).unwrap().with_max_drift_ms(u64::MAX);
        let remote = Hlc::new(MAX_PHYSICAL_MS, MAX_LOGICAL, "x").unwrap();
        assert_eq!(clock.observe_hlc(&remote, 0), ClockObservation::Followed);
        let next = clock.tick(0);
        assert_eq!(Hlc::parse(&next.to_string()).unwrap(), next);
        assert_eq!(
            (next.physical_ms(), next.logical()),
            (MAX_PHYSICAL_MS, MAX_LOGICAL)
        );
    }

    #[test]
    fn observing_a_remote_reading_orders_the_next_tick_after_it() {
        let mut clock = HlcClock::new("a").unwrap();
        clock.tick(1_000);
        let remote = Hlc::new(5_000, 3, "b").unwrap();
        assert_eq!(
            clock.observe_hlc(&remote, 1_000),
            ClockObservation::Followed
        );
        let next = clock.tick(1_000);
        assert!(next > remote);
        assert_eq!((next.physical_ms(), next.logical()), (5_000, 4));
    }

    #[test]
    fn a_remote_clock_beyond_the_drift_bound_is_reported_and_not_followed() {
        let mut clock = HlcClock::new("a").unwrap().with_max_drift_ms(60_000);
        let before = clock.clone();
        assert_eq!(
            clock.observe(200_000, 0, 100_000),
            ClockObservation::TooFarAhead { ahead_ms: 100_000 }
        );
        assert_eq!(clock, before);
        assert_eq!(
            clock.observe(150_000, 0, 100_000),
            ClockObservation::Followed
        );
        assert_eq!(clock.last().physical_ms(), 150_000);
    }

    proptest! {
        #[test]
        fn string_order_equals_clock_order(
            a in (0u64..=MAX_PHYSICAL_MS, 0u32..=MAX_LOGICAL, "[a-f0-9]{1,8}"),
            b in (0u64..=MAX_PHYSICAL_MS, 0u32..=MAX_LOGICAL, "[a-f0-9]{1,8}"),
        ) {
            // Nodes of one length, as device ids are; the order must then agree.
            let node_a = format!("{:0>8}", a.2);
            let node_b = format!("{:0>8}", b.2);
            let x = Hlc::new(a.0, a.1, &node_a).unwrap();
            let y = Hlc::new(b.0, b.1, &node_b).unwrap();
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
        }

        #[test]
        fn every_tick_is_later_than_everything_observed_before(
            steps in proptest::collection::vec((any::<bool>(), 0u64..10_000, 0u64..10_000, 0u32..10), 1..50)
        ) {
            let mut clock = HlcClock::new("n").unwrap();
            let mut latest_seen: Option<Hlc> = None;
            for (is_tick, now, remote, logical) in steps {
                if is_tick {
                    let reading = clock.tick(now);
                    if let Some(seen) = &latest_seen {
                        prop_assert!(reading > *seen);
                    }
                    latest_seen = Some(reading);
                } else {
                    let remote = Hlc::new(remote, logical, "m").unwrap();
                    if clock.observe_hlc(&remote, now) == ClockObservation::Followed {
                        let reading = clock.tick(now);
                        prop_assert!((reading.physical_ms(), reading.logical()) > (remote.physical_ms(), remote.logical()));
                        latest_seen = Some(reading);
                    }
                }
            }
        }
    }
}
