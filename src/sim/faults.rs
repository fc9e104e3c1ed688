//! Fault injection: which API call gets which misbehaviour. Deterministic from the seed and the
//! call's sequence number; the rate can change while the server runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::rng::Rng;
#[cfg(doc)]
use crate::wecom::errcode;

/// How long a "slow" answer waits before answering correctly.
pub(crate) const SLOW_RESPONSE: Duration = Duration::from_millis(300);

/// One injected misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// [`errcode::SYSTEM_BUSY`] (-1), "system busy".
    Busy,
    /// [`errcode::FREQUENCY_LIMITED`] (45009) although the quota is not used up.
    Quota,
    /// HTTP 502 with an HTML body, as a gateway in front of WeCom sends.
    BadGateway,
    /// The correct answer, after [`SLOW_RESPONSE`].
    Slow,
    /// Valid HTTP whose JSON body is cut in half (its `Content-Length` says so).
    Truncated,
    /// A short read: the headers announce the whole body's `Content-Length`, half of it
    /// comes, then the connection closes.
    ShortRead,
    /// A connection reset (TCP RST) before any byte of the answer.
    Reset,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::Busy,
        Fault::Quota,
        Fault::BadGateway,
        Fault::Slow,
        Fault::Truncated,
        Fault::ShortRead,
        Fault::Reset,
    ];

    /// The name used in the counters (`/sim/stats`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::Busy => "busy",
            Fault::Quota => "quota",
            Fault::BadGateway => "http_502",
            Fault::Slow => "slow",
            Fault::Truncated => "truncated",
            Fault::ShortRead => "short_read",
            Fault::Reset => "reset",
        }
    }
}

/// Decides, call by call, whether to inject a fault.
#[derive(Debug)]
pub(crate) struct FaultPlan {
    seed: u64,
    sequence: AtomicU64,
    rate_bits: AtomicU64,
    /// The kinds drawn from, each as likely (every kind unless told otherwise).
    kinds: Vec<Fault>,
}

impl FaultPlan {
    #[cfg(test)]
    pub(crate) fn new(seed: u64, rate: f64) -> Self {
        FaultPlan::of_kinds(seed, rate, &Fault::ALL)
    }

    /// A plan injecting only `kinds` (every kind if empty).
    pub(crate) fn of_kinds(seed: u64, rate: f64, kinds: &[Fault]) -> Self {
        let plan = FaultPlan {
            seed,
            sequence: AtomicU64::new(0),
            rate_bits: AtomicU64::new(0),
            kinds: if kinds.is_empty() {
                Fault::ALL.to_vec()
            } else {
                kinds.to_vec()
            },
        };
        plan.set_rate(rate);
        plan
    }

    /// Sets the share of calls (clamped to 0..=1; NaN is 0) that get a fault.
    pub(crate) fn set_rate(&self, rate: f64) {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.rate_bits.store(rate.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn rate(&self) -> f64 {
        f64::from_bits(self.rate_bits.load(Ordering::Relaxed))
    }

    /// The fault for the next call, if any. Every call takes a sequence number, so the n-th
    /// call's fate depends only on the seed, n and the rate.
    pub(crate) fn roll(&self) -> Option<Fault> {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let rate = self.rate();
        if rate <= 0.0 {
            return None;
        }
        let mut rng = Rng::derived(self.seed, 1_000_000 + n);
        if rng.unit() < rate {
            Some(self.kinds[rng.below(self.kinds.len() as u64) as usize])
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rate_never_faults_full_rate_always_does() {
        let p = FaultPlan::new(1, 0.0);
        assert!((0..1000).all(|_| p.roll().is_none()));
        p.set_rate(1.0);
        assert!((0..1000).all(|_| p.roll().is_some()));
        p.set_rate(f64::NAN);
        assert_eq!(p.rate(), 0.0);
        p.set_rate(7.0);
        assert_eq!(p.rate(), 1.0);
    }

    #[test]
    fn a_plan_of_one_kind_injects_only_that_kind() {
        let p = FaultPlan::of_kinds(3, 0.5, &[Fault::Quota]);
        let drawn: Vec<_> = (0..1000).filter_map(|_| p.roll()).collect();
        assert!(drawn.len() > 400 && drawn.iter().all(|f| *f == Fault::Quota));
    }

    #[test]
    fn sequence_is_deterministic_and_covers_every_kind() {
        let a = FaultPlan::new(5, 0.3);
        let b = FaultPlan::new(5, 0.3);
        let xs: Vec<_> = (0..2000).map(|_| a.roll()).collect();
        let ys: Vec<_> = (0..2000).map(|_| b.roll()).collect();
        assert_eq!(xs, ys);
        let hits = xs.iter().filter(|f| f.is_some()).count();
        assert!((450..750).contains(&hits), "about 30% of 2000, got {hits}");
        for kind in Fault::ALL {
            assert!(xs.contains(&Some(kind)), "{kind:?} never drawn");
        }
    }
}
