//! Extraction throughput under a quota: an in-process simulator with scaled-down quotas (a
//! "minute" of 2 s), a fresh store, one extraction; prints the achieved call rate of each
//! quota-bound stage as a share of its quota (the goal: ≥ 95 %, and no 45009), and the peak
//! RSS of the process.
//!
//! Two passes against one simulator: records only over a year (the record-list quota), then
//! details, stats and directory over the last two months (the detail quota). The default quotas
//! make each pass last a dozen quota periods or more: the client lets a whole quota go at once
//! in the first period, which a pass of only a few periods would show as more than 100 %.
//!
//! `cargo bench --bench extract` (env: `BENCH_USERS`, `BENCH_LIST_DAYS`, `BENCH_DETAIL_DAYS`,
//! `BENCH_LIST_QUOTA`, `BENCH_DETAIL_QUOTA` per `BENCH_PERIOD_S` seconds).

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use wecom_journal::extract::{extract, ExtractOptions, ExtractSummary};
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

/// The share of a quota a long run of the client reaches at best: a call holds its slot from
/// when it leaves until a period (plus a thousandth, for clock rates) after its answer, counted
/// in 1,024 buckets of that window, which stretch it by up to one bucket — `wecom::client` rate
/// limits — so that no fixed window of the server's is ever overrun. A round trip per period
/// comes off that too.
fn client_ceiling(period: Duration) -> f64 {
    let window = period + period / 1000;
    period.as_secs_f64() / (window + window / 1024).as_secs_f64()
}

/// What a client that knew the server's windows exactly would need for `calls` at `quota` per
/// `period`, over the time taken: the first quota at once, then one more per period. `None`
/// when the calls fit in one quota (nothing to pace).
fn ideal_over_actual(calls: u64, quota: u32, period: Duration, took: Duration) -> Option<f64> {
    let periods = calls.div_ceil(u64::from(quota.max(1))).checked_sub(1)?;
    (periods > 0).then(|| periods as f64 * period.as_secs_f64() / took.as_secs_f64())
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    sim: SimHandle,
    /// One client for both passes, as the quota is the corp's: a second client would not know
    /// what the first one spent in the simulator's current window.
    client: WecomClient,
    limits: Limits,
}

impl Bench {
    fn job(&self, name: &str, range: DateRange, dir: &std::path::Path, details: bool) -> Job {
        Job {
            name: name.into(),
            path: None,
            source: Source {
                corp_id: self.sim.corp_id.clone(),
                secret: Secret::new(self.sim.secret.clone()),
                api_base: self.sim.base_url.clone(),
                timezone: chrono_tz::Asia::Shanghai,
                limits: self.limits.clone(),
            },
            range: RangeSpec::Absolute(range),
            filters: Filters::default(),
            extract: ExtractSettings {
                details,
                stats: details,
                directory: if details {
                    DirectorySource::Api
                } else {
                    DirectorySource::None
                },
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

    /// One extraction into a fresh store; the summary and the 45009 answers it met.
    fn extract(
        &self,
        job: &Job,
        range: DateRange,
    ) -> Result<(ExtractSummary, u64), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let client = &self.client;
        let errors_before = client.stats().quota_errors;
        let store = Store::open(dir.path().join("store.sqlite"))?;
        let opts = ExtractOptions {
            full_refresh: false,
            progress: false,
            now: Utc::now(),
            ..ExtractOptions::new(job.name.clone())
        };
        let summary = self
            .runtime
            .block_on(extract(job, range, client, &store, &opts))?;
        Ok((summary, client.stats().quota_errors - errors_before))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: usize = env_or("BENCH_USERS", 30);
    let list_days: u32 = env_or("BENCH_LIST_DAYS", 365);
    let detail_days: u32 = env_or("BENCH_DETAIL_DAYS", 62);
    let list_quota: u32 = env_or("BENCH_LIST_QUOTA", 10);
    let detail_quota: u32 = env_or("BENCH_DETAIL_QUOTA", 120);
    let period = Duration::from_secs(env_or("BENCH_PERIOD_S", 2));
    let start = NaiveDate::from_ymd_opt(2025, 11, 1).ok_or("a date")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sim_config = SimConfig {
        users,
        start,
        days: list_days.max(detail_days),
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
        ..Limits::default()
    };
    let rss_with_sim = peak_rss_mib();
    let mut config = ClientConfig::new(
        sim.base_url.clone(),
        sim.corp_id.clone(),
        Secret::new(sim.secret.clone()),
    );
    config.limits = limits.clone();
    config.quota_period = period;
    let client = WecomClient::new(config)?;
    // A token first, so the stage timings are the stages' own.
    runtime.block_on(client.department_list(None))?;
    let bench = Bench {
        runtime,
        sim,
        client,
        limits,
    };
    let per_s = |quota: u32| f64::from(quota) / period.as_secs_f64();
    let ceiling = client_ceiling(period);
    println!(
        "extraction bench: {users} users; quotas {list_quota} list / {detail_quota} detail calls per {period:?}; \
         a long run of the client reaches at most {:.1} % of a quota",
        ceiling * 100.0
    );

    // Records only, over many months: windows paged concurrently, pages in cursor order.
    let list_range = DateRange {
        start,
        end: start + chrono::Duration::days(i64::from(list_days)),
    };
    let dir = tempfile::tempdir()?;
    let (records, list_45009) = bench.extract(
        &bench.job("bench-records", list_range, dir.path(), false),
        list_range,
    )?;
    // Details (with stats and directory) over the last months.
    let detail_range = DateRange {
        start: list_range.end - chrono::Duration::days(i64::from(detail_days)),
        end: list_range.end,
    };
    let (details, detail_45009) = bench.extract(
        &bench.job("bench-details", detail_range, dir.path(), true),
        detail_range,
    )?;

    println!("| stage | range | calls | time | rate | quota | share of quota | ideal client's time / time |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (stage, days, calls, took, quota) in [
        (
            "record list",
            list_days,
            records.list_calls,
            records.durations.records,
            list_quota,
        ),
        (
            "details",
            detail_days,
            details.details_fetched,
            details.durations.details,
            detail_quota,
        ),
    ] {
        let rate = calls as f64 / took.as_secs_f64();
        let ideal = ideal_over_actual(calls, quota, period, took)
            .map_or("— (one quota)".to_string(), |r| {
                format!("{:.1} %", r * 100.0)
            });
        println!(
            "| {stage} | {days} days | {calls} | {:.2} s | {rate:.1}/s | {:.0}/s | {:.1} % | {ideal} |",
            took.as_secs_f64(),
            per_s(quota),
            rate / per_s(quota) * 100.0,
        );
    }
    let sim_counters = bench.sim.counters();
    println!(
        "journals listed {} (records pass) · details {} · stat windows {} · 45009 answers: client {} · simulator {}",
        records.journals_listed,
        details.details_fetched,
        details.stats_fetched,
        list_45009 + detail_45009,
        sim_counters.quota_exceeded
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
    match (rss_with_sim, peak_rss_mib()) {
        (Some(before), Some(after)) => println!(
            "peak RSS (VmHWM): {after:.1} MiB, of which {before:.1} MiB before extracting (the simulator and its organisation)"
        ),
        _ => println!("peak RSS: /proc/self/status not readable"),
    }
    bench.runtime.shutdown_background();
    Ok(())
}
