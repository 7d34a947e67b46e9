//! Retention: clients whose last contact is older than the retention period (default five
//! years; a contact counts from its `occurred_at`, or, dated in the future, from when the
//! server stored that date; a client without contacts counts from its last change) are
//! purged through the erasure path, so devices remove them at their next pull, and the audit
//! log records one `purge` entry per team with the count and the record ids.
//!
//! A duplicate merged into another client is that client's: the same person. Retention
//! judges the client at the end of the chain of merges (one not merged into another) on the
//! activity of it and every client merged into it, and a duplicate is purged only with it
//! (the erasure follows `merged_into`). Judged on its own, a duplicate, whose last write is
//! the merge, was purged while the person was still met, with the merge that could undo it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Months, Utc};
use tandem_protocol::PulledPurge;
use uuid::Uuid;

use crate::ServerError;
use crate::audit::AuditActor;
use crate::clock::from_ms;
use crate::store::{ErasureReason, ErasureRequest, RetentionFacts, ServerStore};

/// The retention period DESIGN.md names.
pub const DEFAULT_RETENTION_YEARS: u32 = 5;

/// How long client data is kept after the last contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Whole years (at least 1).
    pub years: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            years: DEFAULT_RETENTION_YEARS,
        }
    }
}

impl RetentionPolicy {
    /// Clients last active before this moment are purged.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_months(Months::new(self.years.saturating_mul(12)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// When a person was last active at `now`, given the facts of the client and of every client
/// merged into it (`person`): their latest contact, or, when none of them has a contact, the
/// latest change of any of them. A contact counts from its `occurred_at`; one dated after
/// `now` (a year typed wrong, 2095 for 2025, stored before the app refused such dates) counts
/// from when the server stored that date, and never from after `now`, or it would keep the
/// person forever. A date in the past counts as itself whatever the server's clock said when
/// it was stored, so a clock that was once behind shortens nobody's retention. (A contact
/// without a readable `occurred_at` counts from when the server stored it.)
pub fn last_activity(person: &[RetentionFacts], now: DateTime<Utc>) -> DateTime<Utc> {
    let contact_times =
        person
            .iter()
            .flat_map(|facts| &facts.contacts)
            .map(|(occurred, stored_ms)| {
                let stored = from_ms(*stored_ms);
                occurred
                    .as_deref()
                    .and_then(|text| serde_json::from_str::<String>(text).ok())
                    .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
                    .map(|time| time.with_timezone(&Utc))
                    .filter(|time| *time <= now)
                    .unwrap_or_else(|| stored.min(now))
            });
    contact_times.max().unwrap_or_else(|| {
        from_ms(
            person
                .iter()
                .map(|facts| facts.last_change_ms)
                .max()
                .unwrap_or(0),
        )
    })
}

/// The client at the end of `client`'s chain of merges among `clients` (itself when it was
/// not merged into a client there); `None` when the chain runs in a circle, which no merge
/// makes (a merge joins two clients neither of which is merged): such a client is never due.
fn person_of(clients: &HashMap<Uuid, &RetentionFacts>, client: Uuid) -> Option<Uuid> {
    let mut chain = vec![client];
    let mut current = client;
    while let Some(next) = clients
        .get(&current)
        .and_then(|facts| facts.merged_into)
        .filter(|next| clients.contains_key(next))
    {
        if chain.contains(&next) {
            return None;
        }
        chain.push(next);
        current = next;
    }
    Some(current)
}

/// Every client's facts grouped by person: each client not merged into another, with its own
/// facts and those of every client merged into it, directly or through another.
fn people(facts: &[RetentionFacts]) -> BTreeMap<Uuid, Vec<RetentionFacts>> {
    let clients: HashMap<Uuid, &RetentionFacts> =
        facts.iter().map(|facts| (facts.client_id, facts)).collect();
    let mut people: BTreeMap<Uuid, Vec<RetentionFacts>> = BTreeMap::new();
    for client in facts {
        if let Some(person) = person_of(&clients, client.client_id) {
            people.entry(person).or_default().push(client.clone());
        }
    }
    people
}

/// The clients, not merged into another, whose person was last active before `cutoff` (judged
/// at `now`), in id order, each with the duplicates merged into it (directly or through
/// another, in id order), which are purged with it.
pub fn expired_people(
    facts: &[RetentionFacts],
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Vec<(Uuid, Vec<Uuid>)> {
    people(facts)
        .into_iter()
        .filter(|(_, person)| last_activity(person, now) < cutoff)
        .map(|(client, person)| {
            let mut duplicates: Vec<Uuid> = person
                .iter()
                .map(|facts| facts.client_id)
                .filter(|id| *id != client)
                .collect();
            duplicates.sort_unstable();
            (client, duplicates)
        })
        .collect()
}

/// What a retention run found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Clients last active before this were due.
    pub cutoff: DateTime<Utc>,
    /// The clients due: on a dry run as the facts read say, otherwise those purged (a client
    /// met again before the purge's transaction is not due any more, and not named).
    pub expired_clients: Vec<Uuid>,
    /// The duplicates that go with them, each with the client due it was merged into
    /// (directly or through another), in that client's order: on a dry run as the facts read
    /// say, otherwise those purged. (A client merged into one due after the facts were read
    /// is purged with it, among `purged`, but not named here.)
    pub duplicates: Vec<(Uuid, Uuid)>,
    /// Every record purged (none on a dry run).
    pub purged: Vec<PulledPurge>,
}

/// The clients (not merged into another) whose person was last active before `cutoff`, as
/// the store holds them at `now`, each with the duplicates merged into it
/// ([`expired_people`]).
pub async fn clients_due(
    store: &dyn ServerStore,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<Vec<(Uuid, Vec<Uuid>)>, ServerError> {
    Ok(expired_people(&store.retention_facts().await?, now, cutoff))
}

/// Purges `clients` (found due by [`clients_due`]) in one erasure, with the duplicates merged
/// into them, and returns every record purged. The facts behind the list are older than the
/// erasure: a client met again since (a new contact pushed in between, also one filed under a
/// duplicate) is judged again inside the erasure's transaction and kept, and so is one merged
/// into another client since (it goes with that client).
pub async fn purge_clients_due(
    store: &dyn ServerStore,
    clients: Vec<Uuid>,
    cutoff: DateTime<Utc>,
    actor: AuditActor,
    now: DateTime<Utc>,
) -> Result<Vec<PulledPurge>, ServerError> {
    if clients.is_empty() {
        return Ok(Vec::new());
    }
    store
        .erase_clients(ErasureRequest {
            clients,
            team_id: None,
            actor,
            reason: ErasureReason::Retention { cutoff },
            now,
        })
        .await
}

/// Finds the clients due and, unless `dry_run`, purges them in one erasure.
pub async fn run_retention(
    store: &dyn ServerStore,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
    actor: AuditActor,
    dry_run: bool,
) -> Result<RetentionReport, ServerError> {
    let cutoff = policy.cutoff(now);
    let due = clients_due(store, now, cutoff).await?;
    let mut expired: Vec<Uuid> = due.iter().map(|(client, _)| *client).collect();
    let mut duplicates: Vec<(Uuid, Uuid)> = due
        .iter()
        .flat_map(|(client, duplicates)| duplicates.iter().map(|duplicate| (*duplicate, *client)))
        .collect();
    let purged = if dry_run {
        Vec::new()
    } else {
        let purged = purge_clients_due(store, expired.clone(), cutoff, actor, now).await?;
        let was_purged = |id: &Uuid| purged.iter().any(|p| p.record_id == *id);
        expired.retain(was_purged);
        duplicates.retain(|(duplicate, _)| was_purged(duplicate));
        purged
    };
    Ok(RetentionReport {
        cutoff,
        expired_clients: expired,
        duplicates,
        purged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clients due, without their duplicates.
    fn expired_clients(facts: &[RetentionFacts], cutoff: DateTime<Utc>) -> Vec<Uuid> {
        expired_people(facts, now(), cutoff)
            .into_iter()
            .map(|(client, _)| client)
            .collect()
    }

    const NOW_MS: i64 = 1_768_471_200_000; // 2026-01-15T10:00:00Z

    fn now() -> DateTime<Utc> {
        from_ms(NOW_MS)
    }

    /// A client last changed at `last_change_ms`, with contacts whose dates the server stored
    /// at `NOW_MS`.
    fn facts(last_change_ms: i64, contacts: &[Option<&str>]) -> RetentionFacts {
        let stored: Vec<(i64, Option<&str>)> = contacts.iter().map(|c| (NOW_MS, *c)).collect();
        stored_facts(last_change_ms, &stored)
    }

    /// A client last changed at `last_change_ms`, with contacts each with the time the server
    /// stored its date.
    fn stored_facts(last_change_ms: i64, contacts: &[(i64, Option<&str>)]) -> RetentionFacts {
        RetentionFacts {
            client_id: Uuid::from_u128(1),
            merged_into: None,
            last_change_ms,
            contacts: contacts
                .iter()
                .map(|(stored_ms, occurred)| (occurred.map(|t| format!("\"{t}\"")), *stored_ms))
                .collect(),
        }
    }

    #[test]
    fn the_cutoff_is_whole_years_before_now() {
        let cutoff = RetentionPolicy::default().cutoff(from_ms(NOW_MS));
        assert_eq!(cutoff.to_rfc3339(), "2021-01-15T10:00:00+00:00");
    }

    #[test]
    fn the_latest_contact_counts_even_when_the_client_changed_later_or_earlier() {
        let recent_change = facts(NOW_MS, &[Some("2019-03-01T09:00:00+02:00")]);
        assert_eq!(
            last_activity(&[recent_change], now()).to_rfc3339(),
            "2019-03-01T07:00:00+00:00"
        );
        let two = facts(
            0,
            &[
                Some("2019-03-01T09:00:00+02:00"),
                Some("2024-05-02T10:00:00Z"),
            ],
        );
        assert_eq!(
            last_activity(&[two], now()).to_rfc3339(),
            "2024-05-02T10:00:00+00:00"
        );
    }

    #[test]
    fn a_contact_counts_no_later_than_when_the_server_stored_its_date() {
        // Dated 2095 (a mistyped year), stored now: it counts from now.
        let mistyped = facts(0, &[Some("2095-05-02T10:00:00+03:00")]);
        assert_eq!(last_activity(&[mistyped], now()), from_ms(NOW_MS));
        // Dated before it was stored: its date counts.
        let logged_later = facts(0, &[Some("2025-12-01T10:00:00Z")]);
        assert_eq!(
            last_activity(&[logged_later], now()).to_rfc3339(),
            "2025-12-01T10:00:00+00:00"
        );
        // A person's contact dated 2095 but stored in 2017 and one dated 2019: the later of
        // the two as each counts, 2019.
        let stored_2017 = 1_500_000_000_000; // 2017-07-14
        let person = [
            stored_facts(0, &[(stored_2017, Some("2095-05-02T10:00:00Z"))]),
            stored_facts(0, &[(NOW_MS, Some("2019-03-01T00:00:00Z"))]),
        ];
        assert_eq!(
            last_activity(&person, now()).to_rfc3339(),
            "2019-03-01T00:00:00+00:00"
        );
        // A contact without a readable date counts from when the server stored it.
        let undated = stored_facts(0, &[(stored_2017, None)]);
        assert_eq!(last_activity(&[undated], now()), from_ms(stored_2017));
    }

    #[test]
    fn a_contact_dated_before_now_counts_from_its_date_whatever_the_servers_clock_said() {
        // Stored while the server's clock stood in 2017 (a machine without a battery clock):
        // a date in the past counts as itself, so the wrong clock shortens nobody's retention.
        let stored_2017 = 1_500_000_000_000;
        let wrong_clock = stored_facts(0, &[(stored_2017, Some("2025-12-01T10:00:00Z"))]);
        assert_eq!(
            last_activity(&[wrong_clock], now()).to_rfc3339(),
            "2025-12-01T10:00:00+00:00"
        );
        // Dated after now and stored "in the future" too: it counts from now at the latest.
        let both_ahead = stored_facts(0, &[(NOW_MS + 86_400_000, Some("2095-01-01T00:00:00Z"))]);
        assert_eq!(last_activity(&[both_ahead], now()), now());
    }

    #[test]
    fn a_client_without_contacts_counts_from_its_last_change() {
        assert_eq!(last_activity(&[facts(NOW_MS, &[])], now()), from_ms(NOW_MS));
    }

    #[test]
    fn only_clients_last_active_before_the_cutoff_expire() {
        let cutoff = RetentionPolicy::default().cutoff(from_ms(NOW_MS));
        let mut old = facts(0, &[Some("2020-12-31T23:00:00Z")]);
        old.client_id = Uuid::from_u128(2);
        let recent = facts(0, &[Some("2021-02-01T00:00:00Z")]);
        assert_eq!(
            expired_clients(&[recent, old], cutoff),
            vec![Uuid::from_u128(2)]
        );
    }

    /// Client `id` merged into client `into`, with `facts`.
    fn merged(id: u128, into: Option<u128>, facts: RetentionFacts) -> RetentionFacts {
        RetentionFacts {
            client_id: Uuid::from_u128(id),
            merged_into: into.map(Uuid::from_u128),
            ..facts
        }
    }

    #[test]
    fn a_duplicate_is_due_only_with_the_client_at_the_end_of_its_chain_of_merges() {
        let cutoff = RetentionPolicy::default().cutoff(from_ms(NOW_MS));
        let old = || facts(0, &[Some("2019-01-01T00:00:00Z")]);
        let recent = || facts(0, &[Some("2025-01-01T00:00:00Z")]);
        // 3 was merged into 2, and 2 into 1; 1 was met last year.
        let chain = [
            merged(1, None, recent()),
            merged(2, Some(1), old()),
            merged(3, Some(2), old()),
        ];
        assert!(expired_clients(&chain, cutoff).is_empty());
        // Met long ago, with a recent contact filed under a duplicate: the person's.
        let late_contact = [
            merged(1, None, old()),
            merged(2, Some(1), old()),
            merged(3, Some(2), recent()),
        ];
        assert!(expired_clients(&late_contact, cutoff).is_empty());
        // All met long ago: only the client at the end is named; its duplicates go with it.
        let all_old = [
            merged(1, None, old()),
            merged(2, Some(1), old()),
            merged(3, Some(2), old()),
        ];
        assert_eq!(expired_clients(&all_old, cutoff), vec![Uuid::from_u128(1)]);
        assert_eq!(
            expired_people(&all_old, now(), cutoff),
            vec![(
                Uuid::from_u128(1),
                vec![Uuid::from_u128(2), Uuid::from_u128(3)]
            )],
            "the duplicates that go with it, the one merged through another too"
        );
        // A duplicate whose client is gone is a client of its own again.
        let orphan = [merged(2, Some(1), old())];
        assert_eq!(expired_clients(&orphan, cutoff), vec![Uuid::from_u128(2)]);
        // A circle of merges has no client at its end: nobody in it is due.
        let circle = [merged(1, Some(2), old()), merged(2, Some(1), old())];
        assert!(expired_clients(&circle, cutoff).is_empty());
    }

    #[test]
    fn a_person_without_contacts_counts_from_the_latest_change_of_any_of_its_clients() {
        let person = [facts(1_000, &[]), facts(NOW_MS, &[]), facts(5, &[])];
        assert_eq!(last_activity(&person, now()), from_ms(NOW_MS));
        let with_contact = [
            facts(NOW_MS, &[]),
            facts(0, &[Some("2019-01-01T00:00:00Z")]),
        ];
        assert_eq!(
            last_activity(&with_contact, now()).to_rfc3339(),
            "2019-01-01T00:00:00+00:00"
        );
    }
}
