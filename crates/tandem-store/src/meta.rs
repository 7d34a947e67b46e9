//! Small facts about this store kept in its `meta` table: the node id of its clock, the last
//! clock reading, (after sign-in) the user, team, device and server it syncs with, and a
//! form's unsaved values.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::StoreError;

/// The keys of the `meta` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaKey {
    /// This store's node id in HLC readings; the device id once the server assigns one.
    NodeId,
    /// The last HLC reading given out or observed.
    HlcLast,
    /// The team that new records belong to.
    TeamId,
    /// The signed-in user, the author of local edits.
    UserId,
    /// The device id the server assigned at sign-in.
    DeviceId,
    /// The server this store syncs with.
    ServerUrl,
    /// When the last sync finished (RFC 3339).
    LastSyncAt,
    /// What went wrong in the last sync, if it failed.
    LastSyncError,
    /// Wrong offline passwords in a row since the last right one.
    UnlockFailures,
    /// When the last wrong offline password was given (RFC 3339).
    UnlockLastFailureAt,
    /// A form's unsaved values (`drafts.rs`).
    FormDraft,
}

impl MetaKey {
    fn as_str(self) -> &'static str {
        match self {
            MetaKey::NodeId => "node_id",
            MetaKey::HlcLast => "hlc_last",
            MetaKey::TeamId => "team_id",
            MetaKey::UserId => "user_id",
            MetaKey::DeviceId => "device_id",
            MetaKey::ServerUrl => "server_url",
            MetaKey::LastSyncAt => "last_sync_at",
            MetaKey::LastSyncError => "last_sync_error",
            MetaKey::UnlockFailures => "unlock_failures",
            MetaKey::UnlockLastFailureAt => "unlock_last_failure_at",
            MetaKey::FormDraft => "form_draft",
        }
    }
}

/// Removes one value.
pub(crate) fn delete(conn: &Connection, key: MetaKey) -> Result<(), StoreError> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [key.as_str()])?;
    Ok(())
}

/// Reads one value.
pub(crate) fn get(conn: &Connection, key: MetaKey) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key.as_str()], |row| row.get(0))
        .optional()?)
}

/// Writes one value.
pub(crate) fn set(conn: &Connection, key: MetaKey, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key.as_str(), value])?;
    Ok(())
}

/// The node id of this store's clock, made on first use. Made by one statement that writes
/// only if there is none, then read: called outside a transaction (`Store::author`, a new
/// record's consent), a read then a write would replace one another connection made between
/// them, and what it wrote meanwhile would name a node the store no longer has.
pub(crate) fn node_id(conn: &Connection) -> Result<String, StoreError> {
    if let Some(id) = get(conn, MetaKey::NodeId)? {
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
    )?
    .execute(params![
        MetaKey::NodeId.as_str(),
        Uuid::new_v4().to_string()
    ])?;
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([MetaKey::NodeId.as_str()], |row| row.get(0))?)
}

/// The author of local edits: the signed-in user, or before any sign-in this store's node.
pub(crate) fn author_id(conn: &Connection) -> Result<String, StoreError> {
    match get(conn, MetaKey::UserId)? {
        Some(user) => Ok(user),
        None => node_id(conn),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::connection::{test_store_and_key, with_a_write_meanwhile};

    #[test]
    fn a_node_id_made_on_another_connection_meanwhile_is_the_one_both_use() {
        let (_dir, mut store, key) = test_store_and_key();
        delete(&store.conn, MetaKey::NodeId).unwrap();
        // Before any sign-in, an edit in the app and the CLI's on its own connection each
        // need the store's node id, the author of what they write.
        let theirs = Arc::new(Mutex::new(None));
        let noted = Arc::clone(&theirs);
        let ours = with_a_write_meanwhile(
            &mut store,
            &key,
            move |other| {
                *noted.lock().unwrap() = Some(other.author()?);
                Ok(())
            },
            |store| store.author(),
        )
        .unwrap();
        let theirs = theirs.lock().unwrap().clone().unwrap();
        assert_eq!(ours, theirs, "one node id");
        assert_eq!(get(&store.conn, MetaKey::NodeId).unwrap(), Some(ours));
    }
}
