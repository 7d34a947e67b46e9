//! Commands of the settings screen.

use tauri::{State, WebviewWindow};

use crate::dto::{SettingsInput, SettingsView};
use crate::error::CommandError;
use crate::settings::{UserSettings, apply_to_webview, save_user_settings};
use crate::state::{AppState, lock};

fn view(state: &AppState, settings: &UserSettings) -> Result<SettingsView, CommandError> {
    let provisioning = state.valid_provisioning()?;
    let sign_in = state
        .with_store_unlocked_or_not(|store| store.sign_in())
        .ok()
        .flatten();
    Ok(SettingsView {
        language: settings.language,
        lock_after_minutes: provisioning.lock_after_minutes(),
        server_url: provisioning
            .server_url
            .clone()
            .or_else(|| sign_in.as_ref().map(|s| s.server_url.clone())),
        server_provisioned: provisioning.server_url.is_some(),
        organisation: provisioning
            .organisation
            .clone()
            .or_else(|| sign_in.map(|s| s.team_name)),
        data_dir: state.data_dir.display().to_string(),
    })
}

/// The settings and what IT provisioned; fails with `invalid_provisioning`, naming the key,
/// when the provisioning file is invalid (the UI shows it at start).
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, CommandError> {
    let settings = lock(&state.settings).clone();
    view(&state, &settings)
}

/// Changes the user's settings.
#[tauri::command]
pub async fn set_settings(
    window: WebviewWindow,
    state: State<'_, AppState>,
    input: SettingsInput,
) -> Result<SettingsView, CommandError> {
    let settings = UserSettings {
        language: input.language,
    };
    save_user_settings(&state.data_dir, &settings)?;
    apply_to_webview(&window, settings.language);
    *lock(&state.settings) = settings.clone();
    view(&state, &settings)
}
