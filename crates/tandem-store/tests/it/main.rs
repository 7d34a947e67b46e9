//! Integration tests of the store against real SQLCipher files in temporary directories and
//! the real OS keyring. Run them with `scripts/with-keyring cargo test -p tandem-store`
//! (scripts/test does), which provides a private, unlocked gnome-keyring.

mod consent;
mod encryption_outside;
mod keyring_daemon_crash;
mod keyring_unavailable;
mod open;

use std::path::Path;

use tandem_store::{STORE_FILE_NAME, Store, StoreKey, key};

/// A data directory inside a fresh temporary directory, and its keyring entry removed when
/// the test ends.
struct DataDir {
    _temp: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl DataDir {
    fn new() -> Self {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let path = temp.path().join("data");
        Self { _temp: temp, path }
    }

    fn store_file(&self) -> std::path::PathBuf {
        self.path.join(STORE_FILE_NAME)
    }

    fn key(&self) -> Option<StoreKey> {
        key::load_key(&self.path).expect("the keyring answers")
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = tandem_store::delete_key(&self.path);
    }
}

/// Opens the store, with the panic message a developer needs when no keyring is set up.
fn open(dir: &Path) -> Store {
    Store::open(dir).unwrap_or_else(|error| {
        panic!("opening the store failed (run under scripts/with-keyring): {error}")
    })
}
