//! Commands over a new contact's unsaved values, kept in the store while they are typed so
//! that a lock, a closed window or a killed app does not take them (tandem-store
//! `drafts.rs`). A draft is the signed-in user's: another user's is neither shown nor
//! forgotten here.

use tandem_domain::RecordId;
use tandem_store::{FormDraft, Store, StoreError};
use tauri::State;

use super::record_id;
use crate::dto::FormDraftView;
use crate::error::CommandError;
use crate::state::AppState;

/// The store's name for the signed-in user's `form`.
pub(crate) fn draft_owner(store: &Store, form: &str) -> Result<String, StoreError> {
    let user = store
        .sign_in()?
        .map(|signed_in| signed_in.user_id.to_string());
    Ok(format!("{}:{form}", user.unwrap_or_default()))
}

/// The signed-in user's draft, if the store keeps one.
#[tauri::command]
pub async fn form_draft(state: State<'_, AppState>) -> Result<Option<FormDraftView>, CommandError> {
    state.with_store(|store| {
        let mine = draft_owner(store, "")?;
        Ok(store.form_draft()?.and_then(|draft| {
            let form = draft.owner.strip_prefix(&mine)?.to_owned();
            Some(FormDraftView {
                form,
                text: draft.text,
            })
        }))
    })
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
    let about = about
        .map(|id| record_id("about", &id).map(|id: RecordId| id.to_string()))
        .transpose()?;
    state.with_store(|store| {
        let owner = draft_owner(store, &form)?;
        match text {
            Some(text) => store.set_form_draft(&FormDraft { owner, about, text }),
            None => store.forget_form_draft(&owner).map(|()| false),
        }
    })
}
