//! Database epochs on SQLite (see `store/epoch.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, seq, uuid};
use crate::ServerError;
use crate::clock::{from_ms, to_ms};
use crate::store::epoch::{Epoch, EpochStore, Epochs, next_epoch_bounds};

fn load_epochs(conn: &Connection) -> Result<Epochs, ServerError> {
    let mut statement =
        conn.prepare_cached("SELECT id, start_seq, restored_seq, started_ms FROM epochs")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
        ))
    })?;
    let mut epochs = Vec::new();
    for row in rows {
        let (id, start, restored, started) = row?;
        epochs.push(Epoch {
            id: uuid(&id)?,
            start_seq: seq(start),
            restored_seq: seq(restored),
            started_at: from_ms(started),
        });
    }
    Epochs::new(epochs).ok_or_else(|| ServerError::CorruptData("no epoch".into()))
}

/// Begins a new epoch in one write transaction (which holds SQLite's write lock, so no seq
/// is handed out meanwhile).
pub(super) fn rotate_epoch_blocking(
    conn: &mut Connection,
    now: DateTime<Utc>,
) -> Result<Epoch, ServerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let highest: i64 = tx.query_row(
        "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM change_log),
                    (SELECT COALESCE(MAX(seq), 0) FROM purges))",
        [],
        |row| row.get(0),
    )?;
    let (restored_seq, start_seq) =
        next_epoch_bounds(seq(highest), load_epochs(&tx)?.current(), now);
    let epoch = Epoch {
        id: Uuid::new_v4(),
        start_seq,
        restored_seq,
        started_at: now,
    };
    tx.execute(
        "INSERT INTO epochs (id, start_seq, restored_seq, started_ms) VALUES (?1, ?2, ?3, ?4)",
        params![
            epoch.id.to_string(),
            start_seq as i64,
            restored_seq as i64,
            to_ms(now)
        ],
    )?;
    tx.commit()?;
    Ok(epoch)
}

#[async_trait]
impl EpochStore for SqliteStore {
    async fn epochs(&self) -> Result<Epochs, ServerError> {
        self.run(|conn| load_epochs(conn)).await
    }

    async fn rotate_epoch(&self, now: DateTime<Utc>) -> Result<Epoch, ServerError> {
        self.run(move |conn| rotate_epoch_blocking(conn, now)).await
    }
}
