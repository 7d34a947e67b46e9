//! A real tandem-server on 127.0.0.1:0 with an in-memory SQLite store, started once per
//! test binary on its own runtime and shared by every test; each test makes its own team and
//! users, so tests do not see each other's records.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use tandem_protocol::PulledPurge;
use tandem_protocol::Role;
use tandem_server::audit::AuditActor;
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::{Clock, SystemClock};
use tandem_server::store::{ErasureReason, ErasureRequest, PrivacyStore, ServerStore, SqliteStore};
use tandem_server::{AppState, ServerSettings};
use uuid::Uuid;

pub(crate) const PASSWORD: &str = "correct horse battery";

/// The shared server and the runtime it runs on.
pub(crate) struct SharedServer {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) base: String,
    pub(crate) store: Arc<SqliteStore>,
    /// The `base_version` of every change a push delivered, by change id, as the laptop sent
    /// it (recorded in front of the server; the first delivery that the server answered).
    pub(crate) pushed_bases: Arc<Mutex<HashMap<Uuid, u64>>>,
    hash: String,
}

/// A team of its own with a coach and a team lead.
#[derive(Debug, Clone)]
pub(crate) struct TestTeam {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) coach: String,
    pub(crate) lead: String,
}

fn now() -> DateTime<Utc> {
    SystemClock.now()
}

pub(crate) fn shared() -> &'static SharedServer {
    static SERVER: OnceLock<SharedServer> = OnceLock::new();
    SERVER.get_or_init(private)
}

/// A server of its own, for a test whose actions reach every team (a retention run).
pub(crate) fn private() -> SharedServer {
    serve(SqliteStore::open_in_memory().unwrap())
}

/// A server of its own that refuses request bodies over `bytes` (413).
pub(crate) fn private_with_body_limit(bytes: usize) -> SharedServer {
    serve_with(SqliteStore::open_in_memory().unwrap(), bytes)
}

/// A server of its own on `store` (a database file, for a restore drill).
pub(crate) fn serve(store: SqliteStore) -> SharedServer {
    serve_with(store, ServerSettings::default().body_limit_bytes)
}

fn serve_with(store: SqliteStore, body_limit_bytes: usize) -> SharedServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(store);
    let hashing = PasswordHashing::fast_insecure_for_tests();
    let hash = hashing.hash(PASSWORD).unwrap();
    let settings = ServerSettings {
        password_hashing: hashing,
        body_limit_bytes,
        ..ServerSettings::default()
    };
    let state = AppState::new(
        Arc::clone(&store) as Arc<dyn ServerStore>,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        settings,
    )
    .unwrap();
    let pushed_bases = Arc::new(Mutex::new(HashMap::new()));
    let base = runtime.block_on(async {
        // Bound before the server task starts: connections queue on the listener.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let recorder = Arc::clone(&pushed_bases);
        let app = tandem_server::router(state)
            .layer(axum::middleware::from_fn(move |request, next| {
                record_pushed_bases(Arc::clone(&recorder), request, next)
            }))
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    });
    SharedServer {
        runtime,
        base,
        store,
        pushed_bases,
        hash,
    }
}

/// Notes the `base_version` of each change of a push that the server answered with success.
async fn record_pushed_bases(
    bases: Arc<Mutex<HashMap<Uuid, u64>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.uri().path() != "/v1/sync/push" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return axum::http::StatusCode::BAD_REQUEST.into_response();
    };
    let gzipped = parts
        .headers
        .get(axum::http::header::CONTENT_ENCODING)
        .is_some_and(|encoding| encoding == "gzip");
    let mut json = Vec::new();
    if gzipped {
        // Undecodable bytes record nothing; the server answers them itself.
        let _ = flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut json);
    } else {
        json.extend_from_slice(&bytes);
    }
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    let response = next.run(request).await;
    if response.status().is_success()
        && let Ok(push) = serde_json::from_slice::<tandem_protocol::PushRequest>(&json)
    {
        let mut bases = bases.lock().unwrap();
        for change in push.changes {
            bases.entry(change.change_id).or_insert(change.base_version);
        }
    }
    response
}

impl SharedServer {
    /// A fresh team with a coach and a team lead (password [`PASSWORD`]).
    pub(crate) fn new_team(&self) -> TestTeam {
        let id = Uuid::now_v7();
        let name = format!("team-{id}");
        let coach = format!("coach-{id}");
        let lead = format!("lead-{id}");
        self.runtime.block_on(async {
            self.store.add_team(id, &name, now()).await.unwrap();
            for (user, role) in [(&coach, Role::Coach), (&lead, Role::TeamLead)] {
                self.store
                    .add_user(
                        Uuid::now_v7(),
                        user,
                        &self.hash,
                        role,
                        std::slice::from_ref(&name),
                        now(),
                    )
                    .await
                    .unwrap();
            }
        });
        TestTeam {
            id,
            name,
            coach,
            lead,
        }
    }

    /// Erases a client of `team` as its team lead would (`POST /v1/clients/{id}/erase`
    /// calls the same store method).
    pub(crate) fn erase_client(&self, team: &TestTeam, client: Uuid) -> Vec<PulledPurge> {
        self.runtime
            .block_on(self.store.erase_clients(ErasureRequest {
                clients: vec![client],
                team_id: Some(team.id),
                actor: AuditActor::Operator,
                reason: ErasureReason::Request,
                now: now(),
            }))
            .unwrap()
    }

    /// Revokes a device.
    pub(crate) fn revoke(&self, device_id: Uuid) {
        self.runtime
            .block_on(self.store.revoke_device(device_id))
            .unwrap();
    }
}
