//! Incremental runs converge to the truth: against one time-true simulator world, the shipped
//! daily job run once a simulated day (its `now` and the simulator's clock moved together)
//! leaves the same October tables as one full-refresh run at the end, and both hold what the
//! world holds, counted here from the simulator's ground truth with the API reference's rules
//! (never with the pipeline's code).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use polars::prelude::*;
use wecom_journal::job::{self, DateRange, Job, LoadOptions, RangeSpec};
use wecom_journal::pipeline::{self, RunOptions};
use wecom_journal::sim::{Org, SimConfig};
use wecom_journal::sink::RunStatus;
use wecom_journal::wecom::Secret;

use crate::common::{date, files_under, read_parquet, shipped_job, SimThread};

/// The tables a month's partition holds, compared whole.
const TABLES: [&str; 6] = [
    "journals",
    "journal_controls",
    "journal_comments",
    "journal_receivers",
    "stat_cycles",
    "stat_items",
];

/// 06:15 in Shanghai on `day`, when the shipped job's cron line runs it.
fn morning(day: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&day.and_hms_opt(6, 15, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// The shipped job `file`, pointed at the simulator.
fn shipped_at(sim: &SimThread, file: &str) -> Job {
    let mut job = job::load(
        &shipped_job(file),
        &LoadOptions {
            sandbox: true,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    job.source.corp_id = sim.corp_id.clone();
    job.source.secret = Secret::new(sim.secret.clone());
    job.source.api_base = sim.base_url.clone();
    job.source.limits = crate::common::FAST;
    job
}

/// The shipped daily job, pointed at the simulator.
fn daily_job(sim: &SimThread) -> Job {
    shipped_at(sim, "daily-lake-ingest.toml")
}

/// Runs `job` as at `now` (the simulator's clock too) into `out`; its status.
fn run_at(sim: &SimThread, job: &Job, now: DateTime<Utc>, out: &Path, opts: RunFlags) -> RunStatus {
    sim.set_now(Some(now));
    let mut run = RunOptions::at(job, now);
    run.output_dir = out.to_path_buf();
    run.full_refresh = opts.full_refresh;
    if let Some(range) = opts.range {
        run.range = range;
    }
    let summary = pipeline::run_job(job.clone(), &run).expect("the run starts");
    assert!(
        summary.error.is_none(),
        "the run as at {now} failed: {:?}",
        summary.error
    );
    summary.status()
}

#[derive(Default, Clone, Copy)]
struct RunFlags {
    full_refresh: bool,
    range: Option<DateRange>,
}

/// Every row of the table's October partition, sorted on every column that sorts.
fn october(out: &Path, table: &str) -> DataFrame {
    let dir = out.join("tables").join(table).join("report_month=2026-10");
    let frames: Vec<LazyFrame> = files_under(&dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| read_parquet(p).lazy())
        .collect();
    assert!(
        !frames.is_empty(),
        "no October partition of {table} under {}",
        out.display()
    );
    let df = concat(frames, UnionArgs::default())
        .unwrap()
        .collect()
        .unwrap();
    let columns: Vec<String> = df
        .schema()
        .iter()
        .filter(|(_, dtype)| !matches!(dtype, DataType::List(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    df.sort(columns, SortMultipleOptions::default()).unwrap()
}

/// The rows (as text) found in only one of two frames, a few of each, for a failure message.
fn rows_of_one_only(a: &DataFrame, b: &DataFrame) -> String {
    let rows = |df: &DataFrame| -> BTreeSet<String> {
        (0..df.height())
            .map(|i| format!("{:?}", df.get_row(i).unwrap().0))
            .collect()
    };
    let (a, b) = (rows(a), rows(b));
    let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| -> Vec<String> {
        x.difference(y).take(4).cloned().collect()
    };
    format!(
        "daily only: {:#?}\nfull only: {:#?}",
        only(&a, &b),
        only(&b, &a)
    )
}

fn strs(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

fn u32s(df: &DataFrame, column: &str) -> Vec<u32> {
    df.column(column)
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

/// (template, department, status) → users × cycles: status `on_time`, `late` or
/// `unreported`.
type Roster = BTreeMap<(String, Option<u64>, &'static str), u64>;

/// The roster of October's cycles from the world at `t`, by the reference's rules: a cycle is
/// in October by its begin; a user reported when a journal of theirs for the cycle exists at
/// `t` (submitted, not withdrawn), on time when one of them came by the cycle's stat end, else
/// late; the other expected users did not report. A user counts in their main department, else
/// the first one listed.
fn roster_from_world(org: &Org, t: i64, month: (i64, i64)) -> Roster {
    let at = org.at(t);
    let mut roster = Roster::new();
    for cycle in org
        .cycles
        .iter()
        .filter(|c| (month.0..month.1).contains(&c.begin()))
    {
        assert!(
            cycle.summarised_at <= t,
            "every October cycle is summarised"
        );
        for userid in &cycle.expected {
            let times: Vec<i64> = cycle
                .journals
                .iter()
                .filter_map(|&i| at.journal_by_index(i))
                .filter(|j| !j.is_withdrawn() && j.creator() == userid)
                .map(|j| j.report_time())
                .collect();
            let status = if times.is_empty() {
                "unreported"
            } else if times.iter().any(|&r| r <= cycle.stat_end()) {
                "on_time"
            } else {
                "late"
            };
            let key = (
                cycle.template_id().to_owned(),
                org.department_of(userid),
                status,
            );
            *roster.entry(key).or_default() += 1;
        }
    }
    roster
}

/// The same roster from a `stat_items` table.
fn roster_from_table(items: &DataFrame) -> Roster {
    let templates = strs(items, "template_id");
    let status = strs(items, "status");
    let late: Vec<Option<bool>> = items
        .column("is_late")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    let departments: Vec<Option<u64>> = items
        .column("department_id")
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .collect();
    let mut roster = Roster::new();
    for i in 0..items.height() {
        let s = match (status[i].as_deref(), late[i]) {
            (Some("unreported"), _) => "unreported",
            (_, Some(true)) => "late",
            _ => "on_time",
        };
        let key = (templates[i].clone().unwrap(), departments[i], s);
        *roster.entry(key).or_default() += 1;
    }
    roster
}

#[test]
fn daily_runs_through_a_month_leave_the_tables_one_full_run_leaves_and_the_world_holds() {
    // October 2026 and the days after it that late reports, comments and reads take.
    let config = SimConfig {
        users: 12,
        start: date("2026-10-01"),
        days: 38,
        timezone: Shanghai,
        ..SimConfig::default()
    };
    let sim = SimThread::start(config);
    let org = Org::generate(&sim.config);
    let job = daily_job(&sim);
    assert_eq!(job.range, RangeSpec::Last(job::Relative::Day));
    let refresh_days = job.extract.refresh_days;
    let horizon_days = sim.config.late_horizon.as_secs().div_ceil(86_400);
    assert!(
        u64::from(refresh_days) >= horizon_days,
        "refresh_days ({refresh_days}) must cover the simulator's late horizon (README: what \"final\" means)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (daily_out, full_out) = (dir.path().join("daily"), dir.path().join("full"));

    // Every morning from 2 October to 8 November.
    let mut day = date("2026-10-02");
    let last = date("2026-11-08");
    let mut statuses = Vec::new();
    while day <= last {
        statuses.push(run_at(
            &sim,
            &job,
            morning(day),
            &daily_out,
            RunFlags::default(),
        ));
        day = day.checked_add_days(Days::new(1)).unwrap();
    }
    // Withdrawn journals are gaps on the days they are met, never a failure.
    assert!(
        statuses.contains(&RunStatus::FinishedWithGaps),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, RunStatus::Succeeded | RunStatus::FinishedWithGaps)),
        "{statuses:?}"
    );

    // One full refresh of October at the end, into a store of its own.
    let october_range = DateRange::parse("2026-10-01", "2026-11-01").unwrap();
    let full = RunFlags {
        full_refresh: true,
        range: Some(october_range),
    };
    run_at(&sim, &job, morning(last), &full_out, full);

    for table in TABLES {
        let (daily, full) = (october(&daily_out, table), october(&full_out, table));
        assert!(
            daily.equals_missing(&full),
            "{table}: the daily runs and the full run differ ({} rows and {}); rows of one only:\n{}",
            daily.height(),
            full.height(),
            rows_of_one_only(&daily, &full)
        );
    }

    // Both hold what the world holds as of the last morning.
    let t = morning(last).timestamp();
    let month = (
        Shanghai
            .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
        Shanghai
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
    );
    let truth = roster_from_world(&org, t, month);
    assert!(truth.keys().any(|k| k.2 == "late") && truth.keys().any(|k| k.2 == "unreported"));
    assert_eq!(roster_from_table(&october(&daily_out, "stat_items")), truth);

    // Journals: those of October that exist at t, each with its true template, its comments
    // and its readers (once each) as of t.
    let at = org.at(t);
    let want: BTreeMap<String, (String, u32, u32)> = at
        .journals()
        .filter(|j| (month.0..month.1).contains(&j.report_time()))
        .map(|j| {
            let readers: BTreeSet<&str> = j.readers().map(|u| u.userid.as_str()).collect();
            (
                j.uuid().to_owned(),
                (
                    j.template_id().to_owned(),
                    j.comments().count() as u32,
                    readers.len() as u32,
                ),
            )
        })
        .collect();
    assert!(at
        .withdrawn()
        .any(|j| (month.0..month.1).contains(&j.report_time())));
    let journals = october(&daily_out, "journals");
    let (uuids, templates) = (
        strs(&journals, "journal_uuid"),
        strs(&journals, "template_id"),
    );
    let (comments, reads) = (
        u32s(&journals, "comment_count"),
        u32s(&journals, "read_count"),
    );
    let got: BTreeMap<String, (String, u32, u32)> = (0..journals.height())
        .map(|i| {
            let template = templates[i].clone().expect("no journal of a null template");
            (uuids[i].clone().unwrap(), (template, comments[i], reads[i]))
        })
        .collect();
    assert_eq!(got, want);
}

/// The shipped monthly job, pointed at the simulator, over `range`, Parquet only.
fn monthly_job(sim: &SimThread, range: DateRange) -> Job {
    let mut job = shipped_at(sim, "monthly-compliance.toml");
    job.range = RangeSpec::Absolute(range);
    job.output.formats = vec![job::Format::Parquet];
    job
}

#[test]
fn a_withdrawn_journal_is_a_named_gap_and_every_report_is_filled_without_template_ids() {
    let config = SimConfig {
        users: 20,
        start: date("2026-10-01"),
        days: 21,
        timezone: Shanghai,
        ..SimConfig::default()
    };
    let sim = SimThread::start(config);
    let org = Org::generate(&sim.config);
    let range = DateRange::parse("2026-10-01", "2026-10-15").unwrap();
    let job = monthly_job(&sim, range);
    assert!(job.filters.template_ids.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let now = morning(date("2026-10-25"));
    let (from, to) = (
        Shanghai
            .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
        Shanghai
            .with_ymd_and_hms(2026, 10, 15, 0, 0, 0)
            .unwrap()
            .timestamp(),
    );
    let withdrawn: Vec<String> = org
        .at(now.timestamp())
        .withdrawn()
        .filter(|j| (from..to).contains(&j.report_time()))
        .map(|j| j.uuid().to_owned())
        .collect();
    assert!(
        !withdrawn.is_empty(),
        "the world withdraws some journals of the range"
    );

    sim.set_now(Some(now));
    let mut opts = RunOptions::at(&job, now);
    opts.output_dir = out.clone();
    let first = pipeline::run_job(job.clone(), &opts).expect("the run starts");
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(first.status(), RunStatus::FinishedWithGaps);
    let gaps = &first.manifest.gaps;
    let detail_gap = gaps
        .iter()
        .find(|g| g.errcode == Some(wecom_journal::wecom::errcode::JOURNAL_INVALID_UUID))
        .unwrap_or_else(|| panic!("a 301084 gap: {gaps:?}"));
    for uuid in withdrawn.iter().take(5) {
        assert!(
            detail_gap.what.contains(uuid.as_str()),
            "{uuid} named in {detail_gap:?}"
        );
    }
    // Every report written and filled, for every template, none of them null.
    for report in [
        "late_rate_by_department",
        "late_rate_by_user",
        "unreported_roster",
        "read_rate_by_template",
    ] {
        let df = read_parquet(&out.join(format!(
            "reports/{report}/range={}_{}/{report}.parquet",
            range.start, range.end
        )));
        assert!(df.height() > 0, "{report} is empty");
        let templates = strs(&df, "template_id");
        assert!(
            templates.iter().all(Option::is_some),
            "{report} has a null template"
        );
        let got: BTreeSet<String> = templates.into_iter().flatten().collect();
        let want: BTreeSet<String> = match report {
            // Every template that has journals in the range.
            "read_rate_by_template" => org
                .at(now.timestamp())
                .journals()
                .filter(|j| (from..to).contains(&j.report_time()))
                .map(|j| j.template_id().to_owned())
                .collect(),
            // Someone failed to report each template with cycles, at some point.
            "unreported_roster" => got.clone(),
            // Every template with stat cycles in the range, the one nobody reported included.
            _ => org
                .cycles
                .iter()
                .filter(|c| (from..to).contains(&c.begin()))
                .map(|c| c.template_id().to_owned())
                .collect(),
        };
        assert_eq!(got, want, "{report}");
    }

    // The next run does not fail on it: it retries it (a bounded number of times).
    let next = morning(date("2026-10-26"));
    sim.set_now(Some(next));
    let mut opts = RunOptions::at(&job, next);
    opts.output_dir = out;
    let second = pipeline::run_job(job, &opts).expect("the run starts");
    assert!(second.error.is_none(), "{:?}", second.error);
    assert!(matches!(
        second.status(),
        RunStatus::Succeeded | RunStatus::FinishedWithGaps
    ));
}
