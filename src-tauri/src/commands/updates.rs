//! Commands of application updates (updates.rs): the status, a check now, and the install.

use tauri::AppHandle;
use tauri::ipc::Channel;

use crate::error::CommandError;
use crate::updates::{self, UpdateStatusView};

/// Where the app stands with updates (off unless the provisioning file turns them on).
#[tauri::command]
pub async fn update_status(app: AppHandle) -> Result<UpdateStatusView, CommandError> {
    Ok(updates::status(&app))
}

/// Sends every change of the update status to `on_event` from now on.
#[tauri::command]
pub async fn watch_updates(
    app: AppHandle,
    on_event: Channel<UpdateStatusView>,
) -> Result<(), CommandError> {
    updates::watch(&app, on_event);
    Ok(())
}

/// Asks the provisioned endpoint for a newer version now.
#[tauri::command]
pub async fn check_for_update(app: AppHandle) -> Result<UpdateStatusView, CommandError> {
    updates::check(&app).await
}

/// Downloads, verifies and installs the update found, then restarts the app into it.
#[tauri::command]
pub async fn install_update(app: AppHandle) -> Result<(), CommandError> {
    updates::download_and_install(&app).await?;
    app.restart()
}
