// Generated from Rust by src-tauri/src/typescript.rs; do not edit.
// Regenerate: TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ErrorKind = "validation" | "not_found" | "keyring_unavailable" | "store_unreadable" | "update_required" | "locked" | "not_signed_in" | "wrong_password" | "locked_out" | "offline" | "needs_connection" | "not_allowed" | "conflict_not_open" | "changed_meanwhile" | "server" | "wrong_server_address" | "sign_in_mismatch" | "device_revoked" | "device_not_recognised" | "invalid_provisioning" | "disk_full" | "store" | "file_not_saved" | "not_on_server" | "updates_off" | "update_unverified" | "update_failed";

export type Rule = { "rule": "required" } | { "rule": "empty" } | { "rule": "too_long", 
/**
 * The most characters allowed.
 */
max: number, } | { "rule": "one_line" } | { "rule": "control_characters" } | { "rule": "phone_length" } | { "rule": "phone_prefix" } | { "rule": "phone_digits" } | { "rule": "phone_international" } | { "rule": "email_no_at" } | { "rule": "email_many_at" } | { "rule": "email_local_part" } | { "rule": "email_spaces" } | { "rule": "email_domain" } | { "rule": "language" } | { "rule": "unknown_choice" } | { "rule": "year_range", 
/**
 * The earliest year allowed.
 */
min: number, 
/**
 * The latest year allowed.
 */
max: number, } | { "rule": "number_range", 
/**
 * The smallest number allowed.
 */
min: number, 
/**
 * The largest number allowed.
 */
max: number, } | { "rule": "date" } | { "rule": "date_time" } | { "rule": "too_many_members", 
/**
 * The most members allowed.
 */
max: number, } | { "rule": "wrong_type" } | { "rule": "lawful_basis_required" } | { "rule": "lawful_basis_in_use", 
/**
 * The client field that still holds special-category data.
 */
field: string, } | { "rule": "too_late", 
/**
 * The last day allowed, YYYY-MM-DD.
 */
latest: string, };

export type CommandError = { 
/**
 * What kind of problem it is (the UI translates it).
 */
kind: ErrorKind, 
/**
 * The detail, in English, for the "details" disclosure and for support.
 */
message: string, 
/**
 * The field at fault, for validation errors.
 */
field: string | null, 
/**
 * The rule the field's value broke, for validation errors of a value (the UI says it
 * in the user's language, `message` in English).
 */
rule?: Rule, 
/**
 * The server's refusal of the field's value, for validation errors the server found
 * (a conflict's resolution naming a user outside the team, say): the UI says it in the
 * user's language, `message` holds the server's English words.
 */
reason_code?: RejectCode, };

export type ClientSummary = { 
/**
 * The record id (UUIDv7).
 */
id: string, 
/**
 * Given name.
 */
given_name: string, 
/**
 * Family name, when known.
 */
family_name: string | null, 
/**
 * Nickname, when known.
 */
nickname: string | null, 
/**
 * Year of birth, when known.
 */
birth_year: number | null, 
/**
 * Phone number in E.164.
 */
phone: string | null, 
/**
 * Languages the client speaks (ISO 639).
 */
languages: Array<string>, 
/**
 * Whether the client needs an interpreter.
 */
interpreter_needed: boolean, 
/**
 * The preferred language, when known.
 */
preferred_language: string | null, };

export type ContactView = { 
/**
 * The record id.
 */
id: string, 
/**
 * The client, or none for an anonymous visitor.
 */
client_id: string | null, 
/**
 * When it happened (RFC 3339).
 */
occurred_at: string, 
/**
 * How it happened.
 */
channel: string | null, 
/**
 * Where it happened: a site's id (its name is in [`SitesView`]).
 */
site: string | null, 
/**
 * Whose contact it is: a user's id (the name is in [`UserNamesView`]).
 */
coach_id: string | null, 
/**
 * Minutes spent.
 */
duration_min: number | null, 
/**
 * What it was about.
 */
topics: Array<string>, 
/**
 * Where the client was referred.
 */
referrals: Array<string>, 
/**
 * The language the service was given in.
 */
service_language: string | null, 
/**
 * Whether an interpreter took part.
 */
interpreter_used: boolean, 
/**
 * A short summary.
 */
summary: string | null, 
/**
 * The follow-up date, if one was set.
 */
follow_up_on: string | null, 
/**
 * Whether the follow-up was done.
 */
follow_up_done: boolean, };

export type ContactDetail = { 
/**
 * The contact.
 */
contact: ContactView, 
/**
 * Its client (followed to the surviving client of a merge), none for an anonymous
 * visitor.
 */
client: ClientSummary | null, };

export type DeletedContactView = { 
/**
 * The contact as it was deleted.
 */
contact: ContactView, 
/**
 * Who deleted it (a user's id; the name is in [`UserNamesView`]), when this laptop knows.
 */
deleted_by: string | null, 
/**
 * Whether the signed-in user deleted it: restoring a colleague's deletion asks first.
 */
deleted_by_me: boolean, 
/**
 * When it was deleted (RFC 3339), when this laptop knows.
 */
deleted_at: string | null, };

export type FormDraftView = { 
/**
 * Which form (the app's name for it, as given to `set_form_draft`).
 */
form: string, 
/**
 * Its values, as the app wrote them.
 */
text: string, };

export type SiteView = { 
/**
 * The value of a contact's `site`.
 */
id: string, 
/**
 * The premises' name.
 */
name: string, 
/**
 * No longer offered for new contacts; still named for old ones.
 */
archived: boolean, };

export type SitesView = { 
/**
 * Every site, archived ones included, by name.
 */
sites: Array<SiteView>, 
/**
 * The site of the coach's newest contact, unless it was archived since.
 */
last_used: string | null, };

export type UserNamesView = { 
/**
 * Usernames by user id.
 */
names: { [key in string]: string }, };

export type ClientDetail = { 
/**
 * The record id.
 */
id: string, 
/**
 * Every field of the client by wire name.
 */
fields: { [key in string]: JsonValue }, 
/**
 * Contacts, newest first.
 */
contacts: Array<ContactView>, 
/**
 * Open follow-ups of this client, earliest first.
 */
follow_ups: Array<ContactView>, 
/**
 * Contacts deleted (logged by mistake), newest first: they can be restored.
 */
deleted_contacts: Array<DeletedContactView>, };

export type ClientDraft = { 
/**
 * The values entered.
 */
fields: { [key in string]: JsonValue }, 
/**
 * The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
 */
form?: string, };

export type RecordEdit = { 
/**
 * The record.
 */
id: string, 
/**
 * Only the fields to change; null clears a field.
 */
fields: { [key in string]: JsonValue }, 
/**
 * The values the form was filled with, of the fields it changes: a field whose value is
 * no longer that one (a colleague's edit a sync brought while the form was open) refuses
 * the save (`changed_meanwhile`, nothing written), so that it is not written over unseen.
 */
before?: { [key in string]: JsonValue }, 
/**
 * The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
 */
form?: string, };

export type ContactDraft = { 
/**
 * The client, or none for an anonymous visitor.
 */
client_id: string | null, 
/**
 * The other values entered.
 */
fields: { [key in string]: JsonValue }, 
/**
 * The form whose kept draft this saves (`set_form_draft`): forgotten with the save.
 */
form?: string, };

export type RecordRef = { 
/**
 * The record id.
 */
id: string, };

export type EditResult = { 
/**
 * Wire names of the fields whose value changed.
 */
changed_fields: Array<string>, };

export type FollowUpItem = { 
/**
 * The contact that set the follow-up.
 */
contact: ContactView, 
/**
 * Its client (none for an anonymous visitor).
 */
client: ClientSummary | null, };

export type LoggedContact = { 
/**
 * The contact.
 */
contact: ContactView, 
/**
 * Its client (none for an anonymous visitor, or one this laptop does not hold).
 */
client: ClientSummary | null, 
/**
 * Deleted by the signed-in coach (one a colleague deleted is not listed: restoring it
 * asks first, on the client's profile).
 */
deleted: boolean, };

export type LoggedContacts = { 
/**
 * The newest of them (at most 100 a day asked for).
 */
items: Array<LoggedContact>, 
/**
 * Whether older ones of those days are left out.
 */
more: boolean, };

export type FollowUpGroup = { 
/**
 * The first of them (at most 100), in the order the screen lists them.
 */
items: Array<FollowUpItem>, 
/**
 * How many there are in all.
 */
total: number, };

export type FollowUpsDue = { 
/**
 * Due before today, the most recently due first.
 */
overdue: FollowUpGroup, 
/**
 * Due today.
 */
today: FollowUpGroup, 
/**
 * Due later this week (up to Sunday), the earliest first.
 */
this_week: FollowUpGroup, };

export type SessionState = { 
/**
 * Whether a user has signed in on this laptop (online) at least once.
 */
signed_in: boolean, 
/**
 * Whether the app is unlocked now.
 */
unlocked: boolean, 
/**
 * The user name.
 */
username: string | null, 
/**
 * `coach`, `team_lead` or `admin`.
 */
role: string | null, 
/**
 * The team (organisation unit) of this laptop.
 */
team: string | null, 
/**
 * The server this laptop syncs with.
 */
server_url: string | null, 
/**
 * Seconds until unlocking is allowed again after too many wrong passwords.
 */
unlock_wait_secs: number | null, };

export type SignInInput = { 
/**
 * The server's base URL, e.g. `https://tandem.vantaa.example`.
 */
server_url: string, 
/**
 * User name.
 */
username: string, 
/**
 * Password.
 */
password: string, };

export type UnlockInput = { 
/**
 * The user's password.
 */
password: string, };

export type SyncStatusView = { 
/**
 * Whether the last attempt reached the server (none before any attempt).
 */
online: boolean | null, 
/**
 * Whether a sync is running now.
 */
syncing: boolean, 
/**
 * Field changes waiting for the server.
 */
pending_count: number, 
/**
 * Changes the server refused.
 */
rejected_count: number, 
/**
 * Open conflicts this laptop knows.
 */
open_conflicts: number, 
/**
 * When the last sync finished (RFC 3339).
 */
last_sync_at: string | null, 
/**
 * The error of the last attempt, if it failed.
 */
last_error: CommandErrorView | null, 
/**
 * When the next attempt is due after failed ones (RFC 3339; none while nothing failed,
 * while a sync runs, and when a person is needed: signing in again, an update).
 */
next_attempt_at: string | null, 
/**
 * Whether this laptop's clock is more than five minutes off the server's.
 */
clock_skewed: boolean, 
/**
 * Whether the server wants a newer version of Tandem.
 */
update_required: boolean, 
/**
 * The server.
 */
server_url: string | null, };

export type CommandErrorView = { 
/**
 * What kind of problem it was.
 */
kind: ErrorKind, 
/**
 * The detail.
 */
message: string, };

export type PendingChangeView = { 
/**
 * The change id.
 */
change_id: string, 
/**
 * `client` or `contact`.
 */
entity: string, 
/**
 * The record.
 */
record_id: string, 
/**
 * A readable name of the record (the client's name, or the contact's date).
 */
record_label: string, 
/**
 * The field.
 */
field: string, 
/**
 * The value (JSON).
 */
value: JsonValue, 
/**
 * When it was made (RFC 3339).
 */
created_at: string, 
/**
 * Who made it (user id): the screen groups changes by coach.
 */
author_id: string, 
/**
 * Who made it: the user name when this laptop knows it, else the end of the user id.
 */
author: string, };

export type RejectCode = "invalid_value" | "unknown_field" | "unknown_site" | "user_not_in_team" | "lawful_basis_required" | "lawful_basis_in_use" | "record_erased" | "other_team" | "invalid_change" | "other";

export type RejectedChangeView = { 
/**
 * The change id (to retry or dismiss it).
 */
change_id: string, 
/**
 * `client` or `contact`.
 */
entity: string, 
/**
 * The record.
 */
record_id: string, 
/**
 * A readable name of the record.
 */
record_label: string, 
/**
 * The field.
 */
field: string, 
/**
 * The refused value (JSON).
 */
value: JsonValue, 
/**
 * The server's reason, in its own words (English): what IT reads.
 */
reason: string, 
/**
 * The kind of refusal, which the UI explains in the user's language; none when the
 * server sent no code (an older server, or a refusal stored before codes existed).
 */
reason_code: RejectCode | null, 
/**
 * When it was refused.
 */
rejected_at: string, 
/**
 * Who made it (user id): the screen groups changes by coach.
 */
author_id: string, 
/**
 * Who made it: the user name when this laptop knows it, else the end of the user id.
 */
author: string, };

export type ConflictView = { 
/**
 * The server's conflict id.
 */
id: number, 
/**
 * `client` or `contact`.
 */
entity: string, 
/**
 * The record.
 */
record_id: string, 
/**
 * A readable name of the record.
 */
record_label: string, 
/**
 * The field.
 */
field: string, 
/**
 * `lww`, `review`, `set` or `text`.
 */
policy: string, 
/**
 * `open`, `auto_resolved` or `resolved`.
 */
status: string, 
/**
 * The value both sides started from.
 */
base_value: JsonValue, 
/**
 * The values in conflict, in the server's order, with who wrote them and when.
 */
candidates: Array<ConflictCandidate>, 
/**
 * The value of the field on this laptop now.
 */
current_value: JsonValue, 
/**
 * Whether a writer's clock was more than five minutes ahead of the server's.
 */
clock_skew: boolean, 
/**
 * When the server detected it (RFC 3339), when known.
 */
created_at: string | null, 
/**
 * When a team lead resolved it (RFC 3339).
 */
resolved_at: string | null, 
/**
 * Whether this user may resolve it here (a team lead, an open conflict, values known).
 */
can_resolve: boolean, };

export type ConflictCandidate = { 
/**
 * The value.
 */
value: JsonValue, 
/**
 * Who wrote it: a user name when this laptop knows it, else the end of the user id.
 */
author: string, 
/**
 * The author's user id (the UI names team members from the team's laptops).
 */
author_id: string, 
/**
 * When, by the writer's clock (RFC 3339, from the HLC).
 */
written_at: string, 
/**
 * Whether it was written on this laptop.
 */
from_this_device: boolean, 
/**
 * Whether it stood after the conflict (the provisional or lww winner).
 */
standing: boolean, };

export type UnsyncedView = { 
/**
 * Changes waiting.
 */
pending: Array<PendingChangeView>, 
/**
 * Changes refused.
 */
rejected: Array<RejectedChangeView>, 
/**
 * Open conflicts.
 */
conflicts: Array<ConflictView>, 
/**
 * Conflicts decided already (auto-resolved by lww, or resolved by a team lead), the most
 * recently decided first (ties: the higher id first); team leads only.
 */
closed_conflicts: Array<ConflictView>, 
/**
 * Whether the signed-in user is a team lead (review, device health).
 */
team_lead: boolean, 
/**
 * The people this laptop can name (the team's users from its last sync, everyone who
 * signed in here), names by user id: a contact's coach (`coach_id`) and a change's
 * author are shown by name.
 */
user_names: { [key in string]: string }, };

export type ConflictResolution = { 
/**
 * The conflict.
 */
conflict_id: number, 
/**
 * The chosen value (JSON): one of the candidates, or another one.
 */
value: JsonValue, };

export type DeviceHealthView = { 
/**
 * The device id.
 */
id: string, 
/**
 * The name given at sign-in.
 */
name: string, 
/**
 * Who signed in on it.
 */
username: string, 
/**
 * Their user id.
 */
user_id: string, 
/**
 * The app version of its last push.
 */
app_version: string | null, 
/**
 * How many changes it still had to send at its last push.
 */
pending_count: number, 
/**
 * Its last sync (RFC 3339).
 */
last_sync_at: string | null, 
/**
 * Whole days since then.
 */
days_since_sync: number | null, 
/**
 * Not synced for more than `stale_after_days`: its unsynced data is at risk.
 */
at_risk: boolean, };

export type TeamDevicesView = { 
/**
 * The laptops, the ones at risk first.
 */
devices: Array<DeviceHealthView>, 
/**
 * After how many days without a sync a laptop is flagged.
 */
stale_after_days: number, };

export type DuplicateClientView = { 
/**
 * The record id.
 */
id: string, 
/**
 * Its key fields by wire name (names, birth year, phone, ...); empty ones are null.
 */
fields: { [key in string]: JsonValue }, 
/**
 * How many contacts it has on the server.
 */
contact_count: number, };

export type DuplicatePairView = { 
/**
 * The client registered first.
 */
first: DuplicateClientView, 
/**
 * The other one.
 */
second: DuplicateClientView, 
/**
 * Why they are proposed: `same_phone`, `same_birth_year_and_name`.
 */
reasons: Array<string>, 
/**
 * How alike the names are, 0 to 1.
 */
score: number, 
/**
 * The fields whose values differ between the two (to highlight).
 */
differing_fields: Array<string>, };

export type DuplicateMergeView = { 
/**
 * The merge's id.
 */
id: string, 
/**
 * The client that stayed.
 */
survivor_id: string, 
/**
 * Its name, as this laptop knows it.
 */
survivor_label: string, 
/**
 * The client merged into it.
 */
duplicate_id: string, 
/**
 * Its name, as this laptop knows it.
 */
duplicate_label: string, 
/**
 * How many contacts were moved.
 */
contact_count: number, 
/**
 * When (RFC 3339).
 */
merged_at: string, 
/**
 * When it was undone, if it was.
 */
undone_at: string | null, };

export type DuplicatesView = { 
/**
 * Candidate pairs, best first.
 */
candidates: Array<DuplicatePairView>, 
/**
 * Recent merges, newest first.
 */
merges: Array<DuplicateMergeView>, };

export type DuplicatePairInput = { 
/**
 * The client that stays (merge) or one of the pair (dismissal).
 */
first_id: string, 
/**
 * The client merged into the other (merge) or the other one (dismissal).
 */
second_id: string, };

export type InterfaceLanguage = "fi" | "sv" | "en";

export type SettingsView = { 
/**
 * The interface language.
 */
language: InterfaceLanguage, 
/**
 * Minutes of inactivity before the app locks.
 */
lock_after_minutes: number, 
/**
 * The server (read-only).
 */
server_url: string | null, 
/**
 * Whether IT set the server in the provisioning file (then sign-in cannot change it).
 */
server_provisioned: boolean, 
/**
 * The organisation / team (read-only).
 */
organisation: string | null, 
/**
 * This laptop's data directory.
 */
data_dir: string, };

export type SettingsInput = { 
/**
 * The interface language.
 */
language: InterfaceLanguage, };

export type SyncEvent = { "event": "started" } | { "event": "pushed", 
/**
 * How many.
 */
count: number, } | { "event": "pulled", 
/**
 * How many, in this page.
 */
count: number, 
/**
 * How many records this page erased from the laptop (an erasure, a retention purge).
 */
purged: number, 
/**
 * How many this sync has received so far.
 */
received: number, 
/**
 * How far the pull has come, 0 to 100 (none when the server does not say where it
 * ends).
 */
percent: number | null, } | { "event": "finished", 
/**
 * The status after the sync.
 */
status: SyncStatusView, 
/**
 * Whether the conflicts this laptop holds differ from those before the sync (the
 * open ones, and the newest), or could not be read. A team lead's are mirrored from
 * the server with every cycle: one closed by another lead and another opened leave
 * the count of open ones as it was.
 */
conflicts_changed: boolean, };

export type UpdateState = "off" | "not_checked" | "checking" | "up_to_date" | "available" | "installing" | "failed";

export type UpdateStatusView = { 
/**
 * Where the app stands.
 */
state: UpdateState, 
/**
 * The running version.
 */
current_version: string, 
/**
 * The provisioned endpoint, when updates are on.
 */
endpoint: string | null, 
/**
 * The version offered, when one is.
 */
available_version: string | null, 
/**
 * The release notes of the version offered.
 */
notes: string | null, 
/**
 * When the last check finished (RFC 3339).
 */
last_checked_at: string | null, 
/**
 * Why the last check or install failed.
 */
error: CommandError | null, };

export type CategoryCount = { 
/**
 * The category: a snake_case value of the field (`female`, `isced_3_4`, `yes`), an age
 * band (`under_18`, `18_29`, `30_54`, `55_and_over`), a language code or a site id, or
 * `not_recorded` when the field had no value.
 */
category: string, 
/**
 * How many participants, exits or contacts fall in it.
 */
count: number, };

export type ParticipantReport = { 
/**
 * First day of the period.
 */
from: string, 
/**
 * Last day of the period.
 */
to: string, 
/**
 * Participants in the period (started on or before `to`, not exited before `from`).
 */
participants: number, 
/**
 * Participants by gender as it stood at their participant_start.
 */
participants_by_gender: Array<CategoryCount>, 
/**
 * Participants by age at participant_start.
 */
participants_by_age: Array<CategoryCount>, 
/**
 * Participants by employment status at participant_start.
 */
participants_by_employment_status: Array<CategoryCount>, 
/**
 * Participants by ISCED education band at participant_start.
 */
participants_by_education: Array<CategoryCount>, 
/**
 * Participants who are third-country nationals: yes, no, declined.
 */
third_country_national: Array<CategoryCount>, 
/**
 * Participants with a foreign background: yes, no, declined.
 */
foreign_background: Array<CategoryCount>, 
/**
 * Participants with a disability: yes, no, declined.
 */
disability: Array<CategoryCount>, 
/**
 * Participants whose participant_exit lies in the period.
 */
exits: number, 
/**
 * Those exits by exit_situation.
 */
exits_by_situation: Array<CategoryCount>, 
/**
 * Contacts in the period, with a client or anonymous.
 */
contacts: number, 
/**
 * Contacts by topic (a contact with several topics counts once under each).
 */
contacts_by_topic: Array<CategoryCount>, 
/**
 * Contacts by service language.
 */
contacts_by_service_language: Array<CategoryCount>, 
/**
 * Contacts by referral (a contact with several referrals counts once under each).
 */
contacts_by_referral: Array<CategoryCount>, 
/**
 * Contacts by channel.
 */
contacts_by_channel: Array<CategoryCount>, 
/**
 * Contacts by site id.
 */
contacts_by_site: Array<CategoryCount>, 
/**
 * Distinct clients with at least one contact in the period (a merged duplicate counts as
 * its surviving client).
 */
unique_clients: number, 
/**
 * Contacts without a client (anonymous drop-in visits), counted apart from participants.
 */
anonymous_visitors: number, };

export type ReportRequest = { 
/**
 * First day.
 */
from: string, 
/**
 * Last day, included.
 */
to: string, };

export type ReportSource = "server" | "laptop";

export type ReportView = { 
/**
 * Who computed it.
 */
source: ReportSource, 
/**
 * Why the laptop's data is shown, when it is (the server's error, in English).
 */
offline_reason: string | null, 
/**
 * The figures.
 */
report: ParticipantReport, 
/**
 * The same figures as CSV (`from,to,indicator,category,count`).
 */
csv: string, };

export type ExportFormatInput = "json" | "csv";

export type ErasureView = { 
/**
 * The records erased: the client, its contacts and clients merged into it.
 */
records: number, 
/**
 * Records gone from this laptop after the sync right after the erasure (all of them);
 * 0 when that sync failed (the erasure stands, and the next sync removes them here).
 */
purged_here: number, };

export type AuditRequest = { 
/**
 * The last `seq` already shown (0 for the first page).
 */
after: number, 
/**
 * Only the entries of this record (a UUID), when given.
 */
record_id: string | null, };

export type AuditEntryView = { 
/**
 * Its place in the chain.
 */
seq: number, 
/**
 * When (RFC 3339).
 */
at: string, 
/**
 * `user:<id> device:<id>`, `operator` or `system`.
 */
actor: string, 
/**
 * `login`, `read`, `change`, `resolve`, `merge`, `undo_merge`, `dismiss_duplicate`, `export`, `erase` or `purge`.
 */
action: string, 
/**
 * `client` or `contact`, when about one record.
 */
entity: string | null, 
/**
 * The record, when about one.
 */
record_id: string | null, 
/**
 * Counts, field names and record ids.
 */
detail: string, };

export type AuditPageView = { 
/**
 * The entries.
 */
entries: Array<AuditEntryView>, 
/**
 * The `after` of the next page.
 */
next: number, 
/**
 * Whether more entries wait after `next`.
 */
has_more: boolean, };
