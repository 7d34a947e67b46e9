//! `GET /v1/reports/participants` on both backends: the figures of the hand-counted data set
//! of `tandem_synth::ReportFixture` (pushed by a coach like any data), as JSON and as CSV,
//! and the refusals (bad periods, roles, another team).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use tandem_protocol::{ChangeStatus, ParticipantReport};
use tandem_server::clock::Clock;
use tandem_synth::{Figure, ReportFixture, SyntheticRecord};
use uuid::Uuid;

use crate::harness::*;

fn ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_millis()
}

/// Pushes the fixture as a coach would: the registrations on 5 January 2024 (before every
/// participant_start in 2024), the edits on 31 December 2024, each on the version it saw;
/// then `lead` merges the duplicate, as the duplicates panel does.
async fn push_fixture(server: &TestServer, coach: &Device, lead: &Device, fixture: &ReportFixture) {
    for (id, name) in fixture.sites {
        let now = server.clock.now();
        server.store.add_site(id, name, now).await.unwrap();
    }
    let mut versions: BTreeMap<(Uuid, &str), u64> = BTreeMap::new();
    let mut write = async |records: &[SyntheticRecord], at: i64| {
        let changes: Vec<_> = records
            .iter()
            .flat_map(|record| record.fields.iter().map(move |field| (record, field)))
            .map(|(record, (field, value))| {
                let base = versions.get(&(record.id, *field)).copied().unwrap_or(0);
                change(
                    coach,
                    record.entity.as_str(),
                    record.id,
                    field,
                    value.clone(),
                    base,
                    at,
                )
            })
            .collect();
        let keys: Vec<(Uuid, &str)> = records
            .iter()
            .flat_map(|record| {
                record
                    .fields
                    .iter()
                    .map(move |(field, _)| (record.id, *field))
            })
            .collect();
        let results = server.push(coach, changes).await;
        for (key, result) in keys.into_iter().zip(results) {
            assert_eq!(result.status, ChangeStatus::Applied, "{key:?}: {result:?}");
            versions.insert(key, result.version);
        }
    };
    write(&fixture.created, ms("2024-01-05T09:00:00Z")).await;
    write(&fixture.edits, ms("2024-12-31T09:00:00Z")).await;
    for (survivor, duplicate) in &fixture.merges {
        let reply = merge(server, lead, *survivor, *duplicate).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

fn report_path(from: impl std::fmt::Display, to: impl std::fmt::Display) -> String {
    format!("/v1/reports/participants?from={from}&to={to}")
}

fn nonzero(rows: impl IntoIterator<Item = Figure>) -> BTreeSet<Figure> {
    rows.into_iter()
        .filter(|(_, _, count)| *count > 0)
        .collect()
}

both_backends!(the_report_has_the_known_counts_as_json_and_as_csv);
async fn the_report_has_the_known_counts_as_json_and_as_csv(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let fixture = ReportFixture::new();
    push_fixture(&server, &coach, &lead, &fixture).await;

    for expected in &fixture.expected {
        let want: BTreeSet<Figure> = expected.figures.iter().cloned().collect();
        let path = report_path(expected.from, expected.to);

        let reply = server
            .request(Method::GET, &path, Some(&lead.token), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let report: ParticipantReport = reply.json();
        assert_eq!((report.from, report.to), (expected.from, expected.to));
        let figures = tandem_reports::indicator_rows(&report)
            .into_iter()
            .map(|row| (row.indicator.to_owned(), row.category.to_owned(), row.count));
        assert_eq!(nonzero(figures), want, "JSON {path}");

        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&lead.token)
            .header(ACCEPT, "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        let csv = response.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("from,to,indicator,category,count"));
        let rows: Vec<Figure> = lines
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                assert_eq!(cells.len(), 5, "{line}");
                assert_eq!(cells[0], expected.from.to_string(), "{line}");
                assert_eq!(cells[1], expected.to.to_string(), "{line}");
                (
                    cells[2].to_owned(),
                    cells[3].to_owned(),
                    cells[4].parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows.len(), tandem_reports::indicator_rows(&report).len());
        // The CSV names the sites (registered by `push_fixture`); the JSON has their ids.
        let named = want.iter().map(|(indicator, category, count)| {
            let name = fixture
                .sites
                .iter()
                .find(|(id, _)| id.to_string() == *category);
            let category = name.map_or(category.clone(), |(_, name)| (*name).to_owned());
            (indicator.clone(), category, *count)
        });
        assert_eq!(nonzero(rows), named.collect(), "CSV {path}");
    }

    // The other team's lead gets a report of their own team: none of north's records.
    let lead_s = server.login("lead_s").await;
    let first = &fixture.expected[0];
    let south: ParticipantReport = server
        .request(
            Method::GET,
            &report_path(first.from, first.to),
            Some(&lead_s.token),
            None,
        )
        .await
        .json();
    assert_eq!((south.participants, south.contacts), (0, 0));
}

both_backends!(a_bad_period_is_refused_with_a_message_naming_it);
async fn a_bad_period_is_refused_with_a_message_naming_it(backend: Backend) {
    let server = start(backend).await;
    let lead = server.login("lead_n").await;
    for (path, message) in [
        (
            "/v1/reports/participants?to=2024-06-30".to_owned(),
            "from: a date is required (YYYY-MM-DD)",
        ),
        (
            "/v1/reports/participants?from=2024-01-01".to_owned(),
            "to: a date is required (YYYY-MM-DD)",
        ),
        (
            report_path("2024-01-01", "30.6.2024"),
            "to: `30.6.2024` is not a date (YYYY-MM-DD)",
        ),
        (
            report_path("2024-02-30", "2024-06-30"),
            "from: `2024-02-30` is not a date (YYYY-MM-DD)",
        ),
        (
            report_path("2024-07-01", "2024-06-30"),
            "the period ends before it starts (from 2024-07-01 is after to 2024-06-30)",
        ),
    ] {
        let reply = server
            .request(Method::GET, &path, Some(&lead.token), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.error_code(), "invalid_request", "{path}");
        assert_eq!(reply.body["message"], message, "{path}");
    }
}
