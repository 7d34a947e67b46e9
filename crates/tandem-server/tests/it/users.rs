//! Users as reference data: the members of a team, which the admin commands make (through
//! the store here) and every device of the team reads from `GET /v1/users`, and the push
//! check that keeps a contact's `coach_id` and a client's `consent_by` naming members of the
//! pushing device's team.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_protocol::{
    ChangeResult, ChangeStatus, RejectCode, Role, TeamRef, TeamUser, UserList, UserRef,
};
use tandem_server::ServerError;
use tandem_server::auth::PasswordHashing;
use tandem_server::clock::Clock;
use uuid::Uuid;

use crate::harness::*;

/// `GET /v1/users` as `device`, which must succeed.
async fn users(server: &TestServer, device: &Device) -> Vec<TeamUser> {
    server.get_ok::<UserList>("/v1/users", device).await.users
}

fn named(users: &[TeamUser]) -> Vec<(&str, Role)> {
    users
        .iter()
        .map(|user| (user.username.as_str(), user.role))
        .collect()
}

/// The id [`start`] gives the user `username` of [`USERS`].
fn user_id(username: &str) -> Uuid {
    let index = USERS
        .iter()
        .position(|(name, _, _)| *name == username)
        .unwrap();
    Uuid::from_u128(0x9000 + index as u128)
}

/// Adds a user with the harness's password to `teams`, as `admin user add` does.
async fn add_user(server: &TestServer, id: Uuid, username: &str, role: Role, teams: &[&str]) {
    try_add_user(server, id, username, role, teams)
        .await
        .unwrap();
}

/// [`add_user`], which may be refused.
async fn try_add_user(
    server: &TestServer,
    id: Uuid,
    username: &str,
    role: Role,
    teams: &[&str],
) -> Result<UserRef, ServerError> {
    let hash = PasswordHashing::fast_insecure_for_tests()
        .hash(PASSWORD)
        .unwrap();
    server
        .store
        .add_user(id, username, &hash, role, &owned(teams), server.clock.now())
        .await
}

/// Makes `username` a member of `teams`, as `admin user join` does; each team's name and
/// whether the user was a member of it already.
async fn join(
    server: &TestServer,
    username: &str,
    teams: &[&str],
) -> Result<Vec<(String, bool)>, ServerError> {
    let memberships = server
        .store
        .add_team_memberships(username, &owned(teams))
        .await?;
    Ok(memberships
        .into_iter()
        .map(|membership| (membership.team.name, membership.already_member))
        .collect())
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// Asserts that `result` was rejected for `field` naming `id`, a user outside the team.
fn assert_refused_as_stranger(result: &ChangeResult, field: &str, id: Uuid) {
    assert_eq!(result.status, ChangeStatus::Rejected, "{result:?}");
    assert_eq!(
        result.reason.as_deref(),
        Some(
            format!(
                "{field}: {id} is not a user of this team (IT adds users to teams; the team's \
                 users: GET /v1/users)"
            )
            .as_str()
        ),
    );
    assert_eq!(result.reason_code, Some(RejectCode::UserNotInTeam));
    assert_eq!((result.version, &result.value), (0, &Value::Null));
}

both_backends!(the_roster_lists_the_callers_team_by_username_with_roles_and_no_other_teams_users);
async fn the_roster_lists_the_callers_team_by_username_with_roles_and_no_other_teams_users(
    backend: Backend,
) {
    // A database that itself sorts as people read (PostgreSQL's ICU root locale), as a
    // production database in a Finnish locale does: the roster's order is still the bytes'.
    let server = start_on(TestDatabase::create_in_language_order(backend).await).await;
    // Byte order puts upper case before lower case, so `Zoe` before `aino`; any order that
    // ignores case, or a language's, puts `aino` first and `Zoe` last.
    add_user(
        &server,
        Uuid::from_u128(0x9101),
        "Zoe",
        Role::TeamLead,
        &["north"],
    )
    .await;
    let aino = Uuid::from_u128(0x9103);
    add_user(&server, aino, "aino", Role::Coach, &["north"]).await;
    // A member of both teams is on both rosters.
    let mira = Uuid::from_u128(0x9102);
    add_user(&server, mira, "mira", Role::Coach, &["north", "south"]).await;

    let coach = server.login("coach_a").await;
    let north = users(&server, &coach).await;
    assert_eq!(
        named(&north),
        [
            ("Zoe", Role::TeamLead),
            ("aino", Role::Coach),
            ("coach_a", Role::Coach),
            ("coach_b", Role::Coach),
            ("lead_n", Role::TeamLead),
            ("mira", Role::Coach),
        ],
        "the team's members only (no south users, no admin), in byte order"
    );
    assert_eq!(north[1].id, aino);
    assert_eq!(north[2].id, user_id("coach_a"));
    assert_eq!(north[5].id, mira);

    let lead_s = server.login("lead_s").await;
    assert_eq!(
        named(&users(&server, &lead_s).await),
        [
            ("coach_s", Role::Coach),
            ("lead_s", Role::TeamLead),
            ("mira", Role::Coach)
        ]
    );
    // The raw JSON is the documented one.
    let reply = server
        .request(Method::GET, "/v1/users", Some(&lead_s.token), None)
        .await;
    assert_eq!(
        reply.body,
        json!({"users": [
            {"id": user_id("coach_s"), "username": "coach_s", "role": "coach"},
            {"id": user_id("lead_s"), "username": "lead_s", "role": "team_lead"},
            {"id": mira, "username": "mira", "role": "coach"},
        ]})
    );
}

both_backends!(listing_users_needs_a_device_of_a_team_and_a_live_token_and_writes_no_audit_entry);
async fn listing_users_needs_a_device_of_a_team_and_a_live_token_and_writes_no_audit_entry(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_b").await;
    let admin = server.login("admin").await;

    let before = server.audit_len().await;
    assert_eq!(users(&server, &coach).await.len(), 3, "a coach reads it");
    assert_eq!(
        server.audit_len().await,
        before,
        "reading users is not audited"
    );

    // An admin's device works for no team, so it has no team's users to list.
    let refused = server
        .request(Method::GET, "/v1/users", Some(&admin.token), None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.error_code(), "forbidden");

    server
        .assert_get_needs_a_live_token("/v1/users", &coach)
        .await;
}

both_backends!(a_contact_naming_a_coach_outside_the_team_loses_that_change_only_and_still_arrives);
async fn a_contact_naming_a_coach_outside_the_team_loses_that_change_only_and_still_arrives(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let strangers = [
        ("a coach of another team", user_id("coach_s")),
        ("an admin of no team", user_id("admin")),
        ("no user at all", Uuid::from_u128(0x9999)),
    ];
    for (who, stranger) in strangers {
        let contact = Uuid::now_v7();
        let field =
            |name: &str, value: Value| change(&coach, "contact", contact, name, value, 0, NOW_MS);
        let results = server
            .push(
                &coach,
                vec![
                    field("occurred_at", json!("2026-01-15T11:00:00+02:00")),
                    field("coach_id", json!(stranger.to_string())),
                    field("channel", json!("drop_in")),
                ],
            )
            .await;
        assert_refused_as_stranger(&results[1], "coach_id", stranger);
        for result in [&results[0], &results[2]] {
            assert_eq!(result.status, ChangeStatus::Applied, "{who}: {result:?}");
        }
        // The contact arrives without the refused coach: no record is lost.
        let pulled: Vec<_> = server
            .pull_all(&coach)
            .await
            .into_iter()
            .filter(|c| c.record_id == contact)
            .map(|c| c.field)
            .collect();
        assert_eq!(pulled, ["occurred_at", "channel"], "{who}");
    }
}

both_backends!(a_coach_id_naming_a_member_of_the_team_is_applied_and_so_is_clearing_it);
async fn a_coach_id_naming_a_member_of_the_team_is_applied_and_so_is_clearing_it(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let contact = Uuid::now_v7();
    // A colleague (here the team lead) logs a contact in the coach's name, and a member of
    // two teams counts in each.
    let mira = Uuid::from_u128(0x9102);
    add_user(&server, mira, "mira", Role::Coach, &["north", "south"]).await;
    let set = |value: Value, base_version| {
        change(
            &coach,
            "contact",
            contact,
            "coach_id",
            value,
            base_version,
            NOW_MS,
        )
    };
    let mut version = 0;
    for member in [coach.user_id, user_id("lead_n"), mira] {
        let results = server
            .push(&coach, vec![set(json!(member.to_string()), version)])
            .await;
        assert_eq!(results[0].status, ChangeStatus::Applied, "{results:?}");
        assert_eq!(results[0].value, json!(member.to_string()));
        version = results[0].version;
    }
    let cleared = server.push(&coach, vec![set(Value::Null, version)]).await;
    assert_eq!(cleared[0].status, ChangeStatus::Applied, "{cleared:?}");
    assert_eq!(cleared[0].value, Value::Null);
}

both_backends!(
    consent_by_naming_a_user_outside_the_team_is_refused_and_a_member_or_null_is_applied
);
async fn consent_by_naming_a_user_outside_the_team_is_refused_and_a_member_or_null_is_applied(
    backend: Backend,
) {
    let server = start(backend).await;
    let lead = server.login("lead_n").await;
    let client = Uuid::now_v7();
    let field = |name: &str, value: Value, base_version| {
        change(&lead, "client", client, name, value, base_version, NOW_MS)
    };
    let stranger = user_id("lead_s");
    let results = server
        .push(
            &lead,
            vec![
                field("given_name", json!("Amina"), 0),
                field("consent", json!("recorded"), 0),
                field("consent_by", json!(stranger.to_string()), 0),
            ],
        )
        .await;
    assert_eq!(results[0].status, ChangeStatus::Applied, "{results:?}");
    assert_eq!(results[1].status, ChangeStatus::Applied, "{results:?}");
    assert_refused_as_stranger(&results[2], "consent_by", stranger);
    let random = Uuid::from_u128(0x9998);
    let refused = server
        .push(
            &lead,
            vec![field("consent_by", json!(random.to_string()), 0)],
        )
        .await;
    assert_refused_as_stranger(&refused[0], "consent_by", random);

    let recorded = server
        .push(
            &lead,
            vec![field(
                "consent_by",
                json!(user_id("coach_b").to_string()),
                0,
            )],
        )
        .await;
    assert_eq!(recorded[0].status, ChangeStatus::Applied, "{recorded:?}");
    let cleared = server
        .push(
            &lead,
            vec![field("consent_by", Value::Null, recorded[0].version)],
        )
        .await;
    assert_eq!(cleared[0].status, ChangeStatus::Applied, "{cleared:?}");
    let pulled: Vec<_> = server
        .pull_all(&lead)
        .await
        .into_iter()
        .map(|c| (c.field, c.value))
        .collect();
    assert_eq!(
        pulled,
        [
            ("given_name".to_owned(), json!("Amina")),
            ("consent".to_owned(), json!("recorded")),
            ("consent_by".to_owned(), json!(user_id("coach_b"))),
            ("consent_by".to_owned(), Value::Null),
        ],
        "every write that stood, and never the refused ones"
    );
}

both_backends!(resolving_a_consent_by_conflict_with_a_user_outside_the_team_is_refused);
async fn resolving_a_consent_by_conflict_with_a_user_outside_the_team_is_refused(backend: Backend) {
    let server = start(backend).await;
    let (a, b) = (server.login("coach_a").await, server.login("coach_b").await);
    let (client, v) = create_client(&server, &a, &[("consent_by", json!(a.user_id))]).await;
    let by = |device: &Device, hlc_ms| {
        change(
            device,
            "client",
            client,
            "consent_by",
            json!(device.user_id),
            v[0],
            hlc_ms,
        )
    };
    server.push(&a, vec![by(&a, NOW_MS + 1_000)]).await;
    let second = server.push(&b, vec![by(&b, NOW_MS + 2_000)]).await;
    assert_eq!(second[0].status, ChangeStatus::Conflict, "{second:?}");
    let path = format!("/v1/conflicts/{}/resolve", second[0].conflict_id.unwrap());

    let lead = server.login("lead_n").await;
    let resolve = |value: Value| {
        server.request(
            Method::POST,
            &path,
            Some(&lead.token),
            Some(json!({ "value": value })),
        )
    };
    let stranger = user_id("coach_s");
    let refused = resolve(json!(stranger)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_code(), "invalid_request");
    assert_eq!(refused.body["reason_code"], "user_not_in_team");
    assert_eq!(
        refused.body["message"],
        format!(
            "consent_by: {stranger} is not a user of this team (IT adds users to teams; the \
             team's users: GET /v1/users)"
        )
    );
    let resolved = resolve(json!(a.user_id)).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["change"]["value"], json!(a.user_id));
}

both_backends!(a_user_a_restore_lost_is_added_again_with_their_id_and_a_taken_id_changes_nothing);
async fn a_user_a_restore_lost_is_added_again_with_their_id_and_a_taken_id_changes_nothing(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    // A coach added after the backup a restore went back to: laptops still name their id.
    let lost = Uuid::from_u128(0x9104);
    let contact = Uuid::now_v7();
    let coached_by_lost = || {
        change(
            &coach,
            "contact",
            contact,
            "coach_id",
            json!(lost),
            0,
            NOW_MS,
        )
    };
    let pushed_before = coached_by_lost();
    let refused = server.push(&coach, vec![pushed_before.clone()]).await;
    assert_refused_as_stranger(&refused[0], "coach_id", lost);

    // `admin user add --id`: the same id, so what laptops hold names them again.
    add_user(&server, lost, "coach_new", Role::Coach, &["north"]).await;
    let north = users(&server, &coach).await;
    assert!(
        north
            .iter()
            .any(|user| (user.id, user.username.as_str()) == (lost, "coach_new")),
        "{north:?}"
    );
    let applied = server.push(&coach, vec![coached_by_lost()]).await;
    assert_eq!(applied[0].status, ChangeStatus::Applied, "{applied:?}");
    assert_eq!(applied[0].value, json!(lost));
    // A change refused before keeps its first answer when sent again (a push is
    // idempotent): IT re-adds lost users before the laptops sync after a restore.
    let repeated = server.push(&coach, vec![pushed_before]).await;
    assert_refused_as_stranger(&repeated[0], "coach_id", lost);

    // An id that is taken is refused whatever the username, and nothing is added.
    let taken = try_add_user(&server, lost, "coach_other", Role::TeamLead, &["south"]).await;
    assert!(
        matches!(&taken, Err(ServerError::UserIdExists(id)) if *id == lost),
        "{taken:?}"
    );
    assert_eq!(
        taken.unwrap_err().to_string(),
        format!("a user with the id {lost} exists already")
    );
    assert!(
        server
            .store
            .login_user("coach_other")
            .await
            .unwrap()
            .is_none()
    );
    let lead_s = server.login("lead_s").await;
    assert_eq!(
        named(&users(&server, &lead_s).await),
        [("coach_s", Role::Coach), ("lead_s", Role::TeamLead)],
        "the refused user joined no team"
    );
    // A taken username with a new id is refused as before.
    let renamed = try_add_user(
        &server,
        Uuid::from_u128(0x9105),
        "coach_new",
        Role::Coach,
        &[],
    )
    .await;
    assert!(
        matches!(&renamed, Err(ServerError::UserExists(name)) if name == "coach_new"),
        "{renamed:?}"
    );
}

both_backends!(a_user_who_joins_another_team_is_on_its_roster_and_joining_again_changes_nothing);
async fn a_user_who_joins_another_team_is_on_its_roster_and_joining_again_changes_nothing(
    backend: Backend,
) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead_s = server.login("lead_s").await;
    let coach_s = user_id("coach_s");
    let contact = Uuid::now_v7();
    let coached_by_coach_s = || {
        change(
            &coach,
            "contact",
            contact,
            "coach_id",
            json!(coach_s),
            0,
            NOW_MS,
        )
    };
    let refused = server.push(&coach, vec![coached_by_coach_s()]).await;
    assert_refused_as_stranger(&refused[0], "coach_id", coach_s);

    // A team named twice is joined once.
    assert_eq!(
        join(&server, "coach_s", &["north", "north"]).await.unwrap(),
        [("north".to_owned(), false)]
    );
    assert_eq!(
        named(&users(&server, &coach).await),
        [
            ("coach_a", Role::Coach),
            ("coach_b", Role::Coach),
            ("coach_s", Role::Coach),
            ("lead_n", Role::TeamLead),
        ],
        "north's roster has the new member"
    );
    let applied = server.push(&coach, vec![coached_by_coach_s()]).await;
    assert_eq!(applied[0].status, ChangeStatus::Applied, "{applied:?}");
    assert_eq!(
        named(&users(&server, &lead_s).await),
        [("coach_s", Role::Coach), ("lead_s", Role::TeamLead)],
        "still a member of their first team"
    );

    // Joining a team again changes nothing and says so, team by team.
    assert_eq!(
        join(&server, "coach_s", &["south", "north"]).await.unwrap(),
        [("south".to_owned(), true), ("north".to_owned(), true)]
    );
    assert_eq!(users(&server, &coach).await.len(), 4);

    // An unknown user or team is refused, and nothing of the command is done (one
    // transaction): coach_b does not join south, which was named before the unknown team.
    let unknown_user = join(&server, "nobody", &["north"]).await;
    assert!(
        matches!(&unknown_user, Err(ServerError::UnknownUser(name)) if name == "nobody"),
        "{unknown_user:?}"
    );
    let unknown_team = join(&server, "coach_b", &["south", "nowhere"]).await;
    assert!(
        matches!(&unknown_team, Err(ServerError::UnknownTeam(name)) if name == "nowhere"),
        "{unknown_team:?}"
    );
    assert_eq!(
        named(&users(&server, &lead_s).await),
        [("coach_s", Role::Coach), ("lead_s", Role::TeamLead)]
    );
}

/// Every team as `admin team list` reads it: name and member count.
async fn listed_teams(server: &TestServer) -> Vec<(String, u64)> {
    server
        .store
        .list_teams()
        .await
        .unwrap()
        .into_iter()
        .map(|summary| (summary.team.name, summary.members))
        .collect()
}

/// The users as `admin user list [--team TEAM]` reads them: username, role and team names.
async fn listed_users(
    server: &TestServer,
    team: Option<&str>,
) -> Result<Vec<(String, Role, Vec<String>)>, ServerError> {
    Ok(server
        .store
        .list_users(team)
        .await?
        .into_iter()
        .map(|summary| {
            let teams = summary.teams.into_iter().map(|team| team.name).collect();
            (summary.user.username, summary.role, teams)
        })
        .collect())
}

both_backends!(
    the_operator_lists_teams_with_member_counts_and_users_with_their_teams_in_byte_order
);
async fn the_operator_lists_teams_with_member_counts_and_users_with_their_teams_in_byte_order(
    backend: Backend,
) {
    // In a database that itself sorts as people read (see the roster test above), the lists'
    // order is still the bytes': upper case before lower case, `Ö` after every ASCII letter.
    let server = start_on(TestDatabase::create_in_language_order(backend).await).await;
    let now = server.clock.now();
    let hakunila = Uuid::from_u128(0x7102);
    server
        .store
        .add_team(hakunila, "Vantaa Hakunila", now)
        .await
        .unwrap();
    let ostersundom = Uuid::from_u128(0x7103);
    server
        .store
        .add_team(ostersundom, "Östersundom", now)
        .await
        .unwrap();
    let zoe = Uuid::from_u128(0x9101);
    add_user(
        &server,
        zoe,
        "Zoe",
        Role::TeamLead,
        &["north", "Vantaa Hakunila"],
    )
    .await;
    add_user(
        &server,
        Uuid::from_u128(0x9103),
        "aino",
        Role::Coach,
        &["Vantaa Hakunila"],
    )
    .await;
    add_user(
        &server,
        Uuid::from_u128(0x9102),
        "mira",
        Role::Coach,
        &["south", "north"],
    )
    .await;

    let teams = server.store.list_teams().await.unwrap();
    assert_eq!(
        teams
            .iter()
            .map(|summary| &summary.team)
            .collect::<Vec<_>>(),
        [
            &TeamRef {
                id: hakunila,
                name: "Vantaa Hakunila".into()
            },
            &TeamRef {
                id: server.team("north"),
                name: "north".into()
            },
            &TeamRef {
                id: server.team("south"),
                name: "south".into()
            },
            &TeamRef {
                id: ostersundom,
                name: "Östersundom".into()
            },
        ]
    );
    assert_eq!(
        listed_teams(&server).await,
        [
            ("Vantaa Hakunila".to_owned(), 2),
            ("north".to_owned(), 5),
            ("south".to_owned(), 3),
            ("Östersundom".to_owned(), 0),
        ],
        "a team of no members is listed too"
    );

    let teams = |names: &[&str]| owned(names);
    let everyone = [
        ("Zoe", Role::TeamLead, teams(&["Vantaa Hakunila", "north"])),
        ("admin", Role::Admin, teams(&[])),
        ("aino", Role::Coach, teams(&["Vantaa Hakunila"])),
        ("coach_a", Role::Coach, teams(&["north"])),
        ("coach_b", Role::Coach, teams(&["north"])),
        ("coach_s", Role::Coach, teams(&["south"])),
        ("lead_n", Role::TeamLead, teams(&["north"])),
        ("lead_s", Role::TeamLead, teams(&["south"])),
        ("mira", Role::Coach, teams(&["north", "south"])),
    ]
    .map(|(name, role, teams)| (name.to_owned(), role, teams));
    assert_eq!(
        listed_users(&server, None).await.unwrap(),
        everyone,
        "every user, the admin of no team too, each with all their teams"
    );
    let users = server.store.list_users(None).await.unwrap();
    assert_eq!(
        users[0].user,
        UserRef {
            id: zoe,
            username: "Zoe".into()
        }
    );
    assert_eq!(users[0].teams[0].id, hakunila);
    assert_eq!(users[3].user.id, user_id("coach_a"));

    // A team's members still show all their teams.
    assert_eq!(
        listed_users(&server, Some("Vantaa Hakunila"))
            .await
            .unwrap(),
        [everyone[0].clone(), everyone[2].clone()]
    );
    assert_eq!(
        listed_users(&server, Some("south")).await.unwrap(),
        [
            everyone[5].clone(),
            everyone[7].clone(),
            everyone[8].clone()
        ]
    );
    assert_eq!(
        listed_users(&server, Some("Östersundom")).await.unwrap(),
        []
    );
    // Team names are matched exactly, as `--team` of `user add` matches them.
    for unknown in ["nowhere", "North"] {
        let refused = listed_users(&server, Some(unknown)).await;
        assert!(
            matches!(&refused, Err(ServerError::UnknownTeam(name)) if name == unknown),
            "{refused:?}"
        );
    }
}
