//! The stat cycles of the synthetic organisation and what happens in them: every day, every
//! Monday week whose Friday deadline lies inside the generated days (so the last week of a
//! month may end in the next) and every whole calendar month is a cycle of its template; each
//! user expected to report it does (on time or late, now and then twice) or does not, which
//! gives the cycle's journals. The free-form 汇报 has no cycle: its journals come now and then.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::super::{SimCycle, SimTemplate, SUMMARISE_DELAY_S};
use super::journals::{Drawn, Generator};
use super::people::subtree;
use super::{days, local_ts};
use crate::wecom::types::*;

/// One cycle of a cycle template, in seconds since the epoch.
pub(super) struct Cycle {
    pub(super) begin: i64,
    pub(super) end: i64,
    pub(super) stat_end: i64,
    /// Earliest on-time report.
    pub(super) window_open: i64,
    /// The local day of the cycle's first day (for Date controls).
    pub(super) first_day: NaiveDate,
}

/// The cycles of the daily, weekly and monthly templates inside `[start, end)`.
pub(super) struct Cycles {
    day: Vec<Cycle>,
    week: Vec<Cycle>,
    month: Vec<Cycle>,
}

impl Cycles {
    pub(super) fn of(tz: Tz, start: NaiveDate, end: NaiveDate) -> Cycles {
        let day = days(start, end)
            .map(|d| Cycle {
                begin: local_ts(&tz, d, 0, 0),
                end: local_ts(&tz, d.succ_opt().unwrap_or(d), 0, 0),
                stat_end: local_ts(&tz, d, 23, 0),
                window_open: local_ts(&tz, d, 9, 0),
                first_day: d,
            })
            .collect();
        // A week is in the world when its Friday deadline is: the last one may end after it.
        let week = days(start, end)
            .filter(|d| d.weekday() == Weekday::Mon)
            .filter(|d| d.checked_add_days(Days::new(5)).is_some_and(|e| e <= end))
            .map(|m| Cycle {
                begin: local_ts(&tz, m, 0, 0),
                end: local_ts(&tz, m + Days::new(7), 0, 0),
                stat_end: local_ts(&tz, m + Days::new(4), 20, 0),
                window_open: local_ts(&tz, m + Days::new(3), 9, 0),
                first_day: m,
            })
            .collect();
        let month = days(start, end)
            .filter(|d| d.day() == 1)
            .filter_map(|first| {
                let next = first.checked_add_months(Months::new(1))?;
                (next <= end).then(|| {
                    let last = next.pred_opt().unwrap_or(first);
                    Cycle {
                        begin: local_ts(&tz, first, 0, 0),
                        end: local_ts(&tz, next, 0, 0),
                        stat_end: local_ts(&tz, last, 20, 0),
                        window_open: local_ts(&tz, last - Days::new(2), 9, 0),
                        first_day: first,
                    }
                })
            })
            .collect();
        Cycles { day, week, month }
    }
}

/// Who must report each template: everyone (the boss is white-listed from the daily), for
/// the monthly the department leaders plus the whole 销售部 subtree, for the 安全巡检 the
/// 研发中心 subtree.
pub(super) struct Expected {
    everyone: Vec<usize>,
    daily: Vec<usize>,
    monthly: Vec<usize>,
    inspection: Vec<usize>,
    /// The department leaders, in user order.
    leaders: Vec<usize>,
}

impl Expected {
    /// `leader`: department id → its leader (an index into `users`).
    pub(super) fn of(users: &[DirectoryUser], leader: &HashMap<u64, usize>) -> Expected {
        let everyone: Vec<usize> = (0..users.len()).collect();
        let daily: Vec<usize> = everyone.iter().copied().filter(|&i| i != 0).collect();
        let sales_tree = subtree(3);
        let mut leaders: Vec<usize> = leader.values().copied().collect();
        leaders.sort_unstable();
        let monthly: Vec<usize> = everyone
            .iter()
            .copied()
            .filter(|&i| {
                leaders.contains(&i) || users[i].department.iter().any(|d| sales_tree.contains(d))
            })
            .collect();
        let rd_tree = subtree(2);
        let inspection: Vec<usize> = everyone
            .iter()
            .copied()
            .filter(|&i| users[i].department.iter().any(|d| rd_tree.contains(d)))
            .collect();
        Expected {
            everyone,
            daily,
            monthly,
            inspection,
            leaders,
        }
    }
}

/// One cycle template's cycles and who must report them.
pub(super) struct CyclePlan<'a> {
    /// Index into the templates.
    template: usize,
    cycles: &'a [Cycle],
    expected: &'a [usize],
    report_range: StatRange,
    white_range: StatRange,
    /// Nobody reports it in even ISO weeks (so a range may hold its stats and no journal).
    quiet_in_even_weeks: bool,
}

/// The plans of the daily, weekly, monthly and 安全巡检 templates, in that order.
pub(super) fn plans<'a>(
    cycles: &'a Cycles,
    expected: &'a Expected,
    users: &[DirectoryUser],
) -> [CyclePlan<'a>; 4] {
    let everyone_party = StatRange {
        party_list: vec![PartyRef {
            open_partyid: "1".into(),
        }],
        ..Default::default()
    };
    [
        CyclePlan {
            template: 0,
            cycles: &cycles.day,
            expected: &expected.daily,
            report_range: everyone_party.clone(),
            white_range: StatRange {
                user_list: users
                    .first()
                    .map(|u| UserRef {
                        userid: u.userid.clone(),
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
            quiet_in_even_weeks: false,
        },
        CyclePlan {
            template: 1,
            cycles: &cycles.week,
            expected: &expected.everyone,
            report_range: everyone_party,
            white_range: StatRange::default(),
            quiet_in_even_weeks: false,
        },
        CyclePlan {
            template: 2,
            cycles: &cycles.month,
            expected: &expected.monthly,
            report_range: StatRange {
                user_list: expected
                    .leaders
                    .iter()
                    .map(|&i| UserRef {
                        userid: users[i].userid.clone(),
                    })
                    .collect(),
                party_list: vec![PartyRef {
                    open_partyid: "3".into(),
                }],
                ..Default::default()
            },
            white_range: StatRange::default(),
            quiet_in_even_weeks: false,
        },
        CyclePlan {
            template: 4,
            cycles: &cycles.week,
            expected: &expected.inspection,
            report_range: StatRange {
                party_list: vec![PartyRef {
                    open_partyid: "2".into(),
                }],
                ..Default::default()
            },
            white_range: StatRange::default(),
            quiet_in_even_weeks: true,
        },
    ]
}

impl Generator<'_> {
    /// The journals and cycles of every plan, in plan and cycle order; each journal's
    /// `life.cycle` indexes the returned cycles, whose `journals` are left empty.
    pub(super) fn report_cycles(
        &mut self,
        templates: &[SimTemplate],
        plans: [CyclePlan<'_>; 4],
    ) -> (Vec<Drawn>, Vec<SimCycle>) {
        let mut journals = Vec::new();
        let mut cycles = Vec::new();
        for plan in plans {
            let template = &templates[plan.template];
            for cycle in plan.cycles {
                let index = cycles.len();
                for mut drawn in self.report_cycle(template, &plan, cycle) {
                    drawn.life.cycle = Some(index);
                    journals.push(drawn);
                }
                cycles.push(SimCycle {
                    stat: StatCycle {
                        template_id: template.id.clone(),
                        template_name: template.name.clone(),
                        report_range: plan.report_range.clone(),
                        white_range: plan.white_range.clone(),
                        receivers: StatReceivers {
                            leader_list: vec![LeaderRef { level: 1 }],
                            ..Default::default()
                        },
                        cycle_begin_time: cycle.begin.max(0) as u64,
                        cycle_end_time: cycle.end.max(0) as u64,
                        stat_begin_time: cycle.begin.max(0) as u64,
                        stat_end_time: cycle.stat_end.max(0) as u64,
                        report_list: vec![],
                        unreport_list: vec![],
                        report_type: template.report_type,
                    },
                    summarised_at: cycle.end + SUMMARISE_DELAY_S,
                    expected: plan
                        .expected
                        .iter()
                        .map(|&u| self.users[u].userid.clone())
                        .collect(),
                    journals: vec![],
                });
            }
        }
        (journals, cycles)
    }

    /// One cycle: each expected user skips it (by habit) or reports, on time or late, and now
    /// and then files a second journal for it.
    fn report_cycle(
        &mut self,
        template: &SimTemplate,
        plan: &CyclePlan<'_>,
        cycle: &Cycle,
    ) -> Vec<Drawn> {
        let quiet = plan.quiet_in_even_weeks && cycle.first_day.iso_week().week().is_multiple_of(2);
        let settles_at = cycle.end + self.horizon;
        let mut journals = Vec::new();
        for &u in plan.expected {
            let habit = self.habits[u];
            if self.rng.chance(habit.skip) || quiet {
                continue;
            }
            let report_time = if self.rng.chance(habit.late) {
                self.late_time(cycle.stat_end, settles_at)
            } else {
                self.rng
                    .range_i64(cycle.window_open.min(cycle.stat_end), cycle.stat_end)
            };
            journals.push(self.journal(template, plan.template, u, report_time, cycle));
            // A second filing for the same cycle (a correction, an addendum): one itemlist,
            // two items.
            if self.rng.chance(0.04) {
                let again = self.soon_after(report_time + 540, settles_at - 1);
                if again > report_time && again < settles_at {
                    journals.push(self.journal(template, plan.template, u, again, cycle));
                }
            }
        }
        journals
    }

    /// A late report: after the deadline, most within six hours of it, the rest until the
    /// cycle's late horizon is over.
    fn late_time(&mut self, stat_end: i64, settles_at: i64) -> i64 {
        let last = (settles_at - 1).max(stat_end + 1);
        let until = if self.rng.chance(0.7) {
            last.min(stat_end + 6 * 3600)
        } else {
            last
        };
        self.rng.range_i64(stat_end + 1, until)
    }

    /// Free-form 汇报: now and then, during working hours, no cycle.
    pub(super) fn free_form_journals(
        &mut self,
        free: &SimTemplate,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Vec<Drawn> {
        let tz = self.config.timezone;
        let mut journals = Vec::new();
        for d in days(start, end) {
            for u in 0..self.users.len() {
                if self.rng.chance(0.06) {
                    let t = self
                        .rng
                        .range_i64(local_ts(&tz, d, 10, 0), local_ts(&tz, d, 21, 0));
                    journals.push(self.free_journal(free, u, t));
                }
            }
        }
        journals
    }
}
