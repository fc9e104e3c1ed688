//! A form control of a journal (`apply_data.contents`, or a Table row's cells): its name, id,
//! multi-language title, typed value and the exact text of that value; and the one walk over
//! a control list and all its descendants ([`Control::walk`]).
//!
//! The typed values themselves (decoding by control name, the API encoding) are in
//! [`super::control_value`].

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::control_value::ApiEncoding;
use super::{lenient, ControlValue};

/// A multi-language text: `lang` is optional (older responses and single-language corps omit it).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct LangText {
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub lang: Option<String>,
}

/// Picks the zh_CN text of a multi-language list, or the first when none says zh_CN.
pub(crate) fn pick_text(texts: &[LangText]) -> Option<&str> {
    texts
        .iter()
        .find(|t| t.lang.as_deref() == Some("zh_CN"))
        .or_else(|| texts.first())
        .map(|t| t.text.as_str())
}

/// The English text of a multi-language list, when one is there.
pub(crate) fn pick_text_en(texts: &[LangText]) -> Option<&str> {
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

    /// Every control of `controls` and, under each Table, the cells of its rows (recursively,
    /// Tables in Tables included), depth-first in document order: a Table comes before its
    /// first row's cells, and row 0's cells before row 1's. Descends only into values decoded
    /// as [`ControlValue::Table`] (dispatch is on the control's name, as everywhere); a Table
    /// whose value did not decode is met but has no cells. [`ControlWalk::placed`] also says
    /// where each control sits.
    ///
    /// The one walk of the control tree: whoever needs every control of a journal (the
    /// wedrive downloads, the store's plan facts, the simulator) takes it from here.
    pub fn walk(controls: &[Control]) -> ControlWalk<'_> {
        ControlWalk {
            stack: vec![Frame {
                controls: controls.iter(),
                cell: None,
            }],
        }
    }
}

#[derive(Deserialize)]
struct ControlWire {
    #[serde(default, deserialize_with = "lenient::string")]
    control: String,
    #[serde(default, deserialize_with = "lenient::string")]
    id: String,
    #[serde(default, deserialize_with = "lenient::list")]
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

/// Where a control met by [`ControlWalk::placed`] sits when it is a Table's cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TableCell<'a> {
    /// The Table control whose row holds the cell.
    pub(crate) table: &'a Control,
    /// The row's index among the Table's rows, from 0.
    pub(crate) row: usize,
}

/// The iterator of [`Control::walk`]: each control once, depth-first. Holds one frame per
/// Table row still to walk, never a copy of a control.
#[derive(Debug, Clone)]
pub struct ControlWalk<'a> {
    /// The lists still to walk, the one to continue last; a Table pushes its rows in reverse
    /// so that row 0 comes next.
    stack: Vec<Frame<'a>>,
}

#[derive(Debug, Clone)]
struct Frame<'a> {
    controls: std::slice::Iter<'a, Control>,
    /// `None` for the walked list itself; the Table and row for a row's cells.
    cell: Option<TableCell<'a>>,
}

impl<'a> ControlWalk<'a> {
    /// The same walk, each control with its [`TableCell`] (`None` for the walked list's own
    /// controls).
    pub(crate) fn placed(self) -> impl Iterator<Item = (&'a Control, Option<TableCell<'a>>)> {
        let mut walk = self;
        std::iter::from_fn(move || walk.next_placed())
    }

    fn next_placed(&mut self) -> Option<(&'a Control, Option<TableCell<'a>>)> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(control) = frame.controls.next() else {
                self.stack.pop();
                continue;
            };
            let cell = frame.cell;
            if let ControlValue::Table { rows } = &control.value {
                for (row, r) in rows.iter().enumerate().rev() {
                    self.stack.push(Frame {
                        controls: r.list.iter(),
                        cell: Some(TableCell {
                            table: control,
                            row,
                        }),
                    });
                }
            }
            return Some((control, cell));
        }
    }
}

impl<'a> Iterator for ControlWalk<'a> {
    type Item = &'a Control;

    fn next(&mut self) -> Option<&'a Control> {
        self.next_placed().map(|(control, _)| control)
    }
}
