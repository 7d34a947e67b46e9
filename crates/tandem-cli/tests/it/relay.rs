//! A TCP relay in front of the test server, as a reverse proxy stands in front of the real
//! one: it counts the connections made through it, and on request answers every new one 404
//! itself, as a proxy does while the server behind it restarts (or when it sends Tandem's
//! requests elsewhere).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub(crate) struct Relay {
    pub(crate) base: String,
    connections: Arc<AtomicUsize>,
    misrouting: Arc<AtomicBool>,
}

impl Relay {
    /// Relays every connection to `upstream` (an `http://` base) until told otherwise.
    pub(crate) fn to(upstream: &str) -> Relay {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// base")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let misrouting = Arc::new(AtomicBool::new(false));
        let (counter, answers_404) = (Arc::clone(&connections), Arc::clone(&misrouting));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                if answers_404.load(Ordering::SeqCst) {
                    std::thread::spawn(move || answer_not_found(client));
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Relay {
            base,
            connections,
            misrouting,
        }
    }

    /// How many connections have been made through the relay.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// From now on, every new connection is answered 404.
    pub(crate) fn misroute(&self) {
        self.misrouting.store(true, Ordering::SeqCst);
    }
}

/// Reads one request (its head and its body, so that the client reads the answer rather than
/// a reset connection) and answers it 404, as nginx does.
fn answer_not_found(mut client: TcpStream) {
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut request = BufReader::new(read_half);
    let mut body_length = 0;
    loop {
        let mut line = String::new();
        if request.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(length) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            body_length = length.trim().parse().unwrap_or(0);
        }
    }
    let _ = std::io::copy(&mut request.take(body_length), &mut std::io::sink());
    let _ = client.write_all(
        b"HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\n\
          content-length: 22\r\nconnection: close\r\n\r\n<h1>404 Not Found</h1>",
    );
}
