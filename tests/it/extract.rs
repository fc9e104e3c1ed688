//! Extraction against the simulator over loopback: a whole month stored exactly, incremental
//! runs calling only what `refresh_days` requires, full refresh, filter combinations, and a
//! real process killed with SIGKILL and restarted.

use crate::common::{date, SimThread, FAST};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use wecom_journal::extract::{extract, month_windows, ExtractOptions, ExtractSummary};
use wecom_journal::job::{
    DateRange, DirectorySource, ExtractSettings, Filters, Job, OutputSettings, PlanSettings,
    RangeSpec, Source,
};
use wecom_journal::sim::{Gentle, SimConfig, SimHandle};
use wecom_journal::store::{RunEnd, RunStatus, Store, StoreError, WindowState};
use wecom_journal::wecom::{ClientConfig, Endpoint, JournalDetail, Secret, WecomClient};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// October 2026 (in the past: every window is closed).
fn october() -> DateRange {
    DateRange {
        start: date("2026-10-01"),
        end: date("2026-11-01"),
    }
}

fn sim_config(users: usize) -> SimConfig {
    SimConfig {
        users,
        start: date("2026-10-01"),
        days: 31,
        record_list_per_minute: FAST.record_list_per_minute,
        per_api_per_minute: FAST.per_api_per_minute,
        // No withdrawals: these tests count calls and stored details against every journal
        // of the world (withdrawn journals, gaps: the kill test here and tests/it/converge.rs).
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    }
}

fn job(sim: &SimHandle, range: DateRange, dir: &Path) -> Job {
    Job {
        name: "extract-test".into(),
        path: None,
        source: Source {
            corp_id: sim.corp_id.clone(),
            secret: Secret::new(sim.secret.clone()),
            api_base: sim.base_url.clone(),
            timezone: chrono_tz::Asia::Shanghai,
            limits: FAST,
        },
        range: RangeSpec::Absolute(range),
        filters: Filters::default(),
        extract: ExtractSettings {
            details: true,
            stats: true,
            directory: DirectorySource::Api,
            wedrive_files: false,
            refresh_days: 7,
        },
        output: OutputSettings {
            dir: dir.to_path_buf(),
            storage: Default::default(),
            store_path: None,
            formats: vec![],
            reports: vec![],
            csv_bom: false,
            csv_escape_formulas: true,
            language: Default::default(),
            min_group_size: 3,
        },
        period_override: None,
        plan: PlanSettings::default(),
    }
}

fn client(job: &Job) -> Result<WecomClient, Box<dyn std::error::Error>> {
    let mut config = ClientConfig::new(
        job.source.api_base.clone(),
        job.source.corp_id.clone(),
        job.source.secret.clone(),
    );
    config.limits = job.source.limits.clone();
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(100);
    Ok(WecomClient::new(config)?)
}

/// Records `run_id` as succeeded at `at` (unix s), as the pipeline does after its outputs.
fn succeeded(store: &Store, run_id: &str, at: i64) -> Result<(), StoreError> {
    store.finish_run(
        run_id,
        &RunEnd {
            status: RunStatus::Succeeded,
            finished_at: at,
            error: None,
            manifest: None,
        },
    )
}

fn options(run_id: &str, now: DateTime<Utc>) -> ExtractOptions {
    ExtractOptions {
        full_refresh: false,
        progress: false,
        now,
        ..ExtractOptions::new(run_id)
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a time")
        .with_timezone(&Utc)
}

async fn run(
    job: &Job,
    store: &Store,
    opts: &ExtractOptions,
) -> Result<ExtractSummary, Box<dyn std::error::Error>> {
    let range = match &job.range {
        RangeSpec::Absolute(r) => *r,
        other => return Err(format!("test jobs use absolute ranges, not {other:?}").into()),
    };
    Ok(extract(job, range, &client(job)?, store, opts).await?)
}

/// The simulator's journals with `start <= report_time < end` of the range, by uuid, as its
/// server sends them once settled (most without `template_id`).
fn expected_journals(
    sim: &SimHandle,
    job: &Job,
    range: DateRange,
) -> BTreeMap<String, JournalDetail> {
    let tz = job.source.timezone;
    let start = tz
        .from_local_datetime(&range.start.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp();
    let end = tz
        .from_local_datetime(&range.end.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp();
    sim.org
        .at(sim.org.settled_at())
        .journals()
        .filter(|j| (start..end).contains(&j.report_time()))
        .map(|j| (j.uuid().to_string(), j.served_detail()))
        .collect()
}

/// A journal's true template (whether or not its detail says it).
fn true_template<'a>(sim: &'a SimHandle, uuid: &str) -> Option<&'a String> {
    sim.org.journal(uuid)?.template_id.as_ref()
}

fn stored_journals(
    store: &Store,
) -> Result<BTreeMap<String, JournalDetail>, Box<dyn std::error::Error>> {
    let mut out = BTreeMap::new();
    let mut last_time = i64::MIN;
    store.details_in_range(
        i64::MIN,
        i64::MAX,
        97,
        |batch| -> Result<(), Box<dyn std::error::Error>> {
            for d in batch {
                assert!(
                    d.report_time >= last_time,
                    "details stream in report-time order"
                );
                last_time = d.report_time;
                out.insert(d.journal_uuid.clone(), d);
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// Pages a window of `n` journals takes at 100 a page (an empty window still takes one call).
fn pages(n: usize) -> u64 {
    (n.div_ceil(100)).max(1) as u64
}

/// Record-list calls an extraction of `range` makes without filters, derived from the
/// simulator's journals: one call per page of each calendar month.
fn expected_list_calls(sim: &SimHandle, job: &Job, range: DateRange) -> u64 {
    month_windows(range, job.source.timezone)
        .iter()
        .map(|w| {
            pages(
                sim.org
                    .journals
                    .iter()
                    .filter(|j| (w.start_ts..w.end_ts).contains(&j.report_time))
                    .count(),
            )
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_300_users_is_stored_exactly() -> TestResult {
    let sim = SimThread::start(sim_config(300));
    let dir = tempfile::tempdir()?;
    let job = job(&sim, october(), dir.path());
    let store = Store::open(dir.path().join("store.sqlite"))?;
    let summary = run(&job, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;

    let want = expected_journals(&sim, &job, october());
    assert!(
        want.len() > 1000,
        "a month of 300 users is thousands of journals ({})",
        want.len()
    );
    let got = stored_journals(&store)?;
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the same journals"
    );
    for (uuid, detail) in &want {
        assert_eq!(
            &got[uuid], detail,
            "journal {uuid} decodes from the store as the simulator made it"
        );
    }
    // Raw JSON semantics: the stored text is the simulator's detail as it sent it, value for
    // value (numeric strings and `null` lists included).
    let settled = sim.org.at(sim.org.settled_at());
    for (uuid, raw) in store.detail_raws()? {
        let stored: serde_json::Value = serde_json::from_str(&raw)?;
        let sent = settled.journal(&uuid).ok_or("a listed journal")?;
        assert_eq!(stored, sim.org.wire.detail(&sent), "raw detail {uuid}");
    }

    // Stats: every cycle of every template that has journals, beginning in the range (their
    // true templates: most details do not say).
    let templates: BTreeSet<String> = want
        .keys()
        .filter_map(|uuid| sim.org.journal(uuid)?.template_id.clone())
        .collect();
    let window = wecom_journal::extract::range_window(october(), job.source.timezone);
    let mut want_stats: Vec<_> = sim
        .org
        .stats
        .iter()
        .filter(|s| templates.contains(&s.template_id))
        .filter(|s| (window.start_ts..window.end_ts).contains(&(s.cycle_begin_time as i64)))
        .cloned()
        .collect();
    want_stats.sort_by(|a, b| {
        (&a.template_id, a.cycle_begin_time).cmp(&(&b.template_id, b.cycle_begin_time))
    });
    assert!(!want_stats.is_empty());
    assert_eq!(
        store.stat_cycles_in_range(window.start_ts, window.end_ts)?,
        want_stats
    );

    // Directory: every department and user, main departments included.
    let directory = store.directory()?.ok_or("a directory snapshot")?;
    assert_eq!(directory.departments.len(), sim.org.departments.len());
    let mut want_users = sim.org.users.clone();
    want_users.sort_by(|a, b| a.userid.cmp(&b.userid));
    assert_eq!(directory.users, want_users);

    // Calls: exactly one list call per page, one detail call per journal.
    let list_calls = expected_list_calls(&sim, &job, october());
    assert_eq!(sim.calls(Endpoint::RecordList), list_calls);
    assert_eq!(sim.calls(Endpoint::RecordDetail), want.len() as u64);
    assert_eq!(
        sim.calls(Endpoint::StatList),
        templates.len() as u64,
        "one year window per template"
    );
    assert_eq!(
        sim.calls(Endpoint::UserList),
        sim.org.departments.len() as u64
    );
    assert_eq!(summary.list_calls, list_calls);
    assert_eq!(summary.journals_listed, want.len() as u64);
    assert_eq!(summary.details_fetched, want.len() as u64);
    assert_eq!((summary.windows_paged, summary.windows_skipped), (1, 0));
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert!(summary.directory_fetched);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_with_nothing_new_calls_nothing_more_than_refresh_days_requires() -> TestResult
{
    let sim = SimThread::start(sim_config(40));
    let dir = tempfile::tempdir()?;
    let job = job(&sim, october(), dir.path());
    let store = Store::open(dir.path().join("store.sqlite"))?;
    run(&job, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;
    let first = sim.snapshot();
    succeeded(&store, "r1", at("2026-11-25T00:10:00Z").timestamp())?;

    let summary = run(&job, &store, &options("r2", at("2026-11-26T00:00:00Z"))).await?;
    let second = sim.snapshot();
    let delta = |name: &str| second[name] - first[name];
    // Data weeks old: every window closed before it was paged, every detail old when fetched,
    // every stat window complete.
    assert_eq!(delta("get_record_list"), 0);
    assert_eq!(delta("get_record_detail"), 0);
    assert_eq!(delta("get_stat_list"), 0);
    assert_eq!(
        (
            summary.details_fetched,
            summary.windows_paged,
            summary.stats_fetched
        ),
        (0, 0, 0)
    );
    assert_eq!(summary.windows_skipped, 1);
    assert_eq!(summary.details_skipped, summary.journals_listed);
    // The directory is a snapshot of today's organisation: read again by each new run.
    assert_eq!(delta("department_list"), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn young_details_and_open_windows_are_fetched_again() -> TestResult {
    let sim = SimThread::start(sim_config(30));
    let dir = tempfile::tempdir()?;
    let job = job(&sim, october(), dir.path());
    let store = Store::open(dir.path().join("store.sqlite"))?;
    // First run on 2026-10-29 (window still open); its clock is pinned there.
    let first_at = at("2026-10-29T00:00:00Z");
    run(&job, &store, &options("r1", first_at)).await?;
    succeeded(&store, "r1", first_at.timestamp() + 60)?;
    let first = sim.snapshot();

    // Second run on 2026-11-02: the October window was open when paged, so it is paged again;
    // details fetched less than refresh_days after their report are fetched again.
    let second_at = at("2026-11-02T00:00:00Z");
    let summary = run(&job, &store, &options("r2", second_at)).await?;
    let second = sim.snapshot();
    let all = expected_journals(&sim, &job, october());
    // Journals the first run could list: those reported before it started (the simulator
    // serves every journal of its month, whatever our pinned clock says).
    let young = all
        .values()
        .filter(|j| first_at.timestamp() < j.report_time + 7 * 86_400)
        .count() as u64;
    assert!(
        young > 0 && young < all.len() as u64,
        "some details are young ({young} of {})",
        all.len()
    );
    assert_eq!(
        second["get_record_list"] - first["get_record_list"],
        expected_list_calls(&sim, &job, october())
    );
    assert_eq!(
        second["get_record_detail"] - first["get_record_detail"],
        young
    );
    assert_eq!(summary.details_fetched, young);
    // The stat window was still open at the first run: fetched again.
    assert!(summary.stats_fetched > 0);
    assert_eq!(summary.stats_skipped, 0);

    // A third run a day later: the window is final now, and only details fetched young on
    // 2026-11-02 remain to refresh.
    succeeded(&store, "r2", second_at.timestamp() + 60)?;
    let third_at = at("2026-11-03T00:00:00Z");
    let summary = run(&job, &store, &options("r3", third_at)).await?;
    let third = sim.snapshot();
    let still_young = all
        .values()
        .filter(|j| second_at.timestamp() < j.report_time + 7 * 86_400)
        .count() as u64;
    assert_eq!(third["get_record_list"] - second["get_record_list"], 0);
    assert_eq!(
        third["get_record_detail"] - second["get_record_detail"],
        still_young
    );
    assert_eq!(summary.details_fetched, still_young);
    assert_eq!(stored_journals(&store)?.len(), all.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refresh_fetches_everything_again() -> TestResult {
    let sim = SimThread::start(sim_config(20));
    let dir = tempfile::tempdir()?;
    let job = job(&sim, october(), dir.path());
    let store = Store::open(dir.path().join("store.sqlite"))?;
    run(&job, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;
    succeeded(&store, "r1", at("2026-11-25T00:01:00Z").timestamp())?;
    let first = sim.snapshot();
    let mut opts = options("r2", at("2026-11-26T00:00:00Z"));
    opts.full_refresh = true;
    let summary = run(&job, &store, &opts).await?;
    let second = sim.snapshot();
    let n = expected_journals(&sim, &job, october()).len() as u64;
    assert_eq!(second["get_record_detail"] - first["get_record_detail"], n);
    assert_eq!(
        second["get_record_list"] - first["get_record_list"],
        expected_list_calls(&sim, &job, october())
    );
    assert_eq!(summary.details_fetched, n);
    assert!(summary.stats_fetched > 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_combinations_page_each_combination_and_months_split_the_range() -> TestResult {
    let sim = SimThread::start(SimConfig {
        start: date("2026-09-20"),
        days: 20,
        ..sim_config(20)
    });
    let dir = tempfile::tempdir()?;
    let range = DateRange {
        start: date("2026-09-20"),
        end: date("2026-10-10"),
    };
    let mut job = job(&sim, range, dir.path());
    let templates: BTreeSet<String> = sim
        .org
        .journals
        .iter()
        .filter_map(|j| j.template_id.clone())
        .collect();
    let templates: Vec<String> = templates.into_iter().take(2).collect();
    let creators: Vec<String> = sim
        .org
        .users
        .iter()
        .take(3)
        .map(|u| u.userid.clone())
        .collect();
    job.filters = Filters {
        template_ids: templates.clone(),
        creators: creators.clone(),
        departments: vec![],
    };
    let store = Store::open(dir.path().join("store.sqlite"))?;
    let summary = run(&job, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;

    // Two months (Sep 20–30, Oct 1–9) × 2 templates × 3 creators, each its own windows.
    let windows = month_windows(range, job.source.timezone);
    assert_eq!(windows.len(), 2);
    assert_eq!(summary.windows_paged, 2 * 2 * 3);
    let mut want_calls = 0;
    let mut want_ids = BTreeSet::new();
    for w in &windows {
        for t in &templates {
            for c in &creators {
                let n = sim
                    .org
                    .journals
                    .iter()
                    .filter(|j| (w.start_ts..w.end_ts).contains(&j.report_time))
                    .filter(|j| j.template_id.as_ref() == Some(t) && &j.submitter.userid == c)
                    .inspect(|j| {
                        want_ids.insert(j.journal_uuid.clone());
                    })
                    .count();
                want_calls += pages(n);
            }
        }
    }
    assert_eq!(sim.calls(Endpoint::RecordList), want_calls);
    assert_eq!(
        stored_journals(&store)?
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        want_ids
    );
    // Stats for exactly the filtered templates, one window each (the range is in one year).
    assert_eq!(sim.calls(Endpoint::StatList), templates.len() as u64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Resume after SIGKILL, with the real binary against an external simulator process.

mod kill {
    use std::io::Write;
    use std::path::Path;
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    use wecom_journal::store::Store;

    pub use crate::common::SimProcess;

    pub fn write_job(path: &Path, out: &Path, sim: &SimProcess) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        write!(
            f,
            r#"name = "kill-test"

[source]
corp_id = "{corp}"
secret = "{secret}"
api_base = "{base}"
timezone = "Asia/Shanghai"

[source.limits]
# The simulator's quotas are the documented ones; only the hourly pacing (150,000 an hour,
# ~42 calls a second) would make these runs slow.
per_api_per_hour = 600000
max_in_flight = 4

[range]
start = "2026-10-01"
end = "2026-11-01"

[extract]
details = true
stats = true
directory = "api"
refresh_days = 7

[output]
dir = "{out}"
formats = ["csv"]
"#,
            corp = sim.corp_id,
            secret = sim.secret,
            base = sim.base_url,
            out = out.display()
        )
    }

    pub fn spawn_run(job: &Path) -> std::io::Result<Child> {
        crate::common::bin()
            .arg("run")
            .arg(job)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// Waits until the store holds at least `n` details, then SIGKILLs the run.
    pub fn kill_after(
        mut child: Child,
        store_path: &Path,
        n: u64,
    ) -> Result<bool, Box<dyn std::error::Error>> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait()? {
                // Finished before reaching n: nothing to kill.
                return Err(
                    format!("the run ended ({status}) before {n} details were stored").into(),
                );
            }
            if store_path.exists() {
                if let Ok(store) = Store::open(store_path) {
                    if store.counts()?.details >= n {
                        child.kill()?; // SIGKILL on unix
                        child.wait()?;
                        return Ok(true);
                    }
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("no {n} details stored within two minutes").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn finish(job: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let status = spawn_run(job)?.wait()?;
        match status.code() {
            Some(0) | Some(3) => Ok(()),
            _ => Err(format!("the resumed run failed: {status}").into()),
        }
    }
}

/// What a store holds, for comparing runs: details by uuid (as JSON values), done windows with
/// their uuids, stat responses (as JSON values).
#[derive(Debug, PartialEq)]
struct Content {
    details: BTreeMap<String, serde_json::Value>,
    windows: BTreeSet<(String, i64, i64, Vec<String>)>,
    stats: BTreeMap<String, serde_json::Value>,
}

fn content(store: &Store) -> Result<Content, Box<dyn std::error::Error>> {
    let mut details = BTreeMap::new();
    for (uuid, raw) in store.detail_raws()? {
        details.insert(uuid, serde_json::from_str(&raw)?);
    }
    let mut windows = BTreeSet::new();
    for w in store.record_windows()? {
        let mut uuids = store.window_uuids(&w.filter_key, w.start_ts, w.end_ts)?;
        uuids.sort();
        windows.insert((
            format!("{}:{:?}", w.filter_key, w.state),
            w.start_ts,
            w.end_ts,
            uuids,
        ));
    }
    let mut stats = BTreeMap::new();
    store.stats_in_range(
        i64::MIN,
        i64::MAX,
        |s| -> Result<(), Box<dyn std::error::Error>> {
            let mut v: serde_json::Value = serde_json::from_str(&s.raw)?;
            if let Some(o) = v.as_object_mut() {
                o.remove("errmsg");
            }
            stats.insert(format!("{} {} {}", s.template_id, s.start_ts, s.end_ts), v);
            Ok(())
        },
    )?;
    Ok(Content {
        details,
        windows,
        stats,
    })
}

#[test]
fn a_run_killed_at_any_point_resumes_to_the_same_store_with_fewer_calls() -> TestResult {
    // The time-true world as it is: withdrawn journals are gaps (exit 3) in both runs.
    let sim = kill::SimProcess::start(&["--users", "40", "--start", "2026-10-01", "--days", "31"])?;
    let base = tempfile::tempdir()?;

    // The reference: one uninterrupted run.
    let ref_out = base.path().join("reference");
    let ref_job = base.path().join("reference.toml");
    kill::write_job(&ref_job, &ref_out, &sim)?;
    let before = sim_calls(&sim)?;
    kill::finish(&ref_job)?;
    let fresh_calls = sim_calls(&sim)? - before;
    let reference = Store::open(ref_out.join("store.sqlite"))?;
    let total = reference.counts()?.details;
    assert!(
        total > 100,
        "enough details to kill in the middle ({total})"
    );
    let want = content(&reference)?;
    // The withdrawn journals: asked for once each (301084), never stored.
    let withdrawn = reference.detail_gaps()?.len() as u64;
    assert!(withdrawn > 0, "the time-true world withdraws some journals");
    drop(reference);

    // Killed after a varying number of stored details (never the same point twice), then run
    // to the end.
    for (i, n) in [1, total / 3, total * 2 / 3, total - 5]
        .into_iter()
        .enumerate()
    {
        let out = base.path().join(format!("killed-{i}"));
        let job = base.path().join(format!("killed-{i}.toml"));
        kill::write_job(&job, &out, &sim)?;
        let detail_calls_before = calls_of(&sim, "/cgi-bin/oa/journal/get_record_detail")?;
        let mut kills = 1;
        kill::kill_after(kill::spawn_run(&job)?, &out.join("store.sqlite"), n)?;
        // Killed a second time, soon after resuming, for the first point.
        if i == 0 {
            kill::kill_after(kill::spawn_run(&job)?, &out.join("store.sqlite"), total / 2)?;
            kills += 1;
        }
        let before = sim_calls(&sim)?;
        kill::finish(&job)?;
        let resumed_calls = sim_calls(&sim)? - before;
        let detail_calls =
            calls_of(&sim, "/cgi-bin/oa/journal/get_record_detail")? - detail_calls_before;
        let store = Store::open(out.join("store.sqlite"))?;
        let got = content(&store)?;
        assert_eq!(
            got.details.len(),
            want.details.len(),
            "kill point {n}: details"
        );
        assert!(
            got.details == want.details,
            "kill point {n}: the details differ from the uninterrupted run's"
        );
        assert_eq!(got.windows, want.windows, "kill point {n}: record windows");
        assert_eq!(got.stats, want.stats, "kill point {n}: stats");
        assert!(
            resumed_calls < fresh_calls,
            "kill point {n}: the resumed run made {resumed_calls} calls, a fresh run {fresh_calls}"
        );
        // No detail is fetched twice, except those in flight when a kill struck (and the
        // withdrawn ones, asked for once each).
        let gaps = store.detail_gaps()?;
        assert_eq!(
            gaps.len() as u64,
            withdrawn,
            "kill point {n}: withdrawn journals"
        );
        assert!(
            detail_calls <= total + withdrawn + kills * 4,
            "kill point {n}: {detail_calls} detail calls for {total} details over {kills} kills"
        );
    }
    Ok(())
}

/// Calls the external simulator answered so far (all endpoints), from its `/sim/stats`.
fn sim_calls(sim: &kill::SimProcess) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(sim_stats(sim)?.values().sum())
}

fn calls_of(sim: &kill::SimProcess, path: &str) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(sim_stats(sim)?.get(path).copied().unwrap_or(0))
}

/// `GET /sim/stats` → calls per endpoint path.
fn sim_stats(sim: &kill::SimProcess) -> Result<BTreeMap<String, u64>, Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{}/sim/stats", sim.base_url))
            .await?
            .json::<serde_json::Value>()
            .await
    })?;
    let calls = body
        .get("calls")
        .and_then(|c| c.as_object())
        .ok_or("no calls in /sim/stats")?;
    let count =
        |v: &serde_json::Value| v["ok"].as_u64().unwrap_or(0) + v["failed"].as_u64().unwrap_or(0);
    Ok(calls.iter().map(|(k, v)| (k.clone(), count(v))).collect())
}

// ---------------------------------------------------------------------------------------------
// Answers the simulator does not give on its own (301066 on long windows, 301065 on a
// template), from a loopback proxy in front of it.

mod proxy {
    use std::sync::Arc;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::Router;

    /// Decides, from the path and the JSON body, to answer in the simulator's stead.
    pub type Rule = dyn Fn(&str, &serde_json::Value) -> Option<serde_json::Value> + Send + Sync;

    struct Proxy {
        upstream: String,
        http: reqwest::Client,
        rule: Box<Rule>,
    }

    async fn forward(
        State(p): State<Arc<Proxy>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let json: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if let Some(answer) = (p.rule)(uri.path(), &json) {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                answer.to_string(),
            )
                .into_response();
        }
        let url = format!(
            "{}{}",
            p.upstream,
            uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/")
        );
        let mut req = p.http.request(method, url).body(body);
        if let Some(ct) = headers.get("content-type") {
            req = req.header("content-type", ct.as_bytes());
        }
        match req.send().await {
            Ok(resp) => {
                let status =
                    StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let bytes = resp.bytes().await.unwrap_or_default();
                (status, [("content-type", "application/json")], bytes).into_response()
            }
            Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        }
    }

    /// Starts a proxy to `upstream` on a free loopback port; gives its base URL.
    pub async fn start(upstream: &str, rule: Box<Rule>) -> std::io::Result<String> {
        let state = Arc::new(Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            rule,
        });
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(format!("http://{addr}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_over_the_limit_are_halved_and_never_asked_whole_again() -> TestResult {
    let sim = SimThread::start(sim_config(30));
    // A deployment stricter than the simulator: windows of 10 days or more are refused.
    const MAX_DAYS: i64 = 10;
    let base = proxy::start(
        &sim.base_url,
        Box::new(|path, body| {
            if path.ends_with("/get_record_list") {
                let (s, e) = (body["starttime"].as_i64()?, body["endtime"].as_i64()?);
                if e - s >= MAX_DAYS * 86_400 {
                    return Some(
                        serde_json::json!({"errcode": 301066, "errmsg": "invalid time range"}),
                    );
                }
            }
            None
        }),
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let mut job = job(&sim, october(), dir.path());
    job.source.api_base = base;
    let store = Store::open(dir.path().join("store.sqlite"))?;
    let summary = run(&job, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;

    // Everything is there despite the limit.
    let want = expected_journals(&sim, &job, october());
    assert_eq!(
        stored_journals(&store)?.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    // 31 days → 15 + 16 → 7 + 8 + 8 + 8: three windows refused, four paged.
    assert_eq!(summary.windows_split, 3);
    assert_eq!(summary.windows_paged, 4);
    let leaves: Vec<_> = store
        .record_windows()?
        .into_iter()
        .filter(|w| w.state == WindowState::Done)
        .collect();
    assert_eq!(leaves.len(), 4);
    assert!(leaves
        .iter()
        .all(|w| w.end_ts - w.start_ts < MAX_DAYS * 86_400));
    let leaf_pages: u64 = leaves
        .iter()
        .map(|w| {
            pages(
                want.values()
                    .filter(|j| (w.start_ts..w.end_ts).contains(&j.report_time))
                    .count(),
            )
        })
        .sum();
    assert_eq!(
        sim.calls(Endpoint::RecordList),
        leaf_pages,
        "refused calls never reach the simulator"
    );
    assert_eq!(summary.list_calls, leaf_pages + 3);
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);

    // The next run knows the split: no refused call again, nothing paged (all final).
    succeeded(&store, "r1", at("2026-11-25T00:05:00Z").timestamp())?;
    let summary = run(&job, &store, &options("r2", at("2026-11-26T00:00:00Z"))).await?;
    assert_eq!(
        (
            summary.list_calls,
            summary.windows_split,
            summary.windows_skipped
        ),
        (0, 0, 4)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_the_app_may_not_read_is_a_gap_and_the_rest_goes_on() -> TestResult {
    let probe = SimThread::start(sim_config(30));
    let templates: Vec<String> = probe.org.templates.iter().map(|t| t.id.clone()).collect();
    drop(probe);
    let denied = templates[0].clone();
    let sim = SimThread::start(SimConfig {
        denied_template_ids: vec![denied.clone()],
        ..sim_config(30)
    });
    let dir = tempfile::tempdir()?;
    let job0 = job(&sim, october(), dir.path());
    let all = expected_journals(&sim, &job0, october());
    let of_denied = all
        .keys()
        .filter(|uuid| true_template(&sim, uuid) == Some(&denied))
        .count() as u64;
    assert!(of_denied > 0);

    // Without filters: the denied template's journals are listed, their details refused.
    let store = Store::open(dir.path().join("a.sqlite"))?;
    let summary = run(&job0, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;
    assert_eq!(
        summary.gaps.len(),
        1,
        "one gap for all refused details: {:?}",
        summary.gaps
    );
    let g = &summary.gaps[0];
    assert_eq!(g.errcode, 301065);
    assert!(g.endpoint.contains("get_record_detail"), "{g:?}");
    assert!(
        g.what
            .starts_with(&format!("{of_denied} journal detail(s)")),
        "{g:?}"
    );
    assert_eq!(summary.details_fetched, all.len() as u64 - of_denied);
    assert_eq!(
        stored_journals(&store)?.len() as u64,
        all.len() as u64 - of_denied
    );

    // Filtered by the denied template and another: the denied one's windows and stats are
    // gaps, the other is extracted whole.
    let mut job1 = job0.clone();
    let allowed = templates[1].clone();
    job1.filters.template_ids = vec![denied.clone(), allowed.clone()];
    let store = Store::open(dir.path().join("b.sqlite"))?;
    let summary = run(&job1, &store, &options("r1", at("2026-11-25T00:00:00Z"))).await?;
    let mut kinds: Vec<(String, i64)> = summary
        .gaps
        .iter()
        .map(|g| {
            (
                g.endpoint.rsplit('/').next().unwrap_or("").to_string(),
                g.errcode,
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("get_record_list".to_string(), 301065),
            ("get_stat_list".to_string(), 301065)
        ]
    );
    assert!(
        summary.gaps.iter().all(|g| g.what.contains(&denied)),
        "{:?}",
        summary.gaps
    );
    let want: BTreeSet<&String> = all
        .keys()
        .filter(|uuid| true_template(&sim, uuid) == Some(&allowed))
        .collect();
    let got = stored_journals(&store)?;
    assert_eq!(got.keys().collect::<BTreeSet<_>>(), want);
    assert_eq!(summary.stats_fetched, 1);
    Ok(())
}
