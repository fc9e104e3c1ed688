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

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Endpoint, Limits};
use crate::wecom::error::WecomError;

/// Buckets a window is counted in.
pub const BUCKETS_PER_WINDOW: u32 = 1024;

/// What a quota's window is stretched by: a thousandth of the period, for the difference in
/// rate between this machine's monotonic clock and the server's wall clock.
pub fn margin(period: Duration) -> Duration {
    period / 1000
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

    /// Counts an answer at `now`.
    fn answered(&mut self, now: Instant) {
        let current = self.bucket_of(now);
        match self.counts.back_mut() {
            Some((b, count)) if *b == current => *count += 1,
            _ => self.counts.push_back((current, 1)),
        }
        self.total += 1;
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

/// An endpoint's quotas (a period's, an hour's) and its calls in flight, under one lock: a call
/// takes a slot in all of them at once, never in one while it waits for another.
#[derive(Debug)]
struct Slots {
    windows: Vec<SlidingWindow>,
    in_flight: u64,
}

/// The limits of one endpoint.
struct EndpointLimiter {
    slots: Mutex<Slots>,
    /// Woken at each answer: a slot held by a call in flight may be free.
    answered: Notify,
    /// Set by a 45009: nobody calls this endpoint before that instant.
    blocked_until: Mutex<Option<Instant>>,
}

impl EndpointLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot at `now`, or says until when to wait (`None`: until an answer).
    fn try_take(&self, now: Instant) -> Result<(), Option<Instant>> {
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
        if wait.is_ok() {
            slots.in_flight += 1;
        }
        wait
    }

    /// The call holding a slot was answered (or failed) at `now`.
    fn release(&self, now: Instant) {
        {
            let mut slots = self.lock();
            slots.in_flight = slots.in_flight.saturating_sub(1);
            slots.windows.iter_mut().for_each(|w| w.answered(now));
        }
        self.answered.notify_waiters();
    }
}

/// A call's hold on its endpoint's quotas, from when it leaves until it is dropped: drop it
/// when the answer is read (or the call failed), and the quotas count the call from then.
#[must_use = "the slot must live until the answer is read"]
pub struct QuotaSlot<'a> {
    limiter: Option<&'a EndpointLimiter>,
}

impl Drop for QuotaSlot<'_> {
    fn drop(&mut self) {
        if let Some(l) = self.limiter {
            l.release(Instant::now());
        }
    }
}

/// Every endpoint's limits.
pub struct RateLimits {
    endpoints: Vec<(Endpoint, EndpointLimiter)>,
}

impl RateLimits {
    /// `period` is the quota's "minute" (60 s in production); the hourly quota's period is 60
    /// of them.
    pub fn new(limits: &Limits, period: Duration) -> Result<RateLimits, WecomError> {
        let hour = period.saturating_mul(60);
        let origin = Instant::now();
        let mut endpoints = Vec::new();
        for endpoint in Endpoint::ALL {
            let windows = match endpoint {
                // Doc 93393: its own quota of 600 a minute.
                Endpoint::RecordList => vec![limiter(
                    limits.record_list_per_minute,
                    period,
                    "record_list_per_minute",
                    origin,
                )?],
                // A download URL is not a WeCom API; only the in-flight bound applies.
                Endpoint::WedriveBytes => vec![],
                _ => vec![
                    limiter(
                        limits.per_api_per_minute,
                        period,
                        "per_api_per_minute",
                        origin,
                    )?,
                    limiter(limits.per_api_per_hour, hour, "per_api_per_hour", origin)?,
                ],
            };
            endpoints.push((
                endpoint,
                EndpointLimiter {
                    slots: Mutex::new(Slots {
                        windows,
                        in_flight: 0,
                    }),
                    answered: Notify::new(),
                    blocked_until: Mutex::new(None),
                },
            ));
        }
        Ok(RateLimits { endpoints })
    }

    fn get(&self, endpoint: Endpoint) -> Option<&EndpointLimiter> {
        self.endpoints
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, l)| l)
    }

    /// Waits out a 45009 block of the endpoint, if one is set.
    pub async fn wait_unblocked(&self, endpoint: Endpoint) {
        let Some(l) = self.get(endpoint) else { return };
        loop {
            let until = *l.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Waits until the endpoint's quotas have a free slot, and takes it (in all of them at
    /// once). Call it right before sending, and keep the slot until the answer is read.
    pub async fn acquire(&self, endpoint: Endpoint) -> QuotaSlot<'_> {
        let Some(l) = self.get(endpoint) else {
            return QuotaSlot { limiter: None };
        };
        loop {
            // Listen for answers before looking, so one arriving in between is not missed.
            let answered = l.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            match l.try_take(Instant::now()) {
                Ok(()) => return QuotaSlot { limiter: Some(l) },
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

    /// After a 45009: block the endpoint for `wait` (the rest of the quota's period, which the
    /// client cannot see, so a whole one).
    pub fn block_for(&self, endpoint: Endpoint, wait: Duration) {
        let Some(l) = self.get(endpoint) else { return };
        let until = Instant::now() + wait;
        let mut slot = l.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// A tiny deterministic generator for the simulated latencies and window phases.
    struct Lcg(u64);
    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Greedy callers, all ready at `origin`, against `l`, on a simulated clock (no sleep):
    /// call i leaves when the limiter lets it, the server counts it `latency × u` later and it
    /// is answered after `latency` (u and latency random). Returns (leave, counted) instants.
    fn simulate(
        l: &EndpointLimiter,
        origin: Instant,
        n: usize,
        max_latency: Duration,
        rng: &mut Lcg,
    ) -> Vec<(Instant, Instant)> {
        let mut now = origin;
        let mut out = Vec::with_capacity(n);
        // Answer instants of the calls in flight, earliest first.
        let mut pending: BinaryHeap<Reverse<Instant>> = BinaryHeap::new();
        while out.len() < n {
            match l.try_take(now) {
                Ok(()) => {
                    let latency = max_latency.mul_f64(rng.unit());
                    out.push((now, now + latency.mul_f64(rng.unit())));
                    pending.push(Reverse(now + latency));
                }
                Err(wait) => {
                    let next_answer = pending.peek().map(|r| r.0);
                    let next = match (wait, next_answer) {
                        (Some(at), Some(answer)) => at.min(answer),
                        (Some(at), None) => at,
                        (None, Some(answer)) => answer,
                        (None, None) => panic!("waiting for an answer with none in flight"),
                    };
                    assert!(next >= now);
                    now = next;
                    while let Some(Reverse(a)) = pending.peek().copied().filter(|r| r.0 <= now) {
                        pending.pop();
                        l.release(a);
                    }
                }
            }
        }
        out
    }

    fn endpoint(windows: Vec<SlidingWindow>) -> EndpointLimiter {
        EndpointLimiter {
            slots: Mutex::new(Slots {
                windows,
                in_flight: 0,
            }),
            answered: Notify::new(),
            blocked_until: Mutex::new(None),
        }
    }

    #[test]
    fn no_fixed_window_of_the_server_counts_more_than_the_quota_whatever_the_latency() {
        let mut rng = Lcg(7);
        for (calls, period_ms, latency_ms) in [
            (10u32, 2000u64, 300u64),
            (10, 2000, 1),
            (600, 60_000, 2000),
            (120, 2000, 50),
            (1, 1000, 900),
            (3, 100, 250),
        ] {
            let period = Duration::from_millis(period_ms);
            let origin = Instant::now();
            let l = endpoint(vec![limiter(calls, period, "test", origin).unwrap()]);
            let n = calls as usize * 6 + 1;
            let calls_out = simulate(&l, origin, n, Duration::from_millis(latency_ms), &mut rng);
            // Server windows at a few phases: none counts more than the quota.
            for phase in 0..8 {
                let offset = period.mul_f64(f64::from(phase) / 8.0 + rng.unit() / 8.0);
                let mut per_window = std::collections::BTreeMap::<u128, u32>::new();
                for (_, counted) in &calls_out {
                    let t = (*counted - origin + offset).as_nanos() / period.as_nanos();
                    *per_window.entry(t).or_default() += 1;
                }
                let most = per_window.values().max().copied().unwrap_or(0);
                assert!(most <= calls, "{calls}/{period:?}, latency ≤ {latency_ms} ms, phase {phase}: {most} in one window");
            }
        }
    }

    #[test]
    fn a_long_run_keeps_close_to_the_quota() {
        // Answers 5 ms after leaving: each quota goes at once, then again a period (plus the
        // margin, the latency and a bucket) after the first of the previous one was answered.
        for (calls, period) in [
            (120u32, Duration::from_secs(2)),
            (10_000, Duration::from_secs(60)),
            (10, Duration::from_secs(2)),
        ] {
            let origin = Instant::now();
            let l = endpoint(vec![limiter(calls, period, "test", origin).unwrap()]);
            let mut rng = Lcg(1);
            let q = calls as usize;
            let out = simulate(&l, origin, q * 10 + 1, Duration::from_millis(5), &mut rng);
            assert_eq!(out[q - 1].0, origin, "the first quota is not paced");
            let took = out[q * 10].0 - origin;
            let share = (period * 10).as_secs_f64() / took.as_secs_f64();
            assert!(share >= 0.99, "{calls}/{period:?}: {share}");
            assert!(share <= 1.0, "{calls}/{period:?}: {share}");
        }
    }

    #[test]
    fn calls_in_flight_hold_their_slots_until_answered() {
        let origin = Instant::now();
        let period = Duration::from_secs(1);
        let l = endpoint(vec![limiter(2, period, "test", origin).unwrap()]);
        l.try_take(origin).unwrap();
        l.try_take(origin).unwrap();
        // Both slots out: only an answer can free one.
        assert_eq!(l.try_take(origin), Err(None));
        let answer = origin + Duration::from_secs(30);
        l.release(answer);
        // One answered at 30 s holds its slot a period more; the other is still out.
        let at = l
            .try_take(answer)
            .expect_err("still full")
            .expect("an instant");
        assert!(at >= answer + period + margin(period), "{:?}", at - answer);
        assert!(l.try_take(at).is_ok());
    }

    #[test]
    fn a_call_waiting_for_the_hour_is_not_counted_in_the_minute() {
        let limits = Limits {
            per_api_per_minute: 10,
            per_api_per_hour: 3,
            ..Limits::default()
        };
        let rl = RateLimits::new(&limits, Duration::from_secs(60)).unwrap();
        let l = rl.get(Endpoint::RecordDetail).unwrap();
        let now = Instant::now();
        for _ in 0..3 {
            l.try_take(now).unwrap();
            l.release(now);
        }
        let hour = Duration::from_secs(3600);
        let at = l
            .try_take(now)
            .expect_err("the hour's quota is spent")
            .expect("an instant");
        assert!(at >= now + hour + margin(hour), "{:?}", at - now);
        let slots = l.lock();
        assert_eq!(slots.in_flight, 0);
        let totals: Vec<u64> = slots.windows.iter().map(|w| w.total).collect();
        assert_eq!(totals, [3, 3]);
    }

    #[test]
    fn memory_stays_within_the_buckets_of_one_window() {
        let period = Duration::from_secs(60);
        let origin = Instant::now();
        let l = endpoint(vec![limiter(150_000, period, "test", origin).unwrap()]);
        // A call every 100 µs for ten windows: far more calls than buckets.
        let mut now = origin;
        let mut most = 0;
        let end = origin + period * 10;
        while now < end {
            if l.try_take(now).is_ok() {
                l.release(now);
            }
            most = most.max(l.lock().windows[0].counts.len());
            now += Duration::from_micros(100);
        }
        assert!(
            most <= BUCKETS_PER_WINDOW as usize + 2,
            "{most} buckets held"
        );
    }

    #[test]
    fn zero_quotas_are_configuration_errors() {
        let limits = Limits {
            record_list_per_minute: 0,
            ..Limits::default()
        };
        let err = RateLimits::new(&limits, Duration::from_secs(60))
            .err()
            .expect("a zero quota is rejected");
        assert!(err.to_string().contains("record_list_per_minute"), "{err}");
    }

    #[tokio::test]
    async fn a_full_window_holds_the_next_call() {
        let limits = Limits {
            record_list_per_minute: 5,
            ..Limits::default()
        };
        let period = Duration::from_millis(500);
        let rl = RateLimits::new(&limits, period).unwrap();
        let started = std::time::Instant::now();
        for _ in 0..6 {
            let slot = rl.acquire(Endpoint::RecordList).await;
            drop(slot);
        }
        // Six calls of a 5-per-period quota cannot all fit in one period.
        assert!(started.elapsed() >= period, "{:?}", started.elapsed());
    }
}
