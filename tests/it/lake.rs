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

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{TimeZone as _, Utc};
use polars::prelude::*;
use serde_json::Value;
use wecom_journal::flatten::{
    self, directory_tables, flatten_journals, flatten_stats, Directory, LocalPaths, TableSpec,
    Warnings,
};
use wecom_journal::job::Format;
use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::sink::{
    DeltaCommit, DeltaRun, DeltaTableWriter, OutputDir, OutputRoot, StorageSettings, StoredObject,
    TableWriter,
};
use wecom_journal::wecom::types::{DepartmentListResponse, UserListResponse};

use crate::common::files_under;

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
    let directory = Directory::from_api(
        &DepartmentListResponse {
            department: org.departments.clone(),
        },
        &[UserListResponse {
            userlist: org.users.clone(),
        }],
    );
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

// ---------------------------------------------------------------------------------------------
// Tests.

/// A run to `s3://…` and the same run to a local directory, read back by pyarrow (its own S3
/// client), polars, deltalake and a Delta log replay; then a re-run of the same months.
#[test]
fn s3_and_local_lakes_read_back_equal_and_a_rerun_adds_one_version() {
    let Some(python) = readers("pyarrow, polars, deltalake") else {
        return;
    };
    let Some(server) = S3Server::start() else {
        return;
    };
    server.create_bucket("lake");
    let tables = org_tables(7);
    let table_names: Vec<&str> = tables.keys().copied().collect();
    let comment_ids = frame_rows(&tables["journal_comments"], &["comment_id".to_owned()]);
    assert!(
        comment_ids
            .iter()
            .any(|id| id[0].as_str().unwrap().parse::<u64>().unwrap() > i64::MAX as u64),
        "the org has ids above i64::MAX, which must come back exact"
    );

    let dir = tempfile::tempdir().unwrap();
    let s3 = server.root("s3://lake/wecom/journal");
    let local = OutputRoot::local(dir.path().join("local"));
    let first = write_lake(&s3, &dir.path().join("staging"), &tables, &delta_run(1));
    write_lake(&local, &dir.path().join("unused"), &tables, &delta_run(1));
    assert!(
        first.iter().all(|c| c.committed && c.version == 0),
        "{first:?}"
    );

    // The objects: one Parquet file per partition, the Delta logs, no temporary names.
    let objects = s3.list("").unwrap();
    let paths = names(&objects);
    assert!(paths.iter().all(|p| !p.contains(".tmp")), "{paths:?}");
    for month in ["2026-10", "2026-11"] {
        let dir = format!("tables/journals/report_month={month}/");
        let parts: Vec<_> = paths.iter().filter(|p| p.starts_with(&dir)).collect();
        assert_eq!(parts.len(), 1, "{dir}: {parts:?}");
        assert!(parts[0].ends_with(".parquet"), "{parts:?}");
    }
    let users: Vec<_> = paths
        .iter()
        .filter(|p| p.starts_with("tables/users/"))
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0].starts_with("tables/users/part-"), "{users:?}");
    for table in &table_names {
        let log = format!("delta/{table}/_delta_log/00000000000000000000.json");
        assert!(paths.contains(&log.as_str()), "{log} in {paths:?}");
    }
    // The staging directory gave everything away.
    let staged = files_under(&dir.path().join("staging"));
    assert!(
        staged.is_empty(),
        "staged files are removed once uploaded: {staged:?}"
    );

    let from_s3 = read_back(
        &python,
        "s3://lake/wecom/journal",
        &server.env(),
        &table_names,
    );
    let versions = assert_read_back(&from_s3, &tables);
    assert!(versions.values().all(|v| *v == 0), "{versions:?}");
    let from_local = read_back(
        &python,
        dir.path().join("local").to_str().unwrap(),
        &[],
        &table_names,
    );
    assert_read_back(&from_local, &tables);

    // A re-run of the same months: the same rows, one more version per table, the old
    // Parquet files gone.
    let second = write_lake(&s3, &dir.path().join("staging"), &tables, &delta_run(2));
    assert!(
        second.iter().all(|c| c.committed && c.version == 1),
        "{second:?}"
    );
    assert!(
        second.iter().all(|c| c.files_removed > 0),
        "each re-run commit removes the replaced files: {second:?}"
    );
    let again = read_back(
        &python,
        "s3://lake/wecom/journal",
        &server.env(),
        &table_names,
    );
    let versions = assert_read_back(&again, &tables);
    assert!(versions.values().all(|v| *v == 1), "{versions:?}");
    let objects = s3.list("tables/journals").unwrap();
    assert_eq!(
        objects.len(),
        2,
        "one file per month: {:?}",
        names(&objects)
    );
    assert!(
        objects.iter().all(|o| !paths.contains(&o.path.as_str())),
        "the re-run's files have new names"
    );

    // A retry of run 2 finds its transaction and changes nothing.
    let retry = write_delta(&s3, "journals", &tables["journals"], &delta_run(2));
    assert_eq!((retry.committed, retry.version), (false, 1));
}

/// Writes the Delta tables of run 2 (org seed 8) to the S3 location in `CHILD_ENV`, printing
/// `committed <table>` after each commit and then waiting for a line on stdin before going on.
/// Runs only as the child of the kill test.
#[test]
#[ignore = "the child process of lake::a_run_killed_between_two_commits_leaves_tables_consistent"]
fn child_delta_writer_for_the_kill_test() {
    let Ok(location) = std::env::var(CHILD_ENV) else {
        return;
    };
    // The real configuration path: the AWS_* variables of this process.
    let root = OutputRoot::parse(&location, &StorageSettings::default()).unwrap();
    let tables = org_tables(8);
    let mut stdin = BufReader::new(std::io::stdin());
    let mut out = std::io::stdout().lock();
    for (name, frames) in &tables {
        let commit = write_delta(&root, name, frames, &delta_run(2));
        writeln!(out, "committed {name} {}", commit.version).unwrap();
        out.flush().unwrap();
        let mut go = String::new();
        stdin.read_line(&mut go).unwrap();
    }
}

/// SIGKILL between two tables' commits (the child waiting) and while it writes the next table
/// (the child let go and killed at once): every table reads back whole, at its old version with
/// run 1's rows or at its new one with run 2's.
#[test]
fn a_run_killed_between_two_commits_leaves_tables_consistent() {
    let Some(python) = readers("pyarrow, polars, deltalake") else {
        return;
    };
    let Some(server) = S3Server::start() else {
        return;
    };
    let old = org_tables(7);
    let new = org_tables(8);
    let names: Vec<&str> = old.keys().copied().collect();
    for (bucket, kill_after, let_go) in [("kill-idle", 2usize, false), ("kill-busy", 4, true)] {
        server.create_bucket(bucket);
        let location = format!("s3://{bucket}/lake");
        let root = server.root(&location);
        for (name, frames) in &old {
            write_delta(&root, name, frames, &delta_run(1));
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "lake::child_delta_writer_for_the_kill_test",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &location)
            .envs(server.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut committed = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            // (The first one follows libtest's "test … ... " on the same line.)
            let Some((_, rest)) = line.split_once("committed ") else {
                continue;
            };
            committed.push(rest.split(' ').next().unwrap().to_owned());
            if committed.len() == kill_after {
                if let_go {
                    let _ = writeln!(stdin, "go");
                    let _ = stdin.flush();
                }
                child.kill().unwrap(); // SIGKILL
                break;
            }
            writeln!(stdin, "go").unwrap();
            stdin.flush().unwrap();
        }
        child.wait().unwrap();
        assert_eq!(committed.len(), kill_after, "{bucket}: the child's commits");

        let read = read_back_delta(&python, &location, &server.env(), &names);
        for name in &names {
            let version = read["tables"][name]["delta_version"].as_i64().unwrap();
            let which = match version {
                0 => &old,
                1 => &new,
                v => panic!("{bucket} {name}: version {v}"),
            };
            let was_committed = committed.iter().any(|c| c == name);
            if was_committed || !let_go {
                // Killed while waiting: exactly the tables it reported are at run 2.
                assert_eq!(
                    version == 1,
                    was_committed,
                    "{bucket} {name}: version {version}"
                );
            }
            let single: BTreeMap<&'static str, Vec<DataFrame>> =
                [(spec(name).name, which[*name].clone())].into();
            let mut only = serde_json::Map::new();
            only.insert(name.to_string(), read["tables"][name].clone());
            assert_read_back(&serde_json::json!({ "tables": only }), &single);
        }
    }
}

/// The local Parquet datasets through every engine: Spark, DuckDB, pyarrow (today's and 14),
/// polars and pandas read every table without a flag, ids above 2^63 exact, required columns
/// declared not null.
#[test]
fn every_engine_reads_the_parquet_datasets() {
    let Some(python) = readers("pyarrow, polars, duckdb, pandas, pyspark") else {
        return;
    };
    let tables = org_tables(7);
    let dir = tempfile::tempdir().unwrap();
    let root = OutputRoot::local(dir.path());
    write_lake(&root, dir.path(), &tables, &delta_run(1));

    let id_columns = |name: &str| -> Vec<&'static str> {
        spec(name)
            .columns
            .iter()
            .filter(|c| c.dtype == wecom_journal::flatten::ColumnType::UInt64)
            .map(|c| c.name)
            .collect()
    };
    let args: Vec<String> = tables
        .keys()
        .map(|t| format!("{t}:{}", id_columns(t).join(",")))
        .collect();
    let max_of = |name: &str, column: &str| -> String {
        let rows = frame_rows(&tables[name], &[column.to_owned()]);
        rows.iter()
            .filter_map(|r| r[0].as_str().map(|s| s.parse::<u64>().unwrap()))
            .max()
            .map_or("None".into(), |m| m.to_string())
    };
    let mut engines: Vec<(String, PathBuf)> = ["pyarrow", "polars", "duckdb", "pandas", "spark"]
        .iter()
        .map(|e| (e.to_string(), python.clone()))
        .collect();
    match std::env::var_os("WECOM_JOURNAL_PYARROW14_PYTHON") {
        Some(old) => engines.push(("pyarrow".into(), PathBuf::from(old))),
        None => {
            let _: Option<()> =
                missing("WECOM_JOURNAL_PYARROW14_PYTHON (a Python with pyarrow==14.0.2)");
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lake/engines.py");
    for (engine, python) in engines {
        let output = Command::new(&python)
            .arg(script)
            .arg(dir.path())
            .arg(&engine)
            .args(&args)
            .output()
            .unwrap();
        let result: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{engine}: {e}: {}", String::from_utf8_lossy(&output.stderr))
        });
        let label = format!("{engine} {}", result["version"]);
        assert!(
            result.get("error").is_none(),
            "{label}: {}",
            result["error"]
        );
        for (name, frames) in &tables {
            let got = &result["tables"][name];
            assert!(
                got.get("error").is_none(),
                "{label} {name}: {}",
                got["error"]
            );
            let rows: usize = frames.iter().map(|f| f.height()).sum();
            assert_eq!(got["rows"].as_u64(), Some(rows as u64), "{label} {name}");
            for column in id_columns(name) {
                assert_eq!(
                    got["max"][column].as_str(),
                    Some(max_of(name, column).as_str()),
                    "{label} {name}.{column}: the largest id, exact"
                );
            }
            if engine == "pyarrow" {
                for column in spec(name).columns {
                    let ty = got["types"][column.name].as_str().unwrap();
                    assert_eq!(
                        ty.ends_with(" not null"),
                        !column.nullable,
                        "{label} {name}.{column:?}: {ty}"
                    );
                    assert!(!ty.contains("view"), "{label} {name}.{}: {ty}", column.name);
                }
            }
        }
        if engine == "spark" {
            let types = &result["tables"]["journal_comments"]["types"];
            assert_eq!(types["comment_id"], "decimal(20,0)", "{types}");
            assert_eq!(types["comment_time"], "timestamp", "{types}");
            assert_eq!(types["report_month"], "string", "{types}");
        }
    }
}

/// A failed request (a bucket that does not exist) names the object, gives a hint, and holds no
/// credential.
#[test]
fn storage_errors_name_the_object_and_hold_no_credential() {
    let Some(server) = S3Server::start() else {
        return;
    };
    let root = server.root("s3://no-such-bucket/p");
    let err = root.put("runs/r.json", &b"{}"[..]).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("s3://no-such-bucket/p/runs/r.json"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(err.hint().is_some(), "{text}");
    let debug = format!("{root:?} {root}");
    assert!(!debug.contains(SECRET), "{debug}");
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

/// `run --sandbox` with `output.dir = "s3://…"`: every output goes to the bucket (and the store
/// stays local, at `store.path`), the datasets and Delta tables read back through the S3 API
/// equal to the same run written to a local directory, and a re-run of the range keeps the row
/// counts and adds one Delta version per table. `check` finds the bucket writable.
#[test]
fn a_sandbox_run_to_s3_equals_the_local_run_and_a_rerun_adds_one_delta_version() {
    let Some(python) = readers("pyarrow, polars, deltalake") else {
        return;
    };
    let Some(server) = S3Server::start() else {
        return;
    };
    server.create_bucket("sandbox");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("state/store.sqlite");
    let storage = format!(
        "[output.storage]\nendpoint = \"{}\"\nallow_http = true\npath_style = true\n\
         [store]\npath = \"{}\"\n",
        server.endpoint,
        store.display()
    );
    let location = "s3://sandbox/wecom/journal";
    let remote = sandbox_job(&dir.path().join("s3.toml"), location, &storage);
    let local_dir = dir.path().join("local");
    let local = sandbox_job(
        &dir.path().join("local.toml"),
        local_dir.to_str().unwrap(),
        "",
    );

    // `check` probes the bucket (its API checks fail: the job has no credentials).
    let check = crate::common::bin()
        .args(["check", remote.to_str().unwrap(), "--format", "json"])
        .envs(server.env())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let output_line = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "output")
        .unwrap()
        .clone();
    assert_eq!(output_line["status"], "pass", "{output_line}");
    assert!(
        output_line["summary"]
            .as_str()
            .unwrap()
            .starts_with("s3://sandbox/wecom/journal is writable"),
        "{output_line}"
    );
    let root = server.root(location);
    assert!(root.list("").unwrap().is_empty(), "check leaves nothing");
    let no_bucket = sandbox_job(&dir.path().join("nob.toml"), "s3://no-bucket/x", &storage);
    let check = crate::common::bin()
        .args(["check", no_bucket.to_str().unwrap(), "--format", "json"])
        .envs(server.env())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(!text.contains(SECRET), "{text}");
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let line = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "output")
        .unwrap()
        .clone();
    assert_eq!(line["status"], "fail", "{line}");
    assert!(
        line["summary"]
            .as_str()
            .unwrap()
            .contains("s3://no-bucket/x/"),
        "{line}"
    );

    run_sandbox(&remote, server);
    run_sandbox(&local, server);
    assert!(store.exists(), "the store is local, at store.path");

    // The objects: datasets, reports in a tree per format with their range, Delta logs, the
    // manifest; no store, no temporary name.
    let objects = root.list("").unwrap();
    let paths = names(&objects);
    assert!(
        paths
            .iter()
            .all(|p| !p.contains(".tmp") && !p.ends_with(".sqlite")),
        "{paths:?}"
    );
    for want in [
        "tables/journals/report_month=2026-10/part-",
        "tables/journals/report_month=2026-11/part-",
        "csv/tables/journals/report_month=2026-11/part-",
        "delta/journals/_delta_log/00000000000000000000.json",
        "delta/users/_delta_log/00000000000000000000.json",
        "reports/late_rate_by_user/range=2026-10-29_2026-11-03/late_rate_by_user.parquet",
        "csv/reports/late_rate_by_user/range=2026-10-29_2026-11-03/late_rate_by_user.csv",
        "runs/",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(want)),
            "{want} in {paths:?}"
        );
    }
    let manifest = objects
        .iter()
        .find(|o| o.path.starts_with("runs/"))
        .unwrap();
    let manifest: Value = serde_json::from_slice(&root.get(&manifest.path).unwrap()).unwrap();
    assert_eq!(manifest["status"], "succeeded", "{manifest}");
    assert!(!manifest.to_string().contains(SECRET));
    let delta = manifest["delta"].as_array().unwrap();
    assert_eq!(delta.len(), flatten::TABLES.len(), "{manifest}");

    let table_names: Vec<&str> = flatten::TABLES.iter().map(|t| t.name).collect();
    let from_s3 = read_back(&python, location, &server.env(), &table_names);
    let from_local = read_back(&python, local_dir.to_str().unwrap(), &[], &table_names);
    let mut journals = 0;
    for name in &table_names {
        let (s3, local) = (&from_s3["tables"][name], &from_local["tables"][name]);
        assert_eq!(s3["columns"], local["columns"], "{name}");
        assert_eq!(s3["rows"], local["rows"], "{name}: S3 and local rows");
        for reader in [s3, local] {
            for (which, verdict) in reader["readers"].as_object().unwrap() {
                assert_eq!(verdict, "same", "{name}: {which}");
            }
            assert_eq!(reader["delta_version"], 0, "{name}");
        }
        if *name == "journals" {
            journals = s3["rows"].as_array().unwrap().len();
        }
    }
    assert!(journals > 0, "the sandbox wrote journals");

    // A re-run of the same range: the same rows, one more Delta version per table.
    run_sandbox(&remote, server);
    let again = read_back(&python, location, &server.env(), &table_names);
    for name in &table_names {
        let (before, after) = (&from_s3["tables"][name], &again["tables"][name]);
        assert_eq!(
            after["rows"].as_array().unwrap().len(),
            before["rows"].as_array().unwrap().len(),
            "{name}: rows after the re-run"
        );
        assert_eq!(after["delta_version"], 1, "{name}");
    }
}
