//! Commands of syncing: the status bar, "Sync now", the progress channel, and the screen of
//! what has not reached the server (pending, refused, conflicts), and a team lead's review
//! (resolving conflicts, the team's laptops).

use tauri::State;
use tauri::ipc::Channel;
use uuid::Uuid;

use super::now;
use crate::dto::{
    ConflictResolution, ReportRequest, ReportView, SyncEvent, SyncStatusView, TeamDevicesView,
    UnsyncedView,
};
use crate::error::CommandError;
use crate::state::AppState;
use crate::sync_bridge;

/// The state of syncing.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatusView, CommandError> {
    let runtime = sync_bridge::runtime_of(&state);
    state.with_store_unlocked_or_not(|store| sync_bridge::status_view(store, &runtime))
}

/// Subscribes the UI to sync progress and status (one channel; a new one replaces it).
#[tauri::command]
pub async fn watch_sync(
    state: State<'_, AppState>,
    on_event: Channel<SyncEvent>,
) -> Result<(), CommandError> {
    sync_bridge::watch(&state, on_event);
    Ok(())
}

/// Runs a sync cycle now and returns the status after it.
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<SyncStatusView, CommandError> {
    sync_bridge::sync_now(&state).await
}

/// Pending and refused changes, and open conflicts.
#[tauri::command]
pub async fn unsynced(state: State<'_, AppState>) -> Result<UnsyncedView, CommandError> {
    state.with_store(|store| sync_bridge::unsynced_view(store))
}

fn change_id(text: &str) -> Result<Uuid, CommandError> {
    Uuid::parse_str(text)
        .map_err(|error| CommandError::invalid_field("change_id", error.to_string()))
}

/// Queues a refused change again.
#[tauri::command]
pub async fn retry_rejected(
    state: State<'_, AppState>,
    change_id: String,
) -> Result<(), CommandError> {
    let id = self::change_id(&change_id)?;
    state.with_store(|store| store.retry_rejected(id, tandem_store::EditContext::at(now())))?;
    Ok(())
}

/// Drops a refused change for good.
#[tauri::command]
pub async fn dismiss_rejected(
    state: State<'_, AppState>,
    change_id: String,
) -> Result<(), CommandError> {
    let id = self::change_id(&change_id)?;
    state.with_store(|store| store.dismiss_rejected(id))?;
    Ok(())
}

/// Resolves an open conflict with the value a team lead chose (needs the server).
#[tauri::command]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    resolution: ConflictResolution,
) -> Result<UnsyncedView, CommandError> {
    sync_bridge::resolve_conflict(&state, &resolution).await?;
    state.with_store(|store| sync_bridge::unsynced_view(store))
}

/// Restores the value that lost an auto-resolved (lww) conflict, as an ordinary edit.
#[tauri::command]
pub async fn revert_auto_resolved(
    state: State<'_, AppState>,
    resolution: ConflictResolution,
) -> Result<UnsyncedView, CommandError> {
    state
        .with_store(|store| Ok(sync_bridge::revert_auto_resolved(store, &resolution, now())))??;
    state.sync.local_save();
    state.with_store(|store| sync_bridge::unsynced_view(store))
}

/// The team's laptops with their last sync and a warning when silent too long (team leads;
/// needs the server).
#[tauri::command]
pub async fn team_devices(state: State<'_, AppState>) -> Result<TeamDevicesView, CommandError> {
    sync_bridge::team_devices(&state).await
}

/// The participant report of a period: the server's when it answers, else this laptop's
/// (team leads).
#[tauri::command]
pub async fn participant_report(
    state: State<'_, AppState>,
    request: ReportRequest,
) -> Result<ReportView, CommandError> {
    crate::reports::participant_report(&state, &request).await
}
