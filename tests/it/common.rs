//! Helpers shared by the integration tests: the binary (one way to start it, one scrubbed
//! environment), whole-output comparison with placeholders, datasets read back, zip entries,
//! the simulator on its own thread or as a process.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use polars::prelude::*;

/// The built `wecom-journal` binary, the one way every integration test starts it: run from
/// the checkout, with one scrubbed environment (nothing inherited: no credentials, no API base,
/// no `RUST_LOG`-style settings of the developer's shell) and `info` logs. A test sets what its
/// case needs on the returned command.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wecom-journal"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("WECOM_JOURNAL_LOG", "info");
    cmd
}

/// Runs the binary with `args`; panics when it cannot start.
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

/// Runs the binary with `args` and no logs at all, so that standard error holds only what the
/// command says (errors, hints, gaps): the interface [`assert_output`] compares whole.
pub fn run_quiet(cmd: &mut Command) -> Output {
    cmd.env("WECOM_JOURNAL_LOG", "off")
        .output()
        .expect("the wecom-journal binary runs")
}

/// Standard output and standard error as text.
pub fn streams(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `text` with what changes from run to run replaced by placeholders, like cargo's testsuite:
/// each `(value, placeholder)` of `subs` (paths, usually: `(out_dir, "[OUT]")`, longest first),
/// then run ids' times (`20261101T020000123Z` → `[TIME]`), loopback ports
/// (`127.0.0.1:38215` → `127.0.0.1:[PORT]`), WeCom's per-answer token in an errmsg
/// (`hint: [1796170101_ce86]` → `hint: [TOKEN]`) and durations (`1.25s`, `340ms` →
/// `[DURATION]`).
pub fn normalize(text: &str, subs: &[(&str, &str)]) -> String {
    let mut subs = subs.to_vec();
    subs.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    let mut text = text.to_owned();
    for (value, placeholder) in subs {
        if !value.is_empty() {
            text = text.replace(value, placeholder);
        }
    }
    let text = replace_runs(&text, "[TIME]", run_id_time);
    let text = replace_after(&text, "127.0.0.1:", "[PORT]", |s| digits(s, 1, 5));
    let text = replace_after(&text, "hint: ", "[TOKEN]", wecom_token);
    replace_runs(&text, "[DURATION]", duration)
}

/// Compares command output with what it should be, WHOLE: the same lines, each equal, except
/// that `[..]` in `expected` stands for any text within its line. `actual` is normalised first
/// (see [`normalize`]).
pub fn assert_output(actual: &str, expected: &str, subs: &[(&str, &str)]) {
    let actual = normalize(actual, subs);
    let (got, want): (Vec<&str>, Vec<&str>) =
        (actual.lines().collect(), expected.lines().collect());
    let same = got.len() == want.len()
        && actual.ends_with('\n') == expected.ends_with('\n')
        && got.iter().zip(&want).all(|(g, w)| line_matches(g, w));
    assert!(
        same,
        "output differs\n--- expected ---\n{expected}\n--- actual (normalised) ---\n{actual}\n---"
    );
}

/// Whether `line` is `pattern`, `[..]` in the pattern matching any run of characters.
fn line_matches(line: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return line == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Replaces every match of `matcher` (the length of a match starting at a position, if one
/// does) with `placeholder`.
fn replace_runs(text: &str, placeholder: &str, matcher: fn(&str) -> Option<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let at_word_start = i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        match matcher(rest).filter(|_| at_word_start) {
            Some(n) => {
                out.push_str(placeholder);
                i += n;
            }
            None => {
                let c = rest.chars().next().expect("not at the end");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Replaces what `matcher` matches right after each `prefix` with `placeholder`.
fn replace_after(
    text: &str,
    prefix: &str,
    placeholder: &str,
    matcher: fn(&str) -> Option<usize>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let after = i + prefix.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        if let Some(n) = matcher(rest) {
            out.push_str(placeholder);
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of the run of `min..=max` ASCII digits `s` starts with, if it is one.
fn digits(s: &str, min: usize, max: usize) -> Option<usize> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (min..=max).contains(&n).then_some(n)
}

/// `YYYYMMDDTHHMMSSmmmZ`, a run id's time.
fn run_id_time(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let ok = b.len() >= 19
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..18].iter().all(u8::is_ascii_digit)
        && b[18] == b'Z';
    ok.then_some(19)
}

/// `[<unix seconds>_<hex>]`, the token WeCom (and the simulator) put in an errmsg.
fn wecom_token(s: &str) -> Option<usize> {
    let inner = s.strip_prefix('[')?;
    let secs = digits(inner, 9, 11)?;
    let hex = inner[secs..].strip_prefix('_')?;
    let n = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
    (n > 0 && hex[n..].starts_with(']')).then_some(1 + secs + 1 + n + 1)
}

/// `1.25s`, `340ms`, `2m` … a duration as a number and a unit (and not the start of a word).
fn duration(s: &str) -> Option<usize> {
    let whole = s.bytes().take_while(u8::is_ascii_digit).count();
    if whole == 0 {
        return None;
    }
    let mut n = whole;
    if s[n..].starts_with('.') {
        let frac = s[n + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if frac == 0 {
            return None;
        }
        n += 1 + frac;
    }
    let unit = ["ms", "µs", "s", "m", "h"]
        .into_iter()
        .find(|u| s[n..].starts_with(u))?;
    n += unit.len();
    // Not a duration if a letter or digit follows (`3 months`, `2m3`, `5min` are not matched).
    let next = s[n..].chars().next();
    (!next.is_some_and(|c| c.is_alphanumeric())).then_some(n)
}

/// A shipped example job.
pub fn shipped_job(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("jobs")
        .join(name)
}

/// Every file under `root`, sorted.
/// The workbooks (`.xlsx`) under `root`, at any depth.
pub fn workbooks_under(root: &Path) -> Vec<PathBuf> {
    files_under(root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .collect()
}

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
        let mut child = bin()
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
    max_quota_wait: wecom_journal::wecom::client::DEFAULT_MAX_QUOTA_WAIT,
};

/// A simulator process for `users` people over `days` days from 2026-10-01, without
/// withdrawals (for tests that compare every gap line whole), that refuses (301065) its first
/// weekly template; with its world and that template.
pub fn sim_denying_a_weekly_template(
    users: usize,
    days: u32,
) -> (
    SimProcess,
    wecom_journal::sim::Org,
    wecom_journal::sim::SimTemplate,
) {
    use wecom_journal::sim::{Gentle, Org, SimConfig};
    let config = SimConfig {
        users,
        start: date("2026-10-01"),
        days,
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    };
    let org = Org::generate(&config);
    let weekly = org
        .templates
        .iter()
        .find(|t| t.report_type == 3)
        .expect("a weekly template")
        .clone();
    let (users, days) = (users.to_string(), days.to_string());
    let sim = SimProcess::start(&[
        "--users",
        &users,
        "--start",
        "2026-10-01",
        "--days",
        &days,
        "--deny-template",
        &weekly.id,
        "--gentle",
        "withdrawals",
    ])
    .expect("the simulator starts");
    (sim, org, weekly)
}

/// The directory the simulator's organisation serves (every department, every user), as the
/// pipeline builds it from `department/list` and `user/list`.
pub fn org_directory(org: &wecom_journal::sim::Org) -> wecom_journal::flatten::Directory {
    wecom_journal::flatten::Directory::from_api(
        &wecom_journal::wecom::types::DepartmentListResponse {
            department: org.departments.clone(),
        },
        &[wecom_journal::wecom::types::UserListResponse {
            userlist: org.users.clone(),
        }],
    )
}

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

#[test]
fn the_normaliser_replaces_what_changes_and_nothing_else() {
    let text = "x: 2026-10-01..2026-11-01 done → 12 files (6894 rows) in /tmp/a/out; manifest \
                /tmp/a/out/runs/20261202T000810146Z-x.json\n\
                GET http://127.0.0.1:38215/x, hint: [1796170101_ce86], from ip: 127.0.0.1 in 1.25s";
    assert_eq!(
        normalize(text, &[("/tmp/a", "[DIR]"), ("/tmp/a/out", "[OUT]")]),
        "x: 2026-10-01..2026-11-01 done → 12 files (6894 rows) in [OUT]; manifest \
         [OUT]/runs/[TIME]-x.json\n\
         GET http://127.0.0.1:[PORT]/x, hint: [TOKEN], from ip: 127.0.0.1 in [DURATION]"
    );
    // `[..]` matches within a line only, and the lines must all be there.
    assert!(line_matches(
        "error: run x failed",
        "error: run [..] failed"
    ));
    assert!(!line_matches("error: run x failed", "error: [..] x ok"));
    assert!(line_matches("abc", "a[..]b[..]c"));
    assert!(!line_matches("ab", "a[..]b[..]b"));
    let differs = std::panic::catch_unwind(|| assert_output("a\nb\n", "a\n", &[]));
    assert!(differs.is_err(), "a missing line is a difference");
    let differs = std::panic::catch_unwind(|| assert_output("a\n", "a", &[]));
    assert!(differs.is_err(), "a missing final newline is a difference");
    assert_output("a 3ms\n", "a [DURATION]\n", &[]);
}

// ---------------------------------------------------------------------------------------------
// Runs of the binary as a scheduler sees them: signals, stopped processes, their stderr.

/// Sends `signal` (`libc::SIGTERM` …) to a child.
pub fn send_signal(child: &Child, signal: i32) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill({pid}, {signal})");
}

/// Waits until `ready` says so, checking every 10 ms; panics after two minutes saying `what`
/// did not happen (a guard against a hung test, not a timing assertion).
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited two minutes: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Whether the process is stopped (SIGSTOP: state `T` in `/proc/<pid>/stat`).
pub fn is_stopped(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // `pid (comm) state …`: the state follows the last `)`.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "T" || state == "t")
}

/// A child's standard error, line by line as it comes (read on a thread of its own).
pub struct Stderr {
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Stderr {
    /// Takes the child's piped stderr.
    pub fn of(child: &mut Child) -> Stderr {
        let pipe = child.stderr.take().expect("stderr piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Stderr {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle` (two minutes at most), keeping every line read.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        loop {
            match self.lines.recv_timeout(std::time::Duration::from_secs(120)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no line with {needle:?} ({e}); stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// A line read so far containing `needle`, reading what has come without waiting.
    pub fn poll(&mut self, needle: &str) -> Option<String> {
        self.seen.extend(self.lines.try_iter());
        self.seen.iter().find(|l| l.contains(needle)).cloned()
    }

    /// Every line, once the child is done.
    pub fn rest(mut self) -> Vec<String> {
        self.seen.extend(self.lines.iter());
        self.seen
    }
}

/// A job file for a simulator on loopback (its base URL, corp id and secret written in): the
/// `sections` after `[range]`, then `[output]` with its `dir` and `output` keys.
pub fn sim_job(
    path: &Path,
    name: &str,
    sim: &wecom_journal::sim::SimHandle,
    range: (&str, &str),
    sections: &str,
    out: &Path,
    output: &str,
) {
    fs::write(
        path,
        format!(
            "name = \"{name}\"\n\n[source]\ncorp_id = \"{corp}\"\nsecret = \"{secret}\"\n\
             api_base = \"{base}\"\ntimezone = \"Asia/Shanghai\"\n\n[range]\nstart = \"{start}\"\n\
             end = \"{end}\"\n\n{sections}\n[output]\ndir = \"{out}\"\n{output}\n",
            corp = sim.corp_id,
            secret = sim.secret,
            base = sim.base_url,
            start = range.0,
            end = range.1,
            out = out.display(),
        ),
    )
    .expect("the job file is written");
}

/// Every table of the schema under `out`, read back from its Parquet dataset and sorted (by
/// every column that is not a list), for comparing the tables of two runs.
pub fn sorted_tables(out: &Path) -> BTreeMap<&'static str, DataFrame> {
    wecom_journal::flatten::schema::TABLES
        .iter()
        .map(|t| {
            let df = scan_dataset(out, t.name);
            let columns: Vec<String> = df
                .schema()
                .iter()
                .filter(|(_, dtype)| !matches!(dtype, DataType::List(_)))
                .map(|(name, _)| name.to_string())
                .collect();
            let df = df
                .sort(columns, SortMultipleOptions::default())
                .expect("sorted");
            (t.name, df)
        })
        .collect()
}

/// The two runs' tables are equal, table by table.
pub fn assert_same_tables(got: &Path, want: &BTreeMap<&'static str, DataFrame>, what: &str) {
    let got = sorted_tables(got);
    for (table, frame) in want {
        let other = &got[table];
        assert!(
            frame.equals_missing(other),
            "{what}: table {table} differs ({} rows, want {})",
            other.height(),
            frame.height()
        );
    }
}

/// What a store holds of the API's answers, for comparing runs: details by uuid, windows done
/// (with their uuids), stat responses (errmsg aside), wedrive downloads (path, size, checksum).
#[derive(Debug, PartialEq)]
pub struct StoreContent {
    pub details: BTreeMap<String, serde_json::Value>,
    pub windows: std::collections::BTreeSet<(String, i64, i64, Vec<String>)>,
    pub stats: BTreeMap<String, serde_json::Value>,
    pub downloads: std::collections::BTreeSet<(String, String, String, u64, Option<String>)>,
}

pub fn store_content(out: &Path) -> StoreContent {
    let store =
        wecom_journal::store::Store::open(out.join("store.sqlite")).expect("the store opens");
    let mut details = BTreeMap::new();
    for (uuid, raw) in store.detail_raws().expect("details") {
        details.insert(uuid, serde_json::from_str(&raw).expect("detail JSON"));
    }
    let mut windows = std::collections::BTreeSet::new();
    for w in store.record_windows().expect("windows") {
        let mut uuids = store
            .window_uuids(&w.filter_key, w.start_ts, w.end_ts)
            .expect("uuids");
        uuids.sort();
        windows.insert((
            format!("{}:{:?}", w.filter_key, w.state),
            w.start_ts,
            w.end_ts,
            uuids,
        ));
    }
    let mut stats = BTreeMap::new();
    store
        .stats_in_range(
            i64::MIN,
            i64::MAX,
            |s| -> Result<(), Box<dyn std::error::Error>> {
                let mut v: serde_json::Value = serde_json::from_str(&s.raw)?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("errmsg");
                }
                stats.insert(format!("{} {} {}", s.template_id, s.start_ts, s.end_ts), v);
                Ok(())
            },
        )
        .expect("stats");
    let downloads = store
        .wedrive_downloads()
        .expect("downloads")
        .into_iter()
        .map(|d| (d.journal_uuid, d.fileid, d.local_path, d.bytes, d.checksum))
        .collect();
    StoreContent {
        details,
        windows,
        stats,
        downloads,
    }
}
