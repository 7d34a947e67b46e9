//! Opening the store: the data directory, the key from the keyring, the SQLCipher
//! connection and its settings, and the migrations.

use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Once, PoisonError, Weak};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use zeroize::Zeroizing;

use crate::key::{self, StoreKey};
use crate::{StoreError, migrate, pull_session};

/// The name of the store file inside a data directory.
pub const STORE_FILE_NAME: &str = "tandem.db";

/// The lock file that serialises opening (key creation, migrations) between processes.
const OPEN_LOCK_FILE_NAME: &str = "tandem.open.lock";

/// How long a statement waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page cache of a connection, in KiB (`PRAGMA cache_size`), taken only as pages are
/// read. SQLite's default (2 MiB) holds too few pages for a search in a large store: the
/// inner pages of `record_fields`, the FTS5 index and its `docsize` rows were evicted by
/// every search's result records and read and decrypted again by the next one (100,000
/// clients: search took twice as long). 32 MiB made every commit slower (SQLite
/// walks the cache's hash table at the end of each transaction); 8 MiB did not measurably.
const PAGE_CACHE_KIB: i64 = 8 * 1024;

/// How many prepared statements a connection keeps (rusqlite's default is 16, fewer than the
/// statements of one pulled page).
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// An open, decrypted and migrated local store.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: StoreConnection,
    pub(crate) path: PathBuf,
}

/// The store's connection, and the write gate of its file. It derefs to a shared
/// [`Connection`] only, for reads and single statements, so the methods that begin a
/// transaction on a `&mut Connection` (`transaction`, `transaction_with_behavior`,
/// `savepoint`) cannot be called on it: a transaction that writes is begun by
/// [`StoreConnection::write_transaction`]. What the type leaves open, clippy.toml closes in
/// part: `Connection::unchecked_transaction` (DEFERRED, on a `&Connection`) is a disallowed
/// method, allowed only in [`Store::read_snapshot`]. Neither stops a statement run on its own
/// in autocommit (each its own transaction: a read and then a write of what it read must be
/// put in `write_transaction` by hand; it does not pass the gate either, and waits for the
/// lock on the busy timeout alone) or a `BEGIN` written as SQL.
#[derive(Debug)]
pub(crate) struct StoreConnection(Connection, Arc<WriteGate>);

impl Deref for StoreConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl StoreConnection {
    /// Runs `write`, statements in autocommit that write for long (an index build), in a turn
    /// at the write gate of its own, as a transaction would.
    pub(crate) fn with_write_turn<T>(&self, write: impl FnOnce(&Connection) -> T) -> T {
        let _turn = self.1.take_turn();
        write(&self.0)
    }

    /// Begins a transaction that writes, as every write of more than one statement does.
    ///
    /// It first waits for its turn at the write gate of the store file, which every [`Store`]
    /// opened on that file in this process shares, in the order the turns were asked for;
    /// then it begins the transaction IMMEDIATE, and the turn ends when the transaction does
    /// (committed, rolled back or dropped). So while a sync on its own connection stores
    /// pulled pages back to back, a coach's save waits for the page being stored, not for
    /// the whole pull: the next turn is the save's. Without the gate, waiting for the write
    /// lock was SQLite's busy handler alone, which has no queue: it sleeps and tries again
    /// (up to 100 ms between tries), the pull took the lock again each time first, and after
    /// [`BUSY_TIMEOUT`] the save failed with SQLITE_BUSY ("database is locked"). That is
    /// still how a write waits for another process (the `tandem` CLI), which the gate does
    /// not see.
    ///
    /// IMMEDIATE takes the write lock first. A DEFERRED transaction that read first would be
    /// refused at once instead (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not wait
    /// for) when another connection committed after its read; and what a transaction reads
    /// before it writes is what its write replaces, so it must be read inside, under the
    /// lock (a count read outside and written back loses the increments made between).
    ///
    /// The turn is not reentrant: code holding a write transaction must not begin another
    /// on a second `Store` of the same file on the same thread (it would wait for itself;
    /// nothing in the store does, and no transaction leaves the crate).
    pub(crate) fn write_transaction(&mut self) -> rusqlite::Result<WriteTransaction<'_>> {
        let turn = self.1.take_turn();
        let transaction = write_transaction(&mut self.0)?;
        Ok(WriteTransaction {
            transaction,
            _turn: turn,
        })
    }
}

/// A transaction begun by [`StoreConnection::write_transaction`], holding its turn at the
/// write gate until it ends.
#[derive(Debug)]
pub(crate) struct WriteTransaction<'c> {
    // Declared (so dropped) before the turn: a transaction dropped without a commit rolls
    // back, and only then is the next writer let in.
    transaction: Transaction<'c>,
    _turn: Turn<'c>,
}

impl<'c> Deref for WriteTransaction<'c> {
    type Target = Transaction<'c>;

    fn deref(&self) -> &Transaction<'c> {
        &self.transaction
    }
}

impl WriteTransaction<'_> {
    /// Commits, then ends the turn (after a failed commit too: the transaction is rolled
    /// back by then).
    pub(crate) fn commit(self) -> rusqlite::Result<()> {
        self.transaction.commit()
    }
}

/// Begins an IMMEDIATE transaction on a bare connection, without taking a turn at the write
/// gate: for the migrations, which run while a store opens (in the opening's own turn, before
/// there is a `Store`), and as the second step of [`StoreConnection::write_transaction`].
pub(crate) fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// The write gate of one store file in this process: a ticket lock, so that writers get
/// their turns in the order they asked for them (SQLite's busy handler has no order).
#[derive(Debug, Default)]
pub(crate) struct WriteGate {
    tickets: Mutex<Tickets>,
    turn_ended: Condvar,
}

/// The next ticket to give out, and the ticket whose turn it is.
#[derive(Debug, Default)]
struct Tickets {
    next: u64,
    serving: u64,
}

/// A writer's turn at a [`WriteGate`]; dropping it lets the next one in.
#[derive(Debug)]
struct Turn<'g>(&'g WriteGate);

impl WriteGate {
    /// The gate every `Store` opened on the file `path` in this process shares.
    fn of_file(path: &Path) -> Arc<WriteGate> {
        static GATES: LazyLock<Mutex<HashMap<PathBuf, Weak<WriteGate>>>> =
            LazyLock::new(Mutex::default);
        // The same file by any path (relative, through a symbolic link) is one gate.
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gate) = gates.get(&path).and_then(Weak::upgrade) {
            return gate;
        }
        gates.retain(|_, gate| gate.strong_count() > 0);
        let gate = Arc::new(WriteGate::default());
        gates.insert(path, Arc::downgrade(&gate));
        gate
    }

    fn tickets(&self) -> MutexGuard<'_, Tickets> {
        // The counters are never left half-updated: a panic elsewhere changes nothing.
        self.tickets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the writers that asked before, then returns the turn.
    fn take_turn(&self) -> Turn<'_> {
        let mut tickets = self.tickets();
        let ticket = tickets.next;
        tickets.next += 1;
        while tickets.serving != ticket {
            tickets = self
                .turn_ended
                .wait(tickets)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Turn(self)
    }

    /// How many writers are waiting for their turn (not counting the one whose turn it is).
    #[cfg(test)]
    fn waiting(&self) -> u64 {
        let tickets = self.tickets();
        (tickets.next - tickets.serving).saturating_sub(1)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.tickets().serving += 1;
        self.0.turn_ended.notify_all();
    }
}

impl Store {
    /// Opens (or creates) the store in `data_dir`: makes the directory (mode 0700), takes
    /// the key from the OS keyring (making one on first use) and opens
    /// `<data_dir>/tandem.db` with it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        create_private_dir(data_dir)?;
        // Two processes opening a new data directory at once (the app and the CLI) must not
        // each make a key: the second would overwrite the first in the keyring and orphan
        // whatever the first wrote. The lock is held until the store is open and migrated.
        let lock_path = data_dir.join(OPEN_LOCK_FILE_NAME);
        let lock = create_private_file(&lock_path)?;
        lock.lock().map_err(|source| StoreError::Io {
            action: "lock",
            path: lock_path.clone(),
            source,
        })?;
        let path = data_dir.join(STORE_FILE_NAME);
        let key = key::load_or_create_key(data_dir, &path)?;
        let store = Store::open_with_key(&path, &key);
        drop(lock);
        store
    }

    /// Opens (or creates) the store file `path` with `key`, bypassing the keyring.
    pub fn open_with_key(path: &Path, key: &StoreKey) -> Result<Store, StoreError> {
        wait_for_sqlcipher();
        drop(create_private_file(path)?);
        let mut conn = Connection::open(path)?;
        unlock(&conn, key, path)?;
        configure(&conn)?;
        let gate = WriteGate::of_file(path);
        {
            // The migrations and an index build write for long on a big store: in a turn of
            // their own, so that a save of a `Store` already open on the file waits in order.
            let _turn = gate.take_turn();
            migrate::apply(&mut conn)?;
            pull_session::ensure_deferred_indexes(&conn);
        }
        Ok(Store {
            conn: StoreConnection(conn, gate),
            path: path.to_owned(),
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the store (the newest migration applied).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrate::current_version(&self.conn)
    }

    /// A read transaction for a read of several statements (or several reads), so that all
    /// of them see the store as one commit left it: a sync, in this process or another, may
    /// commit between them otherwise. It ends, having written nothing, when the snapshot is
    /// dropped. Inside a transaction the caller has open already, it is that transaction.
    pub fn read_snapshot(&self) -> Result<ReadSnapshot<'_>, StoreError> {
        // The one transaction begun on the shared connection (clippy.toml disallows it
        // elsewhere): DEFERRED is right for a read, which takes no write lock and so waits
        // for none. Nothing in the store writes inside a snapshot.
        #[allow(clippy::disallowed_methods)]
        let transaction = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        Ok(ReadSnapshot {
            _transaction: transaction,
        })
    }
}

/// A read of the store that sees one state of it ([`Store::read_snapshot`]).
#[must_use = "the snapshot ends when it is dropped"]
#[derive(Debug)]
pub struct ReadSnapshot<'s> {
    _transaction: Option<rusqlite::Transaction<'s>>,
}

/// Waits, once per process, until SQLCipher can key a connection.
///
/// SQLite marks itself initialised and releases its lock before it runs SQLCipher's own
/// initialisation, so a thread that keys a connection while another thread is still inside
/// the process's first SQLite call gets SQLITE_ERROR ("An error occurred with PRAGMA key or
/// rekey"). Every store opener passes through this `Once`, and the first one keys
/// throwaway in-memory connections until that succeeds, which it does as soon as whichever
/// thread started SQLite has finished initialising it (a few milliseconds at most). If it
/// never succeeds, SQLCipher is missing or broken and `unlock` reports that.
fn wait_for_sqlcipher() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        for _ in 0..400 {
            let keyed = Connection::open_in_memory().and_then(|conn| {
                conn.execute_batch("PRAGMA cipher_log_level = NONE; PRAGMA key = 'probe';")?;
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            });
            if keyed.is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

/// Gives the connection its key and proves that the key decrypts the file, before anything
/// else touches it.
pub(crate) fn unlock(conn: &Connection, key: &StoreKey, path: &Path) -> Result<(), StoreError> {
    // Without SQLCipher, `PRAGMA key` is silently ignored and the file would be plaintext.
    let cipher_version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |row| row.get(0))
        .ok();
    if cipher_version.is_none_or(|v| v.is_empty()) {
        return Err(StoreError::EncryptionUnavailable);
    }
    // A wrong key is reported as `WrongKey`; SQLCipher's own log lines on stderr would
    // only confuse a CLI user.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", key.to_hex().as_str()));
    conn.execute_batch(&pragma)?;
    // SQLCipher only decrypts on first read; a wrong key shows up here as "file is not a
    // database" (SQLITE_NOTADB).
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(error, _)) if error.code == ErrorCode::NotADatabase => {
            Err(StoreError::WrongKey {
                path: path.to_owned(),
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// The settings every connection to a store runs with.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL: readers do not block the writer, and a commit is one append to the log.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
    // FULL, not WAL's usual NORMAL: with NORMAL a commit is durable only after the next
    // checkpoint, so a power loss could drop edits the app already confirmed to the coach
    // (and whose outbox rows the server has never seen). With FULL the log is fsynced at
    // every commit: an acknowledged write survives a crash or power loss, and a commit cut
    // short leaves nothing behind because SQLite ignores an incomplete log frame on recovery.
    // secure_delete: the pages an erasure frees are overwritten with zeros (purge.rs).
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
    )?;
    conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Hot paths (an edit, a pulled page) run the same few dozen statements over and over;
    // preparing a statement costs more than running it, so they all stay prepared.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(())
}

/// Makes the data directory, readable by its owner only when Tandem creates it.
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| StoreError::Io {
        action: "create the data directory",
        path: dir.to_owned(),
        source,
    })
}

/// Opens a file, creating it empty and readable by its owner only if it does not exist.
/// For the store file this matters because SQLite would otherwise follow the umask, and it
/// gives the WAL and shared-memory files the permissions of the main file.
fn create_private_file(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| StoreError::Io {
        action: "create",
        path: path.to_owned(),
        source,
    })
}

/// A new store in a temporary directory with a fresh key, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let (dir, store, _) = test_store_and_key();
    (dir, store)
}

/// A new store as [`test_store`] makes it, and its key, to open another connection to it.
#[cfg(test)]
pub(crate) fn test_store_and_key() -> (tempfile::TempDir, Store, StoreKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let store = Store::open_with_key(&dir.path().join(STORE_FILE_NAME), &key).unwrap();
    (dir, store, key)
}

/// Runs `call` on `store` while another connection to its file (a sync's own, opened with
/// `key`) makes the write `meanwhile`, at the moment `store` starts the first statement of
/// the call that writes: after whatever the call read first. The other connection does not
/// wait for the lock: when `store` holds it already, `meanwhile` is refused and made after
/// the call, as the busy timeout would have it retry after the lock is free. Panics if the call writes
/// nothing (so the test would prove nothing). `meanwhile` must change what it writes: one
/// that leaves every byte as it was commits nothing.
#[cfg(test)]
pub(crate) fn with_a_write_meanwhile<T>(
    store: &mut Store,
    key: &StoreKey,
    meanwhile: impl FnMut(&mut Store) -> Result<(), StoreError> + Send + 'static,
    call: impl FnOnce(&mut Store) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    use rusqlite::trace::{TraceEvent, TraceEventCodes};

    let mut other = Store::open_with_key(&store.path, key).unwrap();
    other.conn.busy_timeout(Duration::ZERO).unwrap();
    // A gate of its own, as another process has: `meanwhile` runs on the thread that holds
    // `store`'s turn, and waiting for that turn would wait for itself.
    other.conn.1 = Arc::default();
    let other = Arc::new(Mutex::new((other, meanwhile)));
    // Whether `meanwhile` was made in between: Some(false) when the lock refused it.
    let made: Arc<Mutex<Option<Result<bool, String>>>> = Arc::default();
    let (in_trace, made_in_trace) = (Arc::clone(&other), Arc::clone(&made));
    store
        .conn
        .0
        .trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: TraceEvent<'_>| {
                let TraceEvent::Stmt(_, sql) = event else {
                    return;
                };
                let mut made = made_in_trace.lock().unwrap();
                if made.is_some() || !writes_rows(sql) {
                    return;
                }
                let (other, meanwhile) = &mut *in_trace.lock().unwrap();
                *made = Some(match meanwhile(other) {
                    Ok(()) => Ok(true),
                    Err(StoreError::Database(error))
                        if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) =>
                    {
                        Ok(false)
                    }
                    Err(error) => Err(error.to_string()),
                });
            }),
        )
        .unwrap();
    let result = call(store);
    store
        .conn
        .0
        .trace_v2(TraceEventCodes::empty(), None::<fn(TraceEvent<'_>)>)
        .unwrap();
    let made = made.lock().unwrap().take().expect("the call writes");
    if !made.expect("the other connection's write") {
        let (other, meanwhile) = &mut *other.lock().unwrap();
        meanwhile(other).unwrap();
    }
    result
}

/// Whether the statement `sql` writes rows, by its verb: `INSERT`, `UPDATE`, `DELETE` or
/// `REPLACE`, after any leading whitespace and comments (SQLite's trace gives a trigger's
/// start as a comment alone) and, for a `WITH`, after its common table expressions, where
/// a `SELECT` of the rows to write cannot hide the verb.
#[cfg(test)]
fn writes_rows(sql: &str) -> bool {
    let mut tokens = top_level_tokens(sql).into_iter();
    let mut verb = tokens.next();
    if matches!(verb, Some(SqlToken::Word(word)) if word.eq_ignore_ascii_case("WITH")) {
        // WITH [RECURSIVE] name [(columns)] AS [[NOT] MATERIALIZED] (select), ... VERB: the
        // verb is the first word after a closed parenthesis other than the AS of a name's
        // columns.
        let mut after_group = false;
        verb = tokens.find(|token| {
            let verb = after_group
                && matches!(token, SqlToken::Word(word) if !word.eq_ignore_ascii_case("AS"));
            after_group = matches!(token, SqlToken::Group);
            verb
        });
    }
    let Some(SqlToken::Word(verb)) = verb else {
        return false;
    };
    ["INSERT", "UPDATE", "DELETE", "REPLACE"]
        .iter()
        .any(|write| verb.eq_ignore_ascii_case(write))
}

/// A token of an SQL statement outside every parenthesis.
#[cfg(test)]
#[derive(Debug, PartialEq)]
enum SqlToken<'a> {
    /// A keyword or a bare name.
    Word(&'a str),
    /// A parenthesis and everything in it.
    Group,
    /// Anything else: a quoted name, a string, a number, punctuation.
    Other,
}

/// The tokens of `sql` outside every parenthesis, with whitespace and comments left out.
#[cfg(test)]
fn top_level_tokens(sql: &str) -> Vec<SqlToken<'_>> {
    let bytes = sql.as_bytes();
    // Where the text from `from` on first ends with `end`, past it (or the end of `sql`).
    let past = |from: usize, end: &str| {
        sql[from..]
            .find(end)
            .map_or(sql.len(), |at| from + at + end.len())
    };
    let mut tokens = Vec::new();
    let (mut at, mut depth) = (0, 0_usize);
    while let Some(&byte) = bytes.get(at) {
        let start = at;
        let token = match byte {
            b'-' if sql[at..].starts_with("--") => {
                at = past(at, "\n");
                None
            }
            b'/' if sql[at..].starts_with("/*") => {
                at = past(at + 2, "*/");
                None
            }
            // A doubled quote inside reads as two strings in a row: one token too many,
            // never a word.
            b'\'' | b'"' | b'`' => {
                at = past(at + 1, &sql[at..=at]);
                Some(SqlToken::Other)
            }
            b'[' => {
                at = past(at, "]");
                Some(SqlToken::Other)
            }
            b'(' => {
                at += 1;
                depth += 1;
                None
            }
            b')' => {
                at += 1;
                depth = depth.saturating_sub(1);
                (depth == 0).then_some(SqlToken::Group)
            }
            byte if byte.is_ascii_alphabetic() || byte == b'_' => {
                at += bytes[at..]
                    .iter()
                    .take_while(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'$'))
                    .count();
                Some(SqlToken::Word(&sql[start..at]))
            }
            byte if byte.is_ascii_whitespace() => {
                at += 1;
                None
            }
            _ => {
                at += 1;
                Some(SqlToken::Other)
            }
        };
        if depth == 0 {
            tokens.extend(token);
        }
    }
    tokens
}

/// Leaves `store` no room to grow, as a full disk does: the free pages are vacuumed away,
/// then SQLite answers the first write that needs a new page with `SQLITE_FULL`, the code it
/// gives when the file system has no space left (ENOSPC).
#[cfg(test)]
pub(crate) fn fill_the_disk(store: &mut Store) {
    store.vacuum().unwrap();
    let pages: i64 = store
        .conn
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    store
        .conn
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
}

/// Gives a store that `fill_the_disk` filled its room back.
#[cfg(test)]
pub(crate) fn free_the_disk(store: &Store) {
    store
        .conn
        .pragma_update(None, "max_page_count", 0xffff_fffe_u32)
        .unwrap();
}

/// The steps of `sql`'s query plan (`EXPLAIN QUERY PLAN`, parameters left unbound), for the
/// crate's tests of which index a statement goes through.
#[cfg(test)]
pub(crate) fn query_plan(store: &Store, sql: &str) -> Vec<String> {
    let mut statement = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let mut rows = statement.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get(3).unwrap());
    }
    steps
}

#[cfg(test)]
mod tests {
    use rusqlite::OptionalExtension;

    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[test]
    fn neither_the_store_file_nor_its_wal_holds_written_text_as_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE_NAME);
        let store = Store::open_with_key(&path, &StoreKey::generate()).unwrap();
        let marker = "Häkkinen-Warsame-plaintext-marker";
        store
            .conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('marker', ?1)",
                [marker],
            )
            .unwrap();
        // Read while the store is still open, so the row is still in the WAL, not yet
        // checkpointed into the main file.
        let wal = std::fs::read(dir.path().join(format!("{STORE_FILE_NAME}-wal"))).unwrap();
        assert!(!wal.is_empty(), "the write went to the WAL");
        assert!(
            !contains(&wal, marker.as_bytes()),
            "the WAL holds plaintext"
        );
        drop(store);
        let main = std::fs::read(&path).unwrap();
        assert!(!main.starts_with(b"SQLite format 3"));
        assert!(
            !contains(&main, marker.as_bytes()),
            "the store file holds plaintext"
        );
    }

    #[test]
    fn a_read_snapshot_sees_one_commit_and_reads_inside_a_callers_transaction_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE_NAME);
        let key = StoreKey::generate();
        let store = Store::open_with_key(&path, &key).unwrap();
        let other = Store::open_with_key(&path, &key).unwrap();
        let count = |store: &Store| -> i64 {
            store
                .conn
                .query_row("SELECT count(*) FROM meta", [], |row| row.get(0))
                .unwrap()
        };
        let before = count(&store);
        let snapshot = store.read_snapshot().unwrap();
        assert!(!store.conn.is_autocommit(), "a transaction is open");
        assert_eq!(count(&store), before);
        other
            .conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('meanwhile', 'x')",
                [],
            )
            .unwrap();
        assert_eq!(count(&store), before, "a commit in between is not seen");
        drop(snapshot);
        assert_eq!(count(&store), before + 1);

        // The reads that take a snapshot work inside a caller's transaction as well.
        store.conn.execute_batch("BEGIN").unwrap();
        drop(store.read_snapshot().unwrap());
        assert!(
            !store.conn.is_autocommit(),
            "the caller's transaction goes on"
        );
        store.recent_clients(8).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        store
            .open_follow_ups(None, today, None, crate::DueOrder::LatestFirst, 100)
            .unwrap();
        store.conn.execute_batch("COMMIT").unwrap();
    }

    /// A second `Store` on `store`'s file, and a table the tests' writers append to.
    fn a_second_store_and_a_log(store: &Store, key: &StoreKey) -> Store {
        store
            .conn
            .execute_batch("CREATE TABLE gate_log (id INTEGER PRIMARY KEY, writer TEXT)")
            .unwrap();
        Store::open_with_key(&store.path, key).unwrap()
    }

    fn append(tx: &Transaction<'_>, writer: &str) {
        tx.execute("INSERT INTO gate_log (writer) VALUES (?1)", [writer])
            .unwrap();
    }

    #[test]
    fn a_write_waiting_on_another_store_of_the_file_goes_before_the_holders_next_one() {
        let (_dir, mut store, key) = test_store_and_key();
        let mut other = a_second_store_and_a_log(&store, &key);
        let gate = Arc::clone(&store.conn.1);
        assert!(Arc::ptr_eq(&gate, &other.conn.1), "one gate per file");

        let tx = store.conn.write_transaction().unwrap();
        append(&tx, "first page");
        let save = std::thread::spawn(move || {
            let tx = other.conn.write_transaction().unwrap();
            append(&tx, "save");
            tx.commit().unwrap();
        });
        while gate.waiting() == 0 {
            std::thread::yield_now();
        }
        // The next page begins the moment the first one is committed.
        tx.commit().unwrap();
        let tx = store.conn.write_transaction().unwrap();
        append(&tx, "next page");
        tx.commit().unwrap();
        save.join().unwrap();

        let mut statement = store
            .conn
            .prepare("SELECT writer FROM gate_log ORDER BY id")
            .unwrap();
        let order: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(order, ["first page", "save", "next page"]);
    }

    #[test]
    fn a_save_during_writes_back_to_back_on_another_store_waits_for_the_one_being_made() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let (_dir, mut pull, key) = test_store_and_key();
        let mut coach = a_second_store_and_a_log(&pull, &key);
        let gate = Arc::clone(&pull.conn.1);
        let stopped = Arc::new(AtomicBool::new(false));
        let (committed, overtaking) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let pulling = {
            let (stopped, committed, overtaking) = (
                Arc::clone(&stopped),
                Arc::clone(&committed),
                Arc::clone(&overtaking),
            );
            std::thread::spawn(move || {
                while !stopped.load(Ordering::SeqCst) {
                    let tx = pull.conn.write_transaction().unwrap();
                    append(&tx, "page");
                    // Another writer (the save) asked for its turn before this page's commit.
                    if gate.waiting() > 0 {
                        overtaking.fetch_add(1, Ordering::SeqCst);
                    }
                    tx.commit().unwrap();
                    committed.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        while committed.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }

        let input = serde_json::from_value(serde_json::json!({"given_name": "Amina"})).unwrap();
        let saved = coach.create_record(
            tandem_domain::Entity::Client,
            &input,
            crate::EditContext::at(
                chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 7, 9, 0, 0).unwrap(),
            ),
        );
        stopped.store(true, Ordering::SeqCst);
        pulling.join().unwrap();

        // Without the gate, the save waited on SQLite's busy handler while the pages went
        // on, and failed after the busy timeout ("database is locked").
        saved.unwrap();
        let overtaking = overtaking.load(Ordering::SeqCst);
        assert!(
            overtaking <= 1,
            "{overtaking} pages were committed while the save waited"
        );
    }

    #[test]
    fn a_statement_writes_rows_by_its_verb_past_comments_and_common_table_expressions() {
        let (_dir, store) = test_store();
        let cases = [
            ("INSERT INTO meta (key, value) VALUES ('a', 'b')", true),
            ("  \n\tupdate meta SET value = 'c'", true),
            (
                "-- a note\n/* and another */ DELETE FROM meta WHERE key = 'a'",
                true,
            ),
            ("REPLACE INTO meta (key, value) VALUES ('a', 'b')", true),
            (
                "WITH m AS (SELECT 'a' AS key) INSERT INTO meta SELECT key, 'b' FROM m",
                true,
            ),
            (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3),
                      \"select\" AS MATERIALIZED (SELECT 'x)' AS v)
                 UPDATE meta SET value = (SELECT count(*) FROM n, \"select\")",
                true,
            ),
            (
                "with m as not materialized (select 'a' as key) -- which
                 delete from meta where key in (select key from m)",
                true,
            ),
            (
                "WITH m AS (SELECT 'INSERT' AS key) SELECT key FROM m WHERE key <> 'DELETE'",
                false,
            ),
            ("SELECT value FROM meta WHERE key = 'INSERT'", false),
            ("/* UPDATE */ SELECT 1", false),
            ("-- TRIGGER some_trigger", false),
            ("", false),
        ];
        for (sql, writes) in cases {
            assert_eq!(writes_rows(sql), writes, "{sql}");
            if !sql.trim().is_empty() && !sql.starts_with("-- TRIGGER") {
                let readonly = store.conn.prepare(sql).unwrap().readonly();
                assert_eq!(writes, !readonly, "SQLite judges otherwise: {sql}");
            }
        }
    }

    #[test]
    fn a_write_meanwhile_comes_before_a_with_statement_that_writes_and_after_one_that_reads() {
        // Each write, and the meta row that shows what it saw: the other write, or not.
        let cases = [
            (
                "WITH m AS (SELECT count(*) AS n FROM meta WHERE key = 'meanwhile')
                 INSERT INTO meta (key, value) SELECT 'counted', n FROM m",
                ("counted", Some("1")),
            ),
            (
                "WITH m AS (SELECT count(*) AS n FROM meta WHERE key = 'meanwhile')
                 UPDATE meta SET value = (SELECT n FROM m) WHERE key = 'seen'",
                ("seen", Some("1")),
            ),
            (
                "WITH m AS (SELECT key FROM meta WHERE key = 'meanwhile')
                 DELETE FROM meta WHERE key = 'seen' AND NOT EXISTS (SELECT 1 FROM m)",
                ("seen", Some("0")),
            ),
            (
                " /* a note */ -- and another
                 INSERT OR REPLACE INTO meta (key, value)
                 SELECT 'seen', count(*) FROM meta WHERE key = 'meanwhile'",
                ("seen", Some("1")),
            ),
        ];
        for (write, (shown_in, expected)) in cases {
            let (_dir, mut store, key) = test_store_and_key();
            store
                .conn
                .execute("INSERT INTO meta (key, value) VALUES ('seen', '0')", [])
                .unwrap();
            let meanwhile = |other: &mut Store| {
                other.conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('meanwhile', 'x')",
                    [],
                )?;
                Ok(())
            };
            let read_first = with_a_write_meanwhile(&mut store, &key, meanwhile, |store| {
                // A read through a WITH first: the other write waits for the write.
                let read: i64 = store.conn.query_row(
                    "WITH m AS (SELECT count(*) FROM meta WHERE key = 'meanwhile')
                     SELECT * FROM m",
                    [],
                    |row| row.get(0),
                )?;
                store.conn.execute(write, [])?;
                Ok(read)
            })
            .unwrap();
            assert_eq!(read_first, 0, "{write}");
            let shown: Option<String> = store
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [shown_in], |row| {
                    row.get(0)
                })
                .optional()
                .unwrap();
            assert_eq!(shown.as_deref(), expected, "{write}");
        }
    }

    #[test]
    fn a_store_keeps_an_8_mib_page_cache_for_search() {
        let (_dir, store) = test_store();
        let cache: i64 = store
            .conn
            .query_row("PRAGMA cache_size", [], |row| row.get(0))
            .unwrap();
        assert_eq!(cache, -8192, "negative: KiB, not pages");
    }

    #[test]
    fn a_store_is_opened_in_wal_mode_with_full_sync_and_foreign_keys() {
        let (_dir, store) = test_store();
        let pragma = |name: &str| -> String {
            store
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .map(|value| format!("{value:?}"))
                .unwrap()
        };
        assert_eq!(pragma("journal_mode"), "Text(\"wal\")");
        assert_eq!(pragma("synchronous"), "Integer(2)", "2 is FULL");
        assert_eq!(pragma("foreign_keys"), "Integer(1)");
        assert_eq!(pragma("busy_timeout"), "Integer(5000)");
        assert_eq!(
            pragma("secure_delete"),
            "Integer(1)",
            "erased data is zeroed"
        );
        assert!(pragma("cipher_version").starts_with("Text(\"4."));
    }
}
