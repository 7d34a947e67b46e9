//! Metrics for monitoring, in the Prometheus text format: requests by route and status, a
//! latency histogram by route, push results by status, refused changes by reason code,
//! pulled rows and passwords checked. Counted in memory
//! per instance (Prometheus sums the instances behind a load balancer) and served by
//! [`metrics_router`] on a listen address of its own (`--metrics-listen`), never on the
//! public API port: the figures need no token because the address is meant to be reachable
//! from the monitoring network only. Labels carry route templates (`/v1/conflicts/{id}/resolve`),
//! never ids, user names or client data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tandem_protocol::RejectCode;

/// Upper bounds (seconds) of the latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative; summed when rendered), then `+Inf`.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    push_results: BTreeMap<&'static str, u64>,
    push_rejections: BTreeMap<RejectCode, u64>,
    pull_rows: u64,
    password_verifications: u64,
}

/// The counters of one server instance; cheap to share.
#[derive(Debug, Default, Clone)]
pub struct ServerMetrics {
    counts: Arc<Mutex<Counts>>,
}

impl ServerMetrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while counting leaves plain numbers behind; they are still good.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut counts = self.counts();
        *counts
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let histogram = counts.latency.entry(route.to_owned()).or_default();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        histogram.buckets[bucket] += 1;
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Counts the results of one push by status (`applied`, `merged`, `conflict`, `rejected`).
    pub fn push_result(&self, status: &'static str, results: u64) {
        *self.counts().push_results.entry(status).or_default() += results;
    }

    /// Counts `refused` changes refused with the reason code `code`.
    pub fn push_rejections(&self, code: RejectCode, refused: u64) {
        *self.counts().push_rejections.entry(code).or_default() += refused;
    }

    /// Counts one password checked at login (argon2id).
    pub fn password_verified(&self) {
        self.counts().password_verifications += 1;
    }

    /// Counts rows sent by a pull.
    pub fn pulled_rows(&self, rows: u64) {
        self.counts().pull_rows += rows;
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let counts = self.counts();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tandem_http_requests_total HTTP requests answered, by method, route and status.\n# TYPE tandem_http_requests_total counter"
        );
        for ((method, route, status), n) in &counts.requests {
            let _ = writeln!(
                out,
                "tandem_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP tandem_http_request_duration_seconds Time to answer a request, by route.\n# TYPE tandem_http_request_duration_seconds histogram"
        );
        for (route, histogram) in &counts.latency {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "tandem_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "tandem_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\ntandem_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\ntandem_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP tandem_push_results_total Pushed changes, by the status the server gave them.\n# TYPE tandem_push_results_total counter"
        );
        for status in ["applied", "merged", "conflict", "rejected"] {
            let n = counts.push_results.get(status).copied().unwrap_or(0);
            let _ = writeln!(out, "tandem_push_results_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP tandem_push_rejections_total Refused changes, by reason code.\n# TYPE tandem_push_rejections_total counter"
        );
        // Every code the server gives, zeros included (`other` is a device's name for codes
        // it does not know; the server never gives it).
        for code in RejectCode::ALL
            .into_iter()
            .filter(|code| *code != RejectCode::Other)
        {
            let n = counts.push_rejections.get(&code).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "tandem_push_rejections_total{{reason_code=\"{}\"}} {n}",
                code.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# HELP tandem_pull_rows_total Field changes sent to devices by pulls.\n# TYPE tandem_pull_rows_total counter\ntandem_pull_rows_total {}",
            counts.pull_rows
        );
        let _ = writeln!(
            out,
            "# HELP tandem_password_verifications_total Passwords checked at login (argon2id), right or wrong.\n# TYPE tandem_password_verifications_total counter\ntandem_password_verifications_total {}",
            counts.password_verifications
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware of the API routes: counts each answered request under its route template.
pub(crate) async fn track_requests(
    State(metrics): State<ServerMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics` for Prometheus, to be served on the metrics listen address.
pub fn metrics_router(metrics: ServerMetrics) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics)
}

async fn render_metrics(State(metrics): State<ServerMetrics>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_request() {
        let metrics = ServerMetrics::default();
        metrics.request("GET", "/v1/sync/pull", 200, 0.003);
        metrics.request("GET", "/v1/sync/pull", 200, 0.2);
        metrics.request("GET", "/v1/sync/pull", 401, 60.0);
        let text = metrics.render();
        for line in [
            "tandem_http_requests_total{method=\"GET\",route=\"/v1/sync/pull\",status=\"200\"} 2",
            "tandem_http_requests_total{method=\"GET\",route=\"/v1/sync/pull\",status=\"401\"} 1",
            "tandem_http_request_duration_seconds_bucket{route=\"/v1/sync/pull\",le=\"0.005\"} 1",
            "tandem_http_request_duration_seconds_bucket{route=\"/v1/sync/pull\",le=\"0.25\"} 2",
            "tandem_http_request_duration_seconds_bucket{route=\"/v1/sync/pull\",le=\"10\"} 2",
            "tandem_http_request_duration_seconds_bucket{route=\"/v1/sync/pull\",le=\"+Inf\"} 3",
            "tandem_http_request_duration_seconds_count{route=\"/v1/sync/pull\"} 3",
            "tandem_push_results_total{status=\"rejected\"} 0",
            "tandem_push_rejections_total{reason_code=\"user_not_in_team\"} 0",
            "tandem_pull_rows_total 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
