//! The lists behind the desktop app's screens over a store of 100,000 clients and 300,000
//! contacts: the Today screen's recent clients and the Follow-ups screen's three groups
//! (overdue, today, the rest of the week, the whole team's; each lists its first 100 and
//! counts them all).
//! Plain timing, median and 95th percentile of repeated reads; no baseline: what is measured
//! is how long a coach waits for the screen.

use std::time::{Duration, Instant};

use chrono::Duration as Days;
use tandem_benches::{disk_dir, fill_store, now, open_store, quantile, repeats, size};
use tandem_store::{DueOrder, FollowUps, Store};

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
    fill_store(&mut store, 61, clients, contacts);

    let (recent, median, p95) = timed(runs, || store.recent_clients(8).expect("recent"));
    assert_eq!(recent.len(), 8.min(clients));
    println!(
        "FIGURE screen_recent_clients_{clients}: {} clients, median {median:.2?}, p95 {p95:.2?} ({runs} reads)",
        recent.len()
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
