//! What to do after a failed attempt: the classification of WeCom's errcodes and transport
//! failures into retry verdicts, and the backoff delays. Pure functions, no I/O, so the policy
//! is tested on its own; the call loop in `client.rs` applies it and keeps the budgets.

use std::time::Duration;

use crate::wecom::errcode;
use crate::wecom::error::WecomError;

/// At most this many retries of errcode -1 (system busy) per call: past that, WeCom is not
/// busy but broken, and the caller should hear about it.
pub(crate) const MAX_BUSY_RETRIES: u32 = 3;

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Report the error as it is (bad parameters, no permission, bad secret …).
    GiveUp,
    /// Retry after an exponential backoff with jitter. `busy` marks errcode -1, which has its
    /// own smaller budget ([`MAX_BUSY_RETRIES`]).
    Backoff { busy: bool },
    /// 45009: a quota is spent; wait as the rate limiter says, then retry.
    QuotaExceeded,
    /// 40014 / 42001: the cached token is no good; refresh it (once per call) and retry.
    RefreshToken,
}

/// What the call loop does next, once the budget admits a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Drop the cached token, get a new one, and call again at once.
    RefreshToken,
    /// Wait `backoff_delay(.., retry, ..)` and call again.
    Backoff { retry: u32 },
    /// Wait for the quota as the rate limiter says (not a retry of the budget: quota waits
    /// have a time budget of their own) and call again.
    QuotaWait,
}

/// The retries one call may still make: `max_retries` in all, errcode -1 at most
/// [`MAX_BUSY_RETRIES`] of them, and one token refresh (which is not counted as a retry, since
/// it is not the server's failure). A 45009 is always admitted and never counted: its waits
/// have a time budget instead (`max_quota_wait`, kept by the call loop).
#[derive(Debug, Clone)]
pub(crate) struct RetryBudget {
    max_retries: u32,
    retries: u32,
    busy_retries: u32,
    token_refreshed: bool,
}

impl RetryBudget {
    pub(crate) fn new(max_retries: u32) -> Self {
        RetryBudget {
            max_retries,
            retries: 0,
            busy_retries: 0,
            token_refreshed: false,
        }
    }

    /// Retries taken so far (token refreshes aside).
    pub(crate) fn retries(&self) -> u32 {
        self.retries
    }

    /// The next step after a failure with `verdict`, or `None` when the call must give up.
    pub(crate) fn admit(&mut self, verdict: Verdict) -> Option<Step> {
        match verdict {
            Verdict::GiveUp => None,
            Verdict::RefreshToken => {
                if self.token_refreshed {
                    return None;
                }
                self.token_refreshed = true;
                Some(Step::RefreshToken)
            }
            Verdict::QuotaExceeded => Some(Step::QuotaWait),
            Verdict::Backoff { busy } => self.take(busy).map(|retry| Step::Backoff { retry }),
        }
    }

    /// Takes one retry (returning its index), or `None` when the budget is spent.
    fn take(&mut self, busy: bool) -> Option<u32> {
        if self.retries >= self.max_retries || (busy && self.busy_retries >= MAX_BUSY_RETRIES) {
            return None;
        }
        if busy {
            self.busy_retries += 1;
        }
        self.retries += 1;
        Some(self.retries - 1)
    }
}

/// The verdict for an errcode WeCom answered with.
pub(crate) fn classify_errcode(code: i64) -> Verdict {
    match code {
        errcode::SYSTEM_BUSY => Verdict::Backoff { busy: true },
        errcode::FREQUENCY_LIMITED => Verdict::QuotaExceeded,
        errcode::CONCURRENCY_LIMITED | errcode::JOURNAL_INTERNAL_ERROR => {
            Verdict::Backoff { busy: false }
        }
        errcode::INVALID_ACCESS_TOKEN | errcode::ACCESS_TOKEN_EXPIRED => Verdict::RefreshToken,
        // No permission, bad parameters, a bad uuid, an API not allowed, an untrusted IP, a bad
        // secret, and everything not known to be transient.
        _ => Verdict::GiveUp,
    }
}

/// The verdict for any error of one attempt.
pub(crate) fn classify(err: &WecomError) -> Verdict {
    match err {
        WecomError::Api { errcode, .. } => classify_errcode(*errcode),
        WecomError::Transport {
            retryable: true, ..
        } => Verdict::Backoff { busy: false },
        WecomError::Transport {
            retryable: false, ..
        }
        | WecomError::Decode { .. }
        | WecomError::Config(_)
        | WecomError::Io { .. }
        | WecomError::Stopped { .. } => Verdict::GiveUp,
    }
}

/// Whether an HTTP status is worth retrying: server errors, and 429 (a proxy's rate limit).
pub(crate) fn status_is_retryable(status: u16) -> bool {
    status >= 500 || status == 429
}

/// The delay before retry number `retry` (0 for the first retry): `base · 2^retry`, capped at
/// `max`, with "equal jitter" — half of it fixed, half uniformly random (`unit` in `[0, 1)`) —
/// so that many callers failing together do not come back together, yet none retries at once.
pub(crate) fn backoff_delay(base: Duration, max: Duration, retry: u32, unit: f64) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(20));
    let exp = base.saturating_mul(factor).min(max);
    let half = exp / 2;
    half + half.mul_f64(unit.clamp(0.0, 1.0))
}

/// A uniformly distributed number in `[0, 1)` for jitter. Not cryptographic: std's randomly
/// keyed hasher over a counter is plenty to spread retries, without another dependency.
pub(crate) fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_are_classified_as_the_api_documents() {
        assert_eq!(classify_errcode(-1), Verdict::Backoff { busy: true });
        assert_eq!(classify_errcode(45009), Verdict::QuotaExceeded);
        assert_eq!(classify_errcode(45033), Verdict::Backoff { busy: false });
        assert_eq!(classify_errcode(301067), Verdict::Backoff { busy: false });
        assert_eq!(classify_errcode(40014), Verdict::RefreshToken);
        assert_eq!(classify_errcode(42001), Verdict::RefreshToken);
        for never in [301065, 301066, 301084, 48002, 60020, 40001, 60011, 12345] {
            assert_eq!(classify_errcode(never), Verdict::GiveUp, "errcode {never}");
        }
    }

    #[test]
    fn busy_is_retried_at_most_three_times_within_the_whole_budget() {
        let mut b = RetryBudget::new(6);
        let busy = Verdict::Backoff { busy: true };
        assert_eq!(b.admit(busy), Some(Step::Backoff { retry: 0 }));
        assert_eq!(
            b.admit(Verdict::Backoff { busy: false }),
            Some(Step::Backoff { retry: 1 })
        );
        assert_eq!(b.admit(busy), Some(Step::Backoff { retry: 2 }));
        assert_eq!(b.admit(busy), Some(Step::Backoff { retry: 3 }));
        assert_eq!(b.admit(busy), None, "a fourth -1 is not retried");
        // Other transient failures still have budget left: 6 in all.
        assert_eq!(
            b.admit(Verdict::Backoff { busy: false }),
            Some(Step::Backoff { retry: 4 })
        );
        assert_eq!(
            b.admit(Verdict::Backoff { busy: false }),
            Some(Step::Backoff { retry: 5 })
        );
        assert_eq!(b.admit(Verdict::Backoff { busy: false }), None);
        assert_eq!(b.retries(), 6);
    }

    #[test]
    fn a_45009_is_always_admitted_and_spends_no_retry() {
        let mut b = RetryBudget::new(1);
        for _ in 0..100 {
            assert_eq!(b.admit(Verdict::QuotaExceeded), Some(Step::QuotaWait));
        }
        assert_eq!(b.retries(), 0);
        assert_eq!(
            b.admit(Verdict::Backoff { busy: false }),
            Some(Step::Backoff { retry: 0 })
        );
        assert_eq!(b.admit(Verdict::Backoff { busy: false }), None);
        // Even with the budget spent, a 45009 waits rather than fails.
        assert_eq!(b.admit(Verdict::QuotaExceeded), Some(Step::QuotaWait));
        let mut none = RetryBudget::new(0);
        assert_eq!(none.admit(Verdict::QuotaExceeded), Some(Step::QuotaWait));
    }

    #[test]
    fn the_token_is_refreshed_once_and_that_costs_no_retry() {
        let mut b = RetryBudget::new(1);
        assert_eq!(b.admit(Verdict::RefreshToken), Some(Step::RefreshToken));
        assert_eq!(b.retries(), 0);
        assert_eq!(
            b.admit(Verdict::RefreshToken),
            None,
            "a second bad token is reported"
        );
        assert_eq!(
            b.admit(Verdict::Backoff { busy: false }),
            Some(Step::Backoff { retry: 0 })
        );
        assert_eq!(b.admit(Verdict::GiveUp), None);
        let mut none = RetryBudget::new(0);
        assert_eq!(none.admit(Verdict::Backoff { busy: false }), None);
        assert_eq!(none.admit(Verdict::GiveUp), None);
    }

    #[test]
    fn transport_failures_follow_their_retryable_flag() {
        let t = |retryable| WecomError::Transport {
            endpoint: "x",
            message: "m".into(),
            retryable,
        };
        assert_eq!(classify(&t(true)), Verdict::Backoff { busy: false });
        assert_eq!(classify(&t(false)), Verdict::GiveUp);
        let d = WecomError::Decode {
            endpoint: "x",
            message: "m".into(),
        };
        assert_eq!(classify(&d), Verdict::GiveUp);
        let a = WecomError::Api {
            endpoint: "x",
            errcode: 301065,
            errmsg: String::new(),
        };
        assert_eq!(classify(&a), Verdict::GiveUp);
        assert!(status_is_retryable(502) && status_is_retryable(500) && status_is_retryable(429));
        assert!(!status_is_retryable(404) && !status_is_retryable(400));
    }

    #[test]
    fn backoff_doubles_within_its_jitter_band_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for retry in 0..10 {
            let exp = (base * 2u32.pow(retry)).min(max);
            let lo = backoff_delay(base, max, retry, 0.0);
            let hi = backoff_delay(base, max, retry, 0.999_999);
            assert_eq!(lo, exp / 2, "retry {retry}");
            assert!(
                hi <= exp && hi > exp.mul_f64(0.99),
                "retry {retry}: {hi:?} vs {exp:?}"
            );
        }
        // Absurd retry counts neither overflow nor exceed the cap.
        assert_eq!(backoff_delay(base, max, u32::MAX, 0.0), max / 2);
        assert!(backoff_delay(base, max, 64, 1.0) <= max);
    }

    #[test]
    fn jitter_is_spread_over_the_unit_interval() {
        let xs: Vec<f64> = (0..2000).map(|_| jitter_unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let low = xs.iter().filter(|x| **x < 0.5).count();
        // A fair coin over 2000 draws stays far inside these bounds.
        assert!((800..1200).contains(&low), "{low} of 2000 below one half");
    }
}
