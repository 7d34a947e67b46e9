//! `AppState`: the one piece of state the Tauri commands share — the opened store (behind a
//! mutex; opened on first use so that a missing keyring is reported to the UI instead of
//! killing the app), the settings, and whether the app is unlocked.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tandem_store::{Store, StoreError};
use tandem_sync::{Provisioning, SyncError};

use crate::error::{CommandError, ErrorKind};
use crate::settings::UserSettings;
use crate::sync_bridge::SyncRuntime;

/// The store, shared with the background sync.
pub type SharedStore = Arc<Mutex<Option<Store>>>;

/// Everything the commands share.
#[derive(Debug)]
pub struct AppState {
    /// The data directory of the store and the settings.
    pub data_dir: PathBuf,
    /// What IT provisioned (nothing when the file is invalid: see `provisioning_error`).
    pub provisioning: Provisioning,
    /// Why the provisioning file could not be used; the app then shows this at start and
    /// neither signs in nor syncs.
    pub provisioning_error: Option<CommandError>,
    /// The user's settings.
    pub settings: Mutex<UserSettings>,
    /// What the shell knows about syncing beyond the store.
    pub sync: SyncRuntime,
    store: SharedStore,
    unlocked: Mutex<bool>,
}

impl AppState {
    /// State over a data directory; the store is opened on first use.
    pub fn new(
        data_dir: PathBuf,
        provisioning: Result<Provisioning, SyncError>,
        settings: UserSettings,
    ) -> Self {
        let (provisioning, provisioning_error) = match provisioning {
            Ok(provisioning) => (provisioning, None),
            Err(error) => (Provisioning::default(), Some(CommandError::from(error))),
        };
        Self {
            data_dir,
            provisioning,
            provisioning_error,
            settings: Mutex::new(settings),
            sync: SyncRuntime::default(),
            store: Arc::new(Mutex::new(None)),
            unlocked: Mutex::new(false),
        }
    }

    /// What IT provisioned, or the error that names the key at fault in the file.
    pub fn valid_provisioning(&self) -> Result<&Provisioning, CommandError> {
        match &self.provisioning_error {
            Some(error) => Err(error.clone()),
            None => Ok(&self.provisioning),
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

    /// Uses `store` as the store opened (tests: one opened with a key they know).
    #[cfg(test)]
    pub(crate) fn hold_store(&self, store: Store) {
        *lock(&self.store) = Some(store);
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
            Ok(Provisioning::default()),
            UserSettings::default(),
        );
        let error = state.with_store(|store| store.pending_count()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Locked);
        assert!(
            !data_dir.exists(),
            "a locked app must not open or create the store"
        );
    }

    #[test]
    fn an_invalid_provisioning_file_is_kept_as_an_error_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "lock_after_minutes = -1\n").unwrap();
        let state = AppState::new(
            dir.path().join("data"),
            Provisioning::load(&file),
            UserSettings::default(),
        );
        let error = state.valid_provisioning().unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidProvisioning);
        assert_eq!(error.field.as_deref(), Some("lock_after_minutes"));
        assert!(
            error.message.contains(&file.display().to_string()),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("key `lock_after_minutes`"),
            "{}",
            error.message
        );
    }
}
