//! A real tandem-server for the CLI's sync tests: in this test process, on 127.0.0.1:0, with
//! an in-memory SQLite store; the `tandem` processes reach it over HTTP.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;
use tandem_protocol::Role;
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::{Clock, SystemClock};
use tandem_server::store::{ServerStore, SqliteStore};
use tandem_server::{AppState, ServerSettings};
use uuid::Uuid;

use crate::TestStore;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) struct SyncServer {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) base: String,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) hash: String,
}

/// A team of its own: its name, a coach and a team lead.
pub(crate) struct Team {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) coach: String,
    pub(crate) lead: String,
}

pub(crate) fn server() -> &'static SyncServer {
    static SERVER: OnceLock<SyncServer> = OnceLock::new();
    SERVER.get_or_init(|| start_server(None))
}

/// A server of its own: plain HTTP, or HTTPS with `tls` (PEM certificate chain and key).
pub(crate) fn start_server(tls: Option<(&Path, &Path)>) -> SyncServer {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let hash = PasswordHashing::fast_insecure_for_tests()
        .hash(PASSWORD)
        .unwrap();
    serve(store, hash, bound_socket("127.0.0.1:0"), tls)
}

/// A TCP socket bound to `address` and not listening: it holds the port, and a connection
/// to it is refused.
fn bound_socket(address: &str) -> tokio::net::TcpSocket {
    let address: std::net::SocketAddr = address.parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // The port of a stopped server is taken again while its closed connections linger.
    socket.set_reuseaddr(true).unwrap();
    socket.bind(address).unwrap();
    socket
}

/// Serves `store` on `socket` until the returned server is dropped (its runtime, and with
/// it every connection, ends then).
fn serve(
    store: Arc<SqliteStore>,
    hash: String,
    socket: tokio::net::TcpSocket,
    tls: Option<(&Path, &Path)>,
) -> SyncServer {
    let tls = tls.map(|(cert, key)| tandem_server::tls::load_server_config(cert, key).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::new(
        Arc::clone(&store) as Arc<dyn ServerStore>,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        ServerSettings {
            password_hashing: PasswordHashing::fast_insecure_for_tests(),
            ..ServerSettings::default()
        },
    )
    .unwrap();
    let base = runtime.block_on(async {
        // Bound before the server task starts: connections queue on the listener.
        let listener = socket.listen(1024).unwrap();
        let address = listener.local_addr().unwrap();
        match tls {
            None => {
                tokio::spawn(tandem_server::serve(
                    listener,
                    state,
                    std::future::pending(),
                ));
                format!("http://{address}")
            }
            Some(tls) => {
                tokio::spawn(tandem_server::serve_tls(
                    listener,
                    tls,
                    state,
                    std::future::pending(),
                ));
                format!("https://{address}")
            }
        }
    });
    SyncServer {
        runtime,
        base,
        store,
        hash,
    }
}

impl SyncServer {
    /// Stops this (plain HTTP) server: its connections close and its address refuses new
    /// ones, as when a laptop loses the network; the port stays held, so that nothing else
    /// takes it meanwhile. The database stays, for [`StoppedServer::restart`].
    pub(crate) fn stop(self) -> StoppedServer {
        let address = self.base.trim_start_matches("http://").to_owned();
        drop(self.runtime);
        StoppedServer {
            socket: bound_socket(&address),
            store: self.store,
            hash: self.hash,
        }
    }

    pub(crate) fn new_team(&self) -> Team {
        let id = Uuid::now_v7();
        let team = Team {
            id,
            name: format!("team-{id}"),
            coach: format!("coach-{id}"),
            lead: format!("lead-{id}"),
        };
        let now = SystemClock.now();
        self.runtime.block_on(async {
            self.store.add_team(id, &team.name, now).await.unwrap();
            for (user, role) in [(&team.coach, Role::Coach), (&team.lead, Role::TeamLead)] {
                self.store
                    .add_user(
                        Uuid::now_v7(),
                        user,
                        &self.hash,
                        role,
                        std::slice::from_ref(&team.name),
                        now,
                    )
                    .await
                    .unwrap();
            }
        });
        team
    }
}

impl SyncServer {
    /// Adds a site named `name` (sites are the organisation's: every test's laptops see
    /// it, so tests name theirs uniquely), archived or not; returns its id.
    pub(crate) fn add_site(&self, name: &str, archived: bool) -> Uuid {
        self.runtime.block_on(async {
            let site = self
                .store
                .add_site(Uuid::now_v7(), name, SystemClock.now())
                .await
                .unwrap();
            if archived {
                self.store.set_site_archived(site.id, true).await.unwrap();
            }
            site.id
        })
    }
}

/// A server stopped by [`SyncServer::stop`], with its database.
pub(crate) struct StoppedServer {
    socket: tokio::net::TcpSocket,
    store: Arc<SqliteStore>,
    hash: String,
}

impl StoppedServer {
    /// The same server again, on the same address and database.
    pub(crate) fn restart(self) -> SyncServer {
        serve(self.store, self.hash, self.socket, None)
    }
}

impl TestStore {
    /// `tandem login` with `password` on standard input; returns the process output.
    pub(crate) fn login_with(
        &self,
        server: &SyncServer,
        username: &str,
        password: &str,
    ) -> std::process::Output {
        self.login_at(&server.base, username, password)
    }

    /// `tandem login --server base` with `password` on standard input.
    pub(crate) fn login_at(
        &self,
        base: &str,
        username: &str,
        password: &str,
    ) -> std::process::Output {
        let args = [
            "--json",
            "login",
            "--server",
            base,
            "--username",
            username,
            "--password-stdin",
        ];
        self.run_with_input(&args, format!("{password}\n").as_bytes())
    }

    /// Signs in with the right password, failing the test otherwise.
    pub(crate) fn login(&self, server: &SyncServer, username: &str) -> Json {
        let output = self.login_with(server, username, PASSWORD);
        assert!(
            output.status.success(),
            "login failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}
