// Generated from Rust by src-tauri/src/typescript.rs; do not edit.
// Regenerate: TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ErrorKind = "validation" | "not_found" | "keyring_unavailable" | "store_unreadable" | "update_required" | "locked" | "not_signed_in" | "wrong_password" | "offline" | "server" | "sign_in_mismatch" | "device_revoked" | "invalid_provisioning" | "store";

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
field: string | null, };

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
follow_ups: Array<ContactView>, };

export type ClientDraft = { 
/**
 * The values entered.
 */
fields: { [key in string]: JsonValue }, };

export type ClientEdit = { 
/**
 * The client.
 */
id: string, 
/**
 * Only the fields to change; null clears a field.
 */
fields: { [key in string]: JsonValue }, };

export type ContactDraft = { 
/**
 * The client, or none for an anonymous visitor.
 */
client_id: string | null, 
/**
 * The other values entered.
 */
fields: { [key in string]: JsonValue }, };

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

export type FollowUpsDue = { 
/**
 * Due before today.
 */
overdue: Array<FollowUpItem>, 
/**
 * Due today.
 */
today: Array<FollowUpItem>, 
/**
 * Due later this week (up to Sunday).
 */
this_week: Array<FollowUpItem>, };

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
server_url: string | null, };

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
created_at: string, };

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
 * The server's reason.
 */
reason: string, 
/**
 * When it was refused.
 */
rejected_at: string, };

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
 * `review` or `text`.
 */
policy: string, 
/**
 * The value both sides started from.
 */
base_value: JsonValue, 
/**
 * The candidate values, one per side, with who wrote them.
 */
candidates: Array<ConflictCandidate>, 
/**
 * The value that stands for now (the provisional winner).
 */
current_value: JsonValue, 
/**
 * Whether the two sides' clocks were far apart.
 */
clock_skew: boolean, };

export type ConflictCandidate = { 
/**
 * The value.
 */
value: JsonValue, 
/**
 * Who wrote it (user id or name).
 */
author: string, 
/**
 * When (HLC or RFC 3339).
 */
written_at: string, 
/**
 * Whether it was written on this laptop.
 */
from_this_device: boolean, };

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
conflicts: Array<ConflictView>, };

export type ConflictResolution = { 
/**
 * The conflict.
 */
conflict_id: number, 
/**
 * The chosen value (JSON).
 */
value: JsonValue, };

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
 * How many.
 */
count: number, } | { "event": "finished", 
/**
 * The status after the sync.
 */
status: SyncStatusView, };
