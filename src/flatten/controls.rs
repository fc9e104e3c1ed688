//! Rendering of form controls: one [`ControlRow`] per control (Table cells too, depth-first),
//! plus the files, wedrive files and docs they reference.
//!
//! Owns how each of the 17 control shapes becomes `value_text` and the typed value columns.
//! `value_json` is always the exact original value; a type this crate does not know, or a value
//! that does not decode, is still a row (with `value_json`, `value_text` null) and is counted in
//! [`Warnings`]. Knows nothing of DataFrames.

use chrono::{DateTime, Timelike};
use chrono_tz::Tz;

use crate::wecom::types::{pick_text, pick_text_en, Control, ControlValue, DateKind};

use super::directory::Directory;
use super::Warnings;

/// Separator of the items of a rendered list (options, names, ids).
pub const LIST_SEPARATOR: &str = "、";

/// What referenced an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    File,
    WedriveFile,
    Doc,
}

impl AttachmentKind {
    /// The `kind` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::File => "file",
            AttachmentKind::WedriveFile => "wedrive_file",
            AttachmentKind::Doc => "doc",
        }
    }
}

/// One row of `journal_controls` (without the journal's own columns).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlRow {
    pub seq: u32,
    pub control_id: String,
    pub control_type: String,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub parent_control_id: Option<String>,
    pub table_row: Option<u32>,
    pub value_text: Option<String>,
    pub value_number: Option<f64>,
    /// Milliseconds since the epoch.
    pub value_time: Option<i64>,
    pub value_end_time: Option<i64>,
    pub value_duration_s: Option<i64>,
    pub value_options: Option<Vec<String>>,
    pub value_json: String,
}

/// One row of `journal_attachments` (without the journal's own columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub control_id: String,
    pub kind: AttachmentKind,
    pub file_id: String,
    pub name: Option<String>,
}

/// Renders a journal's controls depth-first, appending to `rows` and `attachments`; `seq`
/// continues from `rows.len()`.
pub fn render_controls(
    controls: &[Control],
    dir: &Directory,
    tz: Tz,
    warnings: &mut Warnings,
    rows: &mut Vec<ControlRow>,
    attachments: &mut Vec<AttachmentRow>,
) {
    let mut ctx = Ctx {
        dir,
        tz,
        warnings,
        rows,
        attachments,
    };
    for c in controls {
        ctx.render(c, None, None);
    }
}

struct Ctx<'a> {
    dir: &'a Directory,
    tz: Tz,
    warnings: &'a mut Warnings,
    rows: &'a mut Vec<ControlRow>,
    attachments: &'a mut Vec<AttachmentRow>,
}

impl Ctx<'_> {
    fn render(&mut self, c: &Control, parent: Option<&str>, table_row: Option<u32>) {
        let mut row = ControlRow {
            seq: u32::try_from(self.rows.len()).unwrap_or(u32::MAX),
            control_id: c.id.clone(),
            control_type: c.control.clone(),
            title: pick_text(&c.title).map(str::to_string),
            title_en: pick_text_en(&c.title).map(str::to_string),
            parent_control_id: parent.map(str::to_string),
            table_row,
            // serde_json::Value always serialises; the fallback is unreachable in practice.
            value_json: serde_json::to_string(&c.raw_value).unwrap_or_else(|_| "null".into()),
            ..ControlRow::default()
        };
        let mut table_rows = None;
        match &c.value {
            ControlValue::Text { text } | ControlValue::Textarea { text } => {
                row.value_text = Some(text.clone())
            }
            ControlValue::Number { number: d }
            | ControlValue::Money { money: d }
            | ControlValue::Formula { value: d } => {
                row.value_text = d.clone();
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
                            row.value_text = Some(
                                t.format(if hour { "%Y-%m-%d %H:%M" } else { "%Y-%m-%d" })
                                    .to_string(),
                            );
                        }
                        None => self.warnings.undecodable(&c.control),
                    }
                }
            }
            ControlValue::Selector { options, .. } => {
                let texts: Vec<String> = options
                    .iter()
                    .map(|o| pick_text(&o.value).unwrap_or(&o.key).to_string())
                    .collect();
                row.value_text = join(texts.iter().map(String::as_str));
                row.value_options = Some(texts);
            }
            ControlValue::Contact {
                members,
                departments,
            } => {
                let members = members.iter().map(|m| {
                    m.name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .or_else(|| self.dir.user_name(&m.userid))
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
                                .and_then(|id| self.dir.department(id))
                                .map(|d| d.name.as_str())
                        })
                        .unwrap_or(&d.openapi_id)
                });
                row.value_text = join(members.chain(depts));
            }
            ControlValue::Tips => row.value_text = Some(String::new()),
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
                        d.doc_url.clone().filter(|u| !u.is_empty()),
                    );
                }
            }
            ControlValue::Table { rows } => {
                row.value_text = Some(format!("{} 行", rows.len()));
                table_rows = Some(rows);
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
                    _ => Some(format!(
                        "{} ~ {}",
                        b.as_ref().map(|(_, l)| fmt(l)).unwrap_or_default(),
                        e.as_ref().map(|(_, l)| fmt(l)).unwrap_or_default()
                    )),
                };
            }
            ControlValue::Location { title, address, .. } => {
                let text = format!("{} {}", title.trim(), address.trim());
                row.value_text = Some(text.trim().to_string()).filter(|t| !t.is_empty());
            }
            ControlValue::SchoolContact { students, classes } => {
                row.value_text = join(students.iter().chain(classes).map(|n| n.name.as_str()));
            }
            ControlValue::Unknown { .. } => {
                if ControlValue::KNOWN_CONTROLS.contains(&c.control.as_str()) {
                    self.warnings.undecodable(&c.control);
                } else {
                    self.warnings.unknown_control(&c.control);
                }
            }
        }
        self.rows.push(row);
        if let Some(table_rows) = table_rows {
            for (i, r) in table_rows.iter().enumerate() {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                for cell in &r.list {
                    self.render(cell, Some(&c.id), Some(i));
                }
            }
        }
    }

    fn attach(&mut self, c: &Control, kind: AttachmentKind, file_id: &str, name: Option<String>) {
        self.attachments.push(AttachmentRow {
            control_id: c.id.clone(),
            kind,
            file_id: file_id.to_string(),
            name,
        });
    }

    /// Local time of a timestamp in seconds, when it is in range (and its milliseconds fit i64).
    fn local(&self, ts: i64) -> Option<DateTime<Tz>> {
        ts.checked_mul(1000)?;
        DateTime::from_timestamp(ts, 0).map(|t| t.with_timezone(&self.tz))
    }
}

/// Joins items with [`LIST_SEPARATOR`]; `None` when there are none.
fn join<'a>(items: impl Iterator<Item = &'a str>) -> Option<String> {
    let v: Vec<&str> = items.collect();
    (!v.is_empty()).then(|| v.join(LIST_SEPARATOR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wecom::types::{LangText, TableRow};
    use serde_json::json;

    fn render_all(controls: &[Control]) -> (Vec<ControlRow>, Vec<AttachmentRow>, Warnings) {
        let mut w = Warnings::default();
        let (mut rows, mut att) = (vec![], vec![]);
        render_controls(
            controls,
            &Directory::empty(),
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
        let (rows, _, w) = render_all(&[outer, cell("z", "end")]);
        let got: Vec<(u32, &str, Option<&str>, Option<u32>)> = rows
            .iter()
            .map(|r| {
                (
                    r.seq,
                    r.control_id.as_str(),
                    r.parent_control_id.as_deref(),
                    r.table_row,
                )
            })
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
        let (rows, _, w) = render_all(&[c]);
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
        let (rows, _, w) = render_all(&[unknown, bad]);
        assert_eq!(rows[0].value_json, r#"{"vote":1}"#);
        assert_eq!(rows[0].value_text, None);
        assert_eq!(rows[1].value_text, None);
        assert_eq!(w.unknown_control_types.get("Vote"), Some(&1));
        assert_eq!(w.undecodable_values.get("Date"), Some(&1));
    }
}
