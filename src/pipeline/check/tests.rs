//! The preflight's pure parts: the window, the sampled days, the quotas, the output probe and
//! the store's version.

use std::path::Path;

use chrono::NaiveDate;

use super::*;
use crate::job::{self, LoadOptions, StorageSettings};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn job(range: &str, extra: &str) -> Job {
    let text = format!(
        "name = \"j\"\n[source]\ncorp_id = \"ww1\"\nsecret = \"s\"\n[range]\n{range}\n{extra}"
    );
    job::parse(
        &text,
        Path::new("j.toml"),
        &|_| None,
        &LoadOptions::default(),
    )
    .unwrap()
}

/// A job whose output directory is `dir` (where the store is looked for).
fn job_writing_to(dir: &Path) -> Job {
    let mut job = job("last = \"day\"", "");
    job.output.dir = dir.to_path_buf();
    job
}

#[test]
fn the_window_is_the_last_31_days_of_the_range_that_have_passed() {
    let october = job("start = \"2026-10-01\"\nend = \"2026-11-01\"", "");
    assert_eq!(
        window(&october, date("2026-12-02")),
        DateRange {
            start: date("2026-10-01"),
            end: date("2026-11-01")
        }
    );
    // Still running: up to today.
    assert_eq!(window(&october, date("2026-10-10")).end, date("2026-10-10"));
    // A long range: its last 31 days.
    let year = job("start = \"2026-01-01\"\nend = \"2026-12-01\"", "");
    assert_eq!(
        window(&year, date("2026-12-02")),
        DateRange {
            start: date("2026-10-31"),
            end: date("2026-12-01")
        }
    );
    // Not begun yet: the 31 days before today.
    assert_eq!(
        window(&october, date("2026-09-15")),
        DateRange {
            start: date("2026-08-15"),
            end: date("2026-09-15")
        }
    );
    let last_day = job("last = \"day\"", "");
    assert_eq!(
        window(&last_day, date("2026-12-02")),
        DateRange {
            start: date("2026-12-01"),
            end: date("2026-12-02")
        }
    );
}

#[test]
fn sampled_days_spread_over_the_window_the_last_first() {
    let october = DateRange {
        start: date("2026-10-01"),
        end: date("2026-11-01"),
    };
    let days = sample_days(october);
    assert_eq!(days.len(), SAMPLE_DAYS);
    assert_eq!(days[0], date("2026-10-31"));
    assert_eq!(days[SAMPLE_DAYS - 1], date("2026-10-01"));
    assert!(days.windows(2).all(|w| w[0] > w[1]), "{days:?}");
    let one = DateRange {
        start: date("2026-10-01"),
        end: date("2026-10-02"),
    };
    assert_eq!(sample_days(one), [date("2026-10-01")]);
    let three = DateRange {
        start: date("2026-10-01"),
        end: date("2026-10-04"),
    };
    assert_eq!(
        sample_days(three),
        [date("2026-10-03"), date("2026-10-02"), date("2026-10-01")]
    );
}

#[test]
fn quotas_above_the_documented_ones_say_which_and_to_what() {
    let fine = job("last = \"day\"", "");
    assert_eq!(local::quotas(&fine).status, Status::Pass);
    let over = job(
        "last = \"day\"",
        "[source.limits]\nrecord_list_per_minute = 1000\nper_api_per_hour = 200000\n",
    );
    let line = local::quotas(&over);
    assert_eq!(line.status, Status::Fail);
    assert_eq!(
        line.summary,
        "record_list_per_minute 1000 is above the documented 600/min (doc 93393); \
         per_api_per_hour 200000 is above the documented 150000/h per corp (doc 90454)"
    );
    let hint = line.hint.unwrap();
    assert!(
        hint.starts_with(
            "lower [source.limits] record_list_per_minute to 600, per_api_per_hour to 150000 or less"
        ),
        "{hint}"
    );
}

#[test]
fn the_output_probe_leaves_nothing_and_says_what_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let local_only = StorageSettings::default();
    let line = local::output(dir.path(), &local_only);
    assert_eq!(line.status, Status::Pass, "{line:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no litter"
    );
    let later = dir.path().join("a/b");
    let line = local::output(&later, &local_only);
    assert_eq!(line.status, Status::Pass);
    assert!(line.summary.contains("does not exist yet"), "{line:?}");
    assert!(!later.exists(), "the check creates nothing");
    let file = dir.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let line = local::output(&file.join("out"), &local_only);
    assert_eq!(line.status, Status::Fail);
    assert!(
        line.summary.ends_with("is a file, not a directory"),
        "{line:?}"
    );
    // Object storage is probed for real (tests/it/lake.rs, against an S3 server); a
    // configuration that cannot work fails before any request, without echoing a credential.
    let with_password = StorageSettings {
        endpoint: Some("http://probe:hunter22-secret@127.0.0.1:9".into()),
        ..StorageSettings::default()
    };
    let s3 = local::output(Path::new("s3://bucket/prefix"), &with_password);
    assert_eq!(s3.status, Status::Fail);
    assert!(s3.summary.starts_with("s3://bucket/prefix: "), "{s3:?}");
    assert!(s3.summary.contains("must not carry credentials"), "{s3:?}");
    assert!(!format!("{s3:?}").contains("hunter22"), "{s3:?}");
}

#[test]
fn the_store_version_is_read_without_creating_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let line = local::store(&job_writing_to(dir.path()), dir.path());
    assert_eq!(line.status, Status::Pass);
    assert!(line.summary.contains("none yet"), "{line:?}");
    assert!(!dir.path().join("store.sqlite").exists());
    drop(crate::store::Store::open(dir.path().join("store.sqlite")).unwrap());
    let line = local::store(&job_writing_to(dir.path()), dir.path());
    let this_programs = format!(
        "schema version {}, this program's",
        crate::store::SCHEMA_VERSION
    );
    assert!(line.summary.ends_with(&this_programs), "{line:?}");
    // A newer program's store is refused.
    let conn = rusqlite::Connection::open(dir.path().join("store.sqlite")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let line = local::store(&job_writing_to(dir.path()), dir.path());
    assert_eq!(line.status, Status::Fail);
    assert!(line.hint.unwrap().contains("newer"));
}

#[test]
fn a_check_makes_at_most_forty_calls() {
    let most = 1 // gettoken
        + SAMPLE_DAYS // a record list a sampled day
        + SAMPLE_DAYS * DETAILS_PER_DAY
        + MAX_STAT_TEMPLATES
        + 1 // department/list
        + MAX_USER_LISTS;
    assert_eq!(most, 40);
}
