//! Prometheus metrics: what a real server counts while devices log in, push and pull, as
//! the monitoring system reads it from the separate metrics listener.

use serde_json::json;
use uuid::Uuid;

use crate::harness::{Backend, NOW_MS, change, start};

#[tokio::test]
async fn requests_push_results_and_pulled_rows_are_counted_on_the_metrics_listener() {
    let server = start(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let router = tandem_server::metrics::metrics_router(server.metrics.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let device = server.login("coach_a").await;
    let client = Uuid::now_v7();
    let results = server
        .push(
            &device,
            vec![
                change(
                    &device,
                    "client",
                    client,
                    "given_name",
                    json!("Amina"),
                    0,
                    NOW_MS,
                ),
                change(&device, "client", client, "shoe_size", json!(41), 0, NOW_MS),
            ],
        )
        .await;
    assert_eq!(results.len(), 2);
    let pulled = server.pull_all(&device).await;
    assert!(!pulled.is_empty());
    let refused = server
        .http
        .get(format!("{}/v1/sync/pull?after=0&limit=10", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let response = reqwest::get(&metrics_url).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let value = |prefix: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} missing from\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value(
            "tandem_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"200\"}"
        ),
        1
    );
    assert_eq!(
        value("tandem_http_requests_total{method=\"POST\",route=\"/v1/sync/push\",status=\"200\"}"),
        1
    );
    assert_eq!(
        value("tandem_http_requests_total{method=\"GET\",route=\"/v1/sync/pull\",status=\"401\"}"),
        1
    );
    assert_eq!(value("tandem_push_results_total{status=\"applied\"}"), 1);
    assert_eq!(value("tandem_push_results_total{status=\"rejected\"}"), 1);
    // shoe_size is no field of a client.
    assert_eq!(
        value("tandem_push_rejections_total{reason_code=\"unknown_field\"}"),
        1
    );
    assert_eq!(
        value("tandem_push_rejections_total{reason_code=\"user_not_in_team\"}"),
        0
    );
    assert_eq!(value("tandem_pull_rows_total"), pulled.len() as u64);
    assert_eq!(
        value("tandem_http_request_duration_seconds_count{route=\"/v1/sync/push\"}"),
        1
    );
    assert_eq!(
        value("tandem_http_request_duration_seconds_bucket{route=\"/v1/sync/push\",le=\"+Inf\"}"),
        1
    );
    // Route templates only: no ids, tokens or names in any label.
    assert!(!text.contains(&device.id.to_string()), "{text}");
    assert!(!text.contains("coach_a"), "{text}");
}
