//! The journals of the synthetic organisation: the [`Generator`] that draws them (uuids,
//! receivers, read receipts, comments) and fills in each template's form
//! (`super::forms`).

use std::collections::{HashMap, HashSet};

use super::super::rng::{mix, Rng, BASE58};
use super::super::{SimConfig, SimTemplate};
use super::cycles::Cycle;
use super::forms::{PLANS, WORK};
use super::people::Habit;
use crate::wecom::types::*;

const COMMENTS: &[&str] = &[
    "加油",
    "收到",
    "辛苦了",
    "请补充细节",
    "已阅",
    "明天一起讨论",
    "👍",
];

/// What drawing the journals needs: the random stream, the people, and what must stay unique.
pub(super) struct Generator<'a> {
    pub(super) config: &'a SimConfig,
    pub(super) rng: Rng,
    pub(super) users: Vec<DirectoryUser>,
    pub(super) habits: Vec<Habit>,
    /// Receivers of each user's journals (indexes into `users`).
    pub(super) receivers: Vec<Vec<usize>>,
    /// Department id → name.
    pub(super) dept_names: HashMap<u64, &'static str>,
    pub(super) uuid_prefix: String,
    pub(super) uuids: HashSet<String>,
    pub(super) comment_ids: HashSet<u64>,
    /// Counter that keeps every generated file / doc id unique.
    pub(super) serial: u64,
}

/// `n` in 11 base-58 digits (58^11 > 2^64), most significant first.
pub(super) fn base58_u64(mut n: u64) -> String {
    let mut digits = [BASE58[0]; 11];
    for d in digits.iter_mut().rev() {
        *d = BASE58[(n % 58) as usize];
        n /= 58;
    }
    digits.iter().map(|&b| b as char).collect()
}

impl Generator<'_> {
    /// A journal's uuid: the org's prefix, 34 random characters and 11 that encode the
    /// journal's time and author. `run --sandbox` starts a simulator covering only the run's
    /// range, so runs of two months into one store meet two organisations drawn from the same
    /// random stream; without the stamp, the n-th journal of each would share a uuid and the
    /// second run would take October's journals for September's, already fetched.
    pub(super) fn new_uuid(&mut self, report_time: i64, user: usize) -> String {
        // `mix` is a bijection of u64, so distinct (time, author) pairs give distinct stamps.
        let stamp = base58_u64(mix(((report_time as u64) << 20) ^ user as u64));
        loop {
            // Drawn whole, so the rest of the random stream is as it always was.
            let random = self.rng.token(BASE58, 45);
            let uuid = format!("{}{}{stamp}", self.uuid_prefix, &random[..34]);
            if self.uuids.insert(uuid.clone()) {
                return uuid;
            }
        }
    }

    fn new_comment_id(&mut self) -> u64 {
        loop {
            // Real comment ids are 64-bit and often above 2^53 (and above i64::MAX).
            let id = self.rng.next_u64() | (1 << 60);
            if self.comment_ids.insert(id) {
                return id;
            }
        }
    }

    pub(super) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn envelope(&mut self, template: &SimTemplate, user: usize, report_time: i64) -> JournalDetail {
        let receivers: Vec<UserRef> = self.receivers[user]
            .iter()
            .map(|&r| UserRef {
                userid: self.users[r].userid.clone(),
            })
            .collect();
        let readed_receivers: Vec<UserRef> = receivers
            .iter()
            .filter(|_| self.rng.chance(0.7))
            .cloned()
            .collect();
        let mut comments = Vec::new();
        if self.rng.chance(0.35) {
            let authors: Vec<String> = receivers
                .iter()
                .map(|r| r.userid.clone())
                .chain(std::iter::once(self.users[user].userid.clone()))
                .collect();
            let mut time = report_time;
            let mut previous = 0u64;
            for k in 0..1 + self.rng.below(3) {
                time += self.rng.range_i64(60, 6 * 3600);
                let id = self.new_comment_id();
                let to = if k > 0 && self.rng.chance(0.6) {
                    previous
                } else {
                    0
                };
                let author = self.rng.pick(&authors).cloned().unwrap_or_default();
                comments.push(Comment {
                    commentid: id,
                    tocommentid: to,
                    comment_userinfo: UserRef { userid: author },
                    content: self.rng.pick(COMMENTS).copied().unwrap_or("").into(),
                    comment_time: time,
                });
                previous = id;
            }
        }
        JournalDetail {
            journal_uuid: self.new_uuid(report_time, user),
            template_name: template.name.clone(),
            template_id: Some(template.id.clone()),
            report_time,
            submitter: UserRef {
                userid: self.users[user].userid.clone(),
            },
            receivers,
            readed_receivers,
            apply_data: ApplyData::default(),
            sys_journal_data: None,
            comments,
        }
    }

    pub(super) fn free_journal(
        &mut self,
        template: &SimTemplate,
        user: usize,
        report_time: i64,
    ) -> JournalDetail {
        let mut j = self.envelope(template, user, report_time);
        let work = self.rng.pick(WORK).copied().unwrap_or("");
        let plan = self
            .rng
            .pick(PLANS)
            .copied()
            .unwrap_or("")
            .replace('\n', "</li><li>");
        j.sys_journal_data = Some(format!(
            "<p><b>工作汇报</b></p><p>{work}</p><ul><li>{plan}</li></ul><p>汇报人：{}</p>",
            self.users[user].name
        ));
        j
    }

    pub(super) fn journal(
        &mut self,
        template: &SimTemplate,
        t: usize,
        user: usize,
        report_time: i64,
        cycle: &Cycle,
    ) -> JournalDetail {
        let mut j = self.envelope(template, user, report_time);
        j.apply_data.contents = match t {
            0 => self.daily_controls(user, cycle),
            1 => self.weekly_controls(user, report_time, cycle),
            _ => self.monthly_controls(),
        };
        j
    }

    pub(super) fn member(&mut self) -> Member {
        let u = self.rng.below(self.users.len() as u64) as usize;
        let user = &self.users[u];
        Member {
            userid: user.userid.clone(),
            // Older responses leave the name out.
            name: (!u.is_multiple_of(3)).then(|| user.name.clone()),
        }
    }
}
