//! `AppState`: the one piece of state the Tauri commands share — the opened store (behind a
//! mutex; opened on first use so that a missing keyring is reported to the UI instead of
//! killing the app), the settings, and whether the app is unlocked.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tandem_store::{Store, StoreError};

use crate::error::{CommandError, ErrorKind};
use crate::settings::{Provisioning, UserSettings};
use crate::sync_bridge::SyncRuntime;

/// The store, shared with the background sync.
pub type SharedStore = Arc<Mutex<Option<Store>>>;

/// Everything the commands share.
#[derive(Debug)]
pub struct AppState {
    /// The data directory of the store and the settings.
    pub data_dir: PathBuf,
    /// What IT provisioned.
    pub provisioning: Provisioning,
    /// The user's settings.
    pub settings: Mutex<UserSettings>,
    /// What the shell knows about syncing beyond the store.
    pub sync: SyncRuntime,
    store: SharedStore,
    unlocked: Mutex<bool>,
}

impl AppState {
    /// State over a data directory; the store is opened on first use.
    pub fn new(data_dir: PathBuf, provisioning: Provisioning, settings: UserSettings) -> Self {
        Self {
            data_dir,
            provisioning,
            settings: Mutex::new(settings),
            sync: SyncRuntime::default(),
            store: Arc::new(Mutex::new(None)),
            unlocked: Mutex::new(false),
        }
    }

    /// The store handle for the background sync.
    pub fn shared_store(&self) -> SharedStore {
        Arc::clone(&self.store)
    }

    /// Runs `f` on the store whether or not the app is unlocked (sign-in, unlock, status).
    pub fn with_store_unlocked_or_not<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, CommandError> {
        let mut guard = lock(&self.store);
        if guard.is_none() {
            *guard = Some(Store::open(&self.data_dir)?);
        }
        let store = guard.as_mut().expect("opened above");
        Ok(f(store)?)
    }

    /// Runs `f` on the store; refused while the app is locked.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, CommandError> {
        if !self.is_unlocked() {
            return Err(CommandError::new(
                ErrorKind::Locked,
                "Tandem is locked; unlock it with your password",
            ));
        }
        self.with_store_unlocked_or_not(f)
    }

    /// Closes the store (a revoked device is about to be wiped).
    pub fn close_store(&self) {
        *lock(&self.store) = None;
    }

    /// Whether the app is unlocked.
    pub fn is_unlocked(&self) -> bool {
        *lock(&self.unlocked)
    }

    /// Locks or unlocks the app.
    pub fn set_unlocked(&self, unlocked: bool) {
        *lock(&self.unlocked) = unlocked;
    }
}

/// Takes a mutex even if a panicking command poisoned it: the store's own transactions keep
/// its data consistent, so the value behind the lock is still good.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_app_refuses_store_commands_without_touching_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("never-opened");
        let state = AppState::new(
            data_dir.clone(),
            Provisioning::default(),
            UserSettings::default(),
        );
        let error = state.with_store(|store| store.pending_count()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Locked);
        assert!(
            !data_dir.exists(),
            "a locked app must not open or create the store"
        );
    }
}
