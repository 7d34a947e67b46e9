//! Database epochs (docs/protocol.md, "Epochs"). A restore from a backup forgets every seq
//! the database handed out after the backup, while laptops still hold those seqs as pull
//! cursors and `base_version`s. So a restore begins a new epoch: its seqs start above every
//! seq the database could have handed out before the restore (see [`next_epoch_bounds`]), so
//! that a lost seq never names another write, and every answer carries the epoch, so that
//! laptops rewind their cursor and push again what they had acknowledged in the lost range.
//! Both backends implement [`EpochStore`] (`sqlite_epoch.rs`, `postgres_epoch.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tandem_protocol::DatabaseEpoch;
use uuid::Uuid;

use crate::ServerError;

/// How far above the restored backup's highest seq a new epoch starts when the server's clock
/// is behind that seq (see [`next_epoch_bounds`]): the bound on the seqs the database may
/// have handed out between the backup and the restore. 2^32 writes is more than a municipal
/// server makes in centuries (a busy team writes some 10^5 fields a day).
pub const EPOCH_SEQ_GAP: u64 = 1 << 32;

/// One epoch of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// Its random id.
    pub id: Uuid,
    /// The first seq it hands out.
    pub start_seq: u64,
    /// The highest seq the restored backup could have handed out (0 for the first epoch);
    /// seqs between it and `start_seq` are lost.
    pub restored_seq: u64,
    /// When it began.
    pub started_at: DateTime<Utc>,
}

/// Every epoch of the database, oldest first; never empty (the migration makes the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epochs(Vec<Epoch>);

impl Epochs {
    /// Orders `epochs` oldest first; `None` when there is none.
    pub fn new(mut epochs: Vec<Epoch>) -> Option<Self> {
        epochs.sort_by_key(|epoch| epoch.start_seq);
        (!epochs.is_empty()).then_some(Self(epochs))
    }

    /// Every epoch, oldest first.
    pub fn all(&self) -> &[Epoch] {
        &self.0
    }

    /// The epoch the database is in.
    pub fn current(&self) -> &Epoch {
        self.0.last().expect("Epochs is never empty")
    }

    /// The epoch as answers carry it.
    pub fn to_wire(&self) -> DatabaseEpoch {
        let current = self.current();
        DatabaseEpoch {
            id: current.id,
            start_seq: current.start_seq,
            restored_seq: current.restored_seq,
            previous_id: self.0.iter().rev().nth(1).map(|epoch| epoch.id),
        }
    }

    /// Whether `version` is a seq some restore lost: a write based on it was based on a value
    /// the server no longer knows.
    pub fn is_lost(&self, version: u64) -> bool {
        self.0
            .iter()
            .any(|epoch| version > epoch.restored_seq && version < epoch.start_seq)
    }
}

/// The next epoch's `restored_seq` and `start_seq`, from the highest seq in the database, the
/// current epoch (a backup made before the epoch's first write holds no seq of it, yet the
/// epoch may have handed some out) and the time of the restore.
///
/// A new epoch starts at the restore's time in microseconds since 1970. The restored database
/// cannot know every seq handed out after its backup: not only its own later ones but those
/// of epochs begun by other restores since, which it has never heard of (a backup older than
/// an earlier restore). Seqs started at a time in microseconds and handed out one per write
/// stay below the time in microseconds at which they are handed out (a server makes far fewer
/// than a million writes a second), so a start at the present is above all of them, and a
/// seq is never handed out twice, whichever backup is restored. Microseconds since 1970 stay
/// below 2^53 (exact in every JSON reader) until the year 2255. Should the clock be behind
/// the restored database's seqs (set back by hand), the start is [`EPOCH_SEQ_GAP`] above the
/// highest seq instead, which covers that database's own later seqs.
pub(crate) fn next_epoch_bounds(
    highest_seq: u64,
    current: &Epoch,
    now: DateTime<Utc>,
) -> (u64, u64) {
    let restored = highest_seq.max(current.start_seq.saturating_sub(1));
    let present = u64::try_from(now.timestamp_micros()).unwrap_or(0);
    let start = if present > restored {
        present
    } else {
        restored + EPOCH_SEQ_GAP
    };
    (restored, start)
}

/// The store's part of epochs.
#[async_trait]
pub trait EpochStore {
    /// Every epoch, oldest first.
    async fn epochs(&self) -> Result<Epochs, ServerError>;
    /// Begins a new epoch (after a restore), under the seq lock: its seqs start above every
    /// seq handed out before, at `now` in microseconds ([`next_epoch_bounds`]).
    async fn rotate_epoch(&self, now: DateTime<Utc>) -> Result<Epoch, ServerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(start_seq: u64, restored_seq: u64) -> Epoch {
        Epoch {
            id: Uuid::now_v7(),
            start_seq,
            restored_seq,
            started_at: DateTime::UNIX_EPOCH,
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_765_000_000 + seconds, 0).unwrap()
    }

    fn micros(time: DateTime<Utc>) -> u64 {
        u64::try_from(time.timestamp_micros()).unwrap()
    }

    #[test]
    fn only_seqs_between_a_restored_backup_and_its_epochs_start_are_lost() {
        let first = epoch(1, 0);
        let (restored, start) = next_epoch_bounds(40, &first, at(0));
        assert_eq!((restored, start), (40, micros(at(0))));
        let second = epoch(start, restored);
        let epochs = Epochs::new(vec![second.clone(), first.clone()]).unwrap();
        assert_eq!(epochs.current(), &second);
        assert_eq!(epochs.to_wire().previous_id, Some(first.id));
        assert!(!epochs.is_lost(0));
        assert!(!epochs.is_lost(40));
        assert!(epochs.is_lost(41));
        assert!(epochs.is_lost(start - 1));
        assert!(!epochs.is_lost(start));
        // A backup taken before the second epoch's first write still restores above it.
        assert_eq!(next_epoch_bounds(40, &second, at(60)).0, start - 1);
    }

    #[test]
    fn a_backup_older_than_an_earlier_restore_hands_out_no_seq_of_the_epoch_it_never_knew() {
        let first = epoch(1, 0);
        // Restored from a backup at seq 40; the new epoch hands out 1,000 seqs in a minute.
        let (restored, start) = next_epoch_bounds(40, &first, at(0));
        let second = epoch(start, restored);
        let second_highest = second.start_seq + 999;
        // Then restored from an older backup, at seq 20, whose epochs are the first alone.
        let (restored, start) = next_epoch_bounds(20, &first, at(60));
        assert_eq!(restored, 20);
        assert!(
            start > second_highest,
            "{start} hands out {second_highest} again"
        );
        let third = Epochs::new(vec![first, epoch(start, restored)]).unwrap();
        for seq in [second.start_seq, second_highest] {
            assert!(
                third.is_lost(seq),
                "a seq of the forgotten epoch names no write"
            );
        }
    }

    #[test]
    fn a_clock_behind_the_restored_seqs_starts_the_epoch_a_gap_above_them() {
        let first = epoch(1, 0);
        let highest = micros(at(0)) + 5;
        assert_eq!(
            next_epoch_bounds(highest, &first, at(0)),
            (highest, highest + EPOCH_SEQ_GAP)
        );
    }
}
