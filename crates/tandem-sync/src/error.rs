//! The one error type of the sync engine, named for what happened, not for the library that
//! noticed it.

use std::path::PathBuf;

/// Why a sync (or sign-in) did not complete. Nothing is lost in any of these cases: the
/// outbox keeps every unacknowledged change, and every stored answer is durable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The server could not be reached, or the connection broke or timed out. The next
    /// cycle retries; at most one batch is redone.
    #[error(
        "The server {server} cannot be reached ({detail}); your changes are kept and will be sent later."
    )]
    Offline {
        /// The server's base URL.
        server: String,
        /// What the network layer reported.
        detail: String,
    },

    /// The server revoked this device (a lost or retired laptop). The local data is wiped.
    #[error(
        "This device was revoked by an administrator: its local data is being removed from this laptop. Ask IT or your team lead if this is a mistake."
    )]
    DeviceRevoked,

    /// The server no longer accepts this version of Tandem. The outbox is kept.
    #[error(
        "Update required: the server no longer accepts this version of Tandem ({message}). Your unsent changes are kept and will be sent after the update."
    )]
    UpdateRequired {
        /// The server's sentence.
        message: String,
    },

    /// The device token is missing or unknown to the server.
    #[error(
        "The server does not recognise this device ({message}); sign in again with `tandem login`."
    )]
    Unauthorized {
        /// The server's sentence.
        message: String,
    },

    /// Wrong username or password.
    #[error("Wrong username or password.")]
    InvalidCredentials,

    /// Too many failed sign-ins.
    #[error("Too many failed sign-ins; try again in {retry_after_secs} seconds.")]
    RateLimited {
        /// What the server's `Retry-After` said.
        retry_after_secs: u64,
    },

    /// The role or team does not allow this.
    #[error("The server refused this: {message}")]
    Forbidden {
        /// The server's sentence.
        message: String,
    },

    /// The changes of one record, which always travel together, are larger than the server
    /// accepts.
    #[error(
        "The changes of one record are larger than the server accepts ({message}); they stay in the outbox until the server's body limit is raised."
    )]
    PayloadTooLarge {
        /// The server's sentence.
        message: String,
    },

    /// The server answered with an error status. Only a timeout (408), "too early" (425),
    /// "too many requests" (429) and a server error (5xx) are tried again on a timer
    /// ([`status_is_transient`]); any other answers the same until someone changes something.
    #[error(
        "The server answered {status} ({code}: {message}){}",
        if status_is_transient(*status) {
            "; your changes are kept and will be sent later."
        } else {
            "; trying again will not change that. Your changes are kept on this laptop."
        }
    )]
    Server {
        /// The HTTP status.
        status: u16,
        /// The machine code, if the body had one.
        code: String,
        /// The server's sentence, or what the body held.
        message: String,
        /// What the server's `Retry-After` said (a 503 `storage_full` says 60).
        retry_after_secs: Option<u64>,
        /// Which refusal of a value it was, when the body said (a 422 refusing a conflict's
        /// resolution).
        reason_code: Option<tandem_protocol::RejectCode>,
    },

    /// A push or a pull was answered with a status that the server's sync endpoints never
    /// answer (a 404, a 405, a 422: something at the server's address that is not Tandem's
    /// sync endpoint, typically a proxy sending the requests elsewhere, or answering so while
    /// the server behind it restarts, or a server too different from this app). The schedule
    /// retries it at its longest backoff ([`SyncError::is_retried_slowly`]).
    #[error(
        "The server address {server} answers {status} ({code}: {message}) to Tandem's sync requests: check the server URL, or the proxy in front of the server (one may answer so for a moment while the server behind it restarts). Your changes are kept on this laptop."
    )]
    WrongServerAddress {
        /// The server's base URL.
        server: String,
        /// The HTTP status.
        status: u16,
        /// The machine code, if the body had one (`none` otherwise).
        code: String,
        /// The server's sentence, or what the body held.
        message: String,
    },

    /// The server's answer does not follow the protocol (or was cut short).
    #[error("The server's answer could not be used ({detail}); nothing was changed by it.")]
    Protocol {
        /// What was wrong with it.
        detail: String,
    },

    /// The store is not signed in to a server.
    #[error(
        "This store is not signed in: run `tandem login --server URL --username NAME --password-stdin` first."
    )]
    NotSignedIn,

    /// Too many wrong offline passwords in a row: unlocking is refused for a while (the wait
    /// grows with every further wrong password and survives a restart).
    #[error(
        "Too many wrong passwords: try again in {wait_secs} seconds (at {until}). The wait grows with every further wrong password."
    )]
    LockedOut {
        /// Until when unlocking is refused.
        until: chrono::DateTime<chrono::Utc>,
        /// Seconds from the attempt until then.
        wait_secs: u64,
    },

    /// Another process (or task) is syncing this store right now.
    #[error("Another sync of this store is running (lock {path}); this one was not started.")]
    AlreadyRunning {
        /// The lock file.
        path: PathBuf,
    },

    /// The OS keyring failed while reading or writing the device token.
    #[error("The OS keyring could not {action} the device token: {detail}.")]
    Keyring {
        /// What was being done.
        action: &'static str,
        /// What the keyring reported.
        detail: String,
    },

    /// A file operation (the lock, wiping) failed.
    #[error("Tandem could not {action} {path}: {source}.")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The server address is not a usable http(s) URL.
    #[error("The server address {url:?} is not an http:// or https:// URL.")]
    InvalidServerUrl {
        /// What was given.
        url: String,
    },

    /// No conflict with this id is known to this device (or the server does not show it).
    #[error("No conflict {id} is known here; sync to see the team's conflicts.")]
    UnknownConflict {
        /// The conflict's id.
        id: i64,
    },

    /// The conflict was resolved already (perhaps by another team lead), or settled by a later
    /// edit of its field.
    #[error(
        "Conflict {id} is no longer open: it was resolved already, or a later edit settled it."
    )]
    ConflictNotOpen {
        /// The conflict's id.
        id: i64,
    },

    /// A pick beyond the values of the conflict.
    #[error("Conflict {id} has {count} value(s); there is no value {pick} to choose.")]
    NoSuchConflictValue {
        /// The conflict's id.
        id: i64,
        /// The value asked for, counted from 1.
        pick: usize,
        /// How many values there are.
        count: usize,
    },

    /// The value chosen for a conflict is not valid for its field. Said with the server's
    /// refusal code in brackets when the server refused it (as `tandem rejected list` does).
    #[error("{message}{}", reason_code.map(|code| format!(" [{}]", code.as_str())).unwrap_or_default())]
    InvalidResolution {
        /// The field.
        field: String,
        /// What is wrong, naming the field.
        message: String,
        /// The field's rule the value broke, when this laptop's validation found it.
        rule: Option<tandem_domain::Rule>,
        /// The server's refusal, when the server refused the value (a rule this laptop does
        /// not check: the team's users, the client's lawful basis, or a newer server's).
        reason_code: Option<tandem_protocol::RejectCode>,
    },

    /// The provisioning file IT wrote is unreadable or has a wrong key or value.
    #[error(
        "The provisioning file {} is invalid{}: {problem}. Ask IT to correct it.",
        .path.display(),
        .key.as_ref().map(|key| format!(": key `{key}`")).unwrap_or_default()
    )]
    InvalidProvisioning {
        /// The file.
        path: PathBuf,
        /// The key at fault (`updates.endpoint` inside the `[updates]` table), if one is.
        key: Option<String>,
        /// What is wrong with it.
        problem: String,
    },

    /// A sign-in named another server than the one IT provisioned.
    #[error(
        "The server is set by IT to {provisioned} (server_url in {}) and cannot be changed here.",
        .file.display()
    )]
    ProvisionedServer {
        /// The provisioned server.
        provisioned: String,
        /// The provisioning file.
        file: PathBuf,
    },

    /// The local store failed.
    #[error(transparent)]
    Store(#[from] tandem_store::StoreError),
}

/// Whether an HTTP error status may turn into success without anyone doing anything: a
/// timeout (408), "too early" (425), "too many requests" (429) or a server error (5xx,
/// `storage_full` and `unavailable` among them). Any other 4xx answers the same request the
/// same way until the server, a proxy or this app is changed.
pub(crate) fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..=599).contains(&status)
}

impl SyncError {
    /// Whether trying again later may succeed without anyone doing anything (the scheduler
    /// backs off and retries these; the others wait for a person). A full disk is: the user
    /// or a cleanup frees space without telling Tandem.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Server { status, .. } => status_is_transient(*status),
            SyncError::Offline { .. }
            | SyncError::Protocol { .. }
            | SyncError::RateLimited { .. }
            | SyncError::AlreadyRunning { .. } => true,
            _ => self.is_disk_full(),
        }
    }

    /// Whether the sync schedule retries this at its longest backoff instead of waiting for a
    /// person, who is still told (`schedule::CycleOutcome::SlowRetry`): a push or a pull
    /// answered 404, 405, 422 is what a reverse proxy answers for a moment while the server
    /// behind it restarts, as well as a wrong address, and a record too large to send still
    /// lets the cycle pull erasures and colleagues' writes.
    pub fn is_retried_slowly(&self) -> bool {
        matches!(
            self,
            SyncError::WrongServerAddress { .. } | SyncError::PayloadTooLarge { .. }
        )
    }

    /// Whether a sync cycle whose push failed with this error still pulls: the server
    /// answered, and its answer is about the pushed changes, not about this device or app.
    /// So a record over the body limit, a server whose disk is full (503 `storage_full`: it
    /// still reads) or an unusable answer to the push do not hold back erasures and
    /// colleagues' writes. A revoked or unknown device, an update required, an unreachable
    /// server (the pull would wait for the same timeout), a rate limit (the server asked to
    /// be left alone) and this laptop's own trouble (its store, its disk) end the cycle.
    pub fn still_pulls_after_push(&self) -> bool {
        matches!(
            self,
            SyncError::Server { .. }
                | SyncError::WrongServerAddress { .. }
                | SyncError::PayloadTooLarge { .. }
                | SyncError::Protocol { .. }
                | SyncError::Forbidden { .. }
        ) && !self.is_disk_full()
    }

    /// How long the server asked to be left alone (its `Retry-After`): the sync schedule
    /// waits at least this long before it retries.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SyncError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            SyncError::Server {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
        .map(std::time::Duration::from_secs)
    }

    /// Whether the laptop's disk ran out of space: in the store, or writing the sync lock or
    /// the device token.
    pub fn is_disk_full(&self) -> bool {
        match self {
            SyncError::Store(store) => store.is_disk_full(),
            SyncError::Io { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }

    /// A stable machine name for the UI (`{kind, message}`) and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            _ if self.is_disk_full() => "disk_full",
            SyncError::Offline { .. } => "offline",
            SyncError::DeviceRevoked => "device_revoked",
            SyncError::UpdateRequired { .. } => "update_required",
            SyncError::Unauthorized { .. } => "unauthorized",
            SyncError::InvalidCredentials => "invalid_credentials",
            SyncError::RateLimited { .. } => "rate_limited",
            SyncError::Forbidden { .. } => "forbidden",
            SyncError::PayloadTooLarge { .. } => "payload_too_large",
            SyncError::Server { .. } => "server",
            SyncError::WrongServerAddress { .. } => "wrong_server_address",
            SyncError::Protocol { .. } => "protocol",
            SyncError::NotSignedIn => "not_signed_in",
            SyncError::LockedOut { .. } => "locked_out",
            SyncError::AlreadyRunning { .. } => "already_running",
            SyncError::Keyring { .. } => "keyring",
            SyncError::Io { .. } => "io",
            SyncError::InvalidServerUrl { .. } => "invalid_server_url",
            SyncError::UnknownConflict { .. } => "unknown_conflict",
            SyncError::ConflictNotOpen { .. } => "conflict_not_open",
            SyncError::NoSuchConflictValue { .. } => "no_such_conflict_value",
            SyncError::InvalidResolution { .. } => "invalid_resolution",
            SyncError::InvalidProvisioning { .. } => "invalid_provisioning",
            SyncError::ProvisionedServer { .. } => "provisioned_server",
            SyncError::Store(store) => store.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16) -> SyncError {
        SyncError::Server {
            status,
            code: "none".to_owned(),
            message: "Not Found".to_owned(),
            retry_after_secs: None,
            reason_code: None,
        }
    }

    #[test]
    fn only_a_timeout_too_early_too_many_requests_and_server_errors_are_retried_on_a_timer() {
        for status in [408, 425, 429, 500, 502, 503, 504, 599] {
            assert!(answered(status).is_transient(), "{status}");
            assert!(
                answered(status).to_string().contains("will be sent later"),
                "{status}"
            );
        }
        // A proxy that sends the requests elsewhere answers the same until someone changes
        // it: retrying on a timer for ever and saying "sent later" would hide it.
        for status in [400, 404, 405, 409, 410, 418, 422, 451] {
            assert!(!answered(status).is_transient(), "{status}");
            assert!(
                !answered(status).to_string().contains("will be sent later"),
                "{status}"
            );
        }
    }

    #[test]
    fn a_full_disk_is_retried_by_the_timer_and_named_as_such() {
        let full = SyncError::Store(tandem_store::StoreError::DiskFull);
        assert!(full.is_transient(), "freeing space fixes it without Tandem");
        assert_eq!(full.kind(), "disk_full");
        let lock = SyncError::Io {
            action: "create the sync lock",
            path: "tandem.sync.lock".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert!(lock.is_transient());
        assert_eq!(lock.kind(), "disk_full");
        let other = SyncError::Store(tandem_store::StoreError::EncryptionUnavailable);
        assert!(!other.is_transient());
        assert_eq!(other.kind(), "encryption_unavailable");
    }
}
