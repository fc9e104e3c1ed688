//! Sinks: real files written under a temp dir and read back (Parquet through its Hive
//! partitions, CSV bytes, Arrow IPC, the XLSX zip, the manifest JSON).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{NaiveDate, TimeZone as _, Utc};
use chrono_tz::Asia::Shanghai;
use polars::prelude::*;
use wecom_journal::job::{DateRange, Format, Period, ReportKind};
use wecom_journal::pipeline::workbook_file_name;
use wecom_journal::report::{self, ReportInputs};
use wecom_journal::sink::{
    frame_rows, write_frame, write_manifest, write_workbook, Gap, Manifest, OutputDir, RunStatus,
    TableSheet, TableWriter, WorkbookOptions, WorkbookPlan, WrittenFile,
};
use wecom_journal::wecom::Secret;

use crate::common::{files_under, read_parquet, scan_dataset};

const ALL_TABLE_FORMATS: [Format; 3] = [Format::Parquet, Format::Csv, Format::Arrow];

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn utc_ms(name: &str, values: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), values)
        .cast(&DataType::Datetime(
            TimeUnit::Milliseconds,
            Some(polars::prelude::TimeZone::UTC),
        ))
        .unwrap()
        .into()
}

/// `n` journals, one a day from `first`, with Chinese names and a null department every 5th.
fn journals(first: &str, n: usize, tag: &str) -> DataFrame {
    let dates: Vec<NaiveDate> = (0..n)
        .map(|i| d(first) + chrono::Duration::days(i as i64))
        .collect();
    let times: Vec<Option<i64>> = dates
        .iter()
        .map(|date| {
            Some(
                Shanghai
                    .from_local_datetime(&date.and_hms_opt(21, 30, 0).unwrap())
                    .unwrap()
                    .timestamp_millis(),
            )
        })
        .collect();
    DataFrame::new_infer_height(vec![
        Column::new(
            "journal_uuid".into(),
            (0..n).map(|i| format!("{tag}-{i}")).collect::<Vec<_>>(),
        ),
        Column::new("template_id".into(), vec!["T1"; n]),
        Column::new("template_name".into(), vec!["销售日报"; n]),
        utc_ms("report_time", times),
        Column::new("report_date".into(), dates),
        Column::new(
            "submitter_userid".into(),
            (0..n).map(|i| format!("user{}", i % 4)).collect::<Vec<_>>(),
        ),
        Column::new(
            "department_id".into(),
            (0..n)
                .map(|i| (i % 5 != 0).then_some(2u64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "department_name".into(),
            (0..n)
                .map(|i| if i % 5 != 0 { "销售部" } else { "unknown" })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "receiver_count".into(),
            (0..n).map(|i| (i % 3) as u32 + 1).collect::<Vec<_>>(),
        ),
        Column::new(
            "read_count".into(),
            (0..n).map(|i| (i % 2) as u32).collect::<Vec<_>>(),
        ),
        Column::new("comment_count".into(), vec![0u32; n]),
        Column::new(
            "sys_journal_data".into(),
            (0..n)
                .map(|i| (i % 7 == 0).then(|| format!("{{\"内容\":\"第{i}天\"}}")))
                .collect::<Vec<_>>(),
        ),
    ])
    .unwrap()
}

fn users() -> DataFrame {
    let ids = Series::new(
        "department_ids".into(),
        [
            Some(Series::new("".into(), [2u64, 3])),
            Some(Series::new("".into(), [3u64])),
            None,
        ],
    );
    DataFrame::new_infer_height(vec![
        Column::new("userid".into(), ["zhangsan", "lisi", "wangwu"]),
        Column::new("department_id".into(), [Some(2u64), Some(3), None]),
        ids.into(),
    ])
    .unwrap()
}

/// Months of each row's report_date, counted in plain Rust.
fn rows_per_month(frames: &[&DataFrame]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for frame in frames {
        let dates = frame
            .column("report_date")
            .unwrap()
            .as_materialized_series()
            .date()
            .unwrap()
            .as_date_iter()
            .collect::<Vec<_>>();
        for date in dates {
            *out.entry(date.unwrap().format("%Y-%m").to_string())
                .or_default() += 1;
        }
    }
    out
}

fn write_table(
    out: &OutputDir,
    table: &str,
    batches: &[DataFrame],
    formats: &[Format],
    flush_rows: usize,
) -> Vec<WrittenFile> {
    let mut writer = TableWriter::create(out, table, Some("report_date"), formats, true)
        .unwrap()
        .with_flush_rows(flush_rows);
    for batch in batches {
        writer.write_batch(batch).unwrap();
    }
    writer.finish().unwrap()
}

fn no_temp_files(root: &Path) {
    let temps: Vec<_> = files_under(root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
}

fn read_ipc(path: &Path) -> DataFrame {
    IpcReader::new(fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

#[test]
fn parquet_dataset_is_hive_partitioned_by_month_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    // 2026-09-25 + 45 days reaches 2026-11-08: three months, in batches of uneven sizes.
    let all = journals("2026-09-25", 45, "j");
    let batches = [
        all.slice(0, 3),
        all.slice(3, 20),
        all.slice(23, 1),
        all.slice(24, 21),
    ];
    let files = write_table(&out, "journals", &batches, &[Format::Parquet], 8);
    no_temp_files(dir.path());

    let expected = rows_per_month(&[&all]);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        ["2026-09", "2026-10", "2026-11"]
    );
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "tables/journals/report_month=2026-09/part-0.parquet",
            "tables/journals/report_month=2026-10/part-0.parquet",
            "tables/journals/report_month=2026-11/part-0.parquet",
        ]
    );
    for file in &files {
        let month = file
            .path
            .split("report_month=")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        assert_eq!(file.rows as usize, expected[month], "{}", file.path);
        assert_eq!(file.format, "parquet");
        let path = dir.path().join(&file.path);
        assert_eq!(file.bytes, fs::metadata(&path).unwrap().len());
        // zstd pages, and row groups of at most flush_rows rows.
        let mut reader = ParquetReader::new(fs::File::open(&path).unwrap());
        let metadata = reader.get_metadata().unwrap().clone();
        let groups: Vec<usize> = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
        assert!(groups.iter().all(|n| *n <= 8), "{groups:?}");
        assert_eq!(groups.iter().sum::<usize>(), expected[month]);
        for group in &metadata.row_groups {
            for column in group.parquet_columns() {
                assert_eq!(format!("{:?}", column.compression()), "Zstd");
            }
        }
    }

    // Read the dataset back through its partitions: the Hive key matches every row's date.
    let back = scan_dataset(dir.path(), "journals");
    assert_eq!(back.height(), all.height());
    let check = back
        .lazy()
        .select([
            (col("report_month")
                .cast(DataType::String)
                .eq(col("report_date").dt().strftime("%Y-%m")))
            .all(true)
            .alias("ok"),
            col("journal_uuid").n_unique().alias("uuids"),
        ])
        .collect()
        .unwrap();
    assert_eq!(
        check.column("ok").unwrap().bool().unwrap().get(0),
        Some(true)
    );
    assert_eq!(
        check
            .column("uuids")
            .unwrap()
            .as_materialized_series()
            .cast(&DataType::UInt64)
            .unwrap()
            .u64()
            .unwrap()
            .get(0),
        Some(45)
    );

    // Types survive: Datetime(ms, UTC), Date, exact u64, Chinese text.
    let one = read_parquet(&dir.path().join(&files[1].path));
    assert_eq!(one.schema(), all.schema());
    let names: Vec<Option<&str>> = one
        .column("template_name")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .take(1)
        .collect();
    assert_eq!(names, [Some("销售日报")]);
}

#[test]
fn rewriting_a_month_replaces_it_and_leaves_other_months_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    // First run: September (6 rows) and October (31 rows).
    let first = journals("2026-09-25", 37, "first");
    write_table(
        &out,
        "journals",
        std::slice::from_ref(&first),
        &ALL_TABLE_FORMATS,
        1000,
    );
    let september = dir
        .path()
        .join("tables/journals/report_month=2026-09/part-0.parquet");
    let september_bytes = fs::read(&september).unwrap();

    // Second run over October and November: 40 rows from 2026-10-01.
    let second = journals("2026-10-01", 40, "second");
    write_table(
        &out,
        "journals",
        &[second.slice(0, 17), second.slice(17, 23)],
        &ALL_TABLE_FORMATS,
        1000,
    );
    no_temp_files(dir.path());

    let back = scan_dataset(dir.path(), "journals");
    let mut expected = rows_per_month(&[&first]);
    let second_months = rows_per_month(&[&second]);
    for (month, rows) in &second_months {
        expected.insert(month.clone(), *rows); // replaced, not added to
    }
    assert_eq!(rows_per_month(&[&back]), expected);
    assert_eq!(back.height(), 6 + 40);
    assert_eq!(
        fs::read(&september).unwrap(),
        september_bytes,
        "September must be untouched"
    );
    // No duplicate journal in the dataset.
    let uuids = back
        .column("journal_uuid")
        .unwrap()
        .as_materialized_series()
        .n_unique()
        .unwrap();
    assert_eq!(uuids, back.height());
    // CSV and Arrow partitions were replaced the same way.
    for (format, ext) in [(Format::Csv, "csv"), (Format::Arrow, "arrow")] {
        let path = out
            .table_dir(format, "journals")
            .join(format!("report_month=2026-10/part-0.{ext}"));
        let rows = match format {
            Format::Csv => CsvReadOptions::default()
                .try_into_reader_with_file_path(Some(path))
                .unwrap()
                .finish()
                .unwrap()
                .height(),
            _ => read_ipc(&path).height(),
        };
        assert_eq!(rows, second_months["2026-10"], "{ext}");
    }

    // Third run covers November and December but has rows for December only: November's
    // stale files go, September and October stay.
    let third = journals("2026-12-03", 2, "third");
    let mut writer = TableWriter::create(
        &out,
        "journals",
        Some("report_date"),
        &ALL_TABLE_FORMATS,
        false,
    )
    .unwrap();
    writer.covers(["2026-11", "2026-12"]);
    writer.write_batch(&third).unwrap();
    writer.finish().unwrap();
    let months: Vec<String> = rows_per_month(&[&scan_dataset(dir.path(), "journals")])
        .into_keys()
        .collect();
    assert_eq!(months, ["2026-09", "2026-10", "2026-12"]);
    assert!(!dir
        .path()
        .join("csv/tables/journals/report_month=2026-11")
        .exists());
}

#[test]
fn csv_has_the_bom_a_header_and_intact_chinese_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let frame = journals("2026-10-01", 3, "c");
    let files = write_table(
        &out,
        "journals",
        std::slice::from_ref(&frame),
        &[Format::Csv],
        1000,
    );
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].path,
        "csv/tables/journals/report_month=2026-10/part-0.csv"
    );
    let bytes = fs::read(dir.path().join(&files[0].path)).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM first");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let header = text.lines().next().unwrap();
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(header, names.join(","));
    assert_eq!(text.lines().count(), 1 + 3);
    assert!(
        text.contains("销售日报") && text.contains("销售部") && text.contains("第0天"),
        "{text}"
    );

    // Unpartitioned table with a list column, without BOM: joined with ';'.
    let mut writer =
        TableWriter::create(&out, "users", None, &[Format::Csv, Format::Parquet], false).unwrap();
    writer.write_batch(&users()).unwrap();
    let files = writer.finish().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["csv/tables/users/part-0.csv", "tables/users/part-0.parquet"]
    );
    let text = fs::read_to_string(dir.path().join("csv/tables/users/part-0.csv")).unwrap();
    assert!(!text.starts_with('\u{feff}'));
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "userid,department_id,department_ids",
            "zhangsan,2,2;3",
            "lisi,3,3",
            "wangwu,,"
        ]
    );
    // The Parquet copy keeps the list.
    let back = read_parquet(&dir.path().join("tables/users/part-0.parquet"));
    assert!(back.equals_missing(&users()));
}

#[test]
fn arrow_ipc_files_read_back_with_their_types() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let frame = journals("2026-10-20", 20, "a");
    let files = write_table(
        &out,
        "journals",
        &[frame.slice(0, 5), frame.slice(5, 15)],
        &[Format::Arrow],
        4,
    );
    let mut rows = 0;
    for file in &files {
        assert!(
            file.path.starts_with("arrow/tables/journals/report_month=")
                && file.path.ends_with("/part-0.arrow")
        );
        let back = read_ipc(&dir.path().join(&file.path));
        assert_eq!(back.height() as u64, file.rows);
        assert_eq!(back.schema(), frame.schema());
        rows += back.height();
    }
    assert_eq!(rows, 20);

    let mut writer = TableWriter::create(&out, "users", None, &[Format::Arrow], false).unwrap();
    writer.write_batch(&users()).unwrap();
    writer.finish().unwrap();
    assert!(read_ipc(&dir.path().join("arrow/tables/users/part-0.arrow")).equals_missing(&users()));
}

#[test]
fn ids_above_two_to_the_53_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let ids = [9_007_199_254_740_993u64, u64::MAX - 1];
    let comments = DataFrame::new_infer_height(vec![
        Column::new("journal_uuid".into(), ["j1", "j1"]),
        Column::new("comment_id".into(), ids),
        Column::new("report_date".into(), [d("2026-10-01"), d("2026-10-02")]),
    ])
    .unwrap();
    let files = write_table(
        &out,
        "journal_comments",
        &[comments],
        &ALL_TABLE_FORMATS,
        100,
    );
    for file in files {
        let path = dir.path().join(&file.path);
        match file.format.as_str() {
            "csv" => {
                let text = fs::read_to_string(&path).unwrap();
                assert!(
                    text.contains("9007199254740993") && text.contains("18446744073709551614"),
                    "{text}"
                );
            }
            "parquet" | "arrow" => {
                let back = if file.format == "parquet" {
                    read_parquet(&path)
                } else {
                    read_ipc(&path)
                };
                let got: Vec<u64> = back
                    .column("comment_id")
                    .unwrap()
                    .u64()
                    .unwrap()
                    .iter()
                    .flatten()
                    .collect();
                assert_eq!(got, ids);
            }
            other => panic!("unexpected format {other}"),
        }
    }
}

#[test]
fn bad_batches_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let mut writer = TableWriter::create(
        &out,
        "journals",
        Some("no_such_column"),
        &[Format::Parquet],
        false,
    )
    .unwrap();
    let err = writer
        .write_batch(&journals("2026-10-01", 2, "x"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("journals") && err.contains("no_such_column"),
        "{err}"
    );

    let mut writer = TableWriter::create(
        &out,
        "journals",
        Some("report_date"),
        &[Format::Parquet],
        false,
    )
    .unwrap();
    writer.write_batch(&journals("2026-10-01", 2, "x")).unwrap();
    let err = writer.write_batch(&users()).unwrap_err().to_string();
    assert!(err.contains("journals") && err.contains("schema"), "{err}");
    drop(writer);
    // An abandoned writer leaves neither a temporary nor a final file.
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );

    assert!(TableWriter::create(&out, "../escape", None, &[Format::Parquet], false).is_err());
}

/// Inputs for the report and workbook tests: two departments over two days.
fn report_inputs() -> ReportInputs {
    let users = ["u1", "u2", "u3", "u4"];
    let depts = [
        (2u64, "销售部"),
        (2, "销售部"),
        (3, "技术部"),
        (3, "技术部"),
    ];
    let mut template_id = Vec::new();
    let mut userid = Vec::new();
    let mut dept_id = Vec::new();
    let mut dept_name = Vec::new();
    let mut status = Vec::new();
    let mut late = Vec::new();
    let mut dates = Vec::new();
    for (day, date) in ["2026-10-07", "2026-10-08"].iter().enumerate() {
        for (i, user) in users.iter().enumerate() {
            template_id.push("T1");
            userid.push(*user);
            dept_id.push(depts[i].0);
            dept_name.push(depts[i].1);
            // u4 never reports; u2 is late on the second day.
            status.push(if i == 3 { "unreported" } else { "reported" });
            late.push(i == 1 && day == 1);
            dates.push(d(date));
        }
    }
    let begins: Vec<Option<i64>> = dates
        .iter()
        .map(|date| {
            Some(
                Shanghai
                    .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
                    .unwrap()
                    .timestamp_millis(),
            )
        })
        .collect();
    let ends = begins.iter().map(|b| b.map(|b| b + 86_400_000)).collect();
    let n = userid.len();
    let stat_items = DataFrame::new_infer_height(vec![
        Column::new("template_id".into(), template_id),
        Column::new("template_name".into(), vec!["销售日报"; n]),
        utc_ms("cycle_begin", begins),
        utc_ms("cycle_end", ends),
        Column::new("cycle_date".into(), dates),
        Column::new("userid".into(), userid),
        Column::new("department_id".into(), dept_id),
        Column::new("department_name".into(), dept_name),
        Column::new("status".into(), status),
        Column::new("journal_uuid".into(), vec![None::<String>; n]),
        utc_ms("report_time", vec![None; n]),
        Column::new("is_late".into(), late),
    ])
    .unwrap();
    ReportInputs::from_frames(&stat_items, &journals("2026-10-07", 2, "r"))
}

#[test]
fn reports_are_written_in_every_table_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let inputs = report_inputs();
    let mut all = Vec::new();
    for kind in ReportKind::ALL {
        let frame = report::build(kind, &inputs, Period::Month).unwrap();
        let files = write_frame(
            &out,
            &format!("reports/{}", kind.name()),
            &frame,
            &[Format::Parquet, Format::Csv, Format::Arrow, Format::Xlsx],
            true,
        )
        .unwrap();
        assert_eq!(files.len(), 3, "{}", kind.name());
        for file in &files {
            assert_eq!(file.rows as usize, frame.height());
            let path = dir.path().join(&file.path);
            match file.format.as_str() {
                "parquet" => assert!(read_parquet(&path).equals_missing(&frame)),
                "arrow" => assert!(read_ipc(&path).equals_missing(&frame)),
                "csv" => {
                    let text = fs::read_to_string(&path).unwrap();
                    assert_eq!(
                        text.trim_start_matches('\u{feff}').lines().count(),
                        frame.height() + 1
                    );
                }
                other => panic!("{other}"),
            }
        }
        all.extend(files);
    }
    let paths: Vec<&str> = all.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"reports/late_rate_by_department.parquet"));
    assert!(paths.contains(&"csv/reports/unreported_roster.csv"));
    assert!(paths.contains(&"arrow/reports/read_rate_by_template.arrow"));
    no_temp_files(dir.path());
}

#[test]
fn the_manifest_lists_every_file_and_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let corp_secret = Secret::new("Cs3cr3t-corp-secret-0123456789abcdefghijk");
    let token = Secret::new("ACCESS-TOKEN-zyxwvu-98765");
    let range = DateRange {
        start: d("2026-10-01"),
        end: d("2026-11-01"),
    };
    let mut manifest = Manifest::new(
        "monthly-compliance",
        "20261101T010203Z-1a2b",
        range,
        Utc::now(),
    );

    let frame = journals("2026-09-28", 10, "m");
    let mut writer = TableWriter::create(
        &out,
        "journals",
        Some("report_date"),
        &ALL_TABLE_FORMATS,
        true,
    )
    .unwrap();
    writer.write_batch(&frame).unwrap();
    manifest.add_files(writer.finish().unwrap());
    manifest.add_rows("journals", frame.height() as u64);
    let inputs = report_inputs();
    let report = report::build(ReportKind::LateRateByDepartment, &inputs, Period::Month).unwrap();
    manifest.add_files(
        write_frame(
            &out,
            "reports/late_rate_by_department",
            &report,
            &ALL_TABLE_FORMATS,
            false,
        )
        .unwrap(),
    );
    let plan = WorkbookPlan {
        tables: vec![TableSheet {
            name: "late_rate_by_department".into(),
            headers: report
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect(),
            rows: frame_rows(&report, Shanghai).unwrap(),
            highlight: None,
        }],
        ..Default::default()
    };
    let (xlsx, _) = write_workbook(
        &out,
        &workbook_file_name("monthly-compliance", &range),
        plan,
        &WorkbookOptions {
            language: Default::default(),
            job: "monthly-compliance".into(),
            range: "2026-10-01 – 2026-10-31".into(),
        },
    )
    .unwrap();
    manifest.add_files([xlsx]);

    // Credentials leaking into free text, as an error message quoting a URL might.
    manifest.warnings.push(format!(
        "GET http://127.0.0.1:1/cgi-bin/gettoken?corpid=ww1&corpsecret={} failed",
        corp_secret.expose()
    ));
    manifest.gaps.push(Gap {
        what: "template T9 stats".into(),
        endpoint: Some("get_stat_list".into()),
        errcode: Some(301065),
        detail: format!("no permission (token {})", token.expose()),
        hint: Some(format!("call again without {}", corp_secret.expose())),
    });
    manifest.add_duration("sink", std::time::Duration::from_millis(1234));
    manifest.finish(Utc::now(), true);
    assert_eq!(manifest.status, RunStatus::FinishedWithGaps);

    let written = write_manifest(&out, &manifest, &[&corp_secret, &token]).unwrap();
    assert_eq!(written.path, "runs/20261101T010203Z-1a2b.json");
    let text = fs::read_to_string(dir.path().join(&written.path)).unwrap();
    for secret in [&corp_secret, &token] {
        assert!(
            !text.contains(secret.expose()),
            "secret in manifest: {text}"
        );
    }
    assert!(text.contains("[redacted]"));
    assert!(text.contains("301065") && text.contains("\"status\": \"finished_with_gaps\""));

    // It parses back, and lists exactly the files on disk (besides itself), with their rows.
    let back: Manifest = serde_json::from_str(&text).unwrap();
    let listed: BTreeMap<String, u64> = back
        .files
        .iter()
        .map(|f| (f.path.clone(), f.rows))
        .collect();
    let on_disk: Vec<String> = files_under(dir.path())
        .iter()
        .map(|p| out.relative(p))
        .filter(|p| !p.starts_with("runs/"))
        .collect();
    assert_eq!(listed.keys().cloned().collect::<Vec<_>>(), on_disk);
    for file in &back.files {
        let path = dir.path().join(&file.path);
        let rows = match file.format.as_str() {
            "parquet" => read_parquet(&path).height(),
            "arrow" => read_ipc(&path).height(),
            "csv" => fs::read_to_string(&path).unwrap().lines().count() - 1,
            "xlsx" => report.height(),
            other => panic!("{other}"),
        };
        assert_eq!(file.rows as usize, rows, "{}", file.path);
    }
    assert_eq!(back.rows["journals"], 10);
    assert_eq!(back.durations_ms["sink"], 1234);
    assert_eq!(
        back.gaps[0].hint.as_deref(),
        Some("call again without [redacted]")
    );
}

/// The simulator's synthetic org, flattened batch by batch into every table, streamed to
/// Parquet and CSV, read back through the Hive partitions and reported on. The figures are
/// checked against the org's own stat cycles and journals, counted here in plain Rust.
#[test]
fn a_simulated_org_goes_through_flatten_sinks_and_reports() {
    use std::collections::BTreeSet;
    use wecom_journal::flatten::{
        self, directory_tables, flatten_journals, flatten_stats, LocalPaths, Warnings,
    };
    use wecom_journal::sim::{Org, SimConfig};

    // 40 days from 2026-10-01: journals and cycles in October and November.
    let config = SimConfig {
        users: 24,
        days: 40,
        ..SimConfig::default()
    };
    let org = Org::generate(&config);
    let directory = crate::common::org_directory(&org);
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let formats = [Format::Parquet, Format::Csv];
    let mut writers: BTreeMap<&str, TableWriter> = flatten::TABLES
        .iter()
        .map(|spec| {
            let writer = TableWriter::create(&out, spec.name, spec.partition_by, &formats, true)
                .unwrap()
                .with_flush_rows(500);
            (spec.name, writer)
        })
        .collect();

    let mut warnings = Warnings::default();
    for batch in org.journals.chunks(37) {
        let tables = flatten_journals(
            batch,
            &directory,
            config.timezone,
            &LocalPaths::none(),
            &mut warnings,
        )
        .unwrap();
        for (name, frame) in tables.iter() {
            writers.get_mut(name).unwrap().write_batch(frame).unwrap();
        }
    }
    for batch in org.stats.chunks(5) {
        let tables = flatten_stats(batch, &directory, config.timezone).unwrap();
        writers
            .get_mut("stat_cycles")
            .unwrap()
            .write_batch(&tables.stat_cycles)
            .unwrap();
        writers
            .get_mut("stat_items")
            .unwrap()
            .write_batch(&tables.stat_items)
            .unwrap();
    }
    let (departments, users) = directory_tables(&directory).unwrap();
    writers
        .get_mut("departments")
        .unwrap()
        .write_batch(&departments)
        .unwrap();
    writers
        .get_mut("users")
        .unwrap()
        .write_batch(&users)
        .unwrap();
    let mut files = Vec::new();
    for (_, writer) in writers {
        files.extend(writer.finish().unwrap());
    }
    no_temp_files(dir.path());
    assert!(
        files
            .iter()
            .any(|f| f.path == "tables/journals/report_month=2026-11/part-0.parquet"),
        "{files:?}"
    );
    assert!(files
        .iter()
        .any(|f| f.path == "tables/users/part-0.parquet"));
    assert!(files
        .iter()
        .any(|f| f.path == "csv/tables/stat_items/report_month=2026-10/part-0.csv"));

    // Read back through the partitions.
    let journals = scan_dataset(dir.path(), "journals");
    let stat_items = scan_dataset(dir.path(), "stat_items");
    assert_eq!(journals.height(), org.journals.len());
    let receivers: usize = org.journals.iter().map(|j| j.receivers.len()).sum();
    assert_eq!(
        scan_dataset(dir.path(), "journal_receivers").height(),
        receivers
    );
    let rows_by_file: u64 = files
        .iter()
        .filter(|f| f.format == "parquet" && f.path.starts_with("tables/journals/"))
        .map(|f| f.rows)
        .sum();
    assert_eq!(rows_by_file as usize, org.journals.len());

    // The oracle: distinct user × cycle pairs of the org's stats; a reported pair is late when
    // the user's first item is flagged late.
    let mut expected = BTreeSet::new();
    let mut reported = BTreeMap::new();
    for cycle in &org.stats {
        let key = |userid: &str| {
            (
                cycle.template_id.clone(),
                cycle.cycle_begin_time,
                userid.to_owned(),
            )
        };
        for entry in &cycle.report_list {
            expected.insert(key(&entry.user.userid));
            let late = entry.itemlist.first().is_some_and(|item| item.flag == 1);
            reported.entry(key(&entry.user.userid)).or_insert(late);
        }
        for entry in &cycle.unreport_list {
            expected.insert(key(&entry.user.userid));
        }
    }
    let late = reported.values().filter(|late| **late).count() as u64;
    assert!(
        late > 0 && expected.len() > reported.len(),
        "the sim should have late and missing reports"
    );

    let inputs = ReportInputs::from_frames(&stat_items, &journals);
    let summary = report::summary(&inputs).unwrap();
    assert_eq!(summary.expected, expected.len() as u64);
    assert_eq!(summary.reported, reported.len() as u64);
    assert_eq!(summary.late, late);
    assert_eq!(summary.unreported, (expected.len() - reported.len()) as u64);
    assert_eq!(summary.journals, org.journals.len() as u64);
    assert_eq!(summary.receivers, receivers as u64);
    let reads: usize = org.journals.iter().map(|j| j.readed_receivers.len()).sum();
    assert_eq!(summary.reads, reads as u64);

    // Reports add up to the same totals, whatever the period.
    for period in [Period::Day, Period::Week, Period::Month] {
        let by_dept = report::build(ReportKind::LateRateByDepartment, &inputs, period).unwrap();
        let total = |c: &str| {
            by_dept
                .column(c)
                .unwrap()
                .as_materialized_series()
                .sum::<u64>()
                .unwrap()
        };
        assert_eq!(
            (total("expected"), total("reported"), total("late")),
            (summary.expected, summary.reported, summary.late)
        );
        let roster = report::build(ReportKind::UnreportedRoster, &inputs, period).unwrap();
        assert_eq!(roster.height() as u64, summary.unreported);
        let reads = report::build(ReportKind::ReadRateByTemplate, &inputs, period).unwrap();
        let journals_total = reads
            .column("journals")
            .unwrap()
            .as_materialized_series()
            .sum::<u64>()
            .unwrap();
        assert_eq!(journals_total, summary.journals);
    }
    // Every user has a directory department: none is `unknown`.
    let by_user = report::build(ReportKind::LateRateByUser, &inputs, Period::Month).unwrap();
    let unknown = by_user
        .column("department_name")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|d| *d == Some("unknown"))
        .count();
    assert_eq!(unknown, 0);
}

#[test]
fn an_unpartitioned_table_without_rows_is_written_empty_with_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputDir::new(dir.path()).unwrap();
    let mut writer =
        TableWriter::create(&out, "departments", None, &ALL_TABLE_FORMATS, true).unwrap();
    writer.write_batch(&users().clear()).unwrap();
    let files = writer.finish().unwrap();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f.rows == 0));
    let back = read_parquet(&dir.path().join("tables/departments/part-0.parquet"));
    assert_eq!((back.height(), back.schema()), (0, users().schema()));
    assert_eq!(
        read_ipc(&dir.path().join("arrow/tables/departments/part-0.arrow")).schema(),
        users().schema()
    );
    let csv = fs::read_to_string(dir.path().join("csv/tables/departments/part-0.csv")).unwrap();
    assert_eq!(csv, "\u{feff}userid,department_id,department_ids\n");

    // A partitioned table without rows writes nothing (there is no month to name).
    let mut writer = TableWriter::create(
        &out,
        "journals",
        Some("report_date"),
        &ALL_TABLE_FORMATS,
        true,
    )
    .unwrap();
    writer
        .write_batch(&journals("2026-10-01", 0, "none"))
        .unwrap();
    assert!(writer.finish().unwrap().is_empty());
}
