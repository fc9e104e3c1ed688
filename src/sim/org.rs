//! The synthetic organisation: departments, users, templates, journals and stat cycles,
//! deterministic for a seed. Pure data, no I/O; the server only reads what this builds.
//!
//! Rules the data follows (tests and the pipeline rely on them):
//! - cycle templates (daily 2, weekly 3, monthly 4) have a cycle for every whole day / Monday
//!   week / calendar month inside `[start, start + days)`; only those cycles have journals and
//!   stats, and at most one journal per user per cycle;
//! - a journal is late when `report_time > stat_end_time` (the stats' `flag` = 1); late ones may
//!   fall after the cycle's end, but every journal lies inside the generated days;
//! - the stats' `report_list` holds exactly the users with a journal of that cycle and
//!   `unreport_list` the expected users without one;
//! - the free-form "汇报" template (report_type 0 here) has no cycles, carries its content in
//!   `sys_journal_data` and an empty `apply_data`.
//!
//! Built in named steps, each in its own file: the people (`people`: departments, users and
//! who receives whose journals), the forms (`forms`: templates and their controls), the
//! journals (`journals`: the generator that draws uuids, receivers and comments) and the
//! cycles (`cycles`: who reports which cycle, on time or late, and the stats that say so).
//! The random stream is drawn in that order, so a seed always gives the same organisation.

mod cycles;
mod forms;
mod journals;
mod people;

use std::collections::{BTreeMap, HashSet};

use chrono::{Days, NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::rng::{Rng, BASE58};
use super::{Org, SimConfig};
use crate::wecom::types::*;
use cycles::{Cycles, Expected};
use journals::Generator;

/// report_type of the free-form template, which has no cycle (not a WeCom value).
pub const FREE_FORM: u64 = 0;

/// The seconds since the epoch of a local wall-clock time (DST gaps move forward an hour;
/// ambiguous times take the earlier instant).
pub fn local_ts(tz: &Tz, date: NaiveDate, hour: u32, minute: u32) -> i64 {
    let Some(naive) = date.and_hms_opt(hour.min(23), minute.min(59), 0) else {
        return 0;
    };
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.timestamp())
        .unwrap_or_else(|| naive.and_utc().timestamp())
}

/// Builds the organisation for `config` (see the module doc for its rules).
pub fn generate(config: &SimConfig) -> Org {
    let mut rng = Rng::derived(config.seed, 1);
    let departments = people::departments();
    let (users, habits) = people::users(&mut rng, config.users);
    let leader = people::leaders(&users);
    let receivers = people::receivers(&users, &leader);
    let templates = forms::templates(&mut rng);
    let uuid_prefix = rng.token(BASE58, 22);
    let mut g = Generator {
        config,
        rng,
        users,
        habits,
        receivers,
        dept_names: people::department_names(),
        uuid_prefix,
        uuids: HashSet::new(),
        comment_ids: HashSet::new(),
        serial: 0,
    };

    let tz = config.timezone;
    let start = config.start;
    let end = start
        .checked_add_days(Days::new(config.days as u64))
        .unwrap_or(start);
    let cycles = Cycles::of(tz, start, end);
    let expected = Expected::of(&g.users, &leader);
    let plans = cycles::plans(&cycles, &expected, &g.users);
    let (mut journals, mut stats) = g.report_cycles(&templates, plans, local_ts(&tz, end, 0, 0));
    journals.extend(g.free_form_journals(&templates[3], start, end));

    journals
        .sort_by(|a, b| (a.report_time, &a.journal_uuid).cmp(&(b.report_time, &b.journal_uuid)));
    stats.sort_by(|a, b| {
        (a.cycle_begin_time, &a.template_id).cmp(&(b.cycle_begin_time, &b.template_id))
    });

    Org {
        departments,
        users: g.users,
        templates,
        journals,
        stats,
    }
}

fn days(start: NaiveDate, end: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    start.iter_days().take_while(move |d| *d < end)
}

/// The direct members of a department (any of their `department` ids, not descendants), as
/// `user/list?department_id=` serves them.
pub fn members_of(org: &Org, department_id: u64) -> Vec<&DirectoryUser> {
    org.users
        .iter()
        .filter(|u| u.department.contains(&department_id))
        .collect()
}

/// `department/list?id=`: the department and all below it (the whole tree when `None`).
pub fn departments_under(org: &Org, id: Option<u64>) -> Option<Vec<&Department>> {
    let Some(root) = id else {
        return Some(org.departments.iter().collect());
    };
    if !org.departments.iter().any(|d| d.id == root) {
        return None;
    }
    let mut keep: HashSet<u64> = HashSet::from([root]);
    // The tree is listed parents first, so one pass suffices.
    let mut out = Vec::new();
    for d in &org.departments {
        if d.id == root || keep.contains(&d.parentid) {
            keep.insert(d.id);
            out.push(d);
        }
    }
    Some(out)
}

/// Every control type name used in `org`'s journals, Table rows included, with counts.
pub fn control_types(org: &Org) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for j in &org.journals {
        for c in Control::walk(&j.apply_data.contents) {
            *out.entry(c.control.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
