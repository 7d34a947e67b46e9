//! Commands over a form's unsaved values, kept in the store while they are typed so that a
//! lock, a closed window or a killed app does not take them (tandem-store `drafts.rs`: one for
//! each user of the laptop, forgotten after 30 days).

use tauri::State;

use super::{now, record_id};
use crate::dto::FormDraftView;
use crate::error::CommandError;
use crate::state::AppState;

/// The signed-in user's draft, if the store keeps one.
#[tauri::command]
pub async fn form_draft(state: State<'_, AppState>) -> Result<Option<FormDraftView>, CommandError> {
    let draft = state.with_store(|store| store.form_draft(now()))?;
    Ok(draft.map(|draft| FormDraftView {
        form: draft.form,
        text: draft.text,
    }))
}

/// Keeps `text` as the signed-in user's draft of `form`, about the client `about`; with no
/// text, forgets that draft. Says whether it was kept (not for a client erased meanwhile).
#[tauri::command]
pub async fn set_form_draft(
    state: State<'_, AppState>,
    form: String,
    about: Option<String>,
    text: Option<String>,
) -> Result<bool, CommandError> {
    let about = about.map(|id| record_id("about", &id)).transpose()?;
    state.with_store(|store| match &text {
        Some(text) => store.set_form_draft(&form, about, text, now()),
        None => store.forget_form_draft(&form).map(|()| false),
    })
}
