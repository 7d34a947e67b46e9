//! Commands of a team lead's duplicate clients: the candidate pairs and recent merges, a
//! merge, its undo, dismissing a pair. Each needs the server.

use tauri::State;

use crate::dto::{DuplicatePairInput, DuplicatesView};
use crate::error::CommandError;
use crate::state::AppState;
use crate::sync_bridge;

/// The team's candidate pairs and recent merges.
#[tauri::command]
pub async fn duplicates(state: State<'_, AppState>) -> Result<DuplicatesView, CommandError> {
    sync_bridge::duplicates(&state).await
}

/// Merges `second_id` into `first_id`; returns the panel as it is after.
#[tauri::command]
pub async fn merge_duplicate(
    state: State<'_, AppState>,
    pair: DuplicatePairInput,
) -> Result<DuplicatesView, CommandError> {
    sync_bridge::merge_duplicate(&state, &pair).await?;
    sync_bridge::duplicates(&state).await
}

/// Undoes a merge; returns the panel as it is after.
#[tauri::command]
pub async fn undo_duplicate_merge(
    state: State<'_, AppState>,
    merge_id: String,
) -> Result<DuplicatesView, CommandError> {
    sync_bridge::undo_duplicate_merge(&state, &merge_id).await?;
    sync_bridge::duplicates(&state).await
}

/// Dismisses a pair as not one person; returns the panel as it is after.
#[tauri::command]
pub async fn dismiss_duplicate(
    state: State<'_, AppState>,
    pair: DuplicatePairInput,
) -> Result<DuplicatesView, CommandError> {
    sync_bridge::dismiss_duplicate(&state, &pair).await?;
    sync_bridge::duplicates(&state).await
}
