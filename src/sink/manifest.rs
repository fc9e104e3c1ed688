//! The run manifest `runs/<run_id>.json`: what a run did, for operators and for the next run.
//! It holds no credential: the struct has no field for one, and [`write_manifest`] scrubs any
//! that leaked into a free-text field (a warning quoting a URL, say) before writing.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    check_component, commit_file, io_err, temp_path_for, DeltaCommit, OutputDir, SinkError,
    WrittenFile,
};
use crate::job::DateRange;
use crate::wecom::client::CallStats;
use crate::wecom::{redact, Secret};

/// The statuses' one definition is the store's (a run's manifest and its `runs` row say the
/// same); the manifest only carries it.
pub use crate::store::RunStatus;

/// Local dates, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRange {
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
}

impl From<DateRange> for ManifestRange {
    fn from(r: DateRange) -> Self {
        ManifestRange {
            start: r.start,
            end: r.end,
        }
    }
}

/// Something the run could not read, e.g. a template the app may not read (301065).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// What is missing, e.g. `template ZLqk… stats 2026-10-01..2026-11-01`.
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// The API's errmsg or our explanation.
    pub detail: String,
    /// How a person could close the gap (e.g. for 301065, which app setting to change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub(crate) job: String,
    pub run_id: String,
    pub(crate) range: ManifestRange,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// HTTP calls per endpoint name.
    pub calls: BTreeMap<String, u64>,
    /// Retries per endpoint name.
    pub(crate) retries: BTreeMap<String, u64>,
    /// errcode 45009 answers seen.
    pub quota_errors: u64,
    /// Times an endpoint was blocked after 45009s in a row (the corp's quota spent by someone
    /// else); a stray 45009 blocks nothing.
    #[serde(default)]
    pub quota_blocks: u64,
    /// Rows per output table (and per report).
    pub rows: BTreeMap<String, u64>,
    /// Every file written, relative to the output root.
    pub files: Vec<WrittenFile>,
    /// The Delta tables' commits (`formats = ["delta"]`): one per table, or none for a table
    /// that already held this run's transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) delta: Vec<DeltaCommit>,
    pub gaps: Vec<Gap>,
    /// Wall time per stage (`extract`, `flatten`, `report`, `sink` …), in milliseconds.
    pub durations_ms: BTreeMap<String, u64>,
    pub warnings: Vec<String>,
    /// Why the run failed, or what interrupted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Manifest {
    pub fn new(
        job: impl Into<String>,
        run_id: impl Into<String>,
        range: DateRange,
        started_at: DateTime<Utc>,
    ) -> Self {
        Manifest {
            job: job.into(),
            run_id: run_id.into(),
            range: range.into(),
            started_at,
            finished_at: None,
            status: RunStatus::Running,
            calls: BTreeMap::new(),
            retries: BTreeMap::new(),
            quota_errors: 0,
            quota_blocks: 0,
            rows: BTreeMap::new(),
            files: Vec::new(),
            delta: Vec::new(),
            gaps: Vec::new(),
            durations_ms: BTreeMap::new(),
            warnings: Vec::new(),
            error: None,
        }
    }

    /// Adds a client's counters (several clients add up).
    pub(crate) fn add_call_stats(&mut self, stats: &CallStats) {
        for (endpoint, n) in &stats.calls {
            *self.calls.entry((*endpoint).to_owned()).or_default() += n;
        }
        for (endpoint, n) in &stats.retries {
            *self.retries.entry((*endpoint).to_owned()).or_default() += n;
        }
        self.quota_errors += stats.quota_errors;
        self.quota_blocks += stats.quota_blocks;
    }

    pub fn add_rows(&mut self, table: &str, rows: u64) {
        *self.rows.entry(table.to_owned()).or_default() += rows;
    }

    pub fn add_files(&mut self, files: impl IntoIterator<Item = WrittenFile>) {
        self.files.extend(files);
    }

    pub fn add_duration(&mut self, stage: &str, elapsed: std::time::Duration) {
        *self.durations_ms.entry(stage.to_owned()).or_default() += elapsed.as_millis() as u64;
    }

    /// Sets `finished_at` and the status (`FinishedWithGaps` when gaps were recorded and the
    /// run otherwise succeeded).
    pub fn finish(&mut self, finished_at: DateTime<Utc>, succeeded: bool) {
        self.finished_at = Some(finished_at);
        self.status = match (succeeded, self.gaps.is_empty()) {
            (false, _) => RunStatus::Failed,
            (true, true) => RunStatus::Succeeded,
            (true, false) => RunStatus::FinishedWithGaps,
        };
    }

    /// Ends the run as failed with `error`.
    pub(crate) fn fail(&mut self, finished_at: DateTime<Utc>, error: String) {
        self.finished_at = Some(finished_at);
        self.status = RunStatus::Failed;
        self.error = Some(error);
    }

    /// Ends the run as interrupted (by a signal: `why` says which).
    pub(crate) fn interrupt(&mut self, finished_at: DateTime<Utc>, why: String) {
        self.finished_at = Some(finished_at);
        self.status = RunStatus::Interrupted;
        self.error = Some(why);
    }
}

/// Writes `<out>/runs/<run_id>.json` (through a temporary name). Query-string credentials
/// (`access_token=`, `corpsecret=` …) and every literal occurrence of `secrets` are replaced by
/// `[redacted]` wherever they appear. Returns the file (its `rows` is 0).
pub fn write_manifest(
    out: &OutputDir,
    manifest: &Manifest,
    secrets: &[&Secret],
) -> Result<WrittenFile, SinkError> {
    let file_name = format!("{}.json", manifest.run_id);
    check_component(&file_name)?;
    let dir = out.runs_dir();
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let final_path = dir.join(file_name);
    let json_err = |source| SinkError::Json {
        path: final_path.clone(),
        source,
    };
    let mut value = serde_json::to_value(manifest).map_err(json_err)?;
    scrub(&mut value, secrets);
    let text = serde_json::to_string_pretty(&value).map_err(json_err)?;

    let temp = temp_path_for(&final_path);
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    };
    if let Err(source) = write() {
        let _ = fs::remove_file(&temp);
        return Err(SinkError::Io { path: temp, source });
    }
    let bytes = commit_file(out, &temp, &final_path, "manifest")?;
    Ok(WrittenFile {
        path: out.relative(&final_path),
        format: "json".to_owned(),
        rows: 0,
        bytes,
    })
}

/// Scrubs every string (and key) of the JSON tree, so the structure stays valid whatever the
/// secret's characters.
fn scrub(value: &mut serde_json::Value, secrets: &[&Secret]) {
    use serde_json::Value;
    match value {
        Value::String(text) => *text = scrub_text(text, secrets),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(item, secrets)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                scrub(&mut item, secrets);
                map.insert(scrub_text(&key, secrets), item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn scrub_text(text: &str, secrets: &[&Secret]) -> String {
    let mut text = redact(text);
    for secret in secrets {
        if !secret.is_empty() {
            text = text.replace(secret.expose(), "[redacted]");
        }
    }
    text
}
