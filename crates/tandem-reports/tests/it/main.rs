//! The report of the hand-counted data set of `tandem_synth::ReportFixture` equals its known
//! figures, whether the records were written before the participants started (the value at
//! the start is the last one written) or only later (the first one recorded stands in).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use tandem_domain::RecordId;
use tandem_reports::{ReportData, ReportPeriod, indicator_rows, participant_report, to_csv};
use tandem_synth::{Figure, ReportFixture, SyntheticRecord};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// Writes records as a store would hold them: the current value of every field, and each
/// write in the history with an HLC at `when`.
fn write(data: &mut ReportData, records: &[SyntheticRecord], when: DateTime<Utc>) {
    let hlc = format!("{:013}-00000-laptop", when.timestamp_millis());
    for record in records {
        let id = RecordId::from_uuid(record.id);
        for (field, value) in &record.fields {
            let value = value.to_string();
            data.add_value(record.entity, id, field, &value).unwrap();
            data.add_history(id, field, &value, &hlc).unwrap();
        }
    }
}

fn nonzero(report: &tandem_protocol::ParticipantReport) -> BTreeSet<Figure> {
    indicator_rows(report)
        .into_iter()
        .filter(|row| row.count > 0)
        .map(|row| (row.indicator.to_owned(), row.category.to_owned(), row.count))
        .collect()
}

fn check(fixture: &ReportFixture, data: &ReportData) {
    for expected in &fixture.expected {
        let report =
            participant_report(data, ReportPeriod::new(expected.from, expected.to).unwrap());
        assert_eq!((report.from, report.to), (expected.from, expected.to));
        assert_eq!(
            nonzero(&report),
            expected.figures.iter().cloned().collect::<BTreeSet<_>>(),
            "{} to {}",
            expected.from,
            expected.to
        );
    }
}

#[test]
fn records_written_before_the_start_are_counted_as_they_stood_then() {
    let fixture = ReportFixture::new();
    let mut data = ReportData::new();
    write(&mut data, &fixture.created, at("2024-01-05T09:00:00Z"));
    write(&mut data, &fixture.edits, at("2024-12-31T09:00:00Z"));
    write(
        &mut data,
        &fixture.merge_writes(),
        at("2024-12-31T10:00:00Z"),
    );
    check(&fixture, &data);
}

#[test]
fn records_written_after_the_start_are_counted_as_first_recorded() {
    let fixture = ReportFixture::new();
    let mut data = ReportData::new();
    write(&mut data, &fixture.created, at("2025-03-01T09:00:00Z"));
    write(&mut data, &fixture.edits, at("2025-03-02T09:00:00Z"));
    write(
        &mut data,
        &fixture.merge_writes(),
        at("2025-03-02T10:00:00Z"),
    );
    check(&fixture, &data);
}

#[test]
fn counting_the_current_gender_instead_would_be_caught() {
    // The same data without history: only current values, so the gender changed after the
    // start counts as it is now. The fixture's figures must then disagree.
    let fixture = ReportFixture::new();
    let mut data = ReportData::new();
    for record in fixture
        .created
        .iter()
        .chain(&fixture.edits)
        .chain(&fixture.merge_writes())
    {
        for (field, value) in &record.fields {
            data.add_value(
                record.entity,
                RecordId::from_uuid(record.id),
                field,
                &value.to_string(),
            )
            .unwrap();
        }
    }
    let first = &fixture.expected[0];
    let report = participant_report(&data, ReportPeriod::new(first.from, first.to).unwrap());
    let gender: Vec<(&str, u64)> = report
        .participants_by_gender
        .iter()
        .map(|c| (c.category.as_str(), c.count))
        .collect();
    assert_eq!(
        gender,
        [
            ("female", 2),
            ("male", 2),
            ("non_binary", 0),
            ("undisclosed", 0),
            ("not_recorded", 1)
        ]
    );
}

#[test]
fn the_csv_has_a_header_and_one_line_per_figure_with_the_period() {
    let fixture = ReportFixture::new();
    let mut data = ReportData::new();
    write(&mut data, &fixture.created, at("2024-01-05T09:00:00Z"));
    let first = &fixture.expected[0];
    let report = participant_report(&data, ReportPeriod::new(first.from, first.to).unwrap());
    // One of the two sites has a name here: it is printed by name, the other by id.
    let [(named, name), (unnamed, _)] = fixture.sites;
    let names = tandem_reports::SiteNames::from([(named.to_string(), name.to_owned())]);
    let csv = to_csv(&report, &names);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "from,to,indicator,category,count");
    assert_eq!(lines.len(), indicator_rows(&report).len() + 1);
    // Without the edits the duplicate is not merged and the mistake not deleted: 5 + 2.
    assert_eq!(lines[1], "2024-01-01,2024-06-30,participants,total,7");
    assert!(lines.contains(&"2024-01-01,2024-06-30,participants_by_gender,non_binary,1"));
    assert!(lines.contains(&"2024-01-01,2024-06-30,anonymous_visitors,total,2"));
    // Every enumerated category is listed, zeros included.
    assert!(lines.contains(&"2024-01-01,2024-06-30,participants_by_gender,undisclosed,0"));
    let by_site: Vec<&str> = lines
        .iter()
        .filter(|line| line.contains(",contacts_by_site,"))
        .copied()
        .collect();
    assert!(
        by_site
            .iter()
            .any(|line| line.contains(&format!(",{name},")))
            && by_site
                .iter()
                .any(|line| line.contains(&format!(",{unnamed},")))
            && !by_site.iter().any(|line| line.contains(&named.to_string())),
        "{by_site:?}"
    );
    assert!(csv.ends_with('\n'));
}
