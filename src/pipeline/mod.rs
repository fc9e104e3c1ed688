//! The pipeline as a library, in dlt's words extract, normalize, load: [`extract()`] fills the
//! store through the WeCom client; [`build_outputs`] reads the store alone and flattens,
//! reports and writes; [`run_job`] does both and the run's manifest; [`rebuild`] is
//! [`build_outputs`] and the manifest without [`extract()`], by construction. See
//! `docs/architecture.md` for the stages and who calls whom.
//!
//! Owns the decisions that belong to no one stage: which months a run owns, the decode
//! thread, which wedrive paths reach flatten, the wide sheets' names and cap, report and
//! workbook file names, the sandbox simulator, the run id and the manifest. It prints nothing
//! and decides no exit code: it returns typed summaries, and errors with their context and
//! hints ([`Diagnostic`]), for the cli (or a test, a bench, another program) to present.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::extract::{ExtractError, ExtractOptions, QuotaCarry, Stop, StopSignal};
use crate::job::{is_object_storage, DateRange, Job};
use crate::sink::{self, Manifest, OutputDir, OutputRoot, RunStatus, WrittenFile};
use crate::store::{store_path, RunEnd, Store};
use crate::wecom::ClientConfig;

pub(crate) mod check;
mod diagnostic;
mod extract;
mod lock;
mod manifest;
mod outputs;
mod plan;
mod preflight;
mod signals;
mod templates;
mod workbook;

pub(crate) use diagnostic::{Diagnostic, PipelineError};
pub(crate) use extract::start_sandbox;
pub(crate) use extract::{client_for, extract};
pub use lock::{LockHolder, RunLock, LOCK_FILE};
pub(crate) use manifest::{record_extract, record_outputs, run_id};
pub use outputs::{build_outputs, OutputDurations, OutputsFailed, OutputsSummary};
pub(crate) use plan::plan;
pub(crate) use preflight::preflight;
pub(crate) use signals::stop_on_signals;
pub use workbook::{report_sheet_name, workbook_file_name};

/// How to run a job.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The local dates to extract and report.
    pub range: DateRange,
    /// Where the store, the outputs and the manifests go.
    pub output_dir: PathBuf,
    /// Extract from a simulator started in-process instead of the job's API.
    pub sandbox: bool,
    /// Real behaviours that simulator spares the run: for tests of the pipeline only, until it
    /// copes with them (see [`crate::sim::Gentle`]).
    pub sandbox_gentle: crate::sim::Gentle,
    /// Ignore what the store holds and fetch everything again.
    pub full_refresh: bool,
    /// Progress bars (for a terminal) rather than log lines.
    pub progress: bool,
    /// The run's "now": what relative ranges resolve from, what decides whether a window is
    /// closed and a detail or a stat cycle may still change, and the clock of a sandbox's
    /// simulator. The real clock unless a scheduler replays a logical date (`run --now`).
    pub now: DateTime<Utc>,
    /// When another run holds the output directory, wait for it rather than refuse.
    pub wait: bool,
    /// Thrown by SIGTERM / SIGINT ([`stop_on_signals`]) or by the caller: the run stops taking
    /// work, lets its calls in flight finish and ends `interrupted`.
    pub stop: Stop,
    /// What this process spent of the quotas in earlier jobs: give every job of one process
    /// the same (clones share it).
    pub quota: QuotaCarry,
    /// Adjusts the client the job's `[source]` configures (tests: short timeouts, a scaled
    /// quota minute).
    pub tune_client: Option<fn(&mut ClientConfig)>,
}

impl RunOptions {
    /// The job's own range (resolved today) and output directory, no sandbox, no bars, no
    /// waiting for the lock.
    pub fn of(job: &Job) -> RunOptions {
        RunOptions::at(job, Utc::now())
    }

    /// [`RunOptions::of`] as at `now`: the range resolved from `now`'s local date.
    pub fn at(job: &Job, now: DateTime<Utc>) -> RunOptions {
        RunOptions {
            range: job.resolve_range(job.today_at(now)),
            output_dir: job.output.dir.clone(),
            sandbox: false,
            sandbox_gentle: crate::sim::Gentle::default(),
            full_refresh: false,
            progress: false,
            now,
            wait: false,
            stop: Stop::new(),
            quota: QuotaCarry::default(),
            tune_client: None,
        }
    }
}

/// What a run came to.
#[derive(Debug)]
pub struct RunSummary {
    pub(crate) output_dir: PathBuf,
    /// As written to `runs/<run_id>.json`: status, calls, rows, files, gaps, durations.
    pub manifest: Manifest,
    /// Where the manifest was written, unless that failed (`manifest_error`).
    pub manifest_path: Option<PathBuf>,
    /// Why the run failed (its status is then `Failed`).
    pub error: Option<anyhow::Error>,
    /// Why the manifest could not be written (the run's status is then `Failed`).
    pub manifest_error: Option<anyhow::Error>,
    /// Why the run could not be recorded in the store (its outputs are written).
    pub store_warning: Option<anyhow::Error>,
    /// The signal that interrupted the run (its status is then `Interrupted`).
    pub(crate) stopped_by: Option<StopSignal>,
}

impl RunSummary {
    pub fn status(&self) -> RunStatus {
        self.manifest.status
    }

    /// The data files written (the manifest aside).
    pub fn files(&self) -> &[WrittenFile] {
        &self.manifest.files
    }

    /// Rows over every file written.
    pub fn rows(&self) -> u64 {
        self.manifest.files.iter().map(|f| f.rows).sum()
    }
}

/// This process as the holder of a run of `job` starting now (its id is its start time).
fn this_run(job: &str) -> LockHolder {
    let started = Utc::now();
    LockHolder::this_process(job, &run_id(job, started), started)
}

/// Runs one job: takes the output directory's lock (or refuses: [`PipelineError::Locked`];
/// with `opts.wait`, waits), removes what killed runs left half-written, extracts (against the
/// job's API, or an in-process simulator with `opts.sandbox`), writes the outputs, then the
/// manifest and the run's record in the store, whatever became of the run (failed and
/// interrupted runs included).
pub fn run_job(mut job: Job, opts: &RunOptions) -> Result<RunSummary, PipelineError> {
    let lock = RunLock::acquire(
        &lock_dir(&job, &opts.output_dir),
        || this_run(&job.name),
        opts.wait,
        &opts.stop,
    )?;
    let (started, run_id) = (lock.holder.started_at, lock.holder.run_id.clone());
    let mut manifest = Manifest::new(&job.name, &run_id, opts.range, started);
    tracing::info!(job = %job.name, range = %opts.range, run_id = %run_id, "run started");
    remove_leftovers(&local_root(&job, &opts.output_dir), &mut manifest);
    let extract_opts = ExtractOptions {
        full_refresh: opts.full_refresh,
        progress: opts.progress,
        now: opts.now,
        run_id: run_id.clone(),
        stop: opts.stop.clone(),
        quota: opts.quota.clone(),
    };
    let mut store = None;
    let stored = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| {
            runtime.block_on(extract_stage(
                &mut job,
                opts,
                &extract_opts,
                &mut manifest,
                &mut store,
            ))
        });
    let outputs = stored.and_then(|(out, touched)| {
        let store = store.as_ref().expect("a store once extracted");
        let owned = touched.unwrap_or(opts.range);
        let built =
            outputs::build_outputs_until(&job, opts.range, owned, &run_id, store, &out, &opts.stop);
        record_outputs(
            &mut manifest,
            match &built {
                Ok(written) => written,
                Err(failed) => &failed.written,
            },
        );
        built.map(|_| ()).map_err(|failed| failed.error)
    });
    finish(&job, opts, manifest, store.as_ref(), outputs)
}

/// Ends a run: its status from how it went, the manifest written, the run recorded in the
/// store (if it was opened).
fn finish(
    job: &Job,
    opts: &RunOptions,
    mut manifest: Manifest,
    store: Option<&Store>,
    outcome: Result<()>,
) -> Result<RunSummary, PipelineError> {
    let now = Utc::now();
    let stopped_by = match &outcome {
        Err(e) => interrupted_by(e),
        Ok(()) => None,
    };
    let mut error = None;
    match (outcome, stopped_by) {
        (Err(_), Some(signal)) => {
            tracing::warn!("run interrupted by {signal}: the next run resumes it");
            manifest.interrupt(now, format!("interrupted by {signal}"));
        }
        (Err(e), None) => {
            let line = Diagnostic::of(&e).one_line();
            manifest.warnings.push(format!("failed: {line}"));
            manifest.fail(now, line);
            error = Some(e);
        }
        (Ok(()), _) => manifest.finish(now, true),
    }
    let (manifest_path, manifest_error) = match write_manifest(job, &opts.output_dir, &manifest) {
        Ok(path) => (Some(path), None),
        Err(e) => {
            // The run's record must say it: a run whose manifest is missing did not succeed.
            if error.is_none() && stopped_by.is_none() {
                manifest.fail(now, Diagnostic::of(&e).one_line());
            }
            (None, Some(e))
        }
    };
    let store_warning = store.and_then(|store| record_run(store, &manifest).err());
    Ok(RunSummary {
        output_dir: opts.output_dir.clone(),
        manifest,
        manifest_path,
        error,
        manifest_error,
        store_warning,
        stopped_by,
    })
}

/// The signal an error says interrupted the run, if one did.
fn interrupted_by(err: &anyhow::Error) -> Option<StopSignal> {
    err.chain().find_map(|cause| {
        if let Some(ExtractError::Interrupted(signal)) = cause.downcast_ref::<ExtractError>() {
            return Some(*signal);
        }
        match cause.downcast_ref::<PipelineError>() {
            Some(PipelineError::Interrupted { signal }) => Some(*signal),
            _ => None,
        }
    })
}

/// Removes the temporary files that runs killed while writing left under the output
/// directory (its trees only; for object storage, the staging directory's); only the holder
/// of its lock may. A failure is a warning.
fn remove_leftovers(output_dir: &Path, manifest: &mut Manifest) {
    let out = match OutputDir::new(output_dir) {
        Ok(out) => out,
        Err(_) => return, // The run says why when it writes there.
    };
    let trees = [outputs::REPORTS_DIR, crate::extract::wedrive::FILES_DIR];
    let found = match sink::leftover_temp_files(&out, &trees) {
        Ok(found) => found,
        Err(e) => {
            manifest
                .warnings
                .push(format!("looking for temporary files of killed runs: {e}"));
            return;
        }
    };
    let mut removed = 0;
    for path in &found {
        match std::fs::remove_file(path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => manifest
                .warnings
                .push(format!("removing {}: {e}", path.display())),
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed the temporary files of earlier runs killed while writing"
        );
    }
}

/// Opens the store and extracts into it, recording the calls, the time and the gaps in the
/// manifest; gives the dates outside the range that it re-read (their partitions are
/// rewritten). With a sandbox, the simulator serves until the extraction is over. The store is
/// handed back through `store` as soon as it is open, so that a failed run is recorded too.
async fn extract_stage(
    job: &mut Job,
    opts: &RunOptions,
    extract_opts: &ExtractOptions,
    manifest: &mut Manifest,
    store: &mut Option<Store>,
) -> Result<(OutputDir, Option<DateRange>)> {
    let _sim = if opts.sandbox {
        Some(start_sandbox(job, opts.range, opts.sandbox_gentle).await?)
    } else {
        None
    };
    let path = store_file(job, &opts.output_dir);
    let opened =
        Store::open(&path).with_context(|| format!("opening the store {}", path.display()))?;
    let store = &*store.insert(opened);
    let out = open_output(job, &opts.output_dir)?;
    let client = client_for(job, opts.tune_client)?;
    let extracted = extract(job, opts.range, &client, store, extract_opts).await;
    record_extract(manifest, &extracted);
    let summary = extracted.result?;
    Ok((out, summary.touched))
}

/// Writes the manifest into `<output_dir>/runs/`, scrubbed of the job's secret. Returns
/// where it is (for object storage, its `s3://` URL).
fn write_manifest(job: &Job, output_dir: &Path, manifest: &Manifest) -> Result<PathBuf> {
    let out = open_output(job, output_dir)?;
    let file = sink::write_manifest(&out, manifest, &[&job.source.secret])
        .context("writing the manifest")?;
    Ok(match out.target().local_dir() {
        Some(dir) => dir.join(&file.path),
        None => PathBuf::from(out.target().url_of(&file.path)?.to_string()),
    })
}

/// The job's SQLite store: `store.path` when the job gives it; else `store.sqlite` in a local
/// output directory, or `.wecom-journal/<job>/store.sqlite` (under the current directory)
/// for object storage, which cannot hold a SQLite file (no locks, no fsync, no rename).
pub(crate) fn store_file(job: &Job, output_dir: &Path) -> PathBuf {
    if let Some(path) = &job.output.store_path {
        return path.clone();
    }
    if is_object_storage(output_dir) {
        return Path::new(".wecom-journal")
            .join(&job.name)
            .join(crate::store::STORE_FILE);
    }
    store_path(output_dir)
}

/// Where the run lock is: the output directory, or for object storage (which has no lock)
/// the store's directory, so that two runs of a job never share its store.
fn lock_dir(job: &Job, output_dir: &Path) -> PathBuf {
    if !is_object_storage(output_dir) {
        return output_dir.to_path_buf();
    }
    let store = store_file(job, output_dir);
    store.parent().unwrap_or(Path::new(".")).to_path_buf()
}

/// Where the sinks write files locally: the output directory, or for object storage the
/// staging directory beside the store, whose files are uploaded as they are finished.
fn local_root(job: &Job, output_dir: &Path) -> PathBuf {
    if !is_object_storage(output_dir) {
        return output_dir.to_path_buf();
    }
    lock_dir(job, output_dir).join("staging")
}

/// Where the outputs go: the local directory, or the object-storage root configured from the
/// job's `[output.storage]` and the `AWS_*` environment, its files staged beside the store.
fn open_output(job: &Job, output_dir: &Path) -> Result<OutputDir> {
    if !is_object_storage(output_dir) {
        return Ok(OutputDir::new(output_dir)?);
    }
    let location = output_dir.to_string_lossy();
    let root = OutputRoot::parse(&location, &job.output.storage)?;
    Ok(OutputDir::on(root, local_root(job, output_dir))?)
}

/// Records how the run ended in the store: what the next run resumes from and the plan reads.
fn record_run(store: &Store, manifest: &Manifest) -> Result<()> {
    let json = serde_json::to_string(manifest).unwrap_or_default();
    let finished_at = manifest
        .finished_at
        .map(|t: DateTime<Utc>| t.timestamp())
        .unwrap_or_else(|| Utc::now().timestamp());
    store
        .finish_run(
            &manifest.run_id,
            &RunEnd {
                status: manifest.status,
                finished_at,
                error: manifest.error.as_deref(),
                manifest: Some(&json),
            },
        )
        .context("recording the run in the store")
}

/// What a rebuild came to.
#[derive(Debug)]
pub struct RebuildSummary {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
}

/// Rebuilds the outputs of `range` of `job` from the store in `output_dir` alone, without any
/// API call: [`build_outputs`] and the manifest, as a run does after extracting.
pub fn rebuild(job: &Job, range: DateRange, output_dir: &Path) -> Result<RebuildSummary> {
    let path = store_file(job, output_dir);
    if !path.exists() {
        return Err(PipelineError::NoStore { path }.into());
    }
    // It writes the outputs a run writes: never while a run does.
    let lock = RunLock::acquire(
        &lock_dir(job, output_dir),
        || this_run(&job.name),
        false,
        &Stop::new(),
    )?;
    let (started, run_id) = (lock.holder.started_at, lock.holder.run_id.clone());
    let store = Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let out = open_output(job, output_dir)?;
    let mut manifest = Manifest::new(&job.name, &run_id, range, started);
    remove_leftovers(&local_root(job, output_dir), &mut manifest);
    let written = build_outputs(job, range, &run_id, &store, &out).map_err(|f| f.error)?;
    record_outputs(&mut manifest, &written);
    manifest.finish(Utc::now(), true);
    let manifest_path = write_manifest(job, output_dir, &manifest)?;
    Ok(RebuildSummary {
        manifest,
        manifest_path,
    })
}
