//! The device token in the OS keyring, next to the store key (service `tandem`, username
//! `device-token:<data directory>`), and wiping a revoked device: the store key and the token
//! leave the keyring and the store files are deleted.

use std::path::{Path, PathBuf};

use keyring::Entry;
use keyring::secret_service::SsCredential;
use tandem_store::key::retry_if_keyring_daemon_left;
use zeroize::Zeroizing;

use crate::SyncError;

/// The bearer token of this device; not shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(Zeroizing<String>);

impl DeviceToken {
    /// Wraps a token the server issued.
    pub fn new(token: String) -> Self {
        Self(Zeroizing::new(token))
    }

    /// The token text, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

fn canonical(data_dir: &Path) -> PathBuf {
    std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .unwrap_or_else(|_| data_dir.to_owned())
}

fn entry(data_dir: &Path) -> Result<Entry, SyncError> {
    let user = format!("device-token:{}", canonical(data_dir).to_string_lossy());
    let credential = SsCredential::new_with_target(None, tandem_store::key::KEYRING_SERVICE, &user)
        .map_err(|error| SyncError::Keyring {
            action: "reach",
            detail: error.to_string(),
        })?;
    Ok(Entry::new_with_credential(Box::new(credential)))
}

/// Saves the token of the store in `data_dir`.
pub fn save_device_token(data_dir: &Path, token: &DeviceToken) -> Result<(), SyncError> {
    let entry = entry(data_dir)?;
    retry_if_keyring_daemon_left(|| entry.set_password(token.expose())).map_err(|error| {
        SyncError::Keyring {
            action: "save",
            detail: error.to_string(),
        }
    })
}

/// Reads the token of the store in `data_dir`, `None` when there is none.
pub fn load_device_token(data_dir: &Path) -> Result<Option<DeviceToken>, SyncError> {
    let entry = entry(data_dir)?;
    match retry_if_keyring_daemon_left(|| entry.get_password()) {
        Ok(token) => Ok(Some(DeviceToken::new(token))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(SyncError::Keyring {
            action: "read",
            detail: error.to_string(),
        }),
    }
}

/// Removes the token of the store in `data_dir` (absent is fine).
pub fn delete_device_token(data_dir: &Path) -> Result<(), SyncError> {
    let entry = entry(data_dir)?;
    match retry_if_keyring_daemon_left(|| entry.delete_credential()) {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(SyncError::Keyring {
            action: "delete",
            detail: error.to_string(),
        }),
    }
}

/// Wipes a revoked device's data in `data_dir`: first the store key (without it the file is
/// unreadable even if deleting it fails), then the device token, then the store files.
/// The store must be closed.
pub fn wipe_local_data(data_dir: &Path) -> Result<(), SyncError> {
    tandem_store::delete_key(data_dir)?;
    delete_device_token(data_dir)?;
    let store = data_dir.join(tandem_store::STORE_FILE_NAME);
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", store.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(SyncError::Io {
                    action: "delete",
                    path,
                    source,
                });
            }
        }
    }
    Ok(())
}
