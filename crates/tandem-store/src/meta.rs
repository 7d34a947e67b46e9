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

/// The node id of this store's clock, made on first use.
pub(crate) fn node_id(conn: &Connection) -> Result<String, StoreError> {
    if let Some(id) = get(conn, MetaKey::NodeId)? {
        return Ok(id);
    }
    let id = Uuid::new_v4().to_string();
    set(conn, MetaKey::NodeId, &id)?;
    Ok(id)
}

/// The author of local edits: the signed-in user, or before any sign-in this store's node.
pub(crate) fn author_id(conn: &Connection) -> Result<String, StoreError> {
    match get(conn, MetaKey::UserId)? {
        Some(user) => Ok(user),
        None => node_id(conn),
    }
}
