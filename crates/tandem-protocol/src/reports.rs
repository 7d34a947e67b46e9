//! `GET /v1/reports/participants`: the participant report of a team for a period (the ESF+
//! common indicators and the contact figures). The definitions of every figure are in
//! docs/reports.md; the crate tandem-reports computes it, on the server and on a laptop.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many were counted in one category of an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CategoryCount {
    /// The category: a snake_case value of the field (`female`, `isced_3_4`, `yes`), an age
    /// band (`under_18`, `18_29`, `30_54`, `55_and_over`), a language code or a site id, or
    /// `not_recorded` when the field had no value.
    pub category: String,
    /// How many participants, exits or contacts fall in it.
    pub count: u64,
}

/// The participant report of one team for one period (both days included).
///
/// Enumerated indicators list every value of the enumeration in the order of DESIGN.md,
/// zeros included, then `not_recorded`; languages and sites list only what occurs, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParticipantReport {
    /// First day of the period.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub from: NaiveDate,
    /// Last day of the period.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub to: NaiveDate,
    /// Participants in the period (started on or before `to`, not exited before `from`).
    pub participants: u64,
    /// Participants by gender as it stood at their participant_start.
    pub participants_by_gender: Vec<CategoryCount>,
    /// Participants by age at participant_start.
    pub participants_by_age: Vec<CategoryCount>,
    /// Participants by employment status at participant_start.
    pub participants_by_employment_status: Vec<CategoryCount>,
    /// Participants by ISCED education band at participant_start.
    pub participants_by_education: Vec<CategoryCount>,
    /// Participants who are third-country nationals: yes, no, declined.
    pub third_country_national: Vec<CategoryCount>,
    /// Participants with a foreign background: yes, no, declined.
    pub foreign_background: Vec<CategoryCount>,
    /// Participants with a disability: yes, no, declined.
    pub disability: Vec<CategoryCount>,
    /// Participants whose participant_exit lies in the period.
    pub exits: u64,
    /// Those exits by exit_situation.
    pub exits_by_situation: Vec<CategoryCount>,
    /// Contacts in the period, with a client or anonymous.
    pub contacts: u64,
    /// Contacts by topic (a contact with several topics counts once under each).
    pub contacts_by_topic: Vec<CategoryCount>,
    /// Contacts by service language.
    pub contacts_by_service_language: Vec<CategoryCount>,
    /// Contacts by referral (a contact with several referrals counts once under each).
    pub contacts_by_referral: Vec<CategoryCount>,
    /// Contacts by channel.
    pub contacts_by_channel: Vec<CategoryCount>,
    /// Contacts by site id.
    pub contacts_by_site: Vec<CategoryCount>,
    /// Distinct clients with at least one contact in the period (a merged duplicate counts as
    /// its surviving client).
    pub unique_clients: u64,
    /// Contacts without a client (anonymous drop-in visits), counted apart from participants.
    pub anonymous_visitors: u64,
}
