//! The bench's cached stores: one month of the simulator's organisation replicated to `n`
//! journals, with its stats and directory, written through `Store` as a run writes them, and the
//! same raw detail texts as JSON lines for DuckDB.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone};
use serde_json::json;
use wecom_journal::sim::org::members_of;
use wecom_journal::sim::Org;
use wecom_journal::store::Store;
use wecom_journal::wecom::types::JournalDetail;

use crate::common;

/// What a cached store was built by: change it when the generated data changes, so that old
/// caches are rebuilt rather than measured as if they were new.
const GENERATOR: &str =
    "rebuild-bench v2: sim seed 7, 1000 users, 2026-10, each journal beside its copies";
/// The month every journal of the stores lies in (the jobs' range).
const MONTH: (i32, u32) = (2026, 10);
const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
/// Details stored per transaction while building a store.
const STORE_BATCH: usize = 5_000;

/// Where the store of `n` journals lives: `rebuild --output <store_dir>` reads
/// `<store_dir>/store.sqlite` and writes its outputs beside it.
pub(crate) struct BenchStore {
    pub(crate) n: u64,
    pub(crate) store_dir: PathBuf,
    pub(crate) jsonl: PathBuf,
    pub(crate) marker: PathBuf,
}

impl BenchStore {
    /// Stored details whose report time falls in October 2026, Shanghai time (what the jobs
    /// rebuild): the replicated month also holds a few journals filed in the first days of
    /// November, which DuckDB's JSON lines keep.
    pub(crate) fn in_october(&self) -> u64 {
        let conn = rusqlite::Connection::open(self.store_dir.join("store.sqlite"))
            .expect("open the bench store");
        // 2026-10-01 and 2026-11-01 at 00:00 in Asia/Shanghai (UTC+8).
        let count: i64 = conn
            .query_row(
                "SELECT count(*) FROM details WHERE report_time >= 1790784000 AND report_time < 1793462400",
                [],
                |r| r.get(0),
            )
            .expect("count the bench store's October details");
        count as u64
    }

    pub(crate) fn new(dir: &Path, n: u64) -> BenchStore {
        BenchStore {
            n,
            store_dir: dir.join(format!("store-{n}")),
            jsonl: dir.join(format!("details-{n}.jsonl")),
            marker: dir.join(format!("store-{n}.complete")),
        }
    }

    pub(crate) fn is_cached(&self) -> bool {
        std::fs::read_to_string(&self.marker).is_ok_and(|m| m.trim() == self.marker_text())
            && self.store_dir.join("store.sqlite").is_file()
            && self.jsonl.is_file()
    }

    fn marker_text(&self) -> String {
        format!("{GENERATOR}; {} journals", self.n)
    }

    /// Removes what `rebuild` wrote into the store's directory, keeping the store.
    pub(crate) fn clear_outputs(&self) {
        for entry in std::fs::read_dir(&self.store_dir).expect("list the store's directory") {
            let entry = entry.expect("a directory entry");
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("store.sqlite")
            {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            }
            .unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
        }
    }
}

fn local_midnight(date: NaiveDate) -> i64 {
    TZ.from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("Shanghai has no DST")
        .timestamp()
}

/// Writes the store of `sized.n` journals and its JSON lines (see the module doc).
pub(crate) fn build_store(sized: &BenchStore) {
    let t = Instant::now();
    let _ = std::fs::remove_file(&sized.marker);
    if sized.store_dir.exists() {
        std::fs::remove_dir_all(&sized.store_dir).expect("remove the old store");
    }
    std::fs::create_dir_all(&sized.store_dir).expect("create the store's directory");
    let month_start = NaiveDate::from_ymd_opt(MONTH.0, MONTH.1, 1).expect("a date");
    let month_end = month_start
        .checked_add_months(chrono::Months::new(1))
        .expect("a date");
    let (start_ts, end_ts) = (local_midnight(month_start), local_midnight(month_end));
    // Fetched the day after the month, as a run the next morning would.
    let fetched_at = end_ts + 6 * 3600;
    let org = common::month(month_start);
    let store = Store::open(sized.store_dir.join("store.sqlite")).expect("open the store");
    let mut jsonl = BufWriter::new(File::create(&sized.jsonl).expect("create the JSON lines"));

    let mut batch: Vec<JournalDetail> = Vec::with_capacity(STORE_BATCH);
    let mut flush = |batch: &mut Vec<JournalDetail>| -> std::io::Result<()> {
        let raws: Vec<String> = batch
            .iter()
            .map(|d| serde_json::to_string(d).expect("a journal serialises"))
            .collect();
        let rows: Vec<(&JournalDetail, &str)> =
            batch.iter().zip(raws.iter().map(String::as_str)).collect();
        store
            .put_details(&rows, fetched_at)
            .map_err(std::io::Error::other)?;
        for raw in &raws {
            jsonl.write_all(raw.as_bytes())?;
            jsonl.write_all(b"\n")?;
        }
        batch.clear();
        Ok(())
    };
    common::replicated_month(&org, sized.n, |j| -> std::io::Result<()> {
        batch.push(j);
        if batch.len() == STORE_BATCH {
            flush(&mut batch)?;
        }
        Ok(())
    })
    .expect("store the journals");
    flush(&mut batch).expect("store the journals");
    jsonl.flush().expect("write the JSON lines");

    put_stats(&store, &org, start_ts, end_ts, fetched_at);
    put_directory(&store, &org, fetched_at);
    let counts = store.counts().expect("count the store");
    assert_eq!(counts.details, sized.n, "details in the new store");
    drop(store);
    std::fs::write(&sized.marker, sized.marker_text()).expect("write the marker");
    println!(
        "built the store of {} journals ({:.0} MiB, JSON lines {:.0} MiB) in {:.1} s",
        sized.n,
        mib(file_len(&sized.store_dir.join("store.sqlite"))),
        mib(file_len(&sized.jsonl)),
        t.elapsed().as_secs_f64()
    );
}

/// One stat response per template with cycles (not the free-form 汇报) over the month, the
/// body as the simulator answers it. The stats are the organisation's: the replicas add
/// journals, not people.
fn put_stats(store: &Store, org: &Org, start_ts: i64, end_ts: i64, fetched_at: i64) {
    for template in org.templates.iter().filter(|t| t.report_type != 0) {
        let cycles: Vec<_> = org
            .stats
            .iter()
            .filter(|s| s.template_id == template.id)
            .collect();
        let body = json!({ "errcode": 0, "errmsg": "ok", "stat_list": cycles }).to_string();
        store
            .put_stat(&template.id, start_ts, end_ts, &body, fetched_at)
            .expect("store a stat response");
    }
}

/// The directory as `run` stores it: `department/list` and one `user/list` per department.
fn put_directory(store: &Store, org: &Org, fetched_at: i64) {
    let departments = json!({ "errcode": 0, "errmsg": "ok", "department": org.departments });
    let lists: Vec<(u64, String)> = org
        .departments
        .iter()
        .map(|d| {
            let users = members_of(org, d.id, false);
            let body = json!({ "errcode": 0, "errmsg": "ok", "userlist": users });
            (d.id, body.to_string())
        })
        .collect();
    store
        .put_directory(fetched_at, &departments.to_string(), &lists)
        .expect("store the directory");
}

pub(crate) fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub(crate) fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// Reads a file once so that every run finds it in the page cache, the first one included.
pub(crate) fn warm(path: &Path) {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::copy(&mut f, &mut std::io::sink()).expect("read the file");
}
