//! Closing the window while a form holds unsaved changes keeps them first. The UI says when a
//! form holds changes or a save runs (`hold_close`) and listens for close requests
//! (`watch_close_requests`); while it holds them, a close request (the window's close button,
//! Alt+F4, the desktop's "Close") is held here and sent to the UI, which says it heard it
//! (`close_request_heard`), keeps the form's values as a draft (or asks "Leave without
//! saving?" when they cannot be kept) and then closes the window itself (`close_window`).
//! Otherwise the window closes at once, as it would without Tauri. A UI that cannot answer
//! never keeps the window open: a page loading afresh forgets the hold, and once a request
//! sent to the UI has gone unheard for [`UI_PATIENCE`] (its web process crashed or hangs), the
//! next request closes the window.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tauri::ipc::Channel;
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Builder, Manager, RunEvent, Runtime, WindowEvent};

use crate::state::lock;

/// How long the UI has to say it heard a close request before the next one closes the window.
pub const UI_PATIENCE: Duration = Duration::from_secs(3);

/// Whether close requests are held, and where they are sent.
pub struct CloseGuard {
    held: AtomicBool,
    watcher: Mutex<Option<Channel<()>>>,
    /// Since when a request sent to the UI has gone unheard.
    unheard_since: Mutex<Option<Instant>>,
    patience: Duration,
}

impl Default for CloseGuard {
    fn default() -> Self {
        Self::with_patience(UI_PATIENCE)
    }
}

impl std::fmt::Debug for CloseGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloseGuard")
            .field("held", &self.held)
            .field("watched", &lock(&self.watcher).is_some())
            .field("unheard_since", &lock(&self.unheard_since))
            .finish()
    }
}

impl CloseGuard {
    /// A guard that lets a request through once an earlier one went unheard for `patience`.
    pub fn with_patience(patience: Duration) -> Self {
        Self {
            held: AtomicBool::new(false),
            watcher: Mutex::new(None),
            unheard_since: Mutex::new(None),
            patience,
        }
    }

    /// Holds close requests while `hold` (the UI holds unsaved changes).
    pub fn hold(&self, hold: bool) {
        self.held.store(hold, Ordering::SeqCst);
    }

    /// Sends close requests to `channel` from now on.
    pub fn watch(&self, channel: Channel<()>) {
        *lock(&self.watcher) = Some(channel);
    }

    /// The UI heard the close requests sent to it.
    pub fn heard(&self) {
        *lock(&self.unheard_since) = None;
    }

    /// A close was requested: says whether to keep the window open, which it does only while
    /// the UI holds changes, is sent the request, and answered the requests sent before.
    pub fn intercept(&self) -> bool {
        if !self.held.load(Ordering::SeqCst) {
            return false;
        }
        let mut unheard = lock(&self.unheard_since);
        if unheard.is_some_and(|since| since.elapsed() >= self.patience) {
            return false;
        }
        let sent = lock(&self.watcher)
            .as_ref()
            .is_some_and(|channel| channel.send(()).is_ok());
        if sent && unheard.is_none() {
            *unheard = Some(Instant::now());
        }
        sent
    }

    /// The page loads afresh: the UI that held changes or listened is gone.
    fn forget_ui(&self) {
        self.hold(false);
        *lock(&self.watcher) = None;
        self.heard();
    }
}

/// Adds the guard to the app: its state, and forgetting the UI when its page loads afresh.
/// (The builder keeps one page-load handler: another one set after this replaces it.)
pub fn install<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .manage(CloseGuard::default())
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Started {
                webview.state::<CloseGuard>().forget_ui();
            }
        })
}

/// The app's event handler (`App::run`): keeps a window open on a close request the UI holds.
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::WindowEvent {
        event: WindowEvent::CloseRequested { api, .. },
        ..
    } = event
        && app.state::<CloseGuard>().intercept()
    {
        api.prevent_close();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
    use tauri::{WebviewUrl, WebviewWindowBuilder};

    use super::*;
    use crate::commands::window::{close_window, hold_close, watch_close_requests};

    /// An app on Tauri's mock runtime with the guard and a main window.
    fn app_with_window() -> tauri::App<MockRuntime> {
        let app = install(mock_builder())
            .build(mock_context(noop_assets()))
            .unwrap();
        WebviewWindowBuilder::new(&app, "main", WebviewUrl::default())
            .build()
            .unwrap();
        app
    }

    /// A channel as the UI's: each request it receives is sent to the returned receiver.
    fn ui_channel() -> (Channel<()>, mpsc::Receiver<()>) {
        let (sender, requests) = mpsc::channel();
        let channel = Channel::new(move |_body| {
            let _ = sender.send(());
            Ok(())
        });
        (channel, requests)
    }

    /// Runs the app; once it runs, requests its window's close from another thread, as the
    /// desktop does, then runs `then` on that thread. Returns when the app has quit.
    fn run_and_request_close(
        app: tauri::App<MockRuntime>,
        then: impl FnOnce(AppHandle<MockRuntime>) + Send + 'static,
    ) {
        let mut then = Some(then);
        app.run_return(move |handle, event| {
            if matches!(event, RunEvent::Ready)
                && let Some(then) = then.take()
            {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    main_window(&handle).close().unwrap();
                    then(handle);
                });
            }
            on_run_event(handle, event);
        });
    }

    fn main_window(app: &AppHandle<MockRuntime>) -> tauri::WebviewWindow<MockRuntime> {
        app.get_webview_window("main").unwrap()
    }

    /// Whether the app still runs after what was asked of it before: a task queued behind it
    /// runs only if the app's loop did not end.
    fn still_runs(app: &AppHandle<MockRuntime>) -> bool {
        let (ran, done) = mpsc::channel();
        let queued = app.run_on_main_thread(move || {
            let _ = ran.send(());
        });
        queued.is_ok() && done.recv_timeout(Duration::from_secs(10)).is_ok()
    }

    /// Runs the app, requests a close, and says whether the app went on running (the window
    /// is then destroyed, so that the test ends) and whether the UI was told.
    fn close_request(app: tauri::App<MockRuntime>, told: mpsc::Receiver<()>) -> (bool, bool) {
        let (outcome, outcomes) = mpsc::channel();
        run_and_request_close(app, move |handle| {
            let running = still_runs(&handle);
            if running {
                let _ = main_window(&handle).destroy();
            }
            outcome.send(running).unwrap();
        });
        (outcomes.recv().unwrap(), told.try_recv().is_ok())
    }

    #[test]
    fn a_close_closes_the_window_unless_the_ui_holds_changes() {
        // Not held: closed at once, though the UI listens.
        let app = app_with_window();
        let (channel, told) = ui_channel();
        watch_close_requests(app.state(), channel);
        assert_eq!(close_request(app, told), (false, false));

        // Held, but nobody listens (the UI never said where): closed at once.
        let app = app_with_window();
        hold_close(app.state(), true);
        let (still_running, _) = close_request(app, mpsc::channel().1);
        assert!(!still_running);
    }

    #[test]
    fn a_close_while_the_ui_holds_changes_is_sent_to_it_and_the_window_stays_until_it_closes_it() {
        let app = app_with_window();
        let (channel, told) = ui_channel();
        watch_close_requests(app.state(), channel);
        hold_close(app.state(), true);
        let (outcome, outcomes) = mpsc::channel();
        run_and_request_close(app, move |handle| {
            let asked = told.recv_timeout(Duration::from_secs(10)).is_ok();
            outcome.send((asked, still_runs(&handle))).unwrap();
            // The user chose to leave: the UI closes it.
            close_window(main_window(&handle).as_ref().window());
        });
        assert_eq!(outcomes.recv().unwrap(), (true, true));
    }

    #[test]
    fn a_ui_that_no_longer_holds_changes_lets_the_window_close() {
        let app = app_with_window();
        let (channel, told) = ui_channel();
        watch_close_requests(app.state(), channel);
        hold_close(app.state(), true);
        hold_close(app.state(), false);
        assert_eq!(close_request(app, told), (false, false));

        let guard = CloseGuard::default();
        let (channel, _requests) = ui_channel();
        guard.watch(channel);
        guard.hold(true);
        guard.forget_ui();
        assert!(!guard.intercept(), "a page loaded afresh holds nothing");
    }

    #[test]
    fn a_ui_that_does_not_answer_a_close_request_lets_the_next_one_close_the_window() {
        // No patience at all: the next request finds the last one unheard at once.
        let guard = CloseGuard::with_patience(Duration::ZERO);
        let (channel, told) = ui_channel();
        guard.watch(channel);
        guard.hold(true);
        assert!(guard.intercept());
        guard.heard();
        assert!(guard.intercept(), "the UI answered: it is asked again");
        assert!(
            !guard.intercept(),
            "the UI did not answer (its page crashed, or hangs)"
        );
        assert_eq!(told.try_iter().count(), 2);

        // Within its patience, a UI still answering is sent each request.
        let patient = CloseGuard::with_patience(Duration::from_secs(3600));
        let (channel, told) = ui_channel();
        patient.watch(channel);
        patient.hold(true);
        assert!(patient.intercept());
        assert!(patient.intercept());
        assert_eq!(told.try_iter().count(), 2);
    }
}
