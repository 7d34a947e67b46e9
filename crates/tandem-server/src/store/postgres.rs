//! The PostgreSQL backend (production): a connection pool (deadpool) over tokio-postgres,
//! so several server instances can serve the same teams from one database.
//!
//! Sequence numbers: every transaction that appends to the change log first takes the
//! transaction-scoped advisory lock [`SEQ_LOCK_KEY`] and only then reads `max(seq) + 1`, in
//! READ COMMITTED. The lock is released when the transaction commits or rolls back, after
//! its rows became visible, so writers run one at a time across every instance on the
//! database and each sees the seqs its predecessor committed: commit order equals seq order
//! and a pull cursor can never pass a change that commits later with a smaller seq. A
//! `SEQUENCE` would not do: it hands out numbers when asked, not at commit, so seq 7 could
//! commit after seq 8 had been pulled. READ COMMITTED matters too: under REPEATABLE READ
//! the snapshot would be taken by the lock statement itself, before the wait, and
//! `max(seq)` would miss the predecessor's rows.
//!
//! Pipelined statements (several sent in one round trip with `tokio::try_join!`) are joined
//! `biased;`: polled, and so sent, in the order written. When one fails, PostgreSQL aborts
//! the transaction and every statement after it fails with "current transaction is
//! aborted"; polled in order, the first failure seen is the cause, so a full disk is
//! reported as `DiskFull` (503) and not as the 500 of the statement behind it. (tokio's
//! default rotates the polling order, and the aborted statement's error could win.)
//!
//! Values, merge decisions and validation are [`crate::push`]'s, as for SQLite; this file
//! only mirrors the SQLite backend's reads and writes in PostgreSQL's dialect.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{
    Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType, Transaction,
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
use tokio::sync::OwnedMutexGuard;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, IsolationLevel, NoTls, Row};
use uuid::Uuid;

// Erasure, retention, export and the audit log; a child module, so it shares the helpers.
#[path = "postgres_privacy.rs"]
mod privacy;
// Database epochs.
#[path = "postgres_epoch.rs"]
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

/// The migrations, in order; the table `tandem_schema_migrations` records which have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../../migrations/server/postgres/0001_initial.sql"),
    include_str!("../../../../migrations/server/postgres/0002_duplicates.sql"),
    include_str!("../../../../migrations/server/postgres/0003_privacy.sql"),
    include_str!("../../../../migrations/server/postgres/0004_epoch.sql"),
    include_str!("../../../../migrations/server/postgres/0005_sites.sql"),
    include_str!("../../../../migrations/server/postgres/0006_refused_records.sql"),
    include_str!("../../../../migrations/server/postgres/0007_conflict_ids.sql"),
    include_str!("../../../../migrations/server/postgres/0008_stored_refusal_words.sql"),
    include_str!("../../../../migrations/server/postgres/0009_login_attempts_in_progress.sql"),
    include_str!("../../../../migrations/server/postgres/0010_conflicts_by_close_time.sql"),
];

/// The advisory lock that serialises every transaction assigning seqs ("tandemsq" in
/// ASCII). Nothing else that shares the database may use this key.
pub const SEQ_LOCK_KEY: i64 = 0x7461_6e64_656d_7371;

/// The advisory lock that lets one instance at a time migrate ("tandemmg" in ASCII), so
/// instances started together do not race to create the same tables.
pub const MIGRATION_LOCK_KEY: i64 = 0x7461_6e64_656d_6d67;

/// The advisory lock that orders appends to the audit chain ("tandemau" in ASCII). A
/// transaction that also assigns seqs takes [`SEQ_LOCK_KEY`] first, so the two never
/// deadlock.
pub const AUDIT_LOCK_KEY: i64 = 0x7461_6e64_656d_6175;

/// The advisory lock that makes counting and recording a login attempt one step
/// ("tandemlg" in ASCII), so parallel logins cannot all pass the rate limit; settling one
/// takes it too, so that settles never lock each other's rows.
const LOGIN_LOCK_KEY: i64 = 0x7461_6e64_656d_6c67;

/// Connections one instance keeps at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// How long a request waits for a free connection, or for a new one to be made, unless told
/// otherwise: a third of the default request timeout (30 s), so that an overloaded server or
/// an unreachable database is answered 503 with a `Retry-After` (devices come back later,
/// spread out) rather than left to the request timeout's empty 408.
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection pool's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections one instance keeps at most.
    pub max_connections: usize,
    /// How long a request waits for a free connection, or for a new one to be made,
    /// before it is answered 503 `unavailable`.
    pub timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            timeout: DEFAULT_POOL_TIMEOUT,
        }
    }
}

/// The server store in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// [`PoolOptions::timeout`], for the error of a request that waited that long.
    pool_timeout: Duration,
    /// This instance's seq writers queue here, in arrival order, before they take a pooled
    /// connection (see [`PostgresStore::seq_writer_client`]).
    seq_writers: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for PostgresStore {
    // Only the pool's size: the connection settings include the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("max_connections", &status.max_size)
            .field("connections", &status.size)
            .finish()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or a
    /// `key=value` connection string) and migrates it.
    pub async fn connect(url: &str) -> Result<Self, ServerError> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// Like [`PostgresStore::connect`], with the pool's limits.
    pub async fn connect_with(url: &str, options: PoolOptions) -> Result<Self, ServerError> {
        // The parser's message describes the syntax, never echoes the URL (and its password).
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|err| ServerError::InvalidDatabaseUrl(describe(&err)))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection whose future was dropped mid-transaction still has its
                // ROLLBACK queued ahead of the next query, so the quick check is enough.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .build()
            .map_err(|err| ServerError::Postgres(err.to_string()))?;
        let store = Self {
            pool,
            pool_timeout: options.timeout,
            seq_writers: Arc::new(tokio::sync::Mutex::new(())),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, ServerError> {
        self.pool.get().await.map_err(|err| match err {
            PoolError::Timeout(TimeoutType::Wait) => ServerError::Busy(self.pool_timeout),
            PoolError::Timeout(TimeoutType::Create | TimeoutType::Recycle) => {
                ServerError::DatabaseUnavailable(format!(
                    "no connection was made within {} s",
                    self.pool_timeout.as_secs()
                ))
            }
            // Making a new connection failed: refused, the database not accepting
            // connections, a wrong password (the server log says which).
            PoolError::Backend(err) => ServerError::DatabaseUnavailable(describe(&err)),
            other => ServerError::Postgres(format!("connection pool: {other}")),
        })
    }

    /// A pooled connection for a transaction that assigns seqs, once this instance's earlier
    /// seq writers are done; the guard is held until the transaction ends. Seq writers run one
    /// at a time anyway (the advisory lock); without this queue, every waiting push held a
    /// pooled connection while it waited for the lock, so under many devices at once the
    /// pool was all waiting pushes, and pulls and token checks waited for a connection until
    /// the request timed out.
    async fn seq_writer_client(
        &self,
    ) -> Result<(OwnedMutexGuard<()>, deadpool_postgres::Client), ServerError> {
        let turn = Arc::clone(&self.seq_writers).lock_owned().await;
        Ok((turn, self.client().await?))
    }
}

/// What went wrong, without the parts of a PostgreSQL error that can quote row data (the
/// DETAIL of a constraint violation repeats the failing row, which may be a client's).
fn describe(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}

impl From<tokio_postgres::Error> for ServerError {
    fn from(err: tokio_postgres::Error) -> Self {
        let code = err.code();
        if code == Some(&SqlState::DISK_FULL) {
            return ServerError::DiskFull("PostgreSQL");
        }
        // The connection was lost (the database stopped, restarted or ended the session).
        let gone = [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ];
        if err.is_closed() || code.is_some_and(|code| gone.contains(code)) {
            return ServerError::DatabaseUnavailable(describe(&err));
        }
        ServerError::Postgres(describe(&err))
    }
}

fn is_unique_violation(err: &tokio_postgres::Error) -> bool {
    err.code() == Some(&SqlState::UNIQUE_VIOLATION)
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

fn db_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Stored values were validated on the way in; re-reading them needs no date rule.
fn stored_value(spec: &FieldSpec, text: &str) -> Result<FieldValue, ServerError> {
    let far_future = ValidationContext::new(chrono::NaiveDate::MAX);
    spec.parse_json_str(text, far_future)
        .map_err(|err| ServerError::CorruptData(err.to_string()))
}

/// Starts a transaction that may assign seqs: READ COMMITTED, then the seq lock, held until
/// commit or rollback (see the module comment for why both).
async fn begin_seq_writer(
    client: &mut deadpool_postgres::Client,
) -> Result<Transaction<'_>, ServerError> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQ_LOCK_KEY])
        .await?;
    Ok(tx)
}

/// Runs a prepared (and cached) statement; statements are parsed once per connection.
async fn query_opt(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>, ServerError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&statement, params).await?)
}

async fn query(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, ServerError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query(&statement, params).await?)
}

async fn execute(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, ServerError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

/// The next seq. Only correct while the transaction holds the seq lock.
/// The change log and the purges share one sequence, which starts at the epoch's
/// `start_seq` after a restore (see the SQLite backend).
async fn next_seq(tx: &Transaction<'_>) -> Result<i64, ServerError> {
    let row = query_opt(
        tx,
        "SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM change_log),
                         (SELECT COALESCE(MAX(seq), 0) FROM purges),
                         (SELECT MAX(start_seq) - 1 FROM epochs)) + 1",
        &[],
    )
    .await?
    .ok_or_else(|| ServerError::CorruptData("MAX(seq) returned no row".into()))?;
    Ok(row.try_get(0)?)
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

/// Change-log rows (and the field states and records they need) appended in memory and
/// written with one statement per table, so that a push's time under the seq lock does not
/// grow with its number of changes. Only correct while the transaction holds the seq lock,
/// from [`LogBatch::start`] until the last [`LogBatch::flush`].
#[derive(Default)]
struct LogBatch {
    /// The seq the next appended row takes.
    next_seq: i64,
    /// The greatest seq in the change log, written or appended (purges have seqs too): a new
    /// record's `created_seq` is the one after it.
    last_log_seq: i64,
    records: RecordRows,
    log: LogRows,
    /// The last write of each field, in order of first write (one upsert may not touch a
    /// row twice).
    states: LogRows,
    state_index: HashMap<(Uuid, String), usize>,
}

#[derive(Default)]
struct RecordRows {
    record_id: Vec<Uuid>,
    entity: Vec<String>,
    team_id: Vec<Uuid>,
    created_seq: Vec<i64>,
}

/// Rows of `change_log`, column by column (for `unnest`); `field_state` takes a subset.
#[derive(Default)]
struct LogRows {
    seq: Vec<i64>,
    team_id: Vec<Uuid>,
    entity: Vec<String>,
    record_id: Vec<Uuid>,
    field: Vec<String>,
    value: Vec<String>,
    hlc: Vec<String>,
    author_id: Vec<Uuid>,
    change_id: Vec<Uuid>,
    device_id: Vec<Option<Uuid>>,
    effective: Vec<bool>,
    recorded_ms: Vec<i64>,
}

impl LogRows {
    fn push(&mut self, seq: i64, write: &LogWrite<'_>, value: &str, hlc: &str) {
        self.seq.push(seq);
        self.team_id.push(write.team_id);
        self.entity.push(write.entity.to_owned());
        self.record_id.push(write.record_id);
        self.field.push(write.field.to_owned());
        self.value.push(value.to_owned());
        self.hlc.push(hlc.to_owned());
        self.author_id.push(write.author_id);
        self.change_id.push(write.change_id);
        self.device_id.push(write.device_id);
        self.effective.push(write.effective);
        self.recorded_ms.push(write.now_ms);
    }

    fn set(&mut self, index: usize, seq: i64, write: &LogWrite<'_>, value: &str, hlc: &str) {
        self.seq[index] = seq;
        self.value[index] = value.to_owned();
        self.hlc[index] = hlc.to_owned();
        self.author_id[index] = write.author_id;
        self.change_id[index] = write.change_id;
        self.recorded_ms[index] = write.now_ms;
    }
}

impl LogBatch {
    async fn start(tx: &Transaction<'_>) -> Result<Self, ServerError> {
        let row = query_opt(
            tx,
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM change_log),
                    (SELECT COALESCE(MAX(seq), 0) FROM purges),
                    (SELECT COALESCE(MAX(start_seq), 1) - 1 FROM epochs)",
            &[],
        )
        .await?
        .ok_or_else(|| ServerError::CorruptData("MAX(seq) returned no row".into()))?;
        let last_log_seq: i64 = row.try_get(0)?;
        let last_purge_seq: i64 = row.try_get(1)?;
        // After a restore the sequence goes on from the epoch's start (see `next_seq`).
        let before_epoch: i64 = row.try_get(2)?;
        Ok(Self {
            next_seq: last_log_seq.max(last_purge_seq).max(before_epoch) + 1,
            last_log_seq,
            ..Self::default()
        })
    }

    /// Appends a record, created at the seq after the change log's last.
    fn create_record(&mut self, record_id: Uuid, entity: &str, team_id: Uuid) {
        self.records.record_id.push(record_id);
        self.records.entity.push(entity.to_owned());
        self.records.team_id.push(team_id);
        self.records.created_seq.push(self.last_log_seq + 1);
    }

    /// Appends a change-log row (and, if effective, the field's new state); returns its seq.
    fn append(&mut self, write: &LogWrite<'_>) -> i64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.last_log_seq = seq;
        let value = write.value.to_json_string();
        let hlc = write.hlc.to_string();
        self.log.push(seq, write, &value, &hlc);
        if write.effective {
            match self
                .state_index
                .entry((write.record_id, write.field.to_owned()))
            {
                Entry::Occupied(entry) => self.states.set(*entry.get(), seq, write, &value, &hlc),
                Entry::Vacant(entry) => {
                    entry.insert(self.states.seq.len());
                    self.states.push(seq, write, &value, &hlc);
                }
            }
        }
        seq
    }

    /// Writes what was appended: the records first (field states refer to them), then the
    /// log and the states in one round trip (pipelined).
    async fn flush(&mut self, tx: &Transaction<'_>) -> Result<(), ServerError> {
        let records = std::mem::take(&mut self.records);
        if !records.record_id.is_empty() {
            execute(
                tx,
                "INSERT INTO records (record_id, entity, team_id, created_seq)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::bigint[])",
                &[
                    &records.record_id,
                    &records.entity,
                    &records.team_id,
                    &records.created_seq,
                ],
            )
            .await?;
        }
        let log = std::mem::take(&mut self.log);
        let states = std::mem::take(&mut self.states);
        self.state_index.clear();
        let write_log = async {
            if log.seq.is_empty() {
                return Ok(0);
            }
            execute(
                tx,
                "INSERT INTO change_log (seq, team_id, entity, record_id, field, value, hlc,
                     author_id, change_id, device_id, effective, recorded_ms)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[],
                     $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::uuid[],
                     $11::boolean[], $12::bigint[])",
                &[
                    &log.seq,
                    &log.team_id,
                    &log.entity,
                    &log.record_id,
                    &log.field,
                    &log.value,
                    &log.hlc,
                    &log.author_id,
                    &log.change_id,
                    &log.device_id,
                    &log.effective,
                    &log.recorded_ms,
                ],
            )
            .await
        };
        let write_states = async {
            if states.seq.is_empty() {
                return Ok(0);
            }
            execute(
                tx,
                "INSERT INTO field_state (record_id, field, value, version, hlc, author_id,
                     change_id, recorded_ms)
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[],
                     $5::text[], $6::uuid[], $7::uuid[], $8::bigint[])
                 ON CONFLICT (record_id, field) DO UPDATE SET value = excluded.value,
                     version = excluded.version, hlc = excluded.hlc,
                     author_id = excluded.author_id, change_id = excluded.change_id,
                     recorded_ms = excluded.recorded_ms",
                &[
                    &states.record_id,
                    &states.field,
                    &states.value,
                    &states.seq,
                    &states.hlc,
                    &states.author_id,
                    &states.change_id,
                    &states.recorded_ms,
                ],
            )
            .await
        };
        tokio::try_join!(biased; write_log, write_states)?;
        Ok(())
    }
}

/// Appends one change-log row and writes it at once.
async fn append_log(tx: &Transaction<'_>, write: &LogWrite<'_>) -> Result<i64, ServerError> {
    let mut batch = LogBatch::start(tx).await?;
    let seq = batch.append(write);
    batch.flush(tx).await?;
    Ok(seq)
}

/// The consent-gated fields of a record as they stand (see [`consent_gate`]).
async fn standing_consent(
    tx: &Transaction<'_>,
    entity: Entity,
    record_id: Uuid,
) -> Result<Vec<(&'static FieldSpec, FieldValue)>, ServerError> {
    let mut standing = Vec::new();
    for spec in consent_gate_fields(entity) {
        let value = current_field(tx, spec, record_id).await?;
        standing.push((spec, value.map_or_else(|| spec.empty_value(), |f| f.value)));
    }
    Ok(standing)
}

/// A row of `field_state` as stored; parsed with its field's spec when read.
struct StoredField {
    value: String,
    version: i64,
    hlc: String,
    author_id: Uuid,
    change_id: Uuid,
    recorded_ms: i64,
}

impl StoredField {
    /// The columns `value, version, hlc, author_id, change_id, recorded_ms` from `first` on.
    fn from_row(row: &Row, first: usize) -> Result<Self, ServerError> {
        Ok(Self {
            value: row.try_get(first)?,
            version: row.try_get(first + 1)?,
            hlc: row.try_get(first + 2)?,
            author_id: row.try_get(first + 3)?,
            change_id: row.try_get(first + 4)?,
            recorded_ms: row.try_get(first + 5)?,
        })
    }

    fn parse(&self, spec: &FieldSpec) -> Result<CurrentField, ServerError> {
        Ok(CurrentField {
            value: stored_value(spec, &self.value)?,
            version: seq(self.version),
            hlc: hlc(&self.hlc)?,
            author_id: self.author_id,
            change_id: self.change_id,
            recorded_ms: self.recorded_ms,
        })
    }
}

async fn current_field(
    tx: &Transaction<'_>,
    spec: &FieldSpec,
    record_id: Uuid,
) -> Result<Option<CurrentField>, ServerError> {
    query_opt(
        tx,
        "SELECT value, version, hlc, author_id, change_id, recorded_ms FROM field_state
         WHERE record_id = $1 AND field = $2",
        &[&record_id, &spec.name],
    )
    .await?
    .map(|row| StoredField::from_row(&row, 0)?.parse(spec))
    .transpose()
}

/// The field's value as it stood at `version` (its empty value before its first write).
async fn value_at(
    tx: &Transaction<'_>,
    spec: &FieldSpec,
    record_id: Uuid,
    version: u64,
) -> Result<FieldValue, ServerError> {
    let row = query_opt(
        tx,
        "SELECT value FROM change_log WHERE record_id = $1 AND field = $2 AND effective
           AND seq <= $3 ORDER BY seq DESC LIMIT 1",
        &[&record_id, &spec.name, &db_int(version)],
    )
    .await?;
    match row {
        Some(row) => stored_value(spec, row.try_get(0)?),
        None => Ok(spec.empty_value()),
    }
}

/// What a push reads before it decides anything, in one round trip, and keeps up to date as
/// it appends: the owner of each record it writes, the state of each field it writes or whose
/// consent gate it checks, and which of the records it writes or links to are erased (or
/// were refused before for an erased link, `refused_records`).
struct PushState {
    owners: HashMap<Uuid, (Uuid, String)>,
    fields: HashMap<(Uuid, String), StoredField>,
    erased: HashSet<Uuid>,
    log: LogBatch,
    /// Records barred by an erasure that the server does not hold (never stored, or erased),
    /// to remember (`refused_records`; see [`records_barred_by_erasure`]).
    refused: Vec<(Uuid, String)>,
}

impl PushState {
    async fn load(tx: &Transaction<'_>, changes: &[PreparedChange]) -> Result<Self, ServerError> {
        let valid = || {
            changes.iter().filter_map(|change| match change {
                PreparedChange::Valid(valid) => Some(valid),
                PreparedChange::Invalid { .. } => None,
            })
        };
        let record_ids: Vec<Uuid> = valid().map(|change| change.record_id).collect();
        let touched = records_and_links(changes);
        let (mut field_records, mut field_names) = (Vec::new(), Vec::new());
        for change in valid() {
            let gate = is_consent_gated(change.spec)
                .then(|| consent_gate_fields(change.spec.entity))
                .into_iter()
                .flatten();
            for spec in std::iter::once(change.spec).chain(gate) {
                field_records.push(change.record_id);
                field_names.push(spec.name);
            }
        }
        let owner_params: [&(dyn ToSql + Sync); 1] = [&record_ids];
        let field_params: [&(dyn ToSql + Sync); 2] = [&field_records, &field_names];
        let erased_params: [&(dyn ToSql + Sync); 1] = [&touched];
        let (owners, fields, erased, log) = tokio::try_join!(
            biased;
            query(
                tx,
                "SELECT record_id, team_id, entity FROM records WHERE record_id = ANY($1)",
                &owner_params,
            ),
            query(
                tx,
                "SELECT record_id, field, value, version, hlc, author_id, change_id, recorded_ms
                 FROM field_state
                 WHERE (record_id, field) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))",
                &field_params,
            ),
            query(
                tx,
                "SELECT record_id FROM purges WHERE record_id = ANY($1)
                 UNION SELECT record_id FROM refused_records WHERE record_id = ANY($1)",
                &erased_params,
            ),
            LogBatch::start(tx),
        )?;
        Ok(Self {
            owners: owners
                .iter()
                .map(|row| Ok((row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?))))
                .collect::<Result<_, ServerError>>()?,
            fields: fields
                .iter()
                .map(|row| {
                    Ok((
                        (row.try_get(0)?, row.try_get(1)?),
                        StoredField::from_row(row, 2)?,
                    ))
                })
                .collect::<Result<_, ServerError>>()?,
            erased: erased
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?,
            log,
            refused: Vec::new(),
        })
    }

    /// Notes a change of a record barred by an erasure; the record is remembered when the
    /// server does not hold it (never stored, or erased).
    fn refuse_barred(&mut self, change: &ValidChange) {
        if !self.owners.contains_key(&change.record_id)
            && !self.refused.iter().any(|(id, _)| *id == change.record_id)
        {
            self.refused
                .push((change.record_id, change.spec.entity.as_str().to_owned()));
        }
    }

    /// Writes the records noted by [`PushState::refuse_barred`].
    async fn remember_refused(
        &self,
        tx: &Transaction<'_>,
        ctx: &PushContext,
    ) -> Result<(), ServerError> {
        if self.refused.is_empty() {
            return Ok(());
        }
        let (ids, entities): (Vec<Uuid>, Vec<String>) = self.refused.iter().cloned().unzip();
        execute(
            tx,
            "INSERT INTO refused_records (record_id, entity, team_id, refused_ms)
             SELECT record_id, entity, $3, $4 FROM unnest($1::uuid[], $2::text[])
                 AS refused (record_id, entity)
             ON CONFLICT (record_id) DO NOTHING",
            &[&ids, &entities, &ctx.team_id, &to_ms(ctx.now)],
        )
        .await?;
        Ok(())
    }

    fn current(
        &self,
        spec: &FieldSpec,
        record_id: Uuid,
    ) -> Result<Option<CurrentField>, ServerError> {
        self.fields
            .get(&(record_id, spec.name.to_owned()))
            .map(|stored| stored.parse(spec))
            .transpose()
    }

    /// The consent-gated fields of a record as they stand (see [`consent_gate`]).
    fn standing_consent(
        &self,
        entity: Entity,
        record_id: Uuid,
    ) -> Result<Vec<(&'static FieldSpec, FieldValue)>, ServerError> {
        consent_gate_fields(entity)
            .map(|spec| {
                let value = self.current(spec, record_id)?;
                Ok((spec, value.map_or_else(|| spec.empty_value(), |f| f.value)))
            })
            .collect()
    }

    fn append(&mut self, write: &LogWrite<'_>) -> i64 {
        let seq = self.log.append(write);
        if write.effective {
            let stored = StoredField {
                value: write.value.to_json_string(),
                version: seq,
                hlc: write.hlc.to_string(),
                author_id: write.author_id,
                change_id: write.change_id,
                recorded_ms: write.now_ms,
            };
            self.fields
                .insert((write.record_id, write.field.to_owned()), stored);
        }
        seq
    }
}

async fn apply_one(
    tx: &Transaction<'_>,
    ctx: &PushContext,
    state: &mut PushState,
    change: &ValidChange,
) -> Result<ChangeResult, ServerError> {
    let now_ms = to_ms(ctx.now);
    let entity = change.spec.entity.as_str();
    let field = change.spec.name;
    let current = state.current(change.spec, change.record_id)?;
    let owner = state.owners.get(&change.record_id);
    if let Some((team, owner_entity)) = owner {
        if *team != ctx.team_id {
            return Ok(Refusal::new(
                RejectCode::OtherTeam,
                format!("{field}: the record belongs to another team"),
            )
            .result(change.change_id));
        }
        if owner_entity != entity {
            return Ok(Refusal::new(
                RejectCode::InvalidChange,
                format!("{field}: the record is a {owner_entity}, not a {entity}"),
            )
            .result(change.change_id));
        }
    }
    if is_consent_gated(change.spec) {
        let standing = state.standing_consent(change.spec.entity, change.record_id)?;
        if let Some(refusal) = consent_gate(change, standing) {
            return Ok(refusal.result(change.change_id));
        }
    }
    if owner.is_none() {
        state
            .log
            .create_record(change.record_id, entity, ctx.team_id);
        state
            .owners
            .insert(change.record_id, (ctx.team_id, entity.to_owned()));
    }

    let base = if is_concurrent(current.as_ref(), change.base_version) {
        // The history is read from the table: what was appended so far is written first.
        state.log.flush(tx).await?;
        value_at(tx, change.spec, change.record_id, change.base_version).await?
    } else {
        change.spec.empty_value()
    };
    let log =
        |state: &mut PushState, value: &FieldValue, hlc: &Hlc, change_id: Uuid, effective: bool| {
            state.append(&LogWrite {
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
            })
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
            let version = log(state, &change.value, &change.hlc, change.change_id, true);
            Ok(result(ChangeStatus::Applied, version, &change.value, None))
        }
        Decision::Same => {
            // Kept in the history for the record of who wrote what; nothing to pull.
            log(state, &change.value, &change.hlc, change.change_id, false);
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a concurrent write without a current value".into())
            })?;
            Ok(result(
                ChangeStatus::Applied,
                db_int(current.version),
                &current.value,
                None,
            ))
        }
        Decision::Merge(merged) => {
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a merge without a current value".into())
            })?;
            // The submitted value stays in the history; the combination is what devices pull.
            log(state, &change.value, &change.hlc, change.change_id, false);
            let hlc = server_hlc([&current.hlc, &change.hlc], now_ms);
            let version = log(state, &merged, &hlc, uuid_v7_at(ctx.now), true);
            Ok(result(ChangeStatus::Merged, version, &merged, None))
        }
        Decision::Conflict { winner, status } => {
            let current = current.ok_or_else(|| {
                ServerError::CorruptData("a conflict without a current value".into())
            })?;
            let incoming_wins = winner == Side::Incoming;
            let seq_written = log(
                state,
                &change.value,
                &change.hlc,
                change.change_id,
                incoming_wins,
            );
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
            let row = query_opt(
                tx,
                "INSERT INTO conflicts (team_id, entity, record_id, field, policy, status,
                     base_version, base_value, values_json, clock_skew, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                &[
                    &ctx.team_id,
                    &entity,
                    &change.record_id,
                    &field,
                    &change.spec.policy.as_str(),
                    &conflict_status_name(status),
                    &db_int(change.base_version),
                    &base.to_json_string(),
                    &values_json,
                    &clock_skew,
                    &now_ms,
                ],
            )
            .await?
            .ok_or_else(|| ServerError::CorruptData("INSERT RETURNING gave no row".into()))?;
            let conflict_id: i64 = row.try_get(0)?;
            let (version, value) = if incoming_wins {
                (seq_written, &change.value)
            } else {
                (db_int(current.version), &current.value)
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

fn conflict_from_row(row: &Row) -> Result<Conflict, ServerError> {
    Ok(Conflict {
        id: row.try_get(0)?,
        entity: row.try_get(1)?,
        record_id: row.try_get(2)?,
        field: row.try_get(3)?,
        policy: row.try_get(4)?,
        status: parse_conflict_status(row.try_get(5)?)?,
        base_version: seq(row.try_get(6)?),
        base_value: json(row.try_get(7)?)?,
        values: serde_json::from_str(row.try_get(8)?)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?,
        clock_skew: row.try_get(9)?,
        created_at: from_ms(row.try_get(10)?),
        resolved_by: row.try_get(11)?,
        resolved_at: row.try_get::<_, Option<i64>>(12)?.map(from_ms),
        resolution_change_id: row.try_get(13)?,
    })
}

async fn load_conflict(
    client: &impl GenericClient,
    team_id: Uuid,
    id: i64,
) -> Result<Option<Conflict>, ServerError> {
    client
        .query_opt(
            &format!("SELECT {CONFLICT_COLUMNS} FROM conflicts WHERE team_id = $1 AND id = $2"),
            &[&team_id, &id],
        )
        .await?
        .as_ref()
        .map(conflict_from_row)
        .transpose()
}

/// Writes the planned changes of a merge or an undo as ordinary server changes by `author`,
/// all with one server HLC ordered after every value they replace. Only correct while the
/// transaction holds the seq lock.
async fn write_planned(
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
        if let Some(current) = current_field(tx, spec, write.record_id).await? {
            involved.push(current.hlc);
        }
    }
    let now_ms = to_ms(now);
    let hlc = server_hlc(involved.iter(), now_ms);
    let mut batch = LogBatch::start(tx).await?;
    let mut changes = Vec::with_capacity(writes.len());
    for write in writes {
        let change_id = uuid_v7_at(now);
        let seq_written = batch.append(&LogWrite {
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
        });
        changes.push(write.pulled(seq(seq_written), &hlc, author_id, change_id));
    }
    batch.flush(tx).await?;
    Ok(changes)
}

/// Refuses an id that is not a client of the team.
async fn require_client(tx: &Transaction<'_>, team_id: Uuid, id: Uuid) -> Result<(), ServerError> {
    let row = query_opt(
        tx,
        "SELECT entity FROM records WHERE record_id = $1 AND team_id = $2",
        &[&id, &team_id],
    )
    .await?;
    let entity: Option<String> = row.map(|row| row.try_get(0)).transpose()?;
    if entity.as_deref() == Some(Entity::Client.as_str()) {
        Ok(())
    } else {
        Err(ServerError::UnknownClient(id))
    }
}

async fn client_field(
    tx: &Transaction<'_>,
    entity: Entity,
    field: &str,
    id: Uuid,
) -> Result<Option<FieldValue>, ServerError> {
    let spec =
        field_spec(entity, field).map_err(|err| ServerError::CorruptData(err.to_string()))?;
    Ok(current_field(tx, spec, id)
        .await?
        .map(|current| current.value))
}

const MERGE_COLUMNS: &str = "id, survivor_id, duplicate_id, contact_ids, merged_by, merged_ms, \
     undone_by, undone_ms";

fn merge_from_row(row: &Row) -> Result<DuplicateMerge, ServerError> {
    Ok(DuplicateMerge {
        id: row.try_get(0)?,
        survivor_id: row.try_get(1)?,
        duplicate_id: row.try_get(2)?,
        contact_ids: serde_json::from_str(row.try_get(3)?)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?,
        merged_by: row.try_get(4)?,
        merged_at: from_ms(row.try_get(5)?),
        undone_by: row.try_get(6)?,
        undone_at: row.try_get::<_, Option<i64>>(7)?.map(from_ms),
    })
}

async fn load_merge(
    client: &impl GenericClient,
    team_id: Uuid,
    id: Uuid,
) -> Result<Option<DuplicateMerge>, ServerError> {
    client
        .query_opt(
            &format!("SELECT {MERGE_COLUMNS} FROM duplicate_merges WHERE team_id = $1 AND id = $2"),
            &[&team_id, &id],
        )
        .await?
        .as_ref()
        .map(merge_from_row)
        .transpose()
}

const DEVICE_QUERY: &str = "SELECT d.id, d.name, u.id, u.username, t.id, t.name, d.app_version,
        d.pending_count, d.last_sync_ms, d.revoked, d.created_ms
     FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN teams t ON t.id = d.team_id";

fn device_from_row(row: &Row) -> Result<DeviceInfo, ServerError> {
    let team_id: Option<Uuid> = row.try_get(4)?;
    let team_name: Option<String> = row.try_get(5)?;
    Ok(DeviceInfo {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        user: UserRef {
            id: row.try_get(2)?,
            username: row.try_get(3)?,
        },
        team: match (team_id, team_name) {
            (Some(id), Some(name)) => Some(TeamRef { id, name }),
            _ => None,
        },
        app_version: row.try_get(6)?,
        pending_count: seq(row.try_get(7)?),
        last_sync_at: row.try_get::<_, Option<i64>>(8)?.map(from_ms),
        revoked: row.try_get(9)?,
        created_at: from_ms(row.try_get(10)?),
    })
}

/// The columns that make a [`Site`].
const SITE_QUERY: &str = "SELECT id, name, archived FROM sites";

fn site_from_row(row: &Row) -> Result<Site, ServerError> {
    Ok(Site {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        archived: row.try_get(2)?,
    })
}

/// One site, after a change to it; [`ServerError::UnknownSite`] when `changed` is 0.
async fn changed_site(
    client: &deadpool_postgres::Client,
    id: Uuid,
    changed: u64,
) -> Result<Site, ServerError> {
    if changed == 0 {
        return Err(ServerError::UnknownSite(id));
    }
    let row = client
        .query_one(&format!("{SITE_QUERY} WHERE id = $1"), &[&id])
        .await?;
    site_from_row(&row)
}

/// The id of the team named `name`; [`ServerError::UnknownTeam`] when no team has that name.
async fn team_id_named(tx: &Transaction<'_>, name: &str) -> Result<Uuid, ServerError> {
    Ok(tx
        .query_opt("SELECT id FROM teams WHERE name = $1", &[&name])
        .await?
        .ok_or_else(|| ServerError::UnknownTeam(name.to_owned()))?
        .try_get(0)?)
}

#[async_trait]
impl ServerStore for PostgresStore {
    async fn migrate(&self) -> Result<(), ServerError> {
        let mut client = self.client().await?;
        // PostgreSQL's DDL is transactional: a migration lands whole, with its record.
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await?;
        // Without this, every start logs PostgreSQL's notice that the table exists.
        tx.batch_execute("SET LOCAL client_min_messages = warning")
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS tandem_schema_migrations (
                 version     INTEGER PRIMARY KEY,
                 applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let found: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM tandem_schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let supported = MIGRATIONS.len() as i64;
        if i64::from(found) > supported {
            return Err(ServerError::SchemaTooNew {
                found: i64::from(found),
                supported,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.batch_execute(sql).await?;
            let version = index as i32 + 1;
            tx.execute(
                "INSERT INTO tandem_schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn check_health(&self) -> Result<(), ServerError> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn add_team(
        &self,
        id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<TeamRef, ServerError> {
        let name = team_name(name)?;
        let client = self.client().await?;
        match client
            .execute(
                "INSERT INTO teams (id, name, created_ms) VALUES ($1, $2, $3)",
                &[&id, &name, &to_ms(now)],
            )
            .await
        {
            Err(err) if is_unique_violation(&err) => Err(ServerError::TeamExists(name.to_owned())),
            Err(err) => Err(err.into()),
            Ok(_) => Ok(TeamRef {
                id,
                name: name.to_owned(),
            }),
        }
    }

    async fn team_by_name(&self, name: &str) -> Result<Option<TeamRef>, ServerError> {
        let client = self.client().await?;
        client
            .query_opt("SELECT id, name FROM teams WHERE name = $1", &[&name])
            .await?
            .map(|row| {
                Ok(TeamRef {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                })
            })
            .transpose()
    }

    async fn list_teams(&self) -> Result<Vec<TeamSummary>, ServerError> {
        let client = self.client().await?;
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        client
            .query(
                "SELECT t.id, t.name, COUNT(m.user_id) FROM teams t
                 LEFT JOIN team_members m ON m.team_id = t.id
                 GROUP BY t.id, t.name ORDER BY t.name COLLATE \"C\"",
                &[],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(TeamSummary {
                    team: TeamRef {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                    },
                    members: u64::try_from(row.try_get::<_, i64>(2)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn add_site(
        &self,
        id: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Site, ServerError> {
        let SiteName { name, key } = SiteName::parse(name)?;
        let client = self.client().await?;
        match client
            .execute(
                "INSERT INTO sites (id, name, name_key, created_ms) VALUES ($1, $2, $3, $4)",
                &[&id, &name, &key, &to_ms(now)],
            )
            .await
        {
            // The id (given by `admin site add --id`) or the name is taken.
            Err(err) if is_unique_violation(&err) => {
                let id_taken = client
                    .query_opt("SELECT 1 FROM sites WHERE id = $1", &[&id])
                    .await?
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
    }

    async fn list_sites(&self) -> Result<Vec<Site>, ServerError> {
        let client = self.client().await?;
        // Byte order of the lower-case name whatever the database's locale, then the id's:
        // the order SQLite's BINARY collation gives.
        client
            .query(
                &format!("{SITE_QUERY} ORDER BY name_key COLLATE \"C\", id"),
                &[],
            )
            .await?
            .iter()
            .map(site_from_row)
            .collect()
    }

    async fn rename_site(&self, id: Uuid, name: &str) -> Result<Site, ServerError> {
        let SiteName { name, key } = SiteName::parse(name)?;
        let client = self.client().await?;
        match client
            .execute(
                "UPDATE sites SET name = $1, name_key = $2 WHERE id = $3",
                &[&name, &key, &id],
            )
            .await
        {
            Err(err) if is_unique_violation(&err) => Err(ServerError::SiteExists(name)),
            Err(err) => Err(err.into()),
            Ok(changed) => changed_site(&client, id, changed).await,
        }
    }

    async fn set_site_archived(&self, id: Uuid, archived: bool) -> Result<Site, ServerError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE sites SET archived = $1 WHERE id = $2",
                &[&archived, &id],
            )
            .await?;
        changed_site(&client, id, changed).await
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
        let username = super::username(username)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO users (id, username, password_hash, role, created_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &username, &password_hash, &role.as_str(), &to_ms(now)],
            )
            .await;
        // The id (given by `admin user add --id`) or the username is taken. The failed
        // statement ended the transaction, so the id is looked up outside it.
        if let Err(err) = &inserted
            && is_unique_violation(err)
        {
            tx.rollback().await?;
            let id_taken = client
                .query_opt("SELECT 1 FROM users WHERE id = $1", &[&id])
                .await?
                .is_some();
            return Err(match id_taken {
                true => ServerError::UserIdExists(id),
                false => ServerError::UserExists(username.to_owned()),
            });
        }
        inserted?;
        for team in team_names {
            let team_id = team_id_named(&tx, team).await?;
            tx.execute(
                "INSERT INTO team_members (user_id, team_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&id, &team_id],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(UserRef {
            id,
            username: username.to_owned(),
        })
    }

    async fn add_team_memberships(
        &self,
        username: &str,
        team_names: &[String],
    ) -> Result<Vec<TeamMembership>, ServerError> {
        let mut client = self.client().await?;
        // Dropped without a commit on any error: nothing of the command is kept.
        let tx = client.transaction().await?;
        let user_id: Uuid = tx
            .query_opt("SELECT id FROM users WHERE username = $1", &[&username])
            .await?
            .ok_or_else(|| ServerError::UnknownUser(username.to_owned()))?
            .try_get(0)?;
        let mut memberships: Vec<TeamMembership> = Vec::new();
        for team in team_names {
            if memberships.iter().any(|joined| &joined.team.name == team) {
                continue;
            }
            let team_id = team_id_named(&tx, team).await?;
            let added = tx
                .execute(
                    "INSERT INTO team_members (user_id, team_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&user_id, &team_id],
                )
                .await?;
            memberships.push(TeamMembership {
                team: TeamRef {
                    id: team_id,
                    name: team.clone(),
                },
                already_member: added == 0,
            });
        }
        tx.commit().await?;
        Ok(memberships)
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), ServerError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE users SET password_hash = $1 WHERE username = $2",
                &[&password_hash, &username],
            )
            .await?;
        if changed == 0 {
            return Err(ServerError::UnknownUser(username.to_owned()));
        }
        Ok(())
    }

    async fn login_user(&self, username: &str) -> Result<Option<LoginUser>, ServerError> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                "SELECT id, username, password_hash, role FROM users WHERE username = $1",
                &[&username],
            )
            .await?
        else {
            return Ok(None);
        };
        let id: Uuid = row.try_get(0)?;
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        let teams = client
            .query(
                "SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id
                 WHERE m.user_id = $1 ORDER BY t.name COLLATE \"C\"",
                &[&id],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(TeamRef {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(Some(LoginUser {
            user: UserRef {
                id,
                username: row.try_get(1)?,
            },
            role: role(row.try_get(3)?)?,
            password_hash: row.try_get(2)?,
            teams,
        }))
    }

    async fn team_users(&self, team_id: Uuid) -> Result<Vec<TeamUser>, ServerError> {
        let client = self.client().await?;
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        client
            .query(
                "SELECT u.id, u.username, u.role FROM users u
                 JOIN team_members m ON m.user_id = u.id
                 WHERE m.team_id = $1 ORDER BY u.username COLLATE \"C\"",
                &[&team_id],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(TeamUser {
                    id: row.try_get(0)?,
                    username: row.try_get(1)?,
                    role: role(row.try_get(2)?)?,
                })
            })
            .collect()
    }

    async fn list_users(&self, team: Option<&str>) -> Result<Vec<UserSummary>, ServerError> {
        let mut client = self.client().await?;
        // REPEATABLE READ: the team and its members from one snapshot.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let team_id = match team {
            Some(name) => Some(team_id_named(&tx, name).await?),
            None => None,
        };
        // One row per user and team (one with no team for a user of none), by username, then
        // team name, so a user's rows are consecutive (usernames are unique); COLLATE "C":
        // byte order, as SQLite sorts, whatever the database's locale.
        let rows = tx
            .query(
                "SELECT u.id, u.username, u.role, t.id, t.name FROM users u
                 LEFT JOIN team_members m ON m.user_id = u.id
                 LEFT JOIN teams t ON t.id = m.team_id
                 WHERE $1::uuid IS NULL OR EXISTS (
                     SELECT 1 FROM team_members f WHERE f.user_id = u.id AND f.team_id = $1)
                 ORDER BY u.username COLLATE \"C\", t.name COLLATE \"C\"",
                &[&team_id],
            )
            .await?;
        tx.commit().await?;
        let mut users: Vec<UserSummary> = Vec::new();
        for row in &rows {
            let id: Uuid = row.try_get(0)?;
            if users.last().is_none_or(|last| last.user.id != id) {
                users.push(UserSummary {
                    user: UserRef {
                        id,
                        username: row.try_get(1)?,
                    },
                    role: role(row.try_get(2)?)?,
                    teams: Vec::new(),
                });
            }
            let team_id: Option<Uuid> = row.try_get(3)?;
            let team_name: Option<String> = row.try_get(4)?;
            if let (Some(id), Some(name), Some(user)) = (team_id, team_name, users.last_mut()) {
                user.teams.push(TeamRef { id, name });
            }
        }
        Ok(users)
    }

    async fn reserve_login_attempt(
        &self,
        username: &str,
        address: &str,
        limits: LoginLimits,
        now: DateTime<Utc>,
    ) -> Result<LoginReservation, ServerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // READ COMMITTED would let two attempts count the same failures and both insert:
        // the lock makes the count and the insert one step for every instance.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOGIN_LOCK_KEY])
            .await?;
        let (since_ms, in_progress_since_ms) =
            (to_ms(limits.since), to_ms(limits.in_progress_since));
        let mut counts = Vec::with_capacity(2);
        for (column, key) in [("username", username), ("address", address)] {
            // A failure: answered wrong, or in progress since before its request's timeout
            // (no answer will come).
            let row = tx
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FILTER (WHERE NOT in_progress OR at_ms < $3),
                                MIN(at_ms) FILTER (WHERE NOT in_progress OR at_ms < $3),
                                COUNT(*) FILTER (WHERE in_progress AND at_ms >= $3)
                         FROM login_attempts
                         WHERE {column} = $1 AND NOT succeeded AND at_ms >= $2"
                    ),
                    &[&key, &since_ms, &in_progress_since_ms],
                )
                .await?;
            let count = |index: usize| -> Result<u32, ServerError> {
                Ok(u32::try_from(row.try_get::<_, i64>(index)?).unwrap_or(u32::MAX))
            };
            counts.push(AttemptCounts {
                failures: count(0)?,
                oldest_failure_ms: row.try_get(1)?,
                in_progress: count(2)?,
            });
        }
        if let Some(decided) = AttemptCounts::decide(
            counts[0],
            counts[1],
            limits.per_username,
            limits.per_address,
        ) {
            return Ok(decided);
        }
        let row = tx
            .query_one(
                "INSERT INTO login_attempts (username, address, at_ms, succeeded, in_progress)
                 VALUES ($1, $2, $3, FALSE, TRUE) RETURNING id",
                &[&username, &address, &to_ms(now)],
            )
            .await?;
        let attempt_id: i64 = row.try_get(0)?;
        // Old attempts say nothing about the window any more.
        tx.execute(
            "DELETE FROM login_attempts WHERE at_ms < $1",
            &[&(to_ms(now) - 24 * 3600 * 1000)],
        )
        .await?;
        tx.commit().await?;
        Ok(LoginReservation::Reserved { attempt_id })
    }

    async fn settle_login_attempt(
        &self,
        attempt_id: i64,
        username: &str,
        outcome: LoginOutcome,
    ) -> Result<(), ServerError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The reservations' lock, kept so that the settles and reservations of one username
        // or address are one at a time: a reservation's two counts never straddle a settle.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOGIN_LOCK_KEY])
            .await?;
        match outcome {
            LoginOutcome::Failed => {
                tx.execute(
                    "UPDATE login_attempts SET in_progress = FALSE WHERE id = $1",
                    &[&attempt_id],
                )
                .await?;
            }
            LoginOutcome::Succeeded => {
                // The attempts reserved before this one, answered or not (identity ids
                // grow); those reserved after it are not forgotten.
                tx.execute(
                    "DELETE FROM login_attempts
                     WHERE username = $1 AND NOT succeeded AND id < $2",
                    &[&username, &attempt_id],
                )
                .await?;
                tx.execute(
                    "UPDATE login_attempts SET succeeded = TRUE, in_progress = FALSE
                     WHERE id = $1",
                    &[&attempt_id],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn add_device(&self, device: NewDevice, now: DateTime<Utc>) -> Result<(), ServerError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO devices (id, user_id, team_id, name, token_hash, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &device.id,
                    &device.user_id,
                    &device.team_id,
                    &device.name,
                    &device.token_hash,
                    &to_ms(now),
                ],
            )
            .await?;
        Ok(())
    }

    async fn device_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<DeviceAuth>, ServerError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT d.id, d.user_id, u.role, d.team_id, d.revoked FROM devices d
                 JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
            )
            .await?;
        client
            .query_opt(&statement, &[&token_hash])
            .await?
            .map(|row| {
                Ok(DeviceAuth {
                    device_id: row.try_get(0)?,
                    user_id: row.try_get(1)?,
                    role: role(row.try_get(2)?)?,
                    team_id: row.try_get(3)?,
                    revoked: row.try_get(4)?,
                })
            })
            .transpose()
    }

    async fn list_devices(&self, team_id: Option<Uuid>) -> Result<Vec<DeviceInfo>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "{DEVICE_QUERY} WHERE $1::uuid IS NULL OR d.team_id = $1
                     ORDER BY d.created_ms, d.id"
                ),
                &[&team_id],
            )
            .await?
            .iter()
            .map(device_from_row)
            .collect()
    }

    async fn revoke_device(&self, device_id: Uuid) -> Result<DeviceInfo, ServerError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE devices SET revoked = TRUE WHERE id = $1",
                &[&device_id],
            )
            .await?;
        if changed == 0 {
            return Err(ServerError::UnknownDevice(device_id));
        }
        let row = client
            .query_one(&format!("{DEVICE_QUERY} WHERE d.id = $1"), &[&device_id])
            .await?;
        device_from_row(&row)
    }

    async fn touch_device(&self, device_id: Uuid, now: DateTime<Utc>) -> Result<(), ServerError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("UPDATE devices SET last_sync_ms = $1 WHERE id = $2")
            .await?;
        client
            .execute(&statement, &[&to_ms(now), &device_id])
            .await?;
        Ok(())
    }

    async fn push(
        &self,
        ctx: PushContext,
        changes: Vec<PreparedChange>,
    ) -> Result<Vec<ChangeResult>, ServerError> {
        let (_turn, mut client) = self.seq_writer_client().await?;
        // The seq lock is taken before the first read, which is what makes commit order
        // equal seq order (see the module comment). It also serialises the idempotency
        // check below with every other push, so one change id is never applied twice.
        let tx = begin_seq_writer(&mut client).await?;
        let now_ms = to_ms(ctx.now);
        let mut results: Vec<Option<ChangeResult>> = changes.iter().map(|_| None).collect();
        let mut written = Vec::new();
        // Every round trip below happens while the seq lock is held, so the answers given
        // before and the state of every record and field the push touches are read in one
        // round trip, and what it writes goes in one statement per table at the end.
        let change_ids: Vec<Uuid> = changes.iter().map(PreparedChange::change_id).collect();
        let answered_params: [&(dyn ToSql + Sync); 1] = [&change_ids];
        let (rows, mut state) = tokio::try_join!(
            biased;
            query(
                &tx,
                "SELECT change_id, team_id, result FROM applied_changes WHERE change_id = ANY($1)",
                &answered_params,
            ),
            PushState::load(&tx, &changes),
        )?;
        let mut answered: HashMap<Uuid, (Option<Uuid>, String)> = HashMap::new();
        for row in rows {
            answered.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
        }
        let mut new_ids = Vec::with_capacity(changes.len());
        let mut new_results = Vec::with_capacity(changes.len());
        let barred = records_barred_by_erasure(&changes, &state.erased);
        for index in application_order(&changes) {
            let change = &changes[index];
            let change_id = change.change_id();
            if let Some((team, result)) = answered.get(&change_id) {
                results[index] = Some(if *team == Some(ctx.team_id) {
                    serde_json::from_str(result)
                        .map_err(|err| ServerError::CorruptData(err.to_string()))?
                } else {
                    Refusal::new(
                        RejectCode::InvalidChange,
                        "change_id was already used by another team",
                    )
                    .result(change_id)
                });
                continue;
            }
            let result = match change {
                PreparedChange::Invalid { change_id, refusal } => {
                    refusal.clone().result(*change_id)
                }
                PreparedChange::Valid(valid) if barred.contains(&valid.record_id) => {
                    state.refuse_barred(valid);
                    barred_refusal(valid.spec.name).result(valid.change_id)
                }
                PreparedChange::Valid(valid) => apply_one(&tx, &ctx, &mut state, valid).await?,
            };
            if let PreparedChange::Valid(valid) = change
                && result.status != ChangeStatus::Rejected
            {
                written.push(valid);
            }
            let result_json = serde_json::to_string(&stored_answer(&result))
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            // The same change id twice in one push gets the first answer, as in two pushes.
            answered.insert(change_id, (Some(ctx.team_id), result_json.clone()));
            new_ids.push(change_id);
            new_results.push(result_json);
            results[index] = Some(result);
        }
        state.log.flush(&tx).await?;
        state.remember_refused(&tx, &ctx).await?;
        privacy::append_audits(&tx, &change_audit_entries(&ctx, &written)).await?;
        execute(
            &tx,
            "INSERT INTO applied_changes (change_id, team_id, device_id, result, recorded_ms)
             SELECT change_id, $2, $3, result, $5 FROM unnest($1::uuid[], $4::text[])
                 AS answered (change_id, result)",
            &[
                &new_ids,
                &ctx.team_id,
                &ctx.device_id,
                &new_results,
                &now_ms,
            ],
        )
        .await?;
        execute(
            &tx,
            "UPDATE devices SET last_sync_ms = $1, pending_count = $2, app_version = $3,
                 schema_version = $4 WHERE id = $5",
            &[
                &now_ms,
                &db_int(ctx.pending_count),
                &ctx.app_version,
                &i64::from(ctx.schema_version),
                &ctx.device_id,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(results.into_iter().flatten().collect())
    }

    async fn pull(
        &self,
        team_id: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<PulledChange>, Vec<PulledPurge>, bool), ServerError> {
        let client = self.client().await?;
        // One statement, one snapshot: every seq it returns committed before it started,
        // and so did every smaller seq (commit order equals seq order), writes and purges
        // alike.
        let statement = client
            .prepare_cached(
                "SELECT seq, entity, record_id, field, value, hlc, author_id, change_id
                 FROM change_log WHERE team_id = $1 AND effective AND seq > $2
                 UNION ALL
                 SELECT seq, entity, record_id, NULL, NULL, NULL, NULL, NULL
                 FROM purges WHERE team_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
            )
            .await?;
        let rows = client
            .query(
                &statement,
                &[&team_id, &db_int(after), &(i64::from(limit) + 1)],
            )
            .await?;
        let has_more = rows.len() > limit as usize;
        let mut changes = Vec::new();
        let mut purges = Vec::new();
        for row in rows.iter().take(limit as usize) {
            let s: i64 = row.try_get(0)?;
            let field: Option<String> = row.try_get(3)?;
            match field {
                Some(field) => changes.push(PulledChange {
                    seq: seq(s),
                    entity: row.try_get(1)?,
                    record_id: row.try_get(2)?,
                    field,
                    value: json(row.try_get(4)?)?,
                    version: seq(s),
                    hlc: row.try_get(5)?,
                    author_id: row.try_get(6)?,
                    change_id: row.try_get(7)?,
                }),
                None => purges.push(PulledPurge {
                    seq: seq(s),
                    entity: row.try_get(1)?,
                    record_id: row.try_get(2)?,
                }),
            }
        }
        Ok((changes, purges, has_more))
    }

    async fn team_head(&self, team_id: Uuid) -> Result<u64, ServerError> {
        let client = self.client().await?;
        // Each side reads the end of its (team, seq) index.
        let statement = client
            .prepare_cached(
                "SELECT greatest(
                   (SELECT coalesce(max(seq), 0) FROM change_log
                    WHERE team_id = $1 AND effective),
                   (SELECT coalesce(max(seq), 0) FROM purges WHERE team_id = $1))",
            )
            .await?;
        let head: i64 = client
            .query_one(&statement, &[&team_id])
            .await?
            .try_get(0)?;
        Ok(seq(head))
    }

    async fn field_history(
        &self,
        team_id: Uuid,
        record_id: Uuid,
        field: &str,
    ) -> Result<Vec<HistoryEntry>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT seq, value, hlc, author_id, change_id, effective FROM change_log
                 WHERE team_id = $1 AND record_id = $2 AND field = $3 ORDER BY seq",
                &[&team_id, &record_id, &field],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(HistoryEntry {
                    seq: seq(row.try_get(0)?),
                    value: json(row.try_get(1)?)?,
                    hlc: row.try_get(2)?,
                    author_id: row.try_get(3)?,
                    change_id: row.try_get(4)?,
                    effective: row.try_get(5)?,
                })
            })
            .collect()
    }

    async fn list_conflicts(
        &self,
        team_id: Uuid,
        only_open: bool,
    ) -> Result<Vec<Conflict>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "SELECT {CONFLICT_COLUMNS} FROM conflicts
                     WHERE team_id = $1 AND (NOT $2 OR status = 'open') ORDER BY id"
                ),
                &[&team_id, &only_open],
            )
            .await?
            .iter()
            .map(conflict_from_row)
            .collect()
    }

    async fn open_and_recently_closed_conflicts(
        &self,
        team_id: Uuid,
        closed_limit: u32,
    ) -> Result<Vec<Conflict>, ServerError> {
        let client = self.client().await?;
        let conflicts = client
            .query(
                &open_and_recently_closed_conflicts_query(),
                &[&team_id, &i64::from(closed_limit)],
            )
            .await?
            .iter()
            .map(conflict_from_row)
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(most_recently_closed_cut(conflicts, closed_limit))
    }

    async fn conflict(&self, team_id: Uuid, id: i64) -> Result<Option<Conflict>, ServerError> {
        let client = self.client().await?;
        load_conflict(&**client, team_id, id).await
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
        let (_turn, mut client) = self.seq_writer_client().await?;
        // The resolution is a change with a seq: same lock as a push. Holding it also means
        // two team leads resolving the same conflict at once are answered one after the
        // other, and the second sees that it is no longer open.
        let tx = begin_seq_writer(&mut client).await?;
        let conflict = load_conflict(&*tx, team_id, id)
            .await?
            .ok_or(ServerError::UnknownConflict(id))?;
        if conflict.status != ConflictStatus::Open {
            return Err(ServerError::ConflictNotOpen(id));
        }
        let entity = Entity::parse(&conflict.entity)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?;
        let spec = field_spec(entity, &conflict.field)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?;
        let current = current_field(&tx, spec, conflict.record_id).await?;
        if is_superseded(&conflict, current.as_ref()) {
            // Written after the conflict: that write settled it, not the team lead.
            tx.execute(
                "UPDATE conflicts SET status = 'auto_resolved', resolved_ms = $1,
                     resolution_change_id = $2 WHERE id = $3",
                &[&to_ms(now), &current.map(|c| c.change_id), &id],
            )
            .await?;
            tx.commit().await?;
            return Err(ServerError::ConflictNotOpen(id));
        }
        if is_consent_gated(spec) {
            let standing = standing_consent(&tx, entity, conflict.record_id).await?;
            if let Some(refusal) = consent_gate_write(spec, conflict.record_id, &value, standing) {
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
        )
        .await?;
        tx.execute(
            "UPDATE conflicts SET status = 'resolved', resolved_by = $1, resolved_ms = $2,
                 resolution_change_id = $3 WHERE id = $4",
            &[&resolved_by, &now_ms, &change_id, &id],
        )
        .await?;
        let resolved = load_conflict(&*tx, team_id, id)
            .await?
            .ok_or(ServerError::UnknownConflict(id))?;
        privacy::append_audit(
            &tx,
            &resolve_audit_entry(team_id, &resolved, resolved_by, now),
        )
        .await?;
        tx.commit().await?;
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
    }
    async fn team_records(
        &self,
        team_id: Uuid,
        entity: Entity,
        fields: &[&'static str],
    ) -> Result<Vec<RecordFields>, ServerError> {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT r.record_id, f.field, f.value FROM records r
                 LEFT JOIN field_state f ON f.record_id = r.record_id AND f.field = ANY($3)
                 WHERE r.team_id = $1 AND r.entity = $2 ORDER BY r.record_id",
                &[&team_id, &entity.as_str(), &fields],
            )
            .await?;
        let mut records: Vec<RecordFields> = Vec::new();
        for row in rows {
            let record_id: Uuid = row.try_get(0)?;
            if records.last().map(|r| r.record_id) != Some(record_id) {
                records.push(RecordFields {
                    record_id,
                    values: serde_json::Map::new(),
                });
            }
            let field: Option<String> = row.try_get(1)?;
            let value: Option<&str> = row.try_get(2)?;
            if let (Some(field), Some(value), Some(last)) = (field, value, records.last_mut()) {
                last.values.insert(field, json(value)?);
            }
        }
        Ok(records)
    }

    async fn merge_clients(
        &self,
        merge: NewMerge,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError> {
        let mut client = self.client().await?;
        // Ordinary changes with seqs: the same lock as a push, which also answers two team
        // leads merging the same client one after the other.
        let tx = begin_seq_writer(&mut client).await?;
        for id in [merge.survivor_id, merge.duplicate_id] {
            require_client(&tx, merge.team_id, id).await?;
            check_mergeable(
                id,
                client_field(&tx, Entity::Client, "deleted", id)
                    .await?
                    .as_ref(),
                client_field(&tx, Entity::Client, "merged_into", id)
                    .await?
                    .as_ref(),
            )?;
        }
        let on_duplicate =
            client_ref(Entity::Contact, "client_id", Some(merge.duplicate_id)).to_json_string();
        let contacts: Vec<Uuid> = tx
            .query(
                "SELECT f.record_id FROM field_state f
                 JOIN records r ON r.record_id = f.record_id
                 WHERE r.team_id = $1 AND r.entity = 'contact' AND f.field = 'client_id'
                   AND f.value = $2 ORDER BY f.record_id",
                &[&merge.team_id, &on_duplicate],
            )
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let writes = merge_writes(merge.survivor_id, merge.duplicate_id, &contacts);
        let changes =
            write_planned(&tx, merge.team_id, &writes, merge.merged_by, merge.now).await?;
        let contact_ids = serde_json::to_string(&contacts)
            .map_err(|err| ServerError::CorruptData(err.to_string()))?;
        execute(
            &tx,
            "INSERT INTO duplicate_merges (id, team_id, survivor_id, duplicate_id, contact_ids,
                 merged_by, merged_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &merge.id,
                &merge.team_id,
                &merge.survivor_id,
                &merge.duplicate_id,
                &contact_ids,
                &merge.merged_by,
                &to_ms(merge.now),
            ],
        )
        .await?;
        let stored = load_merge(&*tx, merge.team_id, merge.id)
            .await?
            .ok_or(ServerError::UnknownMerge(merge.id))?;
        privacy::append_audits(&tx, &merge_audit_entries(merge.team_id, &stored, false)?).await?;
        tx.commit().await?;
        Ok((stored, changes))
    }

    async fn list_merges(&self, team_id: Uuid) -> Result<Vec<DuplicateMerge>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "SELECT {MERGE_COLUMNS} FROM duplicate_merges WHERE team_id = $1
                     ORDER BY merged_ms DESC, id DESC"
                ),
                &[&team_id],
            )
            .await?
            .iter()
            .map(merge_from_row)
            .collect()
    }

    async fn undo_merge(
        &self,
        team_id: Uuid,
        merge_id: Uuid,
        undone_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(DuplicateMerge, Vec<PulledChange>), ServerError> {
        let mut client = self.client().await?;
        let tx = begin_seq_writer(&mut client).await?;
        let merge = load_merge(&*tx, team_id, merge_id)
            .await?
            .ok_or(ServerError::UnknownMerge(merge_id))?;
        let merged_into =
            client_field(&tx, Entity::Client, "merged_into", merge.duplicate_id).await?;
        let mut contacts_now = Vec::with_capacity(merge.contact_ids.len());
        for &contact in &merge.contact_ids {
            contacts_now.push(client_field(&tx, Entity::Contact, "client_id", contact).await?);
        }
        check_undoable(&merge, merged_into.as_ref(), &contacts_now)?;
        let changes = write_planned(&tx, team_id, &undo_writes(&merge), undone_by, now).await?;
        execute(
            &tx,
            "UPDATE duplicate_merges SET undone_by = $1, undone_ms = $2 WHERE id = $3",
            &[&undone_by, &to_ms(now), &merge_id],
        )
        .await?;
        let undone = load_merge(&*tx, team_id, merge_id)
            .await?
            .ok_or(ServerError::UnknownMerge(merge_id))?;
        privacy::append_audits(&tx, &merge_audit_entries(team_id, &undone, true)?).await?;
        tx.commit().await?;
        Ok((undone, changes))
    }

    async fn dismiss_duplicate(
        &self,
        team_id: Uuid,
        pair: (Uuid, Uuid),
        dismissed_by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        let mut client = self.client().await?;
        // READ COMMITTED like every audit writer: the chain's last entry is read after the
        // audit lock is taken.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .await?;
        require_client(&tx, team_id, pair.0).await?;
        require_client(&tx, team_id, pair.1).await?;
        let inserted = execute(
            &tx,
            "INSERT INTO duplicate_dismissals (team_id, first_id, second_id, dismissed_by,
                 dismissed_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&team_id, &pair.0, &pair.1, &dismissed_by, &to_ms(now)],
        )
        .await?;
        // A repeated dismissal changes nothing, so it adds no entry either.
        if inserted > 0 {
            privacy::append_audits(
                &tx,
                &dismiss_audit_entries(team_id, pair, dismissed_by, now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn dismissed_duplicates(&self, team_id: Uuid) -> Result<Vec<(Uuid, Uuid)>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT first_id, second_id FROM duplicate_dismissals WHERE team_id = $1",
                &[&team_id],
            )
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    async fn report_data(&self, team_id: Uuid) -> Result<ReportData, ServerError> {
        let client = self.client().await?;
        let mut data = ReportData::new();
        for row in client.query(&report_values_query(), &[&team_id]).await? {
            let entity = Entity::parse(row.try_get(0)?)
                .map_err(|err| ServerError::CorruptData(err.to_string()))?;
            let record_id = RecordId::from_uuid(row.try_get(1)?);
            data.add_value(entity, record_id, row.try_get(2)?, row.try_get(3)?)
                .map_err(report_error)?;
        }
        for row in client.query(&report_history_query(), &[&team_id]).await? {
            let record_id = RecordId::from_uuid(row.try_get(0)?);
            data.add_history(record_id, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)
                .map_err(report_error)?;
        }
        Ok(data)
    }
}
