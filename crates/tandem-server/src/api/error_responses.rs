//! The error responses many endpoints share, for their OpenAPI documentation: each is named
//! in an endpoint's `responses(...)` beside the responses particular to it.

use std::collections::BTreeMap;

use tandem_protocol::ApiErrorBody;
use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;

use super::{
    BUSY_RETRY_AFTER_SECS, DATABASE_UNAVAILABLE_RETRY_AFTER_SECS, LOGIN_BUSY_RETRY_AFTER_SECS,
    STORAGE_FULL_RETRY_AFTER_SECS,
};

/// 401 of every endpoint that takes a device token.
#[allow(dead_code)] // documentation only: never constructed
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`unauthorized`: no or an unknown device token; `device_revoked`: the device was revoked and must wipe its local store.",
    examples(
        ("device_revoked" = (value = json!({"error": "device_revoked", "message": "this device has been revoked; its local data must be wiped"}))),
        ("unauthorized" = (value = json!({"error": "unauthorized", "message": "the device token is not known"}))),
    )
)]
pub(crate) struct Unauthorized(ApiErrorBody);

/// 403 of endpoints that check the caller's role and team.
#[allow(dead_code)] // documentation only: never constructed
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "`forbidden`: the role or the team does not allow this."
)]
pub(crate) struct Forbidden(ApiErrorBody);

/// 415 of endpoints that take a JSON body.
#[allow(dead_code)] // documentation only: never constructed
#[derive(IntoResponses)]
#[response(
    status = 415,
    description = "`unsupported_media_type`: the body is not sent as `application/json`."
)]
pub(crate) struct UnsupportedMediaType(ApiErrorBody);

/// 500 and 503 of every endpoint that reaches the store.
#[allow(dead_code)] // documentation only: never constructed
#[derive(IntoResponses)]
pub(crate) enum StoreFailure {
    /// The server failed.
    #[response(
        status = 500,
        description = "`internal`: the server failed; details only in the server log."
    )]
    Internal(ApiErrorBody),
    /// The database's disk is full, or the server cannot use its database now.
    #[response(
        status = 503,
        description = "`storage_full`: the disk holding the server's database is full; `unavailable`: the server is overloaded (no database connection became free in time) or cannot reach its database. Nothing of the request was stored. Retry later.",
        headers(("Retry-After" = u64, description = "Seconds until a retry may succeed."))
    )]
    Unavailable(ApiErrorBody),
}

/// 500 and 503 of the login: the store's ([`StoreFailure`]), its 503 also naming the login's
/// own (an entry per status, so one description names both): a sign-in asked to come back in
/// a moment.
pub(crate) struct LoginFailure;

impl IntoResponses for LoginFailure {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = StoreFailure::responses();
        if let Some(RefOr::T(unavailable)) = responses.get_mut("503") {
            let secs = LOGIN_BUSY_RETRY_AFTER_SECS;
            unavailable.description = format!(
                "`unavailable` with `Retry-After: {secs}`: the server is checking as many \
                 passwords at once as it may, or logins of this username or address being \
                 checked fill its rate limit; send the login again after the `Retry-After` (not \
                 counted as an attempt). Otherwise as for every endpoint that reaches the store: \
                 {}",
                unavailable.description
            );
            if let Some(header) = unavailable.headers.get_mut("Retry-After") {
                header.description = Some(format!(
                    "Seconds until the login may be sent again: {secs} when sign-ins being \
                     checked fill the server's places or the rate limit; \
                     {BUSY_RETRY_AFTER_SECS} when no database connection became free in time \
                     (the server is overloaded); {DATABASE_UNAVAILABLE_RETRY_AFTER_SECS} when \
                     the database is out of reach; {STORAGE_FULL_RETRY_AFTER_SECS} when the \
                     database's disk is full."
                ));
            }
        }
        responses
    }
}
