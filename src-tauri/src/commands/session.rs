//! Commands of the session: who is signed in, the first (online) sign-in, unlocking offline,
//! and locking after inactivity.

use tauri::State;

use crate::dto::{SessionState, SignInInput, UnlockInput};
use crate::error::{CommandError, ErrorKind};
use crate::state::AppState;
use crate::sync_bridge;

/// Whether someone signed in on this laptop, and whether the app is unlocked.
#[tauri::command]
pub async fn session_state(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let unlocked = state.is_unlocked();
    state.with_store_unlocked_or_not(|store| sync_bridge::session_state(store, unlocked))
}

/// The first sign-in on this laptop (online); unlocks the app.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    input: SignInInput,
) -> Result<SessionState, CommandError> {
    sync_bridge::sign_in_online(&state, &input).await?;
    state.set_unlocked(true);
    state.with_store_unlocked_or_not(|store| sync_bridge::session_state(store, true))
}

/// Unlocks the app with the password of the signed-in user; works offline.
#[tauri::command]
pub async fn unlock(
    state: State<'_, AppState>,
    input: UnlockInput,
) -> Result<SessionState, CommandError> {
    let verified = state.with_store_unlocked_or_not(|store| {
        Ok(sync_bridge::verify_offline(store, &input.password))
    })??;
    if !verified {
        return Err(CommandError::new(
            ErrorKind::WrongPassword,
            "wrong password",
        ));
    }
    state.set_unlocked(true);
    state.with_store_unlocked_or_not(|store| sync_bridge::session_state(store, true))
}

/// Locks the app (after inactivity, or by hand).
#[tauri::command]
pub async fn lock(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    state.set_unlocked(false);
    state.with_store_unlocked_or_not(|store| sync_bridge::session_state(store, false))
}
