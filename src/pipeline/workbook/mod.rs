//! The run's workbook as the pipeline decides it, for the people it is forwarded to: its file
//! name, a summary that reads like a report (per template, the worst departments and people),
//! a sheet per report led by names with ids at the end, a chart sheet per template, and the
//! wide sheets ([`wide`]). Every word is in the job's `output.language` (the sink's labels);
//! the sink writes whatever it is given. This is where "which sheets, named how" lives.

mod wide;

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use super::outputs::{OutputsSummary, RunInfo};
use crate::flatten::{self, Directory};
use crate::job::plan::local_midnight;
use crate::job::{DateRange, Job, Language, ReportKind};
use crate::report::{self, ReportInputs};
use crate::sink::labels::{label, label_with};
use crate::sink::{
    self, frame_rows, Cell, ChartRow, ChartSheet, Highlight, OutputDir, SummaryBlock, SummarySheet,
    TableSheet, TrendPoint, WorkbookOptions, WorkbookPlan,
};
use crate::store::Store;

pub(crate) use wide::WideSheets;

/// Late rates above this are highlighted (report sheets) and red (charts), in groups that are
/// not small.
pub(crate) const LATE_RATE_HIGHLIGHT: f64 = 0.2;
/// Departments and people in the summary's worst lists.
const WORST_DEPARTMENTS: usize = 5;
const WORST_PEOPLE: usize = 10;

/// The period before the run's range and the stats the store holds of it, for the summary's
/// month-on-month columns.
pub(crate) struct PreviousPeriod {
    range: DateRange,
    inputs: ReportInputs,
}

/// The period before `range`: as many whole months before a range of whole months (September
/// before October, the two quarters' months alike), else as many days before.
fn previous_range(range: DateRange) -> Result<DateRange> {
    use chrono::Datelike;
    let month_index = |d: chrono::NaiveDate| d.year() * 12 + d.month0() as i32;
    let months = month_index(range.end) - month_index(range.start);
    let start = if range.start.day() == 1 && range.end.day() == 1 && months > 0 {
        range.start - chrono::Months::new(months as u32)
    } else {
        range.start - chrono::Days::new(range.days() as u64)
    };
    DateRange::new(start, range.start).map_err(anyhow::Error::msg)
}

/// The stats of the period before the run's range, when the store holds any (a first month,
/// or a store that began with this range, has none: the summary says so).
pub(crate) fn previous_period(
    run: &RunInfo<'_>,
    store: &Store,
    directory: &Directory,
) -> Result<Option<PreviousPeriod>> {
    let range = previous_range(run.range)?;
    let tz = run.job.source.timezone;
    let cycles = store.stat_cycles_in_range(
        local_midnight(tz, range.start),
        local_midnight(tz, range.end),
    )?;
    if cycles.is_empty() {
        return Ok(None);
    }
    let stats = flatten::flatten_stats(&cycles, directory, tz)?;
    let items = stats.stat_items.lazy().filter(
        col("cycle_date")
            .gt_eq(lit(range.start))
            .and(col("cycle_date").lt(lit(range.end))),
    );
    let inputs = ReportInputs::with_totals(items, report::JournalTotals::new())?;
    Ok(Some(PreviousPeriod { range, inputs }))
}

/// Writes the workbook: the summary, the reports, a chart per template, then the wide sheets.
pub(crate) fn write(
    run: &RunInfo<'_>,
    inputs: &ReportInputs,
    reports: &[(ReportKind, DataFrame)],
    previous: Option<PreviousPeriod>,
    wide: WideSheets,
    out: &OutputDir,
    written: &mut OutputsSummary,
) -> Result<()> {
    let job = run.job;
    let lang = job.output.language;
    let report_of = |kind: ReportKind| -> Result<DataFrame> {
        match reports.iter().find(|(k, _)| *k == kind) {
            Some((_, frame)) => Ok(frame.clone()),
            None => Ok(report::build(kind, inputs, job.period())?),
        }
    };
    let by_department = Groups::of(&report_of(ReportKind::LateRateByDepartment)?)?;
    let by_user = Groups::of(&report_of(ReportKind::LateRateByUser)?)?;
    let people = People { wide: &wide };
    let previous = match previous {
        Some(p) => {
            let frame = report::build(ReportKind::LateRateByDepartment, &p.inputs, job.period())?;
            Some((p.range, Groups::of(&frame)?))
        }
        None => None,
    };

    let plan = WorkbookPlan {
        summary: summary_sheet(
            run,
            inputs,
            &by_department,
            previous.as_ref(),
            &by_user,
            &people,
        )?,
        tables: reports
            .iter()
            .map(|(kind, frame)| report_sheet(job, *kind, frame, &people))
            .collect::<Result<_>>()?,
        charts: chart_sheets(job, &by_department, &people),
        wide: Vec::new(),
    };
    let plan = WorkbookPlan {
        wide: wide.into_sheets(),
        ..plan
    };
    let options = WorkbookOptions {
        language: lang,
        job: job.name.clone(),
        range: range_text(&run.range),
    };
    let (file, warnings) = sink::write_workbook(
        out,
        &workbook_file_name(&job.name, &run.range),
        plan,
        &options,
    )?;
    written.warnings.extend(warnings);
    written.files.push(file);
    Ok(())
}

/// The range as a reader says it: first and last day, inclusive (`2026-10-01 – 2026-10-31`).
pub(crate) fn range_text(range: &DateRange) -> String {
    let last = range.end.pred_opt().unwrap_or(range.end).max(range.start);
    format!("{} – {last}", range.start)
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

/// Names for ids, from the directory.
struct People<'a> {
    wide: &'a WideSheets,
}

impl People<'_> {
    fn department(&self, id: Option<u64>, name: Option<&str>) -> String {
        self.wide.department_path(id, name)
    }
    fn user(&self, userid: &str) -> String {
        self.wide.user_name(userid)
    }
}

/// Counts of one group of user × cycle pairs, summed over report rows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Counts {
    expected: u64,
    reported: u64,
    on_time: u64,
    late: u64,
    unreported: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.expected += other.expected;
        self.reported += other.reported;
        self.on_time += other.on_time;
        self.late += other.late;
        self.unreported += other.unreported;
    }
    fn late_rate(&self) -> Option<f64> {
        (self.reported > 0).then(|| self.late as f64 / self.reported as f64)
    }
    fn unreported_rate(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.unreported as f64 / self.expected as f64)
    }
    fn missed(&self) -> u64 {
        self.late + self.unreported
    }
}

/// A column of `frame` as unsigned integers (ids).
fn u64_column(frame: &DataFrame, name: &str) -> Result<Vec<Option<u64>>> {
    Ok(frame
        .column(name)?
        .cast(&DataType::UInt64)?
        .as_materialized_series()
        .u64()?
        .iter()
        .collect())
}

/// The rows of a stat report (by department or by user), as plain values.
struct Groups {
    rows: Vec<GroupRow>,
}

struct GroupRow {
    period: String,
    template_id: Option<String>,
    template_name: String,
    department_id: Option<u64>,
    department_name: Option<String>,
    userid: Option<String>,
    counts: Counts,
}

impl Groups {
    fn of(frame: &DataFrame) -> Result<Groups> {
        let text = |name: &str| -> Result<Vec<Option<String>>> {
            match frame.column(name) {
                Ok(c) => Ok(c
                    .cast(&DataType::String)?
                    .as_materialized_series()
                    .str()?
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect()),
                Err(_) => Ok(vec![None; frame.height()]),
            }
        };
        let count = |name: &str| -> Result<Vec<u64>> {
            let c = frame.column(name)?.cast(&DataType::UInt64)?;
            Ok(c.as_materialized_series()
                .u64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        };
        let ids = u64_column(frame, "department_id")?;
        let (period, template_id, template_name) = (
            text("period")?,
            text("template_id")?,
            text("template_name")?,
        );
        let (department_name, userid) = (text("department_name")?, text("userid")?);
        let (expected, reported, on_time, late, unreported) = (
            count("expected")?,
            count("reported")?,
            count("on_time")?,
            count("late")?,
            count("unreported")?,
        );
        let rows = (0..frame.height())
            .map(|i| GroupRow {
                period: period[i].clone().unwrap_or_default(),
                template_id: template_id[i].clone(),
                template_name: template_name[i].clone().unwrap_or_default(),
                department_id: ids[i],
                department_name: department_name[i].clone(),
                userid: userid[i].clone(),
                counts: Counts {
                    expected: expected[i],
                    reported: reported[i],
                    on_time: on_time[i],
                    late: late[i],
                    unreported: unreported[i],
                },
            })
            .collect();
        Ok(Groups { rows })
    }

    /// Counts summed by `key`, in order of first sight, with the first row of each.
    fn sum_by<K: std::hash::Hash + Eq + Clone>(
        &self,
        key: impl Fn(&GroupRow) -> K,
    ) -> Vec<(&GroupRow, Counts)> {
        let mut index: HashMap<K, usize> = HashMap::new();
        let mut out: Vec<(&GroupRow, Counts)> = Vec::new();
        for row in &self.rows {
            let k = key(row);
            let i = *index.entry(k).or_insert_with(|| {
                out.push((row, Counts::default()));
                out.len() - 1
            });
            out[i].1.add(&row.counts);
        }
        out
    }
}

/// The summary sheet: what the workbook covers, each template's figures with the rates'
/// definitions, the worst departments and people.
fn summary_sheet(
    run: &RunInfo<'_>,
    inputs: &ReportInputs,
    by_department: &Groups,
    previous: Option<&(DateRange, Groups)>,
    by_user: &Groups,
    people: &People<'_>,
) -> Result<SummarySheet> {
    let job = run.job;
    let lang = job.output.language;
    let l = |key: &str| label(lang, key);
    let headline = report::summary(inputs)?;
    let seen = match (headline.first_date, headline.last_date) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => String::new(),
    };
    let facts = vec![
        (l("summary.job"), Cell::text(job.name.clone())),
        (l("summary.range"), Cell::text(range_text(&run.range))),
        (l("summary.seen"), Cell::text(seen)),
        (l("summary.run"), Cell::text(run.run_id)),
        (l("journals"), Cell::count(headline.journals)),
        (l("summary.people"), Cell::count(headline.users)),
        (l("summary.departments"), Cell::count(headline.departments)),
        (l("summary.templates"), Cell::count(headline.templates)),
    ];

    let blocks = vec![
        per_template_block(job, by_department, previous),
        worst_departments_block(lang, by_department, people),
        worst_people_block(lang, by_user, people),
    ];
    Ok(SummarySheet {
        name: l("sheet.summary"),
        title: format!("{} · {}", l("summary.title"), job.name),
        facts,
        blocks,
    })
}

/// Each template's figures, with the rates' definitions in words and, month on month, the
/// previous period's rates and the change in points.
fn per_template_block(
    job: &Job,
    by_department: &Groups,
    previous: Option<&(DateRange, Groups)>,
) -> SummaryBlock {
    let lang = job.output.language;
    let l = |key: &str| label(lang, key);
    let mut templates = by_department.sum_by(|r| r.template_id.clone());
    templates.sort_by(|a, b| a.0.template_name.cmp(&b.0.template_name));
    // Month on month: the previous period's rates per template, and the change in points.
    let before: HashMap<Option<String>, Counts> = previous
        .map(|(_, groups)| {
            groups
                .sum_by(|r| r.template_id.clone())
                .into_iter()
                .map(|(row, c)| (row.template_id.clone(), c))
                .collect()
        })
        .unwrap_or_default();
    let change = |now: Option<f64>, then: Option<f64>| now.zip(then).map(|(a, b)| a - b);
    let previous_note = match previous {
        Some((range, _)) => format!("{}: {}", l("summary.previous"), range_text(range)),
        None => l("summary.no_previous"),
    };
    SummaryBlock {
        title: l("summary.by_template"),
        headers: [
            "template_name",
            "expected",
            "reported",
            "on_time",
            "late",
            "unreported",
            "late_rate",
            "unreported_rate",
            "late_rate_previous",
            "late_rate_change",
            "unreported_rate_previous",
            "unreported_rate_change",
            "template_id",
        ]
        .iter()
        .map(|k| label(lang, k))
        .collect(),
        rows: templates
            .iter()
            .map(|(row, c)| {
                let then = before.get(&row.template_id);
                let late_then = then.and_then(Counts::late_rate);
                let unreported_then = then.and_then(Counts::unreported_rate);
                vec![
                    Cell::text(row.template_name.clone()),
                    Cell::count(c.expected),
                    Cell::count(c.reported),
                    Cell::count(c.on_time),
                    Cell::count(c.late),
                    Cell::count(c.unreported),
                    Cell::rate(c.late_rate()),
                    Cell::rate(c.unreported_rate()),
                    Cell::rate(late_then),
                    Cell::rate(change(c.late_rate(), late_then)),
                    Cell::rate(unreported_then),
                    Cell::rate(change(c.unreported_rate(), unreported_then)),
                    Cell::text(row.template_id.clone().unwrap_or_default()),
                ]
            })
            .collect(),
        notes: vec![
            l("def.expected"),
            l("def.on_time"),
            l("def.late_rate"),
            l("def.unreported_rate"),
            l("def.templates"),
            previous_note,
            label_with(
                lang,
                "def.small",
                &[("n", job.output.min_group_size.to_string())],
            ),
        ],
    }
}

/// The departments with the most late or unreported reports.
fn worst_departments_block(
    lang: Language,
    by_department: &Groups,
    people: &People<'_>,
) -> SummaryBlock {
    let l = |key: &str| label(lang, key);
    let mut departments = by_department.sum_by(|r| (r.department_id, r.department_name.clone()));
    departments.retain(|(_, c)| c.missed() > 0);
    departments.sort_by_key(|(_, c)| std::cmp::Reverse(c.missed()));
    departments.truncate(WORST_DEPARTMENTS);
    SummaryBlock {
        title: l("summary.worst_departments"),
        headers: [
            "department_path",
            "late",
            "unreported",
            "missed",
            "department_id",
        ]
        .iter()
        .map(|k| label(lang, k))
        .collect(),
        rows: departments
            .iter()
            .map(|(row, c)| {
                vec![
                    Cell::text(
                        people.department(row.department_id, row.department_name.as_deref()),
                    ),
                    Cell::count(c.late),
                    Cell::count(c.unreported),
                    Cell::count(c.missed()),
                    row.department_id.map_or(Cell::Empty, Cell::integer),
                ]
            })
            .collect(),
        notes: Vec::new(),
    }
}

/// The people with the most late or unreported reports.
fn worst_people_block(lang: Language, by_user: &Groups, people: &People<'_>) -> SummaryBlock {
    let l = |key: &str| label(lang, key);
    let mut users = by_user.sum_by(|r| r.userid.clone());
    users.retain(|(_, c)| c.missed() > 0);
    users.sort_by_key(|(_, c)| std::cmp::Reverse(c.missed()));
    users.truncate(WORST_PEOPLE);
    SummaryBlock {
        title: l("summary.worst_people"),
        headers: [
            "user_name",
            "department_path",
            "late",
            "unreported",
            "missed",
            "userid",
        ]
        .iter()
        .map(|k| label(lang, k))
        .collect(),
        rows: users
            .iter()
            .map(|(row, c)| {
                let userid = row.userid.clone().unwrap_or_default();
                vec![
                    Cell::text(people.user(&userid)),
                    Cell::text(
                        people.department(row.department_id, row.department_name.as_deref()),
                    ),
                    Cell::count(c.late),
                    Cell::count(c.unreported),
                    Cell::count(c.missed()),
                    Cell::text(userid),
                ]
            })
            .collect(),
        notes: Vec::new(),
    }
}

/// Columns a report sheet leads with (names), and those it ends with (ids).
const LEAD: &[&str] = &["period", "template_name", "user_name", "department_path"];
const TAIL: &[&str] = &["userid", "department_id", "template_id"];

/// A report as a sheet for people: names first (department path, template, person), counts
/// and rates, `small_group` where there is an `expected`, ids at the end; the department name
/// is the path's last part, so it is left out.
fn report_sheet(
    job: &Job,
    kind: ReportKind,
    frame: &DataFrame,
    people: &People<'_>,
) -> Result<TableSheet> {
    let lang = job.output.language;
    let mut frame = frame.clone();
    if frame.get_column_index("department_id").is_some() {
        let ids = u64_column(&frame, "department_id")?;
        let names: Vec<Option<String>> = frame
            .column("department_name")?
            .as_materialized_series()
            .str()?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect();
        let paths: Vec<String> = ids
            .iter()
            .zip(&names)
            .map(|(id, name)| people.department(*id, name.as_deref()))
            .collect();
        frame.with_column(Column::new("department_path".into(), paths))?;
    }
    if frame.get_column_index("userid").is_some() {
        let users: Vec<Option<String>> = frame
            .column("userid")?
            .as_materialized_series()
            .str()?
            .iter()
            .map(|v| v.map(|u| people.user(u)))
            .collect();
        frame.with_column(Column::new("user_name".into(), users))?;
    }
    let min = job.output.min_group_size;
    if frame.get_column_index("expected").is_some() {
        let yes = label(lang, "yes");
        let small: Vec<Option<String>> = frame
            .column("expected")?
            .cast(&DataType::UInt64)?
            .as_materialized_series()
            .u64()?
            .iter()
            .map(|n| (n.unwrap_or(0) < u64::from(min)).then(|| yes.clone()))
            .collect();
        frame.with_column(Column::new("small_group".into(), small))?;
    }
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let has = |c: &&str| names.iter().any(|n| n == c);
    let mut order: Vec<&str> = LEAD.iter().copied().filter(has).collect();
    order.extend(
        names
            .iter()
            .map(String::as_str)
            .filter(|n| !LEAD.contains(n) && !TAIL.contains(n) && *n != "department_name"),
    );
    order.extend(TAIL.iter().copied().filter(has));
    let frame = frame.select(order.iter().copied())?;
    let highlight = match (
        order.iter().position(|c| *c == "late_rate"),
        order.iter().position(|c| *c == "expected"),
    ) {
        (Some(column), Some(size_column)) => Some(Highlight {
            column,
            above: LATE_RATE_HIGHLIGHT,
            size_column,
            min_size: min,
        }),
        _ => None,
    };
    Ok(TableSheet {
        name: label(lang, &format!("sheet.{}", kind.name())),
        headers: order.iter().map(|c| label(lang, c)).collect(),
        rows: frame_rows(&frame, job.source.timezone)?,
        highlight,
    })
}

/// A chart sheet per template: late and unreported rate by department over the whole range
/// (sorted, n in each label, small groups marked), and the trend by period when there are
/// several.
fn chart_sheets(job: &Job, by_department: &Groups, people: &People<'_>) -> Vec<ChartSheet> {
    let lang = job.output.language;
    let l = |key: &str| label(lang, key);
    let min = u64::from(job.output.min_group_size);
    let mut templates = by_department.sum_by(|r| r.template_id.clone());
    templates.sort_by(|a, b| a.0.template_name.cmp(&b.0.template_name));
    let mut sheets = Vec::new();
    for (template, _) in templates {
        let key = template.template_id.clone();
        let departments: Vec<(&GroupRow, Counts)> = by_department
            .sum_by(|r| {
                (
                    r.template_id.clone(),
                    r.department_id,
                    r.department_name.clone(),
                )
            })
            .into_iter()
            .filter(|(r, _)| r.template_id == key)
            .collect();
        let mut rows: Vec<ChartRow> = departments
            .iter()
            .map(|(r, c)| {
                let small = c.expected < min;
                let name = people.department(r.department_id, r.department_name.as_deref());
                let label = if small {
                    format!("{name} (n={}, {})", c.expected, l("chart.small"))
                } else {
                    format!("{name} (n={})", c.expected)
                };
                ChartRow {
                    label,
                    expected: c.expected,
                    late_rate: c.late_rate(),
                    unreported_rate: c.unreported_rate(),
                    small,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let key = |r: &ChartRow| {
                (
                    r.unreported_rate.unwrap_or(-1.0),
                    r.late_rate.unwrap_or(-1.0),
                )
            };
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let trend: Vec<TrendPoint> = by_department
            .sum_by(|r| (r.template_id.clone(), r.period.clone()))
            .into_iter()
            .filter(|(r, _)| r.template_id == key)
            .map(|(r, c)| TrendPoint {
                period: r.period.clone(),
                late_rate: c.late_rate(),
                unreported_rate: c.unreported_rate(),
            })
            .collect();
        let percent = format!("{:.0}%", LATE_RATE_HIGHLIGHT * 100.0);
        sheets.push(ChartSheet {
            name: format!("{}·{}", l("sheet.chart"), template.template_name),
            title: format!("{} · {}", template.template_name, l("chart.by_department")),
            headers: [
                l("department_path"),
                l("expected"),
                l("late_rate"),
                l("unreported_rate"),
                l("small_group"),
            ],
            small_mark: l("yes"),
            rows,
            series: [l("late_rate"), l("unreported_rate")],
            value_axis: l("chart.rate_axis"),
            category_axis: l("chart.department_axis"),
            highlight_above: LATE_RATE_HIGHLIGHT,
            note: label_with(
                lang,
                "chart.note",
                &[("n", min.to_string()), ("t", percent)],
            ),
            trend,
            trend_title: format!("{} · {}", template.template_name, l("chart.trend")),
            trend_axis: l("chart.period_axis"),
        });
    }
    sheets
}

/// The sheet name of a report in a language (tests and docs name sheets through it).
pub fn report_sheet_name(kind: ReportKind, language: Language) -> String {
    label(language, &format!("sheet.{}", kind.name()))
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
        assert_eq!(range_text(&range), "2026-10-01 – 2026-10-31");
    }

    #[test]
    fn every_report_has_a_sheet_name_in_both_languages() {
        for kind in ReportKind::ALL {
            let zh = report_sheet_name(kind, Language::Zh);
            let en = report_sheet_name(kind, Language::En);
            assert_ne!(zh, en, "{kind:?}");
            assert!(!en.contains('_'), "{en}");
        }
    }
}
