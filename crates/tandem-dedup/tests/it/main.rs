//! Precision and recall of duplicate detection on the committed fixture
//! (`tests/fixtures/duplicates.json`): planted duplicates written in other scripts, with and
//! without diacritics, with swapped names and shared phones, and distinct look-alikes
//! (same name and another birth year, Ali/Alia, siblings of one family and birth year).

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;
use tandem_dedup::{ClientKey, find_candidates};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct Fixture {
    clients: Vec<FixtureClient>,
    duplicates: Vec<Pair>,
    look_alikes: Vec<Pair>,
}

#[derive(Debug, Deserialize)]
struct FixtureClient {
    id: String,
    given_name: String,
    family_name: Option<String>,
    birth_year: Option<i32>,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Pair {
    first: String,
    second: String,
    kind: String,
}

fn fixture() -> (Fixture, HashMap<String, Uuid>, Vec<ClientKey>) {
    let text = include_str!("../fixtures/duplicates.json");
    let fixture: Fixture = serde_json::from_str(text).expect("the fixture is valid JSON");
    let ids: HashMap<String, Uuid> = fixture
        .clients
        .iter()
        .enumerate()
        .map(|(n, c)| (c.id.clone(), Uuid::from_u128(n as u128 + 1)))
        .collect();
    let keys = fixture
        .clients
        .iter()
        .map(|c| ClientKey {
            id: ids[&c.id],
            given_name: c.given_name.clone(),
            family_name: c.family_name.clone(),
            birth_year: c.birth_year,
            phone: c.phone.clone(),
        })
        .collect();
    (fixture, ids, keys)
}

fn pair(ids: &HashMap<String, Uuid>, pair: &Pair) -> (Uuid, Uuid) {
    let (a, b) = (ids[&pair.first], ids[&pair.second]);
    (a.min(b), a.max(b))
}

#[test]
fn detection_finds_every_planted_duplicate_and_no_look_alike() {
    let (fixture, ids, keys) = fixture();
    assert!(fixture.clients.len() >= 60, "the fixture is big enough");
    let labels: HashMap<Uuid, &str> = ids.iter().map(|(l, id)| (*id, l.as_str())).collect();
    let flagged: BTreeSet<(Uuid, Uuid)> = find_candidates(&keys)
        .iter()
        .map(|c| (c.first, c.second))
        .collect();
    let planted: BTreeSet<(Uuid, Uuid)> =
        fixture.duplicates.iter().map(|p| pair(&ids, p)).collect();

    let missed: Vec<&Pair> = fixture
        .duplicates
        .iter()
        .filter(|p| !flagged.contains(&pair(&ids, p)))
        .collect();
    let wrongly_flagged_look_alikes: Vec<&Pair> = fixture
        .look_alikes
        .iter()
        .filter(|p| flagged.contains(&pair(&ids, p)))
        .collect();
    let false_positives: Vec<(&str, &str)> = flagged
        .difference(&planted)
        .map(|(a, b)| (labels[a], labels[b]))
        .collect();

    let true_positives = flagged.intersection(&planted).count();
    let recall = true_positives as f64 / planted.len() as f64;
    let precision = true_positives as f64 / flagged.len().max(1) as f64;
    println!(
        "duplicates: {} clients, {} planted pairs, {} look-alike pairs; flagged {}, \
         true positives {true_positives}, precision {precision:.3}, recall {recall:.3}",
        fixture.clients.len(),
        planted.len(),
        fixture.look_alikes.len(),
        flagged.len()
    );

    assert!(missed.is_empty(), "missed planted duplicates: {missed:#?}");
    assert!(
        wrongly_flagged_look_alikes.is_empty(),
        "flagged look-alikes: {wrongly_flagged_look_alikes:#?}"
    );
    assert!(
        false_positives.is_empty(),
        "flagged pairs that are not planted: {false_positives:?}"
    );
    assert_eq!(recall, 1.0);
    assert_eq!(precision, 1.0);
}

#[test]
fn every_look_alike_differs_from_its_twin_in_the_fixture() {
    // A look-alike that matched by its fixture data alone (same names, same year) would make
    // the test above meaningless: check the fixture's look-alikes really differ.
    let (fixture, _, _) = fixture();
    let by_id: HashMap<&str, &FixtureClient> =
        fixture.clients.iter().map(|c| (c.id.as_str(), c)).collect();
    for look in &fixture.look_alikes {
        let (a, b) = (by_id[look.first.as_str()], by_id[look.second.as_str()]);
        let facts = |c: &FixtureClient| (c.given_name.clone(), c.family_name.clone(), c.birth_year);
        assert_ne!(facts(a), facts(b), "{}", look.kind);
        assert!(a.phone.is_none() || a.phone != b.phone, "{}", look.kind);
    }
}
