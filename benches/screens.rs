//! The lists behind the desktop app's screens over a store of 100,000 clients and 300,000
//! contacts logged by a team of ten coaches: the Today screen's recent clients and one
//! coach's contacts of the day, and the Follow-ups screen's three groups (overdue, today, the
//! rest of the week, the whole team's; each lists its first 100 and counts them all).
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

/// How many contacts of `coach`, among `records`, happened at `since` or later: what the
/// Today screen's list of the coach's day must find.
fn contacts_since(records: &[SyntheticRecord], coach: Uuid, since: DateTime<Utc>) -> usize {
    let field = |record: &SyntheticRecord, name: &str| {
        record
            .fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value.clone())
    };
    records
        .iter()
        .filter(|record| record.entity == Entity::Contact)
        .filter(|record| field(record, "coach_id") == Some(json!(coach.to_string())))
        .filter(|record| {
            field(record, "occurred_at")
                .and_then(|at| DateTime::parse_from_rfc3339(at.as_str()?).ok())
                .is_some_and(|at| at >= since)
        })
        .count()
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

    // The coach's day: since the start of today in UTC (the app takes the laptop's midnight),
    // with the visits the coach logged so far today (the synthetic history ends yesterday).
    let coach = coaches[0];
    let since = now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let logged_today = size(40, 3);
    for visit in 0..logged_today {
        let share = i32::try_from(visit).expect("a day's visits");
        let at = since + (now() - since) * share / 40;
        let fields = json!({ "occurred_at": at.to_rfc3339(), "channel": "drop_in",
                             "topics": ["housing"], "coach_id": coach.to_string() });
        let input = serde_json::from_value(fields).expect("a contact's fields");
        store
            .create_record(Entity::Contact, &input, EditContext::at(now()))
            .expect("log a visit");
    }
    let (day, median, p95) = timed(runs, || {
        store
            .contacts_of_coach_since(coach, since, 100)
            .expect("the coach's day")
    });
    let synced_today = contacts_since(&records, coach, since);
    assert_eq!(day.len(), (logged_today + synced_today).min(100));
    // The query over the coach's last year too (a tiny store's only contacts of the coach).
    let year_ago = since - Days::days(365);
    let synced_in_year = contacts_since(&records, coach, year_ago);
    assert!(synced_in_year > 0, "the coach logged nothing in a year");
    let year = store.contacts_of_coach_since(coach, year_ago, 100);
    let expected = (logged_today + synced_in_year).min(100);
    assert_eq!(year.expect("the coach's year").len(), expected);
    println!(
        "FIGURE screen_coachs_day_{clients}: {} contacts, median {median:.2?}, p95 {p95:.2?} ({runs} reads)",
        day.len()
    );

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
