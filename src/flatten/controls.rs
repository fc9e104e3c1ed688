//! Rendering of form controls: one [`ControlRow`] per control (Table cells too, depth-first),
//! plus the files, wedrive files and docs they reference.
//!
//! Owns how each of the 17 control shapes becomes `value_text` and the typed value columns.
//! `value_json` is always the exact original value; a type this crate does not know, or a value
//! that does not decode, is still a row (with `value_json`, `value_text` null) and is counted in
//! [`Warnings`]. Knows nothing of DataFrames.

use std::borrow::Cow;

use chrono::{DateTime, Timelike};
use chrono_tz::Tz;

use crate::wecom::types::{pick_text, pick_text_en, Control, ControlValue, DateKind, TableCell};

use super::directory::Directory;
use super::Warnings;

/// Separator of the items of a rendered list (options, names, ids).
pub(crate) const LIST_SEPARATOR: &str = "、";

/// What referenced an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachmentKind {
    File,
    WedriveFile,
    Doc,
}

impl AttachmentKind {
    /// The `kind` column's value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::File => "file",
            AttachmentKind::WedriveFile => "wedrive_file",
            AttachmentKind::Doc => "doc",
        }
    }
}

/// One row of `journal_controls` (without the journal's own columns), borrowing what it can
/// from the decoded controls: a batch's rows are columns a moment later, and copying every id,
/// title and `value_json` into a `String` of its own first was most of flatten's allocations.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ControlRow<'a> {
    pub(crate) seq: u32,
    pub(crate) control_id: &'a str,
    pub(crate) control_type: &'a str,
    pub(crate) title: Option<&'a str>,
    pub(crate) title_en: Option<&'a str>,
    pub(crate) parent_control_id: Option<&'a str>,
    pub(crate) table_row: Option<u32>,
    pub(crate) value_text: Option<Cow<'a, str>>,
    pub(crate) value_number: Option<f64>,
    /// Milliseconds since the epoch.
    pub(crate) value_time: Option<i64>,
    pub(crate) value_end_time: Option<i64>,
    pub(crate) value_duration_s: Option<i64>,
    pub(crate) value_options: Option<Vec<&'a str>>,
    /// The control's `raw_value`: the exact text WeCom sent.
    pub(crate) value_json: &'a str,
}

/// One row of `journal_attachments` (without the journal's own columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttachmentRow<'a> {
    pub(crate) control_id: &'a str,
    pub(crate) kind: AttachmentKind,
    pub(crate) file_id: &'a str,
    pub(crate) name: Option<&'a str>,
}

/// Renders a journal's controls depth-first, appending to `rows` and `attachments`; `seq`
/// numbers this call's rows from 0 (a journal's controls), whatever `rows` already holds.
pub(crate) fn render_controls<'a>(
    controls: &'a [Control],
    dir: &'a Directory,
    tz: Tz,
    warnings: &mut Warnings,
    rows: &mut Vec<ControlRow<'a>>,
    attachments: &mut Vec<AttachmentRow<'a>>,
) {
    let mut ctx = Ctx {
        first: rows.len(),
        dir,
        tz,
        warnings,
        rows,
        attachments,
    };
    for (c, cell) in Control::walk(controls).placed() {
        ctx.render(c, cell);
    }
}

struct Ctx<'a, 'r> {
    /// `rows.len()` when the journal's first control was rendered.
    first: usize,
    dir: &'a Directory,
    tz: Tz,
    warnings: &'r mut Warnings,
    rows: &'r mut Vec<ControlRow<'a>>,
    attachments: &'r mut Vec<AttachmentRow<'a>>,
}

impl<'a> Ctx<'a, '_> {
    /// One control's row; a Table cell names its Table and row (the walk visits the cells
    /// right after their Table, depth-first).
    fn render(&mut self, c: &'a Control, cell: Option<TableCell<'a>>) {
        let parent = cell.map(|cell| cell.table.id.as_str());
        let table_row = cell.map(|cell| u32::try_from(cell.row).unwrap_or(u32::MAX));
        let mut row = ControlRow {
            seq: u32::try_from(self.rows.len() - self.first).unwrap_or(u32::MAX),
            control_id: &c.id,
            control_type: &c.control,
            title: pick_text(&c.title),
            title_en: pick_text_en(&c.title),
            parent_control_id: parent,
            table_row,
            value_json: c.raw_value.get(),
            ..ControlRow::default()
        };
        match &c.value {
            ControlValue::Text { text } | ControlValue::Textarea { text } => {
                row.value_text = Some(Cow::Borrowed(text))
            }
            ControlValue::Number { number: d }
            | ControlValue::Money { money: d }
            | ControlValue::Formula { value: d } => {
                row.value_text = d.as_deref().map(Cow::Borrowed);
                if let Some(d) = d {
                    match d.trim().parse::<f64>() {
                        Ok(n) if n.is_finite() => row.value_number = Some(n),
                        _ => self.warnings.undecodable(&c.control),
                    }
                }
            }
            ControlValue::Date { kind, timestamp } => {
                if let Some(ts) = timestamp {
                    match self.local(*ts) {
                        Some(t) => {
                            row.value_time = Some(ts * 1000);
                            let hour = match kind {
                                Some(DateKind::Hour) => true,
                                Some(DateKind::Day) => false,
                                None => t.hour() != 0 || t.minute() != 0,
                            };
                            row.value_text = Some(Cow::Owned(
                                t.format(if hour { "%Y-%m-%d %H:%M" } else { "%Y-%m-%d" })
                                    .to_string(),
                            ));
                        }
                        None => self.warnings.undecodable(&c.control),
                    }
                }
            }
            ControlValue::Selector { options, .. } => {
                let texts: Vec<&str> = options
                    .iter()
                    .map(|o| pick_text(&o.value).unwrap_or(&o.key))
                    .collect();
                row.value_text = join(texts.iter().copied());
                row.value_options = Some(texts);
            }
            ControlValue::Contact {
                members,
                departments,
            } => {
                let dir = self.dir;
                let members = members.iter().map(|m| {
                    m.name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .or_else(|| dir.user_name(&m.userid))
                        .unwrap_or(&m.userid)
                });
                let depts = departments.iter().map(|d| {
                    d.name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .or_else(|| {
                            d.openapi_id
                                .parse::<u64>()
                                .ok()
                                .and_then(|id| dir.department(id))
                                .map(|d| d.name.as_str())
                        })
                        .unwrap_or(&d.openapi_id)
                });
                row.value_text = join(members.chain(depts));
            }
            ControlValue::Tips => row.value_text = Some(Cow::Borrowed("")),
            ControlValue::File { files } => {
                row.value_text = join(files.iter().map(|f| f.file_id.as_str()));
                for f in files {
                    self.attach(c, AttachmentKind::File, &f.file_id, None);
                }
            }
            ControlValue::WedriveFile { files } => {
                row.value_text = join(files.iter().map(|f| f.fileid.as_str()));
                for f in files {
                    self.attach(c, AttachmentKind::WedriveFile, &f.fileid, None);
                }
            }
            ControlValue::Doc { docs } => {
                row.value_text = join(docs.iter().map(|d| {
                    d.doc_url
                        .as_deref()
                        .filter(|u| !u.is_empty())
                        .unwrap_or(&d.docid)
                }));
                for d in docs {
                    self.attach(
                        c,
                        AttachmentKind::Doc,
                        &d.docid,
                        d.doc_url.as_deref().filter(|u| !u.is_empty()),
                    );
                }
            }
            ControlValue::Table { rows } => {
                row.value_text = Some(Cow::Owned(format!("{} 行", rows.len())));
            }
            ControlValue::DateRange {
                kind,
                begin,
                end,
                duration_s,
            } => {
                let b = begin.and_then(|t| self.local(t).map(|l| (t, l)));
                let e = end.and_then(|t| self.local(t).map(|l| (t, l)));
                if begin.is_some() != b.is_some() || end.is_some() != e.is_some() {
                    self.warnings.undecodable(&c.control);
                }
                row.value_time = b.map(|(t, _)| t * 1000);
                row.value_end_time = e.map(|(t, _)| t * 1000);
                row.value_duration_s = *duration_s;
                let fmt = |l: &DateTime<Tz>| match kind.as_deref() {
                    Some("halfday") => format!(
                        "{} {}",
                        l.format("%Y-%m-%d"),
                        if l.hour() < 12 { "上午" } else { "下午" }
                    ),
                    _ => l.format("%Y-%m-%d %H:%M").to_string(),
                };
                row.value_text = match (&b, &e) {
                    (None, None) => None,
                    _ => Some(Cow::Owned(format!(
                        "{} ~ {}",
                        b.as_ref().map(|(_, l)| fmt(l)).unwrap_or_default(),
                        e.as_ref().map(|(_, l)| fmt(l)).unwrap_or_default()
                    ))),
                };
            }
            ControlValue::Location { title, address, .. } => {
                row.value_text = match (title.trim(), address.trim()) {
                    ("", "") => None,
                    (t, "") => Some(Cow::Borrowed(t)),
                    ("", a) => Some(Cow::Borrowed(a)),
                    (t, a) => Some(Cow::Owned(format!("{t} {a}"))),
                };
            }
            ControlValue::SchoolContact { students, classes } => {
                row.value_text = join(students.iter().chain(classes).map(|n| n.name.as_str()));
            }
            ControlValue::Unknown => {
                if ControlValue::KNOWN_CONTROLS.contains(&c.control.as_str()) {
                    self.warnings.undecodable(&c.control);
                } else {
                    self.warnings.unknown_control(&c.control);
                }
            }
        }
        self.rows.push(row);
    }

    fn attach(
        &mut self,
        c: &'a Control,
        kind: AttachmentKind,
        file_id: &'a str,
        name: Option<&'a str>,
    ) {
        self.attachments.push(AttachmentRow {
            control_id: &c.id,
            kind,
            file_id,
            name,
        });
    }

    /// Local time of a timestamp in seconds, when it is in range (and its milliseconds fit i64).
    fn local(&self, ts: i64) -> Option<DateTime<Tz>> {
        ts.checked_mul(1000)?;
        DateTime::from_timestamp(ts, 0).map(|t| t.with_timezone(&self.tz))
    }
}

/// Joins items with [`LIST_SEPARATOR`]; `None` when there are none, the item itself (not a
/// copy) when there is one.
fn join<'a>(mut items: impl Iterator<Item = &'a str>) -> Option<Cow<'a, str>> {
    let first = items.next()?;
    let Some(second) = items.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut s = String::with_capacity(first.len() + second.len() + 2 * LIST_SEPARATOR.len());
    s.push_str(first);
    for item in std::iter::once(second).chain(items) {
        s.push_str(LIST_SEPARATOR);
        s.push_str(item);
    }
    Some(Cow::Owned(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wecom::types::{LangText, TableRow};
    use serde_json::json;

    static EMPTY: std::sync::LazyLock<Directory> = std::sync::LazyLock::new(Directory::empty);

    fn render_all(controls: &[Control]) -> (Vec<ControlRow<'_>>, Vec<AttachmentRow<'_>>, Warnings) {
        let mut w = Warnings::default();
        let (mut rows, mut att) = (vec![], vec![]);
        render_controls(
            controls,
            &EMPTY,
            chrono_tz::Asia::Shanghai,
            &mut w,
            &mut rows,
            &mut att,
        );
        (rows, att, w)
    }

    #[test]
    fn nested_tables_are_depth_first() {
        let cell =
            |id: &str, t: &str| Control::new(id, vec![], ControlValue::Text { text: t.into() });
        let inner = Control::new(
            "inner",
            vec![],
            ControlValue::Table {
                rows: vec![
                    TableRow {
                        list: vec![cell("x", "1")],
                    },
                    TableRow {
                        list: vec![cell("y", "2")],
                    },
                ],
            },
        );
        let outer = Control::new(
            "outer",
            vec![],
            ControlValue::Table {
                rows: vec![TableRow {
                    list: vec![cell("a", "0"), inner],
                }],
            },
        );
        let controls = [outer, cell("z", "end")];
        let (rows, _, w) = render_all(&controls);
        let got: Vec<(u32, &str, Option<&str>, Option<u32>)> = rows
            .iter()
            .map(|r| (r.seq, r.control_id, r.parent_control_id, r.table_row))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "outer", None, None),
                (1, "a", Some("outer"), Some(0)),
                (2, "inner", Some("outer"), Some(0)),
                (3, "x", Some("inner"), Some(0)),
                (4, "y", Some("inner"), Some(1)),
                (5, "z", None, None),
            ]
        );
        assert_eq!(rows[2].value_text.as_deref(), Some("2 行"));
        assert!(w.is_empty());
    }

    #[test]
    fn bad_number_text_is_kept_and_counted() {
        let c: Control = serde_json::from_value(json!({"control":"Number","id":"n","title":[{"text":"数"}],"value":{"new_number":"12,5"}})).unwrap();
        let controls = [c];
        let (rows, _, w) = render_all(&controls);
        assert_eq!(rows[0].value_text.as_deref(), Some("12,5"));
        assert_eq!(rows[0].value_number, None);
        assert_eq!(w.undecodable_values.get("Number"), Some(&1));
    }

    #[test]
    fn unknown_and_undecodable_are_counted_apart() {
        let unknown = Control::unknown(
            "Vote",
            "v",
            vec![LangText {
                text: "投票".into(),
                lang: None,
            }],
            json!({"vote": 1}),
        );
        let bad: Control = serde_json::from_value(
            json!({"control":"Date","id":"d","value":{"date":{"s_timestamp":"soon"}}}),
        )
        .unwrap();
        let controls = [unknown, bad];
        let (rows, _, w) = render_all(&controls);
        assert_eq!(rows[0].value_json, r#"{"vote":1}"#);
        assert_eq!(rows[0].value_text, None);
        assert_eq!(rows[1].value_text, None);
        assert_eq!(w.unknown_control_types.get("Vote"), Some(&1));
        assert_eq!(w.undecodable_values.get("Date"), Some(&1));
    }
}
