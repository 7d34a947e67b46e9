//! Tandem's client sync engine: the laptop side of the protocol in `docs/protocol.md`.
//!
//! - [`planner`] is pure: outbox rows and the cursor in, requests out; answers in, store
//!   changes out. No I/O, no clock.
//! - [`transport`] speaks HTTP/JSON to the server over reqwest (rustls, gzip, timeouts) and
//!   turns every failure into a [`SyncError`] a person can act on.
//! - [`engine`] runs one cycle: push the outbox in batches, then pull pages until the server
//!   has nothing more, storing each answer in one store transaction.
//! - [`schedule`] decides when to run a cycle (connectivity, interval, after a save,
//!   backoff with jitter); [`lock`] keeps two cycles from running on one store at once,
//!   also across processes.
//! - [`credentials`] keeps the device token in the OS keyring and wipes a revoked device;
//!   [`login`] signs a store in.
//! - [`review`] is the team lead's part: resolving a conflict through the server (online
//!   only) and the health of the team's laptops.
//! - [`duplicates`] is the team lead's duplicate clients: candidates, merge, undo, dismiss
//!   (online only).
//! - [`provisioning`] reads the system-wide file IT provisions (server, organisation, CA,
//!   lock timeout, updates), strictly, for the desktop app and the CLI alike.
//!
//! Progress is reported through [`SyncObserver`]: the desktop shell forwards it to the UI,
//! the CLI to a progress bar. The engine never prints.

pub mod credentials;
pub mod duplicates;
pub mod engine;
mod error;
pub mod lock;
pub mod login;
pub mod observer;
pub mod planner;
pub mod privacy;
pub mod provisioning;
pub mod review;
pub mod schedule;
pub mod transport;

pub use credentials::{DeviceToken, wipe_local_data};
pub use engine::{Clock, SyncReport, SystemClock, sync_once};
pub use error::SyncError;
pub use lock::SyncLock;
pub use login::{LoginInput, sign_in, verify_offline};
pub use observer::{NoProgress, PullProgress, SyncObserver, SyncPhase};
pub use provisioning::{OrganisationCa, Provisioning};
pub use review::{ConflictChoice, DeviceHealth, STALE_DEVICE_DAYS};
pub use schedule::{CycleOutcome, SyncPolicy, SyncSchedule, backoff_delay};
pub use transport::{HttpTransport, TransportSettings};

/// This build's version, sent with every push and shown to team leads.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
