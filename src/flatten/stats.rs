//! The two statistics tables of `get_stat_list`'s cycles: `stat_cycles` (one row per
//! template × cycle) and `stat_items` (one row per user × cycle × status), a column builder
//! each.

use std::collections::HashSet;

use chrono_tz::Tz;
use polars::prelude::*;

use super::columns::{
    date_col, frame, opt_bool_col, opt_str_col, opt_time_col, opt_u64_col, str_col, time_and_date,
    time_col, u32_col,
};
use super::directory::Directory;
use super::{schema, FlattenError, StatTables};
use crate::wecom::types::{report_type_name, StatCycle, StatItem, StatUserItems};

/// Flattens stat cycles into `stat_cycles` (one row per template × cycle) and `stat_items`
/// (one row per user × cycle × status).
///
/// A user listed twice under the same status of a cycle is one row (the first listing). A
/// reporting user is on time if any of their items is (flag 0: a second filing after the
/// deadline does not make an on-time report late), late only when every item is; the row's
/// `journal_uuid` and `report_time` are those of the first on-time item, else of the first
/// item. `late` counts the reporting users who are late.
pub fn flatten_stats(
    cycles: &[StatCycle],
    dir: &Directory,
    tz: Tz,
) -> Result<StatTables, FlattenError> {
    let mut cycle_rows = CycleColumns::with_capacity(cycles.len());
    let mut items = ItemColumns::default();
    let mut skipped = Vec::new();
    for c in cycles {
        // A cycle with a time no table can hold is left out whole, and named.
        let times = match CycleTimes::of(c, tz).and_then(|t| check_item_times(c, tz).map(|_| t)) {
            Ok(times) => times,
            Err(e) => {
                skipped.push(e.to_string());
                continue;
            }
        };
        let counts = items.push_cycle(c, &times, dir, tz)?;
        cycle_rows.push(c, &times, counts);
    }
    Ok(StatTables {
        stat_cycles: cycle_rows.finish()?,
        stat_items: items.finish()?,
        skipped,
    })
}

/// Whether every `reporttime` of the cycle's report list is a time a table can hold.
fn check_item_times(c: &StatCycle, tz: Tz) -> Result<(), FlattenError> {
    for u in &c.report_list {
        for i in &u.itemlist {
            time_and_date(i.reporttime, tz, || {
                format!(
                    "stat cycle of template {} beginning {}: user {} reporttime",
                    c.template_id, c.cycle_begin_time, u.user.userid
                )
            })?;
        }
    }
    Ok(())
}

/// A cycle's times in milliseconds, and its local date (days since 1970-01-01).
struct CycleTimes {
    begin: i64,
    end: i64,
    stat_begin: i64,
    stat_end: i64,
    date: i32,
}

impl CycleTimes {
    fn of(c: &StatCycle, tz: Tz) -> Result<CycleTimes, FlattenError> {
        let what = |field: &str| {
            format!(
                "stat cycle of template {} beginning {} {field}",
                c.template_id, c.cycle_begin_time
            )
        };
        let secs = |v: u64, field: &str| {
            i64::try_from(v).map_err(|_| FlattenError::Timestamp {
                what: what(field),
                value: v.into(),
            })
        };
        let (begin, date) =
            time_and_date(secs(c.cycle_begin_time, "cycle_begin_time")?, tz, || {
                what("cycle_begin_time")
            })?;
        let (end, _) = time_and_date(secs(c.cycle_end_time, "cycle_end_time")?, tz, || {
            what("cycle_end_time")
        })?;
        let (stat_begin, _) =
            time_and_date(secs(c.stat_begin_time, "stat_begin_time")?, tz, || {
                what("stat_begin_time")
            })?;
        let (stat_end, _) = time_and_date(secs(c.stat_end_time, "stat_end_time")?, tz, || {
            what("stat_end_time")
        })?;
        Ok(CycleTimes {
            begin,
            end,
            stat_begin,
            stat_end,
            date,
        })
    }
}

/// What a cycle's item rows came to: its `reported`, `unreported` and `late` counts.
#[derive(Debug, Clone, Copy, Default)]
struct CycleCounts {
    reported: u32,
    unreported: u32,
    late: u32,
}

/// The item that stands for a reporting user's cycle: the first on time (flag 0), else the
/// first; none for an empty item list.
fn representative_item(items: &[StatItem]) -> Option<&StatItem> {
    items.iter().find(|i| i.flag == 0).or(items.first())
}

// ---------------------------------------------------------------------------------------------
// stat_cycles

/// The columns of `stat_cycles`.
struct CycleColumns {
    template_id: Vec<String>,
    template_name: Vec<String>,
    report_type: Vec<String>,
    begin: Vec<i64>,
    end: Vec<i64>,
    stat_begin: Vec<i64>,
    stat_end: Vec<i64>,
    expected: Vec<u32>,
    reported: Vec<u32>,
    late: Vec<u32>,
    unreported: Vec<u32>,
    date: Vec<i32>,
}

impl CycleColumns {
    fn with_capacity(n: usize) -> Self {
        CycleColumns {
            template_id: Vec::with_capacity(n),
            template_name: Vec::with_capacity(n),
            report_type: Vec::with_capacity(n),
            begin: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            stat_begin: Vec::with_capacity(n),
            stat_end: Vec::with_capacity(n),
            expected: Vec::with_capacity(n),
            reported: Vec::with_capacity(n),
            late: Vec::with_capacity(n),
            unreported: Vec::with_capacity(n),
            date: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, c: &StatCycle, times: &CycleTimes, counts: CycleCounts) {
        self.template_id.push(c.template_id.clone());
        self.template_name.push(c.template_name.clone());
        self.report_type
            .push(report_type_name(c.report_type).to_string());
        self.begin.push(times.begin);
        self.end.push(times.end);
        self.stat_begin.push(times.stat_begin);
        self.stat_end.push(times.stat_end);
        self.expected.push(counts.reported + counts.unreported);
        self.reported.push(counts.reported);
        self.late.push(counts.late);
        self.unreported.push(counts.unreported);
        self.date.push(times.date);
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        frame(
            &schema::STAT_CYCLES,
            self.template_id.len(),
            vec![
                str_col("template_id", self.template_id),
                str_col("template_name", self.template_name),
                str_col("report_type", self.report_type),
                time_col("cycle_begin", self.begin),
                time_col("cycle_end", self.end),
                time_col("stat_begin", self.stat_begin),
                time_col("stat_end", self.stat_end),
                u32_col("expected", self.expected),
                u32_col("reported", self.reported),
                u32_col("late", self.late),
                u32_col("unreported", self.unreported),
                date_col("cycle_date", self.date),
            ],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// stat_items

/// The columns of `stat_items`.
#[derive(Default)]
struct ItemColumns {
    template_id: Vec<String>,
    template_name: Vec<String>,
    report_type: Vec<String>,
    begin: Vec<i64>,
    end: Vec<i64>,
    userid: Vec<String>,
    department_id: Vec<Option<u64>>,
    department_name: Vec<String>,
    status: Vec<String>,
    journal_uuid: Vec<Option<String>>,
    report_time: Vec<Option<i64>>,
    is_late: Vec<Option<bool>>,
    date: Vec<i32>,
}

impl ItemColumns {
    /// One row per user of the cycle's report list, then of its unreport list.
    fn push_cycle(
        &mut self,
        c: &StatCycle,
        times: &CycleTimes,
        dir: &Directory,
        tz: Tz,
    ) -> Result<CycleCounts, FlattenError> {
        let what = |field: &str| format!("stat cycle of template {} {field}", c.template_id);
        let report_type = report_type_name(c.report_type);
        let mut counts = CycleCounts::default();
        let lists: [(&str, &[StatUserItems]); 2] = [
            ("reported", &c.report_list),
            ("unreported", &c.unreport_list),
        ];
        for (status_idx, (status, list)) in lists.into_iter().enumerate() {
            let mut seen = HashSet::new();
            for u in list {
                if !seen.insert(u.user.userid.as_str()) {
                    continue;
                }
                if status_idx == 0 {
                    counts.reported += 1;
                } else {
                    counts.unreported += 1;
                }
                let first = if status_idx == 0 {
                    representative_item(&u.itemlist)
                } else {
                    None
                };
                let uuid = first
                    .map(|i| i.journaluuid.clone())
                    .filter(|s| !s.is_empty());
                let time = match first {
                    Some(i) if i.reporttime != 0 || uuid.is_some() => Some(
                        time_and_date(i.reporttime, tz, || {
                            format!("{} user {} reporttime", what("item"), u.user.userid)
                        })?
                        .0,
                    ),
                    _ => None,
                };
                let is_late = first.map(|i| i.flag != 0);
                counts.late += u32::from(is_late == Some(true));
                let (dept_id, dept_name) = dir.department_of(&u.user.userid);
                self.template_id.push(c.template_id.clone());
                self.template_name.push(c.template_name.clone());
                self.report_type.push(report_type.to_string());
                self.begin.push(times.begin);
                self.end.push(times.end);
                self.userid.push(u.user.userid.clone());
                self.department_id.push(dept_id);
                self.department_name.push(dept_name);
                self.status.push(status.to_string());
                self.journal_uuid.push(uuid);
                self.report_time.push(time);
                self.is_late.push(is_late);
                self.date.push(times.date);
            }
        }
        Ok(counts)
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        frame(
            &schema::STAT_ITEMS,
            self.userid.len(),
            vec![
                str_col("template_id", self.template_id),
                str_col("template_name", self.template_name),
                str_col("report_type", self.report_type),
                time_col("cycle_begin", self.begin),
                time_col("cycle_end", self.end),
                str_col("userid", self.userid),
                opt_u64_col("department_id", self.department_id),
                str_col("department_name", self.department_name),
                str_col("status", self.status),
                opt_str_col("journal_uuid", self.journal_uuid),
                opt_time_col("report_time", self.report_time),
                opt_bool_col("is_late", self.is_late),
                date_col("cycle_date", self.date),
            ],
        )
    }
}
