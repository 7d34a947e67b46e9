//! Progress of a sync cycle, pushed to whoever shows it (the CLI's progress bar, the desktop
//! shell's IPC channel). The engine calls these as it goes and never prints.

use tandem_store::{PullApplied, PushApplied};

/// The steps of one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Sending the outbox.
    Push,
    /// Fetching what others changed.
    Pull,
    /// Mirroring the team's conflicts (team leads).
    Conflicts,
    /// The cycle ended.
    Done,
}

/// Receives progress. Every method has a default that ignores it.
pub trait SyncObserver {
    /// A new phase began; `pending` is the outbox size at that moment.
    fn phase(&mut self, _phase: SyncPhase, _pending: u64) {}
    /// A push batch of `changes` was sent and its answers stored; `remaining` are left.
    fn pushed(&mut self, _changes: usize, _applied: &PushApplied, _remaining: u64) {}
    /// A pulled page of `changes` was stored; `progress` says how far the pull has come.
    fn pulled(&mut self, _changes: usize, _applied: &PullApplied, _progress: &PullProgress) {}
}

/// How far a pull has come: from the cursor it started at towards the `seq` the server said
/// it ends at (its `head`, which later writes move on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    /// Changes stored since the pull started.
    pub received: u64,
    /// The cursor the pull started at.
    pub started_at: u64,
    /// The cursor now (the last page's `next`, stored with it).
    pub cursor: u64,
    /// Where the server said the pull ends (none from servers before it existed).
    pub head: Option<u64>,
    /// Whether more pages wait.
    pub has_more: bool,
}

impl PullProgress {
    /// The share of the pull done, in percent: 100 only once the last page is stored, none
    /// while more wait and the server did not say where the pull ends. Seqs count the other
    /// teams' writes too, so this is the share of the server's writes passed, which runs
    /// evenly enough for a progress bar.
    pub fn percent(&self) -> Option<u8> {
        if !self.has_more {
            return Some(100);
        }
        let head = self.head.filter(|head| *head > self.started_at)?;
        let done = u128::from(self.cursor.saturating_sub(self.started_at));
        let total = u128::from(head - self.started_at);
        Some(u8::try_from((done * 100 / total).min(99)).unwrap_or(99))
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl SyncObserver for NoProgress {}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(started_at: u64, cursor: u64, head: Option<u64>, has_more: bool) -> PullProgress {
        PullProgress {
            received: 0,
            started_at,
            cursor,
            head,
            has_more,
        }
    }

    #[test]
    fn a_pull_is_as_far_along_as_its_cursor_between_its_start_and_the_head() {
        assert_eq!(progress(1000, 1000, Some(2000), true).percent(), Some(0));
        assert_eq!(progress(1000, 1250, Some(2000), true).percent(), Some(25));
        assert_eq!(progress(0, 1, Some(3), true).percent(), Some(33));
        assert_eq!(
            progress(u64::MAX - 10, u64::MAX - 5, Some(u64::MAX), true).percent(),
            Some(50)
        );
    }

    #[test]
    fn a_pull_is_done_only_at_its_last_page() {
        // The head moved on while the pull ran, or the cursor reached it with more to come.
        assert_eq!(progress(0, 2000, Some(2000), true).percent(), Some(99));
        assert_eq!(progress(0, 2500, Some(2000), true).percent(), Some(99));
        assert_eq!(progress(0, 900, Some(2000), false).percent(), Some(100));
        assert_eq!(progress(0, 0, None, false).percent(), Some(100));
    }

    #[test]
    fn without_a_head_ahead_of_the_start_there_is_no_share() {
        assert_eq!(progress(0, 500, None, true).percent(), None);
        assert_eq!(progress(700, 800, Some(700), true).percent(), None);
        assert_eq!(progress(700, 800, Some(600), true).percent(), None);
    }
}
