//! The store's schema: every table, the version this code reads and writes, and the
//! migration of a file written by an older wecom-journal.
//!
//! Schema history (`PRAGMA user_version`): 1 the responses and runs; 2 adds
//! `wedrive_downloads`; 3 adds `details.wedrive_files` (the plan's count, recorded when a
//! detail is stored instead of walking its JSON in SQL); 4 adds `runs.error`,
//! `wedrive_downloads.checksum`, the `quota_usage` buckets, and renames the status of runs
//! that a later run took over from `interrupted` to `superseded` (`interrupted` now means
//! stopped by a signal, and resumable); 5 adds `detail_gaps` (a detail WeCom would not give,
//! with its errcode and attempts), `journal_templates` (each journal's template and cycle end
//! as the stat lists' `report_list` names it) and `templates` (the (id, name) pairs seen),
//! filled from the stored stats and details when migrating. Every table is `CREATE TABLE IF
//! NOT EXISTS`, so migrating an older file is running the whole schema again, adding the
//! columns its tables lack (and filling them) and raising the version, in one transaction.

use std::path::Path;

use rusqlite::Connection;

use super::details::fill_wedrive_files;
use super::templates::fill_templates;
use super::{Result, StoreError};

/// The schema this code reads and writes (`PRAGMA user_version`). A file with a newer version
/// is refused rather than misread; an older one is migrated in [`Store::open`](super::Store::open).
pub(crate) const SCHEMA_VERSION: i64 = 5;

/// The first schema with `details.wedrive_files`.
pub(super) const WEDRIVE_FILES_SINCE: i64 = 3;

/// The first schema whose `interrupted` runs were stopped by a signal (before, `interrupted`
/// named what is now `superseded`), with `quota_usage` and the checksums of downloads.
pub(super) const SUPERSEDED_SINCE: i64 = 4;

/// The first schema with `journal_templates` and `templates` (filled from the stored stats and
/// details by the migration) and `detail_gaps`.
pub(super) const JOURNAL_TEMPLATES_SINCE: i64 = 5;

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
    -- BLAKE3 of the bytes, hex (version 4; null for files downloaded before).
    checksum     TEXT,
    PRIMARY KEY (journal_uuid, fileid)
);
CREATE TABLE IF NOT EXISTS detail_gaps (
    journal_uuid TEXT    PRIMARY KEY,
    errcode      INTEGER,
    message      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_templates (
    journal_uuid TEXT    PRIMARY KEY,
    template_id  TEXT    NOT NULL,
    -- The end of the journal's cycle: its comments and reads settle from there, not from its
    -- report time (a Monday's weekly report is read all week).
    cycle_end    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS templates (
    template_id   TEXT NOT NULL,
    template_name TEXT NOT NULL,
    PRIMARY KEY (template_id, template_name)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT    PRIMARY KEY,
    job         TEXT    NOT NULL,
    range       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    -- One of store::RunStatus.
    status      TEXT    NOT NULL,
    manifest    TEXT,
    -- Why a failed run failed (version 4).
    error       TEXT
);
-- API calls answered per quota (corp), endpoint and writing process, in buckets of time: what
-- the next process loads so that the quotas' windows survive it (version 4).
CREATE TABLE IF NOT EXISTS quota_usage (
    quota_key  TEXT    NOT NULL,
    endpoint   TEXT    NOT NULL,
    writer     TEXT    NOT NULL,
    start_ms   INTEGER NOT NULL,
    length_ms  INTEGER NOT NULL,
    calls      INTEGER NOT NULL,
    PRIMARY KEY (quota_key, endpoint, writer, start_ms)
);
CREATE INDEX IF NOT EXISTS quota_usage_by_time ON quota_usage (start_ms);
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

/// Brings the store to the current schema, in one transaction: a store killed (or failing)
/// while migrating is left as it was. The version is read again inside the transaction (which
/// holds the write lock), so two processes opening an old store at once migrate it once.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let tx = super::write_tx(conn).map_err(open_err)?;
    let version = schema_version(&tx, path)?;
    if version >= SCHEMA_VERSION {
        return tx.commit().map_err(open_err);
    }
    tx.execute_batch(SCHEMA).map_err(open_err)?;
    // Version 0 is a new file, whose tables the schema just created whole.
    if (1..WEDRIVE_FILES_SINCE).contains(&version) {
        tx.execute_batch(&format!(
            "ALTER TABLE details ADD COLUMN {WEDRIVE_DETAILS_COLUMN};"
        ))
        .map_err(open_err)?;
        fill_wedrive_files(&tx)?;
    }
    if (1..SUPERSEDED_SINCE).contains(&version) {
        add_column_if_missing(&tx, "runs", "error", "error TEXT").map_err(open_err)?;
        add_column_if_missing(&tx, "wedrive_downloads", "checksum", "checksum TEXT")
            .map_err(open_err)?;
        tx.execute(
            "UPDATE runs SET status = 'superseded' WHERE status = 'interrupted'",
            [],
        )
        .map_err(open_err)?;
    }
    if (1..JOURNAL_TEMPLATES_SINCE).contains(&version) {
        fill_templates(&tx)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(open_err)?;
    tx.commit().map_err(open_err)
}

/// `ALTER TABLE table ADD COLUMN definition` unless the table has `column` already (a table the
/// schema just created has every column).
fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    definition: &str,
) -> rusqlite::Result<()> {
    let has: bool = conn.query_row(
        &format!("SELECT count(*) > 0 FROM pragma_table_info('{table}') WHERE name = ?1"),
        [column],
        |r| r.get(0),
    )?;
    if !has {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {definition};"))?;
    }
    Ok(())
}
