//! Every protocol message survives a JSON round trip, and the JSON names are the contract.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tandem_protocol::*;
use uuid::Uuid;

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(message: &T) {
    let text = serde_json::to_string(message).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, message, "{text}");
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800_000).prop_map(|ms| Utc.timestamp_millis_opt(ms).unwrap())
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
        prop::collection::vec(text(), 0..4).prop_map(|v| json!(v)),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Coach), Just(Role::TeamLead), Just(Role::Admin)]
}

fn team() -> impl Strategy<Value = TeamRef> {
    (uuid(), text()).prop_map(|(id, name)| TeamRef { id, name })
}

fn user() -> impl Strategy<Value = UserRef> {
    (uuid(), text()).prop_map(|(id, username)| UserRef { id, username })
}

fn change_in() -> impl Strategy<Value = ChangeIn> {
    (
        uuid(),
        text(),
        uuid(),
        text(),
        value(),
        any::<u64>(),
        text(),
        uuid(),
    )
        .prop_map(
            |(change_id, entity, record_id, field, value, base_version, hlc, author_id)| ChangeIn {
                change_id,
                entity,
                record_id,
                field,
                value,
                base_version,
                hlc,
                author_id,
            },
        )
}

fn status() -> impl Strategy<Value = ChangeStatus> {
    prop_oneof![
        Just(ChangeStatus::Applied),
        Just(ChangeStatus::Merged),
        Just(ChangeStatus::Conflict),
        Just(ChangeStatus::Rejected),
    ]
}

fn change_result() -> impl Strategy<Value = ChangeResult> {
    (
        uuid(),
        status(),
        any::<u64>(),
        value(),
        proptest::option::of(any::<i64>()),
        proptest::option::of(text()),
        proptest::option::of(proptest::sample::select(RejectCode::ALL.to_vec())),
    )
        .prop_map(
            |(change_id, status, version, value, conflict_id, reason, reason_code)| ChangeResult {
                change_id,
                status,
                version,
                value,
                conflict_id,
                reason,
                reason_code,
            },
        )
}

fn pulled_change() -> impl Strategy<Value = PulledChange> {
    (
        any::<u64>(),
        text(),
        uuid(),
        text(),
        value(),
        text(),
        uuid(),
        uuid(),
    )
        .prop_map(
            |(seq, entity, record_id, field, value, hlc, author_id, change_id)| PulledChange {
                seq,
                entity,
                record_id,
                field,
                value,
                version: seq,
                hlc,
                author_id,
                change_id,
            },
        )
}

fn conflict() -> impl Strategy<Value = Conflict> {
    let side = (value(), text(), uuid(), uuid(), any::<bool>()).prop_map(
        |(value, hlc, author_id, change_id, provisional)| ConflictValue {
            value,
            hlc,
            author_id,
            change_id,
            provisional,
        },
    );
    (
        (any::<i64>(), text(), uuid(), text(), text()),
        prop_oneof![
            Just(ConflictStatus::Open),
            Just(ConflictStatus::AutoResolved),
            Just(ConflictStatus::Resolved)
        ],
        (any::<u64>(), value(), prop::collection::vec(side, 0..3)),
        (any::<bool>(), time()),
        (
            proptest::option::of(uuid()),
            proptest::option::of(time()),
            proptest::option::of(uuid()),
        ),
    )
        .prop_map(
            |(
                (id, entity, record_id, field, policy),
                status,
                (base_version, base_value, values),
                (clock_skew, created_at),
                (resolved_by, resolved_at, resolution_change_id),
            )| Conflict {
                id,
                entity,
                record_id,
                field,
                policy,
                status,
                base_version,
                base_value,
                values,
                clock_skew,
                created_at,
                resolved_by,
                resolved_at,
                resolution_change_id,
            },
        )
}

fn device_info() -> impl Strategy<Value = DeviceInfo> {
    (
        (uuid(), text(), user(), proptest::option::of(team())),
        (proptest::option::of(text()), any::<u64>()),
        (proptest::option::of(time()), any::<bool>(), time()),
    )
        .prop_map(
            |(
                (id, name, user, team),
                (app_version, pending_count),
                (last_sync_at, revoked, created_at),
            )| DeviceInfo {
                id,
                name,
                user,
                team,
                app_version,
                pending_count,
                last_sync_at,
                revoked,
                created_at,
            },
        )
}

proptest! {
    #[test]
    fn login_messages_round_trip(
        username in text(), password in text(), device_name in text(),
        team_name in proptest::option::of(text()), user in user(), role in role(),
        teams in prop::collection::vec(team(), 0..3), team in proptest::option::of(team()),
        device_id in uuid(), device_token in text(),
    ) {
        round_trips(&LoginRequest { username, password, device_name, team: team_name });
        round_trips(&LoginResponse { user, role, teams, team, device_id, device_token });
    }

    #[test]
    fn push_messages_round_trip(
        device_id in uuid(), schema_version in any::<u32>(), app_version in text(),
        pending_count in any::<u64>(), changes in prop::collection::vec(change_in(), 0..4),
        server_time in time(), results in prop::collection::vec(change_result(), 0..4),
    ) {
        round_trips(&PushRequest { device_id, schema_version, app_version, pending_count, changes });
        round_trips(&PushResponse { server_time, results, epoch: None });
    }

    #[test]
    fn pull_messages_round_trip(
        after in any::<u64>(), limit in any::<u32>(),
        changes in prop::collection::vec(pulled_change(), 0..4),
        next in any::<u64>(), has_more in any::<bool>(), server_time in time(),
        head in any::<Option<u64>>(),
    ) {
        round_trips(&PullQuery { after, limit });
        round_trips(&PullResponse { changes, next, has_more, server_time, purges: Vec::new(), epoch: None, head });
    }

    #[test]
    fn conflict_messages_round_trip(
        conflicts in prop::collection::vec(conflict(), 0..3), value in value(),
        one in conflict(), change in pulled_change(),
    ) {
        round_trips(&ConflictList { conflicts });
        round_trips(&ResolveConflictRequest { value });
        round_trips(&ResolveConflictResponse { conflict: one, change });
    }

    #[test]
    fn device_and_error_messages_round_trip(
        devices in prop::collection::vec(device_info(), 0..3),
        error in text(), message in text(), status in text(),
        reason_code in proptest::option::of(proptest::sample::select(RejectCode::ALL.to_vec())),
    ) {
        round_trips(&DeviceList { devices });
        round_trips(&ApiErrorBody { error, message, reason_code });
        round_trips(&HealthResponse { status });
    }
}

#[test]
fn push_json_uses_the_names_of_the_design() {
    let request: PushRequest = serde_json::from_value(json!({
        "device_id": "0192f000-0000-7000-8000-000000000001",
        "schema_version": 1,
        "app_version": "0.1.0",
        "pending_count": 1,
        "changes": [{
            "change_id": "0192f000-0000-7000-8000-000000000002",
            "entity": "client",
            "record_id": "0192f000-0000-7000-8000-000000000003",
            "field": "nickname",
            "value": "Ami",
            "base_version": 0,
            "hlc": "1764000000000-00000-dev",
            "author_id": "0192f000-0000-7000-8000-000000000004"
        }]
    }))
    .unwrap();
    assert_eq!(request.changes[0].field, "nickname");
    let result = serde_json::to_value(ChangeResult {
        change_id: request.changes[0].change_id,
        status: ChangeStatus::Applied,
        version: 7,
        value: json!("Ami"),
        conflict_id: None,
        reason: None,
        reason_code: None,
    })
    .unwrap();
    assert_eq!(
        result,
        json!({"change_id": "0192f000-0000-7000-8000-000000000002", "status": "applied",
               "version": 7, "value": "Ami"})
    );
}

#[test]
fn server_time_is_written_in_rfc_3339() {
    let response = PullResponse {
        changes: vec![],
        next: 0,
        has_more: false,
        server_time: Utc.timestamp_millis_opt(1_764_000_000_123).unwrap(),
        purges: Vec::new(),
        epoch: None,
        head: None,
    };
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["server_time"], json!("2025-11-24T16:00:00.123Z"));
}

#[test]
fn a_pull_answer_without_a_head_is_read_as_from_an_older_server() {
    let older = json!({"changes": [], "next": 4, "has_more": true,
                       "server_time": "2025-11-24T16:00:00.123Z"});
    let response: PullResponse = serde_json::from_value(older).unwrap();
    assert_eq!(response.head, None);
    assert!(response.purges.is_empty() && response.epoch.is_none());
}

#[test]
fn the_server_accepts_the_current_and_the_previous_schema_version() {
    assert!(is_supported_schema_version(SCHEMA_VERSION));
    assert!(is_supported_schema_version(SCHEMA_VERSION - 1));
    assert!(!is_supported_schema_version(SCHEMA_VERSION + 1));
}

#[test]
fn roles_use_snake_case_names() {
    for role in [Role::Coach, Role::TeamLead, Role::Admin] {
        assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
}

#[test]
fn a_refusal_carries_its_code_and_a_code_unknown_here_reads_as_other() {
    let refused = ChangeResult {
        change_id: Uuid::from_u128(1),
        status: ChangeStatus::Rejected,
        version: 0,
        value: Value::Null,
        conflict_id: None,
        reason: Some("coach_id: x is not a user of this team".into()),
        reason_code: Some(RejectCode::UserNotInTeam),
    };
    let wire = serde_json::to_value(&refused).unwrap();
    assert_eq!(wire["reason_code"], json!("user_not_in_team"));

    let mut from_a_newer_server = wire.clone();
    from_a_newer_server["reason_code"] = json!("quota_exceeded");
    let read: ChangeResult = serde_json::from_value(from_a_newer_server).unwrap();
    assert_eq!(read.reason_code, Some(RejectCode::Other));
    assert_eq!(read.reason, refused.reason, "the server's words stay");

    let mut from_an_older_server = wire;
    from_an_older_server
        .as_object_mut()
        .unwrap()
        .remove("reason_code");
    let read: ChangeResult = serde_json::from_value(from_an_older_server).unwrap();
    assert_eq!(read.reason_code, None);
}

#[test]
fn every_reject_code_has_its_wire_name_and_parses_back() {
    for code in RejectCode::ALL {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        assert_eq!(RejectCode::parse(code.as_str()), code);
    }
    assert_eq!(RejectCode::parse("quota_exceeded"), RejectCode::Other);
}

#[test]
fn an_error_body_names_its_refusal_only_when_it_is_one() {
    let plain = ApiErrorBody {
        error: "forbidden".into(),
        message: "only a team lead resolves conflicts".into(),
        reason_code: None,
    };
    let wire = serde_json::to_value(&plain).unwrap();
    assert_eq!(wire.get("reason_code"), None, "{wire}");
    // An older server's body, and a newer server's code, both read.
    let read: ApiErrorBody =
        serde_json::from_value(json!({"error": "consent_required", "message": "m"})).unwrap();
    assert_eq!(read.reason_code, None);
    let read: ApiErrorBody = serde_json::from_value(
        json!({"error": "invalid_request", "message": "m", "reason_code": "quota_exceeded"}),
    )
    .unwrap();
    assert_eq!(read.reason_code, Some(RejectCode::Other));
}
