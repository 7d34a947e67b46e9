//! `seed-demo`: a demo team with three users and a few hundred synthetic clients and
//! contacts, written as ordinary pushes so that they reach devices by pull like real data.
//! The language mix follows Vantaa's ten largest foreign languages (approximate shares).

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tandem_domain::ValidationContext;
use tandem_protocol::{ChangeIn, ChangeStatus, Role};
use uuid::{NoContext, Timestamp, Uuid};

use crate::ServerError;
use crate::auth::{PasswordHashing, new_device_token, token_hash};
use crate::push::prepare_change;
use crate::store::{NewDevice, PushContext, ServerStore};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password";
/// The demo team.
pub const DEMO_TEAM: &str = "demo";

/// Language code, relative weight, and (given names, family names) in the language's script.
const LANGUAGES: &[(&str, u32, &[&str], &[&str])] = &[
    (
        "et",
        20,
        &["Kadri", "Mart", "Liis", "Tõnu"],
        &["Tamm", "Saar", "Sepp", "Kask"],
    ),
    (
        "ru",
        20,
        &["Ольга", "Дмитрий", "Наталья", "Сергей"],
        &["Иванова", "Смирнов", "Кузнецова", "Попов"],
    ),
    (
        "ar",
        13,
        &["فاطمة", "أحمد", "مريم", "يوسف"],
        &["الحسن", "العلي", "السعيد", "حداد"],
    ),
    (
        "so",
        10,
        &["Hodan", "Abdi", "Faadumo", "Cali"],
        &["Warsame", "Farah", "Maxamed", "Cilmi"],
    ),
    (
        "sq",
        8,
        &["Arbër", "Drita", "Besnik", "Elira"],
        &["Krasniqi", "Berisha", "Gashi", "Hoxha"],
    ),
    (
        "vi",
        7,
        &["Lan", "Minh", "Hương", "Dũng"],
        &["Nguyễn", "Trần", "Lê", "Phạm"],
    ),
    (
        "en",
        6,
        &["Emily", "James", "Grace", "Samuel"],
        &["Brown", "Smith", "Okafor", "Mensah"],
    ),
    (
        "ku",
        6,
        &["Hêvî", "Rêbaz", "Jiyan", "Azad"],
        &["Ehmed", "Kurdî", "Xelîl", "Şêx"],
    ),
    (
        "tr",
        5,
        &["Ayşe", "Mehmet", "Elif", "Mustafa"],
        &["Yılmaz", "Demir", "Şahin", "Çelik"],
    ),
    (
        "zh",
        5,
        &["芳", "伟", "秀英", "强"],
        &["王", "李", "张", "刘"],
    ),
];

const EMPLOYMENT: &[&str] = &[
    "employed",
    "unemployed",
    "long_term_unemployed",
    "inactive",
    "student",
];
const CHANNELS: &[&str] = &["drop_in", "appointment", "phone", "outreach", "group"];
const TOPICS: &[&str] = &[
    "employment",
    "education",
    "language_learning",
    "housing",
    "social_benefits",
    "digital_services",
];

/// What `seed-demo` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// Clients written.
    pub clients: usize,
    /// Contacts written.
    pub contacts: usize,
    /// Changes pushed.
    pub changes: usize,
}

fn v7(at: DateTime<Utc>) -> Uuid {
    // Distinct ids within one millisecond come from the random bits NoContext leaves.
    Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        u64::try_from(at.timestamp()).unwrap_or(0),
        at.timestamp_subsec_nanos(),
    ))
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Creates the demo team, users `coach1`, `coach2`, `lead1` (password
/// [`DEMO_PASSWORD`]) and `clients` synthetic clients with about two contacts each.
pub async fn seed_demo(
    store: &dyn ServerStore,
    hashing: &PasswordHashing,
    now: DateTime<Utc>,
    clients: usize,
) -> Result<SeedSummary, ServerError> {
    let mut rng = StdRng::seed_from_u64(2026);
    let team = store.add_team(v7(now), DEMO_TEAM, now).await?;
    let hash = hashing.hash(DEMO_PASSWORD)?;
    let teams = [DEMO_TEAM.to_owned()];
    let coach1 = store
        .add_user(v7(now), "coach1", &hash, Role::Coach, &teams, now)
        .await?;
    store
        .add_user(v7(now), "coach2", &hash, Role::Coach, &teams, now)
        .await?;
    store
        .add_user(v7(now), "lead1", &hash, Role::TeamLead, &teams, now)
        .await?;
    let device_id = v7(now);
    store
        .add_device(
            NewDevice {
                id: device_id,
                user_id: coach1.id,
                team_id: Some(team.id),
                name: "seed-demo".into(),
                token_hash: token_hash(&new_device_token()),
            },
            now,
        )
        .await?;

    let total_weight: u32 = LANGUAGES.iter().map(|l| l.1).sum();
    let mut changes = Vec::new();
    let mut clock_ms = now.timestamp_millis() - 90 * 24 * 3600 * 1000;
    let mut write =
        |changes: &mut Vec<ChangeIn>, entity: &str, record: Uuid, field: &str, value: Value| {
            clock_ms += 1;
            let at = DateTime::<Utc>::from_timestamp_millis(clock_ms).unwrap_or(now);
            changes.push(ChangeIn {
                change_id: v7(at),
                entity: entity.into(),
                record_id: record,
                field: field.into(),
                value,
                base_version: 0,
                hlc: format!("{clock_ms:013}-00000-{device_id}"),
                author_id: coach1.id,
            });
        };
    let mut contacts = 0;
    for _ in 0..clients {
        let mut roll = rng.random_range(0..total_weight);
        let (code, _, given, family) = LANGUAGES
            .iter()
            .find(|l| {
                if roll < l.1 {
                    true
                } else {
                    roll -= l.1;
                    false
                }
            })
            .unwrap_or(&LANGUAGES[0]);
        let client = v7(now);
        let interpreter = *code != "en" && rng.random_bool(0.4);
        let languages = if *code == "en" {
            json!(["en"])
        } else {
            json!(
                [code, "fi"]
                    .iter()
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>()
            )
        };
        let given_name = *pick(&mut rng, given);
        let family_name = *pick(&mut rng, family);
        let birth_year = rng.random_range(1960..2006);
        let employment = *pick(&mut rng, EMPLOYMENT);
        let gender = *pick(&mut rng, &["female", "male", "undisclosed"]);
        for (field, value) in [
            ("given_name", json!(given_name)),
            ("family_name", json!(family_name)),
            ("birth_year", json!(birth_year)),
            ("gender", json!(gender)),
            ("languages", languages),
            ("preferred_language", json!(code)),
            ("interpreter_needed", json!(interpreter)),
            ("municipality", json!("Vantaa")),
            ("employment_status", json!(employment)),
        ] {
            write(&mut changes, "client", client, field, value);
        }
        for _ in 0..rng.random_range(1..=3) {
            contacts += 1;
            let contact = v7(now);
            let occurred = now
                - Duration::days(rng.random_range(1..90))
                - Duration::minutes(rng.random_range(0..600));
            let mut topics: Vec<&str> = (0..rng.random_range(1..3))
                .map(|_| *pick(&mut rng, TOPICS))
                .collect();
            topics.sort_unstable();
            topics.dedup();
            for (field, value) in [
                ("client_id", json!(client.to_string())),
                ("occurred_at", json!(occurred.to_rfc3339())),
                ("channel", json!(pick(&mut rng, CHANNELS))),
                ("duration_min", json!(rng.random_range(10..90))),
                ("topics", json!(topics)),
                (
                    "service_language",
                    json!(if interpreter { *code } else { "fi" }),
                ),
                ("interpreter_used", json!(interpreter)),
                ("coach_id", json!(coach1.id.to_string())),
            ] {
                write(&mut changes, "contact", contact, field, value);
            }
        }
    }

    let ctx = ValidationContext::new(now.date_naive());
    let total = changes.len();
    for batch in changes.chunks(500) {
        let prepared = batch
            .iter()
            .map(|c| prepare_change(c, coach1.id, ctx))
            .collect();
        let results = store
            .push(
                PushContext {
                    device_id,
                    team_id: team.id,
                    schema_version: tandem_protocol::SCHEMA_VERSION,
                    app_version: concat!("seed-demo ", env!("CARGO_PKG_VERSION")).into(),
                    pending_count: 0,
                    now,
                },
                prepared,
            )
            .await?;
        if let Some(bad) = results.iter().find(|r| r.status == ChangeStatus::Rejected) {
            return Err(ServerError::CorruptData(format!(
                "a demo change was rejected: {}",
                bad.reason.as_deref().unwrap_or("no reason")
            )));
        }
    }
    // The seeding device has no usable token; revoked, it cannot pass for a laptop.
    store.revoke_device(device_id).await?;
    Ok(SeedSummary {
        clients,
        contacts,
        changes: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn the_demo_seed_passes_the_domain_rules_and_is_pulled_like_any_change() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now = DateTime::<Utc>::from_timestamp_millis(1_764_000_000_000).unwrap();
        let summary = seed_demo(&store, &PasswordHashing::fast_insecure_for_tests(), now, 20)
            .await
            .unwrap();
        assert_eq!(summary.clients, 20);
        let team = store.team_by_name(DEMO_TEAM).await.unwrap().unwrap();
        let (pulled, _) = store.pull(team.id, 0, 1000).await.unwrap();
        assert_eq!(pulled.len(), summary.changes);
    }
}
