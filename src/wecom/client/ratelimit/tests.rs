//! The limiter on a simulated clock (instants passed in, no sleep) and the 45009 rules.

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
                    l.release(a, 0, 1000);
                }
            }
        }
    }
    out
}

fn endpoint(windows: Vec<SlidingWindow>) -> EndpointLimiter {
    EndpointLimiter::new(windows, true)
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
    l.release(answer, 0, 1000);
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
        l.release(now, 0, 1000);
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
            l.release(now, 0, 1000);
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
    for _ in 0..5 {
        drop(rl.acquire(Endpoint::RecordList).await);
    }
    // Six calls of a 5-per-period quota cannot all fit in one period: the sixth is not ready
    // when first polled (a zero timeout polls once), and is granted once the window moves on.
    let sixth = tokio::time::timeout(Duration::ZERO, rl.acquire(Endpoint::RecordList)).await;
    assert!(
        sixth.is_err(),
        "the sixth call was granted inside a full window"
    );
    drop(rl.acquire(Endpoint::RecordList).await);
}

// ---------------------------------------------------------------------------------------------
// 45009 and the quotas across processes

use std::sync::atomic::{AtomicU64, Ordering};

/// A wall clock a test moves by hand (milliseconds since the epoch).
fn wall_at(ms: &Arc<AtomicU64>) -> WallClock {
    let ms = ms.clone();
    WallClock::from_fn(move || Duration::from_millis(ms.load(Ordering::SeqCst)))
}

fn limits(per_minute: u32, max_in_flight: usize) -> Limits {
    Limits {
        per_api_per_minute: per_minute,
        record_list_per_minute: per_minute,
        max_in_flight,
        ..Limits::default()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_stray_45009_waits_alone_for_the_minute_to_roll_over() {
    // 10:00:10.000 on the wall clock: the minute rolls over in 50 s.
    let wall = Arc::new(AtomicU64::new(36_010_000));
    let rl = RateLimits::with_clock(&limits(10_000, 8), MINUTE, wall_at(&wall)).unwrap();
    let now = Instant::now();
    let wait = rl.quota_exceeded(Endpoint::RecordDetail, now);
    assert_eq!(
        wait,
        QuotaWait::MinuteRollover(now + Duration::from_secs(50) + skew(MINUTE))
    );
    // The endpoint is not blocked: the other calls go on.
    assert_eq!(rl.blocked_until(Endpoint::RecordDetail, now), None);
    // An answer other than 45009 clears the count: stray 45009s never add up to a block.
    for _ in 0..100 {
        rl.admitted(Endpoint::RecordDetail);
        assert!(matches!(
            rl.quota_exceeded(Endpoint::RecordDetail, now),
            QuotaWait::MinuteRollover(_)
        ));
    }
    assert_eq!(rl.blocked_until(Endpoint::RecordDetail, now), None);
}

#[test]
fn refusals_in_a_row_block_the_minute_then_the_hour() {
    let wall = Arc::new(AtomicU64::new(36_010_000));
    let rl = RateLimits::with_clock(&limits(10_000, 4), MINUTE, wall_at(&wall)).unwrap();
    let now = Instant::now();
    for _ in 0..3 {
        assert!(matches!(
            rl.quota_exceeded(Endpoint::RecordDetail, now),
            QuotaWait::MinuteRollover(_)
        ));
    }
    // The fourth in a row (max_in_flight): the minute's quota is spent, the endpoint waits.
    let minute_end = now + Duration::from_secs(50) + skew(MINUTE);
    assert_eq!(
        rl.quota_exceeded(Endpoint::RecordDetail, now),
        QuotaWait::Blocked {
            until: minute_end,
            hour: false
        }
    );
    assert_eq!(
        rl.blocked_until(Endpoint::RecordDetail, now),
        Some(minute_end)
    );
    // A call sent before the block and refused meanwhile waits for the same block.
    let straggler = now + Duration::from_secs(1);
    wall.fetch_add(1_000, Ordering::SeqCst);
    assert_eq!(
        rl.quota_exceeded(Endpoint::RecordDetail, straggler),
        QuotaWait::Blocked {
            until: minute_end,
            hour: false
        }
    );
    // After the minute rolled over, refused again with no other answer between: the hour's
    // quota, until 11:00.
    let after = minute_end + Duration::from_millis(1);
    wall.store(36_061_201 + 1, Ordering::SeqCst);
    let wait = rl.quota_exceeded(Endpoint::RecordDetail, after);
    let hour_end = after + Duration::from_millis(3_600_000 - 61_202) + skew(MINUTE * 60);
    assert_eq!(
        wait,
        QuotaWait::Blocked {
            until: hour_end,
            hour: true
        }
    );
    // Other endpoints are not touched.
    assert_eq!(rl.blocked_until(Endpoint::StatList, after), None);
}

#[test]
fn the_record_list_has_no_hourly_quota_to_block_for() {
    let wall = Arc::new(AtomicU64::new(36_010_000));
    let rl = RateLimits::with_clock(&limits(600, 3), MINUTE, wall_at(&wall)).unwrap();
    let now = Instant::now();
    for _ in 0..3 {
        rl.quota_exceeded(Endpoint::RecordList, now);
    }
    let later = now + MINUTE;
    wall.fetch_add(60_000, Ordering::SeqCst);
    assert!(matches!(
        rl.quota_exceeded(Endpoint::RecordList, later),
        QuotaWait::Blocked { hour: false, .. }
    ));
}

#[test]
fn a_45009_our_own_full_window_explains_waits_for_a_slot() {
    let rl = RateLimits::new(&limits(3, 8), MINUTE).unwrap();
    let l = rl.get(Endpoint::RecordDetail).unwrap();
    let now = Instant::now();
    for _ in 0..3 {
        l.try_take(now).unwrap();
        l.release(now, 0, 1000);
    }
    assert_eq!(
        rl.quota_exceeded(Endpoint::RecordDetail, now),
        QuotaWait::OwnWindow
    );
    assert_eq!(QuotaWait::OwnWindow.until(now), now);
}

#[test]
fn what_one_process_spent_fills_the_next_ones_windows() {
    let wall = Arc::new(AtomicU64::new(36_010_000));
    let first = RateLimits::with_clock(&limits(5, 8), MINUTE, wall_at(&wall)).unwrap();
    let l = first.get(Endpoint::RecordDetail).unwrap();
    let now = Instant::now();
    for _ in 0..4 {
        l.try_take(now).unwrap();
        l.release(now, first.wall_ms(), first.ledger_ms());
    }
    // One more on the wire when the process ends: counted as answered now.
    l.try_take(now).unwrap();
    let usage = first.usage();
    assert_eq!(usage.calls_since(Endpoint::RecordDetail, 0), 5);
    assert_eq!(usage.calls_since(Endpoint::StatList, 0), 0);
    assert!(usage.buckets.iter().all(|b| b.length_ms == 5_000));

    // The next process, 20 s later: the minute still holds the five calls, so it waits until
    // they leave it (the bucket's end, 36 015 000, plus the window).
    wall.fetch_add(20_000, Ordering::SeqCst);
    let next = RateLimits::with_clock(&limits(5, 8), MINUTE, wall_at(&wall)).unwrap();
    next.preload(&usage);
    let n = next.get(Endpoint::RecordDetail).unwrap();
    let now = Instant::now();
    let at = n
        .try_take(now)
        .expect_err("the minute is spent")
        .expect("an instant");
    let left = at - now;
    let window = MINUTE + margin(MINUTE);
    let expected = window - Duration::from_secs(15);
    assert!(left >= expected, "{left:?} < {expected:?}");
    assert!(
        left <= expected + window / BUCKETS_PER_WINDOW * 2,
        "{left:?}"
    );
    // Its ledger holds its own calls only: what it loaded is not written again as its own.
    assert!(next.usage().buckets.is_empty());

    // An hour later, the same usage is too old to count.
    wall.fetch_add(3_700_000, Ordering::SeqCst);
    let later = RateLimits::with_clock(&limits(5, 8), MINUTE, wall_at(&wall)).unwrap();
    later.preload(&usage);
    assert!(later
        .get(Endpoint::RecordDetail)
        .unwrap()
        .try_take(Instant::now())
        .is_ok());
}

#[test]
fn usage_of_several_processes_adds_up() {
    let b = |start_ms, calls| UsageBucket {
        endpoint: Endpoint::RecordDetail,
        start_ms,
        length_ms: 5_000,
        calls,
    };
    let mut a = QuotaUsage {
        buckets: vec![b(0, 2), b(5_000, 1)],
    };
    a.merge(&QuotaUsage {
        buckets: vec![b(5_000, 4), b(10_000, 1)],
    });
    assert_eq!(a.buckets, vec![b(0, 2), b(5_000, 5), b(10_000, 1)]);
    assert_eq!(a.calls_since(Endpoint::RecordDetail, 5_000), 6);
    a.forget_before(10_000);
    assert_eq!(a.buckets, vec![b(10_000, 1)]);
}
