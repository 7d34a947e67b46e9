//! The serializable counterparts of the domain and store types that cross the UI boundary
//! (command inputs and outputs). Their TypeScript declarations are generated into
//! `ui/src/ipc/generated/` (see `typescript.rs`); the domain types stay free of the wire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use ts_rs::TS;

/// Field values by wire name, as the UI sends and receives them (DESIGN.md, "Values on the
/// wire": text as strings, sets as arrays, dates as `YYYY-MM-DD`, empty as null).
pub type FieldValues = BTreeMap<String, Json>;

/// One client as a line of a list or a search result.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ClientSummary {
    /// The record id (UUIDv7).
    pub id: String,
    /// Given name.
    pub given_name: String,
    /// Family name, when known.
    pub family_name: Option<String>,
    /// Nickname, when known.
    pub nickname: Option<String>,
    /// Year of birth, when known.
    pub birth_year: Option<i64>,
    /// Phone number in E.164.
    pub phone: Option<String>,
    /// Languages the client speaks (ISO 639).
    pub languages: Vec<String>,
    /// Whether the client needs an interpreter.
    pub interpreter_needed: bool,
    /// The preferred language, when known.
    pub preferred_language: Option<String>,
}

/// One contact, as the timeline and the follow-up list show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ContactView {
    /// The record id.
    pub id: String,
    /// The client, or none for an anonymous visitor.
    pub client_id: Option<String>,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// How it happened.
    pub channel: Option<String>,
    /// Where it happened: a site's id (its name is in [`SitesView`]).
    pub site: Option<String>,
    /// Whose contact it is: a user's id (the name is in [`UserNamesView`]).
    pub coach_id: Option<String>,
    /// Minutes spent.
    pub duration_min: Option<i64>,
    /// What it was about.
    pub topics: Vec<String>,
    /// Where the client was referred.
    pub referrals: Vec<String>,
    /// The language the service was given in.
    pub service_language: Option<String>,
    /// Whether an interpreter took part.
    pub interpreter_used: bool,
    /// A short summary.
    pub summary: Option<String>,
    /// The follow-up date, if one was set.
    pub follow_up_on: Option<String>,
    /// Whether the follow-up was done.
    pub follow_up_done: bool,
}

/// A contact with its client, for the form that edits it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ContactDetail {
    /// The contact.
    pub contact: ContactView,
    /// Its client (followed to the surviving client of a merge), none for an anonymous
    /// visitor.
    pub client: Option<ClientSummary>,
}

/// A client with everything the profile screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ClientDetail {
    /// The record id.
    pub id: String,
    /// Every field of the client by wire name.
    pub fields: FieldValues,
    /// Contacts, newest first.
    pub contacts: Vec<ContactView>,
    /// Open follow-ups of this client, earliest first.
    pub follow_ups: Vec<ContactView>,
    /// Contacts deleted (logged by mistake), newest first: they can be restored.
    pub deleted_contacts: Vec<DeletedContactView>,
}

/// A deleted contact, with who deleted it and when, so that a coach restores a colleague's
/// deletion knowingly.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DeletedContactView {
    /// The contact as it was deleted.
    pub contact: ContactView,
    /// Who deleted it (a user's id; the name is in [`UserNamesView`]), when this laptop knows.
    pub deleted_by: Option<String>,
    /// Whether the signed-in user deleted it: restoring a colleague's deletion asks first.
    pub deleted_by_me: bool,
    /// When it was deleted (RFC 3339), when this laptop knows.
    pub deleted_at: Option<String>,
}

/// A site (NGO premises) where contacts happen, as the server names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SiteView {
    /// The value of a contact's `site`.
    pub id: String,
    /// The premises' name.
    pub name: String,
    /// No longer offered for new contacts; still named for old ones.
    pub archived: bool,
}

/// The sites this laptop knows (from its last sync), and where the signed-in coach logged
/// their newest contact, for the contact form to start from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SitesView {
    /// Every site, archived ones included, by name.
    pub sites: Vec<SiteView>,
    /// The site of the coach's newest contact, unless it was archived since.
    pub last_used: Option<String>,
}

/// The people this laptop can name, by user id: the team's users (from its last sync) and
/// everyone who signed in on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct UserNamesView {
    /// Usernames by user id.
    pub names: BTreeMap<String, String>,
}

/// A new client: field values by wire name.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
pub struct ClientDraft {
    /// The values entered.
    pub fields: FieldValues,
    /// The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
    #[serde(default)]
    #[ts(optional)]
    pub form: Option<String>,
}

/// Changed fields of an existing client or contact.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
pub struct RecordEdit {
    /// The record.
    pub id: String,
    /// Only the fields to change; null clears a field.
    pub fields: FieldValues,
    /// The values the form was filled with, of the fields it changes: a field whose value is
    /// no longer that one (a colleague's edit a sync brought while the form was open) refuses
    /// the save (`changed_meanwhile`, nothing written), so that it is not written over unseen.
    #[serde(default)]
    #[ts(optional)]
    pub before: Option<FieldValues>,
    /// The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
    #[serde(default)]
    #[ts(optional)]
    pub form: Option<String>,
}

impl RecordEdit {
    /// What the form's save brings beside its values.
    pub fn form_save(&self) -> tandem_store::FormSave<'_> {
        tandem_store::FormSave {
            before: self.before.as_ref(),
            draft: self.form.as_deref(),
            deleted: None,
        }
    }
}

/// A new contact. `client_id` none is an anonymous drop-in visitor. `occurred_at` and
/// `channel` default to now and `drop_in`.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
pub struct ContactDraft {
    /// The client, or none for an anonymous visitor.
    pub client_id: Option<String>,
    /// The other values entered.
    pub fields: FieldValues,
    /// The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
    #[serde(default)]
    #[ts(optional)]
    pub form: Option<String>,
}

/// The signed-in user's kept draft of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FormDraftView {
    /// Which form (the app's name for it, as given to `set_form_draft`).
    pub form: String,
    /// Its values, as the app wrote them.
    pub text: String,
}

/// The id of a record a command made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RecordRef {
    /// The record id.
    pub id: String,
}

/// What an edit changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct EditResult {
    /// Wire names of the fields whose value changed.
    pub changed_fields: Vec<String>,
}

/// A follow-up with its client, for the follow-up list.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct FollowUpItem {
    /// The contact that set the follow-up.
    pub contact: ContactView,
    /// Its client (none for an anonymous visitor).
    pub client: Option<ClientSummary>,
}

/// A contact the signed-in coach logged lately, for the Today screen's list of them: each can
/// be corrected, and one the coach deleted taken back (an anonymous visit has no profile that
/// would offer it).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LoggedContact {
    /// The contact.
    pub contact: ContactView,
    /// Its client (none for an anonymous visitor, or one this laptop does not hold).
    pub client: Option<ClientSummary>,
    /// Deleted by the signed-in coach (one a colleague deleted is not listed: restoring it
    /// asks first, on the client's profile).
    pub deleted: bool,
}

/// The contacts the signed-in coach logged in some days, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct LoggedContacts {
    /// The newest of them (at most 100 a day asked for).
    pub items: Vec<LoggedContact>,
    /// Whether older ones of those days are left out.
    pub more: bool,
}

/// Some of the open follow-ups due in a span of days, and how many there are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct FollowUpGroup {
    /// The first of them (at most 100), in the order the screen lists them.
    pub items: Vec<FollowUpItem>,
    /// How many there are in all.
    pub total: u64,
}

/// Open follow-ups by when they are due.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct FollowUpsDue {
    /// Due before today, the most recently due first.
    pub overdue: FollowUpGroup,
    /// Due today.
    pub today: FollowUpGroup,
    /// Due later this week (up to Sunday), the earliest first.
    pub this_week: FollowUpGroup,
}

/// Who is signed in and whether the app is unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SessionState {
    /// Whether a user has signed in on this laptop (online) at least once.
    pub signed_in: bool,
    /// Whether the app is unlocked now.
    pub unlocked: bool,
    /// The user name.
    pub username: Option<String>,
    /// `coach`, `team_lead` or `admin`.
    pub role: Option<String>,
    /// The team (organisation unit) of this laptop.
    pub team: Option<String>,
    /// The server this laptop syncs with.
    pub server_url: Option<String>,
    /// Seconds until unlocking is allowed again after too many wrong passwords.
    pub unlock_wait_secs: Option<u64>,
}

/// The first, online sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct SignInInput {
    /// The server's base URL, e.g. `https://tandem.vantaa.example`.
    pub server_url: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Unlocking after a lock or a restart; works offline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct UnlockInput {
    /// The user's password.
    pub password: String,
}

/// The state of syncing, for the always-visible status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct SyncStatusView {
    /// Whether the last attempt reached the server (none before any attempt).
    pub online: Option<bool>,
    /// Whether a sync is running now.
    pub syncing: bool,
    /// Field changes waiting for the server.
    pub pending_count: u64,
    /// Changes the server refused.
    pub rejected_count: u64,
    /// Open conflicts this laptop knows.
    pub open_conflicts: u64,
    /// When the last sync finished (RFC 3339).
    pub last_sync_at: Option<String>,
    /// The error of the last attempt, if it failed.
    pub last_error: Option<CommandErrorView>,
    /// When the next attempt is due after failed ones (RFC 3339; none while nothing failed,
    /// while a sync runs, and when a person is needed: signing in again, an update).
    pub next_attempt_at: Option<String>,
    /// Whether this laptop's clock is more than five minutes off the server's.
    pub clock_skewed: bool,
    /// Whether the server wants a newer version of Tandem.
    pub update_required: bool,
    /// The server.
    pub server_url: Option<String>,
}

/// An error kept in a status (the serializable form of a past [`crate::error::CommandError`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CommandErrorView {
    /// What kind of problem it was.
    pub kind: crate::error::ErrorKind,
    /// The detail.
    pub message: String,
}

/// One change waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PendingChangeView {
    /// The change id.
    pub change_id: String,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: String,
    /// A readable name of the record (the client's name, or the contact's date).
    pub record_label: String,
    /// The field.
    pub field: String,
    /// The value (JSON).
    pub value: Json,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Who made it (user id): the screen groups changes by coach.
    pub author_id: String,
    /// Who made it: the user name when this laptop knows it, else the end of the user id.
    pub author: String,
}

/// A change the server refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RejectedChangeView {
    /// The change id (to retry or dismiss it).
    pub change_id: String,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: String,
    /// A readable name of the record.
    pub record_label: String,
    /// The field.
    pub field: String,
    /// The refused value (JSON).
    pub value: Json,
    /// The server's reason, in its own words (English): what IT reads.
    pub reason: String,
    /// The kind of refusal, which the UI explains in the user's language; none when the
    /// server sent no code (an older server, or a refusal stored before codes existed).
    pub reason_code: Option<tandem_protocol::RejectCode>,
    /// When it was refused.
    pub rejected_at: String,
    /// Who made it (user id): the screen groups changes by coach.
    pub author_id: String,
    /// Who made it: the user name when this laptop knows it, else the end of the user id.
    pub author: String,
}

/// One conflict of one field: the base, every value with its author and time, side by side.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ConflictView {
    /// The server's conflict id.
    pub id: i64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: String,
    /// A readable name of the record.
    pub record_label: String,
    /// The field.
    pub field: String,
    /// `lww`, `review`, `set` or `text`.
    pub policy: String,
    /// `open`, `auto_resolved` or `resolved`.
    pub status: String,
    /// The value both sides started from.
    pub base_value: Json,
    /// The values in conflict, in the server's order, with who wrote them and when.
    pub candidates: Vec<ConflictCandidate>,
    /// The value of the field on this laptop now.
    pub current_value: Json,
    /// Whether a writer's clock was more than five minutes ahead of the server's.
    pub clock_skew: bool,
    /// When the server detected it (RFC 3339), when known.
    pub created_at: Option<String>,
    /// When a team lead resolved it (RFC 3339).
    pub resolved_at: Option<String>,
    /// Whether this user may resolve it here (a team lead, an open conflict, values known).
    pub can_resolve: bool,
}

/// One side of a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ConflictCandidate {
    /// The value.
    pub value: Json,
    /// Who wrote it: a user name when this laptop knows it, else the end of the user id.
    pub author: String,
    /// The author's user id (the UI names team members from the team's laptops).
    pub author_id: String,
    /// When, by the writer's clock (RFC 3339, from the HLC).
    pub written_at: String,
    /// Whether it was written on this laptop.
    pub from_this_device: bool,
    /// Whether it stood after the conflict (the provisional or lww winner).
    pub standing: bool,
}

/// Everything that has not reached the server, and the conflicts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct UnsyncedView {
    /// Changes waiting.
    pub pending: Vec<PendingChangeView>,
    /// Changes refused.
    pub rejected: Vec<RejectedChangeView>,
    /// Open conflicts.
    pub conflicts: Vec<ConflictView>,
    /// Conflicts decided already (auto-resolved by lww, or resolved by a team lead), the most
    /// recently decided first (ties: the higher id first); team leads only.
    pub closed_conflicts: Vec<ConflictView>,
    /// Whether the signed-in user is a team lead (review, device health).
    pub team_lead: bool,
    /// The people this laptop can name (the team's users from its last sync, everyone who
    /// signed in here), names by user id: a contact's coach (`coach_id`) and a change's
    /// author are shown by name.
    pub user_names: BTreeMap<String, String>,
}

/// A choice in a conflict: the value that should stand.
#[derive(Debug, Clone, PartialEq, Deserialize, TS)]
pub struct ConflictResolution {
    /// The conflict.
    pub conflict_id: i64,
    /// The chosen value (JSON): one of the candidates, or another one.
    pub value: Json,
}

/// One laptop of the team, for the team lead's health list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DeviceHealthView {
    /// The device id.
    pub id: String,
    /// The name given at sign-in.
    pub name: String,
    /// Who signed in on it.
    pub username: String,
    /// Their user id.
    pub user_id: String,
    /// The app version of its last push.
    pub app_version: Option<String>,
    /// How many changes it still had to send at its last push.
    pub pending_count: u64,
    /// Its last sync (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Whole days since then.
    pub days_since_sync: Option<i64>,
    /// Not synced for more than `stale_after_days`: its unsynced data is at risk.
    pub at_risk: bool,
}

/// The team's laptops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TeamDevicesView {
    /// The laptops, the ones at risk first.
    pub devices: Vec<DeviceHealthView>,
    /// After how many days without a sync a laptop is flagged.
    pub stale_after_days: i64,
}

/// The period of a participant report, as the user typed it (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct ReportRequest {
    /// First day.
    pub from: String,
    /// Last day, included.
    pub to: String,
}

/// Where the figures of a report come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    /// The server: the whole team, as synced.
    Server,
    /// This laptop's store (the server could not be reached).
    Laptop,
}

/// A participant report for the Reports screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReportView {
    /// Who computed it.
    pub source: ReportSource,
    /// Why the laptop's data is shown, when it is (the server's error, in English).
    pub offline_reason: Option<String>,
    /// The figures.
    pub report: tandem_protocol::ParticipantReport,
    /// The same figures as CSV (`from,to,indicator,category,count`).
    pub csv: String,
}

/// An interface language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum InterfaceLanguage {
    /// Finnish (suomi).
    #[default]
    Fi,
    /// Swedish (svenska).
    Sv,
    /// English.
    En,
}

/// The settings screen: what the user may change and what IT set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SettingsView {
    /// The interface language.
    pub language: InterfaceLanguage,
    /// Minutes of inactivity before the app locks.
    pub lock_after_minutes: u32,
    /// The server (read-only).
    pub server_url: Option<String>,
    /// Whether IT set the server in the provisioning file (then sign-in cannot change it).
    pub server_provisioned: bool,
    /// The organisation / team (read-only).
    pub organisation: Option<String>,
    /// This laptop's data directory.
    pub data_dir: String,
}

/// What the user changes on the settings screen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct SettingsInput {
    /// The interface language.
    pub language: InterfaceLanguage,
}

/// Progress of a sync, pushed to the UI as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A sync started.
    Started,
    /// Changes were pushed.
    Pushed {
        /// How many.
        count: u64,
    },
    /// Changes were pulled.
    Pulled {
        /// How many, in this page.
        count: u64,
        /// How many records this page erased from the laptop (an erasure, a retention purge).
        purged: u64,
        /// How many this sync has received so far.
        received: u64,
        /// How far the pull has come, 0 to 100 (none when the server does not say where it
        /// ends).
        percent: Option<u8>,
    },
    /// The sync ended; the new status follows.
    Finished {
        /// The status after the sync.
        status: SyncStatusView,
        /// Whether the conflicts this laptop holds differ from those before the sync (the
        /// open ones, and the newest), or could not be read. A team lead's are mirrored from
        /// the server with every cycle: one closed by another lead and another opened leave
        /// the count of open ones as it was.
        conflicts_changed: bool,
    },
}

/// One client of a duplicate pair, as a team lead compares it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DuplicateClientView {
    /// The record id.
    pub id: String,
    /// Its key fields by wire name (names, birth year, phone, ...); empty ones are null.
    pub fields: FieldValues,
    /// How many contacts it has on the server.
    pub contact_count: u64,
}

/// A pair of the team's clients that may be one person.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DuplicatePairView {
    /// The client registered first.
    pub first: DuplicateClientView,
    /// The other one.
    pub second: DuplicateClientView,
    /// Why they are proposed: `same_phone`, `same_birth_year_and_name`.
    pub reasons: Vec<String>,
    /// How alike the names are, 0 to 1.
    pub score: f64,
    /// The fields whose values differ between the two (to highlight).
    pub differing_fields: Vec<String>,
}

/// A merge a team lead made, for undoing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DuplicateMergeView {
    /// The merge's id.
    pub id: String,
    /// The client that stayed.
    pub survivor_id: String,
    /// Its name, as this laptop knows it.
    pub survivor_label: String,
    /// The client merged into it.
    pub duplicate_id: String,
    /// Its name, as this laptop knows it.
    pub duplicate_label: String,
    /// How many contacts were moved.
    pub contact_count: u64,
    /// When (RFC 3339).
    pub merged_at: String,
    /// When it was undone, if it was.
    pub undone_at: Option<String>,
}

/// The team lead's duplicate clients: the candidate pairs and the recent merges.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DuplicatesView {
    /// Candidate pairs, best first.
    pub candidates: Vec<DuplicatePairView>,
    /// Recent merges, newest first.
    pub merges: Vec<DuplicateMergeView>,
}

/// Two clients of a duplicate pair: for a merge, `first` stays and `second` is merged into
/// it; for a dismissal, the order does not matter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct DuplicatePairInput {
    /// The client that stays (merge) or one of the pair (dismissal).
    pub first_id: String,
    /// The client merged into the other (merge) or the other one (dismissal).
    pub second_id: String,
}

/// The format of a client's subject-access export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormatInput {
    /// Everything as one JSON document.
    Json,
    /// One row per current field and per history entry.
    Csv,
}

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ErasureView {
    /// The records erased: the client, its contacts and clients merged into it.
    pub records: u64,
    /// Records gone from this laptop after the sync right after the erasure (all of them);
    /// 0 when that sync failed (the erasure stands, and the next sync removes them here).
    pub purged_here: u64,
}

/// A page of the audit log to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct AuditRequest {
    /// The last `seq` already shown (0 for the first page).
    pub after: u64,
    /// Only the entries of this record (a UUID), when given.
    pub record_id: Option<String>,
}

/// One audit entry: who did what to which record, and when. Never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditEntryView {
    /// Its place in the chain.
    pub seq: u64,
    /// When (RFC 3339).
    pub at: String,
    /// `user:<id> device:<id>`, `operator` or `system`.
    pub actor: String,
    /// `login`, `read`, `change`, `resolve`, `merge`, `undo_merge`, `dismiss_duplicate`, `export`, `erase` or `purge`.
    pub action: String,
    /// `client` or `contact`, when about one record.
    pub entity: Option<String>,
    /// The record, when about one.
    pub record_id: Option<String>,
    /// Counts, field names and record ids.
    pub detail: String,
}

/// A page of the audit log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditPageView {
    /// The entries.
    pub entries: Vec<AuditEntryView>,
    /// The `after` of the next page.
    pub next: u64,
    /// Whether more entries wait after `next`.
    pub has_more: bool,
}
