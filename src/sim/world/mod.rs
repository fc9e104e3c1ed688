//! The ground truth: the synthetic organisation as data ([`Org`]), and what of it exists at an
//! instant T ([`Org::at`]). The server serves these views (through its wire encoding); tests use
//! them as the oracle. Pure data and pure functions, no I/O.
//!
//! Time rules (all instants are seconds since the Unix epoch):
//! - a journal is in the record list's index from its `report_time` on, withdrawn or not;
//! - its detail exists from `report_time` until it is withdrawn (from `withdrawn_at` on it is
//!   gone); a comment exists from its `comment_time`, a read receipt from its read time;
//! - a stat cycle is served once summarised (`summarised_at`, [`SUMMARISE_DELAY_S`] after its
//!   `cycle_end_time`); its `report_list` then holds the expected users with a journal of the
//!   cycle that exists at T, one item per such journal (`flag` 1 when
//!   `reporttime > stat_end_time`), and `unreport_list` the other expected users.

use crate::wecom::types::{
    Comment, Department, DirectoryUser, JournalDetail, StatCycle, StatItem, StatUserItems, UserRef,
};
use serde::{Deserialize, Serialize};

use super::{SimConfig, Wire};

/// How long after a cycle ends WeCom has summarised it (an hour; the API only says it does not
/// return cycles that are not yet summarised).
pub const SUMMARISE_DELAY_S: i64 = 3600;

/// A template of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimTemplate {
    pub id: String,
    pub name: String,
    /// 2 daily, 3 weekly, 4 monthly (as in the stats); 0 for the free-form 汇报 template, which
    /// has no cycles and no stats.
    pub report_type: u64,
}

/// What happens to one journal after it is submitted (index-aligned with [`Org::journals`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLife {
    /// When the author withdrew it (撤回): from then on its detail answers 301084.
    pub withdrawn_at: Option<i64>,
    /// When each of `readed_receivers` read it (same order).
    pub(crate) read_times: Vec<i64>,
    /// Its stat cycle (an index into [`Org::cycles`]); `None` for the free-form 汇报.
    pub cycle: Option<usize>,
    /// Nothing about the journal changes after this instant (its last comment, read or
    /// withdrawal, and for a cycle journal the end of its cycle's late horizon).
    pub(crate) settles_at: i64,
    /// Whether its detail carries `template_id` on the wire (most real details do not).
    pub serves_template_id: bool,
}

/// One template × cycle of the stats, with who must report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCycle {
    /// The cycle's `get_stat_list` entry without its report and unreport lists.
    pub(crate) stat: StatCycle,
    /// When WeCom has summarised it: it is served from then on.
    pub summarised_at: i64,
    /// The users who must report it (userids, in the order the stats list them).
    pub expected: Vec<String>,
    /// Its journals (indexes into [`Org::journals`], by `report_time`), withdrawn ones included.
    pub journals: Vec<usize>,
}

impl SimCycle {
    pub fn template_id(&self) -> &str {
        &self.stat.template_id
    }
    pub fn begin(&self) -> i64 {
        self.stat.cycle_begin_time as i64
    }
    #[cfg(test)]
    pub(crate) fn end(&self) -> i64 {
        self.stat.cycle_end_time as i64
    }
    pub fn stat_end(&self) -> i64 {
        self.stat.stat_end_time as i64
    }
}

/// The synthetic organisation: everything the simulator serves, for tests to compare against.
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub departments: Vec<Department>,
    /// The directory as served: some users have no `main_department` (see [`Org::department_of`]).
    pub users: Vec<DirectoryUser>,
    /// Daily (日报), weekly (周报), monthly (月报), the free-form 汇报 and the weekly 安全巡检, in
    /// that order.
    pub templates: Vec<SimTemplate>,
    /// Every journal ever submitted, settled (every comment and read receipt it ever gets, its
    /// true `template_id`), ordered by `report_time` then uuid: the record list's index.
    /// Withdrawn ones included; what exists at an instant is [`Org::at`].
    pub journals: Vec<JournalDetail>,
    /// What happens to each journal over time, index-aligned with `journals`.
    pub lives: Vec<JournalLife>,
    /// Every stat cycle of every cycle template, ordered by cycle start then template id.
    pub cycles: Vec<SimCycle>,
    /// The stat list once everything has settled (`at(settled_at()).stat_list()`).
    pub stats: Vec<StatCycle>,
    /// How the server writes all this on the wire (numeric strings, `null` lists): what a
    /// test compares raw stored JSON with.
    pub wire: Wire,
}

impl Org {
    /// The organisation of `config` (see [`super::org`] for its rules).
    pub fn generate(config: &SimConfig) -> Org {
        super::org::generate(config)
    }

    pub fn template(&self, id: &str) -> Option<&SimTemplate> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn template_named(&self, name: &str) -> Option<&SimTemplate> {
        self.templates.iter().find(|t| t.name == name)
    }

    pub fn user(&self, userid: &str) -> Option<&DirectoryUser> {
        self.users.iter().find(|u| u.userid == userid)
    }

    pub fn journal(&self, uuid: &str) -> Option<&JournalDetail> {
        self.journals.iter().find(|j| j.journal_uuid == uuid)
    }

    /// The index of a journal in `journals` (and `lives`).
    pub(crate) fn journal_index(&self, uuid: &str) -> Option<usize> {
        self.journals.iter().position(|j| j.journal_uuid == uuid)
    }

    /// The department a user counts in: the directory's `main_department`, else the first
    /// listed `department` (when the directory leaves the main one out). `None` for an unknown
    /// user or one in no department.
    pub fn department_of(&self, userid: &str) -> Option<u64> {
        let u = self.user(userid)?;
        u.main_department.or(u.department.first().copied())
    }

    /// The world as it is at `t` (seconds since the epoch).
    pub fn at(&self, t: i64) -> OrgAt<'_> {
        OrgAt { org: self, t }
    }

    /// The first instant from which nothing in the world changes any more: the last journal,
    /// comment, read or withdrawal has happened and the last cycle is summarised.
    pub fn settled_at(&self) -> i64 {
        let journals = self.journals.iter().zip(&self.lives).map(|(j, l)| {
            let comments = j.comments.iter().map(|c| c.comment_time);
            let reads = l.read_times.iter().copied();
            comments
                .chain(reads)
                .chain(l.withdrawn_at)
                .fold(j.report_time, i64::max)
        });
        let cycles = self.cycles.iter().map(|c| c.summarised_at);
        journals.chain(cycles).max().unwrap_or(0)
    }
}

/// The world at one instant.
#[derive(Debug, Clone, Copy)]
pub struct OrgAt<'a> {
    pub(crate) org: &'a Org,
    pub(crate) t: i64,
}

impl<'a> OrgAt<'a> {
    /// The record list's index at `t`: every journal with `report_time <= t`, withdrawn ones
    /// included (WeCom's list index lags its withdrawals), in list order.
    pub(crate) fn listed(&self) -> impl Iterator<Item = JournalAt<'a>> + 'a {
        let (org, t) = (self.org, self.t);
        let n = org.journals.partition_point(|j| j.report_time <= t);
        (0..n).map(move |i| JournalAt::new(org, i, t))
    }

    /// The journals that exist at `t`: listed and not withdrawn.
    pub fn journals(&self) -> impl Iterator<Item = JournalAt<'a>> + 'a {
        self.listed().filter(|j| !j.is_withdrawn())
    }

    /// Listed but withdrawn at `t`: their details answer 301084.
    pub fn withdrawn(&self) -> impl Iterator<Item = JournalAt<'a>> + 'a {
        self.listed().filter(|j| j.is_withdrawn())
    }

    /// One journal by uuid if it is listed at `t` (withdrawn or not).
    pub fn journal(&self, uuid: &str) -> Option<JournalAt<'a>> {
        let i = self.org.journal_index(uuid)?;
        self.journal_by_index(i)
    }

    /// One journal by index if it is listed at `t`.
    pub fn journal_by_index(&self, i: usize) -> Option<JournalAt<'a>> {
        let j = self.org.journals.get(i)?;
        (j.report_time <= self.t).then(|| JournalAt::new(self.org, i, self.t))
    }

    /// A cycle's `get_stat_list` entry at `t`, or `None` while it is not summarised.
    pub(crate) fn stat_cycle(&self, cycle: &SimCycle) -> Option<StatCycle> {
        if cycle.summarised_at > self.t {
            return None;
        }
        let mut stat = cycle.stat.clone();
        for userid in &cycle.expected {
            let itemlist: Vec<StatItem> = cycle
                .journals
                .iter()
                .filter_map(|&i| self.journal_by_index(i))
                .filter(|j| !j.is_withdrawn() && j.creator() == userid)
                .map(|j| StatItem {
                    journaluuid: j.uuid().to_string(),
                    reporttime: j.report_time(),
                    flag: u64::from(j.report_time() > cycle.stat_end()),
                })
                .collect();
            let user = UserRef {
                userid: userid.clone(),
            };
            if itemlist.is_empty() {
                stat.unreport_list.push(StatUserItems {
                    user,
                    itemlist: vec![StatItem {
                        journaluuid: String::new(),
                        reporttime: cycle.begin(),
                        flag: 0,
                    }],
                });
            } else {
                stat.report_list.push(StatUserItems { user, itemlist });
            }
        }
        Some(stat)
    }

    /// Every summarised cycle at `t`, in [`Org::cycles`] order.
    pub(crate) fn stat_list(&self) -> Vec<StatCycle> {
        self.org
            .cycles
            .iter()
            .filter_map(|c| self.stat_cycle(c))
            .collect()
    }
}

/// One listed journal as it is at an instant.
#[derive(Debug, Clone, Copy)]
pub struct JournalAt<'a> {
    /// The settled detail (every comment and read it ever gets, the true template id).
    pub(crate) settled: &'a JournalDetail,
    pub life: &'a JournalLife,
    /// Its index in [`Org::journals`].
    pub index: usize,
    pub(crate) t: i64,
}

impl<'a> JournalAt<'a> {
    fn new(org: &'a Org, index: usize, t: i64) -> Self {
        JournalAt {
            settled: &org.journals[index],
            life: &org.lives[index],
            index,
            t,
        }
    }

    pub fn uuid(&self) -> &'a str {
        &self.settled.journal_uuid
    }

    /// The true template id (whether or not the wire carries it).
    pub fn template_id(&self) -> &'a str {
        self.settled.template_id.as_deref().unwrap_or("")
    }

    pub fn creator(&self) -> &'a str {
        &self.settled.submitter.userid
    }

    pub fn report_time(&self) -> i64 {
        self.settled.report_time
    }

    /// Withdrawn at or before `t`.
    pub fn is_withdrawn(&self) -> bool {
        self.life.withdrawn_at.is_some_and(|w| w <= self.t)
    }

    /// The comments made at or before `t`.
    pub fn comments(&self) -> impl Iterator<Item = &'a Comment> + 'a {
        let t = self.t;
        self.settled
            .comments
            .iter()
            .filter(move |c| c.comment_time <= t)
    }

    /// The receivers who had read it at or before `t`.
    pub fn readers(&self) -> impl Iterator<Item = &'a UserRef> + 'a {
        let t = self.t;
        self.settled
            .readed_receivers
            .iter()
            .zip(&self.life.read_times)
            .filter(move |(_, read)| **read <= t)
            .map(|(r, _)| r)
    }

    /// The detail as it reads at `t` (comments and read receipts so far; the true template
    /// id), whether or not it is withdrawn.
    pub(crate) fn detail(&self) -> JournalDetail {
        JournalDetail {
            comments: self.comments().cloned().collect(),
            readed_receivers: self.readers().cloned().collect(),
            ..self.settled.clone()
        }
    }

    /// The detail as the server sends it at `t`, decoded: [`JournalAt::detail`] without
    /// `template_id` unless this journal's detail carries it
    /// ([`JournalLife::serves_template_id`]). What a client that decodes the detail has.
    pub fn served_detail(&self) -> JournalDetail {
        let mut detail = self.detail();
        if !self.life.serves_template_id {
            detail.template_id = None;
        }
        detail
    }
}

#[cfg(test)]
mod tests;
