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

/// The most closed conflicts `GET /v1/conflicts?status=all&closed_limit=N` lists (a larger
/// `N` is refused).
pub const MAX_CLOSED_CONFLICTS_LIMIT: u32 = 1000;

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
    /// Why a change was rejected, naming the field: the server's own words (English), for
    /// IT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why a change was rejected, as a code a device explains in its user's language (left
    /// out by servers before it existed, and for changes they answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<RejectCode>,
}

/// Why the server refused a change: what a device can tell its user, and what the user can do
/// about it. A device takes codes it does not know (from a newer server) as `other` and shows
/// the `reason` text (see the `Deserialize` impl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The value is not valid for the field: its type, range or format, or a name not in the
    /// field's closed set. Correcting the value in the record is the way on.
    InvalidValue,
    /// The server does not know the entity or the field: the app is newer than the server.
    UnknownField,
    /// A contact's `site` names no site of the server (`GET /v1/sites`).
    UnknownSite,
    /// A contact's `coach_id` or a client's `consent_by` names no user of the team
    /// (`GET /v1/users`); IT adds users to teams.
    UserNotInTeam,
    /// Special-category data written while the client has no lawful basis: the basis comes
    /// first.
    LawfulBasisRequired,
    /// The lawful basis cleared while special-category data stands on the client: that data
    /// is cleared first.
    LawfulBasisInUse,
    /// The record, or the client a change links it to, was erased (GDPR erasure).
    RecordErased,
    /// The record belongs to another team.
    OtherTeam,
    /// The change itself is malformed in a way only a faulty client makes: its clock, its
    /// author, its `base_version`, its entity, a `change_id` used already, or a field only the
    /// server writes (a client's `merged_into`, by a team lead's duplicate merge).
    InvalidChange,
    /// A code this version does not know (the server is newer): the `reason` says why.
    Other,
}

impl<'de> Deserialize<'de> for RejectCode {
    /// Any name: one this version does not know is `other`, so a newer server's code never
    /// makes its whole answer unreadable.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(RejectCode::parse(&name))
    }
}

impl RejectCode {
    /// Every code, in the order above.
    pub const ALL: [RejectCode; 10] = [
        RejectCode::InvalidValue,
        RejectCode::UnknownField,
        RejectCode::UnknownSite,
        RejectCode::UserNotInTeam,
        RejectCode::LawfulBasisRequired,
        RejectCode::LawfulBasisInUse,
        RejectCode::RecordErased,
        RejectCode::OtherTeam,
        RejectCode::InvalidChange,
        RejectCode::Other,
    ];

    /// The code's wire name (`invalid_value`).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InvalidValue => "invalid_value",
            RejectCode::UnknownField => "unknown_field",
            RejectCode::UnknownSite => "unknown_site",
            RejectCode::UserNotInTeam => "user_not_in_team",
            RejectCode::LawfulBasisRequired => "lawful_basis_required",
            RejectCode::LawfulBasisInUse => "lawful_basis_in_use",
            RejectCode::RecordErased => "record_erased",
            RejectCode::OtherTeam => "other_team",
            RejectCode::InvalidChange => "invalid_change",
            RejectCode::Other => "other",
        }
    }

    /// The code of a wire name; a name this version does not know is [`RejectCode::Other`].
    pub fn parse(name: &str) -> RejectCode {
        RejectCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
            .unwrap_or(RejectCode::Other)
    }
}

/// The answer to a push, one result per change, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PushResponse {
    /// The server's clock, RFC 3339; the device advances its HLC from it.
    pub server_time: DateTime<Utc>,
    /// One result per change of the request, in the same order.
    pub results: Vec<ChangeResult>,
    /// The database epoch that answered (left out by servers before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<DatabaseEpoch>,
}

/// The server database's epoch: a new one begins when the database is restored from a backup
/// (`tandem-server restore`, or `tandem-server admin epoch rotate` after a pg_restore). Seqs
/// after `restored_seq` and before `start_seq` were handed out before the restore and are
/// lost; a device that knew the previous epoch rewinds its pull cursor to `restored_seq` and
/// pushes again the changes acknowledged above it (docs/protocol.md, "Epochs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DatabaseEpoch {
    /// The epoch's id (random UUID).
    pub id: Uuid,
    /// The first seq this epoch hands out (1 for a database never restored).
    pub start_seq: u64,
    /// The highest seq of the backup the epoch was restored from (0 for the first epoch).
    pub restored_seq: u64,
    /// The epoch before it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<Uuid>,
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
    /// Records erased or purged after the cursor, in `seq` order, in the same sequence as
    /// `changes` (left out when there are none; clients that do not know it ignore it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purges: Vec<PulledPurge>,
    /// The database epoch that answered (left out by servers before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<DatabaseEpoch>,
    /// The `seq` of the team's newest write or purge when the page was read: the pull has
    /// caught up when `next` reaches it (later writes move it on). Clients show how far a
    /// long pull has come with it. Left out by servers before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<u64>,
}

/// A record erased (a subject's request) or purged (retention) on the server: the device
/// removes it, its history, its outbox rows, conflicts and search rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PulledPurge {
    /// Its server sequence number, in the same sequence as the changes.
    pub seq: u64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record that no longer exists.
    pub record_id: Uuid,
}

/// The answer to `POST /v1/clients/{id}/erase`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErasureResponse {
    /// The client erased.
    pub client_id: Uuid,
    /// Every record removed: the client, its contacts and clients merged into it.
    pub records: Vec<PulledPurge>,
}

/// One value of an access export: a field's current value or an entry of its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExportedValue {
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field's wire name.
    pub field: String,
    /// The value in its wire form.
    pub value: Value,
    /// The server sequence number of the write.
    pub seq: u64,
    /// Whether the value became the field's value (false: a losing or submitted value
    /// kept in the history).
    pub effective: bool,
    /// Who wrote it.
    pub author_id: Uuid,
    /// When the server received it.
    pub recorded_at: DateTime<Utc>,
}

/// A subject-access export of one client (`GET /v1/clients/{id}/export`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientExport {
    /// The client.
    pub client_id: Uuid,
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The client's current fields, by name.
    pub client: serde_json::Map<String, Value>,
    /// The duplicates merged into the client (`merged_into` naming it, or naming another
    /// of them), in id order, each with `record_id` and its current fields: the same person's
    /// data, registered twice.
    #[serde(default)]
    pub merged_clients: Vec<serde_json::Map<String, Value>>,
    /// Its contacts and the merged duplicates' (in id order), each with `record_id` and its
    /// current fields.
    pub contacts: Vec<serde_json::Map<String, Value>>,
    /// Every value the client, the merged duplicates and their contacts ever had, oldest
    /// first.
    pub history: Vec<ExportedValue>,
}

/// One entry of the audit log: who did what to which record, and when; never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Its place in the chain, from 1.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// `user:<id> device:<id>`, `operator` (a server admin command) or `system`.
    pub actor: String,
    /// `login`, `read`, `change`, `resolve`, `merge`, `undo_merge`, `dismiss_duplicate`,
    /// `export`, `erase`, `purge`, ...
    pub action: String,
    /// The team whose record it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    /// `client` or `contact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<Uuid>,
    /// Counts, field names and record ids; never values.
    pub detail: String,
    /// SHA-256 (hex) of the previous entry's hash and this entry's canonical bytes.
    pub hash: String,
}

/// The query of `GET /v1/audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The last `seq` already seen (0 at first).
    #[serde(default)]
    #[param(default = 0)]
    pub after: u64,
    /// The page size, 1 to 1000; 500 when left out.
    #[serde(default = "default_pull_limit")]
    #[param(default = 500, minimum = 1, maximum = 1000)]
    pub limit: u32,
    /// Only entries about this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<Uuid>,
}

/// `GET /v1/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    /// The entries, oldest first.
    pub entries: Vec<AuditEntry>,
    /// The cursor for the next page (`after=next`).
    pub next: u64,
    /// Whether more entries wait after `next`.
    pub has_more: bool,
}

/// Where a conflict stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStatus {
    /// Waiting in the team lead's review queue.
    Open,
    /// Decided by the field's policy (lww), or settled by a write of the field made after
    /// the conflict, before a team lead resolved it; kept for the record.
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
    /// The field's merge policy (`lww`, `review`, `set`, `text`).
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
    /// The change that carried the resolution (for a conflict settled by a later write,
    /// that write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_change_id: Option<Uuid>,
}

impl Conflict {
    /// When it closed: when resolved, or when made for one closed when made (auto-resolved).
    /// What "most recently closed" orders by (ties by id) in `GET /v1/conflicts` with
    /// `closed_limit` and in a team lead's mirror. For an open conflict, when it was made.
    pub fn closed_at(&self) -> DateTime<Utc> {
        self.resolved_at.unwrap_or(self.created_at)
    }
}

/// `GET /v1/conflicts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConflictList {
    /// The team's conflicts, oldest (lowest id) first (with `closed_limit`, of the closed ones
    /// only the most recently closed).
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

/// Why two clients are proposed as one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Both have the same phone number.
    SamePhone,
    /// Both were born the same year and their names match across spelling and script.
    SameBirthYearAndName,
}

/// One client of a duplicate pair, with the fields a team lead compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateClient {
    /// The client's record id.
    pub id: Uuid,
    /// Its key fields by wire name (names, birth year, gender, phone, email, languages,
    /// municipality, ...), as their current values; an empty field is null.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, Value>,
    /// How many live contacts it has.
    pub contact_count: u64,
}

/// A pair of the team's clients that may be one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateCandidate {
    /// The client registered first.
    pub first: DuplicateClient,
    /// The other client.
    pub second: DuplicateClient,
    /// Why they are proposed (at least one).
    pub reasons: Vec<DuplicateReason>,
    /// How alike the names are, 0 to 1 (1: the same name in every spelling).
    pub score: f64,
}

/// `GET /v1/duplicates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateList {
    /// Candidate pairs among the team's live clients, best score first; dismissed pairs
    /// are left out.
    pub candidates: Vec<DuplicateCandidate>,
}

/// `POST /v1/duplicates/merge`: which client stays and which one is merged into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MergeDuplicateRequest {
    /// The client that stays and gets the contacts.
    pub survivor_id: Uuid,
    /// The client that is marked `merged_into` the survivor.
    pub duplicate_id: Uuid,
}

/// `POST /v1/duplicates/dismiss`: a pair that is not one person; it is not proposed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DismissDuplicateRequest {
    /// One client of the pair.
    pub first_id: Uuid,
    /// The other.
    pub second_id: Uuid,
}

/// A merge of two clients, as the server keeps it for undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateMerge {
    /// The merge's id.
    pub id: Uuid,
    /// The client that stayed.
    pub survivor_id: Uuid,
    /// The client marked `merged_into` the survivor.
    pub duplicate_id: Uuid,
    /// The contacts moved from the duplicate to the survivor.
    pub contact_ids: Vec<Uuid>,
    /// The team lead who merged.
    pub merged_by: Uuid,
    /// When.
    pub merged_at: DateTime<Utc>,
    /// The team lead who undid it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<Uuid>,
    /// When it was undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<DateTime<Utc>>,
}

/// The answer to a merge or its undo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateMergeResponse {
    /// The merge.
    pub merge: DuplicateMerge,
    /// The ordinary changes the server wrote (contacts' `client_id`, the duplicate's
    /// `merged_into`); every device pulls them.
    pub changes: Vec<PulledChange>,
}

/// `GET /v1/duplicates/merges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateMergeList {
    /// The team's merges, newest first.
    pub merges: Vec<DuplicateMerge>,
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

/// A site: NGO premises where contacts happen (a contact's `site` is its id). Sites are the
/// organisation's, shared by every team, and server-owned: the server's admin commands make,
/// rename and archive them; devices pull the list (`GET /v1/sites`) and never edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Site {
    /// The site's id: the value of a contact's `site` field.
    pub id: Uuid,
    /// The site's unique name, as people know the premises.
    pub name: String,
    /// An archived site is no longer offered for new contacts; the contacts that name it
    /// keep it, and it is still named for them.
    pub archived: bool,
}

/// `GET /v1/sites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SiteList {
    /// Every site, archived ones included, by name.
    pub sites: Vec<Site>,
}

/// A user of the team: who a contact's `coach_id`, a client's `consent_by` or a change's
/// `author_id` names. Users are server-owned reference data: the server's admin commands make
/// them; devices pull their team's (`GET /v1/users`) to name people, and never edit them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamUser {
    /// The user's id.
    pub id: Uuid,
    /// The name the user signs in with, which the team knows them by.
    pub username: String,
    /// The user's role.
    pub role: Role,
}

/// `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    /// Every member of the caller's team, by username.
    pub users: Vec<TeamUser>,
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
    /// Why a write was refused, for refusals of a value that a device explains in its user's
    /// language: a team lead's resolution of a conflict (`invalid_value`, `user_not_in_team`,
    /// `lawful_basis_required`, `lawful_basis_in_use`). The same codes as a pushed change's
    /// [`ChangeResult::reason_code`]; left out by other errors and by servers before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<RejectCode>,
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
    /// The disk holding the server's database is full: nothing of the request was stored;
    /// retry later (see `Retry-After`).
    pub const STORAGE_FULL: &str = "storage_full";
    /// The server cannot serve the request now (overloaded, or its database cannot be
    /// reached): nothing of it was stored; retry later (see `Retry-After`).
    pub const UNAVAILABLE: &str = "unavailable";
}
