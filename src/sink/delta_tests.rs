//! Unit tests of the Delta writer on a local root: schema mapping, one commit per run that
//! replaces months, transactions. Read back by independent readers (Python deltalake, polars,
//! DuckDB, Spark) and on S3 in `tests/it/lake.rs`.

use chrono::{NaiveDate, TimeZone as _, Utc};
use deltalake::arrow::datatypes::DataType as ArrowType;

use super::*;
use crate::flatten::schema::{JOURNAL_COMMENTS, TABLES, USERS};

/// Comments on `date`s, ids from `first_id`.
fn comments(dates: &[&str], first_id: u64) -> DataFrame {
    let n = dates.len();
    let days: Vec<i32> = dates
        .iter()
        .map(|d| {
            let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
        })
        .collect();
    let ids: Vec<u64> = (0..n as u64).map(|i| first_id + i).collect();
    let times: Vec<i64> = days
        .iter()
        .map(|d| *d as i64 * 86_400_000 + 3_600_000)
        .collect();
    let frame = df!(
        "journal_uuid" => vec!["j"; n],
        "comment_id" => ids,
        "to_comment_id" => vec![None::<u64>; n],
        "userid" => vec!["u"; n],
        "content" => vec!["c"; n],
        "comment_time" => times,
        "report_date" => days,
    )
    .unwrap();
    frame
        .lazy()
        .with_columns([
            col("comment_time").cast(DataType::Datetime(
                TimeUnit::Milliseconds,
                Some(polars::prelude::TimeZone::UTC),
            )),
            col("report_date").cast(DataType::Date),
        ])
        .collect()
        .unwrap()
}

fn run(n: i64) -> DeltaRun {
    DeltaRun::new(
        "job",
        &format!("run-{n}"),
        Utc.timestamp_millis_opt(n).unwrap(),
    )
}

fn open(root: &OutputRoot, table: &str) -> DeltaTable {
    let url = root.url_of(&format!("delta/{table}")).unwrap();
    block_on(async {
        let mut t = DeltaTableBuilder::from_url(url)?.build()?;
        t.load().await?;
        Ok::<_, DeltaTableError>(t)
    })
    .unwrap()
}

fn active_months(table: &DeltaTable) -> Vec<Option<String>> {
    let mut months: Vec<Option<String>> = block_on(async {
        let files: Vec<_> = table
            .snapshot()?
            .snapshot()
            .file_views(table.log_store().as_ref(), None)
            .try_collect()
            .await?;
        Ok::<_, DeltaTableError>(
            files
                .iter()
                .map(|f| {
                    f.partition_values_map()
                        .get(PARTITION_KEY)
                        .cloned()
                        .flatten()
                })
                .collect(),
        )
    })
    .unwrap();
    months.sort();
    months
}

#[test]
fn every_table_maps_to_a_delta_schema_without_unsigned_types() {
    for spec in TABLES {
        let schema = delta_schema(spec);
        let extra = usize::from(spec.partition_by.is_some());
        assert_eq!(
            schema.fields().count(),
            spec.columns.len() + extra,
            "{}",
            spec.name
        );
        for column in spec.columns {
            let field = arrow_field(spec, column.name).unwrap();
            assert_eq!(
                field.is_nullable(),
                column.nullable,
                "{}.{}",
                spec.name,
                column.name
            );
            let unsigned = matches!(
                field.data_type(),
                ArrowType::UInt8 | ArrowType::UInt16 | ArrowType::UInt32 | ArrowType::UInt64
            );
            assert!(!unsigned, "{}.{}", spec.name, column.name);
        }
    }
    let id = arrow_field(&JOURNAL_COMMENTS, "comment_id").unwrap();
    assert_eq!(id.data_type(), &ArrowType::Decimal128(20, 0));
    let time = arrow_field(&JOURNAL_COMMENTS, "comment_time").unwrap();
    assert!(
        matches!(time.data_type(), ArrowType::Timestamp(deltalake::arrow::datatypes::TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC"),
        "{time:?}"
    );
    let month = arrow_field(&JOURNAL_COMMENTS, PARTITION_KEY).unwrap();
    assert_eq!(month.data_type(), &ArrowType::Utf8);
    assert!(arrow_field(&USERS, PARTITION_KEY).is_none());
}

#[test]
fn predicates_name_the_replaced_months() {
    let months: BTreeSet<Option<String>> =
        [Some("2026-10".to_owned()), Some("2026-11".to_owned()), None].into();
    assert_eq!(
        month_predicate(&months),
        "report_month IN ('2026-10', '2026-11') OR report_month IS NULL"
    );
}

#[test]
fn one_commit_per_run_replaces_months_and_retries_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = OutputRoot::local(dir.path());

    // Run 1 creates the table: version 0 holds the schema, the files and the transaction.
    let mut w = DeltaTableWriter::create(&root, &JOURNAL_COMMENTS, &run(1)).unwrap();
    w.write_batch(&comments(&["2026-09-30", "2026-10-01"], u64::MAX - 10))
        .unwrap();
    w.write_batch(&comments(&["2026-10-02"], 100)).unwrap();
    let first = w.finish().unwrap();
    assert_eq!(
        (
            first.version,
            first.committed,
            first.rows,
            first.files_added,
            first.files_removed
        ),
        (0, true, 3, 2, 0)
    );
    assert_eq!(first.path, "delta/journal_comments");
    let table = open(&root, "journal_comments");
    assert_eq!(
        active_months(&table),
        [Some("2026-09".to_owned()), Some("2026-10".to_owned())]
    );

    // Run 2 rewrites October and declares November: one version, October's file replaced,
    // September untouched.
    let mut w = DeltaTableWriter::create(&root, &JOURNAL_COMMENTS, &run(2)).unwrap();
    w.covers(["2026-10", "2026-11"]);
    w.write_batch(&comments(&["2026-10-05"], 7)).unwrap();
    let second = w.finish().unwrap();
    assert_eq!(
        (
            second.version,
            second.committed,
            second.files_added,
            second.files_removed
        ),
        (1, true, 1, 1)
    );

    // A retry of run 2 (or an older run) finds its transaction and writes nothing.
    for stale in [run(2), run(1)] {
        let mut w = DeltaTableWriter::create(&root, &JOURNAL_COMMENTS, &stale).unwrap();
        assert!(w.already_committed());
        w.write_batch(&comments(&["2026-10-06"], 8)).unwrap();
        let skipped = w.finish().unwrap();
        assert_eq!(
            (skipped.version, skipped.committed, skipped.rows),
            (1, false, 0)
        );
    }
    let table = open(&root, "journal_comments");
    assert_eq!(table.version(), Some(1));
    assert_eq!(
        active_months(&table),
        [Some("2026-09".to_owned()), Some("2026-10".to_owned())]
    );

    // A run that writes nothing still records itself (one version), and removes the months
    // it covers.
    let mut w = DeltaTableWriter::create(&root, &JOURNAL_COMMENTS, &run(3)).unwrap();
    w.covers(["2026-09"]);
    let third = w.finish().unwrap();
    assert_eq!((third.version, third.files_removed), (2, 1));
    assert_eq!(
        active_months(&open(&root, "journal_comments")),
        [Some("2026-10".to_owned())]
    );
}

#[test]
fn frames_that_do_not_match_the_table_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = OutputRoot::local(dir.path());
    let mut w = DeltaTableWriter::create(&root, &JOURNAL_COMMENTS, &run(1)).unwrap();
    let wrong = comments(&["2026-10-01"], 1).drop("content").unwrap();
    let err = w.write_batch(&wrong).unwrap_err().to_string();
    assert!(err.contains("journal_comments"), "{err}");
    // Nothing was committed: the table does not exist yet.
    drop(w);
    assert!(root
        .list("delta/journal_comments/_delta_log")
        .unwrap()
        .is_empty());
}
