//! The pipeline as a library, no binary: a whole sandbox run through
//! `wecom_journal::pipeline::run_job`, its typed summary checked against the files it wrote
//! (read back with polars' own readers) and against the simulator's organisation; then
//! `rebuild` and `build_outputs` from the same store.

use std::collections::BTreeMap;
use std::fs;

use chrono::{NaiveDate, TimeZone};
use polars::prelude::*;
use wecom_journal::job::{self, DateRange, LoadOptions};
use wecom_journal::pipeline::{self, RunOptions};
use wecom_journal::sim::{Gentle, Org, SimConfig};
use wecom_journal::sink::{Manifest, OutputDir, RunStatus};
use wecom_journal::store::{store_path, Store};

use crate::common::{files_under, read_parquet, scan_dataset, shipped_job};

fn sorted(df: DataFrame) -> DataFrame {
    let columns: Vec<String> = df
        .schema()
        .iter()
        .filter(|(_, dtype)| !matches!(dtype, DataType::List(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    df.sort(columns, SortMultipleOptions::default()).unwrap()
}

#[test]
fn a_sandbox_run_through_the_library_writes_what_the_simulator_holds() {
    let job = job::load(
        &shipped_job("monthly-compliance.toml"),
        &LoadOptions {
            sandbox: true,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let range = DateRange::parse("2026-10-01", "2026-10-11").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The world as WeCom is: some journals are withdrawn after they were listed.
    let gentle = Gentle::default();
    let now = chrono::Utc::now();
    let opts = RunOptions {
        range,
        output_dir: out.clone(),
        sandbox: true,
        sandbox_gentle: gentle,
        now,
        ..RunOptions::of(&job)
    };
    let summary = pipeline::run_job(job.clone(), &opts).expect("the run starts");
    assert!(summary.error.is_none(), "{:?}", summary.error);
    assert!(summary.manifest_error.is_none() && summary.store_warning.is_none());
    // The withdrawn journals are the run's only gaps, and it writes every output all the same.
    assert_eq!(summary.status(), RunStatus::FinishedWithGaps);
    assert!(!summary.manifest.gaps.is_empty());
    assert!(
        summary
            .manifest
            .gaps
            .iter()
            .all(|g| g.errcode == Some(wecom_journal::wecom::errcode::JOURNAL_INVALID_UUID)),
        "{:?}",
        summary.manifest.gaps
    );

    // The manifest on disk is the summary's.
    let path = summary.manifest_path.clone().expect("a manifest");
    let on_disk: Manifest = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(on_disk, summary.manifest);

    // Every file listed is on disk with its rows, and nothing else is (store, manifest and the
    // run's lock aside).
    let listed: BTreeMap<String, u64> = summary
        .files()
        .iter()
        .map(|f| (f.path.clone(), f.rows))
        .collect();
    let mut written: Vec<String> = files_under(&out)
        .iter()
        .map(|p| p.strip_prefix(&out).unwrap().to_string_lossy().into_owned())
        .filter(|p| {
            !p.starts_with("runs/") && !p.starts_with("store.sqlite") && p != pipeline::LOCK_FILE
        })
        .collect();
    written.sort();
    assert_eq!(listed.keys().cloned().collect::<Vec<_>>(), written);
    for (file, rows) in &listed {
        if file.ends_with(".parquet") {
            assert_eq!(
                read_parquet(&out.join(file)).height() as u64,
                *rows,
                "{file}"
            );
        }
    }
    assert_eq!(
        summary.rows(),
        summary.files().iter().map(|f| f.rows).sum::<u64>()
    );

    // The journals are the simulator's of the range (the sandbox serves the range's days).
    let org = Org::generate(&SimConfig {
        start: range.start,
        days: range.days() as u32,
        timezone: job.source.timezone,
        gentle,
        ..SimConfig::default()
    });
    let local = |d: NaiveDate| {
        job.source
            .timezone
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp()
    };
    // Those that exist as of the run: withdrawn ones are gone.
    let in_range = org
        .at(now.timestamp())
        .journals()
        .filter(|j| (local(range.start)..local(range.end)).contains(&j.report_time()))
        .count();
    assert!(
        in_range > 100,
        "the sandbox serves a real amount: {in_range}"
    );
    let journals = scan_dataset(&out, "journals");
    assert_eq!(journals.height(), in_range);
    assert_eq!(summary.manifest.rows["journals"], in_range as u64);
    assert!(listed.contains_key("monthly-compliance-2026-10-01_2026-10-11.xlsx"));
    assert!(listed.contains_key(
        "reports/late_rate_by_department/range=2026-10-01_2026-10-11/late_rate_by_department.parquet"
    ));

    // rebuild, from the store alone: the same tables.
    let tables = ["journals", "journal_controls", "stat_items", "users"];
    let before: Vec<DataFrame> = tables
        .iter()
        .map(|t| sorted(scan_dataset(&out, t)))
        .collect();
    let rebuilt = pipeline::rebuild(&job, range, &out).unwrap();
    assert_eq!(rebuilt.manifest.status, RunStatus::Succeeded);
    assert!(rebuilt.manifest_path.exists());
    assert_eq!(rebuilt.manifest.rows, summary.manifest.rows);
    for (table, frame) in tables.iter().zip(before) {
        assert!(
            frame.equals_missing(&sorted(scan_dataset(&out, table))),
            "rebuild changed {table}"
        );
    }

    // build_outputs into another directory, from the same store: its typed summary is what
    // the run's manifest recorded, file for file.
    let store = Store::open_read_only(store_path(&out)).unwrap().unwrap();
    let elsewhere = OutputDir::new(dir.path().join("elsewhere")).unwrap();
    let built = pipeline::build_outputs(&job, range, &summary.manifest.run_id, &store, &elsewhere)
        .unwrap_or_else(|f| panic!("{:?}", f.error));
    assert_eq!(built.rows, summary.manifest.rows);
    let names = |files: &[wecom_journal::sink::WrittenFile]| -> Vec<(String, u64)> {
        files.iter().map(|f| (f.path.clone(), f.rows)).collect()
    };
    assert_eq!(names(&built.files), names(summary.files()));
    assert!(built.durations.flatten.is_some() && built.durations.workbook.is_some());
}
