//! The run's workbook as the pipeline decides it: its file name, the summary sheet's lines, a
//! sheet per report (styled by kind) and a wide sheet per template, capped. The sink writes
//! whatever it is given; this is where "which sheets, named how" lives.

use anyhow::Result;
use polars::prelude::*;

use super::outputs::{concat_frames, OutputsSummary, RunInfo};
use crate::flatten::schema::{JOURNALS, JOURNAL_CONTROLS};
use crate::flatten::{self, JournalTables};
use crate::job::{DateRange, ReportKind};
use crate::report::{self, ReportInputs, ReportSummary};
use crate::sink::{
    self, BarChart, OutputDir, ReportStyle, SheetKind, SummaryItem, SummaryValue, WorkbookOptions,
    WorkbookSheet,
};

/// Journals kept for the wide sheets, over all templates (the tables hold them all).
pub(crate) const WIDE_SHEET_MAX_JOURNALS: usize = 100_000;

/// `late_rate` cells above this are highlighted in every report sheet.
pub(crate) const LATE_RATE_HIGHLIGHT: f64 = 0.2;

/// The prefix of a template's wide sheet: `journals_wide__<template name>`.
pub(crate) const WIDE_SHEET_PREFIX: &str = "journals_wide__";

/// The journals and top-level controls kept, batch by batch, for the wide sheets.
#[derive(Default)]
pub(crate) struct WideSheets {
    journals: Vec<DataFrame>,
    controls: Vec<DataFrame>,
    kept: usize,
    truncated: bool,
}

impl WideSheets {
    /// The journals' columns a wide sheet shows: all but the rich-text `sys_journal_data`.
    fn journal_columns() -> Vec<&'static str> {
        JOURNALS
            .column_names()
            .into_iter()
            .filter(|c| *c != "sys_journal_data")
            .collect()
    }

    /// Keeps a written batch's journals and top-level controls, until the cap is reached.
    pub(crate) fn keep(&mut self, tables: &JournalTables) -> Result<()> {
        if self.kept >= WIDE_SHEET_MAX_JOURNALS {
            self.truncated = true;
            return Ok(());
        }
        self.kept += tables.journals.height();
        self.journals.push(
            tables
                .journals
                .select(Self::journal_columns().iter().copied())?,
        );
        let top_level = tables
            .journal_controls
            .column("parent_control_id")?
            .is_null();
        self.controls
            .push(tables.journal_controls.filter(&top_level)?);
        Ok(())
    }

    /// A `journals_wide__<template name>` sheet per template seen, in order of first journal.
    fn sheets(self) -> Result<Vec<(String, DataFrame)>> {
        let journals = concat_frames(self.journals, &JOURNALS, &Self::journal_columns())?;
        let controls = concat_frames(
            self.controls,
            &JOURNAL_CONTROLS,
            &JOURNAL_CONTROLS.column_names(),
        )?;
        let mut wide = vec![];
        if journals.height() == 0 {
            return Ok(wide);
        }
        let templates = journals
            .select(["template_id", "template_name"])?
            .unique_stable(None, UniqueKeepStrategy::First, None)?;
        let ids = templates.column("template_id")?.str()?.clone();
        let names = templates.column("template_name")?.str()?.clone();
        for (id, name) in ids.iter().zip(names.iter()) {
            let Some(id) = id else { continue };
            let frame = flatten::pivot_wide(&journals, &controls, id)?;
            wide.push((format!("{WIDE_SHEET_PREFIX}{}", name.unwrap_or(id)), frame));
        }
        Ok(wide)
    }
}

/// Writes the workbook: the summary, the reports, then the wide sheets.
pub(crate) fn write(
    run: &RunInfo<'_>,
    inputs: &ReportInputs,
    reports: &[(ReportKind, DataFrame)],
    wide: WideSheets,
    out: &OutputDir,
    written: &mut OutputsSummary,
) -> Result<()> {
    let (job, range) = (run.job, run.range);
    let summary = report::summary(inputs)?;
    let items = summary_items(&job.name, &range, run.run_id, &summary);
    let truncated = wide.truncated;
    let wide = wide.sheets()?;
    if truncated {
        written.warnings.push(format!(
            "workbook wide sheets hold the first {WIDE_SHEET_MAX_JOURNALS} journals; the tables hold them all"
        ));
    }
    let mut sheets: Vec<WorkbookSheet<'_>> = reports
        .iter()
        .map(|(kind, frame)| WorkbookSheet {
            name: kind.name(),
            frame,
            kind: report_sheet_kind(*kind),
        })
        .collect();
    sheets.extend(wide.iter().map(|(name, frame)| WorkbookSheet {
        name,
        frame,
        kind: SheetKind::Table,
    }));
    let (file, warnings) = sink::write_workbook(
        out,
        &workbook_file_name(&job.name, &range),
        &items,
        &sheets,
        &WorkbookOptions {
            timezone: Some(job.source.timezone),
        },
    )?;
    written.warnings.extend(warnings);
    written.files.push(file);
    Ok(())
}

/// How a report's sheet is decorated: late rates over 20 % highlighted, and
/// for `late_rate_by_department` a chart of late rate by department.
pub fn report_sheet_kind(kind: ReportKind) -> SheetKind {
    SheetKind::Report(ReportStyle {
        highlight_above: Some(("late_rate", LATE_RATE_HIGHLIGHT)),
        chart: (kind == ReportKind::LateRateByDepartment).then_some(BarChart {
            title: "Late rate by department",
            categories: "department_name",
            values: "late_rate",
        }),
    })
}

/// `<job>-<start>_<end>.xlsx`, with characters a file name cannot hold replaced.
pub fn workbook_file_name(job: &str, range: &DateRange) -> String {
    let job: String = job
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{job}-{}_{}.xlsx", range.start, range.end)
}

/// The summary sheet's lines for a run.
pub fn summary_items(
    job: &str,
    range: &DateRange,
    run_id: &str,
    summary: &ReportSummary,
) -> Vec<SummaryItem> {
    use SummaryValue::*;
    vec![
        SummaryItem::new("job", Text(job.to_owned())),
        SummaryItem::new("run_id", Text(run_id.to_owned())),
        SummaryItem::new("range_start", Date(Some(range.start))),
        SummaryItem::new("range_end (exclusive)", Date(Some(range.end))),
        SummaryItem::new("first_date_seen", Date(summary.first_date)),
        SummaryItem::new("last_date_seen", Date(summary.last_date)),
        SummaryItem::new("journals", Count(summary.journals)),
        SummaryItem::new("users", Count(summary.users)),
        SummaryItem::new("departments", Count(summary.departments)),
        SummaryItem::new("templates", Count(summary.templates)),
        SummaryItem::new("expected", Count(summary.expected)),
        SummaryItem::new("reported", Count(summary.reported)),
        SummaryItem::new("on_time", Count(summary.on_time)),
        SummaryItem::new("late", Count(summary.late)),
        SummaryItem::new("unreported", Count(summary.unreported)),
        SummaryItem::new("late_rate", Rate(summary.late_rate)),
        SummaryItem::new("on_time_rate", Rate(summary.on_time_rate)),
        SummaryItem::new("unreported_rate", Rate(summary.unreported_rate)),
        SummaryItem::new("receivers", Count(summary.receivers)),
        SummaryItem::new("reads", Count(summary.reads)),
        SummaryItem::new("read_rate", Rate(summary.read_rate)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn workbook_file_names_carry_job_and_range() {
        let range = DateRange {
            start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        };
        assert_eq!(
            workbook_file_name("monthly-compliance", &range),
            "monthly-compliance-2026-10-01_2026-11-01.xlsx"
        );
        assert_eq!(
            workbook_file_name("a/b c", &range),
            "a_b_c-2026-10-01_2026-11-01.xlsx"
        );
    }

    #[test]
    fn only_the_department_report_has_a_chart() {
        for kind in ReportKind::ALL {
            let SheetKind::Report(style) = report_sheet_kind(kind) else {
                panic!("{kind:?} is a report");
            };
            assert_eq!(style.highlight_above, Some(("late_rate", 0.2)));
            assert_eq!(
                style.chart.is_some(),
                kind == ReportKind::LateRateByDepartment,
                "{kind:?}"
            );
        }
    }
}
