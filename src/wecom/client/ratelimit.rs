//! Per-endpoint rate limits: each documented quota as a sliding window ("at most `quota` calls
//! in any interval of `period + margin`"), plus a "blocked until" instant set when WeCom answers
//! 45009.
//!
//! Why a sliding window: WeCom (and the simulator) count calls in fixed windows of one period,
//! aligned where the client cannot see. A limiter that lets no interval of one period hold more
//! than the quota can never overrun such a window, wherever its edges fall. The window is
//! stretched by a margin ([`margin`]) because a call reaches the server some time after it
//! leaves, and that delay varies: as long as it varies by less than the margin, the calls the
//! server counts in one of its windows left within `period + margin` of each other.
//!
//! Why not a GCRA spacing calls `(period + margin) / quota` apart with a burst of one (what this
//! was): a call that leaves late (a busy machine, a timer firing late) is lost for good, since
//! the next one is spaced from it; runs reached 92–94 % of the quota. The sliding window lets a
//! late call's slot be used as soon as it is free, so a long run reaches `period / (period +
//! margin)` of the quota (98 % of WeCom's minute); `max_in_flight` still bounds how many calls
//! are out at once. And the hourly quota no longer spreads every call over the hour (which
//! held details to 2,450 a minute even in a short run): a run uses the minute's pace until the
//! hour's quota is spent, then waits, as the plan's ETA assumes.
//!
//! Memory is bounded whatever the quota (150,000 an hour): calls are counted in at most
//! [`BUCKETS_PER_WINDOW`] + 1 buckets of time, a bucket counting as inside the window while any
//! part of it is (so the window acts up to one bucket longer, never shorter).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::{Endpoint, Limits};
use crate::wecom::error::WecomError;

/// Buckets a window is counted in.
pub const BUCKETS_PER_WINDOW: u32 = 1024;

/// What a quota's window is stretched by: 2 % of the period, at least 100 ms. It absorbs the
/// variation of the time between a call leaving and the server counting it.
pub fn margin(period: Duration) -> Duration {
    (period / 50).max(Duration::from_millis(100))
}

/// At most `calls` calls in any interval of `window`: the calls of the last window, counted by
/// bucket of time.
#[derive(Debug)]
struct SlidingWindow {
    calls: u64,
    window: Duration,
    bucket: Duration,
    origin: Instant,
    /// (bucket number since `origin`, calls in it), oldest first, empty buckets left out.
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
        let ns = t.saturating_duration_since(self.origin).as_nanos() / self.bucket.as_nanos();
        u64::try_from(ns).unwrap_or(u64::MAX)
    }

    /// The instant bucket `b` ends.
    fn end_of(&self, b: u64) -> Instant {
        let nanos = u128::from(b.saturating_add(1)) * self.bucket.as_nanos();
        self.origin + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Forgets the buckets that ended at or before `now - window`: none of their calls is in
    /// the window ending at `now`. Then `None` if a call may leave at `now`, else the instant
    /// the oldest bucket leaves the window.
    fn free_at(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&(b, count)) = self.counts.front() {
            if self.end_of(b) + self.window <= now {
                self.counts.pop_front();
                self.total -= count;
            } else {
                break;
            }
        }
        if self.total < self.calls {
            return None;
        }
        let oldest = self.counts.front().map_or(0, |&(b, _)| b);
        Some(self.end_of(oldest) + self.window)
    }

    /// Counts a call leaving at `now` (after [`Self::free_at`] said it may).
    fn take(&mut self, now: Instant) {
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

/// The limits of one endpoint.
struct EndpointLimiter {
    /// Its quotas (a period's, an hour's), under one lock: a call is counted in all of them at
    /// the instant it leaves, never in one while it waits for another.
    windows: Mutex<Vec<SlidingWindow>>,
    /// Set by a 45009: nobody calls this endpoint before that instant.
    blocked_until: Mutex<Option<Instant>>,
}

impl EndpointLimiter {
    /// Takes a call at `now` in every window, or says when to try again.
    fn try_take(&self, now: Instant) -> Result<(), Instant> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let wait = windows.iter_mut().filter_map(|w| w.free_at(now)).max();
        match wait {
            Some(at) => Err(at),
            None => {
                windows.iter_mut().for_each(|w| w.take(now));
                Ok(())
            }
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
                    windows: Mutex::new(windows),
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

    /// Waits until the endpoint's quotas allow one more call, and takes it (in all of them at
    /// once). Call it right before sending: the time it returns is the time the windows count.
    pub async fn acquire(&self, endpoint: Endpoint) {
        let Some(l) = self.get(endpoint) else { return };
        loop {
            match l.try_take(Instant::now()) {
                Ok(()) => return,
                Err(at) => tokio::time::sleep_until(at).await,
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

    /// Greedy callers, all ready at `origin`: the instants `n` calls leave at, stepping time
    /// to each instant the window names (no clock, no sleep).
    fn greedy_schedule(w: &mut SlidingWindow, origin: Instant, n: usize) -> Vec<Instant> {
        let mut now = origin;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match w.free_at(now) {
                None => {
                    w.take(now);
                    out.push(now);
                }
                Some(at) => {
                    assert!(at > now, "the window names a later instant");
                    now = at;
                }
            }
        }
        out
    }

    #[test]
    fn no_interval_of_a_window_holds_more_than_the_quota_and_little_is_lost() {
        for (calls, period_ms) in [
            (600u32, 60_000u64),
            (10, 2000),
            (10_000, 60_000),
            (1, 1000),
            (3, 100),
            (150_000, 3_600_000),
        ] {
            let period = Duration::from_millis(period_ms);
            let window = period + margin(period);
            let origin = Instant::now();
            let mut w = limiter(calls, period, "test", origin).unwrap();
            let n = calls as usize * 4 + 1;
            let times = greedy_schedule(&mut w, origin, n);
            let q = calls as usize;
            // Any quota + 1 calls span more than a window, so no server window of one period
            // (wherever its edges) sees more than the quota, even with the margin's jitter.
            for i in 0..n - q {
                assert!(
                    times[i + q] - times[i] >= window,
                    "{calls}/{period:?}: calls {i} and {}",
                    i + q
                );
            }
            // The first quota leaves at once (a late call's slot is not lost), and each later
            // quota within a bucket of a window after the one before.
            assert!(times[q - 1] == origin, "{calls}/{period:?}");
            let bucket = window / BUCKETS_PER_WINDOW;
            for k in 1..4 {
                let start = times[k * q] - origin;
                assert!(
                    start <= (window + bucket) * k as u32,
                    "{calls}/{period:?}: quota {k} at {start:?}"
                );
            }
            // So a long run reaches period / (period + margin) of the quota, minus a bucket:
            // 97.9 % of a period of 5 s or more (margin 2 %), 95 % of 2 s (margin 100 ms).
            let share = period.as_secs_f64() / (window + bucket).as_secs_f64();
            let floor = if period >= Duration::from_secs(5) {
                0.979
            } else if period >= Duration::from_secs(2) {
                0.95
            } else {
                0.0
            };
            assert!(share >= floor, "{calls}/{period:?}: {share}");
        }
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
        }
        let hour = Duration::from_secs(3600);
        let at = l.try_take(now).expect_err("the hour's quota is spent");
        assert!(at >= now + hour + margin(hour), "{:?}", at - now);
        let windows = l.windows.lock().unwrap();
        assert_eq!(windows.iter().map(|w| w.total).collect::<Vec<_>>(), [3, 3]);
    }

    #[test]
    fn memory_stays_within_the_buckets_of_one_window() {
        let period = Duration::from_secs(60);
        let origin = Instant::now();
        let mut w = limiter(150_000, period, "test", origin).unwrap();
        // Calls every 100 µs for ten windows: far more calls than buckets.
        let mut now = origin;
        let mut most = 0;
        let step = Duration::from_micros(100);
        let end = origin + (period + margin(period)) * 10;
        while now < end {
            if w.free_at(now).is_none() {
                w.take(now);
            }
            most = most.max(w.counts.len());
            now += step;
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
            rl.acquire(Endpoint::RecordList).await;
        }
        // Six calls of a 5-per-period quota cannot all fit in one period (plus its margin).
        assert!(
            started.elapsed() >= period + margin(period),
            "{:?}",
            started.elapsed()
        );
    }
}
