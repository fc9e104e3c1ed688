//! The whole pipeline through the real binary: `run --sandbox`, re-run, `rebuild`, `demo`.
//! Expected figures are computed here from the simulator's own organisation, independently of
//! the flatten and report code under test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use chrono::{NaiveDate, TimeZone};
use polars::prelude::*;
use wecom_journal::sim::{Gentle, Org, SimConfig};

use crate::common::{
    files_under, read_parquet, run_bin, run_bin_gentle, scan_dataset, shipped_job, unzip,
    xml_attr_values,
};

const TABLES: [&str; 9] = [
    "journals",
    "journal_controls",
    "journal_attachments",
    "journal_receivers",
    "journal_comments",
    "stat_cycles",
    "stat_items",
    "departments",
    "users",
];

/// The organisation `run --sandbox` serves for jobs/monthly-compliance.toml (October 2026).
fn october_org() -> Org {
    Org::generate(&SimConfig {
        start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days: 31,
        timezone: chrono_tz::Asia::Shanghai,
        gentle: Gentle::parse(GENTLE).unwrap(),
        ..SimConfig::default()
    })
}

/// The sandbox serves the world as WeCom is (no gentle behaviour): withdrawn journals (a gap
/// each, exit 3), users without a main department (counted in the first listed).
const GENTLE: &str = "";

/// For the one test that counts refused journals against every journal of the world.
const NO_WITHDRAWALS: &str = "withdrawals";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    expected: u64,
    reported: u64,
    late: u64,
    unreported: u64,
}

/// late_rate_by_department's counts, from the simulator's stat cycles and directory:
/// (department_id, template_id, period) → counts, a user × cycle counted once.
fn expected_by_department(org: &Org) -> BTreeMap<(u64, String, String), Counts> {
    let main_department: BTreeMap<&str, u64> = org
        .users
        .iter()
        .map(|u| {
            (
                u.userid.as_str(),
                u.main_department
                    .or(u.department.first().copied())
                    .expect("a department"),
            )
        })
        .collect();
    let mut out: BTreeMap<(u64, String, String), Counts> = BTreeMap::new();
    for cycle in &org.stats {
        let begin = chrono_tz::Asia::Shanghai
            .timestamp_opt(cycle.cycle_begin_time as i64, 0)
            .unwrap();
        let period = begin.format("%Y-%m").to_string();
        let mut reported_users = BTreeSet::new();
        for entry in &cycle.report_list {
            if !reported_users.insert(entry.user.userid.as_str()) {
                continue;
            }
            let on_time = entry.itemlist.iter().any(|i| i.flag == 0);
            let c = out
                .entry((
                    main_department[entry.user.userid.as_str()],
                    cycle.template_id.clone(),
                    period.clone(),
                ))
                .or_default();
            c.expected += 1;
            c.reported += 1;
            c.late += u64::from(!on_time);
        }
        let unreported: BTreeSet<&str> = cycle
            .unreport_list
            .iter()
            .map(|e| e.user.userid.as_str())
            .filter(|u| !reported_users.contains(u))
            .collect();
        for user in unreported {
            let c = out
                .entry((
                    main_department[user],
                    cycle.template_id.clone(),
                    period.clone(),
                ))
                .or_default();
            c.expected += 1;
            c.unreported += 1;
        }
    }
    out
}

fn u64_at(df: &DataFrame, column: &str, row: usize) -> u64 {
    df.column(column)
        .unwrap()
        .get(row)
        .unwrap()
        .extract::<u64>()
        .unwrap_or_else(|| panic!("{column}[{row}] is not a count"))
}

fn f64_at(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
    df.column(column)
        .unwrap()
        .get(row)
        .unwrap()
        .extract::<f64>()
}

fn str_at(df: &DataFrame, column: &str, row: usize) -> String {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .get(row)
        .unwrap_or_default()
        .to_string()
}

fn table_heights(out: &Path) -> BTreeMap<&'static str, usize> {
    TABLES
        .iter()
        .map(|t| (*t, scan_dataset(out, t).height()))
        .collect()
}

fn sorted(df: DataFrame) -> DataFrame {
    let columns: Vec<String> = df
        .schema()
        .iter()
        .filter(|(_, dtype)| !matches!(dtype, DataType::List(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    df.sort(columns, SortMultipleOptions::default()).unwrap()
}

fn manifest_of(out: &Path) -> Vec<serde_json::Value> {
    files_under(&out.join("runs"))
        .into_iter()
        .map(|p| serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap())
        .collect()
}

#[test]
fn run_sandbox_month_matches_the_simulator_then_reruns_and_rebuilds_identically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let job = shipped_job("monthly-compliance.toml");
    let job = job.to_str().unwrap();
    let first = run_bin_gentle(
        &["run", job, "--sandbox", "--output", out.to_str().unwrap()],
        GENTLE,
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    // Withdrawn journals are gaps: the run finishes, exit 3, every output written.
    assert_eq!(first.status.code(), Some(3), "run failed:\n{stderr}");
    // The sandbox's clock is the real one: October is settled.
    let now = chrono::Utc::now().timestamp();

    let org = october_org();
    let (start, end) = (
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
    );
    // The journals that exist (withdrawn ones do not), and those listed (withdrawn included).
    let journals_in_range = org
        .at(now)
        .journals()
        .filter(|j| (start..end).contains(&j.report_time()))
        .count();
    let withdrawn_in_range = org
        .at(now)
        .withdrawn()
        .filter(|j| (start..end).contains(&j.report_time()))
        .count();
    assert!(withdrawn_in_range > 0, "the world withdraws some journals");
    assert!(
        journals_in_range > 500,
        "the demo organisation is big enough to mean something"
    );

    // Late, reported and unreported counts and rates per department, against the simulator.
    let report = read_parquet(&out.join(
        "reports/late_rate_by_department/range=2026-10-01_2026-11-01/late_rate_by_department.parquet",
    ));
    let expected = expected_by_department(&org);
    assert_eq!(
        report.height(),
        expected.len(),
        "one row per department × template × period"
    );
    for row in 0..report.height() {
        let key = (
            u64_at(&report, "department_id", row),
            str_at(&report, "template_id", row),
            str_at(&report, "period", row),
        );
        let want = expected
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected report row {key:?}"));
        let got = Counts {
            expected: u64_at(&report, "expected", row),
            reported: u64_at(&report, "reported", row),
            late: u64_at(&report, "late", row),
            unreported: u64_at(&report, "unreported", row),
        };
        assert_eq!(&got, want, "counts of {key:?}");
        assert_eq!(u64_at(&report, "on_time", row), want.reported - want.late);
        let late_rate = f64_at(&report, "late_rate", row);
        match want.reported {
            0 => assert_eq!(late_rate, None),
            n => assert!(
                (late_rate.unwrap() - want.late as f64 / n as f64).abs() < 1e-12,
                "late_rate of {key:?}"
            ),
        }
        let unreported_rate = f64_at(&report, "unreported_rate", row).unwrap();
        assert!((unreported_rate - want.unreported as f64 / want.expected as f64).abs() < 1e-12);
    }
    let total_late: u64 = expected.values().map(|c| c.late).sum();
    let total_unreported: u64 = expected.values().map(|c| c.unreported).sum();
    assert!(
        total_late > 0 && total_unreported > 0,
        "the simulator makes late and missing reports"
    );

    // The Parquet dataset, read back through its partitions.
    let journals = scan_dataset(&out, "journals");
    assert_eq!(journals.height(), journals_in_range);
    let months: BTreeSet<String> = journals
        .column("report_month")
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    assert_eq!(months, BTreeSet::from(["2026-10".to_string()]));
    let stat_items = scan_dataset(&out, "stat_items");
    assert_eq!(
        stat_items.height() as u64,
        expected.values().map(|c| c.expected).sum::<u64>()
    );
    let comments = scan_dataset(&out, "journal_comments");
    let org_comments: usize = org
        .at(now)
        .journals()
        .filter(|j| (start..end).contains(&j.report_time()))
        .map(|j| j.comments().count())
        .sum();
    assert_eq!(comments.height(), org_comments);

    // The CSV: a BOM for Excel, then the header and one line per row.
    let csv = fs::read(out.join(
        "csv/reports/late_rate_by_department/range=2026-10-01_2026-11-01/late_rate_by_department.csv",
    )).unwrap();
    assert!(
        csv.starts_with(b"\xEF\xBB\xBF"),
        "the CSV starts with a UTF-8 BOM"
    );
    let csv = String::from_utf8(csv[3..].to_vec()).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for column in [
        "department_id",
        "department_name",
        "expected",
        "late",
        "late_rate",
        "on_time_rate",
        "unreported_rate",
    ] {
        assert!(
            header.contains(&column),
            "CSV header {header:?} lacks {column}"
        );
    }
    let csv_rows = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(
            out.join("csv/tables/journals/report_month=2026-10/part-0.csv"),
        ))
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(csv_rows.height(), journals_in_range);

    // The workbook: summary first, a sheet per report and per template, headers in place.
    let xlsx: Vec<_> = crate::common::workbooks_under(&out);
    assert_eq!(xlsx.len(), 1, "one workbook per run: {xlsx:?}");
    let entries = unzip(&xlsx[0]);
    let sheets = xml_attr_values(&entries["xl/workbook.xml"], "sheet", "name");
    // In the job's language (zh, the default); workbook.rs checks the sheets' content.
    assert_eq!(sheets[0], "汇总");
    for report in ["部门迟交", "个人迟交", "未交名单", "阅读率"] {
        assert!(
            sheets.iter().any(|s| s == report),
            "sheets {sheets:?} lack {report}"
        );
    }
    assert!(
        sheets.iter().any(|s| s.starts_with("明细·")),
        "a wide sheet per template: {sheets:?}"
    );
    assert!(
        entries.keys().any(|k| k.starts_with("xl/charts/chart")),
        "a chart of late rate by department"
    );

    // A re-run of the same job and range changes no table's row count.
    let before = table_heights(&out);
    let second = run_bin_gentle(
        &["run", job, "--sandbox", "--output", out.to_str().unwrap()],
        GENTLE,
    );
    assert_eq!(
        second.status.code(),
        Some(3),
        "re-run failed:\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        table_heights(&out),
        before,
        "a re-run replaces its partitions, never duplicates rows"
    );
    let manifests = manifest_of(&out);
    assert_eq!(manifests.len(), 2, "a manifest per run");
    // Manifests are named by run id, which starts with the run's time: the second is the re-run.
    let detail_calls =
        |m: &serde_json::Value| m["calls"]["get_record_detail"].as_u64().unwrap_or(0);
    assert_eq!(
        detail_calls(&manifests[0]) as usize,
        journals_in_range + withdrawn_in_range,
        "the first run asked for every listed detail once"
    );
    assert_eq!(
        detail_calls(&manifests[1]) as usize,
        withdrawn_in_range,
        "the re-run fetched no detail again (all older than refresh_days) but retried the gaps"
    );

    // rebuild, with no network at all, gives the same tables.
    let snapshot: BTreeMap<&str, DataFrame> = TABLES
        .iter()
        .map(|t| (*t, sorted(scan_dataset(&out, t))))
        .collect();
    let rebuilt = run_bin(&["rebuild", job, "--output", out.to_str().unwrap()]);
    assert_eq!(
        rebuilt.status.code(),
        Some(0),
        "rebuild failed:\n{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    for (table, frame) in snapshot {
        let again = sorted(scan_dataset(&out, table));
        assert!(frame.equals_missing(&again), "rebuild changed {table}");
    }
}

#[test]
fn demo_says_where_the_files_are() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let demo = run_bin_gentle(&["demo", "--output", out.to_str().unwrap()], GENTLE);
    let stdout = String::from_utf8_lossy(&demo.stdout);
    // The demo's world withdraws a few journals: named gaps, exit 3, every file written.
    assert_eq!(
        demo.status.code(),
        Some(3),
        "demo failed:\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let xlsx = crate::common::workbooks_under(&out)
        .into_iter()
        .next()
        .expect("a workbook");
    assert!(
        stdout.contains(&xlsx.display().to_string()),
        "demo names its workbook:\n{stdout}"
    );
    assert!(
        stdout.contains("manifest"),
        "demo names its manifest:\n{stdout}"
    );
}

#[test]
fn a_bad_job_exits_2_and_a_store_less_rebuild_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("bad.toml");
    fs::write(
        &job,
        "name = \"x\"\n[range]\nstart = \"2026-13-01\"\nend = \"2026-11-01\"\n",
    )
    .unwrap();
    let run = run_bin(&[
        "run",
        job.to_str().unwrap(),
        "--sandbox",
        "--output",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("bad.toml:3:"),
        "the error says where: {stderr}"
    );

    let rebuild = run_bin(&[
        "rebuild",
        shipped_job("monthly-compliance.toml").to_str().unwrap(),
        "--output",
        dir.path().join("empty").to_str().unwrap(),
    ]);
    assert_eq!(rebuild.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&rebuild.stderr).contains("no store"));
}

/// A run against a real (external) endpoint: credentials from the environment, a template the
/// app may not read. The run finishes with exit 3 naming the gap, and the secret is nowhere:
/// not on stdout or stderr (logged at TRACE, as JSON), not in any file it wrote, the store
/// included.
#[test]
fn a_real_run_names_its_gaps_exits_3_and_never_writes_the_secret() {
    const SECRET: &str = "e2e-secret-8f2c1a7d94b3";
    let config = SimConfig {
        users: 30,
        start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days: 31,
        // No withdrawals: this test counts the 301065 gap's journals against the whole world.
        gentle: Gentle::parse(NO_WITHDRAWALS).unwrap(),
        ..SimConfig::default()
    };
    let org = Org::generate(&config);
    let weekly = org
        .templates
        .iter()
        .find(|t| t.report_type == 3)
        .expect("a weekly template");
    let sim = crate::common::SimProcess::start(&[
        "--users",
        "30",
        "--start",
        "2026-10-01",
        "--days",
        "31",
        "--secret",
        SECRET,
        "--deny-template",
        &weekly.id,
        "--gentle",
        NO_WITHDRAWALS,
    ])
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let job = dir.path().join("real.toml");
    fs::write(
        &job,
        format!(
            "name = \"real\"\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\nsecret = \"${{WECOM_JOURNAL_SECRET}}\"\n\
             [range]\nstart = \"2026-10-01\"\nend = \"2026-11-01\"\n[output]\ndir = \"{}\"\nformats = [\"parquet\", \"xlsx\"]\n",
            out.display()
        ),
    )
    .unwrap();
    let run = crate::common::bin()
        .args(["run", job.to_str().unwrap(), "--log-format", "json"])
        .env("WECOM_API_BASE", &sim.base_url)
        .env("WECOM_CORP_ID", &sim.corp_id)
        .env("WECOM_JOURNAL_SECRET", &sim.secret)
        .env("WECOM_JOURNAL_LOG", "trace")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(3),
        "a run with a gap exits 3:\n{stderr}"
    );

    let manifests = manifest_of(&out);
    assert_eq!(manifests.len(), 1);
    let gaps = manifests[0]["gaps"].as_array().expect("gaps");
    // The app cannot read the template's details, so it cannot learn their template: the gap
    // names the journals the list gave and the detail endpoint refused.
    let in_october = |ts: i64| {
        (NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
            ..NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())
            .contains(&date_of(ts))
    };
    let denied = org
        .journals
        .iter()
        .filter(|j| {
            j.template_id.as_deref() == Some(weekly.id.as_str()) && in_october(j.report_time)
        })
        .count();
    assert!(denied > 0);
    assert!(
        gaps.iter().any(|g| g["errcode"] == 301065
            && g["endpoint"] == "/cgi-bin/oa/journal/get_record_detail"
            && g["what"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("{denied} journal detail"))),
        "the manifest names the refused details: {gaps:?}"
    );
    assert_eq!(manifests[0]["status"], "finished_with_gaps");
    assert!(stderr.contains("301065"), "the gap is said on stderr too");
    assert!(
        stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && l.starts_with('{'))
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "--log-format json logs one JSON object a line"
    );

    // The secret: not in what the process said, nor in any byte it wrote.
    assert!(!stderr.contains(SECRET) && !String::from_utf8_lossy(&run.stdout).contains(SECRET));
    for file in files_under(&out) {
        let bytes = fs::read(&file).unwrap();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret is in {}",
            file.display()
        );
    }
    // The other templates were exported in full.
    let journals = scan_dataset(&out, "journals");
    let allowed = org
        .journals
        .iter()
        .filter(|j| {
            j.template_id.as_deref() != Some(weekly.id.as_str()) && in_october(j.report_time)
        })
        .count();
    assert_eq!(journals.height(), allowed);
}

fn date_of(ts: i64) -> NaiveDate {
    chrono_tz::Asia::Shanghai
        .timestamp_opt(ts, 0)
        .unwrap()
        .date_naive()
}
