//! The figures: who is a participant in the period and how they were at the start, the
//! exits, and the contacts of the period (docs/reports.md has the definitions).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate};
use serde_json::Value as Json;
use tandem_domain::{
    Channel, EducationLevel, EmploymentStatus, ExitSituation, Gender, RecordId, Referral, Topic,
    YesNoDeclined,
};
use tandem_protocol::{CategoryCount, ParticipantReport};

use crate::ReportPeriod;
use crate::input::{ClientData, ReportData};

/// The category of a field without a value.
const NOT_RECORDED: &str = "not_recorded";
/// Age bands at participant_start (ESF+), youngest first.
const AGE_BANDS: &[&str] = &["under_18", "18_29", "30_54", "55_and_over"];
/// How many `merged_into` links are followed before giving up on a chain (a cycle).
const MAX_MERGE_CHAIN: usize = 32;

/// Computes the participant report of `period` from `data`.
pub fn participant_report(data: &ReportData, period: ReportPeriod) -> ParticipantReport {
    let participants: Vec<(&ClientData, NaiveDate)> = data
        .clients
        .values()
        .filter_map(|client| participant_start(client, period).map(|start| (client, start)))
        .collect();

    let at_start = |field: &str, closed: &'static [&'static str]| {
        let mut tally = Tally::closed(closed);
        for (client, start) in &participants {
            tally.add(text(client.value_at_start(field, *start)));
        }
        tally.finish()
    };
    let mut ages = Tally::closed(AGE_BANDS);
    for (client, start) in &participants {
        ages.add(
            client
                .value_at_start("birth_year", *start)
                .and_then(Json::as_i64)
                .map(|year| age_band(i64::from(start.year()) - year)),
        );
    }

    let mut exits = Tally::closed(ExitSituation::NAMES);
    let mut exit_count = 0;
    for (client, _) in &participants {
        if date(client.value("participant_exit")).is_some_and(|exit| period.contains(exit)) {
            exit_count += 1;
            exits.add(text(client.value("exit_situation")));
        }
    }

    let contacts = contacts_in(data, period);
    let mut topics = Tally::closed(Topic::NAMES);
    let mut referrals = Tally::closed(Referral::NAMES);
    let mut channels = Tally::closed(Channel::NAMES);
    let mut languages = Tally::closed(&[]);
    let mut sites = Tally::closed(&[]);
    let mut clients = BTreeSet::new();
    let mut anonymous = 0;
    for (contact, client) in &contacts {
        topics.add_each(contact.get("topics"));
        referrals.add_each(contact.get("referrals"));
        channels.add(text(contact.get("channel")));
        languages.add(text(contact.get("service_language")));
        sites.add(text(contact.get("site")));
        match client {
            Some(id) => {
                clients.insert(*id);
            }
            None => anonymous += 1,
        }
    }

    ParticipantReport {
        from: period.from(),
        to: period.to(),
        participants: participants.len() as u64,
        participants_by_gender: at_start("gender", Gender::NAMES),
        participants_by_age: ages.finish(),
        participants_by_employment_status: at_start("employment_status", EmploymentStatus::NAMES),
        participants_by_education: at_start("education_level", EducationLevel::NAMES),
        third_country_national: at_start("third_country_national", YesNoDeclined::NAMES),
        foreign_background: at_start("foreign_background", YesNoDeclined::NAMES),
        disability: at_start("disability", YesNoDeclined::NAMES),
        exits: exit_count,
        exits_by_situation: exits.finish(),
        contacts: contacts.len() as u64,
        contacts_by_topic: topics.finish(),
        contacts_by_service_language: languages.finish(),
        contacts_by_referral: referrals.finish(),
        contacts_by_channel: channels.finish(),
        contacts_by_site: sites.finish(),
        unique_clients: clients.len() as u64,
        anonymous_visitors: anonymous,
    }
}

/// A counted client: not deleted, not merged into another.
fn is_counted(client: &ClientData) -> bool {
    client.value("deleted").and_then(Json::as_bool) != Some(true)
        && client.value("merged_into").is_none()
}

/// The participant_start of a client who is a participant in the period: counted, started
/// on or before its last day, and not exited before its first day.
fn participant_start(client: &ClientData, period: ReportPeriod) -> Option<NaiveDate> {
    let start = date(client.value("participant_start"))?;
    let exit = date(client.value("participant_exit"));
    (is_counted(client) && start <= period.to() && exit.is_none_or(|exit| exit >= period.from()))
        .then_some(start)
}

/// The contacts of the period that count, each with the client it counts for (`None`:
/// an anonymous visitor). A contact counts when it is not deleted, happened in the period
/// (its date where it happened) and its client, followed through merges, is not deleted.
fn contacts_in(
    data: &ReportData,
    period: ReportPeriod,
) -> Vec<(&BTreeMap<String, Json>, Option<RecordId>)> {
    data.contacts
        .values()
        .filter(|contact| contact.get("deleted").and_then(Json::as_bool) != Some(true))
        .filter(|contact| {
            text(contact.get("occurred_at"))
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .is_some_and(|at| period.contains(at.date_naive()))
        })
        .filter_map(|contact| match record_id(contact.get("client_id")) {
            None => Some((contact, None)),
            Some(id) => {
                let survivor = surviving_client(data, id);
                let deleted = data.clients.get(&survivor).is_some_and(|client| {
                    client.value("deleted").and_then(Json::as_bool) == Some(true)
                });
                (!deleted).then_some((contact, Some(survivor)))
            }
        })
        .collect()
}

/// The client a merged duplicate was merged into, following chains of merges.
fn surviving_client(data: &ReportData, mut id: RecordId) -> RecordId {
    for _ in 0..MAX_MERGE_CHAIN {
        match data
            .clients
            .get(&id)
            .and_then(|client| record_id(client.value("merged_into")))
        {
            Some(next) if next != id => id = next,
            _ => break,
        }
    }
    id
}

fn age_band(age: i64) -> &'static str {
    match age {
        ..18 => AGE_BANDS[0],
        18..=29 => AGE_BANDS[1],
        30..=54 => AGE_BANDS[2],
        _ => AGE_BANDS[3],
    }
}

fn text(value: Option<&Json>) -> Option<&str> {
    value.and_then(Json::as_str)
}

fn date(value: Option<&Json>) -> Option<NaiveDate> {
    text(value).and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

fn record_id(value: Option<&Json>) -> Option<RecordId> {
    text(value).and_then(|t| RecordId::parse(t).ok())
}

/// Counts per category: the closed set's categories first (zeros included, in its order),
/// then any other value met (a newer schema's), by name, then `not_recorded`.
struct Tally {
    closed: &'static [&'static str],
    counts: BTreeMap<String, u64>,
    not_recorded: u64,
}

impl Tally {
    fn closed(closed: &'static [&'static str]) -> Self {
        Self {
            closed,
            counts: BTreeMap::new(),
            not_recorded: 0,
        }
    }

    fn add(&mut self, category: Option<&str>) {
        match category {
            Some(category) => *self.counts.entry(category.to_owned()).or_default() += 1,
            None => self.not_recorded += 1,
        }
    }

    /// Counts every member of a set value once; an empty set is `not_recorded`.
    fn add_each(&mut self, set: Option<&Json>) {
        let members: Vec<&str> = set
            .and_then(Json::as_array)
            .map(|items| items.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if members.is_empty() {
            self.add(None);
        }
        for member in members {
            self.add(Some(member));
        }
    }

    fn finish(mut self) -> Vec<CategoryCount> {
        let mut rows: Vec<CategoryCount> = self
            .closed
            .iter()
            .map(|name| CategoryCount {
                category: (*name).to_owned(),
                count: self.counts.remove(*name).unwrap_or(0),
            })
            .collect();
        rows.extend(
            self.counts
                .into_iter()
                .map(|(category, count)| CategoryCount { category, count }),
        );
        rows.push(CategoryCount {
            category: NOT_RECORDED.to_owned(),
            count: self.not_recorded,
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_into_the_esf_bands() {
        assert_eq!(age_band(17), "under_18");
        assert_eq!(age_band(18), "18_29");
        assert_eq!(age_band(29), "18_29");
        assert_eq!(age_band(30), "30_54");
        assert_eq!(age_band(54), "30_54");
        assert_eq!(age_band(55), "55_and_over");
    }

    #[test]
    fn a_tally_lists_its_closed_set_then_other_values_then_not_recorded() {
        let mut tally = Tally::closed(YesNoDeclined::NAMES);
        tally.add(Some("declined"));
        tally.add(Some("maybe"));
        tally.add(None);
        tally.add(Some("declined"));
        let rows: Vec<(String, u64)> = tally
            .finish()
            .into_iter()
            .map(|row| (row.category, row.count))
            .collect();
        assert_eq!(
            rows,
            [
                ("yes".to_owned(), 0),
                ("no".to_owned(), 0),
                ("declined".to_owned(), 2),
                ("maybe".to_owned(), 1),
                ("not_recorded".to_owned(), 1),
            ]
        );
    }
}
