//! One throw-away PostgreSQL cluster per test binary, started on first use from Debian's
//! `postgresql` package, and a fresh database in it for every test.
//!
//! The cluster lives in a temporary directory, listens on 127.0.0.1 at a free port (and on
//! a Unix socket in that directory, never in /var/run/postgresql), and asks for a random
//! password over TCP, so it neither depends on nor disturbs a PostgreSQL the machine may
//! run. PostgreSQL refuses to run as root: as root, every PostgreSQL command runs as the
//! `postgres` user through `runuser`. A guardian process stops the cluster and removes its
//! directory once this process is gone, however it ends (statics are never dropped, and a
//! panic or a kill skips destructors).

use std::fs::File;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use uuid::Uuid;

/// Where Debian puts the server binaries of each installed major version.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";
/// The cluster's superuser, whom the tests connect as.
const SUPERUSER: &str = "tandem";
/// How often to retry a start that lost its free port to another process.
const START_ATTEMPTS: usize = 5;

struct Cluster {
    port: u16,
    password: String,
    /// Held open for the life of the process; the guardian acts when it closes.
    _guardian: Mutex<ChildStdin>,
}

impl Cluster {
    fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database, for one test. Fails the test, saying what to do, when
/// the cluster cannot be started (for instance when PostgreSQL is not installed).
pub(crate) async fn fresh_database() -> String {
    let name = next_name("tandem_test");
    superuser(&format!("CREATE DATABASE {name}")).await;
    cluster().await.url(&name)
}

/// [`fresh_database`] with the ICU root locale as the database's collation (the cluster's
/// is C, byte order): text sorts as people read it, ignoring case first (`aino` before `Zoe`).
/// Debian's PostgreSQL is built with ICU, so this needs no operating-system locale (but
/// PostgreSQL 15 or later, for `LOCALE_PROVIDER`).
pub(crate) async fn fresh_database_in_language_order() -> String {
    let name = next_name("tandem_test");
    superuser(&format!(
        "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'"
    ))
    .await;
    cluster().await.url(&name)
}

/// A new, empty database whose files live in a directory of the test's choosing (in a
/// tablespace made there for it), say on a disk that the test fills up. The directory must
/// be empty, and the cluster's user must own it.
pub(crate) struct DatabaseIn {
    pub(crate) url: String,
    name: String,
    tablespace: String,
}

impl DatabaseIn {
    pub(crate) async fn create(location: &Path) -> Self {
        let name = next_name("tandem_test");
        let tablespace = next_name("tandem_space");
        let location = location.to_str().expect("a UTF-8 path");
        superuser(&format!(
            "CREATE TABLESPACE {tablespace} LOCATION '{location}'"
        ))
        .await;
        superuser(&format!("CREATE DATABASE {name} TABLESPACE {tablespace}")).await;
        Self {
            url: cluster().await.url(&name),
            name,
            tablespace,
        }
    }

    /// Drops the database (closing its connections) and then the tablespace, so that the
    /// directory can go.
    pub(crate) async fn remove(self) {
        superuser(&format!("DROP DATABASE {} WITH (FORCE)", self.name)).await;
        superuser(&format!("DROP TABLESPACE {}", self.tablespace)).await;
    }
}

/// Makes the database at `url` (one of [`fresh_database`]'s) refuse connections and ends
/// those it has, the way a stopped or restarting database looks to a server; or lets it
/// take connections again.
pub(crate) async fn allow_connections(url: &str, allow: bool) {
    let name = url.rsplit('/').next().expect("a database URL");
    superuser(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}")).await;
    if !allow {
        // Waits (up to 10 s) until each session has ended, not only until it was told to.
        superuser(&format!(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await;
    }
}

/// Writes every dirty page of the cluster to its files (`CHECKPOINT`). PostgreSQL leaves
/// holes in the files of a new database (it extends them to their length in one write and
/// fills the pages in later), and writing a page into a hole needs disk space: after a
/// checkpoint, the pages of a database's files have their space.
pub(crate) async fn checkpoint() {
    superuser("CHECKPOINT").await;
}

async fn cluster() -> &'static Cluster {
    let cluster = tokio::task::spawn_blocking(|| CLUSTER.get_or_init(start_cluster).as_ref())
        .await
        .unwrap();
    match cluster {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    }
}

fn next_name(prefix: &str) -> String {
    format!("{prefix}_{}", DATABASES.fetch_add(1, Ordering::Relaxed) + 1)
}

/// Runs `sql` as the cluster's superuser, in its `postgres` database.
async fn superuser(sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(&cluster().await.url("postgres"), tokio_postgres::NoTls)
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    drop(client);
    connection.await.unwrap().unwrap();
}

/// The directory holding `initdb` and `pg_ctl`: `TANDEM_PG_BINDIR`, or the newest version
/// Debian's package installed.
pub(crate) fn find_bin_dir() -> Result<PathBuf, String> {
    let chosen = match std::env::var_os("TANDEM_PG_BINDIR") {
        Some(dir) => Some(PathBuf::from(dir)).filter(|dir| dir.join("initdb").is_file()),
        None => newest_debian_bin_dir(),
    };
    chosen.ok_or_else(|| {
        format!(
            "the PostgreSQL conformance tests need PostgreSQL's server programs (initdb, \
             pg_ctl), and none were found in {}. Run scripts/test, which installs Debian's \
             `postgresql` package (or `apt-get install -y postgresql` yourself), or point \
             TANDEM_PG_BINDIR at a directory holding initdb and pg_ctl.",
            std::env::var("TANDEM_PG_BINDIR").unwrap_or_else(|_| format!("{DEBIAN_PG_ROOT}/*/bin"))
        )
    })
}

fn newest_debian_bin_dir() -> Option<PathBuf> {
    std::fs::read_dir(DEBIAN_PG_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A command for a PostgreSQL program, run as `postgres` when we are root.
fn pg_command(as_postgres: bool, program: &Path, dir: &Path) -> Command {
    let mut command = if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    // The test's working directory may be closed to the postgres user.
    command.current_dir(dir).stdin(Stdio::null());
    command
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|err| format!("{what}: could not run it: {err}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn free_port() -> Result<u16, String> {
    // Another process may take the port between this and the server's bind; the start is
    // retried with a new port when that happens.
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|err| format!("finding a free port: {err}"))?;
    Ok(listener
        .local_addr()
        .map_err(|err| format!("finding a free port: {err}"))?
        .port())
}

fn start_cluster() -> Result<Cluster, String> {
    let bin = find_bin_dir()?;
    let as_postgres = is_root();
    // Under /tmp whatever TMPDIR says: the postgres user must be able to reach it, and the
    // Unix socket's path in it must stay under the kernel's 107-byte limit.
    let dir = tempfile::Builder::new()
        .prefix("tandem-pg-")
        .tempdir_in("/tmp")
        .map_err(|err| format!("making the cluster's directory: {err}"))?
        .keep();
    let data = dir.join("data");

    // The guardian comes first, so that nothing started below can outlive this process.
    // It waits for its standard input to close (this process exiting, however it exits),
    // then stops the cluster and removes the directory. Its own process group keeps a
    // Ctrl-C in the terminal from ending it before it has cleaned up.
    let mut guardian = Command::new("sh")
        .args([
            "-c",
            r#"bin=$1; dir=$2; shift 2
               cat >/dev/null
               "$@" "$bin/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null 2>&1
               rm -rf "$dir""#,
            "tandem-pg-guardian",
        ])
        .arg(&bin)
        .arg(&dir)
        .args(if as_postgres {
            &["runuser", "-u", "postgres", "--"][..]
        } else {
            &[]
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|err| format!("starting the cluster's guardian: {err}"))?;
    let guardian = guardian
        .stdin
        .take()
        .ok_or("the guardian has no standard input")?;

    let password = Uuid::new_v4().simple().to_string();
    let password_file = dir.join("password");
    File::create(&password_file)
        .and_then(|mut file| file.write_all(password.as_bytes()))
        .map_err(|err| format!("writing the password file: {err}"))?;
    if as_postgres {
        run(
            Command::new("chown").args(["-R", "postgres:"]).arg(&dir),
            "chown postgres of the cluster's directory",
        )?;
    }
    run(
        pg_command(as_postgres, &bin.join("initdb"), &dir)
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", password_file.display())),
        "initdb",
    )?;

    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        // Durability is worthless in a cluster that is deleted at exit; speed is not.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            dir.display()
        );
        // -w: pg_ctl returns once the server accepts connections (or has failed).
        let started = run(
            pg_command(as_postgres, &bin.join("pg_ctl"), &dir)
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-o", &options])
                .process_group(0),
            "pg_ctl start",
        );
        match started {
            Ok(()) => {
                return Ok(Cluster {
                    port,
                    password,
                    _guardian: Mutex::new(guardian),
                });
            }
            Err(err) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                last_error = format!("{err}\nserver log:\n{log}");
            }
        }
    }
    Err(format!(
        "the test PostgreSQL cluster in {} did not start: {last_error}",
        dir.display()
    ))
}
