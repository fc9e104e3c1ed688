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
//! Schema history (`PRAGMA user_version`): 1 the responses and runs; 2 adds
//! `wedrive_downloads`. Every table is `CREATE TABLE IF NOT EXISTS`, so migrating an older file
//! is running the whole schema again and raising the version, in one transaction.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use thiserror::Error;

use crate::job::plan::PlanHistory;
use crate::wecom::types::{
    Department, DepartmentListResponse, DirectoryUser, JournalDetail, RecordFilter, StatCycle,
    StatListResponse, UserListResponse,
};

/// The schema this code reads and writes (`PRAGMA user_version`). A file with a newer version
/// is refused rather than misread; an older one is migrated in [`Store::open`].
pub const SCHEMA_VERSION: i64 = 2;

/// The store file of a job whose `output.dir` is `output_dir`.
pub fn store_path(output_dir: &Path) -> PathBuf {
    output_dir.join("store.sqlite")
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

/// The filter combination of a record window, in the canonical text used as its key: the JSON
/// of the filters in the order the request carries them (`[]` without filters).
pub fn filter_key(filters: &[RecordFilter]) -> String {
    // Serialising a Vec of two-string structs cannot fail.
    serde_json::to_string(filters).unwrap_or_else(|_| "[]".to_string())
}

/// Where paging a record window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Some pages stored; paging continues from the last page's `next_cursor`.
    Partial,
    /// Paged to `endflag = 1`.
    Done,
    /// Answered 301066 and halved: its halves are windows of their own.
    Split,
}

impl WindowState {
    fn as_str(self) -> &'static str {
        match self {
            WindowState::Partial => "partial",
            WindowState::Done => "done",
            WindowState::Split => "split",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "partial" => Ok(WindowState::Partial),
            "done" => Ok(WindowState::Done),
            "split" => Ok(WindowState::Split),
            other => Err(StoreError::Invalid(format!(
                "unknown record window state {other:?}"
            ))),
        }
    }
}

/// A record window as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub filter_key: String,
    pub start_ts: i64,
    pub end_ts: i64,
    pub state: WindowState,
    /// Pages stored so far.
    pub pages: u32,
    /// uuids listed so far (over all pages).
    pub journals: u64,
    /// The cursor to continue from (the last page's `next_cursor`).
    pub next_cursor: u64,
    /// When paging of this window started (unix s): the window is final once `paged_at >=
    /// end_ts`, as nothing can be added to a closed window after that.
    pub paged_at: i64,
}

impl WindowRecord {
    /// Paged to the end after the window had closed: never paged again.
    pub fn is_final(&self) -> bool {
        match self.state {
            WindowState::Done => self.paged_at >= self.end_ts,
            WindowState::Split => true,
            WindowState::Partial => false,
        }
    }
}

/// One page of a record window to store.
#[derive(Debug, Clone)]
pub struct PageRecord<'a> {
    pub filter_key: &'a str,
    pub start_ts: i64,
    pub end_ts: i64,
    /// The cursor the page was asked with.
    pub cursor: u64,
    pub uuids: &'a [String],
    pub next_cursor: u64,
    /// `endflag = 1`: the window is done with this page.
    pub last: bool,
    /// When paging of the window started (kept from the first page).
    pub paged_at: i64,
}

/// What the store knows of a detail, for the fetch rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailState {
    pub report_time: i64,
    pub fetched_at: i64,
}

/// A stat response as stored.
#[derive(Debug, Clone)]
pub struct StoredStat {
    pub template_id: String,
    pub start_ts: i64,
    pub end_ts: i64,
    pub fetched_at: i64,
    pub raw: String,
    pub response: StatListResponse,
}

/// The latest directory snapshot: the raw `department/list` response and each department's
/// raw `user/list` response, decoded.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    pub fetched_at: i64,
    pub departments_raw: String,
    /// `(department_id, raw user/list response)`, by department id.
    pub user_lists_raw: Vec<(u64, String)>,
    pub departments: Vec<Department>,
    /// Every user once (the first department listing them wins), by userid.
    pub users: Vec<DirectoryUser>,
}

/// A row of the `runs` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: String,
    pub job: String,
    /// The resolved range, `YYYY-MM-DD..YYYY-MM-DD` (end exclusive).
    pub range: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `running` until finished; then `ok`, `gaps`, `failed`, or `interrupted` for a run that
    /// was killed and resumed by a later one.
    pub status: String,
    pub manifest: Option<String>,
}

/// A wedrive file the extraction downloaded. Only where it is and what it was: the download URL
/// and its cookie are credentials (valid two hours) and are never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WedriveDownloadRecord {
    pub journal_uuid: String,
    pub fileid: String,
    /// Relative to the output directory (the store's directory), `/`-separated.
    pub local_path: String,
    pub bytes: u64,
    pub fetched_at: i64,
}

/// How much the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub windows: u64,
    pub windows_done: u64,
    pub pages: u64,
    pub details: u64,
    pub stats: u64,
    pub directory_departments: u64,
    pub directory_users: u64,
    pub runs: u64,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS record_windows (
    filter_key  TEXT    NOT NULL,
    start_ts    INTEGER NOT NULL,
    end_ts      INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    pages       INTEGER NOT NULL,
    journals    INTEGER NOT NULL,
    next_cursor INTEGER NOT NULL,
    paged_at    INTEGER NOT NULL,
    PRIMARY KEY (filter_key, start_ts, end_ts)
);
CREATE TABLE IF NOT EXISTS record_pages (
    filter_key  TEXT    NOT NULL,
    start_ts    INTEGER NOT NULL,
    end_ts      INTEGER NOT NULL,
    page_no     INTEGER NOT NULL,
    cursor      INTEGER NOT NULL,
    next_cursor INTEGER NOT NULL,
    uuids       TEXT    NOT NULL,
    PRIMARY KEY (filter_key, start_ts, end_ts, page_no)
);
CREATE TABLE IF NOT EXISTS details (
    journal_uuid TEXT    PRIMARY KEY,
    template_id  TEXT,
    report_time  INTEGER NOT NULL,
    submitter    TEXT    NOT NULL,
    raw          TEXT    NOT NULL,
    fetched_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS details_by_time ON details (report_time, journal_uuid);
CREATE TABLE IF NOT EXISTS stats (
    template_id TEXT    NOT NULL,
    start_ts    INTEGER NOT NULL,
    end_ts      INTEGER NOT NULL,
    raw         TEXT    NOT NULL,
    fetched_at  INTEGER NOT NULL,
    PRIMARY KEY (template_id, start_ts, end_ts)
);
CREATE TABLE IF NOT EXISTS directory_snapshots (
    snapshot_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    fetched_at      INTEGER NOT NULL,
    departments_raw TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS directory_user_lists (
    snapshot_id   INTEGER NOT NULL,
    department_id INTEGER NOT NULL,
    raw           TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, department_id)
);
CREATE TABLE IF NOT EXISTS wedrive_downloads (
    journal_uuid TEXT    NOT NULL,
    fileid       TEXT    NOT NULL,
    local_path   TEXT    NOT NULL,
    bytes        INTEGER NOT NULL,
    fetched_at   INTEGER NOT NULL,
    PRIMARY KEY (journal_uuid, fileid)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT    PRIMARY KEY,
    job         TEXT    NOT NULL,
    range       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL,
    manifest    TEXT
);
"#;

/// The store of one job. Cheap to share by reference across tasks: one connection behind a
/// mutex, each call a short statement or transaction.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The store's schema version (`PRAGMA user_version`); an error for a store written by a newer
/// wecom-journal, which this one must not read or migrate.
fn schema_version(conn: &Connection, path: &Path) -> Result<i64> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(version)
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
        let conn = Connection::open(&path).map_err(open_err)?;
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
        let version = schema_version(&conn, &path)?;
        if version < SCHEMA_VERSION {
            conn.execute_batch(&format!(
                "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(open_err)?;
        }
        Ok(Store {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing store for reading only (`plan` reads the history of earlier runs and
    /// must never create, migrate or lock a store for writing). `Ok(None)` when there is no file
    /// at `path` or it holds no schema yet. Only the methods that read tables of every schema
    /// version (such as [`Store::plan_history`]) may be used on it.
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
            // migration here): what `plan_history` reads is in every version.
            return Ok(None);
        }
        Ok(Some(Store {
            path,
            conn: Mutex::new(conn),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite rolls
        // it back when the Transaction drops), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // -----------------------------------------------------------------------------------------
    // Record windows

    /// The stored state of a window, if it was ever paged.
    pub fn record_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Option<WindowRecord>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT state, pages, journals, next_cursor, paged_at FROM record_windows
                 WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
                params![filter_key, start_ts, end_ts],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .ctx(format!(
                "reading record window {filter_key} [{start_ts}, {end_ts})"
            ))?;
        row.map(|(state, pages, journals, next_cursor, paged_at)| {
            Ok(WindowRecord {
                filter_key: filter_key.to_string(),
                start_ts,
                end_ts,
                state: WindowState::parse(&state)?,
                pages: pages as u32,
                journals: journals as u64,
                next_cursor: next_cursor as u64,
                paged_at,
            })
        })
        .transpose()
    }

    /// Starts (or restarts) paging a window from its first page: any earlier listing of it is
    /// dropped, in the same transaction that records the new start, so the window never reads
    /// as done with a half listing.
    pub fn begin_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
    ) -> Result<()> {
        let what = format!("starting record window {filter_key} [{start_ts}, {end_ts})");
        self.reset_window(filter_key, start_ts, end_ts, paged_at, "partial", &what)
    }

    /// Stores one page and advances its window (to `done` on the last page), in one transaction.
    pub fn put_page(&self, page: &PageRecord<'_>) -> Result<()> {
        let what = || {
            format!(
                "storing a page of record window {} [{}, {}) at cursor {}",
                page.filter_key, page.start_ts, page.end_ts, page.cursor
            )
        };
        let uuids = serde_json::to_string(page.uuids).map_err(|source| StoreError::Decode {
            what: what(),
            source,
        })?;
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what())?;
        let (pages, journals): (i64, i64) = tx
            .query_row(
                "SELECT pages, journals FROM record_windows WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
                params![page.filter_key, page.start_ts, page.end_ts],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx(what())?
            .unwrap_or((0, 0));
        tx.execute(
            "INSERT OR REPLACE INTO record_pages (filter_key, start_ts, end_ts, page_no, cursor, next_cursor, uuids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                page.filter_key,
                page.start_ts,
                page.end_ts,
                pages,
                page.cursor as i64,
                page.next_cursor as i64,
                uuids
            ],
        )
        .ctx(what())?;
        let state = if page.last {
            WindowState::Done
        } else {
            WindowState::Partial
        };
        tx.execute(
            "INSERT INTO record_windows (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (filter_key, start_ts, end_ts) DO UPDATE SET
                 state = excluded.state, pages = excluded.pages, journals = excluded.journals,
                 next_cursor = excluded.next_cursor",
            params![
                page.filter_key,
                page.start_ts,
                page.end_ts,
                state.as_str(),
                pages + 1,
                journals + page.uuids.len() as i64,
                page.next_cursor as i64,
                page.paged_at
            ],
        )
        .ctx(what())?;
        tx.commit().ctx(what())
    }

    /// Records that a window answered 301066 and was halved; its halves are paged on their own.
    pub fn put_window_split(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
    ) -> Result<()> {
        let what = format!("marking record window {filter_key} [{start_ts}, {end_ts}) split");
        self.reset_window(filter_key, start_ts, end_ts, paged_at, "split", &what)
    }

    /// Drops a window's pages and sets it to `state` with nothing listed, in one transaction,
    /// so the window never reads as done with a half listing.
    fn reset_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
        state: &str,
        what: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what)?;
        tx.execute(
            "DELETE FROM record_pages WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
            params![filter_key, start_ts, end_ts],
        )
        .ctx(what)?;
        tx.execute(
            "INSERT INTO record_windows (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at)
             VALUES (?1, ?2, ?3, ?5, 0, 0, 0, ?4)
             ON CONFLICT (filter_key, start_ts, end_ts) DO UPDATE SET
                 state = excluded.state, pages = 0, journals = 0, next_cursor = 0, paged_at = excluded.paged_at",
            params![filter_key, start_ts, end_ts, paged_at, state],
        )
        .ctx(what)?;
        tx.commit().ctx(what)
    }

    /// The uuids a window's stored pages list, in page order, each once.
    pub fn window_uuids(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Vec<String>> {
        let what =
            || format!("reading the uuids of record window {filter_key} [{start_ts}, {end_ts})");
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT uuids FROM record_pages WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3
                 ORDER BY page_no",
            )
            .ctx(what())?;
        let pages = stmt
            .query_map(params![filter_key, start_ts, end_ts], |r| {
                r.get::<_, String>(0)
            })
            .ctx(what())?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for page in pages {
            let page = page.ctx(what())?;
            let uuids: Vec<String> =
                serde_json::from_str(&page).map_err(|source| StoreError::Decode {
                    what: what(),
                    source,
                })?;
            for uuid in uuids {
                if seen.insert(uuid.clone()) {
                    out.push(uuid);
                }
            }
        }
        Ok(out)
    }

    /// Every stored window, ordered by filter combination and start.
    pub fn record_windows(&self) -> Result<Vec<WindowRecord>> {
        let what = "listing record windows";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at
                 FROM record_windows ORDER BY filter_key, start_ts, end_ts",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .ctx(what)?;
        let mut out = Vec::new();
        for row in rows {
            let (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at) =
                row.ctx(what)?;
            out.push(WindowRecord {
                filter_key,
                start_ts,
                end_ts,
                state: WindowState::parse(&state)?,
                pages: pages as u32,
                journals: journals as u64,
                next_cursor: next_cursor as u64,
                paged_at,
            });
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // Details

    /// When the detail was fetched and what its report time is, if stored.
    pub fn detail_state(&self, journal_uuid: &str) -> Result<Option<DetailState>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT report_time, fetched_at FROM details WHERE journal_uuid = ?1")
            .ctx("reading a detail's fetch time")?;
        stmt.query_row([journal_uuid], |r| {
            Ok(DetailState {
                report_time: r.get(0)?,
                fetched_at: r.get(1)?,
            })
        })
        .optional()
        .ctx(format!("reading the fetch time of detail {journal_uuid}"))
    }

    /// Stores (or replaces) a detail: `raw` is the `info` object's JSON text.
    pub fn put_detail(&self, detail: &JournalDetail, raw: &str, fetched_at: i64) -> Result<()> {
        self.put_details(&[(detail, raw)], fetched_at)
    }

    /// Stores several details in one transaction.
    pub fn put_details(&self, details: &[(&JournalDetail, &str)], fetched_at: i64) -> Result<()> {
        let what = "storing details";
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO details (journal_uuid, template_id, report_time, submitter, raw, fetched_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .ctx(what)?;
            for (d, raw) in details {
                stmt.execute(params![
                    d.journal_uuid,
                    d.template_id,
                    d.report_time,
                    d.submitter.userid,
                    raw,
                    fetched_at
                ])
                .ctx(format!("storing detail {}", d.journal_uuid))?;
            }
        }
        tx.commit().ctx(what)
    }

    /// Streams the stored details with `start_ts <= report_time < end_ts` in report-time order
    /// (uuid breaks ties), decoded, `batch_size` at a time. Each batch is read by its own query
    /// (keyset paging), so memory stays bounded and the store is not locked while `f` runs.
    pub fn details_in_range<E>(
        &self,
        start_ts: i64,
        end_ts: i64,
        batch_size: usize,
        mut f: impl FnMut(Vec<JournalDetail>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E>
    where
        E: From<StoreError>,
    {
        let batch_size = batch_size.max(1);
        let mut after: Option<(i64, String)> = None;
        loop {
            let rows = self.detail_batch(start_ts, end_ts, after.as_ref(), batch_size)?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = Some((last.0, last.1.clone()));
            let full = rows.len() == batch_size;
            let mut batch = Vec::with_capacity(rows.len());
            for (_, uuid, raw) in rows {
                let detail: JournalDetail =
                    serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                        what: format!("detail {uuid}"),
                        source,
                    })?;
                batch.push(detail);
            }
            f(batch)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// One keyset page of [`Store::details_in_range`] for callers that cannot run inside its
    /// callback (async stages): the stored details with `start_ts <= report_time < end_ts`
    /// after `after` (`(report_time, journal_uuid)` of the previous page's last detail), in
    /// report-time order, decoded, at most `limit`.
    pub fn details_page(
        &self,
        start_ts: i64,
        end_ts: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<JournalDetail>> {
        self.detail_batch(start_ts, end_ts, after, limit.max(1))?
            .into_iter()
            .map(|(_, uuid, raw)| {
                serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                    what: format!("detail {uuid}"),
                    source,
                })
            })
            .collect()
    }

    fn detail_batch(
        &self,
        start_ts: i64,
        end_ts: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>> {
        let what = "reading details by report time";
        let conn = self.conn();
        let (after_time, after_uuid) = match after {
            Some((t, u)) => (*t, u.as_str()),
            // Before every stored row: report times start at start_ts, uuids are never "".
            None => (i64::MIN, ""),
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT report_time, journal_uuid, raw FROM details
                 WHERE report_time >= ?1 AND report_time < ?2 AND (report_time, journal_uuid) > (?3, ?4)
                 ORDER BY report_time, journal_uuid LIMIT ?5",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(
                params![start_ts, end_ts, after_time, after_uuid, limit as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Distinct template ids of the stored details with `start_ts <= report_time < end_ts`.
    pub fn template_ids_in_range(&self, start_ts: i64, end_ts: i64) -> Result<Vec<String>> {
        let what = "listing the templates of stored details";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT template_id FROM details
                 WHERE report_time >= ?1 AND report_time < ?2 AND template_id IS NOT NULL AND template_id <> ''
                 ORDER BY template_id",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(params![start_ts, end_ts], |r| r.get::<_, String>(0))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Every stored detail's uuid and raw JSON, by uuid (for comparisons and exports).
    pub fn detail_raws(&self) -> Result<Vec<(String, String)>> {
        let what = "reading raw details";
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT journal_uuid, raw FROM details ORDER BY journal_uuid")
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    // -----------------------------------------------------------------------------------------
    // Stats

    /// When the stat window of a template was fetched, if stored.
    pub fn stat_fetched_at(
        &self,
        template_id: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Option<i64>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT fetched_at FROM stats WHERE template_id = ?1 AND start_ts = ?2 AND end_ts = ?3",
            params![template_id, start_ts, end_ts],
            |r| r.get(0),
        )
        .optional()
        .ctx(format!(
            "reading stat window {template_id} [{start_ts}, {end_ts})"
        ))
    }

    /// Stores (or replaces) the stat response of a template's window; `raw` is the whole body.
    pub fn put_stat(
        &self,
        template_id: &str,
        start_ts: i64,
        end_ts: i64,
        raw: &str,
        fetched_at: i64,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO stats (template_id, start_ts, end_ts, raw, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![template_id, start_ts, end_ts, raw, fetched_at],
        )
        .ctx(format!("storing stat window {template_id} [{start_ts}, {end_ts})"))?;
        Ok(())
    }

    /// Calls `f` with each stored stat response whose window overlaps `[start_ts, end_ts)`,
    /// decoded, ordered by template and window. Responses of overlapping windows (from runs
    /// over different ranges) may repeat a cycle: [`Store::stat_cycles_in_range`] dedupes.
    pub fn stats_in_range<E>(
        &self,
        start_ts: i64,
        end_ts: i64,
        mut f: impl FnMut(StoredStat) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E>
    where
        E: From<StoreError>,
    {
        let what = "reading stat responses";
        let keys: Vec<(String, i64, i64)> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT template_id, start_ts, end_ts FROM stats WHERE start_ts < ?2 AND end_ts > ?1
                     ORDER BY template_id, start_ts, end_ts",
                )
                .ctx(what)?;
            let rows = stmt
                .query_map(params![start_ts, end_ts], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .ctx(what)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?
        };
        // One response at a time: a year of a daily template is a large body.
        for (template_id, s, e) in keys {
            let row: Option<(String, i64)> = {
                let conn = self.conn();
                conn.query_row(
                    "SELECT raw, fetched_at FROM stats WHERE template_id = ?1 AND start_ts = ?2 AND end_ts = ?3",
                    params![template_id, s, e],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .ctx(what)?
            };
            let Some((raw, fetched_at)) = row else {
                continue;
            };
            let response: StatListResponse =
                serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                    what: format!("stat response of template {template_id} [{s}, {e})"),
                    source,
                })?;
            f(StoredStat {
                template_id,
                start_ts: s,
                end_ts: e,
                fetched_at,
                raw,
                response,
            })?;
        }
        Ok(())
    }

    /// The stored stat cycles that begin in `[start_ts, end_ts)`, each (template, cycle) once —
    /// from the most recently fetched response — ordered by template and cycle begin.
    pub fn stat_cycles_in_range(&self, start_ts: i64, end_ts: i64) -> Result<Vec<StatCycle>> {
        let mut best: std::collections::BTreeMap<(String, u64, u64), (i64, StatCycle)> =
            Default::default();
        self.stats_in_range(start_ts, end_ts, |stat: StoredStat| -> Result<()> {
            for cycle in stat.response.stat_list {
                let begin = cycle.cycle_begin_time as i64;
                if begin < start_ts || begin >= end_ts {
                    continue;
                }
                let key = (
                    cycle.template_id.clone(),
                    cycle.cycle_begin_time,
                    cycle.cycle_end_time,
                );
                match best.get(&key) {
                    Some((fetched_at, _)) if *fetched_at >= stat.fetched_at => {}
                    _ => {
                        best.insert(key, (stat.fetched_at, cycle));
                    }
                }
            }
            Ok(())
        })?;
        Ok(best.into_values().map(|(_, c)| c).collect())
    }

    // -----------------------------------------------------------------------------------------
    // Directory

    /// Replaces the directory snapshot with a new one, whole, in one transaction.
    pub fn put_directory(
        &self,
        fetched_at: i64,
        departments_raw: &str,
        user_lists_raw: &[(u64, String)],
    ) -> Result<()> {
        let what = "storing the directory snapshot";
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what)?;
        tx.execute("DELETE FROM directory_user_lists", [])
            .ctx(what)?;
        tx.execute("DELETE FROM directory_snapshots", [])
            .ctx(what)?;
        tx.execute(
            "INSERT INTO directory_snapshots (fetched_at, departments_raw) VALUES (?1, ?2)",
            params![fetched_at, departments_raw],
        )
        .ctx(what)?;
        let id = tx.last_insert_rowid();
        for (department_id, raw) in user_lists_raw {
            tx.execute(
                "INSERT OR REPLACE INTO directory_user_lists (snapshot_id, department_id, raw) VALUES (?1, ?2, ?3)",
                params![id, *department_id as i64, raw],
            )
            .ctx(what)?;
        }
        tx.commit().ctx(what)
    }

    /// When the stored directory snapshot was fetched, if there is one.
    pub fn directory_fetched_at(&self) -> Result<Option<i64>> {
        let conn = self.conn();
        conn.query_row("SELECT max(fetched_at) FROM directory_snapshots", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .ctx("reading the directory snapshot's time")
    }

    /// The latest directory snapshot, decoded.
    pub fn directory(&self) -> Result<Option<DirectorySnapshot>> {
        let what = "reading the directory snapshot";
        let conn = self.conn();
        let head: Option<(i64, i64, String)> = conn
            .query_row(
                "SELECT snapshot_id, fetched_at, departments_raw FROM directory_snapshots
                 ORDER BY snapshot_id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .ctx(what)?;
        let Some((id, fetched_at, departments_raw)) = head else {
            return Ok(None);
        };
        let mut stmt = conn
            .prepare("SELECT department_id, raw FROM directory_user_lists WHERE snapshot_id = ?1 ORDER BY department_id")
            .ctx(what)?;
        let user_lists_raw = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .ctx(what)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(what)?;
        let decode = |what: String, source| StoreError::Decode { what, source };
        let list: DepartmentListResponse = serde_json::from_str(&departments_raw)
            .map_err(|e| decode("department/list response".into(), e))?;
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for (department_id, raw) in &user_lists_raw {
            let list: UserListResponse = serde_json::from_str(raw).map_err(|e| {
                decode(
                    format!("user/list response of department {department_id}"),
                    e,
                )
            })?;
            for user in list.userlist {
                if seen.insert(user.userid.clone()) {
                    users.push(user);
                }
            }
        }
        users.sort_by(|a, b| a.userid.cmp(&b.userid));
        Ok(Some(DirectorySnapshot {
            fetched_at,
            departments_raw,
            user_lists_raw,
            departments: list.department,
            users,
        }))
    }

    // -----------------------------------------------------------------------------------------
    // Wedrive downloads

    /// The download record of a journal's wedrive file, if it was downloaded.
    pub fn wedrive_download(
        &self,
        journal_uuid: &str,
        fileid: &str,
    ) -> Result<Option<WedriveDownloadRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT local_path, bytes, fetched_at FROM wedrive_downloads
                 WHERE journal_uuid = ?1 AND fileid = ?2",
            )
            .ctx("reading a wedrive download record")?;
        stmt.query_row(params![journal_uuid, fileid], |r| {
            Ok(WedriveDownloadRecord {
                journal_uuid: journal_uuid.to_string(),
                fileid: fileid.to_string(),
                local_path: r.get(0)?,
                bytes: r.get::<_, i64>(1)? as u64,
                fetched_at: r.get(2)?,
            })
        })
        .optional()
        .ctx(format!(
            "reading the download record of wedrive file {fileid} of journal {journal_uuid}"
        ))
    }

    /// Records (or replaces) a downloaded wedrive file, once its bytes are in place.
    pub fn put_wedrive_download(&self, record: &WedriveDownloadRecord) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO wedrive_downloads (journal_uuid, fileid, local_path, bytes, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                record.journal_uuid,
                record.fileid,
                record.local_path,
                i64::try_from(record.bytes).unwrap_or(i64::MAX),
                record.fetched_at
            ],
        )
        .ctx(format!(
            "recording wedrive file {} of journal {}",
            record.fileid, record.journal_uuid
        ))?;
        Ok(())
    }

    /// The download records of the given journals' wedrive files, by journal then fileid.
    pub fn wedrive_downloads_of<'a>(
        &self,
        journal_uuids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<WedriveDownloadRecord>> {
        let what = "reading wedrive download records";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT fileid, local_path, bytes, fetched_at FROM wedrive_downloads
                 WHERE journal_uuid = ?1 ORDER BY fileid",
            )
            .ctx(what)?;
        let mut out = Vec::new();
        for uuid in journal_uuids {
            let rows = stmt
                .query_map([uuid], |r| {
                    Ok(WedriveDownloadRecord {
                        journal_uuid: uuid.to_string(),
                        fileid: r.get(0)?,
                        local_path: r.get(1)?,
                        bytes: r.get::<_, i64>(2)? as u64,
                        fetched_at: r.get(3)?,
                    })
                })
                .ctx(what)?;
            for row in rows {
                out.push(row.ctx(what)?);
            }
        }
        Ok(out)
    }

    /// Every download record, by journal then fileid.
    pub fn wedrive_downloads(&self) -> Result<Vec<WedriveDownloadRecord>> {
        let what = "listing wedrive download records";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT journal_uuid, fileid, local_path, bytes, fetched_at FROM wedrive_downloads
                 ORDER BY journal_uuid, fileid",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(WedriveDownloadRecord {
                    journal_uuid: r.get(0)?,
                    fileid: r.get(1)?,
                    local_path: r.get(2)?,
                    bytes: r.get::<_, i64>(3)? as u64,
                    fetched_at: r.get(4)?,
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    // -----------------------------------------------------------------------------------------
    // Runs

    /// Records the start of a run and gives its as-of time: the start of the oldest unfinished
    /// run of the same job and range (the one a killed run left behind, which this one resumes),
    /// else `started_at`. Idempotent for the same `run_id`.
    pub fn start_run(&self, run_id: &str, job: &str, range: &str, started_at: i64) -> Result<i64> {
        let what = format!("recording the start of run {run_id}");
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what.clone())?;
        tx.execute(
            "INSERT OR IGNORE INTO runs (run_id, job, range, started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')",
            params![run_id, job, range, started_at],
        )
        .ctx(what.clone())?;
        let as_of: Option<i64> = tx
            .query_row(
                "SELECT min(started_at) FROM runs WHERE job = ?1 AND range = ?2 AND status = 'running'",
                params![job, range],
                |r| r.get(0),
            )
            .ctx(what.clone())?;
        tx.commit().ctx(what)?;
        Ok(as_of.unwrap_or(started_at).min(started_at))
    }

    /// Records how a run ended (`ok`, `gaps`, `failed`) with its manifest; unfinished runs of
    /// the same job and range that it resumed become `interrupted`.
    pub fn finish_run(
        &self,
        run_id: &str,
        status: &str,
        finished_at: i64,
        manifest: Option<&str>,
    ) -> Result<()> {
        let what = format!("recording the end of run {run_id}");
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what.clone())?;
        let key: Option<(String, String)> = tx
            .query_row(
                "SELECT job, range FROM runs WHERE run_id = ?1",
                [run_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx(what.clone())?;
        let Some((job, range)) = key else {
            return Err(StoreError::Invalid(format!(
                "run {run_id} was never started in this store"
            )));
        };
        tx.execute(
            "UPDATE runs SET status = 'interrupted' WHERE job = ?1 AND range = ?2 AND status = 'running' AND run_id <> ?3",
            params![job, range, run_id],
        )
        .ctx(what.clone())?;
        tx.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, manifest = ?4 WHERE run_id = ?1",
            params![run_id, status, finished_at, manifest],
        )
        .ctx(what.clone())?;
        tx.commit().ctx(what)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        let what = "listing runs";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT run_id, job, range, started_at, finished_at, status, manifest FROM runs
                 ORDER BY started_at, run_id",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunRecord {
                    run_id: r.get(0)?,
                    job: r.get(1)?,
                    range: r.get(2)?,
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    status: r.get(5)?,
                    manifest: r.get(6)?,
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    // -----------------------------------------------------------------------------------------
    // Summaries

    pub fn counts(&self) -> Result<StoreCounts> {
        let what = "counting stored rows";
        let conn = self.conn();
        let count = |sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .ctx(what)
        };
        let directory_users = self.count_directory_users(&conn)?;
        Ok(StoreCounts {
            windows: count("SELECT count(*) FROM record_windows")?,
            windows_done: count("SELECT count(*) FROM record_windows WHERE state = 'done'")?,
            pages: count("SELECT count(*) FROM record_pages")?,
            details: count("SELECT count(*) FROM details")?,
            stats: count("SELECT count(*) FROM stats")?,
            directory_departments: self.count_directory_departments(&conn)?,
            directory_users,
            runs: count("SELECT count(*) FROM runs")?,
        })
    }

    fn count_directory_departments(&self, conn: &Connection) -> Result<u64> {
        let raw: Option<String> = conn
            .query_row(
                "SELECT departments_raw FROM directory_snapshots ORDER BY snapshot_id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading the directory snapshot")?;
        let Some(raw) = raw else { return Ok(0) };
        let list: DepartmentListResponse =
            serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                what: "department/list response".into(),
                source,
            })?;
        Ok(list.department.len() as u64)
    }

    fn count_directory_users(&self, conn: &Connection) -> Result<u64> {
        let what = "reading the directory snapshot";
        let mut stmt = conn
            .prepare(
                "SELECT raw FROM directory_user_lists
                 WHERE snapshot_id = (SELECT max(snapshot_id) FROM directory_snapshots)",
            )
            .ctx(what)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).ctx(what)?;
        let mut seen = HashSet::new();
        for raw in rows {
            let raw = raw.ctx(what)?;
            let list: UserListResponse =
                serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                    what: "user/list response".into(),
                    source,
                })?;
            seen.extend(list.userlist.into_iter().map(|u| u.userid));
        }
        Ok(seen.len() as u64)
    }

    /// What earlier runs saw, for the plan, from the record windows paged to the end: the days
    /// those windows covered (their union, each up to when it was paged, since nothing later
    /// can be in its listing), the distinct journals they listed, the distinct templates of the
    /// stored details, the directory's departments and the wedrive files the details
    /// reference. `None` when no window was paged to the end. The days are those of the
    /// listing, not first..last journal: a month with its first and last journals on the 2nd
    /// and the 29th still covered the whole month.
    pub fn plan_history(&self) -> Result<Option<PlanHistory>> {
        let what = "summarising stored record windows";
        let conn = self.conn();
        let mut intervals: Vec<(i64, i64)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT DISTINCT start_ts, min(end_ts, max(paged_at, start_ts)) FROM record_windows
                     WHERE state = 'done' ORDER BY 1, 2",
                )
                .ctx(what)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .ctx(what)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?
        };
        if intervals.is_empty() {
            return Ok(None);
        }
        intervals.sort_unstable();
        let mut covered_s = 0i64;
        let mut reach = i64::MIN;
        for (start, end) in intervals {
            let start = start.max(reach);
            if end > start {
                covered_s += end - start;
                reach = end;
            }
        }
        // Whole days (a DST day is 23 or 25 hours); at least one for any listing at all.
        let days = ((covered_s + 43_200) / 86_400).clamp(1, i64::from(u32::MAX)) as u32;
        let journals: i64 = conn
            .query_row(
                "SELECT count(DISTINCT j.value)
                 FROM record_windows w
                 JOIN record_pages p USING (filter_key, start_ts, end_ts), json_each(p.uuids) j
                 WHERE w.state = 'done'",
                [],
                |r| r.get(0),
            )
            .ctx("counting the journals of stored record windows")?;
        let templates: i64 = conn
            .query_row(
                "SELECT count(DISTINCT template_id) FROM details
                 WHERE template_id IS NOT NULL AND template_id <> ''",
                [],
                |r| r.get(0),
            )
            .ctx("counting the templates of stored details")?;
        let departments = self.count_directory_departments(&conn)?;
        // Wedrive files the stored details reference: the `wedrive_files` of every control
        // named WedriveFile, Table cells included (json_tree walks the nesting). Dispatch is
        // on the control's name, as everywhere: other controls carry the key as `[]`.
        let wedrive_files: i64 = conn
            .query_row(
                "SELECT coalesce(sum(json_array_length(d.raw, t.path || '.value.wedrive_files')), 0)
                 FROM details d, json_tree(d.raw, '$.apply_data') t
                 WHERE t.key = 'control' AND t.atom = 'WedriveFile'",
                [],
                |r| r.get(0),
            )
            .ctx("counting the wedrive files of stored details")?;
        Ok(Some(PlanHistory {
            days,
            journals: journals.max(0) as u64,
            templates: templates.clamp(0, i64::from(u32::MAX)) as u32,
            departments: departments.min(u64::from(u32::MAX)) as u32,
            wedrive_files: wedrive_files.max(0) as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wecom::types::{Control, UserRef};

    fn detail(uuid: &str, template: &str, report_time: i64) -> (JournalDetail, String) {
        let d = JournalDetail {
            journal_uuid: uuid.into(),
            template_name: "日报".into(),
            template_id: Some(template.into()),
            report_time,
            submitter: UserRef {
                userid: "zhangsan".into(),
            },
            ..Default::default()
        };
        let raw = serde_json::to_string(&d).unwrap();
        (d, raw)
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("a/b/store.sqlite")).unwrap();
        (dir, store)
    }

    #[test]
    fn opens_in_wal_with_a_schema_version_and_reopens() {
        let (dir, store) = open();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let sync: i64 = store
            .conn()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 1, "synchronous = NORMAL");
        let (d, raw) = detail("u1", "t1", 100);
        store.put_detail(&d, &raw, 5).unwrap();
        drop(store);
        let store = Store::open(dir.path().join("a/b/store.sqlite")).unwrap();
        assert_eq!(
            store.detail_state("u1").unwrap(),
            Some(DetailState {
                report_time: 100,
                fetched_at: 5
            })
        );
    }

    #[test]
    fn refuses_a_newer_schema() {
        let (dir, store) = open();
        store
            .conn()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        let err = Store::open(dir.path().join("a/b/store.sqlite")).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
    }

    #[test]
    fn pages_accumulate_and_a_restart_drops_the_old_listing() {
        let (_dir, store) = open();
        let key = filter_key(&[]);
        store.begin_window(&key, 0, 100, 50).unwrap();
        let p1 = vec!["a".to_string(), "b".to_string()];
        store
            .put_page(&PageRecord {
                filter_key: &key,
                start_ts: 0,
                end_ts: 100,
                cursor: 0,
                uuids: &p1,
                next_cursor: 2,
                last: false,
                paged_at: 50,
            })
            .unwrap();
        let w = store.record_window(&key, 0, 100).unwrap().unwrap();
        assert_eq!(
            (w.state, w.pages, w.journals, w.next_cursor),
            (WindowState::Partial, 1, 2, 2)
        );
        assert!(!w.is_final());
        let p2 = vec!["b".to_string(), "c".to_string()];
        store
            .put_page(&PageRecord {
                filter_key: &key,
                start_ts: 0,
                end_ts: 100,
                cursor: 2,
                uuids: &p2,
                next_cursor: 0,
                last: true,
                paged_at: 50,
            })
            .unwrap();
        let w = store.record_window(&key, 0, 100).unwrap().unwrap();
        assert_eq!((w.state, w.pages), (WindowState::Done, 2));
        // Paged while still open (paged_at 50 < end 100): not final.
        assert!(!w.is_final());
        assert_eq!(
            store.window_uuids(&key, 0, 100).unwrap(),
            vec!["a", "b", "c"]
        );
        store.begin_window(&key, 0, 100, 200).unwrap();
        assert!(store.window_uuids(&key, 0, 100).unwrap().is_empty());
        let p = vec!["z".to_string()];
        store
            .put_page(&PageRecord {
                filter_key: &key,
                start_ts: 0,
                end_ts: 100,
                cursor: 0,
                uuids: &p,
                next_cursor: 0,
                last: true,
                paged_at: 200,
            })
            .unwrap();
        let w = store.record_window(&key, 0, 100).unwrap().unwrap();
        assert!(w.is_final());
        assert_eq!(w.paged_at, 200);
        assert_eq!(store.window_uuids(&key, 0, 100).unwrap(), vec!["z"]);
    }

    #[test]
    fn details_stream_in_report_time_order_in_bounded_batches() {
        let (_dir, store) = open();
        // Ties on report time, out-of-order inserts, and rows outside the range.
        let times = [
            ("u5", 30),
            ("u1", 10),
            ("u3", 20),
            ("u2", 20),
            ("u4", 20),
            ("u0", 5),
            ("u9", 40),
        ];
        for (uuid, t) in times {
            let (d, raw) = detail(uuid, if t == 20 { "t2" } else { "t1" }, t);
            store.put_detail(&d, &raw, 1).unwrap();
        }
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        store
            .details_in_range(10, 40, 2, |batch| -> Result<()> {
                sizes.push(batch.len());
                seen.extend(batch.into_iter().map(|d| (d.journal_uuid, d.report_time)));
                Ok(())
            })
            .unwrap();
        assert_eq!(
            seen,
            vec![
                ("u1".into(), 10),
                ("u2".into(), 20),
                ("u3".into(), 20),
                ("u4".into(), 20),
                ("u5".into(), 30)
            ]
        );
        assert!(sizes.iter().all(|&n| n <= 2));
        assert_eq!(
            store.template_ids_in_range(10, 40).unwrap(),
            vec!["t1", "t2"]
        );
        assert_eq!(store.template_ids_in_range(20, 21).unwrap(), vec!["t2"]);
    }

    #[test]
    fn runs_resume_from_the_oldest_unfinished_one() {
        let (_dir, store) = open();
        assert_eq!(
            store
                .start_run("r1", "job", "2026-10-01..2026-11-01", 100)
                .unwrap(),
            100
        );
        // r1 killed; r2 resumes it and takes its as-of time.
        assert_eq!(
            store
                .start_run("r2", "job", "2026-10-01..2026-11-01", 200)
                .unwrap(),
            100
        );
        // Another range is another run's business.
        assert_eq!(
            store
                .start_run("x", "job", "2026-11-01..2026-12-01", 150)
                .unwrap(),
            150
        );
        store.finish_run("r2", "ok", 300, Some("{}")).unwrap();
        let runs = store.runs().unwrap();
        let status: Vec<_> = runs
            .iter()
            .map(|r| (r.run_id.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            status,
            vec![("r1", "interrupted"), ("x", "running"), ("r2", "ok")]
        );
        assert_eq!(
            store
                .start_run("r3", "job", "2026-10-01..2026-11-01", 400)
                .unwrap(),
            400
        );
        assert!(store.finish_run("nope", "ok", 1, None).is_err());
    }

    #[test]
    fn directory_snapshot_replaces_the_previous_and_dedupes_users() {
        let (_dir, store) = open();
        assert!(store.directory().unwrap().is_none());
        store
            .put_directory(
                1,
                r#"{"errcode":0,"department":[{"id":1,"name":"总部","parentid":0}]}"#,
                &[],
            )
            .unwrap();
        let deps = r#"{"errcode":0,"department":[{"id":1,"name":"总部","parentid":0},{"id":"2","name":"研发","parentid":1}]}"#;
        let u1 =
            r#"{"userlist":[{"userid":"a","department":[1,2],"main_department":1}]}"#.to_string();
        let u2 = r#"{"userlist":[{"userid":"a","department":[1,2],"main_department":1},{"userid":"b","department":[2],"main_department":"2"}]}"#.to_string();
        store.put_directory(2, deps, &[(1, u1), (2, u2)]).unwrap();
        let snap = store.directory().unwrap().unwrap();
        assert_eq!(snap.fetched_at, 2);
        assert_eq!(snap.departments.len(), 2);
        assert_eq!(
            snap.users
                .iter()
                .map(|u| u.userid.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(snap.users[1].main_department, Some(2));
        let counts = store.counts().unwrap();
        assert_eq!(
            (counts.directory_departments, counts.directory_users),
            (2, 2)
        );
    }

    #[test]
    fn stat_cycles_dedupe_overlapping_windows_keeping_the_latest() {
        let (_dir, store) = open();
        let body = |reported: &str| {
            format!(
                r#"{{"errcode":0,"stat_list":[{{"template_id":"t","cycle_begin_time":100,"cycle_end_time":199,"report_type":2,"report_list":[{{"user":{{"userid":"{reported}"}},"itemlist":[]}}]}}]}}"#
            )
        };
        store.put_stat("t", 0, 1000, &body("old"), 10).unwrap();
        store.put_stat("t", 50, 500, &body("new"), 20).unwrap();
        let cycles = store.stat_cycles_in_range(0, 1000).unwrap();
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].report_list[0].user.userid, "new");
        assert!(store.stat_cycles_in_range(200, 1000).unwrap().is_empty());
        assert_eq!(store.stat_fetched_at("t", 0, 1000).unwrap(), Some(10));
    }

    #[test]
    fn plan_history_counts_the_days_the_listed_windows_covered() {
        const DAY: i64 = 86_400;
        let (dir, store) = open();
        assert_eq!(store.plan_history().unwrap(), None);
        let list = |key: &str, start: i64, end: i64, uuids: &[&str], last: bool, paged_at: i64| {
            let uuids: Vec<String> = uuids.iter().map(|u| u.to_string()).collect();
            store.begin_window(key, start, end, paged_at).unwrap();
            store
                .put_page(&PageRecord {
                    filter_key: key,
                    start_ts: start,
                    end_ts: end,
                    cursor: 0,
                    uuids: &uuids,
                    next_cursor: 0,
                    last,
                    paged_at,
                })
                .unwrap();
        };
        // A 30-day window listed by two filter combinations (one journal in both), whose
        // journals fall on days 2 and 28 only: it still covered 30 days.
        list("[]", 0, 30 * DAY, &["a", "b", "c"], true, 40 * DAY);
        list("[\"x\"]", 0, 30 * DAY, &["c", "d"], true, 40 * DAY);
        // The next window, paged 10 days into its 31: it covered those 10 days only.
        list("[]", 30 * DAY, 61 * DAY, &["e"], true, 40 * DAY);
        // A window still paging counts for nothing (its listing is incomplete).
        list("[]", 61 * DAY, 92 * DAY, &["f", "g"], false, 100 * DAY);
        for (uuid, template, t) in [
            ("a", "t1", 2 * DAY),
            ("b", "t1", 28 * DAY),
            ("e", "t2", 31 * DAY),
        ] {
            let (d, raw) = detail(uuid, template, t);
            store.put_detail(&d, &raw, 1).unwrap();
        }
        let departments = r#"{"errcode":0,"department":[{"id":1,"name":"a","parentid":0},{"id":2,"name":"b","parentid":1}]}"#;
        store.put_directory(1, departments, &[]).unwrap();
        let want = PlanHistory {
            days: 40,
            journals: 5,
            templates: 2,
            departments: 2,
            wedrive_files: 0,
        };
        assert_eq!(store.plan_history().unwrap(), Some(want));

        // Read-only: the same answer, and no store is ever created where there is none.
        drop(store);
        let path = dir.path().join("a/b/store.sqlite");
        let ro = Store::open_read_only(&path)
            .unwrap()
            .expect("the store exists");
        assert_eq!(ro.plan_history().unwrap(), Some(want));
        let missing = dir.path().join("nope").join("store.sqlite");
        assert!(Store::open_read_only(&missing).unwrap().is_none());
        assert!(!missing.parent().unwrap().exists());
    }

    #[test]
    fn a_version_1_store_gains_the_wedrive_table_and_keeps_its_rows() {
        let (dir, store) = open();
        let (d, raw) = detail("u1", "t1", 100);
        store.put_detail(&d, &raw, 5).unwrap();
        // What a version-1 file looks like: no wedrive_downloads table.
        store
            .conn()
            .execute_batch("DROP TABLE wedrive_downloads; PRAGMA user_version = 1;")
            .unwrap();
        drop(store);
        let store = Store::open(dir.path().join("a/b/store.sqlite")).unwrap();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        assert_eq!(store.detail_raws().unwrap(), vec![("u1".to_string(), raw)]);
        let record = WedriveDownloadRecord {
            journal_uuid: "u1".into(),
            fileid: "f/1".into(),
            local_path: "files/u1/f%2F1".into(),
            bytes: 12,
            fetched_at: 7,
        };
        store.put_wedrive_download(&record).unwrap();
        assert_eq!(
            store.wedrive_download("u1", "f/1").unwrap(),
            Some(record.clone())
        );
        assert_eq!(store.wedrive_download("u1", "f/2").unwrap(), None);
        assert_eq!(
            store.wedrive_downloads_of(["u0", "u1"]).unwrap(),
            vec![record.clone()]
        );
        assert_eq!(store.wedrive_downloads().unwrap(), vec![record]);
    }

    #[test]
    fn details_page_walks_the_range_in_keyset_pages() {
        let (_dir, store) = open();
        for (uuid, t) in [("b", 20), ("a", 20), ("c", 10), ("z", 99)] {
            let (d, raw) = detail(uuid, "t", t);
            store.put_detail(&d, &raw, 1).unwrap();
        }
        let mut seen = Vec::new();
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = store.details_page(0, 50, after.as_ref(), 2).unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.report_time, last.journal_uuid.clone()));
            seen.extend(page.into_iter().map(|d| d.journal_uuid));
        }
        assert_eq!(seen, vec!["c", "a", "b"]);
    }

    #[test]
    fn plan_history_counts_wedrive_files_by_control_name_tables_included() {
        use crate::wecom::types::{ControlValue, LangText, TableRow, WedriveRef};
        let (_dir, store) = open();
        let files = |ids: &[&str]| ControlValue::WedriveFile {
            files: ids
                .iter()
                .map(|id| WedriveRef {
                    fileid: id.to_string(),
                })
                .collect(),
        };
        let title = vec![LangText {
            text: "微盘".into(),
            lang: None,
        }];
        let top = Control::new("WedriveFile-1", title.clone(), files(&["a", "b"]));
        let table = Control::new(
            "Table-1",
            title.clone(),
            ControlValue::Table {
                rows: vec![TableRow {
                    list: vec![Control::new("WedriveFile-2", title.clone(), files(&["c"]))],
                }],
            },
        );
        // A control of another type whose value carries a filled wedrive_files key: not a
        // wedrive attachment (dispatch on the control's name).
        let mut value = ControlValue::Text { text: "x".into() }.to_api_value();
        value["wedrive_files"] = serde_json::json!([{"fileid": "nope"}]);
        let odd = Control::from_raw(
            "Text",
            "Text-1",
            title,
            serde_json::value::to_raw_value(&value).unwrap(),
        );
        let (mut d, _) = detail("u1", "t1", 100);
        d.apply_data.contents = vec![top, table, odd];
        let raw = serde_json::to_string(&d).unwrap();
        store.put_detail(&d, &raw, 1).unwrap();
        let (d2, raw2) = detail("u2", "t1", 200);
        store.put_detail(&d2, &raw2, 1).unwrap();
        // The history is that of listed windows: the two journals' window, paged to the end.
        let uuids = ["u1".to_string(), "u2".to_string()];
        store.begin_window("[]", 0, 86_400, 86_400).unwrap();
        store
            .put_page(&PageRecord {
                filter_key: "[]",
                start_ts: 0,
                end_ts: 86_400,
                cursor: 0,
                uuids: &uuids,
                next_cursor: 0,
                last: true,
                paged_at: 86_400,
            })
            .unwrap();
        let h = store.plan_history().unwrap().unwrap();
        assert_eq!((h.journals, h.wedrive_files), (2, 3));
    }
}
