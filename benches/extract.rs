//! Extraction throughput under a quota: an in-process simulator with scaled-down quotas (a
//! "minute" of 2 s), a fresh store, one extraction; prints the achieved call rate of each
//! quota-bound stage as a share of its quota (the goal: ≥ 95 %, and no 45009), and the peak
//! RSS of the process.
//!
//! `cargo bench --bench extract` (env: `BENCH_USERS`, `BENCH_DAYS`, `BENCH_LIST_QUOTA`,
//! `BENCH_DETAIL_QUOTA` per 2 s period).

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use wecom_journal::extract::{extract, ExtractOptions};
use wecom_journal::job::{
    DateRange, DirectorySource, ExtractSettings, Filters, Job, OutputSettings, PlanSettings,
    RangeSpec, Source,
};
use wecom_journal::sim::{SimConfig, SimHandle};
use wecom_journal::store::Store;
use wecom_journal::wecom::{ClientConfig, Endpoint, Limits, Secret, WecomClient};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: usize = env_or("BENCH_USERS", 100);
    let days: u32 = env_or("BENCH_DAYS", 62);
    let list_quota: u32 = env_or("BENCH_LIST_QUOTA", 120);
    let detail_quota: u32 = env_or("BENCH_DETAIL_QUOTA", 600);
    let period = Duration::from_secs(2);
    let start = NaiveDate::from_ymd_opt(2026, 8, 1).ok_or("a date")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sim_config = SimConfig {
        users,
        start,
        days,
        record_list_per_minute: list_quota,
        per_api_per_minute: detail_quota,
        quota_period: period,
        ..SimConfig::default()
    };
    let sim = runtime.block_on(SimHandle::start(sim_config, "127.0.0.1:0".parse()?))?;
    let limits = Limits {
        record_list_per_minute: list_quota,
        per_api_per_minute: detail_quota,
        per_api_per_hour: u32::MAX,
        max_in_flight: 8,
    };
    let dir = tempfile::tempdir()?;
    let range = DateRange {
        start,
        end: start + chrono::Duration::days(i64::from(days)),
    };
    let job = Job {
        name: "bench".into(),
        path: None,
        source: Source {
            corp_id: sim.corp_id.clone(),
            secret: Secret::new(sim.secret.clone()),
            api_base: sim.base_url.clone(),
            timezone: chrono_tz::Asia::Shanghai,
            limits: limits.clone(),
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
            dir: dir.path().to_path_buf(),
            formats: vec![],
            reports: vec![],
            csv_bom: false,
        },
        period_override: None,
        plan: PlanSettings::default(),
    };
    let mut config = ClientConfig::new(
        sim.base_url.clone(),
        sim.corp_id.clone(),
        Secret::new(sim.secret.clone()),
    );
    config.limits = limits;
    config.quota_period = period;
    let client = WecomClient::new(config)?;
    let store = Store::open(dir.path().join("store.sqlite"))?;
    let opts = ExtractOptions {
        full_refresh: false,
        progress: false,
        now: Utc::now(),
        run_id: "bench".into(),
    };

    let started = Instant::now();
    let summary = runtime.block_on(extract(&job, range, &client, &store, &opts))?;
    let total = started.elapsed();

    let stats = client.stats();
    let sim_counters = sim.counters();
    let per_s = |quota: u32| f64::from(quota) / period.as_secs_f64();
    let share = |calls: u64, took: Duration, quota: u32| {
        calls as f64 / took.as_secs_f64() / per_s(quota) * 100.0
    };
    println!("extraction bench: {users} users, {days} days, quota period {period:?}");
    println!(
        "journals {} · list calls {} · details {} · stat windows {} · total {:.1} s",
        summary.journals_listed,
        summary.list_calls,
        summary.details_fetched,
        summary.stats_fetched,
        total.as_secs_f64()
    );
    println!("| stage | calls | time | rate | quota | share |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (stage, calls, took, quota) in [
        (
            "record list",
            summary.list_calls,
            summary.durations.records,
            list_quota,
        ),
        (
            "details",
            summary.details_fetched,
            summary.durations.details,
            detail_quota,
        ),
    ] {
        println!(
            "| {stage} | {calls} | {:.2} s | {:.1}/s | {:.0}/s | {:.1} % |",
            took.as_secs_f64(),
            calls as f64 / took.as_secs_f64(),
            per_s(quota),
            share(calls, took, quota)
        );
    }
    println!(
        "45009 answers: client {} · simulator {} · retries {}",
        stats.quota_errors,
        sim_counters.quota_exceeded,
        stats.retries.values().sum::<u64>()
    );
    println!(
        "simulator calls: {}",
        Endpoint::ALL
            .iter()
            .map(|e| format!(
                "{} {}",
                e.name(),
                sim_counters
                    .calls
                    .get(e.path())
                    .map_or(0, |c| c.ok + c.failed)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match peak_rss_mib() {
        Some(mib) => println!("peak RSS (VmHWM): {mib:.1} MiB"),
        None => println!("peak RSS: /proc/self/status not readable"),
    }
    runtime.shutdown_background();
    Ok(())
}
