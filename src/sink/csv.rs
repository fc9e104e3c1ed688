//! How CSV cells are written: nested values joined, and — in CSV meant for people — text a
//! spreadsheet would run as a formula neutralised (OWASP "CSV injection") and, for the reports,
//! instants as local times with their offset (`2026-10-01 00:00:00+08:00`), which spreadsheets
//! read as dates where `2026-09-30T16:00:00.000+0000` stays text. Parquet, Arrow IPC and the
//! workbook keep the exact text and UTC instants; only CSV files change.

use std::borrow::Cow;

use polars::prelude::*;

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvStyle {
    /// Start the file with a UTF-8 BOM, so that Excel reads Chinese text right.
    pub(crate) bom: bool,
    /// Start a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return with
    /// `'`, so that a spreadsheet shows it as text instead of running it (journal text is
    /// written by employees; a CSV opened in Excel would run `=HYPERLINK(…)`).
    pub(crate) escape_formulas: bool,
    /// Write UTC instants (`Datetime` columns with a zone) as this zone's local time with the
    /// offset, `2026-10-01 00:00:00+08:00` (the reports, for people); `None` keeps polars'
    /// UTC rendering (the tables, for programs).
    pub(crate) local_times: Option<chrono_tz::Tz>,
}

/// How [`CsvStyle::local_times`] writes an instant: local wall time and its offset.
pub(crate) const LOCAL_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%:z";

impl From<bool> for CsvStyle {
    /// `bom`: a CSV with a BOM is one for Excel users, so its formulas are neutralised too.
    fn from(bom: bool) -> CsvStyle {
        CsvStyle {
            bom,
            escape_formulas: bom,
            local_times: None,
        }
    }
}

fn is_instant(dtype: &DataType) -> bool {
    matches!(dtype, DataType::Datetime(_, Some(_)))
}

/// Every instant column as `tz`'s wall time with its offset ([`LOCAL_TIME_FORMAT`]).
fn local_times(frame: DataFrame, tz: chrono_tz::Tz) -> PolarsResult<DataFrame> {
    let instants: Vec<PlSmallStr> = frame
        .columns()
        .iter()
        .filter(|c| is_instant(c.dtype()))
        .map(|c| c.name().clone())
        .collect();
    if instants.is_empty() {
        return Ok(frame);
    }
    let zone = TimeZone::opt_try_new(Some(tz.name()))?.unwrap_or(TimeZone::UTC);
    let exprs: Vec<Expr> = instants
        .into_iter()
        .map(|name| {
            col(name)
                .dt()
                .convert_time_zone(zone.clone())
                .dt()
                .strftime(LOCAL_TIME_FORMAT)
        })
        .collect();
    frame.lazy().with_columns(exprs).collect()
}

/// Whether a spreadsheet would take `text` for a formula (OWASP's list of leading characters).
pub(crate) fn looks_like_a_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `text`, with a leading `'` when a spreadsheet would take it for a formula.
fn neutralised(text: &str) -> Cow<'_, str> {
    if looks_like_a_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The schema a CSV file has: list columns become `;`-joined strings, and so do instants
/// written as local times.
pub(super) fn csv_schema(schema: &Schema, style: CsvStyle) -> Schema {
    schema
        .iter()
        .map(|(name, dtype)| {
            let local = style.local_times.is_some() && is_instant(dtype);
            let dtype = if matches!(dtype, DataType::List(_)) || local {
                DataType::String
            } else {
                dtype.clone()
            };
            (name.clone(), dtype)
        })
        .collect()
}

/// CSV cannot hold nested values: list columns are joined with `;`, as a spreadsheet user
/// expects; then, with `style.escape_formulas`, every text cell is [`neutralised`]; everything
/// else is written as it is.
pub(super) fn csv_ready(batch: &DataFrame, style: CsvStyle) -> PolarsResult<DataFrame> {
    let mut joined = join_lists(batch)?;
    if let Some(tz) = style.local_times {
        joined = local_times(joined, tz)?;
    }
    if !style.escape_formulas {
        return Ok(joined);
    }
    let columns = joined
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::String => {
                let text = c.as_materialized_series().str()?.apply_values(neutralised);
                Ok(text.into_series().into_column())
            }
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(joined.height(), columns)
}

fn join_lists(batch: &DataFrame) -> PolarsResult<DataFrame> {
    let list_columns: Vec<Expr> = batch
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::List(_)))
        .map(|c| {
            col(c.name().clone())
                .cast(DataType::List(Box::new(DataType::String)))
                .list()
                .join(lit(";"), true)
        })
        .collect();
    if list_columns.is_empty() {
        return Ok(batch.clone());
    }
    batch.clone().lazy().with_columns(list_columns).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owasp_leading_characters_get_a_quote() {
        for formula in [
            "=1+2",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"x\")",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"), "{formula:?}");
        }
        for text in ["", "1-2", "a=b", " =1", "'=1", "周报", "x@y"] {
            assert_eq!(neutralised(text), text, "{text:?}");
        }
    }

    #[test]
    fn only_text_cells_and_only_when_asked() {
        let frame = DataFrame::new_infer_height(vec![
            Column::new("text".into(), [Some("=1+2"), None, Some("ok")]),
            Column::new("n".into(), [-1i64, 2, 3]),
            Series::new(
                "ids".into(),
                [
                    Some(Series::new("".into(), ["-x", "y"])),
                    None,
                    Some(Series::new("".into(), ["z"])),
                ],
            )
            .into(),
        ])
        .unwrap();
        let people = CsvStyle {
            bom: false,
            escape_formulas: true,
            local_times: None,
        };
        let out = csv_ready(&frame, people).unwrap();
        let text: Vec<Option<&str>> = out.column("text").unwrap().str().unwrap().iter().collect();
        assert_eq!(text, [Some("'=1+2"), None, Some("ok")]);
        let ids: Vec<Option<&str>> = out.column("ids").unwrap().str().unwrap().iter().collect();
        assert_eq!(ids, [Some("'-x;y"), None, Some("z")]);
        // Numbers stay numbers, negative ones included.
        assert_eq!(out.column("n").unwrap(), frame.column("n").unwrap());
        let machines = csv_ready(&frame, CsvStyle::default()).unwrap();
        let text: Vec<Option<&str>> = machines
            .column("text")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(text, [Some("=1+2"), None, Some("ok")]);
    }
}
