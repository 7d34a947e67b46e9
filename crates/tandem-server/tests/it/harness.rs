//! A real server on 127.0.0.1:0 with a controllable clock, seeded teams and users, and a
//! small HTTP client that speaks the protocol.

use std::sync::Arc;

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
use tandem_server::store::{ServerStore, SqliteStore};
use tandem_server::{AppState, LoginRateLimit, ServerSettings};
use tokio::sync::oneshot;
use uuid::Uuid;

pub(crate) const PASSWORD: &str = "correct horse battery";
/// 2026-01-15T10:00:00Z.
pub(crate) const NOW_MS: i64 = 1_768_471_200_000;
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) teams: Vec<(String, Uuid)>,
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

pub(crate) async fn start() -> TestServer {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
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
    let settings = ServerSettings {
        body_limit_bytes: BODY_LIMIT,
        login_rate_limit: LoginRateLimit {
            per_username: 5,
            per_address: 50,
            ..LoginRateLimit::default()
        },
        password_hashing: hashing,
        ..ServerSettings::default()
    };
    let state = AppState::new(
        Arc::clone(&store) as Arc<dyn ServerStore>,
        Arc::clone(&clock) as Arc<dyn Clock>,
        settings,
    )
    .unwrap();
    // Bound before the server task starts: connections queue on the listener, no sleeping.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(tandem_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestServer {
        base,
        http: reqwest::Client::new(),
        store,
        clock,
        teams,
        shutdown: Some(stop),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: Uuid,
    pub(crate) token: String,
    pub(crate) user_id: Uuid,
    logical: std::cell::Cell<u32>,
}

impl Device {
    /// An HLC of this device at `ms` (each call a new logical count, so they are distinct).
    pub(crate) fn hlc(&self, ms: i64) -> String {
        let logical = self.logical.get();
        self.logical.set(logical + 1);
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
            logical: std::cell::Cell::new(0),
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

    pub(crate) async fn pull(&self, device: &Device, after: u64, limit: u32) -> PullResponse {
        let reply = self
            .request(
                Method::GET,
                &format!("/v1/sync/pull?after={after}&limit={limit}"),
                Some(&device.token),
                None,
            )
            .await;
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

async fn into_reply(response: reqwest::Response) -> Reply {
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
