//! Restoring the SQLite database from a backup file (`tandem-server restore`). The backup is
//! checked and only ever read; a database that a running server has open is never touched;
//! an existing database is replaced only when asked to, and then kept beside the restored one.
//! The restored database begins a new epoch (`store/epoch.rs`), so laptops that synced after
//! the backup was made push again what the restore lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::epoch::rotate_epoch_blocking;
use super::{MIGRATIONS, SqliteStore};
use crate::ServerError;
use crate::store::Epoch;

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Where the replaced database was kept, if one was replaced.
    pub replaced: Option<PathBuf>,
    /// The epoch the restored database began.
    pub epoch: Epoch,
}

/// Tables every tandem-server database has, whatever its schema version.
const REQUIRED_TABLES: &[&str] = &["teams", "users", "devices", "change_log", "field_state"];

impl SqliteStore {
    /// Makes the database at `target` a copy of the backup `source` (written by
    /// [`SqliteStore::backup_to`] or `sqlite3 .backup`) and migrates it to this server's
    /// schema, and begins a new epoch in it. A database at `target` is replaced only with
    /// `replace`, and only when no process has it open; it is renamed to
    /// `<target>.replaced-<now>` (with its WAL files), whose path is returned. Every check
    /// comes before the first change: a refused restore leaves both files as they were.
    pub fn restore(
        source: &Path,
        target: &Path,
        replace: bool,
        now: DateTime<Utc>,
    ) -> Result<Restored, ServerError> {
        let backup = open_backup(source)?;
        let replaced = if target.exists() {
            if source.canonicalize()? == target.canonicalize()? {
                return Err(restore_error(target, "the backup is the database itself"));
            }
            ensure_not_in_use(target)?;
            if !replace {
                return Err(restore_error(
                    target,
                    "a database is there already; add --force to replace it (it is then kept \
                     beside the restored one)",
                ));
            }
            Some(move_aside(target, now)?)
        } else {
            None
        };
        let text = target
            .to_str()
            .ok_or_else(|| restore_error(target, "the path is not UTF-8"))?;
        backup
            .execute("VACUUM INTO ?1", [text])
            .map_err(|error| restore_error(target, error.to_string()))?;
        drop(backup);
        let store = SqliteStore::open(target)?;
        let epoch = rotate_epoch_blocking(&mut store.lock(), now)?;
        Ok(Restored { replaced, epoch })
    }
}

fn restore_error(path: &Path, reason: impl Into<String>) -> ServerError {
    ServerError::Restore {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Opens the backup read-only after checking that it is an intact tandem-server database
/// that this server can migrate.
fn open_backup(source: &Path) -> Result<Connection, ServerError> {
    if !source.is_file() {
        return Err(restore_error(source, "no such file"));
    }
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|error| restore_error(source, error.to_string()))?;
    let facts = || -> rusqlite::Result<(String, i64, i64)> {
        let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let mut tables = 0;
        for table in REQUIRED_TABLES {
            tables += conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get::<_, i64>(0),
            )?;
        }
        Ok((check, version, tables))
    };
    let supported = MIGRATIONS.len() as i64;
    match facts() {
        Err(error) => Err(restore_error(
            source,
            format!("not a readable SQLite database ({error})"),
        )),
        Ok((check, ..)) if check != "ok" => Err(restore_error(
            source,
            format!("the file is damaged ({check})"),
        )),
        Ok((_, version, tables)) if version == 0 || tables < REQUIRED_TABLES.len() as i64 => {
            Err(restore_error(source, "not a tandem-server database"))
        }
        Ok((_, found, _)) if found > supported => {
            Err(ServerError::SchemaTooNew { found, supported })
        }
        Ok(_) => Ok(conn),
    }
}

/// Fails when another process has `target` open. Every connection to a WAL database holds a
/// shared lock for as long as it is open, so an exclusive lock is refused while a server
/// runs, even an idle one. Closing the connection checkpoints the WAL into the file.
fn ensure_not_in_use(target: &Path) -> Result<(), ServerError> {
    let conn = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|error| restore_error(target, error.to_string()))?;
    conn.busy_timeout(Duration::ZERO)?;
    match conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;") {
        Ok(()) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
            ) =>
        {
            Err(restore_error(
                target,
                "a running tandem-server (or another program) has it open; stop every instance \
                 first",
            ))
        }
        Err(error) => Err(restore_error(
            target,
            format!("not a usable SQLite database ({error})"),
        )),
    }
}

/// Renames the database and any WAL files it left to `<name>.replaced-<time>...`.
fn move_aside(target: &Path, now: DateTime<Utc>) -> Result<PathBuf, ServerError> {
    let mut aside = target.as_os_str().to_owned();
    aside.push(format!(".replaced-{}", now.format("%Y%m%dT%H%M%S%.3fZ")));
    let aside = PathBuf::from(aside);
    if aside.exists() {
        return Err(restore_error(
            &aside,
            "exists already; try again in a second",
        ));
    }
    std::fs::rename(target, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let mut from = target.as_os_str().to_owned();
        from.push(suffix);
        let from = PathBuf::from(from);
        if from.exists() {
            let mut to = aside.as_os_str().to_owned();
            to.push(suffix);
            std::fs::rename(&from, PathBuf::from(to))?;
        }
    }
    Ok(aside)
}
