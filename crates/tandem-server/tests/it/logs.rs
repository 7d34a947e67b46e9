//! No client data in any log line: the real `tandem-server` binary, logging at `debug`,
//! serves two laptops that register a client with distinctive values, edit it into a review
//! conflict that a team lead resolves, send an invalid value and a malformed body, and pull
//! everything; then every line it wrote to stdout and stderr is searched for those values.

use std::path::Path;
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_protocol::ConflictList;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

use crate::binary::Laptop;

const PASSWORD: &str = "a password for the log test";

/// Values that must never reach a log line. Each is unusual enough not to occur by chance.
const SECRETS: &[&str] = &[
    "Xochiquetzal",
    "Wqxzyborg",
    "Ölçekçioğlu",
    "Мирославовна",
    "زمردخان",
    "+358401239876",
    "401239876",
    "zorblatt@example.fi",
    "Salaisuus-muistiinpano",
    "Ratkaistu-Vwxyzq",
    "Huonoarvo-Qqxxq",
    "Rikkinäinen-Jqzv",
];

async fn admin(data_dir: &Path, args: &[&str], stdin: Option<&str>) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TANDEM_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "tandem-server {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_full_sync_with_conflicts_and_bad_input_logs_no_client_data() {
    let data = tempfile::tempdir().unwrap();
    admin(data.path(), &["migrate"], None).await;
    admin(data.path(), &["admin", "team", "add", "north"], None).await;
    for (user, role) in [("coach_log", "coach"), ("lead_log", "team_lead")] {
        admin(
            data.path(),
            &[
                "admin",
                "user",
                "add",
                user,
                "--team",
                "north",
                "--role",
                role,
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    }

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["--listen", "127.0.0.1:0", "serve"])
        .env_remove("TANDEM_CONFIG")
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).await.unwrap();
    let base = format!(
        "http://{}",
        first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
    );
    let mut stderr = server.stderr.take().unwrap();
    let stderr_text = tokio::spawn(async move {
        let mut text = String::new();
        stderr.read_to_string(&mut text).await.unwrap();
        text
    });
    let stdout_text = tokio::spawn(async move {
        let mut text = String::new();
        stdout.read_to_string(&mut text).await.unwrap();
        text
    });

    let http = reqwest::Client::new();
    let mut coach = Laptop::login(&http, &base, "coach_log", PASSWORD).await;
    let mut lead = Laptop::login(&http, &base, "lead_log", PASSWORD).await;
    let client = Uuid::now_v7();
    let fields = [
        ("given_name", json!("Xochiquetzal")),
        ("family_name", json!("Wqxzyborg Ölçekçioğlu")),
        ("nickname", json!("Мирославовна")),
        ("phone", json!("+358401239876")),
        ("email", json!("zorblatt@example.fi")),
        ("notes", json!("Salaisuus-muistiinpano: زمردخان")),
    ];
    let created: Vec<Value> = fields
        .iter()
        .map(|(field, value)| coach.change(client, field, value.clone(), 0))
        .collect();
    let answer = coach.push(&http, &base, created).await;
    assert!(
        answer
            .results
            .iter()
            .all(|r| r.status == tandem_protocol::ChangeStatus::Applied),
        "{answer:?}"
    );
    let given_name_version = answer.results[0].version;

    // The same review field edited on both laptops from the same version: an open conflict.
    let mine = coach.change(
        client,
        "given_name",
        json!("Xochiquetzal Mirka"),
        given_name_version,
    );
    coach.push(&http, &base, vec![mine]).await;
    let theirs = lead.change(
        client,
        "given_name",
        json!("Xochiquetzal Ana"),
        given_name_version,
    );
    lead.push(&http, &base, vec![theirs]).await;
    let conflicts: ConflictList = http
        .get(format!("{base}/v1/conflicts"))
        .bearer_auth(&lead.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(conflicts.conflicts.len(), 1, "{conflicts:?}");
    let resolved = http
        .post(format!(
            "{base}/v1/conflicts/{}/resolve",
            conflicts.conflicts[0].id
        ))
        .bearer_auth(&lead.token)
        .json(&json!({"value": "Ratkaistu-Vwxyzq"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), StatusCode::OK);

    // An invalid value is refused naming the field; a malformed body is refused as a whole.
    let invalid = coach.change(client, "email", json!("Huonoarvo-Qqxxq@"), 0);
    let refused = coach.push(&http, &base, vec![invalid]).await;
    assert_eq!(
        refused.results[0].status,
        tandem_protocol::ChangeStatus::Rejected
    );
    let malformed = http
        .post(format!("{base}/v1/sync/push"))
        .bearer_auth(&coach.token)
        .header("content-type", "application/json")
        .body(r#"{"changes": [{"value": "Rikkinäinen-Jqzv""#)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    assert!(coach.pull_all(&http, &base).await.len() >= fields.len());
    assert!(lead.pull_all(&http, &base).await.len() >= fields.len());

    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let logs = format!(
        "{}\n{}",
        stdout_text.await.unwrap(),
        stderr_text.await.unwrap()
    );
    // The logs said something about these requests, so the search below searched something.
    assert!(
        logs.contains("/v1/sync/push"),
        "no request was logged:\n{logs}"
    );
    // The refusal by its code, which names no record and no value, in plain text that grep
    // finds (no terminal colours: the server's standard error is not a terminal here).
    assert!(
        logs.contains("reason_codes=\"invalid_value:1\""),
        "the refusal's code was not logged:\n{logs}"
    );
    assert!(!logs.contains('\u{1b}'), "colours in the log:\n{logs}");
    let lower = logs.to_lowercase();
    for secret in SECRETS {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{secret:?} appears in the server's log:\n{logs}"
        );
    }
}
