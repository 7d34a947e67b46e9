//! Duplicate clients on the server (docs/duplicates.md): the candidate list a team lead
//! reviews (matching by `tandem-dedup`), and the parts of a merge and its undo that both
//! store backends share: which changes to write and when a merge or an undo is refused. The
//! changes are ordinary field writes authored by the team lead, like a conflict resolution,
//! so they reach every device through the pull stream and stay in the field history.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::Value;
use tandem_dedup::{ClientKey, MatchReason, find_candidates};
use tandem_domain::{Entity, FieldValue, Hlc, ValidationContext, field_spec};
use tandem_protocol::{
    DuplicateCandidate, DuplicateClient, DuplicateList, DuplicateMerge, DuplicateReason,
    PulledChange,
};
use uuid::Uuid;

use crate::ServerError;
use crate::store::RecordFields;

/// The client fields a team lead compares side by side (and the matching reads).
pub(crate) const COMPARED_FIELDS: &[&str] = &[
    "given_name",
    "family_name",
    "nickname",
    "birth_year",
    "gender",
    "phone",
    "email",
    "languages",
    "preferred_language",
    "municipality",
    "arrived_in_finland",
    "participant_start",
    "deleted",
    "merged_into",
];

/// The contact fields that decide whose contact it is and whether it counts.
pub(crate) const CONTACT_FIELDS: &[&str] = &["client_id", "deleted"];

/// A pair with the smaller id first, as dismissals are stored.
pub(crate) fn ordered_pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    (a.min(b), a.max(b))
}

fn is_true(values: &serde_json::Map<String, Value>, field: &str) -> bool {
    values.get(field) == Some(&Value::Bool(true))
}

fn text<'a>(values: &'a serde_json::Map<String, Value>, field: &str) -> Option<&'a str> {
    values.get(field).and_then(Value::as_str)
}

/// The candidate pairs among the team's live clients (not deleted, not merged), without
/// the dismissed pairs, best score first.
pub(crate) fn duplicate_list(
    clients: Vec<RecordFields>,
    contacts: &[RecordFields],
    dismissed: &[(Uuid, Uuid)],
) -> DuplicateList {
    let mut contact_counts: HashMap<Uuid, u64> = HashMap::new();
    for contact in contacts.iter().filter(|c| !is_true(&c.values, "deleted")) {
        if let Some(client) = text(&contact.values, "client_id").and_then(|t| t.parse().ok()) {
            *contact_counts.entry(client).or_default() += 1;
        }
    }
    let live: HashMap<Uuid, RecordFields> = clients
        .into_iter()
        .filter(|c| {
            !is_true(&c.values, "deleted") && c.values.get("merged_into").is_none_or(Value::is_null)
        })
        .map(|c| (c.record_id, c))
        .collect();
    let keys: Vec<ClientKey> = live
        .values()
        .filter_map(|c| {
            Some(ClientKey {
                id: c.record_id,
                given_name: text(&c.values, "given_name")?.to_owned(),
                family_name: text(&c.values, "family_name").map(str::to_owned),
                birth_year: c
                    .values
                    .get("birth_year")
                    .and_then(Value::as_i64)
                    .and_then(|y| i32::try_from(y).ok()),
                phone: text(&c.values, "phone").map(str::to_owned),
            })
        })
        .collect();
    let dismissed: BTreeSet<(Uuid, Uuid)> = dismissed.iter().copied().collect();
    let shown = |id: Uuid| {
        let mut fields = live[&id].values.clone();
        fields.remove("deleted");
        fields.remove("merged_into");
        DuplicateClient {
            id,
            fields,
            contact_count: contact_counts.get(&id).copied().unwrap_or(0),
        }
    };
    let candidates = find_candidates(&keys)
        .into_iter()
        .filter(|c| !dismissed.contains(&ordered_pair(c.first, c.second)))
        .map(|c| DuplicateCandidate {
            first: shown(c.first),
            second: shown(c.second),
            reasons: c
                .reasons
                .iter()
                .map(|reason| match reason {
                    MatchReason::SamePhone => DuplicateReason::SamePhone,
                    MatchReason::SameBirthYearAndName => DuplicateReason::SameBirthYearAndName,
                })
                .collect(),
            score: c.score,
        })
        .collect();
    DuplicateList { candidates }
}

/// One field write of a merge or an undo, before it gets its seq.
#[derive(Debug, Clone)]
pub(crate) struct PlannedWrite {
    pub(crate) entity: Entity,
    pub(crate) record_id: Uuid,
    pub(crate) field: &'static str,
    pub(crate) value: FieldValue,
}

impl PlannedWrite {
    /// The write as devices pull it.
    pub(crate) fn pulled(
        &self,
        seq: u64,
        hlc: &Hlc,
        author_id: Uuid,
        change_id: Uuid,
    ) -> PulledChange {
        PulledChange {
            seq,
            entity: self.entity.as_str().to_owned(),
            record_id: self.record_id,
            field: self.field.to_owned(),
            value: self.value.to_json(),
            version: seq,
            hlc: hlc.to_string(),
            author_id,
            change_id,
        }
    }
}

/// The value of an id field (`client_id`, `merged_into`) naming a client.
pub(crate) fn client_ref(entity: Entity, field: &'static str, id: Option<Uuid>) -> FieldValue {
    let spec = field_spec(entity, field).expect("client_id and merged_into are catalogued");
    let json = id.map_or(Value::Null, |id| Value::String(id.to_string()));
    spec.parse_json(&json, ValidationContext::new(NaiveDate::MAX))
        .expect("a UUID or null is a valid id field value")
}

/// The writes of a merge: every contact of the duplicate to the survivor, then the
/// duplicate's `merged_into`.
pub(crate) fn merge_writes(
    survivor: Uuid,
    duplicate: Uuid,
    contacts: &[Uuid],
) -> Vec<PlannedWrite> {
    let mut writes: Vec<PlannedWrite> = contacts
        .iter()
        .map(|&contact| PlannedWrite {
            entity: Entity::Contact,
            record_id: contact,
            field: "client_id",
            value: client_ref(Entity::Contact, "client_id", Some(survivor)),
        })
        .collect();
    writes.push(PlannedWrite {
        entity: Entity::Client,
        record_id: duplicate,
        field: "merged_into",
        value: client_ref(Entity::Client, "merged_into", Some(survivor)),
    });
    writes
}

/// The writes of an undo: the moved contacts back, `merged_into` cleared.
pub(crate) fn undo_writes(merge: &DuplicateMerge) -> Vec<PlannedWrite> {
    let mut writes: Vec<PlannedWrite> = merge
        .contact_ids
        .iter()
        .map(|&contact| PlannedWrite {
            entity: Entity::Contact,
            record_id: contact,
            field: "client_id",
            value: client_ref(Entity::Contact, "client_id", Some(merge.duplicate_id)),
        })
        .collect();
    writes.push(PlannedWrite {
        entity: Entity::Client,
        record_id: merge.duplicate_id,
        field: "merged_into",
        value: client_ref(Entity::Client, "merged_into", None),
    });
    writes
}

/// Refuses a client that is deleted or merged already (`deleted` and `merged_into` as they
/// stand; `None` when never written).
pub(crate) fn check_mergeable(
    id: Uuid,
    deleted: Option<&FieldValue>,
    merged_into: Option<&FieldValue>,
) -> Result<(), ServerError> {
    let refuse = |reason: &str| {
        Err(ServerError::ClientNotMergeable {
            id,
            reason: reason.to_owned(),
        })
    };
    if deleted.and_then(FieldValue::as_bool) == Some(true) {
        return refuse("it is deleted");
    }
    if merged_into.is_some_and(|v| !v.is_null()) {
        return refuse("it was merged into another client already");
    }
    Ok(())
}

/// Refuses to undo a merge that was undone already, whose duplicate's `merged_into` no
/// longer names the survivor, or one of whose moved contacts was moved on since: the undo
/// would overwrite a later decision.
pub(crate) fn check_undoable(
    merge: &DuplicateMerge,
    merged_into_now: Option<&FieldValue>,
    contacts_now: &[Option<FieldValue>],
) -> Result<(), ServerError> {
    let refuse = |reason: String| {
        Err(ServerError::MergeNotUndoable {
            id: merge.id,
            reason,
        })
    };
    if merge.undone_at.is_some() {
        return refuse("it was undone already".to_owned());
    }
    let survivor = client_ref(Entity::Client, "merged_into", Some(merge.survivor_id));
    if merged_into_now != Some(&survivor) {
        return refuse("the duplicate's merged_into was changed since".to_owned());
    }
    let on_survivor = client_ref(Entity::Contact, "client_id", Some(merge.survivor_id));
    let moved_on = contacts_now
        .iter()
        .filter(|now| now.as_ref() != Some(&on_survivor))
        .count();
    if moved_on > 0 {
        return refuse(format!(
            "{moved_on} of its {} contacts were moved to another client since",
            merge.contact_ids.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use serde_json::json;

    fn record(id: u128, values: Value) -> RecordFields {
        RecordFields {
            record_id: Uuid::from_u128(id),
            values: values.as_object().unwrap().clone(),
        }
    }

    fn merge(contacts: usize) -> DuplicateMerge {
        DuplicateMerge {
            id: Uuid::from_u128(9),
            survivor_id: Uuid::from_u128(1),
            duplicate_id: Uuid::from_u128(2),
            contact_ids: (0..contacts)
                .map(|n| Uuid::from_u128(100 + n as u128))
                .collect(),
            merged_by: Uuid::from_u128(7),
            merged_at: DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            undone_by: None,
            undone_at: None,
        }
    }

    #[test]
    fn deleted_merged_and_dismissed_clients_are_not_proposed() {
        let same = json!({"given_name": "Olga", "family_name": "Ivanova", "birth_year": 1972});
        let mut deleted = same.clone();
        deleted["deleted"] = json!(true);
        let mut merged = same.clone();
        merged["merged_into"] = json!(Uuid::from_u128(1).to_string());
        let clients = vec![
            record(1, same.clone()),
            record(
                2,
                json!({"given_name": "Olha", "family_name": "Ivanova", "birth_year": 1972}),
            ),
            record(3, deleted),
            record(4, merged),
        ];
        let contacts = vec![
            record(10, json!({"client_id": Uuid::from_u128(2).to_string()})),
            record(
                11,
                json!({"client_id": Uuid::from_u128(2).to_string(), "deleted": true}),
            ),
        ];
        let list = duplicate_list(clients.clone(), &contacts, &[]);
        assert_eq!(list.candidates.len(), 1);
        let pair = &list.candidates[0];
        assert_eq!(
            (pair.first.id, pair.second.id),
            (Uuid::from_u128(1), Uuid::from_u128(2))
        );
        assert_eq!(pair.reasons, vec![DuplicateReason::SameBirthYearAndName]);
        assert_eq!(pair.second.contact_count, 1);
        assert_eq!(pair.first.fields["given_name"], json!("Olga"));
        assert!(!pair.first.fields.contains_key("deleted"));

        let dismissed = [ordered_pair(Uuid::from_u128(2), Uuid::from_u128(1))];
        assert!(
            duplicate_list(clients, &contacts, &dismissed)
                .candidates
                .is_empty()
        );
    }

    #[test]
    fn a_deleted_or_merged_client_cannot_be_merged() {
        let id = Uuid::from_u128(1);
        assert!(check_mergeable(id, None, None).is_ok());
        let no = client_ref(Entity::Client, "merged_into", None);
        assert!(check_mergeable(id, None, Some(&no)).is_ok());
        let deleted = field_spec(Entity::Client, "deleted")
            .unwrap()
            .parse_json(&json!(true), ValidationContext::new(NaiveDate::MAX))
            .unwrap();
        let err = check_mergeable(id, Some(&deleted), None).unwrap_err();
        assert!(err.to_string().contains("deleted"), "{err}");
        let merged = client_ref(Entity::Client, "merged_into", Some(Uuid::from_u128(5)));
        let err = check_mergeable(id, None, Some(&merged)).unwrap_err();
        assert!(err.to_string().contains("merged"), "{err}");
    }

    #[test]
    fn an_undo_is_refused_when_a_moved_contact_or_merged_into_changed_since() {
        let merge = merge(2);
        let merged_into = client_ref(Entity::Client, "merged_into", Some(merge.survivor_id));
        let on_survivor = Some(client_ref(
            Entity::Contact,
            "client_id",
            Some(merge.survivor_id),
        ));
        let elsewhere = Some(client_ref(
            Entity::Contact,
            "client_id",
            Some(Uuid::from_u128(3)),
        ));
        assert!(
            check_undoable(
                &merge,
                Some(&merged_into),
                &[on_survivor.clone(), on_survivor.clone()]
            )
            .is_ok()
        );
        let err = check_undoable(
            &merge,
            Some(&merged_into),
            &[on_survivor.clone(), elsewhere],
        )
        .unwrap_err();
        assert!(err.to_string().contains("1 of its 2 contacts"), "{err}");
        let cleared = client_ref(Entity::Client, "merged_into", None);
        let err = check_undoable(
            &merge,
            Some(&cleared),
            &[on_survivor.clone(), on_survivor.clone()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("merged_into"), "{err}");
        let undone = DuplicateMerge {
            undone_at: Some(DateTime::from_timestamp(1_764_000_000, 0).unwrap()),
            ..merge
        };
        let err = check_undoable(&undone, Some(&merged_into), &[]).unwrap_err();
        assert!(err.to_string().contains("undone already"), "{err}");
    }

    #[test]
    fn a_merge_moves_every_contact_then_marks_the_duplicate_and_an_undo_reverses_it() {
        let merge = merge(2);
        let writes = merge_writes(merge.survivor_id, merge.duplicate_id, &merge.contact_ids);
        assert_eq!(writes.len(), 3);
        assert_eq!(
            writes[0].value.to_json(),
            json!(merge.survivor_id.to_string())
        );
        assert_eq!(
            (writes[2].field, writes[2].record_id),
            ("merged_into", merge.duplicate_id)
        );
        let back = undo_writes(&merge);
        assert_eq!(
            back[1].value.to_json(),
            json!(merge.duplicate_id.to_string())
        );
        assert!(back[2].value.is_null());
    }
}
