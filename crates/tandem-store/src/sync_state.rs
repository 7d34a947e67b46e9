//! The store's side of syncing: reading the outbox in batches, storing the server's answers
//! (push acknowledgements, pulled pages with their cursor) each in one transaction, the
//! refused changes and the team's conflicts, the sign-in facts and the sync health shown by
//! `tandem status`.
//!
//! The rules (DESIGN.md, "Client rules") are enforced here, not by callers: outbox rows leave
//! only in the transaction that stores their acknowledgement; a pulled page and its cursor
//! commit together; a pulled value never overwrites a field with a pending local change.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use tandem_domain::{
    ChangeId, Entity, Hlc, HlcClock, MergePolicy, Record, RecordId, ValidationContext, field_spec,
};
use uuid::Uuid;

use crate::meta::{self, MetaKey};
use crate::purge::{self, PurgedRecord};
use crate::records::{EditContext, load_clock};
use crate::{Store, StoreError, search};

// The server's database epoch and the journal of acknowledged changes.
#[path = "epoch.rs"]
mod epoch;
use epoch::LostSeqs;
pub use epoch::{EpochAdoption, JOURNAL_RETENTION_DAYS, ServerEpoch};

/// Meta keys owned by sync (the `meta` table is a plain key/value table).
mod keys {
    pub(super) const PULL_CURSOR: &str = "sync.pull_cursor";
    pub(super) const SERVER_EPOCH: &str = "sync.server_epoch";
    /// The cursor before the last rewind (`epoch.rs`): pulled writes up to it may be known.
    pub(super) const REPLAYED_UP_TO: &str = "sync.replayed_up_to";
    /// The seqs restores lost, as this laptop judged them (`epoch::LostSeqs`).
    pub(super) const LOST_SEQS: &str = "sync.lost_seqs";
    pub(super) const CLOCK_SKEW_MS: &str = "sync.clock_skew_ms";
    pub(super) const USERNAME: &str = "sync.username";
    pub(super) const TEAM_NAME: &str = "sync.team_name";
    pub(super) const ROLE: &str = "sync.role";
    pub(super) const DEVICE_NAME: &str = "sync.device_name";
    pub(super) const PASSWORD_VERIFIER: &str = "sync.password_verifier";
    pub(super) const LAST_ATTEMPT_AT: &str = "sync.last_attempt_at";
    pub(super) const UPDATE_REQUIRED: &str = "sync.update_required";
    /// Followed by a user id: the name of a user who signed in on this store (authors of
    /// changes it still holds may have signed in before the present user).
    pub(super) const USER_NAME_PREFIX: &str = "sync.user_name.";
}

/// Clock skew beyond which the user is told (DESIGN.md: five minutes).
pub const CLOCK_SKEW_WARNING_MS: i64 = 5 * 60 * 1000;

/// One local change waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxChange {
    /// Its place in the outbox (oldest first).
    pub seq: i64,
    /// The idempotency key of the push.
    pub change_id: Uuid,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field's wire name.
    pub field: String,
    /// The value as canonical JSON text.
    pub value: String,
    /// The server version of the field the edit was based on.
    pub base_version: u64,
    /// The HLC of the edit.
    pub hlc: String,
    /// Who made it.
    pub author_id: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

/// What the server said about one pushed change, as the store needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Applied, merged or in conflict: `value` (JSON text) at `version` stands on the server.
    Stored {
        /// The field's version on the server after the push.
        version: u64,
        /// The field's value on the server after the push (canonical JSON text).
        value: String,
        /// The conflict recorded, when there was one.
        conflict_id: Option<i64>,
    },
    /// Refused; nothing changed on the server.
    Rejected {
        /// Why, naming the field: the server's words.
        reason: String,
        /// The kind of refusal as the server codes it (`user_not_in_team`), when it sent one.
        reason_code: Option<String>,
    },
}

/// The acknowledgement of one pushed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAck {
    /// The change answered.
    pub change_id: Uuid,
    /// What happened to it.
    pub outcome: PushOutcome,
}

/// What storing a batch of acknowledgements did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushApplied {
    /// Outbox rows removed.
    pub acknowledged: u64,
    /// Of those, moved to the rejected list.
    pub rejected: u64,
    /// Of those, with a conflict recorded.
    pub conflicts: u64,
    /// Answers for changes no longer in the outbox (a repeated answer); ignored.
    pub already_acknowledged: u64,
    /// Later changes of records refused as erased (`record_erased`), moved from the outbox to
    /// the rejected list unsent.
    pub withheld: u64,
}

/// One write pulled from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerWrite {
    /// Its server sequence number.
    pub seq: u64,
    /// `client`, `contact`, or an entity this version does not know (kept as is).
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field (possibly unknown to this version; kept as is).
    pub field: String,
    /// The value as JSON text.
    pub value: String,
    /// The field's version from this write on.
    pub version: u64,
    /// The HLC of the write.
    pub hlc: String,
    /// Who wrote it.
    pub author_id: Uuid,
}

/// What storing a pulled page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PullApplied {
    /// Fields that took the server's value.
    pub updated: u64,
    /// Fields left alone because a local change is pending (the push will reconcile them).
    pub kept_pending: u64,
    /// Writes this store already knew.
    pub already_known: u64,
    /// Records seen for the first time.
    pub new_records: u64,
    /// Records removed because the server erased or purged them.
    pub purged: u64,
    /// The server's clock minus this device's when the page was answered, in milliseconds
    /// (stored with the page; see `Store::observe_server_time`).
    pub clock_skew_ms: i64,
}

/// A change the server refused, kept so that nobody's work disappears silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedChange {
    /// The refused change.
    pub change_id: Uuid,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field.
    pub field: String,
    /// The refused value (JSON text).
    pub value: String,
    /// Who made the change.
    pub author_id: String,
    /// When it was made.
    pub created_at: String,
    /// The server's reason, naming the field (its words, in English).
    pub reason: String,
    /// The kind of refusal as the server codes it (`invalid_value`, `user_not_in_team`), for
    /// the app to explain in its user's language; none from a server that sent no code.
    pub reason_code: Option<String>,
    /// When the refusal was stored.
    pub rejected_at: String,
}

/// A conflict of the team as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalConflict {
    /// The server's conflict id.
    pub id: i64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The field.
    pub field: String,
    /// `lww`, `review`, `set` or `text`.
    pub policy: String,
    /// `open`, `auto_resolved` or `resolved`.
    pub status: String,
    /// The server's conflict as JSON text, when the device could read it (team leads).
    pub detail: Option<String>,
}

/// How many closed conflicts a team lead's laptop keeps in its mirror and shows, the most
/// recently closed ones ([`closed_order`]): the review screen's list of decided conflicts.
/// Every open conflict is kept. At most the server's `MAX_CLOSED_CONFLICTS_LIMIT` (asserted
/// in tandem-sync, which asks for it).
pub const CLOSED_CONFLICTS_KEPT: usize = 50;

/// The columns [`local_conflict_row`] reads, in its order.
const LOCAL_CONFLICT_COLUMNS: &str = "id, entity, record_id, field, policy, status, detail";

/// When a mirrored conflict closed, read from the server's conflict in `detail`:
/// `resolved_at`, or `created_at` for one closed when made (auto-resolved), as the server's
/// `Conflict::closed_at`. `None` without a readable detail (sorts as the oldest).
fn closed_at(detail: Option<&str>) -> Option<DateTime<Utc>> {
    let conflict: serde_json::Value = serde_json::from_str(detail?).ok()?;
    let at = match conflict.get("resolved_at") {
        Some(resolved) if !resolved.is_null() => resolved,
        _ => conflict.get("created_at")?,
    };
    at.as_str()?.parse().ok()
}

/// The order of "most recently closed", ascending: [`closed_at`], then the id, as the server
/// cuts `closed_limit`.
fn closed_order(id: i64, closed: Option<DateTime<Utc>>) -> (Option<DateTime<Utc>>, i64) {
    (closed, id)
}

type LocalConflictRow = (i64, String, String, String, String, String, Option<String>);

fn local_conflict_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LocalConflictRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn local_conflicts(
    rows: impl Iterator<Item = rusqlite::Result<LocalConflictRow>>,
) -> Result<Vec<LocalConflict>, StoreError> {
    rows.map(|row| {
        let (id, entity, record_id, field, policy, status, detail) = row?;
        Ok(LocalConflict {
            id,
            entity,
            record_id: parse_uuid(&record_id)?,
            field,
            policy,
            status,
            detail,
        })
    })
    .collect()
}

/// A conflict as mirrored from the server's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredConflict {
    /// The conflict as listed; `detail` holds the server's JSON.
    pub conflict: LocalConflict,
}

/// Who this store is signed in as, and where it syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignIn {
    /// The server's base URL.
    pub server_url: String,
    /// The user's id (author of every local edit from now on).
    pub user_id: Uuid,
    /// The login name.
    pub username: String,
    /// `coach`, `team_lead` or `admin`.
    pub role: String,
    /// The team the device works for.
    pub team_id: Uuid,
    /// Its name.
    pub team_name: String,
    /// The device id the server assigned (the node of this store's HLCs from now on).
    pub device_id: Uuid,
    /// The device's name.
    pub device_name: String,
    /// An argon2id PHC string of the password, for offline sign-in.
    pub password_verifier: String,
}

/// The state of syncing, for `tandem status` and the app's status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// The server, once signed in.
    pub server_url: Option<String>,
    /// The signed-in user.
    pub username: Option<String>,
    /// Their role.
    pub role: Option<String>,
    /// The device's team.
    pub team: Option<String>,
    /// The device id.
    pub device_id: Option<String>,
    /// Field changes waiting for the server.
    pub pending_count: u64,
    /// Changes the server refused, kept in the rejected list.
    pub rejected_count: u64,
    /// Open conflicts known to this device.
    pub open_conflicts: u64,
    /// The last seq pulled.
    pub pull_cursor: u64,
    /// When the last sync finished (RFC 3339).
    pub last_sync_at: Option<String>,
    /// When the last attempt ended, successful or not.
    pub last_attempt_at: Option<String>,
    /// Why the last sync failed, if it did.
    pub last_sync_error: Option<String>,
    /// The server's clock minus this device's at the last sync, in milliseconds.
    pub clock_skew_ms: Option<i64>,
    /// Whether that skew is over five minutes either way.
    pub clock_skewed: bool,
    /// Whether the server refused this version of Tandem ("update required").
    pub update_required: bool,
}

/// The state of one field in this store (tests, support).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldState {
    /// The current local value (JSON text).
    pub value: String,
    /// The server version local edits are based on.
    pub version: u64,
    /// The server's value as last heard.
    pub server_value: Option<String>,
    /// The server's version as last heard.
    pub server_version: u64,
}

/// One row of a field's local history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    /// The value (JSON text).
    pub value: String,
    /// The version: the base version of a local edit, or the server version of a pulled write.
    pub version: u64,
    /// Its HLC.
    pub hlc: String,
    /// Who wrote it.
    pub author_id: String,
    /// `local` or `server`.
    pub origin: String,
}

/// Values read back were validated when written, so "not in the future" rules are off.
fn stored_values() -> ValidationContext {
    ValidationContext::new(NaiveDate::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Ok(*RecordId::parse(text)?.as_uuid())
}

fn get_key(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

fn set_key(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn delete_key(conn: &Connection, key: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    Ok(())
}

fn has_pending(
    conn: &Connection,
    entity: &str,
    record_id: &str,
    field: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE entity = ?1 AND record_id = ?2 AND field = ?3)",
        )?
        .query_row(params![entity, record_id, field], |row| row.get(0))?)
}

fn field_row(
    conn: &Connection,
    entity: &str,
    record_id: &str,
    field: &str,
) -> Result<Option<FieldState>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT value, version, server_value, server_version FROM record_fields
             WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
        )?
        .query_row(params![entity, record_id, field], |row| {
            Ok(FieldState {
                value: row.get(0)?,
                version: to_u64(row.get(1)?),
                server_value: row.get(2)?,
                server_version: to_u64(row.get(3)?),
            })
        })
        .optional()?)
}

/// Rewrites the search rows of the clients sync changed, once per client.
fn reindex_clients(conn: &Connection, record_ids: &BTreeSet<String>) -> Result<(), StoreError> {
    record_ids
        .iter()
        .try_for_each(|id| reindex_client(conn, id))
}

/// Rewrites the search row of one client.
fn reindex_client(conn: &Connection, record_id: &str) -> Result<(), StoreError> {
    search::index_client(conn, &load_client(conn, record_id)?)
}

/// A client as its stored search fields, for the search index.
fn load_client(conn: &Connection, record_id: &str) -> Result<Record, StoreError> {
    let id = RecordId::parse(record_id)?;
    let mut record = Record::empty(Entity::Client, id);
    let mut statement = conn.prepare_cached(
        "SELECT field, value FROM record_fields WHERE entity = 'client' AND record_id = ?1",
    )?;
    let rows = statement.query_map([record_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (field, value) = row?;
        if !search::SEARCH_FIELDS.contains(&field.as_str()) {
            continue;
        }
        let Ok(spec) = field_spec(Entity::Client, &field) else {
            continue;
        };
        // A value another version wrote that this one cannot read is left out of the
        // search row rather than failing the whole page.
        if let Ok(value) = spec.parse_json_str(&value, stored_values()) {
            record.set(spec, value);
        }
    }
    Ok(record)
}

/// Whether two JSON texts hold the same value (the server may format it differently).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn policy_of(entity: &str, field: &str) -> Option<MergePolicy> {
    let entity = Entity::parse(entity).ok()?;
    field_spec(entity, field).ok().map(|spec| spec.policy)
}

impl Store {
    /// The number of the newest change ever queued in the outbox (0 before the first): it
    /// only grows (the outbox's `AUTOINCREMENT` never reuses a number), so a process that sees
    /// it grow knows that a change was saved since it last looked, even one that another
    /// process has sent meanwhile, which a count of the pending changes would miss.
    pub fn outbox_high_water(&self) -> Result<u64, StoreError> {
        let seq: i64 = self.conn.query_row(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)",
            [],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    /// The head of the outbox, for the next push: the oldest pending change of each field,
    /// in outbox order, of the records that the first `max_changes` of these changes belong
    /// to, each record with all of its fields (so there may be more than `max_changes`; the
    /// planner cuts between records, never inside one, since the server judges a record's
    /// changes per batch). Only one change per field travels per push: the next one is
    /// rebased onto the version the server assigns to this one, so that a device never
    /// conflicts with itself.
    pub fn outbox_batch(&self, max_changes: usize) -> Result<Vec<OutboxChange>, StoreError> {
        self.outbox_changes(
            // The records first, from the oldest head changes only (the outbox in seq order,
            // stopping at the limit), then all their head changes through the fields' index:
            // a long outbox is not read whole for each batch.
            "WITH chosen AS (
                 SELECT DISTINCT entity, record_id FROM (
                     SELECT o.entity, o.record_id FROM outbox o
                     WHERE o.seq = (SELECT min(i.seq) FROM outbox i
                                    WHERE i.entity = o.entity AND i.record_id = o.record_id
                                      AND i.field = o.field)
                     ORDER BY o.seq LIMIT ?1))
             SELECT o.seq, o.change_id, o.entity, o.record_id, o.field, o.value, o.base_version,
                    o.hlc, o.author_id, o.created_at
             FROM chosen c JOIN outbox o ON o.entity = c.entity AND o.record_id = c.record_id
             WHERE o.seq = (SELECT min(i.seq) FROM outbox i
                            WHERE i.entity = o.entity AND i.record_id = o.record_id
                              AND i.field = o.field)
             ORDER BY o.seq",
            [to_i64(max_changes as u64)],
        )
    }

    /// Every change in the outbox, oldest first (tests and support).
    pub fn pending_changes(&self) -> Result<Vec<OutboxChange>, StoreError> {
        self.outbox_changes(
            "SELECT seq, change_id, entity, record_id, field, value, base_version, hlc, author_id, created_at
             FROM outbox ORDER BY seq",
            [],
        )
    }

    /// The outbox rows `sql` selects, its columns in `OutboxChange` order.
    fn outbox_changes(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<OutboxChange>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        })?;
        let mut changes = Vec::new();
        for row in rows {
            let (seq, change_id, entity, record_id, field, value, base, hlc, author, created) =
                row?;
            changes.push(OutboxChange {
                seq,
                change_id: parse_uuid(&change_id)?,
                entity,
                record_id: parse_uuid(&record_id)?,
                field,
                value,
                base_version: to_u64(base),
                hlc,
                author_id: author,
                created_at: created,
            });
        }
        Ok(changes)
    }

    /// Stores the server's answers to one push in one transaction: each answered outbox row
    /// leaves the outbox in the same transaction that stores what the server said. An answer
    /// for a change no longer in the outbox (a repeated push) changes nothing.
    pub fn apply_push_results(
        &mut self,
        acks: &[PushAck],
        at: DateTime<Utc>,
    ) -> Result<PushApplied, StoreError> {
        let tx = self.conn.write_transaction()?;
        let mut applied = PushApplied::default();
        let mut touched_clients = BTreeSet::new();
        let mut refused_as_erased = BTreeMap::new();
        let lost_seqs = LostSeqs::load(&tx)?;
        let now = at.to_rfc3339();
        for ack in acks {
            let change_id = ack.change_id.to_string();
            let row = tx
                .query_row(
                    "SELECT entity, record_id, field, value, base_version, hlc, author_id, created_at,
                        seq
                     FROM outbox WHERE change_id = ?1",
                    [&change_id],
                    |row| {
                        Ok((
                            (
                                row.get::<_, String>(0)?,
                                row.get::<_, String>(1)?,
                                row.get::<_, String>(2)?,
                            ),
                            row.get::<_, String>(3)?,
                            row.get::<_, i64>(4)?,
                            row.get::<_, String>(5)?,
                            row.get::<_, String>(6)?,
                            row.get::<_, String>(7)?,
                            row.get::<_, i64>(8)?,
                        ))
                    },
                )
                .optional()?;
            let Some(((entity, record_id, field), pushed, base, hlc, author, created, seq)) = row
            else {
                applied.already_acknowledged += 1;
                continue;
            };
            if let PushOutcome::Stored { version, value, .. } = &ack.outcome {
                // Kept for a restore of the server from an older backup (`epoch.rs`). When
                // another value stands, the answer names that value's version, not the seq
                // our write took in the history (which is larger): unknown, so the change is
                // queued again after any restore; a server that still has it answers it as a
                // repeat, which moves no field back (below).
                let journal_version = if same_json(value, &pushed) {
                    to_i64(*version)
                } else {
                    i64::MAX
                };
                tx.prepare_cached(
                    "INSERT INTO acknowledged_changes (seq, change_id, entity, record_id, field, value,
                         base_version, hlc, author_id, created_at, acknowledged_version, acknowledged_at)
                     SELECT seq, change_id, entity, record_id, field, value, base_version, hlc,
                         author_id, created_at, ?2, ?3
                     FROM outbox WHERE change_id = ?1",
                )?
                .execute(params![change_id, journal_version, now])?;
            }
            tx.execute("DELETE FROM outbox WHERE change_id = ?1", [&change_id])?;
            applied.acknowledged += 1;
            let pending = has_pending(&tx, &entity, &record_id, &field)?;
            match &ack.outcome {
                PushOutcome::Stored {
                    version,
                    value,
                    conflict_id,
                } => {
                    let version = to_i64(*version);
                    let stands = same_json(value, &pushed);
                    // A version only moves forward: a repeated answer (a change queued again
                    // after a restore, which the server still had) can be older than what
                    // this laptop has pulled since.
                    if pending && !stands {
                        // The server holds another writer's value (or a merge) that this
                        // device has not shown its user: the later local edits stay based on
                        // the old version, so the server sees them as concurrent with it and
                        // applies the field's policy instead of silently overwriting it.
                        tx.execute(
                            "UPDATE record_fields SET server_value = ?4, server_version = ?5
                             WHERE entity = ?1 AND record_id = ?2 AND field = ?3
                               AND ?5 >= server_version",
                            params![entity, record_id, field, value, version],
                        )?;
                    } else if pending {
                        // Our value stands: the later local edits of this field build on it,
                        // so they are not mistaken for writes concurrent with our own. Only
                        // the later ones: a change queued again after a restore (`epoch.rs`)
                        // sits before the edits made after it, and an answer to one of those
                        // must not make it look as if it had seen them (it would be sent
                        // after them as their successor, and its older value would win).
                        tx.execute(
                            "UPDATE outbox SET base_version = ?4
                             WHERE entity = ?1 AND record_id = ?2 AND field = ?3 AND seq > ?5
                               AND base_version < ?4",
                            params![entity, record_id, field, version, seq],
                        )?;
                        tx.execute(
                            "UPDATE record_fields SET version = ?4, server_value = ?5, server_version = ?4
                             WHERE entity = ?1 AND record_id = ?2 AND field = ?3
                               AND ?4 >= server_version",
                            params![entity, record_id, field, version, value],
                        )?;
                    } else {
                        let stored = tx.execute(
                            "INSERT INTO record_fields (entity, record_id, field, value, version, hlc, author_id, server_value, server_version)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4, ?5)
                             ON CONFLICT (entity, record_id, field) DO UPDATE
                             SET value = excluded.value, version = excluded.version,
                                 server_value = excluded.value, server_version = excluded.version
                             WHERE excluded.version >= record_fields.server_version",
                            params![entity, record_id, field, value, version, hlc, author],
                        )?;
                        // The later version the pull noted, when a restore lost it.
                        let noted_lost = if stored == 0 {
                            field_row(&tx, &entity, &record_id, &field)?
                                .map(|state| state.server_version)
                                .filter(|&noted| lost_seqs.contains(noted))
                        } else {
                            None
                        };
                        if let Some(noted) = noted_lost {
                            // The later version the pull noted (below) was lost with a restore
                            // of the server. The newest value the server still has, of those
                            // this laptop knows, is a pulled write between the answer and the
                            // noted version outside every lost range (the cursor rewound to
                            // the backup's last seq, above it: it is not pulled again), else
                            // the answer.
                            let kept = newest_kept_write(
                                &tx,
                                (&entity, &record_id, &field),
                                (to_u64(version), noted),
                                &lost_seqs,
                            )?;
                            let (value, version) = kept.unwrap_or((value.clone(), version));
                            tx.execute(
                                "UPDATE record_fields SET value = ?4, version = ?5,
                                     server_value = ?4, server_version = ?5
                                 WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
                                params![entity, record_id, field, value, version],
                            )?;
                        } else if stored == 0 {
                            // A repeated answer older than what this laptop has pulled since (a
                            // change queued again after a restore, or sent again after its
                            // answer was lost while the cycle pulled on): the pull kept our
                            // value because the change was pending, and noted the server's
                            // later one, which the field now takes.
                            restore_server_value(&tx, &entity, &record_id, &field)?;
                        }
                        let reindex = stored == 0 || !stands;
                        if entity == Entity::Client.as_str() && reindex {
                            touched_clients.insert(record_id.clone());
                        }
                    }
                    if let Some(conflict_id) = conflict_id {
                        applied.conflicts += 1;
                        let policy = policy_of(&entity, &field);
                        let status = if policy == Some(MergePolicy::Lww) {
                            "auto_resolved"
                        } else {
                            "open"
                        };
                        tx.execute(
                            "INSERT INTO conflicts (id, entity, record_id, field, policy, status, detail, updated_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7) ON CONFLICT (id) DO NOTHING",
                            params![
                                conflict_id,
                                entity,
                                record_id,
                                field,
                                policy.map_or("unknown", MergePolicy::as_str),
                                status,
                                now
                            ],
                        )?;
                    }
                }
                PushOutcome::Rejected {
                    reason,
                    reason_code,
                } => {
                    applied.rejected += 1;
                    if reason_code.as_deref() == Some(RECORD_ERASED) {
                        refused_as_erased
                            .entry((entity.clone(), record_id.clone()))
                            .or_insert_with(|| reason.clone());
                    }
                    tx.execute(
                        "INSERT INTO rejected_changes (change_id, entity, record_id, field, value, base_version, hlc, author_id, created_at, reason, reason_code, rejected_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                         ON CONFLICT (change_id) DO NOTHING",
                        params![change_id, entity, record_id, field, pushed, base, hlc, author, created, reason, reason_code, now],
                    )?;
                    if !pending {
                        restore_server_value(&tx, &entity, &record_id, &field)?;
                        if entity == Entity::Client.as_str() {
                            touched_clients.insert(record_id.clone());
                        }
                    }
                }
            }
        }
        for ((entity, record_id), reason) in &refused_as_erased {
            applied.withheld += withhold_erased_record(&tx, entity, record_id, reason, &now)?;
            if entity == Entity::Client.as_str() {
                touched_clients.insert(record_id.clone());
            }
        }
        reindex_clients(&tx, &touched_clients)?;
        epoch::prune_journal(&tx, at)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Stores one pulled page, the new cursor and the server's clock (`server_time`, as for
    /// `observe_server_time`) in one transaction. Records seen for the first time are
    /// created; fields unknown to this version are kept as they came; a field with a pending
    /// local change keeps its local value (the push reconciles it), while the server's value
    /// is noted for a fallback if that change is refused. Every write gets its history row
    /// once, also one older than the version the field holds (a push answer, a resolution or
    /// a merge stored a later one first), which changes nothing else. Purged records are
    /// removed after the page's writes (`purge.rs`).
    pub fn apply_pulled_page(
        &mut self,
        writes: &[ServerWrite],
        purges: &[PurgedRecord],
        next_cursor: u64,
        server_time: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<PullApplied, StoreError> {
        self.store_server_writes(writes, purges, Some((next_cursor, server_time)), at)
    }

    /// Stores changes the server answered a team lead's request with (a duplicate merge or
    /// its undo) like a pulled page, in one transaction, without moving the pull cursor:
    /// they arrive again in the pull feed and are then already known.
    pub fn record_server_writes(
        &mut self,
        writes: &[ServerWrite],
        at: DateTime<Utc>,
    ) -> Result<PullApplied, StoreError> {
        self.store_server_writes(writes, &[], None, at)
    }

    /// `page`: the pull cursor after these writes and the server's time, for a pulled page.
    fn store_server_writes(
        &mut self,
        writes: &[ServerWrite],
        purges: &[PurgedRecord],
        page: Option<(u64, DateTime<Utc>)>,
        at: DateTime<Utc>,
    ) -> Result<PullApplied, StoreError> {
        let tx = self.conn.write_transaction()?;
        // Before the batch, which reads the HLC at its start and saves it at its end.
        let clock_skew_ms = match page {
            Some((_, server_time)) => observe_server_time(&tx, server_time, at)?,
            None => 0,
        };
        let mut batch = ServerWriteBatch::begin(&tx, at)?;
        for write in writes {
            batch.store(write)?;
        }
        let applied = PullApplied {
            clock_skew_ms,
            ..batch.finish(purges)?
        };
        if let Some((cursor, _)) = page {
            set_key(&tx, keys::PULL_CURSOR, &cursor.to_string())?;
        }
        tx.commit()?;
        if applied.purged > 0 {
            // The WAL still holds the frames of the erased values (encrypted, but the
            // erasure should leave nothing): copy back and truncate it. Another connection
            // reading (the app while the CLI syncs) may keep it from finishing; the next
            // checkpoint then completes it.
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        Ok(applied)
    }

    /// The last seq stored from the server's pull feed (0 before the first pull).
    pub fn pull_cursor(&self) -> Result<u64, StoreError> {
        Ok(get_key(&self.conn, keys::PULL_CURSOR)?
            .and_then(|text| text.parse().ok())
            .unwrap_or(0))
    }

    /// Advances the HLC from the server's clock and notes the skew (`server - device`), for
    /// a push answer (a pulled page does it in the transaction that stores the page,
    /// `apply_pulled_page`).
    /// Returns the skew in milliseconds.
    pub fn observe_server_time(
        &mut self,
        server_time: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let tx = self.conn.write_transaction()?;
        let skew = observe_server_time(&tx, server_time, now)?;
        tx.commit()?;
        Ok(skew)
    }

    /// Replaces the mirrored conflicts with the server's list of the team's conflicts (a
    /// conflict resolved here stays resolved), keeping every open one and only the
    /// [`CLOSED_CONFLICTS_KEPT`] most recently closed ones (by when they closed, as the
    /// server's detail says, then id): the list of a server that ignores
    /// `closed_limit` (every conflict ever) makes the same mirror as a limited one. A
    /// conflict the list no longer names is dropped, resolved here or not: erased with its
    /// client on the server, or closed and older than the ones kept.
    pub fn replace_team_conflicts(
        &mut self,
        conflicts: &[MirroredConflict],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        // A conflict never reopens on the server. A list fetched before this laptop's own
        // resolution was stored (a background cycle running meanwhile) must not show it open
        // again: the resolved row stays. Only this laptop's resolutions (stored with the
        // server's answer as detail) count; a conflict taken for resolved from a pulled write
        // (detail NULL, the coach's guess) takes the server's word.
        let resolved_here: BTreeMap<i64, Option<DateTime<Utc>>> = tx
            .prepare(
                "SELECT id, detail FROM conflicts WHERE status = 'resolved' AND detail IS NOT NULL",
            )?
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    closed_at(row.get::<_, Option<String>>(1)?.as_deref()),
                ))
            })?
            .collect::<Result<_, _>>()?;
        let open = |c: &LocalConflict| c.status == "open" && !resolved_here.contains_key(&c.id);
        // Closed here: when this laptop's resolution says (the list may predate it).
        let order = |c: &LocalConflict| {
            let closed = match resolved_here.get(&c.id) {
                Some(here) => *here,
                None => closed_at(c.detail.as_deref()),
            };
            closed_order(c.id, closed)
        };
        let mut kept: Vec<&LocalConflict> = conflicts.iter().map(|m| &m.conflict).collect();
        kept.sort_by_key(|c| std::cmp::Reverse(order(c)));
        let mut closed = 0;
        kept.retain(|c| {
            closed += usize::from(!open(c));
            open(c) || closed <= CLOSED_CONFLICTS_KEPT
        });
        let kept_ids: BTreeSet<i64> = kept.iter().map(|c| c.id).collect();
        tx.execute(
            "DELETE FROM conflicts WHERE status <> 'resolved' OR detail IS NULL",
            [],
        )?;
        let mut forget = tx.prepare("DELETE FROM conflicts WHERE id = ?1")?;
        for id in resolved_here.keys().filter(|id| !kept_ids.contains(id)) {
            forget.execute([id])?;
        }
        drop(forget);
        for c in kept {
            if resolved_here.contains_key(&c.id) {
                if c.status == "resolved" {
                    tx.execute(
                        "UPDATE conflicts SET detail = ?2, updated_at = ?3 WHERE id = ?1",
                        params![c.id, c.detail, at.to_rfc3339()],
                    )?;
                }
                continue;
            }
            tx.execute(
                "INSERT INTO conflicts (id, entity, record_id, field, policy, status, detail, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    c.id,
                    c.entity,
                    c.record_id.to_string(),
                    c.field,
                    c.policy,
                    c.status,
                    c.detail,
                    at.to_rfc3339()
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores a team lead's resolution as the server answered it, in one transaction: the
    /// conflict as it stands now (resolved) and the server's new change of the field, stored
    /// like a pulled write (a pending local edit of the field keeps its value). The pull
    /// cursor does not move: the change arrives again in the pull feed and is then already
    /// known, so this device and every other one end with the same value.
    pub fn record_conflict_resolution(
        &mut self,
        conflict: &MirroredConflict,
        write: &ServerWrite,
        at: DateTime<Utc>,
    ) -> Result<PullApplied, StoreError> {
        let tx = self.conn.write_transaction()?;
        let mut batch = ServerWriteBatch::begin(&tx, at)?;
        batch.store(write)?;
        let applied = batch.finish(&[])?;
        let now = at.to_rfc3339();
        let c = &conflict.conflict;
        tx.execute(
            "INSERT INTO conflicts (id, entity, record_id, field, policy, status, detail, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, detail = excluded.detail,
                 updated_at = excluded.updated_at",
            params![
                c.id,
                c.entity,
                c.record_id.to_string(),
                c.field,
                c.policy,
                c.status,
                c.detail,
                now
            ],
        )?;
        tx.commit()?;
        Ok(applied)
    }

    /// One conflict this device knows, by the server's id.
    pub fn conflict(&self, id: i64) -> Result<Option<LocalConflict>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {LOCAL_CONFLICT_COLUMNS} FROM conflicts WHERE id = ?1"
        ))?;
        Ok(
            local_conflicts(statement.query_map([id], local_conflict_row)?)?
                .into_iter()
                .next(),
        )
    }

    /// The conflicts this device knows, oldest first; only the open ones unless `all`.
    pub fn conflicts(&self, all: bool) -> Result<Vec<LocalConflict>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {LOCAL_CONFLICT_COLUMNS} FROM conflicts
             WHERE ?1 OR status = 'open' ORDER BY id"
        ))?;
        local_conflicts(statement.query_map([all], local_conflict_row)?)
    }

    /// The `limit` most recently closed conflicts with the server's detail (a team lead's
    /// mirror), most recent first: by when resolved, or when made for one closed when made
    /// (read from the detail), then by id. Reads every closed one mirrored: the mirror keeps
    /// [`CLOSED_CONFLICTS_KEPT`], plus the few this laptop resolved since the last mirror.
    pub fn closed_conflicts(&self, limit: usize) -> Result<Vec<LocalConflict>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {LOCAL_CONFLICT_COLUMNS} FROM conflicts
             WHERE status <> 'open' AND detail IS NOT NULL"
        ))?;
        let mut closed = local_conflicts(statement.query_map([], local_conflict_row)?)?;
        closed.sort_by_cached_key(|c| {
            std::cmp::Reverse(closed_order(c.id, closed_at(c.detail.as_deref())))
        });
        closed.truncate(limit);
        Ok(closed)
    }

    /// The server's id of the newest conflict this device knows, closed ones included (the
    /// server's ids only grow): a conflict listed closed from the start (auto-resolved) moves
    /// it and leaves the open ones as they were. `None` when it knows none.
    pub fn newest_conflict_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT max(id) FROM conflicts", [], |row| row.get(0))?)
    }

    /// The changes the server refused, oldest first.
    pub fn rejected_changes(&self) -> Result<Vec<RejectedChange>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT change_id, entity, record_id, field, value, author_id, created_at, reason, reason_code,
                    rejected_at
             FROM rejected_changes ORDER BY rejected_at, created_at, change_id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, Option<String>>(8)?,
                row.get::<_, String>(9)?,
            ))
        })?;
        let mut rejected = Vec::new();
        for row in rows {
            let (change_id, entity, record_id, field, value, author, created, reason, code, at) =
                row?;
            rejected.push(RejectedChange {
                change_id: parse_uuid(&change_id)?,
                entity,
                record_id: parse_uuid(&record_id)?,
                field,
                value,
                author_id: author,
                created_at: created,
                reason,
                reason_code: code,
                rejected_at: at,
            });
        }
        Ok(rejected)
    }

    /// Queues a refused change again as a new local edit of its field (new change id, new
    /// HLC, based on the version the device knows now), and removes it from the rejected list,
    /// in one transaction. Useful once the cause is gone (a signed-in user, an update).
    pub fn retry_rejected(
        &mut self,
        change_id: Uuid,
        edit: EditContext,
    ) -> Result<ChangeId, StoreError> {
        let tx = self.conn.write_transaction()?;
        let row = tx
            .query_row(
                "SELECT entity, record_id, field, value, reason_code FROM rejected_changes
                 WHERE change_id = ?1",
                [change_id.to_string()],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()?
            .ok_or(StoreError::RejectedChangeNotFound { change_id })?;
        let (entity, record_id, field, value, reason_code) = row;
        // An erased record stays erased; a change of it sent again without its link (a
        // contact's later edit) would make a record of no one on the server.
        if let Some(reason_code) = reason_code.filter(|code| code == RECORD_ERASED) {
            return Err(StoreError::RefusalIsFinal {
                change_id,
                reason_code,
            });
        }
        let mut clock = load_clock(&tx)?;
        let now_ms = u64::try_from(edit.now.timestamp_millis()).unwrap_or(0);
        let hlc = clock.tick(now_ms).to_string();
        meta::set(&tx, MetaKey::HlcLast, &hlc)?;
        let author = meta::author_id(&tx)?;
        let now = edit.now.to_rfc3339();
        let base = field_row(&tx, &entity, &record_id, &field)?.map_or(0, |f| f.version);
        let base = to_i64(base);
        tx.execute(
            "INSERT INTO record_fields (entity, record_id, field, value, version, hlc, author_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (entity, record_id, field) DO UPDATE
             SET value = excluded.value, hlc = excluded.hlc, author_id = excluded.author_id",
            params![entity, record_id, field, value, base, hlc, author],
        )?;
        tx.execute(
            "INSERT INTO field_history (entity, record_id, field, value, version, hlc, author_id, origin, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'local', ?8)",
            params![entity, record_id, field, value, base, hlc, author, now],
        )?;
        let seconds = u64::try_from(edit.now.timestamp()).unwrap_or(0);
        let new_id = ChangeId::from_uuid(Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            seconds,
            edit.now.timestamp_subsec_nanos(),
        )));
        tx.execute(
            "INSERT INTO outbox (change_id, entity, record_id, field, value, base_version, hlc, author_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![new_id.to_string(), entity, record_id, field, value, base, hlc, author, now],
        )?;
        tx.execute(
            "DELETE FROM rejected_changes WHERE change_id = ?1",
            [change_id.to_string()],
        )?;
        if entity == Entity::Client.as_str() {
            reindex_client(&tx, &record_id)?;
        }
        tx.commit()?;
        Ok(new_id)
    }

    /// Removes a refused change from the rejected list for good (a person decided it).
    pub fn dismiss_rejected(&mut self, change_id: Uuid) -> Result<(), StoreError> {
        let removed = self.conn.execute(
            "DELETE FROM rejected_changes WHERE change_id = ?1",
            [change_id.to_string()],
        )?;
        if removed == 0 {
            return Err(StoreError::RejectedChangeNotFound { change_id });
        }
        Ok(())
    }

    /// Records a sign-in in one transaction: server, user, team, device, role and the
    /// password verifier; the device id becomes the node of this store's HLC; changes made
    /// before the first sign-in (authored by the store's node id) and records without a team
    /// are given to the signed-in user and team, so the server accepts them.
    ///
    /// Refused when the store already belongs to another team or server, or holds pending
    /// changes of another user: those would be pushed in the wrong name or team.
    pub fn record_sign_in(&mut self, sign_in: &SignIn) -> Result<u64, StoreError> {
        let tx = self.conn.write_transaction()?;
        let team = sign_in.team_id.to_string();
        let user = sign_in.user_id.to_string();
        if let Some(existing) = meta::get(&tx, MetaKey::TeamId)?
            && existing != team
        {
            let name = get_key(&tx, keys::TEAM_NAME)?.unwrap_or(existing);
            return Err(StoreError::SignInMismatch {
                detail: format!(
                    "this store holds the records of team \"{name}\"; sign in to that team, or use another --data-dir for team \"{}\"",
                    sign_in.team_name
                ),
            });
        }
        if let Some(existing) = meta::get(&tx, MetaKey::ServerUrl)?
            && existing.trim_end_matches('/') != sign_in.server_url.trim_end_matches('/')
        {
            return Err(StoreError::SignInMismatch {
                detail: format!(
                    "this store syncs with {existing}; use another --data-dir for {}",
                    sign_in.server_url
                ),
            });
        }
        let node = meta::node_id(&tx)?;
        let previous_user = meta::get(&tx, MetaKey::UserId)?;
        let foreign: i64 = tx.query_row(
            "SELECT count(*) FROM outbox WHERE author_id <> ?1 AND author_id <> ?2",
            params![user, node],
            |row| row.get(0),
        )?;
        if foreign > 0 {
            return Err(StoreError::SignInMismatch {
                detail: format!(
                    "{foreign} changes by another user ({}) wait to be pushed; sign in as that user and sync first",
                    previous_user.unwrap_or_else(|| "unknown".to_owned())
                ),
            });
        }
        let reassigned = tx.execute(
            "UPDATE outbox SET author_id = ?1 WHERE author_id = ?2",
            params![user, node],
        )?;
        tx.execute(
            "UPDATE record_fields SET author_id = ?1 WHERE author_id = ?2",
            params![user, node],
        )?;
        tx.execute(
            "UPDATE field_history SET author_id = ?1 WHERE author_id = ?2 AND origin = 'local'",
            params![user, node],
        )?;
        // Before the first sign-in the node id stood in for the user as who recorded a
        // client's consent: the same user, named by the id the server knows. (Only then: a
        // signed-in store names its user.)
        if previous_user.is_none() {
            let user_value = serde_json::Value::String(user.clone()).to_string();
            let node_value = serde_json::Value::String(node.clone()).to_string();
            for (table, local) in [
                ("record_fields", ""),
                ("outbox", ""),
                ("field_history", " AND origin = 'local'"),
            ] {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET value = ?1
                         WHERE entity = 'client' AND field = 'consent_by' AND value = ?2{local}"
                    ),
                    params![user_value, node_value],
                )?;
            }
        }
        tx.execute(
            "UPDATE records SET team_id = ?1 WHERE team_id IS NULL",
            [&team],
        )?;
        // From now on this store's clock readings carry the device id, which the server and
        // every other device know; the reading itself continues where it was.
        let clock = load_clock(&tx)?;
        let device = sign_in.device_id.to_string();
        let last = clock.last();
        let moved = Hlc::new(last.physical_ms(), last.logical(), &device)?;
        meta::set(&tx, MetaKey::HlcLast, &moved.to_string())?;
        meta::set(&tx, MetaKey::NodeId, &device)?;
        meta::set(&tx, MetaKey::ServerUrl, &sign_in.server_url)?;
        meta::set(&tx, MetaKey::UserId, &user)?;
        meta::set(&tx, MetaKey::TeamId, &team)?;
        meta::set(&tx, MetaKey::DeviceId, &device)?;
        set_key(&tx, keys::USERNAME, &sign_in.username)?;
        set_key(
            &tx,
            &format!("{}{user}", keys::USER_NAME_PREFIX),
            &sign_in.username,
        )?;
        set_key(&tx, keys::ROLE, &sign_in.role)?;
        set_key(&tx, keys::TEAM_NAME, &sign_in.team_name)?;
        set_key(&tx, keys::DEVICE_NAME, &sign_in.device_name)?;
        set_key(&tx, keys::PASSWORD_VERIFIER, &sign_in.password_verifier)?;
        tx.commit()?;
        Ok(reassigned as u64)
    }

    /// Who this laptop's edits are written by, as their history names them: the signed-in
    /// user's id, or before any sign-in this store's node id.
    pub fn author(&self) -> Result<String, StoreError> {
        meta::author_id(&self.conn)
    }

    /// The sign-in of this store, if any (the verifier included, for offline sign-in).
    pub fn sign_in(&self) -> Result<Option<SignIn>, StoreError> {
        let conn = &self.conn;
        let (Some(server_url), Some(user), Some(team), Some(device)) = (
            meta::get(conn, MetaKey::ServerUrl)?,
            meta::get(conn, MetaKey::UserId)?,
            meta::get(conn, MetaKey::TeamId)?,
            meta::get(conn, MetaKey::DeviceId)?,
        ) else {
            return Ok(None);
        };
        Ok(Some(SignIn {
            server_url,
            user_id: parse_uuid(&user)?,
            username: get_key(conn, keys::USERNAME)?.unwrap_or_default(),
            role: get_key(conn, keys::ROLE)?.unwrap_or_default(),
            team_id: parse_uuid(&team)?,
            team_name: get_key(conn, keys::TEAM_NAME)?.unwrap_or_default(),
            device_id: parse_uuid(&device)?,
            device_name: get_key(conn, keys::DEVICE_NAME)?.unwrap_or_default(),
            password_verifier: get_key(conn, keys::PASSWORD_VERIFIER)?.unwrap_or_default(),
        }))
    }

    /// The names of the users this store knows, by user id: the team's members as the last
    /// sync brought them (`Store::team_users`) and everyone who signed in on this store (the
    /// present user included), so that records and the changes people left behind can be
    /// named even before a first sync brought the team's list.
    pub fn known_user_names(&self) -> Result<BTreeMap<Uuid, String>, StoreError> {
        let mut names = BTreeMap::new();
        let mut statement = self
            .conn
            .prepare("SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1")?;
        let rows = statement.query_map([keys::USER_NAME_PREFIX], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?))
        })?;
        for row in rows {
            let (key, name) = row?;
            if let Some(user) = key.strip_prefix(keys::USER_NAME_PREFIX) {
                names.insert(parse_uuid(user)?, name);
            }
        }
        // A store signed in before names were kept per user still knows the present one.
        if let Some(sign_in) = self.sign_in()? {
            names.insert(sign_in.user_id, sign_in.username);
        }
        names.extend(
            self.team_users()?
                .into_iter()
                .map(|user| (user.id, user.username)),
        );
        Ok(names)
    }

    /// Notes a finished sync: its time, and clears the last error and "update required".
    pub fn record_sync_success(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        let at = at.to_rfc3339();
        meta::set(&tx, MetaKey::LastSyncAt, &at)?;
        set_key(&tx, keys::LAST_ATTEMPT_AT, &at)?;
        tx.execute("DELETE FROM meta WHERE key = 'last_sync_error'", [])?;
        delete_key(&tx, keys::UPDATE_REQUIRED)?;
        tx.commit()?;
        Ok(())
    }

    /// Notes a failed sync and why; `update_required` when the server refused this version.
    pub fn record_sync_failure(
        &mut self,
        at: DateTime<Utc>,
        message: &str,
        update_required: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        meta::set(&tx, MetaKey::LastSyncError, message)?;
        set_key(&tx, keys::LAST_ATTEMPT_AT, &at.to_rfc3339())?;
        if update_required {
            set_key(&tx, keys::UPDATE_REQUIRED, "1")?;
        } else {
            delete_key(&tx, keys::UPDATE_REQUIRED)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The state of syncing.
    pub fn sync_status(&self) -> Result<SyncStatus, StoreError> {
        let conn = &self.conn;
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(to_u64(conn.query_row(sql, [], |row| row.get(0))?))
        };
        let skew: Option<i64> =
            get_key(conn, keys::CLOCK_SKEW_MS)?.and_then(|text| text.parse().ok());
        Ok(SyncStatus {
            server_url: meta::get(conn, MetaKey::ServerUrl)?,
            username: get_key(conn, keys::USERNAME)?,
            role: get_key(conn, keys::ROLE)?,
            team: get_key(conn, keys::TEAM_NAME)?,
            device_id: meta::get(conn, MetaKey::DeviceId)?,
            pending_count: self.pending_count()?,
            rejected_count: count("SELECT count(*) FROM rejected_changes")?,
            open_conflicts: count("SELECT count(*) FROM conflicts WHERE status = 'open'")?,
            pull_cursor: self.pull_cursor()?,
            last_sync_at: meta::get(conn, MetaKey::LastSyncAt)?,
            last_attempt_at: get_key(conn, keys::LAST_ATTEMPT_AT)?,
            last_sync_error: meta::get(conn, MetaKey::LastSyncError)?,
            clock_skew_ms: skew,
            clock_skewed: skew.is_some_and(|s| s.abs() > CLOCK_SKEW_WARNING_MS),
            update_required: get_key(conn, keys::UPDATE_REQUIRED)?.is_some(),
        })
    }

    /// The state of one field, or `None` when the store has no row for it (empty).
    pub fn field_state(
        &self,
        entity: &str,
        record_id: Uuid,
        field: &str,
    ) -> Result<Option<FieldState>, StoreError> {
        field_row(&self.conn, entity, &record_id.to_string(), field)
    }

    /// Every field row of every record: `(entity, record_id, field, value)`, sorted (tests and
    /// support: comparing a device with the server).
    pub fn all_field_values(&self) -> Result<Vec<(String, Uuid, String, String)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT entity, record_id, field, value FROM record_fields ORDER BY entity, record_id, field",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut all = Vec::new();
        for row in rows {
            let (entity, record_id, field, value) = row?;
            all.push((entity, parse_uuid(&record_id)?, field, value));
        }
        Ok(all)
    }

    /// The local history of one field, in the order this device stored it (a pulled write
    /// older than one stored before comes after it; order by HLC for the order of writing).
    pub fn field_history(
        &self,
        entity: &str,
        record_id: Uuid,
        field: &str,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT value, version, hlc, author_id, origin FROM field_history
             WHERE entity = ?1 AND record_id = ?2 AND field = ?3 ORDER BY id",
        )?;
        let rows = statement.query_map(params![entity, record_id.to_string(), field], |row| {
            Ok(HistoryRow {
                value: row.get(0)?,
                version: to_u64(row.get(1)?),
                hlc: row.get(2)?,
                author_id: row.get(3)?,
                origin: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The code of the server's refusal of a change to an erased record, or of a link to one.
const RECORD_ERASED: &str = "record_erased";

/// Moves the changes of a record that the server refused as erased (`record_erased`) and that
/// are still in the outbox (later edits of its fields: one change per field travels per push)
/// to the rejected list, with the refusal's words and code, and gives its fields back the
/// server's values; returns how many. Sent on their own they would pass: the server refuses
/// a contact's changes for its link to an erased client only in the batch that carries the
/// link, so a later summary edit alone would make a contact of no one there, which every
/// laptop pulls (a leak of what was written about an erased person). Listed, they are seen
/// and dismissed, like the refused ones (`retry_rejected` refuses them).
fn withhold_erased_record(
    tx: &Transaction<'_>,
    entity: &str,
    record_id: &str,
    reason: &str,
    now: &str,
) -> Result<u64, StoreError> {
    let fields: Vec<String> = tx
        .prepare_cached("SELECT DISTINCT field FROM outbox WHERE entity = ?1 AND record_id = ?2")?
        .query_map(params![entity, record_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    if fields.is_empty() {
        return Ok(0);
    }
    tx.execute(
        "INSERT INTO rejected_changes (change_id, entity, record_id, field, value, base_version,
             hlc, author_id, created_at, reason, reason_code, rejected_at)
         SELECT change_id, entity, record_id, field, value, base_version, hlc, author_id,
             created_at, ?3, ?4, ?5
         FROM outbox WHERE entity = ?1 AND record_id = ?2
         ON CONFLICT (change_id) DO NOTHING",
        params![entity, record_id, reason, RECORD_ERASED, now],
    )?;
    let moved = tx.execute(
        "DELETE FROM outbox WHERE entity = ?1 AND record_id = ?2",
        params![entity, record_id],
    )?;
    for field in &fields {
        restore_server_value(tx, entity, record_id, field)?;
    }
    Ok(moved as u64)
}

/// A refused change with nothing else pending: the field goes back to what the server
/// holds, or to empty when the server has never had it.
fn restore_server_value(
    tx: &Transaction<'_>,
    entity: &str,
    record_id: &str,
    field: &str,
) -> Result<(), StoreError> {
    let Some(state) = field_row(tx, entity, record_id, field)? else {
        return Ok(());
    };
    match state.server_value {
        Some(value) if state.server_version > 0 => {
            tx.execute(
                "UPDATE record_fields SET value = ?4, version = ?5
                 WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
                params![
                    entity,
                    record_id,
                    field,
                    value,
                    to_i64(state.server_version)
                ],
            )?;
        }
        _ => {
            tx.execute(
                "DELETE FROM record_fields WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
                params![entity, record_id, field],
            )?;
        }
    }
    Ok(())
}

/// The newest server write of a field in its history (pulled, or answered to a team lead's
/// request) whose version is above `above` and below `below` (both excluded) and in no range
/// a restore lost: its value and version.
fn newest_kept_write(
    conn: &Connection,
    (entity, record_id, field): (&str, &str, &str),
    (above, below): (u64, u64),
    lost_seqs: &LostSeqs,
) -> Result<Option<(String, i64)>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT value, version FROM field_history
         WHERE entity = ?1 AND record_id = ?2 AND field = ?3 AND origin = 'server'
           AND version > ?4 AND version < ?5
         ORDER BY version DESC",
    )?;
    let mut rows = statement.query(params![
        entity,
        record_id,
        field,
        to_i64(above),
        to_i64(below)
    ])?;
    while let Some(row) = rows.next()? {
        let version: i64 = row.get(1)?;
        if !lost_seqs.contains(to_u64(version)) {
            return Ok(Some((row.get(0)?, version)));
        }
    }
    Ok(None)
}

/// The HLC node of the writes the server makes itself (resolutions, merges).
const SERVER_HLC_NODE: &str = "server";

/// What one record went through in a batch of server writes.
#[derive(Debug, Clone, Copy, Default)]
struct RecordInBatch {
    /// The batch created it (its `updated_at` is the batch's time already).
    created: bool,
    /// A field of it took the server's value.
    updated: bool,
}

/// Stores server writes (a pulled page, or a team lead's resolution answered by the server)
/// inside one transaction: new records are created, a field with a pending local change keeps
/// its local value (noting the server's), and the HLC observes every write. The pull and the
/// resolution share it, so both follow the same rules.
///
/// It does per write only what the write needs: every statement comes from the connection's
/// statement cache; a record is created or touched once per batch, not once per field; search
/// rows are rewritten once per client at the end, and only for clients whose search fields
/// changed; and when the outbox is empty (an initial sync) no write looks for a pending change.
struct ServerWriteBatch<'t> {
    tx: &'t Connection,
    team: Option<String>,
    now: String,
    now_ms: u64,
    clock: HlcClock,
    outbox_empty: bool,
    /// Whether a conflict of this laptop's own push is open (most pages find none to close).
    own_conflicts_open: bool,
    /// Writes at or below this seq may be in the history already (a rewind after a restore).
    replayed_up_to: u64,
    records: HashMap<(String, String), RecordInBatch>,
    touched_clients: BTreeSet<String>,
    applied: PullApplied,
}

impl<'t> ServerWriteBatch<'t> {
    fn begin(tx: &'t Connection, at: DateTime<Utc>) -> Result<Self, StoreError> {
        let outbox_empty = !tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox)")?
            .query_row([], |row| row.get::<_, bool>(0))?;
        let own_conflicts_open = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM conflicts WHERE status = 'open' AND detail IS NULL)",
            )?
            .query_row([], |row| row.get::<_, bool>(0))?;
        Ok(Self {
            tx,
            own_conflicts_open,
            team: meta::get(tx, MetaKey::TeamId)?,
            now: at.to_rfc3339(),
            now_ms: u64::try_from(at.timestamp_millis()).unwrap_or(0),
            clock: load_clock(tx)?,
            outbox_empty,
            replayed_up_to: get_key(tx, keys::REPLAYED_UP_TO)?
                .and_then(|text| text.parse().ok())
                .unwrap_or(0),
            records: HashMap::new(),
            touched_clients: BTreeSet::new(),
            applied: PullApplied::default(),
        })
    }

    fn store(&mut self, write: &ServerWrite) -> Result<(), StoreError> {
        let tx = self.tx;
        let record_id = write.record_id.to_string();
        let key = (write.entity.clone(), record_id);
        if !self.records.contains_key(&key) {
            let created = tx
                .prepare_cached(
                    "INSERT INTO records (entity, record_id, team_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (entity, record_id) DO NOTHING",
                )?
                .execute(params![write.entity, key.1, self.team, self.now])?
                > 0;
            self.applied.new_records += u64::from(created);
            self.records.insert(
                key.clone(),
                RecordInBatch {
                    created,
                    updated: false,
                },
            );
        }
        let record_id = &key.1;
        let hlc = Hlc::parse(&write.hlc).ok();
        let current = field_row(tx, &write.entity, record_id, &write.field)?;
        let known = current.as_ref().map_or(0, |f| f.server_version);
        if write.version < known {
            // Older than a version stored since (by a push answer, a resolution or a merge
            // stored before the pull reached this write): the field keeps what it has, but
            // the write takes its place in the history, once.
            self.applied.already_known += 1;
            if !history_has(tx, write)? {
                self.insert_history(write)?;
            }
            return Ok(());
        }
        let version = to_i64(write.version);
        let author = write.author_id.to_string();
        if write.version == known {
            // The store took this version from a push answer; the pull adds what the
            // answer lacks (the write's HLC and author, and its history row).
            self.applied.already_known += 1;
            if !history_has(tx, write)? {
                self.insert_history(write)?;
                tx.prepare_cached(
                    "UPDATE record_fields SET hlc = ?4, author_id = ?5
                     WHERE entity = ?1 AND record_id = ?2 AND field = ?3 AND version = ?6 AND value = ?7",
                )?
                .execute(params![
                    write.entity,
                    record_id,
                    write.field,
                    write.hlc,
                    author,
                    version,
                    write.value
                ])?;
            }
            return Ok(());
        }
        // A coach's laptop knows a conflict only from its own push (no team list to mirror): a
        // write of that field newer than anything this laptop knows of it came after the
        // conflict, so the conflict is no longer open here either: a write the server made
        // itself (HLC node `server`) is a team lead's resolution; any other settled it, as the
        // server settles it then (a resolution may not replace a later write). The server's
        // own earlier writes (a text merge the conflict is against) came with the push
        // answer's version or before it, and returned above.
        if self.own_conflicts_open {
            let settled = if hlc
                .as_ref()
                .is_some_and(|hlc| hlc.node() == SERVER_HLC_NODE)
            {
                "resolved"
            } else {
                "auto_resolved"
            };
            tx.prepare_cached(
                "UPDATE conflicts SET status = ?5, updated_at = ?4
                 WHERE entity = ?1 AND record_id = ?2 AND field = ?3 AND status = 'open'
                   AND detail IS NULL",
            )?
            .execute(params![
                write.entity,
                record_id,
                write.field,
                self.now,
                settled
            ])?;
        }
        if write.version > self.replayed_up_to || !history_has(tx, write)? {
            self.insert_history(write)?;
        }
        // Local edits made after seeing this write must order after it. A reading too far
        // ahead of our clock is not followed (the HLC reports it); it changes nothing else.
        if let Some(hlc) = &hlc {
            let _ = self.clock.observe_hlc(hlc, self.now_ms);
        }
        if !self.outbox_empty && has_pending(tx, &write.entity, record_id, &write.field)? {
            self.applied.kept_pending += 1;
            tx.prepare_cached(
                "UPDATE record_fields SET server_value = ?4, server_version = ?5
                 WHERE entity = ?1 AND record_id = ?2 AND field = ?3",
            )?
            .execute(params![
                write.entity,
                record_id,
                write.field,
                write.value,
                version
            ])?;
            return Ok(());
        }
        self.applied.updated += 1;
        tx.prepare_cached(
            "INSERT INTO record_fields (entity, record_id, field, value, version, hlc, author_id, server_value, server_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4, ?5)
             ON CONFLICT (entity, record_id, field) DO UPDATE
             SET value = excluded.value, version = excluded.version, hlc = excluded.hlc,
                 author_id = excluded.author_id, server_value = excluded.value,
                 server_version = excluded.version",
        )?
        .execute(params![
            write.entity,
            record_id,
            write.field,
            write.value,
            version,
            write.hlc,
            author
        ])?;
        if let Some(record) = self.records.get_mut(&key) {
            record.updated = true;
        }
        if write.entity == Entity::Client.as_str()
            && search::SEARCH_FIELDS.contains(&write.field.as_str())
        {
            self.touched_clients.insert(key.1);
        }
        Ok(())
    }

    fn insert_history(&self, write: &ServerWrite) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO field_history (entity, record_id, field, value, version, hlc, author_id, origin, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'server', ?8)",
            )?
            .execute(params![
                write.entity,
                write.record_id.to_string(),
                write.field,
                write.value,
                to_i64(write.version),
                write.hlc,
                write.author_id.to_string(),
                self.now
            ])?;
        Ok(())
    }

    /// Touches the records that changed, saves the clock and rewrites the search rows.
    /// Ends the page: touches the records written, removes the purged ones (`purge.rs`),
    /// and rewrites the search rows of the clients still there.
    fn finish(mut self, purges: &[PurgedRecord]) -> Result<PullApplied, StoreError> {
        let tx = self.tx;
        for ((entity, record_id), record) in &self.records {
            if record.updated && !record.created {
                tx.prepare_cached(
                    "UPDATE records SET updated_at = ?3 WHERE entity = ?1 AND record_id = ?2",
                )?
                .execute(params![entity, record_id, self.now])?;
            }
        }
        meta::set(tx, MetaKey::HlcLast, &self.clock.last().to_string())?;
        let purged = purge::purge_records(tx, purges)?;
        self.applied.purged = purged.len() as u64;
        self.touched_clients.retain(|id| !purged.contains(id));
        reindex_clients(tx, &self.touched_clients)?;
        Ok(self.applied)
    }
}

/// `Store::observe_server_time` inside the caller's transaction.
fn observe_server_time(
    tx: &Connection,
    server_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut clock = load_clock(tx)?;
    let server_ms = u64::try_from(server_time.timestamp_millis()).unwrap_or(0);
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    // Too far ahead (over the HLC's drift bound) is not followed; the skew is still
    // stored, which is what the user is shown.
    let _ = clock.observe(server_ms, 0, now_ms);
    meta::set(tx, MetaKey::HlcLast, &clock.last().to_string())?;
    let skew = server_time.timestamp_millis() - now.timestamp_millis();
    set_key(tx, keys::CLOCK_SKEW_MS, &skew.to_string())?;
    Ok(skew)
}

fn history_has(conn: &Connection, write: &ServerWrite) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM field_history WHERE entity = ?1 AND record_id = ?2 AND field = ?3
                            AND origin = 'server' AND version = ?4)",
        )?
        .query_row(
            params![
                write.entity,
                write.record_id.to_string(),
                write.field,
                to_i64(write.version)
            ],
            |row| row.get(0),
        )?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::connection::{test_store, test_store_and_key, with_a_write_meanwhile};

    const TEAM: Uuid = Uuid::from_u128(0x7000);
    const USER: Uuid = Uuid::from_u128(0x9000);
    const OTHER_USER: Uuid = Uuid::from_u128(0x9001);

    fn at() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_768_471_200_000).unwrap()
    }

    fn edit() -> EditContext {
        EditContext::at(at())
    }

    fn sign_in_as(user: Uuid, team: Uuid) -> SignIn {
        SignIn {
            server_url: "http://127.0.0.1:1".into(),
            user_id: user,
            username: "coach".into(),
            role: "coach".into(),
            team_id: team,
            team_name: "north".into(),
            device_id: Uuid::from_u128(0xd1),
            device_name: "laptop".into(),
            password_verifier: "$argon2id$x".into(),
        }
    }

    fn signed_in_store() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = test_store();
        store.record_sign_in(&sign_in_as(USER, TEAM)).unwrap();
        (dir, store)
    }

    fn client(store: &mut Store, fields: serde_json::Value) -> RecordId {
        let input: BTreeMap<String, serde_json::Value> = serde_json::from_value(fields).unwrap();
        store.create_record(Entity::Client, &input, edit()).unwrap()
    }

    fn edit_client(store: &mut Store, id: RecordId, fields: serde_json::Value) {
        let input: BTreeMap<String, serde_json::Value> = serde_json::from_value(fields).unwrap();
        store
            .edit_record(Entity::Client, id, &input, edit())
            .unwrap();
    }

    #[test]
    fn a_contact_is_the_signed_in_coachs_unless_it_names_another() {
        let contact = |store: &mut Store, extra: serde_json::Value| {
            let mut input: BTreeMap<String, serde_json::Value> =
                serde_json::from_value(json!({ "occurred_at": "2026-01-15T10:00:00+02:00" }))
                    .unwrap();
            input.extend(serde_json::from_value::<BTreeMap<_, _>>(extra).unwrap());
            let id = store
                .create_record(Entity::Contact, &input, edit())
                .unwrap();
            let record = store.record(Entity::Contact, id).unwrap().unwrap();
            record.get("coach_id").as_text().map(str::to_owned)
        };
        let (_dir, mut before) = test_store();
        assert_eq!(
            contact(&mut before, json!({})),
            None,
            "no one signed in yet"
        );

        let (_dir, mut store) = signed_in_store();
        assert_eq!(contact(&mut store, json!({})), Some(USER.to_string()));
        let colleague = Uuid::from_u128(0x9002).to_string();
        assert_eq!(
            contact(&mut store, json!({ "coach_id": colleague })),
            Some(colleague)
        );
        assert_eq!(contact(&mut store, json!({ "coach_id": null })), None);
        // A client has no coach.
        let amina = client(&mut store, json!({ "given_name": "Amina" }));
        let amina = store.record(Entity::Client, amina).unwrap().unwrap();
        assert!(amina.get("coach_id").is_null());
    }

    #[test]
    fn pulled_follow_ups_and_a_purge_keep_the_open_follow_ups_in_step() {
        use crate::records::DueOrder;

        let (_dir, mut store) = signed_in_store();
        let id = RecordId::from_uuid(Uuid::from_u128(0xf0));
        let contact = |field: &str, value: &str, seq| ServerWrite {
            entity: "contact".into(),
            ..write(id, field, value, seq)
        };
        let pull = |store: &mut Store, writes: &[ServerWrite], purges: &[PurgedRecord]| {
            let next = writes
                .iter()
                .map(|w| w.seq)
                .chain(purges.iter().map(|p| p.seq))
                .max();
            store
                .apply_pulled_page(writes, purges, next.unwrap(), at(), at())
                .unwrap();
            let until = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
            store
                .open_follow_ups(None, until, None, DueOrder::EarliestFirst, 10)
                .unwrap()
                .total
        };
        let opened = [
            contact("occurred_at", "\"2026-11-01T10:00:00+02:00\"", 1),
            contact("follow_up_on", "\"2026-11-24\"", 2),
        ];
        assert_eq!(pull(&mut store, &opened, &[]), 1);
        assert_eq!(
            pull(&mut store, &[contact("follow_up_done", "true", 3)], &[]),
            0
        );
        assert_eq!(
            pull(&mut store, &[contact("follow_up_done", "false", 4)], &[]),
            1
        );
        let purge = PurgedRecord {
            seq: 5,
            entity: "contact".into(),
            record_id: *id.as_uuid(),
        };
        assert_eq!(pull(&mut store, &[], &[purge]), 0);
    }

    fn stored(version: u64, value: &str) -> PushOutcome {
        PushOutcome::Stored {
            version,
            value: value.into(),
            conflict_id: None,
        }
    }

    fn ack(change: &OutboxChange, outcome: PushOutcome) -> PushAck {
        PushAck {
            change_id: change.change_id,
            outcome,
        }
    }

    /// Pulls `write` alone, the cursor moving to its seq.
    fn pull_one(store: &mut Store, write: ServerWrite) {
        let seq = write.seq;
        store
            .apply_pulled_page(&[write], &[], seq, at(), at())
            .unwrap();
    }

    /// Answers the change at the head of the outbox with `outcome`; returns that change.
    fn answer_head(store: &mut Store, outcome: PushOutcome) -> OutboxChange {
        let change = store.outbox_batch(500).unwrap().remove(0);
        store
            .apply_push_results(&[ack(&change, outcome)], at())
            .unwrap();
        change
    }

    fn state(store: &Store, id: RecordId, field: &str) -> Option<FieldState> {
        store.field_state("client", *id.as_uuid(), field).unwrap()
    }

    fn write(id: RecordId, field: &str, value: &str, version: u64) -> ServerWrite {
        ServerWrite {
            seq: version,
            entity: "client".into(),
            record_id: *id.as_uuid(),
            field: field.into(),
            value: value.into(),
            version,
            hlc: format!("1768471300000-00000-{OTHER_USER}"),
            author_id: OTHER_USER,
        }
    }

    fn mirrored(id: i64, record_id: Uuid, status: &str) -> MirroredConflict {
        MirroredConflict {
            conflict: LocalConflict {
                id,
                entity: "client".into(),
                record_id,
                field: "given_name".into(),
                policy: "review".into(),
                status: status.into(),
                detail: Some(format!("{{\"status\":\"{status}\"}}")),
            },
        }
    }

    #[test]
    fn the_newest_conflict_id_counts_the_closed_ones() {
        let (_dir, mut store) = signed_in_store();
        assert_eq!(store.newest_conflict_id().unwrap(), None);
        let record_id = Uuid::now_v7();
        let listed = [
            mirrored(4, record_id, "open"),
            mirrored(7, record_id, "auto_resolved"),
        ];
        store.replace_team_conflicts(&listed, at()).unwrap();
        assert_eq!(store.newest_conflict_id().unwrap(), Some(7));
        assert_eq!(store.conflicts(false).unwrap().len(), 1);
    }

    #[test]
    fn a_resolution_stands_at_once_and_a_list_fetched_before_it_does_not_reopen_the_conflict() {
        let (_dir, mut store) = signed_in_store();
        let record_id = Uuid::now_v7();
        let id = RecordId::from_uuid(record_id);
        store
            .apply_pulled_page(
                &[write(id, "given_name", "\"Amina\"", 3)],
                &[],
                3,
                at(),
                at(),
            )
            .unwrap();
        store
            .replace_team_conflicts(&[mirrored(4, record_id, "open")], at())
            .unwrap();
        let resolution = ServerWrite {
            hlc: "1768471300000-00001-server".into(),
            ..write(id, "given_name", "\"Aminah\"", 12)
        };
        let pending = store.pending_count().unwrap();
        store
            .record_conflict_resolution(&mirrored(4, record_id, "resolved"), &resolution, at())
            .unwrap();
        assert_eq!(state(&store, id, "given_name").unwrap().value, "\"Aminah\"");
        assert_eq!(store.pull_cursor().unwrap(), 3, "the pull brings it again");
        assert_eq!(store.pending_count().unwrap(), pending);
        assert!(store.conflicts(false).unwrap().is_empty());

        // A cycle that listed the conflicts just before the resolution stores its list now.
        store
            .replace_team_conflicts(
                &[
                    mirrored(4, record_id, "open"),
                    mirrored(5, record_id, "open"),
                ],
                at(),
            )
            .unwrap();
        let open: Vec<i64> = store
            .conflicts(false)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(open, vec![5]);
        assert_eq!(store.conflict(4).unwrap().unwrap().status, "resolved");
        // The pull brings the resolution again: already known.
        let applied = store
            .apply_pulled_page(&[resolution], &[], 12, at(), at())
            .unwrap();
        assert_eq!((applied.updated, applied.already_known), (0, 1));
        assert_eq!(state(&store, id, "given_name").unwrap().value, "\"Aminah\"");
    }

    /// The ids of the conflicts the store holds, and of the closed ones the screen reads.
    fn mirror(store: &Store) -> (Vec<i64>, Vec<i64>) {
        let ids = |conflicts: Vec<LocalConflict>| conflicts.iter().map(|c| c.id).collect();
        (
            ids(store.conflicts(true).unwrap()),
            ids(store.closed_conflicts(CLOSED_CONFLICTS_KEPT).unwrap()),
        )
    }

    #[test]
    fn the_mirror_keeps_every_open_conflict_and_only_the_newest_closed_ones_whatever_is_listed() {
        let record_id = Uuid::now_v7();
        let kept = CLOSED_CONFLICTS_KEPT as i64;
        // Ids 1 to twice as many; every fifth open, the others closed, of either kind.
        let every: Vec<MirroredConflict> = (1..=2 * kept)
            .map(|id| {
                let status = match id % 5 {
                    0 => "open",
                    1 | 3 => "resolved",
                    _ => "auto_resolved",
                };
                mirrored(id, record_id, status)
            })
            .collect();
        let is_open = |c: &&MirroredConflict| c.conflict.status == "open";
        let open: Vec<i64> = every
            .iter()
            .filter(is_open)
            .map(|c| c.conflict.id)
            .collect();
        let mut newest_closed: Vec<i64> = every
            .iter()
            .filter(|c| !is_open(c))
            .map(|c| c.conflict.id)
            .rev()
            .take(CLOSED_CONFLICTS_KEPT)
            .collect();
        // What a server honouring `closed_limit` lists: the open ones and the newest closed.
        let limited: Vec<MirroredConflict> = every
            .iter()
            .filter(|c| is_open(c) || newest_closed.contains(&c.conflict.id))
            .cloned()
            .collect();
        let mut expected: Vec<i64> = open.iter().chain(&newest_closed).copied().collect();
        expected.sort_unstable();

        // A server that ignores `closed_limit` lists every conflict: the same mirror.
        for (server, listed) in [("limited", &limited), ("everything", &every)] {
            let (_dir, mut store) = signed_in_store();
            store.replace_team_conflicts(listed, at()).unwrap();
            let (held, shown) = mirror(&store);
            assert_eq!(held, expected, "{server}");
            assert_eq!(shown, newest_closed, "{server}: the newest first");
            let open_held: Vec<i64> = store
                .conflicts(false)
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect();
            assert_eq!(open_held, open, "{server}");
        }

        // The next cycle: one more closed conflict pushes the oldest kept one out.
        let (_dir, mut store) = signed_in_store();
        store.replace_team_conflicts(&every, at()).unwrap();
        let mut more = every.clone();
        more.push(mirrored(2 * kept + 1, record_id, "auto_resolved"));
        store.replace_team_conflicts(&more, at()).unwrap();
        let dropped = newest_closed.pop().unwrap();
        newest_closed.insert(0, 2 * kept + 1);
        let (held, shown) = mirror(&store);
        assert!(!held.contains(&dropped));
        assert_eq!(shown, newest_closed);
    }

    #[test]
    fn a_conflict_resolved_here_leaves_the_mirror_once_the_server_no_longer_lists_it() {
        let (_dir, mut store) = signed_in_store();
        let (erased, other) = (Uuid::now_v7(), Uuid::now_v7());
        let id = RecordId::from_uuid(erased);
        store
            .replace_team_conflicts(
                &[mirrored(4, erased, "open"), mirrored(5, other, "open")],
                at(),
            )
            .unwrap();
        let resolution = ServerWrite {
            hlc: "1768471300000-00001-server".into(),
            ..write(id, "given_name", "\"Aminah\"", 12)
        };
        store
            .record_conflict_resolution(&mirrored(4, erased, "resolved"), &resolution, at())
            .unwrap();
        // The client was erased on the server: its conflicts are gone from the list.
        store
            .replace_team_conflicts(&[mirrored(5, other, "open")], at())
            .unwrap();
        assert_eq!(mirror(&store), (vec![5], vec![]));
        assert_eq!(store.conflict(4).unwrap(), None);
    }

    /// A conflict as the server lists it, made at second `made` and resolved at `resolved`.
    fn mirrored_at(id: i64, status: &str, made: u32, resolved: Option<u32>) -> MirroredConflict {
        let time = |second: u32| format!("2026-01-15T10:00:{second:02}.250Z");
        let mut detail = json!({"id": id, "status": status, "created_at": time(made)});
        if let Some(second) = resolved {
            detail["resolved_at"] = json!(time(second));
        }
        let mut conflict = mirrored(id, Uuid::nil(), status);
        conflict.conflict.detail = Some(detail.to_string());
        conflict
    }

    #[test]
    fn the_closed_conflicts_shown_are_the_most_recently_closed_first_then_the_highest_id() {
        let (_dir, mut store) = signed_in_store();
        store
            .replace_team_conflicts(
                &[
                    // Made first, resolved last.
                    mirrored_at(1, "resolved", 1, Some(30)),
                    mirrored_at(2, "open", 2, None),
                    // Closed when made.
                    mirrored_at(3, "auto_resolved", 10, None),
                    mirrored_at(4, "resolved", 3, Some(20)),
                    // Closed at the same time as 4: the higher id first.
                    mirrored_at(5, "auto_resolved", 20, None),
                    // Auto-resolved by a later write: closed when that came.
                    mirrored_at(6, "auto_resolved", 4, Some(5)),
                ],
                at(),
            )
            .unwrap();
        let ids = |limit| -> Vec<i64> {
            store
                .closed_conflicts(limit)
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(ids(10), vec![1, 5, 4, 3, 6]);
        assert_eq!(ids(2), vec![1, 5]);
        assert_eq!(store.conflict(2).unwrap().unwrap().status, "open");
    }

    #[test]
    fn the_mirror_keeps_a_conflict_resolved_after_newer_auto_resolved_ones_and_drops_the_oldest_closed()
     {
        let kept = CLOSED_CONFLICTS_KEPT as i64;
        // 1 made first and resolved last; then more auto-resolved ones than kept.
        let mut listed = vec![mirrored_at(1, "resolved", 0, Some(59))];
        listed.extend((2..=kept + 1).map(|id| mirrored_at(id, "auto_resolved", 1, None)));
        let (_dir, mut store) = signed_in_store();
        store.replace_team_conflicts(&listed, at()).unwrap();
        let (held, shown) = mirror(&store);
        assert_eq!(shown.len(), CLOSED_CONFLICTS_KEPT);
        assert_eq!(shown[0], 1, "the most recently closed first");
        assert!(held.contains(&1));
        assert!(
            !held.contains(&2),
            "the oldest closed (tie: lowest id) left: {held:?}"
        );
    }

    #[test]
    fn a_batch_takes_the_oldest_pending_change_of_each_field_in_outbox_order() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Amina", "nickname": "A"}));
        edit_client(&mut store, id, json!({"nickname": "Ami"}));
        let batch = store.outbox_batch(500).unwrap();
        let fields: Vec<_> = batch
            .iter()
            .map(|c| (c.field.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(fields.len(), 2, "{fields:?}");
        assert!(
            fields.contains(&("nickname", "\"A\"")),
            "the first nickname edit goes first"
        );
        assert!(batch.iter().all(|c| c.author_id == USER.to_string()));
        assert_eq!(
            store.outbox_batch(1).unwrap().len(),
            2,
            "the record's two fields"
        );
        assert_eq!(store.pending_changes().unwrap().len(), 3);
    }

    #[test]
    fn a_batch_takes_every_pending_field_of_the_records_its_first_changes_reach() {
        let (_dir, mut store) = signed_in_store();
        let first = client(&mut store, json!({"given_name": "Amina", "nickname": "A"}));
        let second = client(&mut store, json!({"given_name": "Olga", "nickname": "O"}));
        let third = client(&mut store, json!({"given_name": "Leyla"}));
        edit_client(&mut store, first, json!({"family_name": "Hassan"}));
        let records = |max: usize| -> Vec<(Uuid, String)> {
            store
                .outbox_batch(max)
                .unwrap()
                .into_iter()
                .map(|c| (c.record_id, c.field))
                .collect()
        };
        let fields = |id: RecordId, names: &[&str]| -> Vec<(Uuid, String)> {
            names
                .iter()
                .map(|name| (*id.as_uuid(), (*name).to_owned()))
                .collect()
        };
        // The first change reaches the first client: all three of its fields, the last one
        // edited after the other clients were registered.
        let mut first_only = fields(first, &["given_name", "nickname"]);
        first_only.extend(fields(first, &["family_name"]));
        let by_field = |mut changes: Vec<(Uuid, String)>| {
            changes.sort();
            changes
        };
        assert_eq!(by_field(records(1)), by_field(first_only.clone()));
        assert_eq!(
            records(1).last().unwrap().1,
            "family_name",
            "in outbox order"
        );
        // Three changes reach the second client too, never only part of it.
        let mut two = first_only;
        two.extend(fields(second, &["given_name", "nickname"]));
        assert_eq!(by_field(records(3)), by_field(two));
        assert_eq!(records(500).len(), 6);
        assert!(records(500).iter().any(|(id, _)| id == third.as_uuid()));
    }

    #[test]
    fn an_acknowledged_change_leaves_the_outbox_and_the_next_edit_of_its_field_is_rebased() {
        let (_dir, mut store) = signed_in_store();
        assert_eq!(store.outbox_high_water().unwrap(), 0);
        let id = client(&mut store, json!({"given_name": "Amina"}));
        edit_client(&mut store, id, json!({"given_name": "Aminah"}));
        let high_water = store.outbox_high_water().unwrap();
        assert!(high_water >= 2, "{high_water}");
        let first = store.outbox_batch(500).unwrap().remove(0);
        let applied = store
            .apply_push_results(&[ack(&first, stored(41, "\"Amina\""))], at())
            .unwrap();
        assert_eq!(applied.acknowledged, 1);
        let pending = store.pending_changes().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].base_version, 41);
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!(
            (field.value.as_str(), field.version),
            ("\"Aminah\"", 41),
            "the later local value stays"
        );
        let second = pending[0].clone();
        store
            .apply_push_results(&[ack(&second, stored(42, "\"Aminah\""))], at())
            .unwrap();
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!(
            (field.value.as_str(), field.version, field.server_version),
            ("\"Aminah\"", 42, 42)
        );
        assert_eq!(store.pending_count().unwrap(), 0);
        assert_eq!(
            store.outbox_high_water().unwrap(),
            high_water,
            "sending changes does not lower the high-water mark"
        );
        edit_client(&mut store, id, json!({"given_name": "Amina"}));
        assert_eq!(store.outbox_high_water().unwrap(), high_water + 1);
        // The same answer again (a lost response, a repeated push) changes nothing.
        let again = store
            .apply_push_results(&[ack(&second, stored(42, "\"Aminah\""))], at())
            .unwrap();
        assert_eq!(again.already_acknowledged, 1);
        assert_eq!(again.acknowledged, 0);
    }

    #[test]
    fn an_answer_where_another_value_stands_keeps_the_later_local_edit_concurrent_with_it() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Amina"}));
        answer_head(&mut store, stored(5, "\"Amina\""));
        edit_client(&mut store, id, json!({"given_name": "Aminah"}));
        edit_client(&mut store, id, json!({"given_name": "Amiina"}));
        let first = store.outbox_batch(500).unwrap().remove(0);
        assert_eq!(first.base_version, 5);
        // Someone else's value won provisionally (a review conflict).
        store
            .apply_push_results(
                &[ack(
                    &first,
                    PushOutcome::Stored {
                        version: 9,
                        value: "\"Mina\"".into(),
                        conflict_id: Some(3),
                    },
                )],
                at(),
            )
            .unwrap();
        let pending = store.pending_changes().unwrap();
        assert_eq!(
            pending[0].base_version, 5,
            "not rebased: the server must see the concurrency"
        );
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!(field.value, "\"Amiina\"");
        assert_eq!(field.version, 5);
        assert_eq!(
            (field.server_value.as_deref(), field.server_version),
            (Some("\"Mina\""), 9)
        );
        let conflicts = store.conflicts(false).unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!((conflicts[0].id, conflicts[0].status.as_str()), (3, "open"));
    }

    #[test]
    fn pulling_the_servers_own_write_that_a_conflict_was_against_does_not_close_the_conflict() {
        // Closed by any later write of the field: a team lead's resolution (the server's), or
        // an edit after the conflict (a colleague's), which the server no longer lets a
        // resolution replace.
        for (node, closed) in [("server", "resolved"), ("colleague", "auto_resolved")] {
            conflict_closed_by_a_later_write(node, closed);
        }
    }

    fn conflict_closed_by_a_later_write(node: &str, closed: &str) {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Amina", "notes": "l1"}));
        let create = store.outbox_batch(500).unwrap();
        let acks: Vec<_> = create
            .iter()
            .map(|change| ack(change, stored(5, &change.value)))
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
        edit_client(&mut store, id, json!({"notes": "other"}));
        let edit = store.outbox_batch(500).unwrap().remove(0);
        // The server's own text merge (HLC node `server`) stands at version 9; our edit is in
        // review against it.
        store
            .apply_push_results(
                &[ack(
                    &edit,
                    PushOutcome::Stored {
                        version: 9,
                        value: "\"L1\\nl2\"".into(),
                        conflict_id: Some(2),
                    },
                )],
                at(),
            )
            .unwrap();
        let server_write = |version: u64, value: &str| ServerWrite {
            hlc: format!("17684713{version:05}-00000-server"),
            ..write(id, "notes", value, version)
        };
        store
            .apply_pulled_page(&[server_write(9, "\"L1\\nl2\"")], &[], 9, at(), at())
            .unwrap();
        let open = |store: &Store| -> Vec<(i64, String)> {
            let conflicts = store.conflicts(true).unwrap();
            conflicts.into_iter().map(|c| (c.id, c.status)).collect()
        };
        assert_eq!(
            open(&store),
            [(2, "open".to_owned())],
            "the merge is what the conflict is against"
        );
        // A later write does close it.
        let later = ServerWrite {
            hlc: format!("1768471300012-00000-{node}"),
            ..write(id, "notes", "\"other\"", 12)
        };
        store
            .apply_pulled_page(&[later], &[], 12, at(), at())
            .unwrap();
        assert_eq!(open(&store), [(2, closed.to_owned())]);
        // On a team lead's laptop the server's list decides: a conflict closed here only by
        // that guess, and still open on the server, is shown open.
        store
            .replace_team_conflicts(&[mirrored(2, *id.as_uuid(), "open")], at())
            .unwrap();
        assert_eq!(open(&store), [(2, "open".to_owned())]);
    }

    #[test]
    fn an_acknowledged_change_is_journalled_for_30_days_and_a_restored_server_gets_it_again() {
        let (_dir, mut store) = signed_in_store();
        client(&mut store, json!({"given_name": "Anna"}));
        let created = store.outbox_batch(500).unwrap();
        let acks: Vec<_> = created
            .iter()
            .map(|change| ack(change, stored(5, &change.value)))
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
        let id = client(&mut store, json!({"given_name": "Bertta"}));
        let later = store.outbox_batch(500).unwrap();
        let acks: Vec<_> = later
            .iter()
            .map(|change| ack(change, stored(12, &change.value)))
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
        assert_eq!(store.pending_count().unwrap(), 0);
        let journalled = store.journalled_count().unwrap();
        assert_eq!(journalled, (created.len() + later.len()) as u64);
        store.apply_pulled_page(&[], &[], 14, at(), at()).unwrap();

        let first = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: 1,
            restored_seq: 0,
            previous_id: None,
        };
        assert_eq!(
            store.adopt_server_epoch(&first).unwrap(),
            EpochAdoption::default(),
            "a first epoch is only recorded"
        );
        assert_eq!(store.server_epoch().unwrap(), Some(first.id));

        // Restored from a backup whose last seq was 9: only what was acknowledged above it
        // comes back, in its place, and the cursor goes back to 9.
        let restored = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: 9 + (1 << 32),
            restored_seq: 9,
            previous_id: Some(first.id),
        };
        let adoption = store.adopt_server_epoch(&restored).unwrap();
        assert_eq!(
            adoption,
            EpochAdoption {
                rewound_to: Some(9),
                requeued: later.len() as u64
            }
        );
        assert_eq!(store.pull_cursor().unwrap(), 9);
        let queued: Vec<_> = store.pending_changes().unwrap();
        assert_eq!(queued, later);
        assert_eq!(
            store.adopt_server_epoch(&restored).unwrap(),
            EpochAdoption::default()
        );
        assert_eq!(
            store
                .field_state("client", *id.as_uuid(), "given_name")
                .unwrap()
                .unwrap()
                .value,
            "\"Bertta\""
        );

        // Two restores later than the epoch known: everything journalled, from seq 0.
        let acks: Vec<_> = queued
            .iter()
            .map(|change| ack(change, stored(restored.start_seq, &change.value)))
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
        let unknown = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: restored.start_seq * 2,
            restored_seq: restored.start_seq,
            previous_id: Some(Uuid::new_v4()),
        };
        let adoption = store.adopt_server_epoch(&unknown).unwrap();
        assert_eq!(adoption.rewound_to, Some(0));
        assert_eq!(adoption.requeued, journalled);

        // Acknowledged again, and 31 days later the journal has let go of them.
        let acks: Vec<_> = store
            .pending_changes()
            .unwrap()
            .iter()
            .map(|change| ack(change, stored(unknown.start_seq, &change.value)))
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
        assert_eq!(store.journalled_count().unwrap(), journalled);
        store
            .apply_push_results(&[], at() + chrono::Duration::days(31))
            .unwrap();
        assert_eq!(store.journalled_count().unwrap(), 0);
    }

    #[test]
    fn a_change_that_lost_is_queued_again_after_any_restore_and_a_repeated_answer_moves_nothing_back()
     {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Anna"}));
        // Another value stood at version 5; our write took some later seq, unknown here.
        let change = answer_head(&mut store, stored(5, "\"Anne\""));
        pull_one(&mut store, write(id, "given_name", "\"Anni\"", 20));
        let first = first_epoch(&mut store);
        let restored = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: 30 + (1 << 32),
            restored_seq: 30,
            previous_id: Some(first.id),
        };
        let adoption = store.adopt_server_epoch(&restored).unwrap();
        assert_eq!(adoption.requeued, 1);
        assert_eq!(
            adoption.rewound_to, None,
            "the cursor is below the backup's last seq"
        );
        // The backup had it: the server answers it as a repeat, with its first answer.
        store
            .apply_push_results(&[ack(&change, stored(5, "\"Anne\""))], at())
            .unwrap();
        let state = state(&store, id, "given_name").unwrap();
        assert_eq!((state.value.as_str(), state.version), ("\"Anni\"", 20));
    }

    /// The first epoch of a server, which `store` takes note of.
    fn first_epoch(store: &mut Store) -> ServerEpoch {
        let first = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: 1,
            restored_seq: 0,
            previous_id: None,
        };
        store.adopt_server_epoch(&first).unwrap();
        first
    }

    /// The first epoch, then a restore from a backup whose last seq was `restored_seq`.
    fn restore_after(store: &mut Store, restored_seq: u64) -> (ServerEpoch, EpochAdoption) {
        let first = first_epoch(store);
        let restored = ServerEpoch {
            id: Uuid::new_v4(),
            start_seq: restored_seq + (1 << 32),
            restored_seq,
            previous_id: Some(first.id),
        };
        let adoption = store.adopt_server_epoch(&restored).unwrap();
        (restored, adoption)
    }

    /// A client created and acknowledged at 5 (pulled up to 5), and our edit X of its given
    /// name to Ours, waiting (returned).
    fn our_edit_of_a_client(store: &mut Store) -> (RecordId, OutboxChange) {
        let id = client(store, json!({"given_name": "Anna"}));
        answer_head(store, stored(5, "\"Anna\""));
        store.apply_pulled_page(&[], &[], 5, at(), at()).unwrap();
        edit_client(store, id, json!({"given_name": "Ours"}));
        let x = store.outbox_batch(500).unwrap().remove(0);
        (id, x)
    }

    /// Pulls `first` (value and version, another user's) and then a colleague's Kept at 11
    /// and Lost at 12 of the client's given name.
    fn pull_then_kept_and_lost(store: &mut Store, id: RecordId, (value, version): (&str, u64)) {
        let mut first = write(id, "given_name", value, version);
        first.author_id = OTHER_USER;
        let pulled = [
            first,
            write(id, "given_name", "\"Kept\"", 11),
            write(id, "given_name", "\"Lost\"", 12),
        ];
        store
            .apply_pulled_page(&pulled, &[], 12, at(), at())
            .unwrap();
    }

    /// A client created and acknowledged at 5, then our edit X of its given name (returned):
    /// the server answers X at 10 with `answer` standing, the answer is lost (502/504 from a
    /// proxy), and the cycle still pulls (2d22334) that write at 10 and a colleague's later
    /// one at 11.
    fn an_answer_lost_while_a_colleague_wrote(
        store: &mut Store,
        answer: &str,
    ) -> (RecordId, OutboxChange) {
        let (id, x) = our_edit_of_a_client(store);
        let mut at_10 = write(id, "given_name", answer, 10);
        at_10.author_id = OTHER_USER;
        store
            .apply_pulled_page(
                &[at_10, write(id, "given_name", "\"Colleague\"", 11)],
                &[],
                11,
                at(),
                at(),
            )
            .unwrap();
        (id, x)
    }

    #[test]
    fn a_repeated_answer_older_than_a_pulled_write_leaves_the_field_with_the_pulled_value() {
        let (_dir, mut store) = signed_in_store();
        let (id, x) = an_answer_lost_while_a_colleague_wrote(&mut store, "\"Ours\"");
        // Next cycle: X sent again, answered as a repeat with its first answer.
        store
            .apply_push_results(&[ack(&x, stored(10, "\"Ours\""))], at())
            .unwrap();
        assert_eq!(store.pending_count().unwrap(), 0);
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!(
            (field.value.as_str(), field.version),
            ("\"Colleague\"", 11),
            "the server has the colleague's value at 11"
        );
        assert_eq!(
            (field.server_value.as_deref(), field.server_version),
            (Some("\"Colleague\""), 11)
        );
        assert_eq!(store.search_clients("colleague").unwrap().len(), 1);
        assert!(store.search_clients("ours").unwrap().is_empty());
    }

    #[test]
    fn a_repeated_answer_older_than_a_pulled_write_that_a_restore_lost_gives_the_field_its_value() {
        // Our value stood at 10, or another (a merge, a concurrent writer); a colleague wrote
        // at 11. A backup made at 10 has the answer's value, not the colleague's; one made at
        // 11 has both.
        for (answer, backup) in [("Ours", 10), ("Theirs", 10), ("Ours", 11)] {
            let (_dir, mut store) = signed_in_store();
            let answer = format!("\"{answer}\"");
            let (id, x) = an_answer_lost_while_a_colleague_wrote(&mut store, &answer);
            restore_after(&mut store, backup);
            // X is sent again, answered as a repeat with its first answer.
            store
                .apply_push_results(&[ack(&x, stored(10, &answer))], at())
                .unwrap();
            assert_eq!(store.pending_count().unwrap(), 0);
            let (server_has, version) = if backup == 10 {
                (answer.as_str(), 10)
            } else {
                ("\"Colleague\"", 11)
            };
            let field = state(&store, id, "given_name").unwrap();
            assert_eq!(
                (
                    field.value.as_str(),
                    field.version,
                    field.server_value.as_deref(),
                    field.server_version
                ),
                (server_has, version, Some(server_has), version),
                "{answer} at 10, backup made at {backup}"
            );
            let found = |text: &str| store.search_clients(text).unwrap().len();
            let shown = server_has.trim_matches('"').to_lowercase();
            assert_eq!(found(&shown), 1, "{answer} at 10, backup made at {backup}");
            for gone in ["ours", "theirs", "colleague"]
                .iter()
                .filter(|&&g| g != shown)
            {
                assert_eq!(
                    found(gone),
                    0,
                    "{gone}: {answer} at 10, backup made at {backup}"
                );
            }
        }
    }

    /// Asserts what a field shows and notes after a restore, and that search finds the client
    /// by the value shown and by no other of `values`.
    fn assert_field_after_restore(
        store: &Store,
        id: RecordId,
        (shown, version): (&str, u64),
        values: &[&str],
    ) {
        let field = state(store, id, "given_name").unwrap();
        assert_eq!(
            (
                field.value.as_str(),
                field.version,
                field.server_value.as_deref(),
                field.server_version
            ),
            (shown, version, Some(shown), version)
        );
        let found = |text: &str| store.search_clients(text).unwrap().len();
        let shown = shown.trim_matches('"').to_lowercase();
        assert_eq!(found(&shown), 1, "{shown} is found");
        for gone in values
            .iter()
            .map(|v| v.to_lowercase())
            .filter(|v| *v != shown)
        {
            assert_eq!(found(&gone), 0, "{gone} is not found");
        }
    }

    #[test]
    fn an_unreadable_record_of_lost_seqs_counts_as_none_and_is_kept_as_it_was() {
        let (_dir, mut store) = signed_in_store();
        let (id, x) = an_answer_lost_while_a_colleague_wrote(&mut store, "\"Ours\"");
        set_key(&store.conn, keys::LOST_SEQS, "10-x").unwrap();
        // As before the ranges were kept: the colleague's write at 11 is the server's.
        store
            .apply_push_results(&[ack(&x, stored(10, "\"Ours\""))], at())
            .unwrap();
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!((field.value.as_str(), field.version), ("\"Colleague\"", 11));
        // A restore's range is added after what could not be read, which stays for a version
        // that can read it.
        let (restored, _) = restore_after(&mut store, 20);
        let text = get_key(&store.conn, keys::LOST_SEQS).unwrap();
        assert_eq!(text, Some(format!("10-x,20-{}", restored.start_seq)));
        let lost = LostSeqs::load(&store.conn).unwrap();
        assert_eq!(
            [11, 20, 21, restored.start_seq - 1, restored.start_seq].map(|seq| lost.contains(seq)),
            [false, false, true, true, false]
        );
    }

    #[test]
    fn a_repeated_answer_takes_a_write_the_backup_kept_between_it_and_a_lost_one() {
        // Our X stood at 10; the cycle pulled it, a colleague's Kept at 11 and Lost at 12
        // while X waited (its answer lost); the backup holds 11. The server still has Kept@11
        // and the cursor rewinds only to 11, so it is never pulled again.
        let (_dir, mut store) = signed_in_store();
        let (id, x) = our_edit_of_a_client(&mut store);
        pull_then_kept_and_lost(&mut store, id, ("\"Ours\"", 10));
        let (_, adoption) = restore_after(&mut store, 11);
        assert_eq!(adoption.rewound_to, Some(11));
        store
            .apply_push_results(&[ack(&x, stored(10, "\"Ours\""))], at())
            .unwrap();
        assert_eq!(store.pending_count().unwrap(), 0);
        assert_field_after_restore(&store, id, ("\"Kept\"", 11), &["Ours", "Kept", "Lost"]);
    }

    #[test]
    fn after_several_restores_a_repeated_answer_takes_no_pulled_write_until_the_pull_from_0_does() {
        // Our X stood at 10; the cycle pulled it, a colleague's Kept at 11 and Lost at 12
        // while X waited (its answer lost). Then two restores, the first of which this laptop
        // never saw: from a backup made at 10 (Kept lost) or at 11 (Kept kept), then from a
        // backup of that epoch. The epoch the laptop sees is the same either way: it cannot
        // tell whether the server has Kept, and takes every seq below its start for lost.
        for (first_backup, server_has) in [(10, ("\"Ours\"", 10)), (11, ("\"Kept\"", 11))] {
            let (_dir, mut store) = signed_in_store();
            let (id, x) = our_edit_of_a_client(&mut store);
            pull_then_kept_and_lost(&mut store, id, ("\"Ours\"", 10));
            first_epoch(&mut store);
            // Restored from a backup of the epoch the first restore began (its seqs start at
            // 2^32 + 10 or 11): the same answer whichever backup the first restore took.
            let restored_seq = (1 << 32) + 30;
            let restored_again = ServerEpoch {
                id: Uuid::new_v4(),
                start_seq: restored_seq + (1 << 32),
                restored_seq,
                previous_id: Some(Uuid::new_v4()),
            };
            let adoption = store.adopt_server_epoch(&restored_again).unwrap();
            assert_eq!(adoption.rewound_to, Some(0), "backup at {first_backup}");
            // The creation is queued again ahead of X; both are answered as repeats.
            let created = answer_head(&mut store, stored(5, "\"Anna\""));
            assert_ne!(created.change_id, x.change_id);
            let sent_again = answer_head(&mut store, stored(10, "\"Ours\""));
            assert_eq!(sent_again.change_id, x.change_id);
            assert_eq!(store.pending_count().unwrap(), 0);
            // Taking Kept from the history would show a value a restore lost (backup at 10),
            // and the pull from 0 would not bring Ours again to put it right.
            assert_field_after_restore(&store, id, ("\"Ours\"", 10), &["Ours", "Kept", "Lost"]);
            let mut pulled = vec![write(id, "given_name", "\"Ours\"", 10)];
            if first_backup == 11 {
                pulled.push(write(id, "given_name", "\"Kept\"", 11));
            }
            store
                .apply_pulled_page(&pulled, &[], restored_seq, at(), at())
                .unwrap();
            assert_field_after_restore(&store, id, server_has, &["Ours", "Kept", "Lost"]);
        }
    }

    #[test]
    fn a_merged_answer_queued_again_after_a_restore_takes_a_colleague_write_the_backup_kept() {
        // X lost to another value at 9 (journalled "above everything"); a colleague wrote Kept
        // at 11 and Lost at 12; the backup holds 11. X is queued again and answered as before.
        let (_dir, mut store) = signed_in_store();
        let (id, x) = our_edit_of_a_client(&mut store);
        store
            .apply_push_results(&[ack(&x, stored(9, "\"Theirs\""))], at())
            .unwrap();
        pull_then_kept_and_lost(&mut store, id, ("\"Theirs\"", 9));
        let (_, adoption) = restore_after(&mut store, 11);
        assert_eq!((adoption.requeued, adoption.rewound_to), (1, Some(11)));
        store
            .apply_push_results(&[ack(&x, stored(9, "\"Theirs\""))], at())
            .unwrap();
        assert_eq!(store.pending_count().unwrap(), 0);
        assert_field_after_restore(
            &store,
            id,
            ("\"Kept\"", 11),
            &["Ours", "Theirs", "Kept", "Lost"],
        );
    }

    #[test]
    fn a_change_queued_again_after_a_restore_stays_before_a_newer_edit_acknowledged_meanwhile() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Anna"}));
        answer_head(&mut store, stored(5, "\"Anna\""));
        // R: acknowledged at 12, then lost with the server's disk.
        edit_client(&mut store, id, json!({"given_name": "Bertta"}));
        let lost = answer_head(&mut store, stored(12, "\"Bertta\""));
        store.apply_pulled_page(&[], &[], 12, at(), at()).unwrap();
        // A: the newer edit, pushed to the restored server, whose answer brings its epoch.
        edit_client(&mut store, id, json!({"given_name": "Cecilia"}));
        let newer = store.outbox_batch(500).unwrap().remove(0);
        let (restored, adoption) = restore_after(&mut store, 9);
        assert_eq!(adoption.requeued, 1);
        store
            .apply_push_results(
                &[ack(&newer, stored(restored.start_seq, "\"Cecilia\""))],
                at(),
            )
            .unwrap();

        let pending = store.pending_changes().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].change_id, pending[0].base_version),
            (lost.change_id, lost.base_version),
            "R keeps its old base, so the server sees it as concurrent with A, which is newer"
        );
        let field = state(&store, id, "given_name").unwrap();
        assert_eq!(
            (field.value.as_str(), field.server_version),
            ("\"Cecilia\"", restored.start_seq)
        );
    }

    #[test]
    fn a_repeated_answer_older_than_a_pulled_write_moves_no_field_back_while_an_edit_waits() {
        for stands in [false, true] {
            let (_dir, mut store) = signed_in_store();
            let id = client(&mut store, json!({"given_name": "Anna"}));
            // Another value stood (journalled as unknown, so queued again after any restore),
            // or ours did, at 5.
            let first_answer = stored(5, if stands { "\"Anna\"" } else { "\"Anne\"" });
            let change = answer_head(&mut store, first_answer.clone());
            edit_client(&mut store, id, json!({"given_name": "Annika"}));
            pull_one(&mut store, write(id, "given_name", "\"Anni\"", 20));
            let (restored, _) = restore_after(&mut store, 30);
            if stands {
                // Only a change whose answer named another value is queued again by a restore
                // whose backup has it; one whose value stood comes back after a restore that
                // does not follow the epoch known (several restores): everything journalled.
                let unknown = ServerEpoch {
                    id: Uuid::new_v4(),
                    start_seq: restored.start_seq * 2,
                    restored_seq: restored.start_seq,
                    previous_id: Some(Uuid::new_v4()),
                };
                store.adopt_server_epoch(&unknown).unwrap();
            }
            assert_eq!(
                store.pending_changes().unwrap()[0].change_id,
                change.change_id
            );
            // The backup had it: the server answers it as a repeat, with its first answer.
            store
                .apply_push_results(&[ack(&change, first_answer)], at())
                .unwrap();
            let field = state(&store, id, "given_name").unwrap();
            assert_eq!(
                (
                    field.value.as_str(),
                    field.server_value.as_deref(),
                    field.server_version
                ),
                ("\"Annika\"", Some("\"Anni\""), 20),
                "stands: {stands}"
            );
        }
    }

    #[test]
    fn a_sync_call_that_reads_before_it_writes_waits_for_a_write_another_connection_made_meanwhile()
    {
        let (_dir, mut store, key) = test_store_and_key();
        store.record_sign_in(&sign_in_as(USER, TEAM)).unwrap();
        client(&mut store, json!({"given_name": "Anna"}));
        let change = store.outbox_batch(500).unwrap().remove(0);
        let refused = PushOutcome::Rejected {
            reason: "refused".to_owned(),
            reason_code: None,
        };
        store
            .apply_push_results(&[ack(&change, refused)], at())
            .unwrap();
        // A sync on its own connection (the desktop's bridge) notes a failed cycle.
        let mut refused = Vec::new();
        let mut call = |name: &'static str, call: &dyn Fn(&mut Store) -> Result<(), StoreError>| {
            let meanwhile = move |other: &mut Store| other.record_sync_failure(at(), name, false);
            if let Err(error) = with_a_write_meanwhile(&mut store, &key, meanwhile, call) {
                refused.push(format!("{name}: {error}"));
            }
        };
        call("observe_server_time", &|store| {
            store.observe_server_time(at(), at()).map(drop)
        });
        call("replace_team_conflicts", &|store| {
            store.replace_team_conflicts(&[], at())
        });
        call("retry_rejected", &|store| {
            store.retry_rejected(change.change_id, edit()).map(drop)
        });
        assert_eq!(refused, Vec::<String>::new());
        assert_eq!(store.pending_count().unwrap(), 1);
    }

    #[test]
    fn a_refused_change_is_listed_and_the_field_returns_to_the_servers_value_or_to_empty() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Amina", "nickname": "A"}));
        for change in store.outbox_batch(500).unwrap() {
            let outcome = if change.field == "given_name" {
                stored(3, "\"Amina\"")
            } else {
                PushOutcome::Rejected {
                    reason: "nickname: refused".into(),
                    reason_code: None,
                }
            };
            store
                .apply_push_results(&[ack(&change, outcome)], at())
                .unwrap();
        }
        assert_eq!(
            state(&store, id, "nickname"),
            None,
            "never on the server: empty again"
        );
        edit_client(&mut store, id, json!({"given_name": "Bad"}));
        let change = store.outbox_batch(500).unwrap().remove(0);
        let applied = store
            .apply_push_results(
                &[ack(
                    &change,
                    PushOutcome::Rejected {
                        reason: "given_name: no".into(),
                        reason_code: Some("invalid_value".into()),
                    },
                )],
                at(),
            )
            .unwrap();
        assert_eq!(applied.rejected, 1);
        assert_eq!(state(&store, id, "given_name").unwrap().value, "\"Amina\"");
        let mut rejected = store.rejected_changes().unwrap();
        // Both were made and refused at the same instant, so the list's order between them is
        // their change ids' random part: name them by value instead.
        rejected.sort_by_key(|r| r.value != "\"Bad\"");
        rejected.reverse();
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[1].value, "\"Bad\"");
        assert_eq!(rejected[1].reason, "given_name: no");
        assert_eq!(rejected[1].reason_code.as_deref(), Some("invalid_value"));
        assert_eq!(rejected[0].reason_code, None, "a server that sent no code");
        assert_eq!(store.sync_status().unwrap().rejected_count, 2);
        assert_eq!(store.pending_count().unwrap(), 0);
        let client = store.record(Entity::Client, id).unwrap().unwrap();
        assert_eq!(client.get("given_name").as_text(), Some("Amina"));

        // Retrying queues it again as a new change of the field, based on what the server has.
        let new_id = store.retry_rejected(rejected[1].change_id, edit()).unwrap();
        let pending = store.pending_changes().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].change_id, *new_id.as_uuid());
        assert_eq!(
            (pending[0].value.as_str(), pending[0].base_version),
            ("\"Bad\"", 3)
        );
        assert_eq!(store.rejected_changes().unwrap().len(), 1);
        store.dismiss_rejected(rejected[0].change_id).unwrap();
        assert!(store.rejected_changes().unwrap().is_empty());
        assert!(matches!(
            store.dismiss_rejected(rejected[0].change_id),
            Err(StoreError::RejectedChangeNotFound { .. })
        ));
    }

    fn refused_as_erased(change: &OutboxChange) -> PushAck {
        ack(
            change,
            PushOutcome::Rejected {
                reason: format!("{}: the record was erased", change.field),
                reason_code: Some("record_erased".into()),
            },
        )
    }

    #[test]
    fn a_record_refused_as_erased_sends_nothing_more_and_its_later_edits_join_the_refusal() {
        let (_dir, mut store) = signed_in_store();
        let erased = RecordId::from_uuid(Uuid::from_u128(0xe1));
        store
            .apply_pulled_page(
                &[write(erased, "given_name", "\"Leyla\"", 1)],
                &[],
                1,
                at(),
                at(),
            )
            .unwrap();
        // Logged offline for a client the server has erased meanwhile; its summary edited
        // twice, so the second edit waits for the next push.
        let input: BTreeMap<String, serde_json::Value> = serde_json::from_value(json!({
            "client_id": erased.to_string(),
            "occurred_at": "2026-01-14T10:00:00+02:00",
            "summary": "asked about asylum",
        }))
        .unwrap();
        let contact = store
            .create_record(Entity::Contact, &input, edit())
            .unwrap();
        let summary: BTreeMap<String, serde_json::Value> =
            serde_json::from_value(json!({"summary": "asked about asylum, again"})).unwrap();
        store
            .edit_record(Entity::Contact, contact, &summary, edit())
            .unwrap();
        // Another record's change, refused for another reason, keeps its later edit pending.
        let other = client(&mut store, json!({"given_name": "Amina"}));
        edit_client(&mut store, other, json!({"given_name": "Aminah"}));

        let batch = store.outbox_batch(500).unwrap();
        let of_contact = |change: &&OutboxChange| change.record_id == *contact.as_uuid();
        let pending_before = store.pending_count().unwrap();
        let acks: Vec<PushAck> = batch
            .iter()
            .map(|change| match of_contact(&change) {
                true => refused_as_erased(change),
                false => ack(
                    change,
                    PushOutcome::Rejected {
                        reason: "given_name: no".into(),
                        reason_code: Some("invalid_value".into()),
                    },
                ),
            })
            .collect();
        let applied = store.apply_push_results(&acks, at()).unwrap();
        assert_eq!(applied.rejected, batch.len() as u64);
        assert_eq!(applied.withheld, 1, "the second summary edit");

        let pending = store.pending_changes().unwrap();
        assert!(
            pending.iter().all(|c| c.record_id != *contact.as_uuid()),
            "nothing more of the contact is sent: {pending:?}"
        );
        assert_eq!(
            pending.iter().map(|c| c.record_id).collect::<Vec<_>>(),
            [*other.as_uuid()],
            "another refusal holds back nothing"
        );
        let rejected = store.rejected_changes().unwrap();
        let of_contact: Vec<_> = rejected
            .iter()
            .filter(|r| r.record_id == *contact.as_uuid())
            .collect();
        assert_eq!(
            of_contact.len() as u64,
            pending_before - 2,
            "every change of the contact is in the rejected list: {rejected:?}"
        );
        assert!(
            of_contact
                .iter()
                .all(|r| r.reason_code.as_deref() == Some("record_erased")),
            "{of_contact:?}"
        );
        let withheld = of_contact
            .iter()
            .find(|r| r.value == "\"asked about asylum, again\"")
            .expect("the second summary edit is listed");
        assert!(
            batch.iter().all(|c| c.change_id != withheld.change_id),
            "it was never sent"
        );
        assert!(
            withheld.reason.ends_with("the record was erased"),
            "{}",
            withheld.reason
        );
        // Never acknowledged: nothing of it is left to show or send.
        for field in ["client_id", "summary", "occurred_at"] {
            assert_eq!(
                store
                    .field_state("contact", *contact.as_uuid(), field)
                    .unwrap(),
                None,
                "{field}"
            );
        }

        // A retry would send it without its link, as a contact of no one: refused.
        let retried = store.retry_rejected(withheld.change_id, edit());
        assert!(
            matches!(retried, Err(StoreError::RefusalIsFinal { .. })),
            "{retried:?}"
        );
        assert_eq!(store.pending_count().unwrap(), 1);
        store.dismiss_rejected(withheld.change_id).unwrap();
    }

    #[test]
    fn a_pulled_value_never_overwrites_a_field_with_a_pending_local_change() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Amina"}));
        let page = [
            write(id, "given_name", "\"Mina\"", 7),
            write(id, "nickname", "\"M\"", 8),
        ];
        let applied = store.apply_pulled_page(&page, &[], 8, at(), at()).unwrap();
        assert_eq!(applied.kept_pending, 1);
        assert_eq!(applied.updated, 1);
        let given = state(&store, id, "given_name").unwrap();
        assert_eq!((given.value.as_str(), given.version), ("\"Amina\"", 0));
        assert_eq!(
            (given.server_value.as_deref(), given.server_version),
            (Some("\"Mina\""), 7)
        );
        assert_eq!(state(&store, id, "nickname").unwrap().value, "\"M\"");
        assert_eq!(store.pull_cursor().unwrap(), 8);
        // The server's value is in the local history all the same.
        let history = store
            .field_history("client", *id.as_uuid(), "given_name")
            .unwrap();
        assert_eq!(history.last().unwrap().origin, "server");
        // The same page again (an interrupted sync redone) changes nothing.
        let again = store.apply_pulled_page(&page, &[], 8, at(), at()).unwrap();
        assert_eq!(again.already_known, 2);
        assert_eq!(
            store
                .field_history("client", *id.as_uuid(), "given_name")
                .unwrap()
                .len(),
            history.len()
        );
    }

    #[test]
    fn a_pulled_page_creates_new_records_keeps_unknown_fields_and_finds_them_in_search() {
        let (_dir, mut store) = signed_in_store();
        let id = RecordId::from_uuid(Uuid::from_u128(0x42));
        let page = [
            write(id, "given_name", "\"Häkkinen\"", 3),
            write(id, "field_of_a_newer_version", "{\"x\":1}", 4),
        ];
        let applied = store.apply_pulled_page(&page, &[], 4, at(), at()).unwrap();
        assert_eq!(applied.new_records, 1);
        let record = store.record(Entity::Client, id).unwrap().unwrap();
        assert_eq!(record.get("given_name").as_text(), Some("Häkkinen"));
        assert_eq!(
            state(&store, id, "field_of_a_newer_version").unwrap().value,
            "{\"x\":1}"
        );
        assert_eq!(store.search_clients("hakkinen").unwrap().len(), 1);
    }

    #[test]
    fn a_clients_search_row_follows_local_edits_and_pulled_writes_and_stays_consistent() {
        let (_dir, mut store) = signed_in_store();
        let id = client(
            &mut store,
            json!({"given_name": "Amina", "phone": "040 123 4567"}),
        );
        let other = client(&mut store, json!({"given_name": "Amira"}));
        let found = |store: &Store, query: &str| -> Vec<RecordId> {
            let clients = store.search_clients(query).unwrap();
            clients.iter().map(|c| c.id()).collect()
        };
        assert_eq!(found(&store, "amin"), [id]);
        let rename = BTreeMap::from([("given_name".to_owned(), json!("Hodan"))]);
        store
            .edit_record(Entity::Client, id, &rename, edit())
            .unwrap();
        assert!(found(&store, "amina").is_empty());
        assert_eq!(found(&store, "hodan"), [id]);
        // A field outside the search row leaves it as it was.
        let town = BTreeMap::from([("municipality".to_owned(), json!("Vantaa"))]);
        store
            .edit_record(Entity::Client, id, &town, edit())
            .unwrap();
        assert_eq!(found(&store, "0401234"), [id]);

        store.outbox_batch(500).unwrap();
        let page = [
            write(other, "family_name", "\"Warsame\"", 20),
            write(other, "municipality", "\"Espoo\"", 21),
        ];
        store.apply_pulled_page(&page, &[], 21, at(), at()).unwrap();
        assert_eq!(found(&store, "amira warsame"), [other]);
        assert_eq!(found(&store, "hodan"), [id]);
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM client_search_rows", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(rows, 2, "one search row per client");
        // FTS5 compares its index with the rows it was built from.
        store
            .conn
            .execute(
                "INSERT INTO client_search (client_search, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
    }

    #[test]
    fn merged_and_deleted_clients_do_not_take_places_among_the_search_results() {
        let (_dir, mut store) = signed_in_store();
        // A bare "Amina" ranks above "Amina <family name>": the 30 merged or deleted clients
        // rank first, and the 40 live ones must still all be found.
        let gone: Vec<RecordId> = (0..30)
            .map(|_| client(&mut store, json!({"given_name": "Amina"})))
            .collect();
        let live: Vec<RecordId> = (0..40)
            .map(|n| {
                client(
                    &mut store,
                    json!({"given_name": "Amina", "family_name": format!("Warsame Yusuf {n}")}),
                )
            })
            .collect();
        store.outbox_batch(500).unwrap();
        let survivor = format!("\"{}\"", live[0]);
        let page: Vec<ServerWrite> = gone
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let seq = 100 + n as u64;
                if n % 2 == 0 {
                    write(*id, "merged_into", &survivor, seq)
                } else {
                    write(*id, "deleted", "true", seq)
                }
            })
            .collect();
        store
            .apply_pulled_page(&page, &[], 200, at(), at())
            .unwrap();
        let mut found: Vec<RecordId> = store
            .search_clients("amina")
            .unwrap()
            .iter()
            .map(Record::id)
            .collect();
        found.sort();
        let mut expected = live.clone();
        expected.sort();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_pulled_write_known_from_a_push_answer_adds_its_history_once() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Li", "tags": ["a"]}));
        let change = store
            .outbox_batch(500)
            .unwrap()
            .into_iter()
            .find(|c| c.field == "tags")
            .unwrap();
        store
            .apply_push_results(&[ack(&change, stored(9, "[\"a\",\"b\"]"))], at())
            .unwrap();
        assert_eq!(
            state(&store, id, "tags").unwrap().value,
            "[\"a\",\"b\"]",
            "the merge stands"
        );
        let page = [write(id, "tags", "[\"a\",\"b\"]", 9)];
        store.apply_pulled_page(&page, &[], 9, at(), at()).unwrap();
        store.apply_pulled_page(&page, &[], 9, at(), at()).unwrap();
        let history = store
            .field_history("client", *id.as_uuid(), "tags")
            .unwrap();
        let server_rows: Vec<_> = history.iter().filter(|h| h.origin == "server").collect();
        assert_eq!(server_rows.len(), 1);
        assert_eq!(server_rows[0].author_id, OTHER_USER.to_string());
    }

    /// A push answer stored a newer version of the field (here a text merge by the server)
    /// before the pull reached an older write of a colleague: that write keeps its place in
    /// the history, once, and changes nothing else.
    #[test]
    fn a_pulled_write_older_than_the_version_stored_adds_its_history_once_and_nothing_else() {
        let (_dir, mut store) = signed_in_store();
        let id = client(&mut store, json!({"given_name": "Li", "notes": "came by"}));
        let change = store
            .outbox_batch(500)
            .unwrap()
            .into_iter()
            .find(|c| c.field == "notes")
            .unwrap();
        store
            .apply_push_results(&[ack(&change, stored(12, "\"came by twice\""))], at())
            .unwrap();
        let before = state(&store, id, "notes").unwrap();
        let older = write(id, "notes", "\"came twice\"", 8);
        let applied = store
            .apply_pulled_page(std::slice::from_ref(&older), &[], 8, at(), at())
            .unwrap();
        assert_eq!((applied.updated, applied.already_known), (0, 1));
        store
            .apply_pulled_page(&[older], &[], 8, at(), at())
            .unwrap();
        assert_eq!(state(&store, id, "notes").unwrap(), before, "nothing else");
        let history = store
            .field_history("client", *id.as_uuid(), "notes")
            .unwrap();
        let server_rows: Vec<(&str, u64)> = history
            .iter()
            .filter(|h| h.origin == "server")
            .map(|h| (h.value.as_str(), h.version))
            .collect();
        assert_eq!(server_rows, [("\"came twice\"", 8)]);
        assert_eq!(
            history
                .iter()
                .find(|h| h.origin == "server")
                .unwrap()
                .author_id,
            OTHER_USER.to_string()
        );
    }

    #[test]
    fn consent_recorded_before_the_first_sign_in_is_the_users_once_they_sign_in() {
        let (_dir, mut store) = test_store();
        let id = client(
            &mut store,
            json!({"given_name": "Amina", "consent": "recorded"}),
        );
        let node = store.pending_changes().unwrap()[0].author_id.clone();
        let node_json = json!(node).to_string();
        let consent_by = |store: &Store| {
            let pending = store.pending_changes().unwrap();
            let queued = pending
                .iter()
                .find(|change| change.field == "consent_by")
                .map(|change| change.value.clone());
            let history = store
                .field_history("client", *id.as_uuid(), "consent_by")
                .unwrap();
            (
                state(store, id, "consent_by").unwrap().value,
                queued.unwrap(),
                history.last().unwrap().value.clone(),
            )
        };
        assert_eq!(
            consent_by(&store),
            (node_json.clone(), node_json.clone(), node_json.clone()),
            "before a sign-in the store's node id stands in for the user"
        );
        // Another field holding the same text is a note, not a user.
        edit_client(&mut store, id, json!({"notes": node}));
        store.record_sign_in(&sign_in_as(USER, TEAM)).unwrap();
        let user_json = json!(USER.to_string()).to_string();
        assert_eq!(
            consent_by(&store),
            (user_json.clone(), user_json.clone(), user_json.clone()),
            "the value, the queued change and the history name the user, whom the server knows"
        );
        assert_eq!(state(&store, id, "notes").unwrap().value, node_json);

        // Signing in again (the same user) changes no value.
        edit_client(
            &mut store,
            id,
            json!({"notes": sign_in_as(USER, TEAM).device_id.to_string()}),
        );
        let before = state(&store, id, "notes").unwrap().value;
        store.record_sign_in(&sign_in_as(USER, TEAM)).unwrap();
        assert_eq!(state(&store, id, "notes").unwrap().value, before);
        assert_eq!(consent_by(&store).0, user_json);
    }

    #[test]
    fn signing_in_gives_earlier_changes_to_the_user_and_refuses_another_team_or_user() {
        let (_dir, mut store) = test_store();
        let id = client(&mut store, json!({"given_name": "Amina"}));
        let node = store.pending_changes().unwrap()[0].author_id.clone();
        assert_ne!(node, USER.to_string());
        let reassigned = store.record_sign_in(&sign_in_as(USER, TEAM)).unwrap();
        assert_eq!(reassigned, 1);
        assert_eq!(
            store.pending_changes().unwrap()[0].author_id,
            USER.to_string()
        );
        assert!(store.record(Entity::Client, id).unwrap().is_some());
        let signed = store.sign_in().unwrap().unwrap();
        assert_eq!((signed.user_id, signed.team_id), (USER, TEAM));
        let error = store
            .record_sign_in(&sign_in_as(USER, Uuid::from_u128(1)))
            .unwrap_err();
        assert!(error.to_string().contains("north"), "{error}");
        let error = store
            .record_sign_in(&sign_in_as(OTHER_USER, TEAM))
            .unwrap_err();
        assert!(error.to_string().contains("another user"), "{error}");
        // New edits carry the device id as the HLC node.
        edit_client(&mut store, id, json!({"nickname": "A"}));
        let last = store.pending_changes().unwrap().pop().unwrap();
        assert!(
            last.hlc.ends_with(&Uuid::from_u128(0xd1).to_string()),
            "{}",
            last.hlc
        );
    }

    #[test]
    fn a_store_names_every_user_who_signed_in_on_it_and_the_teams_users() {
        let (_dir, mut store) = test_store();
        assert!(store.known_user_names().unwrap().is_empty());
        let first = SignIn {
            username: "coach1".into(),
            ..sign_in_as(USER, TEAM)
        };
        store.record_sign_in(&first).unwrap();
        let second = SignIn {
            username: "coach2".into(),
            ..sign_in_as(OTHER_USER, TEAM)
        };
        store.record_sign_in(&second).unwrap();
        assert_eq!(
            store.known_user_names().unwrap(),
            BTreeMap::from([
                (USER, "coach1".to_owned()),
                (OTHER_USER, "coach2".to_owned())
            ])
        );
        // And the team's users as the server lists them, who never signed in here.
        let lead = Uuid::from_u128(0x1ead);
        store
            .replace_team_users(&[crate::TeamUser {
                id: lead,
                username: "lead1".into(),
                role: "team_lead".into(),
            }])
            .unwrap();
        let names = store.known_user_names().unwrap();
        assert_eq!(names.get(&lead).map(String::as_str), Some("lead1"));
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn sync_health_records_success_failure_skew_and_update_required() {
        let (_dir, mut store) = signed_in_store();
        store
            .record_sync_failure(at(), "update required", true)
            .unwrap();
        let status = store.sync_status().unwrap();
        assert!(status.update_required);
        assert_eq!(status.last_sync_error.as_deref(), Some("update required"));
        let skew = store
            .observe_server_time(at() + chrono::TimeDelta::minutes(6), at())
            .unwrap();
        assert_eq!(skew, 6 * 60 * 1000);
        store.record_sync_success(at()).unwrap();
        let status = store.sync_status().unwrap();
        assert!(!status.update_required);
        assert_eq!(status.last_sync_error, None);
        assert!(status.clock_skewed);
        assert_eq!(status.last_sync_at, Some(at().to_rfc3339()));
    }

    #[test]
    fn a_pulled_page_keeps_the_servers_clock_with_its_writes() {
        let (_dir, mut store) = signed_in_store();
        let id = RecordId::from_uuid(Uuid::from_u128(0xc10c));
        let server_time = at() + chrono::TimeDelta::minutes(6);
        let applied = store
            .apply_pulled_page(
                &[write(id, "given_name", "\"Amina\"", 1)],
                &[],
                1,
                server_time,
                at(),
            )
            .unwrap();
        assert_eq!(applied.clock_skew_ms, 6 * 60 * 1000);
        let status = store.sync_status().unwrap();
        assert_eq!(status.clock_skew_ms, Some(6 * 60 * 1000));
        assert!(status.clock_skewed);
        // Edits made after the page order after the server's clock.
        let hlc = meta::get(&store.conn, MetaKey::HlcLast).unwrap().unwrap();
        let hlc = Hlc::parse(&hlc).unwrap();
        assert!(
            hlc.physical_ms() >= u64::try_from(server_time.timestamp_millis()).unwrap(),
            "{hlc}"
        );
    }

    #[test]
    fn a_merge_from_the_server_hides_the_duplicate_and_its_contacts_appear_under_the_survivor() {
        let (_dir, mut store) = signed_in_store();
        let survivor = RecordId::from_uuid(Uuid::from_u128(0xa1));
        let duplicate = RecordId::from_uuid(Uuid::from_u128(0xa2));
        let (moved, left) = (Uuid::from_u128(0xc1), Uuid::from_u128(0xc2));
        let on = |client: RecordId| format!("\"{client}\"");
        let contact = |id: Uuid, field: &str, value: &str, version: u64| ServerWrite {
            entity: "contact".into(),
            record_id: id,
            ..write(RecordId::from_uuid(id), field, value, version)
        };
        store
            .apply_pulled_page(
                &[
                    write(survivor, "given_name", "\"Olga\"", 1),
                    write(duplicate, "given_name", "\"Olha\"", 2),
                    contact(moved, "occurred_at", "\"2026-01-14T10:00:00+02:00\"", 3),
                    contact(moved, "client_id", &on(duplicate), 4),
                    contact(left, "occurred_at", "\"2026-01-13T10:00:00+02:00\"", 5),
                    contact(left, "client_id", &on(duplicate), 6),
                ],
                &[],
                6,
                at(),
                at(),
            )
            .unwrap();
        assert_eq!(store.list_clients(false).unwrap().len(), 2);

        // The team lead's merge as the server answered it (here only one contact moved: the
        // other one stands for a contact recorded under the duplicate after the merge).
        store
            .record_server_writes(
                &[
                    contact(moved, "client_id", &on(survivor), 7),
                    write(duplicate, "merged_into", &on(survivor), 8),
                ],
                at(),
            )
            .unwrap();
        assert_eq!(store.pull_cursor().unwrap(), 6, "the cursor does not move");
        let listed: Vec<RecordId> = store
            .list_clients(false)
            .unwrap()
            .iter()
            .map(|c| c.id())
            .collect();
        assert_eq!(listed, vec![survivor]);
        assert_eq!(store.list_clients(true).unwrap().len(), 2);
        let found: Vec<RecordId> = store
            .search_clients("Olha")
            .unwrap()
            .iter()
            .map(|c| c.id())
            .collect();
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(
            store.surviving_client(duplicate).unwrap().unwrap().id(),
            survivor
        );
        assert_eq!(
            store.surviving_client(survivor).unwrap().unwrap().id(),
            survivor
        );
        let contacts: BTreeSet<Uuid> = store
            .contacts_of_client(survivor)
            .unwrap()
            .iter()
            .map(|c| *c.id().as_uuid())
            .collect();
        assert_eq!(contacts, BTreeSet::from([moved, left]));

        // An undo pulled later: the duplicate is listed again with its contact.
        store
            .apply_pulled_page(
                &[
                    contact(moved, "client_id", &on(duplicate), 9),
                    write(duplicate, "merged_into", "null", 10),
                ],
                &[],
                10,
                at(),
                at(),
            )
            .unwrap();
        assert_eq!(store.list_clients(false).unwrap().len(), 2);
        assert_eq!(
            store.surviving_client(duplicate).unwrap().unwrap().id(),
            duplicate
        );
        assert_eq!(store.contacts_of_client(survivor).unwrap().len(), 0);
        assert_eq!(store.contacts_of_client(duplicate).unwrap().len(), 2);
    }
}
