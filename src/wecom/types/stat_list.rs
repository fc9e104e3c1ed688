//! `journal/get_stat_list` (doc 93395): one template × cycle of the statistics, who was to
//! report, who did (and when, late or not) and who did not.

use serde::{Deserialize, Serialize};

use super::UserRef;
use crate::wecom::num::{i64_lenient, u64_lenient};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct StatListRequest {
    pub template_id: String,
    #[serde(deserialize_with = "i64_lenient")]
    pub starttime: i64,
    #[serde(deserialize_with = "i64_lenient")]
    pub endtime: i64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct StatListResponse {
    #[serde(default)]
    pub stat_list: Vec<StatCycle>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PartyRef {
    #[serde(default)]
    pub open_partyid: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TagRef {
    #[serde(default)]
    pub open_tagid: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct LeaderRef {
    #[serde(default, deserialize_with = "u64_lenient")]
    pub level: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatRange {
    #[serde(default)]
    pub user_list: Vec<UserRef>,
    #[serde(default)]
    pub party_list: Vec<PartyRef>,
    #[serde(default)]
    pub tag_list: Vec<TagRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatReceivers {
    #[serde(default)]
    pub user_list: Vec<UserRef>,
    #[serde(default)]
    pub tag_list: Vec<TagRef>,
    #[serde(default)]
    pub leader_list: Vec<LeaderRef>,
}

/// One template × cycle of `get_stat_list`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatCycle {
    #[serde(default)]
    pub template_id: String,
    #[serde(default)]
    pub template_name: String,
    #[serde(default)]
    pub report_range: StatRange,
    #[serde(default)]
    pub white_range: StatRange,
    #[serde(default)]
    pub receivers: StatReceivers,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub cycle_begin_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub cycle_end_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub stat_begin_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub stat_end_time: u64,
    #[serde(default)]
    pub report_list: Vec<StatUserItems>,
    #[serde(default)]
    pub unreport_list: Vec<StatUserItems>,
    /// 2 daily, 3 weekly, 4 monthly.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub report_type: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatUserItems {
    #[serde(default)]
    pub user: UserRef,
    #[serde(default)]
    pub itemlist: Vec<StatItem>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatItem {
    #[serde(default)]
    pub journaluuid: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub reporttime: i64,
    /// 1 late, 0 on time.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub flag: u64,
}

/// The report period of a stat cycle's `report_type`.
pub fn report_type_name(report_type: u64) -> &'static str {
    match report_type {
        2 => "day",
        3 => "week",
        4 => "month",
        _ => "other",
    }
}
