//! Tandem's local encrypted store: a SQLCipher file per data directory, whose key lives in
//! the OS keyring, with forward-only migrations applied at open.

mod connection;
mod drafts;
mod error;
pub mod key;
mod meta;
mod migrate;
mod pull_session;
mod purge;
mod records;
mod reports;
mod search;
mod sites;
mod status;
mod sync_state;
mod unlock;
mod users;

pub use connection::{ReadSnapshot, STORE_FILE_NAME, Store};
pub use drafts::{DRAFT_KEPT_DAYS, FormDraft, MAX_FORM_DRAFT_BYTES};
pub use error::StoreError;
pub use key::{StoreKey, delete_key};
pub use migrate::SCHEMA_VERSION;
pub use pull_session::PullSession;
pub use purge::PurgedRecord;
pub use records::{DueOrder, EditContext, EditOutcome, FollowUps, FormSave};
pub use search::MAX_SEARCH_RESULTS;
pub use sites::Site;
pub use status::StoreStatus;
pub use sync_state::{
    CLOCK_SKEW_WARNING_MS, CLOSED_CONFLICTS_KEPT, EpochAdoption, FieldState, HistoryRow,
    JOURNAL_RETENTION_DAYS, LocalConflict, MirroredConflict, OutboxChange, PullApplied, PushAck,
    PushApplied, PushOutcome, RejectedChange, ServerEpoch, ServerWrite, SignIn, SyncStatus,
};
pub use unlock::{FIRST_UNLOCK_LOCKOUT, FREE_UNLOCK_ATTEMPTS, MAX_UNLOCK_LOCKOUT, lockout_after};
pub use users::TeamUser;

/// The per-user data directory that the desktop app and the `tandem` command share
/// (`~/.local/share/tandem` on Linux), or `None` when the home directory is unknown.
pub fn default_data_dir() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "tandem").map(|dirs| dirs.data_dir().to_owned())
}
