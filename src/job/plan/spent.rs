//! The plan under quotas already partly spent: what the job's store says was called in the
//! last hour (by earlier runs of this job, or of another job of the same store) is still in the
//! hour's window when the run starts, so the run gets only the rest of the hour's quota until
//! those calls leave it.

use std::collections::BTreeMap;

use super::{human_duration, quota_seconds, Plan};
use crate::wecom::{Endpoint, Limits};

/// Calls of one endpoint in the last hour, from the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QuotaSpent {
    pub(crate) calls: u64,
    /// Seconds from now until the last of them leaves the hour's window.
    pub(crate) frees_in_s: u64,
}

/// Seconds `calls` calls take under `per_minute` and `per_hour` when `spent` of the hour's
/// quota is already gone: the rest of the hour's quota at the minute's pace, then a wait until
/// the spent calls leave the window, then the usual pace ([`quota_seconds`]).
pub(crate) fn quota_seconds_after(
    calls: u64,
    per_minute: u32,
    per_hour: u32,
    spent: QuotaSpent,
) -> f64 {
    let left = u64::from(per_hour).saturating_sub(spent.calls);
    if calls <= left {
        return quota_seconds(calls, per_minute, Some(per_hour));
    }
    let now = quota_seconds(left, per_minute, None);
    now.max(spent.frees_in_s as f64) + quota_seconds(calls - left, per_minute, Some(per_hour))
}

impl Plan {
    /// The plan with the ETA of every endpoint with an hourly quota (every API but the record
    /// list) accounting for what `spent` says was called in the last hour, and a note saying so.
    pub(crate) fn with_quota_spent(
        mut self,
        limits: &Limits,
        spent: &BTreeMap<Endpoint, QuotaSpent>,
    ) -> Plan {
        let mut waits = Vec::new();
        for c in self.calls.iter_mut() {
            let Some(endpoint) = Endpoint::from_name(c.endpoint) else {
                continue;
            };
            let hourly = !matches!(endpoint, Endpoint::RecordList | Endpoint::WedriveBytes);
            let Some(s) = spent.get(&endpoint).filter(|s| hourly && s.calls > 0) else {
                continue;
            };
            let seconds = quota_seconds_after(
                c.calls,
                limits.per_api_per_minute,
                limits.per_api_per_hour,
                *s,
            );
            if seconds > c.seconds {
                waits.push(format!(
                    "{} {}",
                    c.endpoint,
                    human_duration(seconds.ceil() as u64)
                ));
                c.seconds = seconds;
            }
        }
        let total: u64 = spent.values().map(|s| s.calls).sum();
        if total > 0 {
            let effect = if waits.is_empty() {
                "within what is left of the hourly quota".to_string()
            } else {
                format!(
                    "the ETA waits for them to leave the hour's window ({})",
                    waits.join(", ")
                )
            };
            self.notes.push(format!(
                "{total} calls spent in the last hour, as the store records them: {effect}"
            ));
        }
        self.eta_seconds = self.calls.iter().map(|c| c.seconds).sum::<f64>().ceil() as u64;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_calls_leave_less_of_the_hour() {
        let none = QuotaSpent::default();
        // Nothing spent: as before.
        assert_eq!(
            quota_seconds_after(1_000, 10_000, 150_000, none),
            quota_seconds(1_000, 10_000, Some(150_000))
        );
        // Spent but enough left: no wait for the hour.
        let some = QuotaSpent {
            calls: 100_000,
            frees_in_s: 1_800,
        };
        assert_eq!(quota_seconds_after(20_000, 10_000, 150_000, some), 60.0);
        // More than is left: the 50,000 left (4 minutes of waits at 10,000 a minute), the wait
        // for the spent calls to leave (30 minutes in all), then the other 10,000 at once.
        assert_eq!(quota_seconds_after(60_000, 10_000, 150_000, some), 1_800.0);
        // All spent: wait the 30 minutes, then 150,000 (14 minute waits), then an hour more for
        // the last one.
        let all = QuotaSpent {
            calls: 150_000,
            frees_in_s: 1_800,
        };
        assert_eq!(
            quota_seconds_after(150_001, 10_000, 150_000, all),
            1_800.0 + 3_600.0
        );
    }
}
