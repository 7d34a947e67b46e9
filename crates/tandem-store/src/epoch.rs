//! The server's database epoch as this laptop knows it, and the journal of acknowledged
//! changes (docs/protocol.md, "Epochs"). A server restored from a backup forgets what it
//! acknowledged after the backup; the laptop notices the new epoch in the next answer,
//! rewinds its pull cursor to the backup's last seq and queues again, with their own change
//! ids, the journalled changes the server acknowledged above it. The server ignores those it
//! still has (a change id is applied once) and applies the others.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::Uuid;

use super::{get_key, keys, set_key, to_i64};
use crate::{Store, StoreError};

/// How long an acknowledged change stays in the journal: longer than anyone takes to notice
/// a broken server and restore last night's backup.
pub const JOURNAL_RETENTION_DAYS: i64 = 30;

/// The epoch a server answer carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEpoch {
    /// Its id.
    pub id: Uuid,
    /// Its first seq.
    pub start_seq: u64,
    /// The last seq of the backup it was restored from (0 for a first epoch).
    pub restored_seq: u64,
    /// The epoch before it.
    pub previous_id: Option<Uuid>,
}

/// What adopting an epoch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EpochAdoption {
    /// The pull cursor was set back to this seq.
    pub rewound_to: Option<u64>,
    /// Journalled changes queued again.
    pub requeued: u64,
}

impl EpochAdoption {
    /// Whether the cycle must push and pull again.
    pub fn needs_resync(&self) -> bool {
        self.rewound_to.is_some() || self.requeued > 0
    }
}

/// The seqs that restores lost, as this laptop judged them when it adopted each restore's
/// epoch: from the backup's last seq (`restored_seq`), or 0 when it started over after
/// several restores, up to the epoch's first seq (`start_seq`), both excluded. A field may
/// still name one (a value pulled while a change of it waited): the server no longer has
/// that value. Kept in `meta` as `low-high` ranges separated by commas.
#[derive(Debug, Default)]
pub(super) struct LostSeqs(Vec<(u64, u64)>);

impl LostSeqs {
    /// The ranges kept. One that cannot be read counts as no range: no seq in it is taken for
    /// lost, as before the ranges were kept (a noted value is then believed, where taking
    /// every seq for lost would throw away values the server has).
    pub(super) fn load(conn: &Connection) -> Result<Self, StoreError> {
        let text = get_key(conn, keys::LOST_SEQS)?.unwrap_or_default();
        Ok(Self(text.split(',').filter_map(parse_range).collect()))
    }

    pub(super) fn contains(&self, seq: u64) -> bool {
        self.0.iter().any(|&(low, high)| low < seq && seq < high)
    }

    /// Adds the seqs between `low` and `high` (both excluded), in the caller's transaction.
    /// It is written after what is kept, as it is: a range this version cannot read stays.
    fn add(conn: &Connection, low: u64, high: u64) -> Result<(), StoreError> {
        if high <= low.saturating_add(1) {
            return Ok(());
        }
        let range = format!("{low}-{high}");
        let text = match get_key(conn, keys::LOST_SEQS)? {
            Some(kept) if !kept.is_empty() => format!("{kept},{range}"),
            _ => range,
        };
        set_key(conn, keys::LOST_SEQS, &text)
    }
}

/// One `low-high` range of [`LostSeqs`].
fn parse_range(range: &str) -> Option<(u64, u64)> {
    let (low, high) = range.split_once('-')?;
    Some((low.parse().ok()?, high.parse().ok()?))
}

/// Drops journal rows older than [`JOURNAL_RETENTION_DAYS`], in the caller's transaction.
pub(super) fn prune_journal(conn: &Connection, at: DateTime<Utc>) -> Result<(), StoreError> {
    let cutoff = (at - Duration::days(JOURNAL_RETENTION_DAYS)).to_rfc3339();
    conn.prepare_cached("DELETE FROM acknowledged_changes WHERE acknowledged_at < ?1")?
        .execute([cutoff])?;
    Ok(())
}

impl Store {
    /// The server epoch this laptop last saw (`None` before the first answer that carried one).
    pub fn server_epoch(&self) -> Result<Option<Uuid>, StoreError> {
        Ok(get_key(&self.conn, keys::SERVER_EPOCH)?.and_then(|text| text.parse().ok()))
    }

    /// Takes note of the epoch a server answer carried, in one transaction. The first epoch
    /// ever seen is only recorded, unless the cursor lies in its lost range (a laptop from
    /// before epochs meeting a restored server). A new epoch that follows the one known
    /// rewinds the cursor to its `restored_seq` and queues again the journalled changes
    /// acknowledged above it; after several restores the laptop starts over from 0 with every
    /// journalled change. When it holds values pulled from the lost range that nothing queued
    /// here will write again, it pulls from 0 to take the server's values back.
    pub fn adopt_server_epoch(&mut self, epoch: &ServerEpoch) -> Result<EpochAdoption, StoreError> {
        // Every answer carries the epoch; the usual case needs no write transaction.
        if self.server_epoch()? == Some(epoch.id) {
            return Ok(EpochAdoption::default());
        }
        let tx = self.conn.write_transaction()?;
        let known: Option<Uuid> =
            get_key(&tx, keys::SERVER_EPOCH)?.and_then(|text| text.parse().ok());
        if known == Some(epoch.id) {
            return Ok(EpochAdoption::default());
        }
        let cursor: u64 = get_key(&tx, keys::PULL_CURSOR)?
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        let rewind_point = match known {
            Some(id) if Some(id) == epoch.previous_id => Some(epoch.restored_seq),
            Some(_) => Some(0),
            None if cursor > epoch.restored_seq && cursor < epoch.start_seq => {
                Some(epoch.restored_seq)
            }
            None => None,
        };
        LostSeqs::add(
            &tx,
            rewind_point.unwrap_or(epoch.restored_seq),
            epoch.start_seq,
        )?;
        let mut adoption = EpochAdoption::default();
        if let Some(point) = rewind_point {
            // The journal's seq is the change's outbox seq, so it is queued again in its place
            // before any later edit of its field.
            let requeued = tx.execute(
                "INSERT INTO outbox (seq, change_id, entity, record_id, field, value, base_version,
                     hlc, author_id, created_at)
                 SELECT seq, change_id, entity, record_id, field, value, base_version, hlc,
                     author_id, created_at
                 FROM acknowledged_changes WHERE acknowledged_version > ?1 ORDER BY seq",
                params![to_i64(point)],
            )?;
            tx.execute(
                "DELETE FROM acknowledged_changes WHERE acknowledged_version > ?1",
                params![to_i64(point)],
            )?;
            adoption.requeued = requeued as u64;
            // Values pulled from the lost range and not queued here: their writer may never
            // push them again (a laptop lost for good), and the server has an older value at a
            // lower version, which pulls would skip. Forget their version and pull from 0, so
            // that this laptop converges on what the server has (the value stays in history).
            let stale = tx.execute(
                "UPDATE record_fields SET server_version = 0
                 WHERE server_version > ?1 AND server_version < ?2
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity = record_fields.entity
                                   AND o.record_id = record_fields.record_id
                                   AND o.field = record_fields.field)",
                params![to_i64(point), to_i64(epoch.start_seq)],
            )?;
            let rewind_to = if stale > 0 { 0 } else { point };
            if cursor > rewind_to {
                set_key(&tx, keys::PULL_CURSOR, &rewind_to.to_string())?;
                // Writes up to the old cursor come again: their history rows exist already.
                let replayed: u64 = get_key(&tx, keys::REPLAYED_UP_TO)?
                    .and_then(|text| text.parse().ok())
                    .unwrap_or(0);
                set_key(&tx, keys::REPLAYED_UP_TO, &cursor.max(replayed).to_string())?;
                adoption.rewound_to = Some(rewind_to);
            }
        }
        set_key(&tx, keys::SERVER_EPOCH, &epoch.id.to_string())?;
        tx.commit()?;
        Ok(adoption)
    }

    /// How many acknowledged changes the journal keeps (tests and support).
    pub fn journalled_count(&self) -> Result<u64, StoreError> {
        let count: i64 =
            self.conn
                .query_row("SELECT count(*) FROM acknowledged_changes", [], |row| {
                    row.get(0)
                })?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
