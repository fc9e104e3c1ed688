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
//!    CSV, XLSX) with the four reports; and DuckDB (`benches/rebuild/read_json_duckdb.py`:
//!    `read_json` + `unnest` of the same JSON into `journals`, top-level `journal_controls` and
//!    `journal_comments`). Wall time, and peak RSS from `wait4`'s `ru_maxrss` (the child's
//!    VmHWM); each case `runs` times, interleaved, the 1-minute load average and the I/O
//!    pressure (`/proc/pressure/io`, share of the last 10 s some task waited on I/O) noted
//!    before each.
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
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[path = "../common/mod.rs"]
mod common;

mod child;
mod store;
mod tables;

use child::{measure, Sample};
use store::{build_store, warm, BenchStore};
use tables::{print_tables, Results};

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
pub(crate) enum Case {
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

    pub(crate) fn describe(self) -> &'static str {
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
        Some(sized.in_october()),
        "journals rebuilt (manifest rows): October's"
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
        "/benches/rebuild/read_json_duckdb.py"
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
                    "{:>9} journals  {:<46} run {}: {:>6.2} s  CPU {:>6.1} s  peak {:>5.0} MiB  (load {:.1}, I/O pressure {:.0} %)",
                    sized.n,
                    case.describe(),
                    run + 1,
                    sample.wall.as_secs_f64(),
                    sample.cpu.as_secs_f64(),
                    sample.peak_kib as f64 / 1024.0,
                    sample.load,
                    sample.io_pressure
                );
                results.entry((sized.n, case)).or_default().push(sample);
            }
        }
    }
    print_tables(&results);
}
