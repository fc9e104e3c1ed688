//! Typed requests and responses of the journal endpoints and the directory, as WeCom sends them.
//!
//! Shared by the client (which decodes them), the simulator (which encodes them) and `flatten`
//! (which decodes stored raw JSON). Integers are accepted as numbers or numeric strings; u64 ids
//! never pass through f64. A control's `value` is decoded by its `control` name into
//! [`ControlValue`], and the original JSON is kept beside it so nothing is ever lost.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::num::{decimal_text, i64_lenient, opt_i64_lenient, u64_lenient};

/// The `errcode` / `errmsg` envelope every WeCom response carries (a body without `errcode`
/// is a success).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Envelope {
    #[serde(default, deserialize_with = "i64_lenient")]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
}

/// `gettoken`'s answer. The token is a credential: `Debug` leaves it out.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, deserialize_with = "i64_lenient")]
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

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

/// A multi-language text: `lang` is optional (older responses and single-language corps omit it).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct LangText {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// Picks the zh_CN text of a multi-language list, or the first when none says zh_CN.
pub fn pick_text(texts: &[LangText]) -> Option<&str> {
    texts
        .iter()
        .find(|t| t.lang.as_deref() == Some("zh_CN"))
        .or_else(|| texts.first())
        .map(|t| t.text.as_str())
}

/// The English text of a multi-language list, when one is there.
pub fn pick_text_en(texts: &[LangText]) -> Option<&str> {
    texts
        .iter()
        .find(|t| t.lang.as_deref().is_some_and(|l| l.starts_with("en")))
        .map(|t| t.text.as_str())
}

/// One form control of `apply_data.contents` (or of a Table row).
///
/// `value` is decoded by `control`; `raw_value` is the exact JSON that arrived, which is what
/// `value_json` keeps and what [`Control`] serialises back.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// The `control` name as sent (`Text`, `Selector`, … or a type this crate does not know).
    pub control: String,
    pub id: String,
    pub title: Vec<LangText>,
    pub value: ControlValue,
    pub raw_value: Value,
}

impl Control {
    /// Builds a control from a typed value, encoding it the way WeCom does (the other shapes'
    /// keys present as empty arrays). For an `Unknown` value the raw JSON is used as it is.
    pub fn new(id: impl Into<String>, title: Vec<LangText>, value: ControlValue) -> Self {
        let raw_value = value.to_api_value();
        Control {
            control: value.control_name().to_string(),
            id: id.into(),
            title,
            value,
            raw_value,
        }
    }
}

impl Control {
    /// A control of a type this crate does not decode, kept exactly as `raw`.
    pub fn unknown(
        control: impl Into<String>,
        id: impl Into<String>,
        title: Vec<LangText>,
        raw: Value,
    ) -> Self {
        Control {
            control: control.into(),
            id: id.into(),
            title,
            value: ControlValue::Unknown { raw: raw.clone() },
            raw_value: raw,
        }
    }
}

#[derive(Deserialize)]
struct ControlWire {
    #[serde(default)]
    control: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: Vec<LangText>,
    #[serde(default)]
    value: Value,
}

impl<'de> Deserialize<'de> for Control {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = ControlWire::deserialize(d)?;
        let value = ControlValue::from_api(&wire.control, &wire.value);
        Ok(Control {
            control: wire.control,
            id: wire.id,
            title: wire.title,
            value,
            raw_value: wire.value,
        })
    }
}

impl Serialize for Control {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Control", 4)?;
        st.serialize_field("control", &self.control)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("title", &self.title)?;
        st.serialize_field("value", &self.raw_value)?;
        st.end()
    }
}

/// `date.type`: a day, or a day and an hour.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DateKind {
    Day,
    Hour,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SelectorKind {
    Single,
    Multi,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct SelectorOption {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: Vec<LangText>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Member {
    #[serde(default)]
    pub userid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DepartmentPick {
    /// The department id as a string (`openapi_id`).
    #[serde(default)]
    pub openapi_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct FileRef {
    #[serde(default)]
    pub file_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct TableRow {
    #[serde(default)]
    pub list: Vec<Control>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct NamedRef {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DocRef {
    #[serde(default)]
    pub docid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct WedriveRef {
    #[serde(default)]
    pub fileid: String,
}

/// The value of one control, by control type (the 17 shapes of the appendix of doc 93394).
#[derive(Debug, Clone, PartialEq)]
pub enum ControlValue {
    Text {
        text: String,
    },
    Textarea {
        text: String,
    },
    /// `new_number`, a decimal string kept exactly.
    Number {
        number: Option<String>,
    },
    /// `new_money`, a decimal string kept exactly.
    Money {
        money: Option<String>,
    },
    /// `date{type, s_timestamp}`: seconds since the epoch (sent as a string).
    Date {
        kind: Option<DateKind>,
        timestamp: Option<i64>,
    },
    /// Only the chosen options are sent.
    Selector {
        kind: Option<SelectorKind>,
        options: Vec<SelectorOption>,
    },
    Contact {
        members: Vec<Member>,
        departments: Vec<DepartmentPick>,
    },
    Tips,
    File {
        files: Vec<FileRef>,
    },
    /// Each child row holds a list of controls (recursively, Tables included).
    Table {
        rows: Vec<TableRow>,
    },
    /// `date_range{type halfday|hour, new_begin, new_end, new_duration}` (seconds).
    DateRange {
        kind: Option<String>,
        begin: Option<i64>,
        end: Option<i64>,
        duration_s: Option<i64>,
    },
    Location {
        latitude: Option<String>,
        longitude: Option<String>,
        title: String,
        address: String,
        time: Option<i64>,
    },
    Formula {
        value: Option<String>,
    },
    SchoolContact {
        students: Vec<NamedRef>,
        classes: Vec<NamedRef>,
    },
    Doc {
        docs: Vec<DocRef>,
    },
    WedriveFile {
        files: Vec<WedriveRef>,
    },
    /// A control type this crate does not know, or a known one whose value did not decode:
    /// the whole value, exactly as it came.
    Unknown {
        raw: Value,
    },
}

/// The array keys every control value carries (empty when not its own), per the API's examples.
const EMPTY_ARRAY_KEYS: &[&str] = &[
    "tips",
    "members",
    "departments",
    "files",
    "children",
    "stat_field",
    "sum_field",
    "related_approval",
    "students",
    "classes",
    "docs",
    "wedrive_files",
];

#[derive(Deserialize)]
struct DateWire {
    #[serde(default, rename = "type")]
    kind: Option<DateKind>,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    s_timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct SelectorWire {
    #[serde(default, rename = "type")]
    kind: Option<SelectorKind>,
    #[serde(default)]
    options: Vec<SelectorOption>,
}

#[derive(Deserialize)]
struct DateRangeWire {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    new_begin: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    new_end: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    new_duration: Option<i64>,
}

#[derive(Deserialize)]
struct LocationWire {
    #[serde(default, deserialize_with = "decimal_text")]
    latitude: Option<String>,
    #[serde(default, deserialize_with = "decimal_text")]
    longitude: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    address: String,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    time: Option<i64>,
}

#[derive(Deserialize)]
struct FormulaWire {
    #[serde(default, deserialize_with = "decimal_text")]
    value: Option<String>,
}

/// The union of every shape's keys: a value is decoded once, then the control name picks.
#[derive(Deserialize)]
struct ValueWire {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "decimal_text")]
    new_number: Option<String>,
    #[serde(default, deserialize_with = "decimal_text")]
    new_money: Option<String>,
    #[serde(default, deserialize_with = "object_or_empty")]
    date: Option<DateWire>,
    #[serde(default, deserialize_with = "object_or_empty")]
    selector: Option<SelectorWire>,
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    departments: Vec<DepartmentPick>,
    #[serde(default)]
    files: Vec<FileRef>,
    #[serde(default)]
    children: Vec<TableRow>,
    #[serde(default, deserialize_with = "object_or_empty")]
    date_range: Option<DateRangeWire>,
    #[serde(default, deserialize_with = "object_or_empty")]
    location: Option<LocationWire>,
    #[serde(default, deserialize_with = "object_or_empty")]
    formula: Option<FormulaWire>,
    #[serde(default)]
    students: Vec<NamedRef>,
    #[serde(default)]
    classes: Vec<NamedRef>,
    #[serde(default)]
    docs: Vec<DocRef>,
    #[serde(default)]
    wedrive_files: Vec<WedriveRef>,
}

/// A nested object of a control value, where WeCom may send `[]`, `{}` or `null` for "none".
fn object_or_empty<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::Array(a) if a.is_empty() => Ok(None),
        _ => serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

impl ControlValue {
    /// Every control name this crate decodes into a typed value.
    pub const KNOWN_CONTROLS: &'static [&'static str] = &[
        "Text",
        "Textarea",
        "Number",
        "Money",
        "Date",
        "Selector",
        "Contact",
        "Tips",
        "File",
        "Table",
        "DateRange",
        "Location",
        "Formula",
        "SchoolContact",
        "Doc",
        "WedriveFile",
    ];

    /// Decodes a control's `value` by its `control` name. Never fails: an unknown name, or a
    /// known one whose value does not have the documented shape, becomes `Unknown` with the raw
    /// JSON, so the caller can count a warning and still keep everything.
    pub fn from_api(control: &str, value: &Value) -> ControlValue {
        if !Self::KNOWN_CONTROLS.contains(&control) || !(value.is_object() || value.is_null()) {
            return ControlValue::Unknown { raw: value.clone() };
        }
        let empty = Value::Object(Map::new());
        let value_or_empty = if value.is_null() { &empty } else { value };
        let wire: ValueWire = match ValueWire::deserialize(value_or_empty) {
            Ok(w) => w,
            Err(_) => return ControlValue::Unknown { raw: value.clone() },
        };
        match control {
            "Text" => ControlValue::Text {
                text: wire.text.unwrap_or_default(),
            },
            "Textarea" => ControlValue::Textarea {
                text: wire.text.unwrap_or_default(),
            },
            "Number" => ControlValue::Number {
                number: wire.new_number,
            },
            "Money" => ControlValue::Money {
                money: wire.new_money,
            },
            "Date" => {
                let d = wire.date;
                ControlValue::Date {
                    kind: d.as_ref().and_then(|d| d.kind.clone()),
                    timestamp: d.and_then(|d| d.s_timestamp),
                }
            }
            "Selector" => {
                let (kind, options) = wire
                    .selector
                    .map(|s| (s.kind, s.options))
                    .unwrap_or_default();
                ControlValue::Selector { kind, options }
            }
            "Contact" => ControlValue::Contact {
                members: wire.members,
                departments: wire.departments,
            },
            "Tips" => ControlValue::Tips,
            "File" => ControlValue::File { files: wire.files },
            "Table" => ControlValue::Table {
                rows: wire.children,
            },
            "DateRange" => match wire.date_range {
                Some(r) => ControlValue::DateRange {
                    kind: r.kind,
                    begin: r.new_begin,
                    end: r.new_end,
                    duration_s: r.new_duration,
                },
                None => ControlValue::DateRange {
                    kind: None,
                    begin: None,
                    end: None,
                    duration_s: None,
                },
            },
            "Location" => match wire.location {
                Some(l) => ControlValue::Location {
                    latitude: l.latitude,
                    longitude: l.longitude,
                    title: l.title,
                    address: l.address,
                    time: l.time,
                },
                None => ControlValue::Location {
                    latitude: None,
                    longitude: None,
                    title: String::new(),
                    address: String::new(),
                    time: None,
                },
            },
            "Formula" => ControlValue::Formula {
                value: wire.formula.and_then(|f| f.value),
            },
            "SchoolContact" => ControlValue::SchoolContact {
                students: wire.students,
                classes: wire.classes,
            },
            "Doc" => ControlValue::Doc { docs: wire.docs },
            "WedriveFile" => ControlValue::WedriveFile {
                files: wire.wedrive_files,
            },
            _ => unreachable!("KNOWN_CONTROLS and this match list the same names"),
        }
    }

    /// The `control` name this value is sent under (`Unknown` has none of its own; the caller
    /// of [`Control::new`] with an unknown value should set `Control::control` afterwards).
    pub fn control_name(&self) -> &'static str {
        match self {
            ControlValue::Text { .. } => "Text",
            ControlValue::Textarea { .. } => "Textarea",
            ControlValue::Number { .. } => "Number",
            ControlValue::Money { .. } => "Money",
            ControlValue::Date { .. } => "Date",
            ControlValue::Selector { .. } => "Selector",
            ControlValue::Contact { .. } => "Contact",
            ControlValue::Tips => "Tips",
            ControlValue::File { .. } => "File",
            ControlValue::Table { .. } => "Table",
            ControlValue::DateRange { .. } => "DateRange",
            ControlValue::Location { .. } => "Location",
            ControlValue::Formula { .. } => "Formula",
            ControlValue::SchoolContact { .. } => "SchoolContact",
            ControlValue::Doc { .. } => "Doc",
            ControlValue::WedriveFile { .. } => "WedriveFile",
            ControlValue::Unknown { .. } => "Unknown",
        }
    }

    /// Encodes the value as WeCom sends it: its own key(s), and every other shape's array key
    /// present and empty.
    pub fn to_api_value(&self) -> Value {
        if let ControlValue::Unknown { raw } = self {
            return raw.clone();
        }
        let mut m = Map::new();
        for k in EMPTY_ARRAY_KEYS {
            m.insert((*k).to_string(), Value::Array(vec![]));
        }
        let ts = |t: &Option<i64>| {
            t.map(|t| Value::String(t.to_string()))
                .unwrap_or(Value::Null)
        };
        match self {
            ControlValue::Text { text } | ControlValue::Textarea { text } => {
                m.insert("text".into(), json!(text));
            }
            ControlValue::Number { number } => {
                m.insert(
                    "new_number".into(),
                    json!(number.clone().unwrap_or_default()),
                );
            }
            ControlValue::Money { money } => {
                m.insert("new_money".into(), json!(money.clone().unwrap_or_default()));
            }
            ControlValue::Date { kind, timestamp } => {
                m.insert(
                    "date".into(),
                    json!({"type": kind, "s_timestamp": ts(timestamp)}),
                );
            }
            ControlValue::Selector { kind, options } => {
                m.insert("selector".into(), json!({"type": kind, "options": options}));
            }
            ControlValue::Contact {
                members,
                departments,
            } => {
                m.insert("members".into(), json!(members));
                m.insert("departments".into(), json!(departments));
            }
            ControlValue::Tips => {}
            ControlValue::File { files } => {
                m.insert("files".into(), json!(files));
            }
            ControlValue::Table { rows } => {
                m.insert("children".into(), json!(rows));
            }
            ControlValue::DateRange {
                kind,
                begin,
                end,
                duration_s,
            } => {
                m.insert(
                    "date_range".into(),
                    json!({"type": kind, "new_begin": begin, "new_end": end, "new_duration": duration_s}),
                );
            }
            ControlValue::Location {
                latitude,
                longitude,
                title,
                address,
                time,
            } => {
                m.insert(
                    "location".into(),
                    json!({"latitude": latitude, "longitude": longitude, "title": title,
                           "address": address, "time": time}),
                );
            }
            ControlValue::Formula { value } => {
                m.insert("formula".into(), json!({ "value": value }));
            }
            ControlValue::SchoolContact { students, classes } => {
                m.insert("students".into(), json!(students));
                m.insert("classes".into(), json!(classes));
            }
            ControlValue::Doc { docs } => {
                m.insert("docs".into(), json!(docs));
            }
            ControlValue::WedriveFile { files } => {
                m.insert("wedrive_files".into(), json!(files));
            }
            ControlValue::Unknown { .. } => unreachable!("handled above"),
        }
        Value::Object(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics (doc 93395)

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

// ---------------------------------------------------------------------------------------------
// Wedrive download (doc 98021)

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct WedriveDownloadRequest {
    pub journaluuid: String,
    pub fileid: String,
}

/// Where and how to fetch a wedrive file's bytes (valid two hours). Its cookie is a credential:
/// `Debug` leaves it out.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
pub struct WedriveDownload {
    pub download_url: String,
    pub cookie_name: String,
    pub cookie_value: String,
}

impl std::fmt::Debug for WedriveDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WedriveDownload")
            .field("download_url", &"[redacted]")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_value", &"[redacted]")
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Directory

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct DepartmentListResponse {
    #[serde(default)]
    pub department: Vec<Department>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Department {
    #[serde(deserialize_with = "u64_lenient")]
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub parentid: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct UserListResponse {
    #[serde(default)]
    pub userlist: Vec<DirectoryUser>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DirectoryUser {
    pub userid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub department: Vec<u64>,
    #[serde(
        default,
        deserialize_with = "super::num::opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub main_department: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_round_trips_through_the_api_encoding() {
        let c = Control::new(
            "Selector-1",
            vec![LangText {
                text: "状态".into(),
                lang: Some("zh_CN".into()),
            }],
            ControlValue::Selector {
                kind: Some(SelectorKind::Multi),
                options: vec![SelectorOption {
                    key: "opt-1".into(),
                    value: vec![LangText {
                        text: "完成".into(),
                        lang: None,
                    }],
                }],
            },
        );
        let text = serde_json::to_string(&c).unwrap();
        let back: Control = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.raw_value["members"], json!([]));
    }

    #[test]
    fn unknown_control_keeps_its_raw_value() {
        let c: Control = serde_json::from_str(
            r#"{"control":"Vote","id":"v","title":[{"text":"投票"}],"value":{"vote":{"n":18446744073709551615}}}"#,
        )
        .unwrap();
        assert_eq!(c.control, "Vote");
        match &c.value {
            ControlValue::Unknown { raw } => assert_eq!(raw["vote"]["n"].as_u64(), Some(u64::MAX)),
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[test]
    fn dispatch_is_on_the_control_name_not_on_filled_keys() {
        // A Text control whose value also carries (filled) students stays Text.
        let c: Control = serde_json::from_str(
            r#"{"control":"Text","id":"t","title":[],"value":{"text":"x","students":[{"name":"J"}]}}"#,
        )
        .unwrap();
        assert_eq!(c.value, ControlValue::Text { text: "x".into() });
    }

    #[test]
    fn titles_pick_zh_cn_or_the_first() {
        let t = vec![
            LangText {
                text: "Work".into(),
                lang: Some("en".into()),
            },
            LangText {
                text: "工作".into(),
                lang: Some("zh_CN".into()),
            },
        ];
        assert_eq!(pick_text(&t), Some("工作"));
        assert_eq!(pick_text_en(&t), Some("Work"));
        let t = vec![LangText {
            text: "工作".into(),
            lang: None,
        }];
        assert_eq!(pick_text(&t), Some("工作"));
        assert_eq!(pick_text_en(&t), None);
    }
}
