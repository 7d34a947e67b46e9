//! HTTP/JSON to the server over reqwest: rustls for TLS, gzip answers, connect and request
//! timeouts, the device token as a bearer token. Every failure becomes a [`SyncError`] named
//! for what it means to the user (offline, revoked, update required, ...).

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_protocol::{
    ApiErrorBody, AuditList, AuditQuery, ConflictList, ErasureResponse, LoginRequest,
    LoginResponse, ParticipantReport, PullResponse, PushRequest, PushResponse, error_codes,
};

use uuid::Uuid;

use crate::SyncError;
use crate::provisioning::OrganisationCa;

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
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, SyncError> {
        self.call(Method::POST, "/v1/auth/login", Some(request))
            .await
    }

    /// `POST /v1/sync/push`.
    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        self.call(Method::POST, "/v1/sync/push", Some(request))
            .await
    }

    /// `GET /v1/sync/pull?after=..&limit=..`.
    pub async fn pull(&self, after: u64, limit: u32) -> Result<PullResponse, SyncError> {
        let path = format!("/v1/sync/pull?after={after}&limit={limit}");
        self.call::<(), _>(Method::GET, &path, None).await
    }

    /// `GET /v1/conflicts?status=all` (team leads).
    pub async fn conflicts(&self) -> Result<ConflictList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/conflicts?status=all", None)
            .await
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
            request = request.json(body);
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

/// An error and its causes in one line (reqwest's own message hides the TLS reason).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}
