//! The SQLite backend (the pilot default): one connection, used from blocking tasks.
//!
//! Sequence numbers: every writing transaction starts with `BEGIN IMMEDIATE`, which takes
//! SQLite's write lock before the first read, so writers run one at a time. A seq is
//! `max(seq) + 1` read inside that transaction, hence commit order equals seq order and a
//! pull cursor can never pass a change that commits later with a smaller seq.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde_json::Value;
use tandem_domain::merge::Side;
use tandem_domain::{
    Entity, FieldSpec, FieldValue, Hlc, RecordId, ValidationContext, consent_gate_fields,
    field_spec, is_consent_gated,
};
use tandem_protocol::{
    ChangeResult, ChangeStatus, Conflict, ConflictStatus, ConflictValue, DeviceInfo,
    DuplicateMerge, PulledChange, PulledPurge, RejectCode, Role, Site, TeamRef, TeamUser, UserRef,
};
use tandem_reports::ReportData;
use uuid::Uuid;

// Erasure, retention, export and the audit log; a child module, so it shares the helpers.
#[path = "sqlite_privacy.rs"]
mod privacy;
// Restoring a backup (`tandem-server restore`).
#[path = "sqlite_restore.rs"]
mod restore;
pub use restore::Restored;
// Database epochs.
#[path = "sqlite_epoch.rs"]
mod epoch;

use super::{
    AttemptCounts, CONFLICT_COLUMNS, DeviceAuth, HistoryEntry, LoginLimits, LoginOutcome,
    LoginReservation, LoginUser, NewDevice, NewMerge, PushContext, RecordFields, ServerStore,
    SiteName, TeamMembership, TeamSummary, UserSummary, conflict_status_name, is_superseded,
    most_recently_closed_cut, open_and_recently_closed_conflicts_query, parse_conflict_status,
    report_error, report_history_query, report_values_query, team_name,
};
use crate::ServerError;
use crate::clock::{from_ms, to_ms, uuid_v7_at};
use crate::duplicates::{
    PlannedWrite, check_mergeable, check_undoable, client_ref, merge_writes, undo_writes,
};
use crate::push::{
    CurrentField, Decision, PreparedChange, Refusal, ValidChange, application_order,
    barred_refusal, consent_gate, consent_gate_write, decide, is_clock_skewed, is_concurrent,
    records_and_links, records_barred_by_erasure, server_hlc, stored_answer,
};
use crate::store::privacy::{
    change_audit_entries, dismiss_audit_entries, merge_audit_entries, resolve_audit_entry,
};

/// How long a statement waits for another connection's lock (another server process, or
/// `tandem-server admin`, `backup` on the same file) before it fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Puts the database in WAL mode (a no-op once it is). On a new file, two connections doing
/// so at once (servers starting together, a server and an admin command) each hold a read
/// lock and want the write lock; SQLite answers one of them "database is locked" at once,
/// without waiting (waiting would deadlock), so it tries again, until [`BUSY_TIMEOUT`].
fn enable_wal(conn: &Connection) -> Result<(), ServerError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            answer => return answer.map(drop).map_err(ServerError::from),
        }
    }
}

/// The migrations, in order; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../../migrations/server/sqlite/0001_initial.sql"),
    include_str!("../../../../migrations/server/sqlite/0002_duplicates.sql"),
    include_str!("../../../../migrations/server/sqlite/0003_privacy.sql"),
    include_str!("../../../../migrations/server/sqlite/0004_epoch.sql"),
    include_str!("../../../../migrations/server/sqlite/0005_sites.sql"),
    include_str!("../../../../migrations/server/sqlite/0006_refused_records.sql"),
    include_str!("../../../../migrations/server/sqlite/0007_conflict_ids.sql"),
    include_str!("../../../../migrations/server/sqlite/0008_stored_refusal_words.sql"),
    include_str!("../../../../migrations/server/sqlite/0009_login_attempts_in_progress.sql"),
    include_str!("../../../../migrations/server/sqlite/0010_conflicts_by_close_time.sql"),
];

/// The server store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (or creates) the database file and migrates it.
    pub fn open(path: &Path) -> Result<Self, ServerError> {
        Self::from_connection(Connection::open(path)?)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, ServerError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(conn: Connection) -> Result<Self, ServerError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        enable_wal(&conn)?;
        conn.execute_batch(
            // FULL, not NORMAL: a push is acknowledged once its transaction commits, and the
            // laptop then deletes its outbox rows. Under NORMAL a power cut can take the last
            // commits of the WAL with it, and those changes would exist nowhere any more.
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
        )?;
        let store = Self {
            conn: Arc::new(Mutex::new(conn)),
        };
        store.migrate_blocking()?;
        Ok(store)
    }

    /// Writes a consistent copy of the database to `target` while the server keeps serving
    /// (`VACUUM INTO`: one read transaction, so the copy is a snapshot; compacted, and without
    /// a WAL file of its own). An existing `target` is never overwritten.
    pub async fn backup_to(&self, target: &Path) -> Result<(), ServerError> {
        let target = target.to_owned();
        let error_target = target.clone();
        self.run(move |conn| {
            if target.exists() {
                return Err(ServerError::Backup {
                    path: target,
                    reason: "the file exists already; choose a new name".to_owned(),
                });
            }
            let text = target.to_str().ok_or_else(|| ServerError::Backup {
                path: target.clone(),
                reason: "the path is not UTF-8".to_owned(),
            })?;
            conn.execute("VACUUM INTO ?1", [text])?;
            Ok(())
        })
        .await
        .map_err(|error| match error {
            ServerError::Sqlite(sqlite) => ServerError::Backup {
                path: error_target,
                reason: sqlite.to_string(),
            },
            ServerError::DiskFull(_) => ServerError::Backup {
                path: error_target,
                reason: "the disk is full".to_owned(),
            },
            other => other,
        })
    }

    fn migrate_blocking(&self) -> Result<(), ServerError> {
        let mut conn = self.lock();
        let supported = MIGRATIONS.len() as i64;
        // Each step reads the schema version inside its own write transaction, so two
        // processes starting together on a fresh file never both apply one migration.
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if found > supported {
                return Err(ServerError::SchemaTooNew { found, supported });
            }
            let Some(sql) = MIGRATIONS.get(found as usize) else {
                return Ok(());
            };
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", found + 1)?;
            tx.commit()?;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls
        // back on drop), so a poisoned lock is safe to take over.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn run<T, F>(&self, work: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ServerError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut guard)
        })
        .await
        .map_err(|err| ServerError::TaskFailed(err.to_string()))?
    }
}

fn uuid(text: &str) -> Result<Uuid, ServerError> {
    Uuid::parse_str(text).map_err(|_| ServerError::CorruptData(format!("bad id `{text}`")))
}

fn json(text: &str) -> Result<Value, ServerError> {
    serde_json::from_str(text).map_err(|err| ServerError::CorruptData(err.to_string()))
}

fn role(text: &str) -> Result<Role, ServerError> {
    Role::parse(text).ok_or_else(|| ServerError::CorruptData(format!("bad role `{text}`")))
}

fn hlc(text: &str) -> Result<Hlc, ServerError> {
    Hlc::parse(text).map_err(|err| ServerError::CorruptData(err.to_string()))
}

fn seq(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Stored values were validated on the way in; re-reading them needs no date rule.
fn stored_value(spec: &FieldSpec, text: &str) -> Result<FieldValue, ServerError> {
    let far_future = ValidationContext::new(chrono::NaiveDate::MAX);
    spec.parse_json_str(text, far_future)
        .map_err(|err| ServerError::CorruptData(err.to_string()))
}

/// The next seq of the change log and the purges, which share one sequence. Erasure
/// deletes change-log rows, but never the purge row that took a larger seq, so the sequence
/// never goes back. After a restore it starts at the new epoch's `start_seq` (`epoch.rs`).
fn next_seq(tx: &Transaction<'_>) -> Result<i64, ServerError> {
    Ok(tx.query_row(
        "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM change_log),
                    (SELECT COALESCE(MAX(seq), 0) FROM purges),
                    (SELECT MAX(start_seq) - 1 FROM epochs)) + 1",
        [],
        |row| row.get(0),
    )?)
}

/// One row of the change log to append.
struct LogWrite<'a> {
    team_id: Uuid,
    entity: &'a str,
    record_id: Uuid,
    field: &'a str,
    value: &'a FieldValue,
    hlc: &'a Hlc,
    author_id: Uuid,
    change_id: Uuid,
    device_id: Option<Uuid>,
    effective: bool,
    now_ms: i64,
}

fn append_log(tx: &Transaction<'_>, write: &LogWrite<'_>) -> Result<i64, ServerError> {
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO change_log (seq, team_id, entity, record_id, field, value, hlc, author_id,
             change_id, device_id, effective, recorded_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            seq,
            write.team_id.to_string(),
            write.entity,
            write.record_id.to_string(),
            write.field,
            write.value.to_json_string(),
            write.hlc.to_string(),
            write.author_id.to_string(),
            write.change_id.to_string(),
            write.device_id.map(|d| d.to_string()),
            write.effective,
            write.now_ms,
        ],
    )?;
    if write.effective {
        tx.execute(
            "INSERT INTO field_state (record_id, field, value, version, hlc, author_id, change_id,
                 recorded_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (record_id, field) DO UPDATE SET value = excluded.value,
                 version = excluded.version, hlc = excluded.hlc, author_id = excluded.author_id,
                 change_id = excluded.change_id, recorded_ms = excluded.recorded_ms",
            params![
                write.record_id.to_string(),
                write.field,
                write.value.to_json_string(),
                seq,
                write.hlc.to_string(),
                write.author_id.to_string(),
                write.change_id.to_string(),
                write.now_ms,
            ],
        )?;
    }
    Ok(seq)
}

/// The consent-gated fields of a record as they stand (see [`consent_gate`]).
fn standing_consent(
    tx: &Transaction<'_>,
    entity: Entity,
    record_id: Uuid,
) -> Result<Vec<(&'static FieldSpec, FieldValue)>, ServerError> {
    consent_gate_fields(entity)
        .map(|spec| {
            let value = current_field(tx, spec, record_id)?;
            Ok((spec, value.map_or_else(|| spec.empty_value(), |f| f.value)))
        })
        .collect()
}

fn current_field(
    tx: &Transaction<'_>,
    spec: &FieldSpec,
    record_id: Uuid,
) -> Result<Option<CurrentField>, ServerError> {
    let row = tx
        .query_row(
            "SELECT value, version, hlc, author_id, change_id, recorded_ms FROM field_state
             WHERE record_id = ?1 AND field = ?2",
            params![record_id.to_string(), spec.name],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    row.map(|(value, version, h, author, change, recorded_ms)| {
        Ok(CurrentField {
            value: stored_value(spec, &value)?,
            version: seq(version),
            hlc: hlc(&h)?,
            author_id: uuid(&author)?,
            change_id: uuid(&change)?,
            recorded_ms,
        })
    })
    .transpose()
}

/// The field's value as it stood at `version` (its empty value before its first write).
fn value_at(
    tx: &Transaction<'_>,
    spec: &FieldSpec,
    record_id: Uuid,
    version: u64,
) -> Result<FieldValue, ServerError> {
    let text: Option<String> = tx
        .query_row(
            "SELECT value FROM change_log WHERE record_id = ?1 AND field = ?2 AND effective = 1
               AND seq <= ?3 ORDER BY seq DESC LIMIT 1",
            params![record_id.to_string(), spec.name, version as i64],
            |row| row.get(0),
        )
        .optional()?;
    match text {
        Some(text) => stored_value(spec, &text),
        None => Ok(spec.empty_value()),
    }
}

/// Which of the batch's records and the records it links to are erased, or were refused
/// before for an erased link (see [`records_barred_by_erasure`]).
fn erased_or_refused(
    tx: &Transaction<'_>,
    changes: &[PreparedChange],
) -> Result<HashSet<Uuid>, ServerError> {
    let mut stmt = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM purges WHERE record_id = ?1)
             OR EXISTS (SELECT 1 FROM refused_records WHERE record_id = ?1)",
    )?;
    let mut found = HashSet::new();
    for id in records_and_links(changes) {
        if stmt.query_row([id.to_string()], |row| row.get::<_, bool>(0))? {
            found.insert(id);
        }
    }
    Ok(found)
}

/// Remembers a record barred by an erasure that the server does not hold, never stored or
/// erased (see [`records_barred_by_erasure`]); a stored one is left as it is.
fn remember_refused_record(
    tx: &Transaction<'_>,
    ctx: &PushContext,
    change: &ValidChange,
) -> Result<(), ServerError> {
    tx.execute(
        "INSERT INTO refused_records (record_id, entity, team_id, refused_ms)
         SELECT ?1, ?2, ?3, ?4
         WHERE NOT EXISTS (SELECT 1 FROM records WHERE record_id = ?1)
         ON CONFLICT (record_id) DO NOTHING",
        params![
            change.record_id.to_string(),
            change.spec.entity.as_str(),
            ctx.team_id.to_string(),
            to_ms(ctx.now)
        ],
    )?;
    Ok(())
}

fn apply_one(
    tx: &Transaction<'_>,
    ctx: &PushContext,
    change: &ValidChange,
) -> Result<ChangeResult, ServerError> {
    let now_ms = to_ms(ctx.now);
    let entity = change.spec.entity.as_str();
    let field = change.spec.name;
    let owner: Option<(String, String)> = tx
        .query_row(
            "SELECT team_id, entity FROM records WHERE record_id = ?1",
            [change.record_id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match &owner {
        Some((team, _)) if uuid(team)? != ctx.team_id => {
            return Ok(Refusal::new(
                RejectCode::OtherTeam,
                format!("{field}: the record belongs to another team"),
            )
            .result(change.change_id));
        }
        Some((_, owner_entity)) if owner_entity != entity => {
            return Ok(Refusal::new(
                RejectCode::InvalidChange,
                format!("{field}: the record is a {owner_entity}, not a {entity}"),
            )
            .result(change.change_id));
        }
        _ => {}
    }
    if is_consent_gated(change.spec) {
        let standing = standing_consent(tx, change.spec.entity, change.record_id)?;
        if let Some(refusal) = consent_gate(change, standing) {
            return Ok(refusal.result(change.change_id));
        }
    }
    if owner.is_none() {
        tx.execute(
            "INSERT INTO records (record_id, entity, team_id, created_seq)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM change_log))",
            params![
                change.record_id.to_string(),
                entity,
                ctx.team_id.to_string()
            ],
        )?;
    }

    let current = current_field(tx, change.spec, change.record_id)?;
    let base = if is_concurrent(current.as_ref(), change.base_version) {
        value_at(tx, change.spec, change.record_id, change.base_version)?
    } else {
        change.spec.empty_value()
    };
    let log = |value: &FieldValue, hlc: &Hlc, change_id: Uuid, effective: bool| {
        append_log(
            tx,
            &LogWrite {
                team_id: ctx.team_id,
                entity,
                record_id: change.record_id,
                field,
                value,
                hlc,
                author_id: change.author_id,
                change_id,
                device_id: Some(ctx.device_id),
                effective,
                now_ms,
            },
        )
    };
    let result = |status, version: i64, value: &FieldValue, conflict_id| ChangeResult {
        change_id: change.change_id,
        status,
        version: seq(version),
        value: value.to_json(),
        conflict_id,
        reason: None,
        reason_code: None,
    };

    let today = ValidationContext::received(ctx.now.date_naive());
    match decide(current.as_ref(), &base, change, today) {
        Decision::Refuse(refusal) => Ok(refusal.result(change.change_id)),
        Decision::Apply => {
            let version = log(&change.value, &change.hlc, change.change_id, true)?;
            Ok(result(ChangeStatus::Applied, version, &change.value, None))
        }
        Decision::Same => {
            // Kept in the history for the record of who wrote what; nothing to pull.
            log(&change.value, &change.hlc, change.change_id, false)?;
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a concurrent write without a current value".into())
            })?;
            Ok(result(
                ChangeStatus::Applied,
                current.version as i64,
                &current.value,
                None,
            ))
        }
        Decision::Merge(merged) => {
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a merge without a current value".into())
            })?;
            // The submitted value stays in the history; the combination is what devices pull.
            log(&change.value, &change.hlc, change.change_id, false)?;
            let hlc = server_hlc([&current.hlc, &change.hlc], now_ms);
            let merge_id = uuid_v7_at(ctx.now);
            let version = log(&merged, &hlc, merge_id, true)?;
            Ok(result(ChangeStatus::Merged, version, &merged, None))
        }
        Decision::Conflict { winner, status } => {
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a conflict without a current value".into())
            })?;
            let incoming_wins = winner == Side::Incoming;
            let seq_written = log(&change.value, &change.hlc, change.change_id, incoming_wins)?;
            let values = vec![
                ConflictValue {
                    value: current.value.to_json(),
                    hlc: current.hlc.to_string(),
                    author_id: current.author_id,
                    change_id: current.change_id,
                    provisional: !incoming_wins,
                },
                ConflictValue {
                    value: change.value.to_json(),
                    hlc: change.hlc.to_string(),
                    author_id: change.author_id,
                    change_id: change.change_id,
                    provisional: incoming_wins,
                },
            ];
            let clock_skew = is_clock_skewed(&change.hlc, now_ms)
                || is_clock_skewed(&current.hlc, current.recorded_ms);
            let values_json = serde_json::to_string(&values)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            tx.execute(
                "INSERT INTO conflicts (team_id, entity, record_id, field, policy, status,
                     base_version, base_value, values_json, clock_skew, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    ctx.team_id.to_string(),
                    entity,
                    change.record_id.to_string(),
                    field,
                    change.spec.policy.as_str(),
                    conflict_status_name(status),
                    change.base_version as i64,
                    base.to_json_string(),
                    values_json,
                    clock_skew,
                    now_ms,
                ],
            )?;
            let conflict_id = tx.last_insert_rowid();
            let (version, value) = if incoming_wins {
                (seq_written, &change.value)
            } else {
                (current.version as i64, &current.value)
            };
            Ok(result(
                ChangeStatus::Conflict,
                version,
                value,
                Some(conflict_id),
            ))
        }
    }
}

fn conflict_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Conflict, ServerError>> {
    let id: i64 = row.get(0)?;
    let entity: String = row.get(1)?;
    let record_id: String = row.get(2)?;
    let field: String = row.get(3)?;
    let policy: String = row.get(4)?;
    let status: String = row.get(5)?;
    let base_version: i64 = row.get(6)?;
    let base_value: String = row.get(7)?;
    let values: String = row.get(8)?;
    let clock_skew: bool = row.get(9)?;
    let created_ms: i64 = row.get(10)?;
    let resolved_by: Option<String> = row.get(11)?;
    let resolved_ms: Option<i64> = row.get(12)?;
    let resolution: Option<String> = row.get(13)?;
    Ok((|| {
        Ok(Conflict {
            id,
            entity,
            record_id: uuid(&record_id)?,
            field,
            policy,
            status: parse_conflict_status(&status)?,
            base_version: seq(base_version),
            base_value: json(&base_value)?,
            values: serde_json::from_str(&values)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?,
            clock_skew,
            created_at: from_ms(created_ms),
            resolved_by: resolved_by.as_deref().map(uuid).transpose()?,
            resolved_at: resolved_ms.map(from_ms),
            resolution_change_id: resolution.as_deref().map(uuid).transpose()?,
        })
    })())
}

fn load_conflict(
    conn: &Connection,
    team_id: Uuid,
    id: i64,
) -> Result<Option<Conflict>, ServerError> {
    conn.query_row(
        &format!("SELECT {CONFLICT_COLUMNS} FROM conflicts WHERE team_id = ?1 AND id = ?2"),
        params![team_id.to_string(), id],
        conflict_from_row,
    )
    .optional()?
    .transpose()
}

/// Writes the planned changes of a merge or an undo as ordinary server changes by `author`,
/// all with one server HLC ordered after every value they replace.
fn write_planned(
    tx: &Transaction<'_>,
    team_id: Uuid,
    writes: &[PlannedWrite],
    author_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<PulledChange>, ServerError> {
    let mut involved = Vec::with_capacity(writes.len());
    for write in writes {
        let spec = field_spec(write.entity, write.field)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?;
        if let Some(current) = current_field(tx, spec, write.record_id)? {
            involved.push(current.hlc);
        }
    }
    let now_ms = to_ms(now);
    let hlc = server_hlc(involved.iter(), now_ms);
    let mut changes = Vec::with_capacity(writes.len());
    for write in writes {
        let change_id = uuid_v7_at(now);
        let seq_written = append_log(
            tx,
            &LogWrite {
                team_id,
                entity: write.entity.as_str(),
                record_id: write.record_id,
                field: write.field,
                value: &write.value,
                hlc: &hlc,
                author_id,
                change_id,
                device_id: None,
                effective: true,
                now_ms,
            },
        )?;
        changes.push(write.pulled(seq(seq_written), &hlc, author_id, change_id));
    }
    Ok(changes)
}

/// Refuses an id that is not a client of the team.
fn require_client(tx: &Transaction<'_>, team_id: Uuid, id: Uuid) -> Result<(), ServerError> {
    let entity: Option<String> = tx
        .query_row(
            "SELECT entity FROM records WHERE record_id = ?1 AND team_id = ?2",
            params![id.to_string(), team_id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    if entity.as_deref() == Some(Entity::Client.as_str()) {
        Ok(())
    } else {
        Err(ServerError::UnknownClient(id))
    }
}

fn client_field(
    tx: &Transaction<'_>,
    entity: Entity,
    field: &str,
    id: Uuid,
) -> Result<Option<FieldValue>, ServerError> {
    let spec =
        field_spec(entity, field).map_err(|err| ServerError::CorruptData(err.to_string()))?;
    Ok(current_field(tx, spec, id)?.map(|current| current.value))
}

const MERGE_COLUMNS: &str = "id, survivor_id, duplicate_id, contact_ids, merged_by, merged_ms, \
     undone_by, undone_ms";

fn merge_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<DuplicateMerge, ServerError>> {
    let id: String = row.get(0)?;
    let survivor: String = row.get(1)?;
    let duplicate: String = row.get(2)?;
    let contacts: String = row.get(3)?;
    let merged_by: String = row.get(4)?;
    let merged_ms: i64 = row.get(5)?;
    let undone_by: Option<String> = row.get(6)?;
    let undone_ms: Option<i64> = row.get(7)?;
    Ok((|| {
        Ok(DuplicateMerge {
            id: uuid(&id)?,
            survivor_id: uuid(&survivor)?,
            duplicate_id: uuid(&duplicate)?,
            contact_ids: serde_json::from_str(&contacts)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?,
            merged_by: uuid(&merged_by)?,
            merged_at: from_ms(merged_ms),
            undone_by: undone_by.as_deref().map(uuid).transpose()?,
            undone_at: undone_ms.map(from_ms),
        })
    })())
}

fn load_merge(
    conn: &Connection,
    team_id: Uuid,
    id: Uuid,
) -> Result<Option<DuplicateMerge>, ServerError> {
    conn.query_row(
        &format!("SELECT {MERGE_COLUMNS} FROM duplicate_merges WHERE team_id = ?1 AND id = ?2"),
        params![team_id.to_string(), id.to_string()],
        merge_from_row,
    )
    .optional()?
    .transpose()
}

const DEVICE_QUERY: &str = "SELECT d.id, d.name, u.id, u.username, t.id, t.name, d.app_version,
        d.pending_count, d.last_sync_ms, d.revoked, d.created_ms
     FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN teams t ON t.id = d.team_id";

fn device_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<DeviceInfo, ServerError>> {
    let id: String = row.get(0)?;
    let name: String = row.get(1)?;
    let user_id: String = row.get(2)?;
    let username: String = row.get(3)?;
    let team_id: Option<String> = row.get(4)?;
    let team_name: Option<String> = row.get(5)?;
    let app_version: Option<String> = row.get(6)?;
    let pending: i64 = row.get(7)?;
    let last_sync: Option<i64> = row.get(8)?;
    let revoked: bool = row.get(9)?;
    let created: i64 = row.get(10)?;
    Ok((|| {
        Ok(DeviceInfo {
            id: uuid(&id)?,
            name,
            user: UserRef {
                id: uuid(&user_id)?,
                username,
            },
            team: match (team_id, team_name) {
                (Some(id), Some(name)) => Some(TeamRef {
                    id: uuid(&id)?,
                    name,
                }),
                _ => None,
            },
            app_version,
            pending_count: seq(pending),
            last_sync_at: last_sync.map(from_ms),
            revoked,
            created_at: from_ms(created),
        })
    })())
}

/// The columns that make a [`Site`].
const SITE_QUERY: &str = "SELECT id, name, archived FROM sites";

fn site_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Site, ServerError>> {
    let id: String = row.get(0)?;
    let name: String = row.get(1)?;
    let archived: bool = row.get(2)?;
    Ok(uuid(&id).map(|id| Site { id, name, archived }))
}

/// One site, after a change to it; [`ServerError::UnknownSite`] when `changed` is 0.
fn changed_site(conn: &Connection, id: Uuid, changed: usize) -> Result<Site, ServerError> {
    if changed == 0 {
        return Err(ServerError::UnknownSite(id));
    }
    conn.query_row(
        &format!("{SITE_QUERY} WHERE id = ?1"),
        [id.to_string()],
        site_from_row,
    )?
}

/// The id (as stored, text) of the team named `name`; [`ServerError::UnknownTeam`] when no
/// team has that name.
fn team_id_named(conn: &Connection, name: &str) -> Result<String, ServerError> {
    conn.query_row("SELECT id FROM teams WHERE name = ?1", [name], |row| {
        row.get(0)
    })
    .optional()?
    .ok_or_else(|| ServerError::UnknownTeam(name.to_owned()))
}

fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

#[async_trait]
impl ServerStore for SqliteStore {
    async fn migrate(&self) -> Result<(), ServerError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.migrate_blocking())
            .await
            .map_err(|err| ServerError::TaskFailed(err.to_string()))?
    }

    async fn check_health(&self) -> Result<(), ServerError> {
        self.run(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn add_team(
        &self,
        id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<TeamRef, ServerError> {
        let name = team_name(name)?.to_owned();
        self.run(move |conn| {
            match conn.execute(
                "INSERT INTO teams (id, name, created_ms) VALUES (?1, ?2, ?3)",
                params![id.to_string(), name, to_ms(now)],
            ) {
                Err(err) if is_unique_violation(&err) => Err(ServerError::TeamExists(name)),
                Err(err) => Err(err.into()),
                Ok(_) => Ok(TeamRef { id, name }),
            }
        })
        .await
    }

    async fn team_by_name(&self, name: &str) -> Result<Option<TeamRef>, ServerError> {
        let name = name.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "SELECT id, name FROM teams WHERE name = ?1",
                [name],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?
            .map(|(id, name)| {
                Ok(TeamRef {
                    id: uuid(&id)?,
                    name,
                })
            })
            .transpose()
        })
        .await
    }

    async fn list_teams(&self) -> Result<Vec<TeamSummary>, ServerError> {
        self.run(|conn| {
            // BINARY collation: byte order, as PostgreSQL's `COLLATE "C"`.
            let mut stmt = conn.prepare(
                "SELECT t.id, t.name, COUNT(m.user_id) FROM teams t
                 LEFT JOIN team_members m ON m.team_id = t.id
                 GROUP BY t.id, t.name ORDER BY t.name",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
            rows.map(|row| {
                let (id, name, members) = row?;
                Ok(TeamSummary {
                    team: TeamRef {
                        id: uuid(&id)?,
                        name,
                    },
                    members: u64::try_from(members).unwrap_or_default(),
                })
            })
            .collect()
        })
        .await
    }

    async fn add_site(
        &self,
        id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Site, ServerError> {
        let SiteName { name, key } = SiteName::parse(name)?;
        self.run(move |conn| {
            match conn.execute(
                "INSERT INTO sites (id, name, name_key, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), name, key, to_ms(now)],
            ) {
                // The id (given by `admin site add --id`) or the name is taken.
                Err(err) if is_unique_violation(&err) => {
                    let id_taken = conn
                        .query_row(
                            "SELECT 1 FROM sites WHERE id = ?1",
                            [id.to_string()],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                    Err(match id_taken {
                        true => ServerError::SiteIdExists(id),
                        false => ServerError::SiteExists(name),
                    })
                }
                Err(err) => Err(err.into()),
                Ok(_) => Ok(Site {
                    id,
                    name,
                    archived: false,
                }),
            }
        })
        .await
    }

    async fn list_sites(&self) -> Result<Vec<Site>, ServerError> {
        self.run(|conn| {
            // Byte order of the lower-case name (BINARY), then of the id's text, which is the
            // order of its bytes: the same order as PostgreSQL's `COLLATE "C"` and uuid.
            let mut stmt = conn.prepare(&format!("{SITE_QUERY} ORDER BY name_key, id"))?;
            let rows = stmt.query_map([], site_from_row)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn rename_site(&self, id: Uuid, name: &str) -> Result<Site, ServerError> {
        let SiteName { name, key } = SiteName::parse(name)?;
        self.run(move |conn| {
            match conn.execute(
                "UPDATE sites SET name = ?1, name_key = ?2 WHERE id = ?3",
                params![name, key, id.to_string()],
            ) {
                Err(err) if is_unique_violation(&err) => Err(ServerError::SiteExists(name)),
                Err(err) => Err(err.into()),
                Ok(changed) => changed_site(conn, id, changed),
            }
        })
        .await
    }

    async fn set_site_archived(&self, id: Uuid, archived: bool) -> Result<Site, ServerError> {
        self.run(move |conn| {
            let changed = conn.execute(
                "UPDATE sites SET archived = ?1 WHERE id = ?2",
                params![archived, id.to_string()],
            )?;
            changed_site(conn, id, changed)
        })
        .await
    }

    async fn add_user(
        &self,
        id: Uuid,
        username: &str,
        password_hash: &str,
        role: Role,
        team_names: &[String],
        now: DateTime<Utc>,
    ) -> Result<UserRef, ServerError> {
        let (username, hash, teams) = (
            super::username(username)?.to_owned(),
            password_hash.to_owned(),
            team_names.to_vec(),
        );
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match tx.execute(
                "INSERT INTO users (id, username, password_hash, role, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), username, hash, role.as_str(), to_ms(now)],
            ) {
                // The id (given by `admin user add --id`) or the username is taken.
                Err(err) if is_unique_violation(&err) => {
                    let id_taken = tx
                        .query_row(
                            "SELECT 1 FROM users WHERE id = ?1",
                            [id.to_string()],
                            |_| Ok(()),
                        )
                        .optional()?
                        .is_some();
                    return Err(match id_taken {
                        true => ServerError::UserIdExists(id),
                        false => ServerError::UserExists(username),
                    });
                }
                other => other?,
            };
            for team in &teams {
                let team_id = team_id_named(&tx, team)?;
                tx.execute(
                    "INSERT OR IGNORE INTO team_members (user_id, team_id) VALUES (?1, ?2)",
                    params![id.to_string(), team_id],
                )?;
            }
            tx.commit()?;
            Ok(UserRef { id, username })
        })
        .await
    }

    async fn add_team_memberships(
        &self,
        username: &str,
        team_names: &[String],
    ) -> Result<Vec<TeamMembership>, ServerError> {
        let (username, teams) = (username.to_owned(), team_names.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let user_id: String = tx
                .query_row(
                    "SELECT id FROM users WHERE username = ?1",
                    [&username],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or_else(|| ServerError::UnknownUser(username.clone()))?;
            let mut memberships: Vec<TeamMembership> = Vec::new();
            for team in &teams {
                if memberships.iter().any(|joined| &joined.team.name == team) {
                    continue;
                }
                let team_id = team_id_named(&tx, team)?;
                let added = tx.execute(
                    "INSERT OR IGNORE INTO team_members (user_id, team_id) VALUES (?1, ?2)",
                    params![user_id, team_id],
                )?;
                memberships.push(TeamMembership {
                    team: TeamRef {
                        id: uuid(&team_id)?,
                        name: team.clone(),
                    },
                    already_member: added == 0,
                });
            }
            // Nothing is kept unless every team was found (an early return rolls back).
            tx.commit()?;
            Ok(memberships)
        })
        .await
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), ServerError> {
        let (username, hash) = (username.to_owned(), password_hash.to_owned());
        self.run(move |conn| {
            let changed = conn.execute(
                "UPDATE users SET password_hash = ?1 WHERE username = ?2",
                params![hash, username],
            )?;
            if changed == 0 {
                return Err(ServerError::UnknownUser(username));
            }
            Ok(())
        })
        .await
    }

    async fn login_user(&self, username: &str) -> Result<Option<LoginUser>, ServerError> {
        let username = username.to_owned();
        self.run(move |conn| {
            let Some((id, name, hash, role_text)) = conn
                .query_row(
                    "SELECT id, username, password_hash, role FROM users WHERE username = ?1",
                    [&username],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt = conn.prepare(
                "SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id
                 WHERE m.user_id = ?1 ORDER BY t.name",
            )?;
            let teams = stmt
                .query_map([&id], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .map(|row| {
                    let (id, name) = row?;
                    Ok(TeamRef {
                        id: uuid(&id)?,
                        name,
                    })
                })
                .collect::<Result<Vec<_>, ServerError>>()?;
            Ok(Some(LoginUser {
                user: UserRef {
                    id: uuid(&id)?,
                    username: name,
                },
                role: role(&role_text)?,
                password_hash: hash,
                teams,
            }))
        })
        .await
    }

    async fn team_users(&self, team_id: Uuid) -> Result<Vec<TeamUser>, ServerError> {
        self.run(move |conn| {
            // BINARY collation: the order of the username's bytes, as PostgreSQL's
            // `COLLATE "C"`.
            let mut stmt = conn.prepare(
                "SELECT u.id, u.username, u.role FROM users u
                 JOIN team_members m ON m.user_id = u.id
                 WHERE m.team_id = ?1 ORDER BY u.username",
            )?;
            let rows = stmt.query_map([team_id.to_string()], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            rows.map(|row| {
                let (id, username, role_text) = row?;
                Ok(TeamUser {
                    id: uuid(&id)?,
                    username,
                    role: role(&role_text)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn list_users(&self, team: Option<&str>) -> Result<Vec<UserSummary>, ServerError> {
        let team = team.map(str::to_owned);
        self.run(move |conn| {
            // One read transaction: the team and its members from one snapshot. DEFERRED
            // (clippy.toml asks for it to be said): a read takes no write lock.
            #[allow(clippy::disallowed_methods)]
            let tx = conn.transaction()?;
            let team_id = team.map(|name| team_id_named(&tx, &name)).transpose()?;
            // One row per user and team (one with no team for a user of none), by username,
            // then team name, so a user's rows are consecutive (usernames are unique); BINARY
            // collation: byte order, as PostgreSQL's `COLLATE "C"`.
            let mut stmt = tx.prepare(
                "SELECT u.id, u.username, u.role, t.id, t.name FROM users u
                 LEFT JOIN team_members m ON m.user_id = u.id
                 LEFT JOIN teams t ON t.id = m.team_id
                 WHERE ?1 IS NULL OR EXISTS (
                     SELECT 1 FROM team_members f WHERE f.user_id = u.id AND f.team_id = ?1)
                 ORDER BY u.username, t.name",
            )?;
            let rows = stmt.query_map([team_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut users: Vec<UserSummary> = Vec::new();
            for row in rows {
                let (id, username, role_text, team_id, team_name) = row?;
                let id = uuid(&id)?;
                if users.last().is_none_or(|last| last.user.id != id) {
                    users.push(UserSummary {
                        user: UserRef { id, username },
                        role: role(&role_text)?,
                        teams: Vec::new(),
                    });
                }
                if let (Some(team_id), Some(name), Some(user)) =
                    (team_id, team_name, users.last_mut())
                {
                    user.teams.push(TeamRef {
                        id: uuid(&team_id)?,
                        name,
                    });
                }
            }
            Ok(users)
        })
        .await
    }

    async fn reserve_login_attempt(
        &self,
        username: &str,
        address: &str,
        limits: LoginLimits,
        now: DateTime<Utc>,
    ) -> Result<LoginReservation, ServerError> {
        let (username, address) = (username.to_owned(), address.to_owned());
        self.run(move |conn| {
            // IMMEDIATE: the count and the insert are one step for every writer of the file.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let count = |column: &str, key: &str| -> Result<AttemptCounts, ServerError> {
                // A failure: answered wrong, or in progress since before its request's
                // timeout (no answer will come).
                Ok(tx.query_row(
                    &format!(
                        "SELECT COUNT(*) FILTER (WHERE in_progress = 0 OR at_ms < ?3),
                                MIN(at_ms) FILTER (WHERE in_progress = 0 OR at_ms < ?3),
                                COUNT(*) FILTER (WHERE in_progress = 1 AND at_ms >= ?3)
                         FROM login_attempts
                         WHERE {column} = ?1 AND succeeded = 0 AND at_ms >= ?2"
                    ),
                    params![key, to_ms(limits.since), to_ms(limits.in_progress_since)],
                    |row| {
                        Ok(AttemptCounts {
                            failures: row.get(0)?,
                            oldest_failure_ms: row.get(1)?,
                            in_progress: row.get(2)?,
                        })
                    },
                )?)
            };
            let by_username = count("username", &username)?;
            let by_address = count("address", &address)?;
            if let Some(decided) = AttemptCounts::decide(
                by_username,
                by_address,
                limits.per_username,
                limits.per_address,
            ) {
                return Ok(decided);
            }
            tx.execute(
                "INSERT INTO login_attempts (username, address, at_ms, succeeded, in_progress)
                 VALUES (?1, ?2, ?3, 0, 1)",
                params![username, address, to_ms(now)],
            )?;
            let attempt_id = tx.last_insert_rowid();
            // Old attempts say nothing about the window any more.
            tx.execute(
                "DELETE FROM login_attempts WHERE at_ms < ?1",
                [to_ms(now) - 24 * 3600 * 1000],
            )?;
            tx.commit()?;
            Ok(LoginReservation::Reserved { attempt_id })
        })
        .await
    }

    async fn settle_login_attempt(
        &self,
        attempt_id: i64,
        username: &str,
        outcome: LoginOutcome,
    ) -> Result<(), ServerError> {
        let username = username.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            match outcome {
                LoginOutcome::Failed => {
                    tx.execute(
                        "UPDATE login_attempts SET in_progress = 0 WHERE id = ?1",
                        [attempt_id],
                    )?;
                }
                LoginOutcome::Succeeded => {
                    // The attempts reserved before this one, answered or not; those
                    // reserved after it are not forgotten (a row's id is larger than
                    // every row's there was when it was inserted).
                    tx.execute(
                        "DELETE FROM login_attempts
                         WHERE username = ?1 AND succeeded = 0 AND id < ?2",
                        params![username, attempt_id],
                    )?;
                    tx.execute(
                        "UPDATE login_attempts SET succeeded = 1, in_progress = 0 WHERE id = ?1",
                        [attempt_id],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn add_device(&self, device: NewDevice, now: DateTime<Utc>) -> Result<(), ServerError> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO devices (id, user_id, team_id, name, token_hash, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    device.id.to_string(),
                    device.user_id.to_string(),
                    device.team_id.map(|t| t.to_string()),
                    device.name,
                    device.token_hash,
                    to_ms(now)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn device_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<DeviceAuth>, ServerError> {
        let token_hash = token_hash.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "SELECT d.id, d.user_id, u.role, d.team_id, d.revoked FROM devices d
                 JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?1",
                [token_hash],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<String>>(3)?,
                        row.get::<_, bool>(4)?,
                    ))
                },
            )
            .optional()?
            .map(|(device, user, role_text, team, revoked)| {
                Ok(DeviceAuth {
                    device_id: uuid(&device)?,
                    user_id: uuid(&user)?,
                    role: role(&role_text)?,
                    team_id: team.as_deref().map(uuid).transpose()?,
                    revoked,
                })
            })
            .transpose()
        })
        .await
    }

    async fn list_devices(&self, team_id: Option<Uuid>) -> Result<Vec<DeviceInfo>, ServerError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "{DEVICE_QUERY} WHERE ?1 IS NULL OR d.team_id = ?1 ORDER BY d.created_ms, d.id"
            ))?;
            let rows = stmt.query_map([team_id.map(|t| t.to_string())], device_from_row)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn revoke_device(&self, device_id: Uuid) -> Result<DeviceInfo, ServerError> {
        self.run(move |conn| {
            let changed = conn.execute(
                "UPDATE devices SET revoked = 1 WHERE id = ?1",
                [device_id.to_string()],
            )?;
            if changed == 0 {
                return Err(ServerError::UnknownDevice(device_id));
            }
            conn.query_row(
                &format!("{DEVICE_QUERY} WHERE d.id = ?1"),
                [device_id.to_string()],
                device_from_row,
            )?
        })
        .await
    }

    async fn touch_device(&self, device_id: Uuid, now: DateTime<Utc>) -> Result<(), ServerError> {
        self.run(move |conn| {
            conn.execute(
                "UPDATE devices SET last_sync_ms = ?1 WHERE id = ?2",
                params![to_ms(now), device_id.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn push(
        &self,
        ctx: PushContext,
        changes: Vec<PreparedChange>,
    ) -> Result<Vec<ChangeResult>, ServerError> {
        self.run(move |conn| {
            // BEGIN IMMEDIATE: the write lock is held from the first read, which is what
            // makes commit order equal seq order (see the module comment).
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now_ms = to_ms(ctx.now);
            let mut results: Vec<Option<ChangeResult>> = changes.iter().map(|_| None).collect();
            let mut written = Vec::new();
            let barred = records_barred_by_erasure(&changes, &erased_or_refused(&tx, &changes)?);
            for index in application_order(&changes) {
                let change = &changes[index];
                let change_id = change.change_id();
                let earlier: Option<(Option<String>, String)> = tx
                    .query_row(
                        "SELECT team_id, result FROM applied_changes WHERE change_id = ?1",
                        [change_id.to_string()],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                if let Some((team, result)) = earlier {
                    results[index] = Some(
                        if team.as_deref() == Some(ctx.team_id.to_string().as_str()) {
                            serde_json::from_str(&result)
                                .map_err(|err| ServerError::CorruptData(err.to_string()))?
                        } else {
                            Refusal::new(
                                RejectCode::InvalidChange,
                                "change_id was already used by another team",
                            )
                            .result(change_id)
                        },
                    );
                    continue;
                }
                let result = match change {
                    PreparedChange::Invalid { change_id, refusal } => {
                        refusal.clone().result(*change_id)
                    }
                    PreparedChange::Valid(valid) if barred.contains(&valid.record_id) => {
                        remember_refused_record(&tx, &ctx, valid)?;
                        barred_refusal(valid.spec.name).result(valid.change_id)
                    }
                    PreparedChange::Valid(valid) => apply_one(&tx, &ctx, valid)?,
                };
                if let PreparedChange::Valid(valid) = change
                    && result.status != ChangeStatus::Rejected
                {
                    written.push(valid);
                }
                tx.execute(
                    "INSERT INTO applied_changes (change_id, team_id, device_id, result, recorded_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        change_id.to_string(),
                        ctx.team_id.to_string(),
                        ctx.device_id.to_string(),
                        serde_json::to_string(&stored_answer(&result))
                            .map_err(|err| ServerError::CorruptData(err.to_string()))?,
                        now_ms
                    ],
                )?;
                results[index] = Some(result);
            }
            for entry in change_audit_entries(&ctx, &written) {
                privacy::append_audit(&tx, &entry)?;
            }
            tx.execute(
                "UPDATE devices SET last_sync_ms = ?1, pending_count = ?2, app_version = ?3,
                     schema_version = ?4 WHERE id = ?5",
                params![
                    now_ms,
                    i64::try_from(ctx.pending_count).unwrap_or(i64::MAX),
                    ctx.app_version,
                    ctx.schema_version,
                    ctx.device_id.to_string()
                ],
            )?;
            tx.commit()?;
            Ok(results.into_iter().flatten().collect())
        })
        .await
    }

    async fn pull(
        &self,
        team_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<PulledChange>, Vec<PulledPurge>, bool), ServerError> {
        self.run(move |conn| {
            // One statement, so one snapshot: the writes and the purges of a page are those
            // committed before it, and commit order equals seq order across both.
            let mut stmt = conn.prepare(
                "SELECT seq, entity, record_id, field, value, hlc, author_id, change_id
                 FROM change_log WHERE team_id = ?1 AND effective = 1 AND seq > ?2
                 UNION ALL
                 SELECT seq, entity, record_id, NULL, NULL, NULL, NULL, NULL
                 FROM purges WHERE team_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![
                    team_id.to_string(),
                    i64::try_from(after).unwrap_or(i64::MAX),
                    i64::from(limit) + 1
                ],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<String>>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<String>>(6)?,
                        row.get::<_, Option<String>>(7)?,
                    ))
                },
            )?;
            let mut changes = Vec::new();
            let mut purges = Vec::new();
            let mut has_more = false;
            for (index, row) in rows.enumerate() {
                if index == limit as usize {
                    has_more = true;
                    break;
                }
                let (s, entity, record, field, value, h, author, change) = row?;
                let record_id = uuid(&record)?;
                match (field, value, h, author, change) {
                    (Some(field), Some(value), Some(h), Some(author), Some(change)) => {
                        changes.push(PulledChange {
                            seq: seq(s),
                            entity,
                            record_id,
                            field,
                            value: json(&value)?,
                            version: seq(s),
                            hlc: h,
                            author_id: uuid(&author)?,
                            change_id: uuid(&change)?,
                        });
                    }
                    _ => purges.push(PulledPurge {
                        seq: seq(s),
                        entity,
                        record_id,
                    }),
                }
            }
            Ok((changes, purges, has_more))
        })
        .await
    }

    async fn team_head(&self, team_id: Uuid) -> Result<u64, ServerError> {
        self.run(move |conn| {
            // Each side reads the end of its (team, seq) index.
            let head: i64 = conn.query_row(
                "SELECT max(
                   (SELECT coalesce(max(seq), 0) FROM change_log
                    WHERE team_id = ?1 AND effective = 1),
                   (SELECT coalesce(max(seq), 0) FROM purges WHERE team_id = ?1))",
                [team_id.to_string()],
                |row| row.get(0),
            )?;
            Ok(seq(head))
        })
        .await
    }

    async fn field_history(
        &self,
        team_id: Uuid,
        record_id: Uuid,
        field: &str,
    ) -> Result<Vec<HistoryEntry>, ServerError> {
        let field = field.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT seq, value, hlc, author_id, change_id, effective FROM change_log
                 WHERE team_id = ?1 AND record_id = ?2 AND field = ?3 ORDER BY seq",
            )?;
            let rows = stmt.query_map(
                params![team_id.to_string(), record_id.to_string(), field],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, bool>(5)?,
                    ))
                },
            )?;
            rows.map(|row| {
                let (s, value, hlc, author, change, effective) = row?;
                Ok(HistoryEntry {
                    seq: seq(s),
                    value: json(&value)?,
                    hlc,
                    author_id: uuid(&author)?,
                    change_id: uuid(&change)?,
                    effective,
                })
            })
            .collect()
        })
        .await
    }

    async fn list_conflicts(
        &self,
        team_id: Uuid,
        only_open: bool,
    ) -> Result<Vec<Conflict>, ServerError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {CONFLICT_COLUMNS} FROM conflicts
                 WHERE team_id = ?1 AND (?2 = 0 OR status = 'open') ORDER BY id"
            ))?;
            let rows =
                stmt.query_map(params![team_id.to_string(), only_open], conflict_from_row)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn open_and_recently_closed_conflicts(
        &self,
        team_id: Uuid,
        closed_limit: u32,
    ) -> Result<Vec<Conflict>, ServerError> {
        let conflicts = self
            .run(move |conn| {
                let mut stmt = conn.prepare(&open_and_recently_closed_conflicts_query())?;
                let rows = stmt.query_map(
                    params![team_id.to_string(), i64::from(closed_limit)],
                    conflict_from_row,
                )?;
                rows.map(|row| row?)
                    .collect::<Result<Vec<_>, ServerError>>()
            })
            .await?;
        Ok(most_recently_closed_cut(conflicts, closed_limit))
    }

    async fn conflict(&self, team_id: Uuid, id: i64) -> Result<Option<Conflict>, ServerError> {
        self.run(move |conn| load_conflict(conn, team_id, id)).await
    }

    async fn resolve_conflict(
        &self,
        team_id: Uuid,
        id: i64,
        value: FieldValue,
        resolved_by: Uuid,
        change_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Conflict, PulledChange), ServerError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let conflict =
                load_conflict(&tx, team_id, id)?.ok_or(ServerError::UnknownConflict(id))?;
            if conflict.status != ConflictStatus::Open {
                return Err(ServerError::ConflictNotOpen(id));
            }
            let entity = Entity::parse(&conflict.entity)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            let spec = field_spec(entity, &conflict.field)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            let current = current_field(&tx, spec, conflict.record_id)?;
            if is_superseded(&conflict, current.as_ref()) {
                // Written after the conflict: that write settled it, not the team lead.
                tx.execute(
                    "UPDATE conflicts SET status = 'auto_resolved', resolved_ms = ?1,
                         resolution_change_id = ?2 WHERE id = ?3",
                    params![to_ms(now), current.map(|c| c.change_id.to_string()), id],
                )?;
                tx.commit()?;
                return Err(ServerError::ConflictNotOpen(id));
            }
            if is_consent_gated(spec) {
                let standing = standing_consent(&tx, entity, conflict.record_id)?;
                if let Some(refusal) =
                    consent_gate_write(spec, conflict.record_id, &value, standing)
                {
                    return Err(ServerError::ConsentRequired(refusal));
                }
            }
            let mut involved = conflict
                .values
                .iter()
                .map(|v| hlc(&v.hlc))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(current) = &current {
                involved.push(current.hlc.clone());
            }
            let now_ms = to_ms(now);
            let resolution_hlc = server_hlc(involved.iter(), now_ms);
            let seq_written = append_log(
                &tx,
                &LogWrite {
                    team_id,
                    entity: entity.as_str(),
                    record_id: conflict.record_id,
                    field: spec.name,
                    value: &value,
                    hlc: &resolution_hlc,
                    author_id: resolved_by,
                    change_id,
                    device_id: None,
                    effective: true,
                    now_ms,
                },
            )?;
            tx.execute(
                "UPDATE conflicts SET status = 'resolved', resolved_by = ?1, resolved_ms = ?2,
                     resolution_change_id = ?3 WHERE id = ?4",
                params![resolved_by.to_string(), now_ms, change_id.to_string(), id],
            )?;
            let resolved =
                load_conflict(&tx, team_id, id)?.ok_or(ServerError::UnknownConflict(id))?;
            privacy::append_audit(
                &tx,
                &resolve_audit_entry(team_id, &resolved, resolved_by, now),
            )?;
            tx.commit()?;
            let change = PulledChange {
                seq: seq(seq_written),
                entity: entity.as_str().to_owned(),
                record_id: conflict.record_id,
                field: spec.name.to_owned(),
                value: value.to_json(),
                version: seq(seq_written),
                hlc: resolution_hlc.to_string(),
                author_id: resolved_by,
                change_id,
            };
            Ok((resolved, change))
        })
        .await
    }
    async fn team_records(
        &self,
        team_id: Uuid,
        entity: Entity,
        fields: &[&'static str],
    ) -> Result<Vec<RecordFields>, ServerError> {
        let fields = serde_json::to_string(fields)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?;
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT r.record_id, f.field, f.value FROM records r
                 LEFT JOIN field_state f ON f.record_id = r.record_id
                     AND f.field IN (SELECT value FROM json_each(?3))
                 WHERE r.team_id = ?1 AND r.entity = ?2 ORDER BY r.record_id",
            )?;
            let rows = stmt.query_map(
                params![team_id.to_string(), entity.as_str(), fields],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                    ))
                },
            )?;
            let mut records: Vec<RecordFields> = Vec::new();
            for row in rows {
                let (record, field, value) = row?;
                let record_id = uuid(&record)?;
                if records.last().map(|r| r.record_id) != Some(record_id) {
                    records.push(RecordFields {
                        record_id,
                        values: serde_json::Map::new(),
                    });
                }
                if let (Some(field), Some(value), Some(last)) = (field, value, records.last_mut()) {
                    last.values.insert(field, json(&value)?);
                }
            }
            Ok(records)
        })
        .await
    }

    async fn merge_clients(
        &self,
        merge: NewMerge,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for id in [merge.survivor_id, merge.duplicate_id] {
                require_client(&tx, merge.team_id, id)?;
                check_mergeable(
                    id,
                    client_field(&tx, Entity::Client, "deleted", id)?.as_ref(),
                    client_field(&tx, Entity::Client, "merged_into", id)?.as_ref(),
                )?;
            }
            let on_duplicate =
                client_ref(Entity::Contact, "client_id", Some(merge.duplicate_id)).to_json_string();
            let contacts = {
                let mut stmt = tx.prepare_cached(
                    "SELECT f.record_id FROM field_state f
                     JOIN records r ON r.record_id = f.record_id
                     WHERE r.team_id = ?1 AND r.entity = 'contact' AND f.field = 'client_id'
                       AND f.value = ?2 ORDER BY f.record_id",
                )?;
                let ids = stmt
                    .query_map(params![merge.team_id.to_string(), on_duplicate], |row| {
                        row.get::<_, String>(0)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                ids.iter()
                    .map(|id| uuid(id))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let writes = merge_writes(merge.survivor_id, merge.duplicate_id, &contacts);
            let changes = write_planned(&tx, merge.team_id, &writes, merge.merged_by, merge.now)?;
            let contact_ids = serde_json::to_string(&contacts)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            tx.execute(
                "INSERT INTO duplicate_merges (id, team_id, survivor_id, duplicate_id, contact_ids,
                     merged_by, merged_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    merge.id.to_string(),
                    merge.team_id.to_string(),
                    merge.survivor_id.to_string(),
                    merge.duplicate_id.to_string(),
                    contact_ids,
                    merge.merged_by.to_string(),
                    to_ms(merge.now),
                ],
            )?;
            let stored = load_merge(&tx, merge.team_id, merge.id)?
                .ok_or(ServerError::UnknownMerge(merge.id))?;
            for entry in merge_audit_entries(merge.team_id, &stored, false)? {
                privacy::append_audit(&tx, &entry)?;
            }
            tx.commit()?;
            Ok((stored, changes))
        })
        .await
    }

    async fn list_merges(&self, team_id: Uuid) -> Result<Vec<DuplicateMerge>, ServerError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {MERGE_COLUMNS} FROM duplicate_merges WHERE team_id = ?1
                 ORDER BY merged_ms DESC, id DESC"
            ))?;
            let rows = stmt.query_map(params![team_id.to_string()], merge_from_row)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn undo_merge(
        &self,
        team_id: Uuid,
        merge_id: Uuid,
        undone_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let merge =
                load_merge(&tx, team_id, merge_id)?.ok_or(ServerError::UnknownMerge(merge_id))?;
            let merged_into = client_field(&tx, Entity::Client, "merged_into", merge.duplicate_id)?;
            let contacts_now = merge
                .contact_ids
                .iter()
                .map(|&contact| client_field(&tx, Entity::Contact, "client_id", contact))
                .collect::<Result<Vec<_>, _>>()?;
            check_undoable(&merge, merged_into.as_ref(), &contacts_now)?;
            let changes = write_planned(&tx, team_id, &undo_writes(&merge), undone_by, now)?;
            tx.execute(
                "UPDATE duplicate_merges SET undone_by = ?1, undone_ms = ?2 WHERE id = ?3",
                params![undone_by.to_string(), to_ms(now), merge_id.to_string()],
            )?;
            let undone =
                load_merge(&tx, team_id, merge_id)?.ok_or(ServerError::UnknownMerge(merge_id))?;
            for entry in merge_audit_entries(team_id, &undone, true)? {
                privacy::append_audit(&tx, &entry)?;
            }
            tx.commit()?;
            Ok((undone, changes))
        })
        .await
    }

    async fn dismiss_duplicate(
        &self,
        team_id: Uuid,
        pair: (Uuid, Uuid),
        dismissed_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            require_client(&tx, team_id, pair.0)?;
            require_client(&tx, team_id, pair.1)?;
            let inserted = tx.execute(
                "INSERT INTO duplicate_dismissals (team_id, first_id, second_id, dismissed_by,
                     dismissed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                params![
                    team_id.to_string(),
                    pair.0.to_string(),
                    pair.1.to_string(),
                    dismissed_by.to_string(),
                    to_ms(now)
                ],
            )?;
            // A repeated dismissal changes nothing, so it adds no entry either.
            if inserted > 0 {
                for entry in dismiss_audit_entries(team_id, pair, dismissed_by, now) {
                    privacy::append_audit(&tx, &entry)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn dismissed_duplicates(&self, team_id: Uuid) -> Result<Vec<(Uuid, Uuid)>, ServerError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT first_id, second_id FROM duplicate_dismissals WHERE team_id = ?1",
            )?;
            let rows = stmt.query_map(params![team_id.to_string()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            rows.map(|row| {
                let (first, second) = row?;
                Ok((uuid(&first)?, uuid(&second)?))
            })
            .collect()
        })
        .await
    }

    async fn report_data(&self, team_id: Uuid) -> Result<ReportData, ServerError> {
        self.run(move |conn| {
            let team = team_id.to_string();
            let mut data = ReportData::new();
            let mut values = conn.prepare(&report_values_query())?;
            let mut rows = values.query([&team])?;
            while let Some(row) = rows.next()? {
                let entity = Entity::parse(&row.get::<_, String>(0)?)
                    .map_err(|err| ServerError::CorruptData(err.to_string()))?;
                let record_id = RecordId::from_uuid(uuid(&row.get::<_, String>(1)?)?);
                let (field, value): (String, String) = (row.get(2)?, row.get(3)?);
                data.add_value(entity, record_id, &field, &value)
                    .map_err(report_error)?;
            }
            let mut history = conn.prepare(&report_history_query())?;
            let mut rows = history.query([&team])?;
            while let Some(row) = rows.next()? {
                let record_id = RecordId::from_uuid(uuid(&row.get::<_, String>(0)?)?);
                let (field, value, hlc): (String, String, String) =
                    (row.get(1)?, row.get(2)?, row.get(3)?);
                data.add_history(record_id, &field, &value, &hlc)
                    .map_err(report_error)?;
            }
            Ok(data)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn the_most_recently_closed_conflicts_are_read_along_the_index_without_sorting() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.migrate().await.unwrap();
        let conn = store.lock();
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                open_and_recently_closed_conflicts_query()
            ))
            .unwrap()
            .query_map(params![Uuid::nil().to_string(), 50], |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // The open part, then each closed status (the open part may take either index).
        let closed_parts = plan
            .iter()
            .filter(|step| step.contains("USING INDEX conflicts_team_closed"))
            .count();
        assert!(closed_parts >= 2, "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "no sort of every closed conflict: {plan:?}"
        );
    }

    #[test]
    fn every_commit_reaches_the_disk_before_it_is_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("server.db")).unwrap();
        let conn = store.lock();
        let pragma = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                .unwrap()
        };
        assert_eq!(
            pragma("synchronous"),
            2,
            "2 is FULL: the WAL is synced at each commit"
        );
        assert_eq!(pragma("foreign_keys"), 1);
        assert_eq!(pragma("secure_delete"), 1, "erased data is zeroed");
    }

    #[tokio::test]
    async fn a_write_on_a_full_disk_is_named_as_such_and_goes_through_once_there_is_room() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("server.db")).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let max_pages = |pages: Option<i64>| {
            let conn = store.lock();
            let now: i64 = conn
                .query_row("PRAGMA page_count", [], |row| row.get(0))
                .unwrap();
            // What SQLite answers when the file system has no space left: SQLITE_FULL.
            conn.pragma_update(None, "max_page_count", pages.unwrap_or(now))
                .unwrap();
        };
        max_pages(None);
        let mut teams = 0u128;
        let refused = loop {
            teams += 1;
            assert!(teams < 10_000, "the database never filled up");
            let name = format!("team {teams} {}", "x".repeat(200));
            if let Err(error) = store.add_team(Uuid::from_u128(teams), &name, at).await {
                break error;
            }
        };
        assert!(
            matches!(refused, ServerError::DiskFull("SQLite")),
            "{refused:?}"
        );
        assert!(
            refused
                .to_string()
                .contains("disk holding the SQLite database is full")
        );

        max_pages(Some(1 << 30));
        let name = format!("team {teams} {}", "x".repeat(200));
        store
            .add_team(Uuid::from_u128(teams), &name, at)
            .await
            .unwrap();
        assert!(store.team_by_name(&name).await.unwrap().is_some());
    }
}
