//! Job files (`jobs/*.toml`): parsing with positions, `${VAR}` expansion, validation, range
//! resolution in the job's timezone, and the plan (windows, call estimates, ETA).
//!
//! Owns the job's meaning; it makes no network call and touches no store or output.
//!
//! STUB: the types are the contract; parsing and planning are being written.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::wecom::{Limits, Secret};

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

/// Local dates: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
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

    pub fn name(self) -> &'static str {
        match self {
            ReportKind::LateRateByDepartment => "late_rate_by_department",
            ReportKind::LateRateByUser => "late_rate_by_user",
            ReportKind::UnreportedRoster => "unreported_roster",
            ReportKind::ReadRateByTemplate => "read_rate_by_template",
        }
    }
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Arrow => "arrow",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    pub dir: PathBuf,
    pub formats: Vec<Format>,
    pub reports: Vec<ReportKind>,
    /// Write a UTF-8 BOM at the head of CSV files so Excel reads Chinese text right.
    pub csv_bom: bool,
}
