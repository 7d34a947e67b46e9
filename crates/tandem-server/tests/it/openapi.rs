//! The OpenAPI document at `GET /v1/openapi.json` against the server that serves it: the
//! same endpoints as the router and as docs/protocol.md, and real responses that match the
//! schemas documented for their operation and status.
//!
//! These tests start their own small server (SQLite in memory) rather than the shared
//! harness: the document does not depend on the backend, and [`start_plain_server`] also
//! serves the TLS tests, which need a server the harness cannot make.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_protocol::{LoginResponse, Role, SCHEMA_VERSION};
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::{Clock, ManualClock};
use tandem_server::store::{ServerStore, SqliteStore};
use tandem_server::{AppState, ServerSettings};
use tokio::sync::oneshot;
use uuid::Uuid;

pub(crate) const SMALL_PASSWORD: &str = "a password for tests";
/// 2026-01-15T10:00:00Z.
const NOW_MS: i64 = 1_768_471_200_000;

/// A server's state with one team `north`, the users `coach`, `lead` (team lead of north)
/// and `admin`, all with [`SMALL_PASSWORD`], one site, and a listener bound to a free port.
pub(crate) struct SmallServer {
    pub(crate) state: AppState,
    pub(crate) listener: tokio::net::TcpListener,
}

pub(crate) async fn small_server() -> SmallServer {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let now = DateTime::<Utc>::from_timestamp_millis(NOW_MS).unwrap();
    let hashing = PasswordHashing::fast_insecure_for_tests();
    store
        .add_team(Uuid::from_u128(0x7100), "north", now)
        .await
        .unwrap();
    store
        .add_site(Uuid::from_u128(0x5100), "Tikkurila NGO house", now)
        .await
        .unwrap();
    let hash = hashing.hash(SMALL_PASSWORD).unwrap();
    let users = [
        ("coach", Role::Coach, vec!["north".to_owned()]),
        ("lead", Role::TeamLead, vec!["north".to_owned()]),
        ("admin", Role::Admin, vec![]),
    ];
    for (i, (name, role, teams)) in users.into_iter().enumerate() {
        store
            .add_user(
                Uuid::from_u128(0x9100 + i as u128),
                name,
                &hash,
                role,
                &teams,
                now,
            )
            .await
            .unwrap();
    }
    let settings = ServerSettings {
        password_hashing: hashing,
        ..ServerSettings::default()
    };
    let state = AppState::new(
        store as Arc<dyn ServerStore>,
        Arc::new(ManualClock::new(now)) as Arc<dyn Clock>,
        settings,
    )
    .unwrap();
    // Bound before the server task starts: connections queue on the listener, no sleeping.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    SmallServer { state, listener }
}

/// [`small_server`] over plain HTTP: its base URL and the sender that stops it when dropped.
pub(crate) async fn start_plain_server() -> (String, oneshot::Sender<()>) {
    let SmallServer { state, listener } = small_server().await;
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(tandem_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn call(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> (StatusCode, Value) {
    call(
        http,
        Method::POST,
        format!("{base}/v1/auth/login"),
        None,
        Some(json!({"username": username, "password": SMALL_PASSWORD, "device_name": "laptop"})),
    )
    .await
}

async fn document(http: &reqwest::Client, base: &str) -> Value {
    let (status, document) = call(
        http,
        Method::GET,
        format!("{base}/v1/openapi.json"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{document}");
    document
}

/// Every `(METHOD, path)` the document describes.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Every `(METHOD, path)` in the endpoint table of docs/protocol.md.
fn operations_in_protocol_md() -> BTreeSet<(String, String)> {
    let text = include_str!("../../../../docs/protocol.md");
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|row| {
            let (method, rest) = row.split_once(' ')?;
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) {
                return None;
            }
            let end = rest.find(['`', '?', '[']).unwrap_or(rest.len());
            Some((method.to_owned(), rest[..end].to_owned()))
        })
        .collect()
}

/// Checks `body` against the schema the document gives for `status` of `method path`.
fn assert_matches_document(
    document: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    body: &Value,
) {
    let response = &document["paths"][path][method.to_lowercase()]["responses"][status.as_str()];
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} does not document a JSON body for {status}"
    );
    // The response schema with the document's components beside it, so that its
    // `#/components/schemas/...` references resolve within this one root.
    let mut root = schema;
    root["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|err| panic!("the schema of {method} {path} {status}: {err}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} with a body its schema refuses: {errors:?}\n{body}"
    );
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_served_without_a_token() {
    let (base, _stop) = start_plain_server().await;
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{base}/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["device_token"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document,
        serde_json::to_value(tandem_server::openapi::document()).unwrap()
    );
}

#[tokio::test]
async fn the_router_the_document_and_protocol_md_name_the_same_endpoints() {
    let (base, _stop) = start_plain_server().await;
    let http = reqwest::Client::new();
    let document = document(&http, &base).await;
    let documented = documented_operations(&document);
    assert_eq!(
        documented,
        operations_in_protocol_md(),
        "the document and the endpoint table of docs/protocol.md disagree"
    );

    let (_, lead) = login(&http, &base, "lead").await;
    let token = lead["device_token"].as_str().unwrap().to_owned();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        let url = format!(
            "{base}{}",
            path.replace(
                "{id}",
                if path.contains("devices") {
                    "0196d1c4-0000-7000-8000-000000000000"
                } else {
                    "1"
                }
            )
        );
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let method_is_documented = documented.contains(&(method.to_owned(), path.clone()));
            let (status, body) = call(
                &http,
                Method::from_bytes(method.as_bytes()).unwrap(),
                url.clone(),
                Some(&token),
                (method == "POST").then(|| json!({})),
            )
            .await;
            // The router's own answers for what it does not serve: the fallback's 404 and
            // the 405 of a path served with other methods.
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body["message"] == "no such endpoint");
            assert_eq!(
                unrouted, !method_is_documented,
                "{method} {path}: documented {method_is_documented}, served {}: {status} {body}",
                !unrouted
            );
        }
    }
}

#[tokio::test]
async fn the_logins_busy_answer_is_documented_with_its_retry_after() {
    let SmallServer { state, listener } = small_server().await;
    let base = format!("http://{}", listener.local_addr().unwrap());
    let gate = state.login_gate().clone();
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(tandem_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let document = document(&http, &base).await;
    // Every place to check a password taken, as by sign-ins being checked and waiting.
    let mut held = Vec::new();
    while let Some(place) = gate.try_admit() {
        held.push(place);
    }
    let response = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "coach", "password": SMALL_PASSWORD, "device_name": "x"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let retry_after = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_matches_document(&document, "POST", "/v1/auth/login", status, &body);
    // The one 503 entry of the login names this answer, its code and its Retry-After, and
    // still the store's.
    let entry = &document["paths"]["/v1/auth/login"]["post"]["responses"]["503"];
    let description = entry["description"].as_str().unwrap();
    let code = body["error"].as_str().unwrap();
    for words in [
        format!("`{code}` with `Retry-After: {retry_after}`"),
        "checking as many passwords at once".to_owned(),
        "`storage_full`".to_owned(),
        "cannot reach its database".to_owned(),
    ] {
        assert!(description.contains(&words), "{words}: {description}");
    }
    // Its Retry-After names every wait a login's 503 may ask for (docs/protocol.md): this
    // one, and the store's: no free database connection, the database out of reach, its disk
    // full.
    let header = entry["headers"]["Retry-After"]["description"]
        .as_str()
        .unwrap();
    for words in [
        format!("{retry_after} when sign-ins being checked"),
        "10 when no database connection became free".to_owned(),
        "30 when the database is out of reach".to_owned(),
        "60 when the database's disk is full".to_owned(),
    ] {
        assert!(header.contains(&words), "{words}: {header}");
    }
    drop(held);
}

#[tokio::test]
async fn real_answers_of_every_endpoint_match_the_schemas_documented_for_their_status() {
    let (base, _stop) = start_plain_server().await;
    let http = reqwest::Client::new();
    let document = document(&http, &base).await;
    let check = |method: &str, path: &str, status: StatusCode, body: &Value| {
        assert_matches_document(&document, method, path, status, body)
    };

    let (status, body) = call(&http, Method::GET, format!("{base}/health"), None, None).await;
    check("GET", "/health", status, &body);

    let (status, coach) = login(&http, &base, "coach").await;
    assert_eq!(status, StatusCode::OK);
    check("POST", "/v1/auth/login", status, &coach);
    let coach: LoginResponse = serde_json::from_value(coach).unwrap();
    let (status, body) = call(
        &http,
        Method::POST,
        format!("{base}/v1/auth/login"),
        None,
        Some(json!({"username": "coach", "password": "wrong password", "device_name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    check("POST", "/v1/auth/login", status, &body);

    // A push with one change applied and one rejected, then its pull.
    let record = Uuid::now_v7();
    let change = |field: &str, value: Value, hlc: String| {
        json!({"change_id": Uuid::now_v7(), "entity": "client", "record_id": record,
               "field": field, "value": value, "base_version": 0, "hlc": hlc,
               "author_id": coach.user.id})
    };
    let push = json!({
        "device_id": coach.device_id, "schema_version": SCHEMA_VERSION, "app_version": "test",
        "pending_count": 2,
        "changes": [
            change("nickname", json!("Ami"), format!("{NOW_MS:013}-00000-{}", coach.device_id)),
            change("no_such_field", json!(1), format!("{NOW_MS:013}-00001-{}", coach.device_id)),
        ],
    });
    let url = format!("{base}/v1/sync/push");
    let (status, body) = call(
        &http,
        Method::POST,
        url.clone(),
        Some(&coach.device_token),
        Some(push.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][1]["status"], "rejected");
    check("POST", "/v1/sync/push", status, &body);
    let mut old_schema = push.clone();
    old_schema["schema_version"] = json!(SCHEMA_VERSION + 1);
    let (status, body) = call(
        &http,
        Method::POST,
        url.clone(),
        Some(&coach.device_token),
        Some(old_schema),
    )
    .await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    check("POST", "/v1/sync/push", status, &body);
    let (status, body) = call(
        &http,
        Method::POST,
        url,
        Some(&coach.device_token),
        Some(json!({"changes": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    check("POST", "/v1/sync/push", status, &body);

    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/sites"),
        Some(&coach.device_token),
        None,
    )
    .await;
    assert_eq!(body["sites"].as_array().unwrap().len(), 1, "{body}");
    check("GET", "/v1/sites", status, &body);
    let (status, body) = call(&http, Method::GET, format!("{base}/v1/sites"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    check("GET", "/v1/sites", status, &body);
    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/users"),
        Some(&coach.device_token),
        None,
    )
    .await;
    assert_eq!(body["users"].as_array().unwrap().len(), 2, "{body}");
    check("GET", "/v1/users", status, &body);
    let (status, body) = call(&http, Method::GET, format!("{base}/v1/users"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    check("GET", "/v1/users", status, &body);

    let url = format!("{base}/v1/sync/pull?after=0&limit=10");
    let (status, body) = call(&http, Method::GET, url, Some(&coach.device_token), None).await;
    assert_eq!(body["changes"].as_array().unwrap().len(), 1, "{body}");
    check("GET", "/v1/sync/pull", status, &body);
    let url = format!("{base}/v1/sync/pull?limit=0");
    let (status, body) = call(&http, Method::GET, url, Some(&coach.device_token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check("GET", "/v1/sync/pull", status, &body);

    let (_, lead) = login(&http, &base, "lead").await;
    let lead_token = lead["device_token"].as_str().unwrap();
    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conflicts?status=all"),
        Some(lead_token),
        None,
    )
    .await;
    check("GET", "/v1/conflicts", status, &body);
    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/conflicts"),
        Some(&coach.device_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    check("GET", "/v1/conflicts", status, &body);
    let (status, body) = call(
        &http,
        Method::POST,
        format!("{base}/v1/conflicts/99/resolve"),
        Some(lead_token),
        Some(json!({"value": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    check("POST", "/v1/conflicts/{id}/resolve", status, &body);
    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/devices"),
        Some(lead_token),
        None,
    )
    .await;
    assert_eq!(body["devices"].as_array().unwrap().len(), 2, "{body}");
    check("GET", "/v1/devices", status, &body);
    let report = format!("{base}/v1/reports/participants?from=2026-01-01&to=2026-06-30");
    let (status, body) = call(&http, Method::GET, report, Some(lead_token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    check("GET", "/v1/reports/participants", status, &body);
    let reversed = format!("{base}/v1/reports/participants?from=2026-07-01&to=2026-06-30");
    let (status, body) = call(&http, Method::GET, reversed, Some(lead_token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    check("GET", "/v1/reports/participants", status, &body);

    for path in ["/v1/duplicates", "/v1/duplicates/merges"] {
        let (status, body) = call(
            &http,
            Method::GET,
            format!("{base}{path}"),
            Some(lead_token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        check("GET", path, status, &body);
    }
    let (status, body) = call(
        &http,
        Method::POST,
        format!("{base}/v1/duplicates/merge"),
        Some(lead_token),
        Some(json!({"survivor_id": record, "duplicate_id": Uuid::now_v7()})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    check("POST", "/v1/duplicates/merge", status, &body);
    let (status, body) = call(
        &http,
        Method::POST,
        format!("{base}/v1/duplicates/merge/{}/undo", Uuid::now_v7()),
        Some(lead_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    check("POST", "/v1/duplicates/merge/{id}/undo", status, &body);

    // The admin revokes the coach's laptop, which then gets 401 `device_revoked`.
    let (_, admin) = login(&http, &base, "admin").await;
    let admin_token = admin["device_token"].as_str().unwrap();
    let (status, body) = call(
        &http,
        Method::GET,
        format!("{base}/v1/users"),
        Some(admin_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    check("GET", "/v1/users", status, &body);
    let url = format!("{base}/v1/devices/{}/revoke", coach.device_id);
    let (status, body) = call(&http, Method::POST, url, Some(admin_token), None).await;
    assert_eq!(body["revoked"], true, "{body}");
    check("POST", "/v1/devices/{id}/revoke", status, &body);
    let url = format!("{base}/v1/sync/pull");
    let (status, body) = call(&http, Method::GET, url, Some(&coach.device_token), None).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("device_revoked"))
    );
    check("GET", "/v1/sync/pull", status, &body);
}
