//! A PostgreSQL server that cannot serve a request now: a database that refuses connections
//! (stopped, restarting) and a pool whose every connection stays busy are answered 503
//! `unavailable` with a `Retry-After`, so that devices keep their changes and come back
//! later, spread out, instead of getting a 500 or the request timeout's empty 408. Once the
//! database can serve again, so does the server, without a restart.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tandem_protocol::ChangeStatus;
use tandem_server::store::{PoolOptions, PostgresStore, SEQ_LOCK_KEY};
use uuid::Uuid;

use crate::harness::{self, Backend, Reply, TestDatabase};
use crate::pg_cluster;

/// A 503 `unavailable` asking to wait `retry_after` seconds, whose message says `why`.
fn assert_unavailable(reply: &Reply, retry_after: &str, why: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.error_code(), "unavailable", "{}", reply.body);
    assert_eq!(reply.headers["retry-after"], retry_after);
    let message = reply.body["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{message}");
}

#[tokio::test]
async fn a_database_that_refuses_connections_is_answered_503_and_used_again_once_back() {
    let server = harness::start(Backend::Postgres).await;
    let TestDatabase::Postgres { url } = &*server.database else {
        unreachable!("a PostgreSQL server")
    };
    let coach = server.login("coach_a").await;
    let (client, versions) =
        harness::create_client(&server, &coach, &[("given_name", json!("Amina"))]).await;
    let rename = harness::change(
        &coach,
        "client",
        client,
        "given_name",
        json!("Aminata"),
        versions[0],
        harness::NOW_MS,
    );

    pg_cluster::allow_connections(url, false).await;
    // The pool's connection was ended and no new one is let in.
    let unreachable = "cannot reach its database";
    let refused = server.push_reply(&coach, vec![rename.clone()]).await;
    assert_unavailable(&refused, "30", unreachable);
    let pull = server.pull_reply(&coach, 0, 100).await;
    assert_unavailable(&pull, "30", unreachable);

    pg_cluster::allow_connections(url, true).await;
    // The same push again, as the device retries it: applied once.
    let results = server.push(&coach, vec![rename]).await;
    assert_eq!(results[0].status, ChangeStatus::Applied, "{results:?}");
    let names: Vec<_> = server
        .pull_all(&coach)
        .await
        .into_iter()
        .filter(|change| change.field == "given_name")
        .map(|change| change.value)
        .collect();
    assert_eq!(names, [json!("Amina"), json!("Aminata")]);
}

#[tokio::test]
async fn a_request_that_finds_no_free_connection_in_time_is_answered_503() {
    let url = pg_cluster::fresh_database().await;
    let one_connection = PoolOptions {
        max_connections: 1,
        timeout: Duration::from_secs(1),
    };
    let store = Arc::new(
        PostgresStore::connect_with(&url, one_connection)
            .await
            .unwrap(),
    );
    let server =
        harness::start_with_store(TestDatabase::Postgres { url: url.clone() }, store).await;
    let coach = server.login("coach_a").await;

    // Another server instance holds the seq lock (a long transaction), so this instance's
    // push waits for it holding the instance's only connection.
    let (other_instance, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    other_instance
        .execute("SELECT pg_advisory_lock($1)", &[&SEQ_LOCK_KEY])
        .await
        .unwrap();
    let client = Uuid::now_v7();
    let name = harness::change(
        &coach,
        "client",
        client,
        "given_name",
        json!("Amina"),
        0,
        harness::NOW_MS,
    );
    let (pushed, ()) = tokio::join!(server.push_reply(&coach, vec![name]), async {
        let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
        while other_instance
            .query_one(waiting, &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
        {
            tokio::task::yield_now().await;
        }
        // Every request needs a connection, the device token's check first.
        let pull = server.pull_reply(&coach, 0, 100).await;
        assert_unavailable(&pull, "10", "too busy");
        other_instance
            .execute("SELECT pg_advisory_unlock($1)", &[&SEQ_LOCK_KEY])
            .await
            .unwrap();
    });
    // The waiting push went through once the lock was free, and the server serves again.
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.body);
    let pulled = server.pull_all(&coach).await;
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].record_id, client);
    drop(other_instance);
    connection.await.unwrap().unwrap();
}
