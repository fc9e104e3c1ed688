//! `plan` as the pipeline runs it: the job's plan, scaled by the history an earlier run left in
//! the job's store, if any. The store is opened read-only and never created; one that cannot be
//! read is reported and planned without (a plan is advice; the run that follows will say what
//! is wrong with the store). What the store says was called in the last hour still counts
//! against the hourly quota when the run starts; the ETA accounts for it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::extract;
use crate::job::plan::{Held, HeldWindow, QuotaSpent};
use crate::job::{self, DateRange, Job, Plan, PlanHistory};
use crate::store::{filter_key, ListingHistory, Store, StoreError};
use crate::wecom::Endpoint;

/// A job's plan, and why the store in its output directory was not used, if it was unreadable.
#[derive(Debug)]
pub(crate) struct PlannedJob {
    /// Its first note says where the estimate's basis came from.
    pub(crate) plan: Plan,
    pub(crate) store_unreadable: Option<anyhow::Error>,
}

/// Plans `range` of `job` for a run at `now`, with the history of the store in `output_dir`.
pub(crate) fn plan(
    job: &Job,
    range: DateRange,
    output_dir: &Path,
    now: DateTime<Utc>,
) -> PlannedJob {
    let path = super::store_file(job, output_dir);
    let shown = path.display();
    let mut spent = BTreeMap::new();
    let mut held = None;
    let read = Store::open_read_only(&path).and_then(|store| match store {
        Some(store) => {
            spent = spent_last_hour(&store, unix_ms())?;
            held = Some(held_of(&store, job, range, now.timestamp())?);
            history_of(&store)
        }
        None => Ok(None),
    });
    let (history, note, store_unreadable) = match read {
        Ok(Some(history)) => (
            Some(history),
            format!("history used: the earlier runs in the store {shown}"),
            None,
        ),
        Ok(None) if path.exists() => (
            None,
            format!("store {shown}: no record window paged to the end yet"),
            None,
        ),
        Ok(None) => (
            None,
            format!("store {shown}: none (run the job once, or pass --output DIR)"),
            None,
        ),
        Err(e) => {
            let note = format!("store {shown}: not readable ({e})");
            let problem = anyhow::Error::from(e).context("planning without history");
            (None, note, Some(problem))
        }
    };
    let mut plan = Plan::build_after(job, range, history.as_ref(), held.as_ref())
        .with_quota_spent(&job.source.limits, &spent);
    plan.notes.insert(0, note);
    PlannedJob {
        plan,
        store_unreadable,
    }
}

/// What the store recorded of earlier listings, as the planner's history: the one place the
/// store's facts meet the planner's type (the store knows no planner type, the planner no
/// store).
fn history_of(store: &Store) -> Result<Option<PlanHistory>, StoreError> {
    Ok(store
        .plan_history()?
        .map(|listed: ListingHistory| PlanHistory {
            days: listed.days,
            journals: listed.journals,
            templates: listed.templates,
            departments: listed.departments,
            wedrive_files: listed.wedrive_files,
        }))
}

/// What the store holds complete within `range`, and what a run at `now` re-reads whatever
/// its range, by the run's own rules (`extract::windows`): record windows final for every
/// filter combination of the job (never listed again); the details `Store::details_to_refresh`
/// gives (younger than `refresh_days`, gaps to retry) but those in a window the run lists
/// afresh (the estimate counts those journals); the stat lists `needs_stat` asks for over the
/// range's windows and every stored one, for each template the run will ask for.
fn held_of(store: &Store, job: &Job, range: DateRange, now: i64) -> Result<Held, StoreError> {
    let tz = job.source.timezone;
    let keys: BTreeSet<String> = job.filters.combos().iter().map(|c| filter_key(c)).collect();
    // (start, end) → (final combinations, journals)
    let mut windows: BTreeMap<(i64, i64), (usize, u64)> = BTreeMap::new();
    for w in store.record_windows()? {
        if !keys.contains(&w.filter_key) || !w.is_final() {
            continue;
        }
        let entry = windows.entry((w.start_ts, w.end_ts)).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += w.journals;
    }
    let record_windows: BTreeMap<(i64, i64), HeldWindow> = windows
        .into_iter()
        .filter(|(_, (combos, _))| *combos == keys.len())
        .map(|(span, (_, journals))| (span, HeldWindow { journals }))
        .collect();
    let reread_details = if job.extract.details {
        reread_details(store, job, range, now, &record_windows)?
    } else {
        0
    };
    let (mut stat_lists, mut stat_lists_to_fetch) = (0, 0);
    if job.extract.stats {
        let templates = if job.filters.template_ids.is_empty() {
            store.known_template_ids()?
        } else {
            job.filters.template_ids.clone()
        };
        let in_range: BTreeSet<(i64, i64)> = job::plan::stats_windows(range, tz)
            .iter()
            .map(|w| (w.start, w.end))
            .collect();
        let mut spans = in_range.clone();
        spans.extend(store.stat_windows()?);
        let refresh_days = job.extract.refresh_days;
        for t in &templates {
            for &(start_ts, end_ts) in &spans {
                let window = extract::Window { start_ts, end_ts };
                let fetched_at = store.stat_fetched_at(t, start_ts, end_ts)?;
                let latest_end = extract::latest_cycle_end(window, tz);
                if extract::needs_stat(fetched_at, latest_end, now, refresh_days, false) {
                    stat_lists_to_fetch += 1;
                } else if in_range.contains(&(start_ts, end_ts)) {
                    stat_lists += 1;
                }
            }
        }
    }
    Ok(Held {
        record_windows,
        stat_lists,
        stat_lists_to_fetch,
        reread_details,
    })
}

/// The details a run at `now` re-reads whatever its range, but those whose journal lies in a
/// window of the range the run lists afresh (counted by the estimate).
fn reread_details(
    store: &Store,
    job: &Job,
    range: DateRange,
    now: i64,
    held: &BTreeMap<(i64, i64), HeldWindow>,
) -> Result<u64, StoreError> {
    let fresh: Vec<(i64, i64)> = job::plan::record_windows(range, job.source.timezone)
        .iter()
        .map(|w| (w.start, w.end))
        .filter(|span| !held.contains_key(span))
        .collect();
    let refresh_s = i64::from(job.extract.refresh_days) * 86_400;
    let mut count = 0;
    for uuid in store.details_to_refresh(now, refresh_s, extract::MAX_DETAIL_ATTEMPTS)? {
        let listed_afresh = store.detail_state(&uuid)?.is_some_and(|d| {
            fresh
                .iter()
                .any(|&(start, end)| (start..end).contains(&d.report_time))
        });
        if !listed_afresh {
            count += 1;
        }
    }
    Ok(count)
}

/// What the store says was called in the hour before `now_ms`, per endpoint, and when the
/// last of those calls leaves the hour's window (every process and quota the store recorded:
/// one store is one job's, of one corp).
fn spent_last_hour(
    store: &Store,
    now_ms: i64,
) -> Result<BTreeMap<Endpoint, QuotaSpent>, StoreError> {
    const HOUR_MS: i64 = 3_600_000;
    let mut spent: BTreeMap<Endpoint, QuotaSpent> = BTreeMap::new();
    for row in store.quota_usage(None, now_ms - HOUR_MS)? {
        let Some(endpoint) = Endpoint::from_name(&row.bucket.endpoint) else {
            continue;
        };
        let end = row.bucket.start_ms + row.bucket.length_ms;
        let frees_in_s = u64::try_from((end + HOUR_MS - now_ms).max(0) / 1000).unwrap_or(0);
        let s = spent.entry(endpoint).or_default();
        s.calls += row.bucket.calls;
        s.frees_in_s = s.frees_in_s.max(frees_in_s);
    }
    Ok(spent)
}

fn unix_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
