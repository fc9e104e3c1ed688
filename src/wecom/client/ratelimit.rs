//! Per-endpoint rate limits: each documented quota as a sliding window in which a call holds a
//! slot from the moment it leaves until one period after its answer, plus a "blocked until"
//! instant set when WeCom answers 45009.
//!
//! Why this is safe: WeCom (and the simulator) count a call in a fixed window of one period,
//! aligned where the client cannot see, at some instant between the request leaving and the
//! answer arriving. A call may leave only while fewer than `quota` calls are in flight or were
//! answered less than a period ago. Take any `quota + 1` calls the server counted in one of
//! its windows, and the one of them that left last: every other was counted in that window,
//! hence answered at most a period before this one left (or not yet answered), so it held a
//! slot when this one asked, and this one would have waited. No latency, jitter or queueing at
//! the server can break that, so there is no margin to guess; only [`margin`], a thousandth of
//! the period, covers the server's wall clock running at a slightly different rate (NTP slews
//! clocks by up to 0.05 %).
//!
//! Why not what this was (a GCRA spacing calls `(period + 2 %) / quota` apart with a burst of
//! one): its margin had to cover every delay between a call leaving and the server counting
//! it, and a call that left late was lost for good, since the next one was spaced from it;
//! runs reached 92–94 % of the quota. Here a slot is reused as soon as it is free, so a long
//! run reaches `period / (period + margin + latency)` of the quota, and a run shorter than
//! one quota is not paced at all (`max_in_flight` still bounds the calls out at once). The
//! hourly quota no longer spreads every call over the hour, which held details to 2,450 a
//! minute even in a short run: a run goes at the minute's pace until the hour's quota is
//! spent, then waits, as the plan's ETA assumes.
//!
//! Memory is bounded whatever the quota (150,000 an hour): answers are counted in at most
//! [`BUCKETS_PER_WINDOW`] + 1 buckets of time, a bucket counting as inside the window while any
//! part of it is (so the window acts up to one bucket longer, never shorter).
//!
//! **Across processes.** The windows start empty in every process, yet WeCom counts the
//! corp's calls of the last hour whoever made them. So the limiter keeps a ledger of the calls
//! it saw answered, by wall-clock bucket ([`LEDGER_BUCKETS_PER_PERIOD`] a period, an hour
//! kept): [`RateLimits::usage`] hands it out (calls in flight counted as answered now), the
//! extraction writes it to the store as it goes, and the next process (a resumed run, the next
//! job of a multi-job `run`) loads what earlier ones spent with [`RateLimits::preload`] before
//! its first call: each bucket's calls count as answered at the bucket's end, so the windows
//! continue the earlier ones', up to one bucket late (never early).
//!
//! **45009.** A 45009 is waited for as precisely as the client can know why it came
//! ([`RateLimits::quota_exceeded`]):
//! - if this limiter's own windows are full (its count explains the answer), the call waits
//!   like any other for the oldest answer to leave the window;
//! - else the corp's quota was spent by someone the client cannot see (another app, another
//!   process) or WeCom answered it on a whim, and the call waits, alone, until the current
//!   minute rolls over (WeCom's windows are aligned to the clock; so are the simulator's): the
//!   other calls go on, so one stray 45009 costs one call a wait, not the endpoint a minute;
//! - once [`RateLimits::new`]'s `max_in_flight` (at least [`MIN_REFUSALS_IN_A_ROW`]) answers
//!   in a row were 45009 with no other answer between, the minute's quota is spent indeed:
//!   the endpoint is blocked until the minute rolls over, so no more calls are wasted on it;
//! - if the endpoint is refused again after such a block, with still no other answer between,
//!   the fresh minute's budget cannot explain it: it is the hour's quota, and the endpoint is
//!   blocked until the hour rolls over (the record list has no hourly quota: a minute again).
//!
//! How long a call may wait for 45009s in all is the caller's budget (`max_quota_wait`), not
//! a number of retries. The wall clock is read through [`WallClock`] so that the rules are
//! tested on a simulated one.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Endpoint, Limits};
use crate::wecom::error::WecomError;

/// Buckets a window is counted in.
pub(crate) const BUCKETS_PER_WINDOW: u32 = 1024;

/// Buckets of the ledger a quota period is cut into (5 s buckets for a 60 s minute): what a
/// later process may count up to one bucket late.
pub(crate) const LEDGER_BUCKETS_PER_PERIOD: u32 = 12;

/// The fewest 45009s in a row (no other answer between) that block the endpoint.
pub(crate) const MIN_REFUSALS_IN_A_ROW: u32 = 3;

/// What a quota's window is stretched by: a thousandth of the period, for the difference in
/// rate between this machine's monotonic clock and the server's wall clock.
pub(crate) fn margin(period: Duration) -> Duration {
    period / 1000
}

/// How long after a minute (or hour) boundary of this machine's clock a call waiting for it
/// leaves: a fiftieth of the period (1.2 s for a minute), for the server's clock being set a
/// little differently (NTP keeps them within milliseconds; this is generous).
fn skew(period: Duration) -> Duration {
    period / 50
}

/// The wall clock as time since the Unix epoch: [`WallClock::system`] outside tests.
#[derive(Clone)]
pub(crate) struct WallClock(Arc<dyn Fn() -> Duration + Send + Sync>);

impl WallClock {
    pub(crate) fn system() -> WallClock {
        WallClock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
        }))
    }

    /// A clock reading whatever `now` says (tests).
    #[cfg(test)]
    pub(crate) fn from_fn(now: impl Fn() -> Duration + Send + Sync + 'static) -> WallClock {
        WallClock(Arc::new(now))
    }

    fn now(&self) -> Duration {
        (self.0)()
    }
}

/// Calls of one endpoint answered in `[start_ms, start_ms + length_ms)` (unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UsageBucket {
    pub(crate) endpoint: Endpoint,
    pub(crate) start_ms: i64,
    pub(crate) length_ms: i64,
    pub(crate) calls: u64,
}

/// Calls answered lately, by endpoint and bucket of wall-clock time: what a process spent of
/// the quotas, for the next one ([`RateLimits::usage`], [`RateLimits::preload`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QuotaUsage {
    pub(crate) buckets: Vec<UsageBucket>,
}

impl QuotaUsage {
    /// Adds `other`'s calls (a bucket of the same endpoint, start and length adds up).
    pub(crate) fn merge(&mut self, other: &QuotaUsage) {
        for b in &other.buckets {
            match self.buckets.iter_mut().find(|x| {
                (x.endpoint, x.start_ms, x.length_ms) == (b.endpoint, b.start_ms, b.length_ms)
            }) {
                Some(x) => x.calls += b.calls,
                None => self.buckets.push(*b),
            }
        }
        self.buckets
            .sort_by_key(|b| (b.endpoint, b.start_ms, b.length_ms));
    }

    /// Calls of `endpoint` in buckets that end after `since_ms`.
    pub(crate) fn calls_since(&self, endpoint: Endpoint, since_ms: i64) -> u64 {
        self.buckets
            .iter()
            .filter(|b| b.endpoint == endpoint && b.start_ms + b.length_ms > since_ms)
            .map(|b| b.calls)
            .sum()
    }

    /// Forgets the buckets that ended at or before `before_ms`.
    pub(crate) fn forget_before(&mut self, before_ms: i64) {
        self.buckets
            .retain(|b| b.start_ms + b.length_ms > before_ms);
    }
}

/// The answers of the last `window`, counted by bucket of time; a call may leave while these
/// and the calls in flight are fewer than `calls`.
#[derive(Debug)]
struct SlidingWindow {
    calls: u64,
    window: Duration,
    bucket: Duration,
    origin: Instant,
    /// (bucket number since `origin`, answers in it), oldest first, empty buckets left out.
    counts: VecDeque<(u64, u64)>,
    total: u64,
}

impl SlidingWindow {
    fn new(calls: NonZeroU32, window: Duration, origin: Instant) -> SlidingWindow {
        SlidingWindow {
            calls: u64::from(calls.get()),
            window,
            bucket: (window / BUCKETS_PER_WINDOW).max(Duration::from_micros(1)),
            origin,
            counts: VecDeque::new(),
            total: 0,
        }
    }

    fn bucket_of(&self, t: Instant) -> u64 {
        let n = t.saturating_duration_since(self.origin).as_nanos() / self.bucket.as_nanos();
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// The instant bucket `b` ends.
    fn end_of(&self, b: u64) -> Instant {
        let nanos = u128::from(b.saturating_add(1)) * self.bucket.as_nanos();
        self.origin + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Forgets the buckets that ended at or before `now - window`.
    fn prune(&mut self, now: Instant) {
        while let Some(&(b, count)) = self.counts.front() {
            if self.end_of(b) + self.window <= now {
                self.counts.pop_front();
                self.total -= count;
            } else {
                break;
            }
        }
    }

    /// `Ok` if a call may leave at `now` with `in_flight` others out; else when an answer
    /// leaves the window (`None`: every slot is held by a call in flight, wait for an answer).
    fn check(&mut self, now: Instant, in_flight: u64) -> Result<(), Option<Instant>> {
        self.prune(now);
        if self.total + in_flight < self.calls {
            return Ok(());
        }
        Err(self
            .counts
            .front()
            .map(|&(b, _)| self.end_of(b) + self.window))
    }

    /// Counts `n` answers at `at` (the latest so far, or, when preloading, any instant).
    fn answered(&mut self, at: Instant, n: u64) {
        let b = self.bucket_of(at);
        // Answers come in time order; only preloaded ones may land before the last bucket.
        let i = self.counts.partition_point(|&(x, _)| x < b);
        match self.counts.get_mut(i) {
            Some((x, count)) if *x == b => *count += n,
            _ => self.counts.insert(i, (b, n)),
        }
        self.total += n;
    }
}

fn limiter(
    calls: u32,
    period: Duration,
    what: &str,
    origin: Instant,
) -> Result<SlidingWindow, WecomError> {
    let calls = NonZeroU32::new(calls)
        .ok_or_else(|| WecomError::Config(format!("{what} must be at least 1")))?;
    if period.is_zero() {
        return Err(WecomError::Config(format!(
            "{what}: the quota period is zero"
        )));
    }
    Ok(SlidingWindow::new(calls, period + margin(period), origin))
}

/// An endpoint's quotas (a period's, an hour's), its calls in flight and its ledger, under one
/// lock: a call takes a slot in all of them at once, never in one while it waits for another.
#[derive(Debug)]
struct Slots {
    windows: Vec<SlidingWindow>,
    in_flight: u64,
    /// (bucket start, answers) of this process, in unix ms, oldest first.
    ledger: VecDeque<(i64, u64)>,
}

/// What the endpoint's 45009s so far say.
#[derive(Debug, Default)]
struct Refusals {
    /// Nobody calls this endpoint before that instant.
    blocked_until: Option<Instant>,
    /// Whether that block waits for the hour's quota (else the minute's).
    hour_block: bool,
    /// 45009s since the last other answer.
    in_a_row: u32,
    /// The endpoint was blocked for the rest of a minute since the last other answer.
    minute_blocked: bool,
}

/// The limits of one endpoint.
struct EndpointLimiter {
    slots: Mutex<Slots>,
    /// Woken at each answer: a slot held by a call in flight may be free.
    answered: Notify,
    refusals: Mutex<Refusals>,
    /// Whether the endpoint has an hourly quota (every API but the record list).
    hourly: bool,
}

impl EndpointLimiter {
    fn new(windows: Vec<SlidingWindow>, hourly: bool) -> EndpointLimiter {
        EndpointLimiter {
            slots: Mutex::new(Slots {
                windows,
                in_flight: 0,
                ledger: VecDeque::new(),
            }),
            answered: Notify::new(),
            refusals: Mutex::new(Refusals::default()),
            hourly,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refusals(&self) -> std::sync::MutexGuard<'_, Refusals> {
        self.refusals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may leave at `now`, and if `take`, takes its slot; else says until when
    /// to wait (`None`: until an answer).
    fn check(&self, now: Instant, take: bool) -> Result<(), Option<Instant>> {
        let mut slots = self.lock();
        let in_flight = slots.in_flight;
        let mut wait: Result<(), Option<Instant>> = Ok(());
        for w in slots.windows.iter_mut() {
            if let Err(at) = w.check(now, in_flight) {
                wait = match (wait, at) {
                    // Free only once every full window is: the latest of their instants, or
                    // an answer if one of them waits for one.
                    (Ok(()), at) => Err(at),
                    (Err(Some(a)), Some(b)) => Err(Some(a.max(b))),
                    (Err(_), _) => Err(None),
                };
            }
        }
        if wait.is_ok() && take {
            slots.in_flight += 1;
        }
        wait
    }

    /// Takes a slot at `now`, or says until when to wait (`None`: until an answer).
    fn try_take(&self, now: Instant) -> Result<(), Option<Instant>> {
        self.check(now, true)
    }

    /// The call holding a slot was answered (or failed) at `now`, `wall_ms` on the wall clock.
    fn release(&self, now: Instant, wall_ms: i64, ledger_ms: i64) {
        {
            let mut slots = self.lock();
            slots.in_flight = slots.in_flight.saturating_sub(1);
            slots.windows.iter_mut().for_each(|w| w.answered(now, 1));
            let start = wall_ms - wall_ms.rem_euclid(ledger_ms);
            match slots.ledger.back_mut() {
                Some((b, count)) if *b == start => *count += 1,
                _ => slots.ledger.push_back((start, 1)),
            }
        }
        self.answered.notify_waiters();
    }
}

/// A call's hold on its endpoint's quotas, from when it leaves until it is dropped: drop it
/// when the answer is read (or the call failed), and the quotas count the call from then.
#[must_use = "the slot must live until the answer is read"]
pub(crate) struct QuotaSlot<'a> {
    limits: &'a RateLimits,
    limiter: Option<&'a EndpointLimiter>,
}

impl Drop for QuotaSlot<'_> {
    fn drop(&mut self) {
        if let Some(l) = self.limiter {
            let (wall_ms, ledger_ms) = (self.limits.wall_ms(), self.limits.ledger_ms());
            l.release(Instant::now(), wall_ms, ledger_ms);
        }
    }
}

/// Why a call refused with 45009 waits until when ([`RateLimits::quota_exceeded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuotaWait {
    /// The limiter's own windows are full: the call waits for a slot like any other.
    OwnWindow,
    /// The call waits, alone, until the current minute rolls over (at the instant).
    MinuteRollover(Instant),
    /// The endpoint is blocked until the instant: the minute's quota is spent (many 45009s in
    /// a row), or after such a block the hour's (`hour`).
    Blocked { until: Instant, hour: bool },
}

impl QuotaWait {
    /// The instant the call may be retried (`now` for [`QuotaWait::OwnWindow`], whose wait is
    /// the slot's).
    pub(crate) fn until(self, now: Instant) -> Instant {
        match self {
            QuotaWait::OwnWindow => now,
            QuotaWait::MinuteRollover(t) | QuotaWait::Blocked { until: t, .. } => t.max(now),
        }
    }
}

/// Every endpoint's limits.
pub(crate) struct RateLimits {
    endpoints: Vec<(Endpoint, EndpointLimiter)>,
    period: Duration,
    /// 45009s in a row that block the endpoint for the rest of the minute.
    refusals_to_block: u32,
    /// Blocks set so far (every endpoint).
    blocks: std::sync::atomic::AtomicU64,
    wall: WallClock,
}

impl RateLimits {
    /// `period` is the quota's "minute" (60 s in production); the hourly quota's period is 60
    /// of them.
    pub(crate) fn new(limits: &Limits, period: Duration) -> Result<RateLimits, WecomError> {
        RateLimits::with_clock(limits, period, WallClock::system())
    }

    /// [`RateLimits::new`] reading the wall clock through `wall`.
    pub(crate) fn with_clock(
        limits: &Limits,
        period: Duration,
        wall: WallClock,
    ) -> Result<RateLimits, WecomError> {
        let hour = period.saturating_mul(60);
        let now = Instant::now();
        // An origin an hour back, so that the answers of earlier processes (at most an hour
        // old) get bucket numbers of their own; where the monotonic clock is younger than
        // that, they count from now instead (later, which is on the safe side).
        let origin = now.checked_sub(hour + hour / 100).unwrap_or(now);
        let mut endpoints = Vec::new();
        for endpoint in Endpoint::ALL {
            let (windows, hourly) = match endpoint {
                // Doc 93393: its own quota of 600 a minute.
                Endpoint::RecordList => (
                    vec![limiter(
                        limits.record_list_per_minute,
                        period,
                        "record_list_per_minute",
                        origin,
                    )?],
                    false,
                ),
                // A download URL is not a WeCom API; only the in-flight bound applies.
                Endpoint::WedriveBytes => (vec![], false),
                _ => (
                    vec![
                        limiter(
                            limits.per_api_per_minute,
                            period,
                            "per_api_per_minute",
                            origin,
                        )?,
                        limiter(limits.per_api_per_hour, hour, "per_api_per_hour", origin)?,
                    ],
                    true,
                ),
            };
            endpoints.push((endpoint, EndpointLimiter::new(windows, hourly)));
        }
        let refusals_to_block = u32::try_from(limits.max_in_flight)
            .unwrap_or(u32::MAX)
            .max(MIN_REFUSALS_IN_A_ROW);
        Ok(RateLimits {
            endpoints,
            period,
            refusals_to_block,
            blocks: std::sync::atomic::AtomicU64::new(0),
            wall,
        })
    }

    fn get(&self, endpoint: Endpoint) -> Option<&EndpointLimiter> {
        self.endpoints
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, l)| l)
    }

    fn wall_ms(&self) -> i64 {
        i64::try_from(self.wall.now().as_millis()).unwrap_or(i64::MAX)
    }

    /// The length of a ledger bucket, in ms (at least 1).
    fn ledger_ms(&self) -> i64 {
        let ms = self.period.as_millis() / u128::from(LEDGER_BUCKETS_PER_PERIOD);
        i64::try_from(ms).unwrap_or(i64::MAX).max(1)
    }

    /// How long the ledger keeps a bucket: the hour's window and a bucket.
    fn kept(&self) -> Duration {
        let hour = self.period.saturating_mul(60);
        hour + margin(hour) + self.period / LEDGER_BUCKETS_PER_PERIOD
    }

    /// The instant `boundary` (a multiple of `every` since the epoch, on the wall clock) after
    /// now, as a monotonic instant, plus the skew allowance.
    fn next_boundary(&self, now: Instant, every: Duration) -> Instant {
        let every_ns = every.as_nanos().max(1);
        let wall_ns = self.wall.now().as_nanos();
        let left = every_ns - wall_ns % every_ns;
        now + Duration::from_nanos(u64::try_from(left).unwrap_or(u64::MAX)) + skew(every)
    }

    /// Until when a 45009 block of the endpoint lasts, if one is on at `now`.
    pub(crate) fn blocked_until(&self, endpoint: Endpoint, now: Instant) -> Option<Instant> {
        let l = self.get(endpoint)?;
        l.refusals().blocked_until.filter(|t| *t > now)
    }

    /// Waits until the endpoint's quotas have a free slot, and takes it (in all of them at
    /// once). Call it right before sending, and keep the slot until the answer is read.
    pub(crate) async fn acquire(&self, endpoint: Endpoint) -> QuotaSlot<'_> {
        let Some(l) = self.get(endpoint) else {
            return QuotaSlot {
                limits: self,
                limiter: None,
            };
        };
        loop {
            // Listen for answers before looking, so one arriving in between is not missed.
            let answered = l.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            match l.try_take(Instant::now()) {
                Ok(()) => {
                    return QuotaSlot {
                        limits: self,
                        limiter: Some(l),
                    }
                }
                Err(Some(at)) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = &mut answered => {}
                    }
                }
                Err(None) => answered.await,
            }
        }
    }

    /// An answer of the endpoint other than 45009 came: the quota admitted the call, so the
    /// 45009s before it were not a spent quota.
    pub(crate) fn admitted(&self, endpoint: Endpoint) {
        if let Some(l) = self.get(endpoint) {
            let mut r = l.refusals();
            r.in_a_row = 0;
            r.minute_blocked = false;
        }
    }

    /// A call of the endpoint was answered 45009 at `now` (its slot already released): until
    /// when it waits, and whether the endpoint is blocked meanwhile (the rules are the module
    /// doc's).
    pub(crate) fn quota_exceeded(&self, endpoint: Endpoint, now: Instant) -> QuotaWait {
        let Some(l) = self.get(endpoint) else {
            return QuotaWait::MinuteRollover(self.next_boundary(now, self.period));
        };
        if l.check(now, false).is_err() {
            return QuotaWait::OwnWindow;
        }
        let mut r = l.refusals();
        if let Some(until) = r.blocked_until.filter(|t| *t > now) {
            // Sent before the block began: it waits for the block like the rest.
            return QuotaWait::Blocked {
                until,
                hour: r.hour_block,
            };
        }
        r.in_a_row = r.in_a_row.saturating_add(1);
        let minute_end = self.next_boundary(now, self.period);
        if r.in_a_row < self.refusals_to_block {
            return QuotaWait::MinuteRollover(minute_end);
        }
        let (until, hour) = if r.minute_blocked && l.hourly {
            (
                self.next_boundary(now, self.period.saturating_mul(60)),
                true,
            )
        } else {
            r.minute_blocked = true;
            (minute_end, false)
        };
        r.blocked_until = Some(until);
        r.hour_block = hour;
        self.blocks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            endpoint = endpoint.name(),
            refused_in_a_row = r.in_a_row,
            wait_ms = u64::try_from((until - now).as_millis()).unwrap_or(u64::MAX),
            "45009 {} times in a row: the {} quota is spent; no call until it rolls over",
            r.in_a_row,
            if hour { "hour's" } else { "minute's" }
        );
        QuotaWait::Blocked { until, hour }
    }

    /// How many times an endpoint was blocked after 45009s (a minute's or an hour's).
    pub(crate) fn blocks(&self) -> u64 {
        self.blocks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What this process spent of the quotas in the kept window (the last hour and a bucket),
    /// calls in flight counted as answered now.
    pub(crate) fn usage(&self) -> QuotaUsage {
        let (wall_ms, ledger_ms) = (self.wall_ms(), self.ledger_ms());
        let kept_ms = i64::try_from(self.kept().as_millis()).unwrap_or(i64::MAX);
        let since = wall_ms.saturating_sub(kept_ms);
        let mut usage = QuotaUsage::default();
        for (endpoint, l) in &self.endpoints {
            let mut slots = l.lock();
            while slots
                .ledger
                .front()
                .is_some_and(|(b, _)| b + ledger_ms <= since)
            {
                slots.ledger.pop_front();
            }
            let now_bucket = wall_ms - wall_ms.rem_euclid(ledger_ms);
            let mut buckets: Vec<(i64, u64)> = slots.ledger.iter().copied().collect();
            if slots.in_flight > 0 {
                match buckets.last_mut() {
                    Some((b, n)) if *b == now_bucket => *n += slots.in_flight,
                    _ => buckets.push((now_bucket, slots.in_flight)),
                }
            }
            usage
                .buckets
                .extend(buckets.into_iter().map(|(start_ms, calls)| UsageBucket {
                    endpoint: *endpoint,
                    start_ms,
                    length_ms: ledger_ms,
                    calls,
                }));
        }
        usage
    }

    /// Counts what earlier processes spent (`usage`, from the store) in the windows, each
    /// bucket's calls as answered at the bucket's end. Call it before the first call; the
    /// ledger (what this process spends) does not include them.
    pub(crate) fn preload(&self, usage: &QuotaUsage) {
        let now = Instant::now();
        let wall_ms = self.wall_ms();
        for b in &usage.buckets {
            let Some(l) = self.get(b.endpoint) else {
                continue;
            };
            let age_ms = wall_ms.saturating_sub(b.start_ms.saturating_add(b.length_ms));
            let age = Duration::from_millis(u64::try_from(age_ms).unwrap_or(0));
            // Before the monotonic clock's origin: count it from the origin (later: safe).
            let at = now.checked_sub(age).unwrap_or(now);
            let mut slots = l.lock();
            for w in slots.windows.iter_mut() {
                if at + w.window > now {
                    w.answered(at.max(w.origin), b.calls);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
