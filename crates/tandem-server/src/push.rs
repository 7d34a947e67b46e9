//! The pure part of a push: validating incoming changes against tandem-domain's field
//! catalogue, and deciding what a valid change does to a field, using tandem-domain's merge
//! rules. Backends only do the I/O around these decisions, so SQLite and PostgreSQL decide
//! alike.

use tandem_domain::merge::{self, Resolution, Side, Write};
use tandem_domain::{
    Entity, FieldSpec, FieldValue, Hlc, LAWFUL_BASIS_FIELD, MergePolicy, Record, RecordId,
    ValidationContext, check_lawful_basis, field_spec,
};
use tandem_protocol::{ChangeIn, ChangeResult, ChangeStatus, ConflictStatus, RejectCode};
use uuid::Uuid;

use std::collections::HashSet;

use crate::store::Epochs;
use crate::store::privacy::linked_record;

/// A writer's HLC more than this far ahead of the server's clock marks a clock-skewed write.
pub const CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// How far ahead of the server's clock a change's HLC is taken at its word: a day and an hour,
/// the drift a device's own clock follows a remote one by
/// ([`tandem_domain::DEFAULT_MAX_DRIFT_MS`]). An HLC further ahead (a laptop whose date is set
/// days wrong, or a crafted `9999999999999-99999-x`) is stored as this far ahead and no further
/// ([`bounded_hlc`]): taken at its word it would win every later lww comparison of its field
/// (a colleague's concurrent edits silently losing for days, or for good), and the server's own
/// HLCs, made after every HLC involved, would be dragged along with it. It is not refused:
/// skew never blocks sync (DESIGN.md), and a laptop's HLC never goes back, so a refused laptop
/// would stay refused after its clock was set right, until real time caught up.
pub const MAX_CLOCK_AHEAD_MS: u64 = tandem_domain::DEFAULT_MAX_DRIFT_MS;

/// A change that passed validation.
#[derive(Debug, Clone)]
pub struct ValidChange {
    /// The idempotency key.
    pub change_id: Uuid,
    /// The field written (and so its entity and policy).
    pub spec: &'static FieldSpec,
    /// The record written.
    pub record_id: Uuid,
    /// The canonical value.
    pub value: FieldValue,
    /// The version the device last saw.
    pub base_version: u64,
    /// The write's clock.
    pub hlc: Hlc,
    /// The writer.
    pub author_id: Uuid,
}

/// Why a change is refused: the code a device explains it by in its user's language, and
/// the server's own words, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What kind of refusal it is.
    pub code: RejectCode,
    /// Why, naming the field.
    pub reason: String,
}

impl Refusal {
    /// A refusal of the kind `code`.
    pub fn new(code: RejectCode, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason: reason.into(),
        }
    }

    /// The answer to the change `change_id` that this refuses.
    pub fn result(self, change_id: Uuid) -> ChangeResult {
        ChangeResult {
            change_id,
            status: ChangeStatus::Rejected,
            version: 0,
            value: serde_json::Value::Null,
            conflict_id: None,
            reason: Some(self.reason),
            reason_code: Some(self.code),
        }
    }
}

/// The answer to a change as the server stores it for a repeat of the push (`applied_changes`):
/// the answer itself, except that the words of a refusal that may quote the refused value
/// are not kept. An `invalid_value` refusal quotes it (`email: \`…\` …`; a refusal of a code
/// this list does not know might too), and a refused change has no row in the change log, so
/// an erasure of its record would not find the words. A repeat (a lost response) gets the same
/// status and code; the device has the change and its value itself, and the first answer's
/// words were shown when it came. The other codes' words name fields, ids of users and sites,
/// clocks and versions, never a record's value, and are kept as they were.
pub fn stored_answer(answer: &ChangeResult) -> ChangeResult {
    let mut stored = answer.clone();
    let words_quote_no_value = matches!(
        stored.reason_code,
        Some(
            RejectCode::UnknownField
                | RejectCode::UnknownSite
                | RejectCode::UserNotInTeam
                | RejectCode::LawfulBasisRequired
                | RejectCode::LawfulBasisInUse
                | RejectCode::RecordErased
                | RejectCode::OtherTeam
                | RejectCode::InvalidChange
        )
    );
    if stored.status == ChangeStatus::Rejected && !words_quote_no_value {
        let code = stored.reason_code.map_or("other", RejectCode::as_str);
        stored.reason = Some(format!(
            "refused as {code}; the reason first given is not kept, as it may quote the value \
             (this answer is to a push sent again)"
        ));
    }
    stored
}

/// A change as the store receives it: valid, or already refused with a reason.
#[derive(Debug, Clone)]
pub enum PreparedChange {
    /// Passed validation; the store decides what it does.
    Valid(ValidChange),
    /// Refused before touching the store; acknowledged as `rejected`.
    Invalid {
        /// The idempotency key.
        change_id: Uuid,
        /// Why.
        refusal: Refusal,
    },
}

impl PreparedChange {
    /// The change's id.
    pub fn change_id(&self) -> Uuid {
        match self {
            PreparedChange::Valid(change) => change.change_id,
            PreparedChange::Invalid { change_id, .. } => *change_id,
        }
    }
}

/// Validates one wire change with the domain's rules. `author_id` must be the signed-in
/// user: a device cannot write in someone else's name. `received_ms` is the server's clock
/// when the push arrived: an HLC more than [`MAX_CLOCK_AHEAD_MS`] ahead of it is taken as that
/// far ahead.
pub fn prepare_change(
    change: &ChangeIn,
    author_id: Uuid,
    ctx: ValidationContext,
    received_ms: i64,
) -> PreparedChange {
    let invalid = |code, reason: String| PreparedChange::Invalid {
        change_id: change.change_id,
        refusal: Refusal::new(code, reason),
    };
    let entity = match Entity::parse(&change.entity) {
        Ok(entity) => entity,
        Err(err) => return invalid(RejectCode::UnknownField, err.to_string()),
    };
    let spec = match field_spec(entity, &change.field) {
        Ok(spec) => spec,
        Err(err) => return invalid(RejectCode::UnknownField, err.to_string()),
    };
    if is_written_by_the_server_only(spec) {
        return invalid(
            RejectCode::InvalidChange,
            format!(
                "{}: only the server writes it, when a team lead merges duplicate clients or \
                 undoes a merge (POST /v1/duplicates/merge); a device cannot",
                spec.name
            ),
        );
    }
    let value = match spec.parse_json(&change.value, ctx) {
        Ok(value) => value,
        Err(err) => return invalid(RejectCode::InvalidValue, err.to_string()),
    };
    let hlc = match Hlc::parse(&change.hlc) {
        Ok(hlc) => hlc,
        Err(err) => {
            return invalid(
                RejectCode::InvalidChange,
                format!("{}: {err}", change.field),
            );
        }
    };
    let hlc = bounded_hlc(hlc, received_ms);
    if change.author_id != author_id {
        return invalid(
            RejectCode::InvalidChange,
            format!("{}: author_id is not the signed-in user", change.field),
        );
    }
    PreparedChange::Valid(ValidChange {
        change_id: change.change_id,
        spec,
        record_id: change.record_id,
        value,
        base_version: change.base_version,
        hlc,
        author_id,
    })
}

/// The fields no device writes: a client's `merged_into`, which only a team lead's duplicate
/// merge and its undo write (`duplicates.rs`), together with the `duplicate_merges` row an undo
/// needs. A device's write of it would hide a client from every list and search with nothing
/// to undo, and make the erasure of the client it names erase this one too (erasure follows
/// `merged_into`). It is refused as `invalid_change`: no app writes it, so only a faulty or
/// outdated client sends it.
const SERVER_WRITTEN_FIELDS: [(Entity, &str); 1] = [(Entity::Client, "merged_into")];

/// Whether only the server writes the field `spec` (see [`SERVER_WRITTEN_FIELDS`]).
pub fn is_written_by_the_server_only(spec: &FieldSpec) -> bool {
    SERVER_WRITTEN_FIELDS.contains(&(spec.entity, spec.name))
}

/// The site a valid change writes, if it writes one: a contact's `site` set to an id.
pub fn site_written(change: &PreparedChange) -> Option<&str> {
    match change {
        PreparedChange::Valid(valid) => site_named(valid),
        PreparedChange::Invalid { .. } => None,
    }
}

/// The site `valid` sets a contact's `site` to, if it does (clearing it names none).
fn site_named(valid: &ValidChange) -> Option<&str> {
    (valid.spec.entity == Entity::Contact && valid.spec.name == SITE_FIELD)
        .then(|| valid.value.as_text())
        .flatten()
}

/// Refuses every change that sets a contact's site to an id no site has (`known`: every
/// site's id, archived ones included: an old contact may be corrected at closed premises).
pub fn refuse_unknown_sites(
    prepared: Vec<PreparedChange>,
    known: &std::collections::HashSet<Uuid>,
) -> Vec<PreparedChange> {
    refuse_valid_changes(prepared, |valid| {
        let site = site_named(valid)?;
        (!Uuid::parse_str(site).is_ok_and(|id| known.contains(&id))).then(|| {
            Refusal::new(
                RejectCode::UnknownSite,
                format!("site: no site has the id {site} (the server's sites: GET /v1/sites)"),
            )
        })
    })
}

/// Refuses each valid change for which `why` gives a reason; only that change: the record's
/// other fields still arrive.
fn refuse_valid_changes(
    prepared: Vec<PreparedChange>,
    why: impl Fn(&ValidChange) -> Option<Refusal>,
) -> Vec<PreparedChange> {
    prepared
        .into_iter()
        .map(|change| match &change {
            PreparedChange::Valid(valid) => match why(valid) {
                Some(refusal) => PreparedChange::Invalid {
                    change_id: valid.change_id,
                    refusal,
                },
                None => change,
            },
            PreparedChange::Invalid { .. } => change,
        })
        .collect()
}

/// The records of a batch and the records its changes link to (a contact's `client_id`):
/// what a backend looks up among the erased records and those refused for an erased link
/// before it applies the batch (see [`records_barred_by_erasure`]).
pub fn records_and_links(changes: &[PreparedChange]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = changes
        .iter()
        .filter_map(|change| match change {
            PreparedChange::Valid(valid) => Some(valid.record_id),
            PreparedChange::Invalid { .. } => None,
        })
        .collect();
    ids.extend(changes.iter().filter_map(|change| match change {
        PreparedChange::Valid(valid) => linked_record(valid.spec.name, &valid.value.to_json()),
        PreparedChange::Invalid { .. } => None,
    }));
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The records of a batch none of whose changes is kept, given `erased` (which of
/// [`records_and_links`] are erased, or were refused before for an erased link): a record
/// that is itself one of them, and a record one of whose changes links it to one (a contact
/// logged offline for a client erased meanwhile: its summary must not reach the server
/// without its client). A barred record the server does not hold (never stored, or erased
/// and written again) is remembered by the backend (`refused_records`), so that its later
/// changes, which come one per field and need not carry the link again, are refused too
/// instead of creating it without its client.
pub fn records_barred_by_erasure(
    changes: &[PreparedChange],
    erased: &HashSet<Uuid>,
) -> HashSet<Uuid> {
    changes
        .iter()
        .filter_map(|change| match change {
            PreparedChange::Valid(valid) => Some(valid),
            PreparedChange::Invalid { .. } => None,
        })
        .filter(|valid| {
            erased.contains(&valid.record_id)
                || linked_record(valid.spec.name, &valid.value.to_json())
                    .is_some_and(|target| erased.contains(&target))
        })
        .map(|valid| valid.record_id)
        .collect()
}

/// Why a change of a record barred by an erasure is refused (see
/// [`records_barred_by_erasure`]).
pub fn barred_refusal(field: &str) -> Refusal {
    Refusal::new(
        RejectCode::RecordErased,
        format!(
            "{field}: the record was erased, or is linked to an erased client, so none of its \
             changes is kept"
        ),
    )
}

/// The field of a contact that names its site.
const SITE_FIELD: &str = "site";

/// The fields that name a user of the record's team: a contact's coach, and who recorded a
/// client's consent.
const USER_FIELDS: [(Entity, &str); 2] = [
    (Entity::Contact, "coach_id"),
    (Entity::Client, "consent_by"),
];

/// The user that writing `value` to the field `spec` names, if the field names a user and
/// `value` is not null (clearing the field names no one).
pub fn user_named<'a>(spec: &FieldSpec, value: &'a FieldValue) -> Option<&'a str> {
    if USER_FIELDS.contains(&(spec.entity, spec.name)) {
        value.as_text()
    } else {
        None
    }
}

/// The user a valid change names, if it names one (see [`user_named`]).
pub fn user_written(change: &PreparedChange) -> Option<&str> {
    match change {
        PreparedChange::Valid(valid) => user_named(valid.spec, &valid.value),
        PreparedChange::Invalid { .. } => None,
    }
}

/// Why writing `value` to the field `spec` is refused, if it names a user who is not one of
/// `members` (the ids of the team's users): a contact's coach or a client's consent giver
/// must be someone the team's devices can name (`GET /v1/users`).
///
/// The check is made on each change that writes such a field, from this version on. Values
/// stored earlier (an older server took any id, say from `tandem contact add --coach`) may
/// name a non-member: they stay as they are, and a change to another field of that record is
/// not checked against them. Users never leave a team, so a value accepted here keeps naming
/// a member, unless a restore from a backup loses the user; IT then adds them again with
/// their id (`admin user add --id`).
pub fn user_outside_team(
    spec: &FieldSpec,
    value: &FieldValue,
    members: &std::collections::HashSet<Uuid>,
) -> Option<Refusal> {
    let user = user_named(spec, value)?;
    if Uuid::parse_str(user).is_ok_and(|id| members.contains(&id)) {
        return None;
    }
    // The field first, then what is wrong and who can change it.
    Some(Refusal::new(
        RejectCode::UserNotInTeam,
        format!(
            "{}: {user} is not a user of this team (IT adds users to teams; the team's users: \
             GET /v1/users)",
            spec.name
        ),
    ))
}

/// Refuses every change that names a user outside the team (see [`user_outside_team`]).
/// Only that change is refused: the record's other fields still arrive.
pub fn refuse_users_outside_team(
    prepared: Vec<PreparedChange>,
    members: &std::collections::HashSet<Uuid>,
) -> Vec<PreparedChange> {
    refuse_valid_changes(prepared, |valid| {
        user_outside_team(valid.spec, &valid.value, members)
    })
}

/// Gives every change based on a seq that a restore lost (`Epochs::is_lost`) the base
/// version 0: the server no longer knows the value it was based on, so the change is
/// concurrent with whatever stands, and the field's policy decides (a review field goes to
/// review, a set keeps both sides' members, lww follows the HLC). Without this it would be
/// refused as "newer than the field's version", or, had the seq been handed out again,
/// silently taken as based on a value its writer never saw.
pub fn forget_lost_bases(
    mut prepared: Vec<PreparedChange>,
    epochs: &Epochs,
) -> Vec<PreparedChange> {
    for change in &mut prepared {
        if let PreparedChange::Valid(change) = change
            && epochs.is_lost(change.base_version)
        {
            change.base_version = 0;
        }
    }
    prepared
}

/// The order in which a batch is applied (indexes into `changes`): writes of a lawful basis
/// first, then every other change in the order sent, and clearings of a lawful basis last.
/// So a batch that records a basis and special-category data together, or clears both, passes
/// the consent gate whatever order the device sent it in, while each change is still checked
/// against what actually stands (a basis that lost a conflict does not count).
pub fn application_order(changes: &[PreparedChange]) -> Vec<usize> {
    let rank = |change: &PreparedChange| match change {
        PreparedChange::Valid(valid) if valid.spec.name == LAWFUL_BASIS_FIELD => {
            if valid.value.is_null() { 2 } else { 0 }
        }
        _ => 1,
    };
    let mut order: Vec<usize> = (0..changes.len()).collect();
    order.sort_by_key(|&index| rank(&changes[index]));
    order
}

/// The consent gate of one change (the rule is [`check_lawful_basis`]): `standing` are the
/// record's consent-gated fields as they stand now (see
/// [`tandem_domain::consent_gate_fields`]). Returns why to refuse the change, if it must be.
pub fn consent_gate(
    change: &ValidChange,
    standing: impl IntoIterator<Item = (&'static FieldSpec, FieldValue)>,
) -> Option<Refusal> {
    consent_gate_write(change.spec, change.record_id, &change.value, standing)
}

/// The consent gate of writing `value` to the field `spec` of a record (a change pushed by a
/// device, or a team lead's resolution of a conflict): see [`consent_gate`].
pub fn consent_gate_write(
    spec: &'static FieldSpec,
    record_id: Uuid,
    value: &FieldValue,
    standing: impl IntoIterator<Item = (&'static FieldSpec, FieldValue)>,
) -> Option<Refusal> {
    let mut record = Record::empty(spec.entity, RecordId::from_uuid(record_id));
    for (standing_spec, standing_value) in standing {
        record.set(standing_spec, standing_value);
    }
    record.set(spec, value.clone());
    // The rule names the field the write breaks it by: the basis when it is cleared.
    let code = if spec.name == LAWFUL_BASIS_FIELD {
        RejectCode::LawfulBasisInUse
    } else {
        RejectCode::LawfulBasisRequired
    };
    check_lawful_basis(&record, &[spec.name])
        .err()
        .map(|err| Refusal::new(code, err.to_string()))
}

/// The authoritative state of a field, as the store holds it.
#[derive(Debug, Clone)]
pub struct CurrentField {
    /// Its value.
    pub value: FieldValue,
    /// The seq of its last write.
    pub version: u64,
    /// The HLC of its last write.
    pub hlc: Hlc,
    /// Who wrote it.
    pub author_id: Uuid,
    /// The change that wrote it.
    pub change_id: Uuid,
    /// When the server received that write (Unix ms).
    pub recorded_ms: i64,
}

/// What a valid change does to its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not concurrent: the change's value becomes the field's value.
    Apply,
    /// Concurrent but equal to what stands: nothing changes.
    Same,
    /// `set`/`text`: the field becomes the combination (a valid value of the field).
    Merge(FieldValue),
    /// `lww` (auto-resolved), or `review`, overlapping `text` or a `set`/`text` combination
    /// past the field's limits (open): `winner` stands.
    Conflict {
        /// The side whose value stands.
        winner: Side,
        /// Auto-resolved or open.
        status: ConflictStatus,
    },
    /// The change names a version the field never had.
    Refuse(Refusal),
}

/// Whether a change is concurrent with the field's last write, so the store must load the
/// base value (the field's value at `base_version`).
pub fn is_concurrent(current: Option<&CurrentField>, base_version: u64) -> bool {
    current.is_some_and(|current| base_version < current.version)
}

/// Decides what `incoming` does to a field whose state is `current`. `base` is the value at
/// the change's `base_version`; it is only looked at when the writes are concurrent.
/// Concurrency is `base_version < version`, never a comparison of clocks. `ctx` is the day
/// the push arrived: a combination of concurrent writes is validated on it like any value
/// (one that breaks the field's limits goes to review instead).
pub fn decide(
    current: Option<&CurrentField>,
    base: &FieldValue,
    incoming: &ValidChange,
    ctx: ValidationContext,
) -> Decision {
    let field = incoming.spec.name;
    let Some(current) = current else {
        return if incoming.base_version == 0 {
            Decision::Apply
        } else {
            Decision::Refuse(Refusal::new(
                RejectCode::InvalidChange,
                format!(
                    "{field}: base_version {} but the field has never been written",
                    incoming.base_version
                ),
            ))
        };
    };
    if incoming.base_version == current.version {
        return Decision::Apply;
    }
    if incoming.base_version > current.version {
        return Decision::Refuse(Refusal::new(
            RejectCode::InvalidChange,
            format!(
                "{field}: base_version {} is newer than the field's version {}",
                incoming.base_version, current.version
            ),
        ));
    }
    let resolution = merge::resolve_concurrent(
        incoming.spec,
        base,
        Write {
            value: &current.value,
            hlc: &current.hlc,
        },
        Write {
            value: &incoming.value,
            hlc: &incoming.hlc,
        },
        ctx,
    );
    match resolution {
        Resolution::Same => Decision::Same,
        Resolution::Merged(value) => Decision::Merge(value),
        Resolution::AutoResolved { winner } => Decision::Conflict {
            winner,
            status: ConflictStatus::AutoResolved,
        },
        Resolution::NeedsReview { provisional } => Decision::Conflict {
            winner: provisional,
            status: ConflictStatus::Open,
        },
    }
}

/// `hlc`, or, when it is more than [`MAX_CLOCK_AHEAD_MS`] ahead of the server's clock at
/// `received_ms`, the HLC that far ahead with the writer's counter and node (see there). Such
/// a write still counts as clock-skewed ([`is_clock_skewed`]), so its conflicts say so.
pub fn bounded_hlc(hlc: Hlc, received_ms: i64) -> Hlc {
    let limit = u64::try_from(received_ms)
        .unwrap_or(0)
        .saturating_add(MAX_CLOCK_AHEAD_MS);
    if hlc.physical_ms() <= limit {
        return hlc;
    }
    Hlc::new(limit, hlc.logical(), hlc.node()).unwrap_or(hlc)
}

/// Whether a write's clock ran more than five minutes ahead of the server when it arrived.
/// A clock behind the server is normal (the device was offline) and is not skew.
pub fn is_clock_skewed(hlc: &Hlc, received_ms: i64) -> bool {
    let received = u64::try_from(received_ms).unwrap_or(0);
    hlc.physical_ms() > received.saturating_add(CLOCK_SKEW_MS)
}

/// The HLC of a write the server makes on a field (a merge or a resolution): later than
/// every HLC involved, so it wins any later lww comparison against them.
pub fn server_hlc<'a>(involved: impl IntoIterator<Item = &'a Hlc>, now_ms: i64) -> Hlc {
    let now = u64::try_from(now_ms).unwrap_or(0);
    let latest = involved
        .into_iter()
        .max()
        .map(|hlc| (hlc.physical_ms(), hlc.logical()))
        .unwrap_or((0, 0));
    let start = Hlc::new(latest.0, latest.1, SERVER_NODE)
        .expect("an existing HLC's time with the node `server` is a valid HLC");
    let mut clock = tandem_domain::HlcClock::resume(start);
    clock.tick(now)
}

/// The node name of HLCs the server makes.
pub const SERVER_NODE: &str = "server";

/// The policy name as documents and the wire write it.
pub fn policy_name(policy: MergePolicy) -> &'static str {
    policy.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::{Value as Json, json};

    fn ctx() -> ValidationContext {
        ValidationContext::new(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap())
    }

    /// The server's clock in these tests: 2026-01-15T10:00:00Z.
    const NOW_MS: i64 = 1_768_471_200_000;

    fn change(field: &str, value: serde_json::Value, base_version: u64, hlc: &str) -> ChangeIn {
        ChangeIn {
            change_id: Uuid::from_u128(1),
            entity: "client".into(),
            record_id: Uuid::from_u128(2),
            field: field.into(),
            value,
            base_version,
            hlc: hlc.into(),
            author_id: Uuid::from_u128(3),
        }
    }

    fn valid(change: &ChangeIn) -> ValidChange {
        match prepare_change(change, Uuid::from_u128(3), ctx(), NOW_MS) {
            PreparedChange::Valid(valid) => valid,
            PreparedChange::Invalid { refusal, .. } => panic!("{refusal:?}"),
        }
    }

    fn current(of: &ValidChange, version: u64) -> CurrentField {
        CurrentField {
            value: of.value.clone(),
            version,
            hlc: of.hlc.clone(),
            author_id: of.author_id,
            change_id: of.change_id,
            recorded_ms: 0,
        }
    }

    #[test]
    fn unknown_fields_invalid_values_and_bad_clocks_are_refused_with_the_field_named() {
        let mut other_entity = change("nickname", json!("Ami"), 0, "1764000000000-00000-d");
        other_entity.entity = "visit".into();
        let cases = [
            (
                change("shoe_size", json!(42), 0, "1764000000000-00000-d"),
                "shoe_size",
                RejectCode::UnknownField,
            ),
            (other_entity, "visit", RejectCode::UnknownField),
            (
                change("birth_year", json!("old"), 0, "1764000000000-00000-d"),
                "birth_year",
                RejectCode::InvalidValue,
            ),
            (
                change("nickname", json!("Ami"), 0, "yesterday"),
                "nickname",
                RejectCode::InvalidChange,
            ),
        ];
        for (case, expected, code) in cases {
            match prepare_change(&case, Uuid::from_u128(3), ctx(), NOW_MS) {
                PreparedChange::Invalid { refusal, .. } => {
                    assert!(refusal.reason.contains(expected), "{refusal:?}");
                    assert_eq!(refusal.code, code, "{refusal:?}");
                }
                PreparedChange::Valid(_) => panic!("{expected} accepted"),
            }
        }
    }

    #[test]
    fn a_stored_refusal_keeps_its_status_and_code_but_not_the_value_it_quoted() {
        let c = change(
            "email",
            json!("amina at example"),
            0,
            "1764000000000-00000-d",
        );
        let PreparedChange::Invalid { refusal, .. } =
            prepare_change(&c, Uuid::from_u128(3), ctx(), NOW_MS)
        else {
            panic!("an invalid email accepted");
        };
        let answer = refusal.result(c.change_id);
        assert!(
            answer
                .reason
                .as_deref()
                .unwrap()
                .contains("amina at example")
        );
        let stored = stored_answer(&answer);
        assert_eq!(
            (
                stored.status,
                stored.reason_code,
                stored.version,
                &stored.value
            ),
            (
                answer.status,
                answer.reason_code,
                answer.version,
                &answer.value
            )
        );
        assert!(
            !stored.reason.as_deref().unwrap().contains("amina"),
            "{stored:?}"
        );
        assert!(stored.reason.as_deref().unwrap().contains("invalid_value"));
        let applied = ChangeResult {
            change_id: c.change_id,
            status: ChangeStatus::Applied,
            version: 7,
            value: json!("Ami"),
            conflict_id: None,
            reason: None,
            reason_code: None,
        };
        assert_eq!(
            stored_answer(&applied),
            applied,
            "only refusals lose their words"
        );
    }

    #[test]
    fn a_device_writing_merged_into_is_refused_whatever_the_value() {
        for value in [json!(Uuid::from_u128(5).to_string()), Json::Null] {
            let c = change("merged_into", value, 0, "1764000000000-00000-d");
            match prepare_change(&c, Uuid::from_u128(3), ctx(), NOW_MS) {
                PreparedChange::Invalid { refusal, .. } => {
                    assert_eq!(refusal.code, RejectCode::InvalidChange);
                    assert!(refusal.reason.starts_with("merged_into: "), "{refusal:?}");
                }
                PreparedChange::Valid(_) => panic!("merged_into accepted from a device"),
            }
        }
    }

    #[test]
    fn a_change_in_someone_elses_name_is_refused() {
        let c = change("nickname", json!("Ami"), 0, "1764000000000-00000-d");
        match prepare_change(&c, Uuid::from_u128(99), ctx(), NOW_MS) {
            PreparedChange::Invalid { refusal, .. } => {
                assert_eq!(refusal.code, RejectCode::InvalidChange)
            }
            PreparedChange::Valid(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_write_on_the_current_version_applies_and_an_older_one_goes_to_the_policy() {
        let first = valid(&change(
            "nickname",
            json!("Ami"),
            0,
            "1764000000000-00000-a",
        ));
        let state = current(&first, 5);
        let on_top = valid(&change(
            "nickname",
            json!("Mina"),
            5,
            "1764000000001-00000-b",
        ));
        assert_eq!(
            decide(Some(&state), &FieldValue::NULL, &on_top, ctx()),
            Decision::Apply
        );
        let concurrent = valid(&change(
            "nickname",
            json!("Mina"),
            0,
            "1764000000001-00000-b",
        ));
        assert_eq!(
            decide(Some(&state), &FieldValue::NULL, &concurrent, ctx()),
            Decision::Conflict {
                winner: Side::Incoming,
                status: ConflictStatus::AutoResolved
            }
        );
        let future = valid(&change(
            "nickname",
            json!("Mina"),
            9,
            "1764000000001-00000-b",
        ));
        assert!(matches!(
            decide(Some(&state), &FieldValue::NULL, &future, ctx()),
            Decision::Refuse(Refusal {
                code: RejectCode::InvalidChange,
                ..
            })
        ));
    }

    #[test]
    fn a_batch_applies_basis_writes_first_and_basis_clearings_last() {
        let prepared = |field: &str, value| {
            prepare_change(
                &change(field, value, 0, "1764000000000-00000-d"),
                Uuid::from_u128(3),
                ctx(),
                NOW_MS,
            )
        };
        let batch = [
            prepared("disability", json!("yes")),
            prepared("lawful_basis", Json::Null),
            prepared("nickname", json!("Ami")),
            prepared("lawful_basis", json!("consent")),
            prepared("shoe_size", json!(42)),
        ];
        assert_eq!(application_order(&batch), [3, 0, 2, 4, 1]);
    }

    #[test]
    fn the_consent_gate_judges_a_change_against_what_stands() {
        let gated = |name| field_spec(Entity::Client, name).unwrap();
        let disability = valid(&change(
            "disability",
            json!("no"),
            0,
            "1764000000000-00000-d",
        ));
        let basis = |value: Json| {
            (
                gated("lawful_basis"),
                gated("lawful_basis").parse_json(&value, ctx()).unwrap(),
            )
        };
        let refusal = consent_gate(&disability, [basis(Json::Null)]).unwrap();
        assert!(
            refusal
                .reason
                .starts_with("disability: special-category data"),
            "{refusal:?}"
        );
        assert_eq!(refusal.code, RejectCode::LawfulBasisRequired);
        assert_eq!(
            consent_gate(&disability, [basis(json!("public_task"))]),
            None
        );
        let clear = valid(&change(
            "lawful_basis",
            Json::Null,
            0,
            "1764000000000-00000-d",
        ));
        let standing = (gated("disability"), disability.value.clone());
        let refusal = consent_gate(&clear, [basis(json!("consent")), standing]).unwrap();
        assert!(
            refusal
                .reason
                .starts_with("lawful_basis: cannot be cleared"),
            "{refusal:?}"
        );
        assert_eq!(refusal.code, RejectCode::LawfulBasisInUse);
    }

    #[test]
    fn a_clock_ahead_by_more_than_five_minutes_is_skewed_and_one_behind_is_not() {
        let hlc = Hlc::parse("1764000400000-00000-a").unwrap();
        assert!(is_clock_skewed(&hlc, 1_764_000_000_000));
        assert!(!is_clock_skewed(&hlc, 1_764_000_200_000));
        assert!(!is_clock_skewed(&hlc, 1_864_000_000_000));
    }

    #[test]
    fn a_clock_more_than_25_hours_ahead_of_the_server_is_taken_as_25_hours_ahead() {
        let hour = 3_600_000;
        let at = |ms: i64| Hlc::new(ms as u64, 7, "d").unwrap().to_string();
        let limit = at(NOW_MS + 25 * hour);
        for (sent, stored) in [
            (at(NOW_MS), at(NOW_MS)),
            (at(NOW_MS - 30 * 24 * hour), at(NOW_MS - 30 * 24 * hour)),
            (limit.clone(), limit.clone()),
            (at(NOW_MS + 25 * hour + 1), limit.clone()),
            (at(NOW_MS + 40 * 24 * hour), limit.clone()),
            (
                "9999999999999-99999-x".to_owned(),
                Hlc::new((NOW_MS + 25 * hour) as u64, 99_999, "x")
                    .unwrap()
                    .to_string(),
            ),
        ] {
            let c = change("nickname", json!("Ami"), 0, &sent);
            match prepare_change(&c, Uuid::from_u128(3), ctx(), NOW_MS) {
                PreparedChange::Valid(valid) => {
                    assert_eq!(valid.hlc.to_string(), stored, "{sent}");
                    assert_eq!(
                        is_clock_skewed(&valid.hlc, NOW_MS),
                        sent != at(NOW_MS) && sent != at(NOW_MS - 30 * 24 * hour),
                        "{sent}"
                    );
                }
                PreparedChange::Invalid { refusal, .. } => panic!("{sent}: {refusal:?}"),
            }
        }
    }

    #[test]
    fn a_server_hlc_after_the_largest_reading_stays_a_readable_hlc() {
        let largest = Hlc::parse("9999999999999-99999-x").unwrap();
        let made = server_hlc([&largest], NOW_MS);
        assert_eq!(Hlc::parse(&made.to_string()).unwrap(), made);
        assert_eq!(made.node(), SERVER_NODE);
    }

    #[test]
    fn a_server_hlc_orders_after_every_hlc_involved() {
        let a = Hlc::parse("1764000400000-00007-a").unwrap();
        let b = Hlc::parse("1764000000000-00000-b").unwrap();
        let made = server_hlc([&a, &b], 1_764_000_000_000);
        assert!(made > a && made > b);
        assert_eq!(made.node(), SERVER_NODE);
    }

    #[test]
    fn a_contact_naming_a_site_the_server_lacks_is_refused_and_a_known_or_empty_one_passes() {
        let known_site = Uuid::from_u128(0x51);
        let contact = |id: u128, value: Json| {
            let mut change = change("site", value, 0, "1768471200000-00000-dev");
            change.entity = "contact".into();
            change.change_id = Uuid::from_u128(id);
            prepare_change(&change, Uuid::from_u128(3), ctx(), NOW_MS)
        };
        let prepared = vec![
            contact(1, json!(known_site.to_string())),
            contact(2, json!(Uuid::from_u128(0x52).to_string())),
            contact(3, Json::Null),
            prepare_change(
                &change("nickname", json!("Ami"), 0, "1768471200000-00000-dev"),
                Uuid::from_u128(3),
                ctx(),
                NOW_MS,
            ),
        ];
        let known = std::collections::HashSet::from([known_site]);
        let checked = refuse_unknown_sites(prepared, &known);
        let refused: Vec<_> = checked
            .iter()
            .map(|change| match change {
                PreparedChange::Valid(_) => None,
                PreparedChange::Invalid { refusal, .. } => Some(refusal),
            })
            .collect();
        assert_eq!(refused[0], None);
        assert!(
            refused[1].is_some_and(|refusal| refusal.code == RejectCode::UnknownSite
                && refusal.reason.starts_with("site: no site has the id")),
            "{refused:?}"
        );
        assert_eq!(
            refused[2..],
            [None, None],
            "clearing a site, and other fields"
        );
    }

    #[test]
    fn a_coach_or_consent_giver_outside_the_team_is_refused_and_a_member_or_null_passes() {
        let member = Uuid::from_u128(0x91);
        let stranger = Uuid::from_u128(0x92);
        let write = |id: u128, entity: &str, field: &str, value: Json| {
            let mut change = change(field, value, 0, "1768471200000-00000-dev");
            change.entity = entity.into();
            change.change_id = Uuid::from_u128(id);
            prepare_change(&change, Uuid::from_u128(3), ctx(), NOW_MS)
        };
        let prepared = vec![
            write(1, "contact", "coach_id", json!(member.to_string())),
            write(2, "contact", "coach_id", json!(stranger.to_string())),
            write(3, "contact", "coach_id", Json::Null),
            write(4, "client", "consent_by", json!(member.to_string())),
            write(5, "client", "consent_by", json!(stranger.to_string())),
            write(6, "client", "consent_by", Json::Null),
            // Other id fields name records, not users.
            write(7, "contact", "client_id", json!(stranger.to_string())),
            write(8, "client", "nickname", json!("Ami")),
        ];
        assert_eq!(
            prepared.iter().filter_map(user_written).collect::<Vec<_>>(),
            [
                member.to_string(),
                stranger.to_string(),
                member.to_string(),
                stranger.to_string()
            ],
            "only non-null coach_id and consent_by name users"
        );
        let members = std::collections::HashSet::from([member]);
        let checked = refuse_users_outside_team(prepared, &members);
        let refused: Vec<_> = checked
            .iter()
            .map(|change| match change {
                PreparedChange::Valid(_) => None,
                PreparedChange::Invalid { change_id, refusal } => {
                    Some((change_id.as_u128(), refusal.clone()))
                }
            })
            .collect();
        let reason = |field: &str| {
            Refusal::new(
                RejectCode::UserNotInTeam,
                format!(
                    "{field}: {stranger} is not a user of this team (IT adds users to teams; \
                     the team's users: GET /v1/users)"
                ),
            )
        };
        assert_eq!(
            refused,
            [
                None,
                Some((2, reason("coach_id"))),
                None,
                None,
                Some((5, reason("consent_by"))),
                None,
                None,
                None,
            ]
        );
        let consent_by = field_spec(Entity::Client, "consent_by").unwrap();
        let stranger_value = consent_by
            .parse_json(&json!(stranger.to_string()), ctx())
            .unwrap();
        assert_eq!(
            user_outside_team(consent_by, &stranger_value, &members),
            Some(reason("consent_by")),
            "the same rule for a team lead's resolution"
        );
    }
}
