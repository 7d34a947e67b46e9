//! Faults between laptop and server: a TCP proxy that, connection by connection, drops the
//! connection at a random byte of the request or of the response, answers 500 or 502 in the
//! server's place (also after the server has applied the request), closes without a word,
//! or delays. Laptops keep syncing through it until a cycle gets through, then sync cleanly:
//! nothing may be lost and nothing applied twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::test_runner::TestCaseError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::convergence::assert_converged;
use crate::device::TestDevice;
use crate::server::shared;

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    Pass,
    DropRequestAfter(usize),
    DropResponseAfter(usize),
    AnswerInstead(u16),
    /// Lets the request reach the server, then replaces its answer (applied, but the laptop
    /// is told it failed).
    ReplaceAnswer(u16),
    CloseAtOnce,
    Delay(u64),
}

fn fault(rng: &mut StdRng) -> Fault {
    match rng.random_range(0..10) {
        0..=2 => Fault::Pass,
        3 => Fault::DropRequestAfter(rng.random_range(0..1500)),
        4 => Fault::DropResponseAfter(rng.random_range(0..1500)),
        5 => Fault::AnswerInstead(if rng.random_bool(0.5) { 500 } else { 502 }),
        6 => Fault::ReplaceAnswer(if rng.random_bool(0.5) { 500 } else { 502 }),
        7 => Fault::CloseAtOnce,
        _ => Fault::Delay(rng.random_range(0..30)),
    }
}

fn status_line(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} Proxy Says No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}

/// Copies `from` to `to`, at most `limit` bytes (then stops), returning when either side ends.
async fn copy_limited(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    limit: usize,
) {
    let mut buffer = [0u8; 4096];
    let mut left = limit;
    while left > 0 {
        let Ok(n) = from.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        let n = n.min(left);
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
}

pub(crate) async fn handle(client: TcpStream, upstream: String, fault: Fault) {
    let (mut client_read, mut client_write) = client.into_split();
    match fault {
        Fault::CloseAtOnce => return,
        Fault::AnswerInstead(status) => {
            let mut buffer = [0u8; 1024];
            let _ = client_read.read(&mut buffer).await;
            let _ = client_write.write_all(&status_line(status)).await;
            return;
        }
        Fault::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let (mut server_read, mut server_write) = server.into_split();
    let (up_limit, down_limit) = match fault {
        Fault::DropRequestAfter(n) => (n, usize::MAX),
        Fault::DropResponseAfter(n) => (usize::MAX, n),
        _ => (usize::MAX, usize::MAX),
    };
    if let Fault::ReplaceAnswer(status) = fault {
        // Forward one request, wait for the server's whole answer, and say something else.
        let mut buffer = vec![0u8; 1 << 20];
        let Ok(n) = client_read.read(&mut buffer).await else {
            return;
        };
        let _ = server_write.write_all(&buffer[..n]).await;
        let request = String::from_utf8_lossy(&buffer[..n]).to_string();
        // The body may come in a second read; pass it on until the server answers.
        let forward = async {
            copy_limited(&mut client_read, &mut server_write, usize::MAX).await;
        };
        let answered = async {
            let mut answer = [0u8; 1];
            let _ = server_read.read(&mut answer).await;
        };
        tokio::select! {
            () = forward => {}
            () = answered => {}
        }
        let _ = request;
        let _ = client_write.write_all(&status_line(status)).await;
        return;
    }
    let up = copy_limited(&mut client_read, &mut server_write, up_limit);
    let down = copy_limited(&mut server_read, &mut client_write, down_limit);
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Starts the proxy on the shared runtime; returns its base URL and a counter of connections.
fn start_proxy(upstream: &str, seed: u64) -> (String, Arc<AtomicU64>) {
    let server = shared();
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let connections = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&connections);
    let base = server.runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handle(client, upstream.clone(), fault(&mut rng)));
            }
        });
        base
    });
    (base, connections)
}

fn through(device: &mut TestDevice, base: &str) {
    device.transport = tandem_sync::HttpTransport::new(
        base,
        Some(device.token.clone()),
        tandem_sync::TransportSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            // One connection per request, so that every request meets its own fault.
            reuse_connections: false,
            organisation_ca: None,
        },
    )
    .unwrap();
}

fn run(seed: u64) -> Result<(), TestCaseError> {
    let server = shared();
    let team = server.new_team();
    let (proxy, connections) = start_proxy(&server.base, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut devices = vec![
        TestDevice::sign_in(server, &team, &team.lead, 0),
        TestDevice::sign_in(server, &team, &team.coach, 0),
    ];
    for device in &mut devices {
        through(device, &proxy);
    }
    let mut failures = 0;
    for round in 0..12 {
        for (i, device) in devices.iter_mut().enumerate() {
            let clients = device.store.list_clients(true).unwrap();
            if clients.is_empty() || rng.random_bool(0.3) {
                device.create_client(json!({"given_name": format!("C{round}{i}"), "tags": ["a"]}));
            } else {
                let id = clients[rng.random_range(0..clients.len())].id();
                let tag = ["a", "b", "c"][rng.random_range(0..3)];
                device.edit_client(id, json!({"nickname": format!("n{round}{i}"), "tags": [tag], "given_name": format!("G{}", rng.random_range(0..3))}));
            }
            // Some cycles fail part-way; that is the point.
            if device.try_sync(server).is_err() {
                failures += 1;
            }
        }
    }
    assert!(failures > 0, "the proxy injected no fault at all");
    assert!(connections.load(Ordering::SeqCst) > 0);
    // Then a clean line to the server: two rounds, as in the convergence test.
    for device in &mut devices {
        through(device, &server.base);
    }
    for _ in 0..2 {
        for device in &mut devices {
            device.sync(server);
        }
    }
    assert_converged(server, &team, &devices)
}

#[test]
fn syncing_through_a_proxy_that_drops_repeats_and_fails_requests_loses_nothing_and_applies_nothing_twice()
 {
    for seed in 0..8 {
        if let Err(error) = run(seed) {
            panic!("seed {seed}: {error}");
        }
    }
}

/// Answers every request with `426 update_required`, as a server does for a schema version
/// it no longer accepts (the real server accepts this build's version, so a stand-in says it).
fn start_outdated_server() -> String {
    let server = shared();
    server.runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = client.read(&mut buffer).await;
                    let body = r#"{"error":"update_required","message":"schema version 1 is no longer accepted"}"#;
                    let answer = format!(
                        "HTTP/1.1 426 Upgrade Required\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = client.write_all(answer.as_bytes()).await;
                });
            }
        });
        base
    })
}

#[test]
fn an_outdated_app_keeps_its_outbox_and_reports_update_required() {
    let server = shared();
    let team = server.new_team();
    let mut device = TestDevice::sign_in(server, &team, &team.coach, 0);
    device.create_client(json!({"given_name": "Sami"}));
    let outdated = start_outdated_server();
    through(&mut device, &outdated);
    let error = device.try_sync(server).unwrap_err();
    assert!(
        matches!(error, tandem_sync::SyncError::UpdateRequired { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient(), "a timer does not fix an old version");
    let status = device.store.sync_status().unwrap();
    assert!(status.update_required);
    assert!(status.last_sync_error.unwrap().contains("Update required"));
    assert_eq!(status.pending_count, 1, "the outbox is kept");
    // Once updated (here: the real server again), the same outbox goes through.
    through(&mut device, &server.base);
    device.sync(server);
    let status = device.store.sync_status().unwrap();
    assert!(!status.update_required);
    assert_eq!(status.pending_count, 0);
}
