//! Database epochs on PostgreSQL (see `store/epoch.rs`). Rotating takes the seq lock, so no
//! instance hands out a seq meanwhile.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PostgresStore, begin_seq_writer, db_int, seq};
use crate::ServerError;
use crate::clock::{from_ms, to_ms};
use crate::store::epoch::{Epoch, EpochStore, Epochs, next_epoch_bounds};

fn epochs_from_rows(rows: &[tokio_postgres::Row]) -> Result<Epochs, ServerError> {
    let mut epochs = Vec::new();
    for row in rows {
        epochs.push(Epoch {
            id: row.try_get(0)?,
            start_seq: seq(row.try_get(1)?),
            restored_seq: seq(row.try_get(2)?),
            started_at: from_ms(row.try_get(3)?),
        });
    }
    Epochs::new(epochs).ok_or_else(|| ServerError::CorruptData("no epoch".into()))
}

const EPOCHS: &str = "SELECT id, start_seq, restored_seq, started_ms FROM epochs";

#[async_trait]
impl EpochStore for PostgresStore {
    async fn epochs(&self) -> Result<Epochs, ServerError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(EPOCHS).await?;
        epochs_from_rows(&client.query(&statement, &[]).await?)
    }

    async fn rotate_epoch(&self, now: DateTime<Utc>) -> Result<Epoch, ServerError> {
        let mut client = self.client().await?;
        let tx = begin_seq_writer(&mut client).await?;
        let highest: i64 = tx
            .query_one(
                "SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM change_log),
                                 (SELECT COALESCE(MAX(seq), 0) FROM purges))",
                &[],
            )
            .await?
            .try_get(0)?;
        let epochs = epochs_from_rows(&tx.query(EPOCHS, &[]).await?)?;
        let (restored_seq, start_seq) = next_epoch_bounds(seq(highest), epochs.current(), now);
        let epoch = Epoch {
            id: Uuid::new_v4(),
            start_seq,
            restored_seq,
            started_at: now,
        };
        tx.execute(
            "INSERT INTO epochs (id, start_seq, restored_seq, started_ms) VALUES ($1, $2, $3, $4)",
            &[
                &epoch.id,
                &db_int(start_seq),
                &db_int(restored_seq),
                &to_ms(now),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(epoch)
    }
}
