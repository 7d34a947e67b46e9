//! The `tandem-server` command: serve the sync API, migrate, administer teams, users,
//! sites and devices, and seed demo data. Global flags find the same database for every subcommand.

use std::io::{IsTerminal, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use tandem_protocol::Role;
use tandem_server::audit::{AuditActor, ChainWalker};
use tandem_server::clock::{Clock, SystemClock, new_uuid_v7};
use tandem_server::retention::{DEFAULT_RETENTION_YEARS, RetentionPolicy, run_retention};
use tandem_server::store::{
    AuditFilter, DatabaseLocation, Epoch, ErasureReason, ErasureRequest, ServerStore, SqliteStore,
};
use tandem_server::{AppState, ServerSettings};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "tandem-server",
    version,
    about = "Tandem's central municipal server"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The server's configuration, accepted by every command (listed apart from a command's own
/// options in its help).
#[derive(Debug, Args)]
#[command(next_help_heading = "Server configuration (every command)")]
struct GlobalArgs {
    /// Directory for the SQLite database when no --database-url is given.
    #[arg(long, global = true, env = "TANDEM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8787].
    #[arg(long, global = true, env = "TANDEM_LISTEN")]
    listen: Option<SocketAddr>,
    /// `sqlite:PATH` (or a plain path), or `postgres://user:password@host:port/db` for
    /// PostgreSQL (several instances may share one PostgreSQL database).
    #[arg(long, global = true, env = "TANDEM_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with the same keys (data_dir, listen, database_url, body_limit_bytes,
    /// request_timeout_secs, tls_cert, tls_key, metrics_listen, retention_years,
    /// trusted_proxies: a list of addresses); flags win over it.
    #[arg(long, global = true, env = "TANDEM_CONFIG")]
    config: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (server certificate first); needs
    /// --tls-key. Without both, `serve` speaks plain HTTP (e.g. behind a TLS proxy).
    #[arg(long, global = true, env = "TANDEM_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, global = true, env = "TANDEM_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDRESS/metrics, on this address of its own (keep
    /// it reachable from the monitoring network only). Without it there is no /metrics.
    #[arg(
        long,
        global = true,
        env = "TANDEM_METRICS_LISTEN",
        value_name = "ADDRESS"
    )]
    metrics_listen: Option<SocketAddr>,
    /// A TLS-terminating proxy in front of the server (repeat for several; a list separated
    /// by commas in the environment). A login from one of them counts, for the login rate
    /// limit, against the last address of its X-Forwarded-For that is not a trusted proxy,
    /// instead of the proxy's own. Without it the header is ignored [default: none].
    #[arg(
        long = "trusted-proxy",
        global = true,
        env = "TANDEM_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "ADDRESS"
    )]
    trusted_proxies: Vec<IpAddr>,
    /// Keep client data this many years after the client's last contact [default: 5].
    #[arg(long, global = true, env = "TANDEM_RETENTION_YEARS", value_parser = clap::value_parser!(u32).range(1..))]
    retention_years: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API until SIGTERM or Ctrl-C.
    Serve,
    /// Create or update the database schema.
    Migrate,
    /// Write a consistent copy of the SQLite database to a new file while the server keeps
    /// serving (PostgreSQL: use pg_dump, see docs/it-guide.md).
    Backup {
        /// The backup file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Replace the SQLite database by a backup made with `backup`, with every server
    /// instance stopped (PostgreSQL: pg_restore, see docs/it-guide.md). The backup is only
    /// read; the restored database is migrated to this server's schema.
    Restore {
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace an existing database; it is kept beside the restored one as
        /// tandem-server.db.replaced-TIME.
        #[arg(long)]
        force: bool,
    },
    /// Manage teams, users, sites and devices.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Create the team "demo" with users coach1, coach2, lead1 (password `demo-password`),
    /// four demo sites, and a few hundred synthetic clients and contacts at those sites.
    SeedDemo {
        /// How many clients to make.
        #[arg(long, default_value_t = 300)]
        clients: usize,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Sites: the NGO premises where contacts happen, shared by every team. Coaches pick
    /// them in the app and reports name them; sites are archived, never deleted.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Clients: erasure on a subject's request.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Purging clients past the retention period (also run daily by `serve`).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// The database epoch, which a restore from a backup renews.
    Epoch {
        #[command(subcommand)]
        command: EpochCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EpochCommand {
    /// Begin a new epoch after restoring a backup by other means (pg_restore), with every
    /// instance stopped: laptops that synced after the backup then push again what it lacks.
    Rotate,
    /// Print the epochs, oldest first (tab-separated: id, start seq, restored seq, start time).
    List,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Erase a client, its contacts and the clients merged into it, everywhere: devices
    /// remove them at their next sync; only an audit entry without personal data remains.
    Erase { id: Uuid },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the whole chain; exit non-zero naming the first broken entry.
    Verify,
    /// Print entries, oldest first (tab-separated: seq, time, actor, action, team, entity,
    /// record, detail).
    List {
        /// Entries after this seq.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Only entries about this record.
        #[arg(long)]
        record_id: Option<Uuid>,
    },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Purge every client whose last contact is older than the retention period (a contact
    /// counts from its occurred_at, or, dated in the future, from when the server stored that
    /// date; a client without contacts from its last change).
    Run {
        /// Only list the clients that are due.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Add a team.
    Add { name: String },
    /// Print every team by name (tab-separated: id, name, number of members).
    List,
}

#[derive(Debug, Subcommand)]
enum SiteCommand {
    /// Add a site. Its name must be new: names that differ only in case or surrounding
    /// spaces are the same name.
    Add {
        /// The name coaches and reports show, as people know the premises (at most 100
        /// characters).
        name: String,
        /// The site's id, when contacts already name it (written before the site was
        /// registered, say by `tandem contact add --site ID`); a new one otherwise.
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Print every site by name, archived ones included (tab-separated: id, name, `active`
    /// or `archived`).
    List,
    /// Rename a site. Contacts name sites by id, so they show the new name.
    Rename {
        /// The site's id (see `admin site list`).
        id: Uuid,
        /// Its new name, new among the sites as for `add`.
        name: String,
    },
    /// Archive a site that is no longer used: the app stops offering it for new contacts;
    /// the contacts that name it keep it, and it is still named for them.
    Archive {
        /// The site's id (see `admin site list`).
        id: Uuid,
    },
    /// Make an archived site active again, offered for new contacts.
    Unarchive {
        /// The site's id (see `admin site list`).
        id: Uuid,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        username: String,
        /// The user's team (repeat for several; optional for an admin).
        #[arg(long)]
        team: Vec<String>,
        /// coach, team_lead or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The user's id, when records already name it: a user a restore from a backup lost,
        /// whom laptops still name as a contact's coach (see "After a restore" in
        /// docs/it-guide.md); a new one otherwise.
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Make an existing user a member of more teams.
    ///
    /// They stay in their other teams (no command removes a membership); a team they are in
    /// already is left as it is. A contact's coach must be a member of the contact's team.
    Join {
        /// Who joins, by username.
        username: String,
        /// A team to join (repeat for several).
        #[arg(long, required = true)]
        team: Vec<String>,
    },
    /// Print every user by username (tab-separated: id, username, role, their teams joined
    /// with `, `, empty for an admin of no team).
    List {
        /// Only the members of this team (they are shown with all their teams).
        #[arg(long)]
        team: Option<String>,
    },
    /// Set a new password, read from standard input.
    ResetPassword {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// List every device.
    List,
    /// Revoke a device: it gets 401 device_revoked and wipes itself.
    Revoke { id: Uuid },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("`{text}` is not coach, team_lead or admin"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    database_url: Option<String>,
    body_limit_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    metrics_listen: Option<SocketAddr>,
    retention_years: Option<u32>,
    trusted_proxies: Option<Vec<IpAddr>>,
}

struct Resolved {
    listen: SocketAddr,
    metrics_listen: Option<SocketAddr>,
    database: DatabaseLocation,
    /// The data directory, when the database is the SQLite file in it (no `--database-url`).
    data_dir: Option<PathBuf>,
    settings: ServerSettings,
    /// Certificate chain and key files, when the server speaks HTTPS.
    tls: Option<(PathBuf, PathBuf)>,
    retention: RetentionPolicy,
}

fn resolve(global: &GlobalArgs) -> anyhow::Result<Resolved> {
    let file = match &global.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the config file {}", path.display()))?;
            toml::from_str::<ConfigFile>(&text)
                .with_context(|| format!("parsing the config file {}", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let listen = global
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8787)));
    let (database, data_dir) = match global.database_url.clone().or(file.database_url) {
        Some(url) => (DatabaseLocation::from_url(&url)?, None),
        None => {
            let dir = global
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("."));
            (
                DatabaseLocation::Sqlite(dir.join("tandem-server.db")),
                Some(dir),
            )
        }
    };
    let mut settings = ServerSettings::default();
    if let Some(bytes) = file.body_limit_bytes {
        settings.body_limit_bytes = bytes;
    }
    if let Some(secs) = file.request_timeout_secs {
        settings.request_timeout = Duration::from_secs(secs);
    }
    settings.trusted_proxies = if global.trusted_proxies.is_empty() {
        file.trusted_proxies.unwrap_or_default()
    } else {
        global.trusted_proxies.clone()
    };
    let tls = match (
        global.tls_cert.clone().or(file.tls_cert),
        global.tls_key.clone().or(file.tls_key),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("TLS needs both a certificate and a key (--tls-cert and --tls-key)"),
    };
    let years = global
        .retention_years
        .or(file.retention_years)
        .unwrap_or(DEFAULT_RETENTION_YEARS);
    if years == 0 {
        bail!("retention_years must be at least 1");
    }
    Ok(Resolved {
        retention: RetentionPolicy { years },
        tls,
        listen,
        metrics_listen: global.metrics_listen.or(file.metrics_listen),
        database,
        data_dir,
        settings,
    })
}

/// Whether `command` may make a new SQLite database where there is none: only serving,
/// migrating, seeding and restoring do (`restore` makes its target itself). Every other
/// command reads or changes what a database holds, so a database that is not there is a
/// mistyped `--data-dir` or `--database-url` (say, the old database named after a restore),
/// never one to make empty; and the first admin commands of a new server run after
/// `migrate` or the service's first start.
fn may_create_database(command: &Command) -> bool {
    matches!(
        command,
        Command::Serve | Command::Migrate | Command::SeedDemo { .. } | Command::Restore { .. }
    )
}

/// Refuses `command` on an SQLite database that does not exist unless it may make one (see
/// [`may_create_database`]); makes the data directory of a new one (a path given by
/// `--database-url` must name an existing directory, as SQLite requires).
fn check_database_exists(resolved: &Resolved, command: &Command) -> anyhow::Result<()> {
    let DatabaseLocation::Sqlite(path) = &resolved.database else {
        return Ok(());
    };
    let exists = path.try_exists().with_context(|| {
        format!(
            "cannot see whether there is a database at {} (run admin commands as the service's \
             user: see `tandem-admin` in docs/it-guide.md)",
            path.display()
        )
    })?;
    if exists {
        if !path.is_file() {
            bail!("{} is not a database file", path.display());
        }
        return Ok(());
    }
    if !may_create_database(command) {
        bail!(
            "there is no database at {}: check --data-dir, --database-url or the settings file \
             (`tandem-server migrate` makes a new, empty one)",
            path.display()
        );
    }
    if let Some(dir) = &resolved.data_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    if !matches!(command, Command::Restore { .. }) {
        eprintln!("no database at {}: making a new, empty one", path.display());
    }
    Ok(())
}

async fn open_store(database: &DatabaseLocation) -> anyhow::Result<Arc<dyn ServerStore>> {
    database
        .open()
        .await
        .with_context(|| format!("opening the database ({database})"))
}

fn read_password() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the password from standard input")?;
    let password = text.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    Ok(password)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}

/// Walks the audit chain page by page; an error names the first broken entry.
/// After a restore: the new epoch, and what the operator must do by hand.
fn print_new_epoch(epoch: &Epoch) {
    println!(
        "new database epoch {}: seqs start at {} (the backup's last was {}); laptops push again \
         what they synced after the backup at their next sync",
        epoch.id, epoch.start_seq, epoch.restored_seq
    );
    println!(
        "warning: erasures done after the backup was made are not in the restored database; \
         redo each one (`admin audit list` on the replaced database shows them, action erase) \
         before laptops sync"
    );
}

async fn verify_audit(store: &dyn ServerStore) -> anyhow::Result<()> {
    const PAGE: u32 = 1000;
    let mut walker = ChainWalker::default();
    let mut after = 0;
    loop {
        let entries = store
            .audit_entries(AuditFilter {
                after,
                limit: PAGE,
                team_id: None,
                record_id: None,
            })
            .await?;
        for entry in entries.iter().take(PAGE as usize) {
            walker
                .check(entry)
                .map_err(|broken| anyhow::anyhow!("the audit log is broken: {broken}"))?;
            after = entry.seq;
        }
        if entries.len() <= PAGE as usize {
            break;
        }
    }
    let (count, head) = walker.head();
    println!("the audit log is intact: {count} entries; head hash {head}");
    Ok(())
}

/// `admin site ...`.
async fn administer_sites(
    store: &dyn ServerStore,
    clock: &dyn Clock,
    command: SiteCommand,
) -> anyhow::Result<()> {
    let state = |archived: bool| if archived { "archived" } else { "active" };
    match command {
        SiteCommand::Add { name, id } => {
            let id = id.unwrap_or_else(|| new_uuid_v7(clock));
            let site = store.add_site(id, &name, clock.now()).await?;
            println!("site {} `{}` added", site.id, site.name);
        }
        SiteCommand::List => {
            for site in store.list_sites().await? {
                println!("{}\t{}\t{}", site.id, site.name, state(site.archived));
            }
        }
        SiteCommand::Rename { id, name } => {
            let site = store.rename_site(id, &name).await?;
            println!("site {} renamed to `{}`", site.id, site.name);
        }
        SiteCommand::Archive { id } => {
            let site = store.set_site_archived(id, true).await?;
            println!("site {} `{}` archived", site.id, site.name);
        }
        SiteCommand::Unarchive { id } => {
            let site = store.set_site_archived(id, false).await?;
            println!("site {} `{}` unarchived", site.id, site.name);
        }
    }
    Ok(())
}

/// Runs retention at start and then every 24 hours, as the `system` actor.
fn spawn_daily_retention(
    store: Arc<dyn ServerStore>,
    clock: Arc<dyn Clock>,
    policy: RetentionPolicy,
) {
    tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            daily.tick().await;
            match run_retention(
                store.as_ref(),
                policy,
                clock.now(),
                AuditActor::System,
                false,
            )
            .await
            {
                Ok(report) => tracing::info!(
                    clients = report.expired_clients.len(),
                    duplicates = report.duplicates.len(),
                    records = report.purged.len(),
                    "retention run"
                ),
                Err(error) => tracing::error!(%error, "retention run failed"),
            }
        }
    });
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error and its causes on one line, as an operator reads it: never the Debug
            // form, which adds a stack backtrace whenever RUST_BACKTRACE is set.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: the journal and log files get plain
        // `key=value` fields that grep finds.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let resolved = resolve(&cli.global)?;
    check_database_exists(&resolved, &cli.command)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let hashing = resolved.settings.password_hashing.clone();
    match cli.command {
        Command::Serve => {
            // Before the database and the port: a bad certificate stops the start at once.
            let tls = match &resolved.tls {
                Some((cert, key)) => Some(tandem_server::tls::load_server_config(cert, key)?),
                None => None,
            };
            let store = open_store(&resolved.database).await?;
            spawn_daily_retention(Arc::clone(&store), Arc::clone(&clock), resolved.retention);
            let state = AppState::new(store, clock, resolved.settings)?;
            let listener = tokio::net::TcpListener::bind(resolved.listen)
                .await
                .with_context(|| format!("binding {}", resolved.listen))?;
            let address = listener.local_addr()?;
            if let Some(metrics_listen) = resolved.metrics_listen {
                let metrics = tokio::net::TcpListener::bind(metrics_listen)
                    .await
                    .with_context(|| format!("binding the metrics address {metrics_listen}"))?;
                println!("metrics on http://{}/metrics", metrics.local_addr()?);
                let app = tandem_server::metrics::metrics_router(state.metrics.clone());
                tokio::spawn(async move {
                    if let Err(error) = axum::serve(metrics, app).await {
                        tracing::error!(%error, "the metrics listener stopped");
                    }
                });
            }
            match tls {
                Some(tls) => {
                    println!("listening on https://{address}");
                    tandem_server::serve_tls(listener, tls, state, shutdown_signal()).await?;
                }
                None => {
                    println!("listening on http://{address}");
                    tandem_server::serve(listener, state, shutdown_signal()).await?;
                }
            }
        }
        Command::Migrate => {
            open_store(&resolved.database).await?.migrate().await?;
            println!("{} is up to date", resolved.database);
        }
        Command::SeedDemo { clients } => {
            let store = open_store(&resolved.database).await?;
            let summary =
                tandem_server::seed::seed_demo(store.as_ref(), &hashing, clock.now(), clients)
                    .await?;
            println!(
                "team `{}`: users coach1, coach2, lead1 (password `{}`); {} sites, {} clients, {} contacts, {} changes",
                tandem_server::seed::DEMO_TEAM,
                tandem_server::seed::DEMO_PASSWORD,
                summary.sites,
                summary.clients,
                summary.contacts,
                summary.changes
            );
        }
        Command::Backup { to } => match &resolved.database {
            DatabaseLocation::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
                store.backup_to(&to).await?;
                println!("{} backed up to {}", resolved.database, to.display());
            }
            DatabaseLocation::Postgres(_) => bail!(
                "backup copies SQLite databases; back up PostgreSQL with `pg_dump --format=custom` and WAL archiving (see docs/it-guide.md)"
            ),
        },
        Command::Restore { from, force } => match &resolved.database {
            DatabaseLocation::Sqlite(path) => {
                let (source, target, now) = (from.clone(), path.clone(), clock.now());
                let restored = tokio::task::spawn_blocking(move || {
                    SqliteStore::restore(&source, &target, force, now)
                })
                .await??;
                if let Some(replaced) = restored.replaced {
                    println!("the previous database is kept as {}", replaced.display());
                }
                println!(
                    "{} restored from {}; laptops that synced after the backup was made: see \"After a restore\" in docs/it-guide.md",
                    resolved.database,
                    from.display()
                );
                print_new_epoch(&restored.epoch);
            }
            DatabaseLocation::Postgres(_) => bail!(
                "restore replaces SQLite databases; restore PostgreSQL with pg_restore into a new, empty database (see docs/it-guide.md)"
            ),
        },
        Command::Admin { command } => {
            let store = open_store(&resolved.database).await?;
            match command {
                AdminCommand::Team {
                    command: TeamCommand::Add { name },
                } => {
                    let team = store
                        .add_team(new_uuid_v7(clock.as_ref()), name.trim(), clock.now())
                        .await?;
                    println!("team {} `{}` added", team.id, team.name);
                }
                AdminCommand::Team {
                    command: TeamCommand::List,
                } => {
                    for summary in store.list_teams().await? {
                        let team = summary.team;
                        println!("{}\t{}\t{}", team.id, team.name, summary.members);
                    }
                }
                AdminCommand::Site { command } => {
                    administer_sites(store.as_ref(), clock.as_ref(), command).await?;
                }
                AdminCommand::User {
                    command:
                        UserCommand::Add {
                            username,
                            team,
                            role,
                            id,
                            ..
                        },
                } => {
                    if team.is_empty() && role != Role::Admin {
                        bail!("a coach or team lead needs --team");
                    }
                    let hash = hashing.hash(&read_password()?)?;
                    let user = store
                        .add_user(
                            id.unwrap_or_else(|| new_uuid_v7(clock.as_ref())),
                            username.trim(),
                            &hash,
                            role,
                            &team,
                            clock.now(),
                        )
                        .await?;
                    println!(
                        "user {} `{}` added as {}",
                        user.id,
                        user.username,
                        role.as_str()
                    );
                }
                AdminCommand::User {
                    command: UserCommand::Join { username, team },
                } => {
                    let username = username.trim();
                    for membership in store.add_team_memberships(username, &team).await? {
                        let team = membership.team.name;
                        if membership.already_member {
                            println!("`{username}` is a member of `{team}` already");
                        } else {
                            println!("user `{username}` joined `{team}`");
                        }
                    }
                }
                AdminCommand::User {
                    command: UserCommand::List { team },
                } => {
                    for summary in store.list_users(team.as_deref()).await? {
                        let teams: Vec<_> = summary.teams.into_iter().map(|t| t.name).collect();
                        println!(
                            "{}\t{}\t{}\t{}",
                            summary.user.id,
                            summary.user.username,
                            summary.role.as_str(),
                            teams.join(", ")
                        );
                    }
                }
                AdminCommand::User {
                    command: UserCommand::ResetPassword { username, .. },
                } => {
                    let hash = hashing.hash(&read_password()?)?;
                    store.set_password_hash(&username, &hash).await?;
                    println!("password of `{username}` replaced");
                }
                AdminCommand::Epoch {
                    command: EpochCommand::Rotate,
                } => print_new_epoch(&store.rotate_epoch(clock.now()).await?),
                AdminCommand::Epoch {
                    command: EpochCommand::List,
                } => {
                    let epochs = store.epochs().await?;
                    for epoch in epochs.all() {
                        println!(
                            "{}\t{}\t{}\t{}",
                            epoch.id,
                            epoch.start_seq,
                            epoch.restored_seq,
                            epoch.started_at.to_rfc3339()
                        );
                    }
                }
                AdminCommand::Device {
                    command: DeviceCommand::List,
                } => {
                    let epoch = store.epochs().await?.current().clone();
                    for device in store.list_devices(None).await? {
                        // After a restore: whether the laptop has synced since, and so has
                        // pushed again what the restore lost.
                        let since_restore =
                            (epoch.start_seq > 1).then(|| match device.last_sync_at {
                                Some(at) if at >= epoch.started_at => "\tsynced since the restore",
                                _ => "\tnot synced since the restore",
                            });
                        println!(
                            "{}\t{}\t{}\t{}\t{}\tpending {}\tlast sync {}{}",
                            device.id,
                            device.user.username,
                            device.team.map(|t| t.name).unwrap_or_else(|| "-".into()),
                            device.name,
                            if device.revoked { "revoked" } else { "active" },
                            device.pending_count,
                            device
                                .last_sync_at
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "never".into()),
                            since_restore.unwrap_or_default(),
                        );
                    }
                }
                AdminCommand::Device {
                    command: DeviceCommand::Revoke { id },
                } => {
                    let device = store.revoke_device(id).await?;
                    println!("device {} ({}) revoked", device.id, device.user.username);
                }
                AdminCommand::Client {
                    command: ClientCommand::Erase { id },
                } => {
                    let records = store
                        .erase_clients(ErasureRequest {
                            clients: vec![id],
                            team_id: None,
                            actor: AuditActor::Operator,
                            reason: ErasureReason::Request,
                            now: clock.now(),
                        })
                        .await
                        .with_context(|| format!("erasing client {id}"))?;
                    println!(
                        "client {id} erased: {} records; devices remove them at their next sync",
                        records.len()
                    );
                }
                AdminCommand::Audit {
                    command: AuditCommand::Verify,
                } => verify_audit(store.as_ref()).await?,
                AdminCommand::Audit {
                    command:
                        AuditCommand::List {
                            after,
                            limit,
                            record_id,
                        },
                } => {
                    let entries = store
                        .audit_entries(AuditFilter {
                            after,
                            limit,
                            team_id: None,
                            record_id,
                        })
                        .await?;
                    for entry in entries.iter().take(limit as usize) {
                        let text =
                            |id: Option<Uuid>| id.map_or("-".to_owned(), |id| id.to_string());
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            entry.seq,
                            tandem_server::clock::from_ms(entry.at_ms).to_rfc3339(),
                            entry.actor,
                            entry.action,
                            text(entry.team_id),
                            entry.entity.as_deref().unwrap_or("-"),
                            text(entry.record_id),
                            entry.detail,
                        );
                    }
                }
                AdminCommand::Retention {
                    command: RetentionCommand::Run { dry_run },
                } => {
                    let report = run_retention(
                        store.as_ref(),
                        resolved.retention,
                        clock.now(),
                        AuditActor::Operator,
                        dry_run,
                    )
                    .await?;
                    for client in &report.expired_clients {
                        println!("{client}");
                    }
                    for (duplicate, client) in &report.duplicates {
                        println!("{duplicate}\tmerged into {client}");
                    }
                    println!(
                        "{} clients last active before {} ({} years; a contact counts from its \
                         date, or, dated in the future, from when the server stored it; a \
                         client without contacts from its last change), and {} duplicates \
                         merged into them{}",
                        report.expired_clients.len(),
                        report.cutoff.to_rfc3339(),
                        resolved.retention.years,
                        report.duplicates.len(),
                        if dry_run {
                            "; dry run, nothing purged".to_owned()
                        } else {
                            format!("; {} records purged", report.purged.len())
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted_proxies(args: &[&str]) -> Vec<IpAddr> {
        let cli = Cli::try_parse_from(args).unwrap();
        resolve(&cli.global).unwrap().settings.trusted_proxies
    }

    #[test]
    fn trusted_proxies_come_from_the_config_file_unless_flags_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("server.toml");
        std::fs::write(&config, "trusted_proxies = [\"10.0.0.5\", \"::1\"]\n").unwrap();
        let config = config.to_str().unwrap();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(
            trusted_proxies(&["tandem-server", "migrate"]),
            Vec::<IpAddr>::new()
        );
        assert_eq!(
            trusted_proxies(&["tandem-server", "--config", config, "migrate"]),
            vec![ip("10.0.0.5"), ip("::1")]
        );
        assert_eq!(
            trusted_proxies(&[
                "tandem-server",
                "--config",
                config,
                "--trusted-proxy",
                "10.0.0.7",
                "--trusted-proxy",
                "10.0.0.8",
                "migrate"
            ]),
            vec![ip("10.0.0.7"), ip("10.0.0.8")]
        );
        assert!(
            Cli::try_parse_from(["tandem-server", "--trusted-proxy", "proxy", "migrate"]).is_err()
        );
    }

    #[test]
    fn the_packaged_settings_file_parses() {
        let text = include_str!("../../../packaging/server-deb/server.toml");
        let with_proxies = text.replace("# trusted_proxies = ", "trusted_proxies = ");
        for text in [text, with_proxies.as_str()] {
            toml::from_str::<ConfigFile>(text).unwrap();
        }
    }
}
