//! The audit log: an append-only, hash-chained record of who read, changed, resolved,
//! exported, merged or unmerged, dismissed as duplicates, erased or purged which record, and
//! when. It never holds personal data: actors are ids, records are ids, and `detail` carries
//! counts, field names and ids (of records, conflicts and merges) only.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash (hex) and the entry's
//! canonical bytes (a JSON array of its columns in a fixed order). Changing, inserting or
//! deleting an entry in the middle breaks the chain at that entry; [`verify_chain`] finds
//! the first broken one. Removing entries at the end is only visible against a head hash
//! recorded elsewhere, which is why `tandem-server admin audit verify` prints it.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tandem_protocol::AuditEntry;
use uuid::Uuid;

use crate::clock::to_ms;

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A device signed in.
    Login,
    /// Records were read (a pull page).
    Read,
    /// A record's fields were written by a push.
    Change,
    /// A team lead resolved a conflict.
    Resolve,
    /// A subject-access export.
    Export,
    /// An erasure on request.
    Erase,
    /// A retention purge.
    Purge,
    /// A team lead merged a duplicate client into another.
    Merge,
    /// A team lead undid a merge.
    UndoMerge,
    /// A team lead dismissed a pair of clients proposed as duplicates.
    DismissDuplicate,
}

impl AuditAction {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Read => "read",
            Self::Change => "change",
            Self::Resolve => "resolve",
            Self::Export => "export",
            Self::Erase => "erase",
            Self::Purge => "purge",
            Self::Merge => "merge",
            Self::UndoMerge => "undo_merge",
            Self::DismissDuplicate => "dismiss_duplicate",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditActor {
    /// A signed-in user on a device.
    Device {
        /// The user.
        user_id: Uuid,
        /// Their device.
        device_id: Uuid,
    },
    /// A user, where the device does not matter (a conflict resolution).
    User(Uuid),
    /// Someone at the server's console (`tandem-server admin ...`).
    Operator,
    /// The server itself (the daily retention run).
    System,
}

impl AuditActor {
    /// The stored form.
    pub fn to_text(self) -> String {
        match self {
            Self::Device { user_id, device_id } => format!("user:{user_id} device:{device_id}"),
            Self::User(user_id) => format!("user:{user_id}"),
            Self::Operator => "operator".to_owned(),
            Self::System => "system".to_owned(),
        }
    }
}

/// An entry to append; the backend gives it its seq and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: AuditActor,
    /// What.
    pub action: AuditAction,
    /// The team of the record.
    pub team_id: Option<Uuid>,
    /// `client` or `contact`.
    pub entity: Option<String>,
    /// The record.
    pub record_id: Option<Uuid>,
    /// Counts, field names, record ids; never values.
    pub detail: String,
}

impl NewAuditEntry {
    /// The entry as it is stored at `seq` after an entry whose hash is `prev_hash`.
    pub fn sealed(&self, seq: u64, prev_hash: &str) -> StoredAuditEntry {
        let mut entry = StoredAuditEntry {
            seq,
            at_ms: to_ms(self.at),
            actor: self.actor.to_text(),
            action: self.action.as_str().to_owned(),
            team_id: self.team_id,
            entity: self.entity.clone(),
            record_id: self.record_id,
            detail: self.detail.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.expected_hash();
        entry
    }
}

/// An audit row as both backends store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEntry {
    /// Its place in the chain, from 1.
    pub seq: u64,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The team of the record.
    pub team_id: Option<Uuid>,
    /// `client` or `contact`.
    pub entity: Option<String>,
    /// The record.
    pub record_id: Option<Uuid>,
    /// Counts, field names, record ids.
    pub detail: String,
    /// The hash of the entry before (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

impl StoredAuditEntry {
    /// The bytes the hash covers besides the previous hash: a JSON array of every column
    /// but the hashes, in a fixed order.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::json!([
            self.seq,
            self.at_ms,
            self.actor,
            self.action,
            self.team_id,
            self.entity,
            self.record_id,
            self.detail,
        ])
        .to_string()
        .into_bytes()
    }

    /// SHA-256 (hex) of `prev_hash` and the canonical bytes.
    pub fn expected_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(self.canonical_bytes());
        hex::encode(hasher.finalize())
    }

    /// The entry as the API shows it.
    pub fn to_wire(&self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            at: crate::clock::from_ms(self.at_ms),
            actor: self.actor.clone(),
            action: self.action.clone(),
            team_id: self.team_id,
            entity: self.entity.clone(),
            record_id: self.record_id,
            detail: self.detail.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct BrokenChain {
    /// The first entry that does not fit (for a gap: the entry after it).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Walks a chain page by page: feed every entry in seq order, then read [`ChainWalker::head`].
#[derive(Debug, Clone)]
pub struct ChainWalker {
    last_seq: u64,
    last_hash: String,
    entries: u64,
}

impl Default for ChainWalker {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            entries: 0,
        }
    }
}

impl ChainWalker {
    /// Checks the next entry against the ones before it.
    pub fn check(&mut self, entry: &StoredAuditEntry) -> Result<(), BrokenChain> {
        let broken = |reason: String| BrokenChain {
            seq: entry.seq,
            reason,
        };
        if entry.seq != self.last_seq + 1 {
            return Err(broken(format!(
                "expected entry {} next: entries are missing",
                self.last_seq + 1
            )));
        }
        if entry.prev_hash != self.last_hash {
            return Err(broken(
                "its previous hash is not the hash of the entry before (an entry was removed or replaced)"
                    .to_owned(),
            ));
        }
        if entry.hash != entry.expected_hash() {
            return Err(broken(
                "its hash does not match its contents (the entry was changed)".to_owned(),
            ));
        }
        self.last_seq = entry.seq;
        self.last_hash = entry.hash.clone();
        self.entries += 1;
        Ok(())
    }

    /// The entries checked and the hash of the last one.
    pub fn head(&self) -> (u64, &str) {
        (self.entries, &self.last_hash)
    }
}

/// Checks a whole chain held in memory.
pub fn verify_chain(entries: &[StoredAuditEntry]) -> Result<(u64, String), BrokenChain> {
    let mut walker = ChainWalker::default();
    for entry in entries {
        walker.check(entry)?;
    }
    let (count, head) = walker.head();
    Ok((count, head.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<StoredAuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let entry = NewAuditEntry {
                    at: crate::clock::from_ms(1_768_471_200_000 + seq as i64),
                    actor: AuditActor::System,
                    action: AuditAction::Purge,
                    team_id: None,
                    entity: Some("client".into()),
                    record_id: Some(Uuid::from_u128(u128::from(seq))),
                    detail: format!("records=1 #{seq}"),
                }
                .sealed(seq, &prev);
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let entries = chain(4);
        let (count, head) = verify_chain(&entries).unwrap();
        assert_eq!(count, 4);
        assert_eq!(head, entries[3].hash);
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(4);
        entries[2].detail = "records=0".into();
        assert_eq!(verify_chain(&entries).unwrap_err().seq, 3);
    }

    #[test]
    fn a_removed_entry_is_named_by_the_one_after_the_gap() {
        let mut entries = chain(4);
        entries.remove(1);
        let broken = verify_chain(&entries).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("missing"), "{}", broken.reason);
    }

    #[test]
    fn a_rehashed_entry_breaks_the_link_to_the_next() {
        let mut entries = chain(4);
        entries[1].detail = "forged".into();
        entries[1].hash = entries[1].expected_hash();
        let broken = verify_chain(&entries).unwrap_err();
        assert_eq!(broken.seq, 3);
    }
}
