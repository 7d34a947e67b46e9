//! A pull session: the store's settings while the sync engine stores page after page of
//! pulled writes (an initial sync brings millions of values).
//!
//! A profile of applying pulled pages with SQLite's default 2 MiB page cache showed most of
//! the time spent on pages, not rows: index pages spilled to the WAL in the middle of a
//! transaction (and written again at its commit), read back and decrypted on the next
//! page, each time with SQLCipher's AES and HMAC-SHA512, and a checkpoint every 1,000 WAL
//! frames copying index pages that the next commits rewrite anyway. During a session the
//! cache holds the pages every write touches (the right edges of the tables and indexes, and
//! the pages of the value indexes of `client_id`, `merged_into` and `follow_up_on`, which
//! pulled values hit all over), and checkpoints come less often. Afterwards the connection goes back to its usual settings: a much larger cache
//! makes each later commit of an edit slower (docs/benchmarks.md, second run).
//!
//! Nothing about durability changes: every page still commits with its cursor under
//! `synchronous = FULL`; the cache only holds pages, and the checkpoint interval only decides
//! when committed frames move from the WAL into the database file.

use std::ops::{Deref, DerefMut};

use crate::{Store, StoreError};

/// The page cache of a pull session, in KiB (the store's usual one is 8 MiB,
/// `connection::PAGE_CACHE_KIB`). Pages are allocated as
/// they are read, so a small store never takes all of it.
const PULL_CACHE_KIB: i64 = 128 * 1024;

/// WAL frames between automatic checkpoints in a pull session (the default is 1,000; a frame
/// is a 4 KiB page, so the WAL file grows to about 64 MiB). Fewer checkpoints copy each
/// index page fewer times: the commits in between rewrite the same pages.
const PULL_WAL_AUTOCHECKPOINT: i64 = 16_000;

/// The store with a pull session's settings; the usual ones come back when it is dropped,
/// whichever way the pull ends. Everything of [`Store`] is reachable through it.
#[derive(Debug)]
pub struct PullSession<'s> {
    store: &'s mut Store,
    cache_size: i64,
    wal_autocheckpoint: i64,
}

impl Store {
    /// Starts a pull session (see the module documentation).
    pub fn pull_session(&mut self) -> Result<PullSession<'_>, StoreError> {
        let read = |name: &str| -> Result<i64, StoreError> {
            Ok(self.conn.pragma_query_value(None, name, |row| row.get(0))?)
        };
        let cache_size = read("cache_size")?;
        let wal_autocheckpoint = read("wal_autocheckpoint")?;
        self.conn
            .pragma_update(None, "cache_size", -PULL_CACHE_KIB)?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", PULL_WAL_AUTOCHECKPOINT)?;
        Ok(PullSession {
            store: self,
            cache_size,
            wal_autocheckpoint,
        })
    }
}

impl Deref for PullSession<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
    }
}

impl DerefMut for PullSession<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store
    }
}

impl Drop for PullSession<'_> {
    fn drop(&mut self) {
        // Setting a pragma back fails only on a broken connection, whose next statement then
        // reports the error; the settings are performance, never correctness.
        let conn = &self.store.conn;
        let _ = conn.pragma_update(None, "cache_size", self.cache_size);
        let _ = conn.pragma_update(None, "wal_autocheckpoint", self.wal_autocheckpoint);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::test_store;

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .conn
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_pull_session_enlarges_the_cache_and_gives_the_usual_settings_back_when_it_ends() {
        let (_dir, mut store) = test_store();
        let usual = (
            pragma(&store, "cache_size"),
            pragma(&store, "wal_autocheckpoint"),
        );
        {
            let session = store.pull_session().unwrap();
            assert_eq!(pragma(&session, "cache_size"), -PULL_CACHE_KIB);
            assert_eq!(
                pragma(&session, "wal_autocheckpoint"),
                PULL_WAL_AUTOCHECKPOINT
            );
            assert_eq!(session.pull_cursor().unwrap(), 0, "the store is reachable");
        }
        assert_eq!(
            (
                pragma(&store, "cache_size"),
                pragma(&store, "wal_autocheckpoint")
            ),
            usual
        );
    }
}
