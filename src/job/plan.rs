//! The plan of a run, without the network: the record-list windows (calendar months in the
//! job's timezone, at most one month each, as the API demands), the stats windows (at most a
//! year), the calls each endpoint will take and how long the job's quotas make them last.
//!
//! The windows and filter combinations here are the ones the extraction walks
//! ([`record_windows`], [`stats_windows`], [`Filters::combos`]), so the estimate counts what the
//! run does: a run on the simulator must land within 5 % of the plan when an earlier run's
//! [`PlanHistory`] is there. Owns only arithmetic: no network, no store, no output.

use std::fmt;

use chrono::{Datelike, Days, LocalResult, Months, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use super::{DateRange, DirectorySource, Filters, Job, Period};
use crate::wecom::{Endpoint, Limits, RecordFilter};

mod held;
mod spent;
pub(crate) use held::{Held, HeldWindow};
pub(crate) use spent::QuotaSpent;

/// Journals per record-list page (the API's maximum `limit`).
pub(crate) const PAGE_SIZE: u64 = 100;
/// The longest stats window: a year as its strictest reading (never 366 days).
pub(crate) const MAX_STATS_DAYS: u64 = 365;
/// What one API call takes on the wire, for the concurrency bound of the ETA.
pub(crate) const ASSUMED_LATENCY_S: f64 = 0.2;
/// An access token lasts `expires_in` = 7200 s; the client refreshes it before that.
const TOKEN_LIFETIME_S: f64 = 7200.0;

/// What an earlier run measured (from the job's store): the plan scales it to the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct PlanHistory {
    /// Days the earlier run covered.
    pub(crate) days: u32,
    /// Journals it listed over those days.
    pub(crate) journals: u64,
    /// Templates it fetched stats for.
    pub(crate) templates: u32,
    /// Departments in the directory.
    pub(crate) departments: u32,
    /// Wedrive files its journals reference (WedriveFile controls, Table cells included).
    pub(crate) wedrive_files: u64,
}

/// A time window of API calls: local dates and the unix seconds of their local midnights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Window {
    /// First local day (inclusive).
    pub(crate) start_date: NaiveDate,
    /// Day after the last local day (exclusive).
    pub(crate) end_date: NaiveDate,
    /// Unix seconds of `start_date`'s local midnight (inclusive).
    pub(crate) start: i64,
    /// Unix seconds of `end_date`'s local midnight (exclusive).
    pub(crate) end: i64,
}

impl Window {
    fn new(start_date: NaiveDate, end_date: NaiveDate, tz: Tz) -> Window {
        Window {
            start_date,
            end_date,
            start: local_midnight(tz, start_date),
            end: local_midnight(tz, end_date),
        }
    }

    pub(crate) fn days(&self) -> i64 {
        (self.end_date - self.start_date).num_days()
    }
}

/// Unix seconds of the first instant of `date` in `tz` (midnight, or the first time after a
/// gap where a DST change skips midnight).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> i64 {
    let mut local = date.and_time(NaiveTime::MIN);
    // A DST gap is at most a few hours; step through it a quarter hour at a time.
    for _ in 0..=16 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.timestamp(),
            LocalResult::Ambiguous(earliest, _) => return earliest.timestamp(),
            LocalResult::None => local += chrono::Duration::minutes(15),
        }
    }
    // No zone has a four-hour gap; read the wall clock as UTC rather than fail.
    date.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// The longest record-list window `get_record_list` accepts, `endtime - starttime`: "one
/// month", which the SDKs read as 31 days. A month with a DST change back (October in
/// Europe/Berlin) is an hour longer than that.
pub(crate) const MAX_RECORD_WINDOW_S: i64 = 31 * 86_400;

/// The record-list windows of `range`: calendar months in `tz`, clipped to the range, and a
/// month longer than [`MAX_RECORD_WINDOW_S`] cut on its last day (so each is at most what
/// `get_record_list` accepts, its `endtime` one second into the next window included).
pub(crate) fn record_windows(range: DateRange, tz: Tz) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let month_start = start.with_day(1).unwrap_or(start);
        let next_month = month_start
            .checked_add_months(Months::new(1))
            .unwrap_or(range.end);
        let mut end = next_month.min(range.end);
        while local_midnight(tz, end) - local_midnight(tz, start) > MAX_RECORD_WINDOW_S {
            match end.pred_opt().filter(|d| *d > start) {
                Some(day_before) => end = day_before,
                None => break,
            }
        }
        windows.push(Window::new(start, end, tz));
        start = end;
    }
    windows
}

/// The stats windows of `range`: consecutive spans of at most [`MAX_STATS_DAYS`] days from its
/// start (`get_stat_list` takes at most a year).
pub(crate) fn stats_windows(range: DateRange, tz: Tz) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = start
            .checked_add_days(Days::new(MAX_STATS_DAYS))
            .unwrap_or(range.end)
            .min(range.end);
        windows.push(Window::new(start, end, tz));
        start = end;
    }
    windows
}

impl Filters {
    /// The `filters` of each record-list request of a window: one request chain per
    /// combination of one template id × one creator × one department (an empty list does not
    /// filter), since the API ANDs its filters. One empty combination when nothing filters.
    pub(crate) fn combos(&self) -> Vec<Vec<RecordFilter>> {
        let mut combos: Vec<Vec<RecordFilter>> = vec![Vec::new()];
        for (key, values) in [
            ("template_id", &self.template_ids),
            ("creator", &self.creators),
            ("department", &self.departments),
        ] {
            if values.is_empty() {
                continue;
            }
            combos = combos
                .into_iter()
                .flat_map(|combo| {
                    values.iter().map(move |value| {
                        let mut next = combo.clone();
                        next.push(RecordFilter {
                            key: key.to_string(),
                            value: value.clone(),
                        });
                        next
                    })
                })
                .collect();
        }
        combos
    }
}

/// What the estimate stands on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Basis {
    /// An earlier run of this job measured the corp.
    History(PlanHistory),
    /// No earlier run: the job's `[plan]` assumptions.
    Assumed {
        journals_per_day: u32,
        templates: u32,
        departments: u32,
    },
}

/// One record-list window and what paging it will take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RecordWindowPlan {
    #[serde(flatten)]
    pub(crate) window: Window,
    /// Journals expected in the window (all filter combinations together).
    pub(crate) journals: u64,
    /// `get_record_list` calls: per filter combination, one per page of 100, at least one.
    pub(crate) calls: u64,
}

/// Calls of one endpoint and the time its quota gives them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct EndpointPlan {
    /// [`Endpoint::name`].
    pub(crate) endpoint: &'static str,
    pub(crate) calls: u64,
    /// The quota that paces it, e.g. `600/min`.
    pub(crate) quota: String,
    /// Seconds these calls take at best under the quota and `max_in_flight`.
    pub(crate) seconds: f64,
}

/// A run's plan. `Display` is the table `wecom-journal plan` prints; `Serialize` is its JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Plan {
    pub(crate) job: String,
    pub(crate) range: DateRange,
    pub(crate) days: i64,
    pub(crate) timezone: String,
    pub(crate) period: Period,
    pub(crate) basis: Basis,
    /// Request chains per record window (see [`Filters::combos`]).
    pub(crate) filter_combos: u64,
    /// Journals expected over the range.
    pub(crate) journals: u64,
    pub(crate) record_windows: Vec<RecordWindowPlan>,
    pub(crate) stats_windows: Vec<Window>,
    /// Templates whose stats are fetched (per stats window).
    pub(crate) stats_templates: u64,
    /// Calls per endpoint, in the order the run makes them.
    pub(crate) calls: Vec<EndpointPlan>,
    pub(crate) total_calls: u64,
    /// Estimated duration with phases one after another.
    pub(crate) eta_seconds: u64,
    /// What the estimate leaves out or assumes.
    pub(crate) notes: Vec<String>,
}

impl Plan {
    /// Plans `job` over `range` (usually `job.resolve_range(job.today())`), scaling `history`
    /// if an earlier run measured the corp, else from the job's `[plan]` assumptions.
    #[cfg(test)]
    pub(crate) fn build(job: &Job, range: DateRange, history: Option<&PlanHistory>) -> Plan {
        Plan::build_after(job, range, history, None)
    }

    /// [`Plan::build`] for a run after earlier ones: what `held` says the store holds
    /// complete is not counted (a first run's plan when `None`).
    pub(crate) fn build_after(
        job: &Job,
        range: DateRange,
        history: Option<&PlanHistory>,
        held: Option<&Held>,
    ) -> Plan {
        let tz = job.source.timezone;
        let mut notes = Vec::new();

        let history = history.filter(|h| h.days > 0);
        let scale = Scale::of(job, history, &mut notes);
        let combos = job.filters.combos().len() as u64;
        let mut record_windows = record_window_plans(range, tz, scale.journals_per_day, combos);
        let journals = (scale.journals_per_day * range.days() as f64).round() as u64;
        let subtracted = held.map(|h| h.subtract(&mut record_windows));
        let settled = subtracted.map_or(0, |s| s.settled_journals);

        let stats_windows = stats_windows(range, tz);
        let stats_templates = if !job.filters.template_ids.is_empty() {
            job.filters.template_ids.len() as u64
        } else {
            u64::from(scale.templates_seen)
        };
        // Wedrive files: at the rate an earlier run's details referenced them (no estimate
        // without history).
        let wedrive_files = match history {
            Some(h) if job.extract.wedrive_files && h.journals > 0 => {
                let per_journal = h.wedrive_files as f64 / h.journals as f64;
                Some((per_journal * journals as f64).round() as u64)
            }
            _ => None,
        };
        let calls = endpoint_calls(
            job,
            &Volumes {
                record_windows: &record_windows,
                combos,
                // The held windows' details only as the store says the run re-reads them.
                journals: journals.saturating_sub(settled) + held.map_or(0, |h| h.reread_details),
                wedrive_files,
                stat_lists: match held {
                    Some(h) => h.stat_lists_to_fetch,
                    None => stats_templates * stats_windows.len() as u64,
                },
                departments: scale.departments,
            },
        );

        match (job.extract.wedrive_files, wedrive_files) {
            (true, None) => notes.push("wedrive files are not estimated: 2 more calls per attached wedrive file (download_wedrive_file + the download)".into()),
            (true, Some(_)) => notes.push("wedrive files estimated from the earlier run's details; a re-run downloads only files not downloaded yet".into()),
            (false, _) => {}
        }
        if let (Some(held), Some(subtracted)) = (held, subtracted) {
            notes.push(held.note(subtracted, record_windows.len(), job.extract.stats));
        } else if job.extract.details && job.extract.refresh_days > 0 {
            notes.push(format!(
                "a first run: an incremental run fetches only windows not yet stored, plus details younger than {} days",
                job.extract.refresh_days
            ));
        }

        let total_calls = calls.iter().map(|c| c.calls).sum();
        let eta_seconds = calls.iter().map(|c| c.seconds).sum::<f64>().ceil() as u64;
        Plan {
            job: job.name.clone(),
            range,
            days: range.days(),
            timezone: tz.name().to_string(),
            period: job.period(),
            basis: scale.basis,
            filter_combos: combos,
            journals,
            record_windows,
            stats_windows,
            stats_templates,
            calls,
            total_calls,
            eta_seconds,
            notes,
        }
    }

    /// Estimated calls of `endpoint` (0 if the plan makes none).
    #[cfg(test)]
    pub(crate) fn calls_for(&self, endpoint: Endpoint) -> u64 {
        self.calls
            .iter()
            .filter(|c| c.endpoint == endpoint.name())
            .map(|c| c.calls)
            .sum()
    }
}

/// What the plan scales to the range, and what it stands on.
struct Scale {
    basis: Basis,
    journals_per_day: f64,
    templates_seen: u32,
    departments: u32,
}

impl Scale {
    /// An earlier run's measures when there are some, else the job's `[plan]` assumptions
    /// (and a note that says so).
    fn of(job: &Job, history: Option<&PlanHistory>, notes: &mut Vec<String>) -> Scale {
        match history {
            Some(h) => Scale {
                basis: Basis::History(*h),
                journals_per_day: h.journals as f64 / f64::from(h.days),
                templates_seen: h.templates,
                departments: h.departments,
            },
            None => {
                let a = &job.plan;
                notes.push(format!(
                    "no history: no earlier run of this job measured the corp, so the plan assumes {} journals a day, {} templates and {} departments (set [plan] journals_per_day / templates / departments in the job file)",
                    a.journals_per_day, a.templates, a.departments
                ));
                Scale {
                    basis: Basis::Assumed {
                        journals_per_day: a.journals_per_day,
                        templates: a.templates,
                        departments: a.departments,
                    },
                    journals_per_day: f64::from(a.journals_per_day),
                    templates_seen: a.templates,
                    departments: a.departments,
                }
            }
        }
    }
}

/// The record-list windows of `range` and the pages each takes for `combos` filter
/// combinations at `journals_per_day`.
fn record_window_plans(
    range: DateRange,
    tz: Tz,
    journals_per_day: f64,
    combos: u64,
) -> Vec<RecordWindowPlan> {
    record_windows(range, tz)
        .into_iter()
        .map(|window| {
            let journals = journals_per_day * window.days() as f64;
            let per_combo = journals / combos as f64;
            // ceil with a hair of slack so 2000.0000001 journals do not make a 21st page.
            let pages = ((per_combo / PAGE_SIZE as f64) - 1e-9).ceil().max(1.0) as u64;
            RecordWindowPlan {
                window,
                journals: journals.round() as u64,
                calls: combos * pages,
            }
        })
        .collect()
}

/// What the run will fetch, as the calls count it.
struct Volumes<'a> {
    record_windows: &'a [RecordWindowPlan],
    combos: u64,
    /// Journals over the range.
    journals: u64,
    /// Wedrive files over the range, when an earlier run gives a rate.
    wedrive_files: Option<u64>,
    /// `get_stat_list` calls when stats are fetched: templates × stats windows.
    stat_lists: u64,
    departments: u32,
}

/// The calls of every endpoint, in the order the run makes them, each paced by its quota.
fn endpoint_calls(job: &Job, v: &Volumes<'_>) -> Vec<EndpointPlan> {
    let limits = &job.source.limits;
    let per_api = |endpoint, calls, parallel| {
        paced(
            endpoint,
            calls,
            limits,
            limits.per_api_per_minute,
            Some(limits.per_api_per_hour),
            parallel,
        )
    };
    let mut calls = Vec::new();
    let record_calls: u64 = v.record_windows.iter().map(|w| w.calls).sum();
    let chains = (v.record_windows.len() as u64 * v.combos).max(1);
    calls.push(paced(
        Endpoint::RecordList,
        record_calls,
        limits,
        limits.record_list_per_minute,
        None,
        chains,
    ));
    let details = if job.extract.details { v.journals } else { 0 };
    calls.push(per_api(Endpoint::RecordDetail, details, details));
    // One download_wedrive_file and one GET of the bytes per file.
    if let Some(files) = v.wedrive_files {
        calls.push(per_api(Endpoint::WedriveDownload, files, files));
        // The bytes come from download_url, outside the API quotas: only concurrency paces
        // them.
        let in_flight = (limits.max_in_flight as u64).clamp(1, files.max(1));
        calls.push(EndpointPlan {
            endpoint: Endpoint::WedriveBytes.name(),
            calls: files,
            quota: "no quota".into(),
            seconds: files as f64 * ASSUMED_LATENCY_S / in_flight as f64,
        });
    }
    let stats = if job.extract.stats { v.stat_lists } else { 0 };
    calls.push(per_api(Endpoint::StatList, stats, stats));
    let (department_calls, user_calls) = match job.extract.directory {
        DirectorySource::Api => (1, u64::from(v.departments)),
        DirectorySource::Csv(_) | DirectorySource::None => (0, 0),
    };
    calls.push(per_api(Endpoint::DepartmentList, department_calls, 1));
    calls.push(per_api(Endpoint::UserList, user_calls, user_calls));

    let work_s: f64 = calls.iter().map(|c| c.seconds).sum();
    // One token, and one more each time a long run outlives it.
    let tokens = 1 + (work_s / TOKEN_LIFETIME_S) as u64;
    calls.insert(0, per_api(Endpoint::GetToken, tokens, 1));
    calls
}

/// The plan of `calls` calls of `endpoint` paced at `per_minute` (and `per_hour`), with at most
/// `max_in_flight` at once over `parallel` independent chains.
fn paced(
    endpoint: Endpoint,
    calls: u64,
    limits: &Limits,
    per_minute: u32,
    per_hour: Option<u32>,
    parallel: u64,
) -> EndpointPlan {
    let quota = match per_hour {
        Some(h) => format!("{per_minute}/min, {h}/h"),
        None => format!("{per_minute}/min"),
    };
    let in_flight = (limits.max_in_flight as u64).min(parallel).max(1);
    let latency_bound = calls as f64 * ASSUMED_LATENCY_S / in_flight as f64;
    EndpointPlan {
        endpoint: endpoint.name(),
        calls,
        quota,
        seconds: quota_seconds(calls, per_minute, per_hour).max(latency_bound),
    }
}

/// Seconds the quotas make `calls` wait, as the client paces them: a window's worth of calls
/// leaves at once and each further window's worth a period later (the client's limiter is a
/// sliding window, not an even spacing), and when `per_hour` is smaller than the calls, the
/// hour's quota goes at the minute's pace, then the run waits for the next hour. Latency is
/// not in it (the caller bounds that by `max_in_flight`).
pub(crate) fn quota_seconds(calls: u64, per_minute: u32, per_hour: Option<u32>) -> f64 {
    if calls == 0 {
        return 0.0;
    }
    let per_minute = u64::from(per_minute.max(1));
    let minute_waits = |calls: u64| (calls.div_ceil(per_minute) - 1) as f64 * 60.0;
    match per_hour {
        Some(h) if calls > u64::from(h) => {
            let h = u64::from(h.max(1));
            let full_hours = calls.div_ceil(h) - 1;
            let rest = calls - full_hours * h;
            full_hours as f64 * 3600.0 + minute_waits(rest)
        }
        _ => minute_waits(calls),
    }
}

/// `1h 02m 03s`, `4m 05s`, `6s`.
pub(crate) fn human_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan of job {}", self.job)?;
        writeln!(
            f,
            "range    {} .. {} (end exclusive, {} days, {}), reports by {}",
            self.range.start,
            self.range.end,
            self.days,
            self.timezone,
            self.period.name()
        )?;
        match &self.basis {
            Basis::History(h) => writeln!(
                f,
                "basis    history of an earlier run: {} journals in {} days, {} templates, {} departments",
                h.journals, h.days, h.templates, h.departments
            )?,
            Basis::Assumed { journals_per_day, templates, departments } => writeln!(
                f,
                "basis    no history — assumed {journals_per_day} journals/day, {templates} templates, {departments} departments"
            )?,
        }
        writeln!(
            f,
            "journals ~{} over the range; {} filter combination(s) per window",
            self.journals, self.filter_combos
        )?;

        writeln!(
            f,
            "\nrecord windows (get_record_list, at most one month each)"
        )?;
        writeln!(
            f,
            "  {:>3}  {:<10}  {:<10}  {:>11}  {:>11}  {:>8}  {:>6}",
            "#", "start", "end", "unix start", "unix end", "journals", "calls"
        )?;
        for (i, w) in self.record_windows.iter().enumerate() {
            writeln!(
                f,
                "  {:>3}  {:<10}  {:<10}  {:>11}  {:>11}  {:>8}  {:>6}",
                i + 1,
                w.window.start_date,
                w.window.end_date,
                w.window.start,
                w.window.end,
                w.journals,
                w.calls
            )?;
        }

        writeln!(
            f,
            "\nstats windows (get_stat_list, at most {MAX_STATS_DAYS} days each) × {} template(s)",
            self.stats_templates
        )?;
        writeln!(
            f,
            "  {:>3}  {:<10}  {:<10}  {:>11}  {:>11}",
            "#", "start", "end", "unix start", "unix end"
        )?;
        for (i, w) in self.stats_windows.iter().enumerate() {
            writeln!(
                f,
                "  {:>3}  {:<10}  {:<10}  {:>11}  {:>11}",
                i + 1,
                w.start_date,
                w.end_date,
                w.start,
                w.end
            )?;
        }

        writeln!(f, "\ncalls per endpoint")?;
        writeln!(
            f,
            "  {:<20}  {:>9}  {:<20}  {:>10}",
            "endpoint", "calls", "quota", "time"
        )?;
        for c in &self.calls {
            writeln!(
                f,
                "  {:<20}  {:>9}  {:<20}  {:>10}",
                c.endpoint,
                c.calls,
                c.quota,
                human_duration(c.seconds.ceil() as u64)
            )?;
        }
        writeln!(
            f,
            "  {:<20}  {:>9}  {:<20}  {:>10}",
            "total",
            self.total_calls,
            "",
            human_duration(self.eta_seconds)
        )?;
        writeln!(f, "\nETA      {} (phases one after another; {ASSUMED_LATENCY_S} s a call assumed for the concurrency bound)", human_duration(self.eta_seconds))?;
        for note in &self.notes {
            writeln!(f, "note     {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
