//! A test laptop: a real SQLCipher store in a temporary directory (a random key, no keyring),
//! signed in to the shared server over HTTP, with a clock that may be skewed.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value as Json;
use tandem_domain::{Entity, RecordId};
use tandem_protocol::LoginRequest;
use tandem_store::{EditContext, OutboxChange, SignIn, Store, StoreKey};
use tandem_sync::{Clock, HttpTransport, NoProgress, SyncError, SyncReport, TransportSettings};
use uuid::Uuid;

use crate::server::{PASSWORD, SharedServer, TestTeam};

/// The device's wall clock: the real one shifted by `offset_ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OffsetClock {
    pub(crate) offset_ms: i64,
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        tandem_sync::SystemClock.now() + TimeDelta::milliseconds(self.offset_ms)
    }
}

pub(crate) struct TestDevice {
    /// Removed with the device.
    _dir: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) transport: HttpTransport,
    pub(crate) clock: OffsetClock,
    pub(crate) device_id: Uuid,
    pub(crate) token: String,
    /// Every change this device's outbox ever held, by change id.
    pub(crate) seen: BTreeMap<Uuid, OutboxChange>,
}

/// A temporary directory in memory when the machine has one (SQLCipher's fsyncs are the
/// slowest part of these tests), else in the usual place.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

impl TestDevice {
    /// A new store signed in as `username` of `team`, its clock `offset_ms` off.
    pub(crate) fn sign_in(
        server: &SharedServer,
        team: &TestTeam,
        username: &str,
        offset_ms: i64,
    ) -> TestDevice {
        let dir = temp_dir();
        let store =
            Store::open_with_key(&dir.path().join("tandem.db"), &StoreKey::generate()).unwrap();
        Self::sign_in_store(server, team, username, offset_ms, dir, store)
    }

    /// Signs in an existing store kept in `dir`.
    pub(crate) fn sign_in_store(
        server: &SharedServer,
        team: &TestTeam,
        username: &str,
        offset_ms: i64,
        dir: tempfile::TempDir,
        mut store: Store,
    ) -> TestDevice {
        let anonymous =
            HttpTransport::new(&server.base, None, TransportSettings::default()).unwrap();
        let login = server
            .runtime
            .block_on(anonymous.login(&LoginRequest {
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
                device_name: "test laptop".to_owned(),
                team: None,
            }))
            .unwrap();
        store
            .record_sign_in(&SignIn {
                server_url: server.base.clone(),
                user_id: login.user.id,
                username: login.user.username.clone(),
                role: login.role.as_str().to_owned(),
                team_id: team.id,
                team_name: team.name.clone(),
                device_id: login.device_id,
                device_name: "test laptop".to_owned(),
                // Convergence does not need offline sign-in; argon2id per device would
                // dominate the run time.
                password_verifier: String::new(),
            })
            .unwrap();
        let transport = HttpTransport::new(
            &server.base,
            Some(login.device_token.clone()),
            TransportSettings::default(),
        )
        .unwrap();
        TestDevice {
            _dir: dir,
            store,
            transport,
            clock: OffsetClock { offset_ms },
            device_id: login.device_id,
            token: login.device_token.clone(),
            seen: BTreeMap::new(),
        }
    }

    pub(crate) fn edit_context(&self) -> EditContext {
        EditContext::at(self.clock.now())
    }

    fn note_outbox(&mut self) {
        for change in self.store.pending_changes().unwrap() {
            self.seen.entry(change.change_id).or_insert(change);
        }
    }

    pub(crate) fn create_client(&mut self, fields: Json) -> RecordId {
        let input: BTreeMap<String, Json> = serde_json::from_value(fields).unwrap();
        let at = self.edit_context();
        let id = self
            .store
            .create_record(Entity::Client, &input, at)
            .unwrap();
        self.note_outbox();
        id
    }

    pub(crate) fn edit_client(&mut self, id: RecordId, fields: Json) {
        self.edit_client_at(id, fields, self.edit_context());
    }

    pub(crate) fn edit_client_at(&mut self, id: RecordId, fields: Json, at: EditContext) {
        let input: BTreeMap<String, Json> = serde_json::from_value(fields).unwrap();
        self.store
            .edit_record(Entity::Client, id, &input, at)
            .unwrap();
        self.note_outbox();
    }

    /// An edit the local store may refuse by a rule of the domain (the consent gate); a
    /// refused edit queues nothing.
    pub(crate) fn try_edit_client(&mut self, id: RecordId, fields: Json) {
        let input: BTreeMap<String, Json> = serde_json::from_value(fields).unwrap();
        match self
            .store
            .edit_record(Entity::Client, id, &input, self.edit_context())
        {
            Ok(_) | Err(tandem_store::StoreError::Invalid(_)) => self.note_outbox(),
            Err(other) => panic!("edit failed: {other}"),
        }
    }

    pub(crate) fn try_sync(&mut self, server: &SharedServer) -> Result<SyncReport, SyncError> {
        server.runtime.block_on(tandem_sync::sync_once(
            &mut self.store,
            &self.transport,
            &self.clock,
            &mut NoProgress,
        ))
    }

    pub(crate) fn sync(&mut self, server: &SharedServer) -> SyncReport {
        self.try_sync(server)
            .unwrap_or_else(|error| panic!("sync failed: {error}"))
    }

    pub(crate) fn value(&self, id: RecordId, field: &str) -> Option<Json> {
        self.store
            .field_state("client", *id.as_uuid(), field)
            .unwrap()
            .map(|state| serde_json::from_str(&state.value).unwrap())
    }
}
