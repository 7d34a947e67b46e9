//! Wrong offline passwords lock the app out for growing delays. The count lives in the
//! encrypted store, so quitting and restarting the app does not reset it; the right password
//! does. The policy is pure ([`lockout_after`]) and time is passed in.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::Connection;

use crate::meta::{self, MetaKey};
use crate::{Store, StoreError};

/// Wrong passwords in a row that cost nothing but a retry.
pub const FREE_UNLOCK_ATTEMPTS: u32 = 5;
/// The wait after the first wrong password beyond the free ones; it doubles with each one
/// more, up to [`MAX_UNLOCK_LOCKOUT`].
pub const FIRST_UNLOCK_LOCKOUT: TimeDelta = TimeDelta::seconds(30);
/// The longest wait.
pub const MAX_UNLOCK_LOCKOUT: TimeDelta = TimeDelta::minutes(15);

/// How long unlocking is refused after `failures` wrong passwords in a row: nothing for the
/// first four, then 30 s from the fifth, doubling with each further one up to 15 minutes.
pub fn lockout_after(failures: u32) -> Option<TimeDelta> {
    let beyond_free = failures.checked_sub(FREE_UNLOCK_ATTEMPTS)?;
    let factor = 1i32.checked_shl(beyond_free.min(16)).unwrap_or(i32::MAX);
    Some(
        FIRST_UNLOCK_LOCKOUT
            .checked_mul(factor)
            .map_or(MAX_UNLOCK_LOCKOUT, |wait| wait.min(MAX_UNLOCK_LOCKOUT)),
    )
}

impl Store {
    /// Until when unlocking with a password is refused, if it is at `now`.
    pub fn unlock_locked_until(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let failures = unlock_failures(&self.conn)?;
        let Some(wait) = lockout_after(failures) else {
            return Ok(None);
        };
        let Some(last) = meta::get(&self.conn, MetaKey::UnlockLastFailureAt)? else {
            return Ok(None);
        };
        // An unreadable time counts as now, so damaging it does not lift the lockout.
        let last = DateTime::parse_from_rfc3339(&last).map_or(now, |at| at.with_timezone(&Utc));
        // A clock set back does not stretch the wait beyond its length.
        let until = last.min(now) + wait;
        Ok((until > now).then_some(until))
    }

    /// Counts a wrong offline password given at `now`; returns until when unlocking is now
    /// refused, if it is.
    pub fn record_unlock_failure(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        // Read under the write lock: a count read before it could be written back over a
        // failure another connection (the CLI, another window) counted meanwhile.
        let tx = self.conn.write_transaction()?;
        let failures = unlock_failures(&tx)?.saturating_add(1);
        meta::set(&tx, MetaKey::UnlockFailures, &failures.to_string())?;
        meta::set(&tx, MetaKey::UnlockLastFailureAt, &now.to_rfc3339())?;
        tx.commit()?;
        self.unlock_locked_until(now)
    }

    /// The right password: the count starts again.
    pub fn record_unlock_success(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.write_transaction()?;
        meta::delete(&tx, MetaKey::UnlockFailures)?;
        meta::delete(&tx, MetaKey::UnlockLastFailureAt)?;
        tx.commit()?;
        Ok(())
    }
}

fn unlock_failures(conn: &Connection) -> Result<u32, StoreError> {
    Ok(meta::get(conn, MetaKey::UnlockFailures)?
        // An unreadable count is treated as many, never as none.
        .map_or(0, |n| n.parse().unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{STORE_FILE_NAME, StoreKey};
    use chrono::TimeZone;

    #[test]
    fn four_wrong_passwords_are_free_then_the_wait_doubles_from_30_seconds_to_15_minutes() {
        let waits: Vec<Option<i64>> = (0..=12)
            .map(|n| lockout_after(n).map(|wait| wait.num_seconds()))
            .collect();
        assert_eq!(
            waits,
            [
                None,
                None,
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(lockout_after(u32::MAX), Some(MAX_UNLOCK_LOCKOUT));
    }

    #[test]
    fn wrong_passwords_counted_on_two_connections_at_once_both_count() {
        let (_dir, mut store, key) = crate::connection::test_store_and_key();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        crate::connection::with_a_write_meanwhile(
            &mut store,
            &key,
            move |other| other.record_unlock_failure(t0).map(drop),
            |store| store.record_unlock_failure(t0),
        )
        .unwrap();
        assert_eq!(unlock_failures(&store.conn).unwrap(), 2);
    }

    #[test]
    fn the_lockout_survives_reopening_the_store_and_ends_with_its_wait_or_a_right_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE_NAME);
        let key = StoreKey::generate();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let mut store = Store::open_with_key(&path, &key).unwrap();
        for n in 0..4 {
            assert_eq!(
                store.record_unlock_failure(t0).unwrap(),
                None,
                "failure {n}"
            );
        }
        let until = store.record_unlock_failure(t0).unwrap();
        assert_eq!(until, Some(t0 + TimeDelta::seconds(30)));
        drop(store);
        let mut store = Store::open_with_key(&path, &key).unwrap();
        assert_eq!(
            store
                .unlock_locked_until(t0 + TimeDelta::seconds(29))
                .unwrap(),
            until
        );
        assert_eq!(
            store
                .unlock_locked_until(t0 + TimeDelta::seconds(30))
                .unwrap(),
            None
        );
        let t1 = t0 + TimeDelta::seconds(31);
        assert_eq!(
            store.record_unlock_failure(t1).unwrap(),
            Some(t1 + TimeDelta::seconds(60))
        );
        // A clock set back an hour does not make the wait longer than its length.
        let earlier = t1 - TimeDelta::hours(1);
        assert_eq!(
            store.unlock_locked_until(earlier).unwrap(),
            Some(earlier + TimeDelta::seconds(60))
        );
        store.record_unlock_success().unwrap();
        assert_eq!(store.unlock_locked_until(t1).unwrap(), None);
        assert_eq!(store.record_unlock_failure(t1).unwrap(), None);
    }
}
