//! What `tandem status` and the app's status bar show about a store.

use std::path::PathBuf;

use serde::Serialize;

use crate::meta::{self, MetaKey};
use crate::{SCHEMA_VERSION, Store, StoreError};

/// A summary of the store's state, for people and scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// The database file.
    pub path: PathBuf,
    /// The schema version of the store.
    pub schema_version: u32,
    /// Field changes not yet acknowledged by the server.
    pub pending_count: u64,
    /// The server this store syncs with, once signed in.
    pub server_url: Option<String>,
    /// The device id the server assigned, once signed in.
    pub device_id: Option<String>,
    /// When the last sync finished (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Why the last sync failed, if it did.
    pub last_sync_error: Option<String>,
}

impl Store {
    /// The store's current status.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        Ok(StoreStatus {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            pending_count: self.pending_count()?,
            server_url: meta::get(&self.conn, MetaKey::ServerUrl)?,
            device_id: meta::get(&self.conn, MetaKey::DeviceId)?,
            last_sync_at: meta::get(&self.conn, MetaKey::LastSyncAt)?,
            last_sync_error: meta::get(&self.conn, MetaKey::LastSyncError)?,
        })
    }
}
