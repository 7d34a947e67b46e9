//! The team lead's duplicate-client endpoints (docs/duplicates.md): the candidate list, a
//! merge, the list of merges, an undo, and dismissing a pair.

use axum::http::StatusCode;
use tandem_domain::Entity;
use tandem_protocol::{
    ApiErrorBody, DismissDuplicateRequest, DuplicateList, DuplicateMergeList,
    DuplicateMergeResponse, MergeDuplicateRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    ApiError, AppState, Caller, Forbidden, Json, PathParam, StoreFailure, Unauthorized,
    UnsupportedMediaType,
};
use crate::clock::new_uuid_v7;
use crate::duplicates::{COMPARED_FIELDS, CONTACT_FIELDS, duplicate_list, ordered_pair};
use crate::store::NewMerge;
use axum::extract::State;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_duplicates))
        .routes(routes!(merge_duplicate))
        .routes(routes!(list_merges))
        .routes(routes!(undo_merge))
        .routes(routes!(dismiss_duplicate))
}

#[utoipa::path(
    get,
    path = "/v1/duplicates",
    tag = "duplicates",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Pairs of the team's live clients that may be one person, best score first (team lead). Deleted, merged and dismissed clients are left out.", body = DuplicateList),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
async fn list_duplicates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DuplicateList>, ApiError> {
    let team_id = caller.team_lead_team()?;
    let clients = state
        .store
        .team_records(team_id, Entity::Client, COMPARED_FIELDS)
        .await?;
    let contacts = state
        .store
        .team_records(team_id, Entity::Contact, CONTACT_FIELDS)
        .await?;
    let dismissed = state.store.dismissed_duplicates(team_id).await?;
    Ok(Json(duplicate_list(clients, &contacts, &dismissed)))
}

#[utoipa::path(
    post,
    path = "/v1/duplicates/merge",
    tag = "duplicates",
    security(("device_token" = [])),
    request_body = MergeDuplicateRequest,
    responses(
        (status = 200, description = "Merged (team lead): every contact of the duplicate now has `client_id` = survivor and the duplicate `merged_into` = survivor, written as ordinary changes that every device pulls.", body = DuplicateMergeResponse),
        (status = 400, description = "`invalid_json`: the body is not JSON.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: a client is not one of this team's.", body = ApiErrorBody),
        (status = 409, description = "`not_mergeable`: a client is deleted or merged already.", body = ApiErrorBody),
        UnsupportedMediaType,
        (status = 422, description = "`invalid_request`: JSON of the wrong shape, or the survivor and the duplicate are the same client.", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn merge_duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<MergeDuplicateRequest>,
) -> Result<Json<DuplicateMergeResponse>, ApiError> {
    let team_id = caller.team_lead_team()?;
    if request.survivor_id == request.duplicate_id {
        return Err(ApiError::invalid(
            "duplicate_id: must be another client than survivor_id",
        ));
    }
    let (merge, changes) = state
        .store
        .merge_clients(NewMerge {
            id: new_uuid_v7(state.clock.as_ref()),
            team_id,
            survivor_id: request.survivor_id,
            duplicate_id: request.duplicate_id,
            merged_by: caller.user_id,
            now: state.clock.now(),
        })
        .await?;
    tracing::info!(merge_id = %merge.id, contacts = merge.contact_ids.len(), "clients merged");
    Ok(Json(DuplicateMergeResponse { merge, changes }))
}

#[utoipa::path(
    get,
    path = "/v1/duplicates/merges",
    tag = "duplicates",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "The team's merges, newest first, undone ones included (team lead).", body = DuplicateMergeList),
        Unauthorized,
        Forbidden,
        StoreFailure,
    )
)]
async fn list_merges(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DuplicateMergeList>, ApiError> {
    let team_id = caller.team_lead_team()?;
    let merges = state.store.list_merges(team_id).await?;
    Ok(Json(DuplicateMergeList { merges }))
}

#[utoipa::path(
    post,
    path = "/v1/duplicates/merge/{id}/undo",
    tag = "duplicates",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The merge's id.")),
    responses(
        (status = 200, description = "Undone (team lead): the moved contacts are back with the duplicate and its `merged_into` is cleared, as ordinary changes.", body = DuplicateMergeResponse),
        (status = 400, description = "`invalid_request`: `id` is not a UUID.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: no such merge in this team.", body = ApiErrorBody),
        (status = 409, description = "`merge_not_undoable`: undone already, or a moved contact or the duplicate's `merged_into` changed since; the message says which.", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn undo_merge(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<Uuid>,
) -> Result<Json<DuplicateMergeResponse>, ApiError> {
    let team_id = caller.team_lead_team()?;
    let (merge, changes) = state
        .store
        .undo_merge(team_id, id, caller.user_id, state.clock.now())
        .await?;
    tracing::info!(merge_id = %merge.id, "merge undone");
    Ok(Json(DuplicateMergeResponse { merge, changes }))
}

#[utoipa::path(
    post,
    path = "/v1/duplicates/dismiss",
    tag = "duplicates",
    security(("device_token" = [])),
    request_body = DismissDuplicateRequest,
    responses(
        (status = 204, description = "Dismissed (team lead): the pair is not proposed again."),
        (status = 400, description = "`invalid_json`: the body is not JSON.", body = ApiErrorBody),
        Unauthorized,
        Forbidden,
        (status = 404, description = "`not_found`: a client is not one of this team's.", body = ApiErrorBody),
        UnsupportedMediaType,
        (status = 422, description = "`invalid_request`: JSON of the wrong shape, or both ids are the same client.", body = ApiErrorBody),
        StoreFailure,
    )
)]
async fn dismiss_duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<DismissDuplicateRequest>,
) -> Result<StatusCode, ApiError> {
    let team_id = caller.team_lead_team()?;
    if request.first_id == request.second_id {
        return Err(ApiError::invalid(
            "second_id: must be another client than first_id",
        ));
    }
    state
        .store
        .dismiss_duplicate(
            team_id,
            ordered_pair(request.first_id, request.second_id),
            caller.user_id,
            state.clock.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
