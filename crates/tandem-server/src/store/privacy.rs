//! The store's part of erasure, retention, the access export and the audit log, behind one
//! trait that both backends implement (`sqlite_privacy.rs`, `postgres_privacy.rs`).
//!
//! Erasure and the retention purge are one operation, [`PrivacyStore::erase_clients`]: in
//! one transaction it removes every value of the clients, their contacts and the clients
//! merged into them from the field state, the change log (history and pull feed), the
//! conflicts and the applied-change answers; it writes one `purges` row per record, with a
//! seq from the change log's sequence, which devices pull and act on; and it appends the
//! audit entries.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tandem_protocol::{ClientExport, DuplicateMerge, PulledPurge};
use uuid::Uuid;

use crate::ServerError;
use crate::audit::{AuditAction, AuditActor, NewAuditEntry, StoredAuditEntry};
use crate::push::ValidChange;
use crate::store::PushContext;

/// Why records are erased; decides the audit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// A subject's request, by a team lead or an operator: one `erase` entry per client and
    /// per team the erasure touches (the client's own team first, then each team that had a
    /// record linked to it, whose entry names only its own records).
    Request,
    /// The retention period passed: one `purge` entry per team with the count and the
    /// record ids. The clients were found due by facts read before the erasure; the erasure
    /// judges each again in its own transaction (at the request's `now`), as a person with
    /// the clients merged into it (`retention::last_activity`), and leaves those last active
    /// at or after `cutoff` by then (a contact pushed in between), erased meanwhile, or merged into another client
    /// (a duplicate goes only with the client it was merged into).
    Retention {
        /// Clients last active before this are due.
        cutoff: DateTime<Utc>,
    },
}

/// What to erase.
#[derive(Debug, Clone)]
pub struct ErasureRequest {
    /// The clients.
    pub clients: Vec<Uuid>,
    /// Only clients of this team (a team lead's request); `None` for an operator or admin.
    pub team_id: Option<Uuid>,
    /// Who asks.
    pub actor: AuditActor,
    /// Why.
    pub reason: ErasureReason,
    /// When.
    pub now: DateTime<Utc>,
}

/// A client as retention judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionFacts {
    /// The client.
    pub client_id: Uuid,
    /// The client it was merged into, as `merged_into` stands (`None` when never merged, or
    /// the merge was undone).
    pub merged_into: Option<Uuid>,
    /// The last time the server received a write of one of its fields (Unix ms).
    pub last_change_ms: i64,
    /// Its contacts: each one's `occurred_at` value (JSON text), with the time the server
    /// stored that value (Unix ms; the field's `recorded_ms`), which retention counts instead
    /// when it is earlier; for a contact without `occurred_at`, `None` with the last time the
    /// contact was written.
    pub contacts: Vec<(Option<String>, i64)>,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries after this seq.
    pub after: u64,
    /// At most this many (the backend reads one more to tell whether more wait).
    pub limit: u32,
    /// Only this team's entries (a team lead); `None` for every entry.
    pub team_id: Option<Uuid>,
    /// Only entries about this record.
    pub record_id: Option<Uuid>,
}

/// Erasure, retention, export and audit storage.
#[async_trait]
pub trait PrivacyStore {
    /// Erases the clients and everything linked to them (see the module comment). A client
    /// that does not exist, or not in `team_id`, is [`ServerError::UnknownRecord`], and one
    /// that a record of another team than `team_id` links to is
    /// [`ServerError::LinkedFromOtherTeam`]; then nothing is erased. For retention a client
    /// that is gone, or no longer due by the facts read in the erasure's transaction, is
    /// left out instead (see [`ErasureReason::Retention`]). Returns every record removed.
    async fn erase_clients(&self, request: ErasureRequest)
    -> Result<Vec<PulledPurge>, ServerError>;

    /// Every client, with what retention needs to decide about it.
    async fn retention_facts(&self) -> Result<Vec<RetentionFacts>, ServerError>;

    /// One client's data for a subject-access request, read in one snapshot: the client, the
    /// duplicates merged into it (as erasure follows them), the contacts of all of them and
    /// their history (only the team's records: a record of another team naming one of them
    /// is left out), and its `export`
    /// audit entry, committed before the export is returned (SQLite: in the same
    /// transaction; PostgreSQL: the reads in a REPEATABLE READ READ ONLY transaction, the
    /// entry after it). [`ServerError::UnknownRecord`] when it is not a client of `team_id`.
    async fn export_client(
        &self,
        team_id: Uuid,
        client_id: Uuid,
        actor: AuditActor,
        now: DateTime<Utc>,
    ) -> Result<ClientExport, ServerError>;

    /// Appends one entry on its own (a login, a read).
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), ServerError>;

    /// Audit entries in seq order, at most `filter.limit + 1`.
    async fn audit_entries(
        &self,
        filter: AuditFilter,
    ) -> Result<Vec<StoredAuditEntry>, ServerError>;
}

/// A record an erasure removed.
#[derive(Debug, Clone)]
pub(crate) struct ErasedRecord {
    /// The record's team.
    pub team_id: Uuid,
    /// The client asked for whose erasure reached it.
    pub asked: Uuid,
    /// Its purge row.
    pub purge: PulledPurge,
}

/// The audit entries of an erasure, in the order they are appended: for a request one
/// `erase` entry per client and team touched, for retention one `purge` entry per team; each
/// names by id the records of its own team removed, and nothing else. A team lead sees only
/// the entries of the team (an erasure across teams by an admin or the operator reaches a
/// contact of another team that names the client): the client's team gets the entry about
/// the client, every other team one without a record, naming its own records only.
pub(crate) fn erasure_audit_entries(
    request: &ErasureRequest,
    erased: &[ErasedRecord],
) -> Vec<NewAuditEntry> {
    let list = |records: &[&PulledPurge]| {
        records
            .iter()
            .map(|p| format!("{} {}", p.entity, p.record_id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let teams_of = |records: &mut dyn Iterator<Item = &ErasedRecord>| {
        let mut teams: Vec<Uuid> = records.map(|r| r.team_id).collect();
        teams.sort_unstable();
        teams.dedup();
        teams
    };
    let entry = |team: Uuid, action, record_id: Option<Uuid>, detail| NewAuditEntry {
        at: request.now,
        actor: request.actor,
        action,
        team_id: Some(team),
        entity: record_id.map(|_| "client".to_owned()),
        record_id,
        detail,
    };
    match request.reason {
        ErasureReason::Request => request
            .clients
            .iter()
            .flat_map(|client| {
                let reached: Vec<&ErasedRecord> =
                    erased.iter().filter(|r| r.asked == *client).collect();
                let Some(own_team) = reached
                    .iter()
                    .find(|r| r.purge.record_id == *client)
                    .map(|r| r.team_id)
                else {
                    return Vec::new();
                };
                let mut teams = teams_of(&mut reached.iter().copied());
                // The client's own team first.
                teams.sort_by_key(|team| *team != own_team);
                teams
                    .into_iter()
                    .map(|team| {
                        let records: Vec<&PulledPurge> = reached
                            .iter()
                            .filter(|r| r.team_id == team)
                            .map(|r| &r.purge)
                            .collect();
                        let detail = format!("records={}: {}", records.len(), list(&records));
                        if team == own_team {
                            entry(team, AuditAction::Erase, Some(*client), detail)
                        } else {
                            entry(
                                team,
                                AuditAction::Erase,
                                None,
                                format!("{detail}; linked to a client of another team"),
                            )
                        }
                    })
                    .collect()
            })
            .collect(),
        ErasureReason::Retention { .. } => teams_of(&mut erased.iter())
            .into_iter()
            .map(|team| {
                let records: Vec<&PulledPurge> = erased
                    .iter()
                    .filter(|r| r.team_id == team)
                    .map(|r| &r.purge)
                    .collect();
                let clients = records.iter().filter(|p| p.entity == "client").count();
                entry(
                    team,
                    AuditAction::Purge,
                    None,
                    format!(
                        "retention: clients={clients} records={}: {}",
                        records.len(),
                        list(&records)
                    ),
                )
            })
            .collect(),
    }
}

/// The records an export of `client_id` gives besides the client, from the rows (record id,
/// entity) of the backend's one query of them: the clients merged into it (directly, or into
/// one of them) and the contacts of all of these, each in id order and once.
pub(crate) fn exported_ids(
    client_id: Uuid,
    rows: impl IntoIterator<Item = (Uuid, String)>,
) -> (Vec<Uuid>, Vec<Uuid>) {
    let (mut merged, mut contacts) = (Vec::new(), Vec::new());
    for (record_id, entity) in rows {
        match entity.as_str() {
            "contact" => contacts.push(record_id),
            "client" if record_id != client_id => merged.push(record_id),
            _ => {}
        }
    }
    for ids in [&mut merged, &mut contacts] {
        ids.sort_unstable();
        ids.dedup();
    }
    (merged, contacts)
}

/// The detail of an `export` audit entry: counts, no value.
pub(crate) fn export_audit_detail(export: &ClientExport) -> String {
    format!(
        "merged_clients={} contacts={} history={}",
        export.merged_clients.len(),
        export.contacts.len(),
        export.history.len()
    )
}

/// The `change` audit entries of a push: one per record written, naming its fields.
pub(crate) fn change_audit_entries(
    ctx: &PushContext,
    written: &[&ValidChange],
) -> Vec<NewAuditEntry> {
    let mut records: BTreeMap<Uuid, (&ValidChange, BTreeSet<&str>)> = BTreeMap::new();
    for change in written {
        records
            .entry(change.record_id)
            .or_insert_with(|| (change, BTreeSet::new()))
            .1
            .insert(change.spec.name);
    }
    records
        .into_iter()
        .map(|(record_id, (change, fields))| NewAuditEntry {
            at: ctx.now,
            actor: AuditActor::Device {
                user_id: change.author_id,
                device_id: ctx.device_id,
            },
            action: AuditAction::Change,
            team_id: Some(ctx.team_id),
            entity: Some(change.spec.entity.as_str().to_owned()),
            record_id: Some(record_id),
            detail: format!(
                "fields={}",
                fields.into_iter().collect::<Vec<_>>().join(",")
            ),
        })
        .collect()
}

/// The `resolve` audit entry of a conflict resolution.
pub(crate) fn resolve_audit_entry(
    team_id: Uuid,
    conflict: &tandem_protocol::Conflict,
    resolved_by: Uuid,
    now: DateTime<Utc>,
) -> NewAuditEntry {
    NewAuditEntry {
        at: now,
        actor: AuditActor::User(resolved_by),
        action: AuditAction::Resolve,
        team_id: Some(team_id),
        entity: Some(conflict.entity.clone()),
        record_id: Some(conflict.record_id),
        detail: format!("conflict={} field={}", conflict.id, conflict.field),
    }
}

/// The audit entries of a duplicate merge, or of its undo when `undo` is set: one for each
/// record it touches (the client kept, the duplicate, every contact moved), so the log of
/// any of them shows it; each names the merge and all its records, by id. An undo whose
/// merge does not say who undid it and when is refused rather than logged as a merge.
pub(crate) fn merge_audit_entries(
    team_id: Uuid,
    merge: &DuplicateMerge,
    undo: bool,
) -> Result<Vec<NewAuditEntry>, ServerError> {
    let (action, actor, at) = match (undo, merge.undone_by, merge.undone_at) {
        (false, _, _) => (AuditAction::Merge, merge.merged_by, merge.merged_at),
        (true, Some(by), Some(at)) => (AuditAction::UndoMerge, by, at),
        (true, _, _) => {
            return Err(ServerError::CorruptData(format!(
                "the undo of merge {} names no one who undid it or no time",
                merge.id
            )));
        }
    };
    let contacts = merge
        .contact_ids
        .iter()
        .map(|id| format!("contact {id}"))
        .collect::<Vec<_>>()
        .join(", ");
    let detail = format!(
        "merge={} survivor={} duplicate={} contacts={}{}{contacts}",
        merge.id,
        merge.survivor_id,
        merge.duplicate_id,
        merge.contact_ids.len(),
        if contacts.is_empty() { "" } else { ": " },
    );
    Ok([merge.duplicate_id, merge.survivor_id]
        .into_iter()
        .map(|id| ("client", id))
        .chain(merge.contact_ids.iter().map(|id| ("contact", *id)))
        .map(|(entity, record_id)| NewAuditEntry {
            at,
            actor: AuditActor::User(actor),
            action,
            team_id: Some(team_id),
            entity: Some(entity.to_owned()),
            record_id: Some(record_id),
            detail: detail.clone(),
        })
        .collect())
}

/// The audit entries of a dismissed duplicate pair: one for each of the two clients, so the
/// log of either shows it, each naming both by id.
pub(crate) fn dismiss_audit_entries(
    team_id: Uuid,
    pair: (Uuid, Uuid),
    dismissed_by: Uuid,
    now: DateTime<Utc>,
) -> Vec<NewAuditEntry> {
    let detail = format!("dismissed pair: first={} second={}", pair.0, pair.1);
    [pair.0, pair.1]
        .into_iter()
        .map(|record_id| NewAuditEntry {
            at: now,
            actor: AuditActor::User(dismissed_by),
            action: AuditAction::DismissDuplicate,
            team_id: Some(team_id),
            entity: Some("client".to_owned()),
            record_id: Some(record_id),
            detail: detail.clone(),
        })
        .collect()
}

/// The record a change's value points at, when the field links records (`client_id` of a
/// contact, `merged_into` of a client): a change linking to an erased record is refused.
pub(crate) fn linked_record(field: &str, value: &serde_json::Value) -> Option<Uuid> {
    if field != "client_id" && field != "merged_into" {
        return None;
    }
    value.as_str().and_then(|text| Uuid::parse_str(text).ok())
}

/// The record a stored link value names (`client_id` or `merged_into`, as JSON text); `None`
/// for no value or null.
pub(crate) fn stored_link(value: Option<&str>) -> Result<Option<Uuid>, ServerError> {
    let Some(text) = value else {
        return Ok(None);
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| ServerError::CorruptData(err.to_string()))?;
    Ok(value.as_str().and_then(|text| Uuid::parse_str(text).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(undone: bool) -> DuplicateMerge {
        let at = DateTime::<Utc>::from_timestamp_millis(1_767_225_600_000).unwrap();
        DuplicateMerge {
            id: Uuid::now_v7(),
            survivor_id: Uuid::now_v7(),
            duplicate_id: Uuid::now_v7(),
            contact_ids: vec![Uuid::now_v7()],
            merged_by: Uuid::now_v7(),
            merged_at: at,
            undone_by: undone.then(Uuid::now_v7),
            undone_at: undone.then_some(at),
        }
    }

    #[test]
    fn an_undo_whose_merge_names_no_undoer_is_refused_not_logged_as_a_merge() {
        let team = Uuid::now_v7();
        assert!(matches!(
            merge_audit_entries(team, &merge(false), true),
            Err(ServerError::CorruptData(_))
        ));
        let undone = merge_audit_entries(team, &merge(true), true).unwrap();
        assert_eq!(undone.len(), 3);
        assert!(
            undone
                .iter()
                .all(|entry| entry.action == AuditAction::UndoMerge)
        );
        let merged = merge_audit_entries(team, &merge(false), false).unwrap();
        assert!(
            merged
                .iter()
                .all(|entry| entry.action == AuditAction::Merge)
        );
    }
}
