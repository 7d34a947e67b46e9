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

/// The tables that hold a record's data, by `record_id`.
const RECORD_TABLES: &[&str] = &[
    "record_fields",
    "records",
    "outbox",
    "field_history",
    "rejected_changes",
    "acknowledged_changes",
    "conflicts",
    "client_search_rows",
];

/// Removes the records and everything local that links to them; returns the ids removed.
pub(crate) fn purge_records(
    conn: &Connection,
    purges: &[PurgedRecord],
) -> Result<BTreeSet<String>, StoreError> {
    let mut queue: Vec<String> = purges.iter().map(|p| p.record_id.to_string()).collect();
    let mut removed = BTreeSet::new();
    while let Some(id) = queue.pop() {
        if !removed.insert(id.clone()) {
            continue;
        }
        let link = serde_json::Value::String(id.clone()).to_string();
        // A link may survive only in the history or the rejected list: a contact logged
        // here for an erased client has its refused values rolled back before the purge
        // arrives. These scans are not indexed; purges are rare.
        let mut linking = conn.prepare_cached(
            "SELECT record_id FROM record_fields
             WHERE field IN ('client_id', 'merged_into') AND value = ?1
             UNION SELECT record_id FROM outbox
             WHERE field IN ('client_id', 'merged_into') AND value = ?1
             UNION SELECT record_id FROM rejected_changes
             WHERE field IN ('client_id', 'merged_into') AND value = ?1
             UNION SELECT record_id FROM acknowledged_changes
             WHERE field IN ('client_id', 'merged_into') AND value = ?1
             UNION SELECT record_id FROM field_history
             WHERE field IN ('client_id', 'merged_into') AND value = ?1",
        )?;
        for row in linking.query_map([&link], |row| row.get::<_, String>(0))? {
            queue.push(row?);
        }
        for table in RECORD_TABLES {
            conn.execute(&format!("DELETE FROM {table} WHERE record_id = ?1"), [&id])?;
        }
    }
    if !removed.is_empty() {
        conn.execute(
            "INSERT INTO client_search (client_search) VALUES ('optimize')",
            [],
        )?;
    }
    Ok(removed)
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
