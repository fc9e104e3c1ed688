//! The wire as real servers write it, messier than the reference: some integers as numeric
//! strings, some empty lists as `null`, most details without `template_id`. Each choice is
//! deterministic for the seed and the thing written (a journal's uuid, a cycle's template and
//! start, a userid, a department id), so the same thing is always written the same way.
//!
//! Rates (the README's "The simulator" repeats them):
//! - a detail: `template_id` only when the world says it carries one
//!   ([`crate::sim::JournalLife::serves_template_id`]); `report_time` as a string in one in
//!   eight; `commentid` and `tocommentid` as strings in one in eight (as the approval API
//!   sends them); its empty `receivers`, `readed_receivers` and `comments` as `null` in one in
//!   three;
//! - a stat cycle: its items' `reporttime` and `flag` as strings in one in eight; its empty
//!   lists (`report_list`, `unreport_list`, the ranges' and receivers' `user_list`,
//!   `party_list`, `tag_list`, `leader_list`) as `null` in one in three;
//! - a user (`user/list`, `user/get`, `user/simplelist`): its `department` ids as strings in
//!   one in five, its `main_department` as a string in one in five;
//! - a department (`department/list`, `department/simplelist`): its `id` and `parentid` as
//!   strings in one in six.

use serde_json::{Map, Value};

use crate::sim::rng::{hash_str, mix};
use crate::sim::JournalAt;
use crate::wecom::types::{DirectoryUser, StatCycle};

/// Writes values the way real servers do, for one seed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wire {
    seed: u64,
}

/// Which choice a roll is for (so that the choices about one thing are independent).
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Choice {
    ReportTimeText = 1,
    CommentIdText,
    NullLists,
    StatItemText,
    StatNullLists,
    DepartmentIdsText,
    MainDepartmentText,
    DepartmentText,
}

impl Wire {
    pub(crate) fn new(seed: u64) -> Wire {
        Wire { seed }
    }

    /// True for one `key` in `n`, for this choice.
    fn one_in(&self, choice: Choice, key: &str, n: u64) -> bool {
        mix(self.seed ^ hash_str(key) ^ mix(choice as u64)).is_multiple_of(n)
    }

    /// A journal's detail (`info`) as it is at the journal's instant.
    pub fn detail(&self, journal: &JournalAt<'_>) -> Value {
        let detail = journal.served_detail();
        let uuid = journal.uuid();
        let mut v = serde_json::to_value(&detail).unwrap_or(Value::Null);
        let Value::Object(info) = &mut v else {
            return v;
        };
        if self.one_in(Choice::ReportTimeText, uuid, 8) {
            to_text(info, "report_time");
        }
        if self.one_in(Choice::CommentIdText, uuid, 8) {
            if let Some(Value::Array(comments)) = info.get_mut("comments") {
                for c in comments.iter_mut().filter_map(Value::as_object_mut) {
                    to_text(c, "commentid");
                    to_text(c, "tocommentid");
                }
            }
        }
        if self.one_in(Choice::NullLists, uuid, 3) {
            null_if_empty(info, &["receivers", "readed_receivers", "comments"]);
        }
        v
    }

    /// One `stat_list` entry.
    pub(crate) fn stat_cycle(&self, stat: &StatCycle) -> Value {
        let key = format!("{}@{}", stat.template_id, stat.cycle_begin_time);
        let mut v = serde_json::to_value(stat).unwrap_or(Value::Null);
        let Value::Object(cycle) = &mut v else {
            return v;
        };
        if self.one_in(Choice::StatItemText, &key, 8) {
            for list in ["report_list", "unreport_list"] {
                for entry in array_mut(cycle, list) {
                    let Some(entry) = entry.as_object_mut() else {
                        continue;
                    };
                    for item in array_mut(entry, "itemlist") {
                        if let Some(item) = item.as_object_mut() {
                            to_text(item, "reporttime");
                            to_text(item, "flag");
                        }
                    }
                }
            }
        }
        if self.one_in(Choice::StatNullLists, &key, 3) {
            null_if_empty(cycle, &["report_list", "unreport_list"]);
            for range in ["report_range", "white_range", "receivers"] {
                if let Some(Value::Object(r)) = cycle.get_mut(range) {
                    null_if_empty(r, &["user_list", "party_list", "tag_list", "leader_list"]);
                }
            }
        }
        v
    }

    /// A user of the directory: `fields` of [`DirectoryUser`] plus what the endpoint adds.
    pub(crate) fn user(&self, user: &DirectoryUser) -> Map<String, Value> {
        let mut m = match serde_json::to_value(user) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if self.one_in(Choice::DepartmentIdsText, &user.userid, 5) {
            for d in array_mut(&mut m, "department") {
                *d = Value::String(d.to_string());
            }
        }
        if self.one_in(Choice::MainDepartmentText, &user.userid, 5) {
            to_text(&mut m, "main_department");
        }
        m
    }

    /// A department: `id`, `parentid` and what the endpoint adds in `m`.
    pub(crate) fn department(&self, m: &mut Map<String, Value>) {
        let key = m.get("id").map(Value::to_string).unwrap_or_default();
        if self.one_in(Choice::DepartmentText, &key, 6) {
            to_text(m, "id");
            to_text(m, "parentid");
        }
    }
}

/// A number field as its decimal text (`"1606365591"`).
fn to_text(m: &mut Map<String, Value>, key: &str) {
    if let Some(v) = m.get_mut(key) {
        if v.is_number() {
            *v = Value::String(v.to_string());
        }
    }
}

/// Each of `keys` that holds an empty list becomes `null`.
fn null_if_empty(m: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(v) = m.get_mut(*key) {
            if v.as_array().is_some_and(Vec::is_empty) {
                *v = Value::Null;
            }
        }
    }
}

/// The items of the list at `key` (none when it is not a list).
fn array_mut<'a>(m: &'a mut Map<String, Value>, key: &str) -> impl Iterator<Item = &'a mut Value> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Org, SimConfig};

    #[test]
    fn every_messy_shape_is_written_and_each_thing_always_the_same_way() {
        let org = Org::generate(&SimConfig {
            users: 30,
            ..SimConfig::default()
        });
        let wire = Wire::new(7);
        let at = org.at(org.settled_at());
        let details: Vec<Value> = at.journals().map(|j| wire.detail(&j)).collect();
        let count = |f: &dyn Fn(&Value) -> bool| details.iter().filter(|d| f(d)).count();
        let n = details.len();
        let without_template = count(&|d| d.get("template_id").is_none());
        assert!(
            without_template * 10 > n * 6,
            "most details lack template_id"
        );
        assert!(without_template < n);
        let text_time = count(&|d| d["report_time"].is_string());
        assert!(
            text_time > n / 16 && text_time < n / 4,
            "{text_time} of {n}"
        );
        assert!(count(&|d| d["comments"].is_null()) > 0);
        assert!(count(&|d| d["comments"][0]["commentid"].is_string()) > 0);
        // The same journal is written the same way every time.
        let again: Vec<Value> = at.journals().map(|j| wire.detail(&j)).collect();
        assert_eq!(details, again);

        let stats: Vec<Value> = org.stats.iter().map(|s| wire.stat_cycle(s)).collect();
        assert!(stats
            .iter()
            .any(|s| s["report_list"][0]["itemlist"][0]["flag"].is_string()));
        assert!(stats.iter().any(|s| s["white_range"]["tag_list"].is_null()));

        let users: Vec<Map<String, Value>> = org.users.iter().map(|u| wire.user(u)).collect();
        assert!(users.iter().any(|u| u["department"][0].is_string()));
        assert!(users.iter().any(|u| u["department"][0].is_number()));
        assert!(users
            .iter()
            .any(|u| u.get("main_department").is_some_and(Value::is_string)));
    }
}
