//! Commands over the window's close requests (`close_guard.rs`): the UI holds them while a
//! form holds unsaved changes, hears of them, and closes the window once it may.

use tauri::ipc::Channel;
use tauri::{Runtime, State, Window};

use crate::close_guard::CloseGuard;

/// Holds close requests (and sends them to the UI) while `hold`.
#[tauri::command]
pub fn hold_close(guard: State<'_, CloseGuard>, hold: bool) {
    guard.hold(hold);
}

/// Sends each close request held to `on_request` from now on.
#[tauri::command]
pub fn watch_close_requests(guard: State<'_, CloseGuard>, on_request: Channel<()>) {
    guard.watch(on_request);
}

/// The UI heard the close requests sent to it (it keeps or asks now).
#[tauri::command]
pub fn close_request_heard(guard: State<'_, CloseGuard>) {
    guard.heard();
}

/// Closes the window: the UI kept or let go of what it held.
#[tauri::command]
pub fn close_window<R: Runtime>(window: Window<R>) {
    // It fails only when the window or the app is gone already.
    let _ = window.destroy();
}
