//! The SQLite store: one file per job (`<output.dir>/store.sqlite`, WAL) holding raw responses
//! (record windows done, detail JSON by uuid with fetch time, stat responses, the directory)
//! and the `runs` table. What makes runs resumable, incremental and rebuildable offline.
//!
//! Owns the schema and every SQL statement; it makes no network call and knows no DataFrame.
//! Every write is one short transaction (a page with its window's state, a detail, a stat
//! response, a whole directory snapshot), so a process killed at any moment loses at most the
//! call in flight and never what is already stored.
//!
//! All times are unix seconds (UTC). Windows are `[start_ts, end_ts)`.
//!
//! One file per thing stored, each adding its methods to [`Store`]: `windows.rs` (record
//! windows and their pages), `details.rs`, `stats.rs`, `directory.rs`, `wedrive.rs` (download
//! records), `templates.rs` (what is known of each journal's template), `gaps.rs` (details
//! WeCom would not give), `runs.rs` (the runs and their statuses), `quota.rs` (the calls of
//! the last hour, for the rate limiter of the next process) and `history.rs` (counts, and the
//! facts of earlier listings that the plan scales); the schema and its migrations are in
//! `schema.rs`, the connection here. Every transaction that writes is `BEGIN IMMEDIATE`
//! ([`write_tx`]).

mod details;
mod directory;
mod gaps;
mod history;
mod quota;
mod runs;
mod schema;
mod stats;
mod templates;
mod wedrive;
mod windows;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;
use thiserror::Error;

use schema::{migrate, schema_version};

pub(crate) use details::DetailState;
pub(crate) use history::ListingHistory;
pub use quota::{QuotaBucket, StoredQuotaBucket};
pub use runs::{RunEnd, RunRecord, RunStatus};
pub(crate) use schema::SCHEMA_VERSION;
pub(crate) use wedrive::WedriveDownloadRecord;
pub use windows::{filter_key, PageRecord, WindowRecord, WindowState};

/// The store's file name in a local output directory.
pub(crate) const STORE_FILE: &str = "store.sqlite";

/// The store file of a job whose `output.dir` is the local directory `output_dir` (the
/// pipeline's `store_file` also knows `store.path` and object storage).
pub fn store_path(output_dir: &Path) -> PathBuf {
    output_dir.join(STORE_FILE)
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("store {path}: cannot create its directory: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("store {path}: schema version {found} is newer than this program's {expected}; use a newer wecom-journal")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        expected: i64,
    },
    #[error("store {path}: journal_mode is {mode}, WAL could not be enabled")]
    NoWal { path: PathBuf, mode: String },
    #[error("store: {what}: {source}")]
    Sql {
        what: String,
        source: rusqlite::Error,
    },
    #[error("store: {what}: stored JSON does not decode: {source}")]
    Decode {
        what: String,
        source: serde_json::Error,
    },
    #[error("store: {0}")]
    Invalid(String),
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches what was being done to a rusqlite error.
trait SqlContext<T> {
    fn ctx(self, what: impl Into<String>) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn ctx(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|source| StoreError::Sql {
            what: what.into(),
            source,
        })
    }
}

/// The store of one job. Cheap to share by reference across tasks: one connection behind a
/// mutex, each call a short statement or transaction.
pub struct Store {
    path: PathBuf,
    /// The file's schema version: [`SCHEMA_VERSION`] once opened to write (migrated); what the
    /// file says when opened read-only (never migrated), which the readers of columns added
    /// since version 1 look at.
    schema_version: i64,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating it and its parent directories if needed) the store at `path`, in WAL
    /// mode with `synchronous = NORMAL`, and brings its schema to [`SCHEMA_VERSION`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: path.clone(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        // Another process (a second run of the same job) may hold the write lock briefly.
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { path, mode });
        }
        // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only a power loss
        // may roll back the last commits, which a re-run fetches again.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        if schema_version(&conn, &path)? < SCHEMA_VERSION {
            migrate(&mut conn, &path)?;
        }
        Ok(Store {
            path,
            schema_version: SCHEMA_VERSION,
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing store for reading only (`plan` reads the history of earlier runs and
    /// must never create, migrate or lock a store for writing). `Ok(None)` when there is no file
    /// at `path` or it holds no schema yet. Only the methods that read tables of every schema
    /// version, or that look at the file's version (such as [`Store::plan_history`]), may be
    /// used on it.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Option<Store>> {
        use rusqlite::OpenFlags;
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Ok(None);
        }
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        // A run of the same job may be writing (WAL lets it): wait for its short transactions.
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(open_err)?;
        let version = schema_version(&conn, &path)?;
        if version < 1 {
            // No schema: never written by a run. Older schemas are read as they are (no
            // migration here): `plan_history` reads what every version has, and counts what
            // an older one lacks from the details themselves.
            return Ok(None);
        }
        Ok(Some(Store {
            path,
            schema_version: version,
            conn: Mutex::new(conn),
        }))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version: [`SCHEMA_VERSION`] once opened to write; what the file says
    /// when opened read-only (an older one is migrated by the next [`Store::open`]).
    pub(crate) fn schema_version(&self) -> i64 {
        self.schema_version
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite rolls
        // it back when the Transaction drops), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A write transaction, `BEGIN IMMEDIATE`: it takes SQLite's write lock at its start, waiting
/// for it under the busy timeout. A deferred transaction that reads and then writes would
/// instead fail at once with "database is locked" when another connection wrote in between
/// (SQLite cannot upgrade its read snapshot), whatever the busy timeout. Every transaction of
/// the store that writes begins here.
fn write_tx(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

#[cfg(test)]
mod tests;
