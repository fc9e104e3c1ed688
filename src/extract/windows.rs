//! The pure rules of extraction: which windows a range splits into, which filter combinations a
//! job pages, how a window is halved, and whether a stored detail or window is fetched again.
//! No I/O here, so each rule is tested on its own.

use chrono::{Datelike, Days, Months, TimeZone};
use chrono_tz::Tz;

use crate::job::{plan, DateRange, Filters};
use crate::store::{DetailState, WindowRecord, WindowState};
use crate::wecom::types::RecordFilter;

/// Seconds in a day: the smallest window halving goes down to.
pub const DAY_S: i64 = 86_400;

/// A time window `[start_ts, end_ts)` in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start_ts: i64,
    pub end_ts: i64,
}

impl Window {
    /// The `endtime` to send for a record list: the window's end itself, so consecutive
    /// windows overlap by one second. WeCom's documentation does not say whether `endtime` is
    /// inclusive; with the overlap a journal on the boundary second is listed whichever it is
    /// (twice at worst, and uuids are de-duplicated). `endtime - starttime` is then the
    /// window's length, at most [`plan::MAX_RECORD_WINDOW_S`].
    pub(crate) fn record_endtime(&self) -> i64 {
        self.end_ts
    }

    /// The `endtime` to send for stats: one second before the window's end, since a cycle
    /// counts in a stats window by its `cycle_begin_time` and the next window's first cycle
    /// begins on its end.
    pub(crate) fn stats_endtime(&self) -> i64 {
        self.end_ts - 1
    }

    /// The halves of a window that answered 301066, cut on a whole day from its start; `None`
    /// once it is a day or less (nothing left to halve).
    pub(crate) fn halves(&self) -> Option<(Window, Window)> {
        let len = self.end_ts - self.start_ts;
        if len <= DAY_S {
            return None;
        }
        let days = (len / DAY_S / 2).max(1);
        let mid = self.start_ts + days * DAY_S;
        if mid >= self.end_ts {
            return None;
        }
        Some((
            Window {
                start_ts: self.start_ts,
                end_ts: mid,
            },
            Window {
                start_ts: mid,
                end_ts: self.end_ts,
            },
        ))
    }
}

impl From<plan::Window> for Window {
    fn from(w: plan::Window) -> Window {
        Window {
            start_ts: w.start,
            end_ts: w.end,
        }
    }
}

/// Record-list windows: the calendar months of the range in its timezone (the first and last
/// cut by the range), each at most a month as the API requires. The plan's windows
/// ([`plan::record_windows`]), so the plan counts the calls the extraction makes.
pub fn month_windows(range: DateRange, tz: Tz) -> Vec<Window> {
    plan::record_windows(range, tz)
        .into_iter()
        .map(Window::from)
        .collect()
}

/// Stat windows: spans of at most 365 days from the range's start (the API takes at most a
/// year), as the plan counts them ([`plan::stats_windows`]).
pub fn stats_windows(range: DateRange, tz: Tz) -> Vec<Window> {
    plan::stats_windows(range, tz)
        .into_iter()
        .map(Window::from)
        .collect()
}

/// The whole range as one window.
pub fn range_window(range: DateRange, tz: Tz) -> Window {
    Window {
        start_ts: plan::local_midnight(tz, range.start),
        end_ts: plan::local_midnight(tz, range.end),
    }
}

/// The filter combinations to page: the cartesian product of the non-empty lists of
/// `template_ids` × `creators` × `departments`, one value per key in each call (the API ANDs
/// the filters of a call); no filter at all gives one combination without filters. The plan's
/// ([`Filters::combos`]).
pub fn filter_combinations(filters: &Filters) -> Vec<Vec<RecordFilter>> {
    filters.combos()
}

/// What to do with a record window, given what the store says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAction {
    /// Final (paged after it closed), or already paged by this run: use the stored listing.
    Skip,
    /// Halved earlier (301066): page its halves instead.
    Split,
    /// Page from the first page.
    Page,
    /// Continue a partial listing from this cursor.
    Continue { cursor: u64 },
}

/// The window rule. A window paged to the end after it closed is final and never paged again;
/// one paged while open is paged again by a later run. Work this run (or the run it resumes,
/// i.e. at or after `as_of`) is never redone; `full_refresh` redoes everything older.
pub fn window_action(
    stored: Option<&WindowRecord>,
    as_of: i64,
    full_refresh: bool,
) -> WindowAction {
    let Some(w) = stored else {
        return WindowAction::Page;
    };
    let this_run = w.paged_at >= as_of;
    match w.state {
        WindowState::Split => WindowAction::Split,
        WindowState::Done if this_run => WindowAction::Skip,
        WindowState::Done if full_refresh => WindowAction::Page,
        WindowState::Done if w.is_final() => WindowAction::Skip,
        WindowState::Done => WindowAction::Page,
        // A listing cut short continues where it stopped, unless it is an old listing of a
        // window that was still open (or a full refresh), which is paged again whole.
        WindowState::Partial if this_run || (!full_refresh && w.paged_at >= w.end_ts) => {
            WindowAction::Continue {
                cursor: w.next_cursor,
            }
        }
        WindowState::Partial => WindowAction::Page,
    }
}

/// The detail rule: fetch a detail never fetched, or one fetched while "young" (less than
/// `refresh_days` days after it settles from — its `report_time`, or its stat cycle's end when
/// the stat lists name it: comments and read receipts still change) and before this run's
/// as-of time. So a killed-and-restarted run fetches no fresh detail again, and a run with
/// nothing new fetches only what `refresh_days` requires. `full_refresh` fetches every detail
/// not already fetched by this run.
pub fn needs_detail(
    stored: Option<DetailState>,
    as_of: i64,
    refresh_days: u32,
    full_refresh: bool,
) -> bool {
    let Some(s) = stored else { return true };
    if s.fetched_at >= as_of {
        return false;
    }
    if full_refresh {
        return true;
    }
    s.fetched_at
        < s.settles_from
            .max(s.report_time)
            .saturating_add(i64::from(refresh_days) * DAY_S)
}

/// How long after a cycle ends WeCom may take to summarise it (the API only says that cycles
/// not yet summarised are not returned; the simulator takes an hour).
pub(crate) const SUMMARISE_S: i64 = 3600;

/// The latest end of a stat cycle that may begin in `window` (a cycle counts in the window
/// it begins in): over the three grids WeCom's cycles follow in `tz` — days, Monday weeks,
/// calendar months — the end of the last cycle of each that begins in the window. Every
/// template's cycles are on one of them, so no cycle of the window ends later.
pub fn latest_cycle_end(window: Window, tz: Tz) -> i64 {
    let date = |ts: i64| {
        tz.timestamp_opt(ts, 0)
            .earliest()
            .map(|t| t.date_naive())
            .unwrap_or_default()
    };
    let (first, end) = (date(window.start_ts), date(window.end_ts));
    // The last day that begins in the window (its end is exclusive).
    let Some(last) = end.pred_opt().filter(|d| *d >= first) else {
        return window.end_ts;
    };
    let day_end = last.succ_opt().unwrap_or(last);
    let monday = last
        .checked_sub_days(Days::new(u64::from(last.weekday().num_days_from_monday())))
        .filter(|m| *m >= first);
    let week_end = monday.and_then(|m| m.checked_add_days(Days::new(7)));
    let month_start = last.with_day(1).filter(|d| *d >= first);
    let month_end = month_start.and_then(|d| d.checked_add_months(Months::new(1)));
    let latest = [Some(day_end), week_end, month_end]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(day_end);
    plan::local_midnight(tz, latest)
}

/// The stat rule: a template's window stays open, and is fetched again, until every cycle it
/// may hold is summarised and `refresh_days` past its end (`latest_end`, see
/// [`latest_cycle_end`]): late reports move users from `unreport_list` to `report_list` until
/// then. A window fetched by this run (at or after `as_of`) is not fetched again, and
/// `full_refresh` refetches everything older.
pub fn needs_stat(
    fetched_at: Option<i64>,
    latest_end: i64,
    as_of: i64,
    refresh_days: u32,
    full_refresh: bool,
) -> bool {
    let Some(fetched_at) = fetched_at else {
        return true;
    };
    if fetched_at >= as_of {
        return false;
    }
    let settled = latest_end
        .saturating_add(SUMMARISE_S)
        .saturating_add(i64::from(refresh_days) * DAY_S);
    full_refresh || fetched_at < settled
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_calendar_months_in_the_job_timezone() {
        let tz = chrono_tz::Asia::Shanghai;
        let w = month_windows(
            DateRange {
                start: d("2026-09-15"),
                end: d("2026-12-01"),
            },
            tz,
        );
        assert_eq!(w.len(), 3);
        // 2026-09-15 00:00 +08:00 = 2026-09-14 16:00 UTC.
        assert_eq!(w[0].start_ts, 1_788_220_800 + 14 * DAY_S - 8 * 3600);
        assert_eq!(w[0].end_ts, w[1].start_ts);
        assert_eq!(w[1].end_ts - w[1].start_ts, 31 * DAY_S, "October");
        assert_eq!(w[2].end_ts - w[2].start_ts, 30 * DAY_S, "November");
        assert!(w.iter().all(|w| w.end_ts - w.start_ts <= 31 * DAY_S));
        assert!(month_windows(
            DateRange {
                start: d("2026-10-01"),
                end: d("2026-10-01")
            },
            tz
        )
        .is_empty());
    }

    #[test]
    fn months_follow_dst_and_stats_windows_are_at_most_365_days() {
        let tz = chrono_tz::Europe::Berlin;
        let w = month_windows(
            DateRange {
                start: d("2026-03-01"),
                end: d("2026-04-01"),
            },
            tz,
        );
        // March loses an hour to DST.
        assert_eq!(w[0].end_ts - w[0].start_ts, 31 * DAY_S - 3600);
        // October gains one, which is more than the API's 31 days: cut on its last day.
        let october = month_windows(
            DateRange {
                start: d("2026-10-01"),
                end: d("2026-11-01"),
            },
            tz,
        );
        assert_eq!(october.len(), 2, "{october:?}");
        assert_eq!(october[0].end_ts - october[0].start_ts, 30 * DAY_S + 3600);
        assert_eq!(october[1].start_ts, october[0].end_ts);
        assert_eq!(october[1].end_ts, plan::local_midnight(tz, d("2026-11-01")));
        assert_eq!(october[1].end_ts - october[1].start_ts, DAY_S);
        let y = stats_windows(
            DateRange {
                start: d("2025-06-01"),
                end: d("2027-02-01"),
            },
            tz,
        );
        assert_eq!(y.len(), 2);
        assert_eq!(y[0].start_ts, plan::local_midnight(tz, d("2025-06-01")));
        assert_eq!(y[1].start_ts, plan::local_midnight(tz, d("2026-06-01")));
        assert_eq!(y[1].end_ts, plan::local_midnight(tz, d("2027-02-01")));
    }

    #[test]
    fn halving_goes_down_to_a_day_on_day_boundaries() {
        let w = Window {
            start_ts: 0,
            end_ts: 31 * DAY_S,
        };
        let (a, b) = w.halves().unwrap();
        assert_eq!((a.end_ts, b.start_ts), (15 * DAY_S, 15 * DAY_S));
        let mut smallest = w;
        while let Some((left, _)) = smallest.halves() {
            smallest = left;
        }
        assert_eq!(smallest.end_ts - smallest.start_ts, DAY_S);
        assert_eq!(
            Window {
                start_ts: 0,
                end_ts: DAY_S
            }
            .halves(),
            None
        );
        let (a, b) = Window {
            start_ts: 0,
            end_ts: DAY_S + 3600,
        }
        .halves()
        .unwrap();
        assert_eq!((a.end_ts, b.end_ts), (DAY_S, DAY_S + 3600));
        assert_eq!(w.record_endtime(), 31 * DAY_S);
        assert_eq!(w.stats_endtime(), 31 * DAY_S - 1);
    }

    #[test]
    fn filter_combinations_are_the_product_of_non_empty_lists() {
        assert_eq!(
            filter_combinations(&Filters::default()),
            vec![Vec::<RecordFilter>::new()]
        );
        let f = Filters {
            template_ids: vec!["t1".into(), "t2".into()],
            creators: vec![],
            departments: vec!["1".into(), "2".into(), "3".into()],
        };
        let combos = filter_combinations(&f);
        assert_eq!(combos.len(), 6);
        for c in &combos {
            assert_eq!(c.len(), 2);
            assert_eq!(c[0].key, "template_id");
            assert_eq!(c[1].key, "department");
        }
        let distinct: std::collections::HashSet<_> = combos.iter().collect();
        assert_eq!(distinct.len(), 6);
    }

    fn window(state: WindowState, paged_at: i64) -> WindowRecord {
        WindowRecord {
            filter_key: "[]".into(),
            start_ts: 100,
            end_ts: 200,
            state,
            pages: 1,
            journals: 3,
            next_cursor: 7,
            paged_at,
        }
    }

    #[test]
    fn window_rule() {
        use WindowAction::*;
        let as_of = 1000;
        assert_eq!(window_action(None, as_of, false), Page);
        // Paged after it closed: final.
        assert_eq!(
            window_action(Some(&window(WindowState::Done, 300)), as_of, false),
            Skip
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Done, 300)), as_of, true),
            Page
        );
        // Paged while open: again.
        assert_eq!(
            window_action(Some(&window(WindowState::Done, 150)), as_of, false),
            Page
        );
        // Paged by this run (or the run it resumes): never again, even in a full refresh.
        assert_eq!(
            window_action(Some(&window(WindowState::Done, 1000)), as_of, true),
            Skip
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Partial, 1001)), as_of, true),
            Continue { cursor: 7 }
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Partial, 300)), as_of, false),
            Continue { cursor: 7 }
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Partial, 300)), as_of, true),
            Page
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Partial, 150)), as_of, false),
            Page
        );
        assert_eq!(
            window_action(Some(&window(WindowState::Split, 150)), as_of, true),
            Split
        );
    }

    #[test]
    fn detail_rule() {
        let as_of = 100 * DAY_S;
        let report = 90 * DAY_S;
        let state = |fetched_at| {
            Some(DetailState {
                report_time: report,
                fetched_at,
                settles_from: report,
            })
        };
        assert!(needs_detail(None, as_of, 7, false));
        // Fetched 2 days after the report, refresh 7 days, before this run: young, fetch.
        assert!(needs_detail(state(report + 2 * DAY_S), as_of, 7, false));
        // Fetched 8 days after: it was old already, nothing changes any more.
        assert!(!needs_detail(state(report + 8 * DAY_S), as_of, 7, false));
        // Fetched by this run (or the run it resumes): not again.
        assert!(!needs_detail(state(as_of), as_of, 7, false));
        assert!(!needs_detail(state(as_of + 5), as_of, 7, true));
        // refresh_days = 0: never refetched.
        assert!(!needs_detail(state(report + 1), as_of, 0, false));
        assert!(needs_detail(state(report + 8 * DAY_S), as_of, 7, true));
        // A weekly report of a cycle ending 5 days after it: young until 7 days after that.
        let weekly = |fetched_at| {
            Some(DetailState {
                report_time: report,
                fetched_at,
                settles_from: report + 5 * DAY_S,
            })
        };
        assert!(needs_detail(weekly(report + 8 * DAY_S), as_of, 7, false));
        assert!(!needs_detail(weekly(report + 12 * DAY_S), as_of, 7, false));
    }

    #[test]
    fn stat_rule() {
        let end = 100;
        let settled = end + SUMMARISE_S + 7 * DAY_S;
        assert!(needs_stat(None, end, settled * 2, 7, false));
        assert!(
            !needs_stat(Some(settled), end, settled * 2, 7, false),
            "fetched once every cycle it may hold is summarised and refresh_days past its end"
        );
        assert!(
            needs_stat(Some(settled - 1), end, settled * 2, 7, false),
            "a late report may still come"
        );
        assert!(
            !needs_stat(Some(50), end, 40, 7, false),
            "fetched by this run"
        );
        assert!(needs_stat(Some(settled), end, settled * 2, 7, true));
        assert!(!needs_stat(Some(1000), end, 1000, 7, true));
    }

    #[test]
    fn the_latest_cycle_of_a_window_ends_on_the_coarsest_grid_that_begins_in_it() {
        let tz = chrono_tz::Asia::Shanghai;
        let w = |a: &str, b: &str| Window {
            start_ts: plan::local_midnight(tz, d(a)),
            end_ts: plan::local_midnight(tz, d(b)),
        };
        let at = |s: &str| plan::local_midnight(tz, d(s));
        // A Tuesday: only its day begins in it.
        assert_eq!(
            latest_cycle_end(w("2026-10-13", "2026-10-14"), tz),
            at("2026-10-14")
        );
        // A Monday: its week.
        assert_eq!(
            latest_cycle_end(w("2026-10-26", "2026-10-27"), tz),
            at("2026-11-02")
        );
        // The 1st: its month.
        assert_eq!(
            latest_cycle_end(w("2026-10-01", "2026-10-02"), tz),
            at("2026-11-01")
        );
        // October whole: its last week straddles the month's end.
        assert_eq!(
            latest_cycle_end(w("2026-10-01", "2026-11-01"), tz),
            at("2026-11-02")
        );
    }
}
