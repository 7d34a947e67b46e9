//! The one error type of the store, with messages a user or an IT person can act on.

use std::path::PathBuf;

/// What can go wrong when opening or using the local store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No OS keyring (Secret Service) answered, so the store key can be neither read nor
    /// made. The store never falls back to an unencrypted file.
    #[error(
        "Tandem keeps its encryption key in the OS keyring (Secret Service). None is reachable: \
         {detail}. On a desktop, log in to a session with GNOME Keyring or KWallet; on a headless \
         machine run inside `dbus-run-session` with gnome-keyring-daemon unlocked (see README)."
    )]
    KeyringUnavailable {
        /// What the keyring library reported.
        detail: String,
    },

    /// The store file exists but the keyring holds no key for it. A new key would make the
    /// existing data unreadable for good, so the store refuses to open instead.
    #[error(
        "The local store {path} exists, but its encryption key is missing from the OS keyring \
         (service \"tandem\", username \"{keyring_user}\"). Tandem will not make a new key, because \
         that would leave the existing data unreadable. Open the store as the user (and in the \
         keyring session) that created it; if the key is lost for good, move the data directory \
         away and sign in again to download your team's data from the server."
    )]
    KeyMissing {
        /// The store file.
        path: PathBuf,
        /// The username attribute of the keyring entry that was looked up.
        keyring_user: String,
    },

    /// The keyring entry exists but does not hold a key Tandem wrote.
    #[error(
        "The OS keyring entry for the store key (service \"tandem\", username \"{keyring_user}\") \
         does not hold a valid key: {detail}. Do not delete it if the store holds data that has \
         not reached the server; ask IT to inspect it."
    )]
    KeyDamaged {
        /// The username attribute of the keyring entry.
        keyring_user: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The key does not decrypt the store file (or the file is not a Tandem store).
    #[error(
        "The local store {path} cannot be decrypted with the key from the OS keyring (\"file is \
         not a database\"). The file was written with another key or is not a Tandem store; \
         it has not been changed."
    )]
    WrongKey {
        /// The store file.
        path: PathBuf,
    },

    /// The store was written by a newer version of Tandem.
    #[error(
        "This data was written by a newer version of Tandem (schema {found}; this version knows \
         up to {supported}): update Tandem."
    )]
    SchemaTooNew {
        /// The newest schema version applied to the store.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },

    /// This build's SQLite has no encryption; opening a store with it would write plaintext.
    #[error(
        "This build of Tandem is not linked with SQLCipher (PRAGMA cipher_version is empty), so \
         it cannot encrypt the local store. Rebuild with rusqlite's SQLCipher feature."
    )]
    EncryptionUnavailable,

    /// A schema migration failed; the store is left at the previous schema version.
    #[error(
        "Upgrading the local store to schema {version} ({name}) failed: {source}. The store is \
         unchanged at the previous schema version."
    )]
    MigrationFailed {
        /// The version of the migration that failed.
        version: u32,
        /// Its name.
        name: &'static str,
        /// What SQLite reported.
        source: rusqlite::Error,
    },

    /// A file system operation on the data directory failed.
    #[error("Tandem could not {action} {path}: {source}.")]
    Io {
        /// What was being done, e.g. "create the data directory".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A value, field or id broke a rule of the domain; the message names the field.
    #[error(transparent)]
    Invalid(#[from] tandem_domain::DomainError),

    /// No record with that id is in this store.
    #[error("no {entity} {id} in this store")]
    RecordNotFound {
        /// Client or contact.
        entity: tandem_domain::Entity,
        /// The id looked for.
        id: tandem_domain::RecordId,
    },

    /// A form's save found fields changed since the form was filled in (a colleague's edit a
    /// sync brought meanwhile): nothing was written, so that it is not written over unseen.
    #[error(
        "{} of {entity} {id} changed since the form was opened (an edit a sync brought \
         meanwhile); nothing was saved: look at the new value and save again",
        fields.join(", ")
    )]
    ChangedMeanwhile {
        /// Client or contact.
        entity: tandem_domain::Entity,
        /// The record.
        id: tandem_domain::RecordId,
        /// The fields whose value is no longer the one the form showed.
        fields: Vec<String>,
    },

    /// A form's unsaved values are longer than the store keeps.
    #[error("the unsaved form is {bytes} bytes, more than the {max} kept")]
    DraftTooLarge {
        /// Its length.
        bytes: usize,
        /// The longest kept.
        max: usize,
    },

    /// No refused change with that id is in the rejected list.
    #[error("no rejected change {change_id} in this store (see `tandem rejected list`)")]
    RejectedChangeNotFound {
        /// The change id looked for.
        change_id: uuid::Uuid,
    },

    /// A refused change that sending again cannot make right: its record was erased on the
    /// server, and without its link the change would make a record of no one there.
    #[error(
        "change {change_id} was refused because its record was erased on the server; it \
         cannot be sent again: dismiss it (`tandem rejected dismiss {change_id}`)"
    )]
    RefusalIsFinal {
        /// The refused change.
        change_id: uuid::Uuid,
        /// The server's code of the refusal.
        reason_code: String,
    },

    /// A sign-in that does not fit the data already in this store.
    #[error("Cannot sign in on this store: {detail}.")]
    SignInMismatch {
        /// What does not fit, and what to do.
        detail: String,
    },

    /// A stored value the participant report cannot read.
    #[error("The local store holds a value the report cannot read: {0}.")]
    ReportData(#[from] tandem_reports::ReportError),

    /// The disk holding the store is full: a write needed space (`SQLITE_FULL`), or opening
    /// the store could not make its shared-memory file (`SQLITE_IOERR_SHMSIZE`, the only
    /// file SQLite must grow before it can read a WAL store). The transaction that hit it
    /// was rolled back: nothing of that write was kept, and nothing saved before was lost.
    #[error(
        "The disk holding Tandem's local store is full: nothing more can be written, and \
         everything saved before is intact. Free some disk space and try again."
    )]
    DiskFull,

    /// Any other SQLite error.
    #[error("The local store reported an error: {0}.")]
    Database(rusqlite::Error),
}

impl StoreError {
    /// Whether the disk ran out of space: SQLite's full disk, or a file of the data
    /// directory that Tandem writes itself (ENOSPC).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull => true,
            StoreError::MigrationFailed { source, .. } => sqlite_disk_full(source),
            StoreError::Io { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    /// A stable machine name of the error, for scripts (the CLI's `--json` errors).
    pub fn kind(&self) -> &'static str {
        match self {
            _ if self.is_disk_full() => "disk_full",
            StoreError::KeyringUnavailable { .. } => "keyring_unavailable",
            StoreError::KeyMissing { .. } => "key_missing",
            StoreError::KeyDamaged { .. } => "key_damaged",
            StoreError::WrongKey { .. } => "wrong_key",
            StoreError::SchemaTooNew { .. } => "schema_too_new",
            StoreError::EncryptionUnavailable => "encryption_unavailable",
            StoreError::MigrationFailed { .. } => "migration_failed",
            StoreError::Io { .. } => "io",
            StoreError::Invalid(_) => "invalid",
            StoreError::RecordNotFound { .. } => "record_not_found",
            StoreError::RejectedChangeNotFound { .. } => "rejected_change_not_found",
            StoreError::RefusalIsFinal { .. } => "refusal_is_final",
            StoreError::DraftTooLarge { .. } => "draft_too_large",
            StoreError::ChangedMeanwhile { .. } => "changed_meanwhile",
            StoreError::SignInMismatch { .. } => "sign_in_mismatch",
            StoreError::ReportData(_) => "report_data",
            StoreError::DiskFull => "disk_full",
            StoreError::Database(_) => "store",
        }
    }
}

/// Whether SQLite ran out of disk: `SQLITE_FULL`, or `SQLITE_IOERR_SHMSIZE` (opening a WAL
/// store could not grow its `-shm` file). The server reads these two codes the same way
/// (`tandem_server::ServerError`).
fn sqlite_disk_full(error: &rusqlite::Error) -> bool {
    let shm_not_grown = matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE);
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) || shm_not_grown
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if sqlite_disk_full(&error) {
            Self::DiskFull
        } else {
            Self::Database(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlites_full_disk_codes_are_a_full_disk_and_other_failures_stay_database_errors() {
        let failure = |code: i32| {
            StoreError::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_FULL),
            StoreError::DiskFull
        ));
        assert!(matches!(
            failure(rusqlite::ffi::SQLITE_IOERR_SHMSIZE),
            StoreError::DiskFull
        ));
        let other = failure(rusqlite::ffi::SQLITE_IOERR_WRITE);
        assert!(matches!(other, StoreError::Database(_)), "{other:?}");
        assert_eq!(other.kind(), "store");
        assert_eq!(StoreError::DiskFull.kind(), "disk_full");
    }

    #[test]
    fn an_upgrade_stopped_by_a_full_disk_is_a_full_disk_and_says_the_store_is_unchanged() {
        let stopped = |code: i32| StoreError::MigrationFailed {
            version: 8,
            name: "open_follow_ups",
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        };
        let full = stopped(rusqlite::ffi::SQLITE_FULL);
        assert!(full.is_disk_full());
        assert_eq!(full.kind(), "disk_full");
        assert!(full.to_string().contains("unchanged"), "{full}");
        let other = stopped(rusqlite::ffi::SQLITE_CONSTRAINT);
        assert!(!other.is_disk_full());
        assert_eq!(other.kind(), "migration_failed");
    }

    #[test]
    fn a_file_of_the_data_directory_that_finds_no_space_is_a_full_disk_too() {
        let io = |kind| StoreError::Io {
            action: "write",
            path: "tandem.open.lock".into(),
            source: std::io::Error::from(kind),
        };
        let full = io(std::io::ErrorKind::StorageFull);
        assert!(full.is_disk_full());
        assert_eq!(full.kind(), "disk_full");
        let denied = io(std::io::ErrorKind::PermissionDenied);
        assert!(!denied.is_disk_full());
        assert_eq!(denied.kind(), "io");
    }
}
