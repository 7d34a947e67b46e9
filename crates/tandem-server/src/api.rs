//! The HTTP API under `/v1` (docs/protocol.md): handlers, the bearer-token check, role and
//! team checks, and the one error type that becomes every error response.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration as TimeDelta;
use serde::Deserialize;
use tandem_domain::{Entity, ValidationContext, field_spec};
use tandem_protocol::ParticipantReport;
use tandem_protocol::{
    ApiErrorBody, ChangeStatus, ConflictList, DeviceList, HealthResponse, LoginRequest,
    LoginResponse, MAX_CLOSED_CONFLICTS_LIMIT, MAX_PULL_LIMIT, PullQuery, PullResponse,
    PushRequest, PushResponse, RejectCode, ResolveConflictRequest, ResolveConflictResponse, Role,
    SiteList, UserList, error_codes, is_supported_schema_version,
};
use tandem_reports::ReportPeriod;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

mod duplicate_endpoints;
mod error_responses;
use error_responses::{Forbidden, LoginFailure, StoreFailure, Unauthorized, UnsupportedMediaType};

use crate::ServerError;
use crate::auth::{
    LoginConcurrency, LoginGate, PasswordHashing, client_address, new_device_token, token_hash,
};
use crate::clock::{Clock, new_uuid_v7, to_ms};
use crate::metrics::ServerMetrics;
use crate::push::{
    PreparedChange, Refusal, forget_lost_bases, prepare_change, refuse_unknown_sites,
    refuse_users_outside_team, site_written, user_named, user_outside_team, user_written,
};
use crate::store::{
    LoginLimits, LoginOutcome, LoginReservation, NewDevice, PushContext, ServerStore, device_name,
};

// Erasure, the access export and the audit viewer; a child module, so it shares the
// extractors and error constructors.
#[path = "privacy_api.rs"]
mod privacy;
pub use privacy::export_csv;

/// Most changes one push may carry (DESIGN.md suggests batches of about 500).
pub const MAX_CHANGES_PER_PUSH: usize = 1000;

/// Limits on login attempts.
#[derive(Debug, Clone, Copy)]
pub struct LoginRateLimit {
    /// How far back failures count.
    pub window: Duration,
    /// Failures per username within the window before 429.
    pub per_username: u32,
    /// Failures per client address within the window before 429.
    pub per_address: u32,
}

impl Default for LoginRateLimit {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_username: 5,
            per_address: 20,
        }
    }
}

/// How the server behaves, beyond where its data is.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest request body accepted (413 beyond).
    pub body_limit_bytes: usize,
    /// Longest a request may take (408 beyond).
    pub request_timeout: Duration,
    /// Login rate limits.
    pub login_rate_limit: LoginRateLimit,
    /// Password hashing parameters for new hashes.
    pub password_hashing: PasswordHashing,
    /// How many logins may have their password checked at once, and wait for it.
    pub login_concurrency: LoginConcurrency,
    /// TLS-terminating proxies in front of the server, whose `X-Forwarded-For` names the
    /// client a login's rate limit counts ([`crate::auth::client_address`]); empty: the
    /// header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            login_rate_limit: LoginRateLimit::default(),
            password_hashing: PasswordHashing::recommended(),
            login_concurrency: LoginConcurrency::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn ServerStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The settings.
    pub settings: Arc<ServerSettings>,
    /// This instance's counters for monitoring (served by [`crate::metrics::metrics_router`]).
    pub metrics: ServerMetrics,
    /// A hash to verify against when the username is unknown, so that a wrong username
    /// takes as long as a wrong password.
    dummy_hash: Arc<String>,
    /// Bounds the password checks of this instance.
    login_gate: LoginGate,
}

impl AppState {
    /// Builds the shared state.
    pub fn new(
        store: Arc<dyn ServerStore>,
        clock: Arc<dyn Clock>,
        settings: ServerSettings,
    ) -> Result<Self, ServerError> {
        let dummy_hash = settings
            .password_hashing
            .hash("tandem: a password nobody has")?;
        Ok(Self {
            store,
            clock,
            login_gate: LoginGate::new(settings.login_concurrency),
            settings: Arc::new(settings),
            metrics: ServerMetrics::default(),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// The gate of this instance's password checks.
    pub fn login_gate(&self) -> &LoginGate {
        &self.login_gate
    }
}

/// Every endpoint, each registered from its `#[utoipa::path]` annotation: the method and
/// path the router serves are the ones the OpenAPI document describes, so the two cannot
/// drift apart. Add endpoints here (with `routes!`), never with a bare `Router::route`.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base_document())
        .routes(routes!(health))
        .routes(routes!(openapi_document))
        .routes(routes!(login))
        .routes(routes!(push))
        .routes(routes!(pull))
        .routes(routes!(list_conflicts))
        .routes(routes!(resolve_conflict))
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(list_sites))
        .routes(routes!(list_users))
        .merge(duplicate_endpoints::routes())
        .routes(routes!(privacy::erase_client))
        .routes(routes!(privacy::export_client))
        .routes(routes!(privacy::list_audit))
        .routes(routes!(participant_report))
}

/// The router with every endpoint and the HTTP layers (body limit, gzip both ways,
/// timeout, tracing).
pub fn router(state: AppState) -> Router {
    let settings = Arc::clone(&state.settings);
    let metrics = state.metrics.clone();
    let (routes, _document) = api_routes().split_for_parts();
    routes
        // Inside the routing, so that each request is counted under its route template.
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track_requests,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        // The default spans carry method and path only: never bodies, so never client data.
        .layer(TraceLayer::new_for_http())
}

// ---------------------------------------------------------------------------------------
// Errors

/// Every error response: a status, a machine code, a sentence the client may see, and
/// (only logged) the internal cause.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    reason_code: Option<RejectCode>,
    retry_after_secs: Option<u64>,
    internal: Option<Box<ServerError>>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            reason_code: None,
            retry_after_secs: None,
            internal: None,
        }
    }

    /// 422: a value the server refuses to write, with the refusal's code (a device says it in
    /// its user's language) and words.
    fn refused(code: &'static str, refusal: Refusal) -> Self {
        Self {
            reason_code: Some(refusal.code),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, refusal.reason)
        }
    }

    fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error_codes::UNAUTHORIZED, message)
    }

    fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, error_codes::FORBIDDEN, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error_codes::NOT_FOUND, message)
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_codes::INVALID_REQUEST,
            message,
        )
    }

    /// 503: nothing of the request was done; the device retries after `retry_after_secs`.
    fn retry_later(
        cause: ServerError,
        code: &'static str,
        retry_after_secs: u64,
        message: &str,
    ) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            internal: Some(Box::new(cause)),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// How long a login is asked to wait when every place to check a password is taken, or when
/// logins of its username or address being checked fill the rate limit.
pub(crate) const LOGIN_BUSY_RETRY_AFTER_SECS: u64 = 2;
/// How long a device is asked to wait after the server's disk was found full.
pub(crate) const STORAGE_FULL_RETRY_AFTER_SECS: u64 = 60;
/// How long a device is asked to wait after the server found no free database connection.
pub(crate) const BUSY_RETRY_AFTER_SECS: u64 = 10;
/// How long a device is asked to wait after the server could not reach its database.
pub(crate) const DATABASE_UNAVAILABLE_RETRY_AFTER_SECS: u64 = 30;

impl From<ServerError> for ApiError {
    fn from(err: ServerError) -> Self {
        match err {
            ServerError::UnknownConflict(id) => Self::not_found(format!("no conflict {id}")),
            ServerError::UnknownDevice(id) => Self::not_found(format!("no device {id}")),
            ServerError::UnknownRecord(id) => Self::not_found(format!("no client {id}")),
            ServerError::ConflictNotOpen(id) => Self::new(
                StatusCode::CONFLICT,
                "conflict_not_open",
                format!(
                    "conflict {id} is not open: resolved already, or settled by a later edit of \
                     its field"
                ),
            ),
            ServerError::UnknownClient(id) => Self::not_found(format!("no client {id}")),
            ServerError::UnknownMerge(id) => Self::not_found(format!("no merge {id}")),
            err @ ServerError::ClientNotMergeable { .. } => {
                Self::new(StatusCode::CONFLICT, "not_mergeable", err.to_string())
            }
            ServerError::ConsentRequired(refusal) => Self::refused("consent_required", refusal),
            err @ ServerError::LinkedFromOtherTeam { .. } => Self::new(
                StatusCode::CONFLICT,
                "linked_from_other_team",
                err.to_string(),
            ),
            err @ ServerError::MergeNotUndoable { .. } => {
                Self::new(StatusCode::CONFLICT, "merge_not_undoable", err.to_string())
            }
            err @ ServerError::DiskFull(_) => Self::retry_later(
                err,
                error_codes::STORAGE_FULL,
                STORAGE_FULL_RETRY_AFTER_SECS,
                "the server's disk is full, so nothing of this request was stored; retry later",
            ),
            err @ ServerError::Busy(_) => Self::retry_later(
                err,
                error_codes::UNAVAILABLE,
                BUSY_RETRY_AFTER_SECS,
                "the server is too busy to take this request now; nothing of it was stored; retry later",
            ),
            err @ ServerError::DatabaseUnavailable(_) => Self::retry_later(
                err,
                error_codes::UNAVAILABLE,
                DATABASE_UNAVAILABLE_RETRY_AFTER_SECS,
                "the server cannot reach its database now; retry later (a push is safe to send again)",
            ),
            other => Self {
                internal: Some(Box::new(other)),
                ..Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error_codes::INTERNAL,
                    "the server failed; the request can be retried",
                )
            },
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        // serde_json's messages name the path and the expected type, never the value.
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::JsonSyntaxError(_) => {
                Self::new(StatusCode::BAD_REQUEST, error_codes::INVALID_JSON, detail)
            }
            JsonRejection::JsonDataError(_) => Self::invalid(detail),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected `Content-Type: application/json`",
            ),
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                error_codes::PAYLOAD_TOO_LARGE,
                "the request body is larger than the server accepts",
            ),
            _ => Self::new(
                StatusCode::BAD_REQUEST,
                error_codes::INVALID_REQUEST,
                detail,
            ),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error_codes::INVALID_REQUEST,
            rejection.body_text(),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error_codes::INVALID_REQUEST,
            rejection.body_text(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(internal) = &self.internal {
            tracing::error!(error = %internal, "request failed");
        } else if self.status.is_server_error() {
            tracing::error!(code = self.code, "request failed");
        } else {
            tracing::debug!(
                code = self.code,
                status = self.status.as_u16(),
                "request refused"
            );
        }
        let body = ApiErrorBody {
            error: self.code.to_owned(),
            message: self.message,
            reason_code: self.reason_code,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s, so malformed bodies get JSON errors.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with JSON errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

/// `axum::extract::Path` with JSON errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct PathParam<T>(pub T);

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

// ---------------------------------------------------------------------------------------
// Who is calling

/// The device behind a bearer token, checked: known and not revoked.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The device.
    pub device_id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// The device's team.
    pub team_id: Option<Uuid>,
}

impl Caller {
    /// The team of a coach or team lead; admins never touch client data.
    fn client_data_team(&self) -> Result<Uuid, ApiError> {
        match (self.role, self.team_id) {
            (Role::Admin, _) => Err(ApiError::forbidden(
                "administrators manage teams, users and devices but do not read client data",
            )),
            (_, Some(team)) => Ok(team),
            (_, None) => Err(ApiError::forbidden("this device works for no team")),
        }
    }

    fn team_lead_team(&self) -> Result<Uuid, ApiError> {
        let team = self.client_data_team()?;
        if self.role == Role::TeamLead {
            Ok(team)
        } else {
            Err(ApiError::forbidden("only a team lead may do this"))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("a device token is required (Authorization: Bearer ...)")
            })?;
        let device = state
            .store
            .device_by_token_hash(&token_hash(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the device token is not known"))?;
        if device.revoked {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_codes::DEVICE_REVOKED,
                "this device has been revoked; its local data must be wiped",
            ));
        }
        Ok(Caller {
            device_id: device.device_id,
            user_id: device.user_id,
            role: device.role,
            team_id: device.team_id,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "The server and its database answer.", body = HealthResponse),
        (status = 500, description = "`internal`: the database does not answer.", body = ApiErrorBody),
    )
)]
async fn health(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    state.store.check_health().await?;
    Ok(Json(HealthResponse {
        status: "ok".into(),
    }))
}

/// `GET /v1/openapi.json`: this document, built once from the annotations.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json", body = Object),
    )
)]
async fn openapi_document() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        crate::openapi::document_json(),
    )
        .into_response()
}

#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new device and its bearer token.", body = LoginResponse),
        (status = 400, description = "`invalid_json`: the body is not JSON; `invalid_request`: it could not be read (e.g. broken gzip).", body = ApiErrorBody),
        (status = 401, description = "`invalid_credentials`: wrong username or password (the same answer for both).", body = ApiErrorBody),
        (status = 403, description = "`forbidden`: the user is not a member of the named `team`, or of no team at all.", body = ApiErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit.", body = ApiErrorBody),
        UnsupportedMediaType,
        (status = 422, description = "`invalid_request`: JSON of the wrong shape, a bad `device_name`, or the user belongs to several teams and `team` is missing.", body = ApiErrorBody),
        (status = 429, description = "`rate_limited`: too many failed logins for this username or address.", body = ApiErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a login may be tried again."))),
        LoginFailure,
    )
)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let now = state.clock.now();
    // A place at the gate first: a login refused for want of one has cost nothing and is
    // not counted as an attempt.
    let Some(place) = state.login_gate.try_admit() else {
        tracing::warn!("login refused: every password check place is taken");
        return Err(ApiError {
            retry_after_secs: Some(LOGIN_BUSY_RETRY_AFTER_SECS),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                error_codes::UNAVAILABLE,
                "the server is checking too many sign-ins at once; try again in a moment",
            )
        });
    };
    let limits = state.settings.login_rate_limit;
    let forwarded_for: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        // A field that is not text is no address: the walk stops there.
        .map(|value| value.to_str().unwrap_or("?"))
        .collect();
    let address =
        client_address(peer.ip(), &forwarded_for, &state.settings.trusted_proxies).to_string();
    let window = TimeDelta::from_std(limits.window).unwrap_or(TimeDelta::minutes(15));
    // A login still unanswered after the request timeout never will be: the timeout ended it.
    let longest_login =
        TimeDelta::from_std(state.settings.request_timeout).unwrap_or(TimeDelta::seconds(30));
    let reservation = state
        .store
        .reserve_login_attempt(
            &request.username,
            &address,
            LoginLimits {
                since: now - window,
                in_progress_since: now - longest_login,
                per_username: limits.per_username,
                per_address: limits.per_address,
            },
            now,
        )
        .await?;
    let attempt_id = match reservation {
        LoginReservation::Reserved { attempt_id } => attempt_id,
        // Logins of this user or address being checked fill the limit, not failures: they
        // may prove right, so this one is asked to come back in a moment (the app sends it
        // again after the `Retry-After`, a few times), instead of being refused for the
        // window (a training session's laptops signing in together behind one address).
        LoginReservation::AttemptsInProgress => {
            tracing::info!("login asked to wait: attempts in progress reach the rate limit");
            return Err(ApiError {
                retry_after_secs: Some(LOGIN_BUSY_RETRY_AFTER_SECS),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    error_codes::UNAVAILABLE,
                    "other sign-ins of this user or address are being checked; try again in a moment",
                )
            });
        }
        LoginReservation::Refused(failures) => {
            let oldest = if failures.by_username >= limits.per_username {
                failures.oldest_by_username_ms
            } else {
                failures.oldest_by_address_ms
            };
            let free_at = oldest.unwrap_or(to_ms(now)) + window.num_milliseconds();
            let retry_after = u64::try_from((free_at - to_ms(now)).max(1000) / 1000).unwrap_or(1);
            tracing::warn!("login rate limit reached");
            return Err(ApiError {
                retry_after_secs: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    error_codes::RATE_LIMITED,
                    format!("too many failed logins; try again in {retry_after} s"),
                )
            });
        }
    };

    let user = state.store.login_user(&request.username).await?;
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.as_str().to_owned());
    let verified = place
        .check(
            state.settings.password_hashing.clone(),
            request.password.clone(),
            phc,
        )
        .await?;
    state.metrics.password_verified();
    drop(place);
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state
                .store
                .settle_login_attempt(attempt_id, &request.username, LoginOutcome::Failed)
                .await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                error_codes::INVALID_CREDENTIALS,
                "wrong username or password",
            ));
        }
    };
    state
        .store
        .settle_login_attempt(attempt_id, &request.username, LoginOutcome::Succeeded)
        .await?;

    let team = match (&request.team, user.teams.as_slice()) {
        (Some(name), teams) => Some(
            teams
                .iter()
                .find(|team| &team.name == name)
                .cloned()
                .ok_or_else(|| ApiError::forbidden("the user is not a member of that team"))?,
        ),
        (None, [only]) => Some(only.clone()),
        (None, []) if user.role == Role::Admin => None,
        (None, []) => return Err(ApiError::forbidden("the user belongs to no team")),
        (None, _) => {
            return Err(ApiError::invalid(
                "team: the user belongs to several teams; name one in `team`",
            ));
        }
    };
    let device_name = device_name(&request.device_name)
        .map_err(|reason| ApiError::invalid(format!("device_name: {reason}")))?;
    let device_id = new_uuid_v7(state.clock.as_ref());
    let device_token = new_device_token();
    state
        .store
        .add_device(
            NewDevice {
                id: device_id,
                user_id: user.user.id,
                team_id: team.as_ref().map(|t| t.id),
                name: device_name.to_owned(),
                token_hash: token_hash(&device_token),
            },
            now,
        )
        .await?;
    tracing::info!(%device_id, role = user.role.as_str(), "device logged in");
    privacy::audit_login(
        &state,
        user.user.id,
        device_id,
        team.as_ref().map(|t| t.id),
        now,
    )
    .await?;
    Ok(Json(LoginResponse {
        user: user.user,
        role: user.role,
        teams: user.teams,
        team,
        device_id,
        device_token,
    }))
}

#[utoipa::path(
    post,
    path = "/v1/sync/push",
    tag = "sync",
    security(("device_token" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per change, in request order; the batch was applied in one transaction.", body = PushResponse),
        (status = 400, description = "`invalid_json`: the body is not JSON; `invalid_request`: it could not be read (e.g. broken gzip).", body = ApiErrorBody),
        Unauthorized,
        (status = 403, description = "`forbidden`: an admin, a device without a team, or `device_id` is not the token's device.", body = ApiErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit or carries more than 1000 changes.", body = ApiErrorBody),
        UnsupportedMediaType,
        (status = 422, description = "`invalid_request`: JSON of the wrong shape or an invalid value; the message names the field.", body = ApiErrorBody),
        (status = 426, description = "`update_required`: this schema version is no longer accepted; update the app.", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn push(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let team_id = caller.client_data_team()?;
    if request.device_id != caller.device_id {
        return Err(ApiError::forbidden(
            "device_id: not the device of this token",
        ));
    }
    if !is_supported_schema_version(request.schema_version) {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            error_codes::UPDATE_REQUIRED,
            format!(
                "schema_version {} is not accepted; this server speaks {}",
                request.schema_version,
                tandem_protocol::SCHEMA_VERSION
            ),
        ));
    }
    if request.changes.len() > MAX_CHANGES_PER_PUSH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_codes::PAYLOAD_TOO_LARGE,
            format!("changes: at most {MAX_CHANGES_PER_PUSH} per push"),
        ));
    }
    let now = state.clock.now();
    // Values entered on laptops, whose clocks may be off: a contact dated in the future is
    // taken (the app refused it where it was typed, unless its clock was wrong).
    let ctx = ValidationContext::received(now.date_naive());
    let prepared: Vec<PreparedChange> = request
        .changes
        .iter()
        .map(|change| prepare_change(change, caller.user_id, ctx, to_ms(now)))
        .collect();
    let prepared = if prepared.iter().any(|change| site_written(change).is_some()) {
        let known = state.store.list_sites().await?;
        refuse_unknown_sites(prepared, &known.iter().map(|site| site.id).collect())
    } else {
        prepared
    };
    let prepared = if prepared.iter().any(|change| user_written(change).is_some()) {
        refuse_users_outside_team(prepared, &team_member_ids(&state, team_id).await?)
    } else {
        prepared
    };
    let epochs = state.store.epochs().await?;
    let prepared = forget_lost_bases(prepared, &epochs);
    let results = state
        .store
        .push(
            PushContext {
                device_id: caller.device_id,
                team_id,
                schema_version: request.schema_version,
                app_version: request.app_version,
                pending_count: request.pending_count,
                now,
            },
            prepared,
        )
        .await?;
    let count = |status| results.iter().filter(|r| r.status == status).count();
    // The refusals by code, for IT to see what laptops are told; codes say nothing of the
    // records or the values.
    let mut refused: BTreeMap<RejectCode, u64> = BTreeMap::new();
    for code in results.iter().filter_map(|result| result.reason_code) {
        *refused.entry(code).or_default() += 1;
    }
    for (code, n) in &refused {
        state.metrics.push_rejections(*code, *n);
    }
    // `invalid_value:1,unknown_site:2`: one logfmt value, left out when nothing was refused.
    let reason_codes = (!refused.is_empty()).then(|| {
        refused
            .iter()
            .map(|(code, n)| format!("{}:{n}", code.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    });
    tracing::info!(
        device_id = %caller.device_id,
        applied = count(ChangeStatus::Applied),
        merged = count(ChangeStatus::Merged),
        conflict = count(ChangeStatus::Conflict),
        rejected = count(ChangeStatus::Rejected),
        reason_codes = reason_codes.as_deref(),
        "push"
    );
    for (status, name) in [
        (ChangeStatus::Applied, "applied"),
        (ChangeStatus::Merged, "merged"),
        (ChangeStatus::Conflict, "conflict"),
        (ChangeStatus::Rejected, "rejected"),
    ] {
        state.metrics.push_result(name, count(status) as u64);
    }
    Ok(Json(PushResponse {
        server_time: now,
        results,
        epoch: Some(epochs.to_wire()),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/sync/pull",
    tag = "sync",
    security(("device_token" = [])),
    params(PullQuery),
    responses(
        (status = 200, description = "The team's writes after `after`, in `seq` order.", body = PullResponse),
        (status = 400, description = "`invalid_request`: a bad query parameter (`limit` outside 1 to 1000, a non-number).", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PullQuery>,
) -> Result<Json<PullResponse>, ApiError> {
    let team_id = caller.client_data_team()?;
    if query.limit == 0 || query.limit > MAX_PULL_LIMIT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            error_codes::INVALID_REQUEST,
            format!("limit: must be 1 to {MAX_PULL_LIMIT}"),
        ));
    }
    let now = state.clock.now();
    let epoch = state.store.epochs().await?.to_wire();
    let (changes, purges, has_more) = state.store.pull(team_id, query.after, query.limit).await?;
    state.store.touch_device(caller.device_id, now).await?;
    privacy::audit_read(&state, &caller, team_id, &changes, &purges, now).await?;
    state.metrics.pulled_rows(changes.len() as u64);
    let next = changes
        .last()
        .map(|change| change.seq)
        .max(purges.last().map(|purge| purge.seq))
        .unwrap_or(query.after);
    // Only a pull with more to come needs to know where it ends; the last page ends there.
    let head = if has_more {
        state.store.team_head(team_id).await?.max(next)
    } else {
        next
    };
    Ok(Json(PullResponse {
        changes,
        next,
        has_more,
        server_time: now,
        purges,
        epoch: Some(epoch),
        head: Some(head),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConflictFilter {
    /// `open` (the default): only conflicts waiting for review; `all`: every conflict.
    #[serde(default)]
    #[param(inline, value_type = Option<ConflictListStatus>)]
    status: Option<String>,
    /// With `status=all`: list only this many closed conflicts (`resolved` or
    /// `auto_resolved`), the most recently closed ones (when resolved, or when made for one
    /// auto-resolved when made; ties by higher id), besides every open one; 0 to 1000. Left
    /// out: every closed conflict. With `status=open` it changes nothing but is still checked
    /// (400 outside 0 to 1000). A team lead's laptop asks for what its review screen shows,
    /// so its sync does not grow with every conflict ever resolved.
    #[serde(default)]
    // utoipa takes only a literal here: `MAX_CLOSED_CONFLICTS_LIMIT` (the openapi test
    // checks they agree).
    #[param(minimum = 0, maximum = 1000)]
    closed_limit: Option<u32>,
}

/// The values of `status` in `GET /v1/conflicts`, for the document only: the handler
/// reads a string so that a wrong value gets its own `invalid_request` message.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "only its schema is used; the handler parses a string"
)]
enum ConflictListStatus {
    Open,
    All,
}

#[utoipa::path(
    get,
    path = "/v1/conflicts",
    tag = "conflicts",
    security(("device_token" = [])),
    params(ConflictFilter),
    responses(
        (status = 200, description = "The team's conflicts, oldest first (team lead): the open ones, and with `status=all` the closed ones too (only the `closed_limit` most recently closed, if given; still listed oldest first).", body = ConflictList),
        (status = 400, description = "`invalid_request`: `status` is neither `open` nor `all`, or `closed_limit` is not a number from 0 to 1000 (whatever `status`).", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
async fn list_conflicts(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(filter): QueryParams<ConflictFilter>,
) -> Result<Json<ConflictList>, ApiError> {
    let team_id = caller.team_lead_team()?;
    let only_open = match filter.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                error_codes::INVALID_REQUEST,
                "status: expected `open` or `all`",
            ));
        }
    };
    let conflicts = match filter.closed_limit {
        Some(limit) if limit > MAX_CLOSED_CONFLICTS_LIMIT => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                error_codes::INVALID_REQUEST,
                format!("closed_limit: must be 0 to {MAX_CLOSED_CONFLICTS_LIMIT}"),
            ));
        }
        Some(limit) if !only_open => {
            state
                .store
                .open_and_recently_closed_conflicts(team_id, limit)
                .await?
        }
        _ => state.store.list_conflicts(team_id, only_open).await?,
    };
    Ok(Json(ConflictList { conflicts }))
}

#[utoipa::path(
    post,
    path = "/v1/conflicts/{id}/resolve",
    tag = "conflicts",
    security(("device_token" = [])),
    params(("id" = i64, Path, description = "The conflict's id.")),
    request_body = ResolveConflictRequest,
    responses(
        (status = 200, description = "Resolved: the conflict and the ordinary change the server wrote (team lead).", body = ResolveConflictResponse),
        (status = 400, description = "`invalid_json`: the body is not JSON; `invalid_request`: `id` is not a number.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: no such conflict or device (or not visible to this caller).", body = ApiErrorBody),
        (status = 409, description = "`conflict_not_open`: the conflict was resolved already, or its field was written after the conflict (the conflict is closed then as `auto_resolved`, settled by that write, and nothing else changes).", body = ApiErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit.", body = ApiErrorBody),
        UnsupportedMediaType,
        (status = 422, description = "`invalid_request`: JSON of the wrong shape or an invalid value (a `consent_by` naming no user of the team among them); the message names the field, and `reason_code` says which refusal it is for a value (`invalid_value`, `user_not_in_team`). `consent_required`: the value would leave special-category data on a client without a lawful basis (`reason_code` `lawful_basis_required`, or `lawful_basis_in_use` for clearing the basis).", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn resolve_conflict(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<i64>,
    Json(request): Json<ResolveConflictRequest>,
) -> Result<Json<ResolveConflictResponse>, ApiError> {
    let team_id = caller.team_lead_team()?;
    let conflict = state
        .store
        .conflict(team_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no conflict {id}")))?;
    let now = state.clock.now();
    let spec = Entity::parse(&conflict.entity)
        .and_then(|entity| field_spec(entity, &conflict.field))
        .map_err(|err| ServerError::CorruptData(err.to_string()))?;
    let value = spec
        .parse_json(&request.value, ValidationContext::new(now.date_naive()))
        .map_err(|err| {
            let refusal = Refusal::new(RejectCode::InvalidValue, err.to_string());
            ApiError::refused(error_codes::INVALID_REQUEST, refusal)
        })?;
    if user_named(spec, &value).is_some()
        && let Some(refusal) =
            user_outside_team(spec, &value, &team_member_ids(&state, team_id).await?)
    {
        return Err(ApiError::refused(error_codes::INVALID_REQUEST, refusal));
    }
    let change_id = new_uuid_v7(state.clock.as_ref());
    let (conflict, change) = state
        .store
        .resolve_conflict(team_id, id, value, caller.user_id, change_id, now)
        .await?;
    tracing::info!(conflict_id = id, "conflict resolved");
    Ok(Json(ResolveConflictResponse { conflict, change }))
}

#[utoipa::path(
    get,
    path = "/v1/devices",
    tag = "devices",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Devices, oldest first: the own team's for a team lead, all for an admin.", body = DeviceList),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DeviceList>, ApiError> {
    let team = match caller.role {
        Role::Admin => None,
        Role::TeamLead => Some(caller.team_lead_team()?),
        Role::Coach => {
            return Err(ApiError::forbidden(
                "only a team lead or an admin may list devices",
            ));
        }
    };
    let devices = state.store.list_devices(team).await?;
    Ok(Json(DeviceList { devices }))
}

#[utoipa::path(
    post,
    path = "/v1/devices/{id}/revoke",
    tag = "devices",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The device's id.")),
    responses(
        (status = 200, description = "The device, now revoked (admin); it gets 401 `device_revoked` from now on.", body = tandem_protocol::DeviceInfo),
        (status = 400, description = "`invalid_request`: `id` is not a UUID.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: no such conflict or device (or not visible to this caller).", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<Uuid>,
) -> Result<Json<tandem_protocol::DeviceInfo>, ApiError> {
    if caller.role != Role::Admin {
        return Err(ApiError::forbidden("only an admin may revoke devices"));
    }
    let device = state.store.revoke_device(id).await?;
    tracing::info!(device_id = %id, "device revoked");
    Ok(Json(device))
}

#[utoipa::path(
    get,
    path = "/v1/sites",
    tag = "sites",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Every site of the organisation, archived ones included, by name (ignoring case), then id. Any role of any team may read them.", body = SiteList),
        Unauthorized,
        StoreFailure,
    )
)]
async fn list_sites(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<SiteList>, ApiError> {
    // Reference data, not client data: every signed-in device reads it, and no audit entry
    // is written.
    let sites = state.store.list_sites().await?;
    Ok(Json(SiteList { sites }))
}

#[utoipa::path(
    get,
    path = "/v1/users",
    tag = "users",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Every member of the caller's team with their role, by username. Any role of the team may read them.", body = UserList),
        Unauthorized,
        (status = 403, description = "`forbidden`: an admin's device, which works with no team's records.", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<UserList>, ApiError> {
    // Users are listed to the devices that work with a team's records, which an admin's
    // never does (as for client data).
    let team_id = caller.client_data_team().map_err(|_| {
        ApiError::forbidden("only the device of a team's coach or team lead lists the team's users")
    })?;
    // Reference data, not client data: no audit entry is written.
    let users = state.store.team_users(team_id).await?;
    Ok(Json(UserList { users }))
}

/// The ids of the team's users: who a contact's `coach_id` or a client's `consent_by` may
/// name.
async fn team_member_ids(
    state: &AppState,
    team_id: Uuid,
) -> Result<std::collections::HashSet<Uuid>, ServerError> {
    let users = state.store.team_users(team_id).await?;
    Ok(users.into_iter().map(|user| user.id).collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// First day of the period, `YYYY-MM-DD`.
    #[param(required = true, value_type = String, format = Date)]
    from: Option<String>,
    /// Last day of the period (included), `YYYY-MM-DD`; not before `from`.
    #[param(required = true, value_type = String, format = Date)]
    to: Option<String>,
}

/// The media type of the CSV export.
const CSV_MEDIA_TYPE: &str = "text/csv; charset=utf-8";

#[utoipa::path(
    get,
    path = "/v1/reports/participants",
    tag = "reports",
    security(("device_token" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The participant report of the caller's team for the period (team lead): JSON, or CSV (`from,to,indicator,category,count`, one line per figure) when the request sends `Accept: text/csv`. Definitions in docs/reports.md.",
            content(
                (ParticipantReport = "application/json"),
                (String = "text/csv", example = json!("from,to,indicator,category,count\n2026-01-01,2026-06-30,participants,total,42\n")),
            )),
        (status = 400, description = "`invalid_request`: `from` or `to` is missing or not a date, or `from` is after `to`.", body = ApiErrorBody),
        Unauthorized,
        (status = 403, description = "`forbidden`: only a team lead reads reports (administrators see no client data).", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn participant_report(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    QueryParams(query): QueryParams<ReportQuery>,
) -> Result<Response, ApiError> {
    let team_id = caller.team_lead_team()?;
    let period =
        ReportPeriod::parse(query.from.as_deref(), query.to.as_deref()).map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                error_codes::INVALID_REQUEST,
                err.to_string(),
            )
        })?;
    let data = state.store.report_data(team_id).await?;
    let report = tandem_reports::participant_report(&data, period);
    tracing::info!(from = %period.from(), to = %period.to(), "participant report");
    if accepts_csv(&headers) {
        let file = format!(
            "attachment; filename=\"participants-{}-{}.csv\"",
            period.from(),
            period.to()
        );
        Ok((
            [
                (header::CONTENT_TYPE, CSV_MEDIA_TYPE.to_owned()),
                (header::CONTENT_DISPOSITION, file),
            ],
            tandem_reports::to_csv(&report, &site_names(&state).await?),
        )
            .into_response())
    } else {
        Ok(Json::<ParticipantReport>(report).into_response())
    }
}

/// Every site's name by id, for a report's CSV.
async fn site_names(state: &AppState) -> Result<tandem_reports::SiteNames, ServerError> {
    let sites = state.store.list_sites().await?;
    Ok(sites
        .into_iter()
        .map(|site| (site.id.to_string(), site.name))
        .collect())
}

/// Whether the request's `Accept` header names `text/csv`.
fn accepts_csv(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("text/csv"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_maximum_of_closed_limit_is_the_one_checked() {
        let document: serde_json::Value =
            serde_json::from_str(crate::openapi::document_json()).unwrap();
        let parameters = document["paths"]["/v1/conflicts"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let closed_limit = parameters
            .iter()
            .find(|parameter| parameter["name"] == "closed_limit")
            .unwrap();
        assert_eq!(
            closed_limit["schema"]["maximum"].as_u64(),
            Some(u64::from(MAX_CLOSED_CONFLICTS_LIMIT)),
            "{closed_limit}"
        );
    }

    #[tokio::test]
    async fn a_server_that_cannot_store_now_answers_503_with_retry_after() {
        let cases = [
            (
                ServerError::DiskFull("SQLite"),
                error_codes::STORAGE_FULL,
                "60",
            ),
            (
                ServerError::Busy(std::time::Duration::from_secs(10)),
                error_codes::UNAVAILABLE,
                "10",
            ),
            (
                ServerError::DatabaseUnavailable("FATAL 57P01: terminating connection".into()),
                error_codes::UNAVAILABLE,
                "30",
            ),
        ];
        for (error, code, retry_after) in cases {
            let response = ApiError::from(error).into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{code}");
            assert_eq!(response.headers()[header::RETRY_AFTER], retry_after);
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: ApiErrorBody = serde_json::from_slice(&body).unwrap();
            assert_eq!(body.error, code);
            assert!(body.message.contains("retry later"), "{}", body.message);
        }
    }
}
