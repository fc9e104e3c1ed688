//! `journal/get_record_detail` (doc 93394): the request and the journal it answers with, its
//! people and comments. The form controls are in [`super::control`] and [`super::control_value`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::{lenient, Control};
use crate::wecom::num::{i64_lenient, u64_lenient};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub(crate) struct RecordDetailRequest {
    pub(crate) journaluuid: String,
}

/// The answer of `get_record_detail`: the journal decoded, and the exact text of its `info`
/// object as it arrived (byte for byte: numbers, escapes and whitespace as sent), which is what
/// the store should keep.
#[derive(Debug, Clone)]
pub struct RecordDetailResponse {
    pub info: JournalDetail,
    pub info_raw: Box<RawValue>,
}

impl RecordDetailResponse {}

impl PartialEq for RecordDetailResponse {
    fn eq(&self, other: &Self) -> bool {
        self.info == other.info && self.info_raw.get() == other.info_raw.get()
    }
}

#[derive(Deserialize)]
struct RecordDetailWire {
    info: Box<RawValue>,
}

impl<'de> Deserialize<'de> for RecordDetailResponse {
    /// Takes `info`'s text first, then decodes the journal from that text, so that what is
    /// kept is what was sent. An error names its field path under `info`; its line and column
    /// count from the start of `info`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = lenient::with_path(d, |d| RecordDetailWire::deserialize(d))?;
        let mut text = serde_json::Deserializer::from_str(wire.info.get());
        let info = lenient::tracked(&mut text, |d| JournalDetail::deserialize(d))
            .map_err(|(path, e)| lenient::at_path(Some("info"), &path, e))?;
        Ok(RecordDetailResponse {
            info,
            info_raw: wire.info,
        })
    }
}

impl Serialize for RecordDetailResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RecordDetailResponse", 1)?;
        st.serialize_field("info", &self.info_raw)?;
        st.end()
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
pub struct UserRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub userid: String,
}

/// `info` of `get_record_detail`. Decoding one names the field path of what does not decode.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(remote = "Self")]
pub struct JournalDetail {
    /// Absent in one of the reference's own examples: empty then (the caller knows which
    /// journal it asked for).
    #[serde(default, deserialize_with = "lenient::string")]
    pub journal_uuid: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub template_name: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub template_id: Option<String>,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub report_time: i64,
    #[serde(default, deserialize_with = "lenient::object")]
    pub submitter: UserRef,
    #[serde(default, deserialize_with = "lenient::list")]
    pub receivers: Vec<UserRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub readed_receivers: Vec<UserRef>,
    #[serde(default, deserialize_with = "lenient::object")]
    pub apply_data: ApplyData,
    /// The rich text of the special 汇报 template, whose form is not in `apply_data`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sys_journal_data: Option<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub comments: Vec<Comment>,
}

// `remote = "Self"` makes the derives above inherent functions; these are the trait impls,
// decoding with the field path in errors.
impl<'de> Deserialize<'de> for JournalDetail {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::with_path(d, |d| JournalDetail::deserialize(d))
    }
}

impl JournalDetail {
    /// The derived decoding without the field path: the fast way for text that decoded before
    /// (a stored detail). When it fails, decode with [`serde_json::from_str`] for the error.
    pub(crate) fn decode_untracked(text: &str) -> serde_json::Result<JournalDetail> {
        let mut de = serde_json::Deserializer::from_str(text);
        let detail = JournalDetail::deserialize(&mut de)?;
        de.end()?;
        Ok(detail)
    }
}

impl Serialize for JournalDetail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        JournalDetail::serialize(self, s)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct ApplyData {
    #[serde(default, deserialize_with = "lenient::list")]
    pub contents: Vec<Control>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Comment {
    #[serde(deserialize_with = "u64_lenient")]
    pub commentid: u64,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub tocommentid: u64,
    #[serde(default, deserialize_with = "lenient::object")]
    pub comment_userinfo: UserRef,
    #[serde(default, deserialize_with = "lenient::string")]
    pub content: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub comment_time: i64,
}
