//! Gaps as an operator acts on them (issue 14): a template the app may no longer read is named
//! once per endpoint, with its id, its name and how many calls it refused, whole-output
//! checked against the simulator's ground truth and call counters.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use wecom_journal::sim::SimConfig;
use wecom_journal::wecom::Endpoint;

use crate::common::{assert_output, bin, run_quiet, sim_job, streams, SimThread};

/// The daily job's runs: each day at 06:15 in Shanghai.
const DAYS: [&str; 3] = [
    "2026-10-12T22:15:00Z",
    "2026-10-13T22:15:00Z",
    "2026-10-14T22:15:00Z",
];

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn config(denied: Vec<String>, now: &str) -> SimConfig {
    SimConfig {
        users: 12,
        start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days: 31,
        now: Some(instant(now)),
        denied_template_ids: denied,
        ..SimConfig::default()
    }
}

/// Runs `range` of a job reading only `template`'s journals and stats (no details: this test
/// is about the record list and the stats) against `sim` at `now`, into `out`.
fn run(
    dir: &Path,
    sim: &SimThread,
    template: &str,
    range: (&str, &str),
    now: &str,
) -> (i32, String) {
    let job = dir.join("grant.toml");
    sim_job(
        &job,
        "grant",
        sim,
        range,
        &format!("[filters]\ntemplate_ids = [\"{template}\"]\n[extract]\ndetails = false\n"),
        &dir.join("out"),
        "formats = [\"parquet\"]\nreports = []",
    );
    let out = run_quiet(bin().args(["run", job.to_str().unwrap(), "--now", now]));
    let (_, stderr) = streams(&out);
    (out.status.code().unwrap_or(-1), stderr)
}

fn refused(n: u64, noun: &str) -> String {
    format!("{n} {noun}{} refused", if n == 1 { "" } else { "s" })
}

#[test]
fn a_template_the_app_may_no_longer_read_is_one_gap_per_endpoint_naming_it_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let open = SimThread::start(config(Vec::new(), DAYS[0]));
    let weekly = open
        .org
        .template_named("周报")
        .expect("a weekly template")
        .clone();
    // Two daily runs while the app may read the template: the store learns its name from the
    // stats (the week of 5–11 October is summarised by the 13th), and their stat windows stay
    // open (their weeks are not settled).
    let (code, stderr) = run(
        dir.path(),
        &open,
        &weekly.id,
        ("2026-10-01", "2026-10-13"),
        DAYS[0],
    );
    assert_eq!(code, 0, "{stderr}");
    open.set_now(Some(instant(DAYS[1])));
    let (code, stderr) = run(
        dir.path(),
        &open,
        &weekly.id,
        ("2026-10-13", "2026-10-14"),
        DAYS[1],
    );
    assert_eq!(code, 0, "{stderr}");
    drop(open);

    // The next day, after the admin took the app off the template: the same world, the
    // template refused (301065) on every call, the stored open windows' stats included.
    let denied = SimThread::start(config(vec![weekly.id.clone()], DAYS[2]));
    let (code, stderr) = run(
        dir.path(),
        &denied,
        &weekly.id,
        ("2026-10-14", "2026-10-15"),
        DAYS[2],
    );
    assert_eq!(code, 3, "a refused template is a gap: {stderr}");
    let counts = denied.counters();
    let failed = |e: Endpoint| counts.calls.get(e.path()).map_or(0, |c| c.failed);
    let (lists, stats) = (failed(Endpoint::RecordList), failed(Endpoint::StatList));
    assert!(
        lists > 0 && stats > 2,
        "refused calls: {lists} lists, {stats} stats"
    );
    assert_eq!(
        counts.calls_to(Endpoint::StatList.path()),
        stats,
        "every stat call refused"
    );
    let label = format!("template {} ({})", weekly.id, weekly.name);
    // One gap per endpoint naming the template and how many calls it refused, one hint, and
    // the range that listed nothing: not one warning per window.
    assert_output(
        &stderr,
        &format!(
            "gap: record list ({label}): {}, [..] (/cgi-bin/oa/journal/get_record_list errcode \
             301065): [..]\n\
             gap: {label} stats: {}, [..] (/cgi-bin/oa/journal/get_stat_list errcode 301065): \
             [..]\n\
             hint: in the admin console, add the app under 汇报 → 可调用接口的应用 (Journal → Apps \
             that can call the API)\n\
             warning: run grant: no journal listed in 2026-10-14..2026-10-15 (nor in the months \
             it touches); check the range, the filters and the app's visibility scope \
             (`wecom-journal check JOB`)\n",
            refused(lists, "record window"),
            refused(stats, "stat window"),
        ),
        &[],
    );
    // The manifest holds the same two gaps.
    let runs = dir.path().join("out/runs");
    let latest = crate::common::files_under(&runs).into_iter().max().unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest).unwrap()).unwrap();
    let gaps = manifest["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(gaps
        .iter()
        .all(|g| g["errcode"] == 301065 && g["what"].as_str().unwrap().contains(&label)));
}
