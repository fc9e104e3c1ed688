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
//! functions in [`windows`]; the job helper's plan counts calls with the same rules. One file
//! per stage: [`records`], [`details`], [`wedrive`], [`stats`], `templates` (the record list
//! filtered by template, for journals nothing else names the template of), [`directory`].
//! Around them:
//! the quotas' usage, loaded from the store before the first call and written to it as calls
//! are answered ([`quota`]), and the [`Stop`] switch, after which no stage takes new work.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use thiserror::Error;

use crate::job::{DateRange, Job};
use crate::store::{Store, StoreError};
use crate::wecom::types::RecordFilter;
use crate::wecom::{errcode, WecomClient, WecomError};

mod details;
mod directory;
mod progress;
pub mod quota;
mod records;
mod stats;
pub mod stop;
mod templates;
pub mod wedrive;
pub mod windows;

pub use quota::{quota_key, QuotaCarry};
pub use stop::{Stop, StopSignal};
pub use windows::{
    filter_combinations, latest_cycle_end, month_windows, needs_detail, needs_stat, range_window,
    stats_windows, window_action, Window, WindowAction, DAY_S,
};

/// Failed fetches of one detail (withdrawn, 301066, a body that does not decode) after which
/// later runs stop retrying it (a full refresh still does).
pub(crate) const MAX_DETAIL_ATTEMPTS: u32 = 3;

/// Journals per record-list page (the API's maximum).
pub(crate) const PAGE_LIMIT: u64 = 100;

/// Calls a stage keeps under way per slot in flight (`max_in_flight`): the client sends
/// `max_in_flight` at once, the rest wait for a slot. So a call waiting out a 45009 for its
/// minute (the others go on) does not hold up the stage: at WeCom's pace, about 6 % of calls
/// refused and waiting 30 s on average still leave enough calls to keep the slots busy.
pub(crate) const QUEUED_PER_SLOT: usize = 32;

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
    /// Thrown (SIGTERM, SIGINT): take no new work, store what comes back, then stop.
    pub stop: Stop,
    /// What this process spent of each quota in earlier jobs (shared by the jobs of a `run`).
    pub quota: QuotaCarry,
}

impl ExtractOptions {
    /// Options for a run starting now, with bars when stderr is a terminal.
    pub fn new(run_id: impl Into<String>) -> Self {
        ExtractOptions {
            full_refresh: false,
            progress: std::io::stderr().is_terminal(),
            now: Utc::now(),
            run_id: run_id.into(),
            stop: Stop::new(),
            quota: QuotaCarry::default(),
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
    pub(crate) message: String,
}

/// Wall time per stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageDurations {
    pub records: Duration,
    pub details: Duration,
    pub(crate) wedrive: Duration,
    pub(crate) stats: Duration,
    pub(crate) directory: Duration,
}

/// What an extraction did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtractSummary {
    /// The as-of time of the run (unix s): its start, or the start of the run it resumed.
    pub(crate) as_of: i64,
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
    /// Details re-read whatever the run's range (younger than `refresh_days` when last read,
    /// or gaps retried).
    pub(crate) details_refreshed: u64,
    /// Wedrive files downloaded by this run, and their bytes.
    pub wedrive_downloaded: u64,
    pub wedrive_bytes: u64,
    /// Wedrive files already downloaded (recorded and on disk) and not fetched again.
    pub wedrive_skipped: u64,
    pub stats_fetched: u64,
    pub stats_skipped: u64,
    /// Journals of no known template (no `template_id`, no stat list naming them, no unique
    /// name) whose template a record list filtered by template gave.
    pub(crate) templates_listed: u64,
    pub directory_fetched: bool,
    pub gaps: Vec<Gap>,
    /// The local dates, outside the run's range, of what it re-read because it may still
    /// change (details younger than `refresh_days`, stat cycles not settled): the partitions
    /// of their months are rewritten too.
    pub(crate) touched: Option<DateRange>,
    pub durations: StageDurations,
}

impl ExtractSummary {
    /// Widens [`ExtractSummary::touched`] to `date` when it lies outside `range`.
    fn touch(&mut self, date: Option<NaiveDate>, range: DateRange) {
        let Some(date) = date.filter(|d| *d < range.start || *d >= range.end) else {
            return;
        };
        let day_after = date.succ_opt().unwrap_or(date);
        self.touched = Some(match self.touched {
            Some(t) => DateRange {
                start: t.start.min(date),
                end: t.end.max(day_after),
            },
            None => DateRange {
                start: date,
                end: day_after,
            },
        });
    }
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
    /// Stopped by a signal: what came back before is stored, the next run resumes.
    #[error("interrupted by {0}")]
    Interrupted(StopSignal),
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
/// (resuming an unfinished run of the same job and range); the caller finishes it. The quotas'
/// windows start where earlier processes left them ([`quota`]); once `opts.stop` is thrown the
/// client sends nothing new and the extraction ends with [`ExtractError::Interrupted`].
pub async fn extract(
    job: &Job,
    range: DateRange,
    client: &WecomClient,
    store: &Store,
    opts: &ExtractOptions,
) -> Result<ExtractSummary, ExtractError> {
    let range_label = format!("{}..{}", range.start, range.end);
    let as_of = store.start_run(&opts.run_id, &job.name, &range_label, opts.now.timestamp())?;
    let ledger = quota::Ledger::load(job, client, store, &opts.quota)?;
    let max_in_flight = job.source.limits.max_in_flight.max(1);
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
        max_in_flight,
        queue_cap: max_in_flight.saturating_mul(QUEUED_PER_SLOT),
        range,
    };
    if as_of < opts.now.timestamp() {
        tracing::info!(run_id = %opts.run_id, as_of, "resuming an unfinished run of {} {range_label}", job.name);
    }
    let stop_sending = async {
        opts.stop.stopped().await;
        tracing::warn!(
            "{}: no new call; waiting up to {} s for the calls in flight",
            opts.stop.signal().map(StopSignal::name).unwrap_or("stop"),
            stop::DRAIN_GRACE.as_secs()
        );
        client.stop_new_calls();
        std::future::pending::<()>().await
    };
    let result = tokio::select! {
        result = ctx.stages(range, as_of) => result,
        _ = stop_sending => unreachable!("pending never resolves"),
        _ = ledger.flush_every(store) => unreachable!("the flush loop never ends"),
    };
    // What this process spent, for the next one, whatever became of the run.
    let flushed = ledger.finish(store);
    let summary = result?;
    flushed?;
    Ok(summary)
}

impl Ctx<'_> {
    /// The stages, in order, each as the job asks.
    async fn stages(&self, range: DateRange, as_of: i64) -> Result<ExtractSummary, ExtractError> {
        let job = self.job;
        let mut summary = ExtractSummary {
            as_of,
            ..Default::default()
        };
        let t = Instant::now();
        let leaves = self.records(range, &mut summary).await?;
        summary.durations.records = t.elapsed();

        if job.extract.details {
            let t = Instant::now();
            self.details(&leaves, &mut summary).await?;
            summary.durations.details = t.elapsed();
        }
        if job.extract.wedrive_files {
            let t = Instant::now();
            self.wedrive(range, &mut summary).await?;
            summary.durations.wedrive = t.elapsed();
        }
        if job.extract.stats {
            let t = Instant::now();
            self.stats(range, &mut summary).await?;
            summary.durations.stats = t.elapsed();
        }
        if job.extract.details {
            let t = Instant::now();
            self.list_templates(range, &mut summary).await?;
            summary.durations.records += t.elapsed();
        }
        let t = Instant::now();
        self.directory(&mut summary).await?;
        summary.durations.directory = t.elapsed();
        Ok(summary)
    }

    /// Whether the run was asked to stop.
    fn stopping(&self) -> bool {
        self.opts.stop.is_stopped()
    }

    /// [`ExtractError::Interrupted`] once the run was asked to stop.
    fn check_stop(&self) -> Result<(), ExtractError> {
        match self.opts.stop.signal() {
            Some(signal) => Err(ExtractError::Interrupted(signal)),
            None => Ok(()),
        }
    }
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
    /// Record windows paged at once.
    max_in_flight: usize,
    /// Calls of a stage under way at once (see [`QUEUED_PER_SLOT`]).
    queue_cap: usize,
    /// The run's range.
    range: DateRange,
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
    Listed {
        journals: u64,
        calls: u64,
    },
    /// The run is stopping: the listing was left where it is.
    Stopped {
        calls: u64,
    },
    Skipped {
        journals: u64,
    },
    Split {
        calls: u64,
    },
    /// WeCom said the app may not read it (a permission gap, tallied by the caller).
    Refused {
        err: WecomError,
        calls: u64,
    },
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
    /// The local date of an instant (none for one no calendar holds).
    fn local_date(&self, ts: i64) -> Option<NaiveDate> {
        self.tz
            .timestamp_opt(ts, 0)
            .single()
            .map(|t| t.date_naive())
    }

    fn describe(&self, w: Window) -> String {
        let local = |ts: i64| match self.tz.timestamp_opt(ts, 0).single() {
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => ts.to_string(),
        };
        format!("[{}, {})", local(w.start_ts), local(w.end_ts))
    }
}

/// Calls WeCom refused for one subject (a template's stats, a record list filtered by a
/// template): one gap per subject and errcode, with the count and the span of the windows
/// refused, rather than one gap (and one warning) per window.
#[derive(Default)]
struct GapTally {
    /// (subject, errcode) → (the first refusal's gap, windows refused, their span).
    by_subject: std::collections::BTreeMap<(String, i64), (Gap, u64, Window)>,
}

impl GapTally {
    fn add(&mut self, subject: String, window: Window, err: &WecomError) {
        let key = (subject, err.errcode().unwrap_or(errcode::OK));
        match self.by_subject.get_mut(&key) {
            Some((_, count, span)) => {
                *count += 1;
                span.start_ts = span.start_ts.min(window.start_ts);
                span.end_ts = span.end_ts.max(window.end_ts);
            }
            None => {
                let first = gap(String::new(), err);
                self.by_subject.insert(key, (first, 1, window));
            }
        }
    }
}

impl Ctx<'_> {
    /// `template <id> (<name>)`: what a person grants the app, as the store knows its name.
    fn template_label(&self, template_id: &str) -> Result<String, ExtractError> {
        Ok(match self.store.template_name(template_id)? {
            Some(name) => format!("template {template_id} ({name})"),
            None => format!("template {template_id} (its name not yet known)"),
        })
    }

    /// The tally's gaps, each logged once: `<subject>: <n> <noun>(s) refused, <span>`.
    fn tally_gaps(&self, tally: GapTally, noun: &str, summary: &mut ExtractSummary) {
        for ((subject, _), (mut g, count, span)) in tally.by_subject {
            let plural = if count == 1 { "" } else { "s" };
            g.what = format!(
                "{subject}: {count} {noun}{plural} refused, {}",
                self.describe(span)
            );
            tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
            summary.gaps.push(g);
        }
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
