//! The real `tandem-server` binary as a child process, and a laptop that speaks the sync
//! protocol to it over HTTP. The binary's clock is the real one, so laptops stamp their
//! changes with the real time too.

use std::process::{Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tandem_protocol::{LoginResponse, PullResponse, PulledChange, PushResponse};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

/// `tandem-server ARGS` with no settings from the test's environment.
pub(crate) fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"));
    command
        .args(args)
        .env_remove("TANDEM_CONFIG")
        .env_remove("TANDEM_DATA_DIR")
        .env_remove("TANDEM_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `tandem-server ARGS` to its end.
pub(crate) async fn run(args: &[&str]) -> Output {
    command(args).output().await.unwrap()
}

/// Runs `tandem-server ARGS`, which must succeed; returns what it printed.
pub(crate) async fn run_ok(args: &[&str]) -> String {
    let output = run(args).await;
    assert!(
        output.status.success(),
        "tandem-server {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `tandem-server ARGS`, which must fail; returns its error message.
pub(crate) async fn run_failing(args: &[&str]) -> String {
    let output = run(args).await;
    assert!(
        !output.status.success(),
        "tandem-server {args:?} succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `tandem-server ARGS --listen 127.0.0.1:0 serve`, running.
pub(crate) struct ServerProcess {
    child: tokio::process::Child,
    pub(crate) base: String,
}

impl ServerProcess {
    /// Starts the server and returns once it listens (it prints its address then).
    pub(crate) async fn start(args: &[&str]) -> ServerProcess {
        let mut child = command(args)
            .args(["--listen", "127.0.0.1:0", "serve"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = stdout.next_line().await.unwrap().unwrap_or_default();
        let address = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"));
        ServerProcess {
            base: format!("http://{address}"),
            child,
        }
    }

    /// Stops the server and waits until the process is gone (and with it every lock it held).
    pub(crate) async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// A laptop signed in as one user: its device id and token, and an HLC counter.
pub(crate) struct Laptop {
    pub(crate) id: Uuid,
    pub(crate) token: String,
    user_id: Uuid,
    logical: u32,
}

impl Laptop {
    pub(crate) async fn login(
        http: &reqwest::Client,
        base: &str,
        username: &str,
        password: &str,
    ) -> Laptop {
        let response: LoginResponse = http
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"username": username, "password": password, "device_name": "laptop"}))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        Laptop {
            id: response.device_id,
            token: response.device_token,
            user_id: response.user.id,
            logical: 0,
        }
    }

    /// A change of one field of a client record, stamped with the real time.
    pub(crate) fn change(
        &mut self,
        record: Uuid,
        field: &str,
        value: Value,
        base_version: u64,
    ) -> Value {
        self.logical += 1;
        // The binary's clock is the real one, and it refuses HLCs far from it.
        #[allow(clippy::disallowed_methods)]
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        json!({
            "change_id": Uuid::now_v7(),
            "entity": "client",
            "record_id": record,
            "field": field,
            "value": value,
            "base_version": base_version,
            "hlc": format!("{now_ms:013}-{:05}-{}", self.logical, self.id),
            "author_id": self.user_id,
        })
    }

    pub(crate) async fn push(
        &self,
        http: &reqwest::Client,
        base: &str,
        changes: Vec<Value>,
    ) -> PushResponse {
        http.post(format!("{base}/v1/sync/push"))
            .bearer_auth(&self.token)
            .json(&json!({
                "device_id": self.id,
                "schema_version": tandem_protocol::SCHEMA_VERSION,
                "app_version": "0.1.0",
                "pending_count": changes.len(),
                "changes": changes,
            }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every change of the laptop's team, following `next` until `has_more` is false.
    pub(crate) async fn pull_all(&self, http: &reqwest::Client, base: &str) -> Vec<PulledChange> {
        let (mut after, mut all) = (0, Vec::new());
        loop {
            let page: PullResponse = http
                .get(format!("{base}/v1/sync/pull?after={after}&limit=1000"))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json()
                .await
                .unwrap();
            all.extend(page.changes);
            after = page.next;
            if !page.has_more {
                return all;
            }
        }
    }
}

/// `tandem-server --data-dir DIR admin site ARGS`, which must succeed; what it printed.
async fn site_ok(data_dir: &str, args: &[&str]) -> String {
    run_ok(&[&["--data-dir", data_dir, "admin", "site"][..], args].concat()).await
}

/// `tandem-server --data-dir DIR admin site ARGS`, which must fail; its error message.
async fn site_failing(data_dir: &str, args: &[&str]) -> String {
    run_failing(&[&["--data-dir", data_dir, "admin", "site"][..], args].concat()).await
}

/// The id in `site ID `NAME` ...`, the first line the site commands print.
fn printed_site_id(printed: &str) -> Uuid {
    printed_id("site ", printed)
}

/// The id in `PREFIX ID ...`, the first line an admin command that adds something prints.
fn printed_id(prefix: &str, printed: &str) -> Uuid {
    let id = printed
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected output: {printed}"));
    id.parse().unwrap()
}

#[tokio::test]
async fn a_command_on_a_database_that_is_not_there_is_refused_and_makes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The old database after a restore, with its name mistyped.
    let missing = dir
        .path()
        .join("old")
        .join("tandem-server.db.replaced-2026");
    let url = format!("sqlite:{}", missing.display());
    for args in [
        &["admin", "user", "list"][..],
        &["admin", "team", "list"],
        &["admin", "site", "list"],
        &["admin", "device", "list"],
        &["admin", "audit", "verify"],
        &["admin", "epoch", "list"],
        &["backup", "--to", "/nonexistent/backup.db"],
    ] {
        let refused = run_failing(&[&["--database-url", &url][..], args].concat()).await;
        assert_eq!(
            refused,
            format!(
                "error: there is no database at {}: check --data-dir, --database-url or the \
                 settings file (`tandem-server migrate` makes a new, empty one)\n",
                missing.display()
            ),
            "{args:?}"
        );
    }
    assert!(
        !missing.parent().unwrap().exists(),
        "not even its directory"
    );

    // Adding to a server that has no database yet is refused as well (it would fail anyway,
    // or make an empty database on a typo), with its data directory.
    let data_dir = dir.path().join("new");
    let data_dir = data_dir.to_str().unwrap();
    let refused = run_failing(&["--data-dir", data_dir, "admin", "team", "add", "north"]).await;
    assert!(
        refused.starts_with("error: there is no database at "),
        "{refused}"
    );
    assert!(!dir.path().join("new").exists());
    // A mistyped PostgreSQL URL is not taken for a file named after its password.
    let mistyped = run_failing(&[
        "--database-url",
        "postgress://tandem:secret@db/tandem",
        "admin",
        "team",
        "list",
    ])
    .await;
    assert_eq!(
        mistyped,
        "error: invalid database URL: its scheme `postgress://` is not postgres://, \
         postgresql:// or sqlite://\n"
    );

    // `migrate` (or the service's first start) makes the database, and says so.
    let output = run(&["--data-dir", data_dir, "migrate"]).await;
    assert!(output.status.success(), "{output:?}");
    let database = dir.path().join("new").join("tandem-server.db");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "no database at {}: making a new, empty one\n",
            database.display()
        )
    );
    let added = run(&["--data-dir", data_dir, "admin", "team", "add", "north"]).await;
    assert!(added.status.success(), "{added:?}");
    assert!(added.stderr.is_empty(), "nothing said once it exists");
}

#[tokio::test]
async fn a_refused_admin_command_says_why_in_one_line_even_with_backtraces_turned_on() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    run_ok(&["--data-dir", data_dir, "migrate"]).await;
    site_ok(data_dir, &["add", "Tikkurila NGO house"]).await;
    let output = command(&[
        "--data-dir",
        data_dir,
        "admin",
        "site",
        "add",
        "tikkurila ngo house",
    ])
    .env("RUST_BACKTRACE", "1")
    .env("RUST_LIB_BACKTRACE", "1")
    .output()
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "error: a site named `tikkurila ngo house` exists already (site names are compared \
         ignoring case and surrounding spaces)\n",
        "one line, no backtrace"
    );
}

#[tokio::test]
async fn admin_site_commands_add_list_rename_archive_and_refuse_a_duplicate_name() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    run_ok(&["--data-dir", data_dir, "migrate"]).await;
    assert_eq!(
        site_ok(data_dir, &["list"]).await,
        "",
        "no sites yet, and nothing else printed"
    );
    let added = site_ok(data_dir, &["add", "  Tikkurila NGO house "]).await;
    let tikkurila = printed_site_id(&added);
    assert_eq!(
        added,
        format!("site {tikkurila} `Tikkurila NGO house` added\n")
    );
    let hakunila = printed_site_id(&site_ok(data_dir, &["add", "hakunila community centre"]).await);
    assert_eq!(
        site_ok(data_dir, &["list"]).await,
        format!(
            "{hakunila}\thakunila community centre\tactive\n\
             {tikkurila}\tTikkurila NGO house\tactive\n"
        )
    );

    let refused = site_failing(data_dir, &["add", " TIKKURILA ngo HOUSE"]).await;
    assert!(
        refused.contains("a site named `TIKKURILA ngo HOUSE` exists already"),
        "{refused}"
    );
    let refused = site_failing(data_dir, &["add", "   "]).await;
    assert!(refused.contains("a site needs a name"), "{refused}");

    let renamed = site_ok(
        data_dir,
        &["rename", &hakunila.to_string(), "Hakunila community centre"],
    )
    .await;
    assert_eq!(
        renamed,
        format!("site {hakunila} renamed to `Hakunila community centre`\n")
    );
    let refused = site_failing(
        data_dir,
        &["rename", &hakunila.to_string(), "tikkurila ngo house"],
    )
    .await;
    assert!(refused.contains("exists already"), "{refused}");
    let archived = site_ok(data_dir, &["archive", &tikkurila.to_string()]).await;
    assert_eq!(
        archived,
        format!("site {tikkurila} `Tikkurila NGO house` archived\n")
    );
    assert_eq!(
        site_ok(data_dir, &["list"]).await,
        format!(
            "{hakunila}\tHakunila community centre\tactive\n\
             {tikkurila}\tTikkurila NGO house\tarchived\n"
        )
    );
    let unarchived = site_ok(data_dir, &["unarchive", &tikkurila.to_string()]).await;
    assert_eq!(
        unarchived,
        format!("site {tikkurila} `Tikkurila NGO house` unarchived\n")
    );
    assert!(
        site_ok(data_dir, &["list"])
            .await
            .ends_with("\tTikkurila NGO house\tactive\n")
    );

    let unknown = Uuid::from_u128(0x5173);
    let refused = site_failing(data_dir, &["archive", &unknown.to_string()]).await;
    assert!(
        refused.contains(&format!("no site has the id {unknown}")),
        "{refused}"
    );

    // An id contacts already name (written before the site was registered) can be given.
    let known = unknown.to_string();
    let added = site_ok(
        data_dir,
        &["add", "Martinlaakso family centre", "--id", &known],
    )
    .await;
    assert_eq!(
        added,
        format!("site {known} `Martinlaakso family centre` added\n")
    );
    let refused = site_failing(data_dir, &["add", "Another name", "--id", &known]).await;
    assert!(
        refused.contains(&format!("a site with the id {known} exists already")),
        "{refused}"
    );
}

/// `tandem-server --data-dir DIR admin ARGS` with `input` on its standard input (a
/// password), run to its end.
pub(crate) async fn admin_with_input(data_dir: &str, args: &[&str], input: &str) -> Output {
    let mut child = command(&[&["--data-dir", data_dir, "admin"][..], args].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    child.wait_with_output().await.unwrap()
}

#[tokio::test]
async fn admin_user_commands_add_a_user_with_a_given_id_and_join_them_to_more_teams() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    run_ok(&["--data-dir", data_dir, "migrate"]).await;
    for team in ["north", "Vantaa Hakunila"] {
        run_ok(&["--data-dir", data_dir, "admin", "team", "add", team]).await;
    }
    // The id a restore lost, which laptops still name.
    let id = Uuid::from_u128(0x9104).to_string();
    let add = |username: &'static str| {
        let id = id.clone();
        async move {
            let args = [
                "user",
                "add",
                username,
                "--role",
                "coach",
                "--team",
                "north",
                "--password-stdin",
                "--id",
                &id,
            ];
            admin_with_input(data_dir, &args, "a long password\n").await
        }
    };
    let added = add("coach1").await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&added.stdout),
        format!("user {id} `coach1` added as coach\n")
    );
    let taken = add("coach2").await;
    assert_eq!(taken.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&taken.stderr),
        format!("error: a user with the id {id} exists already\n")
    );

    fn join<'a>(data_dir: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        [&["--data-dir", data_dir, "admin", "user", "join"][..], args].concat()
    }
    assert_eq!(
        run_ok(&join(
            data_dir,
            &["coach1", "--team", "Vantaa Hakunila", "--team", "north"]
        ))
        .await,
        "user `coach1` joined `Vantaa Hakunila`\n`coach1` is a member of `north` already\n"
    );
    assert_eq!(
        run_ok(&join(data_dir, &["coach1", "--team", "Vantaa Hakunila"])).await,
        "`coach1` is a member of `Vantaa Hakunila` already\n",
        "joining again changes nothing"
    );
    assert_eq!(
        run_failing(&join(data_dir, &["coach2", "--team", "north"])).await,
        "error: no user is named `coach2`\n"
    );
    assert_eq!(
        run_failing(&join(data_dir, &["coach1", "--team", "Vantaa Tikkurila"])).await,
        "error: no team is named `Vantaa Tikkurila`\n"
    );
    let no_team = run_failing(&join(data_dir, &["coach1"])).await;
    assert!(no_team.contains("--team"), "{no_team}");
}

/// The id in `team ID `NAME` added`, what `admin team add` prints.
fn printed_team_id(printed: &str) -> Uuid {
    printed_id("team ", printed)
}

#[tokio::test]
async fn admin_team_and_user_lists_print_tab_separated_lines_in_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    run_ok(&["--data-dir", data_dir, "migrate"]).await;
    let admin = |args: &[&'static str]| -> Vec<&str> {
        [&["--data-dir", data_dir, "admin"][..], args].concat()
    };
    assert_eq!(
        run_ok(&admin(&["team", "list"])).await,
        "",
        "no teams yet, and nothing else printed"
    );
    assert_eq!(run_ok(&admin(&["user", "list"])).await, "", "no users yet");

    // A name that would break the tab-separated lines is refused.
    let refused = run_failing(&admin(&["team", "add", "Vantaa\tHakunila"])).await;
    assert_eq!(
        refused,
        "error: the team name \"Vantaa\\tHakunila\" holds a control character (a tab or a line break)\n"
    );

    let mut team_ids = Vec::new();
    for team in ["north", "Vantaa Hakunila", "Östersundom"] {
        team_ids.push(printed_team_id(
            &run_ok(&admin(&["team", "add", team])).await,
        ));
    }
    let [north, hakunila, ostersundom] = team_ids[..] else {
        unreachable!()
    };
    let users = [
        ("coach1", "coach", &["north", "Vantaa Hakunila"][..], 0x9201),
        ("Zoe", "team_lead", &["north"][..], 0x9202),
        ("it1", "admin", &[][..], 0x9203),
    ];
    for (username, role, teams, id) in users {
        let id = Uuid::from_u128(id).to_string();
        let mut args = vec!["user", "add", username, "--role", role, "--password-stdin"];
        args.extend(["--id", &id]);
        for team in teams {
            args.extend(["--team", team]);
        }
        let added = admin_with_input(data_dir, &args, "a long password\n").await;
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let (coach1, zoe, it1) = (
        Uuid::from_u128(0x9201),
        Uuid::from_u128(0x9202),
        Uuid::from_u128(0x9203),
    );

    assert_eq!(
        run_ok(&admin(&["team", "list"])).await,
        format!(
            "{hakunila}\tVantaa Hakunila\t1\n\
             {north}\tnorth\t2\n\
             {ostersundom}\tÖstersundom\t0\n"
        ),
        "id, name, members; by name in byte order"
    );
    assert_eq!(
        run_ok(&admin(&["user", "list"])).await,
        format!(
            "{zoe}\tZoe\tteam_lead\tnorth\n\
             {coach1}\tcoach1\tcoach\tVantaa Hakunila, north\n\
             {it1}\tit1\tadmin\t\n"
        ),
        "id, username, role, teams; by username in byte order"
    );
    assert_eq!(
        run_ok(&admin(&["user", "list", "--team", "Vantaa Hakunila"])).await,
        format!("{coach1}\tcoach1\tcoach\tVantaa Hakunila, north\n"),
        "only the team's members, with all their teams"
    );
    assert_eq!(
        run_ok(&admin(&["user", "list", "--team", "Östersundom"])).await,
        ""
    );

    let unknown = run(&admin(&["user", "list", "--team", "Vantaa Tikkurila"])).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&unknown.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr),
        "error: no team is named `Vantaa Tikkurila`\n"
    );
}
