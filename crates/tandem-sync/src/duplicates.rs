//! A team lead's duplicate clients (docs/duplicates.md): the server's candidate pairs, a
//! merge, its undo, dismissing a pair. Like resolving a conflict, each needs a connection:
//! only the server sees every device's clients and decides whether a merge or an undo is
//! still possible. The changes the server answers with (the contacts' `client_id`, the
//! duplicate's `merged_into`) are stored at once ([`Store::record_server_writes`]), so the
//! merge shows on this laptop without waiting for the next pull; every other device gets
//! them by its next pull.
//!
//! Every function takes the store as `&mut` (as [`crate::review::resolve_conflict`] does):
//! a `Store` may move between threads but not be shared, and the desktop's commands need
//! futures that can.

use reqwest::Method;
use tandem_protocol::{
    DismissDuplicateRequest, DuplicateCandidate, DuplicateList, DuplicateMerge, DuplicateMergeList,
    DuplicateMergeResponse, MergeDuplicateRequest,
};
use tandem_store::Store;
use uuid::Uuid;

use crate::SyncError;
use crate::engine::Clock;
use crate::planner;
use crate::transport::HttpTransport;

impl HttpTransport {
    /// `GET /v1/duplicates` (team leads).
    pub async fn duplicates(&self) -> Result<DuplicateList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/duplicates", None)
            .await
    }

    /// `POST /v1/duplicates/merge` (team leads).
    pub async fn merge_duplicate(
        &self,
        request: &MergeDuplicateRequest,
    ) -> Result<DuplicateMergeResponse, SyncError> {
        self.call(Method::POST, "/v1/duplicates/merge", Some(request))
            .await
    }

    /// `GET /v1/duplicates/merges` (team leads).
    pub async fn duplicate_merges(&self) -> Result<DuplicateMergeList, SyncError> {
        self.call::<(), _>(Method::GET, "/v1/duplicates/merges", None)
            .await
    }

    /// `POST /v1/duplicates/merge/{id}/undo` (team leads).
    pub async fn undo_duplicate_merge(
        &self,
        id: Uuid,
    ) -> Result<DuplicateMergeResponse, SyncError> {
        let path = format!("/v1/duplicates/merge/{id}/undo");
        self.call::<(), _>(Method::POST, &path, None).await
    }

    /// `POST /v1/duplicates/dismiss` (team leads).
    pub async fn dismiss_duplicate(
        &self,
        request: &DismissDuplicateRequest,
    ) -> Result<(), SyncError> {
        self.call(Method::POST, "/v1/duplicates/dismiss", Some(request))
            .await
    }
}

/// Refuses anyone but a team lead before asking the server.
fn require_team_lead(store: &Store, what: &str) -> Result<(), SyncError> {
    let sign_in = store.sign_in()?.ok_or(SyncError::NotSignedIn)?;
    if sign_in.role == "team_lead" {
        Ok(())
    } else {
        Err(SyncError::Forbidden {
            message: format!("only a team lead {what}"),
        })
    }
}

/// The team's candidate pairs, best first (team leads; needs a connection).
pub async fn duplicate_candidates(
    store: &mut Store,
    transport: &HttpTransport,
) -> Result<Vec<DuplicateCandidate>, SyncError> {
    require_team_lead(store, "reviews duplicate clients")?;
    Ok(transport.duplicates().await?.candidates)
}

/// The team's merges, newest first, for undoing one (team leads; needs a connection).
pub async fn duplicate_merges(
    store: &mut Store,
    transport: &HttpTransport,
) -> Result<Vec<DuplicateMerge>, SyncError> {
    require_team_lead(store, "reviews duplicate clients")?;
    Ok(transport.duplicate_merges().await?.merges)
}

/// Merges `duplicate` into `survivor` on the server and stores the server's changes.
/// A refusal (a client deleted or merged meanwhile) is [`SyncError::Server`] with status
/// 409 and the server's sentence.
pub async fn merge_duplicate(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    survivor: Uuid,
    duplicate: Uuid,
) -> Result<DuplicateMerge, SyncError> {
    require_team_lead(store, "merges duplicate clients")?;
    let answer = transport
        .merge_duplicate(&MergeDuplicateRequest {
            survivor_id: survivor,
            duplicate_id: duplicate,
        })
        .await?;
    store_answer(store, clock, &answer)?;
    Ok(answer.merge)
}

/// Undoes merge `id` on the server and stores the server's changes. When something
/// changed since that the undo would overwrite, the server refuses (409, its sentence says
/// what) and nothing changes.
pub async fn undo_duplicate_merge(
    store: &mut Store,
    transport: &HttpTransport,
    clock: &dyn Clock,
    id: Uuid,
) -> Result<DuplicateMerge, SyncError> {
    require_team_lead(store, "undoes a merge")?;
    let answer = transport.undo_duplicate_merge(id).await?;
    store_answer(store, clock, &answer)?;
    Ok(answer.merge)
}

/// Records on the server that two clients are not one person; the pair is not proposed
/// again.
pub async fn dismiss_duplicate(
    store: &mut Store,
    transport: &HttpTransport,
    first: Uuid,
    second: Uuid,
) -> Result<(), SyncError> {
    require_team_lead(store, "dismisses duplicate candidates")?;
    transport
        .dismiss_duplicate(&DismissDuplicateRequest {
            first_id: first,
            second_id: second,
        })
        .await
}

fn store_answer(
    store: &mut Store,
    clock: &dyn Clock,
    answer: &DuplicateMergeResponse,
) -> Result<(), SyncError> {
    let writes: Vec<_> = answer.changes.iter().map(planner::server_write).collect();
    store.record_server_writes(&writes, clock.now())?;
    Ok(())
}
