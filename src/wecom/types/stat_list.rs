//! `journal/get_stat_list` (doc 93395): one template × cycle of the statistics, who was to
//! report, who did (and when, late or not) and who did not.

use serde::{Deserialize, Deserializer, Serialize};

use super::{lenient, UserRef};
use crate::wecom::num::{i64_lenient, u64_lenient};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct StatListRequest {
    pub template_id: String,
    #[serde(deserialize_with = "i64_lenient")]
    pub starttime: i64,
    #[serde(deserialize_with = "i64_lenient")]
    pub endtime: i64,
}

/// The answer of `get_stat_list`. Decoding one names the field path of what does not decode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(remote = "Self")]
pub struct StatListResponse {
    #[serde(default, deserialize_with = "lenient::list")]
    pub stat_list: Vec<StatCycle>,
}

// `remote = "Self"` makes the derives above inherent functions; these are the trait impls.
impl<'de> Deserialize<'de> for StatListResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::with_path(d, |d| StatListResponse::deserialize(d))
    }
}

impl Serialize for StatListResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StatListResponse::serialize(self, s)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PartyRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub open_partyid: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct TagRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub(crate) open_tagid: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct LeaderRef {
    #[serde(default, deserialize_with = "u64_lenient")]
    pub level: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatRange {
    #[serde(default, deserialize_with = "lenient::list")]
    pub user_list: Vec<UserRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub party_list: Vec<PartyRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub tag_list: Vec<TagRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatReceivers {
    #[serde(default, deserialize_with = "lenient::list")]
    pub(crate) user_list: Vec<UserRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub tag_list: Vec<TagRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub leader_list: Vec<LeaderRef>,
}

/// One template × cycle of `get_stat_list`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatCycle {
    #[serde(default, deserialize_with = "lenient::string")]
    pub template_id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub(crate) template_name: String,
    #[serde(default, deserialize_with = "lenient::object")]
    pub report_range: StatRange,
    #[serde(default, deserialize_with = "lenient::object")]
    pub white_range: StatRange,
    #[serde(default, deserialize_with = "lenient::object")]
    pub receivers: StatReceivers,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub cycle_begin_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub cycle_end_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub(crate) stat_begin_time: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub stat_end_time: u64,
    #[serde(default, deserialize_with = "lenient::list")]
    pub report_list: Vec<StatUserItems>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub unreport_list: Vec<StatUserItems>,
    /// 2 daily, 3 weekly, 4 monthly.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub report_type: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatUserItems {
    #[serde(default, deserialize_with = "lenient::object")]
    pub user: UserRef,
    #[serde(default, deserialize_with = "lenient::list")]
    pub itemlist: Vec<StatItem>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct StatItem {
    #[serde(default, deserialize_with = "lenient::string")]
    pub journaluuid: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub reporttime: i64,
    /// 1 late, 0 on time.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub flag: u64,
}

/// The report period of a stat cycle's `report_type`.
pub(crate) fn report_type_name(report_type: u64) -> &'static str {
    match report_type {
        2 => "day",
        3 => "week",
        4 => "month",
        _ => "other",
    }
}
