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
use chrono::Utc;

use crate::extract::ExtractOptions;
use crate::job::{DateRange, Job};
use crate::sink::{self, Manifest, OutputDir, RunStatus, WrittenFile};
use crate::store::{store_path, Store};

pub(crate) mod check;
mod diagnostic;
mod extract;
mod manifest;
mod outputs;
mod plan;
mod preflight;
mod workbook;

pub use diagnostic::{Diagnostic, PipelineError};
pub(crate) use extract::start_sandbox;
pub use extract::{client_for, extract, Extracted};
pub(crate) use manifest::{record_extract, record_outputs, run_id};
pub use outputs::{build_outputs, OutputDurations, OutputsFailed, OutputsSummary};
pub use plan::{plan, PlannedJob};
pub use preflight::preflight;
pub use workbook::{report_sheet_kind, summary_items, workbook_file_name};

/// How to run a job.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The local dates to extract and report.
    pub range: DateRange,
    /// Where the store, the outputs and the manifests go.
    pub output_dir: PathBuf,
    /// Extract from a simulator started in-process instead of the job's API.
    pub sandbox: bool,
    /// Ignore what the store holds and fetch everything again.
    pub full_refresh: bool,
    /// Progress bars (for a terminal) rather than log lines.
    pub progress: bool,
}

impl RunOptions {
    /// The job's own range (resolved today) and output directory, no sandbox, no bars.
    pub fn of(job: &Job) -> RunOptions {
        RunOptions {
            range: job.resolve_range(job.today()),
            output_dir: job.output.dir.clone(),
            sandbox: false,
            full_refresh: false,
            progress: false,
        }
    }
}

/// What a run came to.
#[derive(Debug)]
pub struct RunSummary {
    pub output_dir: PathBuf,
    /// As written to `runs/<run_id>.json`: status, calls, rows, files, gaps, durations.
    pub manifest: Manifest,
    /// Where the manifest was written, unless that failed (`manifest_error`).
    pub manifest_path: Option<PathBuf>,
    /// Why the run failed (its status is then `Failed`).
    pub error: Option<anyhow::Error>,
    /// Why the manifest could not be written.
    pub manifest_error: Option<anyhow::Error>,
    /// Why the run could not be recorded in the store (its outputs are written).
    pub store_warning: Option<anyhow::Error>,
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

/// Runs one job: extract (against the job's API, or an in-process simulator with
/// `opts.sandbox`), then the outputs, then the manifest and the run's record in the store.
pub fn run_job(mut job: Job, opts: &RunOptions) -> RunSummary {
    let started = Utc::now();
    let run_id = run_id(&job.name, started);
    let mut manifest = Manifest::new(&job.name, &run_id, opts.range, started);
    tracing::info!(job = %job.name, range = %opts.range, run_id = %run_id, "run started");
    let extract_opts = ExtractOptions {
        full_refresh: opts.full_refresh,
        progress: opts.progress,
        now: started,
        run_id: run_id.clone(),
    };
    let stored = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| {
            runtime.block_on(extract_stage(&mut job, opts, &extract_opts, &mut manifest))
        });
    let outputs = stored.and_then(|(store, out)| {
        let built = build_outputs(&job, opts.range, &run_id, &store, &out);
        record_outputs(
            &mut manifest,
            match &built {
                Ok(written) => written,
                Err(failed) => &failed.written,
            },
        );
        built.map(|_| store).map_err(|failed| failed.error)
    });
    if let Err(e) = &outputs {
        manifest
            .warnings
            .push(format!("failed: {}", Diagnostic::of(e).one_line()));
    }
    manifest.finish(Utc::now(), outputs.is_ok());
    let (manifest_path, manifest_error) = match write_manifest(&job, &opts.output_dir, &manifest) {
        Ok(path) => (Some(path), None),
        Err(e) => (None, Some(e)),
    };
    let (store_warning, error) = match outputs {
        Ok(store) => (record_run(&store, &run_id, &manifest).err(), None),
        Err(e) => (None, Some(e)),
    };
    RunSummary {
        output_dir: opts.output_dir.clone(),
        manifest,
        manifest_path,
        error,
        manifest_error,
        store_warning,
    }
}

/// Opens the store and extracts into it, recording the calls, the time and the gaps in the
/// manifest. With a sandbox, the simulator serves until the extraction is over.
async fn extract_stage(
    job: &mut Job,
    opts: &RunOptions,
    extract_opts: &ExtractOptions,
    manifest: &mut Manifest,
) -> Result<(Store, OutputDir)> {
    let _sim = if opts.sandbox {
        Some(start_sandbox(job, opts.range).await?)
    } else {
        None
    };
    let path = store_path(&opts.output_dir);
    let store =
        Store::open(&path).with_context(|| format!("opening the store {}", path.display()))?;
    let out = OutputDir::new(&opts.output_dir)?;
    let client = client_for(job)?;
    let extracted = extract(job, opts.range, &client, &store, extract_opts).await;
    record_extract(manifest, &extracted);
    extracted.result?;
    Ok((store, out))
}

/// Writes the manifest into `<output_dir>/runs/`, scrubbed of the job's secret.
fn write_manifest(job: &Job, output_dir: &Path, manifest: &Manifest) -> Result<PathBuf> {
    let out = OutputDir::new(output_dir)?;
    let file = sink::write_manifest(&out, manifest, &[&job.source.secret])
        .context("writing the manifest")?;
    Ok(out.root().join(file.path))
}

/// Records the finished run in the store: what the next run resumes from and the plan reads.
fn record_run(store: &Store, run_id: &str, manifest: &Manifest) -> Result<()> {
    let status = match manifest.status {
        RunStatus::FinishedWithGaps => "finished_with_gaps",
        _ => "succeeded",
    };
    let json = serde_json::to_string(manifest).unwrap_or_default();
    store
        .finish_run(run_id, status, Utc::now().timestamp(), Some(&json))
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
    let started = Utc::now();
    let path = store_path(output_dir);
    if !path.exists() {
        return Err(PipelineError::NoStore { path }.into());
    }
    let store = Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let out = OutputDir::new(output_dir)?;
    let run_id = run_id(&job.name, started);
    let mut manifest = Manifest::new(&job.name, &run_id, range, started);
    let written = build_outputs(job, range, &run_id, &store, &out).map_err(|f| f.error)?;
    record_outputs(&mut manifest, &written);
    manifest.finish(Utc::now(), true);
    let manifest_path = write_manifest(job, output_dir, &manifest)?;
    Ok(RebuildSummary {
        manifest,
        manifest_path,
    })
}
