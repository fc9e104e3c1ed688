//! The stat cycles of the synthetic organisation and what happens in them: every whole day,
//! Monday week and calendar month of the generated days is a cycle of its template; each user
//! expected to report it does (on time or late) or does not, which gives the cycle's journals
//! and its `get_stat_list` entry. The free-form 汇报 has no cycle: its journals come now and
//! then.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use chrono_tz::Tz;

use super::super::SimTemplate;
use super::journals::Generator;
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
        let week = days(start, end)
            .filter(|d| d.weekday() == Weekday::Mon)
            .filter(|d| d.checked_add_days(Days::new(7)).is_some_and(|e| e <= end))
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

/// Who must report each template: everyone (the boss is white-listed from the daily), and
/// for the monthly the department leaders plus the whole 销售部 subtree.
pub(super) struct Expected {
    everyone: Vec<usize>,
    daily: Vec<usize>,
    monthly: Vec<usize>,
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
        Expected {
            everyone,
            daily,
            monthly,
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
}

/// The plans of the daily, weekly and monthly templates, in that order.
pub(super) fn plans<'a>(
    cycles: &'a Cycles,
    expected: &'a Expected,
    users: &[DirectoryUser],
) -> [CyclePlan<'a>; 3] {
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
        },
        CyclePlan {
            template: 1,
            cycles: &cycles.week,
            expected: &expected.everyone,
            report_range: everyone_party,
            white_range: StatRange::default(),
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
        },
    ]
}

impl Generator<'_> {
    /// The journals and the stats of every cycle of `plans`, in plan and cycle order. No
    /// journal lies at or after `range_end_ts` (late ones included).
    pub(super) fn report_cycles(
        &mut self,
        templates: &[SimTemplate],
        plans: [CyclePlan<'_>; 3],
        range_end_ts: i64,
    ) -> (Vec<JournalDetail>, Vec<StatCycle>) {
        let mut journals = Vec::new();
        let mut stats = Vec::new();
        for plan in plans {
            let template = &templates[plan.template];
            for cycle in plan.cycles {
                let (report_list, unreport_list) =
                    self.report_cycle(template, &plan, cycle, range_end_ts, &mut journals);
                stats.push(StatCycle {
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
                    report_list,
                    unreport_list,
                    report_type: template.report_type,
                });
            }
        }
        (journals, stats)
    }

    /// One cycle: each expected user skips it (by habit) or reports, on time or late; their
    /// journals go to `journals`. Gives the cycle's report and unreport lists.
    fn report_cycle(
        &mut self,
        template: &SimTemplate,
        plan: &CyclePlan<'_>,
        cycle: &Cycle,
        range_end_ts: i64,
        journals: &mut Vec<JournalDetail>,
    ) -> (Vec<StatUserItems>, Vec<StatUserItems>) {
        let mut report_list = Vec::new();
        let mut unreport_list = Vec::new();
        for &u in plan.expected {
            let habit = self.habits[u];
            if self.rng.chance(habit.skip) {
                unreport_list.push(StatUserItems {
                    user: UserRef {
                        userid: self.users[u].userid.clone(),
                    },
                    itemlist: vec![StatItem {
                        journaluuid: String::new(),
                        reporttime: cycle.begin,
                        flag: 0,
                    }],
                });
                continue;
            }
            let late_until = (cycle.stat_end + 14 * 3600).min(range_end_ts - 1);
            let late = self.rng.chance(habit.late) && late_until > cycle.stat_end;
            let report_time = if late {
                self.rng.range_i64(cycle.stat_end + 1, late_until)
            } else {
                self.rng
                    .range_i64(cycle.window_open.min(cycle.stat_end), cycle.stat_end)
            };
            let journal = self.journal(template, plan.template, u, report_time, cycle);
            report_list.push(StatUserItems {
                user: UserRef {
                    userid: self.users[u].userid.clone(),
                },
                itemlist: vec![StatItem {
                    journaluuid: journal.journal_uuid.clone(),
                    reporttime: report_time,
                    flag: u64::from(report_time > cycle.stat_end),
                }],
            });
            journals.push(journal);
        }
        (report_list, unreport_list)
    }

    /// Free-form 汇报: now and then, during working hours, no cycle.
    pub(super) fn free_form_journals(
        &mut self,
        free: &SimTemplate,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Vec<JournalDetail> {
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
