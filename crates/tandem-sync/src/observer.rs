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
    /// A pulled page of `changes` was stored; the cursor now stands at `cursor`.
    fn pulled(&mut self, _changes: usize, _applied: &PullApplied, _cursor: u64, _has_more: bool) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl SyncObserver for NoProgress {}
