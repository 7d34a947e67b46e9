//! The store key: 32 random bytes made on first use and kept in the OS keyring (Secret
//! Service on Linux), one entry per data directory, so that several stores on one machine
//! (tests, a shared laptop) each have their own key. There is no plaintext fallback: without
//! a keyring the store does not open.

use std::fmt;
use std::path::{Path, PathBuf};

use keyring::Entry;
use keyring::secret_service::SsCredential;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::StoreError;

/// The `service` attribute of every store key entry in the keyring.
pub const KEYRING_SERVICE: &str = "tandem";

/// The 32-byte key a store is encrypted with. Its bytes are wiped when it is dropped, and
/// `Debug` does not show them.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// A new random key from rand's thread-local CSPRNG (ChaCha, seeded and reseeded from
    /// the operating system's random source).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A key from raw bytes (tests, or a key restored by other means).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the hex form kept in the keyring.
    fn from_hex(text: &str) -> Result<Self, String> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes)
            .map_err(|error| format!("expected 64 hexadecimal digits ({error})"))?;
        Ok(Self(bytes))
    }

    /// The 64 lowercase hex digits of the key, wiped when dropped.
    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// The absolute, canonical form of a data directory, which names its key in the keyring.
/// A directory that no longer exists (wiping after removal) is made absolute only.
pub(crate) fn canonical_data_dir(data_dir: &Path) -> Result<PathBuf, StoreError> {
    std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .map_err(|source| StoreError::Io {
            action: "resolve the data directory",
            path: data_dir.to_owned(),
            source,
        })
}

/// The `username` attribute of the keyring entry holding the key of the store in `data_dir`:
/// `store-key:<canonical absolute path>`.
pub fn keyring_user(data_dir: &Path) -> Result<String, StoreError> {
    Ok(format!(
        "store-key:{}",
        canonical_data_dir(data_dir)?.to_string_lossy()
    ))
}

/// The keyring entry of one data directory. The Secret Service backend is chosen
/// explicitly here rather than through keyring's process-wide default.
fn entry(keyring_user: &str) -> Result<Entry, StoreError> {
    let credential = SsCredential::new_with_target(None, KEYRING_SERVICE, keyring_user)
        .map_err(|error| unavailable(&error))?;
    Ok(Entry::new_with_credential(Box::new(credential)))
}

/// Runs one keyring operation, and once more if the Secret Service daemon went away while it
/// held the call ("Message recipient disconnected from message bus without replying").
///
/// gnome-keyring-daemon (42.x in Debian 12, still in 50.x) aborts when any client leaves in
/// the middle of opening a session, failing every other client's call in flight; D-Bus
/// starts a new daemon for the next call. Every operation made through this is safe to
/// repeat: reading an entry, replacing it with the same value, deleting it (a repeated
/// delete finds `NoEntry`, which the callers take for done).
pub fn retry_if_keyring_daemon_left<T>(
    mut operation: impl FnMut() -> keyring::Result<T>,
) -> keyring::Result<T> {
    match operation() {
        Err(error) if daemon_left_during_call(&error) => operation(),
        result => result,
    }
}

/// Whether the D-Bus error behind a keyring error says that the daemon disconnected before
/// it answered (rather than timing out, refusing, or never being there).
fn daemon_left_during_call(error: &keyring::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(dbus_error) = current.downcast_ref::<dbus::Error>() {
            return dbus_error.name() == Some("org.freedesktop.DBus.Error.NoReply")
                && dbus_error
                    .message()
                    .is_some_and(|message| message.contains("disconnected"));
        }
        cause = current.source();
    }
    false
}

fn unavailable(error: &keyring::Error) -> StoreError {
    StoreError::KeyringUnavailable {
        detail: error.to_string(),
    }
}

/// Maps an error of reading or writing an entry: an unreachable or failing keyring is
/// `KeyringUnavailable`, a malformed entry is `KeyDamaged`.
fn keyring_error(error: keyring::Error, keyring_user: &str) -> StoreError {
    match error {
        keyring::Error::BadEncoding(_) | keyring::Error::Ambiguous(_) => StoreError::KeyDamaged {
            keyring_user: keyring_user.to_owned(),
            detail: error.to_string(),
        },
        other => unavailable(&other),
    }
}

/// Reads the key of the store in `data_dir`, or `None` when the keyring has no entry for it.
pub fn load_key(data_dir: &Path) -> Result<Option<StoreKey>, StoreError> {
    let user = keyring_user(data_dir)?;
    load_key_for(&user)
}

fn load_key_for(user: &str) -> Result<Option<StoreKey>, StoreError> {
    let entry = entry(user)?;
    match retry_if_keyring_daemon_left(|| entry.get_password()) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            StoreKey::from_hex(&text)
                .map(Some)
                .map_err(|detail| StoreError::KeyDamaged {
                    keyring_user: user.to_owned(),
                    detail,
                })
        }
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(keyring_error(error, user)),
    }
}

/// The key of the store file `store_file` in `data_dir`: read from the keyring, or made
/// and saved there when neither the key nor the store exists yet. A key without a store is
/// reused (the store is recreated with it); a store without a key is refused with
/// `KeyMissing`, because a new key would orphan its data.
pub(crate) fn load_or_create_key(
    data_dir: &Path,
    store_file: &Path,
) -> Result<StoreKey, StoreError> {
    let user = keyring_user(data_dir)?;
    if let Some(key) = load_key_for(&user)? {
        return Ok(key);
    }
    let store_has_data = std::fs::metadata(store_file)
        .map(|meta| meta.len() > 0)
        .unwrap_or(false);
    if store_has_data {
        return Err(StoreError::KeyMissing {
            path: store_file.to_owned(),
            keyring_user: user,
        });
    }
    let key = StoreKey::generate();
    let entry = entry(&user)?;
    let hex = key.to_hex();
    retry_if_keyring_daemon_left(|| entry.set_password(&hex))
        .map_err(|error| keyring_error(error, &user))?;
    // Read it back, so that a keyring that accepts writes but loses them (a misconfigured
    // session) is caught before any data is encrypted with a key nobody can find again.
    match load_key_for(&user)? {
        Some(stored) if stored == key => Ok(key),
        _ => Err(StoreError::KeyringUnavailable {
            detail: "the keyring accepted the new key but did not return it when read back"
                .to_owned(),
        }),
    }
}

/// Removes the key of the store in `data_dir` from the keyring (wiping a revoked device).
/// Without the key the store file cannot be read any more. Removing a key that does not
/// exist is not an error.
pub fn delete_key(data_dir: &Path) -> Result<(), StoreError> {
    let user = keyring_user(data_dir)?;
    let entry = entry(&user)?;
    match retry_if_keyring_daemon_left(|| entry.delete_credential()) {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(keyring_error(error, &user)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_its_hex_form() {
        let key = StoreKey::generate();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(StoreKey::from_hex(&hex).unwrap(), key);
    }

    #[test]
    fn a_malformed_hex_key_is_rejected() {
        assert!(StoreKey::from_hex("abc").is_err());
        assert!(StoreKey::from_hex(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn debug_output_does_not_show_the_key() {
        let key = StoreKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "StoreKey(<redacted>)");
    }

    #[test]
    fn two_keys_made_in_a_row_differ() {
        assert_ne!(StoreKey::generate(), StoreKey::generate());
    }

    fn dbus_failure(name: &str, message: &str) -> keyring::Error {
        keyring::Error::PlatformFailure(Box::new(dbus::Error::new_custom(name, message)))
    }

    #[test]
    fn only_a_daemon_that_disconnected_during_the_call_is_asked_again() {
        let no_reply = "org.freedesktop.DBus.Error.NoReply";
        assert!(daemon_left_during_call(&dbus_failure(
            no_reply,
            "Message recipient disconnected from message bus without replying"
        )));
        // A daemon that hangs is not asked again: the user would wait twice as long.
        assert!(!daemon_left_during_call(&dbus_failure(
            no_reply,
            "Did not receive a reply. Possible causes include: the remote application did not \
             send a reply, the message bus security policy blocked the reply, the reply timeout \
             expired, or the network connection was broken."
        )));
        assert!(!daemon_left_during_call(&dbus_failure(
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "The name org.freedesktop.secrets was not provided by any .service files"
        )));
        assert!(!daemon_left_during_call(&keyring::Error::NoEntry));
    }

    #[test]
    fn an_operation_is_repeated_once_and_only_when_the_daemon_left() {
        let mut calls = 0;
        let result = retry_if_keyring_daemon_left(|| {
            calls += 1;
            Err::<(), _>(dbus_failure(
                "org.freedesktop.DBus.Error.NoReply",
                "Message recipient disconnected from message bus without replying",
            ))
        });
        assert!(result.is_err());
        assert_eq!(calls, 2);

        let mut calls = 0;
        let result = retry_if_keyring_daemon_left(|| {
            calls += 1;
            Err::<(), _>(keyring::Error::NoEntry)
        });
        assert!(matches!(result, Err(keyring::Error::NoEntry)));
        assert_eq!(calls, 1);
    }

    #[test]
    fn the_keyring_user_names_the_canonical_data_directory() {
        let dir = std::env::temp_dir();
        let user = keyring_user(&dir.join(".")).unwrap();
        let canonical = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(user, format!("store-key:{}", canonical.to_string_lossy()));
    }
}
