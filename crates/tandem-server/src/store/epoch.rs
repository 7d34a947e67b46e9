//! Database epochs (docs/protocol.md, "Epochs"). A restore from a backup forgets every seq
//! the database handed out after the backup, while laptops still hold those seqs as pull
//! cursors and `base_version`s. So a restore begins a new epoch: its seqs start
//! [`EPOCH_SEQ_GAP`] above the highest seq the backup could have handed out, so that a lost
//! seq never names another write, and every answer carries the epoch, so that laptops rewind
//! their cursor and push again what they had acknowledged in the lost range.
//! Both backends implement [`EpochStore`] (`sqlite_epoch.rs`, `postgres_epoch.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tandem_protocol::DatabaseEpoch;
use uuid::Uuid;

use crate::ServerError;

/// How far above the restored backup's highest seq a new epoch starts: the bound on the seqs
/// the database may have handed out between the backup and the restore. 2^32 writes is more
/// than a municipal server makes in centuries (a busy team writes some 10^5 fields a day),
/// and 2^21 restores still keep every seq below 2^53, exact in every JSON reader.
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

/// The next epoch's `restored_seq` and `start_seq`, from the highest seq in the database and
/// the current epoch (a backup made before the epoch's first write holds no seq of it, yet
/// the epoch may have handed some out).
pub(crate) fn next_epoch_bounds(highest_seq: u64, current: &Epoch) -> (u64, u64) {
    let restored = highest_seq.max(current.start_seq.saturating_sub(1));
    (restored, restored + EPOCH_SEQ_GAP)
}

/// The store's part of epochs.
#[async_trait]
pub trait EpochStore {
    /// Every epoch, oldest first.
    async fn epochs(&self) -> Result<Epochs, ServerError>;
    /// Begins a new epoch (after a restore), under the seq lock: its seqs start
    /// [`EPOCH_SEQ_GAP`] above the highest seq the database could have handed out.
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

    #[test]
    fn only_seqs_between_a_restored_backup_and_its_epochs_start_are_lost() {
        let first = epoch(1, 0);
        let (restored, start) = next_epoch_bounds(40, &first);
        assert_eq!((restored, start), (40, 40 + EPOCH_SEQ_GAP));
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
        assert_eq!(next_epoch_bounds(40, &second).0, start - 1);
    }
}
