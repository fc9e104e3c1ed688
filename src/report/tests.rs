//! Reports on hand-built frames with the flattened tables' columns. Expected figures are worked
//! out by hand in the comments, or by a plain-Rust oracle of the same definitions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, TimeZone as _};
use chrono_tz::Asia::Shanghai;
use polars::prelude::*;
use proptest::prelude::*;

use super::*;

#[derive(Clone, Debug)]
pub(super) struct Item {
    template: &'static str,
    date: NaiveDate,
    user: &'static str,
    dept: Option<(u64, &'static str)>,
    reported: bool,
    late: bool,
}

pub(super) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(super) fn item(
    template: &'static str,
    date: &str,
    user: &'static str,
    dept: Option<(u64, &'static str)>,
    reported: bool,
    late: bool,
) -> Item {
    Item {
        template,
        date: d(date),
        user,
        dept,
        reported,
        late,
    }
}

fn local_midnight_ms(date: NaiveDate) -> i64 {
    Shanghai
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .timestamp_millis()
}

fn utc_ms(values: Vec<Option<i64>>, name: &str) -> Column {
    Series::new(name.into(), values)
        .cast(&DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(polars::prelude::TimeZone::UTC),
        ))
        .unwrap()
        .into()
}

/// A `stat_items` frame with the contract's columns (a day cycle per item date).
pub(super) fn stat_items(items: &[Item]) -> DataFrame {
    let begin: Vec<Option<i64>> = items
        .iter()
        .map(|i| Some(local_midnight_ms(i.date)))
        .collect();
    let end: Vec<Option<i64>> = items
        .iter()
        .map(|i| Some(local_midnight_ms(i.date) + 86_400_000))
        .collect();
    let report_time: Vec<Option<i64>> = items
        .iter()
        .map(|i| {
            i.reported
                .then(|| local_midnight_ms(i.date) + if i.late { 90_000_000 } else { 60_000_000 })
        })
        .collect();
    DataFrame::new_infer_height(vec![
        Column::new(
            "template_id".into(),
            items.iter().map(|i| i.template).collect::<Vec<_>>(),
        ),
        Column::new(
            "template_name".into(),
            items
                .iter()
                .map(|i| format!("{} 日报", i.template))
                .collect::<Vec<_>>(),
        ),
        utc_ms(begin, "cycle_begin"),
        utc_ms(end, "cycle_end"),
        Column::new(
            "cycle_date".into(),
            items.iter().map(|i| i.date).collect::<Vec<_>>(),
        ),
        Column::new(
            "userid".into(),
            items.iter().map(|i| i.user).collect::<Vec<_>>(),
        ),
        Column::new(
            "department_id".into(),
            items
                .iter()
                .map(|i| i.dept.map(|(id, _)| id))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "department_name".into(),
            items
                .iter()
                .map(|i| i.dept.map_or(UNKNOWN_DEPARTMENT, |(_, n)| n))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            items
                .iter()
                .map(|i| if i.reported { "reported" } else { "unreported" })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "journal_uuid".into(),
            items
                .iter()
                .map(|i| i.reported.then(|| format!("j-{}-{}", i.user, i.date)))
                .collect::<Vec<_>>(),
        ),
        utc_ms(report_time, "report_time"),
        Column::new(
            "is_late".into(),
            items
                .iter()
                .map(|i| i.reported && i.late)
                .collect::<Vec<_>>(),
        ),
    ])
    .unwrap()
}

#[derive(Clone, Debug)]
pub(super) struct Journal {
    pub(super) uuid: &'static str,
    pub(super) template: &'static str,
    pub(super) date: NaiveDate,
    pub(super) user: &'static str,
    pub(super) receivers: u32,
    pub(super) reads: u32,
}

pub(super) fn journal(
    uuid: &'static str,
    template: &'static str,
    date: &str,
    user: &'static str,
    receivers: u32,
    reads: u32,
) -> Journal {
    Journal {
        uuid,
        template,
        date: d(date),
        user,
        receivers,
        reads,
    }
}

pub(super) fn journals(rows: &[Journal]) -> DataFrame {
    DataFrame::new_infer_height(vec![
        Column::new(
            "journal_uuid".into(),
            rows.iter().map(|j| j.uuid).collect::<Vec<_>>(),
        ),
        Column::new(
            "template_id".into(),
            rows.iter().map(|j| j.template).collect::<Vec<_>>(),
        ),
        Column::new(
            "template_name".into(),
            rows.iter()
                .map(|j| format!("{} 日报", j.template))
                .collect::<Vec<_>>(),
        ),
        utc_ms(
            rows.iter()
                .map(|j| Some(local_midnight_ms(j.date) + 3_600_000))
                .collect(),
            "report_time",
        ),
        Column::new(
            "report_date".into(),
            rows.iter().map(|j| j.date).collect::<Vec<_>>(),
        ),
        Column::new(
            "submitter_userid".into(),
            rows.iter().map(|j| j.user).collect::<Vec<_>>(),
        ),
        Column::new(
            "department_id".into(),
            rows.iter().map(|_| None::<u64>).collect::<Vec<_>>(),
        ),
        Column::new(
            "department_name".into(),
            rows.iter().map(|_| UNKNOWN_DEPARTMENT).collect::<Vec<_>>(),
        ),
        Column::new(
            "receiver_count".into(),
            rows.iter().map(|j| j.receivers).collect::<Vec<_>>(),
        ),
        Column::new(
            "read_count".into(),
            rows.iter().map(|j| j.reads).collect::<Vec<_>>(),
        ),
        Column::new(
            "comment_count".into(),
            rows.iter().map(|_| 0u32).collect::<Vec<_>>(),
        ),
    ])
    .unwrap()
}

fn names(frame: &DataFrame) -> Vec<String> {
    frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

fn no_journals() -> DataFrame {
    journals(&[])
}

fn inputs(items: &[Item], js: &[Journal]) -> ReportInputs {
    ReportInputs::from_frames(&stat_items(items), &journals(js))
}

pub(super) fn strs(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    frame
        .column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .as_materialized_series()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

pub(super) fn u64s(frame: &DataFrame, name: &str) -> Vec<u64> {
    let column = frame.column(name).unwrap();
    assert_eq!(column.dtype(), &DataType::UInt64, "{name}");
    column
        .as_materialized_series()
        .u64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

pub(super) fn f64s(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let column = frame.column(name).unwrap();
    assert_eq!(column.dtype(), &DataType::Float64, "{name}");
    column
        .as_materialized_series()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

pub(super) const SALES: Option<(u64, &str)> = Some((2, "销售部"));
pub(super) const TECH: Option<(u64, &str)> = Some((3, "技术部"));

#[test]
fn late_rate_by_department_counts_and_rates() {
    // 销售部: u1 on time, u2 late, u3 unreported → expected 3, reported 2, on_time 1, late 1,
    //   unreported 1; late_rate 1/2, on_time_rate 1/3, unreported_rate 1/3.
    // 技术部: u4 on time, u5 on time → 2, 2, 2, 0, 0; late_rate 0, on_time 1, unreported 0.
    let items = [
        item("T1", "2026-10-07", "u1", SALES, true, false),
        item("T1", "2026-10-07", "u2", SALES, true, true),
        item("T1", "2026-10-07", "u3", SALES, false, false),
        item("T1", "2026-10-07", "u4", TECH, true, false),
        item("T1", "2026-10-07", "u5", TECH, true, false),
    ];
    let out = build(
        ReportKind::LateRateByDepartment,
        &inputs(&items, &[]),
        Period::Day,
    )
    .unwrap();
    assert_eq!(
        out.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        [
            "period",
            "template_id",
            "template_name",
            "department_id",
            "department_name",
            "expected",
            "reported",
            "on_time",
            "late",
            "unreported",
            "late_rate",
            "on_time_rate",
            "unreported_rate"
        ]
    );
    // Sorted by period, template, department name: 技术部 (U+6280) before 销售部 (U+9500).
    assert_eq!(
        strs(&out, "department_name"),
        [Some("技术部".into()), Some("销售部".into())]
    );
    assert_eq!(
        strs(&out, "period"),
        [Some("2026-10-07".into()), Some("2026-10-07".into())]
    );
    assert_eq!(u64s(&out, "expected"), [2, 3]);
    assert_eq!(u64s(&out, "reported"), [2, 2]);
    assert_eq!(u64s(&out, "on_time"), [2, 1]);
    assert_eq!(u64s(&out, "late"), [0, 1]);
    assert_eq!(u64s(&out, "unreported"), [0, 1]);
    assert_eq!(f64s(&out, "late_rate"), [Some(0.0), Some(0.5)]);
    assert_eq!(f64s(&out, "on_time_rate"), [Some(1.0), Some(1.0 / 3.0)]);
    assert_eq!(f64s(&out, "unreported_rate"), [Some(0.0), Some(1.0 / 3.0)]);
}

#[test]
fn rates_are_null_not_nan_when_the_denominator_is_zero() {
    // Nobody reported: late_rate = 0/0 → null; the others have expected = 2 → 0.0 and 1.0.
    let items = [
        item("T1", "2026-10-07", "u1", SALES, false, false),
        item("T1", "2026-10-07", "u2", SALES, false, false),
    ];
    let out = build(
        ReportKind::LateRateByDepartment,
        &inputs(&items, &[]),
        Period::Day,
    )
    .unwrap();
    assert_eq!(f64s(&out, "late_rate"), [None]);
    assert_eq!(f64s(&out, "on_time_rate"), [Some(0.0)]);
    assert_eq!(f64s(&out, "unreported_rate"), [Some(1.0)]);

    // Journals without receivers: read_rate = 0/0 → null.
    let js = [journal("j1", "T1", "2026-10-07", "u1", 0, 0)];
    let out = build(
        ReportKind::ReadRateByTemplate,
        &inputs(&[], &js),
        Period::Day,
    )
    .unwrap();
    assert_eq!(f64s(&out, "read_rate"), [None]);
    assert_eq!(u64s(&out, "journals"), [1]);
}

#[test]
fn empty_inputs_give_empty_reports_with_their_columns() {
    for kind in ReportKind::ALL {
        let out = build(kind, &inputs(&[], &[]), Period::Month).unwrap();
        assert_eq!(out.height(), 0, "{}", kind.name());
        assert!(
            names(&out).contains(&"period".to_string()),
            "{}",
            kind.name()
        );
    }
    let s = summary(&inputs(&[], &[])).unwrap();
    assert_eq!(s, ReportSummary::default());
}

#[test]
fn a_user_listed_twice_in_a_cycle_counts_once() {
    // u1 appears three times in one cycle (late, on time, late): one pair, reported on time.
    // u2 appears twice unreported: one pair, unreported.
    let items = [
        item("T1", "2026-10-07", "u1", SALES, true, true),
        item("T1", "2026-10-07", "u1", SALES, true, false),
        item("T1", "2026-10-07", "u1", SALES, true, true),
        item("T1", "2026-10-07", "u2", SALES, false, false),
        item("T1", "2026-10-07", "u2", SALES, false, false),
    ];
    let i = inputs(&items, &[]);
    let out = build(ReportKind::LateRateByDepartment, &i, Period::Day).unwrap();
    assert_eq!(u64s(&out, "expected"), [2]);
    assert_eq!(u64s(&out, "reported"), [1]);
    assert_eq!(u64s(&out, "on_time"), [1]);
    assert_eq!(u64s(&out, "late"), [0]);
    assert_eq!(u64s(&out, "unreported"), [1]);

    let by_user = build(ReportKind::LateRateByUser, &i, Period::Day).unwrap();
    assert_eq!(
        strs(&by_user, "userid"),
        [Some("u1".into()), Some("u2".into())]
    );
    assert_eq!(u64s(&by_user, "expected"), [1, 1]);

    let roster = build(ReportKind::UnreportedRoster, &i, Period::Day).unwrap();
    assert_eq!(roster.height(), 1);
    assert_eq!(strs(&roster, "userid"), [Some("u2".into())]);
}

#[test]
fn periods_roll_days_up_to_iso_weeks_and_months() {
    // 2026-10-05 is a Monday: 05..11 are ISO week 41, 12 is week 42. 2026-12-31 (Thursday) and
    // 2027-01-01 (Friday) are both in ISO week 2026-W53 but in different months.
    let days = [
        "2026-10-05",
        "2026-10-11",
        "2026-10-12",
        "2026-12-31",
        "2027-01-01",
    ];
    let items: Vec<Item> = days
        .iter()
        .map(|day| item("T1", day, "u1", SALES, true, false))
        .collect();
    let i = inputs(&items, &[]);

    let week = build(ReportKind::LateRateByDepartment, &i, Period::Week).unwrap();
    assert_eq!(
        strs(&week, "period"),
        [
            Some("2026-W41".into()),
            Some("2026-W42".into()),
            Some("2026-W53".into())
        ]
    );
    assert_eq!(u64s(&week, "expected"), [2, 1, 2]);

    let month = build(ReportKind::LateRateByDepartment, &i, Period::Month).unwrap();
    assert_eq!(
        strs(&month, "period"),
        [
            Some("2026-10".into()),
            Some("2026-12".into()),
            Some("2027-01".into())
        ]
    );
    assert_eq!(u64s(&month, "expected"), [3, 1, 1]);

    let day = build(ReportKind::LateRateByDepartment, &i, Period::Day).unwrap();
    assert_eq!(day.height(), 5);

    // The Rust-side label agrees with the query's.
    assert_eq!(period_label(d("2027-01-01"), Period::Week), "2026-W53");
    assert_eq!(period_label(d("2026-10-07"), Period::Month), "2026-10");
}

#[test]
fn users_without_a_directory_are_in_the_unknown_department() {
    let items = [
        item("T1", "2026-10-07", "u1", None, true, true),
        item("T1", "2026-10-07", "u2", None, false, false),
    ];
    let i = inputs(&items, &[]);
    let out = build(ReportKind::LateRateByDepartment, &i, Period::Month).unwrap();
    assert_eq!(
        strs(&out, "department_name"),
        [Some(UNKNOWN_DEPARTMENT.into())]
    );
    assert_eq!(strs(&out, "department_id"), [None]);
    assert_eq!(f64s(&out, "late_rate"), [Some(1.0)]);
    let roster = build(ReportKind::UnreportedRoster, &i, Period::Month).unwrap();
    assert_eq!(
        roster
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        [
            "period",
            "userid",
            "department_id",
            "department_name",
            "template_id",
            "template_name",
            "cycle_begin",
            "cycle_end"
        ]
    );
    assert_eq!(
        strs(&roster, "department_name"),
        [Some(UNKNOWN_DEPARTMENT.into())]
    );
}

#[test]
fn unreported_roster_lists_each_missing_user_cycle_with_its_cycle() {
    let items = [
        item("T1", "2026-10-07", "u1", SALES, false, false),
        item("T1", "2026-10-08", "u1", SALES, true, false),
        item("T2", "2026-10-08", "u2", TECH, false, false),
    ];
    let roster = build(
        ReportKind::UnreportedRoster,
        &inputs(&items, &[]),
        Period::Day,
    )
    .unwrap();
    assert_eq!(
        strs(&roster, "userid"),
        [Some("u1".into()), Some("u2".into())]
    );
    assert_eq!(
        strs(&roster, "template_id"),
        [Some("T1".into()), Some("T2".into())]
    );
    let begins: Vec<Option<i64>> = roster
        .column("cycle_begin")
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .physical()
        .iter()
        .collect();
    assert_eq!(
        begins,
        [
            Some(local_midnight_ms(d("2026-10-07"))),
            Some(local_midnight_ms(d("2026-10-08")))
        ]
    );
}

#[test]
fn read_rate_by_template_counts_each_journal_once() {
    // T1 in October: j1 (4 receivers, 3 reads) listed twice, j2 (6, 1) → 2 journals, 10, 4.
    // T1 in November: j3 (2, 2). T2 in October: j4 (5, 0).
    let js = [
        journal("j1", "T1", "2026-10-07", "u1", 4, 3),
        journal("j1", "T1", "2026-10-07", "u1", 4, 3),
        journal("j2", "T1", "2026-10-20", "u2", 6, 1),
        journal("j3", "T1", "2026-11-02", "u1", 2, 2),
        journal("j4", "T2", "2026-10-09", "u3", 5, 0),
    ];
    let out = build(
        ReportKind::ReadRateByTemplate,
        &inputs(&[], &js),
        Period::Month,
    )
    .unwrap();
    assert_eq!(
        out.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        [
            "period",
            "template_id",
            "template_name",
            "journals",
            "receivers",
            "reads",
            "read_rate"
        ]
    );
    assert_eq!(
        strs(&out, "period"),
        [
            Some("2026-10".into()),
            Some("2026-10".into()),
            Some("2026-11".into())
        ]
    );
    assert_eq!(
        strs(&out, "template_id"),
        [Some("T1".into()), Some("T2".into()), Some("T1".into())]
    );
    assert_eq!(u64s(&out, "journals"), [2, 1, 1]);
    assert_eq!(u64s(&out, "receivers"), [10, 5, 2]);
    assert_eq!(u64s(&out, "reads"), [4, 0, 2]);
    assert_eq!(f64s(&out, "read_rate"), [Some(0.4), Some(0.0), Some(1.0)]);
}

#[test]
fn summary_gives_the_headline_figures() {
    let items = [
        item("T1", "2026-10-07", "u1", SALES, true, false),
        item("T1", "2026-10-07", "u2", SALES, true, true),
        item("T1", "2026-10-08", "u2", SALES, true, true),
        item("T1", "2026-10-07", "u3", TECH, false, false),
    ];
    let js = [
        journal("j1", "T1", "2026-10-07", "u1", 4, 3),
        journal("j2", "T1", "2026-10-09", "u9", 6, 1),
    ];
    let s = summary(&inputs(&items, &js)).unwrap();
    // Pairs: (u1,07) on time, (u2,07) late, (u2,08) late, (u3,07) unreported.
    assert_eq!(
        (s.expected, s.reported, s.on_time, s.late, s.unreported),
        (4, 3, 1, 2, 1)
    );
    assert_eq!(s.late_rate, Some(2.0 / 3.0));
    assert_eq!(s.on_time_rate, Some(0.25));
    assert_eq!(s.unreported_rate, Some(0.25));
    assert_eq!((s.journals, s.receivers, s.reads), (2, 10, 4));
    assert_eq!(s.read_rate, Some(0.4));
    // u1, u2, u3 from stats and u9 from journals; 销售部, 技术部 and the journals' `unknown`.
    assert_eq!(s.users, 4);
    assert_eq!(s.departments, 3);
    assert_eq!(s.templates, 1);
    assert_eq!(s.first_date, Some(d("2026-10-07")));
    assert_eq!(s.last_date, Some(d("2026-10-09")));
}

#[test]
fn a_missing_column_is_named_in_the_error() {
    let frame = stat_items(&[item("T1", "2026-10-07", "u1", SALES, true, false)])
        .drop("is_late")
        .unwrap();
    let i = ReportInputs::from_frames(&frame, &no_journals());
    let err = build(ReportKind::LateRateByUser, &i, Period::Day).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("late_rate_by_user")
            && text.contains("stat_items")
            && text.contains("is_late"),
        "{text}"
    );
}

/// The same definitions in plain Rust over the item list.
fn oracle_by_department(
    items: &[Item],
    period: Period,
) -> BTreeMap<(String, String, String), [u64; 5]> {
    // (template, date, user) → (dept name, reported, on_time)
    let mut pairs: BTreeMap<(&str, NaiveDate, &str), (String, bool, bool)> = BTreeMap::new();
    for i in items {
        let dept = i.dept.map_or(UNKNOWN_DEPARTMENT, |(_, n)| n).to_owned();
        let entry = pairs
            .entry((i.template, i.date, i.user))
            .or_insert((dept, false, false));
        entry.1 |= i.reported;
        entry.2 |= i.reported && !i.late;
    }
    let mut out: BTreeMap<(String, String, String), [u64; 5]> = BTreeMap::new();
    for ((template, date, _), (dept, reported, on_time)) in pairs {
        let key = (period_label(date, period), template.to_owned(), dept);
        let c = out.entry(key).or_default();
        c[0] += 1;
        c[1] += u64::from(reported);
        c[2] += u64::from(on_time);
        c[3] += u64::from(reported && !on_time);
        c[4] += u64::from(!reported);
    }
    out
}

fn arb_item() -> impl Strategy<Value = Item> {
    let users = ["u1", "u2", "u3", "u4"];
    let templates = ["T1", "T2"];
    (0usize..4, 0usize..2, 0i64..70, any::<bool>(), any::<bool>()).prop_map(
        move |(u, t, day, reported, late)| {
            // A user's department is fixed, as the directory's main department is.
            let dept = match u {
                0 | 1 => SALES,
                2 => TECH,
                _ => None,
            };
            Item {
                template: templates[t],
                date: d("2026-09-20") + chrono::Duration::days(day),
                user: users[u],
                dept,
                reported,
                late,
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn department_report_matches_a_plain_rust_oracle(
        items in proptest::collection::vec(arb_item(), 0..40),
        period in prop_oneof![Just(Period::Day), Just(Period::Week), Just(Period::Month)],
    ) {
        let out = build(ReportKind::LateRateByDepartment, &inputs(&items, &[]), period).unwrap();
        let periods = strs(&out, "period");
        let templates = strs(&out, "template_id");
        let depts = strs(&out, "department_name");
        let counts: Vec<Vec<u64>> = ["expected", "reported", "on_time", "late", "unreported"]
            .iter()
            .map(|c| u64s(&out, c))
            .collect();
        let mut got = BTreeMap::new();
        for row in 0..out.height() {
            let key = (periods[row].clone().unwrap(), templates[row].clone().unwrap(), depts[row].clone().unwrap());
            got.insert(key, [counts[0][row], counts[1][row], counts[2][row], counts[3][row], counts[4][row]]);
        }
        prop_assert_eq!(got.len(), out.height(), "duplicate groups");
        prop_assert_eq!(got, oracle_by_department(&items, period));
        let late_rate = f64s(&out, "late_rate");
        for row in 0..out.height() {
            let expected = (counts[1][row] > 0).then(|| counts[3][row] as f64 / counts[1][row] as f64);
            prop_assert_eq!(late_rate[row], expected);
        }
        let distinct_users: BTreeSet<&str> = items.iter().map(|i| i.user).collect();
        let s = summary(&inputs(&items, &[])).unwrap();
        prop_assert_eq!(s.users as usize, distinct_users.len());
    }
}
