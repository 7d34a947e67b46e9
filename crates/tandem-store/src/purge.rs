//! Removing records the server erased or purged (a pulled purge entry): the record's
//! values, its history, its outbox rows, its rejected changes, the mirrored conflicts and
//! its search row, together with the local records that point at it now (`client_id`,
//! `merged_into`), as the server finds the records it erases, and those that never reached
//! the server and named it in a change (a contact logged here for an erased client, which
//! the server refuses). A record that named it once and no longer does stays, as it stays
//! on the server; so does one whose link changes here, unsent, until the purge names it
//! (`linking_statement`). Runs inside the transaction that stores the pulled page and its
//! cursor.
//!
//! The store runs with `PRAGMA secure_delete = ON` (`connection.rs`), so freed pages are
//! zeroed; the search index is optimised after a purge, because FTS5 otherwise keeps a
//! deleted row's words in its index segments until they happen to be merged.

use std::collections::BTreeSet;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use tandem_domain::Entity;
use uuid::Uuid;

use crate::{Store, StoreError};

/// One record to remove, as the server's pull feed names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedRecord {
    /// The purge's server sequence number.
    pub seq: u64,
    /// `client` or `contact`.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
}

/// The fields whose value names another record: a contact's client, a merged duplicate's
/// survivor.
const LINK_FIELDS: &str = "('client_id', 'merged_into')";

/// Removes the records and everything local that links to them; returns the ids removed.
///
/// Goes in rounds: the records the page names, then the records that linked to them, and
/// so on. Each round finds its links in one statement before deleting anything
/// (`linking_statement`), and then deletes all its records with one statement per table,
/// once per round (an erasure usually has one: the server's purge names the client's synced
/// contacts too) instead of once per record. The deletes go
/// through the keys; only the tables that hold what awaits a coach or a lead (rejected
/// changes, conflicts) are scanned, and the history during a first pull (which builds its
/// index at the end, `pull_session.rs`).
pub(crate) fn purge_records(
    conn: &Connection,
    purges: &[PurgedRecord],
) -> Result<BTreeSet<String>, StoreError> {
    let mut round: BTreeSet<String> = purges.iter().map(|p| p.record_id.to_string()).collect();
    let mut removed = BTreeSet::new();
    let deletes = delete_statements();
    while !round.is_empty() {
        let ids = serde_json::Value::from(round.iter().cloned().collect::<Vec<_>>()).to_string();
        let mut linking = conn.prepare_cached(&linking_statement())?;
        let links = linking
            .query_map([&ids], |row| row.get::<_, String>(0))?
            .collect::<Result<BTreeSet<String>, _>>()?;
        for delete in &deletes {
            conn.prepare_cached(delete)?.execute([&ids])?;
        }
        removed.extend(round);
        round = links.difference(&removed).cloned().collect();
    }
    if !removed.is_empty() {
        conn.execute(
            "INSERT INTO client_search (client_search) VALUES ('optimize')",
            [],
        )?;
        crate::drafts::forget_drafts_about(conn, removed.iter())?;
    }
    Ok(removed)
}

/// `('client', 'contact')`: every entity, so that the keys that begin with the entity serve
/// a delete by record id, which removes the record under whatever entity holds it.
fn all_entities() -> String {
    let names: Vec<String> = Entity::ALL
        .iter()
        .map(|entity| format!("'{}'", entity.as_str()))
        .collect();
    format!("({})", names.join(", "))
}

/// The records whose link fields name one of the records in `?1` (a JSON array of ids) the
/// way the server finds them when it erases: by their current values, as far as this laptop
/// knows them. Past values (the history, the journal of acknowledged changes) do not count:
/// a contact logged for the wrong client and corrected, or a duplicate whose merge was
/// undone, stays on the server, so it stays here, with its pending edits.
///
/// A link field with a change waiting in the outbox does not link through its value: that
/// value is this laptop's, and whether the server has it is unknown (the answer to a push
/// may have been lost). The server's purge names every record it erased, so such a record
/// goes exactly when the server erased it: a contact moved here to the erased client
/// (between two pages of a pull, say) that the server still has as another client's stays,
/// and its move is refused as erased when it is sent (`sync_state.rs`); a contact moved away
/// from it stays with its edits when the server took the move before the erasure, and goes
/// when the purge names it. Reading the server's last known value instead would delete the
/// latter while the server keeps it.
///
/// Only a record the server never acknowledged (no field with a server version) is also
/// found through its outbox rows and refused changes: a contact logged here for an erased
/// client, whose refused values were rolled back before the purge arrived, or which was
/// corrected before it was sent (its first push carries the link to the erased client, and
/// the server refuses every change of a record whose batch links it to an erased one).
fn linking_statement() -> String {
    let entities = all_entities();
    let links = "(SELECT json_quote(value) FROM json_each(?1))";
    let settled = "NOT EXISTS (SELECT 1 FROM outbox
                               WHERE outbox.entity = record_fields.entity
                                 AND outbox.record_id = record_fields.record_id
                                 AND outbox.field = record_fields.field)";
    let never_acknowledged = |table: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM record_fields
                         WHERE record_fields.entity = {table}.entity
                           AND record_fields.record_id = {table}.record_id
                           AND record_fields.server_version > 0)"
        )
    };
    format!(
        "SELECT record_id FROM record_fields
         WHERE field = 'client_id' AND entity IN {entities} AND value IN {links} AND {settled}
         UNION SELECT record_id FROM record_fields
         WHERE field = 'merged_into' AND entity IN {entities} AND value IN {links} AND {settled}
         UNION SELECT record_id FROM outbox
         WHERE field IN {LINK_FIELDS} AND value IN {links} AND {}
         UNION SELECT record_id FROM rejected_changes
         WHERE field IN {LINK_FIELDS} AND value IN {links} AND {}",
        never_acknowledged("outbox"),
        never_acknowledged("rejected_changes"),
    )
}

/// One delete per table that holds a record's data (its values, its history, its outbox
/// rows, its rejected and acknowledged changes, the mirrored conflicts, its search row),
/// each of the records in `?1` (a JSON array of ids).
fn delete_statements() -> Vec<String> {
    let entities = all_entities();
    let ids = "(SELECT value FROM json_each(?1))";
    [
        "record_fields",
        "records",
        "outbox",
        "field_history",
        "rejected_changes",
        "acknowledged_changes",
        "conflicts",
    ]
    .iter()
    .map(|table| format!("DELETE FROM {table} WHERE entity IN {entities} AND record_id IN {ids}"))
    .chain([format!(
        "DELETE FROM client_search_rows WHERE record_id IN {ids}"
    )])
    .collect()
}

impl Store {
    /// The tables, FTS5's shadow tables included, with a row that holds `needle` in any
    /// column (ASCII case ignored): the check that an erased name is gone from this laptop
    /// (docs/security.md, "How to verify an erasure").
    pub fn tables_containing(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        let needle = needle.to_ascii_lowercase().into_bytes();
        let tables: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut found = Vec::new();
        for table in tables {
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            let mut hit = false;
            while let Some(row) = rows.next()? {
                for column in 0..columns {
                    let bytes = match row.get_ref(column)? {
                        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes,
                        _ => continue,
                    };
                    hit |= bytes
                        .windows(needle.len())
                        .any(|window| window.eq_ignore_ascii_case(&needle));
                }
            }
            if hit {
                found.push(table);
            }
        }
        Ok(found)
    }

    /// Rewrites the store file without free pages (`VACUUM`), e.g. after a purge.
    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;
    use tandem_domain::RecordId;

    use super::*;
    use crate::connection::{query_plan, test_store};
    use crate::{EditContext, PushAck, PushOutcome, ServerWrite};

    const AUTHOR: Uuid = Uuid::from_u128(0x9001);

    fn at() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_768_471_200_000).unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn linked(record: Uuid) -> String {
        format!("\"{record}\"")
    }

    fn write(entity: &str, record_id: Uuid, field: &str, value: &str, seq: u64) -> ServerWrite {
        ServerWrite {
            seq,
            entity: entity.into(),
            record_id,
            field: field.into(),
            value: value.into(),
            version: seq,
            hlc: format!("1768471100000-{seq:05}-{AUTHOR}"),
            author_id: AUTHOR,
        }
    }

    /// The server's writes of two clients, `first` and `second`, and of `contact`, a contact
    /// of the client `of`: seqs 1 to 4.
    fn two_clients_and_a_contact(
        (first, second): (Uuid, Uuid),
        contact: Uuid,
        of: Uuid,
    ) -> Vec<ServerWrite> {
        vec![
            write("client", first, "given_name", "\"Leyla\"", 1),
            write("client", second, "given_name", "\"Amina\"", 2),
            write(
                "contact",
                contact,
                "occurred_at",
                "\"2026-01-14T10:00:00+02:00\"",
                3,
            ),
            write("contact", contact, "client_id", &linked(of), 4),
        ]
    }

    fn pull(store: &mut Store, writes: &[ServerWrite], purged: &[(&str, Uuid)]) {
        let last = writes.iter().map(|w| w.seq).max().unwrap_or(0);
        let purges: Vec<PurgedRecord> = purged
            .iter()
            .zip(1..)
            .map(|(&(entity, record_id), n)| PurgedRecord {
                seq: last + n,
                entity: entity.into(),
                record_id,
            })
            .collect();
        let next = purges
            .last()
            .map_or(last, |p| p.seq)
            .max(store.pull_cursor().unwrap());
        store
            .apply_pulled_page(writes, &purges, next, at(), at())
            .unwrap();
    }

    fn input(fields: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(fields).unwrap()
    }

    fn log_contact(store: &mut Store, client: Uuid) -> Uuid {
        let fields = json!({"client_id": client.to_string(), "occurred_at": "2026-01-14T10:00:00+02:00",
                            "summary": "talked about the flat"});
        *store
            .create_record(Entity::Contact, &input(fields), EditContext::at(at()))
            .unwrap()
            .as_uuid()
    }

    fn edit_contact(store: &mut Store, contact: Uuid, fields: serde_json::Value) {
        store
            .edit_record(
                Entity::Contact,
                RecordId::from_uuid(contact),
                &input(fields),
                EditContext::at(at()),
            )
            .unwrap();
    }

    /// Answers every change the push would carry now: stored at versions from `first_version`
    /// on, or refused.
    fn answer_push(store: &mut Store, first_version: Option<u64>) {
        let batch = store.outbox_batch(500).unwrap();
        let acks: Vec<PushAck> = batch
            .iter()
            .zip(0..)
            .map(|(change, n)| PushAck {
                change_id: change.change_id,
                outcome: match first_version {
                    Some(first) => PushOutcome::Stored {
                        version: first + n,
                        value: change.value.clone(),
                        conflict_id: None,
                    },
                    None => PushOutcome::Rejected {
                        reason: format!("{}: the record was erased", change.field),
                        reason_code: Some("record_erased".into()),
                    },
                },
            })
            .collect();
        store.apply_push_results(&acks, at()).unwrap();
    }

    fn value(store: &Store, entity: &str, record: Uuid, field: &str) -> Option<String> {
        store
            .field_state(entity, record, field)
            .unwrap()
            .map(|state| state.value)
    }

    fn exists(store: &Store, entity: Entity, record: Uuid) -> bool {
        store
            .record(entity, RecordId::from_uuid(record))
            .unwrap()
            .is_some()
    }

    fn pending_of(store: &Store, record: Uuid) -> usize {
        store
            .pending_changes()
            .unwrap()
            .iter()
            .filter(|c| c.record_id == record)
            .count()
    }

    fn rejected_of(store: &Store, record: Uuid) -> usize {
        store
            .rejected_changes()
            .unwrap()
            .iter()
            .filter(|c| c.record_id == record)
            .count()
    }

    #[test]
    fn a_contact_corrected_away_from_a_purged_client_stays_with_its_pending_edit() {
        let (_dir, mut store) = test_store();
        let (wrong, right, contact) = (id(0xa), id(0xb), id(0xc));
        let mut writes = two_clients_and_a_contact((wrong, right), contact, wrong);
        writes.push(write("contact", contact, "client_id", &linked(right), 5));
        pull(&mut store, &writes, &[]);
        edit_contact(
            &mut store,
            contact,
            json!({"summary": "came about the job"}),
        );

        pull(&mut store, &[], &[("client", wrong)]);

        assert!(!exists(&store, Entity::Client, wrong));
        assert!(exists(&store, Entity::Contact, contact));
        assert_eq!(
            value(&store, "contact", contact, "client_id"),
            Some(linked(right))
        );
        assert_eq!(
            pending_of(&store, contact),
            1,
            "the edit is still to be sent"
        );
    }

    #[test]
    fn a_contact_moved_to_the_purged_client_before_it_was_sent_stays_with_the_servers_client() {
        let (_dir, mut store) = test_store();
        let (erased, other, contact) = (id(0xa), id(0xb), id(0xc));
        let writes = two_clients_and_a_contact((erased, other), contact, other);
        pull(&mut store, &writes, &[]);
        // Moved to the client between two pages of the pull that brings its erasure: the
        // server still has the contact as the other client's, so its purge does not name it.
        edit_contact(
            &mut store,
            contact,
            json!({"client_id": erased.to_string(), "summary": "Leyla's visit"}),
        );

        pull(&mut store, &[], &[("client", erased)]);

        assert!(!exists(&store, Entity::Client, erased));
        assert!(
            exists(&store, Entity::Contact, contact),
            "the server keeps it"
        );
        assert_eq!(pending_of(&store, contact), 2, "the move and the summary");
        // The server refuses the move, and what was written with it: the contact is the
        // other client's again, and the refused changes wait for a person to dismiss them.
        answer_push(&mut store, None);
        assert_eq!(
            value(&store, "contact", contact, "client_id"),
            Some(linked(other)),
            "as the server has it"
        );
        assert_eq!(value(&store, "contact", contact, "summary"), None);
        assert_eq!(pending_of(&store, contact), 0);
        assert_eq!(rejected_of(&store, contact), 2);
    }

    #[test]
    fn a_contact_moved_away_from_the_purged_client_and_not_named_by_the_purge_keeps_its_edits() {
        let (_dir, mut store) = test_store();
        let (erased, other, contact) = (id(0xa), id(0xb), id(0xc));
        let writes = two_clients_and_a_contact((erased, other), contact, erased);
        pull(&mut store, &writes, &[]);
        // Corrected to the other client; the server took the correction before the erasure
        // (its answer was lost), so its purge names only the client.
        edit_contact(
            &mut store,
            contact,
            json!({"client_id": other.to_string(), "summary": "Amina's visit"}),
        );

        pull(&mut store, &[], &[("client", erased)]);

        assert!(exists(&store, Entity::Contact, contact));
        assert_eq!(
            value(&store, "contact", contact, "client_id"),
            Some(linked(other))
        );
        assert_eq!(
            pending_of(&store, contact),
            2,
            "its edits are still to be sent"
        );
        assert_eq!(rejected_of(&store, contact), 0);
    }

    #[test]
    fn a_contact_logged_here_and_corrected_once_acknowledged_stays_when_the_first_client_goes() {
        let (_dir, mut store) = test_store();
        let (wrong, right) = (id(0xa), id(0xb));
        pull(
            &mut store,
            &[
                write("client", wrong, "given_name", "\"Leyla\"", 1),
                write("client", right, "given_name", "\"Amina\"", 2),
            ],
            &[],
        );
        let contact = log_contact(&mut store, wrong);
        answer_push(&mut store, Some(10));
        edit_contact(&mut store, contact, json!({"client_id": right.to_string()}));
        answer_push(&mut store, Some(20));
        assert!(store.journalled_count().unwrap() > 0);

        pull(&mut store, &[], &[("client", wrong)]);

        assert!(exists(&store, Entity::Contact, contact));
        assert_eq!(
            value(&store, "contact", contact, "client_id"),
            Some(linked(right))
        );
    }

    #[test]
    fn a_purge_keeps_a_duplicate_whose_merge_into_the_purged_client_was_undone() {
        let (_dir, mut store) = test_store();
        let (survivor, duplicate, contact) = (id(0xa), id(0xd), id(0xc));
        let mut writes = two_clients_and_a_contact((survivor, duplicate), contact, duplicate);
        // The merge and its undo.
        writes.extend([
            write("contact", contact, "client_id", &linked(survivor), 5),
            write("client", duplicate, "merged_into", &linked(survivor), 6),
            write("contact", contact, "client_id", &linked(duplicate), 7),
            write("client", duplicate, "merged_into", "null", 8),
        ]);
        pull(&mut store, &writes, &[]);

        pull(&mut store, &[], &[("client", survivor)]);

        assert!(!exists(&store, Entity::Client, survivor));
        assert!(exists(&store, Entity::Client, duplicate));
        assert!(exists(&store, Entity::Contact, contact));
        assert_eq!(
            value(&store, "contact", contact, "client_id"),
            Some(linked(duplicate))
        );
    }

    #[test]
    fn a_purge_removes_what_links_to_the_purged_client_now_or_never_reached_the_server() {
        let (_dir, mut store) = test_store();
        let (erased, other, merged, known, reassigned) =
            (id(0xa), id(0xb), id(0xd), id(0xe), id(0xf));
        pull(
            &mut store,
            &[
                write("client", erased, "given_name", "\"Leyla\"", 1),
                write("client", other, "given_name", "\"Amina\"", 2),
                write("client", merged, "given_name", "\"Leila\"", 3),
                write("client", merged, "merged_into", &linked(erased), 4),
                write("contact", known, "client_id", &linked(erased), 5),
                write("contact", reassigned, "client_id", &linked(other), 6),
            ],
            &[],
        );
        // Refused by the server (the client was erased meanwhile): rolled back to nothing,
        // the link survives in the rejected list only.
        let refused = log_contact(&mut store, erased);
        answer_push(&mut store, None);
        assert_eq!(value(&store, "contact", refused, "client_id"), None);
        // Logged offline, waiting.
        let pending = log_contact(&mut store, erased);
        // Logged offline and corrected before it was sent.
        let corrected = log_contact(&mut store, erased);
        edit_contact(
            &mut store,
            corrected,
            json!({"client_id": other.to_string()}),
        );
        // A contact the server knows as another client's, moved here to the erased client:
        // the server refused the move, the contact stays the other client's.
        edit_contact(
            &mut store,
            reassigned,
            json!({"client_id": erased.to_string()}),
        );
        let moved = store
            .pending_changes()
            .unwrap()
            .into_iter()
            .find(|c| c.record_id == reassigned)
            .unwrap();
        store
            .apply_push_results(
                &[PushAck {
                    change_id: moved.change_id,
                    outcome: PushOutcome::Rejected {
                        reason: "client_id: the record was erased".into(),
                        reason_code: Some("record_erased".into()),
                    },
                }],
                at(),
            )
            .unwrap();

        // The server's purge names the client, the duplicate merged into it and its contact.
        pull(
            &mut store,
            &[],
            &[("client", erased), ("client", merged), ("contact", known)],
        );

        for gone in [erased, merged, known, refused, pending, corrected] {
            assert!(!exists(&store, Entity::Client, gone), "{gone}");
            assert!(!exists(&store, Entity::Contact, gone), "{gone}");
            assert_eq!(pending_of(&store, gone), 0, "{gone}");
            assert_eq!(rejected_of(&store, gone), 0, "{gone}");
        }
        assert!(exists(&store, Entity::Client, other));
        assert!(exists(&store, Entity::Contact, reassigned));
        assert_eq!(
            value(&store, "contact", reassigned, "client_id"),
            Some(linked(other))
        );
        assert_eq!(rejected_of(&store, reassigned), 1, "a person dismisses it");
    }

    /// The tables that grow with the store (every value, every version, every search row):
    /// a purge that scanned one of them once per record held a pulled page for seconds.
    const LARGE_TABLES: &[&str] = &[
        "record_fields",
        "records",
        "outbox",
        "field_history",
        "acknowledged_changes",
        "client_search_rows",
    ];

    #[test]
    fn a_purge_deletes_through_keys_and_scans_no_large_table() {
        let (_dir, store) = test_store();
        let deletes = delete_statements();
        for table in LARGE_TABLES {
            let delete = deletes
                .iter()
                .find(|d| d.starts_with(&format!("DELETE FROM {table} ")))
                .unwrap_or_else(|| panic!("no delete from {table}"));
            let plan = query_plan(&store, delete);
            assert!(
                plan.iter()
                    .any(|step| step.starts_with(&format!("SEARCH {table} USING"))),
                "{delete}: {plan:?}"
            );
            assert!(
                plan.iter().all(|step| step != &format!("SCAN {table}")),
                "{delete}: {plan:?}"
            );
        }
    }

    #[test]
    fn finding_the_records_that_link_to_purged_ones_reads_the_values_through_their_indexes() {
        let (_dir, store) = test_store();
        let plan = query_plan(&store, &linking_statement());
        for index in ["record_fields_client_id", "record_fields_merged_into"] {
            assert!(
                plan.iter()
                    .any(|step| step.contains(&format!("INDEX {index} (entity=? AND value=?)"))),
                "{index} unused: {plan:?}"
            );
        }
        assert!(
            plan.iter().all(|step| step != "SCAN record_fields"),
            "{plan:?}"
        );
        // Whether the server acknowledged a record is read through the key.
        assert!(
            plan.iter()
                .any(|step| step
                    == "SEARCH record_fields USING PRIMARY KEY (entity=? AND record_id=?)"),
            "{plan:?}"
        );
        // Past values do not link: neither the history nor the journal is read.
        assert!(
            plan.iter()
                .all(|step| !step.contains("field_history")
                    && !step.contains("acknowledged_changes")),
            "{plan:?}"
        );
    }
}
