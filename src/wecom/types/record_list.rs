//! `journal/get_record_list` (doc 93393): the request with its filters and the page of uuids.

use serde::{Deserialize, Serialize};

use crate::wecom::num::{i64_lenient, u64_lenient};

/// One `filters` entry of the record list: `creator`, `department` or `template_id`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub struct RecordFilter {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RecordListRequest {
    #[serde(deserialize_with = "i64_lenient")]
    pub starttime: i64,
    #[serde(deserialize_with = "i64_lenient")]
    pub endtime: i64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub cursor: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub limit: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<RecordFilter>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct RecordListResponse {
    #[serde(default)]
    pub journaluuid_list: Vec<String>,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub next_cursor: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub endflag: u64,
}
