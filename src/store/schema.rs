//! The store's schema: every table, the version this code reads and writes, and the
//! migration of a file written by an older wecom-journal.
//!
//! Schema history (`PRAGMA user_version`): 1 the responses and runs; 2 adds
//! `wedrive_downloads`; 3 adds `details.wedrive_files` (the plan's count, recorded when a
//! detail is stored instead of walking its JSON in SQL). Every table is `CREATE TABLE IF NOT
//! EXISTS`, so migrating an older file is running the whole schema again, adding the columns
//! its tables lack (and filling them) and raising the version, in one transaction.

use std::path::Path;

use rusqlite::Connection;

use super::details::fill_wedrive_files;
use super::{Result, StoreError};

/// The schema this code reads and writes (`PRAGMA user_version`). A file with a newer version
/// is refused rather than misread; an older one is migrated in [`Store::open`](super::Store::open).
pub const SCHEMA_VERSION: i64 = 3;

/// The first schema with `details.wedrive_files`.
pub(super) const WEDRIVE_FILES_SINCE: i64 = 3;

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
    fetched_at   INTEGER NOT NULL,
    -- Wedrive files the detail references (version 3; defined as WEDRIVE_DETAILS_COLUMN).
    wedrive_files INTEGER NOT NULL DEFAULT 0
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

/// The store's schema version (`PRAGMA user_version`); an error for a store written by a newer
/// wecom-journal, which this one must not read or migrate.
pub(super) fn schema_version(conn: &Connection, path: &Path) -> Result<i64> {
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

/// The column version 3 adds to `details`: the wedrive files the detail references (see
/// `details::wedrive_file_count`). The default is only there so that `ALTER TABLE` may add it
/// to a table with rows, which the migration then fills; every insert sets it.
const WEDRIVE_DETAILS_COLUMN: &str = "wedrive_files INTEGER NOT NULL DEFAULT 0";

/// Brings a store at `version` (older than [`SCHEMA_VERSION`]) to the current schema, in one
/// transaction: a store killed (or failing) while migrating is left as it was.
pub(super) fn migrate(conn: &mut Connection, path: &Path, version: i64) -> Result<()> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let tx = conn.transaction().map_err(open_err)?;
    tx.execute_batch(SCHEMA).map_err(open_err)?;
    // Version 0 is a new file, whose `details` the schema just created whole.
    if (1..WEDRIVE_FILES_SINCE).contains(&version) {
        tx.execute_batch(&format!(
            "ALTER TABLE details ADD COLUMN {WEDRIVE_DETAILS_COLUMN};"
        ))
        .map_err(open_err)?;
        fill_wedrive_files(&tx)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(open_err)?;
    tx.commit().map_err(open_err)
}
