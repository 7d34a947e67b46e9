//! Retention: clients whose last contact is older than the retention period (default five
//! years; a client without contacts counts from its last change) are purged through the
//! erasure path, so devices remove them at their next pull, and the audit log records one
//! `purge` entry per team with the count and the record ids.

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

/// When a client was last active: its latest contact (`occurred_at`, or the contact's last
/// write when that is missing), or its own last change when it has no contacts.
pub fn last_activity(facts: &RetentionFacts) -> DateTime<Utc> {
    let contact_times = facts.contacts.iter().map(|(occurred, written_ms)| {
        occurred
            .as_deref()
            .and_then(|text| serde_json::from_str::<String>(text).ok())
            .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
            .map_or_else(|| from_ms(*written_ms), |time| time.with_timezone(&Utc))
    });
    contact_times
        .max()
        .unwrap_or_else(|| from_ms(facts.last_change_ms))
}

/// The clients whose last activity is before `cutoff`, in id order.
pub fn expired_clients(facts: &[RetentionFacts], cutoff: DateTime<Utc>) -> Vec<Uuid> {
    let mut expired: Vec<Uuid> = facts
        .iter()
        .filter(|facts| last_activity(facts) < cutoff)
        .map(|facts| facts.client_id)
        .collect();
    expired.sort_unstable();
    expired
}

/// What a retention run found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Clients last active before this were due.
    pub cutoff: DateTime<Utc>,
    /// The clients due: on a dry run as the facts read say, otherwise those purged (a client
    /// met again before the purge's transaction is not due any more, and not named).
    pub expired_clients: Vec<Uuid>,
    /// Every record purged (none on a dry run).
    pub purged: Vec<PulledPurge>,
}

/// The clients last active before `cutoff`, as the store holds them now.
pub async fn clients_due(
    store: &dyn ServerStore,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Uuid>, ServerError> {
    Ok(expired_clients(&store.retention_facts().await?, cutoff))
}

/// Purges `clients` (found due by [`clients_due`]) in one erasure, and returns every record
/// purged. The facts behind the list are older than the erasure: a client met again since
/// (a new contact pushed in between) is judged again inside the erasure's transaction and
/// kept.
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
    let mut expired = clients_due(store, cutoff).await?;
    let purged = if dry_run {
        Vec::new()
    } else {
        let purged = purge_clients_due(store, expired.clone(), cutoff, actor, now).await?;
        expired.retain(|client| purged.iter().any(|p| p.record_id == *client));
        purged
    };
    Ok(RetentionReport {
        cutoff,
        expired_clients: expired,
        purged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_768_471_200_000; // 2026-01-15T10:00:00Z

    fn facts(last_change_ms: i64, contacts: &[Option<&str>]) -> RetentionFacts {
        RetentionFacts {
            client_id: Uuid::from_u128(1),
            last_change_ms,
            contacts: contacts
                .iter()
                .map(|occurred| (occurred.map(|t| format!("\"{t}\"")), last_change_ms))
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
            last_activity(&recent_change).to_rfc3339(),
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
            last_activity(&two).to_rfc3339(),
            "2024-05-02T10:00:00+00:00"
        );
    }

    #[test]
    fn a_client_without_contacts_counts_from_its_last_change() {
        assert_eq!(last_activity(&facts(NOW_MS, &[])), from_ms(NOW_MS));
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
}
