//! The wide sheets, built batch by batch as the journals are flattened: per template a sheet
//! of one row per journal (every top-level control a column, typed: numbers, local dates and
//! times, attachments by file name and local path, the 汇报 rich text as plain text), and per
//! Table control a sheet of one row per table row, linked to its journal by the journal id.
//! Rows go straight to the sink's [`SpillSheet`]s (on disk), so nothing of a batch is kept.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::Timelike;
use chrono_tz::Tz;
use polars::prelude::*;

use crate::flatten::{Directory, JournalTables};
use crate::job::{Job, Language};
use crate::sink::labels::{label, label_with};
use crate::sink::{local_time, Cell, SpillSheet};

/// The wide sheets of a run so far.
pub(crate) struct WideSheets {
    language: Language,
    tz: Tz,
    pub(super) directory: Directory,
    templates: Vec<TemplateSheets>,
    by_key: HashMap<String, usize>,
}

/// One template's journal sheet and its Table controls' sheets.
struct TemplateSheets {
    name: String,
    journals: SpillSheet,
    tables: Vec<SpillSheet>,
    table_of: HashMap<String, usize>,
}

/// Leading columns of a wide row, and trailing ids.
const LEAD: [&str; 3] = ["report_time", "user_name", "department_path"];

impl WideSheets {
    pub(crate) fn new(job: &Job, directory: &Directory) -> WideSheets {
        WideSheets {
            language: job.output.language,
            tz: job.source.timezone,
            directory: directory.clone(),
            templates: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    /// The sheets, in order of each template's first journal: its journals, then its tables.
    pub(crate) fn into_sheets(self) -> Vec<SpillSheet> {
        self.templates
            .into_iter()
            .flat_map(|t| std::iter::once(t.journals).chain(t.tables))
            .collect()
    }

    /// The people-facing department of a row: the directory's path, else the name flattened.
    pub(super) fn department_path(&self, id: Option<u64>, name: Option<&str>) -> String {
        id.and_then(|id| self.directory.department(id))
            .map(|d| d.path.clone())
            .or_else(|| name.map(str::to_owned))
            .unwrap_or_default()
    }

    pub(super) fn user_name(&self, userid: &str) -> String {
        self.directory
            .user_name(userid)
            .unwrap_or(userid)
            .to_owned()
    }

    fn template(&mut self, key: &str, name: &str) -> usize {
        if let Some(i) = self.by_key.get(key) {
            return *i;
        }
        let lang = self.language;
        let mut journals = SpillSheet::new(format!("{}·{name}", label(lang, "sheet.journals")));
        for c in LEAD {
            journals.column(c, &label(lang, c));
        }
        journals.repeat_columns(LEAD.len() as u16);
        self.templates.push(TemplateSheets {
            name: name.to_owned(),
            journals,
            tables: Vec::new(),
            table_of: HashMap::new(),
        });
        self.by_key.insert(key.to_owned(), self.templates.len() - 1);
        self.templates.len() - 1
    }

    /// Adds a flattened batch's journals (and their tables' rows) to the sheets.
    pub(crate) fn keep(&mut self, tables: &JournalTables) -> Result<()> {
        let batch = Batch::read(tables, self.tz)
            .map_err(|e| anyhow::anyhow!("reading a batch for the workbook: {e}"))?;
        let lang = self.language;
        for j in 0..batch.uuid.len() {
            let uuid = batch.uuid[j].clone().unwrap_or_default();
            let name = batch.template_name[j].clone().unwrap_or_default();
            let key = batch.template_id[j]
                .clone()
                .unwrap_or_else(|| format!("name:{name}"));
            let t = self.template(&key, &name);
            let submitter = batch.submitter[j].clone().unwrap_or_default();
            let lead =
                [
                    batch.report_time[j].clone(),
                    Cell::text(self.user_name(&submitter)),
                    Cell::text(self.department_path(
                        batch.department_id[j],
                        batch.department_name[j].as_deref(),
                    )),
                ];
            let sheets = &mut self.templates[t];
            let mut row: Vec<(usize, Cell)> = lead.iter().cloned().enumerate().collect();
            let controls = batch
                .controls_of
                .get(uuid.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for &c in controls {
                if batch.c_parent[c].is_some() {
                    continue;
                }
                let ckey = control_key(batch.c_id[c].as_deref(), batch.c_title[c].as_deref());
                let header = batch.c_title[c].clone().unwrap_or_else(|| ckey.clone());
                let column = sheets.journals.column(&ckey, &header);
                let cell = if batch.c_type[c].as_deref() == Some("Table") {
                    let id = batch.c_id[c].clone().unwrap_or_default();
                    let n = table_rows(
                        &batch, controls, &id, &uuid, &lead, sheets, &ckey, &header, lang,
                    )?;
                    let sheet_name = sheets.tables[sheets.table_of[&ckey]].name().to_owned();
                    Cell::text(label_with(
                        lang,
                        "wide.table_rows",
                        &[("n", n.to_string()), ("sheet", sheet_name)],
                    ))
                } else {
                    batch.cell(c, &uuid)
                };
                row.push((column, cell));
            }
            if let Some(text) = &batch.rich_text[j] {
                let column = sheets
                    .journals
                    .column("sys_journal_data", &label(lang, "sys_journal_data"));
                row.push((column, Cell::text(rich_text_to_plain(text))));
            }
            for (stable, value) in [
                ("read_count", batch.read_count[j]),
                ("receiver_count", batch.receiver_count[j]),
                ("comment_count", batch.comment_count[j]),
            ] {
                let column = sheets.journals.tail_column(stable, &label(lang, stable));
                row.push((column, value.map_or(Cell::Empty, Cell::count)));
            }
            let column = sheets
                .journals
                .tail_column("userid", &label(lang, "userid"));
            row.push((column, Cell::text(submitter)));
            let column = sheets
                .journals
                .tail_column("journal_uuid", &label(lang, "journal_uuid"));
            row.push((column, Cell::text(uuid)));
            sheets.journals.push(&row).context("spilling a wide row")?;
        }
        Ok(())
    }
}

/// Writes the rows of the Table control `table_id` of journal `uuid` to its sheet; returns
/// how many rows it has.
#[allow(clippy::too_many_arguments)]
fn table_rows(
    batch: &Batch,
    controls: &[usize],
    table_id: &str,
    uuid: &str,
    lead: &[Cell; 3],
    sheets: &mut TemplateSheets,
    key: &str,
    title: &str,
    lang: Language,
) -> Result<usize> {
    let index = match sheets.table_of.get(key) {
        Some(i) => *i,
        None => {
            let mut sheet = SpillSheet::new(format!(
                "{}·{}·{title}",
                label(lang, "sheet.table"),
                sheets.name
            ));
            for c in LEAD {
                sheet.column(c, &label(lang, c));
            }
            sheet.column("table_row", &label(lang, "table_row"));
            sheet.repeat_columns(LEAD.len() as u16 + 1);
            sheets.tables.push(sheet);
            sheets
                .table_of
                .insert(key.to_owned(), sheets.tables.len() - 1);
            sheets.tables.len() - 1
        }
    };
    let sheet = &mut sheets.tables[index];
    // Cells arrive depth-first, a row's cells together: group them by row.
    let mut rows: Vec<(u32, Vec<(usize, Cell)>)> = Vec::new();
    for &c in controls {
        if batch.c_parent[c].as_deref() != Some(table_id) || table_id.is_empty() {
            continue;
        }
        let r = batch.c_row[c].unwrap_or(0);
        let ckey = control_key(batch.c_id[c].as_deref(), batch.c_title[c].as_deref());
        let header = batch.c_title[c].clone().unwrap_or_else(|| ckey.clone());
        let column = sheet.column(&ckey, &header);
        let cell = batch.cell(c, uuid);
        match rows.iter_mut().find(|(row, _)| *row == r) {
            Some((_, cells)) => cells.push((column, cell)),
            None => rows.push((r, vec![(column, cell)])),
        }
    }
    let link = sheet.tail_column("journal_uuid", &label(lang, "journal_uuid"));
    for (r, cells) in &rows {
        let mut row: Vec<(usize, Cell)> = lead.iter().cloned().enumerate().collect();
        row.push((LEAD.len(), Cell::count(u64::from(*r) + 1)));
        row.extend(cells.iter().cloned());
        row.push((link, Cell::text(uuid)));
        sheet.push(&row).context("spilling a table row")?;
    }
    Ok(rows.len())
}

/// A control's column key: its id, or its title when the id is empty.
fn control_key(id: Option<&str>, title: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("title:{}", title.unwrap_or_default()),
    }
}

/// The columns of a batch the wide sheets read, as plain vectors.
struct Batch {
    uuid: Vec<Option<String>>,
    template_id: Vec<Option<String>>,
    template_name: Vec<Option<String>>,
    report_time: Vec<Cell>,
    submitter: Vec<Option<String>>,
    department_id: Vec<Option<u64>>,
    department_name: Vec<Option<String>>,
    receiver_count: Vec<Option<u64>>,
    read_count: Vec<Option<u64>>,
    comment_count: Vec<Option<u64>>,
    rich_text: Vec<Option<String>>,
    /// Control rows by journal, in seq order.
    controls_of: HashMap<String, Vec<usize>>,
    c_id: Vec<Option<String>>,
    c_type: Vec<Option<String>>,
    c_title: Vec<Option<String>>,
    c_parent: Vec<Option<String>>,
    c_row: Vec<Option<u32>>,
    c_text: Vec<Option<String>>,
    c_number: Vec<Option<f64>>,
    c_time: Vec<Cell>,
    /// Attachments shown by name (and where they were saved), by journal and control.
    attachments: HashMap<(String, String), Vec<String>>,
}

fn strings(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let c = frame.column(name)?.cast(&DataType::String)?;
    Ok(c.as_materialized_series()
        .str()?
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect())
}

fn unsigned(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u64>>> {
    let c = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(c.as_materialized_series().u64()?.iter().collect())
}

fn times(frame: &DataFrame, name: &str, tz: Tz) -> PolarsResult<Vec<Cell>> {
    let c = frame
        .column(name)?
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
        .cast(&DataType::Int64)?;
    Ok(c.as_materialized_series()
        .i64()?
        .iter()
        .map(|v| v.map_or(Cell::Empty, |ms| local_time(ms, tz)))
        .collect())
}

impl Batch {
    fn read(tables: &JournalTables, tz: Tz) -> PolarsResult<Batch> {
        let j = &tables.journals;
        let c = &tables.journal_controls;
        let a = &tables.journal_attachments;
        let c_uuid = strings(c, "journal_uuid")?;
        let seq = unsigned(c, "seq")?;
        let mut controls_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in c_uuid.iter().enumerate() {
            controls_of
                .entry(u.clone().unwrap_or_default())
                .or_default()
                .push(i);
        }
        for rows in controls_of.values_mut() {
            rows.sort_by_key(|i| seq[*i]);
        }
        let mut attachments: HashMap<(String, String), Vec<String>> = HashMap::new();
        let (a_uuid, a_control) = (strings(a, "journal_uuid")?, strings(a, "control_id")?);
        let (a_name, a_file, a_path) = (
            strings(a, "name")?,
            strings(a, "file_id")?,
            strings(a, "local_path")?,
        );
        for i in 0..a_uuid.len() {
            let name = a_name[i]
                .clone()
                .or_else(|| a_file[i].clone())
                .unwrap_or_default();
            let shown = match &a_path[i] {
                Some(path) => format!("{name} ({path})"),
                None => name,
            };
            attachments
                .entry((
                    a_uuid[i].clone().unwrap_or_default(),
                    a_control[i].clone().unwrap_or_default(),
                ))
                .or_default()
                .push(shown);
        }
        Ok(Batch {
            uuid: strings(j, "journal_uuid")?,
            template_id: strings(j, "template_id")?,
            template_name: strings(j, "template_name")?,
            report_time: times(j, "report_time", tz)?,
            submitter: strings(j, "submitter_userid")?,
            department_id: unsigned(j, "department_id")?,
            department_name: strings(j, "department_name")?,
            receiver_count: unsigned(j, "receiver_count")?,
            read_count: unsigned(j, "read_count")?,
            comment_count: unsigned(j, "comment_count")?,
            rich_text: strings(j, "sys_journal_data")?,
            controls_of,
            c_id: strings(c, "control_id")?,
            c_type: strings(c, "control_type")?,
            c_title: strings(c, "title")?,
            c_parent: strings(c, "parent_control_id")?,
            c_row: unsigned(c, "table_row")?
                .into_iter()
                .map(|v| v.map(|v| v as u32))
                .collect(),
            c_text: strings(c, "value_text")?,
            c_number: {
                let n = c.column("value_number")?.cast(&DataType::Float64)?;
                n.as_materialized_series().f64()?.iter().collect()
            },
            c_time: times(c, "value_time", tz)?,
            attachments,
        })
    }

    /// Control row `c` of journal `uuid` as a typed cell: numbers as numbers, a date as a
    /// date (a time as a date and time), attachments by name, anything else as its text.
    fn cell(&self, c: usize, uuid: &str) -> Cell {
        let id = self.c_id[c].clone().unwrap_or_default();
        if let Some(files) = self.attachments.get(&(uuid.to_owned(), id)) {
            return Cell::text(files.join("\n"));
        }
        match self.c_type[c].as_deref() {
            Some("Number" | "Money" | "Formula") => {
                if let Some(n) = self.c_number[c].filter(|n| n.is_finite()) {
                    return Cell::Number(n);
                }
            }
            Some("Date") => match &self.c_time[c] {
                Cell::Time(t) if t.time().num_seconds_from_midnight() == 0 => {
                    return Cell::Date(t.date())
                }
                Cell::Time(t) => return Cell::Time(*t),
                _ => {}
            },
            _ => {}
        }
        self.c_text[c].clone().map_or(Cell::Empty, Cell::text)
    }
}

/// The 汇报 template's rich text (HTML) as plain text: paragraphs, breaks and list items on
/// lines of their own (items with a bullet), tags dropped, entities decoded.
pub(crate) fn rich_text_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            ("p" | "div" | "ul" | "ol" | "tr" | "h1" | "h2" | "h3" | "h4" | "li", true)
                if !out.ends_with('\n') =>
            {
                out.push('\n')
            }
            ("li", false) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("• ");
            }
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        if line.trim().is_empty() {
            blank = !text.is_empty();
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
            if blank {
                text.push('\n');
            }
        }
        blank = false;
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_keeps_its_lines_and_drops_its_tags() {
        let html = "<p><b>工作汇报</b></p><p>拜访客户 &amp; 跟进</p><ul><li>整理报价</li><li>回访</li></ul><p>汇报人：张三</p>";
        assert_eq!(
            rich_text_to_plain(html),
            "工作汇报\n拜访客户 & 跟进\n• 整理报价\n• 回访\n汇报人：张三"
        );
        assert_eq!(rich_text_to_plain("a<br/>b"), "a\nb");
        assert_eq!(rich_text_to_plain("plain"), "plain");
    }
}
