//! How a sheet of cells looks: formats, display widths, wrapping, the header row, highlights
//! and the print setup. Shared by every sheet of the workbook.

use rust_xlsxwriter::{
    ConditionalFormatFormula, Format, FormatAlign, FormatBorder, Worksheet, XlsxError,
};

use super::{Cell, SummarySheet, TableSheet, WorkbookOptions, MAX_CELL_CHARS};

/// Display widths above this are capped: such a column wraps its text instead.
pub(crate) const MAX_WIDTH: usize = 50;
/// No column narrower than this (a header of two CJK characters plus padding).
const MIN_WIDTH: usize = 6;
/// Excel width units added to a column's content width.
const PADDING: f64 = 2.0;
/// A sheet whose columns add up to at most this many width units prints fit to one page wide
/// (A4 landscape holds ~130 at 100 %: fit shrinks to ~55 % at worst, still legible); a wider
/// one prints at 80 % across pages, its header row and first columns repeated.
pub(crate) const FIT_WIDTH_MAX: f64 = 240.0;

pub(crate) const PERCENT: &str = "0.0%";
pub(crate) const DATE: &str = "yyyy-mm-dd";
pub(crate) const DATETIME: &str = "yyyy-mm-dd hh:mm";

/// The formats of the workbook, made once.
pub(crate) struct Formats {
    pub(crate) header: Format,
    /// The header of a column of numbers, aligned with them.
    pub(crate) header_right: Format,
    pub(crate) title: Format,
    pub(crate) bold: Format,
    pub(crate) text: Format,
    pub(crate) wrap: Format,
    pub(crate) number: Format,
    pub(crate) percent: Format,
    pub(crate) date: Format,
    pub(crate) time: Format,
    pub(crate) note: Format,
    pub(crate) highlight: Format,
}

impl Formats {
    pub(crate) fn new() -> Formats {
        let top = |f: Format| f.set_align(FormatAlign::Top);
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_background_color("DDEBF7")
            .set_border_bottom(FormatBorder::Thin);
        Formats {
            header_right: header.clone().set_align(FormatAlign::Right),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color("DDEBF7")
                .set_border_bottom(FormatBorder::Thin),
            title: Format::new().set_bold().set_font_size(14),
            bold: Format::new().set_bold(),
            text: top(Format::new()),
            wrap: top(Format::new().set_text_wrap()),
            number: top(Format::new().set_num_format("#,##0.##")),
            percent: top(Format::new().set_num_format(PERCENT)),
            date: top(Format::new().set_num_format(DATE)),
            time: top(Format::new().set_num_format(DATETIME)),
            note: Format::new().set_italic().set_font_color("595959"),
            highlight: Format::new()
                .set_font_color("9C0006")
                .set_background_color("FFC7CE"),
        }
    }
}

/// Cells of column `column` above `above` are highlighted, unless the row's `size_column`
/// is under `min_size` (a small group: one late report of one is no 100 % problem).
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub(crate) column: usize,
    pub(crate) above: f64,
    pub(crate) size_column: usize,
    pub(crate) min_size: u32,
}

/// The display width of a text: the widest line, CJK and other wide characters counting two.
pub(crate) fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().map(char_width).sum::<usize>())
        .max()
        .unwrap_or(0)
}

fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// The display width of a cell as its format shows it.
pub(crate) fn cell_width(cell: &Cell) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Text(t) => display_width(t),
        Cell::Number(n) => {
            let digits = format!("{}", n.abs().trunc() as i64).len();
            let frac = if n.fract() != 0.0 { 3 } else { 0 };
            digits + (digits.saturating_sub(1)) / 3 + frac + usize::from(*n < 0.0)
        }
        Cell::Percent(_) => 6,
        Cell::Date(_) => 10,
        Cell::Time(_) => 16,
    }
}

/// The display widths seen in each column, as counts per width (capped), for the median.
#[derive(Debug, Clone, Default)]
pub(crate) struct Widths {
    columns: Vec<ColumnWidths>,
}

#[derive(Debug, Clone)]
struct ColumnWidths {
    counts: Vec<u64>,
    /// Whether a cell is longer than the cap or holds a line break: the column wraps.
    wraps: bool,
    /// Cells that are numbers (percentages, dates) rather than text: its header aligns right.
    numbers: u64,
    texts: u64,
}

impl Default for ColumnWidths {
    fn default() -> Self {
        ColumnWidths {
            counts: vec![0; MAX_WIDTH + 1],
            wraps: false,
            numbers: 0,
            texts: 0,
        }
    }
}

impl Widths {
    pub(crate) fn see(&mut self, column: usize, cell: &Cell) {
        if matches!(cell, Cell::Empty) {
            return;
        }
        if self.columns.len() <= column {
            self.columns.resize_with(column + 1, ColumnWidths::default);
        }
        let w = cell_width(cell);
        let c = &mut self.columns[column];
        if matches!(cell, Cell::Text(_)) {
            c.texts += 1;
        } else {
            c.numbers += 1;
        }
        // Long text wraps; a long token without spaces (an id, a path) is cut by its column.
        if let Cell::Text(t) = cell {
            let breakable =
                t.contains(char::is_whitespace) || t.chars().any(|c| char_width(c) == 2);
            if t.contains('\n') || (w > MAX_WIDTH && breakable) {
                c.wraps = true;
            }
        }
        c.counts[w.min(MAX_WIDTH)] += 1;
    }

    /// The median display width of a column's cells (0 when it has none).
    pub(crate) fn median(&self, column: usize) -> usize {
        let Some(c) = self.columns.get(column) else {
            return 0;
        };
        let n: u64 = c.counts.iter().sum();
        if n == 0 {
            return 0;
        }
        let mut seen = 0;
        for (w, count) in c.counts.iter().enumerate() {
            seen += count;
            if seen * 2 >= n {
                return w;
            }
        }
        MAX_WIDTH
    }

    /// The widest cell of a column, capped.
    pub(crate) fn max(&self, column: usize) -> usize {
        self.columns
            .get(column)
            .and_then(|c| c.counts.iter().rposition(|n| *n > 0))
            .unwrap_or(0)
    }

    /// Whether a column holds mostly numbers (its header then aligns with them, right).
    pub(crate) fn numeric(&self, column: usize) -> bool {
        self.columns
            .get(column)
            .is_some_and(|c| c.numbers > c.texts)
    }

    pub(crate) fn wraps(&self, column: usize) -> bool {
        self.columns.get(column).is_some_and(|c| c.wraps)
    }

    /// A column's width: its widest cell up to twice the median (so one long outlier does not
    /// stretch it) and never under the median, its header's widest word, or the minimum;
    /// capped.
    pub(crate) fn width(&self, column: usize, header: &str) -> f64 {
        let median = self.median(column);
        let content = self.max(column).min(median.max(8) * 2).max(median);
        let header = header
            .split_whitespace()
            .map(display_width)
            .max()
            .unwrap_or(0)
            .min(MAX_WIDTH / 2);
        content.max(header).clamp(MIN_WIDTH, MAX_WIDTH) as f64 + PADDING
    }
}

/// Points per line of wrapped text (Calibri 11 as LibreOffice and Excel lay it out), and
/// Excel's tallest row.
const LINE_HEIGHT: f64 = 15.0;
const MAX_ROW_HEIGHT: f64 = 409.0;

/// The lines a wrapped cell takes in a column `width` units wide.
fn lines_in(cell: &Cell, width: f64) -> usize {
    let Cell::Text(t) = cell else { return 1 };
    let room = (width - PADDING).max(1.0);
    t.lines()
        .map(|line| ((display_width(line) as f64) / room).ceil().max(1.0) as usize)
        .sum::<usize>()
        .max(1)
}

/// Sets the height of a row whose wrapped cells need more than one line (spreadsheets do not
/// all grow rows on opening: LibreOffice keeps the default and overlaps the next row).
pub(crate) fn fit_row_height(
    sheet: &mut Worksheet,
    row: u32,
    cells: impl Iterator<Item = (usize, f64)>,
) -> Result<(), XlsxError> {
    let lines = cells.map(|(lines, _)| lines).max().unwrap_or(1);
    if lines > 1 {
        sheet.set_row_height(row, (LINE_HEIGHT * lines as f64).min(MAX_ROW_HEIGHT))?;
    }
    Ok(())
}

/// The lines of each wrapped cell of a row, for [`fit_row_height`].
pub(crate) fn wrapped_lines<'a>(
    row: impl Iterator<Item = (usize, &'a Cell)> + 'a,
    wraps: &'a [bool],
    widths: &'a [f64],
) -> impl Iterator<Item = (usize, f64)> + 'a {
    row.filter(|(c, _)| wraps.get(*c).copied().unwrap_or(false))
        .map(|(c, cell)| {
            let width = widths.get(c).copied().unwrap_or(10.0);
            (lines_in(cell, width), width)
        })
}

/// Writes one cell with its format (`wrap`: the column wraps long text).
pub(crate) fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    wrap: bool,
    f: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => {
            let format = if wrap { &f.wrap } else { &f.text };
            if t.chars().count() > MAX_CELL_CHARS {
                let cut: String = t.chars().take(MAX_CELL_CHARS).collect();
                sheet.write_string_with_format(row, col, cut, format)?;
            } else {
                sheet.write_string_with_format(row, col, t, format)?;
            }
        }
        Cell::Number(n) => {
            sheet.write_number_with_format(row, col, *n, &f.number)?;
        }
        Cell::Percent(p) => {
            sheet.write_number_with_format(row, col, *p, &f.percent)?;
        }
        Cell::Date(d) => {
            sheet.write_datetime_with_format(row, col, d, &f.date)?;
        }
        Cell::Time(t) => {
            sheet.write_datetime_with_format(row, col, t, &f.time)?;
        }
    }
    Ok(())
}

/// How a sheet is fitted to paper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fit {
    /// One page wide, as many tall as it takes.
    Width,
    /// One page.
    Page,
    /// At 100 %, across pages, the first `n` columns repeated on each.
    Across { repeat_columns: u16 },
}

/// Landscape A4, the job and range in the page header, the page number in the footer, the
/// header row repeated (`repeat_header`), fitted as `fit` says.
pub(crate) fn print_setup(
    sheet: &mut Worksheet,
    options: &WorkbookOptions,
    fit: Fit,
    repeat_header: bool,
) -> Result<(), XlsxError> {
    let escape = |s: &str| s.replace('&', "&&");
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_header(format!(
        "&L{}&C&A&R{}",
        escape(&options.job),
        escape(&options.range)
    ));
    sheet.set_footer("&C&P / &N");
    if repeat_header {
        sheet.set_repeat_rows(0, 0)?;
    }
    match fit {
        Fit::Width => {
            sheet.set_print_fit_to_pages(1, 0);
        }
        Fit::Page => {
            sheet.set_print_fit_to_pages(1, 1);
        }
        Fit::Across { repeat_columns } => {
            // 80 %: still read at arm's length, a fifth fewer pages.
            sheet.set_print_scale(80);
            if repeat_columns > 0 {
                sheet.set_repeat_columns(0, repeat_columns - 1)?;
            }
        }
    }
    Ok(())
}

/// The header row (frozen) and column widths of a sheet whose cells `widths` has seen, its
/// columns shown in `order` (logical indices); returns which logical columns wrap and the
/// sheet's total width.
pub(crate) fn header_and_widths(
    sheet: &mut Worksheet,
    headers: &[String],
    order: &[usize],
    widths: &Widths,
    f: &Formats,
) -> Result<Layout, XlsxError> {
    let mut layout = Layout {
        wraps: (0..headers.len()).map(|i| widths.wraps(i)).collect(),
        widths: (0..headers.len())
            .map(|i| widths.width(i, &headers[i]))
            .collect(),
        total: 0.0,
    };
    for (shown, &i) in order.iter().enumerate() {
        let col = shown as u16;
        let format = if widths.numeric(i) {
            &f.header_right
        } else {
            &f.header
        };
        sheet.write_string_with_format(0, col, &headers[i], format)?;
        sheet.set_column_width(col, layout.widths[i])?;
        layout.total += layout.widths[i];
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(layout)
}

/// How a sheet's columns came out: which wrap, their widths (by logical index), the total.
pub(crate) struct Layout {
    pub(crate) wraps: Vec<bool>,
    pub(crate) widths: Vec<f64>,
    pub(crate) total: f64,
}

/// Columns shown as they are numbered.
pub(crate) fn in_order(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// A report sheet: header, rows, highlight, print setup.
pub(crate) fn write_table(
    sheet: &mut Worksheet,
    name: &str,
    table: &TableSheet,
    f: &Formats,
    options: &WorkbookOptions,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let mut widths = Widths::default();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate() {
            widths.see(i, cell);
        }
    }
    let order = in_order(table.headers.len());
    let layout = header_and_widths(sheet, &table.headers, &order, &widths, f)?;
    let (wraps, total) = (&layout.wraps, layout.total);
    for (r, row) in table.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let wrap = wraps.get(c).copied().unwrap_or(false);
            write_cell(sheet, r as u32 + 1, c as u16, cell, wrap, f)?;
        }
        let lines = wrapped_lines(row.iter().enumerate(), wraps, &layout.widths);
        fit_row_height(sheet, r as u32 + 1, lines)?;
    }
    if let (Some(h), false) = (&table.highlight, table.rows.is_empty()) {
        let last = table.rows.len() as u32;
        let rate = column_letter(h.column);
        let size = column_letter(h.size_column);
        let rule = ConditionalFormatFormula::new()
            .set_rule(format!("=AND(${rate}2>{},${size}2>={})", h.above, h.min_size).as_str())
            .set_format(&f.highlight);
        sheet.add_conditional_format(1, h.column as u16, last, h.column as u16, &rule)?;
    }
    let fit = if total <= FIT_WIDTH_MAX {
        Fit::Width
    } else {
        Fit::Across { repeat_columns: 1 }
    };
    print_setup(sheet, options, fit, true)
}

/// The summary: title and facts, then each block (title, header, rows, notes), one page wide.
pub(crate) fn write_summary(
    sheet: &mut Worksheet,
    name: &str,
    summary: &SummarySheet,
    f: &Formats,
    options: &WorkbookOptions,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let mut widths = Widths::default();
    sheet.write_string_with_format(0, 0, &summary.title, &f.title)?;
    let mut row = 2u32;
    for (label, value) in &summary.facts {
        sheet.write_string_with_format(row, 0, label, &f.bold)?;
        widths.see(0, &Cell::text(label.clone()));
        // A fact's value runs on into the empty cells beside it.
        write_cell(sheet, row, 1, value, false, f)?;
        row += 1;
    }
    for block in &summary.blocks {
        row += 1;
        sheet.write_string_with_format(row, 0, &block.title, &f.title)?;
        row += 1;
        if !block.headers.is_empty() {
            for (i, header) in block.headers.iter().enumerate() {
                let numeric = block
                    .rows
                    .first()
                    .and_then(|r| r.get(i))
                    .is_some_and(|c| matches!(c, Cell::Number(_) | Cell::Percent(_)));
                let format = if numeric { &f.header_right } else { &f.header };
                sheet.write_string_with_format(row, i as u16, header, format)?;
                widths.see(i, &Cell::text(header.clone()));
            }
            row += 1;
        }
        for cells in &block.rows {
            for (i, cell) in cells.iter().enumerate() {
                write_cell(sheet, row, i as u16, cell, false, f)?;
                widths.see(i, cell);
            }
            row += 1;
        }
        for note in &block.notes {
            sheet.write_string_with_format(row, 0, note, &f.note)?;
            row += 1;
        }
    }
    let columns = summary
        .blocks
        .iter()
        .map(|b| b.headers.len())
        .max()
        .unwrap_or(0)
        .max(2);
    for i in 0..columns {
        // Labels and names: wide enough for the longest, capped.
        let width = widths.max(i).clamp(MIN_WIDTH, MAX_WIDTH) as f64 + PADDING;
        sheet.set_column_width(i as u16, width)?;
    }
    print_setup(sheet, options, Fit::Width, false)
}

/// `A`, `B`, …, `Z`, `AA`, … for a 0-based column.
pub(crate) fn column_letter(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII")
}
