//! The lake: a simulated org's tables written as Parquet datasets and Delta tables to a real
//! S3-compatible server on loopback (moto's server mode) and to a local directory, then read
//! back by independent readers in Python (pyarrow's own S3 client and a Delta log replay of
//! ours, polars, deltalake; DuckDB, pandas and Spark for the local datasets) and compared with
//! the frames.
//!
//! Needs a Python with moto (its S3 server), pyarrow, polars and deltalake (plus duckdb, pandas and
//! pyspark for the engines test): `.ci/run` installs them and sets `WECOM_JOURNAL_PYTHON` and
//! `WECOM_JOURNAL_REQUIRE_LAKE=1`. Without them these tests say what to install and pass,
//! unless `WECOM_JOURNAL_REQUIRE_LAKE=1`, where they fail.
//!
//! This module holds the harness (the S3 server, the readers, the frames, the sandbox job);
//! the tests are by concept: [`s3`] (object storage: the lake through the S3 API, a sandbox run
//! to `s3://`, storage errors), [`delta`] (Delta commits under a kill) and [`engines`] (the
//! engines that read the local datasets).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{TimeZone as _, Utc};
use polars::prelude::*;
use serde_json::Value;
use wecom_journal::flatten::{
    self, directory_tables, flatten_journals, flatten_stats, LocalPaths, TableSpec, Warnings,
};
use wecom_journal::job::Format;
use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::sink::{
    DeltaCommit, DeltaRun, DeltaTableWriter, OutputDir, OutputRoot, StorageSettings, StoredObject,
    TableWriter,
};

use crate::common::files_under;

mod delta;
mod engines;
mod s3;

const INSTALL: &str = "pip install 'moto[server]' pyarrow polars deltalake duckdb pandas pyspark \
                       (and set WECOM_JOURNAL_PYTHON to that Python): .ci/lake-tools.sh";
const SECRET: &str = "lake-test-secret-3f9c2e";
const CHILD_ENV: &str = "WECOM_JOURNAL_TEST_LAKE_CHILD";

// ---------------------------------------------------------------------------------------------
// Tools: Python with the readers, and moto's S3 server.

fn python() -> PathBuf {
    std::env::var_os("WECOM_JOURNAL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| "python3".into())
}

fn has_modules(python: &Path, modules: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `None` (with a notice) when a tool is missing, unless the lake is required.
fn missing<T>(what: &str) -> Option<T> {
    if std::env::var("WECOM_JOURNAL_REQUIRE_LAKE").as_deref() == Ok("1") {
        panic!("WECOM_JOURNAL_REQUIRE_LAKE=1 but {what} is missing: {INSTALL}");
    }
    eprintln!("skipping a lake test: {what} is missing; {INSTALL}");
    None
}

fn readers(modules: &str) -> Option<PathBuf> {
    let python = python();
    if has_modules(&python, modules) {
        Some(python)
    } else {
        missing(&format!("{} with {modules}", python.display()))
    }
}

/// The S3 server and a Python with the readers of the S3 tests (pyarrow, polars, deltalake),
/// or `None` (with a notice) as [`missing`] says.
fn s3_and_readers() -> Option<(PathBuf, &'static S3Server)> {
    let python = readers("pyarrow, polars, deltalake")?;
    Some((python, S3Server::start()?))
}

/// moto's S3 server, in a Python child that serves until its stdin closes, i.e. until this
/// test process exits (however it exits): one server for all the lake tests of the process,
/// since starting one costs seconds of imports.
const MOTO: &str = "\
import os, sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False)
server.start()
print('listening', flush=True)
sys.stdin.read()
os._exit(0)
";

/// moto's S3 server on a free loopback port, shared by the tests (see [`MOTO`]).
struct S3Server {
    /// Kept so the child's stdin stays open (closing it stops the server).
    _child: std::sync::Mutex<Child>,
    endpoint: String,
}

impl S3Server {
    fn start() -> Option<&'static S3Server> {
        static SERVER: std::sync::OnceLock<Option<S3Server>> = std::sync::OnceLock::new();
        SERVER.get_or_init(S3Server::spawn).as_ref()
    }

    fn spawn() -> Option<S3Server> {
        let python = readers("moto.server")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let mut child = Command::new(&python)
            .args(["-c", MOTO, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // (It logs every request.)
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto's S3 server");
        // Readiness, not timing: the child says when it listens (however loaded the machine).
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "listening", "moto's S3 server did not start");
        Some(S3Server {
            _child: std::sync::Mutex::new(child),
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Creates a bucket with a plain HTTP PUT (moto does not check signatures).
    fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port())).unwrap();
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "creating {bucket}: {answer}"
        );
    }

    /// The AWS_* environment a client of this server gets.
    fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "lake-test-key"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn root(&self, location: &str) -> OutputRoot {
        OutputRoot::parse_with_env(location, &StorageSettings::default(), self.env()).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// The data: a simulated org's tables, and writing them.

/// Every table's frames (in batches, as the pipeline hands them over) for the org of `seed`:
/// 12 users, 40 days from 2026-10-01 (October and November).
fn org_tables(seed: u64) -> BTreeMap<&'static str, Vec<DataFrame>> {
    let config = SimConfig {
        seed,
        users: 12,
        days: 40,
        ..SimConfig::default()
    };
    let org = Org::generate(&config);
    let directory = crate::common::org_directory(&org);
    let mut tables: BTreeMap<&'static str, Vec<DataFrame>> = BTreeMap::new();
    let mut warnings = Warnings::default();
    for batch in org.journals.chunks(50) {
        let frames = flatten_journals(
            batch,
            &directory,
            config.timezone,
            &LocalPaths::none(),
            &mut warnings,
        )
        .unwrap();
        for (name, frame) in frames.iter() {
            tables.entry(name).or_default().push(frame.clone());
        }
    }
    let stats = flatten_stats(&org.stats, &directory, config.timezone).unwrap();
    tables
        .entry("stat_cycles")
        .or_default()
        .push(stats.stat_cycles);
    tables
        .entry("stat_items")
        .or_default()
        .push(stats.stat_items);
    let (departments, users) = directory_tables(&directory).unwrap();
    tables.insert("departments", vec![departments]);
    tables.insert("users", vec![users]);
    assert_eq!(tables.len(), flatten::TABLES.len());
    tables
}

fn spec(name: &str) -> &'static TableSpec {
    flatten::TABLES.iter().find(|t| t.name == name).unwrap()
}

fn delta_run(n: i64) -> DeltaRun {
    DeltaRun::new(
        "lake-test",
        &format!("run-{n}"),
        Utc.timestamp_millis_opt(1_790_000_000_000 + n).unwrap(),
    )
}

/// Writes every table as a Parquet dataset (through a `TableWriter` on `root`, staged in
/// `staging`) and as a Delta table.
fn write_lake(
    root: &OutputRoot,
    staging: &Path,
    tables: &BTreeMap<&'static str, Vec<DataFrame>>,
    run: &DeltaRun,
) -> Vec<DeltaCommit> {
    let out = OutputDir::on(root.clone(), staging).unwrap();
    let mut commits = Vec::new();
    for (name, frames) in tables {
        let spec = spec(name);
        let required = spec.columns.iter().filter(|c| !c.nullable).map(|c| c.name);
        let mut parquet =
            TableWriter::create(&out, name, spec.partition_by, &[Format::Parquet], false)
                .unwrap()
                .with_required(required);
        parquet.covers(["2026-10", "2026-11"]);
        for frame in frames {
            parquet.write_batch(frame).unwrap();
        }
        parquet.finish().unwrap();

        commits.push(write_delta(root, name, frames, run));
    }
    commits
}

fn write_delta(root: &OutputRoot, name: &str, frames: &[DataFrame], run: &DeltaRun) -> DeltaCommit {
    let mut delta = DeltaTableWriter::create(root, spec(name), run).unwrap();
    delta.covers(["2026-10", "2026-11"]);
    for frame in frames {
        delta.write_batch(frame).unwrap();
    }
    delta.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Comparing with what the readers read.

/// The canonical form of a value (see tests/lake/read_back.py).
fn canonical(value: AnyValue) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => b.into(),
        AnyValue::String(s) => s.into(),
        AnyValue::StringOwned(s) => s.as_str().into(),
        AnyValue::UInt32(x) => x.to_string().into(),
        AnyValue::UInt64(x) => x.to_string().into(),
        AnyValue::Int32(x) => x.to_string().into(),
        AnyValue::Int64(x) => x.to_string().into(),
        AnyValue::Float64(x) => x.into(),
        AnyValue::Date(days) => (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
            + chrono::Duration::days(days.into()))
        .to_string()
        .into(),
        AnyValue::Datetime(ms, TimeUnit::Milliseconds, _) => ms.to_string().into(),
        AnyValue::List(items) => Value::Array(items.iter().map(canonical).collect()),
        other => panic!("no canonical form for {other:?}"),
    }
}

fn sorted(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_cached_key(|r| r.to_string());
    rows
}

fn frame_rows(frames: &[DataFrame], columns: &[String]) -> Vec<Value> {
    let mut rows = Vec::new();
    for frame in frames {
        let cols: Vec<&Column> = columns.iter().map(|c| frame.column(c).unwrap()).collect();
        for i in 0..frame.height() {
            rows.push(Value::Array(
                cols.iter().map(|c| canonical(c.get(i).unwrap())).collect(),
            ));
        }
    }
    sorted(rows)
}

/// Runs tests/lake/read_back.py on `root` (a directory or `s3://…`).
fn read_back(python: &Path, root: &str, env: &[(String, String)], tables: &[&str]) -> Value {
    run_read_back(python, &[root], env, tables)
}

/// [`read_back`] of the Delta tables only (`rows` as deltalake reads them).
fn read_back_delta(python: &Path, root: &str, env: &[(String, String)], tables: &[&str]) -> Value {
    run_read_back(python, &["--delta-only", root], env, tables)
}

fn run_read_back(python: &Path, args: &[&str], env: &[(String, String)], tables: &[&str]) -> Value {
    let root = args.last().copied().unwrap_or_default();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lake/read_back.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .args(tables)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "read_back.py {root}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every reader read every table as `tables` holds it; returns each table's Delta version.
fn assert_read_back(
    read: &Value,
    tables: &BTreeMap<&'static str, Vec<DataFrame>>,
) -> BTreeMap<String, i64> {
    let mut versions = BTreeMap::new();
    for (name, frames) in tables {
        let got = &read["tables"][name];
        let columns: Vec<String> = serde_json::from_value(got["columns"].clone()).unwrap();
        let want: Vec<String> = spec(name)
            .column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(columns, want, "{name}: the columns read");
        let rows: Vec<Value> = serde_json::from_value(got["rows"].clone()).unwrap();
        let expected = frame_rows(frames, &columns);
        assert_eq!(rows.len(), expected.len(), "{name}: rows read");
        assert!(
            sorted(rows) == expected,
            "{name}: the rows read differ from the frames"
        );
        for (reader, verdict) in got["readers"].as_object().unwrap() {
            assert_eq!(verdict, "same", "{name}: {reader}");
        }
        versions.insert(name.to_string(), got["delta_version"].as_i64().unwrap());
    }
    versions
}

fn names(objects: &[StoredObject]) -> Vec<&str> {
    objects.iter().map(|o| o.path.as_str()).collect()
}

/// A job file for a short sandbox run over the turn of a month (two partitions), writing
/// Parquet, CSV, Delta and the reports to `dir`, with `extra` TOML appended.
fn sandbox_job(path: &Path, dir: &str, extra: &str) -> PathBuf {
    let text = format!(
        "name = \"lake-sandbox\"\n\
         [range]\nstart = \"2026-10-29\"\nend = \"2026-11-03\"\n\
         [output]\ndir = \"{dir}\"\nformats = [\"parquet\", \"csv\", \"delta\"]\ncsv_bom = false\n\
         {extra}"
    );
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// Runs `wecom-journal run JOB --sandbox` with the S3 server's environment; returns stdout
/// and stderr, which must hold no credential.
fn run_sandbox(job: &Path, server: &S3Server) -> String {
    let out = crate::common::bin()
        .args(["run", job.to_str().unwrap(), "--sandbox"])
        .envs(server.env())
        // This test compares the lake on S3 with the local one and counts Delta versions; a
        // journal withdrawn after listing (a named gap, exit 3) is tested in converge.rs.
        .env("WECOM_SIM_GENTLE", "withdrawals")
        .env("WECOM_JOURNAL_LOG", "debug")
        .output()
        .unwrap();
    let (stdout, stderr) = crate::common::streams(&out);
    assert!(out.status.success(), "run: {stdout}\n{stderr}");
    let both = format!("{stdout}\n{stderr}");
    assert!(
        !both.contains(SECRET),
        "a credential in the run's output: {both}"
    );
    assert!(
        !both.contains("lake-test-key"),
        "a key id in the run's output"
    );
    both
}
