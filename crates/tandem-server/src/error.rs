//! The one error type of the server library: what went wrong in the store, the admin
//! commands or password hashing. HTTP handlers turn it into an `ApiError`.

use uuid::Uuid;

/// Why a server operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The SQLite database failed.
    #[error("SQLite database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The disk holding the database is full: the transaction that hit it was rolled back.
    #[error(
        "the disk holding the {0} database is full: nothing more can be stored until space is \
         freed (nothing acknowledged was lost; devices keep what was not acknowledged and retry)"
    )]
    DiskFull(&'static str),
    /// Every pooled database connection stayed busy for as long as a request may wait for
    /// one: the server is overloaded; nothing of the request was done.
    #[error("no database connection became free within {} s (the server is overloaded)", .0.as_secs())]
    Busy(std::time::Duration),
    /// The database cannot be reached or refuses connections (stopped, restarting, its
    /// host gone): nothing of the request was done. PostgreSQL's code and sentence.
    #[error("the PostgreSQL database is unavailable: {0}")]
    DatabaseUnavailable(String),
    /// The PostgreSQL database failed. The message is PostgreSQL's code and sentence,
    /// never its DETAIL, which can quote row data.
    #[error("PostgreSQL database error: {0}")]
    Postgres(String),
    /// The `--database-url` does not parse.
    #[error("invalid database URL: {0}")]
    InvalidDatabaseUrl(String),
    /// The database was written by a newer server.
    #[error(
        "the database has schema version {found}, newer than this server supports ({supported}); upgrade the server"
    )]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A team with that name exists already.
    #[error("a team named `{0}` exists already")]
    TeamExists(String),
    /// No team has that name.
    #[error("no team is named `{0}`")]
    UnknownTeam(String),
    /// A user with that name exists already.
    #[error("a user named `{0}` exists already")]
    UserExists(String),
    /// A user has that id already (`admin user add --id`).
    #[error("a user with the id {0} exists already")]
    UserIdExists(Uuid),
    /// No user has that name.
    #[error("no user is named `{0}`")]
    UnknownUser(String),
    /// A site with that name exists already (names are compared ignoring case and
    /// surrounding spaces).
    #[error(
        "a site named `{0}` exists already (site names are compared ignoring case and surrounding spaces)"
    )]
    SiteExists(String),
    /// A site has that id already (`admin site add --id`).
    #[error("a site with the id {0} exists already")]
    SiteIdExists(Uuid),
    /// No site has that id.
    #[error("no site has the id {0}")]
    UnknownSite(Uuid),
    /// A site name that cannot be stored; the sentence says why.
    #[error("{0}")]
    InvalidSiteName(String),
    /// A team name that cannot be stored; the sentence says why.
    #[error("{0}")]
    InvalidTeamName(String),
    /// A username that cannot be stored; the sentence says why.
    #[error("{0}")]
    InvalidUsername(String),
    /// No device has that id.
    #[error("no device has the id {0}")]
    UnknownDevice(Uuid),
    /// The conflict does not exist in the caller's team.
    #[error("no conflict {0} in this team")]
    UnknownConflict(i64),
    /// No client (or record) with that id in the caller's reach; erased ones included.
    #[error("no client {0}: never written, erased already, or of another team")]
    UnknownRecord(Uuid),
    /// A team's erasure of a client would remove records of another team that link to it
    /// (a contact naming it, a client merged into it); only an admin or the operator erases
    /// across teams.
    #[error(
        "records of another team link to client {client}; a team lead erases only their own \
         team's records, so an admin or the server operator erases this client \
         (`tandem-server admin client erase {client}`)"
    )]
    LinkedFromOtherTeam {
        /// The client asked for.
        client: Uuid,
    },
    /// The conflict was resolved already, or its field was written after it: then this
    /// resolve attempt is what closes it, as `auto_resolved`.
    #[error("conflict {0} is not open")]
    ConflictNotOpen(i64),
    /// No client with that id in the caller's team.
    #[error("no client {0} in this team")]
    UnknownClient(Uuid),
    /// The client cannot take part in a merge (deleted, or merged already).
    #[error("client {id} cannot be merged: {reason}")]
    ClientNotMergeable {
        /// The client.
        id: Uuid,
        /// Why not.
        reason: String,
    },
    /// No merge with that id in the caller's team.
    #[error("no merge {0} in this team")]
    UnknownMerge(Uuid),
    /// Undoing the merge would overwrite what changed since.
    #[error("merge {id} cannot be undone: {reason}")]
    MergeNotUndoable {
        /// The merge.
        id: Uuid,
        /// What changed since.
        reason: String,
    },
    /// The write would leave special-category data on a client without a lawful basis: the
    /// refusal says which way (`lawful_basis_required` or `lawful_basis_in_use`) and why.
    #[error("{}", .0.reason)]
    ConsentRequired(crate::push::Refusal),
    /// Hashing or checking a password failed.
    #[error("password hashing failed: {0}")]
    PasswordHashing(String),
    /// A stored row does not decode (a bug or a damaged database).
    #[error("stored data does not decode: {0}")]
    CorruptData(String),
    /// A blocking database task panicked or was cancelled.
    #[error("a database task failed: {0}")]
    TaskFailed(String),
    /// The data directory or a file could not be used.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),

    /// A backup could not be written.
    #[error("backup to {}: {reason}", path.display())]
    Backup {
        /// The backup file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A backup could not be restored; nothing was changed.
    #[error("restore: {}: {reason}", path.display())]
    Restore {
        /// The backup file or the database concerned.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS certificate file (`--tls-cert`) cannot be read or holds no PEM certificate.
    #[error("TLS certificate file {}: {reason}", path.display())]
    TlsCertificate {
        /// The file named in the configuration.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS key file (`--tls-key`) cannot be read, holds no PEM private key, or the key
    /// does not belong to the certificate.
    #[error("TLS key file {}: {reason}", path.display())]
    TlsKey {
        /// The file named in the configuration.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<rusqlite::Error> for ServerError {
    fn from(error: rusqlite::Error) -> Self {
        // SQLITE_IOERR_SHMSIZE: opening a WAL database could not grow its -shm file. The
        // laptop's store reads these two codes the same way (tandem_store's
        // `sqlite_disk_full`; the server does not depend on tandem-store).
        let shm_not_grown = matches!(&error, rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE);
        if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) || shm_not_grown {
            Self::DiskFull("SQLite")
        } else {
            Self::Sqlite(error)
        }
    }
}
