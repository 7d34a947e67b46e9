//! `seed-demo`: a demo team with three users, the demo's sites, and a few hundred synthetic
//! clients and contacts from `tandem_synth` (names in the scripts of Vantaa's largest
//! foreign-language groups, ESF+ fields, contact histories at those sites), written as
//! ordinary pushes so that they reach devices by pull like real data.

use chrono::{DateTime, Utc};
use tandem_domain::ValidationContext;
use tandem_protocol::{ChangeIn, ChangeStatus, Role};
use tandem_synth::{SyntheticData, SyntheticRecord};
use uuid::{NoContext, Timestamp, Uuid};

use crate::ServerError;
use crate::auth::{PasswordHashing, new_device_token, token_hash};
use crate::push::prepare_change;
use crate::store::{NewDevice, PushContext, ServerStore};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password";
/// The demo team.
pub const DEMO_TEAM: &str = "demo";
/// The seed of the demo data: every `seed-demo` makes the same people.
const DEMO_SEED: u64 = 2026;
/// Contacts per demo client, on average.
const DEMO_CONTACTS_PER_CLIENT: usize = 2;

/// What `seed-demo` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// Sites added (organisation-wide, as `admin site add` adds them).
    pub sites: usize,
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

/// Creates the demo team, the synthetic data's sites (see `tandem_synth`), users `coach1`,
/// `coach2`, `lead1` (password [`DEMO_PASSWORD`]) and `clients` synthetic clients with
/// about two contacts each, whose `site` is one of those sites. The team comes first, so
/// that seeding a database seeded already fails at once, with [`ServerError::TeamExists`].
pub async fn seed_demo(
    store: &dyn ServerStore,
    hashing: &PasswordHashing,
    now: DateTime<Utc>,
    clients: usize,
) -> Result<SeedSummary, ServerError> {
    let team = store.add_team(v7(now), DEMO_TEAM, now).await?;
    // The generator's sites depend on the seed and `now` only, not on the coaches.
    let sites = SyntheticData::new(DEMO_SEED, now, Vec::new())
        .sites()
        .to_vec();
    for site in &sites {
        store.add_site(site.id, site.name, now).await?;
    }
    let hash = hashing.hash(DEMO_PASSWORD)?;
    let teams = [DEMO_TEAM.to_owned()];
    let coach1 = store
        .add_user(v7(now), "coach1", &hash, Role::Coach, &teams, now)
        .await?;
    let coach2 = store
        .add_user(v7(now), "coach2", &hash, Role::Coach, &teams, now)
        .await?;
    store
        .add_user(v7(now), "lead1", &hash, Role::TeamLead, &teams, now)
        .await?;
    let contacts = clients * DEMO_CONTACTS_PER_CLIENT;
    let mut generator = SyntheticData::new(DEMO_SEED, now, vec![coach1.id, coach2.id]);
    debug_assert_eq!(generator.sites(), sites.as_slice());
    let records = generator.dataset(clients, contacts);
    let changes = push_records(store, team.id, coach1.id, &records, now).await?;
    Ok(SeedSummary {
        sites: sites.len(),
        clients,
        contacts,
        changes,
    })
}

/// Writes `records` into `team` as ordinary pushes by `author` from a seeding device, so
/// that they reach laptops by pull like real data; the device is revoked afterwards. Returns
/// the number of changes. Used by `seed-demo` and by the benchmarks.
pub async fn push_records(
    store: &dyn ServerStore,
    team_id: Uuid,
    author_id: Uuid,
    records: &[SyntheticRecord],
    now: DateTime<Utc>,
) -> Result<usize, ServerError> {
    let device_id = v7(now);
    store
        .add_device(
            NewDevice {
                id: device_id,
                user_id: author_id,
                team_id: Some(team_id),
                name: "seed".into(),
                token_hash: token_hash(&new_device_token()),
            },
            now,
        )
        .await?;
    let total: usize = records.iter().map(|r| r.fields.len()).sum();
    // One millisecond per change, ending now: the HLCs are distinct and in order.
    let mut clock_ms = now.timestamp_millis() - i64::try_from(total).unwrap_or(0) - 1;
    let changes: Vec<ChangeIn> = records
        .iter()
        .flat_map(|record| {
            record
                .fields
                .iter()
                .map(move |(field, value)| (record, field, value))
        })
        .map(|(record, field, value)| {
            clock_ms += 1;
            let at = DateTime::<Utc>::from_timestamp_millis(clock_ms).unwrap_or(now);
            ChangeIn {
                change_id: v7(at),
                entity: record.entity.as_str().into(),
                record_id: record.id,
                field: (*field).into(),
                value: value.clone(),
                base_version: 0,
                hlc: format!("{clock_ms:013}-00000-{device_id}"),
                author_id,
            }
        })
        .collect();

    let ctx = ValidationContext::new(now.date_naive());
    for batch in changes.chunks(500) {
        let prepared = batch
            .iter()
            .map(|c| prepare_change(c, author_id, ctx, now.timestamp_millis()))
            .collect();
        let results = store
            .push(
                PushContext {
                    device_id,
                    team_id,
                    schema_version: tandem_protocol::SCHEMA_VERSION,
                    app_version: concat!("seed ", env!("CARGO_PKG_VERSION")).into(),
                    pending_count: 0,
                    now,
                },
                prepared,
            )
            .await?;
        if let Some(bad) = results.iter().find(|r| r.status == ChangeStatus::Rejected) {
            return Err(ServerError::CorruptData(format!(
                "a seeded change was rejected: {}",
                bad.reason.as_deref().unwrap_or("no reason")
            )));
        }
    }
    // The seeding device has no usable token; revoked, it cannot pass for a laptop.
    store.revoke_device(device_id).await?;
    Ok(changes.len())
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
        assert_eq!(summary.contacts, 40);
        let team = store.team_by_name(DEMO_TEAM).await.unwrap().unwrap();
        let (pulled, _, _) = store.pull(team.id, 0, 10_000).await.unwrap();
        assert_eq!(pulled.len(), summary.changes);

        // Named, active sites, and contacts at those sites only (each of them used).
        let sites = store.list_sites().await.unwrap();
        assert_eq!(summary.sites, 4);
        let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Hakunila community centre",
                "Martinlaakso family centre",
                "Myyrmäki library drop-in",
                "Tikkurila NGO house"
            ]
        );
        assert!(sites.iter().all(|s| !s.archived));
        let site_ids: std::collections::BTreeSet<String> =
            sites.iter().map(|s| s.id.to_string()).collect();
        let named: std::collections::BTreeSet<String> = pulled
            .iter()
            .filter(|c| c.field == "site")
            .map(|c| c.value.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(named, site_ids, "contacts name exactly the demo's sites");

        // Their coaches are members of the demo team: a push naming anyone else is refused.
        let members: std::collections::BTreeSet<String> = store
            .team_users(team.id)
            .await
            .unwrap()
            .iter()
            .map(|user| user.id.to_string())
            .collect();
        let coaches: std::collections::BTreeSet<String> = pulled
            .iter()
            .filter(|c| c.field == "coach_id")
            .map(|c| c.value.as_str().unwrap().to_owned())
            .collect();
        assert!(
            !coaches.is_empty() && coaches.is_subset(&members),
            "{coaches:?} are not all among {members:?}"
        );
    }

    #[tokio::test]
    async fn seeding_a_seeded_database_again_fails_on_the_demo_team_and_adds_nothing() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now = DateTime::<Utc>::from_timestamp_millis(1_764_000_000_000).unwrap();
        let hashing = PasswordHashing::fast_insecure_for_tests();
        seed_demo(&store, &hashing, now, 3).await.unwrap();
        let later = now + chrono::Duration::hours(1);
        let again = seed_demo(&store, &hashing, later, 3).await;
        assert!(
            matches!(&again, Err(ServerError::TeamExists(team)) if team == DEMO_TEAM),
            "{again:?}"
        );
        assert_eq!(store.list_sites().await.unwrap().len(), 4);
    }
}
