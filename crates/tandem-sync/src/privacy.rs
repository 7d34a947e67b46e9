//! A team lead's privacy requests from a laptop: erasing a client everywhere, and fetching a
//! client's subject-access export. Both need a connection: only the server can erase, and
//! the export must hold the whole history, which only the server has.

use tandem_protocol::ErasureResponse;
use tandem_store::Store;
use uuid::Uuid;

use crate::SyncError;
use crate::engine::{Clock, SyncReport, sync_once};
use crate::observer::NoProgress;
use crate::transport::HttpTransport;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `ClientExport` JSON.
    Json,
    /// CSV, one row per current field and per history entry.
    Csv,
}

/// Erases a client on the server, then syncs, so that this laptop removes it at once (every
/// other laptop does at its next sync). The erasure stands even when the sync after it fails
/// (this laptop then removes the client at its next sync), so the sync's outcome is returned
/// beside it rather than as the error of the whole.
pub async fn erase_client(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    client: Uuid,
) -> Result<(ErasureResponse, Result<SyncReport, SyncError>), SyncError> {
    let erased = transport.erase_client(client).await?;
    let report = sync_once(store, transport, clock, &mut NoProgress).await;
    Ok((erased, report))
}

/// A client's export as the server sends it, ready to be saved to a file.
pub async fn export_client(
    transport: &HttpTransport,
    client: Uuid,
    format: ExportFormat,
) -> Result<Vec<u8>, SyncError> {
    transport
        .export_client(client, format == ExportFormat::Csv)
        .await
}
