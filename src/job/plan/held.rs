//! The plan of a run after earlier ones: what the job's store already holds complete is not
//! fetched again (the run's own skip rules, `extract::windows`), so the plan does not count
//! it; what the run re-reads whatever its range (details younger than `refresh_days`, gaps to
//! retry, stat windows still open, inside the range or before it) is counted exactly, from the
//! store. The store is read by the pipeline, with the run's rules; this is the arithmetic.

use std::collections::BTreeMap;

use super::RecordWindowPlan;

/// What the job's store holds complete within a plan's range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Held {
    /// Record windows, by `(start, end)` unix seconds, paged to the end after they closed for
    /// every filter combination of the job: never listed again.
    pub(crate) record_windows: BTreeMap<(i64, i64), HeldWindow>,
    /// Stat lists (template × stats window) of the range stored and settled: not fetched
    /// again.
    pub(crate) stat_lists: u64,
    /// Stat lists the run fetches by the run's rule (`extract::needs_stat`): the range's
    /// windows and every window stored before, for every template the store knows (or the
    /// job's `template_ids`), those still open or never fetched.
    pub(crate) stat_lists_to_fetch: u64,
    /// Details the run re-reads whatever its range (`Store::details_to_refresh`): stored ones
    /// younger than `refresh_days` and gaps still to retry, but those of windows the run lists
    /// afresh (the estimate counts their journals).
    pub(crate) reread_details: u64,
}

/// One record window the store holds complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HeldWindow {
    /// Journals it listed (all filter combinations).
    pub(crate) journals: u64,
}

/// What [`Held::subtract`] took away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Subtracted {
    pub(crate) windows: usize,
    /// Planned journals of the held windows: their details are fetched again only as
    /// [`Held::reread_details`] counts them.
    pub(crate) settled_journals: u64,
}

impl Held {
    /// Makes the held windows' record-list calls 0 and says how many planned journals' details
    /// are not estimated (the re-read ones are counted from the store instead).
    pub(super) fn subtract(&self, windows: &mut [RecordWindowPlan]) -> Subtracted {
        let mut out = Subtracted::default();
        for w in windows.iter_mut() {
            if self
                .record_windows
                .contains_key(&(w.window.start, w.window.end))
            {
                w.calls = 0;
                out.windows += 1;
                out.settled_journals += w.journals;
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
            "the store holds {} of the {windows} record windows complete (not listed again){stats}; \
             re-read whatever the range, as the store says: {} detail(s) younger than \
             refresh_days or gaps to retry, {} stat list(s) still open: the calls are what is left",
            subtracted.windows, self.reread_details, self.stat_lists_to_fetch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::plan::Window;
    use chrono::NaiveDate;

    #[test]
    fn held_windows_cost_no_listing_and_their_details_are_not_estimated() {
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
                (span(&windows[0]), HeldWindow { journals: 48 }),
                (span(&windows[1]), HeldWindow { journals: 52 }),
            ]),
            stat_lists: 0,
            stat_lists_to_fetch: 0,
            reread_details: 0,
        };
        let subtracted = held.subtract(&mut windows);
        assert_eq!(
            subtracted,
            Subtracted {
                windows: 2,
                settled_journals: 100
            }
        );
        assert_eq!(
            windows.iter().map(|w| w.calls).collect::<Vec<_>>(),
            [0, 0, 2]
        );
    }
}
