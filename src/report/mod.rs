//! Reports: polars lazy queries over the flattened tables (late, unreported and read rates).
//!
//! Owns the metrics' definitions (the README's "Output tables and reports"); takes DataFrames /
//! LazyFrames in and gives DataFrames out. It does no I/O and knows nothing of files or formats
//! (that is [`crate::sink`]). A user without a department is named flatten's
//! [`UNKNOWN_DEPARTMENT`], as in the frames it reads.
//!
//! Definitions, shared by every report:
//! - the unit of the stat reports is a DISTINCT user × cycle (template_id, cycle_begin, userid):
//!   a user listed twice in a cycle counts once. The pair is *reported* if any of its rows is
//!   `reported`, *on time* if any reported row is not late, *late* if reported and not on time,
//!   *unreported* otherwise;
//! - `expected` = pairs, `late_rate` = late / reported, `on_time_rate` = on_time / expected,
//!   `unreported_rate` = unreported / expected; a rate whose denominator is 0 is null (never NaN
//!   or ±inf);
//! - the `period` column is the cycle's local `cycle_date` (stats) or the journal's local
//!   `report_date` formatted for the [`Period`]: `2026-10-07` (day), ISO `2026-W41` (week),
//!   `2026-10` (month); cycles of one period are rolled up together;
//! - a user's department is the one the flattened rows carry (the directory's main department);
//!   without one it is `unknown`.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::flatten::UNKNOWN_DEPARTMENT;
use crate::job::{Period, ReportKind};

mod journals;

pub(crate) use journals::JournalTotals;

/// Columns the stat reports read from `stat_items`.
const STAT_ITEMS_COLUMNS: &[&str] = &[
    "template_id",
    "template_name",
    "cycle_begin",
    "cycle_end",
    "cycle_date",
    "userid",
    "department_id",
    "department_name",
    "status",
    "is_late",
];

/// Columns `read_rate_by_template` and the summary read from `journals` (a caller may keep
/// only these of the journals it streams).
pub(crate) const JOURNALS_COLUMNS: &[&str] = &[
    "journal_uuid",
    "template_id",
    "template_name",
    "report_date",
    "submitter_userid",
    "department_id",
    "department_name",
    "receiver_count",
    "read_count",
];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report {report}: input table `{table}` has no column `{column}`")]
    MissingColumn {
        report: &'static str,
        table: &'static str,
        column: &'static str,
    },
    #[error("report {report}: {source}")]
    Polars {
        report: &'static str,
        #[source]
        source: PolarsError,
    },
}

/// The flattened tables a report reads. Lazy, so a caller may hand over a Parquet scan as well
/// as an in-memory frame; cloning a `LazyFrame` only clones its plan.
#[derive(Clone)]
pub struct ReportInputs {
    /// `stat_items`, as `docs/schema.md` describes it (`cycle_date` included).
    pub(crate) stat_items: LazyFrame,
    journals: Journals,
}

/// The journals a report reads: the rows, or their running totals.
#[derive(Clone)]
enum Journals {
    /// `journals`, as `docs/schema.md` describes it (`report_date` included).
    Rows(LazyFrame),
    /// What [`JournalTotals`] folded (its partials, merged).
    Totals(LazyFrame),
}

impl ReportInputs {
    /// `journals`: the table's rows (at least [`JOURNALS_COLUMNS`]).
    pub(crate) fn new(stat_items: LazyFrame, journals: LazyFrame) -> Self {
        ReportInputs {
            stat_items,
            journals: Journals::Rows(journals),
        }
    }

    pub fn from_frames(stat_items: &DataFrame, journals: &DataFrame) -> Self {
        Self::new(stat_items.clone().lazy(), journals.clone().lazy())
    }

    /// The journals as [`JournalTotals`] folded them batch by batch: the reports come out as
    /// from the rows, holding a row per day × template × submitter × department.
    pub(crate) fn with_totals(
        stat_items: LazyFrame,
        totals: JournalTotals,
    ) -> Result<Self, ReportError> {
        let merged = totals.finish().map_err(|source| ReportError::Polars {
            report: "journal totals",
            source,
        })?;
        let journals = match merged {
            Some(frame) => Journals::Totals(frame.lazy()),
            // No batch: the partials of no journal rows, with the table's types.
            None => Journals::Rows(
                DataFrame::empty_with_schema(&crate::flatten::schema::JOURNALS.polars_schema())
                    .lazy(),
            ),
        };
        Ok(ReportInputs {
            stat_items,
            journals,
        })
    }
}

/// Builds one report at the given period grain.
pub fn build(
    kind: ReportKind,
    inputs: &ReportInputs,
    period: Period,
) -> Result<DataFrame, ReportError> {
    let report = kind.name();
    let plan = match kind {
        ReportKind::LateRateByDepartment => late_rate_by_department(inputs, period, report)?,
        ReportKind::LateRateByUser => late_rate_by_user(inputs, period, report)?,
        ReportKind::UnreportedRoster => unreported_roster(inputs, period, report)?,
        ReportKind::ReadRateByTemplate => read_rate_by_template(inputs, period, report)?,
    };
    plan.collect()
        .map_err(|source| ReportError::Polars { report, source })
}

/// The `strftime` pattern of a period label. `%G-W%V` is the ISO week-numbering year and week,
/// so 2026-12-31 (a Thursday) is `2026-W53` and 2027-01-01 is still `2026-W53`.
pub(crate) fn period_format(period: Period) -> &'static str {
    match period {
        Period::Day => "%Y-%m-%d",
        Period::Week => "%G-W%V",
        Period::Month => "%Y-%m",
    }
}

/// The period label of a local date, as the reports write it.
#[cfg(test)]
pub(crate) fn period_label(date: NaiveDate, period: Period) -> String {
    date.format(period_format(period)).to_string()
}

fn period_expr(date_column: &str, period: Period) -> Expr {
    col(date_column)
        .dt()
        .strftime(period_format(period))
        .alias("period")
}

fn check_columns(
    frame: &LazyFrame,
    table: &'static str,
    required: &'static [&'static str],
    report: &'static str,
) -> Result<(), ReportError> {
    let schema = frame
        .clone()
        .collect_schema()
        .map_err(|source| ReportError::Polars { report, source })?;
    for column in required {
        if schema.get(column).is_none() {
            return Err(ReportError::MissingColumn {
                report,
                table,
                column,
            });
        }
    }
    Ok(())
}

/// `num / den` as Float64, null when `den` is 0 or null.
fn rate(num: &str, den: &str, name: &str) -> Expr {
    when(col(den).gt(lit(0u64)))
        .then(col(num).cast(DataType::Float64) / col(den).cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
        .alias(name)
}

/// One row per DISTINCT user × cycle with its outcome (see the module doc) and its `period`.
fn user_cycles(
    inputs: &ReportInputs,
    period: Period,
    report: &'static str,
) -> Result<LazyFrame, ReportError> {
    check_columns(&inputs.stat_items, "stat_items", STAT_ITEMS_COLUMNS, report)?;
    let is_reported = col("status").eq(lit("reported"));
    let is_on_time = is_reported
        .clone()
        .and(col("is_late").fill_null(lit(false)).not());
    Ok(inputs
        .stat_items
        .clone()
        .filter(col("userid").is_not_null())
        // Sorting first makes `first()` (names, departments) deterministic across runs.
        .sort(
            ["cycle_begin", "template_id", "userid"],
            SortMultipleOptions::default(),
        )
        .group_by_stable([col("template_id"), col("cycle_begin"), col("userid")])
        .agg([
            col("template_name").drop_nulls().first(),
            col("cycle_end").max(),
            col("cycle_date").min(),
            col("department_id").drop_nulls().first(),
            col("department_name").drop_nulls().first(),
            is_reported.any(true).alias("is_reported"),
            is_on_time.any(true).alias("is_on_time"),
        ])
        .with_columns([
            col("department_name").fill_null(lit(UNKNOWN_DEPARTMENT)),
            col("is_reported")
                .and(col("is_on_time").not())
                .alias("is_late"),
            period_expr("cycle_date", period),
        ]))
}

/// The counts and rates over a group of user × cycle pairs.
fn count_aggs() -> Vec<Expr> {
    vec![
        len().cast(DataType::UInt64).alias("expected"),
        col("is_reported")
            .sum()
            .cast(DataType::UInt64)
            .alias("reported"),
        col("is_on_time")
            .sum()
            .cast(DataType::UInt64)
            .alias("on_time"),
        col("is_late").sum().cast(DataType::UInt64).alias("late"),
        col("is_reported")
            .not()
            .sum()
            .cast(DataType::UInt64)
            .alias("unreported"),
    ]
}

fn rate_columns() -> Vec<Expr> {
    vec![
        rate("late", "reported", "late_rate"),
        rate("on_time", "expected", "on_time_rate"),
        rate("unreported", "expected", "unreported_rate"),
    ]
}

const COUNT_AND_RATE_COLUMNS: [&str; 8] = [
    "expected",
    "reported",
    "on_time",
    "late",
    "unreported",
    "late_rate",
    "on_time_rate",
    "unreported_rate",
];

fn late_rate_by_department(
    inputs: &ReportInputs,
    period: Period,
    report: &'static str,
) -> Result<LazyFrame, ReportError> {
    let mut aggs = vec![col("template_name").drop_nulls().first()];
    aggs.extend(count_aggs());
    let mut columns: Vec<Expr> = [
        "period",
        "template_id",
        "template_name",
        "department_id",
        "department_name",
    ]
    .into_iter()
    .map(col)
    .collect();
    columns.extend(COUNT_AND_RATE_COLUMNS.into_iter().map(col));
    Ok(user_cycles(inputs, period, report)?
        .group_by([
            col("period"),
            col("template_id"),
            col("department_id"),
            col("department_name"),
        ])
        .agg(aggs)
        .with_columns(rate_columns())
        .select(columns)
        .sort(
            ["period", "template_id", "department_name", "department_id"],
            SortMultipleOptions::default().with_nulls_last(true),
        ))
}

fn late_rate_by_user(
    inputs: &ReportInputs,
    period: Period,
    report: &'static str,
) -> Result<LazyFrame, ReportError> {
    let mut aggs = vec![
        col("template_name").drop_nulls().first(),
        col("department_id").drop_nulls().first(),
        col("department_name").first(),
    ];
    aggs.extend(count_aggs());
    let mut columns: Vec<Expr> = [
        "period",
        "template_id",
        "template_name",
        "userid",
        "department_id",
        "department_name",
    ]
    .into_iter()
    .map(col)
    .collect();
    columns.extend(COUNT_AND_RATE_COLUMNS.into_iter().map(col));
    Ok(user_cycles(inputs, period, report)?
        // Stable: the pairs arrive sorted by cycle, so `first()` is the user's first
        // department in the period.
        .group_by_stable([col("period"), col("template_id"), col("userid")])
        .agg(aggs)
        .with_columns(rate_columns())
        .select(columns)
        .sort(
            ["period", "template_id", "department_name", "userid"],
            SortMultipleOptions::default(),
        ))
}

fn unreported_roster(
    inputs: &ReportInputs,
    period: Period,
    report: &'static str,
) -> Result<LazyFrame, ReportError> {
    Ok(user_cycles(inputs, period, report)?
        .filter(col("is_reported").not())
        .select([
            col("period"),
            col("userid"),
            col("department_id"),
            col("department_name"),
            col("template_id"),
            col("template_name"),
            col("cycle_begin"),
            col("cycle_end"),
        ])
        .sort(
            ["cycle_begin", "template_id", "department_name", "userid"],
            SortMultipleOptions::default(),
        ))
}

/// Journals, one row per DISTINCT journal_uuid (a journal fetched twice counts once), in the
/// order each was first seen.
fn distinct_rows(journals: LazyFrame) -> LazyFrame {
    journals
        .filter(col("journal_uuid").is_not_null())
        .group_by_stable([col("journal_uuid")])
        .agg([
            col("template_id").first(),
            col("template_name").first(),
            col("report_date").first(),
            col("submitter_userid").first(),
            col("department_id").first(),
            col("department_name").first(),
            col("receiver_count").first().cast(DataType::UInt64),
            col("read_count").first().cast(DataType::UInt64),
        ])
}

/// The journals' partials (see [`journals`]): a row per day × template × submitter ×
/// department with its distinct journals, receivers and reads.
fn journal_partials(inputs: &ReportInputs, report: &'static str) -> Result<LazyFrame, ReportError> {
    match &inputs.journals {
        Journals::Rows(rows) => {
            check_columns(rows, "journals", JOURNALS_COLUMNS, report)?;
            Ok(journals::partials_of_distinct(
                distinct_rows(rows.clone()),
                0,
            ))
        }
        Journals::Totals(partials) => Ok(partials.clone()),
    }
}

fn read_rate_by_template(
    inputs: &ReportInputs,
    period: Period,
    report: &'static str,
) -> Result<LazyFrame, ReportError> {
    Ok(journal_partials(inputs, report)?
        .with_column(period_expr("report_date", period))
        .group_by([col("period"), col("template_id")])
        .agg([
            journals::first_name(),
            col("journals").sum().cast(DataType::UInt64),
            col("receivers").sum().cast(DataType::UInt64),
            col("reads").sum().cast(DataType::UInt64),
        ])
        .with_column(rate("reads", "receivers", "read_rate"))
        .select([
            col("period"),
            col("template_id"),
            col("template_name"),
            col("journals"),
            col("receivers"),
            col("reads"),
            col("read_rate"),
        ])
        .sort(["period", "template_id"], SortMultipleOptions::default()))
}

/// The headline figures of a run, for the XLSX summary sheet.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ReportSummary {
    /// First and last local date seen (cycle dates and report dates), if any row exists.
    pub(crate) first_date: Option<NaiveDate>,
    pub(crate) last_date: Option<NaiveDate>,
    /// Distinct journals.
    pub journals: u64,
    /// Distinct users (stat items and journal submitters).
    pub(crate) users: u64,
    /// Distinct departments (by id; by name where no directory gave ids).
    pub(crate) departments: u64,
    /// Distinct templates.
    pub(crate) templates: u64,
    pub expected: u64,
    pub reported: u64,
    pub(crate) on_time: u64,
    pub late: u64,
    pub unreported: u64,
    pub receivers: u64,
    pub reads: u64,
    pub(crate) late_rate: Option<f64>,
    pub(crate) on_time_rate: Option<f64>,
    pub(crate) unreported_rate: Option<f64>,
    pub(crate) read_rate: Option<f64>,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The headline figures over all the inputs (every template and period together).
pub fn summary(inputs: &ReportInputs) -> Result<ReportSummary, ReportError> {
    const REPORT: &str = "summary";
    let polars_err = |source| ReportError::Polars {
        report: REPORT,
        source,
    };

    // Any period works here: the counts are taken over all pairs.
    let pairs = user_cycles(inputs, Period::Month, REPORT)?;
    let journals = journal_partials(inputs, REPORT)?;

    let counts = pairs
        .clone()
        .select(count_aggs())
        .collect()
        .map_err(polars_err)?;
    let journal_counts = journals
        .clone()
        .select([
            col("journals").sum().cast(DataType::UInt64),
            col("receivers").sum().cast(DataType::UInt64),
            col("reads").sum().cast(DataType::UInt64),
        ])
        .collect()
        .map_err(polars_err)?;

    // Who and where, from both tables.
    let department_key = |id: &str, name: &str| {
        coalesce(&[col(id).cast(DataType::String), lit("name:") + col(name)])
            .alias("department_key")
    };
    let people = concat(
        [
            pairs.clone().select([
                col("userid"),
                department_key("department_id", "department_name"),
                col("template_id"),
                col("cycle_date").alias("date"),
            ]),
            journals.select([
                col("submitter_userid").alias("userid"),
                department_key("department_id", "department_name"),
                col("template_id"),
                col("report_date").alias("date"),
            ]),
        ],
        UnionArgs::default(),
    )
    .map_err(polars_err)?
    .select([
        col("userid")
            .drop_nulls()
            .n_unique()
            .cast(DataType::UInt64)
            .alias("users"),
        col("department_key")
            .drop_nulls()
            .n_unique()
            .cast(DataType::UInt64)
            .alias("departments"),
        col("template_id")
            .drop_nulls()
            .n_unique()
            .cast(DataType::UInt64)
            .alias("templates"),
        col("date").min().cast(DataType::Int32).alias("first_date"),
        col("date").max().cast(DataType::Int32).alias("last_date"),
    ])
    .collect()
    .map_err(polars_err)?;

    let expected = scalar_u64(&counts, "expected").map_err(polars_err)?;
    let reported = scalar_u64(&counts, "reported").map_err(polars_err)?;
    let on_time = scalar_u64(&counts, "on_time").map_err(polars_err)?;
    let late = scalar_u64(&counts, "late").map_err(polars_err)?;
    let unreported = scalar_u64(&counts, "unreported").map_err(polars_err)?;
    let receivers = scalar_u64(&journal_counts, "receivers").map_err(polars_err)?;
    let reads = scalar_u64(&journal_counts, "reads").map_err(polars_err)?;
    Ok(ReportSummary {
        first_date: scalar_date(&people, "first_date").map_err(polars_err)?,
        last_date: scalar_date(&people, "last_date").map_err(polars_err)?,
        journals: scalar_u64(&journal_counts, "journals").map_err(polars_err)?,
        users: scalar_u64(&people, "users").map_err(polars_err)?,
        departments: scalar_u64(&people, "departments").map_err(polars_err)?,
        templates: scalar_u64(&people, "templates").map_err(polars_err)?,
        expected,
        reported,
        on_time,
        late,
        unreported,
        receivers,
        reads,
        late_rate: ratio(late, reported),
        on_time_rate: ratio(on_time, expected),
        unreported_rate: ratio(unreported, expected),
        read_rate: ratio(reads, receivers),
    })
}

/// The first value of a one-row aggregate; an empty input sums to 0.
fn scalar_u64(frame: &DataFrame, name: &str) -> PolarsResult<u64> {
    let column = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(column.as_materialized_series().u64()?.get(0).unwrap_or(0))
}

/// A Date aggregate that was cast to days since the Unix epoch.
fn scalar_date(frame: &DataFrame, name: &str) -> PolarsResult<Option<NaiveDate>> {
    let column = frame.column(name)?.cast(&DataType::Int32)?;
    let days = column.as_materialized_series().i32()?.get(0);
    Ok(days.and_then(|days| {
        NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
    }))
}

#[cfg(test)]
mod journals_tests;
#[cfg(test)]
mod tests;
