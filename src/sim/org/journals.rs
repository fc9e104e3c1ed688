//! The journals of the synthetic organisation: the [`Generator`] that draws them (uuids,
//! receivers, read receipts and when they are read, comments) and fills in each template's
//! form (`super::forms`).

use std::collections::{HashMap, HashSet};

use super::super::rng::{mix, Rng, BASE58};
use super::super::{JournalLife, SimConfig, SimTemplate};
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
    /// The late horizon in seconds: late reports, comments and reads come at most this long
    /// after their cycle's end (or, for the free-form 汇报, the journal's `report_time`).
    pub(super) horizon: i64,
}

/// One drawn journal and what happens to it (its cycle and withdrawal are set later).
pub(super) struct Drawn {
    pub(super) detail: JournalDetail,
    pub(super) life: JournalLife,
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

    /// An instant in `(after, until]`, most often within a few hours of `after`: when a
    /// receiver reads a journal or a second filing follows the first.
    pub(super) fn soon_after(&mut self, after: i64, until: i64) -> i64 {
        let span = until - after;
        if span <= 60 {
            return after + span.max(0);
        }
        let within = if self.rng.chance(0.75) {
            span.min(4 * 3600)
        } else {
            span
        };
        after + self.rng.range_i64(60, within)
    }

    /// The parts every journal has: uuid, receivers and who read it when, comments. Nothing
    /// happens after `settles_at`.
    fn envelope(
        &mut self,
        template: &SimTemplate,
        user: usize,
        report_time: i64,
        settles_at: i64,
    ) -> Drawn {
        let receivers: Vec<UserRef> = self.receivers[user]
            .iter()
            .map(|&r| UserRef {
                userid: self.users[r].userid.clone(),
            })
            .collect();
        let mut readed_receivers = Vec::new();
        let mut read_times = Vec::new();
        for r in &receivers {
            if self.rng.chance(0.7) {
                readed_receivers.push(r.clone());
                read_times.push(self.soon_after(report_time, settles_at));
            }
        }
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
                let content = self.rng.pick(COMMENTS).copied().unwrap_or("");
                if time > settles_at {
                    // Drawn all the same, so a journal's later draws do not depend on it.
                    continue;
                }
                comments.push(Comment {
                    commentid: id,
                    tocommentid: to,
                    comment_userinfo: UserRef { userid: author },
                    content: content.into(),
                    comment_time: time,
                });
                previous = id;
            }
        }
        let detail = JournalDetail {
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
        };
        Drawn {
            detail,
            life: JournalLife {
                read_times,
                settles_at,
                ..JournalLife::default()
            },
        }
    }

    pub(super) fn free_journal(
        &mut self,
        template: &SimTemplate,
        user: usize,
        report_time: i64,
    ) -> Drawn {
        let mut j = self.envelope(template, user, report_time, report_time + self.horizon);
        let work = self.rng.pick(WORK).copied().unwrap_or("");
        let plan = self
            .rng
            .pick(PLANS)
            .copied()
            .unwrap_or("")
            .replace('\n', "</li><li>");
        j.detail.sys_journal_data = Some(format!(
            "<p><b>工作汇报</b></p><p>{work}</p><ul><li>{plan}</li></ul><p>汇报人：{}</p>",
            self.users[user].name
        ));
        j
    }

    /// A journal of cycle template `t` (an index into the templates) for `cycle`.
    pub(super) fn journal(
        &mut self,
        template: &SimTemplate,
        t: usize,
        user: usize,
        report_time: i64,
        cycle: &Cycle,
    ) -> Drawn {
        let mut j = self.envelope(template, user, report_time, cycle.end + self.horizon);
        j.detail.apply_data.contents = match t {
            0 => self.daily_controls(user, cycle),
            1 => self.weekly_controls(user, report_time, cycle),
            2 => self.monthly_controls(),
            _ => self.inspection_controls(),
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
