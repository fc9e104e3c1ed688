//! The workbook as a person meets it, read back from its XML (the xlsx zip's sheets, styles,
//! charts and workbook parts) after real `run --sandbox` runs. Oracles: the report Parquet
//! files (read by polars), the store's raw details (the JSON WeCom sent), and words written
//! here by hand — never the workbook code.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::common::{files_under, read_parquet, run_bin, shipped_job, store_content, unzip};

/// One cell as the sheet XML holds it.
#[derive(Debug, Clone)]
struct XCell {
    row: u32,
    col: usize,
    style: usize,
    /// `s`, `inlineStr`, `str` or empty (a number).
    kind: String,
    text: String,
}

/// A workbook's parts, by sheet name.
struct Book {
    zip: BTreeMap<String, String>,
    /// Sheet names in order, with their part (`xl/worksheets/sheetN.xml`).
    sheets: Vec<(String, String)>,
    shared: Vec<String>,
    /// The number format of each cell style (`cellXfs` index).
    formats: Vec<String>,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn attr_of(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

/// The texts of every `<t>` / `<t xml:space…>` inside `xml`, concatenated.
fn t_texts(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<t") {
        let after = &rest[i + 2..];
        if !(after.starts_with('>') || after.starts_with(' ')) {
            rest = after;
            continue;
        }
        let open_end = after.find('>').unwrap();
        if after[..open_end].ends_with('/') {
            rest = &after[open_end..];
            continue;
        }
        let body = &after[open_end + 1..];
        let end = body.find("</t>").unwrap();
        out.push_str(&unescape(&body[..end]));
        rest = &body[end..];
    }
    out
}

fn column_index(reference: &str) -> usize {
    let mut n = 0usize;
    for c in reference.chars().take_while(|c| c.is_ascii_alphabetic()) {
        n = n * 26 + (c as u8 - b'A' + 1) as usize;
    }
    n - 1
}

impl Book {
    fn open(path: &Path) -> Book {
        let zip = unzip(path);
        let rels = &zip["xl/_rels/workbook.xml.rels"];
        let mut targets = BTreeMap::new();
        for (i, _) in rels.match_indices("<Relationship ") {
            let tag = &rels[i..i + rels[i..].find('>').unwrap()];
            targets.insert(attr_of(tag, "Id").unwrap(), attr_of(tag, "Target").unwrap());
        }
        let wb = &zip["xl/workbook.xml"];
        let sheets = wb
            .match_indices("<sheet ")
            .map(|(i, _)| {
                let tag = &wb[i..i + wb[i..].find('>').unwrap()];
                let name = unescape(&attr_of(tag, "name").unwrap());
                let target = &targets[&attr_of(tag, "r:id").unwrap()];
                (name, format!("xl/{}", target.trim_start_matches("/xl/")))
            })
            .collect();
        let shared = zip
            .get("xl/sharedStrings.xml")
            .map(|x| x.split("<si>").skip(1).map(t_texts).collect())
            .unwrap_or_default();
        let styles = &zip["xl/styles.xml"];
        let mut custom = BTreeMap::new();
        for (i, _) in styles.match_indices("<numFmt ") {
            let tag = &styles[i..i + styles[i..].find('>').unwrap()];
            custom.insert(
                attr_of(tag, "numFmtId").unwrap(),
                unescape(&attr_of(tag, "formatCode").unwrap()),
            );
        }
        let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
        let formats = xfs
            .match_indices("<xf ")
            .map(|(i, _)| {
                let tag = &xfs[i..i + xfs[i..].find('>').unwrap()];
                let id = attr_of(tag, "numFmtId").unwrap_or_else(|| "0".into());
                custom.get(&id).cloned().unwrap_or(id)
            })
            .collect();
        Book {
            zip,
            sheets,
            shared,
            formats,
        }
    }

    fn names(&self) -> Vec<&str> {
        self.sheets.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn xml(&self, sheet: &str) -> &str {
        let part = &self
            .sheets
            .iter()
            .find(|(n, _)| n == sheet)
            .unwrap_or_else(|| panic!("no sheet {sheet} in {:?}", self.names()))
            .1;
        &self.zip[part]
    }

    fn cells(&self, sheet: &str) -> Vec<XCell> {
        let xml = self.xml(sheet);
        let mut out = Vec::new();
        for (i, _) in xml.match_indices("<c r=\"") {
            let rest = &xml[i..];
            let tag_end = rest.find('>').unwrap();
            let tag = &rest[..tag_end];
            let reference = attr_of(tag, "r").unwrap();
            let row: u32 = reference
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .unwrap();
            let kind = attr_of(tag, "t").unwrap_or_default();
            let style: usize = attr_of(tag, "s").map_or(0, |s| s.parse().unwrap());
            let body = if tag.ends_with('/') {
                ""
            } else {
                &rest[tag_end + 1..rest.find("</c>").unwrap()]
            };
            let value = || {
                body.find("<v>")
                    .map(|a| unescape(&body[a + 3..body.find("</v>").unwrap()]))
                    .unwrap_or_default()
            };
            let text = match kind.as_str() {
                "s" => self.shared[value().parse::<usize>().unwrap()].clone(),
                "inlineStr" => t_texts(body),
                _ => value(),
            };
            out.push(XCell {
                row,
                col: column_index(&reference),
                style,
                kind,
                text,
            });
        }
        out
    }

    /// Row 1 of a sheet.
    fn header(&self, sheet: &str) -> Vec<String> {
        let mut cells: Vec<XCell> = self
            .cells(sheet)
            .into_iter()
            .filter(|c| c.row == 1)
            .collect();
        cells.sort_by_key(|c| c.col);
        cells.into_iter().map(|c| c.text).collect()
    }

    fn is_text(&self, c: &XCell) -> bool {
        matches!(c.kind.as_str(), "s" | "inlineStr" | "str")
    }

    /// The number format of a cell.
    fn format(&self, c: &XCell) -> &str {
        &self.formats[c.style]
    }

    /// The charts' XML, in part order.
    fn charts(&self) -> Vec<&String> {
        self.zip
            .iter()
            .filter(|(k, _)| k.starts_with("xl/charts/chart"))
            .map(|(_, v)| v)
            .collect()
    }
}

/// Display width as a reader sees it: CJK (and full-width forms) count two, the widest line.
fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| {
            line.chars()
                .map(|c| {
                    let cp = c as u32;
                    if (0x2E80..=0x9FFF).contains(&cp) || (0xFF00..=0xFF60).contains(&cp) {
                        2
                    } else {
                        1
                    }
                })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// Runs a job with `--sandbox` (the simulator at its hardest) into a fresh directory; returns
/// the directory and the workbook.
fn run_job(job: &Path, extra: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        job.to_str().unwrap(),
        "--sandbox",
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = run_bin(&args);
    // Withdrawn journals are gaps: exit 3 with every output written.
    assert!(
        matches!(run.status.code(), Some(0 | 3)),
        "run failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let xlsx = crate::common::workbooks_under(&out)
        .into_iter()
        .next()
        .expect("a workbook");
    (dir, out, xlsx)
}

fn text_column(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or_default().to_owned())
        .collect()
}

fn count_column(df: &DataFrame, name: &str) -> Vec<u64> {
    df.column(name)
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect()
}

/// The texts of a journal's Table cells and its 汇报 rich text, from the detail WeCom sent.
fn raw_table_texts(detail: &serde_json::Value) -> Vec<String> {
    let info = detail.get("info").unwrap_or(detail);
    let mut out = Vec::new();
    for control in info["apply_data"]["contents"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if control["control"] != "Table" {
            continue;
        }
        for row in control["value"]["children"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for cell in row["list"].as_array().into_iter().flatten() {
                if cell["control"] == "Text" {
                    if let Some(t) = cell["value"]["text"].as_str().filter(|t| !t.is_empty()) {
                        out.push(t.to_owned());
                    }
                }
            }
        }
    }
    out
}

/// The text pieces between the tags of an HTML fragment.
fn html_text_pieces(html: &str) -> Vec<String> {
    html.split(['<', '>'])
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| unescape(s).trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn the_monthly_workbook_reads_as_a_report_in_chinese() {
    let (_dir, out, xlsx) = run_job(&shipped_job("monthly-compliance.toml"), &[]);
    let book = Book::open(&xlsx);
    let names = book.names();

    // Sheets in the reader's language, in order: summary, reports, charts, wide sheets.
    assert_eq!(
        &names[..5],
        ["汇总", "部门迟交", "个人迟交", "未交名单", "阅读率"],
        "{names:?}"
    );
    let report = read_parquet(&out.join(
        "reports/late_rate_by_department/range=2026-10-01_2026-11-01/late_rate_by_department.parquet",
    ));
    let template_names: std::collections::BTreeSet<String> =
        text_column(&report, "template_name").into_iter().collect();
    for t in &template_names {
        assert!(
            names.contains(&format!("图表·{t}").as_str()),
            "chart sheet of {t}: {names:?}"
        );
        assert!(
            names.contains(&format!("明细·{t}").as_str()),
            "wide sheet of {t}: {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| n.starts_with("表格·")),
        "a Table sheet: {names:?}"
    );
    assert_eq!(
        book.header("部门迟交"),
        [
            "期间",
            "模板",
            "部门",
            "应交",
            "已交",
            "按时",
            "迟交",
            "未交",
            "迟交率",
            "按时率",
            "未交率",
            "样本少",
            "部门 ID",
            "模板 ID"
        ]
    );
    assert_eq!(
        &book.header("个人迟交")[..4],
        ["期间", "模板", "姓名", "部门"]
    );

    // The summary: each template's figures equal the report table's, summed over its rows.
    let summary = book.cells("汇总");
    let (tn, ex, rp, ot, lt, un) = (
        text_column(&report, "template_name"),
        count_column(&report, "expected"),
        count_column(&report, "reported"),
        count_column(&report, "on_time"),
        count_column(&report, "late"),
        count_column(&report, "unreported"),
    );
    for t in &template_names {
        let mut want = [0u64; 5];
        for i in 0..report.height() {
            if &tn[i] == t {
                for (w, v) in want.iter_mut().zip([ex[i], rp[i], ot[i], lt[i], un[i]]) {
                    *w += v;
                }
            }
        }
        let row = summary
            .iter()
            .find(|c| c.col == 0 && &c.text == t)
            .unwrap_or_else(|| panic!("no summary row for {t}"))
            .row;
        let got: Vec<u64> = (1..=5)
            .map(|col| {
                let c = summary
                    .iter()
                    .find(|c| c.row == row && c.col == col)
                    .unwrap();
                assert!(!book.is_text(c), "{t} column {col} is a number");
                c.text.parse::<f64>().unwrap() as u64
            })
            .collect();
        assert_eq!(got, want, "summary figures of {t}");
        let rate = summary.iter().find(|c| c.row == row && c.col == 6).unwrap();
        assert!(book.format(rate).contains('%'), "late rate as a percentage");
        let late_rate: f64 = rate.text.parse().unwrap();
        assert!((late_rate - want[3] as f64 / want[1] as f64).abs() < 1e-9);
    }
    let all: String = summary.iter().map(|c| c.text.as_str()).collect();
    assert!(
        all.contains("2026-10-01 – 2026-10-31"),
        "the range, inclusive"
    );
    assert!(
        all.contains("迟交率 = 迟交 ÷ 已交"),
        "rate definitions in words"
    );

    // One bar chart per template, with axis titles and a legend.
    let bars: Vec<&String> = book
        .charts()
        .into_iter()
        .filter(|c| c.contains("<c:barChart>"))
        .collect();
    assert_eq!(bars.len(), template_names.len());
    for chart in bars {
        for axis in ["<c:valAx>", "<c:catAx>"] {
            let part = &chart[chart.find(axis).unwrap()..];
            let part = &part[..part.find(&axis.replace('<', "</")).unwrap()];
            assert!(part.contains("<c:title>"), "{axis} has a title");
        }
        assert!(chart.contains("<c:legend>"), "a legend");
        assert_eq!(
            chart.matches("<c:ser>").count(),
            2,
            "late and unreported rate"
        );
    }

    // Table cells and the 汇报 rich text, from the details WeCom sent.
    let store = store_content(&out);
    let table_sheets: String = names
        .iter()
        .filter(|n| n.starts_with("表格·"))
        .flat_map(|n| book.cells(n))
        .map(|c| c.text)
        .collect::<Vec<_>>()
        .join("\n");
    let wide_text: String = names
        .iter()
        .filter(|n| n.starts_with("明细·"))
        .flat_map(|n| book.cells(n))
        .map(|c| c.text)
        .collect::<Vec<_>>()
        .join("\n");
    let (mut cells, mut rich) = (0, 0);
    for detail in store.details.values() {
        for text in raw_table_texts(detail) {
            assert!(
                table_sheets.contains(&text),
                "table cell {text:?} in a Table sheet"
            );
            cells += 1;
        }
        let info = detail.get("info").unwrap_or(detail);
        if let Some(html) = info["sys_journal_data"].as_str() {
            for piece in html_text_pieces(html) {
                assert!(
                    wide_text.contains(&piece),
                    "汇报 text {piece:?} in a wide sheet"
                );
                rich += 1;
            }
        }
    }
    assert!(
        cells > 0 && rich > 0,
        "the world has Table cells ({cells}) and 汇报 text ({rich})"
    );

    // Typed: submission times are dates (a number with a date format), counts numbers.
    for name in names.iter().filter(|n| n.starts_with("明细·")) {
        let cells = book.cells(name);
        let times: Vec<&XCell> = cells.iter().filter(|c| c.row > 1 && c.col == 0).collect();
        assert!(!times.is_empty(), "{name} has rows");
        for c in times {
            assert!(
                !book.is_text(c) && book.format(c).contains("yyyy"),
                "{name} A{}: {c:?}",
                c.row
            );
        }
    }
    let numbers: Vec<XCell> = book
        .cells("部门迟交")
        .into_iter()
        .filter(|c| c.row > 1 && (3..=7).contains(&c.col))
        .collect();
    assert!(!numbers.is_empty() && numbers.iter().all(|c| !book.is_text(c)));

    // No column narrower than its median display width (capped at 50).
    for name in &names {
        let xml = book.xml(name);
        let cells = book.cells(name);
        let mut widths: BTreeMap<usize, f64> = BTreeMap::new();
        for (i, _) in xml.match_indices("<col ") {
            let tag = &xml[i..i + xml[i..].find('>').unwrap()];
            let (min, max): (usize, usize) = (
                attr_of(tag, "min").unwrap().parse().unwrap(),
                attr_of(tag, "max").unwrap().parse().unwrap(),
            );
            let width: f64 = attr_of(tag, "width").unwrap().parse().unwrap();
            for c in min..=max {
                widths.insert(c - 1, width);
            }
        }
        if name == &"汇总" || name.starts_with("图表·") {
            continue; // titles and notes run across their row
        }
        let mut by_column: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for c in cells.iter().filter(|c| c.row > 1 && book.is_text(c)) {
            by_column
                .entry(c.col)
                .or_default()
                .push(display_width(&c.text).min(50));
        }
        for (col, mut w) in by_column {
            w.sort();
            let median = w[(w.len() - 1) / 2];
            let width = widths.get(&col).copied().unwrap_or(8.43);
            assert!(
                width >= median as f64,
                "{name} column {col}: width {width} < median {median}"
            );
        }
    }

    // Print setup on every sheet: landscape, the job and range in the header; data sheets
    // repeat their header row; fit to a page wide where it stays legible.
    let workbook = &book.zip["xl/workbook.xml"];
    for name in &names {
        let xml = book.xml(name);
        assert!(
            xml.contains("orientation=\"landscape\""),
            "{name} landscape"
        );
        let header = &xml[xml
            .find("<oddHeader>")
            .unwrap_or_else(|| panic!("{name} page header"))..];
        assert!(
            header.contains("monthly-compliance") && header.contains("2026-10-01 – 2026-10-31")
        );
        if !(name == &"汇总" || name.starts_with("图表·")) {
            let titles = format!(
                "_xlnm.Print_Titles\" localSheetId=\"{}\"",
                names.iter().position(|n| n == name).unwrap()
            );
            assert!(workbook.contains(&titles), "{name} repeats its header row");
        }
    }
    for name in ["汇总", "部门迟交"] {
        assert!(
            book.xml(name).contains("fitToPage=\"1\""),
            "{name} fits to the page width"
        );
    }
}

#[test]
fn the_weekly_roster_workbook_is_in_english_and_its_csv_in_local_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(shipped_job("weekly-late-roster.toml")).unwrap();
    let job = dir.path().join("weekly-late-roster.toml");
    fs::write(&job, format!("{text}language = \"en\"\n")).unwrap();
    let (_run_dir, out, xlsx) = run_job(&job, &["--start", "2026-09-28", "--end", "2026-10-05"]);

    let book = Book::open(&xlsx);
    let names = book.names();
    assert_eq!(
        &names[..3],
        ["Summary", "Late by person", "Unreported roster"],
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("Chart·")), "{names:?}");
    assert_eq!(
        &book.header("Unreported roster")[..6],
        [
            "Period",
            "Template",
            "Name",
            "Department",
            "Cycle start",
            "Cycle end"
        ]
    );
    let summary: String = book
        .cells("Summary")
        .iter()
        .map(|c| c.text.clone())
        .collect();
    assert!(summary.contains("Late rate = late ÷ reported"), "{summary}");
    assert!(summary.contains("2026-09-28 – 2026-10-04"), "{summary}");

    // The roster's CSV (for people) in local time: the 1 October cycle starts on 1 October.
    let csv_path = files_under(&out)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with("unreported_roster.csv"))
        .expect("the roster's CSV");
    let csv = fs::read_to_string(csv_path).unwrap();
    assert!(
        csv.contains("2026-10-01 00:00:00+08:00"),
        "a cycle starting 1 October, local:\n{}",
        &csv[..csv.len().min(2000)]
    );
    assert!(
        !csv.contains("T16:00:00"),
        "no UTC instants in the people's CSV"
    );
    // The data tables keep UTC.
    let stat_cycles = files_under(&out)
        .into_iter()
        .find(|p| {
            p.to_string_lossy().contains("tables/stat_cycles")
                && p.extension().is_some_and(|e| e == "csv")
        })
        .expect("the stat_cycles CSV");
    let tables = fs::read_to_string(stat_cycles).unwrap();
    assert!(!tables.contains("+08:00"), "tables keep UTC");
}

/// The shipped monthly job over `[start, end)`, written beside the test's output.
fn monthly_job(dir: &Path, start: &str, end: &str) -> PathBuf {
    let shipped = fs::read_to_string(shipped_job("monthly-compliance.toml")).unwrap();
    let range = "start = \"2026-10-01\"\nend = \"2026-11-01\"";
    assert!(
        shipped.contains(range),
        "the shipped job's range is where this test expects it"
    );
    let text = shipped.replace(range, &format!("start = \"{start}\"\nend = \"{end}\""));
    let path = dir.join(format!("monthly-{start}.toml"));
    fs::write(&path, text).unwrap();
    path
}

/// The per-template rows of the summary: template name → the cells of its row, by column.
fn summary_rows(book: &Book, names: &[String]) -> BTreeMap<String, BTreeMap<usize, XCell>> {
    let summary = book.cells("汇总");
    names
        .iter()
        .map(|t| {
            let row = summary
                .iter()
                .find(|c| c.col == 0 && &c.text == t)
                .unwrap_or_else(|| panic!("no summary row for {t}"))
                .row;
            let cells = summary
                .iter()
                .filter(|c| c.row == row)
                .map(|c| (c.col, c.clone()))
                .collect();
            (t.clone(), cells)
        })
        .collect()
}

#[test]
fn the_summary_compares_each_template_with_the_previous_month_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_arg = out.to_str().unwrap();
    // One store holding September and October (the sandbox's world spans the run's range).
    let both = monthly_job(dir.path(), "2026-09-01", "2026-11-01");
    let run = run_bin(&[
        "run",
        both.to_str().unwrap(),
        "--sandbox",
        "--output",
        out_arg,
    ]);
    assert!(
        matches!(run.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // September's own report (the oracle), then October's workbook, both from that store.
    for (start, end) in [("2026-09-01", "2026-10-01"), ("2026-10-01", "2026-11-01")] {
        let job = monthly_job(dir.path(), start, end);
        let rebuild = run_bin(&["rebuild", job.to_str().unwrap(), "--output", out_arg]);
        assert!(
            matches!(rebuild.status.code(), Some(0 | 3)),
            "{}",
            String::from_utf8_lossy(&rebuild.stderr)
        );
    }
    let workbooks: Vec<PathBuf> = crate::common::workbooks_under(&out);
    let named = |has: &str, lacks: &str| {
        let found: Vec<&PathBuf> = workbooks
            .iter()
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.contains(has) && !name.contains(lacks)
            })
            .collect();
        assert_eq!(found.len(), 1, "{has} in {workbooks:?}");
        Book::open(found[0])
    };
    let (first, october) = (
        named("2026-09-01", "2026-10-01"),
        named("2026-10-01", "2026-09-01"),
    );
    let text =
        |book: &Book| -> String { book.cells("汇总").iter().map(|c| c.text.clone()).collect() };
    assert!(
        text(&first).contains("存储中没有上期数据。"),
        "September's workbook has no previous period"
    );
    assert!(
        text(&october).contains("与上期相比: 2026-09-01 – 2026-09-30"),
        "October's names the previous period"
    );
    // A trend by period where the range spans several (September and October), none in one.
    let lines = |book: &Book| {
        book.charts()
            .iter()
            .filter(|c| c.contains("<c:lineChart>"))
            .count()
    };
    assert!(lines(&first) > 0, "a trend chart over two months");
    assert_eq!(lines(&october), 0, "no trend chart in one month");

    let september = read_parquet(&out.join(
        "reports/late_rate_by_department/range=2026-09-01_2026-10-01/late_rate_by_department.parquet",
    ));
    let (tn, rp, lt, ex, un) = (
        text_column(&september, "template_name"),
        count_column(&september, "reported"),
        count_column(&september, "late"),
        count_column(&september, "expected"),
        count_column(&september, "unreported"),
    );
    let mut before: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for i in 0..september.height() {
        let sums = before.entry(tn[i].clone()).or_default();
        for (s, v) in sums.iter_mut().zip([rp[i], lt[i], ex[i], un[i]]) {
            *s += v;
        }
    }
    assert!(!before.is_empty(), "September has stat cycles");
    let rows = summary_rows(&october, &before.keys().cloned().collect::<Vec<_>>());
    let number = |cells: &BTreeMap<usize, XCell>, col: usize| -> f64 {
        let c = &cells[&col];
        assert!(
            october.format(c).contains('%'),
            "column {col} as a percentage"
        );
        c.text.parse().unwrap()
    };
    for (template, [reported, late, expected, unreported]) in &before {
        let cells = &rows[template];
        let late_then = *late as f64 / *reported as f64;
        let unreported_then = *unreported as f64 / *expected as f64;
        assert!(
            (number(cells, 8) - late_then).abs() < 1e-9,
            "{template}: late rate before"
        );
        assert!(
            (number(cells, 9) - (number(cells, 6) - late_then)).abs() < 1e-9,
            "{template}: late rate change"
        );
        assert!(
            (number(cells, 10) - unreported_then).abs() < 1e-9,
            "{template}: unreported rate before"
        );
        assert!(
            (number(cells, 11) - (number(cells, 7) - unreported_then)).abs() < 1e-9,
            "{template}: unreported rate change"
        );
    }
}
