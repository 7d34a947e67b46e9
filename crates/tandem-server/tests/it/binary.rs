//! The real `tandem-server` binary as a child process, and a laptop that speaks the sync
//! protocol to it over HTTP. The binary's clock is the real one, so laptops stamp their
//! changes with the real time too.

use std::process::{Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tandem_protocol::{LoginResponse, PullResponse, PulledChange, PushResponse};
use tokio::io::{AsyncBufReadExt, BufReader};
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
