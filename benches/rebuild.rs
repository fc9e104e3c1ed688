//! `rebuild` end to end, against DuckDB: `cargo bench --bench rebuild` (docs/benchmarks.md,
//! "Rebuild").
//!
//! 1. Builds, once, a store per size (default 200,000 and 1,000,000 journals): one month
//!    (October 2026) of the simulator's organisation (`benches/common`: 1,000 users, about
//!    38,500 journals) with its journals replicated under new uuids until the month holds `n`,
//!    the month's stat responses and the directory, written through `Store` as a run writes
//!    them; and the same raw detail texts as JSON lines for DuckDB. Both are cached under
//!    `target/bench-rebuild/` and reused while their marker file says they are complete.
//! 2. Times the binary's `rebuild` as a child process (so the bench does not depend on the
//!    pipeline's internal API) for (a) Parquet only, no report and (b) every format (Parquet,
//!    CSV, XLSX) with the four reports; and DuckDB (`benches/rebuild_duckdb.py`: `read_json` +
//!    `unnest` of the same JSON into `journals`, top-level `journal_controls` and
//!    `journal_comments`). Wall time, and peak RSS from `wait4`'s `ru_maxrss` (the child's
//!    VmHWM); each case `runs` times, interleaved, the 1-minute load average noted before each.
//! 3. Prints the medians, the ratios to DuckDB and each rebuild's stage times (its manifest's
//!    `durations_ms`) as Markdown tables to paste into docs/benchmarks.md.
//!
//! Knobs (environment):
//! - `REBUILD_BENCH_JOURNALS`: sizes, comma-separated (default `200000,1000000`);
//! - `REBUILD_BENCH_RUNS`: runs of each case (default 3);
//! - `REBUILD_BENCH_CASES`: of `parquet,all,duckdb` (default all three);
//! - `REBUILD_BENCH_BIN`: the binary to time (default: the one `cargo bench` builds, release);
//! - `REBUILD_BENCH_DIR`: the cache and output directory (default `target/bench-rebuild`);
//! - `REBUILD_BENCH_TRACE=1`: also samples each child's VmRSS every 10 ms into
//!   `<dir>/trace-<case>-<n>-<run>.csv` (milliseconds since start, KiB);
//! - `REBUILD_BENCH_PREPARE_ONLY=1`: build the stores and job files, time nothing (for
//!   profiling the binary by hand: the commands are printed).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone};
use serde_json::json;
use wecom_journal::sim::org::members_of;
use wecom_journal::sim::Org;
use wecom_journal::store::Store;
use wecom_journal::wecom::types::JournalDetail;

mod common;

/// What a cached store was built by: change it when the generated data changes, so that old
/// caches are rebuilt rather than measured as if they were new.
const GENERATOR: &str = "rebuild-bench v1: sim seed 7, 1000 users, 2026-10 replicated";
/// The month every journal of the stores lies in (the jobs' range).
const MONTH: (i32, u32) = (2026, 10);
const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
/// Details stored per transaction while building a store.
const STORE_BATCH: usize = 5_000;

/// The two jobs: the same store and range, different outputs. Credentials stay unresolved
/// (`rebuild` makes no API call); `directory = "api"` reads the store's snapshot.
const JOB_PARQUET: &str = r#"name = "bench-parquet"
[source]
corp_id = "${WECOM_CORP_ID}"
secret = "${WECOM_JOURNAL_SECRET}"
timezone = "Asia/Shanghai"
[range]
start = "2026-10-01"
end = "2026-11-01"
period = "month"
[extract]
details = true
stats = true
directory = "api"
[output]
dir = "output/bench-parquet"
formats = ["parquet"]
reports = []
"#;
const JOB_ALL: &str = r#"name = "bench-all"
[source]
corp_id = "${WECOM_CORP_ID}"
secret = "${WECOM_JOURNAL_SECRET}"
timezone = "Asia/Shanghai"
[range]
start = "2026-10-01"
end = "2026-11-01"
period = "month"
[extract]
details = true
stats = true
directory = "api"
[output]
dir = "output/bench-all"
formats = ["xlsx", "parquet", "csv"]
reports = ["late_rate_by_department", "late_rate_by_user", "unreported_roster", "read_rate_by_template"]
csv_bom = true
"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Case {
    Parquet,
    All,
    DuckDb,
}

impl Case {
    fn key(self) -> &'static str {
        match self {
            Case::Parquet => "parquet",
            Case::All => "all",
            Case::DuckDb => "duckdb",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Case::Parquet => "`rebuild`, Parquet only, no report",
            Case::All => "`rebuild`, Parquet + CSV + XLSX, 4 reports",
            Case::DuckDb => "DuckDB `read_json` + `unnest`, 3 tables",
        }
    }
}

struct Config {
    sizes: Vec<u64>,
    runs: usize,
    cases: Vec<Case>,
    bin: PathBuf,
    dir: PathBuf,
    trace: bool,
}

impl Config {
    fn from_env() -> Config {
        let sizes = std::env::var("REBUILD_BENCH_JOURNALS")
            .unwrap_or_else(|_| "200000,1000000".into())
            .split(',')
            .map(|s| s.trim().replace('_', ""))
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|_| panic!("REBUILD_BENCH_JOURNALS: {s:?} is not a number"))
            })
            .collect();
        let cases = std::env::var("REBUILD_BENCH_CASES")
            .unwrap_or_else(|_| "parquet,all,duckdb".into())
            .split(',')
            .map(|s| match s.trim() {
                "parquet" => Case::Parquet,
                "all" => Case::All,
                "duckdb" => Case::DuckDb,
                other => panic!("REBUILD_BENCH_CASES: {other:?} is none of parquet, all, duckdb"),
            })
            .collect();
        let target =
            PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()));
        Config {
            sizes,
            runs: env_or("REBUILD_BENCH_RUNS", 3usize).max(1),
            cases,
            bin: std::env::var_os("REBUILD_BENCH_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wecom-journal"))),
            dir: std::env::var_os("REBUILD_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| target.join("bench-rebuild")),
            trace: std::env::var("REBUILD_BENCH_TRACE").as_deref() == Ok("1"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cached stores

/// Where the store of `n` journals lives: `rebuild --output <store_dir>` reads
/// `<store_dir>/store.sqlite` and writes its outputs beside it.
struct BenchStore {
    n: u64,
    store_dir: PathBuf,
    jsonl: PathBuf,
    marker: PathBuf,
}

impl BenchStore {
    fn new(dir: &Path, n: u64) -> BenchStore {
        BenchStore {
            n,
            store_dir: dir.join(format!("store-{n}")),
            jsonl: dir.join(format!("details-{n}.jsonl")),
            marker: dir.join(format!("store-{n}.complete")),
        }
    }

    fn is_cached(&self) -> bool {
        std::fs::read_to_string(&self.marker).is_ok_and(|m| m.trim() == self.marker_text())
            && self.store_dir.join("store.sqlite").is_file()
            && self.jsonl.is_file()
    }

    fn marker_text(&self) -> String {
        format!("{GENERATOR}; {} journals", self.n)
    }

    /// Removes what `rebuild` wrote into the store's directory, keeping the store.
    fn clear_outputs(&self) {
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
fn build_store(sized: &BenchStore) {
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
            let users = members_of(org, d.id);
            let body = json!({ "errcode": 0, "errmsg": "ok", "userlist": users });
            (d.id, body.to_string())
        })
        .collect();
    store
        .put_directory(fetched_at, &departments.to_string(), &lists)
        .expect("store the directory");
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// Reads a file once so that every run finds it in the page cache, the first one included.
fn warm(path: &Path) {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::copy(&mut f, &mut std::io::sink()).expect("read the file");
}

// ---------------------------------------------------------------------------------------------
// Measuring a child

/// What one run of a case came to.
#[derive(Debug, Clone, Default)]
struct Sample {
    /// The child's wall time; for DuckDB, its own `connect` → last file time.
    wall: Duration,
    /// The child's whole life, for DuckDB (interpreter start-up and `import duckdb` included).
    process_wall: Duration,
    peak_kib: u64,
    /// 1-minute load average just before the run.
    load: f64,
    /// `rebuild`: its manifest's `durations_ms` and `rows`; DuckDB: its rows.
    stages_ms: BTreeMap<String, u64>,
    rows: BTreeMap<String, u64>,
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Waits for `pid` and returns whether it exited 0 and its `ru_maxrss` (KiB: the peak RSS of
/// the child, and of any child of its own it waited for).
fn wait_with_peak_rss(pid: u32) -> (bool, u64) {
    let pid = pid as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, valid zeroed; wait4 writes both out-parameters.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: the pointers are to live locals; `pid` is our own unwaited child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "wait4: {err}");
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss as u64)
}

/// Samples `/proc/<pid>/status` VmRSS every 10 ms until `stop`.
fn trace_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(u64, u64)>> {
    std::thread::spawn(move || {
        let t = Instant::now();
        let path = format!("/proc/{pid}/status");
        let mut samples = vec![];
        while !stop.load(Ordering::Relaxed) {
            let Ok(status) = std::fs::read_to_string(&path) else {
                break;
            };
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            if let Some(kib) = rss {
                samples.push((t.elapsed().as_millis() as u64, kib));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        samples
    })
}

/// Runs `cmd` to its end with its output in `log` files; panics (with its stderr) on failure.
fn measure(mut cmd: Command, log: &Path, trace: Option<PathBuf>) -> Sample {
    let load = load_average();
    let stdout = File::create(log.with_extension("out")).expect("create the log");
    let stderr = File::create(log.with_extension("err")).expect("create the log");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let t = Instant::now();
    // Reaped by `wait_with_peak_rss` (wait4, for its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let tracer = trace
        .as_ref()
        .map(|_| trace_rss(child.id(), Arc::clone(&stop)));
    let (ok, peak_kib) = wait_with_peak_rss(child.id());
    let wall = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let (Some(tracer), Some(path)) = (tracer, trace) {
        let mut out = BufWriter::new(File::create(&path).expect("create the trace"));
        writeln!(out, "ms,rss_kib").expect("write the trace");
        for (ms, kib) in tracer.join().expect("the tracer") {
            writeln!(out, "{ms},{kib}").expect("write the trace");
        }
    }
    if !ok {
        let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
        panic!("{cmd:?} failed:\n{err}");
    }
    Sample {
        wall,
        process_wall: wall,
        peak_kib,
        load,
        ..Sample::default()
    }
}

fn rebuild(config: &Config, sized: &BenchStore, case: Case, run: usize) -> Sample {
    sized.clear_outputs();
    let job = config.dir.join("jobs").join(format!("{}.toml", case.key()));
    let mut cmd = Command::new(&config.bin);
    cmd.arg("rebuild")
        .arg(&job)
        .arg("--output")
        .arg(&sized.store_dir)
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_JOURNAL_SECRET")
        .env_remove("RUST_LOG");
    let name = format!("{}-{}-{run}", case.key(), sized.n);
    let mut sample = measure(
        cmd,
        &config.dir.join("logs").join(&name),
        config
            .trace
            .then(|| config.dir.join(format!("trace-{name}.csv"))),
    );
    let manifest = read_manifest(&sized.store_dir);
    // Kept beside the logs (the next run clears the outputs), to line its stage times up with
    // the RSS trace.
    std::fs::write(
        config
            .dir
            .join("logs")
            .join(format!("{name}.manifest.json")),
        manifest.to_string(),
    )
    .expect("keep the manifest");
    sample.stages_ms = u64_map(&manifest["durations_ms"]);
    sample.rows = u64_map(&manifest["rows"]);
    assert_eq!(
        sample.rows.get("journals").copied(),
        Some(sized.n),
        "journals rebuilt (manifest rows)"
    );
    sample
}

/// The manifest `rebuild` wrote: the one JSON file with `durations_ms` in the output directory.
fn read_manifest(dir: &Path) -> serde_json::Value {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list the outputs").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("read a JSON output");
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    if v.get("durations_ms").is_some() {
                        return v;
                    }
                }
            }
        }
    }
    panic!("no manifest under {}", dir.display());
}

fn u64_map(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The Python that has duckdb, if any (the shim `python3` resolved, so that start-up is the
/// interpreter's own).
fn duckdb_python() -> Result<PathBuf, String> {
    let out = Command::new("python3")
        .args(["-c", "import sys, duckdb; print(sys.executable)"])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("python3 failed")
            .to_owned());
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    ))
}

fn duckdb(config: &Config, python: &Path, sized: &BenchStore, run: usize) -> Sample {
    let out = config.dir.join(format!("duckdb-{}", sized.n));
    if out.exists() {
        std::fs::remove_dir_all(&out).expect("remove DuckDB's last outputs");
    }
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/rebuild_duckdb.py"
    ))
    .arg(&sized.jsonl)
    .arg(&out)
    .arg("2");
    let name = format!("duckdb-{}-{run}", sized.n);
    let log = config.dir.join("logs").join(&name);
    let mut sample = measure(
        cmd,
        &log,
        config
            .trace
            .then(|| config.dir.join(format!("trace-{name}.csv"))),
    );
    let text = std::fs::read_to_string(log.with_extension("out")).expect("DuckDB's output");
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("DuckDB's JSON line");
    sample.wall = Duration::from_secs_f64(v["seconds"].as_f64().expect("seconds"));
    sample.rows = u64_map(&v["rows"]);
    sample.stages_ms.insert(
        format!("duckdb {}", v["version"].as_str().unwrap_or("?")),
        0,
    );
    assert_eq!(
        sample.rows.get("journals").copied(),
        Some(sized.n),
        "journals DuckDB wrote"
    );
    sample
}

// ---------------------------------------------------------------------------------------------
// Reporting

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k == 0 {
        f64::NAN
    } else if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

fn secs(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.wall.as_secs_f64()).collect()
}

fn peaks_mib(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.peak_kib as f64 / 1024.0).collect()
}

fn spread(v: &[f64], digits: usize) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.digits$}–{hi:.digits$}")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

type Results = BTreeMap<(u64, Case), Vec<Sample>>;

fn print_tables(results: &Results) {
    println!();
    println!("| journals | what | wall, median (range) | peak RSS, median (range) | load before each run |");
    println!("|---:|---|---:|---:|---|");
    for ((n, case), samples) in results {
        let loads: Vec<String> = samples.iter().map(|s| format!("{:.1}", s.load)).collect();
        println!(
            "| {} | {} | {:.2} s ({} s) | {:.0} MiB ({} MiB) | {} |",
            thousands(*n),
            case.describe(),
            median(secs(samples)),
            spread(&secs(samples), 2),
            median(peaks_mib(samples)),
            spread(&peaks_mib(samples), 0),
            loads.join(", "),
        );
    }

    let mut sizes: Vec<u64> = results.keys().map(|(n, _)| *n).collect();
    sizes.dedup();
    println!();
    println!("| journals | case | DuckDB's time ÷ ours (goal ≥ 3) | our peak RSS ÷ DuckDB's (goal ≤ 0.2) |");
    println!("|---:|---|---:|---:|");
    for n in &sizes {
        let Some(duck) = results.get(&(*n, Case::DuckDb)) else {
            continue;
        };
        for case in [Case::Parquet, Case::All] {
            let Some(ours) = results.get(&(*n, case)) else {
                continue;
            };
            println!(
                "| {} | {} | {:.2} | {:.2} |",
                thousands(*n),
                case.describe(),
                median(secs(duck)) / median(secs(ours)),
                median(peaks_mib(ours)) / median(peaks_mib(duck)),
            );
        }
    }

    println!();
    println!("Stage times of `rebuild` (manifest `durations_ms`, medians; `flatten` includes reading and decoding the store on a second thread and writing each batch):");
    println!();
    println!("| journals | case | flatten | sink_tables | report | workbook | rows written |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    for ((n, case), samples) in results {
        if *case == Case::DuckDb {
            continue;
        }
        let stage = |name: &str| -> String {
            if samples.iter().all(|s| !s.stages_ms.contains_key(name)) {
                return "—".into();
            }
            let v: Vec<f64> = samples
                .iter()
                .map(|s| s.stages_ms.get(name).copied().unwrap_or(0) as f64 / 1000.0)
                .collect();
            format!("{:.2} s", median(v))
        };
        let rows = samples.first().map(|s| &s.rows);
        let rows = ["journals", "journal_controls", "journal_comments"]
            .iter()
            .filter_map(|t| Some(format!("{t} {}", thousands(*rows?.get(*t)?))))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "| {} | {} | {} | {} | {} | {} | {rows} |",
            thousands(*n),
            case.describe(),
            stage("flatten"),
            stage("sink_tables"),
            stage("report"),
            stage("workbook"),
        );
    }
    for ((n, case), samples) in results {
        if *case != Case::DuckDb {
            continue;
        }
        let s = &samples[0];
        let version = s.stages_ms.keys().next().cloned().unwrap_or_default();
        let process: Vec<f64> = samples
            .iter()
            .map(|s| s.process_wall.as_secs_f64())
            .collect();
        println!(
            "\n{version} at {}: rows {:?}; whole process (Python start-up and import included) {:.2} s median",
            thousands(*n),
            s.rows,
            median(process)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let config = Config::from_env();
    for dir in [config.dir.join("jobs"), config.dir.join("logs")] {
        std::fs::create_dir_all(&dir).expect("create the bench directory");
    }
    std::fs::write(config.dir.join("jobs/parquet.toml"), JOB_PARQUET).expect("write a job");
    std::fs::write(config.dir.join("jobs/all.toml"), JOB_ALL).expect("write a job");
    let sizes: Vec<BenchStore> = config
        .sizes
        .iter()
        .map(|&n| BenchStore::new(&config.dir, n))
        .collect();
    for sized in &sizes {
        if sized.is_cached() {
            println!(
                "reusing the store of {} journals ({})",
                sized.n,
                sized.store_dir.display()
            );
        } else {
            build_store(sized);
        }
    }
    println!("binary: {}", config.bin.display());
    if std::env::var("REBUILD_BENCH_PREPARE_ONLY").as_deref() == Ok("1") {
        for sized in &sizes {
            for case in [Case::Parquet, Case::All] {
                println!(
                    "{} rebuild {} --output {}",
                    config.bin.display(),
                    config
                        .dir
                        .join(format!("jobs/{}.toml", case.key()))
                        .display(),
                    sized.store_dir.display()
                );
            }
        }
        return;
    }
    let python = if config.cases.contains(&Case::DuckDb) {
        match duckdb_python() {
            Ok(p) => Some(p),
            Err(e) => {
                println!("DuckDB skipped ({e}); `pip install duckdb` to compare");
                None
            }
        }
    } else {
        None
    };

    let mut results: Results = BTreeMap::new();
    for sized in &sizes {
        warm(&sized.store_dir.join("store.sqlite"));
        if python.is_some() {
            warm(&sized.jsonl);
        }
        // Interleaved, so that a change of load on the shared machine falls on every case.
        for run in 0..config.runs {
            for &case in &config.cases {
                let sample = match case {
                    Case::Parquet | Case::All => rebuild(&config, sized, case, run),
                    Case::DuckDb => match &python {
                        Some(p) => duckdb(&config, p, sized, run),
                        None => continue,
                    },
                };
                println!(
                    "{:>9} journals  {:<46} run {}: {:>6.2} s  peak {:>5.0} MiB  (load {:.1})",
                    sized.n,
                    case.describe(),
                    run + 1,
                    sample.wall.as_secs_f64(),
                    sample.peak_kib as f64 / 1024.0,
                    sample.load
                );
                results.entry((sized.n, case)).or_default().push(sample);
            }
        }
    }
    print_tables(&results);
}
