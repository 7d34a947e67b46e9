//! Commands over a form's unsaved values, kept in the store while they are typed so that a
//! lock, a closed window or a killed app does not take them (tandem-store `drafts.rs`).

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// The unsaved values kept, as the UI wrote them.
#[tauri::command]
pub async fn form_draft(state: State<'_, AppState>) -> Result<Option<String>, CommandError> {
    state.with_store(|store| store.form_draft())
}

/// Keeps a form's unsaved values in place of any others; none forgets them.
#[tauri::command]
pub async fn set_form_draft(
    state: State<'_, AppState>,
    draft: Option<String>,
) -> Result<(), CommandError> {
    state.with_store(|store| store.set_form_draft(draft.as_deref()))
}
