//! Job files (`jobs/*.toml`): parsing with positions, `${VAR}` expansion, validation, range
//! resolution in the job's timezone, and the plan (windows, call estimates, ETA).
//!
//! Owns the job's meaning; it makes no network call and touches no store or output.
//! [`keys`] defines every key of a job file once (what `docs/job-file.md` is generated from),
//! [`parse`] turns TOML text into a [`Job`] through those keys (every error
//! `file:line:col: message`), [`plan`] turns a job and a range into windows, call estimates and
//! an ETA.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::wecom::{Limits, Secret};

pub mod keys;
mod parse;
pub mod plan;

pub(crate) use parse::{parse, parse_located};
pub(crate) use plan::{Plan, PlanHistory};

/// How a job file is loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The run points the job at the in-process simulator, which brings its own corp id, secret
    /// and base URL: `[source]` `corp_id` / `secret` / `api_base` need not resolve.
    pub sandbox: bool,
    /// Only the job's shape is needed (`plan`, no network): the same three keys need not
    /// resolve either. Every other `${VAR}` still must.
    pub skip_credentials: bool,
}

impl LoadOptions {
    /// Whether `[source]` credentials may stay unresolved (and then are empty).
    pub(crate) fn credentials_optional(&self) -> bool {
        self.sandbox || self.skip_credentials
    }
}

/// A job file that cannot be used. `Display` is what `validate` prints.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The file is there but says something wrong: where, and what.
    #[error("{}:{line}:{col}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column (in characters) of the offending key or value.
        col: usize,
        message: String,
    },
    /// The file cannot be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl JobError {
    /// `(line, col)` of an [`JobError::Invalid`].
    #[cfg(test)]
    pub(crate) fn position(&self) -> Option<(usize, usize)> {
        match self {
            JobError::Invalid { line, col, .. } => Some((*line, *col)),
            JobError::Read { .. } => None,
        }
    }
}

/// Something in a job file that is allowed but probably wrong (a quota above the documented
/// one): said, and the job still runs. `Display` is `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{col}: {message}", path.display())]
pub(crate) struct JobWarning {
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) message: String,
}

/// A job as read from its file, with what a later check needs to point into the file: its
/// warnings, and where each key's value is written.
#[derive(Debug, Clone)]
pub(crate) struct LoadedJob {
    pub(crate) job: Job,
    pub(crate) warnings: Vec<JobWarning>,
    /// `(line, col)` of each key's value written in the file, by the key's dotted path.
    places: std::collections::BTreeMap<String, (usize, usize)>,
    origin: PathBuf,
}

impl LoadedJob {
    /// An error about `key` that only a check after parsing can see (the CSV a
    /// `extract.directory` names does not read): `file:line:col: message` at the key's value,
    /// or at the file's first line when the key is not written.
    pub(crate) fn invalid_at(&self, key: &keys::Key, message: String) -> JobError {
        let (line, col) = self.places.get(&key.path()).copied().unwrap_or((1, 1));
        JobError::Invalid {
            path: self.origin.clone(),
            line,
            col,
            message,
        }
    }
}

/// Reads and parses a job file, `${VAR}`s from the process environment.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Job, JobError> {
    load_located(path, opts).map(|loaded| loaded.job)
}

/// [`load`], with the job's warnings and the places of its keys ([`LoadedJob`]).
pub(crate) fn load_located(path: &Path, opts: &LoadOptions) -> Result<LoadedJob, JobError> {
    let bytes = std::fs::read(path).map_err(|source| JobError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| JobError::Read {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text ({e})"),
        ),
    })?;
    parse_located(&text, path, &|name| std::env::var(name).ok(), opts)
}

#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// The file it was read from (for messages), if any.
    pub path: Option<PathBuf>,
    pub source: Source,
    pub range: RangeSpec,
    pub filters: Filters,
    pub extract: ExtractSettings,
    pub output: OutputSettings,
    /// `range.period`: the reports' period when the range's own is not wanted.
    pub period_override: Option<Period>,
    /// `[plan]`: what the plan assumes when no earlier run measured the corp.
    pub plan: PlanSettings,
}

/// The grain of the reports' `period` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub(crate) const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];
    /// The names of [`Period::ALL`], as a job file writes them.
    pub(crate) const NAMES: [&'static str; 3] = {
        let mut names = [""; 3];
        let mut i = 0;
        while i < names.len() {
            names[i] = Period::ALL[i].name();
            i += 1;
        }
        names
    };

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The period named `name` (as written in `range.period`).
    pub(crate) fn from_name(name: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The language of the workbook's reader (`output.language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// 中文 (the default).
    #[default]
    Zh,
    En,
}

impl Language {
    pub(crate) const ALL: [Language; 2] = [Language::Zh, Language::En];
    /// The names of [`Language::ALL`], as a job file writes them.
    pub(crate) const NAMES: [&'static str; 2] = ["zh", "en"];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// The language named `name` (as written in `output.language`).
    pub(crate) fn from_name(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// `[plan]`: assumptions of the plan without history (no network, so nothing is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSettings {
    /// Journals a day over the whole corp (all filters together).
    pub(crate) journals_per_day: u32,
    /// Templates to fetch stats for, when `filters.template_ids` does not list them.
    pub(crate) templates: u32,
    /// Departments visible to the app (one `user/list` call each).
    pub(crate) departments: u32,
}

impl Default for PlanSettings {
    /// `[plan]` with every key at its default ([`keys`]).
    fn default() -> Self {
        parse::plan_defaults()
    }
}

impl Default for ExtractSettings {
    /// `[extract]` with every key at its default ([`keys`]).
    fn default() -> Self {
        parse::extract_defaults()
    }
}

impl Job {
    /// The local calendar date now in the job's timezone (what `last = …` is relative to).
    pub(crate) fn today(&self) -> NaiveDate {
        self.today_at(Utc::now())
    }

    /// The local calendar date at `now` in the job's timezone: what `last = …` is relative to
    /// when a run is given its "now" (`run --now`, a scheduler replaying a logical date).
    pub(crate) fn today_at(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.source.timezone).date_naive()
    }

    /// The dates this job covers when run on `today` (a local date in the job's timezone):
    /// absolute ranges as written; `last = "month"` the last whole calendar month, `"week"` the
    /// last whole ISO week (Monday to Sunday), `"day"` yesterday, `"<N>d"` the N days ending
    /// yesterday.
    pub(crate) fn resolve_range(&self, today: NaiveDate) -> DateRange {
        match self.range {
            RangeSpec::Absolute(range) => range,
            RangeSpec::Last(relative) => relative.resolve(today),
        }
    }

    /// The reports' period: `range.period` if given; a relative range's own unit (`"<N>d"` is
    /// days); an absolute range of 28 days or more by month, of 7 or more by week, else by day.
    pub(crate) fn period(&self) -> Period {
        if let Some(period) = self.period_override {
            return period;
        }
        match self.range {
            RangeSpec::Last(Relative::Month) => Period::Month,
            RangeSpec::Last(Relative::Week) => Period::Week,
            RangeSpec::Last(Relative::Day) | RangeSpec::Last(Relative::Days(_)) => Period::Day,
            RangeSpec::Absolute(range) => match range.days() {
                d if d >= 28 => Period::Month,
                d if d >= 7 => Period::Week,
                _ => Period::Day,
            },
        }
    }
}

impl Relative {
    /// The last whole period before `today` (see [`Job::resolve_range`]).
    pub(crate) fn resolve(self, today: NaiveDate) -> DateRange {
        match self {
            Relative::Month => {
                let this_month = today.with_day(1).unwrap_or(today);
                let last_month = this_month
                    .checked_sub_months(Months::new(1))
                    .unwrap_or(this_month);
                DateRange {
                    start: last_month,
                    end: this_month,
                }
            }
            Relative::Week => {
                let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
                DateRange {
                    start: monday - Days::new(7),
                    end: monday,
                }
            }
            Relative::Day => DateRange {
                start: today - Days::new(1),
                end: today,
            },
            Relative::Days(n) => DateRange {
                start: today - Days::new(u64::from(n)),
                end: today,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Source {
    pub corp_id: String,
    pub secret: Secret,
    pub api_base: String,
    pub timezone: chrono_tz::Tz,
    pub limits: Limits,
}

/// The job's date range as written: absolute local dates, or relative to the run's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeSpec {
    Absolute(DateRange),
    /// `last = "month" | "week" | "day" | "<N>d"`: the last whole period before today.
    Last(Relative),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relative {
    Month,
    Week,
    Day,
    Days(u32),
}

/// The earliest date a job may name: WeCom opened in 2016, so no journal is older, and a date
/// before it (`0000-01-01`) is a typo that would page thousands of empty windows.
pub(crate) const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2016, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};
/// The latest date a job may name (the API's times are 32-bit unix seconds, which end in 2106).
pub(crate) const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Whether a job may name `date` ([`EARLIEST_DATE`] to [`LATEST_DATE`]), or why not.
pub(crate) fn check_date_bounds(date: NaiveDate) -> Result<NaiveDate, String> {
    if date < EARLIEST_DATE {
        Err(format!(
            "{date} is before {EARLIEST_DATE}: WeCom keeps no journal that old"
        ))
    } else if date > LATEST_DATE {
        Err(format!(
            "{date} is after {LATEST_DATE}, the latest date a job may name"
        ))
    } else {
        Ok(date)
    }
}

/// Local dates: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// A range of at least one day (`start < end`), or why not.
    pub(crate) fn new(start: NaiveDate, end: NaiveDate) -> Result<DateRange, String> {
        if start < end {
            Ok(DateRange { start, end })
        } else {
            Err(format!(
                "start {start} must be before end {end} (end is exclusive)"
            ))
        }
    }

    /// Parses `YYYY-MM-DD` local dates (e.g. `run --start D --end D`), each within the dates a
    /// job may name ([`check_date_bounds`]).
    pub fn parse(start: &str, end: &str) -> Result<DateRange, String> {
        let start = parse_local_date(start).and_then(check_date_bounds)?;
        let end = parse_local_date(end).and_then(check_date_bounds)?;
        DateRange::new(start, end)
    }

    /// Number of days in the range.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }
}

impl std::fmt::Display for DateRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// An instant written in RFC 3339 (`2026-11-02T06:15:00+08:00`, `2026-11-01T22:15:00Z`): a
/// run's "now" (`run --now`, `plan --now`, `rebuild --now`).
pub(crate) fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 time such as 2026-11-02T06:15:00+08:00 ({e})")
        })
}

/// A local date written `YYYY-MM-DD`.
pub(crate) fn parse_local_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| format!("`{text}` is not a date YYYY-MM-DD ({e})"))
}

/// A duration written as whole numbers with units, largest first: `"2h"`, `"90m"`, `"1h30m"`,
/// `"45s"` (`h`, `m`, `s`); at most a week.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    const MAX_S: u64 = 7 * 86_400;
    let bad = || format!("`{text}` is not a duration like \"2h\", \"90m\", \"1h30m\" or \"45s\"");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut seconds = 0u64;
    let mut last_unit = u64::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit = match chars.next() {
            Some('h') => 3600,
            Some('m') => 60,
            Some('s') => 1,
            _ => return Err(bad()),
        };
        if number.is_empty() || unit >= last_unit {
            return Err(bad());
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        seconds = seconds.saturating_add(n.saturating_mul(unit));
        last_unit = unit;
        rest = chars.as_str();
    }
    if seconds > MAX_S {
        return Err(format!("`{text}` is more than a week"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub template_ids: Vec<String>,
    pub creators: Vec<String>,
    pub departments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExtractSettings {
    pub details: bool,
    pub stats: bool,
    pub directory: DirectorySource,
    pub wedrive_files: bool,
    pub refresh_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectorySource {
    Api,
    Csv(PathBuf),
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Parquet,
    Csv,
    Xlsx,
    Arrow,
    /// Delta Lake tables (`delta/<table>/`); tables only, no reports.
    Delta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportKind {
    LateRateByDepartment,
    LateRateByUser,
    UnreportedRoster,
    ReadRateByTemplate,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::LateRateByDepartment,
        ReportKind::LateRateByUser,
        ReportKind::UnreportedRoster,
        ReportKind::ReadRateByTemplate,
    ];
    /// The names of [`ReportKind::ALL`], as `output.reports` writes them.
    pub(crate) const NAMES: [&'static str; 4] = {
        let mut names = [""; 4];
        let mut i = 0;
        while i < names.len() {
            names[i] = ReportKind::ALL[i].name();
            i += 1;
        }
        names
    };

    pub const fn name(self) -> &'static str {
        match self {
            ReportKind::LateRateByDepartment => "late_rate_by_department",
            ReportKind::LateRateByUser => "late_rate_by_user",
            ReportKind::UnreportedRoster => "unreported_roster",
            ReportKind::ReadRateByTemplate => "read_rate_by_template",
        }
    }

    /// The report named `name` (as written in `output.reports`).
    pub(crate) fn from_name(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl Format {
    pub(crate) const ALL: [Format; 5] = [
        Format::Parquet,
        Format::Csv,
        Format::Xlsx,
        Format::Arrow,
        Format::Delta,
    ];
    /// The names of [`Format::ALL`], as `output.formats` writes them.
    pub(crate) const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < names.len() {
            names[i] = Format::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The format named `name` (as written in `output.formats`).
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Arrow => "arrow",
            Format::Delta => "delta",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    /// A local directory, or object storage as written (`s3://bucket/prefix`): see
    /// [`OutputSettings::is_object_storage`].
    pub dir: PathBuf,
    /// `[output.storage]`: how to reach object storage (credentials are never here).
    pub storage: StorageSettings,
    /// `store.path`: where the SQLite store is, when the file says; else derived from the
    /// output location (see `pipeline::store_file`).
    pub store_path: Option<PathBuf>,
    pub formats: Vec<Format>,
    pub reports: Vec<ReportKind>,
    /// Write a UTF-8 BOM at the head of CSV files so Excel reads Chinese text right.
    pub csv_bom: bool,
    /// In the CSV written for people (the reports; the tables when `csv_bom`), start a text
    /// cell that a spreadsheet would run as a formula with `'` (`output.csv_escape_formulas`).
    pub csv_escape_formulas: bool,
    /// The language of the workbook (`output.language`).
    pub language: Language,
    /// Groups with fewer expected reports are marked small in the workbook and never
    /// highlighted (`output.min_group_size`).
    pub min_group_size: u32,
}

impl OutputSettings {
    /// Whether `dir` names object storage (`s3://…`) rather than a local directory.
    #[cfg(test)]
    pub(crate) fn is_object_storage(&self) -> bool {
        is_object_storage(&self.dir)
    }
}

/// Whether an output location (`output.dir`, `--output`) names object storage (`s3://…`).
pub(crate) fn is_object_storage(location: &Path) -> bool {
    location.to_string_lossy().starts_with("s3://")
}

/// Non-secret object-storage settings, as a job file's `[output.storage]` gives them. Each key
/// set overrides the matching `AWS_*` variable; unset keys leave the environment's value.
/// Credentials come from the environment only: there is no field for one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// An S3-compatible endpoint (`https://minio.internal:9000`); `AWS_ENDPOINT_URL` otherwise,
    /// and AWS's own endpoints when neither is set.
    pub(crate) endpoint: Option<String>,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`) otherwise; `us-east-1` when neither is set.
    pub(crate) region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), which MinIO, Ceph and most S3-compatible
    /// stores want; `false` asks for virtual-hosted style (`bucket.endpoint/key`).
    pub(crate) path_style: Option<bool>,
    /// Allows a plain-HTTP endpoint (`AWS_ALLOW_HTTP`); for loopback test servers.
    pub(crate) allow_http: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_now_is_read_as_rfc3339_and_its_local_date_resolves_the_range() {
        let now = parse_instant("2026-11-02T06:15:00+08:00").unwrap();
        assert_eq!(now, parse_instant(" 2026-11-01T22:15:00Z ").unwrap());
        let err = parse_instant("2026-11-02 06:15").unwrap_err();
        assert!(
            err.starts_with("`2026-11-02 06:15` is not an RFC 3339 time"),
            "{err}"
        );
        let job = parse(
            "name = \"j\"\n[range]\nlast = \"day\"\n",
            Path::new("j.toml"),
            &|_| None,
            &LoadOptions {
                skip_credentials: true,
                ..Default::default()
            },
        )
        .unwrap();
        // 22:15 UTC on the 1st is 06:15 on the 2nd in Shanghai: yesterday is the 1st.
        let today = job.today_at(now);
        assert_eq!(today, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        assert_eq!(
            job.resolve_range(today),
            DateRange::parse("2026-11-01", "2026-11-02").unwrap()
        );
    }
}
