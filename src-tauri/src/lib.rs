//! Tandem's desktop shell: the Tauri application around the UI in `ui/`. It holds one
//! [`state::AppState`] (the opened store, settings, lock state), exposes thin commands over
//! tandem-store and tandem-sync, and runs the background sync. Nothing here decides a
//! business rule: the crates do.

pub mod close_guard;
pub mod commands;
pub mod dto;
pub mod error;
pub mod privacy;
pub mod reports;
pub mod settings;
pub mod state;
pub mod sync_bridge;
pub mod typescript;
pub mod updates;
pub mod views;

/// A new store in a temporary directory, with a random key, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, tandem_store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = tandem_store::Store::open_with_key(
        &dir.path().join(tandem_store::STORE_FILE_NAME),
        &tandem_store::StoreKey::generate(),
    )
    .unwrap();
    (dir, store)
}

/// The password of every user of [`test_server`].
#[cfg(test)]
pub(crate) const TEST_PASSWORD: &str = "correct horse battery";

/// A real tandem-server on 127.0.0.1:0 over an in-memory SQLite store, with one team and
/// `users` in it (password [`TEST_PASSWORD`]), for the tests of the commands that need one;
/// its base URL.
#[cfg(test)]
pub(crate) async fn test_server(users: &[(&str, tandem_protocol::Role)]) -> String {
    use std::sync::Arc;
    use tandem_server::auth::PasswordHashing;
    use tandem_server::clock::{Clock, SystemClock as ServerClock};
    use tandem_server::store::{ServerStore, SqliteStore};

    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let hashing = PasswordHashing::fast_insecure_for_tests();
    let now = ServerClock.now();
    store
        .add_team(uuid::Uuid::now_v7(), "privacy", now)
        .await
        .unwrap();
    for (username, role) in users {
        store
            .add_user(
                uuid::Uuid::now_v7(),
                username,
                &hashing.hash(TEST_PASSWORD).unwrap(),
                *role,
                &["privacy".to_owned()],
                now,
            )
            .await
            .unwrap();
    }
    let settings = tandem_server::ServerSettings {
        password_hashing: hashing,
        ..tandem_server::ServerSettings::default()
    };
    let state = tandem_server::AppState::new(
        store as Arc<dyn ServerStore>,
        Arc::new(ServerClock) as Arc<dyn Clock>,
        settings,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tandem_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    base
}

/// A coach's sign-in on a shared laptop of team north, for the crate's tests.
#[cfg(test)]
pub(crate) fn sign_in_as(user: u128, username: &str) -> tandem_store::SignIn {
    tandem_store::SignIn {
        server_url: "http://127.0.0.1:1".to_owned(),
        user_id: uuid::Uuid::from_u128(user),
        username: username.to_owned(),
        role: "coach".to_owned(),
        team_id: uuid::Uuid::from_u128(0x7000),
        team_name: "north".to_owned(),
        device_id: uuid::Uuid::from_u128(0xd1),
        device_name: "shared laptop".to_owned(),
        password_verifier: "$argon2id$x".to_owned(),
    }
}

use std::path::PathBuf;

use tauri::Manager;

use tandem_sync::Provisioning;

use crate::settings::load_user_settings;
use crate::state::{AppState, lock};

/// The data directory: `TANDEM_DATA_DIR` when set (tests, several stores side by side),
/// otherwise the per-user directory shared with the `tandem` command.
fn data_dir() -> PathBuf {
    std::env::var_os("TANDEM_DATA_DIR")
        .map(PathBuf::from)
        .or_else(tandem_store::default_data_dir)
        .unwrap_or_else(|| PathBuf::from(".tandem"))
}

/// Starts the desktop app and blocks until it quits.
// `generate_context!` expands to code that calls `std::process::exit` (Tauri's own exit
// paths); this crate itself never exits, it returns the error to `main`.
#[allow(clippy::disallowed_methods)]
pub fn run() -> tauri::Result<()> {
    let data_dir = data_dir();
    let state = AppState::new(
        data_dir.clone(),
        // `TANDEM_PROVISIONING_FILE` or the system-wide file; an invalid one is shown at
        // start (get_settings fails with its key) and keeps the app from signing in or syncing.
        Provisioning::load_system(),
        load_user_settings(&data_dir),
    );
    close_guard::install(tauri::Builder::default())
        // A second start (a double click while the app is open) focuses the running window
        // instead of opening the same store twice.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        // Save dialogs, opened from Rust only (privacy.rs): no dialog permission for the UI.
        .plugin(tauri_plugin_dialog::init())
        // Updates as the provisioning file allows (updates.rs); tauri.conf.json's
        // plugins.updater only requires signatures bound to the version.
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(state)
        .manage(updates::UpdateRuntime::default())
        .setup(|app| {
            if let Some(window) = app.get_webview_window("main") {
                let language = lock(&app.state::<AppState>().settings).language;
                settings::apply_to_webview(&window, language);
            }
            if app.state::<AppState>().provisioning_error.is_none() {
                sync_bridge::start_background_sync(app.handle().clone());
                updates::start_background_checks(app.handle().clone());
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::session_state,
            commands::session::sign_in,
            commands::session::unlock,
            commands::session::lock,
            commands::clients::search_clients,
            commands::clients::recent_clients,
            commands::clients::get_client,
            commands::clients::create_client,
            commands::clients::edit_client,
            commands::contacts::create_contact,
            commands::contacts::get_contact,
            commands::contacts::edit_contact,
            commands::contacts::delete_contact,
            commands::contacts::restore_contact,
            commands::drafts::form_draft,
            commands::drafts::set_form_draft,
            commands::contacts::follow_ups_due,
            commands::contacts::contacts_logged,
            commands::contacts::complete_follow_up,
            commands::contacts::sites,
            commands::contacts::user_names,
            commands::sync::sync_status,
            commands::sync::watch_sync,
            commands::sync::sync_now,
            commands::sync::unsynced,
            commands::sync::retry_rejected,
            commands::sync::dismiss_rejected,
            commands::sync::resolve_conflict,
            commands::sync::revert_auto_resolved,
            commands::sync::team_devices,
            commands::duplicates::duplicates,
            commands::duplicates::merge_duplicate,
            commands::duplicates::undo_duplicate_merge,
            commands::duplicates::dismiss_duplicate,
            commands::sync::participant_report,
            commands::settings::get_settings,
            commands::settings::set_settings,
            commands::privacy::erase_client,
            commands::privacy::save_client_export,
            commands::privacy::save_report_csv,
            commands::privacy::audit_log,
            commands::updates::update_status,
            commands::updates::watch_updates,
            commands::updates::check_for_update,
            commands::updates::install_update,
            commands::window::hold_close,
            commands::window::watch_close_requests,
            commands::window::close_request_heard,
            commands::window::close_window,
        ])
        .build(tauri::generate_context!())?
        .run(close_guard::on_run_event);
    Ok(())
}
