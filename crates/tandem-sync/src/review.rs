//! A team lead's review: resolving a conflict through the server, and the health of the
//! team's laptops.
//!
//! A resolution needs a connection. The server decides whether the conflict is still open
//! (another team lead may have resolved it meanwhile) and writes the chosen value as an
//! ordinary change with its own seq, which every device then pulls; a resolution queued
//! offline could only be checked against a stale mirror. The answer is stored at once
//! ([`Store::record_conflict_resolution`]), so the team lead sees the value without waiting
//! for the next pull.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value as Json;
use tandem_domain::{DomainError, Entity, ValidationContext, field_spec};
use tandem_protocol::{
    Conflict, ConflictList, DeviceInfo, DeviceList, ResolveConflictRequest, ResolveConflictResponse,
};
use tandem_store::{CLOSED_CONFLICTS_KEPT, Store};

use crate::SyncError;
use crate::engine::Clock;
use crate::planner;
use crate::transport::HttpTransport;

/// A laptop that has not synced for more than this many days is flagged: whatever it holds
/// unsynced exists on that laptop only.
pub const STALE_DEVICE_DAYS: i64 = 7;

/// What a team lead chose for a conflicted field.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictChoice {
    /// One of the values in conflict, counted from 1 in the order the server lists them.
    Pick(usize),
    /// Another value (JSON, as on the wire), validated like any edit.
    Value(Json),
}

impl HttpTransport {
    /// `POST /v1/conflicts/{id}/resolve` (team leads).
    pub async fn resolve_conflict(
        &self,
        id: i64,
        request: &ResolveConflictRequest,
    ) -> Result<ResolveConflictResponse, SyncError> {
        let path = format!("/v1/conflicts/{id}/resolve");
        self.call(Method::POST, &path, Some(request)).await
    }

    /// `GET /v1/devices` (team leads: the own team's laptops).
    pub async fn devices(&self) -> Result<DeviceList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/devices", None).await
    }
}

/// Resolves conflict `id` with `choice` on the server and stores the answer: the conflict,
/// now resolved, and the server's change of the field. Offline, nothing changes and the error
/// says so ([`SyncError::Offline`]); a conflict resolved meanwhile by someone else refreshes
/// the mirrored conflicts and is [`SyncError::ConflictNotOpen`].
pub async fn resolve_conflict(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    id: i64,
    choice: ConflictChoice,
) -> Result<Conflict, SyncError> {
    let sign_in = store.sign_in()?.ok_or(SyncError::NotSignedIn)?;
    if sign_in.role != "team_lead" {
        return Err(SyncError::Forbidden {
            message: "only a team lead resolves conflicts".to_owned(),
        });
    }
    let local = store
        .conflict(id)?
        .ok_or(SyncError::UnknownConflict { id })?;
    if local.status != "open" {
        return Err(SyncError::ConflictNotOpen { id });
    }
    let value = match choice {
        ConflictChoice::Value(value) => value,
        ConflictChoice::Pick(n) => {
            let detail: Conflict = local
                .detail
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .ok_or(SyncError::UnknownConflict { id })?;
            let count = detail.values.len();
            n.checked_sub(1)
                .and_then(|index| detail.values.into_iter().nth(index))
                .map(|candidate| candidate.value)
                .ok_or(SyncError::NoSuchConflictValue { id, pick: n, count })?
        }
    };
    // The same validation as the server's (and as any edit's), before anything is sent.
    let invalid = |error: DomainError| SyncError::InvalidResolution {
        field: local.field.clone(),
        rule: error.rule(),
        message: error.to_string(),
        reason_code: None,
    };
    let spec = Entity::parse(&local.entity)
        .and_then(|entity| field_spec(entity, &local.field))
        .map_err(invalid)?;
    spec.parse_json(&value, ValidationContext::new(clock.now().date_naive()))
        .map_err(invalid)?;

    let answer = match transport
        .resolve_conflict(id, &ResolveConflictRequest { value })
        .await
    {
        Ok(answer) => answer,
        Err(SyncError::Server { status: 409, .. }) => {
            refresh_conflicts(store, transport, clock).await?;
            return Err(SyncError::ConflictNotOpen { id });
        }
        Err(SyncError::Server {
            status: 422,
            message,
            reason_code,
            ..
        }) => {
            return Err(SyncError::InvalidResolution {
                field: local.field,
                message,
                rule: None,
                reason_code,
            });
        }
        Err(SyncError::Server { status: 404, .. }) => {
            return Err(SyncError::UnknownConflict { id });
        }
        Err(error) => return Err(error),
    };
    let write = planner::server_write(&answer.change);
    let mirrored = planner::mirrored_conflicts(std::slice::from_ref(&answer.conflict));
    store.record_conflict_resolution(&mirrored[0], &write, clock.now())?;
    Ok(answer.conflict)
}

/// One laptop of the team as a team lead sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceHealth {
    /// The device as the server lists it.
    pub device: DeviceInfo,
    /// Whole days since its last sync (none if it never synced).
    pub days_since_sync: Option<i64>,
    /// Whether it has not synced for more than [`STALE_DEVICE_DAYS`] (or never did since its
    /// sign-in that long ago): unsynced data on it is at risk.
    pub at_risk: bool,
}

/// The team's laptops with their health at `now`, the ones at risk first, revoked ones left
/// out (they hold nothing any more).
pub fn device_health(devices: Vec<DeviceInfo>, now: DateTime<Utc>) -> Vec<DeviceHealth> {
    let mut health: Vec<DeviceHealth> = devices
        .into_iter()
        .filter(|device| !device.revoked)
        .map(|device| {
            let days_since_sync = device.last_sync_at.map(|at| (now - at).num_days().max(0));
            let silent_days = days_since_sync.unwrap_or((now - device.created_at).num_days());
            DeviceHealth {
                at_risk: silent_days > STALE_DEVICE_DAYS,
                days_since_sync,
                device,
            }
        })
        .collect();
    health.sort_by_key(|h| (!h.at_risk, h.device.last_sync_at));
    health
}

/// The team's laptops and their health (team leads; needs a connection).
pub async fn team_devices(
    transport: &HttpTransport,
    clock: &dyn Clock,
) -> Result<Vec<DeviceHealth>, SyncError> {
    let list = transport.devices().await?;
    Ok(device_health(list.devices, clock.now()))
}

// The server refuses a `closed_limit` above its maximum (400).
const _: () = assert!(
    CLOSED_CONFLICTS_KEPT <= tandem_protocol::MAX_CLOSED_CONFLICTS_LIMIT as usize,
    "CLOSED_CONFLICTS_KEPT is more than a server lists"
);

/// Replaces the mirrored conflicts with the server's list (team leads): every open conflict
/// and the most recently closed ones the review screen shows ([`CLOSED_CONFLICTS_KEPT`]), so
/// a cycle's cost does not grow with every conflict the team ever resolved.
pub async fn refresh_conflicts(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
) -> Result<(), SyncError> {
    let list: ConflictList = transport.conflicts(CLOSED_CONFLICTS_KEPT).await?;
    store.replace_team_conflicts(&planner::mirrored_conflicts(&list.conflicts), clock.now())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tandem_protocol::{TeamRef, UserRef};
    use uuid::Uuid;

    fn device(name: &str, last_sync: Option<DateTime<Utc>>, revoked: bool) -> DeviceInfo {
        DeviceInfo {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            user: UserRef {
                id: Uuid::now_v7(),
                username: "coach1".to_owned(),
            },
            team: Some(TeamRef {
                id: Uuid::now_v7(),
                name: "demo".to_owned(),
            }),
            app_version: Some("0.1.0".to_owned()),
            pending_count: 3,
            last_sync_at: last_sync,
            revoked,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_laptop_silent_for_more_than_the_set_days_is_at_risk_and_listed_first() {
        let now = Utc.with_ymd_and_hms(2026, 3, 20, 12, 0, 0).unwrap();
        let days_ago = |days| Some(now - chrono::Duration::days(days));
        let health = device_health(
            vec![
                device("fresh", days_ago(1), false),
                device("edge", days_ago(STALE_DEVICE_DAYS), false),
                device("stale", days_ago(STALE_DEVICE_DAYS + 1), false),
                device("never", None, false),
                device("revoked", days_ago(30), true),
            ],
            now,
        );
        let shown: Vec<(&str, bool, Option<i64>)> = health
            .iter()
            .map(|h| (h.device.name.as_str(), h.at_risk, h.days_since_sync))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("never", true, None),
                ("stale", true, Some(STALE_DEVICE_DAYS + 1)),
                ("edge", false, Some(STALE_DEVICE_DAYS)),
                ("fresh", false, Some(1)),
            ]
        );
    }
}
