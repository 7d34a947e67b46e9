//! The pure half of the engine: it turns outbox rows into push requests and the server's
//! answers into the changes the store makes, and checks that the answers fit the questions.
//! No I/O and no clock, so every rule here is tested with plain data.

use std::collections::HashMap;

use serde_json::Value as Json;
use tandem_protocol::{
    ChangeIn, ChangeStatus, Conflict, PullResponse, PulledChange, PushRequest, PushResponse,
    SCHEMA_VERSION, Site, TeamUser,
};
use tandem_store::{
    LocalConflict, MirroredConflict, OutboxChange, PurgedRecord, PushAck, PushOutcome, ServerWrite,
};
use uuid::Uuid;

use crate::SyncError;

/// At most this many changes per push (DESIGN.md: about 500 or 1 MB).
pub const MAX_BATCH_CHANGES: usize = 500;

/// At most this many bytes of changes per push.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// The page size asked for when pulling: the server's largest (`MAX_PULL_LIMIT`), about
/// 320 KB of JSON for a page of new records. Each page costs a commit with its cursor and a
/// request with its own server transaction, so an initial sync of a million values goes
/// twice as far per commit as with pages of 500; an interrupted sync redoes at most one page.
pub const PULL_PAGE_SIZE: u32 = tandem_protocol::MAX_PULL_LIMIT;

/// A push ready to send, and the outbox rows it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct PushPlan {
    /// The request body.
    pub request: PushRequest,
    /// How many records its changes belong to. A push of one record is not cut further: a
    /// 413 for it ends the push (`engine.rs`).
    pub records: usize,
}

/// Builds the next push from the head of the outbox (`Store::outbox_batch`): whole records,
/// taken in the order of their oldest change, until `max_changes` or `max_bytes` of JSON
/// would be exceeded; the changes go in outbox order. Returns `None` for an empty outbox.
///
/// A record's changes never straddle two pushes, because the server judges some rules per
/// batch: it refuses every change of a record whose batch links it to an erased client (a
/// contact logged offline for a client erased meanwhile: without the link, its summary
/// would be stored), and it lets special-category data pass with the lawful basis sent in
/// the same batch. The cut falls before the first record that does not fit. The first
/// record always goes, whole, even when it alone is over a limit: these limits are ours,
/// well below the server's (1000 changes, 4 MiB by default), and one record holds at most
/// one change per field.
pub fn plan_push(
    device_id: Uuid,
    author_id: Option<Uuid>,
    pending_count: u64,
    outbox: &[OutboxChange],
    max_changes: usize,
    max_bytes: usize,
) -> Result<Option<PushPlan>, SyncError> {
    // The records in the order of their first change here, each with its changes.
    let mut records: Vec<Vec<&OutboxChange>> = Vec::new();
    let mut place: HashMap<(&str, Uuid), usize> = HashMap::new();
    for row in outbox {
        let at = *place
            .entry((row.entity.as_str(), row.record_id))
            .or_insert_with(|| {
                records.push(Vec::new());
                records.len() - 1
            });
        records[at].push(row);
    }
    let mut taken: Vec<(&OutboxChange, ChangeIn)> = Vec::new();
    let mut record_count = 0;
    let mut bytes = 0usize;
    for rows in &records {
        let mut changes = Vec::with_capacity(rows.len());
        let mut size = 0usize;
        for row in rows {
            let change = change_in(row, author_id)?;
            size += serde_json::to_vec(&change).map_or(0, |v| v.len()) + 1;
            changes.push((*row, change));
        }
        if record_count > 0
            && (taken.len() + changes.len() > max_changes || bytes + size > max_bytes)
        {
            break;
        }
        record_count += 1;
        bytes += size;
        taken.extend(changes);
    }
    if taken.is_empty() {
        return Ok(None);
    }
    taken.sort_by_key(|(row, _)| row.seq);
    Ok(Some(PushPlan {
        records: record_count,
        request: PushRequest {
            device_id,
            schema_version: SCHEMA_VERSION,
            app_version: crate::APP_VERSION.to_owned(),
            pending_count,
            changes: taken.into_iter().map(|(_, change)| change).collect(),
        },
    }))
}

/// One outbox row on the wire. `author_id` in the outbox is a user id once signed in; a row
/// whose author is not a UUID (none should remain after sign-in) is sent in the signed-in
/// user's name only if one is given, else it is an error.
fn change_in(row: &OutboxChange, signed_in: Option<Uuid>) -> Result<ChangeIn, SyncError> {
    let value: Json = serde_json::from_str(&row.value).map_err(|error| SyncError::Protocol {
        detail: format!(
            "outbox change {} holds a value that is not JSON: {error}",
            row.change_id
        ),
    })?;
    let author_id = match (Uuid::parse_str(&row.author_id), signed_in) {
        (Ok(author), _) => author,
        (Err(_), Some(user)) => user,
        (Err(_), None) => return Err(SyncError::NotSignedIn),
    };
    Ok(ChangeIn {
        change_id: row.change_id,
        entity: row.entity.clone(),
        record_id: row.record_id,
        field: row.field.clone(),
        value,
        base_version: row.base_version,
        hlc: row.hlc.clone(),
        author_id,
    })
}

/// The server's answers as store acknowledgements, after checking that there is exactly one
/// answer per change sent, in order. A mismatched answer is refused whole: storing half of it
/// could drop a change the server never saw.
pub fn acknowledgements(
    request: &PushRequest,
    response: &PushResponse,
) -> Result<Vec<PushAck>, SyncError> {
    if request.changes.len() != response.results.len() {
        return Err(SyncError::Protocol {
            detail: format!(
                "the push carried {} changes but the server answered {}",
                request.changes.len(),
                response.results.len()
            ),
        });
    }
    request
        .changes
        .iter()
        .zip(&response.results)
        .map(|(sent, result)| {
            if sent.change_id != result.change_id {
                return Err(SyncError::Protocol {
                    detail: format!(
                        "the server answered change {} where {} was sent",
                        result.change_id, sent.change_id
                    ),
                });
            }
            let outcome = match result.status {
                ChangeStatus::Rejected => PushOutcome::Rejected {
                    reason: result
                        .reason
                        .clone()
                        .unwrap_or_else(|| format!("{}: refused by the server", sent.field)),
                    reason_code: result.reason_code.map(|code| code.as_str().to_owned()),
                },
                ChangeStatus::Applied | ChangeStatus::Merged | ChangeStatus::Conflict => {
                    if result.version == 0 {
                        return Err(SyncError::Protocol {
                            detail: format!(
                                "change {} was accepted without a version",
                                result.change_id
                            ),
                        });
                    }
                    PushOutcome::Stored {
                        version: result.version,
                        value: result.value.to_string(),
                        conflict_id: if result.status == ChangeStatus::Conflict {
                            result.conflict_id
                        } else {
                            None
                        },
                    }
                }
            };
            Ok(PushAck {
                change_id: result.change_id,
                outcome,
            })
        })
        .collect()
}

/// One change the server committed as the store keeps it.
pub fn server_write(change: &PulledChange) -> ServerWrite {
    ServerWrite {
        seq: change.seq,
        entity: change.entity.clone(),
        record_id: change.record_id,
        field: change.field.clone(),
        value: change.value.to_string(),
        version: change.version,
        hlc: change.hlc.clone(),
        author_id: change.author_id,
    }
}

/// A pulled page as store writes, after checking that it continues after `after` in seq
/// order and that its cursor moves forward.
pub fn server_writes(after: u64, page: &PullResponse) -> Result<Vec<ServerWrite>, SyncError> {
    if page.next < after {
        return Err(SyncError::Protocol {
            detail: format!("the pull cursor went back from {after} to {}", page.next),
        });
    }
    let mut last = after;
    let mut writes = Vec::with_capacity(page.changes.len());
    for change in &page.changes {
        if change.seq <= last || change.seq > page.next {
            return Err(SyncError::Protocol {
                detail: format!(
                    "pulled change seq {} is out of order (after {last}, next {})",
                    change.seq, page.next
                ),
            });
        }
        last = change.seq;
        writes.push(server_write(change));
    }
    if page.has_more && page.next == after {
        return Err(SyncError::Protocol {
            detail: "the server says more changes wait but the cursor did not move".to_owned(),
        });
    }
    Ok(writes)
}

/// The records a pulled page says were erased or purged, after checking that each lies
/// between the cursor and `next` and that they come in seq order.
pub fn purged_records(after: u64, page: &PullResponse) -> Result<Vec<PurgedRecord>, SyncError> {
    let mut last = after;
    page.purges
        .iter()
        .map(|purge| {
            if purge.seq <= last || purge.seq > page.next {
                return Err(SyncError::Protocol {
                    detail: format!(
                        "purge seq {} is out of order (after {last}, next {})",
                        purge.seq, page.next
                    ),
                });
            }
            last = purge.seq;
            Ok(PurgedRecord {
                seq: purge.seq,
                entity: purge.entity.clone(),
                record_id: purge.record_id,
            })
        })
        .collect()
}

/// The server's sites as the store keeps them.
pub fn stored_sites(sites: &[Site]) -> Vec<tandem_store::Site> {
    sites
        .iter()
        .map(|site| tandem_store::Site {
            id: site.id,
            name: site.name.clone(),
            archived: site.archived,
        })
        .collect()
}

/// The team's users as the store keeps them.
pub fn stored_team_users(users: &[TeamUser]) -> Vec<tandem_store::TeamUser> {
    users
        .iter()
        .map(|user| tandem_store::TeamUser {
            id: user.id,
            username: user.username.clone(),
            role: user.role.as_str().to_owned(),
        })
        .collect()
}

/// The server's conflict list as the store mirrors it.
pub fn mirrored_conflicts(conflicts: &[Conflict]) -> Vec<MirroredConflict> {
    conflicts
        .iter()
        .map(|c| MirroredConflict {
            conflict: LocalConflict {
                id: c.id,
                entity: c.entity.clone(),
                record_id: c.record_id,
                field: c.field.clone(),
                policy: c.policy.clone(),
                status: match c.status {
                    tandem_protocol::ConflictStatus::Open => "open",
                    tandem_protocol::ConflictStatus::AutoResolved => "auto_resolved",
                    tandem_protocol::ConflictStatus::Resolved => "resolved",
                }
                .to_owned(),
                detail: serde_json::to_string(c).ok(),
            },
        })
        .collect()
}

/// The epoch of a server answer, as the store keeps it.
pub fn server_epoch(epoch: &tandem_protocol::DatabaseEpoch) -> tandem_store::ServerEpoch {
    tandem_store::ServerEpoch {
        id: epoch.id,
        start_seq: epoch.start_seq,
        restored_seq: epoch.restored_seq,
        previous_id: epoch.previous_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use tandem_protocol::{ChangeResult, RejectCode};

    fn row(seq: i64, field: &str, value: &str) -> OutboxChange {
        OutboxChange {
            seq,
            change_id: Uuid::from_u128(seq as u128),
            entity: "client".into(),
            record_id: Uuid::from_u128(0xabc),
            field: field.into(),
            value: value.into(),
            base_version: 3,
            hlc: format!("1768471200000-{seq:05}-node"),
            author_id: Uuid::from_u128(0x9000).to_string(),
            created_at: "2026-01-15T10:00:00Z".into(),
        }
    }

    fn result(change: &ChangeIn, status: ChangeStatus, version: u64, value: Json) -> ChangeResult {
        ChangeResult {
            change_id: change.change_id,
            status,
            version,
            value,
            conflict_id: (status == ChangeStatus::Conflict).then_some(7),
            reason: (status == ChangeStatus::Rejected).then(|| "nickname: too long".to_owned()),
            reason_code: (status == ChangeStatus::Rejected).then_some(RejectCode::InvalidValue),
        }
    }

    fn time() -> chrono::DateTime<Utc> {
        Utc.timestamp_millis_opt(1_768_471_200_000).unwrap()
    }

    #[test]
    fn an_empty_outbox_plans_no_push() {
        assert_eq!(
            plan_push(Uuid::nil(), None, 0, &[], 500, 1 << 20).unwrap(),
            None
        );
    }

    #[test]
    fn a_push_carries_outbox_rows_in_order_with_their_json_values_and_base_versions() {
        let rows = [
            row(1, "nickname", "\"Ami\""),
            row(2, "tags", "[\"a\",\"b\"]"),
        ];
        let plan = plan_push(Uuid::from_u128(5), None, 9, &rows, 500, 1 << 20)
            .unwrap()
            .unwrap();
        let request = plan.request;
        assert_eq!(request.device_id, Uuid::from_u128(5));
        assert_eq!(request.pending_count, 9);
        assert_eq!(request.schema_version, SCHEMA_VERSION);
        assert_eq!(request.changes.len(), 2);
        assert_eq!(request.changes[0].value, json!("Ami"));
        assert_eq!(request.changes[1].value, json!(["a", "b"]));
        assert_eq!(request.changes[1].base_version, 3);
        assert_eq!(request.changes[0].author_id, Uuid::from_u128(0x9000));
    }

    /// A change of record `record` (one field each, `field`).
    fn change_of(seq: i64, record: u128, field: &str) -> OutboxChange {
        OutboxChange {
            record_id: Uuid::from_u128(record),
            ..row(seq, field, "\"x\"")
        }
    }

    /// The records of a plan's changes, one entry per change, in the order sent.
    fn records_sent(plan: &PushPlan) -> Vec<u128> {
        plan.request
            .changes
            .iter()
            .map(|c| c.record_id.as_u128())
            .collect()
    }

    fn one_change_size(change: &OutboxChange) -> usize {
        serde_json::to_vec(&change_in(change, None).unwrap())
            .unwrap()
            .len()
            + 1
    }

    #[test]
    fn a_push_stops_at_the_change_count_or_byte_limit_but_always_carries_one_change() {
        let rows: Vec<_> = (1..=10)
            .map(|i| change_of(i, i as u128, "nickname"))
            .collect();
        let by_count = plan_push(Uuid::nil(), None, 10, &rows, 4, 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!(records_sent(&by_count), [1, 2, 3, 4]);
        assert_eq!(by_count.records, 4);
        let one_size = one_change_size(&rows[0]);
        let by_bytes = plan_push(Uuid::nil(), None, 10, &rows, 500, one_size * 3)
            .unwrap()
            .unwrap();
        assert_eq!(by_bytes.request.changes.len(), 3);
        let tiny = plan_push(Uuid::nil(), None, 10, &rows, 500, 1)
            .unwrap()
            .unwrap();
        assert_eq!(tiny.request.changes.len(), 1);
    }

    /// The server judges some rules per batch (a link to an erased client refuses every
    /// change of the record; a lawful basis opens the gate for special-category data sent
    /// with it), so a record's changes never straddle two pushes.
    #[test]
    fn a_push_cuts_between_records_and_never_inside_one() {
        // Record 1 has three changes, record 2 two, record 3 one; 1 and 2 interleave.
        let rows = [
            change_of(1, 1, "given_name"),
            change_of(2, 2, "client_id"),
            change_of(3, 1, "family_name"),
            change_of(4, 2, "summary"),
            change_of(5, 1, "nickname"),
            change_of(6, 3, "given_name"),
        ];
        let plan = |max_changes, max_bytes| {
            records_sent(
                &plan_push(Uuid::nil(), None, 6, &rows, max_changes, max_bytes)
                    .unwrap()
                    .unwrap(),
            )
        };
        // In outbox order, whole records only.
        assert_eq!(plan(500, 1 << 20), [1, 2, 1, 2, 1, 3]);
        assert_eq!(
            plan(5, 1 << 20),
            [1, 2, 1, 2, 1],
            "not the 6th: record 3 waits"
        );
        assert_eq!(
            plan(4, 1 << 20),
            [1, 1, 1],
            "record 2 would be cut after one change"
        );
        assert_eq!(plan(3, 1 << 20), [1, 1, 1]);
        let size = one_change_size(&rows[0]);
        assert_eq!(plan(500, size * 4), [1, 1, 1], "the same by bytes");
        assert_eq!(plan(500, size * 5), [1, 2, 1, 2, 1]);
    }

    #[test]
    fn a_record_over_the_limits_goes_alone_and_whole() {
        let rows = [
            change_of(1, 1, "given_name"),
            change_of(2, 1, "family_name"),
            change_of(3, 1, "nickname"),
            change_of(4, 2, "given_name"),
        ];
        for (max_changes, max_bytes) in [(2, 1 << 20), (1, 1 << 20), (500, 10), (0, 0)] {
            let plan = plan_push(Uuid::nil(), None, 4, &rows, max_changes, max_bytes)
                .unwrap()
                .unwrap();
            assert_eq!(records_sent(&plan), [1, 1, 1], "{max_changes} {max_bytes}");
            assert_eq!(plan.records, 1);
        }
    }

    #[test]
    fn a_pre_sign_in_author_is_sent_in_the_signed_in_users_name_or_refused() {
        let mut early = row(1, "nickname", "\"x\"");
        early.author_id = "node-1".into();
        let user = Uuid::from_u128(77);
        let plan = plan_push(Uuid::nil(), Some(user), 1, &[early.clone()], 500, 1 << 20)
            .unwrap()
            .unwrap();
        assert_eq!(plan.request.changes[0].author_id, user);
        assert!(matches!(
            plan_push(Uuid::nil(), None, 1, &[early], 500, 1 << 20),
            Err(SyncError::NotSignedIn)
        ));
    }

    #[test]
    fn answers_become_acknowledgements_by_status() {
        let rows = [
            row(1, "nickname", "\"a\""),
            row(2, "given_name", "\"b\""),
            row(3, "tags", "[\"t\"]"),
            row(4, "email", "\"bad\""),
        ];
        let request = plan_push(Uuid::nil(), None, 4, &rows, 500, 1 << 20)
            .unwrap()
            .unwrap()
            .request;
        let c = &request.changes;
        let response = PushResponse {
            server_time: time(),
            results: vec![
                result(&c[0], ChangeStatus::Applied, 10, json!("a")),
                result(&c[1], ChangeStatus::Conflict, 11, json!("other")),
                result(&c[2], ChangeStatus::Merged, 12, json!(["s", "t"])),
                result(&c[3], ChangeStatus::Rejected, 0, Json::Null),
            ],
            epoch: None,
        };
        let acks = acknowledgements(&request, &response).unwrap();
        assert_eq!(
            acks[0].outcome,
            PushOutcome::Stored {
                version: 10,
                value: "\"a\"".into(),
                conflict_id: None
            }
        );
        assert_eq!(
            acks[1].outcome,
            PushOutcome::Stored {
                version: 11,
                value: "\"other\"".into(),
                conflict_id: Some(7)
            }
        );
        assert_eq!(
            acks[2].outcome,
            PushOutcome::Stored {
                version: 12,
                value: "[\"s\",\"t\"]".into(),
                conflict_id: None
            }
        );
        assert_eq!(
            acks[3].outcome,
            PushOutcome::Rejected {
                reason: "nickname: too long".into(),
                reason_code: Some("invalid_value".into()),
            }
        );
    }

    #[test]
    fn answers_that_do_not_match_the_request_are_refused_whole() {
        let rows = [row(1, "nickname", "\"a\""), row(2, "tags", "[]")];
        let request = plan_push(Uuid::nil(), None, 2, &rows, 500, 1 << 20)
            .unwrap()
            .unwrap()
            .request;
        let c = &request.changes;
        let short = PushResponse {
            server_time: time(),
            results: vec![result(&c[0], ChangeStatus::Applied, 1, json!("a"))],
            epoch: None,
        };
        assert!(matches!(
            acknowledgements(&request, &short),
            Err(SyncError::Protocol { .. })
        ));
        let swapped = PushResponse {
            server_time: time(),
            results: vec![
                result(&c[1], ChangeStatus::Applied, 1, json!([])),
                result(&c[0], ChangeStatus::Applied, 2, json!("a")),
            ],
            epoch: None,
        };
        assert!(matches!(
            acknowledgements(&request, &swapped),
            Err(SyncError::Protocol { .. })
        ));
        let versionless = PushResponse {
            server_time: time(),
            results: vec![
                result(&c[0], ChangeStatus::Applied, 0, json!("a")),
                result(&c[1], ChangeStatus::Applied, 2, json!([])),
            ],
            epoch: None,
        };
        assert!(matches!(
            acknowledgements(&request, &versionless),
            Err(SyncError::Protocol { .. })
        ));
    }

    fn pulled(seq: u64) -> PulledChange {
        PulledChange {
            seq,
            entity: "client".into(),
            record_id: Uuid::from_u128(1),
            field: "future_field".into(),
            value: json!({"kept": true}),
            version: seq,
            hlc: "1768471200000-00000-server".into(),
            author_id: Uuid::from_u128(2),
            change_id: Uuid::from_u128(seq as u128),
        }
    }

    #[test]
    fn a_pulled_page_becomes_writes_in_seq_order_keeping_unknown_fields() {
        let page = PullResponse {
            changes: vec![pulled(5), pulled(8)],
            next: 8,
            has_more: true,
            server_time: time(),
            purges: Vec::new(),
            epoch: None,
            head: None,
        };
        let writes = server_writes(4, &page).unwrap();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[1].field, "future_field");
        assert_eq!(writes[1].value, "{\"kept\":true}");
    }

    #[test]
    fn a_page_out_of_order_or_with_a_cursor_going_back_is_refused() {
        let page = |changes, next, has_more| PullResponse {
            changes,
            next,
            has_more,
            server_time: time(),
            purges: Vec::new(),
            epoch: None,
            head: None,
        };
        assert!(server_writes(4, &page(vec![pulled(8), pulled(5)], 8, false)).is_err());
        assert!(server_writes(6, &page(vec![pulled(5)], 5, false)).is_err());
        assert!(server_writes(4, &page(vec![pulled(9)], 8, false)).is_err());
        assert!(server_writes(4, &page(vec![], 4, true)).is_err());
        assert!(
            server_writes(4, &page(vec![], 4, false))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn purges_between_the_cursor_and_next_become_purged_records_in_order() {
        let purge = |seq| tandem_protocol::PulledPurge {
            seq,
            entity: "client".into(),
            record_id: Uuid::from_u128(u128::from(seq)),
        };
        let page = |purges, next| PullResponse {
            changes: vec![pulled(5)],
            next,
            has_more: false,
            server_time: time(),
            purges,
            epoch: None,
            head: None,
        };
        let records = purged_records(4, &page(vec![purge(6), purge(7)], 7)).unwrap();
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![6, 7]
        );
        assert_eq!(records[0].record_id, Uuid::from_u128(6));
        assert!(purged_records(4, &page(vec![purge(7), purge(6)], 7)).is_err());
        assert!(purged_records(6, &page(vec![purge(6)], 7)).is_err());
        assert!(purged_records(4, &page(vec![purge(9)], 7)).is_err());
    }
}
