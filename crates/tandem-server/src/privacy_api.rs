//! The privacy endpoints (docs/security.md): erasing a client, the subject-access export
//! (JSON, or CSV with `Accept: text/csv`) and the audit log viewer.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use tandem_protocol::{
    ApiErrorBody, AuditList, AuditQuery, ClientExport, ErasureResponse, MAX_PULL_LIMIT,
    PulledChange, PulledPurge, Role, error_codes,
};
use uuid::Uuid;

use super::{
    ApiError, AppState, Caller, Forbidden, Json, PathParam, QueryParams, StoreFailure, Unauthorized,
};
use crate::audit::{AuditAction, AuditActor, NewAuditEntry};
use crate::store::{AuditFilter, ErasureReason, ErasureRequest};

impl Caller {
    /// The audit actor of a request.
    pub(crate) fn actor(&self) -> AuditActor {
        AuditActor::Device {
            user_id: self.user_id,
            device_id: self.device_id,
        }
    }
}

#[utoipa::path(
    post,
    path = "/v1/clients/{id}/erase",
    tag = "privacy",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The client's id.")),
    responses(
        (status = 200, description = "Erased: the client, its contacts and the clients merged into it are gone from the server (values, history, conflicts); devices remove them at their next pull. Only an audit entry without personal data remains (team lead of the client's team, admin).", body = ErasureResponse),
        (status = 400, description = "`invalid_request`: `id` is not a UUID.", body = ApiErrorBody),
        Unauthorized,
        (status = 403, description = "`forbidden`: a coach, or a device without a team.", body = ApiErrorBody),
        (status = 404, description = "`not_found`: no such client in the caller's team (erased ones included).", body = ApiErrorBody),
        (status = 409, description = "`linked_from_other_team`: records of another team link to the client, so a team lead's erasure would reach outside the team; nothing was erased (an admin or the server operator erases it).", body = ApiErrorBody),
        StoreFailure,
    )
)]
pub(super) async fn erase_client(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<Uuid>,
) -> Result<Json<ErasureResponse>, ApiError> {
    let team_id = match caller.role {
        Role::Admin => None,
        Role::TeamLead => Some(caller.team_lead_team()?),
        Role::Coach => {
            return Err(ApiError::forbidden(
                "only a team lead or an admin may erase a client",
            ));
        }
    };
    let records = state
        .store
        .erase_clients(ErasureRequest {
            clients: vec![id],
            team_id,
            actor: caller.actor(),
            reason: ErasureReason::Request,
            now: state.clock.now(),
        })
        .await?;
    tracing::info!(client_id = %id, records = records.len(), "client erased");
    Ok(Json(ErasureResponse {
        client_id: id,
        records,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/clients/{id}/export",
    tag = "privacy",
    security(("device_token" = [])),
    params(
        ("id" = Uuid, Path, description = "The client's id."),
        ("Accept" = Option<String>, Header, description = "`text/csv` for CSV; JSON otherwise."),
    ),
    responses(
        (status = 200, description = "One client's data for a subject-access request: every current field, its contacts and the whole history (team lead of the client's team; only the team's records: a contact of another team naming the client is left out); recorded in the audit log as an export.",
            content(
                (ClientExport = "application/json"),
                (String = "text/csv", example = "section,entity,record_id,field,value,seq,effective,author_id,recorded_at\n"),
            )),
        (status = 400, description = "`invalid_request`: `id` is not a UUID.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: no such client in the caller's team.", body = ApiErrorBody),
        StoreFailure,
    )
)]
pub(super) async fn export_client(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    PathParam(id): PathParam<Uuid>,
) -> Result<Response, ApiError> {
    let team_id = caller.team_lead_team()?;
    let export = state
        .store
        .export_client(team_id, id, caller.actor(), state.clock.now())
        .await?;
    tracing::info!(client_id = %id, "client exported");
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(export).into_response());
    }
    let disposition = format!("attachment; filename=\"client-{id}.csv\"");
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        error_codes::INTERNAL,
                        "the export could not be named",
                    )
                })?,
            ),
        ],
        export_csv(&export),
    )
        .into_response())
}

/// The export as CSV: one row per current field (`section` = `current`) and one per history
/// entry (`history`). Text values are written as they are, other values as JSON; a cell a
/// spreadsheet would run as a formula gets a leading `'` ([`tandem_reports::csv_cell`]), so
/// the JSON export is the exact one.
pub fn export_csv(export: &ClientExport) -> String {
    let mut out = String::from(
        "section,entity,record_id,field,value,seq,effective,author_id,recorded_at\r\n",
    );
    let mut row = |cells: &[&str]| {
        let line: Vec<String> = cells
            .iter()
            .map(|cell| tandem_reports::csv_cell(cell))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    let current = std::iter::once(("client", &export.client))
        .chain(
            export
                .merged_clients
                .iter()
                .map(|client| ("client", client)),
        )
        .chain(export.contacts.iter().map(|contact| ("contact", contact)));
    for (entity, fields) in current {
        let record_id = fields
            .get("record_id")
            .and_then(|value| value.as_str())
            .unwrap_or_default();
        for (field, value) in fields.iter().filter(|(field, _)| *field != "record_id") {
            row(&[
                "current",
                entity,
                record_id,
                field,
                &value_text(value),
                "",
                "",
                "",
                "",
            ]);
        }
    }
    for value in &export.history {
        row(&[
            "history",
            &value.entity,
            &value.record_id.to_string(),
            &value.field,
            &value_text(&value.value),
            &value.seq.to_string(),
            if value.effective { "true" } else { "false" },
            &value.author_id.to_string(),
            &value.recorded_at.to_rfc3339(),
        ]);
    }
    out
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "privacy",
    security(("device_token" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit entries, oldest first: the own team's for a team lead, all for an admin.", body = AuditList),
        (status = 400, description = "`invalid_request`: a bad query parameter (`limit` outside 1 to 1000, a non-number, a bad `record_id`).", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
pub(super) async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let team_id = match caller.role {
        Role::Admin => None,
        Role::TeamLead => Some(caller.team_lead_team()?),
        Role::Coach => {
            return Err(ApiError::forbidden(
                "only a team lead or an admin may read the audit log",
            ));
        }
    };
    if query.limit == 0 || query.limit > MAX_PULL_LIMIT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            error_codes::INVALID_REQUEST,
            format!("limit: must be 1 to {MAX_PULL_LIMIT}"),
        ));
    }
    let mut entries = state
        .store
        .audit_entries(AuditFilter {
            after: query.after,
            limit: query.limit,
            team_id,
            record_id: query.record_id,
        })
        .await?;
    let has_more = entries.len() > query.limit as usize;
    entries.truncate(query.limit as usize);
    let next = entries.last().map_or(query.after, |entry| entry.seq);
    Ok(Json(AuditList {
        entries: entries.iter().map(|entry| entry.to_wire()).collect(),
        next,
        has_more,
    }))
}

/// Records a sign-in, right after the device was registered.
pub(super) async fn audit_login(
    state: &AppState,
    user_id: Uuid,
    device_id: Uuid,
    team_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    state
        .store
        .append_audit(NewAuditEntry {
            at: now,
            actor: AuditActor::Device { user_id, device_id },
            action: AuditAction::Login,
            team_id,
            entity: None,
            record_id: None,
            detail: String::new(),
        })
        .await?;
    Ok(())
}

/// Records a pull page that carried records, right after it was read: a page reads many
/// records, so the entry counts them instead of naming each.
pub(super) async fn audit_read(
    state: &AppState,
    caller: &Caller,
    team_id: Uuid,
    changes: &[PulledChange],
    purges: &[PulledPurge],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if changes.is_empty() {
        return Ok(());
    }
    let records: BTreeSet<Uuid> = changes.iter().map(|c| c.record_id).collect();
    let first = changes.first().map_or(0, |c| c.seq);
    let last = changes
        .last()
        .map_or(0, |c| c.seq)
        .max(purges.last().map_or(0, |p| p.seq));
    state
        .store
        .append_audit(NewAuditEntry {
            at: now,
            actor: caller.actor(),
            action: AuditAction::Read,
            team_id: Some(team_id),
            entity: None,
            record_id: None,
            detail: format!(
                "pull: records={} changes={} seq={first}..={last}",
                records.len(),
                changes.len()
            ),
        })
        .await?;
    Ok(())
}
