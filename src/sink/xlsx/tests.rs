use std::collections::BTreeSet;

use super::grid::{column_letter, display_width, Widths, MAX_WIDTH};
use super::*;

#[test]
fn sheet_names_are_short_clean_and_unique() {
    let mut used = BTreeSet::new();
    assert_eq!(unique_sheet_name("summary", &mut used), "summary");
    assert_eq!(unique_sheet_name("Summary", &mut used), "Summary~2");
    let long = "journals_wide__ZLqk8pcsAoXZ1eY56vpAgfX28MqNd5TyC3ao4ssM";
    let a = unique_sheet_name(long, &mut used);
    let b = unique_sheet_name(long, &mut used);
    assert_eq!(a.chars().count(), 31);
    assert_eq!(b.chars().count(), 31);
    assert!(b.ends_with("~2") && a != b, "{a} {b}");
    assert_eq!(unique_sheet_name("a/b:c[1]?'", &mut used), "a_b_c_1__");
    let chinese = unique_sheet_name(
        "明细·销售日报销售日报销售日报销售日报销售日报销售日报销售日报",
        &mut used,
    );
    assert_eq!(chinese.chars().count(), 31);
}

#[test]
fn display_width_counts_cjk_double_and_takes_the_widest_line() {
    assert_eq!(display_width("abc"), 3);
    assert_eq!(display_width("销售部"), 6);
    assert_eq!(display_width("工作\n今天完成了客户拜访"), 18);
    assert_eq!(display_width("（全角）"), 8);
}

#[test]
fn a_column_is_never_narrower_than_its_median_and_long_text_wraps() {
    let mut widths = Widths::default();
    for text in ["销售部", "技术部门", "a", "市场部"] {
        widths.see(0, &Cell::text(text));
    }
    assert_eq!(widths.median(0), 6);
    assert!(widths.width(0, "部门") >= 6.0);
    assert!(!widths.wraps(0));
    let long = "很长的回答".repeat(20);
    widths.see(1, &Cell::text(long));
    widths.see(1, &Cell::text("多行\n回答"));
    assert!(widths.wraps(1));
    assert!(widths.width(1, "回答") <= MAX_WIDTH as f64 + 2.0);
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(27), "AB");
}

#[test]
fn ids_excel_cannot_keep_exact_are_text() {
    assert_eq!(Cell::integer(12), Cell::Number(12.0));
    assert_eq!(
        Cell::integer(9_007_199_254_740_993),
        Cell::Text("9007199254740993".into())
    );
}

#[test]
fn a_full_spill_sheet_says_how_many_rows_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let mut sheet = SpillSheet::with_cap("明细", 2);
    let c = sheet.column("k", "列");
    for i in 0..5 {
        sheet.push(&[(c, Cell::Number(i as f64))]).unwrap();
    }
    assert_eq!(sheet.rows(), 2);
    let plan = WorkbookPlan {
        summary: SummarySheet {
            name: "汇总".into(),
            ..Default::default()
        },
        wide: vec![sheet],
        ..Default::default()
    };
    let options = WorkbookOptions {
        language: Language::Zh,
        job: "j".into(),
        range: "r".into(),
    };
    let (file, warnings) = write_workbook(&out, "w.xlsx", plan, &options).unwrap();
    assert_eq!(file.rows, 2);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("3 rows past Excel's sheet limit")),
        "{warnings:?}"
    );
}
