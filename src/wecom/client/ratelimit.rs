//! Per-endpoint rate limits: the documented quotas as GCRA limiters (governor) with a burst of
//! one, plus a "blocked until" instant set when WeCom answers 45009.
//!
//! Why a burst of one: WeCom (and the simulator) count calls in fixed windows aligned to the
//! quota's period. A GCRA whose burst equals the quota lets `quota` calls through at the end of
//! one window and `quota` more at the start of the next: 2×quota inside one window's length,
//! hence 45009. Spacing every call by `period / quota` means any interval of one period holds
//! at most `quota` calls, so no fixed window can be overrun. The spacing is stretched by a
//! small margin ([`spacing`]) because calls reach the server with some jitter of their own.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::{Endpoint, Limits};
use crate::wecom::error::WecomError;

/// The interval between two calls under a quota of `calls` per `period`: `(period + margin) /
/// calls`, where the margin (2% of the period, at least 100 ms) absorbs the difference between
/// when a call leaves and when the server counts it.
pub fn spacing(calls: NonZeroU32, period: Duration) -> Duration {
    let margin = (period / 50).max(Duration::from_millis(100));
    (period + margin) / calls.get()
}

fn limiter(
    calls: u32,
    period: Duration,
    what: &str,
) -> Result<DefaultDirectRateLimiter, WecomError> {
    let calls = NonZeroU32::new(calls)
        .ok_or_else(|| WecomError::Config(format!("{what} must be at least 1")))?;
    let quota = Quota::with_period(spacing(calls, period))
        .ok_or_else(|| WecomError::Config(format!("{what}: the quota period is zero")))?
        .allow_burst(NonZeroU32::MIN);
    Ok(RateLimiter::direct(quota))
}

/// The limits of one endpoint.
struct EndpointLimiter {
    per_period: Option<DefaultDirectRateLimiter>,
    per_hour: Option<DefaultDirectRateLimiter>,
    /// Set by a 45009: nobody calls this endpoint before that instant.
    blocked_until: std::sync::Mutex<Option<tokio::time::Instant>>,
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
        let mut endpoints = Vec::new();
        for endpoint in Endpoint::ALL {
            let (per_period, per_hour) = match endpoint {
                // Doc 93393: its own quota of 600 a minute.
                Endpoint::RecordList => (
                    Some(limiter(
                        limits.record_list_per_minute,
                        period,
                        "record_list_per_minute",
                    )?),
                    None,
                ),
                // A download URL is not a WeCom API; only the in-flight bound applies.
                Endpoint::WedriveBytes => (None, None),
                _ => (
                    Some(limiter(
                        limits.per_api_per_minute,
                        period,
                        "per_api_per_minute",
                    )?),
                    Some(limiter(limits.per_api_per_hour, hour, "per_api_per_hour")?),
                ),
            };
            endpoints.push((
                endpoint,
                EndpointLimiter {
                    per_period,
                    per_hour,
                    blocked_until: std::sync::Mutex::new(None),
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
                Some(t) if t > tokio::time::Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Waits until the endpoint's quotas allow one more call, and takes it.
    pub async fn acquire(&self, endpoint: Endpoint) {
        let Some(l) = self.get(endpoint) else { return };
        if let Some(p) = &l.per_period {
            p.until_ready().await;
        }
        if let Some(h) = &l.per_hour {
            h.until_ready().await;
        }
    }

    /// After a 45009: block the endpoint for `wait` (the rest of the quota's period, which the
    /// client cannot see, so a whole one).
    pub fn block_for(&self, endpoint: Endpoint, wait: Duration) {
        let Some(l) = self.get(endpoint) else { return };
        let until = tokio::time::Instant::now() + wait;
        let mut slot = l.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none_or(|t| t < until) {
            *slot = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_period_long_interval_holds_at_most_the_quota() {
        for (calls, period) in [
            (600u32, 60u64 * 1000),
            (10, 2000),
            (10_000, 60_000),
            (1, 1000),
            (3, 100),
        ] {
            let period = Duration::from_millis(period);
            let n = NonZeroU32::new(calls).unwrap();
            let s = spacing(n, period);
            // calls + 1 calls span `calls` spacings, which must exceed the period.
            assert!(s * calls > period, "{calls}/{period:?}: {s:?}");
            // … while losing little throughput (at most 2% or 100 ms of a period).
            assert!(s * calls <= period + (period / 50).max(Duration::from_millis(100)));
        }
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
    async fn a_burst_of_one_spaces_calls() {
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
        // Six calls of a 5-per-period quota cannot all fit in one period.
        assert!(started.elapsed() >= period, "{:?}", started.elapsed());
    }
}
