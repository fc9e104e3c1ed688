//! Flatten throughput and memory: `cargo bench --bench flatten`.
//!
//! 1. Writes a synthetic set of journals (default 200,000; `FLATTEN_BENCH_JOURNALS` overrides)
//!    as raw JSON lines, the way the store keeps detail responses (not timed).
//! 2. Timed: streams the lines back in batches (`FLATTEN_BENCH_BATCH`, default 5,000), decodes
//!    them, flattens each batch and appends it to one batched Parquet writer (zstd) per journal
//!    table. Prints journals/second, the split between read / decode / flatten / write, rows and bytes
//!    per table, and the peak RSS (VmHWM).
//! 3. With `FLATTEN_BENCH_DUCKDB=1` and python3 + duckdb installed, the same JSON lines through
//!    DuckDB (`read_json` + `unnest` of the controls) for comparison.
//!
//! `FLATTEN_BENCH_PIPELINE=1` reads and decodes each batch on a second thread while the main
//! thread flattens and writes the previous one (`run` decodes and flattens on one thread today).
//! `FLATTEN_BENCH_REUSE=1` reuses the JSON lines of a previous run with the same number of
//! journals instead of generating them again.
//!
//! The journals are the simulator's (`sim::Org::generate`: every control shape of design §6,
//! comments, receivers), month after month of one organisation, generated in a child process.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use polars::prelude::*;
use wecom_journal::flatten::{
    flatten_journals, schema, Directory, JournalTables, LocalPaths, Warnings,
};
use wecom_journal::wecom::types::JournalDetail;

mod common;
use common::SIM_USERS;

// The binary's allocator (see src/main.rs), so that the bench measures what `run` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes `n` journals of the simulator's synthetic organisation as JSON lines: successive
/// months of the same organisation ([`common::successive_months`]), cut at exactly `n`.
fn write_jsonl(path: &Path, n: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    common::successive_months(n, |j| -> std::io::Result<()> {
        serde_json::to_writer(&mut out, j)?;
        out.write_all(b"\n")
    })?;
    out.flush()
}

/// The directory of the simulator's organisation (the same for every month).
fn directory() -> Directory {
    let start = NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date");
    common::directory(&common::org(start, 1))
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Sinks {
    writers: Vec<(
        &'static str,
        PathBuf,
        polars::io::parquet::write::BatchedWriter<File>,
    )>,
    rows: Vec<usize>,
}

impl Sinks {
    fn new(dir: &Path) -> PolarsResult<Sinks> {
        let mut writers = vec![];
        for name in [
            "journals",
            "journal_controls",
            "journal_attachments",
            "journal_receivers",
            "journal_comments",
        ] {
            let spec = schema::table(name).expect("a journal table");
            let path = dir.join(format!("{name}.parquet"));
            let file = File::create(&path)?;
            let w = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(&spec.polars_schema())?;
            writers.push((name, path, w));
        }
        let rows = vec![0; writers.len()];
        Ok(Sinks { writers, rows })
    }

    fn write(&mut self, t: &JournalTables) -> PolarsResult<()> {
        for (k, (_, df)) in t.iter().enumerate() {
            self.rows[k] += df.height();
            self.writers[k].2.write_batch(df)?;
        }
        Ok(())
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let n: u64 = std::env::var("FLATTEN_BENCH_JOURNALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let batch: usize = std::env::var("FLATTEN_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("bench-flatten");
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let jsonl = dir.join(format!("journals-{n}.jsonl"));

    // The generation runs in a child process so that its memory is not in this one's peak.
    if std::env::var_os("FLATTEN_BENCH_GENERATE_ONLY").is_some() {
        write_jsonl(&jsonl, n).expect("write the synthetic journals");
        return;
    }
    let t0 = Instant::now();
    let reuse = std::env::var("FLATTEN_BENCH_REUSE").as_deref() == Ok("1") && jsonl.exists();
    if !reuse {
        let exe = std::env::current_exe().expect("the bench's own path");
        let status = std::process::Command::new(exe)
            .env("FLATTEN_BENCH_GENERATE_ONLY", "1")
            .status()
            .expect("run the generator");
        assert!(status.success(), "generating the journals failed");
    }
    let jsonl_bytes = std::fs::metadata(&jsonl).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} {n} journals of the simulator's organisation ({SIM_USERS} users, successive months) \
         as JSON lines ({:.1} MiB) in {:.1} s",
        if reuse { "reused" } else { "generated" },
        jsonl_bytes as f64 / 1048576.0,
        t0.elapsed().as_secs_f64(),
    );

    let dir_ = directory();
    let tz = chrono_tz::Asia::Shanghai;
    let mut sinks = Sinks::new(&dir).expect("open the parquet writers");
    let mut warnings = Warnings::default();
    let (mut t_read, mut t_decode, mut t_flatten, mut t_write) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let start = Instant::now();
    let reader = BufReader::new(File::open(&jsonl).expect("open the JSON lines"));
    let mut lines = reader.lines();
    // Reads a batch's lines, then decodes them: the run gets its texts from SQLite instead, so
    // reading is timed apart.
    let mut next_batch = move || {
        let t = Instant::now();
        let texts: Vec<String> = lines
            .by_ref()
            .take(batch)
            .map(|l| l.expect("read a line"))
            .collect();
        let read = t.elapsed();
        let t = Instant::now();
        let mut details = Vec::with_capacity(texts.len());
        for text in &texts {
            details.push(serde_json::from_str::<JournalDetail>(text).expect("decode a journal"));
        }
        drop(texts);
        (details, read, t.elapsed())
    };
    // With FLATTEN_BENCH_PIPELINE=1, batches are read and decoded on a second thread while this
    // one flattens and writes the previous one (at most three batches alive: one being flattened,
    // one queued, one being decoded).
    let pipeline = std::env::var("FLATTEN_BENCH_PIPELINE").as_deref() == Ok("1");
    type Batch = (Vec<JournalDetail>, Duration, Duration);
    let mut decoder = None;
    let mut source: Box<dyn FnMut() -> Batch> = if pipeline {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(1);
        decoder = Some(std::thread::spawn(move || loop {
            let b = next_batch();
            let last = b.0.is_empty();
            if tx.send(b).is_err() || last {
                break;
            }
        }));
        Box::new(move || rx.recv().expect("a decoded batch"))
    } else {
        Box::new(next_batch)
    };
    let mut t_wait = Duration::ZERO;
    let mut done = 0u64;
    loop {
        let t = Instant::now();
        let (details, read, decode) = source();
        t_wait += t.elapsed();
        t_read += read;
        t_decode += decode;
        if details.is_empty() {
            break;
        }
        let t = Instant::now();
        let tables = flatten_journals(&details, &dir_, tz, &LocalPaths::none(), &mut warnings)
            .expect("flatten");
        t_flatten += t.elapsed();
        let t = Instant::now();
        sinks.write(&tables).expect("write parquet");
        t_write += t.elapsed();
        done += details.len() as u64;
    }
    if let Some(d) = decoder {
        d.join().expect("the decoding thread");
    }
    let t = Instant::now();
    for (_, _, w) in &sinks.writers {
        w.finish().expect("finish parquet");
    }
    t_write += t.elapsed();
    let total = start.elapsed();

    if pipeline {
        println!(
            "read + decode (second thread) | flatten + parquet: {done} journals in {:.2} s = {:.0} journals/s \
             (read {:.2} s and decode {:.2} s overlapped, waited for them {:.2} s; flatten {:.2} s, parquet {:.2} s, \
             freeing batches {:.2} s), batch {batch}",
            total.as_secs_f64(),
            done as f64 / total.as_secs_f64(),
            t_read.as_secs_f64(),
            t_decode.as_secs_f64(),
            t_wait.as_secs_f64(),
            t_flatten.as_secs_f64(),
            t_write.as_secs_f64(),
            total.saturating_sub(t_wait + t_flatten + t_write).as_secs_f64(),
        );
    } else {
        println!(
            "read + decode + flatten + parquet: {done} journals in {:.2} s = {:.0} journals/s \
             (read {:.2} s, decode {:.2} s, flatten {:.2} s, parquet {:.2} s, freeing batches {:.2} s), batch {batch}",
            total.as_secs_f64(),
            done as f64 / total.as_secs_f64(),
            t_read.as_secs_f64(),
            t_decode.as_secs_f64(),
            t_flatten.as_secs_f64(),
            t_write.as_secs_f64(),
            total.saturating_sub(t_read + t_decode + t_flatten + t_write).as_secs_f64(),
        );
    }
    println!(
        "flatten alone: {:.0} journals/s",
        done as f64 / t_flatten.as_secs_f64()
    );
    for (k, (name, path, _)) in sinks.writers.iter().enumerate() {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "  {name:<20} {:>10} rows {:>8.1} MiB",
            sinks.rows[k],
            bytes as f64 / 1048576.0
        );
    }
    println!("warnings: {warnings}");
    println!("peak RSS (VmHWM): {:.0} MiB", peak_rss_mib());

    if std::env::var("FLATTEN_BENCH_DUCKDB").as_deref() == Ok("1") {
        duckdb(&jsonl, &dir, n);
    }
}

/// The same JSON lines through DuckDB: journals and their top-level controls unnested to
/// Parquet (DuckDB does not recurse into Table cells here, so it does less work).
fn duckdb(jsonl: &Path, dir: &Path, n: u64) {
    let script = r#"
import sys, time, duckdb, resource
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET threads TO 2")
t = time.time()
con.execute(f"""
  CREATE TEMP TABLE j AS SELECT * FROM read_json('{src}', format='newline_delimited', maximum_object_size=10000000,
      columns={{journal_uuid:'VARCHAR', template_id:'VARCHAR', report_time:'BIGINT',
                submitter:'STRUCT(userid VARCHAR)', apply_data:'JSON', comments:'JSON', receivers:'JSON'}})""")
con.execute(f"""COPY (SELECT journal_uuid, template_id, to_timestamp(report_time) AS report_time, submitter.userid AS submitter_userid
                      FROM j) TO '{out}/duck_journals.parquet' (FORMAT parquet, COMPRESSION zstd)""")
con.execute(f"""COPY (SELECT journal_uuid, c->>'control' AS control_type, c->>'id' AS control_id,
                             c->'title'->0->>'text' AS title, c->>'value' AS value_json
                      FROM (SELECT journal_uuid, unnest(from_json(apply_data->'contents', '["JSON"]')) AS c FROM j))
                TO '{out}/duck_controls.parquet' (FORMAT parquet, COMPRESSION zstd)""")
dt = time.time() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"duckdb {duckdb.__version__}: {dt:.2f} s = {int(sys.argv[3]) / dt:.0f} journals/s, peak RSS {rss:.0f} MiB")
"#;
    match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(jsonl)
        .arg(dir)
        .arg(n.to_string())
        .output()
    {
        Ok(o) => {
            print!("{}", String::from_utf8_lossy(&o.stdout));
            if !o.status.success() {
                println!(
                    "duckdb comparison failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
            }
        }
        Err(e) => println!("duckdb comparison skipped: {e}"),
    }
}
