//! A wide sheet built batch by batch: its rows go to an anonymous temporary file as they come
//! (one JSON line of `(column, cell)` pairs each) while the columns, their display widths and
//! the row count are kept; at the end the header is written and the rows streamed back into a
//! constant-memory worksheet. Memory is the columns and a width histogram per column, however
//! many rows.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use rust_xlsxwriter::Worksheet;

use super::grid::{self, Fit, Formats, Widths, FIT_WIDTH_MAX};
use super::labels::label_with;
use super::{Cell, WorkbookOptions, MAX_SHEET_ROWS};

/// A sheet whose rows are spilled to disk as they come.
pub struct SpillSheet {
    name: String,
    /// Column keys in order of first sight, and their headers.
    keys: HashMap<String, usize>,
    headers: Vec<String>,
    /// Columns shown after all others (ids), whenever first seen.
    tail: Vec<bool>,
    widths: Widths,
    file: Option<BufWriter<File>>,
    /// Rows spilled, and rows past the cap (counted, not kept).
    rows: u64,
    left_out: u64,
    cap: u64,
    /// Columns repeated on each printed page when the sheet is too wide to fit.
    repeat_columns: u16,
}

/// What writing a spilled sheet did.
pub(crate) struct SpillWritten {
    pub(crate) rows: u64,
    pub(crate) warnings: Vec<String>,
}

impl SpillSheet {
    /// An empty sheet named `name` (before Excel's rules), holding at most Excel's rows.
    pub(crate) fn new(name: impl Into<String>) -> SpillSheet {
        SpillSheet::with_cap(name, (MAX_SHEET_ROWS - 2) as u64)
    }

    /// At most `cap` data rows (the last row of a full sheet says how many were left out).
    pub(crate) fn with_cap(name: impl Into<String>, cap: u64) -> SpillSheet {
        SpillSheet {
            name: name.into(),
            keys: HashMap::new(),
            headers: Vec::new(),
            tail: Vec::new(),
            widths: Widths::default(),
            file: None,
            rows: 0,
            left_out: 0,
            cap,
            repeat_columns: 0,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    #[cfg(test)]
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// The first `n` columns are repeated on each printed page of a sheet too wide to fit.
    pub(crate) fn repeat_columns(&mut self, n: u16) {
        self.repeat_columns = n;
    }

    /// The column of `key`, headed `header` when first seen; columns show in the order first
    /// seen.
    pub(crate) fn column(&mut self, key: &str, header: &str) -> usize {
        self.column_as(key, header, false)
    }

    /// [`SpillSheet::column`] for a column shown after all the others (an id).
    pub(crate) fn tail_column(&mut self, key: &str, header: &str) -> usize {
        self.column_as(key, header, true)
    }

    fn column_as(&mut self, key: &str, header: &str, tail: bool) -> usize {
        if let Some(i) = self.keys.get(key) {
            return *i;
        }
        let i = self.headers.len();
        self.keys.insert(key.to_owned(), i);
        self.headers.push(header.to_owned());
        self.tail.push(tail);
        i
    }

    /// Appends a row of `(column, cell)` (columns from [`SpillSheet::column`]).
    pub(crate) fn push(&mut self, row: &[(usize, Cell)]) -> std::io::Result<()> {
        if self.rows >= self.cap {
            self.left_out += 1;
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile()?));
        }
        for (column, cell) in row {
            self.widths.see(*column, cell);
        }
        let file = self.file.as_mut().expect("opened above");
        serde_json::to_writer(&mut *file, row)?;
        file.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the header, then streams the rows back; a last row says how many were left out.
    pub(crate) fn write_to(
        self,
        sheet: &mut Worksheet,
        name: &str,
        f: &Formats,
        options: &WorkbookOptions,
    ) -> Result<SpillWritten, String> {
        let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
        sheet.set_name(name).map_err(e)?;
        let mut order: Vec<usize> = (0..self.headers.len()).collect();
        order.sort_by_key(|i| (self.tail[*i], *i));
        let mut position = vec![0u16; order.len()];
        for (shown, logical) in order.iter().enumerate() {
            position[*logical] = shown as u16;
        }
        let layout =
            grid::header_and_widths(sheet, &self.headers, &order, &self.widths, f).map_err(e)?;
        let (wraps, total) = (&layout.wraps, layout.total);
        let mut warnings = Vec::new();
        let mut row = 1u32;
        if let Some(file) = self.file {
            let mut file = file.into_inner().map_err(|e| e.to_string())?;
            file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| format!("reading the spilled rows back: {e}"))?;
                let cells: Vec<(usize, Cell)> = serde_json::from_str(&line)
                    .map_err(|e| format!("reading the spilled rows back: {e}"))?;
                for (column, cell) in &cells {
                    let wrap = wraps.get(*column).copied().unwrap_or(false);
                    let Some(at) = position.get(*column) else {
                        continue;
                    };
                    grid::write_cell(sheet, row, *at, cell, wrap, f).map_err(e)?;
                }
                let lines = grid::wrapped_lines(
                    cells.iter().map(|(c, cell)| (*c, cell)),
                    wraps,
                    &layout.widths,
                );
                grid::fit_row_height(sheet, row, lines).map_err(e)?;
                row += 1;
            }
        }
        if self.left_out > 0 {
            let note = label_with(
                options.language,
                "wide.capped",
                &[("n", self.left_out.to_string())],
            );
            sheet
                .write_string_with_format(row, 0, &note, &f.note)
                .map_err(e)?;
            warnings.push(format!(
                "sheet {name}: {} rows past Excel's sheet limit were left out; the first {} are written (the Parquet/CSV tables hold all)",
                self.left_out, self.rows
            ));
        }
        let fit = if total <= FIT_WIDTH_MAX {
            Fit::Width
        } else {
            Fit::Across {
                repeat_columns: self.repeat_columns,
            }
        };
        grid::print_setup(sheet, options, fit, true).map_err(e)?;
        Ok(SpillWritten {
            rows: self.rows,
            warnings,
        })
    }
}
