//! Typed requests and responses of the journal endpoints and the directory, as WeCom sends them.
//!
//! Shared by the client (which decodes them), the simulator (which encodes them) and `flatten`
//! (which decodes stored raw JSON). Integers are accepted as numbers or numeric strings; u64 ids
//! never pass through f64. A control's `value` is decoded by its `control` name into
//! [`ControlValue`], and the original JSON text is kept beside it, byte for byte, so nothing is
//! ever lost or re-formatted.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::num::{i64_lenient, opt_i64_lenient, u64_lenient};

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
/// `value` is decoded by `control`; `raw_value` is the exact JSON text that arrived (the bytes
/// WeCom sent, whitespace and number spellings included), which is what `value_json` keeps and
/// what [`Control`] serialises back. Keeping the text rather than a `serde_json::Value` costs
/// one allocation instead of a tree of them, and is exact where a `Value` is not (a 17-digit
/// float may come back with another last digit; a `Value` object re-orders nothing but
/// re-spells numbers and escapes).
///
/// Two controls are equal when their names, ids, titles, raw texts and typed values are.
#[derive(Debug, Clone)]
pub struct Control {
    /// The `control` name as sent (`Text`, `Selector`, … or a type this crate does not know).
    pub control: String,
    pub id: String,
    pub title: Vec<LangText>,
    pub value: ControlValue,
    pub raw_value: Box<RawValue>,
}

impl PartialEq for Control {
    fn eq(&self, other: &Self) -> bool {
        self.control == other.control
            && self.id == other.id
            && self.title == other.title
            && self.raw_value.get() == other.raw_value.get()
            && self.value == other.value
    }
}

/// The raw text of a JSON value that has none (a control sent without `value`).
fn raw_null() -> Box<RawValue> {
    // `RawValue::NULL` is the text `null`; boxing it copies four bytes.
    RawValue::NULL.to_owned()
}

/// Encodes a `Value` as raw JSON text. A `Value` always serialises (its keys are strings), so
/// the `null` fallback is never taken in practice.
fn encode_raw<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| raw_null())
}

impl Control {
    /// Builds a control from a typed value, encoding it once the way WeCom does (the other
    /// shapes' keys present as empty arrays). A value of a type this crate does not know has no
    /// encoding of its own: build it with [`Control::unknown`] (here it would encode as `null`).
    pub fn new(id: impl Into<String>, title: Vec<LangText>, value: ControlValue) -> Self {
        let raw_value = encode_raw(&ApiEncoding(&value));
        Control {
            control: value.control_name().to_string(),
            id: id.into(),
            title,
            value,
            raw_value,
        }
    }

    /// A control of a type this crate does not decode, kept as `raw` (encoded once).
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
            value: ControlValue::Unknown,
            raw_value: encode_raw(&raw),
        }
    }

    /// A control from the exact text of its `value`, decoded by `control` as a response's
    /// control is (an unknown name, or a value that does not decode, gives `Unknown`).
    pub fn from_raw(
        control: impl Into<String>,
        id: impl Into<String>,
        title: Vec<LangText>,
        raw_value: Box<RawValue>,
    ) -> Self {
        let control = control.into();
        let value = ControlValue::from_api(&control, &raw_value);
        Control {
            control,
            id: id.into(),
            title,
            value,
            raw_value,
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
    #[serde(default = "raw_null")]
    value: Box<RawValue>,
}

impl<'de> Deserialize<'de> for Control {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = ControlWire::deserialize(d)?;
        Ok(Control::from_raw(
            wire.control,
            wire.id,
            wire.title,
            wire.value,
        ))
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
    /// A control type this crate does not know, or a known one whose value did not decode.
    /// The value is the control's `raw_value`, exactly as it came (not copied here: one copy
    /// of the text is enough).
    Unknown,
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
    #[serde(default, deserialize_with = "exact_decimal")]
    latitude: Option<String>,
    #[serde(default, deserialize_with = "exact_decimal")]
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
    #[serde(default, deserialize_with = "exact_decimal")]
    value: Option<String>,
}

/// The union of every shape's keys: a value is decoded once, then the control name picks.
#[derive(Deserialize)]
struct ValueWire {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "exact_decimal")]
    new_number: Option<String>,
    #[serde(default, deserialize_with = "exact_decimal")]
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
/// Decoded straight from the input (no intermediate `Value` tree).
fn object_or_empty<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrEmpty<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrEmpty<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object, an empty array or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            match seq.next_element::<IgnoredAny>()? {
                None => Ok(None),
                Some(_) => Err(de::Error::custom(
                    "expected an object, got a non-empty array",
                )),
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    d.deserialize_any(ObjectOrEmpty(PhantomData))
}

/// A decimal that WeCom sends as a string (`new_number`, `new_money`, `formula.value`,
/// coordinates) but that may also arrive as a bare number: kept as its exact text, digit for
/// digit (a bare number's text is taken as written, never through f64). Empty or null is
/// `None`.
///
/// Borrows the value's text from the input, so it only works on deserializers over a `&str`
/// (`serde_json::from_str`), which is how control values are decoded (from their raw text).
fn exact_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            // No escape: the text between the quotes is the string.
            let s = match text.get(1..text.len() - 1) {
                Some(inner) if !inner.contains('\\') => inner.to_string(),
                _ => serde_json::from_str::<String>(text).map_err(de::Error::custom)?,
            };
            Ok((!s.is_empty()).then_some(s))
        }
        Some(b'-' | b'0'..=b'9') => Ok(Some(text.to_string())),
        _ if text == "null" => Ok(None),
        _ => Err(de::Error::custom(format!(
            "expected a decimal string, got {text}"
        ))),
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

    /// Decodes a control's `value` (its exact JSON text) by its `control` name. Never fails:
    /// an unknown name, or a known one whose value does not have the documented shape, becomes
    /// `Unknown` (the raw text stays in the control), so the caller can count a warning and
    /// still keep everything.
    pub fn from_api(control: &str, raw: &RawValue) -> ControlValue {
        if !Self::KNOWN_CONTROLS.contains(&control) {
            return ControlValue::Unknown;
        }
        let text = raw.get().trim_start();
        // An object, or null for "empty". (A struct would also accept an array, by position.)
        let text = match text.as_bytes().first() {
            Some(b'{') => text,
            _ if text == "null" => "{}",
            _ => return ControlValue::Unknown,
        };
        let wire: ValueWire = match serde_json::from_str(text) {
            Ok(w) => w,
            Err(_) => return ControlValue::Unknown,
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
            ControlValue::Unknown => "Unknown",
        }
    }

    /// Encodes the value as WeCom sends it (see [`ApiEncoding`]) into a `Value`. `Unknown` has
    /// no encoding of its own (its text is the control's `raw_value`): `null`.
    pub fn to_api_value(&self) -> Value {
        serde_json::to_value(ApiEncoding(self)).unwrap_or(Value::Null)
    }
}

/// A typed value serialised as WeCom sends it: every shape's array key present (empty when not
/// its own, in the API examples' order), then its own non-array key. A Table's cells are
/// written from their `raw_value` text as it is, so a table built from cells holds their exact
/// bytes (going through a `Value` would re-spell them).
struct ApiEncoding<'a>(&'a ControlValue);

impl Serialize for ApiEncoding<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let v = self.0;
        if let ControlValue::Unknown = v {
            return s.serialize_unit();
        }
        let none: [(); 0] = [];
        let mut m = s.serialize_map(None)?;
        for key in EMPTY_ARRAY_KEYS {
            match (*key, v) {
                ("members", ControlValue::Contact { members, .. }) => {
                    m.serialize_entry(key, members)?
                }
                ("departments", ControlValue::Contact { departments, .. }) => {
                    m.serialize_entry(key, departments)?
                }
                ("files", ControlValue::File { files }) => m.serialize_entry(key, files)?,
                ("children", ControlValue::Table { rows }) => m.serialize_entry(key, rows)?,
                ("students", ControlValue::SchoolContact { students, .. }) => {
                    m.serialize_entry(key, students)?
                }
                ("classes", ControlValue::SchoolContact { classes, .. }) => {
                    m.serialize_entry(key, classes)?
                }
                ("docs", ControlValue::Doc { docs }) => m.serialize_entry(key, docs)?,
                ("wedrive_files", ControlValue::WedriveFile { files }) => {
                    m.serialize_entry(key, files)?
                }
                _ => m.serialize_entry(key, &none)?,
            }
        }
        let ts = |t: &Option<i64>| t.map(|t| t.to_string());
        match v {
            ControlValue::Text { text } | ControlValue::Textarea { text } => {
                m.serialize_entry("text", text)?
            }
            ControlValue::Number { number } => {
                m.serialize_entry("new_number", number.as_deref().unwrap_or_default())?
            }
            ControlValue::Money { money } => {
                m.serialize_entry("new_money", money.as_deref().unwrap_or_default())?
            }
            ControlValue::Date { kind, timestamp } => m.serialize_entry(
                "date",
                &json!({"type": kind, "s_timestamp": ts(timestamp)}),
            )?,
            ControlValue::Selector { kind, options } => m.serialize_entry(
                "selector",
                &json!({"type": kind, "options": options}),
            )?,
            ControlValue::DateRange {
                kind,
                begin,
                end,
                duration_s,
            } => m.serialize_entry(
                "date_range",
                &json!({"type": kind, "new_begin": begin, "new_end": end, "new_duration": duration_s}),
            )?,
            ControlValue::Location {
                latitude,
                longitude,
                title,
                address,
                time,
            } => m.serialize_entry(
                "location",
                &json!({"latitude": latitude, "longitude": longitude, "title": title,
                        "address": address, "time": time}),
            )?,
            ControlValue::Formula { value } => {
                m.serialize_entry("formula", &json!({ "value": value }))?
            }
            // Their keys are among the array keys above; Tips has none.
            ControlValue::Contact { .. }
            | ControlValue::Tips
            | ControlValue::File { .. }
            | ControlValue::Table { .. }
            | ControlValue::SchoolContact { .. }
            | ControlValue::Doc { .. }
            | ControlValue::WedriveFile { .. }
            | ControlValue::Unknown => {}
        }
        m.end()
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
        assert_eq!(back.raw_value.get(), c.raw_value.get());
        let raw: Value = serde_json::from_str(back.raw_value.get()).unwrap();
        assert_eq!(raw["members"], json!([]));
    }

    #[test]
    fn unknown_control_keeps_its_raw_value_byte_for_byte() {
        let value =
            r#"{ "vote" : {"n":18446744073709551615, "f": 0.30000000000000004, "e": 1E+2} }"#;
        let c: Control = serde_json::from_str(&format!(
            r#"{{"control":"Vote","id":"v","title":[{{"text":"投票"}}],"value": {value}}}"#
        ))
        .unwrap();
        assert_eq!(c.control, "Vote");
        assert_eq!(c.value, ControlValue::Unknown);
        assert_eq!(c.raw_value.get(), value);
        // And it is written back as it came.
        let again = serde_json::to_string(&c).unwrap();
        assert!(again.ends_with(&format!(r#""value":{value}}}"#)), "{again}");
    }

    #[test]
    fn known_values_keep_their_text_and_decode_exactly() {
        let value = r#"{"new_number": 12345678901234567.890123, "tips": [] }"#;
        let c: Control = serde_json::from_str(&format!(
            r#"{{"control":"Number","id":"n","title":[],"value":{value}}}"#
        ))
        .unwrap();
        assert_eq!(c.raw_value.get(), value);
        // A bare number keeps its digits (never through f64).
        assert_eq!(
            c.value,
            ControlValue::Number {
                number: Some("12345678901234567.890123".into())
            }
        );
        let c: Control = serde_json::from_str(
            r#"{"control":"Money","id":"m","value":{"new_money":"1\u0032.5"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.value,
            ControlValue::Money {
                money: Some("12.5".into())
            }
        );
    }

    #[test]
    fn nested_shapes_accept_empty_arrays_null_and_objects_only() {
        let decode = |value: &str| {
            let c: Control =
                serde_json::from_str(&format!(r#"{{"control":"Date","id":"d","value":{value}}}"#))
                    .unwrap();
            c.value
        };
        let none = ControlValue::Date {
            kind: None,
            timestamp: None,
        };
        assert_eq!(decode(r#"{"date":[]}"#), none);
        assert_eq!(decode(r#"{"date":null}"#), none);
        assert_eq!(decode("null"), none);
        assert_eq!(
            decode(r#"{"date":{"type":"hour","s_timestamp":"1606365591"}}"#),
            ControlValue::Date {
                kind: Some(DateKind::Hour),
                timestamp: Some(1_606_365_591),
            }
        );
        assert_eq!(decode(r#"{"date":[1]}"#), ControlValue::Unknown);
        assert_eq!(decode(r#"{"date":"x"}"#), ControlValue::Unknown);
        // A known type whose value is not an object.
        assert_eq!(decode("[]"), ControlValue::Unknown);
        assert_eq!(decode("\"x\""), ControlValue::Unknown);
    }

    #[test]
    fn a_control_without_value_is_null() {
        let c: Control = serde_json::from_str(r#"{"control":"Text","id":"t"}"#).unwrap();
        assert_eq!(c.raw_value.get(), "null");
        assert_eq!(
            c.value,
            ControlValue::Text {
                text: String::new()
            }
        );
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
