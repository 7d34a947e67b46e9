//! Tandem's sync protocol: the JSON messages exchanged between a laptop and the central
//! server under `/v1` (DESIGN.md, "Sync protocol"; docs/protocol.md). The JSON names are
//! the contract: renaming a field here breaks every deployed client.
//!
//! Field values travel as `serde_json::Value`; they are validated against the field
//! catalogue of `tandem-domain` by whoever receives them, never here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

mod reports;
pub use reports::{CategoryCount, ParticipantReport};

/// The schema version this build speaks.
pub const SCHEMA_VERSION: u32 = 1;

/// The oldest schema version a server of this build still accepts (current and previous).
pub const MIN_SUPPORTED_SCHEMA_VERSION: u32 = SCHEMA_VERSION.saturating_sub(1);

/// Whether a server of this build accepts pushes written with `schema_version`.
pub const fn is_supported_schema_version(schema_version: u32) -> bool {
    // A range rather than two comparisons: while the previous version is 0 one bound is
    // trivially true, and clippy rightly objects to such comparisons.
    matches!(
        schema_version,
        MIN_SUPPORTED_SCHEMA_VERSION..=SCHEMA_VERSION
    )
}

/// Largest page a pull returns, whatever `limit` asks for.
pub const MAX_PULL_LIMIT: u32 = 1000;

/// Page size of a pull without `limit`.
pub const DEFAULT_PULL_LIMIT: u32 = 500;

/// A user's role (DESIGN.md, "Security and privacy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works with the own team's records.
    Coach,
    /// A coach who also reviews conflicts and sees device health.
    TeamLead,
    /// Manages teams, users and devices; never reads client data.
    Admin,
}

impl Role {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Coach => "coach",
            Role::TeamLead => "team_lead",
            Role::Admin => "admin",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "coach" => Some(Role::Coach),
            "team_lead" => Some(Role::TeamLead),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A team as the server names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamRef {
    /// The team's id.
    pub id: Uuid,
    /// The team's unique name.
    pub name: String,
}

/// A user as the server names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserRef {
    /// The user's id; the `author_id` of every change the user makes.
    pub id: Uuid,
    /// The login name.
    pub username: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The login name.
    pub username: String,
    /// The password, checked against an argon2id hash.
    pub password: String,
    /// A name for the laptop, shown to team leads.
    pub device_name: String,
    /// The team the device works for, when the user belongs to several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// The answer to a successful login: a new device and its bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Who signed in.
    pub user: UserRef,
    /// Their role.
    pub role: Role,
    /// Every team the user belongs to.
    pub teams: Vec<TeamRef>,
    /// The team this device works for (none for an admin without a team).
    pub team: Option<TeamRef>,
    /// The new device's id (the node of its HLCs).
    pub device_id: Uuid,
    /// The bearer token of the device; the server keeps only its SHA-256 hash.
    pub device_token: String,
}

/// One field write made on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeIn {
    /// The change's UUIDv7: the idempotency key of a push.
    pub change_id: Uuid,
    /// `client` or `contact`.
    pub entity: String,
    /// The record's UUIDv7.
    pub record_id: Uuid,
    /// The field's wire name.
    pub field: String,
    /// The new value in its wire form.
    pub value: Value,
    /// The server version of the field the device last saw (0 for a new field).
    pub base_version: u64,
    /// `PPPPPPPPPPPPP-LLLLL-NODE`.
    pub hlc: String,
    /// The user who made the change.
    pub author_id: Uuid,
}

/// `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushRequest {
    /// The pushing device; must be the device of the bearer token.
    pub device_id: Uuid,
    /// The schema version the device writes.
    pub schema_version: u32,
    /// The app's version, shown to team leads.
    pub app_version: String,
    /// How many changes wait in the device's outbox (including this batch).
    pub pending_count: u64,
    /// The batch, applied in one transaction.
    pub changes: Vec<ChangeIn>,
}

/// What the server did with one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// The change's value is the field's value now.
    Applied,
    /// The field holds a combination of the change and a concurrent write (set, text).
    Merged,
    /// A conflict was recorded (auto-resolved for lww, open for review); `value` is what
    /// stands now, which may or may not be the change's value.
    Conflict,
    /// The change was refused (`reason` says why) and changed nothing.
    Rejected,
}

/// The server's answer for one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangeResult {
    /// The change answered.
    pub change_id: Uuid,
    /// What happened.
    pub status: ChangeStatus,
    /// The field's version after the push (0 if the field has never been written).
    pub version: u64,
    /// The field's value after the push.
    pub value: Value,
    /// The conflict recorded, for `conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_id: Option<i64>,
    /// Why a change was rejected, naming the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer to a push, one result per change, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushResponse {
    /// The server's clock, RFC 3339; the device advances its HLC from it.
    pub server_time: DateTime<Utc>,
    /// One result per change of the request, in the same order.
    pub results: Vec<ChangeResult>,
}

/// The query of `GET /v1/sync/pull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The last `seq` the device has stored (0 at first).
    #[serde(default)]
    #[param(default = 0)]
    pub after: u64,
    /// The page size, 1 to 1000 (`MAX_PULL_LIMIT`); 500 when left out.
    #[serde(default = "default_pull_limit")]
    #[param(default = 500, minimum = 1, maximum = 1000)]
    pub limit: u32,
}

fn default_pull_limit() -> u32 {
    DEFAULT_PULL_LIMIT
}

/// One field write as the server committed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PulledChange {
    /// The server sequence number; commit order equals `seq` order.
    pub seq: u64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field's wire name.
    pub field: String,
    /// The field's value from this write on.
    pub value: Value,
    /// The field's version from this write on (equal to `seq`).
    pub version: u64,
    /// The HLC of the write.
    pub hlc: String,
    /// Who wrote it.
    pub author_id: Uuid,
    /// The change that wrote it (a server-made id for merges and resolutions).
    pub change_id: Uuid,
}

/// The answer to a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PullResponse {
    /// The team's writes after the cursor, in `seq` order.
    pub changes: Vec<PulledChange>,
    /// The cursor for the next pull (`after=next`).
    pub next: u64,
    /// Whether more writes wait after `next`.
    pub has_more: bool,
    /// The server's clock, RFC 3339.
    pub server_time: DateTime<Utc>,
}

/// Where a conflict stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStatus {
    /// Waiting in the team lead's review queue.
    Open,
    /// Decided by the field's policy (lww); kept for the record.
    AutoResolved,
    /// Decided by a team lead.
    Resolved,
}

/// One side of a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictValue {
    /// The value written.
    pub value: Value,
    /// Its HLC.
    pub hlc: String,
    /// Who wrote it.
    pub author_id: Uuid,
    /// The change that wrote it.
    pub change_id: Uuid,
    /// Whether this value stood after the conflict was detected.
    pub provisional: bool,
}

/// A conflict on one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conflict {
    /// The conflict's id.
    pub id: i64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field.
    pub field: String,
    /// The field's merge policy (`lww`, `review`, `text`).
    pub policy: String,
    /// Where it stands.
    pub status: ConflictStatus,
    /// The version both writers started from.
    pub base_version: u64,
    /// The value both writers started from.
    pub base_value: Value,
    /// Every value in conflict.
    pub values: Vec<ConflictValue>,
    /// Whether a writer's clock was more than five minutes ahead of the server's.
    pub clock_skew: bool,
    /// When the server detected it.
    pub created_at: DateTime<Utc>,
    /// The team lead who resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Uuid>,
    /// When it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The change that carried the resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_change_id: Option<Uuid>,
}

/// `GET /v1/conflicts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictList {
    /// The team's conflicts, oldest first.
    pub conflicts: Vec<Conflict>,
}

/// `POST /v1/conflicts/{id}/resolve`: the value the field gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResolveConflictRequest {
    /// One of the values in conflict, or a new one; validated like any change.
    pub value: Value,
}

/// The answer to a resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResolveConflictResponse {
    /// The conflict, now resolved.
    pub conflict: Conflict,
    /// The ordinary change the server wrote; every device pulls it.
    pub change: PulledChange,
}

/// A device as a team lead or admin sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceInfo {
    /// The device's id.
    pub id: Uuid,
    /// The name given at login.
    pub name: String,
    /// The signed-in user.
    pub user: UserRef,
    /// The team it works for.
    pub team: Option<TeamRef>,
    /// The app version of its last push.
    pub app_version: Option<String>,
    /// The outbox size it reported last.
    pub pending_count: u64,
    /// Its last push or pull.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Whether it has been revoked.
    pub revoked: bool,
    /// When it logged in.
    pub created_at: DateTime<Utc>,
}

/// `GET /v1/devices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    /// The devices, oldest first.
    pub devices: Vec<DeviceInfo>,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when the database answers.
    pub status: String,
}

/// Every error response: a machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorBody {
    /// A stable machine code such as `device_revoked`, `invalid_json`, `forbidden`.
    pub error: String,
    /// What went wrong, for people; never contains client data.
    pub message: String,
}

/// Machine codes of [`ApiErrorBody::error`] that clients act on.
pub mod error_codes {
    /// The device was revoked: wipe the local store.
    pub const DEVICE_REVOKED: &str = "device_revoked";
    /// No or an unknown bearer token.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// Wrong username or password.
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// The role or team does not allow this.
    pub const FORBIDDEN: &str = "forbidden";
    /// Too many login attempts; see `Retry-After`.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The client's schema version is no longer accepted: update the app.
    pub const UPDATE_REQUIRED: &str = "update_required";
    /// The body is not JSON.
    pub const INVALID_JSON: &str = "invalid_json";
    /// The body is JSON of the wrong shape.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// The body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The thing named does not exist (or is not visible).
    pub const NOT_FOUND: &str = "not_found";
    /// Something failed on the server.
    pub const INTERNAL: &str = "internal";
}
