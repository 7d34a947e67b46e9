//! One sync at a time per store, also across processes (the desktop app and `tandem sync`):
//! an exclusive lock on a file in the data directory, released by the operating system when
//! the holder exits, even by SIGKILL.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::SyncError;

/// The lock file's name inside a data directory.
pub const SYNC_LOCK_FILE_NAME: &str = "tandem.sync.lock";

/// A held sync lock; dropping it releases the lock.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    path: PathBuf,
}

impl SyncLock {
    /// Takes the lock of the store in `data_dir`, or says that another sync holds it.
    pub fn try_acquire(data_dir: &Path) -> Result<SyncLock, SyncError> {
        let path = data_dir.join(SYNC_LOCK_FILE_NAME);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|source| SyncError::Io {
            action: "open the sync lock",
            path: path.clone(),
            source,
        })?;
        match file.try_lock() {
            Ok(()) => Ok(SyncLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(SyncError::AlreadyRunning { path }),
            Err(TryLockError::Error(source)) => Err(SyncError::Io {
                action: "lock",
                path,
                source,
            }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_sync_of_the_same_store_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = SyncLock::try_acquire(dir.path()).unwrap();
        assert!(matches!(
            SyncLock::try_acquire(dir.path()),
            Err(SyncError::AlreadyRunning { .. })
        ));
        drop(first);
        SyncLock::try_acquire(dir.path()).unwrap();
    }
}
