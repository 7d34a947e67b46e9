//! Erasure, retention, export and the audit log on PostgreSQL (see `store/privacy.rs`).
//!
//! An erasure takes the seq lock (its purge rows take seqs); every audit append takes
//! [`AUDIT_LOCK_KEY`] so that the chain has one order across instances. Deleted rows stay on
//! disk as dead tuples until (auto)vacuum reclaims them; docs/security.md says so.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tandem_protocol::{ClientExport, ExportedValue, PulledPurge};
use tokio_postgres::IsolationLevel;
use uuid::Uuid;

use super::{
    AUDIT_LOCK_KEY, PostgresStore, begin_seq_writer, db_int, execute, json, next_seq, query_opt,
    seq,
};
use crate::ServerError;
use crate::audit::{AuditAction, AuditActor, GENESIS_HASH, NewAuditEntry, StoredAuditEntry};
use crate::clock::{from_ms, to_ms};
use crate::retention::last_activity;
use crate::store::privacy::{
    AuditFilter, ErasedRecord, ErasureReason, ErasureRequest, PrivacyStore, RetentionFacts,
    erasure_audit_entries, export_audit_detail, exported_ids, stored_link,
};

/// Appends an audit entry in the caller's transaction, under the audit lock.
pub(super) async fn append_audit(
    tx: &Transaction<'_>,
    entry: &NewAuditEntry,
) -> Result<(), ServerError> {
    append_audits(tx, std::slice::from_ref(entry)).await
}

/// Appends audit entries in order, in the caller's transaction, under the audit lock: the
/// lock, the chain's last entry and the new rows take one round trip each.
pub(super) async fn append_audits(
    tx: &Transaction<'_>,
    entries: &[NewAuditEntry],
) -> Result<(), ServerError> {
    if entries.is_empty() {
        return Ok(());
    }
    execute(tx, "SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK_KEY]).await?;
    let (mut last_seq, mut last_hash) = match query_opt(
        tx,
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        &[],
    )
    .await?
    {
        Some(row) => (seq(row.try_get::<_, i64>(0)?), row.try_get::<_, String>(1)?),
        None => (0, GENESIS_HASH.to_owned()),
    };
    let mut rows = AuditRows::default();
    for entry in entries {
        let stored = entry.sealed(last_seq + 1, &last_hash);
        last_seq = stored.seq;
        last_hash.clone_from(&stored.hash);
        rows.push(stored);
    }
    execute(
        tx,
        "INSERT INTO audit_log (seq, at_ms, actor, action, team_id, entity, record_id, detail,
             prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::uuid[],
             $6::text[], $7::uuid[], $8::text[], $9::text[], $10::text[])",
        &[
            &rows.seq,
            &rows.at_ms,
            &rows.actor,
            &rows.action,
            &rows.team_id,
            &rows.entity,
            &rows.record_id,
            &rows.detail,
            &rows.prev_hash,
            &rows.hash,
        ],
    )
    .await?;
    Ok(())
}

/// Audit rows column by column (for `unnest`).
#[derive(Default)]
struct AuditRows {
    seq: Vec<i64>,
    at_ms: Vec<i64>,
    actor: Vec<String>,
    action: Vec<String>,
    team_id: Vec<Option<Uuid>>,
    entity: Vec<Option<String>>,
    record_id: Vec<Option<Uuid>>,
    detail: Vec<String>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl AuditRows {
    fn push(&mut self, entry: StoredAuditEntry) {
        self.seq.push(db_int(entry.seq));
        self.at_ms.push(entry.at_ms);
        self.actor.push(entry.actor);
        self.action.push(entry.action);
        self.team_id.push(entry.team_id);
        self.entity.push(entry.entity);
        self.record_id.push(entry.record_id);
        self.detail.push(entry.detail);
        self.prev_hash.push(entry.prev_hash);
        self.hash.push(entry.hash);
    }
}

async fn record_owner(
    tx: &Transaction<'_>,
    record_id: Uuid,
) -> Result<Option<(String, Uuid)>, ServerError> {
    match query_opt(
        tx,
        "SELECT entity, team_id FROM records WHERE record_id = $1",
        &[&record_id],
    )
    .await?
    {
        Some(row) => Ok(Some((row.try_get(0)?, row.try_get(1)?))),
        None => Ok(None),
    }
}

async fn linking_records(tx: &Transaction<'_>, record_id: Uuid) -> Result<Vec<Uuid>, ServerError> {
    links_to(
        tx,
        "SELECT record_id FROM field_state
         WHERE field IN ('client_id', 'merged_into') AND value = $1",
        record_id,
    )
    .await
}

/// The record ids `sql` returns for `$1`, `record_id` as a link stores it (JSON text: the
/// quoted id).
async fn links_to(
    tx: &Transaction<'_>,
    sql: &str,
    record_id: Uuid,
) -> Result<Vec<Uuid>, ServerError> {
    let value = serde_json::Value::String(record_id.to_string()).to_string();
    let statement = tx.prepare_cached(sql).await?;
    tx.query(&statement, &[&value])
        .await?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
}

async fn client_in_scope(
    tx: &Transaction<'_>,
    client_id: Uuid,
    team_id: Option<Uuid>,
) -> Result<Uuid, ServerError> {
    match record_owner(tx, client_id).await? {
        Some((entity, team)) if entity == "client" && team_id.is_none_or(|t| t == team) => Ok(team),
        _ => Err(ServerError::UnknownRecord(client_id)),
    }
}

/// One client's retention facts, read in the caller's transaction (the queries of
/// `retention_facts`, for one client).
async fn client_retention_facts(
    tx: &Transaction<'_>,
    client_id: Uuid,
) -> Result<RetentionFacts, ServerError> {
    let last_change_ms: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(recorded_ms), 0) FROM field_state WHERE record_id = $1",
            &[&client_id],
        )
        .await?
        .try_get(0)?;
    let link = serde_json::Value::String(client_id.to_string()).to_string();
    let contacts = tx
        .query(
            "SELECT occurred.value, COALESCE(occurred.recorded_ms, MAX(f.recorded_ms))
             FROM field_state link
             JOIN records r ON r.record_id = link.record_id AND r.entity = 'contact'
             LEFT JOIN field_state occurred
                 ON occurred.record_id = link.record_id AND occurred.field = 'occurred_at'
             JOIN field_state f ON f.record_id = link.record_id
             WHERE link.field = 'client_id' AND link.value = $1
             GROUP BY link.record_id, occurred.value, occurred.recorded_ms",
            &[&link],
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(RetentionFacts {
        client_id,
        merged_into: merged_into(tx, client_id).await?,
        last_change_ms,
        contacts,
    })
}

/// The client `client_id` was merged into, as its `merged_into` stands.
async fn merged_into(tx: &Transaction<'_>, client_id: Uuid) -> Result<Option<Uuid>, ServerError> {
    let value: Option<String> = query_opt(
        tx,
        "SELECT value FROM field_state WHERE record_id = $1 AND field = 'merged_into'",
        &[&client_id],
    )
    .await?
    .map(|row| row.try_get(0))
    .transpose()?;
    stored_link(value.as_deref())
}

/// The clients merged into `client_id`, as their `merged_into` stands, in one query through
/// the partial index `field_state_links` (the planner derives its condition from
/// `field = 'merged_into'`): the erasure's re-judging runs this under the seq lock, once per
/// client of the person, not once per contact.
async fn duplicates_of(tx: &Transaction<'_>, client_id: Uuid) -> Result<Vec<Uuid>, ServerError> {
    links_to(
        tx,
        "SELECT link.record_id FROM field_state link
         JOIN records r ON r.record_id = link.record_id AND r.entity = 'client'
         WHERE link.field = 'merged_into' AND link.value = $1",
        client_id,
    )
    .await
}

/// The retention facts of the person `client_id` is, read in the caller's transaction: the
/// client's own and those of every client merged into it, directly or through another.
/// `None` when it is no client (gone), or was merged into a client that is there: then it is
/// that client's and goes with it.
async fn person_retention_facts(
    tx: &Transaction<'_>,
    client_id: Uuid,
) -> Result<Option<Vec<RetentionFacts>>, ServerError> {
    let is_client = async |id: Uuid| {
        Ok::<_, ServerError>(
            record_owner(tx, id)
                .await?
                .is_some_and(|(entity, _)| entity == "client"),
        )
    };
    if !is_client(client_id).await? {
        return Ok(None);
    }
    let own = client_retention_facts(tx, client_id).await?;
    if let Some(into) = own.merged_into
        && is_client(into).await?
    {
        return Ok(None);
    }
    let mut person = vec![own];
    let mut queue = vec![client_id];
    while let Some(client) = queue.pop() {
        for duplicate in duplicates_of(tx, client).await? {
            if person.iter().all(|facts| facts.client_id != duplicate) {
                person.push(client_retention_facts(tx, duplicate).await?);
                queue.push(duplicate);
            }
        }
    }
    Ok(Some(person))
}

/// The team's records an export of `client_id` gives besides the client itself: the clients
/// merged into it (directly, or into one of them) and the contacts of all of these, each
/// in id order, in one query: the person (`$1`, and the team's clients merged into it,
/// directly or into one of them; `UNION` stops at a client met twice), then every record of
/// the team linking to one of them. A record of another team that names one of them is that
/// team's, which this team may not read; a client of another team merged into one of them is
/// not followed. A link is JSON text, the quoted id.
async fn exported_records(
    tx: &Transaction<'_>,
    client_id: Uuid,
    team_id: Uuid,
) -> Result<(Vec<Uuid>, Vec<Uuid>), ServerError> {
    let rows = tx
        .query(
            "WITH RECURSIVE person (record_id) AS (
                 SELECT $1::uuid
                 UNION
                 SELECT link.record_id FROM person
                 JOIN field_state link ON link.field IN ('client_id', 'merged_into')
                     AND link.value = '\"' || person.record_id::text || '\"'
                 JOIN records r ON r.record_id = link.record_id AND r.entity = 'client'
                     AND r.team_id = $2
             )
             SELECT r.record_id, r.entity FROM person
             JOIN field_state link ON link.field IN ('client_id', 'merged_into')
                 AND link.value = '\"' || person.record_id::text || '\"'
             JOIN records r ON r.record_id = link.record_id AND r.team_id = $2",
            &[&client_id, &team_id],
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<(Uuid, String)>, ServerError>>()?;
    Ok(exported_ids(client_id, rows))
}

async fn current_fields(
    tx: &Transaction<'_>,
    record_id: Uuid,
) -> Result<serde_json::Map<String, serde_json::Value>, ServerError> {
    let rows = tx
        .query(
            "SELECT field, value FROM field_state WHERE record_id = $1 ORDER BY field",
            &[&record_id],
        )
        .await?;
    let mut fields = serde_json::Map::new();
    fields.insert(
        "record_id".to_owned(),
        serde_json::Value::String(record_id.to_string()),
    );
    for row in rows {
        fields.insert(row.try_get(0)?, json(row.try_get(1)?)?);
    }
    Ok(fields)
}

async fn history(
    tx: &Transaction<'_>,
    entity: &str,
    record_id: Uuid,
) -> Result<Vec<ExportedValue>, ServerError> {
    tx.query(
        "SELECT field, value, seq, effective, author_id, recorded_ms FROM change_log
         WHERE record_id = $1 ORDER BY seq",
        &[&record_id],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ExportedValue {
            entity: entity.to_owned(),
            record_id,
            field: row.try_get(0)?,
            value: json(row.try_get(1)?)?,
            seq: seq(row.try_get(2)?),
            effective: row.try_get(3)?,
            author_id: row.try_get(4)?,
            recorded_at: from_ms(row.try_get(5)?),
        })
    })
    .collect()
}

fn audit_row(row: &tokio_postgres::Row) -> Result<StoredAuditEntry, ServerError> {
    Ok(StoredAuditEntry {
        seq: seq(row.try_get(0)?),
        at_ms: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        team_id: row.try_get(4)?,
        entity: row.try_get(5)?,
        record_id: row.try_get(6)?,
        detail: row.try_get(7)?,
        prev_hash: row.try_get(8)?,
        hash: row.try_get(9)?,
    })
}

#[async_trait]
impl PrivacyStore for PostgresStore {
    async fn erase_clients(
        &self,
        request: ErasureRequest,
    ) -> Result<Vec<PulledPurge>, ServerError> {
        let mut client = self.client().await?;
        let tx = begin_seq_writer(&mut client).await?;
        // Each record with the client asked for whose erasure reaches it.
        let mut queue = Vec::new();
        for client_id in &request.clients {
            if let ErasureReason::Retention { cutoff } = request.reason {
                // Judged again under the seq lock, which every push takes: a client met
                // again since the facts were read stays, and so does its new contact; a
                // client merged into another since goes only with that one.
                let still_due = person_retention_facts(&tx, *client_id)
                    .await?
                    .is_some_and(|person| last_activity(&person, request.now) < cutoff);
                if !still_due {
                    continue;
                }
            } else {
                client_in_scope(&tx, *client_id, request.team_id).await?;
            }
            queue.push((*client_id, *client_id));
        }
        let now_ms = to_ms(request.now);
        // Taken before anything is deleted: the erased rows may hold the largest seqs, and
        // a purge must come after every seq a device may have pulled.
        let mut purge_seq = next_seq(&tx).await?;
        let mut erased: Vec<ErasedRecord> = Vec::new();
        while let Some((record_id, asked)) = queue.pop() {
            if erased.iter().any(|r| r.purge.record_id == record_id) {
                continue;
            }
            let Some((entity, team)) = record_owner(&tx, record_id).await? else {
                continue;
            };
            // A team's erasure stays in the team: the transaction rolls back, nothing erased.
            if request.team_id.is_some_and(|own| own != team) {
                return Err(ServerError::LinkedFromOtherTeam { client: asked });
            }
            queue.extend(
                linking_records(&tx, record_id)
                    .await?
                    .into_iter()
                    .map(|linked| (linked, asked)),
            );
            execute(
                &tx,
                "DELETE FROM applied_changes WHERE change_id IN
                     (SELECT change_id FROM change_log WHERE record_id = $1)",
                &[&record_id],
            )
            .await?;
            // Duplicate merges and dismissals name the client (ids only); they go with it.
            for statement in [
                "DELETE FROM duplicate_merges WHERE survivor_id = $1 OR duplicate_id = $1",
                "DELETE FROM duplicate_dismissals WHERE first_id = $1 OR second_id = $1",
            ] {
                execute(&tx, statement, &[&record_id]).await?;
            }
            for table in ["change_log", "field_state", "conflicts", "records"] {
                execute(
                    &tx,
                    &format!("DELETE FROM {table} WHERE record_id = $1"),
                    &[&record_id],
                )
                .await?;
            }
            execute(
                &tx,
                "INSERT INTO purges (seq, team_id, entity, record_id, purged_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&purge_seq, &team, &entity, &record_id, &now_ms],
            )
            .await?;
            erased.push(ErasedRecord {
                team_id: team,
                asked,
                purge: PulledPurge {
                    seq: seq(purge_seq),
                    entity,
                    record_id,
                },
            });
            purge_seq += 1;
        }
        append_audits(&tx, &erasure_audit_entries(&request, &erased)).await?;
        tx.commit().await?;
        let mut records: Vec<PulledPurge> = erased.into_iter().map(|r| r.purge).collect();
        records.sort_by_key(|p| p.seq);
        Ok(records)
    }

    async fn retention_facts(&self) -> Result<Vec<RetentionFacts>, ServerError> {
        let client = self.client().await?;
        let mut facts: BTreeMap<Uuid, RetentionFacts> = BTreeMap::new();
        for row in client
            .query(
                "SELECT r.record_id, COALESCE(MAX(f.recorded_ms), 0), merged.value
                 FROM records r
                 LEFT JOIN field_state f ON f.record_id = r.record_id
                 LEFT JOIN field_state merged
                     ON merged.record_id = r.record_id AND merged.field = 'merged_into'
                 WHERE r.entity = 'client' GROUP BY r.record_id, merged.value",
                &[],
            )
            .await?
        {
            let client_id: Uuid = row.try_get(0)?;
            let merged: Option<String> = row.try_get(2)?;
            facts.insert(
                client_id,
                RetentionFacts {
                    client_id,
                    merged_into: stored_link(merged.as_deref())?,
                    last_change_ms: row.try_get(1)?,
                    contacts: Vec::new(),
                },
            );
        }
        for row in client
            .query(
                "SELECT link.value, occurred.value,
                     COALESCE(occurred.recorded_ms, MAX(f.recorded_ms))
                 FROM records r
                 JOIN field_state link ON link.record_id = r.record_id AND link.field = 'client_id'
                 LEFT JOIN field_state occurred
                     ON occurred.record_id = r.record_id AND occurred.field = 'occurred_at'
                 JOIN field_state f ON f.record_id = r.record_id
                 WHERE r.entity = 'contact'
                 GROUP BY r.record_id, link.value, occurred.value, occurred.recorded_ms",
                &[],
            )
            .await?
        {
            let link: String = row.try_get(0)?;
            let Some(client_id) = json(&link)?
                .as_str()
                .and_then(|text| Uuid::parse_str(text).ok())
            else {
                continue;
            };
            if let Some(entry) = facts.get_mut(&client_id) {
                entry.contacts.push((row.try_get(1)?, row.try_get(2)?));
            }
        }
        Ok(facts.into_values().collect())
    }

    async fn export_client(
        &self,
        team_id: Uuid,
        client_id: Uuid,
        actor: AuditActor,
        now: DateTime<Utc>,
    ) -> Result<ClientExport, ServerError> {
        let mut client = self.client().await?;
        // Every read of the export in one snapshot: under READ COMMITTED each statement saw
        // the commits made before it, so a push landing between two reads could give a
        // history its current values (read before) do not match, or a contact's history
        // without the contact.
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        client_in_scope(&tx, client_id, Some(team_id)).await?;
        let (merged_ids, contact_ids) = exported_records(&tx, client_id, team_id).await?;
        let mut all_history = history(&tx, "client", client_id).await?;
        let mut merged_clients = Vec::new();
        for id in &merged_ids {
            all_history.extend(history(&tx, "client", *id).await?);
            merged_clients.push(current_fields(&tx, *id).await?);
        }
        let mut contacts = Vec::new();
        for id in &contact_ids {
            all_history.extend(history(&tx, "contact", *id).await?);
            contacts.push(current_fields(&tx, *id).await?);
        }
        all_history.sort_by_key(|value| value.seq);
        let export = ClientExport {
            client_id,
            exported_at: now,
            client: current_fields(&tx, client_id).await?,
            merged_clients,
            contacts,
            history: all_history,
        };
        tx.commit().await?;
        // The audit entry in a transaction of its own, READ COMMITTED like every audit
        // writer (the chain's last entry must be read after the audit lock is taken, never
        // from the export's older snapshot). The export is answered only once its entry is
        // committed, so none leaves the server unrecorded.
        let audit = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .await?;
        append_audit(
            &audit,
            &NewAuditEntry {
                at: now,
                actor,
                action: AuditAction::Export,
                team_id: Some(team_id),
                entity: Some("client".to_owned()),
                record_id: Some(client_id),
                detail: export_audit_detail(&export),
            },
        )
        .await?;
        audit.commit().await?;
        Ok(export)
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), ServerError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .await?;
        append_audit(&tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
    ) -> Result<Vec<StoredAuditEntry>, ServerError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT seq, at_ms, actor, action, team_id, entity, record_id, detail, prev_hash,
                     hash
                 FROM audit_log WHERE seq > $1 AND ($2::uuid IS NULL OR team_id = $2)
                     AND ($3::uuid IS NULL OR record_id = $3)
                 ORDER BY seq LIMIT $4",
                &[
                    &db_int(filter.after),
                    &filter.team_id,
                    &filter.record_id,
                    &(i64::from(filter.limit) + 1),
                ],
            )
            .await?
            .iter()
            .map(audit_row)
            .collect()
    }
}
