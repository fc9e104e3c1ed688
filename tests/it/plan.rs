//! `plan` against what a run really does: a run over September builds the job's store, `plan`
//! of October reads its history (read-only), then a run over October counts its calls in its
//! manifest. The plan must land within 5 % of those calls, endpoint by endpoint. The simulator's
//! organisations (regenerated here, independently of the pipeline) tell what each month holds.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone};
use serde_json::Value;
use wecom_journal::sim::{Gentle, Org, SimConfig};

use crate::common::run_bin_gentle;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The job: October 2026, everything fetched, one cheap output format, no reports.
const JOB: &str = r#"name = "plan-vs-run"

[source]
corp_id = "${WECOM_CORP_ID}"
secret = "${WECOM_JOURNAL_SECRET}"
timezone = "Asia/Shanghai"

[range]
start = "2026-10-01"
end = "2026-11-01"

[extract]
details = true
stats = true
directory = "api"

[output]
dir = "output/plan-vs-run"
formats = ["csv"]
reports = []
"#;

/// The endpoints compared, by their manifest / plan name.
const ENDPOINTS: [&str; 5] = [
    "get_record_list",
    "get_record_detail",
    "get_stat_list",
    "department_list",
    "user_list",
];

/// The organisation `run --sandbox` serves for a range: the default simulator (60 users,
/// seed 7) covering exactly the range's days.
fn sandbox_org(start: &str, days: u32) -> Org {
    Org::generate(&SimConfig {
        start: NaiveDate::parse_from_str(start, "%Y-%m-%d").expect("a test date"),
        days,
        timezone: chrono_tz::Asia::Shanghai,
        // As `ok` runs it.
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    })
}

fn str_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary, asserting it exits 0; its stdout.
fn ok(args: &[&str]) -> String {
    // No withdrawals: the plan's figures are compared with runs that end 0 (a withdrawn
    // journal is a gap and exit 3: tests/it/converge.rs).
    let out = run_bin_gentle(args, "withdrawals");
    assert!(
        out.status.success(),
        "{args:?} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        str_of(&out.stdout),
        str_of(&out.stderr)
    );
    str_of(&out.stdout)
}

fn manifests(out: &Path) -> BTreeSet<PathBuf> {
    fs::read_dir(out.join("runs"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

fn plan_calls(plan: &Value, endpoint: &str) -> u64 {
    plan["calls"]
        .as_array()
        .expect("the plan lists calls")
        .iter()
        .filter(|c| c["endpoint"] == endpoint)
        .map(|c| c["calls"].as_u64().expect("a call count"))
        .sum()
}

fn within_5_percent(planned: u64, actual: u64) -> bool {
    planned.abs_diff(actual) * 100 <= actual * 5
}

#[test]
fn plan_from_history_is_within_5_percent_of_the_next_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let job = dir.path().join("plan-vs-run.toml");
    fs::write(&job, JOB)?;
    let job = job.to_str().ok_or("a UTF-8 path")?;
    let out = dir.path().join("out");
    let out_s = out.to_str().ok_or("a UTF-8 path")?;

    // Before any run: no store, and `plan` does not create one.
    let plan: Value =
        serde_json::from_str(&ok(&["plan", job, "--output", out_s, "--format", "json"]))?;
    assert_eq!(plan["basis"]["kind"], "assumed", "{plan:#}");
    assert!(!out.join("store.sqlite").exists(), "plan created a store");

    // September builds the history.
    ok(&[
        "run",
        job,
        "--sandbox",
        "--output",
        out_s,
        "--start",
        "2026-09-01",
        "--end",
        "2026-10-01",
    ]);
    let september = sandbox_org("2026-09-01", 30);

    // The plan of October, from the store's history.
    let plan: Value =
        serde_json::from_str(&ok(&["plan", job, "--output", out_s, "--format", "json"]))?;
    assert_eq!(plan["basis"]["kind"], "history", "{plan:#}");
    // The history is what September held: its 30 days (the window's, not first..last
    // journal), every journal the simulator served, its templates and departments.
    assert_eq!(plan["basis"]["days"], 30, "{plan:#}");
    // (Late reports of the month's last days come in October, outside its windows.)
    let october_1 = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let september_journals = september
        .journals
        .iter()
        .filter(|j| j.report_time < october_1)
        .count();
    assert_eq!(
        plan["basis"]["journals"].as_u64(),
        Some(september_journals as u64)
    );
    assert_eq!(
        plan["basis"]["templates"].as_u64(),
        Some(september.templates.len() as u64)
    );
    assert_eq!(
        plan["basis"]["departments"].as_u64(),
        Some(september.departments.len() as u64)
    );
    assert!(
        plan["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with("history used")))),
        "the plan says it used the history: {plan:#}"
    );
    // The text form says so too.
    let text = ok(&["plan", job, "--output", out_s]);
    assert!(
        text.contains("history of an earlier run") && text.contains("history used"),
        "{text}"
    );

    // October, for real.
    let before = manifests(&out);
    ok(&["run", job, "--sandbox", "--output", out_s]);
    let new: Vec<PathBuf> = manifests(&out).difference(&before).cloned().collect();
    assert_eq!(new.len(), 1, "one new manifest: {new:?}");
    let manifest: Value = serde_json::from_str(&fs::read_to_string(&new[0])?)?;
    let actual = |endpoint: &str| manifest["calls"][endpoint].as_u64().unwrap_or(0);

    // The manifest counts what the simulator served: a detail per October journal, the
    // directory's departments, no retry.
    let october = sandbox_org("2026-10-01", 31);
    let november_1 = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let october_journals = october
        .journals
        .iter()
        .filter(|j| j.report_time < november_1)
        .count();
    assert_eq!(
        actual("get_record_detail"),
        october_journals as u64,
        "{manifest:#}"
    );
    assert_eq!(actual("user_list"), october.departments.len() as u64);
    let retries: u64 = manifest["retries"]
        .as_object()
        .map(|r| r.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(retries, 0, "{manifest:#}");

    let mut report = vec![];
    let mut off = vec![];
    for endpoint in ENDPOINTS {
        let (planned, made) = (plan_calls(&plan, endpoint), actual(endpoint));
        report.push(format!("{endpoint}: plan {planned}, run {made}"));
        if !within_5_percent(planned, made) {
            off.push(endpoint);
        }
    }
    let planned_total = plan["total_calls"].as_u64().ok_or("total_calls")?;
    let made_total: u64 = manifest["calls"]
        .as_object()
        .ok_or("manifest calls")?
        .values()
        .filter_map(Value::as_u64)
        .sum();
    report.push(format!("total: plan {planned_total}, run {made_total}"));
    if !within_5_percent(planned_total, made_total) {
        off.push("total");
    }
    eprintln!("plan vs run:\n{}", report.join("\n"));
    assert!(
        off.is_empty(),
        "off by more than 5 %: {off:?}\n{}",
        report.join("\n")
    );

    // The store now holds October complete: the plan counts only what is left (not a first
    // run's calls), and the run after makes just that.
    let again: Value =
        serde_json::from_str(&ok(&["plan", job, "--output", out_s, "--format", "json"]))?;
    assert!(
        again["notes"].as_array().is_some_and(|n| n.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("the store holds 1 of the 1 record windows complete")))),
        "{again:#}"
    );
    let before = manifests(&out);
    ok(&["run", job, "--sandbox", "--output", out_s]);
    let new: Vec<PathBuf> = manifests(&out).difference(&before).cloned().collect();
    let manifest: Value = serde_json::from_str(&fs::read_to_string(&new[0])?)?;
    let actual = |endpoint: &str| manifest["calls"][endpoint].as_u64().unwrap_or(0);
    for endpoint in ["get_record_list", "get_record_detail", "get_stat_list"] {
        assert_eq!(
            plan_calls(&again, endpoint),
            actual(endpoint),
            "{endpoint} after a complete run: {again:#}\n{manifest:#}"
        );
    }
    assert_eq!(plan_calls(&again, "get_record_detail"), 0);
    Ok(())
}

#[test]
fn the_eta_waits_for_what_the_store_says_was_spent_in_the_last_hour() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    let job = dir.path().join("job.toml");
    fs::write(&job, JOB)?;
    let (job, out_s) = (job.to_str().ok_or("a path")?, out.to_str().ok_or("a path")?);
    let eta_of = |plan: &Value| plan["eta_seconds"].as_u64().unwrap_or(0);
    let detail_seconds = |plan: &Value| {
        plan["calls"]
            .as_array()
            .and_then(|calls| calls.iter().find(|c| c["endpoint"] == "get_record_detail"))
            .and_then(|c| c["seconds"].as_f64())
            .unwrap_or(0.0)
    };

    // A store whose runs spent 149,000 of the hour's 150,000 detail calls, ten minutes ago.
    let store = wecom_journal::store::Store::open(out.join("store.sqlite"))?;
    let fresh: Value =
        serde_json::from_str(&ok(&["plan", job, "--output", out_s, "--format", "json"]))?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let bucket = |endpoint: &str, calls| wecom_journal::store::QuotaBucket {
        endpoint: endpoint.into(),
        start_ms: now_ms - 605_000,
        length_ms: 5_000,
        calls,
    };
    store.put_quota_usage(
        "ww@x",
        "an earlier run",
        &[bucket("get_record_detail", 149_000)],
        0,
    )?;
    drop(store);
    let plan: Value =
        serde_json::from_str(&ok(&["plan", job, "--output", out_s, "--format", "json"]))?;
    // 6,200 details planned (200 a day), 1,000 of them left this hour: the rest waits the 50
    // minutes until the spent calls leave the hour's window.
    assert!(detail_seconds(&fresh) < 600.0, "{fresh:#}");
    assert!(detail_seconds(&plan) >= 2_990.0, "{plan:#}");
    assert!(eta_of(&plan) >= eta_of(&fresh) + 2_400, "{plan:#}");
    assert!(
        plan["notes"].as_array().is_some_and(|n| n.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("149000 calls spent in the last hour")))),
        "{plan:#}"
    );
    Ok(())
}

/// The daily job's run at `now` over `range`, against `sim` (its clock moved there first).
fn daily_run(
    job: &Path,
    sim: &crate::common::SimThread,
    now: &str,
    args: &[&str],
) -> std::process::Output {
    sim.set_now(Some(now.parse().unwrap()));
    crate::common::bin()
        .args(args)
        .arg(job)
        .args(["--now", now, "--start", "2026-10-08", "--end", "2026-10-10"])
        .output()
        .unwrap()
}

/// After a week's run and a run of the next two days, `plan` of those two days again a day
/// later counts exactly the calls the run then makes at the simulator: none listed (the days'
/// window is held), the details re-read because they are younger than refresh_days or gaps
/// to retry — those of the week before the range included — and the stat windows still
/// open, the week's stored one included.
#[test]
fn plan_after_runs_counts_the_reads_that_reach_back_exactly() -> TestResult {
    let sim = crate::common::SimThread::start(SimConfig {
        users: 12,
        start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days: 31,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir()?;
    let (job, out) = (dir.path().join("daily.toml"), dir.path().join("out"));
    let write_job = |range: (&str, &str)| {
        crate::common::sim_job(
            &job,
            "daily",
            &sim,
            range,
            "[extract]\nstats = true\ndirectory = \"api\"\n",
            &out,
            "formats = [\"parquet\"]\nreports = []",
        )
    };
    // 06:15 in Shanghai on 8, 10 and 11 October.
    let (t1, t2, t3) = (
        "2026-10-07T22:15:00Z",
        "2026-10-09T22:15:00Z",
        "2026-10-10T22:15:00Z",
    );
    write_job(("2026-10-01", "2026-10-08"));
    sim.set_now(Some(t1.parse()?));
    let first = crate::common::bin()
        .args(["run", job.to_str().unwrap(), "--now", t1])
        .output()?;
    assert!(
        matches!(first.status.code(), Some(0 | 3)),
        "{}",
        str_of(&first.stderr)
    );
    let second = daily_run(&job, &sim, t2, &["run"]);
    assert!(
        matches!(second.status.code(), Some(0 | 3)),
        "{}",
        str_of(&second.stderr)
    );

    let planned = daily_run(&job, &sim, t3, &["plan", "--format", "json"]);
    assert!(planned.status.success(), "{}", str_of(&planned.stderr));
    let plan: Value = serde_json::from_slice(&planned.stdout)?;
    let before = sim.snapshot();
    let third = daily_run(&job, &sim, t3, &["run"]);
    assert!(
        matches!(third.status.code(), Some(0 | 3)),
        "{}",
        str_of(&third.stderr)
    );
    let after = sim.snapshot();
    let made = |name: &str| after[name] - before[name];
    // The case: reads that reach back before the range (details of the week) and open stat
    // windows stored by the earlier runs.
    assert!(made("get_record_detail") > 0 && made("get_stat_list") > 0);
    for endpoint in [
        "gettoken",
        "get_record_list",
        "get_record_detail",
        "get_stat_list",
    ]
    .into_iter()
    .chain(["department_list", "user_list"])
    {
        assert_eq!(
            plan_calls(&plan, endpoint),
            made(endpoint),
            "{endpoint}: planned vs made at the simulator\n{}",
            serde_json::to_string_pretty(&plan["notes"])?
        );
    }
    Ok(())
}
