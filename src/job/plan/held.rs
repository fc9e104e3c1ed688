//! The plan of a run after earlier ones: what the job's store already holds complete is not
//! fetched again (the run's own skip rules, `extract::windows`), so the plan does not count
//! it. The store is read by the pipeline; this is the arithmetic.

use std::collections::BTreeMap;

use super::RecordWindowPlan;

/// What the job's store holds complete within a plan's range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Record windows, by `(start, end)` unix seconds, paged to the end after they closed for
    /// every filter combination of the job: never listed again.
    pub record_windows: BTreeMap<(i64, i64), HeldWindow>,
    /// Stat lists (template × stats window) stored after their window closed.
    pub stat_lists: u64,
}

/// One record window the store holds complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeldWindow {
    /// Journals it listed (all filter combinations).
    pub journals: u64,
    /// Its details were fetched after `refresh_days` had passed: not fetched again.
    pub details_settled: bool,
}

/// What [`Held::subtract`] took away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Subtracted {
    pub windows: usize,
    /// Planned journals of the held windows whose details are settled.
    pub settled_journals: u64,
}

impl Held {
    /// Makes the held windows' record-list calls 0 and says how many journals' details need
    /// no fetch.
    pub(super) fn subtract(&self, windows: &mut [RecordWindowPlan]) -> Subtracted {
        let mut out = Subtracted::default();
        for w in windows.iter_mut() {
            if let Some(held) = self.record_windows.get(&(w.window.start, w.window.end)) {
                w.calls = 0;
                out.windows += 1;
                if held.details_settled {
                    out.settled_journals += w.journals;
                }
            }
        }
        out
    }

    /// The note a plan carries about what the store holds.
    pub(super) fn note(&self, subtracted: Subtracted, windows: usize, stats: bool) -> String {
        let stats = if stats && self.stat_lists > 0 {
            format!(", and {} stat list(s)", self.stat_lists)
        } else {
            String::new()
        };
        format!(
            "the store holds {} of the {windows} record windows complete (not listed again; \
             details of their {} journal(s) fetched after refresh_days need no fetch){stats}: \
             the calls are what is left",
            subtracted.windows, subtracted.settled_journals
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::plan::Window;
    use chrono::NaiveDate;

    #[test]
    fn held_windows_cost_no_listing_and_settled_ones_no_details() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        let plan = |a, b| RecordWindowPlan {
            window: Window::new(day(a), day(b), tz),
            journals: 50,
            calls: 2,
        };
        let mut windows = vec![plan(1, 2), plan(2, 3), plan(3, 4)];
        let span = |w: &RecordWindowPlan| (w.window.start, w.window.end);
        let held = Held {
            record_windows: BTreeMap::from([
                (
                    span(&windows[0]),
                    HeldWindow {
                        journals: 48,
                        details_settled: true,
                    },
                ),
                (
                    span(&windows[1]),
                    HeldWindow {
                        journals: 52,
                        details_settled: false,
                    },
                ),
            ]),
            stat_lists: 0,
        };
        let subtracted = held.subtract(&mut windows);
        assert_eq!(
            subtracted,
            Subtracted {
                windows: 2,
                settled_journals: 50
            }
        );
        assert_eq!(
            windows.iter().map(|w| w.calls).collect::<Vec<_>>(),
            [0, 0, 2]
        );
    }
}
