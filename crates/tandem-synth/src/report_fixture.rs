//! A small team whose participant report is known by hand: the data set of the report tests
//! (tandem-reports, the server's endpoint on both backends, `tandem report` after a sync).
//! It holds the edge cases of docs/reports.md: a client with contacts in two periods, a
//! merged duplicate counted once (with a contact still naming it where the data is written
//! without a server; a server's merge files it under the survivor), declined answers, a gender
//! changed after participant_start, a deleted client and a deleted contact, anonymous
//! visitors, a participant starting on the period's last day, one who left before it, a
//! client who is not a participant, and a contact whose local date differs from its UTC date.

use chrono::NaiveDate;
use serde_json::{Value as Json, json};
use tandem_domain::Entity;
use uuid::Uuid;

use crate::SyntheticRecord;

/// One figure of a report: indicator, category, count (as in docs/reports.md).
pub type Figure = (String, String, u64);

/// The expected report of one period: every figure that is not zero (all others are zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedReport {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The figures that are not zero, in any order.
    pub figures: Vec<Figure>,
}

/// The data set and its known reports.
#[derive(Debug, Clone)]
pub struct ReportFixture {
    /// The records as registered, in an order that can be pushed as it is.
    pub created: Vec<SyntheticRecord>,
    /// Later edits of created clients that a coach makes (a fresh value for a field; the
    /// gender of one written before): the gender changed after participant_start, the
    /// deletion.
    pub edits: Vec<SyntheticRecord>,
    /// The duplicate a team lead merges, after the edits: (survivor, duplicate). A server
    /// writes a merge itself (`POST /v1/duplicates/merge`), never from a device's change; data
    /// kept without a server takes [`ReportFixture::merge_writes`].
    pub merges: Vec<(Uuid, Uuid)>,
    /// The reports of the first and the second half of 2024.
    pub expected: Vec<ExpectedReport>,
    /// The two sites the contacts name (a server must know them before it takes the
    /// contacts): ids and names.
    pub sites: [(Uuid, &'static str); 2],
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn client(id: Uuid, fields: Vec<(&'static str, Json)>) -> SyntheticRecord {
    SyntheticRecord {
        entity: Entity::Client,
        id,
        fields,
    }
}

/// The ESF+ answers of a client at registration.
#[allow(
    clippy::too_many_arguments,
    reason = "one line per client reads like a table"
)]
fn esf(
    name: &str,
    gender: &str,
    birth_year: i64,
    employment: &str,
    education: &str,
    third_country: &str,
    foreign: &str,
    disability: &str,
) -> Vec<(&'static str, Json)> {
    vec![
        ("given_name", json!(name)),
        // Special-category answers need a lawful basis (the consent gate), written first.
        ("lawful_basis", json!("public_task")),
        ("gender", json!(gender)),
        ("birth_year", json!(birth_year)),
        ("employment_status", json!(employment)),
        ("education_level", json!(education)),
        ("third_country_national", json!(third_country)),
        ("foreign_background", json!(foreign)),
        ("disability", json!(disability)),
    ]
}

fn with(
    mut fields: Vec<(&'static str, Json)>,
    more: &[(&'static str, Json)],
) -> Vec<(&'static str, Json)> {
    fields.extend_from_slice(more);
    fields
}

/// A contact: client (`None`: anonymous), when, channel, topics, service language,
/// referrals, site.
#[allow(
    clippy::too_many_arguments,
    reason = "one line per contact reads like a table"
)]
fn contact(
    client: Option<Uuid>,
    at: &str,
    channel: &str,
    topics: &[&str],
    language: Option<&str>,
    referrals: &[&str],
    site: Option<Uuid>,
) -> SyntheticRecord {
    let mut fields = vec![
        ("occurred_at", json!(at)),
        ("channel", json!(channel)),
        ("topics", json!(topics)),
    ];
    if let Some(client) = client {
        fields.push(("client_id", json!(client.to_string())));
    }
    if let Some(language) = language {
        fields.push(("service_language", json!(language)));
    }
    if !referrals.is_empty() {
        fields.push(("referrals", json!(referrals)));
    }
    if let Some(site) = site {
        fields.push(("site", json!(site.to_string())));
    }
    SyntheticRecord {
        entity: Entity::Contact,
        id: Uuid::now_v7(),
        fields,
    }
}

fn figures(site_a: Uuid, site_b: Uuid, rows: &[(&str, &str, u64)]) -> Vec<Figure> {
    rows.iter()
        .map(|(indicator, category, count)| {
            let category = match *category {
                "SITE_A" => site_a.to_string(),
                "SITE_B" => site_b.to_string(),
                other => other.to_owned(),
            };
            ((*indicator).to_owned(), category, *count)
        })
        .collect()
}

impl ReportFixture {
    /// The data set, with fresh record ids (so that several copies can live on one server).
    #[rustfmt::skip]
    pub fn new() -> Self {
        let [amina, dmitri, sam, fatima, fatima_again, deleted, late, earlier, visitor, last_day] =
            std::array::from_fn(|_| Uuid::now_v7());
        let (site_a, site_b) = (Uuid::now_v7(), Uuid::now_v7());
        let start = |date: &str| ("participant_start", json!(date));
        let created = vec![
            client(amina, with(esf("Amina", "female", 1990, "unemployed", "isced_3_4", "yes", "yes", "no"), &[start("2024-02-01")])),
            client(dmitri, with(esf("Dmitri", "male", 2007, "student", "isced_0_2", "declined", "declined", "declined"), &[
                start("2024-03-01"), ("participant_exit", json!("2024-05-31")), ("exit_situation", json!("in_education")),
            ])),
            client(sam, with(esf("Sam", "non_binary", 1960, "inactive", "isced_5_8", "no", "yes", "yes"), &[
                start("2024-04-15"), ("participant_exit", json!("2024-09-30")), ("exit_situation", json!("employed")),
            ])),
            client(fatima, with(esf("Fatima", "female", 1985, "long_term_unemployed", "undisclosed", "yes", "yes", "declined"), &[start("2024-01-10")])),
            client(fatima_again, with(esf("Fatma", "female", 1985, "long_term_unemployed", "undisclosed", "yes", "yes", "declined"), &[start("2024-01-12")])),
            client(deleted, vec![("given_name", json!("Mistake")), ("gender", json!("male")), ("birth_year", json!(1970)), start("2024-02-01")]),
            client(late, with(esf("Linh", "male", 2000, "employed", "isced_3_4", "no", "no", "no"), &[start("2024-07-15")])),
            client(earlier, vec![
                ("given_name", json!("Olga")), ("gender", json!("female")), ("birth_year", json!(1980)),
                start("2023-05-01"), ("participant_exit", json!("2023-12-31")), ("exit_situation", json!("job_seeking")),
            ]),
            client(visitor, vec![("given_name", json!("Halima")), ("gender", json!("female")), ("birth_year", json!(1995))]),
            client(last_day, vec![("given_name", json!("Arben")), start("2024-06-30")]),
            // Contacts of the first half.
            contact(Some(amina), "2024-03-05T10:00:00+02:00", "drop_in", &["employment", "housing"], Some("so"), &["employment_services"], Some(site_a)),
            contact(Some(dmitri), "2024-04-02T14:00:00+03:00", "phone", &["language_learning"], Some("ru"), &["language_course"], Some(site_a)),
            contact(Some(sam), "2024-05-20T09:00:00+03:00", "group", &[], None, &[], None),
            contact(Some(fatima), "2024-02-14T11:00:00+02:00", "drop_in", &["residence_permit"], Some("ar"), &["kela", "social_services"], Some(site_b)),
            contact(Some(fatima_again), "2024-03-14T11:00:00+02:00", "drop_in", &["family", "residence_permit"], Some("ar"), &[], Some(site_b)),
            contact(Some(deleted), "2024-03-01T10:00:00+02:00", "drop_in", &["health"], Some("fi"), &[], Some(site_a)),
            contact(Some(visitor), "2024-06-01T10:00:00+03:00", "outreach", &["digital_services"], Some("en"), &[], Some(site_a)),
            contact(None, "2024-01-15T10:00:00+02:00", "drop_in", &["digital_services"], Some("ar"), &[], Some(site_a)),
            contact(None, "2024-06-30T15:00:00+03:00", "drop_in", &["other"], Some("so"), &[], Some(site_b)),
            {
                let mut removed = contact(Some(amina), "2024-04-01T10:00:00+03:00", "drop_in", &["housing"], Some("fi"), &[], Some(site_a));
                removed.fields.push(("deleted", json!(true)));
                removed
            },
            // Contacts of the second half: on 1 July in Finland, still 30 June in UTC.
            contact(None, "2024-07-01T01:30:00+03:00", "drop_in", &["housing"], Some("fi"), &[], Some(site_a)),
            contact(Some(amina), "2024-08-10T10:00:00+03:00", "appointment", &["education"], Some("fi"), &[], Some(site_b)),
            contact(Some(late), "2024-09-01T10:00:00+03:00", "appointment", &["employment"], Some("fi"), &["employment_services"], Some(site_b)),
        ];
        let edits = vec![
            client(sam, vec![("gender", json!("male"))]),
            client(deleted, vec![("deleted", json!(true))]),
        ];
        let first_half = figures(site_a, site_b, &[
            ("participants", "total", 5),
            ("participants_by_gender", "female", 2),
            ("participants_by_gender", "male", 1),
            ("participants_by_gender", "non_binary", 1),
            ("participants_by_gender", "not_recorded", 1),
            ("participants_by_age", "under_18", 1),
            ("participants_by_age", "30_54", 2),
            ("participants_by_age", "55_and_over", 1),
            ("participants_by_age", "not_recorded", 1),
            ("participants_by_employment_status", "unemployed", 1),
            ("participants_by_employment_status", "long_term_unemployed", 1),
            ("participants_by_employment_status", "inactive", 1),
            ("participants_by_employment_status", "student", 1),
            ("participants_by_employment_status", "not_recorded", 1),
            ("participants_by_education", "isced_0_2", 1),
            ("participants_by_education", "isced_3_4", 1),
            ("participants_by_education", "isced_5_8", 1),
            ("participants_by_education", "undisclosed", 1),
            ("participants_by_education", "not_recorded", 1),
            ("third_country_national", "yes", 2),
            ("third_country_national", "no", 1),
            ("third_country_national", "declined", 1),
            ("third_country_national", "not_recorded", 1),
            ("foreign_background", "yes", 3),
            ("foreign_background", "declined", 1),
            ("foreign_background", "not_recorded", 1),
            ("disability", "yes", 1),
            ("disability", "no", 1),
            ("disability", "declined", 2),
            ("disability", "not_recorded", 1),
            ("exits", "total", 1),
            ("exits_by_situation", "in_education", 1),
            ("contacts", "total", 8),
            ("contacts_by_topic", "employment", 1),
            ("contacts_by_topic", "language_learning", 1),
            ("contacts_by_topic", "housing", 1),
            ("contacts_by_topic", "family", 1),
            ("contacts_by_topic", "digital_services", 2),
            ("contacts_by_topic", "residence_permit", 2),
            ("contacts_by_topic", "other", 1),
            ("contacts_by_topic", "not_recorded", 1),
            ("contacts_by_service_language", "ar", 3),
            ("contacts_by_service_language", "en", 1),
            ("contacts_by_service_language", "ru", 1),
            ("contacts_by_service_language", "so", 2),
            ("contacts_by_service_language", "not_recorded", 1),
            ("contacts_by_referral", "employment_services", 1),
            ("contacts_by_referral", "kela", 1),
            ("contacts_by_referral", "social_services", 1),
            ("contacts_by_referral", "language_course", 1),
            ("contacts_by_referral", "not_recorded", 5),
            ("contacts_by_channel", "drop_in", 5),
            ("contacts_by_channel", "phone", 1),
            ("contacts_by_channel", "outreach", 1),
            ("contacts_by_channel", "group", 1),
            ("contacts_by_site", "SITE_A", 4),
            ("contacts_by_site", "SITE_B", 3),
            ("contacts_by_site", "not_recorded", 1),
            ("unique_clients", "total", 5),
            ("anonymous_visitors", "total", 2),
        ]);
        let second_half = figures(site_a, site_b, &[
            ("participants", "total", 5),
            ("participants_by_gender", "female", 2),
            ("participants_by_gender", "male", 1),
            ("participants_by_gender", "non_binary", 1),
            ("participants_by_gender", "not_recorded", 1),
            ("participants_by_age", "18_29", 1),
            ("participants_by_age", "30_54", 2),
            ("participants_by_age", "55_and_over", 1),
            ("participants_by_age", "not_recorded", 1),
            ("participants_by_employment_status", "employed", 1),
            ("participants_by_employment_status", "unemployed", 1),
            ("participants_by_employment_status", "long_term_unemployed", 1),
            ("participants_by_employment_status", "inactive", 1),
            ("participants_by_employment_status", "not_recorded", 1),
            ("participants_by_education", "isced_3_4", 2),
            ("participants_by_education", "isced_5_8", 1),
            ("participants_by_education", "undisclosed", 1),
            ("participants_by_education", "not_recorded", 1),
            ("third_country_national", "yes", 2),
            ("third_country_national", "no", 2),
            ("third_country_national", "not_recorded", 1),
            ("foreign_background", "yes", 3),
            ("foreign_background", "no", 1),
            ("foreign_background", "not_recorded", 1),
            ("disability", "yes", 1),
            ("disability", "no", 2),
            ("disability", "declined", 1),
            ("disability", "not_recorded", 1),
            ("exits", "total", 1),
            ("exits_by_situation", "employed", 1),
            ("contacts", "total", 3),
            ("contacts_by_topic", "employment", 1),
            ("contacts_by_topic", "education", 1),
            ("contacts_by_topic", "housing", 1),
            ("contacts_by_service_language", "fi", 3),
            ("contacts_by_referral", "employment_services", 1),
            ("contacts_by_referral", "not_recorded", 2),
            ("contacts_by_channel", "drop_in", 1),
            ("contacts_by_channel", "appointment", 2),
            ("contacts_by_site", "SITE_A", 1),
            ("contacts_by_site", "SITE_B", 2),
            ("unique_clients", "total", 2),
            ("anonymous_visitors", "total", 1),
        ]);
        Self {
            created,
            edits,
            merges: vec![(fatima, fatima_again)],
            sites: [(site_a, "Site A"), (site_b, "Site B")],
            expected: vec![
                ExpectedReport { from: day(2024, 1, 1), to: day(2024, 6, 30), figures: first_half },
                ExpectedReport { from: day(2024, 7, 1), to: day(2024, 12, 31), figures: second_half },
            ],
        }
    }

    /// What the merges leave on the duplicates (`merged_into` = the survivor), for data
    /// written without a server. A server's merge also files the duplicate's contacts under
    /// the survivor; these leave them naming the duplicate, which a report counts alike.
    pub fn merge_writes(&self) -> Vec<SyntheticRecord> {
        self.merges
            .iter()
            .map(|(survivor, duplicate)| {
                client(
                    *duplicate,
                    vec![("merged_into", json!(survivor.to_string()))],
                )
            })
            .collect()
    }
}

impl Default for ReportFixture {
    fn default() -> Self {
        Self::new()
    }
}
