//! Commands of a team lead's privacy requests: erasing a client, saving its subject-access
//! export, the audit log; and saving the Reports screen's CSV. See `crate::privacy`.

use tauri::{AppHandle, State};

use crate::dto::{AuditPageView, AuditRequest, ErasureView, ExportFormatInput};
use crate::error::CommandError;
use crate::privacy;
use crate::state::AppState;

/// Erases a client everywhere (team leads of its team, admins; needs the server).
#[tauri::command]
pub async fn erase_client(
    state: State<'_, AppState>,
    client_id: String,
) -> Result<ErasureView, CommandError> {
    privacy::erase_client(&state, &client_id).await
}

/// Fetches a client's export and saves it where the user picks; the path, or none when the
/// user cancelled.
#[tauri::command]
pub async fn save_client_export(
    app: AppHandle,
    state: State<'_, AppState>,
    client_id: String,
    format: ExportFormatInput,
) -> Result<Option<String>, CommandError> {
    let (bytes, file_name) = privacy::client_export(&state, &client_id, format).await?;
    privacy::save_with_dialog(&app, &file_name, &bytes).await
}

/// Saves a report's CSV where the user picks; the path, or none when the user cancelled.
#[tauri::command]
pub async fn save_report_csv(
    app: AppHandle,
    csv: String,
    file_name: String,
) -> Result<Option<String>, CommandError> {
    privacy::save_with_dialog(&app, &file_name, csv.as_bytes()).await
}

/// A page of the audit log (team leads, admins; needs the server).
#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    request: AuditRequest,
) -> Result<AuditPageView, CommandError> {
    privacy::audit_page(&state, &request).await
}
