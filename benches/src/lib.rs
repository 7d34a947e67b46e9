//! What Tandem's benchmarks share: the size of a run (full under `cargo bench`, tiny under
//! `cargo test`), a real tandem-server on 127.0.0.1 with a seeded team, laptops signed in to
//! it, synthetic data as pulled server writes, and the plain-SQL baselines.
//!
//! The benchmarks themselves are the files beside `Cargo.toml`; `docs/benchmarks.md` says
//! what each measures and against what.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use tandem_protocol::{LoginRequest, LoginResponse, Role};
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::{Clock as _, SystemClock as ServerClock};
use tandem_server::store::{DatabaseLocation, ServerStore};
use tandem_server::{AppState, ServerSettings};
use tandem_store::{ServerWrite, SignIn, Store, StoreKey};
use tandem_sync::{Clock as _, HttpTransport, NoProgress, SyncReport, TransportSettings};
use tandem_synth::{SyntheticData, SyntheticRecord};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// The password of every benchmark user.
const PASSWORD: &str = "bench-password";

/// Whether this is a measuring run (`cargo bench`, which passes `--bench`) rather than the
/// smoke run of `cargo test`. Criterion decides its own mode by the same flags.
pub fn full_run() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// `full` in a measuring run, `smoke` otherwise. `TANDEM_BENCH_SCALE=N` divides the full
/// sizes by N, for a machine without the time or the disk for a full run.
pub fn size(full: usize, smoke: usize) -> usize {
    if !full_run() {
        return smoke;
    }
    let scale = std::env::var("TANDEM_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (full / scale).max(smoke)
}

/// How many times to repeat a measurement: `full` in a measuring run (whatever the scale),
/// `smoke` otherwise.
pub fn repeats(full: usize, smoke: usize) -> usize {
    if full_run() { full } else { smoke }
}

/// The wall clock, read at the benchmarks' edge.
pub fn now() -> DateTime<Utc> {
    tandem_sync::SystemClock.now()
}

/// A temporary directory on the ordinary file system (not tmpfs): a laptop's store is on a
/// disk, and its `fsync`s are part of what is measured.
pub fn disk_dir() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A new encrypted store in `dir`, with a random key (no keyring needed).
pub fn open_store(dir: &Path) -> Store {
    Store::open_with_key(&dir.join("tandem.db"), &StoreKey::generate()).expect("open the store")
}

/// Synthetic records as the server writes a pull would bring, with sequence numbers from
/// `first_seq` on; each write is a field's first version.
pub fn server_writes(records: &[SyntheticRecord], first_seq: u64) -> Vec<ServerWrite> {
    let author = Uuid::from_u128(0x0191_0000_0000_7000_8000_0000_0000_0001);
    let start_ms = now().timestamp_millis();
    records
        .iter()
        .flat_map(|r| r.fields.iter().map(move |(field, value)| (r, field, value)))
        .zip(first_seq..)
        .map(|((record, field, value), seq)| ServerWrite {
            seq,
            entity: record.entity.as_str().to_owned(),
            record_id: record.id,
            field: (*field).to_owned(),
            value: value.to_string(),
            version: seq,
            hlc: format!(
                "{:013}-00000-{author}",
                start_ms - 10_000_000 + i64::try_from(seq).unwrap_or(0)
            ),
            author_id: author,
        })
        .collect()
}

/// Fills a store with `clients` synced clients (and `contacts` contacts, none naming a coach)
/// as pulls would, in pages of 5,000 writes; returns the records.
pub fn fill_store(
    store: &mut Store,
    seed: u64,
    clients: usize,
    contacts: usize,
) -> Vec<SyntheticRecord> {
    fill_store_coached(store, seed, clients, contacts, Vec::new())
}

/// Fills a store as [`fill_store`] does, each contact logged by one of `coaches`.
pub fn fill_store_coached(
    store: &mut Store,
    seed: u64,
    clients: usize,
    contacts: usize,
    coaches: Vec<Uuid>,
) -> Vec<SyntheticRecord> {
    let records = SyntheticData::new(seed, now(), coaches).dataset(clients, contacts);
    let writes = server_writes(&records, 1);
    for page in writes.chunks(5_000) {
        let next = page.last().map_or(0, |w| w.seq);
        store
            .apply_pulled_page(page, &[], next, now(), now())
            .expect("apply a page");
    }
    records
}

/// A plain database for the baselines: the same pragmas as the store (WAL, `synchronous =
/// FULL`), encrypted with a raw key like the store or not at all, and one table of field
/// values without indexes beyond its key, history, outbox or search.
#[derive(Debug)]
pub struct PlainDatabase {
    conn: Connection,
    _dir: TempDir,
}

impl PlainDatabase {
    /// A new database; SQLCipher with a random key when `encrypted`, else plain SQLite.
    pub fn open(encrypted: bool) -> Self {
        let dir = disk_dir();
        let conn = Connection::open(dir.path().join("plain.db")).expect("open");
        if encrypted {
            let key = hex::encode(rand_key());
            conn.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
                .expect("key");
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .expect("WAL");
        assert_eq!(mode, "wal");
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE field_values (entity TEXT NOT NULL, record_id TEXT NOT NULL,
               field TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL,
               hlc TEXT NOT NULL, author_id TEXT NOT NULL,
               PRIMARY KEY (entity, record_id, field, version));",
        )
        .expect("schema");
        Self { conn, _dir: dir }
    }

    /// Inserts one row in its own transaction.
    pub fn insert_one(&mut self, write: &ServerWrite) {
        insert(&self.conn, write);
    }

    /// Inserts every row in one transaction.
    pub fn insert_all(&mut self, writes: &[ServerWrite]) {
        // DEFERRED (clippy.toml asks for it to be said): the baseline's database has no
        // other connection, so its writes never meet another's lock.
        #[allow(clippy::disallowed_methods)]
        let tx = self.conn.transaction().expect("begin");
        for write in writes {
            insert(&tx, write);
        }
        tx.commit().expect("commit");
    }
}

fn insert(conn: &Connection, write: &ServerWrite) {
    conn.prepare_cached(
        "INSERT INTO field_values (entity, record_id, field, value, version, hlc, author_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            write.entity,
            write.record_id.to_string(),
            write.field,
            write.value,
            i64::try_from(write.version).unwrap_or(i64::MAX),
            write.hlc,
            write.author_id.to_string(),
        ])
    })
    .expect("insert");
}

fn rand_key() -> [u8; 32] {
    rand::random()
}

/// The server's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A database in a throw-away PostgreSQL cluster (Debian's `postgresql` package), started
    /// the way tandem-server's own tests start it.
    Postgres,
}

// The cluster of tandem-server's PostgreSQL tests, shared rather than copied (its tests use
// more of it than the benches do).
#[path = "../../crates/tandem-server/tests/it/pg_cluster.rs"]
#[allow(dead_code)]
mod pg_cluster;

/// A real tandem-server on 127.0.0.1 over SQLite or PostgreSQL, with a team `bench` and a
/// coach, on its own runtime (two worker threads, like the machine).
#[derive(Debug)]
pub struct BenchServer {
    /// The runtime the server runs on; clients block on it too.
    pub runtime: tokio::runtime::Runtime,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's store.
    pub store: Arc<dyn ServerStore>,
    /// The team.
    pub team_id: Uuid,
    team_name: String,
    coach_id: Uuid,
    hash: String,
    _dir: TempDir,
}

/// The login name of the first coach.
pub const COACH: &str = "coach";

impl BenchServer {
    /// Starts a server whose database is a SQLite file in a temporary directory.
    pub fn start_sqlite() -> Self {
        Self::start(Backend::Sqlite)
    }

    /// Starts a server on `backend`.
    pub fn start(backend: Backend) -> Self {
        let dir = disk_dir();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let location = match backend {
            Backend::Sqlite => DatabaseLocation::Sqlite(dir.path().join("server.db")),
            Backend::Postgres => {
                DatabaseLocation::Postgres(runtime.block_on(pg_cluster::fresh_database()))
            }
        };
        let store = runtime.block_on(location.open()).expect("server store");
        let hashing = PasswordHashing::fast_insecure_for_tests();
        let hash = hashing.hash(PASSWORD).expect("hash");
        let settings = ServerSettings {
            password_hashing: hashing,
            ..ServerSettings::default()
        };
        let state = AppState::new(
            Arc::clone(&store),
            Arc::new(ServerClock) as Arc<dyn tandem_server::clock::Clock>,
            settings,
        )
        .expect("state");
        let team_name = "bench".to_owned();
        let (base, team_id, coach_id) = runtime.block_on(async {
            let now = ServerClock.now();
            let team = store
                .add_team(Uuid::now_v7(), &team_name, now)
                .await
                .expect("team");
            let coach = store
                .add_user(
                    Uuid::now_v7(),
                    COACH,
                    &hash,
                    Role::Coach,
                    std::slice::from_ref(&team_name),
                    now,
                )
                .await
                .expect("coach");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("address"));
            tokio::spawn(tandem_server::serve(
                listener,
                state,
                std::future::pending(),
            ));
            (base, team.id, coach.id)
        });
        Self {
            runtime,
            base,
            store,
            team_id,
            team_name,
            coach_id,
            hash,
            _dir: dir,
        }
    }

    /// Writes `clients` synthetic clients and `contacts` contacts into the team, as pushes
    /// by the coach (the path of `tandem-server seed-demo`); returns the records.
    pub fn seed(&self, seed: u64, clients: usize, contacts: usize) -> Vec<SyntheticRecord> {
        let records =
            SyntheticData::new(seed, now(), vec![self.coach_id]).dataset(clients, contacts);
        self.runtime
            .block_on(tandem_server::seed::push_records(
                self.store.as_ref(),
                self.team_id,
                self.coach_id,
                &records,
                now(),
            ))
            .expect("seed");
        records
    }

    /// Adds coaches `coach-0` .. `coach-{n-1}` to the team; returns their login names.
    pub fn add_coaches(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let name = format!("coach-{i}");
                self.runtime
                    .block_on(self.store.add_user(
                        Uuid::now_v7(),
                        &name,
                        &self.hash,
                        Role::Coach,
                        std::slice::from_ref(&self.team_name),
                        now(),
                    ))
                    .expect("add a coach");
                name
            })
            .collect()
    }

    /// Logs `username` in over HTTP as a new device: the answer and the device's transport.
    pub async fn log_in(&self, username: &str) -> (LoginResponse, HttpTransport) {
        let anonymous = HttpTransport::new(&self.base, None, settings()).expect("transport");
        let login = anonymous
            .login(&LoginRequest {
                username: username.to_owned(),
                password: PASSWORD.to_owned(),
                device_name: "bench laptop".to_owned(),
                team: None,
            })
            .await
            .expect("log in");
        let transport =
            HttpTransport::new(&self.base, Some(login.device_token.clone()), settings())
                .expect("transport");
        (login, transport)
    }

    /// A new laptop: an empty store on disk, signed in as `username`, not yet synced.
    pub fn laptop(&self, username: &str) -> Laptop {
        let dir = disk_dir();
        let mut store = open_store(dir.path());
        let (login, transport) = self.runtime.block_on(self.log_in(username));
        store
            .record_sign_in(&SignIn {
                server_url: self.base.clone(),
                user_id: login.user.id,
                username: username.to_owned(),
                role: "coach".to_owned(),
                team_id: self.team_id,
                team_name: self.team_name.clone(),
                device_id: login.device_id,
                device_name: "bench laptop".to_owned(),
                // Offline sign-in is not measured; argon2id would only add a constant.
                password_verifier: String::new(),
            })
            .expect("sign in");
        Laptop {
            store,
            transport,
            token: login.device_token,
            _dir: dir,
        }
    }

    /// Every pull page of the team's feed as the server sends it (the JSON bodies), fetched
    /// with `token` the way the sync engine pages through it.
    pub fn pull_bodies(&self, token: &str) -> Vec<u8> {
        self.runtime.block_on(async {
            let http = reqwest::Client::new();
            let mut after = 0u64;
            let mut all = Vec::new();
            loop {
                let body = http
                    .get(format!(
                        "{}/v1/sync/pull?after={after}&limit={}",
                        self.base,
                        tandem_sync::planner::PULL_PAGE_SIZE
                    ))
                    .bearer_auth(token)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .expect("pull")
                    .bytes()
                    .await
                    .expect("body");
                let page: tandem_protocol::PullResponse =
                    serde_json::from_slice(&body).expect("a pull page");
                all.extend_from_slice(&body);
                if !page.has_more {
                    return all;
                }
                after = page.next;
            }
        })
    }
}

fn settings() -> TransportSettings {
    TransportSettings {
        request_timeout: Duration::from_secs(120),
        ..TransportSettings::default()
    }
}

/// A laptop signed in to a [`BenchServer`].
#[derive(Debug)]
pub struct Laptop {
    /// Its encrypted store.
    pub store: Store,
    /// Its connection to the server.
    pub transport: HttpTransport,
    /// Its device token.
    pub token: String,
    _dir: TempDir,
}

impl Laptop {
    /// One sync cycle; panics when it fails, so a broken sync cannot pass for a fast one.
    pub fn sync(&mut self, server: &BenchServer) -> SyncReport {
        server
            .runtime
            .block_on(tandem_sync::sync_once(
                &mut self.store,
                &self.transport,
                &tandem_sync::SystemClock,
                &mut NoProgress,
            ))
            .unwrap_or_else(|error| panic!("sync failed: {error}"))
    }
}

/// Serves `body` to every GET over plain HTTP/1.1 on 127.0.0.1, on `runtime`: the limit
/// of moving those bytes over loopback. Returns the URL.
pub fn serve_raw_bytes(runtime: &tokio::runtime::Runtime, body: Arc<Vec<u8>>) -> String {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = Arc::clone(&body);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        url
    })
}

/// Downloads `url` with reqwest and returns the number of bytes received.
pub async fn fetch_len(http: &reqwest::Client, url: &str) -> usize {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("body")
        .len()
}

/// The initial sync of new laptops from a server holding `clients` clients and `contacts`
/// contacts, end to end over loopback HTTP (login excluded), against a raw transfer of the
/// same pull bodies in one plain HTTP response (the limit): `syncs` timed syncs, each of a
/// new laptop, and ten raw transfers. Prints a FIGURE line; returns the server and the last
/// laptop for further measurements.
pub fn measure_initial_sync(
    clients: usize,
    contacts: usize,
    syncs: usize,
) -> (BenchServer, Laptop, Vec<SyntheticRecord>) {
    let server = BenchServer::start_sqlite();
    let seeding = Instant::now();
    let records = server.seed(31, clients, contacts);
    let seeded_in = seeding.elapsed();
    let probe = server.laptop(COACH);
    let body = Arc::new(server.pull_bodies(&probe.token));
    let bytes = body.len();
    let url = serve_raw_bytes(&server.runtime, body);
    let http = reqwest::Client::new();
    let mut raw: Vec<Duration> = (0..10)
        .map(|_| {
            let started = Instant::now();
            let received = server.runtime.block_on(fetch_len(&http, &url));
            assert_eq!(received, bytes);
            started.elapsed()
        })
        .collect();
    let raw_median = quantile(&mut raw, 0.5);
    let mut times = Vec::new();
    let mut laptop = None;
    for _ in 0..syncs.max(1) {
        let mut fresh = server.laptop(COACH);
        let started = Instant::now();
        let report = fresh.sync(&server);
        times.push(started.elapsed());
        let expected: usize = records.iter().map(|r| r.fields.len()).sum();
        assert_eq!(report.pulled as usize, expected, "{report:?}");
        assert_eq!(report.pending_after, 0);
        laptop = Some(fresh);
    }
    let median = quantile(&mut times, 0.5);
    println!(
        "FIGURE initial_sync_{clients}_clients_{contacts}_contacts: {} field values, {:.1} MB of pull bodies; \
         tandem sync_once {times:.2?} (median {median:.2?}, {:.0} values/s); raw transfer median {raw_median:.2?}; \
         ratio {:.0}x; server seeded in {seeded_in:.2?}",
        records.iter().map(|r| r.fields.len()).sum::<usize>(),
        bytes as f64 / 1e6,
        records.iter().map(|r| r.fields.len()).sum::<usize>() as f64 / median.as_secs_f64(),
        median.as_secs_f64() / raw_median.as_secs_f64(),
    );
    (server, laptop.expect("at least one sync"), records)
}

/// The `q`-quantile (0..=1) of `samples`, which it sorts.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    let rank = (q * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_is_the_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(quantile(&mut samples, 0.95), Duration::from_millis(95));
        assert_eq!(quantile(&mut samples, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&mut samples, 1.0), Duration::from_millis(100));
        assert_eq!(
            quantile(&mut [Duration::from_millis(3)], 0.5),
            Duration::from_millis(3)
        );
    }
}
