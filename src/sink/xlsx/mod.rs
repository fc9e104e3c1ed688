//! The run's XLSX workbook, written for people: a summary first, then report sheets, a chart
//! sheet per template, and the wide sheets where the journals' content lives. Every sheet has
//! typed cells (numbers, percentages, local dates and times), columns sized by display width
//! (CJK counts double, capped) with long text wrapped, the header row frozen and styled, and a
//! print setup (landscape A4, the job and range in the page header, the header row repeated).
//!
//! Memory: the wide sheets arrive batch by batch as [`SpillSheet`]s, rows spilled to an
//! anonymous temporary file; at the end each is streamed back into a constant-memory worksheet
//! (rust_xlsxwriter writes a row to its own temporary file once the next begins), so a
//! workbook's memory does not grow with its journals. The report, chart and summary sheets are
//! small and built in memory. A sheet holds at most Excel's 1,048,576 rows: past that, its last
//! row says how many rows were left out, and so does a warning (the manifest's).
//!
//! What the sheets hold — which sheets, named how, in which language — is the caller's
//! ([`crate::pipeline`]); the words come from [`labels`]. This module owns how a sheet looks.

mod charts;
mod grid;
pub(crate) mod labels;
mod spill;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fs;

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use rust_xlsxwriter::Workbook;
use serde::{Deserialize, Serialize};

pub use charts::{ChartRow, ChartSheet, TrendPoint};
pub use grid::Highlight;
pub use spill::SpillSheet;

use super::{check_component, commit_file, temp_path_for, OutputDir, SinkError, WrittenFile};
use crate::job::Language;

/// Excel's limits: rows per sheet (header included), characters per cell and per sheet name.
pub(crate) const MAX_SHEET_ROWS: usize = 1_048_576;
pub(crate) const MAX_CELL_CHARS: usize = 32_767;
const MAX_SHEET_NAME_CHARS: usize = 31;
/// Integers at or above this lose digits in Excel (a double): such ids are written as text.
pub(crate) const MAX_EXACT_IN_EXCEL: u64 = 1 << 53;

/// One cell, typed as Excel shows it. Times are local wall-clock times (the job's zone):
/// Excel has no time zones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A fraction written as a percentage (`0.125` shows `12.5%`).
    Percent(f64),
    Date(NaiveDate),
    Time(NaiveDateTime),
}

impl Cell {
    /// Text, or [`Cell::Empty`] when there is none.
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        if text.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(text)
        }
    }

    /// An integer: a number while Excel keeps it exact, else its digits as text.
    pub(crate) fn integer(n: u64) -> Cell {
        if n < MAX_EXACT_IN_EXCEL {
            Cell::Number(n as f64)
        } else {
            Cell::Text(n.to_string())
        }
    }

    pub(crate) fn count(n: u64) -> Cell {
        Cell::integer(n)
    }

    pub(crate) fn rate(rate: Option<f64>) -> Cell {
        rate.map_or(Cell::Empty, Cell::Percent)
    }
}

/// Where the workbook's page headers and times come from.
#[derive(Debug, Clone)]
pub struct WorkbookOptions {
    pub language: Language,
    /// The job's name, in every page header.
    pub job: String,
    /// The range as a reader says it (`2026-10-01 – 2026-10-31`), in every page header.
    pub range: String,
}

/// A sheet of rows held in memory (a report): a header row, then the rows.
#[derive(Debug, Clone, Default)]
pub struct TableSheet {
    /// Wanted name; shortened to 31 characters, cleaned of `[]:*?/\`, and made unique.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Cells of a column shown dark red on pink above a threshold, unless the row's group is
    /// small.
    pub highlight: Option<Highlight>,
}

/// The summary sheet: a title, facts (label and value), then blocks of small tables.
#[derive(Debug, Clone, Default)]
pub struct SummarySheet {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) facts: Vec<(String, Cell)>,
    pub(crate) blocks: Vec<SummaryBlock>,
}

/// A titled table of the summary, with notes under it (definitions in words).
#[derive(Debug, Clone, Default)]
pub struct SummaryBlock {
    pub(crate) title: String,
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
    pub(crate) notes: Vec<String>,
}

/// Every sheet of a workbook, in order: the summary, the reports, the charts, the wide sheets.
#[derive(Default)]
pub struct WorkbookPlan {
    pub summary: SummarySheet,
    pub tables: Vec<TableSheet>,
    pub charts: Vec<ChartSheet>,
    pub wide: Vec<SpillSheet>,
}

/// Writes the workbook `<out>/<file_name>` (through a temporary name). Returns the file (its
/// rows: the data rows of every sheet but the summary and charts) and the warnings of anything
/// shortened (sheet names, rows past Excel's limit, over-long cells).
pub fn write_workbook(
    out: &OutputDir,
    file_name: &str,
    plan: WorkbookPlan,
    options: &WorkbookOptions,
) -> Result<(WrittenFile, Vec<String>), SinkError> {
    check_component(file_name)?;
    let final_path = out.root().join(file_name);
    let xlsx_err = |message: String| SinkError::Xlsx {
        path: final_path.clone(),
        message,
    };
    let mut warnings = Vec::new();
    let mut workbook = Workbook::new();
    let mut names = SheetNames::default();
    let formats = grid::Formats::new();

    let summary_name = names.take(&plan.summary.name, &mut warnings);
    grid::write_summary(
        workbook.add_worksheet(),
        &summary_name,
        &plan.summary,
        &formats,
        options,
    )
    .map_err(|e| xlsx_err(format!("sheet {summary_name}: {e}")))?;

    let mut rows = 0u64;
    for table in &plan.tables {
        let name = names.take(&table.name, &mut warnings);
        rows += table.rows.len() as u64;
        grid::write_table(workbook.add_worksheet(), &name, table, &formats, options)
            .map_err(|e| xlsx_err(format!("sheet {name}: {e}")))?;
    }
    for chart in &plan.charts {
        let name = names.take(&chart.name, &mut warnings);
        charts::write_chart_sheet(workbook.add_worksheet(), &name, chart, &formats, options)
            .map_err(|e| xlsx_err(format!("sheet {name}: {e}")))?;
    }
    for wide in plan.wide {
        let name = names.take(wide.name(), &mut warnings);
        let sheet = workbook.add_worksheet_with_constant_memory();
        let written = wide
            .write_to(sheet, &name, &formats, options)
            .map_err(|e| xlsx_err(format!("sheet {name}: {e}")))?;
        rows += written.rows;
        warnings.extend(written.warnings);
    }

    let temp = temp_path_for(&final_path);
    if let Err(e) = workbook.save(&temp) {
        let _ = fs::remove_file(&temp);
        return Err(xlsx_err(e.to_string()));
    }
    // rust_xlsxwriter closes the file without syncing it: sync it before it replaces the last.
    if let Err(source) = fs::File::open(&temp).and_then(|f| f.sync_all()) {
        let _ = fs::remove_file(&temp);
        return Err(SinkError::Io { path: temp, source });
    }
    let bytes = match commit_file(out, &temp, &final_path, "xlsx") {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
    };
    Ok((
        WrittenFile {
            path: out.relative(&final_path),
            format: "xlsx".to_owned(),
            rows,
            bytes,
        },
        warnings,
    ))
}

/// The sheet names taken so far (Excel compares them ignoring case).
#[derive(Default)]
struct SheetNames(BTreeSet<String>);

impl SheetNames {
    /// A name Excel accepts for `wanted`, with a warning when it differs.
    fn take(&mut self, wanted: &str, warnings: &mut Vec<String>) -> String {
        let name = unique_sheet_name(wanted, &mut self.0);
        if name != wanted {
            warnings.push(format!(
                "sheet {wanted:?} is named {name:?} (Excel: ≤ 31 characters, unique, no []:*?/\\)"
            ));
        }
        name
    }
}

/// Excel's sheet-name rules: ≤ 31 characters, none of `[]:*?/\`, not starting or ending with
/// `'`, unique ignoring case.
fn unique_sheet_name(wanted: &str, used: &mut BTreeSet<String>) -> String {
    let cleaned: String = wanted
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches('\'');
    let cleaned = if cleaned.is_empty() { "sheet" } else { cleaned };
    let base: String = cleaned.chars().take(MAX_SHEET_NAME_CHARS).collect();
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name.to_lowercase()) {
        let suffix = format!("~{n}");
        let keep = MAX_SHEET_NAME_CHARS - suffix.chars().count();
        name = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    used.insert(name.to_lowercase());
    name
}

/// The rows of a frame as cells: integers as numbers while Excel keeps them exact (ids of 16
/// digits or more as text), `*_rate` floats as percentages, instants as `tz`'s local time,
/// dates as dates, lists joined with `、`, anything else as its text.
pub fn frame_rows(frame: &DataFrame, tz: chrono_tz::Tz) -> PolarsResult<Vec<Vec<Cell>>> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        columns.push(column_cells(column, tz)?);
    }
    Ok((0..frame.height())
        .map(|row| columns.iter().map(|c| c[row].clone()).collect())
        .collect())
}

fn column_cells(column: &Column, tz: chrono_tz::Tz) -> PolarsResult<Vec<Cell>> {
    let is_rate = column.name().ends_with("_rate");
    let cells = match column.dtype() {
        DataType::Datetime(_, _) => {
            let ms = column
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
                .cast(&DataType::Int64)?;
            ms.as_materialized_series()
                .i64()?
                .iter()
                .map(|v| v.map_or(Cell::Empty, |ms| local_time(ms, tz)))
                .collect()
        }
        DataType::Date => {
            let days = column.cast(&DataType::Int32)?;
            days.as_materialized_series()
                .i32()?
                .iter()
                .map(|v| {
                    v.and_then(|d| {
                        NaiveDate::from_ymd_opt(1970, 1, 1)?
                            .checked_add_signed(chrono::Duration::days(i64::from(d)))
                    })
                    .map_or(Cell::Empty, Cell::Date)
                })
                .collect()
        }
        DataType::Float32 | DataType::Float64 => {
            let f = column.cast(&DataType::Float64)?;
            f.as_materialized_series()
                .f64()?
                .iter()
                .map(|v| match v {
                    Some(v) if v.is_finite() && is_rate => Cell::Percent(v),
                    Some(v) if v.is_finite() => Cell::Number(v),
                    _ => Cell::Empty,
                })
                .collect()
        }
        dtype if dtype.is_unsigned_integer() || dtype.is_signed_integer() => {
            let i = column.cast(&DataType::Float64)?;
            let exact = column.cast(&DataType::String)?;
            i.as_materialized_series()
                .f64()?
                .iter()
                .zip(exact.as_materialized_series().str()?.iter())
                .map(|(v, text)| match (v, text) {
                    (Some(v), _) if v.abs() < MAX_EXACT_IN_EXCEL as f64 => Cell::Number(v),
                    (_, Some(text)) => Cell::Text(text.to_owned()),
                    _ => Cell::Empty,
                })
                .collect()
        }
        DataType::List(_) => {
            let name = column.name().clone();
            let list = column.cast(&DataType::List(Box::new(DataType::String)))?;
            let joined = DataFrame::new(list.len(), vec![list])?
                .lazy()
                .select([col(name.clone()).list().join(lit("、"), true)])
                .collect()?;
            joined
                .column(&name)?
                .as_materialized_series()
                .str()?
                .iter()
                .map(|v| v.map_or(Cell::Empty, Cell::text))
                .collect()
        }
        _ => {
            let text = column.cast(&DataType::String)?;
            text.as_materialized_series()
                .str()?
                .iter()
                .map(|v| v.map_or(Cell::Empty, Cell::text))
                .collect()
        }
    };
    Ok(cells)
}

/// A UTC instant (ms) as `tz`'s wall-clock time.
pub fn local_time(ms: i64, tz: chrono_tz::Tz) -> Cell {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(utc) => Cell::Time(utc.with_timezone(&tz).naive_local()),
        None => Cell::Empty,
    }
}
