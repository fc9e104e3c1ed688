//! `wecom-journal run`, `rebuild` and `demo`: load the jobs, hand them to the pipeline
//! ([`crate::pipeline`]), print what it returns and choose the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::load::{load_job, Files};
use super::{exit, report, RunArgs};
use crate::job::{self, DateRange, Job, LoadOptions};
use crate::pipeline::{self, RunOptions, RunSummary};
use crate::sink::RunStatus;
use crate::store::store_path;

/// The demo's job, compiled in so `demo` works from any directory.
const DEMO_JOB: &str = include_str!("../../jobs/monthly-compliance.toml");
const DEMO_JOB_PATH: &str = "jobs/monthly-compliance.toml";

pub fn run(args: RunArgs) -> u8 {
    let mut worst = exit::OK;
    for job_path in &args.jobs {
        let load = LoadOptions {
            sandbox: args.sandbox,
            ..Default::default()
        };
        let code = match load_job(job_path, &load, Files::Check) {
            Ok(job) => match run_options(&job, &args) {
                Ok(opts) => run_and_report(job, &opts).0,
                Err(code) => code,
            },
            Err(code) => code,
        };
        worst = worse(worst, code);
    }
    worst
}

pub fn rebuild(job_path: &Path, output: Option<PathBuf>) -> u8 {
    // No API call: the credentials need not be set.
    let load = LoadOptions {
        skip_credentials: true,
        ..Default::default()
    };
    let job = match load_job(job_path, &load, Files::Check) {
        Ok(job) => job,
        Err(code) => return code,
    };
    let range = job.resolve_range(job.today());
    let out_root = output.unwrap_or_else(|| job.output.dir.clone());
    match pipeline::rebuild(&job, range, &out_root) {
        Ok(rebuilt) => {
            println!(
                "rebuilt {} from its store; manifest {}",
                job.name,
                rebuilt.manifest_path.display()
            );
            exit::OK
        }
        Err(e) => {
            report::error(&e.context(format!("rebuild {} failed", job.name)));
            exit::FAILED
        }
    }
}

pub fn demo(output: Option<PathBuf>) -> u8 {
    let load = LoadOptions {
        sandbox: true,
        ..Default::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let job = match job::parse(DEMO_JOB, Path::new(DEMO_JOB_PATH), &env, &load) {
        Ok(job) => job,
        Err(e) => {
            report::error(&e.into());
            return exit::FAILED;
        }
    };
    let mut opts = RunOptions::of(&job);
    opts.sandbox = true;
    opts.progress = std::io::stderr().is_terminal();
    if let Some(dir) = output {
        opts.output_dir = dir;
    }
    let (code, summary) = run_and_report(job, &opts);
    if code == exit::OK || code == exit::GAPS {
        println!();
        println!(
            "The demo ran the monthly compliance job against the built-in simulator. Its files:"
        );
        let out = &summary.output_dir;
        for f in summary
            .files()
            .iter()
            .filter(|f| f.format == "xlsx" || f.path.starts_with("reports/"))
        {
            println!("  {}  ({} rows)", out.join(&f.path).display(), f.rows);
        }
        println!(
            "  {}/tables/…  (every table, Hive-partitioned by report_month)",
            out.display()
        );
        if let Some(m) = &summary.manifest_path {
            println!("  {}  (the run manifest)", m.display());
        }
        println!(
            "  {}  (the raw responses: `wecom-journal rebuild` works offline from it)",
            store_path(out).display()
        );
    }
    code
}

/// How `run` runs a job: its range (or `--start`/`--end`), its output dir (or `--output`).
fn run_options(job: &Job, args: &RunArgs) -> Result<RunOptions, u8> {
    let mut opts = RunOptions::of(job);
    if let (Some(start), Some(end)) = (&args.start, &args.end) {
        opts.range = DateRange::parse(start, end).map_err(|e| {
            report::error(&anyhow!("--start/--end: {e}"));
            exit::USAGE
        })?;
    }
    if let Some(dir) = &args.output {
        opts.output_dir = dir.clone();
    }
    opts.sandbox = args.sandbox;
    opts.full_refresh = args.full_refresh;
    opts.progress = std::io::stderr().is_terminal();
    Ok(opts)
}

/// Runs one job and says how it went: its errors, its gaps, then (unless it failed) one line
/// on standard output. Gives the exit code and the summary.
fn run_and_report(job: Job, opts: &RunOptions) -> (u8, RunSummary) {
    let name = job.name.clone();
    let mut summary = pipeline::run_job(job, opts);
    if let Some(e) = summary.error.take() {
        report::error(&e.context(format!("run {name} failed")));
    }
    if let Some(e) = summary.manifest_error.take() {
        report::error(&e);
    }
    if let Some(e) = summary.store_warning.take() {
        report::warning(&e);
    }
    report::gaps(&summary.manifest.gaps);
    let code = match summary.status() {
        RunStatus::Failed | RunStatus::Running => exit::FAILED,
        RunStatus::FinishedWithGaps => exit::GAPS,
        RunStatus::Succeeded => exit::OK,
    };
    if code != exit::FAILED {
        println!("{}", summary_line(&name, opts, &summary));
    }
    (code, summary)
}

/// `<job>: <range> done → <n> files (<rows> rows) in <dir>; manifest <path>`.
fn summary_line(job: &str, opts: &RunOptions, summary: &RunSummary) -> String {
    let done = match summary.status() {
        RunStatus::FinishedWithGaps => "finished with gaps",
        _ => "done",
    };
    let manifest = summary
        .manifest_path
        .as_ref()
        .map(|p| format!("; manifest {}", p.display()))
        .unwrap_or_default();
    format!(
        "{job}: {} {done} → {} files ({} rows) in {}{manifest}",
        opts.range,
        summary.files().len(),
        summary.rows(),
        opts.output_dir.display(),
    )
}

/// Exit codes in order of severity: a failure outranks bad usage, which outranks gaps.
fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::FAILED => 3,
        exit::USAGE => 2,
        exit::GAPS => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}
