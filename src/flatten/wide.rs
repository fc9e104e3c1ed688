//! The wide view of one template for XLSX (`journals_wide__<template>`): one row per journal, a
//! String column per top-level control title holding its `value_text`.
//!
//! Table controls: their column joins the table's cells, one line per row, each cell as
//! `title：text`, cells of a row joined with `；` (nested tables' cells are listed in the row of
//! the outer table they belong to). Column names are unique: the second control titled `备注`
//! in a journal becomes `备注 (2)`, and a title that clashes with a fixed column gets a suffix
//! too. Reads the `journals` and `journal_controls` frames only; writes nothing.

use std::collections::HashMap;

use polars::prelude::*;

use super::FlattenError;

/// The columns of `journals` that lead every wide row.
pub(crate) const FIXED_COLUMNS: &[&str] = &[
    "journal_uuid",
    "report_time",
    "report_date",
    "submitter_userid",
    "department_id",
    "department_name",
];

/// Separator of the cells of one table row in a Table's wide column.
pub(crate) const CELL_SEPARATOR: &str = "；";

const TABLE: &str = "journals_wide";

/// One row per journal of `template_id` (ordered by report_time), the fixed columns, then a
/// column per top-level control title in order of first appearance.
pub fn pivot_wide(
    journals: &DataFrame,
    controls: &DataFrame,
    template_id: &str,
) -> Result<DataFrame, FlattenError> {
    let err = FlattenError::polars(TABLE);
    let mask = journals
        .column("template_id")
        .and_then(|c| c.str().cloned())
        .map_err(err)?
        .equal(template_id);
    let selected = journals
        .filter(&mask)
        .and_then(|df| df.sort(["report_time"], SortMultipleOptions::default()))
        .and_then(|df| df.select(FIXED_COLUMNS.iter().copied()))
        .map_err(FlattenError::polars(TABLE))?;
    let uuid_column = selected
        .column("journal_uuid")
        .and_then(|c| c.str().cloned())
        .map_err(FlattenError::polars(TABLE))?;
    let uuids: Vec<String> = uuid_column
        .iter()
        .map(|u| u.unwrap_or_default().to_string())
        .collect();
    let row_of: HashMap<&str, usize> = uuids
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();

    // The controls of the selected journals, by journal, in seq order.
    let col = |name: &str| controls.column(name).map_err(FlattenError::polars(TABLE));
    let c_uuid = col("journal_uuid")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_seq = col("seq")?
        .u32()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_id = col("control_id")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_title = col("title")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_parent = col("parent_control_id")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_text = col("value_text")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_type = col("control_type")?
        .str()
        .map_err(FlattenError::polars(TABLE))?
        .clone();
    let c_row = col("table_row")?
        .u32()
        .map_err(FlattenError::polars(TABLE))?
        .clone();

    struct Cell<'a> {
        seq: u32,
        id: &'a str,
        title: Option<&'a str>,
        parent: Option<&'a str>,
        table_row: Option<u32>,
        text: Option<&'a str>,
        is_table: bool,
    }
    let mut per_journal: Vec<Vec<Cell>> = (0..uuids.len()).map(|_| Vec::new()).collect();
    for i in 0..controls.height() {
        let Some(&row) = c_uuid.get(i).and_then(|u| row_of.get(u)) else {
            continue;
        };
        per_journal[row].push(Cell {
            seq: c_seq.get(i).unwrap_or(u32::MAX),
            id: c_id.get(i).unwrap_or(""),
            title: c_title.get(i),
            parent: c_parent.get(i),
            table_row: c_row.get(i),
            text: c_text.get(i),
            is_table: c_type.get(i) == Some("Table"),
        });
    }

    // Column keys (title, occurrence within the journal) in order of first appearance.
    let mut keys: Vec<(String, usize)> = Vec::new();
    let mut key_index: HashMap<(String, usize), usize> = HashMap::new();
    let mut values: Vec<Vec<Option<String>>> = Vec::new();
    for (row, cells) in per_journal.iter_mut().enumerate() {
        cells.sort_by_key(|c| c.seq);
        let mut occurrences: HashMap<&str, usize> = HashMap::new();
        let mut i = 0;
        while i < cells.len() {
            let top = &cells[i];
            i += 1;
            if top.parent.is_some() {
                continue; // a cell whose table is not in the frame: nothing to attach it to
            }
            let title = top.title.unwrap_or(top.id);
            let k = occurrences.entry(title).or_default();
            let key = (title.to_string(), *k);
            *k += 1;
            let col = *key_index.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                values.push(vec![None; uuids.len()]);
                values.len() - 1
            });
            // Cells following a top-level Table, up to the next top-level control, are its own
            // (depth-first order).
            let mut lines: Vec<Vec<String>> = Vec::new();
            let mut current_row: Option<u32> = None;
            while i < cells.len() && cells[i].parent.is_some() {
                let cell = &cells[i];
                i += 1;
                if cell.parent == Some(top.id) || lines.is_empty() {
                    // A direct cell starts or continues a row of the top-level table.
                    let r = cell.table_row.unwrap_or(0);
                    if current_row != Some(r) || lines.is_empty() {
                        lines.push(Vec::new());
                        current_row = Some(r);
                    }
                }
                if cell.is_table {
                    continue; // its "N 行" summary adds nothing beside its own cells
                }
                if let Some(line) = lines.last_mut() {
                    line.push(format!(
                        "{}：{}",
                        cell.title.unwrap_or(cell.id),
                        cell.text.unwrap_or("")
                    ));
                }
            }
            values[col][row] = if top.is_table {
                Some(
                    lines
                        .iter()
                        .map(|l| l.join(CELL_SEPARATOR))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            } else {
                top.text.map(str::to_string)
            };
        }
    }

    let mut taken: Vec<String> = FIXED_COLUMNS.iter().map(|s| s.to_string()).collect();
    let mut columns = Vec::with_capacity(keys.len());
    for ((title, k), vals) in keys.into_iter().zip(values) {
        let mut name = if k == 0 {
            title.clone()
        } else {
            format!("{title} ({})", k + 1)
        };
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{title} ({n})");
            n += 1;
        }
        taken.push(name.clone());
        columns.push(Series::new(name.as_str().into(), vals).into_column());
    }
    selected
        .hstack(&columns)
        .map_err(FlattenError::polars(TABLE))
}
