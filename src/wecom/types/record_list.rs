//! `journal/get_record_list` (doc 93393): the request with its filters and the page of uuids.

use serde::{Deserialize, Deserializer, Serialize};

use super::lenient;
use crate::wecom::num::{i64_lenient, u64_lenient};

/// One `filters` entry of the record list: `creator`, `department` or `template_id`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub struct RecordFilter {
    pub(crate) key: String,
    pub(crate) value: String,
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

/// A page of the record list. Decoding one names the field path of what does not decode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(remote = "Self")]
pub struct RecordListResponse {
    /// An item that is not a string (or an integer) is an error: a uuid list with a hole
    /// cannot be paged on.
    #[serde(default, deserialize_with = "uuid_list")]
    pub journaluuid_list: Vec<String>,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub next_cursor: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub endflag: u64,
}

fn uuid_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Uuid(String);
    impl<'de> Deserialize<'de> for Uuid {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            match lenient::opt_string(d)? {
                Some(s) => Ok(Uuid(s)),
                None => Err(serde::de::Error::custom("a null journal uuid")),
            }
        }
    }
    Ok(lenient::list::<D, Uuid>(d)?
        .into_iter()
        .map(|Uuid(s)| s)
        .collect())
}

// `remote = "Self"` makes the derives above inherent functions; these are the trait impls.
impl<'de> Deserialize<'de> for RecordListResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::with_path(d, |d| RecordListResponse::deserialize(d))
    }
}

impl Serialize for RecordListResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RecordListResponse::serialize(self, s)
    }
}
