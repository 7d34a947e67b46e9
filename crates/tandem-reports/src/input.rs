//! What a report is computed from: the current values of the fields it reads, and for the
//! client fields measured at participant_start the field history with the clock reading of
//! every write. The stores fill a [`ReportData`] with what they keep; this module picks the
//! value that stood at participant_start.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde_json::Value as Json;
use tandem_domain::{Entity, Hlc, RecordId};

use crate::ReportError;

/// Client fields whose value is taken as it stood at participant_start (DESIGN.md: ESF+
/// figures use each client's values as they stood then). Stores read their history.
pub const FIELDS_AT_START: &[&str] = &[
    "gender",
    "birth_year",
    "employment_status",
    "education_level",
    "third_country_national",
    "foreign_background",
    "disability",
];

/// Every client field the report reads (current values).
pub const CLIENT_FIELDS: &[&str] = &[
    "gender",
    "birth_year",
    "employment_status",
    "education_level",
    "third_country_national",
    "foreign_background",
    "disability",
    "participant_start",
    "participant_exit",
    "exit_situation",
    "deleted",
    "merged_into",
];

/// Every contact field the report reads (current values).
pub const CONTACT_FIELDS: &[&str] = &[
    "client_id",
    "occurred_at",
    "site",
    "channel",
    "topics",
    "service_language",
    "referrals",
    "deleted",
];

/// `'a', 'b'`: the names as an SQL list, for the stores' `field IN (...)`. Only for the
/// constants above (names of the field catalogue), never for input.
pub fn sql_field_list(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The records of a team as a report needs them.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    pub(crate) clients: BTreeMap<RecordId, ClientData>,
    pub(crate) contacts: BTreeMap<RecordId, BTreeMap<String, Json>>,
}

/// One client: current values, and the history of the fields measured at the start.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientData {
    current: BTreeMap<String, Json>,
    history: BTreeMap<String, Vec<(Hlc, Json)>>,
}

impl ReportData {
    /// No records yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current value of one field of a record, as stored (the compact JSON text of the
    /// canonical value). Fields the report does not read are ignored, so a store may pass
    /// every field it has.
    pub fn add_value(
        &mut self,
        entity: Entity,
        record_id: RecordId,
        field: &str,
        value: &str,
    ) -> Result<(), ReportError> {
        let read = match entity {
            Entity::Client => CLIENT_FIELDS,
            Entity::Contact => CONTACT_FIELDS,
        };
        if !read.contains(&field) {
            return Ok(());
        }
        let value = parse_json(record_id, field, value)?;
        let fields = match entity {
            Entity::Client => &mut self.clients.entry(record_id).or_default().current,
            Entity::Contact => self.contacts.entry(record_id).or_default(),
        };
        fields.insert(field.to_owned(), value);
        Ok(())
    }

    /// One value a client's field took (a write that became the field's value), with the
    /// clock reading (HLC) of that write. Fields not measured at the start are ignored.
    pub fn add_history(
        &mut self,
        record_id: RecordId,
        field: &str,
        value: &str,
        hlc: &str,
    ) -> Result<(), ReportError> {
        if !FIELDS_AT_START.contains(&field) {
            return Ok(());
        }
        let value = parse_json(record_id, field, value)?;
        let hlc = Hlc::parse(hlc).map_err(|err| corrupt(record_id, field, err.to_string()))?;
        self.clients
            .entry(record_id)
            .or_default()
            .history
            .entry(field.to_owned())
            .or_default()
            .push((hlc, value));
        Ok(())
    }
}

impl ClientData {
    /// The current value of a field; `None` when it is empty.
    pub(crate) fn value(&self, field: &str) -> Option<&Json> {
        self.current.get(field).filter(|value| !value.is_null())
    }

    /// The value of a field as it stood at the end of `start` (UTC): the last write (by HLC)
    /// made before that. When there was none, or it was empty, the first non-empty write
    /// after it stands in: the answer was recorded after the start date (a back-dated start,
    /// or the registration done later). Without any history the current value is used.
    pub(crate) fn value_at_start(&self, field: &str, start: NaiveDate) -> Option<&Json> {
        let Some(writes) = self.history.get(field).filter(|w| !w.is_empty()) else {
            return self.value(field);
        };
        let cutoff_ms = start
            .checked_add_days(Days::new(1))
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map_or(u64::MAX, |at| {
                u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0)
            });
        let standing = writes
            .iter()
            .filter(|(hlc, _)| hlc.physical_ms() < cutoff_ms)
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, value)| value)
            .filter(|value| !value.is_null());
        standing.or_else(|| {
            writes
                .iter()
                .filter(|(hlc, value)| hlc.physical_ms() >= cutoff_ms && !value.is_null())
                .min_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, value)| value)
        })
    }
}

fn parse_json(record_id: RecordId, field: &str, text: &str) -> Result<Json, ReportError> {
    serde_json::from_str(text).map_err(|err| corrupt(record_id, field, err.to_string()))
}

fn corrupt(record_id: RecordId, field: &str, reason: String) -> ReportError {
    ReportError::CorruptValue {
        record_id: record_id.to_string(),
        field: field.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> RecordId {
        RecordId::parse("0190f0c4-8d5e-7c3a-9f1e-2b3c4d5e6f70").unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// An HLC at noon UTC of a day.
    fn hlc_on(text: &str) -> String {
        let ms = day(text)
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        format!("{ms:013}-00000-laptop")
    }

    fn client_with_gender_history(writes: &[(&str, &str)], current: &str) -> ReportData {
        let mut data = ReportData::new();
        for (on, value) in writes {
            data.add_history(id(), "gender", value, &hlc_on(on))
                .unwrap();
        }
        data.add_value(Entity::Client, id(), "gender", current)
            .unwrap();
        data
    }

    fn gender_at(data: &ReportData, start: &str) -> Option<Json> {
        data.clients[&id()]
            .value_at_start("gender", day(start))
            .cloned()
    }

    #[test]
    fn the_value_at_start_is_the_last_one_written_up_to_the_end_of_that_day() {
        let data = client_with_gender_history(
            &[
                ("2024-01-05", "\"female\""),
                ("2024-03-01", "\"undisclosed\""),
                ("2024-09-01", "\"male\""),
            ],
            "\"male\"",
        );
        assert_eq!(gender_at(&data, "2024-02-01"), Some("female".into()));
        // A write on the start day itself still counts as standing at the start.
        assert_eq!(gender_at(&data, "2024-03-01"), Some("undisclosed".into()));
        assert_eq!(gender_at(&data, "2024-12-01"), Some("male".into()));
    }

    #[test]
    fn a_value_recorded_only_after_the_start_is_the_first_one_recorded() {
        let data = client_with_gender_history(
            &[("2024-05-01", "\"non_binary\""), ("2024-06-01", "\"male\"")],
            "\"male\"",
        );
        assert_eq!(gender_at(&data, "2024-02-01"), Some("non_binary".into()));
        let cleared = client_with_gender_history(
            &[
                ("2024-01-01", "null"),
                ("2024-05-01", "\"female\""),
                ("2024-06-01", "\"male\""),
            ],
            "\"male\"",
        );
        assert_eq!(gender_at(&cleared, "2024-02-01"), Some("female".into()));
    }

    #[test]
    fn without_history_the_current_value_counts() {
        let data = client_with_gender_history(&[], "\"female\"");
        assert_eq!(gender_at(&data, "2024-02-01"), Some("female".into()));
        let empty = client_with_gender_history(&[], "null");
        assert_eq!(gender_at(&empty, "2024-02-01"), None);
    }

    #[test]
    fn unread_fields_are_skipped_and_damaged_values_are_named() {
        let mut data = ReportData::new();
        data.add_value(Entity::Client, id(), "notes", "not json at all")
            .unwrap();
        data.add_history(id(), "notes", "not json", "garbage")
            .unwrap();
        let err = data
            .add_value(Entity::Contact, id(), "topics", "[\"housing\"")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("record {}, field topics:", id())),
            "{err}"
        );
        let err = data
            .add_history(id(), "gender", "\"female\"", "yesterday")
            .unwrap_err();
        assert!(err.to_string().contains("field gender"), "{err}");
    }
}
