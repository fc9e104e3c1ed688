//! Helpers shared by the integration tests: the binary, datasets read back, zip entries.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use polars::prelude::*;

/// The built `wecom-journal` binary.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wecom-journal"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("WECOM_API_BASE")
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_JOURNAL_SECRET")
        .env_remove(wecom_journal::sim::GENTLE_ENV)
        .env("WECOM_JOURNAL_LOG", "info");
    cmd
}

/// Runs the binary with `args`; panics with both streams when it cannot start.
pub fn run_bin(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .expect("the wecom-journal binary runs")
}

/// Runs the binary with `args`, its `run --sandbox` simulator spared the real behaviours
/// named in `gentle` (see `wecom_journal::sim::Gentle`): for pipeline tests that meet a
/// behaviour the pipeline does not handle yet.
pub fn run_bin_gentle(args: &[&str], gentle: &str) -> Output {
    bin()
        .args(args)
        .env(wecom_journal::sim::GENTLE_ENV, gentle)
        .output()
        .expect("the wecom-journal binary runs")
}

/// A shipped example job.
pub fn shipped_job(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("jobs")
        .join(name)
}

/// Every file under `root`, sorted.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A Parquet table read back through its Hive partitions (`report_month` becomes a column).
pub fn scan_dataset(root: &Path, table: &str) -> DataFrame {
    let pattern = format!("{}/tables/{table}/**/*.parquet", root.display());
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..Default::default()
    };
    LazyFrame::scan_parquet(PlRefPath::new(pattern), args)
        .and_then(|lf| lf.collect())
        .unwrap_or_else(|e| panic!("reading the {table} dataset under {}: {e}", root.display()))
}

pub fn read_parquet(path: &Path) -> DataFrame {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of every entry of a zip (an XLSX workbook), by name.
pub fn unzip(path: &Path) -> BTreeMap<String, String> {
    let mut archive = ::zip::ZipArchive::new(fs::File::open(path).expect("the zip opens"))
        .expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("a zip entry");
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_ok() {
            out.insert(entry.name().to_owned(), text);
        }
    }
    out
}

/// The values of an attribute on every `<tag …>` of an XML text, in order.
pub fn xml_attr_values(xml: &str, tag: &str, attr: &str) -> Vec<String> {
    let open = format!("<{tag} ");
    let key = format!("{attr}=\"");
    xml.match_indices(&open)
        .filter_map(|(i, _)| {
            let rest = &xml[i..];
            let tag_text = &rest[..rest.find('>').unwrap_or(rest.len())];
            let start = tag_text.find(&key)? + key.len();
            let end = tag_text[start..].find('"')?;
            Some(tag_text[start..start + end].to_string())
        })
        .collect()
}

/// `wecom-journal sim` as a child process; its first stdout line says where and how to call it.
/// Killed when dropped.
pub struct SimProcess {
    child: Child,
    pub base_url: String,
    pub corp_id: String,
    pub secret: String,
}

impl SimProcess {
    /// Starts `wecom-journal sim --addr 127.0.0.1:0 ARGS…`.
    pub fn start(args: &[&str]) -> Result<SimProcess, Box<dyn std::error::Error>> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wecom-journal"))
            .args(["sim", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the simulator's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
                .ok_or_else(|| format!("no {name}= in the simulator's first line {line:?}"))
        };
        Ok(SimProcess {
            base_url: field("base_url")?,
            corp_id: field("corp_id")?,
            secret: field("secret")?,
            child,
        })
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Quotas ten times the documented ones on both sides: tests that count calls need no pacing;
/// the client's own tests and the benches hold the pace.
pub const FAST: wecom_journal::wecom::Limits = wecom_journal::wecom::Limits {
    record_list_per_minute: 6_000,
    per_api_per_minute: 100_000,
    per_api_per_hour: 6_000_000,
    max_in_flight: 8,
};

pub fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("a date")
}

/// A simulator on its own runtime and threads, so that its logging never lands in a test's
/// captured logs and the test's own runtime (async tests included) runs only the code under test.
pub struct SimThread {
    pub handle: wecom_journal::sim::SimHandle,
    pub config: wecom_journal::sim::SimConfig,
    runtime: Option<tokio::runtime::Runtime>,
}

impl SimThread {
    pub fn start(config: wecom_journal::sim::SimConfig) -> SimThread {
        // Built and started on a plain thread: a runtime cannot be entered from inside another.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the simulator");
            let handle = runtime
                .block_on(wecom_journal::sim::SimHandle::start(
                    config.clone(),
                    "127.0.0.1:0".parse().expect("an address"),
                ))
                .expect("the simulator starts");
            SimThread {
                handle,
                config,
                runtime: Some(runtime),
            }
        })
        .join()
        .expect("the simulator thread")
    }
}

impl Drop for SimThread {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl std::ops::Deref for SimThread {
    type Target = wecom_journal::sim::SimHandle;
    fn deref(&self) -> &wecom_journal::sim::SimHandle {
        &self.handle
    }
}

impl SimThread {
    /// Calls of an endpoint the simulator answered, successful or not.
    pub fn calls(&self, endpoint: wecom_journal::wecom::Endpoint) -> u64 {
        use wecom_journal::wecom::Endpoint;
        // The wedrive bytes are served at the simulator's own download path, not an API path.
        self.handle.counters().calls_to(match endpoint {
            Endpoint::WedriveBytes => wecom_journal::sim::server::WEDRIVE_BYTES,
            other => other.path(),
        })
    }

    /// Calls per endpoint the simulator answered so far.
    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, u64> {
        wecom_journal::wecom::Endpoint::ALL
            .iter()
            .map(|e| (e.name(), self.calls(*e)))
            .collect()
    }
}
