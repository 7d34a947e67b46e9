//! HTTPS with rustls: an organisation CA and a server certificate made with rcgen at test
//! time, a server that presents them, and clients that do or do not trust the CA; and the
//! clear start-up errors of `tandem-server serve` for certificate and key files that are
//! missing or wrong.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::json;
use tandem_server::ServerError;
use tandem_server::tls::load_server_config;
use tandem_testkit::{SERVER_NAME, TestPki};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;

use crate::openapi::{SMALL_PASSWORD, SmallServer, small_server};

/// A client that reaches [`SERVER_NAME`] at `address`, trusting `ca_pem` if given (and
/// then only it).
fn client(address: SocketAddr, ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .resolve(SERVER_NAME, address)
        .tls_built_in_root_certs(false);
    if let Some(pem) = ca_pem {
        builder =
            builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// Every message in an error's source chain, in one string.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_client_trusting_the_organisation_ca_logs_in_over_https_and_others_are_refused() {
    let pki = TestPki::new();
    let SmallServer { state, listener } = small_server().await;
    let address = listener.local_addr().unwrap();
    let tls = load_server_config(&pki.cert(), &pki.key()).unwrap();
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(tandem_server::serve_tls(listener, tls, state, async {
        let _ = stopped.await;
    }));
    let base = format!("https://{SERVER_NAME}:{}", address.port());
    let login = json!({"username": "coach", "password": SMALL_PASSWORD, "device_name": "laptop"});

    let trusting = client(address, Some(pki.ca_pem()));
    let response = trusting
        .post(format!("{base}/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["device_token"].as_str().unwrap().starts_with("tdt1_"));

    let untrusting = client(address, None);
    let err = untrusting
        .post(format!("{base}/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap_err();
    let chain = error_chain(&err);
    assert!(
        chain.contains("invalid peer certificate") && chain.contains("UnknownIssuer"),
        "{chain}"
    );

    let plain = reqwest::Client::new()
        .get(format!("http://{address}/health"))
        .send()
        .await;
    assert!(
        plain.map_or(true, |r| r.status() != StatusCode::OK),
        "the HTTPS port must not answer plain HTTP"
    );
}

#[test]
fn missing_unreadable_or_mismatched_certificate_and_key_files_are_named_in_the_error() {
    let pki = TestPki::new();
    let missing = pki.dir().join("no-such-cert.pem");
    let err = load_server_config(&missing, &pki.key()).unwrap_err();
    assert!(matches!(err, ServerError::TlsCertificate { ref path, .. } if path == &missing));
    assert!(err.to_string().contains("no-such-cert.pem"), "{err}");
    assert!(err.to_string().contains("cannot be read"), "{err}");

    // A key where the certificate should be, and a certificate where the key should be.
    let err = load_server_config(&pki.key(), &pki.key()).unwrap_err();
    assert!(
        err.to_string().contains("server.key") && err.to_string().contains("no PEM certificate"),
        "{err}"
    );
    let err = load_server_config(&pki.cert(), &pki.cert()).unwrap_err();
    assert!(matches!(err, ServerError::TlsKey { .. }), "{err}");
    assert!(err.to_string().contains("server.pem"), "{err}");

    // The key of another certificate.
    let other = TestPki::new();
    let err = load_server_config(&pki.cert(), &other.key()).unwrap_err();
    assert!(matches!(err, ServerError::TlsKey { .. }), "{err}");
    assert!(
        err.to_string().contains("does not fit the certificate"),
        "{err}"
    );
}

/// Starts the real binary with `args` on a fresh data directory and a free port.
fn server_command(data_dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tandem-server"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .arg("serve")
        .env_remove("TANDEM_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn the_binary_refuses_to_start_naming_a_missing_certificate_or_key_file() {
    let pki = TestPki::new();
    let data = tempfile::tempdir().unwrap();
    let missing_key = pki.dir().join("missing.key");
    let output = server_command(
        data.path(),
        &[
            "--tls-cert",
            pki.cert().to_str().unwrap(),
            "--tls-key",
            missing_key.to_str().unwrap(),
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("TLS key file {}", missing_key.display())),
        "{stderr}"
    );

    // The same keys in the config file.
    let config = data.path().join("server.toml");
    let missing_cert = pki.dir().join("missing.pem");
    std::fs::write(
        &config,
        format!(
            "tls_cert = {:?}\ntls_key = {:?}\n",
            missing_cert.display().to_string(),
            pki.key().display().to_string()
        ),
    )
    .unwrap();
    let output = server_command(data.path(), &["--config", config.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("TLS certificate file {}", missing_cert.display())),
        "{stderr}"
    );

    // Half a configuration is refused rather than served as plain HTTP.
    let output = server_command(data.path(), &["--tls-cert", pki.cert().to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}

#[tokio::test]
async fn the_binary_serves_https_with_the_configured_certificate() {
    let pki = TestPki::new();
    let data = tempfile::tempdir().unwrap();
    let mut child = server_command(
        data.path(),
        &[
            "--tls-cert",
            pki.cert().to_str().unwrap(),
            "--tls-key",
            pki.key().to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    // The server prints its address once it listens: no sleeping, no guessed port.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = stdout.next_line().await.unwrap().unwrap();
    let address: SocketAddr = line
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .unwrap();
    let ca = std::fs::read_to_string(pki.ca()).unwrap();
    let response = client(address, Some(&ca))
        .get(format!("https://{SERVER_NAME}:{}/health", address.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    child.kill().await.unwrap();
}
