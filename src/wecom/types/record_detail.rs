//! `journal/get_record_detail` (doc 93394): the request and the journal it answers with, its
//! people and comments. The form controls are in [`super::control`] and [`super::control_value`].

use serde::{Deserialize, Serialize};

use super::Control;
use crate::wecom::num::{i64_lenient, u64_lenient};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RecordDetailRequest {
    pub journaluuid: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RecordDetailResponse {
    pub info: JournalDetail,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub struct UserRef {
    #[serde(default)]
    pub userid: String,
}

/// `info` of `get_record_detail`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct JournalDetail {
    pub journal_uuid: String,
    #[serde(default)]
    pub template_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub report_time: i64,
    #[serde(default)]
    pub submitter: UserRef,
    #[serde(default)]
    pub receivers: Vec<UserRef>,
    #[serde(default)]
    pub readed_receivers: Vec<UserRef>,
    #[serde(default)]
    pub apply_data: ApplyData,
    /// The rich text of the special 汇报 template, whose form is not in `apply_data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys_journal_data: Option<String>,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct ApplyData {
    #[serde(default)]
    pub contents: Vec<Control>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Comment {
    #[serde(deserialize_with = "u64_lenient")]
    pub commentid: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub tocommentid: u64,
    #[serde(default)]
    pub comment_userinfo: UserRef,
    #[serde(default)]
    pub content: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub comment_time: i64,
}
