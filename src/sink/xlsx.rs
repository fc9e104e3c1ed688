//! The run's XLSX workbook: a `summary` sheet first, then the sheets it is given (reports and
//! wide template tables); headers frozen, columns fitted, times in the job's zone. A report's
//! rates are percentages, and its [`ReportStyle`] may highlight a column and add a bar chart.
//! Which sheets, their names, the summary's lines and the file's name are the caller's.

use std::collections::BTreeSet;
use std::fs;

use chrono::NaiveDate;
use polars::prelude::*;
use polars_excel_writer::PolarsExcelWriter;
use rust_xlsxwriter::{
    Chart, ChartType, ConditionalFormatCell, ConditionalFormatCellRule, Format as CellFormat,
    Workbook, Worksheet,
};

use super::{check_component, commit_file, temp_path_for, OutputDir, SinkError, WrittenFile};

/// Excel's limits: rows per sheet (header included), characters per cell and per sheet name.
const MAX_SHEET_ROWS: usize = 1_048_576;
const MAX_CELL_CHARS: i64 = 32_767;
const MAX_SHEET_NAME_CHARS: usize = 31;
/// Integers above this lose digits in Excel (a double): such ids are written as text.
const MAX_EXACT_IN_EXCEL: u64 = 1 << 53;
/// Bars in a chart; beyond this a chart is unreadable anyway.
const MAX_CHART_BARS: usize = 60;

const PERCENT: &str = "0.0%";
const DATETIME: &str = "yyyy-mm-dd hh:mm:ss";

/// What a sheet holds, which decides its decoration.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetKind {
    /// Figures for people (a report): float `*_rate` columns as percentages, and what its
    /// [`ReportStyle`] adds.
    Report(ReportStyle),
    /// A table (e.g. `journals_wide__<template>`): written as it is.
    Table,
}

/// The decoration of a report sheet beyond its percentages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportStyle {
    /// Cells of this column above the threshold are highlighted (dark red on pink).
    pub highlight_above: Option<(&'static str, f64)>,
    /// A bar chart beside the table.
    pub chart: Option<BarChart>,
}

/// A bar chart of one column by another, over the sheet's first rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    pub title: &'static str,
    /// The column naming each bar.
    pub categories: &'static str,
    /// The column of the bars' lengths (a rate: the axis reads as percentages).
    pub values: &'static str,
}

/// One sheet to write.
pub struct WorkbookSheet<'a> {
    /// Wanted name; shortened to 31 characters, cleaned of `[]:*?/\`, and made unique.
    pub name: &'a str,
    pub frame: &'a DataFrame,
    pub kind: SheetKind,
}

#[derive(Debug, Clone, Default)]
pub struct WorkbookOptions {
    /// Show times in this zone (the job's) rather than UTC: Excel has no time zones, and an
    /// analyst reads 21:30 local, not 13:30Z. The Parquet/CSV/Arrow files keep UTC.
    pub timezone: Option<chrono_tz::Tz>,
}

/// A line of the summary sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryItem {
    pub label: String,
    pub value: SummaryValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SummaryValue {
    Text(String),
    Count(u64),
    /// Written as a percentage; `None` (no denominator) as an empty cell.
    Rate(Option<f64>),
    Date(Option<NaiveDate>),
}

impl SummaryItem {
    pub(crate) fn new(label: &str, value: SummaryValue) -> Self {
        SummaryItem {
            label: label.to_owned(),
            value,
        }
    }
}

/// Writes the workbook `<out>/<file_name>` (through a temporary name). Returns the file and the
/// warnings of anything shortened (sheet names, rows beyond Excel's limit, over-long cells).
pub fn write_workbook(
    out: &OutputDir,
    file_name: &str,
    summary: &[SummaryItem],
    sheets: &[WorkbookSheet<'_>],
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

    let mut used_names = BTreeSet::new();
    let summary_name = unique_sheet_name("summary", &mut used_names);
    write_summary_sheet(workbook.add_worksheet(), &summary_name, summary)
        .map_err(|e| xlsx_err(e.to_string()))?;

    let mut rows = 0u64;
    for sheet in sheets {
        let name = unique_sheet_name(sheet.name, &mut used_names);
        if name != sheet.name {
            warnings.push(format!(
                "sheet {:?} is named {name:?} (Excel: ≤ 31 characters, unique, no []:*?/\\)",
                sheet.name
            ));
        }
        let (frame, mut notes) = excel_ready(sheet.frame, options.timezone)
            .map_err(|e| xlsx_err(format!("sheet {name}: {e}")))?;
        warnings.extend(notes.drain(..).map(|n| format!("sheet {name}: {n}")));
        rows += frame.height() as u64;
        let worksheet = workbook.add_worksheet();
        write_data_sheet(worksheet, &name, &frame, &sheet.kind)
            .map_err(|e| xlsx_err(format!("sheet {name}: {e}")))?;
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

fn write_summary_sheet(
    sheet: &mut Worksheet,
    name: &str,
    items: &[SummaryItem],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    sheet.set_name(name)?;
    let bold = CellFormat::new().set_bold();
    let percent = CellFormat::new().set_num_format(PERCENT);
    let date = CellFormat::new().set_num_format("yyyy-mm-dd");
    sheet.write_with_format(0, 0, "item", &bold)?;
    sheet.write_with_format(0, 1, "value", &bold)?;
    for (i, item) in items.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write(row, 0, item.label.as_str())?;
        match &item.value {
            SummaryValue::Text(text) => {
                sheet.write(row, 1, text.as_str())?;
            }
            SummaryValue::Count(n) => {
                sheet.write(row, 1, *n as f64)?;
            }
            SummaryValue::Rate(Some(rate)) => {
                sheet.write_with_format(row, 1, *rate, &percent)?;
            }
            SummaryValue::Date(Some(d)) => {
                sheet.write_with_format(row, 1, d, &date)?;
            }
            SummaryValue::Rate(None) | SummaryValue::Date(None) => {}
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    Ok(())
}

fn write_data_sheet(
    sheet: &mut Worksheet,
    name: &str,
    frame: &DataFrame,
    kind: &SheetKind,
) -> Result<(), String> {
    sheet.set_name(name).map_err(|e| e.to_string())?;
    if frame.width() == 0 {
        return Ok(());
    }
    let rate_columns: Vec<String> = match kind {
        SheetKind::Report(_) => frame
            .columns()
            .iter()
            .filter(|c| c.name().ends_with("_rate") && c.dtype().is_float())
            .map(|c| c.name().to_string())
            .collect(),
        SheetKind::Table => Vec::new(),
    };

    if frame.height() == 0 {
        // An Excel table needs a data row: write the header alone.
        let bold = CellFormat::new().set_bold();
        for (i, column) in frame.columns().iter().enumerate() {
            sheet
                .write_with_format(0, i as u16, column.name().as_str(), &bold)
                .map_err(|e| e.to_string())?;
        }
        sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        sheet.autofit();
        return Ok(());
    }

    let mut writer = PolarsExcelWriter::new();
    writer
        .set_autofit(true)
        .set_freeze_panes(1, 0)
        .set_null_value("");
    for rate in &rate_columns {
        writer.set_column_format(rate, PERCENT);
    }
    for column in frame.columns() {
        if matches!(column.dtype(), DataType::Datetime(_, _)) {
            writer.set_column_format(column.name(), DATETIME);
        }
    }
    writer
        .write_dataframe_to_worksheet(frame, sheet, 0, 0)
        .map_err(|e| e.to_string())?;

    if let SheetKind::Report(style) = kind {
        decorate_report(sheet, name, frame, style)?;
    }
    Ok(())
}

/// A report's highlight and chart, over the data rows `frame` filled.
fn decorate_report(
    sheet: &mut Worksheet,
    name: &str,
    frame: &DataFrame,
    style: &ReportStyle,
) -> Result<(), String> {
    let last_row = frame.height() as u32;
    if let Some((column, threshold)) = style.highlight_above {
        if let Some(col) = column_index(frame, column) {
            let highlight = ConditionalFormatCell::new()
                .set_rule(ConditionalFormatCellRule::GreaterThan(threshold))
                .set_format(
                    CellFormat::new()
                        .set_font_color("9C0006")
                        .set_background_color("FFC7CE"),
                );
            sheet
                .add_conditional_format(1, col, last_row, col, &highlight)
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(spec) = &style.chart {
        if let (Some(category_col), Some(value_col)) = (
            column_index(frame, spec.categories),
            column_index(frame, spec.values),
        ) {
            let bars = last_row.min(MAX_CHART_BARS as u32);
            let mut chart = Chart::new(ChartType::Bar);
            chart
                .add_series()
                .set_name(spec.values)
                .set_categories((name, 1, category_col, bars, category_col))
                .set_values((name, 1, value_col, bars, value_col));
            chart.title().set_name(spec.title);
            chart.x_axis().set_num_format("0%");
            chart.legend().set_hidden();
            chart.set_width(720).set_height(480);
            let chart_col = frame.width() as u16 + 1;
            sheet
                .insert_chart(1, chart_col, &chart)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn column_index(frame: &DataFrame, name: &str) -> Option<u16> {
    frame
        .get_column_index(name)
        .and_then(|i| u16::try_from(i).ok())
}

/// Makes a frame fit Excel: lists joined with `;`, ids too big for a double (and `*_id`
/// integers) as text, over-long strings cut, rows beyond the sheet limit dropped, and types
/// Excel has no cell for as text. Returns notes on what was cut.
fn excel_ready(
    frame: &DataFrame,
    timezone: Option<chrono_tz::Tz>,
) -> PolarsResult<(DataFrame, Vec<String>)> {
    let mut notes = Vec::new();
    let local_zone = timezone
        .map(|tz| TimeZone::opt_try_new(Some(tz.name())))
        .transpose()?
        .flatten();
    let mut exprs = Vec::new();
    for column in frame.columns() {
        let name = column.name().clone();
        let c = col(name.clone());
        let expr = match column.dtype() {
            DataType::List(_) => c
                .cast(DataType::List(Box::new(DataType::String)))
                .list()
                .join(lit(";"), true),
            DataType::UInt64 | DataType::Int64 => {
                let too_big = column
                    .as_materialized_series()
                    .cast(&DataType::Float64)?
                    .f64()?
                    .iter()
                    .flatten()
                    .any(|v| v.abs() >= MAX_EXACT_IN_EXCEL as f64);
                if too_big || name.ends_with("_id") {
                    c.cast(DataType::String)
                } else {
                    c
                }
            }
            DataType::String => c,
            // UTC instants as the zone's wall-clock time (see `WorkbookOptions::timezone`).
            DataType::Datetime(_, Some(_)) => match &local_zone {
                Some(zone) => c
                    .dt()
                    .convert_time_zone(zone.clone())
                    .dt()
                    .replace_time_zone(None, lit("raise"), NonExistent::Raise),
                None => c,
            },
            DataType::Datetime(_, None) => c,
            DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Float32
            | DataType::Float64
            | DataType::Date
            | DataType::Time
            | DataType::Null => c,
            _ => c.cast(DataType::String),
        };
        exprs.push(expr);
    }
    let mut lazy = frame.clone().lazy().select(exprs);
    // Cut strings to Excel's cell limit (rust_xlsxwriter refuses longer ones).
    let schema = lazy.collect_schema()?;
    let mut cut = Vec::new();
    for (name, dtype) in schema.iter() {
        if dtype == &DataType::String {
            let too_long = frame
                .column(name)
                .ok()
                .and_then(|c| c.cast(&DataType::String).ok())
                .is_some_and(|c| {
                    c.as_materialized_series()
                        .str()
                        .map(|s| {
                            s.iter()
                                .flatten()
                                .any(|v| v.chars().count() as i64 > MAX_CELL_CHARS)
                        })
                        .unwrap_or(false)
                });
            if too_long {
                notes.push(format!(
                    "column {name}: texts longer than {MAX_CELL_CHARS} characters were cut"
                ));
                cut.push(
                    col(name.clone())
                        .str()
                        .slice(lit(0i64), lit(MAX_CELL_CHARS)),
                );
            }
        }
    }
    if !cut.is_empty() {
        lazy = lazy.with_columns(cut);
    }
    let mut ready = lazy.collect()?;
    let max_rows = MAX_SHEET_ROWS - 1;
    if ready.height() > max_rows {
        notes.push(format!(
            "{} rows exceed Excel's sheet limit; the first {max_rows} are written (the Parquet/CSV files hold all)",
            ready.height()
        ));
        ready = ready.slice(0, max_rows);
    }
    Ok((ready, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let mut used = BTreeSet::new();
        assert_eq!(unique_sheet_name("summary", &mut used), "summary");
        assert_eq!(unique_sheet_name("Summary", &mut used), "Summary~2");
        let long = "journals_wide__ZLqk8pcsAoXZ1eY56vpAgfX28MqNd5TyC3ao4ssM";
        let a = unique_sheet_name(long, &mut used);
        let b = unique_sheet_name(long, &mut used);
        assert_eq!(a.chars().count(), 31);
        assert_eq!(b.chars().count(), 31);
        assert!(b.ends_with("~2") && a != b, "{a} {b}");
        assert_eq!(unique_sheet_name("a/b:c[1]?'", &mut used), "a_b_c_1__");
        let chinese = unique_sheet_name(
            "journals_wide__销售日报销售日报销售日报销售日报销售日报",
            &mut used,
        );
        assert_eq!(chinese.chars().count(), 31);
    }
}
