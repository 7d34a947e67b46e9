//! Authentication and authorisation: every endpoint for every role and team, revoked
//! devices, and the login rate limit.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tandem_protocol::{ChangeStatus, ConflictList, DeviceList, RejectCode, SCHEMA_VERSION};

use tandem_server::store::LoginOutcome;

use crate::harness::*;

/// Makes one open conflict in team north and returns its id.
async fn open_conflict(server: &TestServer, a: &Device, b: &Device) -> i64 {
    let (client, v) = create_client(server, a, &[("given_name", json!("Drita"))]).await;
    server
        .push(
            a,
            vec![change(
                a,
                "client",
                client,
                "given_name",
                json!("Dritë"),
                v[0],
                NOW_MS,
            )],
        )
        .await;
    let r = server
        .push(
            b,
            vec![change(
                b,
                "client",
                client,
                "given_name",
                json!("Dita"),
                v[0],
                NOW_MS,
            )],
        )
        .await;
    r[0].conflict_id.unwrap()
}

both_backends!(every_endpoint_checks_role_and_team);
async fn every_endpoint_checks_role_and_team(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let other = server.login("coach_b").await;
    let lead = server.login("lead_n").await;
    let coach_s = server.login("coach_s").await;
    let lead_s = server.login("lead_s").await;
    let admin = server.login("admin").await;
    let conflict = open_conflict(&server, &coach, &other).await;
    let resolve = format!("/v1/conflicts/{conflict}/resolve");
    let revoke = format!("/v1/devices/{}/revoke", other.id);
    let push_body = |device: &Device| {
        json!({"device_id": device.id, "schema_version": SCHEMA_VERSION, "app_version": "t",
               "pending_count": 0, "changes": []})
    };
    let resolution = json!({"value": "Drita"});
    let (client, _) = create_client(&server, &coach, &[("given_name", json!("Leyla"))]).await;
    let (admins_client, _) = create_client(&server, &coach, &[("given_name", json!("Sami"))]).await;
    let export = format!("/v1/clients/{client}/export");
    let erase = format!("/v1/clients/{client}/erase");
    let admin_erase = format!("/v1/clients/{admins_client}/erase");
    let report = "/v1/reports/participants?from=2026-01-01&to=2026-06-30".to_owned();

    // (who, method, path, body, expected status)
    let cases: Vec<(
        &Device,
        Method,
        String,
        Option<serde_json::Value>,
        StatusCode,
    )> = vec![
        (
            &coach,
            Method::GET,
            "/v1/sync/pull".into(),
            None,
            StatusCode::OK,
        ),
        (
            &lead,
            Method::GET,
            "/v1/sync/pull".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/sync/pull".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &coach,
            Method::POST,
            "/v1/sync/push".into(),
            Some(push_body(&coach)),
            StatusCode::OK,
        ),
        (
            &lead,
            Method::POST,
            "/v1/sync/push".into(),
            Some(push_body(&lead)),
            StatusCode::OK,
        ),
        (
            &admin,
            Method::POST,
            "/v1/sync/push".into(),
            Some(push_body(&admin)),
            StatusCode::FORBIDDEN,
        ),
        // A device may only push as itself.
        (
            &coach,
            Method::POST,
            "/v1/sync/push".into(),
            Some(push_body(&lead)),
            StatusCode::FORBIDDEN,
        ),
        (
            &coach,
            Method::GET,
            "/v1/conflicts".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead,
            Method::GET,
            "/v1/conflicts".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/conflicts".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &coach,
            Method::POST,
            resolve.clone(),
            Some(resolution.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            Method::POST,
            resolve.clone(),
            Some(resolution.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::POST,
            resolve.clone(),
            Some(resolution.clone()),
            StatusCode::NOT_FOUND,
        ),
        (
            &lead,
            Method::POST,
            resolve.clone(),
            Some(resolution.clone()),
            StatusCode::OK,
        ),
        (
            &coach,
            Method::GET,
            "/v1/devices".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead,
            Method::GET,
            "/v1/devices".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/devices".into(),
            None,
            StatusCode::OK,
        ),
        (
            &coach,
            Method::POST,
            revoke.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead,
            Method::POST,
            revoke.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::POST,
            revoke.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (&admin, Method::POST, revoke.clone(), None, StatusCode::OK),
        // The access export: the team lead of the client's team only.
        (
            &coach,
            Method::GET,
            export.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            Method::GET,
            export.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::GET,
            export.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (&lead, Method::GET, export.clone(), None, StatusCode::OK),
        // The audit log: team leads (their team's entries) and admins.
        (
            &coach,
            Method::GET,
            "/v1/audit".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (&lead, Method::GET, "/v1/audit".into(), None, StatusCode::OK),
        (
            &lead_s,
            Method::GET,
            "/v1/audit".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/audit".into(),
            None,
            StatusCode::OK,
        ),
        // Erasure: the team lead of the client's team, or an admin; once only.
        (
            &coach,
            Method::POST,
            erase.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::POST,
            erase.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (&lead, Method::POST, erase.clone(), None, StatusCode::OK),
        (
            &lead,
            Method::POST,
            erase.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            &lead,
            Method::GET,
            export.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            &admin,
            Method::POST,
            admin_erase.clone(),
            None,
            StatusCode::OK,
        ),
        (
            &coach,
            Method::GET,
            report.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (&lead, Method::GET, report.clone(), None, StatusCode::OK),
        (&lead_s, Method::GET, report.clone(), None, StatusCode::OK),
        (
            &admin,
            Method::GET,
            report.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        // Sites are reference data: every role of every team reads them.
        (
            &coach,
            Method::GET,
            "/v1/sites".into(),
            None,
            StatusCode::OK,
        ),
        (
            &lead_s,
            Method::GET,
            "/v1/sites".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/sites".into(),
            None,
            StatusCode::OK,
        ),
        // Users are reference data of a team: every device of a team reads its own team's;
        // an admin's device works for no team.
        (
            &coach,
            Method::GET,
            "/v1/users".into(),
            None,
            StatusCode::OK,
        ),
        (
            &lead_s,
            Method::GET,
            "/v1/users".into(),
            None,
            StatusCode::OK,
        ),
        (
            &admin,
            Method::GET,
            "/v1/users".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
    ];
    for (who, method, path, body, expected) in cases {
        let reply = server
            .request(method.clone(), &path, Some(&who.token), body)
            .await;
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
        if !expected.is_success() {
            assert!(
                !reply.error_code().is_empty(),
                "{method} {path}: {}",
                reply.body
            );
        }
    }

    // Without a token, every endpoint but /health and login says 401.
    for (method, path) in [
        (Method::GET, "/v1/sync/pull".to_owned()),
        (Method::POST, "/v1/sync/push".to_owned()),
        (Method::GET, "/v1/conflicts".to_owned()),
        (Method::POST, resolve.clone()),
        (Method::GET, "/v1/devices".to_owned()),
        (Method::POST, revoke.clone()),
        (Method::GET, export.clone()),
        (Method::POST, erase.clone()),
        (Method::GET, "/v1/audit".to_owned()),
        (Method::GET, report.clone()),
        (Method::GET, "/v1/sites".to_owned()),
        (Method::GET, "/v1/users".to_owned()),
    ] {
        let reply = server.request(method.clone(), &path, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(reply.error_code(), "unauthorized");
        let forged = server
            .request(method.clone(), &path, Some("tdt1_forged"), None)
            .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let health = server.request(Method::GET, "/health", None, None).await;
    assert_eq!(
        (health.status, health.body["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );

    // The other team sees none of north's data.
    let south_conflicts: ConflictList = server
        .request(
            Method::GET,
            "/v1/conflicts?status=all",
            Some(&lead_s.token),
            None,
        )
        .await
        .json();
    assert!(south_conflicts.conflicts.is_empty());
    let south_audit: tandem_protocol::AuditList = server
        .request(Method::GET, "/v1/audit", Some(&lead_s.token), None)
        .await
        .json();
    let south = server.team("south");
    assert!(
        !south_audit.entries.is_empty()
            && south_audit.entries.iter().all(|e| e.team_id == Some(south)),
        "south sees its own sign-ins and pulls, none of north's entries: {:?}",
        south_audit.entries
    );
    assert!(server.pull_all(&coach_s).await.is_empty());
    let north_client = server.pull_all(&coach).await[0].record_id;
    let write_into_north = server
        .push(
            &coach_s,
            vec![change(
                &coach_s,
                "client",
                north_client,
                "nickname",
                json!("x"),
                0,
                NOW_MS,
            )],
        )
        .await;
    assert_eq!(write_into_north[0].status, ChangeStatus::Rejected);
    assert!(
        write_into_north[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("another team")
    );
    assert_eq!(write_into_north[0].reason_code, Some(RejectCode::OtherTeam));
    // A change id answered for north is not answered again for south (which would show
    // south north's value): south's change is refused.
    let north_change = change(
        &coach,
        "client",
        uuid::Uuid::now_v7(),
        "nickname",
        json!("n"),
        0,
        NOW_MS,
    );
    server.push(&coach, vec![north_change.clone()]).await;
    let mut reused = change(
        &coach_s,
        "client",
        uuid::Uuid::now_v7(),
        "nickname",
        json!("s"),
        0,
        NOW_MS,
    );
    reused.change_id = north_change.change_id;
    let reused = server.push(&coach_s, vec![reused]).await;
    assert_eq!(
        (reused[0].status, reused[0].reason_code, &reused[0].value),
        (
            ChangeStatus::Rejected,
            Some(RejectCode::InvalidChange),
            &json!(null)
        ),
        "{reused:?}"
    );
    let south_devices: DeviceList = server
        .request(Method::GET, "/v1/devices", Some(&lead_s.token), None)
        .await
        .json();
    assert_eq!(south_devices.devices.len(), 2);
    assert!(
        south_devices
            .devices
            .iter()
            .all(|d| d.team.as_ref().unwrap().name == "south")
    );
    let all_devices: DeviceList = server
        .request(Method::GET, "/v1/devices", Some(&admin.token), None)
        .await
        .json();
    assert_eq!(all_devices.devices.len(), 6);
}

both_backends!(a_revoked_device_gets_401_device_revoked_and_a_team_lead_sees_it);
async fn a_revoked_device_gets_401_device_revoked_and_a_team_lead_sees_it(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let admin = server.login("admin").await;
    server.push(&coach, vec![]).await;
    let revoked = server
        .request(
            Method::POST,
            &format!("/v1/devices/{}/revoke", coach.id),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body["revoked"], json!(true));
    for (method, path) in [
        (Method::GET, "/v1/sync/pull"),
        (Method::POST, "/v1/sync/push"),
    ] {
        let reply = server
            .request(method, path, Some(&coach.token), Some(json!({})))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.error_code(), "device_revoked");
    }
    let lead = server.login("lead_n").await;
    let devices: DeviceList = server
        .request(Method::GET, "/v1/devices", Some(&lead.token), None)
        .await
        .json();
    let seen = devices.devices.iter().find(|d| d.id == coach.id).unwrap();
    assert!(seen.revoked);
    assert_eq!(seen.app_version.as_deref(), Some("test"));
    assert!(seen.last_sync_at.is_some());
    let unknown = server
        .request(
            Method::POST,
            &format!("/v1/devices/{}/revoke", uuid::Uuid::now_v7()),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

both_backends!(repeated_failed_logins_are_refused_with_429_and_retry_after_until_the_window_passes);
async fn repeated_failed_logins_are_refused_with_429_and_retry_after_until_the_window_passes(
    backend: Backend,
) {
    let server = start(backend).await;
    for _ in 0..5 {
        let reply = server.login_reply("coach_a", "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.error_code(), "invalid_credentials");
    }
    let blocked = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(blocked.error_code(), "rate_limited");
    let retry_after: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    // Another user from the same address is not blocked by coach_a's failures.
    server.login("coach_b").await;
    server.clock.advance_ms(15 * 60 * 1000 + 1);
    server.login("coach_a").await;
    // An unknown user gets the same answer as a wrong password.
    let unknown = server.login_reply("nobody", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.error_code(), "invalid_credentials");
}

/// The value of an unlabelled counter in the server's metrics.
fn counter(server: &TestServer, name: &str) -> u64 {
    let text = server.metrics.render();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// Sends `attempts` logins of `username` with a wrong password at once, each from a task
/// of its own, and answers their statuses.
async fn parallel_wrong_logins(
    server: &TestServer,
    username: &str,
    attempts: usize,
) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..attempts {
        let (http, url) = (
            server.http.clone(),
            format!("{}/v1/auth/login", server.base),
        );
        let body =
            json!({"username": username, "password": "wrong password", "device_name": "laptop"});
        tasks.spawn(async move { http.post(url).json(&body).send().await.unwrap().status() });
    }
    tasks.join_all().await
}

both_backends!(multi_thread: parallel_wrong_logins_beyond_the_limit_are_refused_before_their_password_is_checked);
async fn parallel_wrong_logins_beyond_the_limit_are_refused_before_their_password_is_checked(
    backend: Backend,
) {
    let server = start(backend).await;
    // Twenty guesses at once, four times the limit: an attempt is counted before its
    // password is checked, so only five are checked, however the requests interleave. The
    // others are refused (429) or, while some of the five are still being checked, asked to
    // come back in a moment (503).
    let statuses = parallel_wrong_logins(&server, "coach_a", 20).await;
    let count = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(StatusCode::UNAUTHORIZED), 5, "{statuses:?}");
    assert_eq!(
        count(StatusCode::TOO_MANY_REQUESTS) + count(StatusCode::SERVICE_UNAVAILABLE),
        15,
        "{statuses:?}"
    );
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 5);
    // The limit holds for the right password too, until the window passes.
    let blocked = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 5);
    server.clock.advance_ms(15 * 60 * 1000 + 1);
    server.login("coach_a").await;
    // A success forgets the failures: the next wrong password is answered as one.
    let reply = server.login_reply("coach_a", "wrong password").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// Reserves `count` login attempts of `username` from `address` at the server's time, as
/// logins whose passwords are being checked would: in progress, neither right nor wrong yet.
async fn attempts_in_progress(
    server: &TestServer,
    username: &str,
    address: &str,
    count: usize,
) -> Vec<i64> {
    use tandem_server::clock::Clock;
    use tandem_server::store::{LoginLimits, LoginReservation};
    let now = server.clock.now();
    let limits = LoginLimits {
        since: now - chrono::TimeDelta::minutes(15),
        in_progress_since: now - chrono::TimeDelta::seconds(30),
        per_username: 100,
        per_address: 100,
    };
    let mut attempts = Vec::new();
    for _ in 0..count {
        match server
            .store
            .reserve_login_attempt(username, address, limits, now)
            .await
            .unwrap()
        {
            LoginReservation::Reserved { attempt_id } => attempts.push(attempt_id),
            other => panic!("{other:?}"),
        }
    }
    attempts
}

/// The `Retry-After` of a reply, in seconds.
fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

both_backends!(a_right_login_while_the_limit_is_taken_by_attempts_in_progress_is_asked_to_wait_a_moment_not_refused);
async fn a_right_login_while_the_limit_is_taken_by_attempts_in_progress_is_asked_to_wait_a_moment_not_refused(
    backend: Backend,
) {
    let server = start(backend).await;
    // Five logins of coach_a being checked (a laptop set up five times at once), none of
    // them known to be wrong: the sixth is asked to come back in a moment, as when the
    // server checks as many passwords as it may, and not told to wait 15 minutes.
    let in_progress = attempts_in_progress(&server, "coach_a", "127.0.0.1", 5).await;
    let wait = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(
        wait.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        wait.body
    );
    assert_eq!(wait.error_code(), "unavailable");
    assert!((1..=5).contains(&retry_after(&wait)), "{:?}", wait.headers);
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 0);
    // One of them proves right: the login goes through.
    server
        .store
        .settle_login_attempt(in_progress[0], "coach_a", LoginOutcome::Succeeded)
        .await
        .unwrap();
    server.login("coach_a").await;
}

both_backends!(
    right_logins_of_many_users_behind_one_address_are_asked_to_wait_a_moment_not_refused
);
async fn right_logins_of_many_users_behind_one_address_are_asked_to_wait_a_moment_not_refused(
    backend: Backend,
) {
    // Behind a proxy the server does not trust, every laptop has the proxy's address: a
    // training session signing in at once reaches the address limit with logins in progress.
    let server = start_configured(backend, |settings| {
        settings.login_rate_limit.per_address = 3;
    })
    .await;
    for user in ["coach_b", "lead_n", "coach_s"] {
        attempts_in_progress(&server, user, "127.0.0.1", 1).await;
    }
    let wait = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(
        wait.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        wait.body
    );
    assert!((1..=5).contains(&retry_after(&wait)));
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 0);
}

both_backends!(wrong_passwords_and_attempts_in_progress_together_never_pass_the_limit);
async fn wrong_passwords_and_attempts_in_progress_together_never_pass_the_limit(backend: Backend) {
    let server = start(backend).await;
    let in_progress = attempts_in_progress(&server, "coach_a", "127.0.0.1", 3).await;
    for _ in 0..2 {
        let reply = server.login_reply("coach_a", "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
    // Two failures and three in progress: no sixth password is checked.
    let wait = server.login_reply("coach_a", "wrong password").await;
    assert_eq!(
        wait.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        wait.body
    );
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 2);
    // The three prove wrong: now the failures alone reach the limit, and the answer is the
    // rate limit's, its Retry-After counted from the oldest failure.
    for attempt_id in in_progress {
        settle_as_failure(&server, attempt_id).await;
    }
    server.clock.advance_ms(60 * 1000);
    let refused = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_code(), "rate_limited");
    assert_eq!(retry_after(&refused), 15 * 60 - 60);
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 2);
}

both_backends!(an_attempt_whose_answer_never_came_counts_as_failed_once_its_request_timed_out);
async fn an_attempt_whose_answer_never_came_counts_as_failed_once_its_request_timed_out(
    backend: Backend,
) {
    let server = start(backend).await;
    // Five attempts whose requests ended without an answer (timed out, the instance
    // stopped): once no answer can come any more, they are failures like any other.
    attempts_in_progress(&server, "coach_a", "127.0.0.1", 5).await;
    server.clock.advance_ms(31 * 1000);
    let refused = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(retry_after(&refused), 15 * 60 - 31);
    server.clock.advance_ms(15 * 60 * 1000);
    server.login("coach_a").await;
}

/// Sends `usernames`' logins with the right password at once, each from a task of its own,
/// and answers each username with its reply's status and `Retry-After`.
async fn parallel_right_logins(
    server: &TestServer,
    usernames: &[&str],
) -> Vec<(String, StatusCode, Option<u64>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for username in usernames {
        let (http, url, username) = (
            server.http.clone(),
            format!("{}/v1/auth/login", server.base),
            (*username).to_owned(),
        );
        let body = json!({"username": username, "password": PASSWORD, "device_name": "laptop"});
        tasks.spawn(async move {
            let reply = http.post(url).json(&body).send().await.unwrap();
            let retry_after = reply
                .headers()
                .get("retry-after")
                .map(|value| value.to_str().unwrap().parse().unwrap());
            (username, reply.status(), retry_after)
        });
    }
    tasks.join_all().await
}

both_backends!(multi_thread: right_logins_at_once_are_never_told_to_wait_minutes);
async fn right_logins_at_once_are_never_told_to_wait_minutes(backend: Backend) {
    let server = start_configured(backend, |settings| {
        settings.login_rate_limit.per_address = 3;
    })
    .await;
    // However the requests interleave, each is signed in or asked to come back in a moment,
    // and each asked signs in when it does.
    let usernames = ["coach_a"; 8]
        .into_iter()
        .chain(["coach_b", "lead_n", "coach_s", "coach_b"])
        .collect::<Vec<_>>();
    for (username, status, retry_after) in parallel_right_logins(&server, &usernames).await {
        match status {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry_after.is_some_and(|secs| secs <= 5), "{retry_after:?}");
                server.login(&username).await;
            }
            other => panic!("{username}: {other}"),
        }
    }
}

both_backends!(a_login_while_the_server_checks_as_many_passwords_as_it_may_is_answered_503);
async fn a_login_while_the_server_checks_as_many_passwords_as_it_may_is_answered_503(
    backend: Backend,
) {
    let server = start(backend).await;
    // The test takes every place the gate has, as logins being checked and waiting would.
    let mut held = Vec::new();
    while let Some(place) = server.login_gate.try_admit() {
        held.push(place);
    }
    assert!(!held.is_empty());
    let busy = server.login_reply("coach_a", PASSWORD).await;
    assert_eq!(
        busy.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.body
    );
    assert_eq!(busy.error_code(), "unavailable");
    let retry_after: u64 = busy.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 0);
    // A refusal for want of room is not a failed attempt: five wrong passwords are still
    // answered as such once there is room.
    for _ in 0..5 {
        assert_eq!(
            server.login_reply("coach_a", "wrong password").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    drop(held);
    for _ in 0..5 {
        let reply = server.login_reply("coach_a", "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(counter(&server, "tandem_password_verifications_total"), 5);
}

/// A login answered through a proxy that says it came from `forwarded_for`.
async fn login_via_proxy(
    server: &TestServer,
    username: &str,
    password: &str,
    forwarded_for: &str,
) -> StatusCode {
    server
        .http
        .post(format!("{}/v1/auth/login", server.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": password, "device_name": "laptop"}))
        .send()
        .await
        .unwrap()
        .status()
}

both_backends!(behind_a_trusted_proxy_each_client_address_has_its_own_login_limit);
async fn behind_a_trusted_proxy_each_client_address_has_its_own_login_limit(backend: Backend) {
    // The test's requests come from 127.0.0.1: the proxy.
    let server = start_configured(backend, |settings| {
        settings.login_rate_limit.per_address = 3;
        settings.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let guesser = "198.51.100.1";
    for user in ["nobody1", "nobody2", "nobody3"] {
        let status = login_via_proxy(&server, user, "wrong", guesser).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The guesser's address is blocked, whoever it names and whatever it puts in front.
    for forwarded in [
        guesser,
        "203.0.113.9, 198.51.100.1",
        "198.51.100.1, 127.0.0.1",
    ] {
        let status = login_via_proxy(&server, "coach_a", PASSWORD, forwarded).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{forwarded}");
    }
    // Another client behind the same proxy signs in.
    let status = login_via_proxy(&server, "coach_a", PASSWORD, "198.51.100.2").await;
    assert_eq!(status, StatusCode::OK);
}

both_backends!(without_a_trusted_proxy_x_forwarded_for_is_ignored);
async fn without_a_trusted_proxy_x_forwarded_for_is_ignored(backend: Backend) {
    let server = start_configured(backend, |settings| {
        settings.login_rate_limit.per_address = 3;
    })
    .await;
    for (user, forwarded) in [
        ("nobody1", "198.51.100.1"),
        ("nobody2", "198.51.100.2"),
        ("nobody3", "198.51.100.3"),
    ] {
        let status = login_via_proxy(&server, user, "wrong", forwarded).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // A header anyone can send names nobody: the failures were counted for 127.0.0.1.
    let status = login_via_proxy(&server, "coach_a", PASSWORD, "198.51.100.4").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

both_backends!(a_device_name_with_a_control_character_is_refused_like_a_username);
async fn a_device_name_with_a_control_character_is_refused_like_a_username(backend: Backend) {
    let server = start(backend).await;
    let devices = async || server.store.list_devices(None).await.unwrap().len();
    let before = devices().await;
    let login = |device_name: &str| json!({"username": "coach_a", "password": PASSWORD, "device_name": device_name});
    // `admin device list` prints the name in a tab-separated line.
    for name in ["Laptop\t7", "Laptop\n7", "Laptop\u{1b}[2J7"] {
        let reply = server
            .request(Method::POST, "/v1/auth/login", None, Some(login(name)))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(reply.error_code(), "invalid_request");
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            message.starts_with("device_name: ") && message.contains("control character"),
            "{message}"
        );
    }
    assert_eq!(devices().await, before, "no device was registered");
    // Spaces and line breaks around the name are trimmed, as from a username.
    let reply = server
        .request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(login("Laptop 7\n")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let listed = server.store.list_devices(None).await.unwrap();
    assert!(
        listed.iter().any(|device| device.name == "Laptop 7"),
        "{listed:?}"
    );
}

both_backends!(duplicate_endpoints_are_for_the_team_lead_of_the_clients_team);
async fn duplicate_endpoints_are_for_the_team_lead_of_the_clients_team(backend: Backend) {
    let server = start(backend).await;
    let coach = server.login("coach_a").await;
    let lead = server.login("lead_n").await;
    let lead_s = server.login("lead_s").await;
    let admin = server.login("admin").await;
    let name = [("given_name", json!("Olga")), ("birth_year", json!(1972))];
    let (first, _) = create_client(&server, &coach, &name).await;
    let (second, _) = create_client(&server, &coach, &name).await;
    let pair = json!({"survivor_id": first, "duplicate_id": second});
    let dismiss = json!({"first_id": first, "second_id": second});
    let unknown_merge = format!("/v1/duplicates/merge/{}/undo", uuid::Uuid::now_v7());

    // (who, method, path, body, expected status), in an order where each success is possible.
    let cases: Vec<(
        &Device,
        Method,
        String,
        Option<serde_json::Value>,
        StatusCode,
    )> = vec![
        (
            &coach,
            Method::GET,
            "/v1/duplicates".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            Method::GET,
            "/v1/duplicates".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::GET,
            "/v1/duplicates".into(),
            None,
            StatusCode::OK,
        ),
        (
            &lead,
            Method::GET,
            "/v1/duplicates".into(),
            None,
            StatusCode::OK,
        ),
        (
            &coach,
            Method::GET,
            "/v1/duplicates/merges".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            Method::GET,
            "/v1/duplicates/merges".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead,
            Method::GET,
            "/v1/duplicates/merges".into(),
            None,
            StatusCode::OK,
        ),
        (
            &coach,
            Method::POST,
            "/v1/duplicates/merge".into(),
            Some(pair.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            Method::POST,
            "/v1/duplicates/merge".into(),
            Some(pair.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::POST,
            "/v1/duplicates/merge".into(),
            Some(pair.clone()),
            StatusCode::NOT_FOUND,
        ),
        (
            &coach,
            Method::POST,
            "/v1/duplicates/dismiss".into(),
            Some(dismiss.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            &lead_s,
            Method::POST,
            "/v1/duplicates/dismiss".into(),
            Some(dismiss.clone()),
            StatusCode::NOT_FOUND,
        ),
        (
            &coach,
            Method::POST,
            unknown_merge.clone(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &lead,
            Method::POST,
            unknown_merge.clone(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            &lead,
            Method::POST,
            "/v1/duplicates/merge".into(),
            Some(pair.clone()),
            StatusCode::OK,
        ),
    ];
    for (who, method, path, body, expected) in cases {
        let reply = server
            .request(method.clone(), &path, Some(&who.token), body)
            .await;
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
        if !expected.is_success() {
            assert!(
                !reply.error_code().is_empty(),
                "{method} {path}: {}",
                reply.body
            );
        }
    }
    // The other team's lead sees neither the candidates nor the merge, nor can undo it.
    let south: tandem_protocol::DuplicateList = server
        .request(Method::GET, "/v1/duplicates", Some(&lead_s.token), None)
        .await
        .json();
    assert!(south.candidates.is_empty());
    let merges: tandem_protocol::DuplicateMergeList = server
        .request(
            Method::GET,
            "/v1/duplicates/merges",
            Some(&lead.token),
            None,
        )
        .await
        .json();
    let undo = format!("/v1/duplicates/merge/{}/undo", merges.merges[0].id);
    let south_merges: tandem_protocol::DuplicateMergeList = server
        .request(
            Method::GET,
            "/v1/duplicates/merges",
            Some(&lead_s.token),
            None,
        )
        .await
        .json();
    assert!(south_merges.merges.is_empty());
    for (who, expected) in [
        (&coach, StatusCode::FORBIDDEN),
        (&lead_s, StatusCode::NOT_FOUND),
        (&lead, StatusCode::OK),
    ] {
        let reply = server
            .request(Method::POST, &undo, Some(&who.token), None)
            .await;
        assert_eq!(reply.status, expected, "{}", reply.body);
    }
    for (method, path) in [
        (Method::GET, "/v1/duplicates".to_owned()),
        (Method::POST, "/v1/duplicates/merge".to_owned()),
        (Method::GET, "/v1/duplicates/merges".to_owned()),
        (Method::POST, undo.clone()),
        (Method::POST, "/v1/duplicates/dismiss".to_owned()),
    ] {
        let reply = server.request(method.clone(), &path, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

/// Settles a reserved attempt of coach_a as a wrong password.
async fn settle_as_failure(server: &TestServer, attempt_id: i64) {
    server
        .store
        .settle_login_attempt(attempt_id, "coach_a", LoginOutcome::Failed)
        .await
        .unwrap();
}
