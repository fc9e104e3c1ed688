//! `wecom-journal run`, `rebuild` and `demo`: the whole pipeline, wired stage to stage.
//!
//! Extraction fills the store; everything after it (flatten → reports → sinks) reads only the
//! store, so `rebuild` is the same code without the network.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{Datelike, Utc};
use polars::prelude::*;

use super::exit;
use crate::extract::{self, ExtractOptions};
use crate::flatten::schema::{TableSpec, JOURNALS, JOURNAL_CONTROLS};
use crate::flatten::{self, Directory, Warnings};
use crate::job::plan::local_midnight;
use crate::job::{self, DateRange, DirectorySource, Format, Job, LoadOptions};
use crate::report::{self, ReportInputs};
use crate::sim::{Gentle, SimConfig, SimHandle};
use crate::sink::{
    self, Manifest, OutputDir, SheetKind, TableWriter, WorkbookOptions, WorkbookSheet,
};
use crate::store::{store_path, Store};
use crate::wecom::{
    ClientConfig, DepartmentListResponse, JournalDetail, Secret, UserListResponse, WecomClient,
};

/// The demo's job, compiled in so `demo` works from any directory.
const DEMO_JOB: &str = include_str!("../../jobs/monthly-compliance.toml");
const DEMO_JOB_PATH: &str = "jobs/monthly-compliance.toml";

/// Details decoded and flattened at a time: bounds memory however many journals a run covers.
const DETAIL_BATCH: usize = 2_000;

/// Journals per template kept for the workbook's wide sheets (the rest are in the tables).
const WIDE_SHEET_MAX_JOURNALS: usize = 100_000;

/// What one job's run came to.
#[derive(Debug)]
pub struct RunOutcome {
    pub exit_code: u8,
    pub output_dir: PathBuf,
    pub manifest_path: Option<PathBuf>,
    pub files: Vec<sink::WrittenFile>,
}

pub fn run(args: super::RunArgs) -> u8 {
    let mut worst = exit::OK;
    for job_path in &args.jobs {
        let code = match load_job(
            job_path,
            LoadOptions {
                sandbox: args.sandbox,
                ..Default::default()
            },
        ) {
            Ok(job) => run_job(job, &args).exit_code,
            Err(code) => code,
        };
        worst = worse(worst, code);
    }
    worst
}

pub fn rebuild(job_path: &Path, output: Option<PathBuf>) -> u8 {
    // No API call: the credentials need not be set.
    let job = match load_job(
        job_path,
        LoadOptions {
            skip_credentials: true,
            ..Default::default()
        },
    ) {
        Ok(job) => job,
        Err(code) => return code,
    };
    let started = Utc::now();
    let range = job.resolve_range(job.today());
    let out_root = output.unwrap_or_else(|| job.output.dir.clone());
    let result = (|| -> Result<(u8, PathBuf)> {
        let path = store_path(&out_root);
        if !path.exists() {
            bail!(
                "{}: no store to rebuild from (run the job first)",
                path.display()
            );
        }
        let store = Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let out = OutputDir::new(&out_root)?;
        let run_id = new_run_id(&job.name, started);
        let mut manifest = Manifest::new(&job.name, &run_id, range, started);
        build_outputs(&job, range, &store, &out, &mut manifest)?;
        manifest.finish(Utc::now(), true);
        let written = sink::write_manifest(&out, &manifest, &[&job.source.secret])?;
        Ok((exit::OK, out.root().join(&written.path)))
    })();
    match result {
        Ok((code, manifest)) => {
            println!(
                "rebuilt {} from its store; manifest {}",
                job.name,
                manifest.display()
            );
            code
        }
        Err(e) => {
            eprintln!("error: rebuild {}: {e:#}", job.name);
            exit::FAILED
        }
    }
}

pub fn demo(output: Option<PathBuf>) -> u8 {
    let job = match job::parse(
        DEMO_JOB,
        Path::new(DEMO_JOB_PATH),
        &|name| std::env::var(name).ok(),
        &LoadOptions {
            sandbox: true,
            ..Default::default()
        },
    ) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let args = super::RunArgs {
        jobs: vec![PathBuf::from(DEMO_JOB_PATH)],
        sandbox: true,
        start: None,
        end: None,
        output,
        full_refresh: false,
    };
    let outcome = run_job(job, &args);
    if outcome.exit_code == exit::OK || outcome.exit_code == exit::GAPS {
        println!();
        println!(
            "The demo ran the monthly compliance job against the built-in simulator. Its files:"
        );
        for f in outcome
            .files
            .iter()
            .filter(|f| f.format == "xlsx" || f.path.starts_with("reports/"))
        {
            println!(
                "  {}  ({} rows)",
                outcome.output_dir.join(&f.path).display(),
                f.rows
            );
        }
        println!(
            "  {}/tables/…  (every table, Hive-partitioned by report_month)",
            outcome.output_dir.display()
        );
        if let Some(m) = &outcome.manifest_path {
            println!("  {}  (the run manifest)", m.display());
        }
        println!(
            "  {}  (the raw responses: `wecom-journal rebuild` works offline from it)",
            store_path(&outcome.output_dir).display()
        );
    }
    outcome.exit_code
}

/// Exit codes in order of severity: a failure outranks bad usage, which outranks gaps.
fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        exit::FAILED => 3,
        exit::USAGE => 2,
        exit::GAPS => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn load_job(path: &Path, options: LoadOptions) -> std::result::Result<Job, u8> {
    job::load(path, &options).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })
}

fn new_run_id(job: &str, at: chrono::DateTime<Utc>) -> String {
    let job: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{job}", at.format("%Y%m%dT%H%M%S%3fZ"))
}

/// Runs one job: extract (against the job's API, or an in-process simulator with `--sandbox`),
/// then the outputs, then the manifest.
pub fn run_job(mut job: Job, args: &super::RunArgs) -> RunOutcome {
    let started = Utc::now();
    let out_root = args
        .output
        .clone()
        .unwrap_or_else(|| job.output.dir.clone());
    let fail = |code: u8| RunOutcome {
        exit_code: code,
        output_dir: out_root.clone(),
        manifest_path: None,
        files: vec![],
    };
    let range = match (&args.start, &args.end) {
        (Some(start), Some(end)) => match DateRange::parse(start, end) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: --start/--end: {e}");
                return fail(exit::USAGE);
            }
        },
        _ => job.resolve_range(job.today()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return fail(exit::FAILED);
        }
    };
    let run_id = new_run_id(&job.name, started);
    let mut manifest = Manifest::new(&job.name, &run_id, range, started);
    tracing::info!(job = %job.name, %range, run_id = %run_id, "run started");

    let result: Result<(Store, OutputDir)> = runtime.block_on(async {
        // Keep the simulator alive for the whole extraction.
        let _sim = if args.sandbox {
            let sim = SimHandle::start(
                SimConfig {
                    start: range.start,
                    days: range.days().max(1) as u32,
                    timezone: job.source.timezone,
                    // Tests of the pipeline may spare it real behaviours it cannot handle yet.
                    gentle: Gentle::from_env().map_err(anyhow::Error::msg)?,
                    ..SimConfig::default()
                },
                "127.0.0.1:0".parse().expect("a literal socket address"),
            )
            .await
            .context("starting the in-process simulator")?;
            job.source.api_base = sim.base_url.clone();
            job.source.corp_id = sim.corp_id.clone();
            job.source.secret = Secret::new(sim.secret.clone());
            tracing::info!(base_url = %sim.base_url, "sandbox: simulator started in-process");
            Some(sim)
        } else {
            None
        };
        let path = store_path(&out_root);
        let store =
            Store::open(&path).with_context(|| format!("opening the store {}", path.display()))?;
        let out = OutputDir::new(&out_root)?;
        let mut config = ClientConfig::new(
            &job.source.api_base,
            &job.source.corp_id,
            job.source.secret.clone(),
        );
        config.limits = job.source.limits.clone();
        let client = WecomClient::new(config)?;
        let mut options = ExtractOptions::new(&run_id);
        options.full_refresh = args.full_refresh;
        options.progress = std::io::stderr().is_terminal();
        options.now = started;
        let t = Instant::now();
        let extracted = extract::extract(&job, range, &client, &store, &options).await;
        manifest.add_duration("extract", t.elapsed());
        manifest.add_call_stats(&client.stats());
        let summary = extracted?;
        manifest.gaps.extend(summary.gaps.iter().map(|g| sink::Gap {
            what: g.what.clone(),
            endpoint: Some(g.endpoint.clone()),
            errcode: Some(g.errcode),
            detail: g.message.clone(),
        }));
        Ok((store, out))
    });

    let outputs = result.and_then(|(store, out)| {
        build_outputs(&job, range, &store, &out, &mut manifest)?;
        Ok((store, out))
    });
    let succeeded = outputs.is_ok();
    if let Err(e) = &outputs {
        eprintln!("error: run {}: {e:#}", job.name);
        manifest.warnings.push(format!("failed: {e:#}"));
    }
    manifest.finish(Utc::now(), succeeded);
    let exit_code = match (succeeded, manifest.gaps.is_empty()) {
        (false, _) => exit::FAILED,
        (true, true) => exit::OK,
        (true, false) => exit::GAPS,
    };
    let Ok(out) = OutputDir::new(&out_root) else {
        return fail(exit::FAILED);
    };
    let manifest_path = match sink::write_manifest(&out, &manifest, &[&job.source.secret]) {
        Ok(file) => Some(out.root().join(file.path)),
        Err(e) => {
            eprintln!("error: writing the manifest: {e}");
            None
        }
    };
    if let Ok((store, _)) = &outputs {
        let status = if exit_code == exit::OK {
            "succeeded"
        } else {
            "finished_with_gaps"
        };
        let json = serde_json::to_string(&manifest).unwrap_or_default();
        if let Err(e) = store.finish_run(&run_id, status, Utc::now().timestamp(), Some(&json)) {
            eprintln!("warning: recording the run in the store: {e}");
        }
    }
    for gap in &manifest.gaps {
        eprintln!(
            "gap: {} ({} errcode {}): {}",
            gap.what,
            gap.endpoint.as_deref().unwrap_or("-"),
            gap.errcode.unwrap_or(0),
            gap.detail
        );
    }
    if succeeded {
        let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
        println!(
            "{}: {} {} → {} files ({} rows) in {}{}",
            job.name,
            range,
            if exit_code == exit::GAPS {
                "finished with gaps"
            } else {
                "done"
            },
            manifest.files.len(),
            rows,
            out_root.display(),
            manifest_path
                .as_ref()
                .map(|p| format!("; manifest {}", p.display()))
                .unwrap_or_default()
        );
    }
    RunOutcome {
        exit_code,
        output_dir: out_root,
        manifest_path,
        files: manifest.files,
    }
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

/// Flatten → reports → sinks, from the store alone.
pub fn build_outputs(
    job: &Job,
    range: DateRange,
    store: &Store,
    out: &OutputDir,
    manifest: &mut Manifest,
) -> Result<()> {
    let tz = job.source.timezone;
    let formats = &job.output.formats;
    let bom = job.output.csv_bom;
    // Partitions are whole months and a run replaces those it touches, so it flattens every
    // stored row of those months, not only the job's range (else a mid-month range would wipe
    // the first half of its month). Reports cover the job's range alone.
    let months_span = month_span(range);
    let (start_ts, end_ts) = (
        local_midnight(tz, months_span.start),
        local_midnight(tz, months_span.end),
    );
    let months = months_of(range);
    let directory = load_directory(job, store)?;
    let want_wide = formats.contains(&Format::Xlsx);
    let wide_journal_columns: Vec<&str> = JOURNALS
        .column_names()
        .into_iter()
        .filter(|c| *c != "sys_journal_data")
        .collect();
    let control_columns = JOURNAL_CONTROLS.column_names();

    let t = Instant::now();
    let mut writers: BTreeMap<&'static str, TableWriter> = BTreeMap::new();
    // One writer per table of the schema, partitioned as the schema says.
    for spec in flatten::schema::TABLES {
        let mut w = TableWriter::create(out, spec.name, spec.partition_by, formats, bom)?;
        if spec.partition_by.is_some() {
            w.covers(months.iter().cloned());
        }
        writers.insert(spec.name, w);
    }

    // Journals, streamed from the store batch by batch. Reports need only a few journal
    // columns; the wide sheets only top-level controls.
    let mut warnings = Warnings::default();
    let mut report_journals: Vec<DataFrame> = vec![];
    let mut wide_journals: Vec<DataFrame> = vec![];
    let mut wide_controls: Vec<DataFrame> = vec![];
    let mut wide_kept = 0usize;
    let mut wide_truncated = false;
    let mut flatten_and_write = |batch: Vec<JournalDetail>| -> Result<()> {
        let mut tables = flatten::flatten_journals(&batch, &directory, tz, &mut warnings)?;
        // local_path of the wedrive files an extraction downloaded (null for the others).
        let downloaded = extract::DownloadedFiles::of_journals(
            store,
            batch.iter().map(|d| d.journal_uuid.as_str()),
        )?;
        tables.journal_attachments =
            extract::fill_local_paths(&tables.journal_attachments, &downloaded)?;
        for (name, frame) in tables.iter() {
            writers
                .get_mut(name)
                .expect("a writer per journal table")
                .write_batch(frame)?;
            manifest.add_rows(name, frame.height() as u64);
        }
        report_journals.push(
            tables
                .journals
                .select(report::JOURNALS_COLUMNS.iter().copied())?,
        );
        if want_wide {
            if wide_kept < WIDE_SHEET_MAX_JOURNALS {
                wide_kept += tables.journals.height();
                wide_journals.push(
                    tables
                        .journals
                        .select(wide_journal_columns.iter().copied())?,
                );
                let top_level = tables
                    .journal_controls
                    .column("parent_control_id")?
                    .is_null();
                wide_controls.push(tables.journal_controls.filter(&top_level)?);
            } else {
                wide_truncated = true;
            }
        }
        Ok(())
    };
    // Decoding the stored JSON is the heaviest step after the network: a second thread reads
    // and decodes the next batch while this one flattens and writes the last (at most three
    // batches in memory: one decoding, one waiting, one being written).
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<JournalDetail>>(1);
        let reader = scope.spawn(move || {
            store.details_in_range(start_ts, end_ts, DETAIL_BATCH, |batch| -> Result<()> {
                sender
                    .send(batch)
                    .map_err(|_| anyhow::anyhow!("the flatten stage stopped"))
            })
        });
        let written = receiver.iter().try_for_each(&mut flatten_and_write);
        // Unblocks the reader if writing failed while it waited to hand over a batch.
        drop(receiver);
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the store reader panicked"))?;
        written.and(read)
    })?;
    if !warnings.is_empty() {
        tracing::warn!("{warnings}");
        manifest.warnings.push(warnings.to_string());
    }

    // Statistics and the directory: per cycle and per person, small beside the journals.
    let cycles = store.stat_cycles_in_range(start_ts, end_ts)?;
    let stats = flatten::flatten_stats(&cycles, &directory, tz)?;
    let (departments, users) = flatten::directory_tables(&directory)?;
    for (name, frame) in [
        ("stat_cycles", &stats.stat_cycles),
        ("stat_items", &stats.stat_items),
        ("departments", &departments),
        ("users", &users),
    ] {
        writers
            .get_mut(name)
            .expect("a writer per table")
            .write_batch(frame)?;
        manifest.add_rows(name, frame.height() as u64);
    }
    manifest.add_duration("flatten", t.elapsed());

    let t = Instant::now();
    for (_, writer) in std::mem::take(&mut writers) {
        manifest.add_files(writer.finish()?);
    }
    manifest.add_duration("sink_tables", t.elapsed());

    // Reports.
    let t = Instant::now();
    let journals = concat_frames(report_journals, &JOURNALS, report::JOURNALS_COLUMNS)?;
    let in_range = |column: &str| {
        col(column)
            .gt_eq(lit(range.start))
            .and(col(column).lt(lit(range.end)))
    };
    let inputs = ReportInputs::new(
        stats
            .stat_items
            .clone()
            .lazy()
            .filter(in_range("cycle_date")),
        journals.lazy().filter(in_range("report_date")),
    );
    let period = job.period();
    let mut reports: Vec<(job::ReportKind, DataFrame)> = vec![];
    for kind in &job.output.reports {
        let frame = report::build(*kind, &inputs, period)?;
        manifest.add_rows(kind.name(), frame.height() as u64);
        manifest.add_files(sink::write_frame(
            out,
            &format!("reports/{}", kind.name()),
            &frame,
            formats,
            bom,
        )?);
        reports.push((*kind, frame));
    }
    manifest.add_duration("report", t.elapsed());

    if want_wide {
        let t = Instant::now();
        let summary = report::summary(&inputs)?;
        let items = sink::summary_items(&job.name, &range, &manifest.run_id, &summary);
        let wide_journals = concat_frames(wide_journals, &JOURNALS, &wide_journal_columns)?;
        let wide_controls = concat_frames(wide_controls, &JOURNAL_CONTROLS, &control_columns)?;
        let mut wide: Vec<(String, DataFrame)> = vec![];
        if wide_journals.height() > 0 {
            let templates = wide_journals
                .select(["template_id", "template_name"])?
                .unique_stable(None, UniqueKeepStrategy::First, None)?;
            let ids = templates.column("template_id")?.str()?.clone();
            let names = templates.column("template_name")?.str()?.clone();
            for (id, name) in ids.iter().zip(names.iter()) {
                let Some(id) = id else { continue };
                let frame = flatten::pivot_wide(&wide_journals, &wide_controls, id)?;
                wide.push((format!("journals_wide__{}", name.unwrap_or(id)), frame));
            }
        }
        if wide_truncated {
            manifest.warnings.push(format!("workbook wide sheets hold the first {WIDE_SHEET_MAX_JOURNALS} journals; the tables hold them all"));
        }
        let mut sheets: Vec<WorkbookSheet<'_>> = reports
            .iter()
            .map(|(kind, frame)| WorkbookSheet {
                name: kind.name(),
                frame,
                kind: SheetKind::Report(*kind),
            })
            .collect();
        sheets.extend(wide.iter().map(|(name, frame)| WorkbookSheet {
            name,
            frame,
            kind: SheetKind::Table,
        }));
        let (file, warnings) = sink::write_workbook(
            out,
            &sink::workbook_file_name(&job.name, &range),
            &items,
            &sheets,
            &WorkbookOptions {
                timezone: Some(tz),
                ..WorkbookOptions::default()
            },
        )?;
        manifest.warnings.extend(warnings);
        manifest.add_files([file]);
        manifest.add_duration("workbook", t.elapsed());
    }
    Ok(())
}

/// Stacks batches; with none, an empty frame of `table`'s schema holding `columns`.
fn concat_frames(frames: Vec<DataFrame>, table: &TableSpec, columns: &[&str]) -> Result<DataFrame> {
    let mut iter = frames.into_iter();
    let Some(mut acc) = iter.next() else {
        return Ok(
            DataFrame::empty_with_schema(&table.polars_schema()).select(columns.iter().copied())?
        );
    };
    for f in iter {
        acc.vstack_mut(&f)?;
    }
    acc.rechunk_mut();
    Ok(acc)
}
