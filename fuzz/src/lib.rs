//! What the fuzz targets run, as plain functions: `fuzz_targets/` only hands them the bytes.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;
use tandem_domain::{Entity, Hlc, ValidationContext, field_spec, fields_of};
use tandem_protocol::{
    ChangeIn, LoginRequest, PullResponse, PushRequest, PushResponse, ResolveConflictRequest,
    SCHEMA_VERSION,
};
use tandem_server::auth::{PasswordHashing, token_hash};
use tandem_server::clock::{Clock, ManualClock};
use tandem_server::store::{NewDevice, ServerStore, SqliteStore};
use tandem_server::{AppState, ServerSettings, router};
use tower::ServiceExt;
use uuid::Uuid;

fn ctx() -> ValidationContext {
    ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 26).expect("a valid date"))
}

/// Decodes the bytes as every wire message both sides read, and as a value of every field;
/// whatever validates must come back unchanged from its canonical form.
pub fn protocol_decode(data: &[u8]) {
    if let Ok(push) = serde_json::from_slice::<PushRequest>(data) {
        for change in &push.changes {
            check_change(change);
        }
    }
    let _ = serde_json::from_slice::<PushResponse>(data);
    if let Ok(pull) = serde_json::from_slice::<PullResponse>(data) {
        for change in &pull.changes {
            check_value(&change.entity, &change.field, &change.value);
            check_hlc(&change.hlc);
        }
    }
    let _ = serde_json::from_slice::<LoginRequest>(data);
    let _ = serde_json::from_slice::<ResolveConflictRequest>(data);
    if let Ok(value) = serde_json::from_slice::<Json>(data) {
        for entity in Entity::ALL {
            for spec in fields_of(entity) {
                check_value(entity.as_str(), spec.name, &value);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_hlc(text);
    }
}

fn check_change(change: &ChangeIn) {
    check_value(&change.entity, &change.field, &change.value);
    check_hlc(&change.hlc);
}

/// A value that validates is canonical: validating its wire form gives it back.
fn check_value(entity: &str, field: &str, value: &Json) {
    let Ok(entity) = Entity::parse(entity) else {
        return;
    };
    let Ok(spec) = field_spec(entity, field) else {
        return;
    };
    if let Ok(parsed) = spec.parse_json(value, ctx()) {
        let again = spec
            .parse_json_str(&parsed.to_json_string(), ctx())
            .unwrap_or_else(|err| {
                panic!("{field}: the canonical form of a valid value is refused: {err}")
            });
        assert_eq!(again, parsed, "{field}: the canonical form is not stable");
    }
}

fn check_hlc(text: &str) {
    if let Ok(hlc) = Hlc::parse(text) {
        assert_eq!(Hlc::parse(&hlc.to_string()).ok(), Some(hlc));
    }
}

/// The router over a temporary SQLite store with one team, one coach and its device.
struct Server {
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
    device_id: Uuid,
    user_id: Uuid,
    _dir: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let now = DateTime::<Utc>::from_timestamp_millis(1_764_150_000_000).expect("a time");
        let store: Arc<dyn ServerStore> =
            Arc::new(SqliteStore::open(&dir.path().join("server.db")).expect("the store"));
        let (user_id, device_id) = (Uuid::from_u128(0x9000), Uuid::from_u128(0xd000));
        let token = "tdt1_fuzz".to_owned();
        let hashing = PasswordHashing::fast_insecure_for_tests();
        runtime.block_on(async {
            store.migrate().await.expect("migrations");
            let team = store
                .add_team(Uuid::from_u128(0x7000), "north", now)
                .await
                .expect("team");
            let hash = hashing.hash("fuzz password").expect("a hash");
            store
                .add_user(
                    user_id,
                    "coach",
                    &hash,
                    tandem_protocol::Role::TeamLead,
                    &["north".into()],
                    now,
                )
                .await
                .expect("user");
            store
                .add_device(
                    NewDevice {
                        id: device_id,
                        user_id,
                        team_id: Some(team.id),
                        name: "fuzz".into(),
                        token_hash: token_hash(&token),
                    },
                    now,
                )
                .await
                .expect("device");
        });
        let settings = ServerSettings {
            password_hashing: hashing,
            ..ServerSettings::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now));
        let state = AppState::new(store, clock, settings).expect("the state");
        Server {
            runtime,
            router: router(state),
            token,
            device_id,
            user_id,
            _dir: dir,
        }
    })
}

/// Sends the bytes to an endpoint chosen by the first byte, signed in as the team's lead,
/// and checks that the server neither panics nor fails with a 5xx.
pub fn server_request(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let server = server();
    let text = String::from_utf8_lossy(rest);
    let (method, uri, body) = match selector % 6 {
        // The body as sent.
        0 => (Method::POST, "/v1/sync/push".to_owned(), rest.to_vec()),
        // The bytes as the changes of a well-formed push of this device, so that they reach
        // validation and the store.
        1 => {
            let Ok(changes) = serde_json::from_slice::<Json>(rest) else {
                return;
            };
            let body = serde_json::json!({
                "device_id": server.device_id,
                "schema_version": SCHEMA_VERSION,
                "app_version": "fuzz",
                "pending_count": 0,
                "changes": with_author(changes, server.user_id),
            });
            (
                Method::POST,
                "/v1/sync/push".to_owned(),
                body.to_string().into_bytes(),
            )
        }
        2 => (
            Method::GET,
            format!("/v1/sync/pull?{}", query_safe(&text)),
            Vec::new(),
        ),
        3 => {
            let (id, body) = text.split_once('\n').unwrap_or((&text, ""));
            let path = format!("/v1/conflicts/{}/resolve", query_safe(id));
            (Method::POST, path, body.as_bytes().to_vec())
        }
        4 => (Method::POST, "/v1/auth/login".to_owned(), rest.to_vec()),
        _ => (
            Method::GET,
            format!("/v1/{}", query_safe(&text)),
            Vec::new(),
        ),
    };
    let Ok(mut request) = Request::builder()
        .method(method)
        .uri(&uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", server.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
    else {
        return;
    };
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = server
        .runtime
        .block_on(server.router.clone().oneshot(request))
        .expect("the router is infallible");
    assert!(
        !response.status().is_server_error(),
        "{uri} answered {}",
        response.status()
    );
}

/// Fills in the signed-in user as author where a change object has none, so that changes get
/// past the author check into validation and the store.
fn with_author(changes: Json, user_id: Uuid) -> Json {
    match changes {
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|mut item| {
                    if let Json::Object(object) = &mut item {
                        object
                            .entry("author_id")
                            .or_insert_with(|| Json::String(user_id.to_string()));
                    }
                    item
                })
                .collect(),
        ),
        other => other,
    }
}

/// The text with the characters a URI cannot hold percent-encoded.
fn query_safe(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'='
            | b'&'
            | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
