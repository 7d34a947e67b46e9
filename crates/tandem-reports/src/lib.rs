//! The participant report of a team for a period: the ESF+ common indicators (participants
//! by gender, age, employment status, education, third-country nationals, foreign background,
//! disability, exits by situation) and the contact figures (by topic, service language,
//! referral, channel and site; unique clients; anonymous visitors).
//!
//! One computation for the server (the whole team) and the laptop (what it holds): the
//! caller reads its store into [`ReportData`] and calls [`participant_report`]. Nothing here
//! does I/O or reads a clock. The definitions of every figure are in docs/reports.md.

mod input;
mod report;
mod table;

use chrono::NaiveDate;

pub use input::{CLIENT_FIELDS, CONTACT_FIELDS, FIELDS_AT_START, ReportData, sql_field_list};
pub use report::participant_report;
pub use table::{
    CSV_HEADER, IndicatorRow, SiteNames, category_label, csv_cell, indicator_rows, to_csv,
};

/// Why a report cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A period bound is missing or not a date.
    #[error("{bound}: {reason}")]
    InvalidDate {
        /// `from` or `to`.
        bound: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The period ends before it starts.
    #[error("the period ends before it starts (from {from} is after to {to})")]
    PeriodReversed {
        /// The first day asked for.
        from: NaiveDate,
        /// The last day asked for.
        to: NaiveDate,
    },
    /// A stored value or clock reading cannot be read (the store is damaged or newer).
    #[error("record {record_id}, field {field}: {reason}")]
    CorruptValue {
        /// The record.
        record_id: String,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// The days a report covers, both included; `from` is never after `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    from: NaiveDate,
    to: NaiveDate,
}

impl ReportPeriod {
    /// A period from `from` to `to`, both included.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, ReportError> {
        if from > to {
            return Err(ReportError::PeriodReversed { from, to });
        }
        Ok(Self { from, to })
    }

    /// Reads a period from the texts a user typed (`YYYY-MM-DD`); a missing bound is an
    /// error that names it.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, ReportError> {
        Self::new(parse_date("from", from)?, parse_date("to", to)?)
    }

    /// The first day.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last day.
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Whether `day` lies in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

fn parse_date(bound: &'static str, text: Option<&str>) -> Result<NaiveDate, ReportError> {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ReportError::InvalidDate {
            bound,
            reason: "a date is required (YYYY-MM-DD)".into(),
        })?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ReportError::InvalidDate {
        bound,
        reason: format!("`{text}` is not a date (YYYY-MM-DD)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_needs_two_dates_in_order() {
        let period = ReportPeriod::parse(Some("2024-01-01"), Some("2024-06-30")).unwrap();
        assert!(period.contains(NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()));
        assert!(!period.contains(NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()));
        assert_eq!(
            ReportPeriod::parse(None, Some("2024-06-30"))
                .unwrap_err()
                .to_string(),
            "from: a date is required (YYYY-MM-DD)"
        );
        assert_eq!(
            ReportPeriod::parse(Some("2024-01-01"), Some("30.6.2024"))
                .unwrap_err()
                .to_string(),
            "to: `30.6.2024` is not a date (YYYY-MM-DD)"
        );
        assert_eq!(
            ReportPeriod::parse(Some("2024-07-01"), Some("2024-06-30"))
                .unwrap_err()
                .to_string(),
            "the period ends before it starts (from 2024-07-01 is after to 2024-06-30)"
        );
        // A one-day period is a period.
        assert!(ReportPeriod::parse(Some("2024-07-01"), Some("2024-07-01")).is_ok());
    }
}
