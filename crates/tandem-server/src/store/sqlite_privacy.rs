//! Erasure, retention, export and the audit log on SQLite (see `store/privacy.rs`).
//!
//! The connection runs with `PRAGMA secure_delete = ON`, so the pages an erasure frees are
//! overwritten with zeros, and after an erasure the WAL is checkpointed and truncated, so
//! the erased values survive in neither file.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tandem_protocol::{ClientExport, ExportedValue, PulledPurge};
use uuid::Uuid;

use super::{SqliteStore, json, next_seq, seq, uuid};
use crate::ServerError;
use crate::audit::{AuditAction, AuditActor, GENESIS_HASH, NewAuditEntry, StoredAuditEntry};
use crate::clock::{from_ms, to_ms};
use crate::retention::last_activity;
use crate::store::privacy::{
    AuditFilter, ErasedRecord, ErasureReason, ErasureRequest, PrivacyStore, RetentionFacts,
    erasure_audit_entries, export_audit_detail, exported_ids, stored_link,
};

/// Appends an audit entry in the caller's transaction (which holds the write lock, so the
/// chain has one order).
pub(super) fn append_audit(conn: &Connection, entry: &NewAuditEntry) -> Result<(), ServerError> {
    let (last_seq, last_hash) = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_owned()));
    let stored = entry.sealed(seq(last_seq) + 1, &last_hash);
    conn.execute(
        "INSERT INTO audit_log (seq, at_ms, actor, action, team_id, entity, record_id, detail,
             prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            stored.seq as i64,
            stored.at_ms,
            stored.actor,
            stored.action,
            stored.team_id.map(|t| t.to_string()),
            stored.entity,
            stored.record_id.map(|r| r.to_string()),
            stored.detail,
            stored.prev_hash,
            stored.hash,
        ],
    )?;
    Ok(())
}

/// A record's entity and team.
fn record_owner(conn: &Connection, record_id: Uuid) -> Result<Option<(String, Uuid)>, ServerError> {
    conn.query_row(
        "SELECT entity, team_id FROM records WHERE record_id = ?1",
        [record_id.to_string()],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
    )
    .optional()?
    .map(|(entity, team)| Ok((entity, uuid(&team)?)))
    .transpose()
}

/// The records linking to `record_id` (contacts of a client, clients merged into it).
fn linking_records(conn: &Connection, record_id: Uuid) -> Result<Vec<Uuid>, ServerError> {
    links_to(
        conn,
        "SELECT record_id FROM field_state
         WHERE field IN ('client_id', 'merged_into') AND value = ?1",
        record_id,
    )
}

/// The record ids `sql` returns for `?1`, `record_id` as a link stores it (JSON text: the
/// quoted id).
fn links_to(conn: &Connection, sql: &str, record_id: Uuid) -> Result<Vec<Uuid>, ServerError> {
    let value = serde_json::Value::String(record_id.to_string()).to_string();
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([value], |row| row.get::<_, String>(0))?;
    rows.map(|row| uuid(&row?)).collect()
}

/// The client checked against the caller's team, as an unknown record when it is not one.
fn client_in_scope(
    conn: &Connection,
    client_id: Uuid,
    team_id: Option<Uuid>,
) -> Result<Uuid, ServerError> {
    match record_owner(conn, client_id)? {
        Some((entity, team)) if entity == "client" && team_id.is_none_or(|t| t == team) => Ok(team),
        _ => Err(ServerError::UnknownRecord(client_id)),
    }
}

/// One client's retention facts, read in the caller's transaction (the queries of
/// `retention_facts`, for one client).
fn client_retention_facts(
    conn: &Connection,
    client_id: Uuid,
) -> Result<RetentionFacts, ServerError> {
    let id = client_id.to_string();
    let last_change_ms = conn.query_row(
        "SELECT COALESCE(MAX(recorded_ms), 0) FROM field_state WHERE record_id = ?1",
        [&id],
        |row| row.get::<_, i64>(0),
    )?;
    let mut contacts = conn.prepare(
        "SELECT occurred.value, COALESCE(occurred.recorded_ms, MAX(f.recorded_ms))
         FROM field_state link
         JOIN records r ON r.record_id = link.record_id AND r.entity = 'contact'
         LEFT JOIN field_state occurred
             ON occurred.record_id = link.record_id AND occurred.field = 'occurred_at'
         JOIN field_state f ON f.record_id = link.record_id
         WHERE link.field = 'client_id' AND link.value = ?1 GROUP BY link.record_id",
    )?;
    let link = serde_json::Value::String(id).to_string();
    let contacts = contacts
        .query_map([link], |row| {
            Ok((row.get::<_, Option<String>>(0)?, row.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RetentionFacts {
        client_id,
        merged_into: merged_into(conn, client_id)?,
        last_change_ms,
        contacts,
    })
}

/// The client `client_id` was merged into, as its `merged_into` stands.
fn merged_into(conn: &Connection, client_id: Uuid) -> Result<Option<Uuid>, ServerError> {
    let value = conn
        .query_row(
            "SELECT value FROM field_state WHERE record_id = ?1 AND field = 'merged_into'",
            [client_id.to_string()],
            |row| row.get::<_, String>(0),
        )
        .optional()?;
    stored_link(value.as_deref())
}

/// The clients whose `merged_into` names a client. The field is named twice: `field = 'merged_into'` is what is asked, the `IN` repeats the
/// condition of the partial index `field_state_links` word for word, which is how SQLite
/// knows that index holds every row asked for (it does not derive one from the other).
const DUPLICATES_OF: &str = "SELECT link.record_id FROM field_state link
    JOIN records r ON r.record_id = link.record_id AND r.entity = 'client'
    WHERE link.field IN ('client_id', 'merged_into') AND link.field = 'merged_into'
        AND link.value = ?1";

/// The clients merged into `client_id`, as their `merged_into` stands (one query).
fn duplicates_of(conn: &Connection, client_id: Uuid) -> Result<Vec<Uuid>, ServerError> {
    links_to(conn, DUPLICATES_OF, client_id)
}

/// The retention facts of the person `client_id` is, read in the caller's transaction: the
/// client's own and those of every client merged into it, directly or through another.
/// `None` when it is no client (gone), or was merged into a client that is there: then it is
/// that client's and goes with it.
fn person_retention_facts(
    conn: &Connection,
    client_id: Uuid,
) -> Result<Option<Vec<RetentionFacts>>, ServerError> {
    let is_client = |id: Uuid| {
        Ok::<_, ServerError>(record_owner(conn, id)?.is_some_and(|(e, _)| e == "client"))
    };
    if !is_client(client_id)? {
        return Ok(None);
    }
    let own = client_retention_facts(conn, client_id)?;
    if let Some(into) = own.merged_into
        && is_client(into)?
    {
        return Ok(None);
    }
    let mut person = vec![own];
    let mut queue = vec![client_id];
    while let Some(client) = queue.pop() {
        for duplicate in duplicates_of(conn, client)? {
            if person.iter().all(|facts| facts.client_id != duplicate) {
                person.push(client_retention_facts(conn, duplicate)?);
                queue.push(duplicate);
            }
        }
    }
    Ok(Some(person))
}

fn erase_blocking(
    conn: &mut Connection,
    request: &ErasureRequest,
) -> Result<Vec<PulledPurge>, ServerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Each record with the client asked for whose erasure reaches it.
    let mut queue = Vec::new();
    for client in &request.clients {
        if let ErasureReason::Retention { cutoff } = request.reason {
            // Judged again on what the transaction sees: a client met again since the facts
            // were read stays, and so does its new contact; a client merged into another
            // since goes only with that one.
            let still_due = person_retention_facts(&tx, *client)?
                .is_some_and(|person| last_activity(&person, request.now) < cutoff);
            if !still_due {
                continue;
            }
        } else {
            client_in_scope(&tx, *client, request.team_id)?;
        }
        queue.push((*client, *client));
    }
    let now_ms = to_ms(request.now);
    // Taken before anything is deleted: the erased rows may hold the largest seqs, and a
    // purge must come after every seq a device may have pulled.
    let mut purge_seq = next_seq(&tx)?;
    let mut erased: Vec<ErasedRecord> = Vec::new();
    while let Some((record_id, asked)) = queue.pop() {
        if erased.iter().any(|r| r.purge.record_id == record_id) {
            continue;
        }
        let Some((entity, team)) = record_owner(&tx, record_id)? else {
            continue;
        };
        // A team's erasure stays in the team: the transaction is dropped, nothing erased.
        if request.team_id.is_some_and(|own| own != team) {
            return Err(ServerError::LinkedFromOtherTeam { client: asked });
        }
        queue.extend(
            linking_records(&tx, record_id)?
                .into_iter()
                .map(|linked| (linked, asked)),
        );
        let id = record_id.to_string();
        tx.execute(
            "DELETE FROM applied_changes WHERE change_id IN
                 (SELECT change_id FROM change_log WHERE record_id = ?1)",
            [&id],
        )?;
        // Duplicate merges and dismissals name the client (ids only); they go with it.
        tx.execute(
            "DELETE FROM duplicate_merges WHERE survivor_id = ?1 OR duplicate_id = ?1",
            [&id],
        )?;
        tx.execute(
            "DELETE FROM duplicate_dismissals WHERE first_id = ?1 OR second_id = ?1",
            [&id],
        )?;
        for table in ["change_log", "field_state", "conflicts", "records"] {
            tx.execute(&format!("DELETE FROM {table} WHERE record_id = ?1"), [&id])?;
        }
        tx.execute(
            "INSERT INTO purges (seq, team_id, entity, record_id, purged_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![purge_seq, team.to_string(), entity, id, now_ms],
        )?;
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
    for entry in erasure_audit_entries(request, &erased) {
        append_audit(&tx, &entry)?;
    }
    tx.commit()?;
    // The freed pages are zeroed (secure_delete); the WAL still holds the frames written
    // before, so it is copied back and truncated now. A reader of another instance can
    // keep the checkpoint from finishing; it then completes at the next one.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let mut records: Vec<PulledPurge> = erased.into_iter().map(|r| r.purge).collect();
    records.sort_by_key(|p| p.seq);
    Ok(records)
}

fn current_fields(
    conn: &Connection,
    record_id: Uuid,
) -> Result<serde_json::Map<String, serde_json::Value>, ServerError> {
    let mut stmt =
        conn.prepare("SELECT field, value FROM field_state WHERE record_id = ?1 ORDER BY field")?;
    let rows = stmt.query_map([record_id.to_string()], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut fields = serde_json::Map::new();
    fields.insert(
        "record_id".to_owned(),
        serde_json::Value::String(record_id.to_string()),
    );
    for row in rows {
        let (field, value) = row?;
        fields.insert(field, json(&value)?);
    }
    Ok(fields)
}

fn history(
    conn: &Connection,
    entity: &str,
    record_id: Uuid,
) -> Result<Vec<ExportedValue>, ServerError> {
    let mut stmt = conn.prepare(
        "SELECT field, value, seq, effective, author_id, recorded_ms FROM change_log
         WHERE record_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([record_id.to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, bool>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (field, value, s, effective, author, recorded_ms) = row?;
        Ok(ExportedValue {
            entity: entity.to_owned(),
            record_id,
            field,
            value: json(&value)?,
            seq: seq(s),
            effective,
            author_id: uuid(&author)?,
            recorded_at: from_ms(recorded_ms),
        })
    })
    .collect()
}

/// The team's records an export of `client_id` gives, in one query: the person (`?1`, and
/// the team's clients merged into it, directly or into one of them; `UNION` stops at a
/// client met twice), then every record of the team linking to one of them (the clients
/// merged into them and their contacts). A record of another team that names one of them is
/// that team's, which this team may not read; a client of another team merged into one of
/// them is not followed. The `IN` repeats the condition of the partial index
/// `field_state_links` (see [`DUPLICATES_OF`]); a link is JSON text, the quoted id. `CROSS
/// JOIN` keeps `person` the outer loop, so each of its clients is one search of the index by
/// field and value (left to itself the planner searched by field alone: every link).
const EXPORTED_RECORDS: &str = "WITH RECURSIVE person (record_id) AS (
        SELECT ?1
        UNION
        SELECT link.record_id FROM person CROSS JOIN field_state link
        JOIN records r ON r.record_id = link.record_id AND r.entity = 'client'
            AND r.team_id = ?2
        WHERE link.field IN ('client_id', 'merged_into')
            AND link.value = '\"' || person.record_id || '\"'
    )
    SELECT r.record_id, r.entity FROM person CROSS JOIN field_state link
    JOIN records r ON r.record_id = link.record_id AND r.team_id = ?2
    WHERE link.field IN ('client_id', 'merged_into')
        AND link.value = '\"' || person.record_id || '\"'";

/// The team's records an export of `client_id` gives besides the client itself: the clients
/// merged into it (directly, or into one of them) and the contacts of all of these, each
/// in id order ([`EXPORTED_RECORDS`], one query).
fn exported_records(
    conn: &Connection,
    client_id: Uuid,
    team_id: Uuid,
) -> Result<(Vec<Uuid>, Vec<Uuid>), ServerError> {
    let mut stmt = conn.prepare_cached(EXPORTED_RECORDS)?;
    let rows = stmt
        .query_map(params![client_id.to_string(), team_id.to_string()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .map(|row| {
            let (id, entity) = row?;
            Ok((uuid(&id)?, entity))
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
    Ok(exported_ids(client_id, rows))
}

fn export_blocking(
    conn: &mut Connection,
    team_id: Uuid,
    client_id: Uuid,
    actor: AuditActor,
    now: DateTime<Utc>,
) -> Result<ClientExport, ServerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    client_in_scope(&tx, client_id, Some(team_id))?;
    let (merged_ids, contact_ids) = exported_records(&tx, client_id, team_id)?;
    let mut records = vec![("client", client_id)];
    records.extend(merged_ids.iter().map(|id| ("client", *id)));
    records.extend(contact_ids.iter().map(|id| ("contact", *id)));
    let mut all_history = Vec::new();
    for (entity, record_id) in &records {
        all_history.extend(history(&tx, entity, *record_id)?);
    }
    all_history.sort_by_key(|value| value.seq);
    let fields_of = |ids: &[Uuid]| -> Result<Vec<_>, ServerError> {
        ids.iter().map(|id| current_fields(&tx, *id)).collect()
    };
    let export = ClientExport {
        client_id,
        exported_at: now,
        client: current_fields(&tx, client_id)?,
        merged_clients: fields_of(&merged_ids)?,
        contacts: fields_of(&contact_ids)?,
        history: all_history,
    };
    append_audit(
        &tx,
        &NewAuditEntry {
            at: now,
            actor,
            action: AuditAction::Export,
            team_id: Some(team_id),
            entity: Some("client".to_owned()),
            record_id: Some(client_id),
            detail: export_audit_detail(&export),
        },
    )?;
    tx.commit()?;
    Ok(export)
}

fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredAuditEntry, ServerError>> {
    let s: i64 = row.get(0)?;
    let at_ms: i64 = row.get(1)?;
    let actor: String = row.get(2)?;
    let action: String = row.get(3)?;
    let team: Option<String> = row.get(4)?;
    let entity: Option<String> = row.get(5)?;
    let record: Option<String> = row.get(6)?;
    let detail: String = row.get(7)?;
    let prev_hash: String = row.get(8)?;
    let hash: String = row.get(9)?;
    Ok((|| {
        Ok(StoredAuditEntry {
            seq: seq(s),
            at_ms,
            actor,
            action,
            team_id: team.as_deref().map(uuid).transpose()?,
            entity,
            record_id: record.as_deref().map(uuid).transpose()?,
            detail,
            prev_hash,
            hash,
        })
    })())
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn erase_clients(
        &self,
        request: ErasureRequest,
    ) -> Result<Vec<PulledPurge>, ServerError> {
        self.run(move |conn| erase_blocking(conn, &request)).await
    }

    async fn retention_facts(&self) -> Result<Vec<RetentionFacts>, ServerError> {
        self.run(|conn| {
            let mut facts: BTreeMap<Uuid, RetentionFacts> = BTreeMap::new();
            let mut clients = conn.prepare(
                "SELECT r.record_id, COALESCE(MAX(f.recorded_ms), 0), merged.value
                 FROM records r
                 LEFT JOIN field_state f ON f.record_id = r.record_id
                 LEFT JOIN field_state merged
                     ON merged.record_id = r.record_id AND merged.field = 'merged_into'
                 WHERE r.entity = 'client' GROUP BY r.record_id",
            )?;
            for row in clients.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })? {
                let (id, last_change_ms, merged) = row?;
                let client_id = uuid(&id)?;
                facts.insert(
                    client_id,
                    RetentionFacts {
                        client_id,
                        merged_into: stored_link(merged.as_deref())?,
                        last_change_ms,
                        contacts: Vec::new(),
                    },
                );
            }
            let mut contacts = conn.prepare(
                "SELECT link.value, occurred.value,
                     COALESCE(occurred.recorded_ms, MAX(f.recorded_ms))
                 FROM records r
                 JOIN field_state link ON link.record_id = r.record_id AND link.field = 'client_id'
                 LEFT JOIN field_state occurred
                     ON occurred.record_id = r.record_id AND occurred.field = 'occurred_at'
                 JOIN field_state f ON f.record_id = r.record_id
                 WHERE r.entity = 'contact' GROUP BY r.record_id",
            )?;
            for row in contacts.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })? {
                let (link, occurred, stored_ms) = row?;
                let Some(client) = json(&link)?
                    .as_str()
                    .and_then(|text| Uuid::parse_str(text).ok())
                else {
                    continue;
                };
                if let Some(entry) = facts.get_mut(&client) {
                    entry.contacts.push((occurred, stored_ms));
                }
            }
            Ok(facts.into_values().collect())
        })
        .await
    }

    async fn export_client(
        &self,
        team_id: Uuid,
        client_id: Uuid,
        actor: AuditActor,
        now: DateTime<Utc>,
    ) -> Result<ClientExport, ServerError> {
        self.run(move |conn| export_blocking(conn, team_id, client_id, actor, now))
            .await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), ServerError> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_audit(&tx, &entry)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
    ) -> Result<Vec<StoredAuditEntry>, ServerError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT seq, at_ms, actor, action, team_id, entity, record_id, detail, prev_hash,
                     hash
                 FROM audit_log WHERE seq > ?1 AND (?2 IS NULL OR team_id = ?2)
                     AND (?3 IS NULL OR record_id = ?3)
                 ORDER BY seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(
                params![
                    i64::try_from(filter.after).unwrap_or(i64::MAX),
                    filter.team_id.map(|t| t.to_string()),
                    filter.record_id.map(|r| r.to_string()),
                    i64::from(filter.limit) + 1
                ],
                audit_row,
            )?;
            rows.map(|row| row?).collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ServerStore;

    /// The steps of SQLite's plan for `sql` on a migrated store, `params` bound.
    async fn query_plan(sql: &str, params: &[&str]) -> Vec<String> {
        let store = SqliteStore::open_in_memory().unwrap();
        store.migrate().await.unwrap();
        let conn = store.lock();
        conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(params), |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[tokio::test]
    async fn the_duplicates_of_a_client_are_found_through_the_link_index() {
        let plan = query_plan(DUPLICATES_OF, &["\"x\""]).await;
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX field_state_links")),
            "{plan:?}"
        );
    }

    #[tokio::test]
    async fn an_exports_records_are_found_through_the_link_index_without_a_scan() {
        let plan = query_plan(EXPORTED_RECORDS, &["x", "y"]).await;
        let links = plan
            .iter()
            .filter(|step| step.contains("USING INDEX field_state_links (field=? AND value=?)"))
            .count();
        assert_eq!(
            links, 2,
            "the person's clients, then what links to them: {plan:?}"
        );
        assert!(
            !plan
                .iter()
                .any(|step| step.starts_with("SCAN link") || step.starts_with("SCAN r")),
            "{plan:?}"
        );
    }
}
