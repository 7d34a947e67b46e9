//! A team lead's subject-access export from a laptop: it needs a connection, because the
//! export must hold the whole history, which only the server has. (Erasing a client is
//! `HttpTransport::erase_client`; the next sync then purges it here.)

use uuid::Uuid;

use crate::SyncError;
use crate::transport::HttpTransport;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `ClientExport` JSON.
    Json,
    /// CSV, one row per current field and per history entry.
    Csv,
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
