//! `tandem report` end to end: the hand-counted data set of `tandem_synth::ReportFixture` is
//! registered on a real in-process server, reaches a team lead's laptop by `tandem sync`, the
//! later edits (a gender changed after participant_start, a deletion) are made on the laptop
//! and synced, the server merges the duplicate for the team lead (as the desktop's duplicates
//! panel asks it to) and the laptop pulls the merge, and the laptop's report has the known
//! counts in every format and equals the server's report of the team.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use tandem_protocol::ParticipantReport;
use tandem_server::clock::{Clock, SystemClock};
use tandem_server::store::{NewMerge, ServerStore};
use tandem_synth::{Figure, ReportFixture};

use crate::TestStore;
use crate::sync_server::server;

fn nonzero(rows: impl IntoIterator<Item = Figure>) -> BTreeSet<Figure> {
    rows.into_iter()
        .filter(|(_, _, count)| *count > 0)
        .collect()
}

#[test]
fn a_laptop_report_after_a_sync_has_the_known_counts_and_equals_the_servers() {
    let server = server();
    let team = server.new_team();
    let fixture = ReportFixture::new();
    server.runtime.block_on(async {
        let coach = server.store.login_user(&team.coach).await.unwrap().unwrap();
        tandem_server::seed::push_records(
            server.store.as_ref(),
            team.id,
            coach.user.id,
            &fixture.created,
            SystemClock.now(),
        )
        .await
        .unwrap();
    });

    // One of the fixture's sites has a name on the server: the table shows it by that name.
    let named_site = fixture.sites[0].0.to_string();
    let site_name = format!("Tikkurila NGO house {}", uuid::Uuid::now_v7());
    server.runtime.block_on(async {
        let added = server
            .store
            .add_site(fixture.sites[0].0, &site_name, SystemClock.now());
        added.await.unwrap();
    });

    let laptop = TestStore::new();
    laptop.login(server, &team.lead);
    laptop.ok(&["sync"]);
    for edit in &fixture.edits {
        let id = edit.id.to_string();
        let mut args = vec!["client".to_owned(), "edit".to_owned(), id];
        for (field, value) in &edit.fields {
            args.push(format!("--{}", field.replace('_', "-")));
            args.push(match value {
                Json::String(text) => text.clone(),
                other => other.to_string(),
            });
        }
        laptop.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    laptop.ok(&["sync"]);
    server.runtime.block_on(async {
        let lead = server.store.login_user(&team.lead).await.unwrap().unwrap();
        for (survivor, duplicate) in &fixture.merges {
            let merge = NewMerge {
                id: uuid::Uuid::now_v7(),
                team_id: team.id,
                survivor_id: *survivor,
                duplicate_id: *duplicate,
                merged_by: lead.user.id,
                now: SystemClock.now(),
            };
            server.store.merge_clients(merge).await.unwrap();
        }
    });
    laptop.ok(&["sync"]);
    assert_eq!(laptop.pending(), 0);

    for expected in &fixture.expected {
        let (from, to) = (expected.from.to_string(), expected.to.to_string());
        let want: BTreeSet<Figure> = expected.figures.iter().cloned().collect();
        let period = ["report", "--from", from.as_str(), "--to", to.as_str()];

        let json = laptop.ok(&[&period[..], &["--format", "json"]].concat());
        let report: ParticipantReport = serde_json::from_str(&json).unwrap();
        let figures = tandem_reports::indicator_rows(&report)
            .into_iter()
            .map(|row| (row.indicator.to_owned(), row.category.to_owned(), row.count));
        assert_eq!(nonzero(figures), want, "JSON {from} to {to}");
        // `--json` gives the same document as `--format json`.
        assert_eq!(laptop.json(&period), serde_json::to_value(&report).unwrap());

        let csv = laptop.ok(&[&period[..], &["--format", "csv"]].concat());
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("from,to,indicator,category,count"));
        let rows: Vec<Figure> = lines
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                assert_eq!(cells[..2], [from.as_str(), to.as_str()], "{line}");
                (
                    cells[2].to_owned(),
                    cells[3].to_owned(),
                    cells[4].parse().unwrap(),
                )
            })
            .collect();
        // The CSV names the site the server named; the JSON has the ids.
        let named = want.iter().map(|(indicator, category, count)| {
            let category = match *category == named_site {
                true => site_name.clone(),
                false => category.clone(),
            };
            (indicator.clone(), category, *count)
        });
        assert_eq!(nonzero(rows), named.collect(), "CSV {from} to {to}");

        let table = laptop.ok(&period);
        assert!(
            table.starts_with(&format!(
                "Participant report {from} to {to}, from this laptop's data"
            )),
            "{table}"
        );
        assert!(
            table.contains("participants_by_gender\n  female"),
            "{table}"
        );
        let by_site = &table[table.find("contacts_by_site").unwrap()..];
        assert!(
            by_site.contains(&site_name) && !by_site.contains(&named_site),
            "{table}"
        );

        let on_server = server.runtime.block_on(async {
            let data = server.store.report_data(team.id).await.unwrap();
            tandem_reports::participant_report(
                &data,
                tandem_reports::ReportPeriod::new(expected.from, expected.to).unwrap(),
            )
        });
        assert_eq!(report, on_server, "{from} to {to}");
    }
}

#[test]
fn a_report_needs_a_period_that_does_not_end_before_it_starts() {
    let laptop = TestStore::new();
    laptop.ok(&["init"]);
    let err = laptop.fails(&["report", "--from", "2024-07-01", "--to", "2024-06-30"]);
    assert!(
        err.contains("the period ends before it starts (from 2024-07-01 is after to 2024-06-30)"),
        "{err}"
    );
    let err = laptop.fails(&["report", "--from", "1.7.2024", "--to", "2024-06-30"]);
    assert!(
        err.contains("from: `1.7.2024` is not a date (YYYY-MM-DD)"),
        "{err}"
    );
    let err = laptop.fails(&[
        "report",
        "--from",
        "2024-01-01",
        "--to",
        "2024-06-30",
        "--format",
        "pdf",
    ]);
    assert!(err.contains("pdf"), "{err}");
    // An empty laptop has an empty report, not an error.
    let empty: ParticipantReport = serde_json::from_value(laptop.json(&[
        "report",
        "--from",
        "2024-01-01",
        "--to",
        "2024-06-30",
    ]))
    .unwrap();
    assert_eq!(
        (empty.participants, empty.contacts, empty.anonymous_visitors),
        (0, 0, 0)
    );
}
