//! `wecom-journal plan JOB [--start D --end D] [--output DIR] [--format text|json]`: the job's windows, calls per
//! endpoint and ETA under its quotas. No network call, and credentials need not resolve (only
//! the job's shape matters). The history the estimate scales comes through the pipeline
//! ([`crate::pipeline::plan`]), from the job's store if an earlier run left one.

use std::path::{Path, PathBuf};

use super::load::{load_job, Files};
use super::out::{out, outln};
use super::{exit, report, PlanFormat};
use crate::job::{DateRange, LoadOptions};
use crate::pipeline;

pub(crate) fn plan(
    path: &Path,
    range: Option<(String, String)>,
    output: Option<PathBuf>,
    format: PlanFormat,
    now: Option<&str>,
) -> u8 {
    let now = match super::now_arg(now) {
        Ok(now) => now,
        Err(code) => return code,
    };
    let load = LoadOptions {
        skip_credentials: true,
        ..LoadOptions::default()
    };
    let job = match load_job(path, &load, Files::Skip) {
        Ok(job) => job,
        Err(code) => return code,
    };
    let range = match range {
        None => job.resolve_range(job.today_at(now)),
        Some((start, end)) => match DateRange::parse(&start, &end) {
            Ok(range) => range,
            Err(e) => {
                report::error(&anyhow::anyhow!("--start/--end: {e}"));
                return exit::USAGE;
            }
        },
    };
    let output_dir = output.as_deref().unwrap_or(&job.output.dir);
    let planned = pipeline::plan(&job, range, output_dir, now);
    if let Some(e) = &planned.store_unreadable {
        report::warning(e);
    }
    match format {
        PlanFormat::Text => out!("{}", planned.plan),
        PlanFormat::Json => match serde_json::to_string_pretty(&planned.plan) {
            Ok(json) => outln!("{json}"),
            Err(e) => {
                report::error(&anyhow::Error::from(e).context("encoding the plan as JSON"));
                return exit::FAILED;
            }
        },
    }
    exit::OK
}
