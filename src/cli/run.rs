//! `wecom-journal run`, `rebuild` and `demo`: load the jobs, hand them to the pipeline
//! ([`crate::pipeline`]), print what it returns and choose the exit code.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use chrono::{DateTime, Utc};

use super::load::{load_job, Files};
use super::out::outln;
use super::{exit, report, RunArgs};
use crate::extract::{QuotaCarry, Stop};
use crate::job::{self, DateRange, Job, LoadOptions};
use crate::pipeline::{self, PipelineError, RunOptions, RunSummary};
use crate::sim::Gentle;
use crate::sink::RunStatus;

/// The demo's job, compiled in so `demo` works from any directory.
const DEMO_JOB: &str = include_str!("../../jobs/monthly-compliance.toml");
const DEMO_JOB_PATH: &str = "jobs/monthly-compliance.toml";

pub(crate) fn run(args: RunArgs) -> u8 {
    // One "now" for every job of the command.
    let now = match super::now_arg(args.now.as_deref()) {
        Ok(now) => now,
        Err(code) => return code,
    };
    let Some(stop) = signals() else {
        return exit::FAILED;
    };
    // One budget for the whole command: the jobs of one run share the corp's quotas.
    let quota = QuotaCarry::default();
    let mut worst = exit::OK;
    for job_path in &args.jobs {
        let load = LoadOptions {
            sandbox: args.sandbox,
            ..Default::default()
        };
        let code = match load_job(job_path, &load, Files::Check) {
            Ok(job) => match run_options(&job, &args, now, &stop, &quota) {
                Ok(opts) => run_and_report(job, &opts).0,
                Err(code) => code,
            },
            Err(code) => code,
        };
        if let Some(signal) = stop.signal() {
            // Interrupted: the jobs after this one are not started.
            return exit::of_signal(signal);
        }
        worst = worse(worst, code);
    }
    worst
}

/// SIGTERM and SIGINT as the run's stop switch (`None`, said, if they cannot be listened to).
fn signals() -> Option<Stop> {
    match pipeline::stop_on_signals() {
        Ok(stop) => Some(stop),
        Err(e) => {
            report::error(&anyhow!(e).context("listening for SIGTERM and SIGINT"));
            None
        }
    }
}

pub(crate) fn rebuild(job_path: &Path, output: Option<PathBuf>, now: Option<&str>) -> u8 {
    let now = match super::now_arg(now) {
        Ok(now) => now,
        Err(code) => return code,
    };
    // No API call: the credentials need not be set.
    let load = LoadOptions {
        skip_credentials: true,
        ..Default::default()
    };
    let job = match load_job(job_path, &load, Files::Check) {
        Ok(job) => job,
        Err(code) => return code,
    };
    let range = job.resolve_range(job.today_at(now));
    let out_root = output.unwrap_or_else(|| job.output.dir.clone());
    match pipeline::rebuild(&job, range, &out_root) {
        Ok(rebuilt) => {
            report::gaps(&rebuilt.manifest.gaps);
            outln!(
                "rebuilt {} from its store; manifest {}",
                job.name,
                rebuilt.manifest_path.display()
            );
            if rebuilt.manifest.gaps.is_empty() {
                exit::OK
            } else {
                exit::GAPS
            }
        }
        Err(e) => {
            let locked = matches!(
                e.downcast_ref::<PipelineError>(),
                Some(PipelineError::Locked { .. })
            );
            report::error(&e.context(format!("rebuild {} failed", job.name)));
            if locked {
                exit::LOCKED
            } else {
                exit::FAILED
            }
        }
    }
}

pub(crate) fn demo(output: Option<PathBuf>) -> u8 {
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
    opts.sandbox_gentle = match sandbox_gentle() {
        Ok(g) => g,
        Err(code) => return code,
    };
    opts.progress = super::logging::progress_bars();
    let Some(stop) = signals() else {
        return exit::FAILED;
    };
    opts.stop = stop;
    if let Some(dir) = output {
        opts.output_dir = dir;
    }
    let store = pipeline::store_file(&job, &opts.output_dir);
    let (code, summary) = run_and_report(job, &opts);
    let Some(summary) = summary else {
        return code;
    };
    if code == exit::OK || code == exit::GAPS {
        outln!();
        outln!(
            "The demo ran the monthly compliance job against the built-in simulator. Its files:"
        );
        let out = &summary.output_dir;
        for f in summary.files().iter().filter(|f| {
            f.format == "xlsx" || f.path.starts_with("reports/") || f.path.contains("/reports/")
        }) {
            outln!("  {}  ({} rows)", out.join(&f.path).display(), f.rows);
        }
        outln!(
            "  {}/tables/…  (every table, Hive-partitioned by report_month)",
            out.display()
        );
        if let Some(m) = &summary.manifest_path {
            outln!("  {}  (the run manifest)", m.display());
        }
        outln!(
            "  {}  (the raw responses: `wecom-journal rebuild` works offline from it)",
            store.display()
        );
    }
    code
}

/// How `run` runs a job: its range as at `now` (or `--start`/`--end`), its output dir (or
/// `--output`).
fn run_options(
    job: &Job,
    args: &RunArgs,
    now: DateTime<Utc>,
    stop: &Stop,
    quota: &QuotaCarry,
) -> Result<RunOptions, u8> {
    let mut opts = RunOptions::at(job, now);
    opts.stop = stop.clone();
    opts.quota = quota.clone();
    opts.wait = args.wait;
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
    if args.sandbox {
        opts.sandbox_gentle = sandbox_gentle()?;
    }
    opts.full_refresh = args.full_refresh;
    opts.progress = super::logging::progress_bars();
    Ok(opts)
}

/// The real behaviours the sandbox simulator spares a run, from [`crate::sim::GENTLE_ENV`]: a seam for
/// the pipeline's tests, gentler than WeCom.
fn sandbox_gentle() -> Result<Gentle, u8> {
    Gentle::from_env().map_err(|e| {
        report::error(&anyhow!("{e}"));
        exit::USAGE
    })
}

/// Runs one job and says how it went: its errors, its gaps, then (unless it failed) one line
/// on standard output. Gives the exit code and the summary (none if the run never started).
fn run_and_report(job: Job, opts: &RunOptions) -> (u8, Option<RunSummary>) {
    let name = job.name.clone();
    let mut summary = match pipeline::run_job(job, opts) {
        Ok(summary) => summary,
        Err(e) => {
            let code = match &e {
                PipelineError::Locked { .. } => exit::LOCKED,
                PipelineError::InterruptedWaiting { signal } => exit::of_signal(*signal),
                _ => exit::FAILED,
            };
            report::error(&anyhow::Error::from(e).context(format!("run {name} not started")));
            return (code, None);
        }
    };
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
    let finished = matches!(
        summary.status(),
        RunStatus::Succeeded | RunStatus::FinishedWithGaps
    );
    if finished && summary.manifest.rows.get("journals").copied().unwrap_or(0) == 0 {
        // A run with nothing to export is more often a mistake (the range's year, a filter,
        // the app's scope) than a quiet month: said, and the run still succeeds.
        report::warning(&anyhow!(
            "run {name}: no journal listed in {} (nor in the months it touches); check the \
             range, the filters and the app's visibility scope (`wecom-journal check JOB`)",
            opts.range
        ));
    }
    let code = match (summary.status(), summary.stopped_by) {
        (RunStatus::Interrupted, Some(signal)) => exit::of_signal(signal),
        (RunStatus::FinishedWithGaps, _) => exit::GAPS,
        (RunStatus::Succeeded, _) => exit::OK,
        (
            RunStatus::Failed | RunStatus::Running | RunStatus::Interrupted | RunStatus::Superseded,
            _,
        ) => exit::FAILED,
    };
    if code == exit::OK || code == exit::GAPS {
        outln!("{}", summary_line(&name, opts, &summary));
    }
    (code, Some(summary))
}

/// `<job>: <range> done → <n> files (<rows> rows in <t> tables) in <dir>; manifest <path>`:
/// the rows each table (or report) holds, once whatever the number of formats it is written in.
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
    let rows: u64 = summary.manifest.rows.values().sum();
    format!(
        "{job}: {} {done} → {} ({} in {}) in {}{manifest}",
        opts.range,
        counted(summary.files().len() as u64, "file"),
        counted(rows, "row"),
        counted(summary.manifest.rows.len() as u64, "table"),
        opts.output_dir.display(),
    )
}

/// `1 file`, `2 files`.
fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Exit codes in order of severity: a failure outranks bad usage, which outranks a job not
/// started for its lock, which outranks gaps.
fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::FAILED => 4,
        exit::USAGE => 3,
        exit::LOCKED => 2,
        exit::GAPS => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_pluralised() {
        assert_eq!(super::counted(0, "row"), "0 rows");
        assert_eq!(super::counted(1, "row"), "1 row");
        assert_eq!(super::counted(2, "file"), "2 files");
    }
}
