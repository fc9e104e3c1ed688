//! `check`: a preflight of one job against its corp, before the first `plan` and `run`. A
//! handful of cheap calls (at most 40, retries of transient failures aside: `gettoken`, a
//! record list a sampled day, a few details a day, stats of a few templates, the department
//! list and a user list a department, each bounded here) and a few local looks give
//! one [`CheckLine`] per check, passed or failed, each failure with what to change and where
//! (the admin console's path in Chinese and English comes from [`crate::wecom::errcode`]).
//!
//! The checks, in order: the job file and its `${VAR}`s; `gettoken` (corp id and secret);
//! the record list for the last day of the window; the templates of journals sampled over
//! the window; the stats of the job's templates (or those seen); the directory the app can
//! see (departments, users, main departments); whether the users who report are inside it;
//! whether `filters.departments` are; the job's quotas against the documented ones; the
//! output directory; the store's schema version. A check whose prerequisite failed is
//! [`Status::Skipped`], saying which.
//!
//! The window is the last 31 days (one record-list window) of the job's range that have
//! passed, or the 31 days before today when none has: what the job will meet.
//!
//! Owns only the preflight: it writes nothing but a probe file it removes at once, never
//! opens the store to write, and prints nothing (the cli does).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::job::{DateRange, Job};

mod api;
mod directory;
mod local;
#[cfg(test)]
mod tests;

/// Days of the window whose record list is read for the template sample (the last day, whose
/// answer is also the record-list check, among them).
pub(crate) const SAMPLE_DAYS: usize = 6;
/// Journals whose detail is read on each sampled day.
pub(crate) const DETAILS_PER_DAY: usize = 2;
/// Templates whose stats are read.
pub(crate) const MAX_STAT_TEMPLATES: usize = 5;
/// Departments whose members are listed (a corp with more is counted on the first ones).
pub(crate) const MAX_USER_LISTS: usize = 15;

/// The longest window: what one record-list call may span.
const WINDOW_DAYS: u64 = 31;

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CheckId {
    Job,
    Token,
    RecordList,
    Templates,
    Stats,
    Directory,
    Visibility,
    DepartmentFilter,
    Quotas,
    Output,
    Store,
}

impl CheckId {
    /// The check's name at the head of its line.
    pub(crate) fn label(self) -> &'static str {
        match self {
            CheckId::Job => "job file",
            CheckId::Token => "gettoken",
            CheckId::RecordList => "record list",
            CheckId::Templates => "templates",
            CheckId::Stats => "stats",
            CheckId::Directory => "directory",
            CheckId::Visibility => "visibility scope",
            CheckId::DepartmentFilter => "filters.departments",
            CheckId::Quotas => "quotas",
            CheckId::Output => "output",
            CheckId::Store => "store",
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Pass,
    Fail,
    /// Not run: a check it needs failed (the summary says which).
    Skipped,
}

/// One check's outcome: a line for people, the same fields for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckLine {
    pub(crate) check: CheckId,
    pub(crate) status: Status,
    /// What was found (never a credential).
    pub(crate) summary: String,
    /// What to change and where, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// The errcode WeCom answered, when that is what failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) errcode: Option<i64>,
}

impl CheckLine {
    pub(crate) fn pass(check: CheckId, summary: impl Into<String>) -> CheckLine {
        CheckLine {
            check,
            status: Status::Pass,
            summary: summary.into(),
            hint: None,
            errcode: None,
        }
    }

    pub(crate) fn fail(check: CheckId, summary: impl Into<String>, hint: Option<String>) -> Self {
        CheckLine {
            check,
            status: Status::Fail,
            summary: summary.into(),
            hint,
            errcode: None,
        }
    }

    /// Not run, because of `why` (`"needs an access token"` …).
    pub(crate) fn skipped(check: CheckId, why: &str) -> CheckLine {
        CheckLine {
            check,
            status: Status::Skipped,
            summary: format!("not checked: {why}"),
            hint: None,
            errcode: None,
        }
    }

    pub(crate) fn with_errcode(mut self, errcode: Option<i64>) -> CheckLine {
        self.errcode = errcode;
        self
    }
}

/// Everything a check found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckReport {
    /// The job's name, when its file could be read.
    pub(crate) job: Option<String>,
    /// Whether every check passed.
    pub(crate) passed: bool,
    pub(crate) checks: Vec<CheckLine>,
    /// Calls made to WeCom, per endpoint name (retries included: each is a call).
    pub(crate) calls: BTreeMap<&'static str, u64>,
    pub(crate) total_calls: u64,
}

impl CheckReport {
    fn new(
        job: Option<String>,
        checks: Vec<CheckLine>,
        calls: BTreeMap<&'static str, u64>,
    ) -> Self {
        CheckReport {
            job,
            passed: checks.iter().all(|c| c.status == Status::Pass),
            total_calls: calls.values().sum(),
            checks,
            calls,
        }
    }

    /// The checks that came out `status`.
    pub(crate) fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Checks the job in `path` against its corp; the output directory and its store are
/// `output`, else the job's `output.dir`.
pub(crate) fn check(path: &Path, output: Option<&Path>) -> CheckReport {
    let (job, job_line) = local::job_file(path);
    let Some(job) = job else {
        let mut checks = vec![job_line];
        let why = "needs a job file that parses";
        checks.extend(AFTER_JOB.iter().map(|id| CheckLine::skipped(*id, why)));
        return CheckReport::new(None, checks, BTreeMap::new());
    };
    let output_dir = output.unwrap_or(&job.output.dir).to_path_buf();
    let credentials_set = job_line.status == Status::Pass;
    let mut checks = vec![job_line];
    let mut calls = BTreeMap::new();
    if credentials_set {
        let window = window(&job, job.today());
        match api::run(&job, window) {
            Ok((lines, made)) => {
                checks.extend(lines);
                calls = made;
            }
            Err(e) => checks.push(CheckLine::fail(
                CheckId::Token,
                format!("cannot start the async runtime: {e}"),
                None,
            )),
        }
    } else {
        let why = "needs the corp id and the secret";
        checks.extend(api::checks_of(&job).map(|id| CheckLine::skipped(id, why)));
    }
    checks.push(local::quotas(&job));
    checks.push(local::output(&output_dir, &job.output.storage));
    checks.push(local::store(&job, &output_dir));
    CheckReport::new(Some(job.name.clone()), checks, calls)
}

/// Every check after the job file's, for a job file that does not parse.
const AFTER_JOB: [CheckId; 8] = [
    CheckId::Token,
    CheckId::RecordList,
    CheckId::Templates,
    CheckId::Stats,
    CheckId::Directory,
    CheckId::Quotas,
    CheckId::Output,
    CheckId::Store,
];

/// `1 user`, `2 users`: `n` and the noun it counts.
pub(crate) fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The window the API checks look at: the last [`WINDOW_DAYS`] days of the job's range before
/// `today`, or the [`WINDOW_DAYS`] days before `today` when the range has not begun.
pub(crate) fn window(job: &Job, today: NaiveDate) -> DateRange {
    let range = job.resolve_range(today);
    let back = |end: NaiveDate| end.checked_sub_days(Days::new(WINDOW_DAYS)).unwrap_or(end);
    let end = range.end.min(today);
    if end > range.start {
        DateRange {
            start: range.start.max(back(end)),
            end,
        }
    } else {
        DateRange {
            start: back(today),
            end: today,
        }
    }
}

/// The days of `window` whose record list is sampled: [`SAMPLE_DAYS`] spread evenly, the last
/// day first (its answer is the record-list check).
pub(crate) fn sample_days(window: DateRange) -> Vec<NaiveDate> {
    let days = window.days().max(1) as u64;
    let n = (SAMPLE_DAYS as u64).min(days);
    let mut out: Vec<NaiveDate> = (0..n)
        .map(|k| {
            let back = if n > 1 { k * (days - 1) / (n - 1) } else { 0 };
            window.end - Days::new(1 + back)
        })
        .collect();
    out.dedup();
    out
}
