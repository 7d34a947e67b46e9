//! A real server on 127.0.0.1:0 over a real database of either backend, with a
//! controllable clock, seeded teams and users, and a small HTTP client that speaks the
//! protocol. [`both_backends!`] turns one test body into a test per backend, so the whole
//! suite is the conformance suite of SQLite and PostgreSQL alike.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tandem_protocol::{
    ChangeIn, ChangeResult, LoginResponse, PullResponse, PushRequest, PushResponse, Role,
    SCHEMA_VERSION,
};
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::{Clock, ManualClock};
use tandem_server::store::{AuditFilter, PostgresStore, ServerStore, SqliteStore};
use tandem_server::{AppState, LoginRateLimit, ServerError, ServerSettings};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::pg_cluster;

/// Makes `name(backend: Backend)`, an async fn in the same module, into one test per
/// backend: `name::on_sqlite` and `name::on_postgres`. `multi_thread:` before the name runs
/// it on tokio's multi-threaded runtime (for tests that push from several tasks at once).
macro_rules! both_backends {
    ($name:ident) => {
        both_backends!(@tests $name, tokio::test);
    };
    (multi_thread: $name:ident) => {
        both_backends!(@tests $name, tokio::test(flavor = "multi_thread", worker_threads = 4));
    };
    (@tests $name:ident, $test:meta) => {
        mod $name {
            #[$test]
            async fn on_sqlite() {
                super::$name($crate::harness::Backend::Sqlite).await;
            }

            #[$test]
            async fn on_postgres() {
                super::$name($crate::harness::Backend::Postgres).await;
            }
        }
    };
}

pub(crate) const PASSWORD: &str = "correct horse battery";
/// 2026-01-15T10:00:00Z.
pub(crate) const NOW_MS: i64 = 1_768_471_200_000;
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// The store backends every conformance test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A file in a temporary directory (a file, not `:memory:`, so that a second server
    /// instance can open the same database).
    Sqlite,
    /// A fresh database in the test binary's own PostgreSQL cluster.
    Postgres,
}

/// A fresh, empty database of one backend, kept for as long as a server uses it.
#[derive(Debug)]
pub(crate) enum TestDatabase {
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
    },
}

impl TestDatabase {
    pub(crate) async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                TestDatabase::Sqlite {
                    path: dir.path().join("tandem-server.db"),
                    _dir: dir,
                }
            }
            Backend::Postgres => TestDatabase::Postgres {
                url: pg_cluster::fresh_database().await,
            },
        }
    }

    /// A fresh, empty database whose own text order is a language's, not the bytes' (as in a
    /// production PostgreSQL created in a Finnish or English locale): PostgreSQL's ICU root
    /// locale, where `aino` sorts before `Zoe`. Shows that a query meant to sort byte for byte
    /// says so (`COLLATE "C"`) rather than relying on the test cluster's C locale. SQLite has
    /// no database-wide order: its BINARY default is the bytes'.
    pub(crate) async fn create_in_language_order(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::create(backend).await,
            Backend::Postgres => TestDatabase::Postgres {
                url: pg_cluster::fresh_database_in_language_order().await,
            },
        }
    }

    /// Opens (and migrates) a store on this database: each call is what one more server
    /// instance would have, its own connection or pool.
    pub(crate) async fn open_store(&self) -> Arc<dyn ServerStore> {
        self.try_open_store().await.unwrap()
    }

    pub(crate) async fn try_open_store(&self) -> Result<Arc<dyn ServerStore>, ServerError> {
        Ok(match self {
            TestDatabase::Sqlite { path, .. } => Arc::new(SqliteStore::open(path)?),
            TestDatabase::Postgres { url } => Arc::new(PostgresStore::connect(url).await?),
        })
    }
}

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) store: Arc<dyn ServerStore>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) teams: Vec<(String, Uuid)>,
    pub(crate) database: Arc<TestDatabase>,
    /// The counters this instance serves at /metrics.
    pub(crate) metrics: tandem_server::metrics::ServerMetrics,
    /// The gate of this instance's password checks (a test may take its places).
    pub(crate) login_gate: tandem_server::auth::LoginGate,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// Users made by [`start`]: name, role, team.
pub(crate) const USERS: &[(&str, Role, Option<&str>)] = &[
    ("coach_a", Role::Coach, Some("north")),
    ("coach_b", Role::Coach, Some("north")),
    ("lead_n", Role::TeamLead, Some("north")),
    ("coach_s", Role::Coach, Some("south")),
    ("lead_s", Role::TeamLead, Some("south")),
    ("admin", Role::Admin, None),
];

/// A server on a fresh database of `backend`, with teams north and south and [`USERS`].
pub(crate) async fn start(backend: Backend) -> TestServer {
    start_on(TestDatabase::create(backend).await).await
}

/// A server on `database`, which must be empty, with teams north and south and [`USERS`].
pub(crate) async fn start_on(database: TestDatabase) -> TestServer {
    let store = database.open_store().await;
    start_with_store(database, store).await
}

/// [`start`] with the test's settings changed by `configure`.
pub(crate) async fn start_configured(
    backend: Backend,
    configure: impl FnOnce(&mut ServerSettings),
) -> TestServer {
    let database = TestDatabase::create(backend).await;
    let store = database.open_store().await;
    let mut settings = settings();
    configure(&mut settings);
    start_with_settings(database, store, settings).await
}

/// [`start_on`] with a store of the test's making (on `database`), say with a pool of its own
/// limits.
pub(crate) async fn start_with_store(
    database: TestDatabase,
    store: Arc<dyn ServerStore>,
) -> TestServer {
    start_with_settings(database, store, settings()).await
}

async fn start_with_settings(
    database: TestDatabase,
    store: Arc<dyn ServerStore>,
    settings: ServerSettings,
) -> TestServer {
    let database = Arc::new(database);
    let now = DateTime::<Utc>::from_timestamp_millis(NOW_MS).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let hashing = PasswordHashing::fast_insecure_for_tests();
    let mut teams = Vec::new();
    for (i, name) in ["north", "south"].into_iter().enumerate() {
        let team = store
            .add_team(Uuid::from_u128(0x7000 + i as u128), name, now)
            .await
            .unwrap();
        teams.push((name.to_owned(), team.id));
    }
    let hash = hashing.hash(PASSWORD).unwrap();
    for (i, (name, role, team)) in USERS.iter().enumerate() {
        let teams: Vec<String> = team.iter().map(|t| (*t).to_owned()).collect();
        store
            .add_user(
                Uuid::from_u128(0x9000 + i as u128),
                name,
                &hash,
                *role,
                &teams,
                now,
            )
            .await
            .unwrap();
    }
    serve(database, store, clock, teams, settings).await
}

fn settings() -> ServerSettings {
    ServerSettings {
        body_limit_bytes: BODY_LIMIT,
        login_rate_limit: LoginRateLimit {
            per_username: 5,
            per_address: 50,
            ..LoginRateLimit::default()
        },
        password_hashing: PasswordHashing::fast_insecure_for_tests(),
        ..ServerSettings::default()
    }
}

async fn serve(
    database: Arc<TestDatabase>,
    store: Arc<dyn ServerStore>,
    clock: Arc<ManualClock>,
    teams: Vec<(String, Uuid)>,
    settings: ServerSettings,
) -> TestServer {
    let state = AppState::new(
        Arc::clone(&store),
        Arc::clone(&clock) as Arc<dyn Clock>,
        settings,
    )
    .unwrap();
    // Bound before the server task starts: connections queue on the listener, no sleeping.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let metrics = state.metrics.clone();
    let login_gate = state.login_gate().clone();
    tokio::spawn(tandem_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestServer {
        base,
        http: reqwest::Client::new(),
        store,
        clock,
        teams,
        database,
        metrics,
        login_gate,
        shutdown: Some(stop),
    }
}

impl TestServer {
    /// A second server instance on this server's database: its own store (connection or
    /// pool), router and port, sharing only the database and the test's clock.
    pub(crate) async fn another_instance(&self) -> TestServer {
        let store = self.database.open_store().await;
        serve(
            Arc::clone(&self.database),
            store,
            Arc::clone(&self.clock),
            self.teams.clone(),
            settings(),
        )
        .await
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: Uuid,
    pub(crate) token: String,
    pub(crate) user_id: Uuid,
    // Atomic rather than a Cell so that a device can push from a spawned task.
    logical: Arc<AtomicU32>,
}

impl Device {
    /// An HLC of this device at `ms` (each call a new logical count, so they are distinct).
    pub(crate) fn hlc(&self, ms: i64) -> String {
        let logical = self.logical.fetch_add(1, Ordering::Relaxed);
        format!("{ms:013}-{logical:05}-{}", self.id)
    }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|err| panic!("{err}: {}", self.body))
    }

    pub(crate) fn error_code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl TestServer {
    /// Asserts that `GET path` needs a live device token: refused (401) without a token, with
    /// a forged one, and with `device`'s once it is revoked (`device_revoked`), which this
    /// does last.
    pub(crate) async fn assert_get_needs_a_live_token(&self, path: &str, device: &Device) {
        let no_token = self.request(Method::GET, path, None, None).await;
        assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
        assert_eq!(no_token.error_code(), "unauthorized");
        let forged = self
            .request(Method::GET, path, Some("tdt1_forged"), None)
            .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        self.store.revoke_device(device.id).await.unwrap();
        let revoked = self
            .request(Method::GET, path, Some(&device.token), None)
            .await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
        assert_eq!(revoked.error_code(), "device_revoked");
    }

    /// `GET path` as `device`, which must succeed; its answer.
    pub(crate) async fn get_ok<T: DeserializeOwned>(&self, path: &str, device: &Device) -> T {
        let reply = self
            .request(Method::GET, path, Some(&device.token), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.json()
    }

    /// How many entries the audit log holds (a test's log stays under one page of 1,000).
    pub(crate) async fn audit_len(&self) -> usize {
        let all = AuditFilter {
            after: 0,
            limit: 1000,
            team_id: None,
            record_id: None,
        };
        let len = self.store.audit_entries(all).await.unwrap().len();
        assert!(
            len < 1000,
            "the audit log outgrew one page: count it in pages"
        );
        len
    }

    pub(crate) fn team(&self, name: &str) -> Uuid {
        self.teams.iter().find(|t| t.0 == name).unwrap().1
    }

    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_reply(request.send().await.unwrap()).await
    }

    pub(crate) async fn raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        into_reply(request.send().await.unwrap()).await
    }

    pub(crate) async fn login_reply(&self, username: &str, password: &str) -> Reply {
        self.request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password, "device_name": "laptop"})),
        )
        .await
    }

    pub(crate) async fn login(&self, username: &str) -> Device {
        let reply = self.login_reply(username, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let login: LoginResponse = reply.json();
        Device {
            id: login.device_id,
            token: login.device_token,
            user_id: login.user.id,
            logical: Arc::new(AtomicU32::new(0)),
        }
    }

    pub(crate) async fn push_reply(&self, device: &Device, changes: Vec<ChangeIn>) -> Reply {
        let request = PushRequest {
            device_id: device.id,
            schema_version: SCHEMA_VERSION,
            app_version: "test".into(),
            pending_count: changes.len() as u64,
            changes,
        };
        self.request(
            Method::POST,
            "/v1/sync/push",
            Some(&device.token),
            Some(serde_json::to_value(request).unwrap()),
        )
        .await
    }

    pub(crate) async fn push(&self, device: &Device, changes: Vec<ChangeIn>) -> Vec<ChangeResult> {
        let reply = self.push_reply(device, changes).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json::<PushResponse>().results
    }

    pub(crate) async fn pull_reply(&self, device: &Device, after: u64, limit: u32) -> Reply {
        self.request(
            Method::GET,
            &format!("/v1/sync/pull?after={after}&limit={limit}"),
            Some(&device.token),
            None,
        )
        .await
    }

    pub(crate) async fn pull(&self, device: &Device, after: u64, limit: u32) -> PullResponse {
        let reply = self.pull_reply(device, after, limit).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()
    }

    /// Every change the device's team has, by following `next` until `has_more` is false.
    pub(crate) async fn pull_all(&self, device: &Device) -> Vec<tandem_protocol::PulledChange> {
        let (mut after, mut all) = (0, Vec::new());
        loop {
            let page = self.pull(device, after, 100).await;
            all.extend(page.changes);
            after = page.next;
            if !page.has_more {
                return all;
            }
        }
    }
}

pub(crate) async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        body,
        headers,
    }
}

/// A change by `device` to one field.
pub(crate) fn change(
    device: &Device,
    entity: &str,
    record_id: Uuid,
    field: &str,
    value: Value,
    base_version: u64,
    hlc_ms: i64,
) -> ChangeIn {
    ChangeIn {
        change_id: Uuid::now_v7(),
        entity: entity.into(),
        record_id,
        field: field.into(),
        value,
        base_version,
        hlc: device.hlc(hlc_ms),
        author_id: device.user_id,
    }
}

/// The team lead's merge of `duplicate` into `survivor` (`POST /v1/duplicates/merge`).
pub(crate) async fn merge(
    server: &TestServer,
    lead: &Device,
    survivor: Uuid,
    duplicate: Uuid,
) -> Reply {
    server
        .request(
            Method::POST,
            "/v1/duplicates/merge",
            Some(&lead.token),
            Some(json!({"survivor_id": survivor, "duplicate_id": duplicate})),
        )
        .await
}

/// A team lead undoes the merge `merge_id` (`POST /v1/duplicates/merge/{id}/undo`).
pub(crate) async fn undo(server: &TestServer, lead: &Device, merge_id: Uuid) -> Reply {
    server
        .request(
            Method::POST,
            &format!("/v1/duplicates/merge/{merge_id}/undo"),
            Some(&lead.token),
            None,
        )
        .await
}

/// Creates a client with a given name; returns its id and the version of every field.
pub(crate) async fn create_client(
    server: &TestServer,
    device: &Device,
    fields: &[(&str, Value)],
) -> (Uuid, Vec<u64>) {
    let id = Uuid::now_v7();
    let changes = fields
        .iter()
        .map(|(field, value)| {
            change(
                device,
                "client",
                id,
                field,
                value.clone(),
                0,
                NOW_MS - 60_000,
            )
        })
        .collect();
    let results = server.push(device, changes).await;
    for result in &results {
        assert_eq!(
            result.status,
            tandem_protocol::ChangeStatus::Applied,
            "{result:?}"
        );
    }
    (id, results.iter().map(|r| r.version).collect())
}
