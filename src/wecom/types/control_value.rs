//! The typed value of a form control, one shape per control type (the 17 shapes of the
//! appendix of doc 93394): decoding a value's exact text by its control name, and encoding a
//! typed value the way WeCom sends it (the simulator and tests build controls from it).

use serde::de;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{lenient, Control, LangText};
use crate::wecom::num::opt_i64_lenient;

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
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub value: Vec<LangText>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Member {
    #[serde(default, deserialize_with = "lenient::string")]
    pub userid: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DepartmentPick {
    /// The department id as a string (`openapi_id`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub(crate) openapi_id: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct FileRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct TableRow {
    #[serde(default, deserialize_with = "lenient::list")]
    pub list: Vec<Control>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct NamedRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct DocRef {
    #[serde(default, deserialize_with = "lenient::string")]
    pub docid: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub doc_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct WedriveRef {
    #[serde(default, deserialize_with = "lenient::string")]
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
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_known")]
    kind: Option<DateKind>,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    s_timestamp: Option<i64>,
}

#[derive(Deserialize)]
struct SelectorWire {
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_known")]
    kind: Option<SelectorKind>,
    #[serde(default, deserialize_with = "lenient::list")]
    options: Vec<SelectorOption>,
}

#[derive(Deserialize)]
struct DateRangeWire {
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_string")]
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
    #[serde(default, deserialize_with = "lenient::string")]
    title: String,
    #[serde(default, deserialize_with = "lenient::string")]
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
    #[serde(default, deserialize_with = "lenient::opt_string")]
    text: Option<String>,
    #[serde(default, deserialize_with = "exact_decimal")]
    new_number: Option<String>,
    #[serde(default, deserialize_with = "exact_decimal")]
    new_money: Option<String>,
    #[serde(default, deserialize_with = "lenient::object_or_empty")]
    date: Option<DateWire>,
    #[serde(default, deserialize_with = "lenient::object_or_empty")]
    selector: Option<SelectorWire>,
    #[serde(default, deserialize_with = "lenient::list")]
    members: Vec<Member>,
    #[serde(default, deserialize_with = "lenient::list")]
    departments: Vec<DepartmentPick>,
    #[serde(default, deserialize_with = "lenient::list")]
    files: Vec<FileRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    children: Vec<TableRow>,
    #[serde(default, deserialize_with = "lenient::object_or_empty")]
    date_range: Option<DateRangeWire>,
    #[serde(default, deserialize_with = "lenient::object_or_empty")]
    location: Option<LocationWire>,
    #[serde(default, deserialize_with = "lenient::object_or_empty")]
    formula: Option<FormulaWire>,
    #[serde(default, deserialize_with = "lenient::list")]
    students: Vec<NamedRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    classes: Vec<NamedRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    docs: Vec<DocRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    wedrive_files: Vec<WedriveRef>,
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
    pub(crate) fn from_api(control: &str, raw: &RawValue) -> ControlValue {
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
    pub(crate) fn control_name(&self) -> &'static str {
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

    /// Encodes the value as WeCom sends it (see `ApiEncoding`) into a `Value`. `Unknown` has
    /// no encoding of its own (its text is the control's `raw_value`): `null`.
    pub fn to_api_value(&self) -> Value {
        serde_json::to_value(ApiEncoding(self)).unwrap_or(Value::Null)
    }
}

/// A typed value serialised as WeCom sends it: every shape's array key present (empty when not
/// its own, in the API examples' order), then its own non-array key. A Table's cells are
/// written from their `raw_value` text as it is, so a table built from cells holds their exact
/// bytes (going through a `Value` would re-spell them).
pub(super) struct ApiEncoding<'a>(pub(super) &'a ControlValue);

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
