//! Extraction: record-list paging per window and filter, details with bounded concurrency,
//! wedrive files ([`wedrive`]), stats per template, the directory; each response stored as it
//! arrives.
//!
//! Owns the order and concurrency of API calls and the resume logic; talks to WeCom only
//! through [`crate::wecom::WecomClient`] and keeps state only through [`crate::store`]. It
//! writes no output file and does not finish the run in the store (`runs` row): the caller
//! does that with [`Store::finish_run`] once the outputs are written.
//!
//! The rules (which windows, which filter combinations, what is fetched again) are pure
//! functions in [`windows`]; the job helper's plan counts calls with the same rules.

use std::collections::{HashSet, VecDeque};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use thiserror::Error;

use crate::job::{DateRange, DirectorySource, Job};
use crate::store::{filter_key, PageRecord, Store, StoreError};
use crate::wecom::types::{RecordFilter, RecordListRequest, StatListRequest};
use crate::wecom::{errcode, Endpoint, WecomClient, WecomError};

mod progress;
pub mod wedrive;
pub mod windows;

use progress::StageProgress;
pub use windows::{
    filter_combinations, month_windows, needs_detail, needs_stat, range_window, stats_windows,
    window_action, Window, WindowAction,
};

/// Journals per record-list page (the API's maximum).
pub const PAGE_LIMIT: u64 = 100;

/// How a run extracts.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Ignore what earlier runs stored: page, fetch and refetch everything (work already done
    /// by this run, or by the unfinished run it resumes, is still not redone).
    pub full_refresh: bool,
    /// Progress bars (true when stderr is a terminal) or plain log lines.
    pub progress: bool,
    /// The start of this run.
    pub now: DateTime<Utc>,
    /// This run's id (its row in the store's `runs` table).
    pub run_id: String,
}

impl ExtractOptions {
    /// Options for a run starting now, with bars when stderr is a terminal.
    pub fn new(run_id: impl Into<String>) -> Self {
        ExtractOptions {
            full_refresh: false,
            progress: std::io::stderr().is_terminal(),
            now: Utc::now(),
            run_id: run_id.into(),
        }
    }
}

/// Something WeCom said this app may not read (301065, 48002, 60011): reported, not fatal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// What could not be read: `template …`, `record window … (filters …)`, `department …`.
    pub what: String,
    /// The endpoint's path.
    pub endpoint: String,
    pub errcode: i64,
    /// WeCom's errmsg with the errcode's meaning.
    pub message: String,
}

/// Wall time per stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageDurations {
    pub records: Duration,
    pub details: Duration,
    pub wedrive: Duration,
    pub stats: Duration,
    pub directory: Duration,
}

/// What an extraction did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtractSummary {
    /// The as-of time of the run (unix s): its start, or the start of the run it resumed.
    pub as_of: i64,
    /// Windows (× filter combinations) paged by this run, in whole or from where a killed run
    /// stopped.
    pub windows_paged: u64,
    /// Windows whose stored listing was used (final, or paged by the run this one resumes).
    pub windows_skipped: u64,
    /// Windows that answered 301066 and were halved.
    pub windows_split: u64,
    /// Record-list calls made.
    pub list_calls: u64,
    /// Journals listed over all windows (stored listings included).
    pub journals_listed: u64,
    pub details_fetched: u64,
    pub details_skipped: u64,
    /// Wedrive files downloaded by this run, and their bytes.
    pub wedrive_downloaded: u64,
    pub wedrive_bytes: u64,
    /// Wedrive files already downloaded (recorded and on disk) and not fetched again.
    pub wedrive_skipped: u64,
    pub stats_fetched: u64,
    pub stats_skipped: u64,
    pub directory_fetched: bool,
    pub gaps: Vec<Gap>,
    pub durations: StageDurations,
}

#[derive(Debug, Error)]
pub enum ExtractError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A call failed for a reason that is not a permission gap, after the client's retries.
    #[error("{context}: {source}")]
    Api {
        context: String,
        #[source]
        source: WecomError,
    },
    /// The API answered something the extraction cannot go on from.
    #[error("{0}")]
    Protocol(String),
    /// A downloaded file could not be written.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Extracts `range` of `job` into `store`: record windows, then details, stats and the
/// directory, as the job's `[extract]` section asks. Records the run's start in the store
/// (resuming an unfinished run of the same job and range); the caller finishes it.
pub async fn extract(
    job: &Job,
    range: DateRange,
    client: &WecomClient,
    store: &Store,
    opts: &ExtractOptions,
) -> Result<ExtractSummary, ExtractError> {
    let range_label = format!("{}..{}", range.start, range.end);
    let as_of = store.start_run(&opts.run_id, &job.name, &range_label, opts.now.timestamp())?;
    let ctx = Ctx {
        job,
        tz: job.source.timezone,
        client,
        store,
        opts,
        as_of,
        clock: Clock {
            base: opts.now.timestamp(),
            started: Instant::now(),
        },
        max_in_flight: job.source.limits.max_in_flight.max(1),
    };
    if as_of < opts.now.timestamp() {
        tracing::info!(run_id = %opts.run_id, as_of, "resuming an unfinished run of {} {range_label}", job.name);
    }
    let mut summary = ExtractSummary {
        as_of,
        ..Default::default()
    };

    let t = Instant::now();
    let leaves = ctx.records(range, &mut summary).await?;
    summary.durations.records = t.elapsed();

    if job.extract.details {
        let t = Instant::now();
        ctx.details(&leaves, &mut summary).await?;
        summary.durations.details = t.elapsed();
    }
    if job.extract.wedrive_files {
        let t = Instant::now();
        ctx.wedrive(range, &mut summary).await?;
        summary.durations.wedrive = t.elapsed();
    }
    if job.extract.stats {
        let t = Instant::now();
        ctx.stats(range, &mut summary).await?;
        summary.durations.stats = t.elapsed();
    }
    let t = Instant::now();
    ctx.directory(&mut summary).await?;
    summary.durations.directory = t.elapsed();
    Ok(summary)
}

/// Unix seconds for stored times: the run's `now` advanced by the time elapsed since, so tests
/// that pin `now` still see time move forward within a run.
struct Clock {
    base: i64,
    started: Instant,
}

impl Clock {
    fn ts(&self) -> i64 {
        self.base + self.started.elapsed().as_secs() as i64
    }
}

struct Ctx<'a> {
    job: &'a Job,
    tz: Tz,
    client: &'a WecomClient,
    store: &'a Store,
    opts: &'a ExtractOptions,
    as_of: i64,
    clock: Clock,
    max_in_flight: usize,
}

/// A window of one filter combination whose listing is stored (after any halving).
#[derive(Debug, Clone)]
struct Leaf {
    filter_key: String,
    window: Window,
}

/// A window (of one filter combination) to page.
#[derive(Debug, Clone)]
struct WindowTask {
    combo: usize,
    window: Window,
}

enum WindowOutcome {
    Listed { journals: u64, calls: u64 },
    Skipped { journals: u64 },
    Split { calls: u64 },
    Gap { gap: Gap, calls: u64 },
}

fn gap(what: String, err: &WecomError) -> Gap {
    Gap {
        what,
        endpoint: err.endpoint().unwrap_or("").to_string(),
        errcode: err.errcode().unwrap_or(errcode::OK),
        message: err.to_string(),
    }
}

fn describe_filters(filters: &[RecordFilter]) -> String {
    if filters.is_empty() {
        return "no filter".into();
    }
    filters
        .iter()
        .map(|f| format!("{}={}", f.key, f.value))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Ctx<'_> {
    fn describe(&self, w: Window) -> String {
        let local = |ts: i64| match self.tz.timestamp_opt(ts, 0).single() {
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => ts.to_string(),
        };
        format!("[{}, {})", local(w.start_ts), local(w.end_ts))
    }

    // -----------------------------------------------------------------------------------------
    // Records

    /// Pages every window of every filter combination (up to `max_in_flight` windows at once,
    /// each window's pages in cursor order) and returns the leaf windows whose listings are
    /// stored.
    async fn records(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<Vec<Leaf>, ExtractError> {
        let combos = filter_combinations(&self.job.filters);
        let keys: Vec<String> = combos.iter().map(|c| filter_key(c)).collect();
        let mut queue: VecDeque<WindowTask> = VecDeque::new();
        for window in month_windows(range, self.tz) {
            for combo in 0..combos.len() {
                queue.push_back(WindowTask { combo, window });
            }
        }
        let mut bar = StageProgress::new(
            "records",
            "windows",
            Some(queue.len() as u64),
            self.opts.progress,
        );
        let mut leaves = Vec::new();
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.max_in_flight {
                let Some(task) = queue.pop_front() else { break };
                let (filters, key) = (&combos[task.combo], &keys[task.combo]);
                in_flight.push(async move {
                    (
                        task.clone(),
                        self.page_window(filters, key, task.window).await,
                    )
                });
            }
            let Some((task, outcome)) = in_flight.next().await else {
                break;
            };
            match outcome? {
                WindowOutcome::Listed { journals, calls } => {
                    summary.windows_paged += 1;
                    summary.list_calls += calls;
                    summary.journals_listed += journals;
                    leaves.push(Leaf {
                        filter_key: keys[task.combo].clone(),
                        window: task.window,
                    });
                }
                WindowOutcome::Skipped { journals } => {
                    summary.windows_skipped += 1;
                    summary.journals_listed += journals;
                    leaves.push(Leaf {
                        filter_key: keys[task.combo].clone(),
                        window: task.window,
                    });
                }
                WindowOutcome::Split { calls } => {
                    summary.list_calls += calls;
                    if calls > 0 {
                        summary.windows_split += 1;
                    }
                    // `Split` is only returned for a window that has halves.
                    if let Some((a, b)) = task.window.halves() {
                        queue.push_front(WindowTask {
                            combo: task.combo,
                            window: b,
                        });
                        queue.push_front(WindowTask {
                            combo: task.combo,
                            window: a,
                        });
                        bar.inc_length(2);
                    }
                }
                WindowOutcome::Gap { gap, calls } => {
                    summary.list_calls += calls;
                    tracing::warn!(what = %gap.what, errcode = gap.errcode, "gap: {}", gap.message);
                    summary.gaps.push(gap);
                }
            }
            bar.inc(1);
        }
        // Leaves in time order, so details are fetched (and stored) oldest first.
        leaves.sort_by(|a, b| (a.window, &a.filter_key).cmp(&(b.window, &b.filter_key)));
        bar.finish(&format!(
            "{} paged, {} stored, {} list calls, {} journals",
            summary.windows_paged,
            summary.windows_skipped,
            summary.list_calls,
            summary.journals_listed
        ));
        Ok(leaves)
    }

    /// Pages one window of one filter combination to `endflag = 1`, storing each page as it
    /// arrives; a window that answers 301066 is marked split (the caller pages its halves).
    async fn page_window(
        &self,
        filters: &[RecordFilter],
        key: &str,
        w: Window,
    ) -> Result<WindowOutcome, ExtractError> {
        let stored = self.store.record_window(key, w.start_ts, w.end_ts)?;
        let (mut cursor, paged_at) =
            match window_action(stored.as_ref(), self.as_of, self.opts.full_refresh) {
                WindowAction::Skip => {
                    return Ok(WindowOutcome::Skipped {
                        journals: stored.as_ref().map(|s| s.journals).unwrap_or(0),
                    })
                }
                WindowAction::Split => return Ok(WindowOutcome::Split { calls: 0 }),
                WindowAction::Page => {
                    let paged_at = self.clock.ts();
                    self.store
                        .begin_window(key, w.start_ts, w.end_ts, paged_at)?;
                    (0, paged_at)
                }
                WindowAction::Continue { cursor } => (
                    cursor,
                    stored.as_ref().map(|s| s.paged_at).unwrap_or(self.as_of),
                ),
            };
        let mut restarted = cursor == 0;
        let mut calls = 0u64;
        let mut journals = stored
            .as_ref()
            .filter(|_| cursor != 0)
            .map(|s| s.journals)
            .unwrap_or(0);
        loop {
            let request = RecordListRequest {
                starttime: w.start_ts,
                endtime: w.api_endtime(),
                cursor,
                limit: PAGE_LIMIT,
                filters: filters.to_vec(),
            };
            calls += 1;
            match self.client.get_record_list(&request).await {
                Ok(fetched) => {
                    let page = fetched.value;
                    let last = page.endflag == 1;
                    if !last && page.next_cursor == cursor && page.journaluuid_list.is_empty() {
                        return Err(ExtractError::Protocol(format!(
                            "{}: record window {} ({}): paging does not advance (cursor {cursor}, endflag 0, no journal)",
                            Endpoint::RecordList.path(),
                            self.describe(w),
                            describe_filters(filters)
                        )));
                    }
                    journals += page.journaluuid_list.len() as u64;
                    self.store.put_page(&PageRecord {
                        filter_key: key,
                        start_ts: w.start_ts,
                        end_ts: w.end_ts,
                        cursor,
                        uuids: &page.journaluuid_list,
                        next_cursor: page.next_cursor,
                        last,
                        paged_at,
                    })?;
                    if last {
                        return Ok(WindowOutcome::Listed { journals, calls });
                    }
                    cursor = page.next_cursor;
                }
                Err(err) if err.is(errcode::JOURNAL_BAD_PARAMETERS) && !restarted => {
                    // A stored cursor from a killed run that the API no longer accepts: page
                    // the window again from its start (once).
                    restarted = true;
                    self.store
                        .begin_window(key, w.start_ts, w.end_ts, paged_at)?;
                    cursor = 0;
                    journals = 0;
                }
                Err(err) if err.is(errcode::JOURNAL_BAD_PARAMETERS) && w.halves().is_some() => {
                    tracing::info!(
                        "record window {} ({}) answered {}: halving it",
                        self.describe(w),
                        describe_filters(filters),
                        errcode::JOURNAL_BAD_PARAMETERS,
                    );
                    self.store
                        .put_window_split(key, w.start_ts, w.end_ts, paged_at)?;
                    return Ok(WindowOutcome::Split { calls });
                }
                Err(err) if err.is_permission_gap() => {
                    let what = format!(
                        "record window {} ({})",
                        self.describe(w),
                        describe_filters(filters)
                    );
                    return Ok(WindowOutcome::Gap {
                        gap: gap(what, &err),
                        calls,
                    });
                }
                Err(err) => {
                    let halved = if err.is(errcode::JOURNAL_BAD_PARAMETERS) {
                        ", halved down to a day"
                    } else {
                        ""
                    };
                    return Err(ExtractError::Api {
                        context: format!(
                            "record window {} ({}), cursor {cursor}{halved}",
                            self.describe(w),
                            describe_filters(filters)
                        ),
                        source: err,
                    });
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Details

    /// Fetches the details the rule asks for, `max_in_flight` at a time, window after window,
    /// storing each as it arrives. Memory holds one window's uuids at a time.
    async fn details(
        &self,
        leaves: &[Leaf],
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let mut bar = StageProgress::new("details", "details", Some(0), self.opts.progress);
        let mut pending: VecDeque<(usize, String)> = VecDeque::new();
        // uuids queued or in flight, so one listed by two windows is not fetched twice at once.
        let mut queued: HashSet<String> = HashSet::new();
        let mut next_leaf = 0;
        let mut in_flight = FuturesUnordered::new();
        let mut refused = RefusedItems::new("journal detail(s)");
        loop {
            while in_flight.len() < self.max_in_flight {
                if let Some((leaf, uuid)) = pending.pop_front() {
                    in_flight.push(async move {
                        let result = self.client.get_record_detail(&uuid).await;
                        (leaf, uuid, result)
                    });
                    continue;
                }
                let Some(leaf) = leaves.get(next_leaf) else {
                    break;
                };
                next_leaf += 1;
                let mut wanted = 0;
                for uuid in self.store.window_uuids(
                    &leaf.filter_key,
                    leaf.window.start_ts,
                    leaf.window.end_ts,
                )? {
                    let state = self.store.detail_state(&uuid)?;
                    let job = &self.job.extract;
                    if !queued.contains(&uuid)
                        && needs_detail(state, self.as_of, job.refresh_days, self.opts.full_refresh)
                    {
                        queued.insert(uuid.clone());
                        pending.push_back((next_leaf - 1, uuid));
                        wanted += 1;
                    } else {
                        summary.details_skipped += 1;
                    }
                }
                bar.inc_length(wanted);
            }
            let Some((leaf, uuid, result)) = in_flight.next().await else {
                break;
            };
            queued.remove(&uuid);
            match result {
                Ok(fetched) => {
                    let mut detail = fetched.value.info;
                    if detail.journal_uuid != uuid {
                        tracing::warn!(
                            "journal {uuid}: the detail says journal_uuid {:?}; stored under the uuid asked for",
                            detail.journal_uuid
                        );
                        detail.journal_uuid = uuid.clone();
                    }
                    let raw = info_json(&fetched.raw)
                        .unwrap_or_else(|| serde_json::to_string(&detail).unwrap_or_default());
                    self.store.put_detail(&detail, &raw, self.clock.ts())?;
                    summary.details_fetched += 1;
                }
                Err(err) if err.is_permission_gap() => {
                    refused.add(uuid, &err);
                }
                Err(err) => {
                    let w = &leaves[leaf];
                    return Err(ExtractError::Api {
                        context: format!(
                            "journal {uuid} (listed in record window {})",
                            self.describe(w.window)
                        ),
                        source: err,
                    });
                }
            }
            bar.inc(1);
        }
        for g in refused.into_gaps() {
            tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
            summary.gaps.push(g);
        }
        bar.finish(&format!(
            "{} fetched, {} kept",
            summary.details_fetched, summary.details_skipped
        ));
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Stats

    /// Fetches each template's stat windows (365 days at most each) not stored complete.
    async fn stats(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let whole = range_window(range, self.tz);
        let templates = if self.job.filters.template_ids.is_empty() {
            self.store
                .template_ids_in_range(whole.start_ts, whole.end_ts)?
        } else {
            self.job.filters.template_ids.clone()
        };
        let mut tasks = Vec::new();
        for template in &templates {
            for window in stats_windows(range, self.tz) {
                let fetched_at =
                    self.store
                        .stat_fetched_at(template, window.start_ts, window.end_ts)?;
                if needs_stat(fetched_at, window, self.as_of, self.opts.full_refresh) {
                    tasks.push((template.clone(), window));
                } else {
                    summary.stats_skipped += 1;
                }
            }
        }
        let mut bar = StageProgress::new(
            "stats",
            "stat windows",
            Some(tasks.len() as u64),
            self.opts.progress,
        );
        let mut results = futures::stream::iter(tasks)
            .map(|(template, window)| async move {
                let request = StatListRequest {
                    template_id: template.clone(),
                    starttime: window.start_ts,
                    endtime: window.api_endtime(),
                };
                let result = self.client.get_stat_list(&request).await;
                (template, window, result)
            })
            .buffer_unordered(self.max_in_flight);
        while let Some((template, window, result)) = results.next().await {
            match result {
                Ok(fetched) => {
                    self.store.put_stat(
                        &template,
                        window.start_ts,
                        window.end_ts,
                        &fetched.raw,
                        self.clock.ts(),
                    )?;
                    summary.stats_fetched += 1;
                }
                Err(err) if err.is_permission_gap() => {
                    let g = gap(
                        format!("template {template} stats {}", self.describe(window)),
                        &err,
                    );
                    tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
                    summary.gaps.push(g);
                }
                Err(err) => {
                    return Err(ExtractError::Api {
                        context: format!("stats of template {template} {}", self.describe(window)),
                        source: err,
                    })
                }
            }
            bar.inc(1);
        }
        bar.finish(&format!(
            "{} fetched, {} stored complete",
            summary.stats_fetched, summary.stats_skipped
        ));
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Directory

    /// `department/list`, then `user/list` per department, stored as one snapshot. Fetched once
    /// per run (a resumed run keeps the snapshot of the run it resumes).
    async fn directory(&self, summary: &mut ExtractSummary) -> Result<(), ExtractError> {
        match &self.job.extract.directory {
            DirectorySource::Api => {}
            // A CSV is read by the run itself; "none" has nothing to read.
            DirectorySource::Csv(_) | DirectorySource::None => return Ok(()),
        }
        if !self.opts.full_refresh
            && self
                .store
                .directory_fetched_at()?
                .is_some_and(|t| t >= self.as_of)
        {
            return Ok(());
        }
        let fetched_at = self.clock.ts();
        let departments = match self.client.department_list(None).await {
            Ok(fetched) => fetched,
            Err(err) if err.is_permission_gap() => {
                summary.gaps.push(gap("department list".into(), &err));
                return Ok(());
            }
            Err(err) => {
                return Err(ExtractError::Api {
                    context: "department list".into(),
                    source: err,
                })
            }
        };
        let ids: Vec<u64> = departments.value.department.iter().map(|d| d.id).collect();
        let mut bar = StageProgress::new(
            "directory",
            "departments",
            Some(ids.len() as u64),
            self.opts.progress,
        );
        let mut results = futures::stream::iter(ids)
            .map(|id| async move { (id, self.client.user_list(id).await) })
            .buffer_unordered(self.max_in_flight);
        let mut lists = Vec::new();
        while let Some((id, result)) = results.next().await {
            match result {
                Ok(fetched) => lists.push((id, fetched.raw)),
                Err(err) if err.is_permission_gap() => {
                    summary
                        .gaps
                        .push(gap(format!("users of department {id}"), &err));
                }
                Err(err) => {
                    return Err(ExtractError::Api {
                        context: format!("users of department {id}"),
                        source: err,
                    })
                }
            }
            bar.inc(1);
        }
        lists.sort_by_key(|(id, _)| *id);
        self.store
            .put_directory(fetched_at, &departments.raw, &lists)?;
        summary.directory_fetched = true;
        bar.finish(&format!("{} users lists", lists.len()));
        Ok(())
    }
}

/// Items WeCom refused (a template the app may not read refuses every journal of it, and every
/// wedrive file of those): one gap per errcode, naming how many and a few of them, rather than
/// one per item.
struct RefusedItems {
    /// What the items are, plural-ready: `journal detail(s)`.
    noun: &'static str,
    by_errcode: std::collections::BTreeMap<i64, (Gap, u64, Vec<String>)>,
}

impl RefusedItems {
    /// Items named in a gap.
    const SAMPLE: usize = 5;

    fn new(noun: &'static str) -> Self {
        RefusedItems {
            noun,
            by_errcode: Default::default(),
        }
    }

    fn add(&mut self, uuid: String, err: &WecomError) {
        let entry = self
            .by_errcode
            .entry(err.errcode().unwrap_or(errcode::OK))
            .or_insert_with(|| (gap(String::new(), err), 0, Vec::new()));
        entry.1 += 1;
        if entry.2.len() < Self::SAMPLE {
            entry.2.push(uuid);
        }
    }

    fn into_gaps(self) -> Vec<Gap> {
        let noun = self.noun;
        self.by_errcode
            .into_values()
            .map(|(mut g, count, sample)| {
                let more = if count as usize > sample.len() {
                    ", …"
                } else {
                    ""
                };
                g.what = format!("{count} {noun}: {}{more}", sample.join(", "));
                g
            })
            .collect()
    }
}

/// The `info` object of a `get_record_detail` body, as JSON text (order and exact integers
/// kept: serde_json preserves order and reads u64 ids exactly).
fn info_json(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get("info").map(|info| info.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_json_keeps_big_ids_and_order() {
        let body = r#"{"errcode":0,"errmsg":"ok","info":{"journal_uuid":"u","z":1,"a":{"commentid":18446744073709551615}}}"#;
        assert_eq!(
            info_json(body).unwrap(),
            r#"{"journal_uuid":"u","z":1,"a":{"commentid":18446744073709551615}}"#
        );
        assert_eq!(info_json("not json"), None);
    }
}
