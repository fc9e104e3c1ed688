//! The synthetic organisation: departments, users, templates, journals and stat cycles, and
//! when each thing happens. Deterministic for (seed, users, start, days, timezone, late
//! horizon); the simulator's clock (`SimConfig::now`) only filters what is served. Pure data,
//! no I/O; the server only reads what this builds.
//!
//! Rules the data follows (tests and the pipeline rely on them; the rates are in the README's
//! "The simulator"):
//! - cycle templates (daily 2, weekly 3, monthly 4) have a cycle for every day, every Monday
//!   week whose Friday deadline falls inside `[start, start + days)` (the last week of a month
//!   may end in the next one) and every whole calendar month inside it;
//! - a journal is late when `report_time > stat_end_time` (the stats' `flag` = 1); late ones
//!   arrive after the deadline and before the cycle's end plus the late horizon, most within
//!   six hours of the deadline; so they may lie after the generated days;
//! - an expected user skips a cycle (by habit) or reports it, and one report in 25 is followed
//!   by a second journal for the same cycle (two items in one `itemlist`);
//! - the weekly 安全巡检 is expected of the 研发中心 subtree and nobody reports it in even ISO
//!   weeks: a range of those weeks holds its stats and not one of its journals;
//! - read receipts and comments come after `report_time` (three reads in four within four
//!   hours) and no later than the journal settles (its cycle's end plus the late horizon; for
//!   the free-form 汇报 its `report_time` plus the horizon);
//! - one journal in 60 is withdrawn (撤回) after it was listed, before it settles; its comments
//!   and reads stop there;
//! - a detail carries `template_id` when it is the first journal of its template on its local
//!   day, else in one case in five (as in the real examples, most do not);
//! - about one user in ten has no `main_department` (one in two of those in several
//!   departments): count them in their first listed department;
//! - the free-form "汇报" template (report_type 0 here) has no cycles, carries its content in
//!   `sys_journal_data` and an empty `apply_data`.
//!
//! Built in named steps, each in its own file: the people (`people`: departments, users and
//! who receives whose journals), the forms (`forms`: templates and their controls), the
//! journals (`journals`: the generator that draws uuids, receivers, reads and comments) and the
//! cycles (`cycles`: who reports which cycle, on time or late). The main random stream is drawn
//! in that order, so a seed always gives the same organisation; withdrawals and hidden main
//! departments draw from streams of their own. `SimConfig::gentle` then takes out what a test
//! asked to be spared.

mod cycles;
mod forms;
mod journals;
mod people;

use std::collections::HashSet;

use chrono::{Days, NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::rng::{hash_str, Rng, BASE58};
use super::{JournalLife, Org, SimConfig, SimCycle};
use crate::wecom::types::*;
use cycles::{Cycles, Expected};
use journals::{Drawn, Generator};

/// report_type of the free-form template, which has no cycle (not a WeCom value).
pub(crate) const FREE_FORM: u64 = 0;

/// One journal in this many is withdrawn after it was listed.
const WITHDRAWN_ONE_IN: u64 = 60;

/// The seconds since the epoch of a local wall-clock time (DST gaps move forward an hour;
/// ambiguous times take the earlier instant).
pub(crate) fn local_ts(tz: &Tz, date: NaiveDate, hour: u32, minute: u32) -> i64 {
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
pub(crate) fn generate(config: &SimConfig) -> Org {
    let mut rng = Rng::derived(config.seed, 1);
    let departments = people::departments();
    let (users, habits) = people::users(&mut rng, config.users);
    let leader = people::leaders(&users);
    let receivers = people::receivers(&users, &leader);
    let mut templates = forms::templates(&mut rng);
    if config.twin_template_names {
        // 安全巡检 named as the weekly 周报 (ids and everything else unchanged).
        templates[4].name = templates[1].name.clone();
    }
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
        horizon: i64::try_from(config.late_horizon.as_secs()).unwrap_or(i64::MAX / 4),
    };

    let tz = config.timezone;
    let start = config.start;
    let end = start
        .checked_add_days(Days::new(config.days as u64))
        .unwrap_or(start);
    let cycles = Cycles::of(tz, start, end);
    let expected = Expected::of(&g.users, &leader);
    let plans = cycles::plans(&cycles, &expected, &g.users);
    let (mut drawn, cycles) = g.report_cycles(&templates, plans);
    drawn.extend(g.free_form_journals(&templates[3], start, end));
    let mut users = g.users;

    let (journals, mut lives, cycles) = arrange(drawn, cycles);
    let mut journals = journals;
    if !config.gentle.withdrawals {
        withdraw(config.seed, &mut journals, &mut lives);
    }
    show_template_ids(&tz, &journals, &mut lives, config.gentle.template_ids);
    if !config.gentle.main_departments {
        people::hide_main_departments(config.seed, &mut users);
    }
    let mut org = Org {
        departments,
        users,
        templates,
        journals,
        lives,
        cycles,
        stats: Vec::new(),
        wire: super::Wire::new(config.seed),
    };
    org.stats = org.at(i64::MAX).stat_list();
    org
}

/// Orders the journals as the record list does (by `report_time`, then uuid) and the cycles
/// by start then template id, and links each cycle to its journals.
fn arrange(
    drawn: Vec<Drawn>,
    cycles: Vec<SimCycle>,
) -> (Vec<JournalDetail>, Vec<JournalLife>, Vec<SimCycle>) {
    let mut cycle_order: Vec<usize> = (0..cycles.len()).collect();
    cycle_order.sort_by(|&a, &b| {
        let key = |c: &SimCycle| (c.stat.cycle_begin_time, c.stat.template_id.clone());
        key(&cycles[a]).cmp(&key(&cycles[b]))
    });
    let mut new_index = vec![0; cycles.len()];
    for (position, &old) in cycle_order.iter().enumerate() {
        new_index[old] = position;
    }
    let mut slots: Vec<Option<SimCycle>> = cycles.into_iter().map(Some).collect();
    let mut cycles: Vec<SimCycle> = cycle_order
        .iter()
        .filter_map(|&old| slots[old].take())
        .collect();

    let mut drawn = drawn;
    drawn.sort_by(|a, b| {
        (a.detail.report_time, &a.detail.journal_uuid)
            .cmp(&(b.detail.report_time, &b.detail.journal_uuid))
    });
    let mut journals = Vec::with_capacity(drawn.len());
    let mut lives = Vec::with_capacity(drawn.len());
    for (i, Drawn { detail, mut life }) in drawn.into_iter().enumerate() {
        life.cycle = life.cycle.map(|old| new_index[old]);
        if let Some(c) = life.cycle {
            cycles[c].journals.push(i);
        }
        journals.push(detail);
        lives.push(life);
    }
    (journals, lives, cycles)
}

/// Withdraws one journal in [`WITHDRAWN_ONE_IN`], some time after it was listed and before it
/// settles; the comments and reads it would have had after that never happen.
fn withdraw(seed: u64, journals: &mut [JournalDetail], lives: &mut [JournalLife]) {
    let mut rng = Rng::derived(seed, 5);
    for (j, life) in journals.iter_mut().zip(lives.iter_mut()) {
        let roll = rng.below(WITHDRAWN_ONE_IN);
        let offset = rng.unit();
        let span = life.settles_at - j.report_time;
        if roll != 0 || span < 600 {
            continue;
        }
        let at = j.report_time + 300 + ((span - 300) as f64 * offset) as i64;
        life.withdrawn_at = Some(at);
        j.comments.retain(|c| c.comment_time < at);
        let (readers, times): (Vec<UserRef>, Vec<i64>) = std::mem::take(&mut j.readed_receivers)
            .into_iter()
            .zip(std::mem::take(&mut life.read_times))
            .filter(|(_, read)| *read < at)
            .unzip();
        j.readed_receivers = readers;
        life.read_times = times;
    }
}

/// Which details carry `template_id` on the wire: the first journal of each template on each
/// local day (so a pipeline can learn every template's id), and one in five of the others;
/// every one with `all`.
fn show_template_ids(tz: &Tz, journals: &[JournalDetail], lives: &mut [JournalLife], all: bool) {
    let mut seen: HashSet<(String, NaiveDate)> = HashSet::new();
    for (j, life) in journals.iter().zip(lives.iter_mut()) {
        let day = tz
            .timestamp_opt(j.report_time, 0)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default();
        let template = j.template_id.clone().unwrap_or_default();
        let first_of_day = seen.insert((template, day));
        life.serves_template_id =
            all || first_of_day || hash_str(&j.journal_uuid).is_multiple_of(5);
    }
}

fn days(start: NaiveDate, end: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    start.iter_days().take_while(move |d| *d < end)
}

/// The members of a department, as `user/list?department_id=` serves them: its direct members
/// (any of their `department` ids), and with `fetch_child` those of every department below it
/// too; each user once, in directory order.
pub fn members_of(org: &Org, department_id: u64, fetch_child: bool) -> Vec<&DirectoryUser> {
    let ids: Vec<u64> = if fetch_child {
        departments_under(org, Some(department_id))
            .unwrap_or_default()
            .iter()
            .map(|d| d.id)
            .collect()
    } else {
        vec![department_id]
    };
    org.users
        .iter()
        .filter(|u| u.department.iter().any(|d| ids.contains(d)))
        .collect()
}

/// `department/list?id=`: the department and all below it (the whole tree when `None`).
pub(crate) fn departments_under(org: &Org, id: Option<u64>) -> Option<Vec<&Department>> {
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
#[cfg(test)]
pub(crate) fn control_types(org: &Org) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for j in &org.journals {
        for c in Control::walk(&j.apply_data.contents) {
            *out.entry(c.control.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
