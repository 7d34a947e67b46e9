//! HTTP/JSON to the server over reqwest: rustls for TLS, gzip both ways (answers, and request
//! bodies of [`COMPRESS_FROM_BYTES`] and more), connect and request timeouts, the device token as a bearer token. Every failure becomes a [`SyncError`] named
//! for what it means to the user (offline, revoked, update required, ...).

use std::io::Write;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::{
    ApiErrorBody, AuditList, AuditQuery, ConflictList, ErasureResponse, LoginRequest,
    LoginResponse, ParticipantReport, PullResponse, PushRequest, PushResponse, SiteList, UserList,
    error_codes,
};

use uuid::Uuid;

use crate::SyncError;
use crate::provisioning::OrganisationCa;

/// Request bodies of at least this many bytes are sent gzip-compressed (`Content-Encoding:
/// gzip`, which the server decodes before its body limit applies): a push of days of offline
/// work shrinks several times over a slow mobile link; a small body is not worth it.
pub const COMPRESS_FROM_BYTES: usize = 1024;

/// How many times a login the server asked to come back in a moment is sent again.
pub const LOGIN_BUSY_RETRIES: u32 = 3;

/// The longest `Retry-After` of a 503 after which a login is sent again by itself (the
/// server's busy login answers say 2 s).
pub const LOGIN_BUSY_WAIT_MAX_SECS: u64 = 5;

/// A request body as JSON, gzip-compressed when it is large: the bytes and whether they are
/// compressed.
fn encode_body<B: Serialize>(body: &B) -> Result<(Vec<u8>, bool), SyncError> {
    let encoding_failed = |error: &dyn std::fmt::Display| SyncError::Protocol {
        detail: format!("cannot encode the request body ({error})"),
    };
    let json = serde_json::to_vec(body).map_err(|error| encoding_failed(&error))?;
    if json.len() < COMPRESS_FROM_BYTES {
        return Ok((json, false));
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 4),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(&json)
        .map_err(|error| encoding_failed(&error))?;
    let gzipped = encoder.finish().map_err(|error| encoding_failed(&error))?;
    Ok((gzipped, true))
}

/// Timeouts of the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSettings {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a whole request (answer included) may take.
    pub request_timeout: Duration,
    /// Whether to keep connections open between requests (off: a new connection each
    /// request, for proxies that count connections, and for fault-injection tests).
    pub reuse_connections: bool,
    /// The organisation CA from the provisioning file, trusted in addition to the public
    /// roots (a municipal server with a certificate from the city's own CA).
    pub organisation_ca: Option<OrganisationCa>,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            // The server gives up on a request after 30 s; a little longer here lets its
            // answer (408) arrive instead of a local timeout.
            request_timeout: Duration::from_secs(45),
            reuse_connections: true,
            organisation_ca: None,
        }
    }
}

/// A connection to one server, with or without a device token.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl HttpTransport {
    /// A transport to `server_url` (`http://` or `https://`), authenticated with `token`.
    pub fn new(
        server_url: &str,
        token: Option<String>,
        settings: TransportSettings,
    ) -> Result<Self, SyncError> {
        let base = server_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || reqwest::Url::parse(&base).is_err()
        {
            return Err(SyncError::InvalidServerUrl {
                url: server_url.to_owned(),
            });
        }
        let mut builder = reqwest::Client::builder();
        if !settings.reuse_connections {
            builder = builder.pool_max_idle_per_host(0);
        }
        if let Some(ca) = &settings.organisation_ca {
            let certificates = ca.certificates().map_err(|detail| SyncError::Offline {
                server: base.clone(),
                detail: format!("cannot use the organisation CA: {detail}"),
            })?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .gzip(true)
            .user_agent(concat!("tandem/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SyncError::Offline {
                server: base.clone(),
                detail: format!("cannot set up HTTPS: {error}"),
            })?;
        Ok(Self { base, token, http })
    }

    /// The server's base URL.
    pub fn server_url(&self) -> &str {
        &self.base
    }

    /// `POST /v1/auth/login`.
    /// A login answered 503 with a `Retry-After` of at most [`LOGIN_BUSY_WAIT_MAX_SECS`] (the
    /// server checking as many passwords as it may, or its login limit filled by attempts
    /// still being checked: none of them counted as an attempt) is sent again after that wait,
    /// [`LOGIN_BUSY_RETRIES`] times at most, so that laptops signing in together (a training
    /// session) do not each show a server error. A longer wait (a full disk says 60 s) is the
    /// person's to wait for.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, SyncError> {
        let mut retries = 0;
        loop {
            match self
                .call(Method::POST, "/v1/auth/login", Some(request))
                .await
            {
                Err(SyncError::Server {
                    status: 503,
                    retry_after_secs: Some(secs),
                    ..
                }) if retries < LOGIN_BUSY_RETRIES && secs <= LOGIN_BUSY_WAIT_MAX_SECS => {
                    retries += 1;
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                }
                answer => return answer,
            }
        }
    }

    /// `POST /v1/sync/push`.
    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        self.call(Method::POST, "/v1/sync/push", Some(request))
            .await
            .map_err(|error| self.sync_endpoint_error(error))
    }

    /// `GET /v1/sync/pull?after=..&limit=..`.
    pub async fn pull(&self, after: u64, limit: u32) -> Result<PullResponse, SyncError> {
        let path = format!("/v1/sync/pull?after={after}&limit={limit}");
        self.call::<(), _>(Method::GET, &path, None)
            .await
            .map_err(|error| self.sync_endpoint_error(error))
    }

    /// A push or a pull answered with a status the server's sync endpoints never answer
    /// (a 4xx other than 408, 425, 429 and those the protocol names): something else answers
    /// at this address (a misrouted proxy, or one answering so while the server behind it
    /// restarts) or the server is not one this app can sync with. A person should look, so it
    /// is [`SyncError::WrongServerAddress`], not a server error "sent later" on the usual
    /// backoff; the schedule still retries it, at its longest backoff.
    fn sync_endpoint_error(&self, error: SyncError) -> SyncError {
        match error {
            SyncError::Server {
                status,
                code,
                message,
                ..
            } if !crate::error::status_is_transient(status) => SyncError::WrongServerAddress {
                server: self.base.clone(),
                status,
                code,
                message,
            },
            other => other,
        }
    }

    /// `GET /v1/sites`: the organisation's sites, archived ones included.
    pub async fn sites(&self) -> Result<SiteList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/sites", None).await
    }

    /// `GET /v1/users`: the members of the device's team.
    pub async fn users(&self) -> Result<UserList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/users", None).await
    }

    /// `GET /v1/conflicts?status=all&closed_limit=N` (team leads): every open conflict and
    /// the `closed_limit` most recently closed ones. A server from before `closed_limit` lists every
    /// conflict; the store keeps the same ones of that list.
    pub async fn conflicts(&self, closed_limit: usize) -> Result<ConflictList, SyncError> {
        let path = format!("/v1/conflicts?status=all&closed_limit={closed_limit}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `POST /v1/clients/{id}/erase` (team leads of the client's team).
    pub async fn erase_client(&self, client: Uuid) -> Result<ErasureResponse, SyncError> {
        self.call::<(), _>(Method::POST, &format!("/v1/clients/{client}/erase"), None)
            .await
    }

    /// `GET /v1/clients/{id}/export`, as the server sends it: JSON, or CSV when `csv`.
    pub async fn export_client(&self, client: Uuid, csv: bool) -> Result<Vec<u8>, SyncError> {
        let accept = if csv { "text/csv" } else { "application/json" };
        let path = format!("/v1/clients/{client}/export");
        self.fetch::<()>(Method::GET, &path, None, Some(accept))
            .await
    }

    /// `GET /v1/audit?after=..&limit=..[&record_id=..]` (team leads: their team's; admins: all).
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditList, SyncError> {
        let mut path = format!("/v1/audit?after={}&limit={}", query.after, query.limit);
        if let Some(record) = query.record_id {
            path.push_str(&format!("&record_id={record}"));
        }
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `GET /v1/reports/participants?from=..&to=..` (team leads), as JSON.
    pub async fn participant_report(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ParticipantReport, SyncError> {
        let path = format!("/v1/reports/participants?from={from}&to={to}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SyncError> {
        let bytes = self.fetch(method, path, body, None).await?;
        // An answer without a body (204) reads as JSON null, so `()` takes it.
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|error| SyncError::Protocol {
            detail: format!("{path} answered with a body that is not the expected JSON ({error})"),
        })
    }

    /// Sends a request and returns the body of a successful answer; every other answer
    /// becomes the [`SyncError`] its status and code mean.
    async fn fetch<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        accept: Option<&'static str>,
    ) -> Result<Vec<u8>, SyncError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(accept) = accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(body) = body {
            let (bytes, gzipped) = encode_body(body)?;
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
            if gzipped {
                request = request.header(reqwest::header::CONTENT_ENCODING, "gzip");
            }
            request = request.body(bytes);
        }
        let response = request.send().await.map_err(|error| self.offline(&error))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        // A connection cut in the middle of the answer shows up here, not at `send`.
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.offline(&error))?;
        if status.is_success() {
            return Ok(bytes.into());
        }
        let body: Option<ApiErrorBody> = serde_json::from_slice(&bytes).ok();
        let code = body.as_ref().map(|b| b.error.clone()).unwrap_or_default();
        let reason_code = body.as_ref().and_then(|b| b.reason_code);
        let message = body.map(|b| b.message).unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_owned()
            } else {
                text.chars().take(200).collect()
            }
        });
        Err(match (status, code.as_str()) {
            (StatusCode::UNAUTHORIZED, error_codes::DEVICE_REVOKED) => SyncError::DeviceRevoked,
            (StatusCode::UNAUTHORIZED, error_codes::INVALID_CREDENTIALS) => {
                SyncError::InvalidCredentials
            }
            (StatusCode::UNAUTHORIZED, _) => SyncError::Unauthorized { message },
            (StatusCode::UPGRADE_REQUIRED, _) | (_, error_codes::UPDATE_REQUIRED) => {
                SyncError::UpdateRequired { message }
            }
            (StatusCode::FORBIDDEN, _) => SyncError::Forbidden { message },
            (StatusCode::PAYLOAD_TOO_LARGE, _) => SyncError::PayloadTooLarge { message },
            (StatusCode::TOO_MANY_REQUESTS, _) => SyncError::RateLimited {
                retry_after_secs: retry_after.unwrap_or(60),
            },
            _ => SyncError::Server {
                status: status.as_u16(),
                code: if code.is_empty() {
                    "none".to_owned()
                } else {
                    code
                },
                message,
                retry_after_secs: retry_after,
                reason_code,
            },
        })
    }

    fn offline(&self, error: &reqwest::Error) -> SyncError {
        let mut detail = error_chain(error);
        if error.is_timeout() {
            detail = format!("timed out: {detail}");
        }
        SyncError::Offline {
            server: self.base.clone(),
            detail,
        }
    }
}

/// The `host:port` of a server URL, for the connectivity probe.
fn socket_address(server_url: &str) -> Option<String> {
    let (scheme, rest) = server_url.split_once("://")?;
    let authority = rest.split('/').next()?.rsplit('@').next()?;
    // An IPv6 literal is bracketed, and its colons are not a port's.
    let has_port = match authority.strip_prefix('[') {
        Some(literal) => literal.contains("]:"),
        None => authority.contains(':'),
    };
    if has_port {
        Some(authority.to_owned())
    } else {
        let port = if scheme == "https" { 443 } else { 80 };
        Some(format!("{authority}:{port}"))
    }
}

/// Whether the server accepts a TCP connection: cheap, and enough to tell that the network
/// is back (probed every [`crate::schedule::OFFLINE_PROBE_EVERY`] while offline).
pub async fn server_reachable(server_url: &str) -> bool {
    let Some(address) = socket_address(server_url) else {
        return false;
    };
    matches!(
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            tokio::net::TcpStream::connect(address)
        )
        .await,
        Ok(Ok(_))
    )
}

/// An error and its causes in one line (reqwest's own message hides the TLS reason).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const NULL: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                          content-length: 4\r\nconnection: close\r\n\r\nnull";

    /// Accepts one request on a real socket, answers it with `answer` (raw HTTP), and returns
    /// the request's head (lower case) and body.
    async fn one_request(listener: TcpListener, answer: &'static [u8]) -> (String, Vec<u8>) {
        next_request(&listener, answer).await
    }

    /// Answers the next request `listener` accepts with `answer` (raw HTTP).
    async fn next_request(listener: &TcpListener, answer: &'static [u8]) -> (String, Vec<u8>) {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            assert_ne!(
                read, 0,
                "the connection closed before the request was complete"
            );
            received.extend_from_slice(&buffer[..read]);
            let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if received.len() >= end + 4 + length {
                socket.write_all(answer).await.unwrap();
                return (head, received[end + 4..end + 4 + length].to_vec());
            }
        }
    }

    /// POSTs `body` through the transport to a socket of the test; what arrived there.
    async fn send(body: &Value) -> (String, Vec<u8>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(one_request(listener, NULL));
        let transport =
            HttpTransport::new(&url, Some("token".into()), TransportSettings::default()).unwrap();
        let () = transport
            .call(Method::POST, "/v1/sync/push", Some(body))
            .await
            .unwrap();
        server.await.unwrap()
    }

    #[test]
    fn the_probe_address_is_host_and_port_with_the_scheme_default() {
        assert_eq!(
            socket_address("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            socket_address("https://tandem.vantaa.example/base").as_deref(),
            Some("tandem.vantaa.example:443")
        );
        assert_eq!(socket_address("tandem.example"), None);
        assert_eq!(
            socket_address("https://[fd00::7]/").as_deref(),
            Some("[fd00::7]:443")
        );
        assert_eq!(
            socket_address("http://[fd00::7]:8787").as_deref(),
            Some("[fd00::7]:8787")
        );
    }

    #[tokio::test]
    async fn large_request_bodies_are_sent_gzipped_and_small_ones_plain() {
        let changes: Vec<String> = (0..200)
            .map(|i| format!("a change to the given name of client {i}"))
            .collect();
        let large = json!({ "changes": changes });
        let (head, body) = send(&large).await;
        assert!(head.contains("content-encoding: gzip"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut json)
            .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), large);
        assert!(
            body.len() * 3 < json.len(),
            "{} bytes gzipped from {}",
            body.len(),
            json.len()
        );

        let small = json!({ "changes": [] });
        let (head, body) = send(&small).await;
        assert!(!head.contains("content-encoding"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), small);
    }

    #[tokio::test]
    async fn a_team_leads_conflict_list_asks_for_the_open_ones_and_only_the_newest_closed_ones() {
        const EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                               content-length: 16\r\nconnection: close\r\n\r\n\
                               {\"conflicts\":[]}";
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(one_request(listener, EMPTY));
        let transport =
            HttpTransport::new(&url, Some("token".into()), TransportSettings::default()).unwrap();
        let list = transport.conflicts(50).await.unwrap();
        assert!(list.conflicts.is_empty());
        let (head, _) = server.await.unwrap();
        assert!(
            head.starts_with("get /v1/conflicts?status=all&closed_limit=50 http/1.1"),
            "{head}"
        );
    }

    /// What a push answered with `answer` (raw HTTP) becomes.
    async fn push_answered(answer: &'static [u8]) -> SyncError {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(one_request(listener, answer));
        let transport =
            HttpTransport::new(&url, Some("token".into()), TransportSettings::default()).unwrap();
        let error = transport
            .push(&tandem_protocol::PushRequest {
                device_id: uuid::Uuid::nil(),
                schema_version: 1,
                app_version: "test".to_owned(),
                pending_count: 0,
                changes: Vec::new(),
            })
            .await
            .unwrap_err();
        server.await.unwrap();
        error
    }

    #[tokio::test]
    async fn a_sync_request_answered_404_by_something_else_at_the_address_is_named_and_retried_slowly()
     {
        let misrouted = push_answered(
            b"HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\n\
              content-length: 22\r\nconnection: close\r\n\r\n\
              <h1>404 Not Found</h1>",
        )
        .await;
        assert_eq!(misrouted.kind(), "wrong_server_address", "{misrouted:?}");
        assert!(!misrouted.is_transient());
        assert_eq!(
            crate::CycleOutcome::of::<()>(&Err(misrouted)),
            crate::CycleOutcome::SlowRetry
        );
    }

    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
        retry-after: 0\r\ncontent-length: 44\r\nconnection: close\r\n\r\n\
        {\"error\":\"unavailable\",\"message\":\"busy now\"}";

    /// What a login answered with each of `answers` in turn becomes, and how many of them
    /// were asked for.
    async fn login_answered(
        answers: Vec<&'static [u8]>,
    ) -> (Result<LoginResponse, SyncError>, usize) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let transport = HttpTransport::new(&url, None, TransportSettings::default()).unwrap();
        let request = LoginRequest {
            username: "coach".into(),
            password: "secret".into(),
            device_name: "laptop".into(),
            team: None,
        };
        let login = transport.login(&request);
        let serve = async {
            let mut served = 0;
            for answer in answers {
                tokio::select! {
                    _ = next_request(&listener, answer) => served += 1,
                    // The login gave up or succeeded: no more requests come.
                    () = tokio::time::sleep(Duration::from_secs(30)) => break,
                }
            }
            served
        };
        let (answer, served) = tokio::join!(login, serve);
        (answer, served)
    }

    #[tokio::test]
    async fn a_login_the_server_asks_to_come_back_in_a_moment_is_sent_again_a_few_times() {
        let signed_in: &'static [u8] = Box::leak(
            {
                let body = serde_json::json!({
                    "user": {"id": uuid::Uuid::nil(), "username": "coach"},
                    "role": "coach",
                    "teams": [],
                    "team": null,
                    "device_id": uuid::Uuid::nil(),
                    "device_token": "token",
                })
                .to_string();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            }
            .into_bytes()
            .into_boxed_slice(),
        );
        let (answer, served) = login_answered(vec![BUSY, BUSY, signed_in]).await;
        assert_eq!(served, 3);
        assert_eq!(answer.unwrap().device_token, "token");

        // Never more than three times again: then the person sees the answer.
        let (answer, served) = login_answered(vec![BUSY; 4]).await;
        assert_eq!(served, 4);
        assert!(
            matches!(answer, Err(SyncError::Server { status: 503, .. })),
            "{answer:?}"
        );
    }

    #[tokio::test]
    async fn a_login_answered_503_with_a_long_wait_is_not_sent_again() {
        let full: &'static [u8] =
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
              retry-after: 60\r\ncontent-length: 53\r\nconnection: close\r\n\r\n\
              {\"error\":\"storage_full\",\"message\":\"The disk is full\"}";
        let (answer, served) = login_answered(vec![full]).await;
        assert_eq!(served, 1);
        assert!(
            matches!(&answer, Err(SyncError::Server { status: 503, code, .. }) if code == "storage_full"),
            "{answer:?}"
        );
    }

    #[tokio::test]
    async fn a_servers_retry_after_reaches_the_error_the_schedule_reads() {
        let full = push_answered(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
              retry-after: 60\r\ncontent-length: 53\r\nconnection: close\r\n\r\n\
              {\"error\":\"storage_full\",\"message\":\"The disk is full\"}",
        )
        .await;
        assert!(
            matches!(&full, SyncError::Server { status: 503, code, .. } if code == "storage_full"),
            "{full:?}"
        );
        assert_eq!(full.retry_after(), Some(std::time::Duration::from_secs(60)));
        assert!(full.is_transient());

        let internal = push_answered(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\
              connection: close\r\n\r\n",
        )
        .await;
        assert!(
            matches!(&internal, SyncError::Server { status: 500, .. }),
            "{internal:?}"
        );
        assert_eq!(internal.retry_after(), None);
    }
}
