//! The one error type that crosses the UI boundary: `{kind, message, field?}`. The UI
//! translates `kind` (and names `field` next to the form control); `message` is the detail a
//! person can expand, never something the UI matches on.

use serde::Serialize;
use tandem_domain::{DomainError, Rule};
use tandem_protocol::RejectCode;
use tandem_store::StoreError;
use ts_rs::TS;

/// What went wrong, in terms the UI has a translated message for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A value broke a field's rule; `field` names the field.
    Validation,
    /// The record does not exist in this store.
    NotFound,
    /// No OS keyring answered, so the encrypted store cannot be opened.
    KeyringUnavailable,
    /// The store exists but cannot be decrypted (key missing, damaged or wrong).
    StoreUnreadable,
    /// The data or the server needs a newer version of Tandem.
    UpdateRequired,
    /// The app is locked; unlock first.
    Locked,
    /// Nobody has signed in on this laptop yet.
    NotSignedIn,
    /// The user name or password was not accepted.
    WrongPassword,
    /// Too many wrong offline passwords: unlocking waits (`SessionState.unlock_wait_secs`).
    LockedOut,
    /// The server could not be reached.
    Offline,
    /// This action needs the server, which could not be reached; nothing was changed.
    NeedsConnection,
    /// Only a team lead may do this.
    NotAllowed,
    /// The conflict was resolved already (perhaps by another team lead).
    ConflictNotOpen,
    /// A form's save found fields changed since it was filled in (a colleague's edit a sync
    /// brought meanwhile): nothing was saved; `field` names the first, `message` all of them.
    ChangedMeanwhile,
    /// The server refused or failed the request.
    Server,
    /// What answers at the server address does not take Tandem's sync requests (a proxy
    /// sending them elsewhere, a wrong URL): syncing waits until IT corrects it; `message`
    /// has the status.
    WrongServerAddress,
    /// This laptop's store belongs to another team, server or user.
    SignInMismatch,
    /// This device was revoked centrally.
    DeviceRevoked,
    /// The server does not know this device's token (a server restored from an older backup,
    /// a damaged keyring entry): syncing stops until the laptop is signed in again.
    DeviceNotRecognised,
    /// The provisioning file IT wrote is invalid; `field` names the key, `message` the file
    /// and the problem.
    InvalidProvisioning,
    /// The disk holding the local store is full: nothing of the write was kept, nothing
    /// saved before was lost.
    DiskFull,
    /// Anything else the local store reported.
    Store,
    /// A file the user chose could not be written; `message` names it and the reason.
    FileNotSaved,
    /// The server has no such record (an erased client, a merge undone elsewhere).
    NotOnServer,
    /// The provisioning file does not turn updates on.
    UpdatesOff,
    /// An update's signature does not verify against the provisioned key (or names another
    /// version than the one offered): it was not installed.
    UpdateUnverified,
    /// Checking for, downloading or installing an update failed; `message` says why.
    UpdateFailed,
}

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct CommandError {
    /// What kind of problem it is (the UI translates it).
    pub kind: ErrorKind,
    /// The detail, in English, for the "details" disclosure and for support.
    pub message: String,
    /// The field at fault, for validation errors.
    pub field: Option<String>,
    /// The rule the field's value broke, for validation errors of a value (the UI says it
    /// in the user's language, `message` in English).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rule: Option<Rule>,
    /// The server's refusal of the field's value, for validation errors the server found
    /// (a conflict's resolution naming a user outside the team, say): the UI says it in the
    /// user's language, `message` holds the server's English words.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason_code: Option<RejectCode>,
}

impl CommandError {
    /// An error of `kind` with a detail message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            rule: None,
            reason_code: None,
        }
    }

    /// A validation error of one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Validation,
            message: message.into(),
            field: Some(field.to_owned()),
            rule: None,
            reason_code: None,
        }
    }
}

impl From<DomainError> for CommandError {
    fn from(error: DomainError) -> Self {
        let field = match &error {
            DomainError::InvalidField { field, .. }
            | DomainError::MissingField { field }
            | DomainError::UnknownField { field, .. } => Some(field.clone()),
            _ => None,
        };
        // The field name is shown by the form next to the control; the detail keeps the
        // reason alone so that it reads well there.
        let message = match &error {
            DomainError::InvalidField { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        Self {
            kind: ErrorKind::Validation,
            rule: error.rule(),
            reason_code: None,
            message,
            field,
        }
    }
}

impl ErrorKind {
    /// The kind of a store error, wherever it was met (a command, or a sync cycle).
    pub fn of_store_error(error: &StoreError) -> Self {
        match error {
            _ if error.is_disk_full() => ErrorKind::DiskFull,
            StoreError::KeyringUnavailable { .. } => ErrorKind::KeyringUnavailable,
            StoreError::KeyMissing { .. }
            | StoreError::KeyDamaged { .. }
            | StoreError::WrongKey { .. } => ErrorKind::StoreUnreadable,
            StoreError::SchemaTooNew { .. } => ErrorKind::UpdateRequired,
            StoreError::RecordNotFound { .. } | StoreError::RejectedChangeNotFound { .. } => {
                ErrorKind::NotFound
            }
            StoreError::SignInMismatch { .. } => ErrorKind::SignInMismatch,
            StoreError::ChangedMeanwhile { .. } => ErrorKind::ChangedMeanwhile,
            _ => ErrorKind::Store,
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        if let StoreError::Invalid(domain) = error {
            return domain.into();
        }
        let field = match &error {
            StoreError::ChangedMeanwhile { fields, .. } => fields.first().cloned(),
            _ => None,
        };
        Self {
            field,
            ..Self::new(ErrorKind::of_store_error(&error), error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tandem_domain::{Entity, ValidationContext, field_spec};

    #[test]
    fn a_validation_error_names_its_field_and_rule_and_keeps_the_reason_as_detail() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let error = field_spec(Entity::Client, "birth_year")
            .unwrap()
            .parse_json(&json!(1850), ValidationContext::new(today))
            .unwrap_err();
        let error = CommandError::from(StoreError::Invalid(error));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({
                "kind": "validation",
                "message": "must be a year from 1900 to 2026 (got 1850)",
                "field": "birth_year",
                "rule": {"rule": "year_range", "min": 1900, "max": 2026},
            })
        );
    }

    #[test]
    fn a_full_disk_reaches_the_ui_as_its_own_kind() {
        let error = CommandError::from(StoreError::DiskFull);
        assert_eq!(error.kind, ErrorKind::DiskFull);
        assert!(
            error.message.contains("Free some disk space"),
            "{}",
            error.message
        );
    }

    #[test]
    fn settings_that_find_no_space_on_the_disk_say_the_disk_is_full() {
        let settings = |kind| {
            CommandError::from(StoreError::Io {
                action: "save the settings to",
                path: "settings.json".into(),
                source: std::io::Error::from(kind),
            })
            .kind
        };
        assert_eq!(
            settings(std::io::ErrorKind::StorageFull),
            ErrorKind::DiskFull
        );
        assert_eq!(
            settings(std::io::ErrorKind::PermissionDenied),
            ErrorKind::Store
        );
    }

    #[test]
    fn a_missing_keyring_reaches_the_ui_as_its_own_kind() {
        let error = CommandError::from(StoreError::KeyringUnavailable {
            detail: "no D-Bus".to_owned(),
        });
        assert_eq!(error.kind, ErrorKind::KeyringUnavailable);
        assert!(error.message.contains("no D-Bus"), "{}", error.message);
        assert_eq!(error.field, None);
    }
}
