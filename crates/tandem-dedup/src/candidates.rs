//! The candidate rule: two clients of a team are proposed as one person when they have the
//! same phone number, or the same birth year and names that match ([`names_match`]: each
//! part matches the other's, in either order, so swapped given and family names match too).
//! Each candidate carries its reasons and a score, the Jaro-Winkler similarity of the folded
//! full names (1.0: the same name in every spelling), for ordering the review list.

use std::collections::{BTreeMap, HashMap};

use tandem_domain::PhoneNumber;
use uuid::Uuid;

use crate::normalise::PartKey;

/// What the matching needs to know about one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    /// The client's record id.
    pub id: Uuid,
    /// Given name(s) as written.
    pub given_name: String,
    /// Family name as written, if any.
    pub family_name: Option<String>,
    /// Birth year, if known.
    pub birth_year: Option<i32>,
    /// Phone number as stored; compared in E.164.
    pub phone: Option<String>,
}

/// Why a pair is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchReason {
    /// Both have the same phone number.
    SamePhone,
    /// Both were born the same year and their names match across spelling and script.
    SameBirthYearAndName,
}

/// A pair of clients that may be one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The client registered first (the smaller UUIDv7).
    pub first: Uuid,
    /// The other client.
    pub second: Uuid,
    /// Why they are proposed (at least one).
    pub reasons: Vec<MatchReason>,
    /// How alike the names are, 0 to 1 (Jaro-Winkler of the folded full names).
    pub score: f64,
}

/// A client's name as keys.
#[derive(Debug, Clone)]
struct NameKeys {
    given: Option<PartKey>,
    family: Option<PartKey>,
    /// Given and family names as one part, both orders: for a name written whole into one
    /// field.
    whole: Option<PartKey>,
    whole_swapped: Option<PartKey>,
}

impl NameKeys {
    fn new(given: &str, family: Option<&str>) -> Self {
        let family_text = family.unwrap_or("");
        Self {
            given: PartKey::new(given),
            family: family.and_then(PartKey::new),
            whole: PartKey::new(&format!("{given} {family_text}")),
            whole_swapped: PartKey::new(&format!("{family_text} {given}")),
        }
    }
}

fn both<'a>(a: &'a Option<PartKey>, b: &'a Option<PartKey>) -> Option<(&'a PartKey, &'a PartKey)> {
    Some((a.as_ref()?, b.as_ref()?))
}

fn keys_match(a: &NameKeys, b: &NameKeys) -> bool {
    let parts =
        |x: &Option<PartKey>, y: &Option<PartKey>| both(x, y).is_some_and(|(x, y)| x.matches(y));
    match (&a.family, &b.family) {
        (Some(_), Some(_)) => {
            (parts(&a.given, &b.given) && parts(&a.family, &b.family))
                || (parts(&a.given, &b.family) && parts(&a.family, &b.given))
        }
        (None, None) => parts(&a.given, &b.given),
        // One wrote the whole name into the given name: compare whole names, exactly.
        (None, Some(_)) | (Some(_), None) => {
            let whole = |x: &Option<PartKey>, y: &Option<PartKey>| {
                both(x, y).is_some_and(|(x, y)| x.key() == y.key())
            };
            whole(&a.whole, &b.whole) || whole(&a.whole, &b.whole_swapped)
        }
    }
}

fn keys_score(a: &NameKeys, b: &NameKeys) -> f64 {
    let score = |x: &Option<PartKey>, y: &Option<PartKey>| {
        both(x, y).map_or(0.0, |(x, y)| strsim::jaro_winkler(x.key(), y.key()))
    };
    let best = score(&a.whole, &b.whole).max(score(&a.whole, &b.whole_swapped));
    (best * 100.0).round() / 100.0
}

/// Whether two names (given, family) name the same person across spelling, script and the
/// order of given and family name.
pub fn names_match(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> bool {
    keys_match(&NameKeys::new(a.0, a.1), &NameKeys::new(b.0, b.1))
}

/// How alike two names are, 0 to 1, in the better of both orders.
pub fn name_score(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> f64 {
    keys_score(&NameKeys::new(a.0, a.1), &NameKeys::new(b.0, b.1))
}

/// A phone number in E.164 (`040 123 4567` and `+358401234567` are one number), or nothing
/// when it is not a valid number.
fn normalised_phone(phone: &str) -> Option<String> {
    PhoneNumber::parse(phone)
        .ok()
        .map(|p| p.as_str().to_owned())
}

/// Every pair of `clients` that may be one person, best score first. Clients are compared
/// only within a group of the same phone or the same birth year, so a team's list of a few
/// thousand clients is cheap.
pub fn find_candidates(clients: &[ClientKey]) -> Vec<Candidate> {
    let names: Vec<NameKeys> = clients
        .iter()
        .map(|c| NameKeys::new(&c.given_name, c.family_name.as_deref()))
        .collect();
    let mut found: BTreeMap<(usize, usize), Vec<MatchReason>> = BTreeMap::new();
    let mut by_phone: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_year: HashMap<i32, Vec<usize>> = HashMap::new();
    for (index, client) in clients.iter().enumerate() {
        if let Some(digits) = client.phone.as_deref().and_then(normalised_phone) {
            by_phone.entry(digits).or_default().push(index);
        }
        if let Some(year) = client.birth_year {
            by_year.entry(year).or_default().push(index);
        }
    }
    let pairs = |group: &[usize]| -> Vec<(usize, usize)> {
        group
            .iter()
            .enumerate()
            .flat_map(|(n, &i)| group[n + 1..].iter().map(move |&j| (i, j)))
            .collect()
    };
    for group in by_phone.values() {
        for pair in pairs(group) {
            found.entry(pair).or_default().push(MatchReason::SamePhone);
        }
    }
    for group in by_year.values() {
        for (i, j) in pairs(group) {
            if keys_match(&names[i], &names[j]) {
                found
                    .entry((i, j))
                    .or_default()
                    .push(MatchReason::SameBirthYearAndName);
            }
        }
    }
    let mut candidates: Vec<Candidate> = found
        .into_iter()
        .filter(|((i, j), _)| clients[*i].id != clients[*j].id)
        .map(|((i, j), mut reasons)| {
            reasons.sort();
            let (first, second) = if clients[i].id < clients[j].id {
                (i, j)
            } else {
                (j, i)
            };
            Candidate {
                first: clients[first].id,
                second: clients[second].id,
                reasons,
                score: keys_score(&names[first], &names[second]),
            }
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.first.cmp(&b.first))
            .then(a.second.cmp(&b.second))
    });
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(
        n: u128,
        given: &str,
        family: Option<&str>,
        year: Option<i32>,
        phone: Option<&str>,
    ) -> ClientKey {
        ClientKey {
            id: Uuid::from_u128(n),
            given_name: given.into(),
            family_name: family.map(Into::into),
            birth_year: year,
            phone: phone.map(Into::into),
        }
    }

    #[test]
    fn swapped_given_and_family_names_match() {
        assert!(names_match(
            ("Ivanova", Some("Olga")),
            ("Olha", Some("Ivanova"))
        ));
        assert!(names_match(
            ("Amina", Some("Yusuf")),
            ("Yusuf", Some("Amina"))
        ));
        assert!(!names_match(
            ("Amina", Some("Yusuf")),
            ("Amina", Some("Hassan"))
        ));
    }

    #[test]
    fn a_name_written_whole_into_one_field_matches_exactly_only() {
        assert!(names_match(("Ivan Petrov", None), ("Ivan", Some("Petrov"))));
        assert!(names_match(("Petrov Ivan", None), ("Иван", Some("Петров"))));
        assert!(!names_match(("Ivan", None), ("Ivan", Some("Petrov"))));
    }

    #[test]
    fn same_phone_is_a_candidate_whatever_the_names() {
        let clients = [
            client(1, "Amina", Some("Yusuf"), Some(1990), Some("+358401234567")),
            client(
                2,
                "Sahra",
                Some("Ali"),
                Some(1970),
                Some("+358 40 123 4567"),
            ),
        ];
        let found = find_candidates(&clients);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].reasons, vec![MatchReason::SamePhone]);
        assert!(found[0].score < 0.8, "{}", found[0].score);
    }

    #[test]
    fn same_birth_year_and_matching_names_is_a_candidate_with_both_reasons_when_the_phone_agrees() {
        let clients = [
            client(
                2,
                "Мухаммад",
                Some("Хасан"),
                Some(1985),
                Some("+358501112223"),
            ),
            client(
                1,
                "Mohammed",
                Some("Hassan"),
                Some(1985),
                Some("+358501112223"),
            ),
            client(3, "Mohammed", Some("Hassan"), Some(1986), None),
        ];
        let found = find_candidates(&clients);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].first, Uuid::from_u128(1));
        assert_eq!(found[0].second, Uuid::from_u128(2));
        assert_eq!(
            found[0].reasons,
            vec![MatchReason::SamePhone, MatchReason::SameBirthYearAndName]
        );
        assert_eq!(found[0].score, 1.0);
    }

    #[test]
    fn no_birth_year_and_no_phone_is_never_a_candidate() {
        let clients = [
            client(1, "Olga", Some("Ivanova"), None, None),
            client(2, "Olga", Some("Ivanova"), None, None),
        ];
        assert!(find_candidates(&clients).is_empty());
    }

    #[test]
    fn candidates_are_ordered_by_score() {
        let clients = [
            client(1, "Olga", Some("Ivanova"), Some(1970), None),
            client(2, "Olha", Some("Ivanova"), Some(1970), None),
            client(3, "Amina", Some("Yusuf"), None, Some("+358401234567")),
            client(4, "Sahra", Some("Ali"), None, Some("+358401234567")),
        ];
        let found = find_candidates(&clients);
        assert_eq!(found.len(), 2);
        assert!(found[0].score >= found[1].score);
        assert_eq!(found[0].first, Uuid::from_u128(1));
    }
}
