//! A chart sheet per template: a small table of late and unreported rate by department (each
//! department named once, with its n), sorted as the caller gave it, and a bar chart of it
//! with axis titles and a legend; bars of small groups grey, late rates above the threshold
//! red. When the range spans several periods, a trend table and line chart under it. The
//! sheet prints on one page.

use rust_xlsxwriter::{
    Chart, ChartLegendPosition, ChartLine, ChartPoint, ChartSolidFill, ChartType, Worksheet,
    XlsxError,
};

use super::grid::{self, Fit, Formats, Widths};
use super::{Cell, WorkbookOptions};

/// One department's bar pair.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartRow {
    /// The category label, its n included (`销售部 (n=12)`).
    pub(crate) label: String,
    pub(crate) expected: u64,
    pub(crate) late_rate: Option<f64>,
    pub(crate) unreported_rate: Option<f64>,
    /// Fewer expected reports than the job's minimum group size: grey, never red.
    pub(crate) small: bool,
}

/// One period of the trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub(crate) period: String,
    pub(crate) late_rate: Option<f64>,
    pub(crate) unreported_rate: Option<f64>,
}

/// The chart sheet of one template, with every word already in the reader's language.
#[derive(Debug, Clone, Default)]
pub struct ChartSheet {
    pub(crate) name: String,
    pub(crate) title: String,
    /// Headers of the table: label, expected, late rate, unreported rate, small.
    pub(crate) headers: [String; 5],
    /// `yes` in the small column.
    pub(crate) small_mark: String,
    pub(crate) rows: Vec<ChartRow>,
    /// The two series' names: late rate, unreported rate.
    pub(crate) series: [String; 2],
    /// The value axis's and the category axis's titles.
    pub(crate) value_axis: String,
    pub(crate) category_axis: String,
    /// Late rates above this are red (unless small).
    pub(crate) highlight_above: f64,
    /// A line under the table: how to read the chart.
    pub(crate) note: String,
    /// Late and unreported rate by period, when the range spans several.
    pub(crate) trend: Vec<TrendPoint>,
    pub(crate) trend_title: String,
    pub(crate) trend_axis: String,
}

const RED: &str = "C00000";
const GREY: &str = "BFBFBF";
const LATE: &str = "ED7D31";
const UNREPORTED: &str = "4472C4";
/// Height per department in the bar chart, and around the bars.
const PX_PER_BAR: u32 = 34;
const CHART_FRAME_PX: u32 = 140;

pub(crate) fn write_chart_sheet(
    sheet: &mut Worksheet,
    name: &str,
    spec: &ChartSheet,
    f: &Formats,
    options: &WorkbookOptions,
) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let mut widths = Widths::default();
    let rows: Vec<Vec<Cell>> = spec
        .rows
        .iter()
        .map(|r| {
            vec![
                Cell::text(r.label.clone()),
                Cell::count(r.expected),
                Cell::rate(r.late_rate),
                Cell::rate(r.unreported_rate),
                if r.small {
                    Cell::text(spec.small_mark.clone())
                } else {
                    Cell::Empty
                },
            ]
        })
        .collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths.see(i, cell);
        }
    }
    let order = grid::in_order(spec.headers.len());
    grid::header_and_widths(sheet, &spec.headers, &order, &widths, f)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            grid::write_cell(sheet, r as u32 + 1, c as u16, cell, false, f)?;
        }
    }
    let last = spec.rows.len() as u32;
    let mut next_row = last + 2;
    sheet.write_string_with_format(next_row, 0, &spec.note, &f.note)?;
    next_row += 2;
    let chart_col = 6u16;
    if !spec.rows.is_empty() {
        let chart = department_chart(name, spec, last);
        sheet.insert_chart(1, chart_col, &chart)?;
    }
    if spec.trend.len() > 1 {
        let first = next_row;
        sheet.write_string_with_format(first, 0, &spec.trend_axis, &f.header)?;
        sheet.write_string_with_format(first, 2, &spec.series[0], &f.header)?;
        sheet.write_string_with_format(first, 3, &spec.series[1], &f.header)?;
        for (i, p) in spec.trend.iter().enumerate() {
            let row = first + 1 + i as u32;
            grid::write_cell(sheet, row, 0, &Cell::text(p.period.clone()), false, f)?;
            grid::write_cell(sheet, row, 2, &Cell::rate(p.late_rate), false, f)?;
            grid::write_cell(sheet, row, 3, &Cell::rate(p.unreported_rate), false, f)?;
        }
        let last_trend = first + spec.trend.len() as u32;
        let mut chart = Chart::new(ChartType::Line);
        for (i, (column, color)) in [(2u16, LATE), (3u16, UNREPORTED)].into_iter().enumerate() {
            chart
                .add_series()
                .set_name(spec.series[i].as_str())
                .set_categories((name, first + 1, 0, last_trend, 0))
                .set_values((name, first + 1, column, last_trend, column))
                .set_format(ChartLine::new().set_color(color).set_width(2.25));
        }
        chart.title().set_name(spec.trend_title.as_str());
        chart.x_axis().set_name(spec.trend_axis.as_str());
        chart
            .y_axis()
            .set_name(spec.value_axis.as_str())
            .set_num_format("0%");
        chart.legend().set_position(ChartLegendPosition::Bottom);
        chart.set_width(900).set_height(360);
        let below = 1 + chart_height(spec.rows.len()) / 20 + 2;
        sheet.insert_chart(below.max(last_trend + 2), chart_col, &chart)?;
    }
    grid::print_setup(sheet, options, Fit::Page, false)
}

fn chart_height(bars: usize) -> u32 {
    (bars as u32 * PX_PER_BAR + CHART_FRAME_PX).max(360)
}

/// Late and unreported rate by department, departments once, top to bottom in the table's
/// order.
fn department_chart(name: &str, spec: &ChartSheet, last: u32) -> Chart {
    let mut chart = Chart::new(ChartType::Bar);
    let late_points: Vec<ChartPoint> = spec
        .rows
        .iter()
        .map(|r| {
            let color = if r.small {
                GREY
            } else if r.late_rate.is_some_and(|l| l > spec.highlight_above) {
                RED
            } else {
                LATE
            };
            ChartPoint::new().set_format(ChartSolidFill::new().set_color(color))
        })
        .collect();
    let unreported_points: Vec<ChartPoint> = spec
        .rows
        .iter()
        .map(|r| {
            let color = if r.small { GREY } else { UNREPORTED };
            ChartPoint::new().set_format(ChartSolidFill::new().set_color(color))
        })
        .collect();
    for (i, (column, points, color)) in [
        (2u16, late_points, LATE),
        (3u16, unreported_points, UNREPORTED),
    ]
    .into_iter()
    .enumerate()
    {
        chart
            .add_series()
            .set_name(spec.series[i].as_str())
            .set_categories((name, 1, 0, last, 0))
            .set_values((name, 1, column, last, column))
            .set_format(ChartSolidFill::new().set_color(color))
            .set_points(&points);
    }
    chart.title().set_name(spec.title.as_str());
    chart
        .x_axis()
        .set_name(spec.value_axis.as_str())
        .set_num_format("0%");
    chart
        .y_axis()
        .set_name(spec.category_axis.as_str())
        .set_reverse();
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart
        .set_width(900)
        .set_height(chart_height(spec.rows.len()));
    chart
}
