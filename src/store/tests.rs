//! The store against real SQLite files in temporary directories.

use super::*;
use std::path::Path;

use rusqlite::params;

use crate::wecom::types::{Control, JournalDetail, UserRef};

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

/// A detail whose controls reference three wedrive files: two in a top-level WedriveFile
/// control, one in a Table's cell; and a Text control whose value fills the `wedrive_files`
/// key, which is no wedrive attachment (dispatch is on the control's name).
fn detail_with_wedrive_files(uuid: &str) -> (JournalDetail, String) {
    use crate::wecom::types::{ControlValue, LangText, TableRow, WedriveRef};
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
    let mut value = ControlValue::Text { text: "x".into() }.to_api_value();
    value["wedrive_files"] = serde_json::json!([{"fileid": "nope"}]);
    let odd = Control::from_raw(
        "Text",
        "Text-1",
        title,
        serde_json::value::to_raw_value(&value).unwrap(),
    );
    let (mut d, _) = detail(uuid, "t1", 100);
    d.apply_data.contents = vec![top, table, odd];
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
            fetched_at: 5,
            settles_from: 100
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
    store
        .finish_run(
            "r2",
            &RunEnd {
                status: RunStatus::Succeeded,
                finished_at: 300,
                error: None,
                manifest: Some("{}"),
            },
        )
        .unwrap();
    let runs = store.runs().unwrap();
    let status: Vec<_> = runs
        .iter()
        .map(|r| (r.run_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        status,
        vec![("r1", "superseded"), ("x", "running"), ("r2", "succeeded")]
    );
    assert_eq!(
        store
            .start_run("r3", "job", "2026-10-01..2026-11-01", 400)
            .unwrap(),
        400
    );
    let end = RunEnd {
        status: RunStatus::Succeeded,
        finished_at: 1,
        error: None,
        manifest: None,
    };
    assert!(store.finish_run("nope", &end).is_err());
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
    let u1 = r#"{"userlist":[{"userid":"a","department":[1,2],"main_department":1}]}"#.to_string();
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
    let want = ListingHistory {
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
    // What a version-1 file looks like: no wedrive_downloads table, no details.wedrive_files.
    store
        .conn()
        .execute_batch(
            "DROP TABLE wedrive_downloads; ALTER TABLE details DROP COLUMN wedrive_files;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    drop(store);
    let store = Store::open(dir.path().join("a/b/store.sqlite")).unwrap();
    let version: i64 = store
        .conn()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(store.detail_raws().unwrap(), vec![("u1".to_string(), raw)]);
    let record = WedriveDownloadRecord {
        journal_uuid: "u1".into(),
        fileid: "f/1".into(),
        local_path: "files/u1/f%2F1".into(),
        bytes: 12,
        checksum: Some("ab".repeat(32)),
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
    let (_dir, store) = open();
    let (d, raw) = detail_with_wedrive_files("u1");
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
fn a_detail_not_given_is_a_gap_retried_a_bounded_number_of_times_and_withdrawn_drops_it() {
    const DAY: i64 = 86_400;
    let (_dir, store) = open();
    let detail = |uuid: &str, report_time: i64| JournalDetail {
        journal_uuid: uuid.into(),
        template_name: "日报".into(),
        report_time,
        ..JournalDetail::default()
    };
    // Fetched young (day 1 for a journal of day 0), and fetched settled.
    store.put_detail(&detail("young", 0), "{}", DAY).unwrap();
    store
        .put_detail(&detail("settled", 0), "{}", 8 * DAY)
        .unwrap();
    store
        .put_detail(&detail("withdrawn", DAY), "{}", 2 * DAY)
        .unwrap();
    assert_eq!(
        store.details_to_refresh(10 * DAY, 7 * DAY, 3).unwrap(),
        ["young", "withdrawn"]
    );
    // Withdrawn: the gap is recorded, the stored detail dropped.
    store
        .put_detail_gap("withdrawn", Some(301084), "gone", 10 * DAY, true)
        .unwrap();
    store
        .put_detail_gap("bad", None, "does not decode", 10 * DAY, false)
        .unwrap();
    assert!(store.detail_state("withdrawn").unwrap().is_none());
    let gap = store.detail_gap("withdrawn").unwrap().unwrap();
    assert_eq!((gap.errcode, gap.attempts), (Some(301084), 1));
    // Tried by the run of as_of 10 days: not again by it; by the next, until 3 attempts.
    assert_eq!(
        store.details_to_refresh(10 * DAY, 7 * DAY, 3).unwrap(),
        ["young"]
    );
    assert_eq!(
        store.details_to_refresh(11 * DAY, 7 * DAY, 3).unwrap(),
        // Gaps by when they were first met, then uuid.
        ["young", "bad", "withdrawn"]
    );
    for at in [11, 12] {
        store
            .put_detail_gap("withdrawn", Some(301084), "gone", at * DAY, true)
            .unwrap();
    }
    assert_eq!(store.detail_gap("withdrawn").unwrap().unwrap().attempts, 3);
    assert_eq!(
        store.details_to_refresh(13 * DAY, 7 * DAY, 3).unwrap(),
        ["young", "bad"]
    );
    // Given at last: no longer a gap.
    store
        .put_detail(&detail("bad", 5 * DAY), "{}", 13 * DAY)
        .unwrap();
    assert!(store.detail_gap("bad").unwrap().is_none());
    assert_eq!(store.detail_gaps().unwrap().len(), 1);
}

#[test]
fn templates_are_learnt_from_details_and_stat_lists() {
    let (_dir, store) = open();
    let mut d = JournalDetail {
        journal_uuid: "j1".into(),
        template_name: "日报".into(),
        template_id: Some("T-day".into()),
        ..JournalDetail::default()
    };
    store.put_detail(&d, "{}", 10).unwrap();
    d.journal_uuid = "j2".into();
    d.template_id = None;
    store.put_detail(&d, "{}", 10).unwrap();
    let body = r#"{"errcode":0,"stat_list":[{"template_id":"T-week","template_name":"周报","cycle_begin_time":100,"cycle_end_time":199,"report_type":3,
        "report_list":[{"user":{"userid":"a"},"itemlist":[{"journaluuid":"j3","reporttime":150,"flag":0},{"journaluuid":"","reporttime":0,"flag":0}]}]}]}"#;
    store.put_stat("T-week", 0, 1000, body, 20).unwrap();
    store
        .put_stat("T-none", 0, 1000, r#"{"errcode":0,"stat_list":[]}"#, 20)
        .unwrap();
    assert_eq!(
        store.known_template_ids().unwrap(),
        ["T-day", "T-none", "T-week"]
    );
    let facts = store.template_facts().unwrap();
    assert_eq!(
        facts.ids_by_name.keys().collect::<Vec<_>>(),
        ["周报", "日报"]
    );
    let of = store.journal_templates_of(&["j2", "j3"]).unwrap();
    assert_eq!(of.len(), 1);
    assert_eq!(of["j3"], "T-week");
}

fn end(status: RunStatus, at: i64, error: Option<&str>) -> RunEnd<'_> {
    RunEnd {
        status,
        finished_at: at,
        error,
        manifest: None,
    }
}

fn statuses(store: &Store) -> Vec<(String, RunStatus)> {
    store
        .runs()
        .unwrap()
        .into_iter()
        .map(|r| (r.run_id, r.status))
        .collect()
}

#[test]
fn an_interrupted_run_is_resumed_a_failed_one_is_not_and_a_finish_supersedes() {
    let (_dir, store) = open();
    let range = "2026-10-01..2026-11-01";
    assert_eq!(store.start_run("r1", "job", range, 100).unwrap(), 100);
    store
        .finish_run(
            "r1",
            &end(RunStatus::Interrupted, 150, Some("interrupted by SIGTERM")),
        )
        .unwrap();
    // r2 resumes the interrupted r1 (its as-of time) and fails: r1 is closed, r2's error kept.
    assert_eq!(store.start_run("r2", "job", range, 200).unwrap(), 100);
    store
        .finish_run("r2", &end(RunStatus::Failed, 250, Some("errcode 40001")))
        .unwrap();
    // A failed run is never resumed: r3 starts afresh, is killed (left running), and r4
    // resumes it; r4's interruption leaves r3 for the next.
    assert_eq!(store.start_run("r3", "job", range, 300).unwrap(), 300);
    assert_eq!(store.start_run("r4", "job", range, 400).unwrap(), 300);
    store
        .finish_run("r4", &end(RunStatus::Interrupted, 450, None))
        .unwrap();
    assert_eq!(store.start_run("r5", "job", range, 500).unwrap(), 300);
    store
        .finish_run("r5", &end(RunStatus::FinishedWithGaps, 550, None))
        .unwrap();
    assert_eq!(
        statuses(&store),
        [
            ("r1", RunStatus::Superseded),
            ("r2", RunStatus::Failed),
            ("r3", RunStatus::Superseded),
            ("r4", RunStatus::Superseded),
            ("r5", RunStatus::FinishedWithGaps),
        ]
        .map(|(r, s)| (r.to_string(), s))
    );
    let r2 = store
        .runs()
        .unwrap()
        .into_iter()
        .find(|r| r.run_id == "r2")
        .unwrap();
    assert_eq!(r2.error.as_deref(), Some("errcode 40001"));
    assert_eq!(r2.finished_at, Some(250));
    // Nothing left to resume; and a run cannot end as running or superseded.
    assert_eq!(store.start_run("r6", "job", range, 600).unwrap(), 600);
    assert!(store
        .finish_run("r6", &end(RunStatus::Running, 1, None))
        .is_err());
    assert!(store
        .finish_run("r6", &end(RunStatus::Superseded, 1, None))
        .is_err());
}

#[test]
fn every_status_has_one_name_both_ways() {
    for s in RunStatus::ALL {
        assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            serde_json::Value::String(s.as_str().into())
        );
    }
    assert_eq!(RunStatus::parse("ok"), None);
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

fn bucket(endpoint: &str, start_ms: i64, calls: u64) -> QuotaBucket {
    QuotaBucket {
        endpoint: endpoint.into(),
        start_ms,
        length_ms: 5_000,
        calls,
    }
}

#[test]
fn quota_usage_is_replaced_per_writer_and_forgotten_when_old() {
    let (_dir, store) = open();
    let key = "ww1@http://x";
    store
        .put_quota_usage(
            key,
            "a",
            &[bucket("get_record_detail", 0, 7), bucket("gettoken", 0, 1)],
            -1,
        )
        .unwrap();
    store
        .put_quota_usage(key, "b", &[bucket("get_record_detail", 5_000, 3)], -1)
        .unwrap();
    store
        .put_quota_usage("other@x", "a", &[bucket("get_record_detail", 0, 100)], -1)
        .unwrap();
    // A writer's later record replaces its earlier one whole (no call counted twice).
    store
        .put_quota_usage(key, "a", &[bucket("get_record_detail", 0, 9)], -1)
        .unwrap();
    let rows = store.quota_usage(Some(key), 0).unwrap();
    let got: Vec<(&str, &str, i64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.writer.as_str(),
                r.bucket.endpoint.as_str(),
                r.bucket.start_ms,
                r.bucket.calls,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a", "get_record_detail", 0, 9),
            ("b", "get_record_detail", 5_000, 3)
        ]
    );
    assert_eq!(store.quota_usage(None, 0).unwrap().len(), 3);
    // Only buckets ending after `since` are read; writing forgets those ended before a time.
    assert_eq!(store.quota_usage(Some(key), 5_000).unwrap().len(), 1);
    store.put_quota_usage(key, "c", &[], 5_000).unwrap();
    assert_eq!(store.quota_usage(None, -1).unwrap().len(), 1);
}
