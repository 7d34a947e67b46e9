//! Removing records the server erased or purged (a pulled purge entry): the record's
//! values, its history, its outbox rows, its rejected changes, the mirrored conflicts and
//! its search row, together with the local records that point at it (a contact logged here
//! for an erased client, which the server refuses). Runs inside the transaction that stores
//! the pulled page and its cursor.
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
/// so on. Each round finds its links in one statement before deleting anything, and then
/// deletes all its records with one statement per table, so the history, which no index
/// covers by value, is read once per round (an erasure usually has one: the server's purge
/// names the client's synced contacts too) instead of once per record. The deletes go
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

/// The records whose link fields name one of the records in `?1` (a JSON array of ids),
/// now or in anything kept about them: a link may survive only in the history or the
/// rejected list (a contact logged here for an erased client has its refused values rolled
/// back before the purge arrives).
fn linking_statement() -> String {
    let entities = all_entities();
    let links = "(SELECT json_quote(value) FROM json_each(?1))";
    format!(
        "SELECT record_id FROM record_fields
         WHERE field = 'client_id' AND entity IN {entities} AND value IN {links}
         UNION SELECT record_id FROM record_fields
         WHERE field = 'merged_into' AND entity IN {entities} AND value IN {links}
         UNION SELECT record_id FROM outbox WHERE field IN {LINK_FIELDS} AND value IN {links}
         UNION SELECT record_id FROM rejected_changes
         WHERE field IN {LINK_FIELDS} AND value IN {links}
         UNION SELECT record_id FROM acknowledged_changes
         WHERE field IN {LINK_FIELDS} AND value IN {links}
         UNION SELECT record_id FROM field_history
         WHERE field IN {LINK_FIELDS} AND value IN {links}"
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
    use super::*;
    use crate::connection::{query_plan, test_store};

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
    }
}
