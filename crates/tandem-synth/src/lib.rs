//! Realistic synthetic data for Tandem, deterministic from a seed: clients with names in the
//! scripts of Vantaa's largest foreign-language groups and their ESF+ fields, and each
//! client's contact history. `tandem-server seed-demo` and the benchmarks (`benches/`) use
//! the same generator, so the demo and the measurements see the same kind of data.
//!
//! Every value is valid for the field catalogue of `tandem_domain` (a test checks each
//! one through `FieldSpec::parse_json`); enumerations come from the domain's own lists.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value as Json, json};
use tandem_domain::{
    Channel, EducationLevel, EmploymentStatus, Entity, Gender, LawfulBasis, Referral, Topic,
    YesNoDeclined,
};
use uuid::Uuid;

mod report_fixture;
pub use report_fixture::{ExpectedReport, Figure, ReportFixture};

/// A foreign-language group of Vantaa: its ISO 639 code, a rough relative size, and given
/// and family names written in the group's usual script.
#[derive(Debug)]
struct LanguageGroup {
    code: &'static str,
    weight: u32,
    given: &'static [&'static str],
    family: &'static [&'static str],
}

/// Vantaa's largest foreign mother tongues (Statistics Finland, rounded relative sizes; the
/// generator needs a realistic mix, not the exact census).
const LANGUAGE_GROUPS: &[LanguageGroup] = &[
    LanguageGroup {
        code: "ru",
        weight: 20,
        given: &["Ольга", "Дмитрий", "Наталья", "Сергей", "Анна", "Алексей"],
        family: &[
            "Иванова",
            "Смирнов",
            "Кузнецова",
            "Попов",
            "Соколова",
            "Морозов",
        ],
    },
    LanguageGroup {
        code: "et",
        weight: 18,
        given: &["Kadri", "Mart", "Liis", "Tõnu", "Kärt", "Jüri"],
        family: &["Tamm", "Saar", "Sepp", "Kask", "Mägi", "Rebane"],
    },
    LanguageGroup {
        code: "ar",
        weight: 12,
        given: &["فاطمة", "أحمد", "مريم", "يوسف", "خالد", "نور"],
        family: &["الحسن", "العلي", "السعيد", "حداد", "الخطيب", "منصور"],
    },
    LanguageGroup {
        code: "uk",
        weight: 10,
        given: &["Оксана", "Тарас", "Ірина", "Богдан", "Олена", "Андрій"],
        family: &[
            "Шевченко",
            "Коваленко",
            "Бондаренко",
            "Ткаченко",
            "Мельник",
            "Кравчук",
        ],
    },
    LanguageGroup {
        code: "so",
        weight: 9,
        given: &["Hodan", "Abdi", "Faadumo", "Cali", "Sahra", "Maxamed"],
        family: &["Warsame", "Farah", "Maxamed", "Cilmi", "Xasan", "Yuusuf"],
    },
    LanguageGroup {
        code: "sq",
        weight: 7,
        given: &["Arbër", "Drita", "Besnik", "Elira", "Valmira", "Gëzim"],
        family: &["Krasniqi", "Berisha", "Gashi", "Hoxha", "Shala", "Morina"],
    },
    LanguageGroup {
        code: "vi",
        weight: 6,
        given: &["Lan", "Minh", "Hương", "Dũng", "Thảo", "Quang"],
        family: &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"],
    },
    LanguageGroup {
        code: "en",
        weight: 6,
        given: &["Emily", "James", "Grace", "Samuel", "Chloe", "Daniel"],
        family: &["Brown", "Smith", "Okafor", "Mensah", "Taylor", "Wilson"],
    },
    LanguageGroup {
        code: "ku",
        weight: 5,
        given: &["Hêvî", "Rêbaz", "Jiyan", "Azad", "Berfîn", "Dilan"],
        family: &["Ehmed", "Kurdî", "Xelîl", "Şêx", "Botanî", "Zana"],
    },
    LanguageGroup {
        code: "fa",
        weight: 4,
        given: &["زهرا", "علی", "مریم", "رضا", "سارا", "حسین"],
        family: &["احمدی", "محمدی", "حسینی", "رضایی", "کریمی", "موسوی"],
    },
    LanguageGroup {
        code: "tr",
        weight: 4,
        given: &["Ayşe", "Mehmet", "Elif", "Mustafa", "Zeynep", "Emre"],
        family: &["Yılmaz", "Demir", "Şahin", "Çelik", "Kaya", "Öztürk"],
    },
    LanguageGroup {
        code: "zh",
        weight: 4,
        given: &["芳", "伟", "秀英", "强", "静", "磊"],
        family: &["王", "李", "张", "刘", "陈", "杨"],
    },
];

/// The demo's sites: NGO premises in Vantaa where contacts happen.
const SITE_NAMES: &[&str] = &[
    "Myyrmäki library drop-in",
    "Tikkurila NGO house",
    "Hakunila community centre",
    "Martinlaakso family centre",
];

const MUNICIPALITIES: &[&str] = &["Vantaa", "Vantaa", "Vantaa", "Helsinki", "Espoo", "Kerava"];
const TAGS: &[&str] = &["drop-in", "cv", "kela", "housing-queue", "youth", "family"];
const NOTES: &[&str] = &[
    "Looking for work in logistics; has a forklift licence from home.",
    "Wants a Finnish course in the evenings.",
    "Needs help with the Kela housing allowance form.",
    "Interested in practical nurse training.",
    "Brought the residence permit decision; next step the TE office.",
];
const SUMMARIES: &[&str] = &[
    "CV reviewed and updated.",
    "Filled in the Kela application together.",
    "Booked an appointment with the employment services.",
    "Looked for language courses in Vantaa.",
    "Helped to sign in to the online bank and OmaKanta.",
    "Talked about housing options and the waiting list.",
];

/// How many days of history the data spans before `now`.
const HISTORY_DAYS: i64 = 2 * 365;

/// One synthetic record: its entity, id, and field values as the wire carries them (the
/// field names of the catalogue, canonical JSON values).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticRecord {
    /// Client or contact.
    pub entity: Entity,
    /// A UUIDv7 whose time is when the record was made.
    pub id: Uuid,
    /// Field name and value, every value valid for its field.
    pub fields: Vec<(&'static str, Json)>,
}

impl SyntheticRecord {
    /// The fields as the input of `Store::create_record`.
    pub fn input(&self) -> BTreeMap<String, Json> {
        self.fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    /// The value of `field`, if the record has it.
    pub fn get(&self, field: &str) -> Option<&Json> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| value)
    }
}

/// A site (NGO premises) where the generated contacts happen: a contact's `site` is its
/// id. A server registers these before it stores the contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticSite {
    /// A UUIDv7 from the generator's seed, from before the data's history begins.
    pub id: Uuid,
    /// Its name, distinct among the sites.
    pub name: &'static str,
}

/// The generator. The same seed, `now` and coaches give the same sites and the same
/// records in the same order.
#[derive(Debug)]
pub struct SyntheticData {
    rng: StdRng,
    now: DateTime<Utc>,
    coaches: Vec<Uuid>,
    sites: Vec<SyntheticSite>,
    made: u64,
}

impl SyntheticData {
    /// A generator for records made before `now`, whose contacts are logged by `coaches`
    /// (no `coach_id` when the list is empty) at one of a few drop-in sites
    /// ([`SyntheticData::sites`]).
    pub fn new(seed: u64, now: DateTime<Utc>, coaches: Vec<Uuid>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let sites = SITE_NAMES
            .iter()
            .map(|name| SyntheticSite {
                id: uuid_v7_at(&mut rng, now - Duration::days(HISTORY_DAYS + 30)),
                name,
            })
            .collect();
        Self {
            rng,
            now,
            coaches,
            sites,
            made: 0,
        }
    }

    /// The sites the contacts happen at, the same for the same seed and `now`.
    pub fn sites(&self) -> &[SyntheticSite] {
        &self.sites
    }

    /// `clients` clients, each followed by its contacts; `contacts` contacts in all, spread
    /// as evenly as the numbers allow.
    pub fn dataset(&mut self, clients: usize, contacts: usize) -> Vec<SyntheticRecord> {
        let mut records = Vec::with_capacity(clients + contacts);
        for index in 0..clients {
            let client = self.client();
            let count = contacts * (index + 1) / clients - contacts * index / clients;
            let history = self.contacts_of(&client, count);
            records.push(client);
            records.extend(history);
        }
        records
    }

    /// One client with the ESF+ fields a coach records at registration.
    pub fn client(&mut self) -> SyntheticRecord {
        let total: u32 = LANGUAGE_GROUPS.iter().map(|g| g.weight).sum();
        let mut roll = self.rng.random_range(0..total);
        let group = LANGUAGE_GROUPS
            .iter()
            .find(|g| {
                let hit = roll < g.weight;
                roll = roll.saturating_sub(g.weight);
                hit
            })
            .unwrap_or(&LANGUAGE_GROUPS[0]);
        let registered = self.past_moment(HISTORY_DAYS);
        let id = uuid_v7_at(&mut self.rng, registered);
        self.made += 1;
        let today = self.now.date_naive();
        let birth_year = self.rng.random_range(1955..=today.year() - 17);
        let arrived = self
            .rng
            .random_range((birth_year + 1).max(1990)..=today.year());
        let start = registered.date_naive();
        let mut fields = vec![
            ("given_name", json!(self.pick(group.given))),
            ("family_name", json!(self.pick(group.family))),
            ("birth_year", json!(birth_year)),
            ("gender", json!(self.pick(Gender::NAMES))),
            (
                "languages",
                languages(group.code, self.rng.random_bool(0.6)),
            ),
            ("preferred_language", json!(group.code)),
            (
                "interpreter_needed",
                json!(group.code != "en" && self.rng.random_bool(0.4)),
            ),
            // Finnish mobile numbers in E.164; the running count keeps them distinct.
            (
                "phone",
                json!(format!("+35840{:07}", (self.made * 7919) % 10_000_000)),
            ),
            ("municipality", json!(self.pick(MUNICIPALITIES))),
            ("arrived_in_finland", json!(arrived)),
            (
                "employment_status",
                json!(self.pick(EmploymentStatus::NAMES)),
            ),
            ("education_level", json!(self.pick(EducationLevel::NAMES))),
            (
                "third_country_national",
                json!(self.pick(YesNoDeclined::NAMES)),
            ),
            ("foreign_background", json!("yes")),
            ("disability", json!(self.pick(YesNoDeclined::NAMES))),
            ("consent", json!("recorded")),
            ("consent_date", json!(start.to_string())),
            ("lawful_basis", json!(self.pick(LawfulBasis::NAMES))),
            ("participant_start", json!(start.to_string())),
        ];
        // The lawful basis first: special-category fields need it on the server, and a push
        // split into batches must not carry them in a batch before it.
        fields
            .sort_by_key(|(name, _)| !matches!(*name, "consent" | "consent_date" | "lawful_basis"));
        if self.rng.random_bool(0.3) {
            fields.push(("email", json!(format!("client{}@example.org", self.made))));
        }
        if self.rng.random_bool(0.3) {
            fields.push(("notes", json!(self.pick(NOTES))));
        }
        if self.rng.random_bool(0.4) {
            let mut tags = vec![self.pick(TAGS), self.pick(TAGS)];
            tags.sort_unstable();
            tags.dedup();
            fields.push(("tags", json!(tags)));
        }
        SyntheticRecord {
            entity: Entity::Client,
            id,
            fields,
        }
    }

    /// `count` contacts of `client`, in time order between its registration and `now`.
    pub fn contacts_of(&mut self, client: &SyntheticRecord, count: usize) -> Vec<SyntheticRecord> {
        let registered = client
            .get("participant_start")
            .and_then(Json::as_str)
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map_or(self.now - Duration::days(HISTORY_DAYS), |d| {
                d.and_hms_opt(9, 0, 0).unwrap_or_default().and_utc()
            });
        let language = client
            .get("preferred_language")
            .and_then(Json::as_str)
            .unwrap_or("fi")
            .to_owned();
        let interpreter = client.get("interpreter_needed") == Some(&json!(true));
        let span_days = (self.now - registered).num_days().max(1);
        let mut offsets: Vec<i64> = (0..count)
            .map(|_| self.rng.random_range(0..span_days))
            .collect();
        offsets.sort_unstable();
        offsets
            .into_iter()
            .map(|day| {
                let at = (registered
                    + Duration::days(day)
                    + Duration::minutes(self.rng.random_range(0..8 * 60)))
                .min(self.now - Duration::minutes(1));
                self.contact(client.id, at, &language, interpreter)
            })
            .collect()
    }

    /// A realistic later edit of a client: a new status, phone, or note.
    pub fn client_edit(&mut self) -> BTreeMap<String, Json> {
        self.made += 1;
        let (field, value) = match self.rng.random_range(0..3) {
            0 => (
                "employment_status",
                json!(self.pick(EmploymentStatus::NAMES)),
            ),
            1 => (
                "phone",
                json!(format!("+35850{:07}", (self.made * 104_729) % 10_000_000)),
            ),
            _ => (
                "nickname",
                json!(format!(
                    "{} {}",
                    self.pick(&["Ami", "Mo", "Sasha"]),
                    self.made
                )),
            ),
        };
        BTreeMap::from([(field.to_owned(), value)])
    }

    fn contact(
        &mut self,
        client: Uuid,
        at: DateTime<Utc>,
        language: &str,
        interpreter: bool,
    ) -> SyntheticRecord {
        let id = uuid_v7_at(&mut self.rng, at);
        let mut topics = vec![self.pick(Topic::NAMES), self.pick(Topic::NAMES)];
        topics.sort_unstable();
        topics.dedup();
        let mut fields = vec![
            ("client_id", json!(client.to_string())),
            ("occurred_at", json!(at.to_rfc3339())),
            ("site", json!(self.pick_site().to_string())),
            ("channel", json!(self.pick(Channel::NAMES))),
            ("duration_min", json!(self.rng.random_range(5..=90))),
            ("topics", json!(topics)),
            (
                "service_language",
                json!(if interpreter { language } else { "fi" }),
            ),
            ("interpreter_used", json!(interpreter)),
            ("summary", json!(self.pick(SUMMARIES))),
        ];
        if !self.coaches.is_empty() {
            let coach = self.pick(&self.coaches.clone()).to_string();
            fields.push(("coach_id", json!(coach)));
        }
        if self.rng.random_bool(0.4) {
            fields.push(("referrals", json!([self.pick(Referral::NAMES)])));
        }
        if self.rng.random_bool(0.25) {
            let due = (at + Duration::days(self.rng.random_range(3..30))).date_naive();
            fields.push(("follow_up_on", json!(due.to_string())));
            fields.push(("follow_up_done", json!(at + Duration::days(30) < self.now)));
        }
        SyntheticRecord {
            entity: Entity::Contact,
            id,
            fields,
        }
    }

    fn pick_site(&mut self) -> Uuid {
        self.sites[self.rng.random_range(0..self.sites.len())].id
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn past_moment(&mut self, max_days: i64) -> DateTime<Utc> {
        self.now
            - Duration::days(self.rng.random_range(1..=max_days))
            - Duration::minutes(self.rng.random_range(0..24 * 60))
    }
}

fn languages(code: &str, speaks_finnish: bool) -> Json {
    let mut codes = vec![code];
    if speaks_finnish && code != "fi" {
        codes.push("fi");
    }
    if code != "en" && code != "fi" {
        codes.push("en");
    }
    codes.sort_unstable();
    codes.dedup();
    json!(codes)
}

/// A UUIDv7 for `at` whose random bits come from the generator, so runs repeat.
fn uuid_v7_at(rng: &mut StdRng, at: DateTime<Utc>) -> Uuid {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_domain::{ValidationContext, field_spec};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_764_000_000_000).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_records_and_another_seed_other_ones() {
        let coach = Uuid::from_u128(7);
        let a = SyntheticData::new(1, now(), vec![coach]).dataset(20, 50);
        let b = SyntheticData::new(1, now(), vec![coach]).dataset(20, 50);
        let c = SyntheticData::new(2, now(), vec![coach]).dataset(20, 50);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_dataset_has_the_asked_numbers_and_every_contact_follows_its_client() {
        let records = SyntheticData::new(3, now(), Vec::new()).dataset(7, 30);
        let clients: Vec<_> = records
            .iter()
            .filter(|r| r.entity == Entity::Client)
            .collect();
        assert_eq!(clients.len(), 7);
        assert_eq!(records.len(), 37);
        let mut current = None;
        for record in &records {
            match record.entity {
                Entity::Client => current = Some(record.id.to_string()),
                Entity::Contact => {
                    assert_eq!(record.get("client_id"), Some(&json!(current.clone())));
                }
            }
        }
    }

    #[test]
    fn a_clients_lawful_basis_comes_before_its_special_category_fields() {
        // Pushed in batches in this order, a batch must never carry special-category data
        // before the basis that allows it.
        for record in SyntheticData::new(5, now(), Vec::new()).dataset(40, 0) {
            let position = |name| record.fields.iter().position(|(field, _)| *field == name);
            let basis = position("lawful_basis").expect("a lawful basis");
            for gated in ["third_country_national", "foreign_background", "disability"] {
                assert!(
                    position(gated).is_none_or(|at| at > basis),
                    "{gated} before the basis"
                );
            }
        }
    }

    #[test]
    fn every_generated_value_passes_the_field_catalogue_and_ids_are_unique() {
        let ctx = ValidationContext::new(now().date_naive());
        let mut generator = SyntheticData::new(4, now(), vec![Uuid::from_u128(9)]);
        let records = generator.dataset(400, 1200);
        let mut ids = std::collections::BTreeSet::new();
        for record in &records {
            assert!(ids.insert(record.id), "duplicate id {}", record.id);
            for (name, value) in &record.fields {
                let spec = field_spec(record.entity, name).unwrap();
                spec.parse_json(value, ctx)
                    .unwrap_or_else(|e| panic!("{name} = {value}: {e}"));
            }
        }
        for _ in 0..50 {
            for (name, value) in generator.client_edit() {
                field_spec(Entity::Client, &name)
                    .unwrap()
                    .parse_json(&value, ctx)
                    .unwrap();
            }
        }
    }

    #[test]
    fn contacts_happen_only_at_the_named_sites_which_the_seed_fixes() {
        let generator = SyntheticData::new(6, now(), Vec::new());
        let sites = generator.sites().to_vec();
        assert_eq!(sites.len(), SITE_NAMES.len());
        assert_eq!(sites, SyntheticData::new(6, now(), Vec::new()).sites());
        assert_ne!(sites, SyntheticData::new(7, now(), Vec::new()).sites());
        let names: std::collections::BTreeSet<_> = sites.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), sites.len(), "distinct names");
        let ids: std::collections::BTreeSet<String> =
            sites.iter().map(|s| s.id.to_string()).collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut generator = generator;
        for record in generator.dataset(50, 200) {
            if record.entity == Entity::Contact {
                let site = record
                    .get("site")
                    .and_then(Json::as_str)
                    .unwrap()
                    .to_owned();
                assert!(ids.contains(&site), "{site} is not a named site");
                seen.insert(site);
            }
        }
        assert_eq!(seen, ids, "every site has contacts");
    }

    #[test]
    fn names_come_in_several_scripts() {
        let records = SyntheticData::new(5, now(), Vec::new()).dataset(300, 0);
        let given: String = records
            .iter()
            .filter_map(|r| r.get("given_name").and_then(Json::as_str))
            .collect();
        let has = |range: std::ops::RangeInclusive<char>| given.chars().any(|c| range.contains(&c));
        assert!(has('\u{0400}'..='\u{04FF}'), "Cyrillic");
        assert!(has('\u{0600}'..='\u{06FF}'), "Arabic");
        assert!(has('\u{4E00}'..='\u{9FFF}'), "Han");
        assert!(has('A'..='z'), "Latin");
    }
}
