//! Normalize and load: the stored responses of a range → flatten → reports → sinks, from the
//! store alone (no network). What `run` does after extracting and all that `rebuild` does.
//!
//! The decisions that belong to no one stage live here: which months a run owns (it replaces
//! those partitions whole), how the store is streamed (a second thread decodes the next batch
//! while this one flattens and writes), which wedrive files reach flatten as `local_path`, and
//! which journal columns are kept for the reports and the workbook.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use chrono::Datelike;
use chrono_tz::Tz;
use polars::prelude::*;

use super::templates::Templates;
use super::workbook::{self, WideSheets};
use super::PipelineError;
use crate::extract::Stop;
use crate::flatten::{self, Directory, LocalFile, LocalPaths, Warnings};
use crate::job::plan::local_midnight;
use crate::job::{DateRange, DirectorySource, Format, Job, OutputSettings, ReportKind};
use crate::report::{self, ReportInputs};
use crate::sink::{
    self, CsvStyle, DeltaCommit, DeltaRun, DeltaTableWriter, OutputDir, TableWriter, WrittenFile,
};
use crate::store::Store;
use crate::wecom::{DepartmentListResponse, JournalDetail, UserListResponse};

/// Details decoded and flattened at a time: bounds memory however many journals a run covers.
const DETAIL_BATCH: usize = 2_000;

/// What [`build_outputs`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputsSummary {
    /// Rows per output table and per report.
    pub rows: BTreeMap<String, u64>,
    /// Every file written, relative to the output root: the tables' files, the reports', then
    /// the workbook.
    pub files: Vec<WrittenFile>,
    /// The Delta commits, one per table (`formats = ["delta"]`).
    pub(crate) delta: Vec<DeltaCommit>,
    /// What was kept but not fully decoded, and what the workbook shortened.
    pub(crate) warnings: Vec<String>,
    /// What the tables had to leave out (a journal or a stat cycle with a time no table can
    /// hold): the run finishes with gaps.
    pub(crate) gaps: Vec<sink::Gap>,
    pub durations: OutputDurations,
}

impl OutputsSummary {
    fn add_rows(&mut self, table: &str, rows: usize) {
        *self.rows.entry(table.to_owned()).or_default() += rows as u64;
    }
}

/// Wall time of each step of [`build_outputs`] that finished.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputDurations {
    /// Reading, decoding and flattening the store, and handing the batches to the writers.
    pub flatten: Option<Duration>,
    /// Finishing the tables' files.
    pub(crate) sink_tables: Option<Duration>,
    /// Building and writing the reports.
    pub(crate) report: Option<Duration>,
    /// The workbook (only when the job asks for XLSX).
    pub workbook: Option<Duration>,
}

/// [`build_outputs`] failed: why, and what it had written before.
#[derive(Debug)]
pub struct OutputsFailed {
    pub error: anyhow::Error,
    pub(crate) written: Box<OutputsSummary>,
}

/// The partitions a run owns and the instants that bound them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Months {
    /// `YYYY-MM` of every month the range touches.
    pub(crate) labels: Vec<String>,
    /// Local midnight of the first of the first month (unix s).
    pub(crate) start_ts: i64,
    /// Local midnight of the first of the month after the last (unix s).
    pub(crate) end_ts: i64,
}

impl Months {
    /// Partitions are whole months and a run replaces those it touches, so it flattens every
    /// stored row of those months, not only the range's (else a mid-month range would wipe the
    /// first half of its month). Reports still cover the range alone.
    pub(crate) fn of(range: DateRange, tz: Tz) -> Months {
        let span = month_span(range);
        Months {
            labels: months_of(range),
            start_ts: local_midnight(tz, span.start),
            end_ts: local_midnight(tz, span.end),
        }
    }
}

/// Flatten → reports → sinks for `range`, from `store` alone, into `out`, as `job` asks;
/// `run_id` names the run in the workbook's summary.
pub fn build_outputs(
    job: &Job,
    range: DateRange,
    run_id: &str,
    store: &Store,
    out: &OutputDir,
) -> std::result::Result<OutputsSummary, OutputsFailed> {
    build_outputs_until(job, range, range, run_id, store, out, &Stop::new())
}

/// [`build_outputs`], stopping between batches and steps once `stop` is thrown (with
/// [`PipelineError::Interrupted`]): files not finished are not renamed into place, so every
/// output is either the last run's or this one's, whole. It also rewrites the partitions of
/// `owned` (widened to hold `range`): the months of what a run re-read outside its range
/// because it may still change (details younger than `refresh_days`, stat cycles not
/// settled). Reports still cover `range` alone.
pub(crate) fn build_outputs_until(
    job: &Job,
    range: DateRange,
    owned: DateRange,
    run_id: &str,
    store: &Store,
    out: &OutputDir,
    stop: &Stop,
) -> std::result::Result<OutputsSummary, OutputsFailed> {
    let mut written = OutputsSummary::default();
    let owned = DateRange {
        start: owned.start.min(range.start),
        end: owned.end.max(range.end),
    };
    let run = RunInfo {
        job,
        range,
        owned,
        run_id,
        stop,
    };
    match write_outputs(&run, store, out, &mut written) {
        Ok(()) => Ok(written),
        Err(error) => Err(OutputsFailed {
            error,
            written: Box::new(written),
        }),
    }
}

/// What the outputs are of: a job's run over a range.
pub(crate) struct RunInfo<'a> {
    pub(crate) job: &'a Job,
    pub(crate) range: DateRange,
    /// The dates whose month partitions are written (a hull of `range`).
    pub(crate) owned: DateRange,
    pub(crate) run_id: &'a str,
    pub(crate) stop: &'a Stop,
}

impl RunInfo<'_> {
    /// [`PipelineError::Interrupted`] once the run was asked to stop.
    fn check_stop(&self) -> Result<()> {
        match self.stop.signal() {
            Some(signal) => Err(PipelineError::Interrupted { signal }.into()),
            None => Ok(()),
        }
    }
}

fn write_outputs(
    run: &RunInfo<'_>,
    store: &Store,
    out: &OutputDir,
    written: &mut OutputsSummary,
) -> Result<()> {
    let (job, range) = (run.job, run.range);
    let tz = job.source.timezone;
    let months = Months::of(run.owned, tz);
    let directory = load_directory(job, store)?;
    let wants_workbook = job.output.formats.contains(&Format::Xlsx);
    let mut kept = KeptJournals::new(
        !job.output.reports.is_empty() || wants_workbook,
        wants_workbook.then(|| WideSheets::new(job, &directory)),
        range,
    );

    let t = Instant::now();
    let delta = match job.output.formats.contains(&Format::Delta) {
        true => Some(delta_run(run, store)?),
        false => None,
    };
    let mut tables = TableWriters::create(out, &months.labels, job, delta.as_ref())?;
    let mut warnings = Warnings::default();
    let mut templates = Templates::load(store)?;
    stream_details(store, &months, |mut batch, files| {
        run.check_stop()?;
        templates.attribute(store, &mut batch)?;
        let frames = flatten::flatten_journals(&batch, &directory, tz, &files, &mut warnings)?;
        for (name, frame) in frames.iter() {
            tables.write(name, frame, written)?;
        }
        kept.keep(&frames)
    })?;
    if !warnings.is_empty() {
        tracing::warn!("{warnings}");
        written.warnings.push(warnings.to_string());
    }
    written
        .gaps
        .extend(left_out("journal(s)", &warnings.skipped));
    written.warnings.extend(templates.warning());
    // Statistics and the directory: per cycle and per person, small beside the journals.
    let cycles = store.stat_cycles_in_range(months.start_ts, months.end_ts)?;
    let stats = flatten::flatten_stats(&cycles, &directory, tz)?;
    written
        .gaps
        .extend(left_out("stat cycle(s)", &stats.skipped));
    let (departments, users) = flatten::directory_tables(&directory)?;
    for (name, frame) in [
        ("stat_cycles", &stats.stat_cycles),
        ("stat_items", &stats.stat_items),
        ("departments", &departments),
        ("users", &users),
    ] {
        tables.write(name, frame, written)?;
    }
    written.durations.flatten = Some(t.elapsed());

    run.check_stop()?;
    let t = Instant::now();
    tables.finish(written)?;
    written.durations.sink_tables = Some(t.elapsed());

    let t = Instant::now();
    let inputs = report_inputs(&stats.stat_items, kept.for_reports.take(), range)?;
    run.check_stop()?;
    let reports = write_reports(job, range, &inputs, out, written)?;
    written.durations.report = Some(t.elapsed());

    if let Some(wide) = kept.wide {
        run.check_stop()?;
        let t = Instant::now();
        let previous = workbook::previous_period(run, store, &directory)?;
        workbook::write(run, &inputs, &reports, previous, wide, out, written)?;
        written.durations.workbook = Some(t.elapsed());
    }
    Ok(())
}

/// Items named in a gap of items left out.
const LEFT_OUT_NAMED: usize = 5;

/// One gap for the items of a kind that flatten left out (`why` each), naming the first few.
fn left_out(noun: &str, why: &[String]) -> Option<sink::Gap> {
    if why.is_empty() {
        return None;
    }
    let more = if why.len() > LEFT_OUT_NAMED {
        "; …"
    } else {
        ""
    };
    let named: Vec<&str> = why
        .iter()
        .take(LEFT_OUT_NAMED)
        .map(String::as_str)
        .collect();
    for w in why {
        tracing::warn!("left out of the tables: {w}");
    }
    Some(sink::Gap {
        what: format!("{} {noun} left out of the tables", why.len()),
        endpoint: None,
        errcode: None,
        detail: format!(
            "{}{more} (kept in the store as WeCom sent it)",
            named.join("; ")
        ),
        hint: None,
    })
}

/// Streams the stored details of `months` batch by batch, each with where its downloaded
/// wedrive files are, to `flatten_and_write`. Decoding the stored JSON is the heaviest step
/// after the network: a second thread reads and decodes the next batch while this one
/// flattens and writes the last (at most three batches in memory: one decoding, one waiting,
/// one being written).
fn stream_details(
    store: &Store,
    months: &Months,
    mut flatten_and_write: impl FnMut(Vec<JournalDetail>, LocalPaths) -> Result<()>,
) -> Result<()> {
    let (start_ts, end_ts) = (months.start_ts, months.end_ts);
    // Most stores hold no download (wedrive files are opt-in): then no batch asks for them.
    let downloads = store.has_wedrive_downloads()?;
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) =
            std::sync::mpsc::sync_channel::<(Vec<JournalDetail>, LocalPaths)>(1);
        let reader = scope.spawn(move || {
            store.details_in_range(start_ts, end_ts, DETAIL_BATCH, |batch| -> Result<()> {
                let files = match downloads {
                    true => downloaded_files(store, &batch)?,
                    false => LocalPaths::none(),
                };
                sender
                    .send((batch, files))
                    .map_err(|_| anyhow!("the flatten stage stopped"))
            })
        });
        let written = receiver
            .iter()
            .try_for_each(|(batch, files)| flatten_and_write(batch, files));
        // Unblocks the reader if writing failed while it waited to hand over a batch.
        drop(receiver);
        let read = reader
            .join()
            .map_err(|_| anyhow!("the store reader panicked"))?;
        written.and(read)
    })
}

/// Where the wedrive files of a batch's journals were saved by an extraction (the store's
/// download records).
fn downloaded_files(store: &Store, batch: &[JournalDetail]) -> Result<LocalPaths> {
    let records = store.wedrive_downloads_of(batch.iter().map(|d| d.journal_uuid.as_str()))?;
    let mut files = LocalPaths::none();
    for r in records {
        let file = LocalFile {
            local_path: r.local_path,
            bytes: Some(r.bytes),
            checksum: r.checksum,
        };
        files.insert_file(&r.journal_uuid, &r.fileid, file);
    }
    Ok(files)
}

/// What is kept of each batch once it is written: the reports' running journal totals (of the
/// range's journals; only when a report or the workbook's summary needs them), and for the
/// workbook's wide sheets (XLSX only) every batch's rows, spilled to disk as they come.
struct KeptJournals {
    for_reports: Option<report::JournalTotals>,
    range: DateRange,
    wide: Option<WideSheets>,
}

impl KeptJournals {
    fn new(want_totals: bool, wide: Option<WideSheets>, range: DateRange) -> Self {
        KeptJournals {
            for_reports: want_totals.then(report::JournalTotals::new),
            range,
            wide,
        }
    }

    fn keep(&mut self, tables: &flatten::JournalTables) -> Result<()> {
        if let Some(totals) = &mut self.for_reports {
            let in_range = tables
                .journals
                .clone()
                .lazy()
                .select(
                    report::JOURNALS_COLUMNS
                        .iter()
                        .copied()
                        .map(col)
                        .collect::<Vec<_>>(),
                )
                .filter(in_range(self.range, "report_date"))
                .collect()?;
            totals.add(&in_range)?;
        }
        if let Some(wide) = &mut self.wide {
            wide.keep(tables)?;
        }
        Ok(())
    }
}

/// `column` within the range (the tables hold whole months; the reports cover the range).
fn in_range(range: DateRange, column: &str) -> Expr {
    col(column)
        .gt_eq(lit(range.start))
        .and(col(column).lt(lit(range.end)))
}

/// The Delta transaction of this run: the store's record of it says whether it resumes a
/// killed run of the same job and range, whose start it then takes as its version (so the
/// tables that run committed are not written twice); otherwise the time now, which grows from
/// run to run.
fn delta_run(run: &RunInfo<'_>, store: &Store) -> Result<DeltaRun> {
    let range = format!("{}..{}", run.range.start, run.range.end);
    let resumed = store
        .runs()?
        .into_iter()
        .filter(|r| r.job == run.job.name && r.range == range && r.status.is_resumable())
        .min_by_key(|r| r.started_at)
        .filter(|oldest| oldest.run_id != run.run_id);
    let version = match resumed {
        Some(oldest) => oldest.started_at.saturating_mul(1000),
        None => chrono::Utc::now().timestamp_millis(),
    };
    Ok(DeltaRun::of_range(
        &run.job.name,
        &range,
        run.run_id,
        version,
    ))
}

/// One dataset writer per table of the schema, partitioned as the schema says, and a Delta
/// table writer per table when the job asks for Delta.
struct TableWriters {
    writers: BTreeMap<&'static str, TableWriter>,
    delta: BTreeMap<&'static str, DeltaTableWriter>,
}

impl TableWriters {
    fn create(
        out: &OutputDir,
        months: &[String],
        job: &Job,
        delta: Option<&DeltaRun>,
    ) -> Result<Self> {
        let mut writers = BTreeMap::new();
        let mut deltas = BTreeMap::new();
        let files = job
            .output
            .formats
            .iter()
            .any(|f| matches!(f, Format::Parquet | Format::Csv | Format::Arrow));
        for spec in flatten::schema::TABLES {
            let partitioned = spec.partition_by.is_some();
            if files {
                let required = spec.columns.iter().filter(|c| !c.nullable).map(|c| c.name);
                let mut w = TableWriter::create(
                    out,
                    spec.name,
                    spec.partition_by,
                    &job.output.formats,
                    tables_csv(&job.output),
                )?
                .with_required(required);
                if partitioned {
                    w.covers(months.iter().cloned());
                }
                writers.insert(spec.name, w);
            }
            if let Some(run) = delta {
                let mut w = DeltaTableWriter::create(out.target(), spec, run)?;
                if partitioned {
                    w.covers(months.iter().cloned());
                }
                deltas.insert(spec.name, w);
            }
        }
        Ok(TableWriters {
            writers,
            delta: deltas,
        })
    }

    fn write(
        &mut self,
        table: &str,
        frame: &DataFrame,
        written: &mut OutputsSummary,
    ) -> Result<()> {
        let known = flatten::schema::TABLES.iter().any(|t| t.name == table);
        if !known {
            return Err(anyhow!(
                "no writer for table {table}: it is not in the schema"
            ));
        }
        if let Some(writer) = self.writers.get_mut(table) {
            writer.write_batch(frame)?;
        }
        if let Some(writer) = self.delta.get_mut(table) {
            writer.write_batch(frame)?;
        }
        written.add_rows(table, frame.height());
        Ok(())
    }

    /// Writes every table's footers and puts its files in place, in the tables' name order;
    /// then commits each Delta table (one commit each, after every file is in place).
    fn finish(self, written: &mut OutputsSummary) -> Result<()> {
        for (_, writer) in self.writers {
            written.files.extend(writer.finish()?);
        }
        for (_, writer) in self.delta {
            let commit = writer.finish()?;
            tracing::info!(
                table = %commit.table,
                version = commit.version,
                committed = commit.committed,
                "delta table {}",
                commit.path
            );
            written.delta.push(commit);
        }
        Ok(())
    }
}

/// The reports' inputs: stat items within the range (the tables hold whole months) and the
/// journal totals kept (already of the range).
fn report_inputs(
    stat_items: &DataFrame,
    journals: Option<report::JournalTotals>,
    range: DateRange,
) -> Result<ReportInputs> {
    Ok(ReportInputs::with_totals(
        stat_items
            .clone()
            .lazy()
            .filter(in_range(range, "cycle_date")),
        journals.unwrap_or_default(),
    )?)
}

/// The directory of the reports' files under the output root (and under each format's tree).
pub(crate) const REPORTS_DIR: &str = "reports";

/// The tables' CSV: for people (formulas neutralised, unless the job says not to) when it has
/// the BOM that invites Excel users to open it; else for programs, the exact text.
fn tables_csv(output: &OutputSettings) -> CsvStyle {
    CsvStyle {
        bom: output.csv_bom,
        escape_formulas: output.csv_bom && output.csv_escape_formulas,
        local_times: None,
    }
}

/// The reports' CSV: always for people (formulas neutralised, unless the job says not to;
/// instants as the job's local time with the offset).
fn reports_csv(job: &Job) -> CsvStyle {
    CsvStyle {
        bom: job.output.csv_bom,
        escape_formulas: job.output.csv_escape_formulas,
        local_times: Some(job.source.timezone),
    }
}

/// Where a report's files go, relative to its format's tree (before the extension):
/// `reports/<kind>/range=<start>_<end>/<kind>`, a dataset per report whose Hive partition is
/// the range it covers (end exclusive), so that a daily run never overwrites the monthly one.
pub(crate) fn report_path(kind: ReportKind, range: DateRange) -> String {
    format!(
        "{REPORTS_DIR}/{kind}/range={}_{}/{kind}",
        range.start,
        range.end,
        kind = kind.name()
    )
}

/// Builds the job's reports and writes each in every table format; returns them for the
/// workbook.
fn write_reports(
    job: &Job,
    range: DateRange,
    inputs: &ReportInputs,
    out: &OutputDir,
    written: &mut OutputsSummary,
) -> Result<Vec<(ReportKind, DataFrame)>> {
    let mut reports = Vec::new();
    for kind in &job.output.reports {
        let frame = report::build(*kind, inputs, job.period())?;
        written.add_rows(kind.name(), frame.height());
        written.files.extend(sink::write_frame(
            out,
            &report_path(*kind, range),
            &frame,
            &job.output.formats,
            reports_csv(job),
        )?);
        reports.push((*kind, frame));
    }
    Ok(reports)
}

/// The directory the job asks for, from the store (API snapshot), a CSV, or none.
fn load_directory(job: &Job, store: &Store) -> Result<Directory> {
    Ok(match &job.extract.directory {
        DirectorySource::Api => match store.directory()? {
            Some(snapshot) => Directory::from_api(
                &DepartmentListResponse {
                    department: snapshot.departments,
                },
                &[UserListResponse {
                    userlist: snapshot.users,
                }],
            ),
            None => {
                tracing::warn!("no directory in the store: departments will be `unknown`");
                Directory::empty()
            }
        },
        DirectorySource::Csv(path) => Directory::from_csv(path)?,
        DirectorySource::None => Directory::empty(),
    })
}

/// The whole months a range touches: from the first of its first month to the first of the
/// month after its last day.
fn month_span(range: DateRange) -> DateRange {
    let start = range.start.with_day(1).expect("day 1 exists");
    let last_day = range.end.pred_opt().unwrap_or(range.end).max(range.start);
    let end = last_day
        .with_day(1)
        .expect("day 1 exists")
        .checked_add_months(chrono::Months::new(1))
        .expect("dates stay in range");
    DateRange { start, end }
}

/// The months (`YYYY-MM`) a range touches: the partitions a run is responsible for.
fn months_of(range: DateRange) -> Vec<String> {
    let mut months = vec![];
    let mut d = range.start.with_day(1).expect("day 1 exists");
    while d < range.end {
        months.push(d.format("%Y-%m").to_string());
        d = d
            .checked_add_months(chrono::Months::new(1))
            .expect("dates stay in range");
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: &str, end: &str) -> DateRange {
        DateRange::parse(start, end).unwrap()
    }

    #[test]
    fn a_run_owns_the_whole_months_its_range_touches() {
        let tz = chrono_tz::Asia::Shanghai;
        let mid = Months::of(range("2026-10-15", "2026-11-03"), tz);
        assert_eq!(mid.labels, ["2026-10", "2026-11"]);
        let first = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let after = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            (mid.start_ts, mid.end_ts),
            (local_midnight(tz, first), local_midnight(tz, after))
        );
        // An end on the first of a month does not touch that month.
        let october = Months::of(range("2026-10-01", "2026-11-01"), tz);
        assert_eq!(october.labels, ["2026-10"]);
        assert_eq!(
            october.end_ts,
            local_midnight(tz, chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())
        );
        assert_eq!(
            report_path(
                ReportKind::LateRateByUser,
                range("2026-10-01", "2026-11-01")
            ),
            "reports/late_rate_by_user/range=2026-10-01_2026-11-01/late_rate_by_user"
        );
    }

    #[test]
    fn a_resumed_run_takes_the_killed_runs_start_as_its_delta_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store.sqlite")).unwrap();
        let job = crate::job::parse(
            "name = \"j\"\n[range]\nstart = \"2026-10-01\"\nend = \"2026-11-01\"\n",
            std::path::Path::new("j.toml"),
            &|_| None,
            &crate::job::LoadOptions {
                sandbox: true,
                ..Default::default()
            },
        )
        .unwrap();
        let october = range("2026-10-01", "2026-11-01");
        let label = "2026-10-01..2026-11-01";
        let stop = Stop::new();
        let info = |run_id| RunInfo {
            job: &job,
            range: october,
            owned: october,
            run_id,
            stop: &stop,
        };
        // A first run of the range, alone: its version is the time now (it grows run to run).
        let before = chrono::Utc::now().timestamp_millis();
        store.start_run("r1", "j", label, 1_790_000_000).unwrap();
        let first = delta_run(&info("r1"), &store).unwrap();
        assert!(first.version >= before, "{first:?}");
        assert_eq!(first.app_id, "wecom-journal/j/2026-10-01..2026-11-01");
        // r1 was killed (still `running`); r2 resumes it: r1's start, so r1's commits stand.
        store.start_run("r2", "j", label, 1_790_000_100).unwrap();
        let resumed = delta_run(&info("r2"), &store).unwrap();
        assert_eq!(resumed.version, 1_790_000_000_000);
        assert_eq!(resumed.run_id, "r2");
        // Another range's unfinished run is not this one's.
        store
            .start_run("r3", "j", "2026-11-01..2026-12-01", 1_780_000_000)
            .unwrap();
        assert_eq!(delta_run(&info("r2"), &store).unwrap(), resumed);
    }
}
