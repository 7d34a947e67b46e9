//! The lists behind the desktop app's screens over a store of 100,000 clients and 300,000
//! contacts logged by a team of ten coaches: the Today screen's recent clients and one
//! coach's contacts of the day and of the last seven days, and the Follow-ups screen's three
//! groups (overdue, today, the rest of the week, the whole team's; each lists its first 100
//! and counts them all).
//! Plain timing, median and 95th percentile of repeated reads; no baseline: what is measured
//! is how long a coach waits for the screen.

use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, Utc};
use serde_json::json;
use tandem_benches::{disk_dir, fill_store_coached, now, open_store, quantile, repeats, size};
use tandem_domain::Entity;
use tandem_store::{DueOrder, EditContext, FollowUps, Store};
use tandem_synth::SyntheticRecord;
use uuid::Uuid;

/// When the contacts of `coach` that happened at `since` or later happened, among `records`
/// and `logged` (when and by whom, as logged on the laptop), newest first, the first `limit`:
/// what the Today screen's list of the coach's days must find (times, not ids: contacts of
/// the same minute may come in either order).
fn expected_since(
    records: &[SyntheticRecord],
    logged: &[(DateTime<Utc>, Uuid, Uuid)],
    coach: Uuid,
    since: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    let field = |record: &SyntheticRecord, name: &str| {
        record
            .fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value.clone())
    };
    let synced = records
        .iter()
        .filter(|record| record.entity == Entity::Contact)
        .filter(|record| field(record, "coach_id") == Some(json!(coach.to_string())))
        .filter_map(|record| {
            let at = field(record, "occurred_at")?;
            let at = DateTime::parse_from_rfc3339(at.as_str()?).ok()?.to_utc();
            Some((at, record.id))
        });
    let on_laptop = logged
        .iter()
        .filter(|(_, by, _)| *by == coach)
        .map(|(at, _, id)| (*at, *id));
    let mut found: Vec<(DateTime<Utc>, Uuid)> = synced
        .chain(on_laptop)
        .filter(|(at, _)| *at >= since)
        .collect();
    found.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    found.into_iter().take(limit).map(|(at, _)| at).collect()
}

/// What the Follow-ups screen reads on `today` (`tandem-desktop`'s `views::follow_up_spans`,
/// with the week's end a week on).
fn follow_ups_screen(store: &Store) -> [FollowUps; 3] {
    let today = now().date_naive();
    let day = Days::days(1);
    [
        (None, today - day, DueOrder::LatestFirst),
        (Some(today), today, DueOrder::EarliestFirst),
        (
            Some(today + day),
            today + Days::days(6),
            DueOrder::EarliestFirst,
        ),
    ]
    .map(|(from, until, order)| {
        store
            .open_follow_ups(from, until, None, order, 100)
            .expect("follow-ups")
    })
}

fn timed<T>(runs: usize, mut read: impl FnMut() -> T) -> (T, Duration, Duration) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(read());
        times.push(started.elapsed());
    }
    let median = quantile(&mut times, 0.5);
    let p95 = quantile(&mut times, 0.95);
    (last.expect("at least one run"), median, p95)
}

fn main() {
    let clients = size(100_000, 50);
    let contacts = 3 * clients;
    let runs = repeats(50, 2);
    let dir = disk_dir();
    let mut store = open_store(dir.path());
    let coaches: Vec<Uuid> = (1..=10).map(|n| Uuid::from_u128(0xc0ac4 + n)).collect();
    let records = fill_store_coached(&mut store, 61, clients, contacts, coaches.clone());

    let (recent, median, p95) = timed(runs, || store.recent_clients(8).expect("recent"));
    assert_eq!(recent.len(), 8.min(clients));
    println!(
        "FIGURE screen_recent_clients_{clients}: {} clients, median {median:.2?}, p95 {p95:.2?} ({runs} reads)",
        recent.len()
    );

    // The Today screen's list of a coach's days: since the start of today in UTC (the app
    // takes the laptop's midnight), after each of the ten coaches logged their visits so far
    // today (the synthetic history ends yesterday), each with a client; and of the last seven
    // days. What is timed is the store's read (the app then looks each client up).
    let since = now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let a_day = size(40, 3);
    let client_ids: Vec<Uuid> = records
        .iter()
        .filter(|record| record.entity == Entity::Client)
        .map(|record| record.id)
        .collect();
    let mut logged = Vec::new();
    for visit in 0..a_day * coaches.len() {
        let by = coaches[visit % coaches.len()];
        let share = i32::try_from(visit).expect("a day's visits");
        let total = i32::try_from(a_day * coaches.len()).expect("a day's visits");
        let at = since + (now() - since) * share / total;
        let client = client_ids[visit % client_ids.len()];
        let fields = json!({ "occurred_at": at.to_rfc3339(), "channel": "drop_in",
                             "topics": ["housing", "language_learning"], "coach_id": by.to_string(),
                             "client_id": client.to_string(), "duration_min": 20,
                             "service_language": "ar", "interpreter_used": true,
                             "summary": "Asked about the waiting list for a Finnish course." });
        let input = serde_json::from_value(fields).expect("a contact's fields");
        let id = store
            .create_record(Entity::Contact, &input, EditContext::at(now()))
            .expect("log a visit");
        logged.push((at, by, *id.as_uuid()));
    }
    let coach = coaches[0];
    let times = |found: &[tandem_domain::Record]| -> Vec<DateTime<Utc>> {
        found
            .iter()
            .map(|contact| {
                let at = contact.get("occurred_at").as_date_time();
                at.expect("a contact's time").to_utc()
            })
            .collect()
    };
    for (name, days, limit) in [("day", 1, 100), ("week", 7, 700)] {
        let from = since - Days::days(days - 1);
        let (found, median, p95) = timed(runs, || {
            store
                .contacts_of_coach_since(coach, from, limit)
                .expect("the coach's days")
        });
        assert_eq!(
            times(&found),
            expected_since(&records, &logged, coach, from, limit)
        );
        println!(
            "FIGURE screen_coachs_{name}_{clients}: {} contacts, median {median:.2?}, p95 {p95:.2?} ({runs} reads)",
            found.len()
        );
    }
    // The query over the coach's last year too (a tiny store's only synced contacts of the
    // coach).
    let year_ago = since - Days::days(365);
    let year = store
        .contacts_of_coach_since(coach, year_ago, 100)
        .expect("the coach's year");
    let expected = expected_since(&records, &logged, coach, year_ago, 100);
    assert!(expected.len() > a_day, "the coach logged nothing in a year");
    assert_eq!(times(&year), expected);

    let (groups, median, p95) = timed(runs, || follow_ups_screen(&store));
    let [overdue, today, week] = &groups;
    assert!(
        groups
            .iter()
            .all(|g| g.contacts.len() as u64 == g.total.min(100))
    );
    println!(
        "FIGURE screen_follow_ups_{clients}: overdue {} of {}, today {} of {}, rest of the week {} of {}; median {median:.2?}, p95 {p95:.2?} ({runs} reads)",
        overdue.contacts.len(),
        overdue.total,
        today.contacts.len(),
        today.total,
        week.contacts.len(),
        week.total,
    );
}
