//! The store's schema: every table, the version this code reads and writes, and the
//! migration of a file written by an older wecom-journal.
//!
//! Schema history (`PRAGMA user_version`): 1 the responses and runs; 2 adds
//! `wedrive_downloads`. Every table is `CREATE TABLE IF NOT EXISTS`, so migrating an older file
//! is running the whole schema again and raising the version, in one transaction.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

/// The schema this code reads and writes (`PRAGMA user_version`). A file with a newer version
/// is refused rather than misread; an older one is migrated in [`Store::open`].
pub const SCHEMA_VERSION: i64 = 2;

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

/// Brings a store at `version` (older than [`SCHEMA_VERSION`]) to the current schema, in one
/// transaction.
pub(super) fn migrate(conn: &Connection, path: &Path, version: i64) -> Result<()> {
    debug_assert!(version < SCHEMA_VERSION);
    conn.execute_batch(&format!(
        "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))
    .map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })
}
