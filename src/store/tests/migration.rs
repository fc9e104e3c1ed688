//! Migrations: stores as older versions wrote them, opened by this one.

use super::*;

/// The schema as version 2 wrote it (an older wecom-journal's store: `details` without
/// `wedrive_files`), kept here as it was so that the migration is tested against the real
/// thing rather than against today's schema with a column dropped.
const SCHEMA_V2: &str = r#"
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

/// A version-2 store at `path`, written by plain SQL as version 2 wrote it: `details` (raw JSON
/// as given) and one window of a day, paged to the end, listing them.
fn version_2_store(path: &Path, details: &[(String, String)]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute_batch(&format!("{SCHEMA_V2} PRAGMA user_version = 2;"))
        .unwrap();
    for (uuid, raw) in details {
        tx.execute(
            "INSERT INTO details (journal_uuid, template_id, report_time, submitter, raw, fetched_at)
             VALUES (?1, 't1', 100, 'zhangsan', ?2, 1)",
            params![uuid, raw],
        )
        .unwrap();
    }
    let uuids: Vec<&str> = details.iter().map(|(u, _)| u.as_str()).collect();
    tx.execute(
        "INSERT INTO record_windows VALUES ('[]', 0, 86400, 'done', 1, ?1, 0, 86400)",
        [uuids.len() as i64],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO record_pages VALUES ('[]', 0, 86400, 0, 0, 0, ?1)",
        [serde_json::to_string(&uuids).unwrap()],
    )
    .unwrap();
    tx.commit().unwrap();
}

/// `PRAGMA user_version` and the column names of `details`, read by a connection of its own.
fn version_and_detail_columns(path: &Path) -> (i64, Vec<String>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    (version, table_columns(&conn, "details"))
}

/// Name, type, not-null and default of each column of `table`, in order.
fn table_columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info(?1) ORDER BY cid",
        )
        .unwrap();
    stmt.query_map([table], |r| {
        Ok(format!(
            "{} {} {} {:?}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<String>>(3)?
        ))
    })
    .unwrap()
    .collect::<rusqlite::Result<Vec<_>>>()
    .unwrap()
}

#[test]
fn a_version_2_store_is_read_as_it_is_and_migrated_with_its_wedrive_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old/store.sqlite");
    let (_, with_files) = detail_with_wedrive_files("u1");
    let (_, without) = detail("u2", "t1", 100);
    version_2_store(&path, &[("u1".into(), with_files), ("u2".into(), without)]);
    let want = ListingHistory {
        days: 1,
        journals: 2,
        templates: 1,
        departments: 0,
        wedrive_files: 3,
    };
    let (_, v2_columns) = version_and_detail_columns(&path);
    assert!(!v2_columns.iter().any(|c| c.starts_with("wedrive_files ")));

    // Read-only (`plan`): the same history, counted from the details, and the file untouched.
    let ro = Store::open_read_only(&path)
        .unwrap()
        .expect("the store exists");
    assert_eq!(ro.plan_history().unwrap(), Some(want));
    drop(ro);
    assert_eq!(version_and_detail_columns(&path), (2, v2_columns));

    // Opened to write: migrated, each detail's count recorded, the same history.
    let store = Store::open(&path).unwrap();
    let counts: Vec<(String, i64)> = store
        .conn()
        .prepare("SELECT journal_uuid, wedrive_files FROM details ORDER BY journal_uuid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(counts, vec![("u1".to_string(), 3), ("u2".to_string(), 0)]);
    assert_eq!(store.plan_history().unwrap(), Some(want));
    drop(store);
    // And its details table is the one a new store gets, column for column.
    let (_fresh_dir, fresh) = open();
    let fresh_columns = table_columns(&fresh.conn(), "details");
    assert_eq!(
        version_and_detail_columns(&path),
        (SCHEMA_VERSION, fresh_columns)
    );
}

#[test]
fn migrating_more_details_than_a_page_records_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let (d, _) = detail_with_wedrive_files("x");
    let n = 2 * super::details::DECODE_PAGE as usize + 1;
    let details: Vec<(String, String)> = (0..n)
        .map(|i| {
            let mut d = d.clone();
            d.journal_uuid = format!("u{i:05}");
            (d.journal_uuid.clone(), serde_json::to_string(&d).unwrap())
        })
        .collect();
    version_2_store(&path, &details);
    let store = Store::open(&path).unwrap();
    let (rows, total, threes): (i64, i64, i64) = store
        .conn()
        .query_row(
            "SELECT count(*), sum(wedrive_files), count(*) FILTER (WHERE wedrive_files = 3) FROM details",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((rows, total, threes), (n as i64, 3 * n as i64, n as i64));
    assert_eq!(
        store.plan_history().unwrap().unwrap().wedrive_files,
        3 * n as u64
    );
}

#[test]
fn a_migration_that_fails_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let (_, good) = detail("u1", "t1", 100);
    version_2_store(
        &path,
        &[("u1".into(), good), ("u2".into(), "{not json".into())],
    );
    let before = version_and_detail_columns(&path);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Decode { .. }), "{err}");
    assert!(err.to_string().contains("detail u2"), "{err}");
    // One transaction: neither the column nor the version moved.
    assert_eq!(version_and_detail_columns(&path), before);
    assert_eq!(before.0, 2);
}

#[test]
fn a_version_2_stores_runs_and_downloads_gain_their_columns_and_old_interruptions_are_superseded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    version_2_store(&path, &[]);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (run_id, job, range, started_at, status) VALUES
                 ('old', 'job', 'r', 10, 'interrupted'), ('done', 'job', 'r', 20, 'succeeded');
             INSERT INTO wedrive_downloads VALUES ('u', 'f', 'files/u/f', 3, 30);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(
        statuses(&store),
        vec![
            ("old".to_string(), RunStatus::Superseded),
            ("done".to_string(), RunStatus::Succeeded)
        ]
    );
    // What was interrupted under the old meaning (taken over since) is not resumed.
    assert_eq!(store.start_run("new", "job", "r", 40).unwrap(), 40);
    let old = store.wedrive_download("u", "f").unwrap().unwrap();
    assert_eq!((old.bytes, old.checksum), (3, None));
    let (_fresh_dir, fresh) = open();
    for table in ["runs", "wedrive_downloads"] {
        assert_eq!(
            table_columns(&store.conn(), table).len(),
            table_columns(&fresh.conn(), table).len(),
            "{table}"
        );
    }
}
