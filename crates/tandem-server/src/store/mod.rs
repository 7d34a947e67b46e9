//! The server's storage, behind one trait so that SQLite (the pilot default) and
//! PostgreSQL (production) serve the same API. Validation and merge decisions are made in
//! [`crate::push`]; a backend only keeps state and assigns sequence numbers so that commit
//! order equals sequence order.

pub(crate) mod epoch;
mod postgres;
pub(crate) mod privacy;
mod sqlite;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tandem_domain::{Entity, FieldValue};
use tandem_protocol::{
    ChangeResult, Conflict, ConflictStatus, DeviceInfo, DuplicateMerge, PulledChange, PulledPurge,
    Role, Site, TeamRef, TeamUser, UserRef,
};
use tandem_reports::{ReportData, sql_field_list};
use uuid::Uuid;

pub use epoch::{EPOCH_SEQ_GAP, Epoch, EpochStore, Epochs};
pub use postgres::{
    AUDIT_LOCK_KEY, DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_TIMEOUT, MIGRATION_LOCK_KEY, PoolOptions,
    PostgresStore, SEQ_LOCK_KEY,
};
pub use privacy::{AuditFilter, ErasureReason, ErasureRequest, PrivacyStore, RetentionFacts};
pub use sqlite::{Restored, SqliteStore};

use crate::ServerError;
use crate::push::PreparedChange;

/// A user as login needs them.
#[derive(Debug, Clone)]
pub struct LoginUser {
    /// Who.
    pub user: UserRef,
    /// Their role.
    pub role: Role,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Their teams, by name.
    pub teams: Vec<TeamRef>,
}

/// One team named to [`ServerStore::add_team_memberships`], of which the user is a member now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMembership {
    /// The team.
    pub team: TeamRef,
    /// Whether the user was a member of it already (nothing changed then).
    pub already_member: bool,
}

/// A team as the operator's `admin team list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSummary {
    /// The team.
    pub team: TeamRef,
    /// How many users are members of it (0 for a team no one has joined yet).
    pub members: u64,
}

/// A user as the operator's `admin user list` shows it. Never their password hash: only
/// login reads that ([`LoginUser`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// Who.
    pub user: UserRef,
    /// Their role.
    pub role: Role,
    /// Every team they are a member of, by name in byte order; none for an admin of no team.
    pub teams: Vec<TeamRef>,
}

/// A device as the bearer-token check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuth {
    /// The device.
    pub device_id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// The team the device works for.
    pub team_id: Option<Uuid>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A device being registered at login.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// Its new id.
    pub id: Uuid,
    /// The signed-in user.
    pub user_id: Uuid,
    /// The team it works for.
    pub team_id: Option<Uuid>,
    /// The name given at login.
    pub name: String,
    /// SHA-256 of its token.
    pub token_hash: String,
}

/// Who pushes, and what they reported about themselves.
#[derive(Debug, Clone)]
pub struct PushContext {
    /// The pushing device.
    pub device_id: Uuid,
    /// Its team; every record written belongs to it.
    pub team_id: Uuid,
    /// Its schema version.
    pub schema_version: u32,
    /// Its app version.
    pub app_version: String,
    /// Its outbox size.
    pub pending_count: u64,
    /// When the server received the push.
    pub now: DateTime<Utc>,
}

/// How many failed logins a window allows before the next attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// The window's start: failures before it no longer count.
    pub since: DateTime<Utc>,
    /// Attempts reserved before it and still in progress count as failures: their request
    /// has timed out (or their instance stopped), so no answer will settle them.
    pub in_progress_since: DateTime<Utc>,
    /// Failures per username within the window.
    pub per_username: u32,
    /// Failures per client address within the window.
    pub per_address: u32,
}

/// What [`ServerStore::reserve_login_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginReservation {
    /// The attempt may check its password; it is in progress, counted against the limits
    /// with the failures, until [`ServerStore::settle_login_attempt`] says how it went.
    Reserved {
        /// The attempt's row.
        attempt_id: i64,
    },
    /// The window holds as many failures as it allows; nothing was recorded.
    Refused(RecentFailures),
    /// The failures alone are below the limits, but with the attempts in progress they
    /// reach one: the attempt may come back in a moment, when some of them have answered.
    /// Nothing was recorded.
    AttemptsInProgress,
}

/// How a reserved login attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The password was right: the username's earlier failures are forgotten.
    Succeeded,
    /// The username or the password was wrong: a failure in the window.
    Failed,
}

/// A username's or an address's login attempts in the window, as the backends count them for
/// [`ServerStore::reserve_login_attempt`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptCounts {
    /// Failures: answered wrong, or in progress since before `in_progress_since`.
    pub(crate) failures: u32,
    /// The oldest of those (Unix ms).
    pub(crate) oldest_failure_ms: Option<i64>,
    /// Attempts whose answer may still come.
    pub(crate) in_progress: u32,
}

impl AttemptCounts {
    /// What a reservation decides from the counts of the username and the address: `None`
    /// when the attempt may be reserved. Failures alone refuse it; failures and attempts in
    /// progress together only make it wait, since those in progress may yet prove right.
    pub(crate) fn decide(
        by_username: AttemptCounts,
        by_address: AttemptCounts,
        per_username: u32,
        per_address: u32,
    ) -> Option<LoginReservation> {
        if by_username.failures >= per_username || by_address.failures >= per_address {
            return Some(LoginReservation::Refused(RecentFailures {
                by_username: by_username.failures,
                oldest_by_username_ms: by_username.oldest_failure_ms,
                by_address: by_address.failures,
                oldest_by_address_ms: by_address.oldest_failure_ms,
            }));
        }
        let taken = |counts: AttemptCounts| counts.failures.saturating_add(counts.in_progress);
        (taken(by_username) >= per_username || taken(by_address) >= per_address)
            .then_some(LoginReservation::AttemptsInProgress)
    }
}

/// Recent failed logins, for rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentFailures {
    /// Failures for the username in the window.
    pub by_username: u32,
    /// The oldest of those (Unix ms).
    pub oldest_by_username_ms: Option<i64>,
    /// Failures from the address in the window.
    pub by_address: u32,
    /// The oldest of those (Unix ms).
    pub oldest_by_address_ms: Option<i64>,
}

/// One entry of a field's history (every value ever accepted).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Its seq.
    pub seq: u64,
    /// The value (JSON).
    pub value: serde_json::Value,
    /// Its HLC.
    pub hlc: String,
    /// Who wrote it.
    pub author_id: Uuid,
    /// The change that carried it.
    pub change_id: Uuid,
    /// Whether it became the field's value (false: kept in history only).
    pub effective: bool,
}

/// The current values of some fields of one record (`GET /v1/duplicates`).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    /// The record.
    pub record_id: Uuid,
    /// The asked fields that were ever written, by wire name, as JSON.
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// A merge of two clients to write (`POST /v1/duplicates/merge`).
#[derive(Debug, Clone, Copy)]
pub struct NewMerge {
    /// The merge's new id.
    pub id: Uuid,
    /// The caller's team; both clients must belong to it.
    pub team_id: Uuid,
    /// The client that stays.
    pub survivor_id: Uuid,
    /// The client merged into it.
    pub duplicate_id: Uuid,
    /// The team lead; author of every change written.
    pub merged_by: Uuid,
    /// When.
    pub now: DateTime<Utc>,
}

/// The storage of the central server.
#[async_trait]
pub trait ServerStore: PrivacyStore + EpochStore + Send + Sync + std::fmt::Debug + 'static {
    /// Brings the schema up to date (idempotent).
    async fn migrate(&self) -> Result<(), ServerError>;
    /// Whether the database answers.
    async fn check_health(&self) -> Result<(), ServerError>;

    /// Adds a team named `name` trimmed ([`ServerError::InvalidTeamName`] when it is empty or
    /// holds a control character).
    async fn add_team(
        &self,
        id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<TeamRef, ServerError>;
    /// Finds a team by name.
    async fn team_by_name(&self, name: &str) -> Result<Option<TeamRef>, ServerError>;
    /// Every team with its number of members, ordered by name (byte order, as both backends
    /// compare; team names are unique).
    async fn list_teams(&self) -> Result<Vec<TeamSummary>, ServerError>;
    /// Adds a user, member of the named teams. [`ServerError::UserIdExists`] when a user has
    /// the id already (given by `admin user add --id`, say to add again a user a restore
    /// lost), else [`ServerError::UserExists`] when one has the username;
    /// [`ServerError::UnknownTeam`] when a named team does not exist. Nothing is added then.
    async fn add_user(
        &self,
        id: Uuid,
        username: &str,
        password_hash: &str,
        role: Role,
        team_names: &[String],
        now: DateTime<Utc>,
    ) -> Result<UserRef, ServerError>;
    /// Makes the user `username` a member of the named teams too, in one transaction: each
    /// team once, in the order named, saying whether they were a member already (that one is
    /// left as it is). [`ServerError::UnknownUser`] or [`ServerError::UnknownTeam`] change
    /// nothing. Users never leave a team: there is no removal.
    async fn add_team_memberships(
        &self,
        username: &str,
        team_names: &[String],
    ) -> Result<Vec<TeamMembership>, ServerError>;
    /// Replaces a user's password hash.
    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), ServerError>;
    /// A user with their hash and teams, for login.
    async fn login_user(&self, username: &str) -> Result<Option<LoginUser>, ServerError>;
    /// The members of a team with their roles, ordered by username (byte order, as both
    /// backends compare; usernames are unique): the users a change to a contact's `coach_id`
    /// or a client's `consent_by` may name (values stored before that check are left as
    /// they are; see [`crate::push::user_outside_team`]).
    async fn team_users(&self, team_id: Uuid) -> Result<Vec<TeamUser>, ServerError>;
    /// Every user, or only the members of the team named `team` (matched exactly, as
    /// [`ServerStore::add_user`] matches names; [`ServerError::UnknownTeam`] when no team has
    /// it), each with all their teams; ordered by username (byte order, as
    /// [`ServerStore::team_users`]).
    async fn list_users(&self, team: Option<&str>) -> Result<Vec<UserSummary>, ServerError>;

    /// Adds a site (organisation-wide, not archived) named `name` trimmed: 1 to
    /// [`MAX_SITE_NAME_CHARS`] characters without control characters, else
    /// [`ServerError::InvalidSiteName`]; [`ServerError::SiteExists`] when a site has that
    /// name already, ignoring case and surrounding spaces.
    async fn add_site(&self, id: Uuid, name: &str, now: DateTime<Utc>)
    -> Result<Site, ServerError>;
    /// Every site, archived ones included, ordered by name ignoring case, then by id.
    async fn list_sites(&self) -> Result<Vec<Site>, ServerError>;
    /// Gives a site a new name, checked as [`ServerStore::add_site`] checks it; contacts
    /// name sites by id, so they follow.
    async fn rename_site(&self, id: Uuid, name: &str) -> Result<Site, ServerError>;
    /// Archives a site (no longer offered for new contacts) or makes it active again;
    /// [`ServerError::UnknownSite`] when no site has the id (renaming too).
    async fn set_site_archived(&self, id: Uuid, archived: bool) -> Result<Site, ServerError>;

    /// Counts a login attempt before its password is checked: in one transaction that
    /// concurrent reservations (of every instance on the database) wait for, counts the
    /// window's failures and attempts in progress of `username` and of `address` and, when
    /// together they are under `limits`, records the attempt as in progress. So however
    /// many logins arrive at once, no more passwords are checked than the limits allow;
    /// only failures refuse an attempt ([`LoginReservation::Refused`]), attempts in
    /// progress only delay it ([`LoginReservation::AttemptsInProgress`]); and an attempt
    /// whose answer never comes (a timeout) counts as failed from
    /// `limits.in_progress_since` on.
    async fn reserve_login_attempt(
        &self,
        username: &str,
        address: &str,
        limits: LoginLimits,
        now: DateTime<Utc>,
    ) -> Result<LoginReservation, ServerError>;
    /// Records how a reserved attempt went: a failure, or a success, which forgets the
    /// username's failures and attempts reserved before it.
    async fn settle_login_attempt(
        &self,
        attempt_id: i64,
        username: &str,
        outcome: LoginOutcome,
    ) -> Result<(), ServerError>;

    /// Registers a device at login.
    async fn add_device(&self, device: NewDevice, now: DateTime<Utc>) -> Result<(), ServerError>;
    /// The device holding a token.
    async fn device_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<DeviceAuth>, ServerError>;
    /// Devices of one team, or of every team.
    async fn list_devices(&self, team_id: Option<Uuid>) -> Result<Vec<DeviceInfo>, ServerError>;
    /// Revokes a device; its token stops working at once.
    async fn revoke_device(&self, device_id: Uuid) -> Result<DeviceInfo, ServerError>;
    /// Notes that a device pulled.
    async fn touch_device(&self, device_id: Uuid, now: DateTime<Utc>) -> Result<(), ServerError>;

    /// Applies a batch in one transaction and answers every change, in order.
    async fn push(
        &self,
        ctx: PushContext,
        changes: Vec<PreparedChange>,
    ) -> Result<Vec<ChangeResult>, ServerError>;
    /// The team's effective writes and purges after `after`, at most `limit` of both
    /// together (read in one snapshot), and whether more wait.
    async fn pull(
        &self,
        team_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<PulledChange>, Vec<PulledPurge>, bool), ServerError>;
    /// The `seq` of the team's newest effective write or purge (0 when it has none): where
    /// a pull ends, for a client's progress.
    async fn team_head(&self, team_id: Uuid) -> Result<u64, ServerError>;
    /// Every value a field ever had or was offered (oldest first).
    async fn field_history(
        &self,
        team_id: Uuid,
        record_id: Uuid,
        field: &str,
    ) -> Result<Vec<HistoryEntry>, ServerError>;

    /// The team's conflicts, only the open ones or all.
    async fn list_conflicts(
        &self,
        team_id: Uuid,
        only_open: bool,
    ) -> Result<Vec<Conflict>, ServerError>;
    /// The team's open conflicts and its `closed_limit` most recently closed ones
    /// ([`Conflict::closed_at`], ties by id), oldest (lowest id) first: what a team lead's
    /// laptop mirrors, bounded however many were ever resolved.
    async fn open_and_recently_closed_conflicts(
        &self,
        team_id: Uuid,
        closed_limit: u32,
    ) -> Result<Vec<Conflict>, ServerError>;
    /// One conflict of the team.
    async fn conflict(&self, team_id: Uuid, id: i64) -> Result<Option<Conflict>, ServerError>;
    /// Resolves an open conflict with an ordinary new change written by the server.
    async fn resolve_conflict(
        &self,
        team_id: Uuid,
        id: i64,
        value: FieldValue,
        resolved_by: Uuid,
        change_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Conflict, PulledChange), ServerError>;

    /// The current values of `fields` of every record of `entity` in the team.
    async fn team_records(
        &self,
        team_id: Uuid,
        entity: Entity,
        fields: &[&'static str],
    ) -> Result<Vec<RecordFields>, ServerError>;
    /// Merges a duplicate client into a survivor in one transaction, with ordinary changes
    /// written by the server for the team lead: every contact of the duplicate gets
    /// `client_id` = survivor, the duplicate gets `merged_into` = survivor. Refuses clients
    /// of another team, deleted ones and ones merged already.
    async fn merge_clients(
        &self,
        merge: NewMerge,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError>;
    /// The team's merges, newest first.
    async fn list_merges(&self, team_id: Uuid) -> Result<Vec<DuplicateMerge>, ServerError>;
    /// Undoes a merge with ordinary changes (the moved contacts back, `merged_into` cleared),
    /// unless something changed since that the undo would overwrite.
    async fn undo_merge(
        &self,
        team_id: Uuid,
        merge_id: Uuid,
        undone_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError>;
    /// Records that two clients are not one person (idempotent).
    async fn dismiss_duplicate(
        &self,
        team_id: Uuid,
        pair: (Uuid, Uuid),
        dismissed_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError>;
    /// The team's dismissed pairs, each with the smaller id first.
    async fn dismissed_duplicates(&self, team_id: Uuid) -> Result<Vec<(Uuid, Uuid)>, ServerError>;
    /// The team's clients and contacts as the participant report reads them: the current
    /// values of its fields, and the effective writes of the fields measured at
    /// participant_start with their HLCs.
    async fn report_data(&self, team_id: Uuid) -> Result<ReportData, ServerError>;
}

/// Where the server keeps its data: what `--database-url` (or the data directory) names.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// An SQLite file (the pilot default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL (which may hold a password).
    Postgres(String),
}

impl DatabaseLocation {
    /// Reads a database URL: `postgres://` or `postgresql://` is PostgreSQL; `sqlite:PATH`,
    /// `sqlite://PATH` or a plain path is an SQLite file. Any other `SCHEME://` is refused:
    /// read as a path, a mistyped `postgress://user:password@host/db` would become a
    /// directory named after the password. So is a plain path that reads as a PostgreSQL
    /// URL without its scheme (`user:password@host/db`, `host:5432/db`): `serve` would make
    /// an SQLite file of that name.
    pub fn from_url(url: &str) -> Result<Self, ServerError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "sqlite"
        {
            return Err(ServerError::InvalidDatabaseUrl(format!(
                "its scheme `{scheme}://` is not postgres://, postgresql:// or sqlite://"
            )));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if reads_as_a_server_address(url) {
            // The value itself is not repeated: it may hold a password.
            return Err(ServerError::InvalidDatabaseUrl(
                "it has no scheme but reads as a server's address (an @ or a : before the \
                 first /); write postgres://USER:PASSWORD@HOST/DB for PostgreSQL, or \
                 sqlite:PATH for an SQLite file"
                    .to_owned(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(url)))
    }

    /// Opens the database and brings its schema up to date.
    pub async fn open(&self) -> Result<Arc<dyn ServerStore>, ServerError> {
        Ok(match self {
            Self::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                    .await
                    .map_err(|err| ServerError::TaskFailed(err.to_string()))??;
                Arc::new(store)
            }
            Self::Postgres(url) => Arc::new(PostgresStore::connect(url).await?),
        })
    }
}

/// Whether a plain path reads as a PostgreSQL URL that lost its `postgres://`: an `@` or a
/// `:` before the first `/` (or `\`, Windows' separator), where a URL has its user,
/// password and port. The colon of a Windows drive (`C:\`, `C:/`) is a path's.
fn reads_as_a_server_address(path: &str) -> bool {
    let windows_drive = matches!(
        path.as_bytes(),
        [letter, b':', b'/' | b'\\', ..] if letter.is_ascii_alphabetic()
    );
    let first_component = path.split(['/', '\\']).next().unwrap_or_default();
    !windows_drive && first_component.contains([':', '@'])
}

/// Names the database for messages and logs; a PostgreSQL URL is shown without its
/// user and password.
impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "SQLite file {}", path.display()),
            Self::Postgres(url) => {
                let without_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
                let without_user = without_scheme
                    .rsplit_once('@')
                    .map_or(without_scheme, |(_, rest)| rest);
                let without_query = without_user.split('?').next().unwrap_or("");
                write!(f, "PostgreSQL database {without_query}")
            }
        }
    }
}

impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The most characters a site's name may have: it is shown in the app's pickers and in
/// report tables.
pub const MAX_SITE_NAME_CHARS: usize = 100;

/// A site's name as both backends store it: trimmed, 1 to [`MAX_SITE_NAME_CHARS`]
/// characters, no control characters (the name is printed in tab-separated lists), and its
/// key, the name in lower case, which is unique among sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiteName {
    /// The name as shown.
    pub(crate) name: String,
    /// What makes two names one: the name in lower case (Unicode, not only ASCII).
    pub(crate) key: String,
}

impl SiteName {
    /// Checks a name given by an operator.
    pub(crate) fn parse(text: &str) -> Result<Self, ServerError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(ServerError::InvalidSiteName(
                "a site needs a name: it is empty".to_owned(),
            ));
        }
        let chars = name.chars().count();
        if chars > MAX_SITE_NAME_CHARS {
            return Err(ServerError::InvalidSiteName(format!(
                "the site name `{name}` has {chars} characters; at most {MAX_SITE_NAME_CHARS} are allowed"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(ServerError::InvalidSiteName(format!(
                "the site name {name:?} holds a control character (a tab or a line break)"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            key: name.to_lowercase(),
        })
    }
}

/// A team's name as both backends store it: trimmed, not empty, no control characters (the
/// name is printed in tab-separated lists and named on every laptop of the team).
pub(crate) fn team_name(text: &str) -> Result<&str, ServerError> {
    operator_name(text, "team name").map_err(ServerError::InvalidTeamName)
}

/// A username as both backends store it, checked as a team's name is ([`team_name`]): it
/// is printed in the same lists, and typed at sign-in and after `--coach`.
pub(crate) fn username(text: &str) -> Result<&str, ServerError> {
    operator_name(text, "username").map_err(ServerError::InvalidUsername)
}

/// The most characters a device's name may have.
pub const MAX_DEVICE_NAME_CHARS: usize = 200;

/// A device's name as a laptop gives it at sign-in, checked as a username is ([`username`]):
/// it is printed in the same tab-separated lists (`admin device list`) and on a team lead's
/// list of the team's laptops. Also 1 to [`MAX_DEVICE_NAME_CHARS`] characters.
pub(crate) fn device_name(text: &str) -> Result<&str, String> {
    let name = operator_name(text, "device name")?;
    if name.chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(format!("must be 1 to {MAX_DEVICE_NAME_CHARS} characters"));
    }
    Ok(name)
}

/// `text` trimmed, or why it cannot be a `what`.
fn operator_name<'a>(text: &'a str, what: &str) -> Result<&'a str, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err(format!("a {what} cannot be empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "the {what} {name:?} holds a control character (a tab or a line break)"
        ));
    }
    Ok(name)
}

/// How a conflict status is stored, in both backends.
pub(crate) fn conflict_status_name(status: ConflictStatus) -> &'static str {
    match status {
        ConflictStatus::Open => "open",
        ConflictStatus::AutoResolved => "auto_resolved",
        ConflictStatus::Resolved => "resolved",
    }
}

/// The stored name of a conflict status back, refusing anything else as corrupt data.
pub(crate) fn parse_conflict_status(text: &str) -> Result<ConflictStatus, ServerError> {
    match text {
        "open" => Ok(ConflictStatus::Open),
        "auto_resolved" => Ok(ConflictStatus::AutoResolved),
        "resolved" => Ok(ConflictStatus::Resolved),
        other => Err(ServerError::CorruptData(format!(
            "bad conflict status `{other}`"
        ))),
    }
}

/// Whether an open conflict's field was written after the conflict left it: its current write
/// is no longer the one the conflict left standing (the provisional value). A resolution then
/// would replace a value the team lead never saw, so it is refused and the conflict closed as
/// settled by that later write. Derived from what the conflict keeps: every later write to the
/// field (an edit, another conflict's winner, a merge, a resolution) has a new change id. A
/// field with no state left (erased) counts as written after, so nothing is written back.
pub(crate) fn is_superseded(
    conflict: &Conflict,
    current: Option<&crate::push::CurrentField>,
) -> bool {
    current.is_none_or(|current| {
        !conflict
            .values
            .iter()
            .any(|value| value.provisional && value.change_id == current.change_id)
    })
}

/// The columns of the `conflicts` table that make a [`Conflict`], in the order both
/// backends read them.
pub(crate) const CONFLICT_COLUMNS: &str = "id, entity, record_id, field, policy, status, base_version, \
     base_value, values_json, clock_skew, created_ms, resolved_by, resolved_ms, \
     resolution_change_id";

/// The open conflicts of the team `$1` and, of each closed status, its `$2` most recently
/// closed ones (closed at `resolved_ms`, or `created_ms` if closed when made; ties by id): at
/// most twice `$2` closed rows, each part read backwards along `conflicts_team_closed`
/// `(team_id, status, COALESCE(resolved_ms, created_ms), id)` (server schema 10, the
/// expression spelled as there) and cut there, so the read does not grow with the closed
/// ones. [`most_recently_closed_cut`] keeps the `$2` most recent of those. One text for both
/// backends.
pub(crate) fn open_and_recently_closed_conflicts_query() -> String {
    let recent = |status: &str| {
        format!(
            "SELECT {CONFLICT_COLUMNS} FROM (SELECT {CONFLICT_COLUMNS} FROM conflicts
             WHERE team_id = $1 AND status = '{status}'
             ORDER BY COALESCE(resolved_ms, created_ms) DESC, id DESC LIMIT $2) {status}"
        )
    };
    format!(
        "SELECT {CONFLICT_COLUMNS} FROM conflicts WHERE team_id = $1 AND status = 'open'
         UNION ALL {} UNION ALL {}",
        recent("resolved"),
        recent("auto_resolved")
    )
}

/// The rows of [`open_and_recently_closed_conflicts_query`] as listed: the open ones and the
/// `closed_limit` most recently closed ones ([`Conflict::closed_at`], then id), oldest
/// (lowest id) first.
pub(crate) fn most_recently_closed_cut(
    mut conflicts: Vec<Conflict>,
    closed_limit: u32,
) -> Vec<Conflict> {
    conflicts.sort_by_key(|conflict| std::cmp::Reverse((conflict.closed_at(), conflict.id)));
    let mut closed = 0;
    conflicts.retain(|conflict| {
        if conflict.status == ConflictStatus::Open {
            return true;
        }
        closed += 1;
        closed <= closed_limit
    });
    conflicts.sort_by_key(|conflict| conflict.id);
    conflicts
}

/// The current values the participant report reads, of every record of the team `$1`.
/// One text for both backends (SQLite reads `$1` as the first parameter).
pub(crate) fn report_values_query() -> String {
    format!(
        "SELECT r.entity, f.record_id, f.field, f.value FROM field_state f
         JOIN records r ON r.record_id = f.record_id
         WHERE r.team_id = $1
           AND ((r.entity = 'client' AND f.field IN ({}))
             OR (r.entity = 'contact' AND f.field IN ({})))",
        sql_field_list(tandem_reports::CLIENT_FIELDS),
        sql_field_list(tandem_reports::CONTACT_FIELDS)
    )
}

/// The effective writes of the client fields measured at participant_start, of the team `$1`.
pub(crate) fn report_history_query() -> String {
    format!(
        "SELECT record_id, field, value, hlc FROM change_log
         WHERE team_id = $1 AND entity = 'client' AND effective = TRUE AND field IN ({})
         ORDER BY seq",
        sql_field_list(tandem_reports::FIELDS_AT_START)
    )
}

/// A stored row the report cannot read is damaged data.
pub(crate) fn report_error(err: tandem_reports::ReportError) -> ServerError {
    ServerError::CorruptData(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgresql_and_an_sqlite_url_or_a_path_an_sqlite_file() {
        assert_eq!(
            DatabaseLocation::from_url("postgres://u:p@db:5432/tandem").unwrap(),
            DatabaseLocation::Postgres("postgres://u:p@db:5432/tandem".into())
        );
        assert!(matches!(
            DatabaseLocation::from_url("postgresql:///tandem"),
            Ok(DatabaseLocation::Postgres(_))
        ));
        for url in ["sqlite:/srv/t.db", "sqlite:///srv/t.db", "/srv/t.db"] {
            assert_eq!(
                DatabaseLocation::from_url(url).unwrap(),
                DatabaseLocation::Sqlite(PathBuf::from("/srv/t.db")),
                "{url}"
            );
        }
        // A colon in a path is only a colon.
        assert_eq!(
            DatabaseLocation::from_url("backups/2026-12-07T10:00.db").unwrap(),
            DatabaseLocation::Sqlite(PathBuf::from("backups/2026-12-07T10:00.db"))
        );
    }

    #[test]
    fn a_url_of_any_other_scheme_is_refused_without_showing_its_password() {
        for url in [
            "postgress://tandem:s3cret@db/tandem",
            "mysql://db/tandem",
            "file:///srv/t.db",
        ] {
            let err = DatabaseLocation::from_url(url).unwrap_err();
            assert!(
                matches!(err, ServerError::InvalidDatabaseUrl(_)),
                "{url}: {err}"
            );
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
        assert_eq!(
            DatabaseLocation::from_url("mysql://db/tandem")
                .unwrap_err()
                .to_string(),
            "invalid database URL: its scheme `mysql://` is not postgres://, postgresql:// or sqlite://"
        );
    }

    #[test]
    fn a_postgres_url_without_its_scheme_is_refused_rather_than_taken_for_a_file_path() {
        for url in [
            "tandem:s3cret@db.example/tandem",
            "tandem:s3cret@db.example",
            "user@db:5432/tandem",
            "tandem@db.example/tandem",
            "db.example:5432/tandem",
            "a:s3cret@db/tandem",
        ] {
            let err = DatabaseLocation::from_url(url).unwrap_err();
            assert!(
                matches!(err, ServerError::InvalidDatabaseUrl(_)),
                "{url}: {err}"
            );
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
        assert_eq!(
            DatabaseLocation::from_url("user@db:5432/tandem")
                .unwrap_err()
                .to_string(),
            "invalid database URL: it has no scheme but reads as a server's address (an @ or a : \
             before the first /); write postgres://USER:PASSWORD@HOST/DB for PostgreSQL, or \
             sqlite:PATH for an SQLite file"
        );
    }

    #[test]
    fn a_windows_path_or_a_path_after_sqlite_colon_is_an_sqlite_file_whatever_its_colons() {
        for path in [
            r"C:\ProgramData\Tandem\tandem-server.db",
            "C:/ProgramData/Tandem/tandem-server.db",
            r"d:\Users\amina@tikkurila\tandem.db",
            "backups/amina@tikkurila/tandem.db",
            "relative.db",
        ] {
            assert_eq!(
                DatabaseLocation::from_url(path).unwrap(),
                DatabaseLocation::Sqlite(PathBuf::from(path)),
                "{path}"
            );
        }
        for (url, path) in [
            ("sqlite:relative.db", "relative.db"),
            ("sqlite:2026-12-07T10:00.db", "2026-12-07T10:00.db"),
            ("sqlite:amina@tikkurila.db", "amina@tikkurila.db"),
        ] {
            assert_eq!(
                DatabaseLocation::from_url(url).unwrap(),
                DatabaseLocation::Sqlite(PathBuf::from(path)),
                "{url}"
            );
        }
    }

    #[test]
    fn team_and_user_names_are_trimmed_and_empty_ones_or_ones_with_a_tab_or_line_break_refused() {
        assert_eq!(
            team_name("  Vantaa Hakunila \n").unwrap(),
            "Vantaa Hakunila"
        );
        assert_eq!(username(" coach1\n").unwrap(), "coach1");
        for bad in ["", "  ", "Vantaa\tHakunila", "Vantaa\nHakunila"] {
            assert!(
                matches!(team_name(bad), Err(ServerError::InvalidTeamName(_))),
                "{bad:?}"
            );
            assert!(
                matches!(username(bad), Err(ServerError::InvalidUsername(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_site_name_is_trimmed_and_keyed_in_lower_case_and_bad_names_are_refused() {
        let name = SiteName::parse("  Myyrmäki LIBRARY Drop-in \n").unwrap();
        assert_eq!(name.name, "Myyrmäki LIBRARY Drop-in");
        assert_eq!(name.key, "myyrmäki library drop-in");
        assert_eq!(
            SiteName::parse("MYYRMÄKI library drop-in").unwrap().key,
            name.key
        );
        assert!(SiteName::parse(&"ä".repeat(MAX_SITE_NAME_CHARS)).is_ok());
        for bad in [
            String::new(),
            "   ".to_owned(),
            "ä".repeat(MAX_SITE_NAME_CHARS + 1),
            "Tikkurila\tNGO house".to_owned(),
        ] {
            assert!(
                matches!(SiteName::parse(&bad), Err(ServerError::InvalidSiteName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_postgres_location_is_shown_without_its_password() {
        let shown = DatabaseLocation::from_url(
            "postgres://tandem:s3cret@db.example:5432/tandem?sslmode=disable",
        )
        .unwrap()
        .to_string();
        assert_eq!(shown, "PostgreSQL database db.example:5432/tandem");
        assert!(
            !format!(
                "{:?}",
                DatabaseLocation::from_url("postgres://u:s3cret@h/d").unwrap()
            )
            .contains("s3cret")
        );
    }
}
