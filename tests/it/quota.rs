//! Quotas and faults over whole runs, through `pipeline::run_job` against the simulator with a
//! scaled quota minute (client and simulator alike): a small hourly quota spent partly by a run
//! that was interrupted, then resumed by a new process's run (zero 45009 of the client's
//! making); a month against a simulator answering 45009 to 6 % of calls; and a fault rate of
//! 30 % of every kind ending with the same tables as no fault. Assertions are on counts; the
//! wall times of the 45009 run are printed for the record, never asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use wecom_journal::extract::{QuotaCarry, Stop, StopSignal};
use wecom_journal::job::{self, DateRange, Job};
use wecom_journal::pipeline::{self, RunOptions, RunSummary};
use wecom_journal::sim::server::RECORD_DETAIL;
use wecom_journal::sim::{Fault, SimConfig};
use wecom_journal::sink::RunStatus;
use wecom_journal::store::Store;

use crate::common::{
    assert_same_tables, date, sim_job, sorted_tables, store_content, wait_until, SimThread,
};

/// The quota's "minute" of these tests, on both sides.
const MINUTE: Duration = Duration::from_millis(100);
/// … and of the month-long runs, whose 45009s wait for it to roll over.
const MONTH_MINUTE: Duration = Duration::from_secs(1);

fn scaled(config: &mut wecom_journal::wecom::ClientConfig) {
    config.quota_period = MINUTE;
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(50);
}

fn month_scaled(config: &mut wecom_journal::wecom::ClientConfig) {
    config.quota_period = MONTH_MINUTE;
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(50);
}

fn load(path: &Path) -> Job {
    job::load(path, &Default::default()).expect("the job loads")
}

fn run(
    job: &Job,
    out: &Path,
    range: DateRange,
    tune: fn(&mut wecom_journal::wecom::ClientConfig),
) -> RunOptions {
    RunOptions {
        range,
        output_dir: out.to_path_buf(),
        tune_client: Some(tune),
        ..RunOptions::of(job)
    }
}

fn run_job(job: &Job, opts: &RunOptions) -> RunSummary {
    pipeline::run_job(job.clone(), opts).expect("the run starts")
}

#[test]
fn a_resumed_run_continues_the_hours_budget_and_causes_no_45009() {
    // 120 calls an hour per API (an hour of 6 s here); the range holds more details than that.
    let sim = SimThread::start(SimConfig {
        users: 8,
        start: date("2026-10-01"),
        days: 21,
        quota_period: MINUTE,
        per_api_per_hour: 120,
        ..SimConfig::default()
    });
    let range = DateRange::parse("2026-10-01", "2026-10-22").unwrap();
    let listed = sim
        .org
        .journals
        .iter()
        .filter(|j| j.report_time < range_end(range))
        .count();
    let withdrawn = withdrawn_before(&sim, range_end(range));
    let details = listed - withdrawn;
    assert!(
        details > 150,
        "more details than an hour's quota: {details}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = dir.path().join("hourly.toml");
    sim_job(
        &path,
        "hourly",
        &sim,
        ("2026-10-01", "2026-10-22"),
        "[source.limits]\nper_api_per_minute = 120\nper_api_per_hour = 120\nmax_in_flight = 4\n\n[extract]\nstats = true\ndirectory = \"api\"\n",
        &out,
        "formats = [\"parquet\"]\n",
    );
    let job = load(&path);

    // The first run is stopped (as SIGTERM would) at its 100th detail.
    let mut first = run(&job, &out, range, scaled);
    let stop = Stop::new();
    first.stop = stop.clone();
    sim.pause_at(RECORD_DETAIL, 100);
    let summary = std::thread::scope(|s| {
        s.spawn(|| {
            wait_until("the first run reaches its 100th detail", || {
                sim.held_requests() > 0
            });
            stop.trigger(StopSignal::Terminate);
            sim.resume();
        });
        run_job(&job, &first)
    });
    assert_eq!(summary.status(), RunStatus::Interrupted);
    let spent = sim.calls(wecom_journal::wecom::Endpoint::RecordDetail);
    assert!(
        (100..=120).contains(&spent),
        "{spent} detail calls before the stop"
    );

    // The next run, as a new process would (a quota carry of its own): it loads what the first
    // spent this hour, so it waits for the hour's window instead of running into 45009.
    let second = RunOptions {
        quota: QuotaCarry::default(),
        stop: Stop::new(),
        ..first.clone()
    };
    let summary = run_job(&job, &second);
    assert_eq!(
        summary.status(),
        status_with(withdrawn),
        "{:?}",
        summary.error
    );
    let counters = sim.counters();
    assert_eq!(
        counters.quota_exceeded, 0,
        "no 45009 of the client's making: {counters:?}"
    );
    assert_eq!(summary.manifest.quota_errors, 0);
    let store = Store::open(out.join("store.sqlite")).unwrap();
    assert_eq!(store.counts().unwrap().details as usize, details);
    // Every listed journal asked for once: a withdrawn one's 301084 is not asked again by
    // the run that resumes the one that met it.
    assert_eq!(
        sim.calls(wecom_journal::wecom::Endpoint::RecordDetail) as usize,
        listed,
        "every detail fetched once"
    );
    // Both processes' usage is in the store, one writer each.
    let writers: std::collections::BTreeSet<String> = store
        .quota_usage(None, 0)
        .unwrap()
        .into_iter()
        .map(|b| b.writer)
        .collect();
    assert_eq!(writers.len(), 2, "{writers:?}");
}

fn range_end(range: DateRange) -> i64 {
    wecom_journal::job::plan::local_midnight(chrono_tz::Asia::Shanghai, range.end)
}

/// The journals before `end_ts` the simulator lists and has withdrawn by now (the real
/// clock, past every withdrawal of October): their details answer 301084, a gap each.
fn withdrawn_before(sim: &SimThread, end_ts: i64) -> usize {
    let org = &sim.org;
    let withdrawn = org
        .journals
        .iter()
        .zip(&org.lives)
        .filter(|(j, l)| j.report_time < end_ts && l.withdrawn_at.is_some())
        .count();
    assert!(
        withdrawn > 0,
        "the simulator withdraws some journals of the range"
    );
    withdrawn
}

/// How a run of a range with `withdrawn` withdrawn journals ends: with their gaps, or clean.
fn status_with(withdrawn: usize) -> RunStatus {
    if withdrawn > 0 {
        RunStatus::FinishedWithGaps
    } else {
        RunStatus::Succeeded
    }
}

/// A month of 60 people (about 2,000 details), the simulator's minute a second.
fn month_sim(fault_rate: f64, kinds: Vec<Fault>) -> SimThread {
    SimThread::start(SimConfig {
        users: 60,
        start: date("2026-10-01"),
        days: 31,
        quota_period: MONTH_MINUTE,
        fault_rate,
        fault_kinds: kinds,
        ..SimConfig::default()
    })
}

fn month_job(dir: &Path, name: &str, sim: &SimThread) -> (Job, std::path::PathBuf) {
    let out = dir.join(name);
    let path = dir.join(format!("{name}.toml"));
    sim_job(
        &path,
        name,
        sim,
        ("2026-10-01", "2026-11-01"),
        "[extract]\nstats = true\ndirectory = \"api\"\n",
        &out,
        "formats = [\"parquet\"]\n",
    );
    (load(&path), out)
}

fn october() -> DateRange {
    DateRange::parse("2026-10-01", "2026-11-01").unwrap()
}

#[test]
fn a_month_against_6_percent_45009_finishes_wasting_no_call_on_them() {
    let sim = month_sim(0.0, vec![Fault::Quota]);
    let dir = tempfile::tempdir().unwrap();

    let (job, clean_out) = month_job(dir.path(), "clean", &sim);
    let t = Instant::now();
    let clean = run_job(&job, &run(&job, &clean_out, october(), month_scaled));
    let clean_time = t.elapsed();
    let withdrawn = withdrawn_before(&sim, range_end(october()));
    assert_eq!(clean.status(), status_with(withdrawn), "{:?}", clean.error);
    let details = clean.manifest.calls["get_record_detail"];
    assert!(details > 1_500, "a month's details: {details}");
    let want = sorted_tables(&clean_out);

    sim.set_fault_rate(0.06);
    let before = sim.counters();
    let (job, out) = month_job(dir.path(), "refused", &sim);
    let t = Instant::now();
    let refused = run_job(&job, &run(&job, &out, october(), month_scaled));
    let refused_time = t.elapsed();
    assert_eq!(
        refused.status(),
        status_with(withdrawn),
        "{:?}",
        refused.error
    );
    let after = sim.counters();
    let injected = after.faults.get("quota").copied().unwrap_or(0)
        - before.faults.get("quota").copied().unwrap_or(0);
    let calls = after.calls_to(RECORD_DETAIL) - before.calls_to(RECORD_DETAIL);
    // Failed detail calls but the withdrawn journals' 301084s (answered once each, as in the
    // clean run): the 45009s.
    let refused_details =
        after.calls[RECORD_DETAIL].failed - before.calls[RECORD_DETAIL].failed - withdrawn as u64;
    // About 6 % of the month's calls were refused, and each cost exactly one more call: no
    // call was refused twice for a block the client imposed on itself, none wasted.
    assert!(injected > 60, "{injected} 45009s injected");
    assert_eq!(after.quota_exceeded, 0, "no 45009 of the client's making");
    assert_eq!(refused.manifest.quota_errors, injected);
    assert_eq!(
        refused.manifest.quota_blocks, 0,
        "no stray 45009 blocked an endpoint: each refused call waited alone"
    );
    assert_eq!(calls, details + refused_details);
    assert_eq!(refused.manifest.calls["get_record_detail"], calls);
    assert_same_tables(&out, &want, "6 % 45009");
    // The figure for the record (not asserted: no timing in tests).
    eprintln!(
        "45009 figure: a month ({details} details, minute {MONTH_MINUTE:?}): fault-free {:.1} s, \
         with {injected} 45009s ({:.1} %) {:.1} s, {:.2}×",
        clean_time.as_secs_f64(),
        100.0 * injected as f64 / (calls as f64).max(1.0),
        refused_time.as_secs_f64(),
        refused_time.as_secs_f64() / clean_time.as_secs_f64().max(1e-3)
    );
}

#[test]
fn a_fault_rate_of_30_percent_of_every_kind_ends_with_the_tables_of_no_fault() {
    let sim = SimThread::start(SimConfig {
        users: 20,
        start: date("2026-10-01"),
        days: 21,
        quota_period: MONTH_MINUTE,
        ..SimConfig::default()
    });
    let range = DateRange::parse("2026-10-01", "2026-10-22").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job_of = |name: &str| {
        let out = dir.path().join(name);
        let path = dir.path().join(format!("{name}.toml"));
        sim_job(
            &path,
            name,
            &sim,
            ("2026-10-01", "2026-10-22"),
            "[source.limits]\nmax_in_flight = 4\n\n[extract]\nstats = true\ndirectory = \"api\"\n",
            &out,
            "formats = [\"parquet\"]\n",
        );
        (load(&path), out)
    };
    let (job, clean_out) = job_of("clean");
    let clean = run_job(&job, &run(&job, &clean_out, range, month_scaled));
    let withdrawn = withdrawn_before(&sim, range_end(range));
    assert_eq!(clean.status(), status_with(withdrawn), "{:?}", clean.error);
    let want = sorted_tables(&clean_out);
    let want_store = store_content(&clean_out);

    sim.set_fault_rate(0.3);
    let (job, out) = job_of("faulty");
    // A call can still fail after all its retries (a -1 four times, or seven faults in a row:
    // about 4 in 100,000 calls at this rate); the run then fails and the next resumes it.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let summary = run_job(&job, &run(&job, &out, range, month_scaled));
        match summary.status() {
            status if status == status_with(withdrawn) => break,
            RunStatus::Failed if attempts < 3 => continue,
            other => panic!("attempt {attempts}: {other}: {:?}", summary.error),
        }
    }
    let counters = sim.counters();
    for kind in Fault::ALL {
        assert!(
            counters.faults.get(kind.name()).copied().unwrap_or(0) > 0,
            "{} never injected: {counters:?}",
            kind.name()
        );
    }
    assert_eq!(
        counters.quota_exceeded, 0,
        "no 45009 of the client's making"
    );
    assert_same_tables(&out, &want, "30 % faults");
    let got = store_content(&out);
    assert_eq!(got.details, want_store.details);
    assert_eq!(got.windows, want_store.windows);
    assert_eq!(got.stats, want_store.stats);
}
