//! The plan: windows in the job's timezone, ranges and periods, quota arithmetic, and how
//! history scales the calls.

use super::*;
use crate::job::{parse, LoadOptions, RangeSpec, Relative};
use std::path::Path;

fn date(s: &str) -> NaiveDate {
    crate::job::parse_local_date(s).expect("test date")
}

fn range(a: &str, b: &str) -> DateRange {
    DateRange::new(date(a), date(b)).expect("test range")
}

fn job(extra: &str) -> Job {
    let text = format!("name = \"t\"\n[source]\ncorp_id = \"c\"\nsecret = \"s\"\n[range]\nstart = 2026-10-01\nend = 2026-11-01\n{extra}");
    parse(
        &text,
        Path::new("t.toml"),
        &|_: &str| None,
        &LoadOptions::default(),
    )
    .expect("test job parses")
}

#[test]
fn shanghai_windows_are_calendar_months_at_utc_plus_8() {
    let tz = chrono_tz::Asia::Shanghai;
    let windows = record_windows(range("2026-01-15", "2026-04-03"), tz);
    let dates: Vec<_> = windows
        .iter()
        .map(|w| (w.start_date.to_string(), w.end_date.to_string()))
        .collect();
    assert_eq!(
        dates,
        [
            ("2026-01-15", "2026-02-01"),
            ("2026-02-01", "2026-03-01"),
            ("2026-03-01", "2026-04-01"),
            ("2026-04-01", "2026-04-03")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Local midnight in Shanghai is 16:00 UTC the day before, every day of the year (no DST).
    let utc_2026_01_15 = date("2026-01-15")
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    assert_eq!(windows[0].start, utc_2026_01_15 - 8 * 3600);
    for w in &windows {
        assert_eq!(w.end - w.start, w.days() * 86_400, "{w:?}");
        assert!(w.end - w.start <= 31 * 86_400);
    }
    // Windows tile the range: each starts where the previous ended.
    for pair in windows.windows(2) {
        assert_eq!(pair[0].end, pair[1].start);
        assert_eq!(pair[0].end_date, pair[1].start_date);
    }
}

#[test]
fn windows_across_a_year_end_and_a_leap_february() {
    let windows = record_windows(range("2027-12-31", "2028-03-01"), chrono_tz::Asia::Shanghai);
    let days: Vec<i64> = windows.iter().map(Window::days).collect();
    assert_eq!(days, [1, 31, 29]);
}

#[test]
fn dst_zone_windows_follow_local_midnights() {
    // New York leaves DST at 02:00 on 2026-11-01: October's window is 31 whole days, the
    // window of November 1st lasts 25 hours, and March 8th (DST starts) 23 hours.
    let w = record_windows(
        range("2026-10-01", "2026-11-02"),
        chrono_tz::America::New_York,
    );
    assert_eq!(w[0].end - w[0].start, 31 * 86_400);
    assert_eq!(w[1].end - w[1].start, 86_400 + 3600);
    let w = record_windows(
        range("2026-03-08", "2026-03-09"),
        chrono_tz::America::New_York,
    );
    assert_eq!(w[0].end - w[0].start, 86_400 - 3600);
    // São Paulo once skipped midnight on DST start (2018-11-04 00:00 did not exist).
    let t = local_midnight(chrono_tz::America::Sao_Paulo, date("2018-11-04"));
    let one_am = chrono_tz::America::Sao_Paulo
        .from_local_datetime(&date("2018-11-04").and_hms_opt(1, 0, 0).expect("valid time"))
        .single()
        .expect("01:00 exists");
    assert_eq!(t, one_am.timestamp());
}

#[test]
fn stats_windows_are_at_most_365_days() {
    let w = stats_windows(range("2024-01-01", "2026-03-01"), chrono_tz::Asia::Shanghai);
    let days: Vec<i64> = w.iter().map(Window::days).collect();
    assert_eq!(
        days.iter().sum::<i64>(),
        (date("2026-03-01") - date("2024-01-01")).num_days()
    );
    assert!(days.iter().all(|d| *d <= 365), "{days:?}");
    assert_eq!(days, [365, 365, 60]); // 2024 has 366 days: its last day opens the second window
}

#[test]
fn relative_ranges_resolve_to_whole_periods() {
    let today = date("2026-11-04"); // a Wednesday
    assert_eq!(
        Relative::Month.resolve(today),
        range("2026-10-01", "2026-11-01")
    );
    assert_eq!(
        Relative::Week.resolve(today),
        range("2026-10-26", "2026-11-02")
    );
    assert_eq!(
        Relative::Day.resolve(today),
        range("2026-11-03", "2026-11-04")
    );
    assert_eq!(
        Relative::Days(30).resolve(today),
        range("2026-10-05", "2026-11-04")
    );
    // On a Monday the last whole week ended yesterday; in January the last month is December.
    assert_eq!(
        Relative::Week.resolve(date("2026-11-02")),
        range("2026-10-26", "2026-11-02")
    );
    assert_eq!(
        Relative::Month.resolve(date("2027-01-01")),
        range("2026-12-01", "2027-01-01")
    );
    assert_eq!(
        Relative::Month.resolve(date("2027-03-31")),
        range("2027-02-01", "2027-03-01")
    );
    let mut j = job("");
    j.range = RangeSpec::Last(Relative::Week);
    assert_eq!(j.resolve_range(today), range("2026-10-26", "2026-11-02"));
    assert_eq!(j.period(), Period::Week);
}

#[test]
fn periods_follow_the_range_length() {
    let mut j = job("");
    for (a, b, want) in [
        ("2026-10-01", "2026-10-29", Period::Month),
        ("2026-10-01", "2026-10-28", Period::Week),
        ("2026-10-01", "2026-10-08", Period::Week),
        ("2026-10-01", "2026-10-07", Period::Day),
    ] {
        j.range = RangeSpec::Absolute(range(a, b));
        assert_eq!(j.period(), want, "{a}..{b}");
    }
    j.range = RangeSpec::Last(Relative::Days(90));
    assert_eq!(j.period(), Period::Day);
}

#[test]
fn quota_arithmetic() {
    // A window's worth leaves at once: one quota costs no wait, one call more a period.
    assert_eq!(quota_seconds(600, 600, None), 0.0);
    assert_eq!(quota_seconds(601, 600, None), 60.0);
    assert_eq!(quota_seconds(10_000, 10_000, Some(150_000)), 0.0);
    // 300,000 details: the first 150,000 in 15 windows then wait the hour, the rest again.
    assert_eq!(
        quota_seconds(300_000, 10_000, Some(150_000)),
        3600.0 + 14.0 * 60.0
    );
    assert_eq!(quota_seconds(150_001, 10_000, Some(150_000)), 3600.0);
    assert_eq!(quota_seconds(0, 600, None), 0.0);
    assert_eq!(human_duration(3723), "1h 02m 03s");
    assert_eq!(human_duration(245), "4m 05s");
    assert_eq!(human_duration(6), "6s");
}

#[test]
fn calls_scale_history_to_the_range() {
    let j = job("");
    let h = PlanHistory {
        days: 31,
        journals: 2050,
        templates: 4,
        departments: 9,
        wedrive_files: 1025,
    };
    let plan = Plan::build(&j, range("2026-10-01", "2026-11-01"), Some(&h));
    assert_eq!(plan.journals, 2050);
    assert_eq!(plan.calls_for(Endpoint::RecordList), 21); // 2050 journals: 20 full pages + 1 short
    assert_eq!(plan.calls_for(Endpoint::RecordDetail), 2050);
    assert_eq!(plan.calls_for(Endpoint::StatList), 4);
    assert_eq!(plan.calls_for(Endpoint::DepartmentList), 1);
    assert_eq!(plan.calls_for(Endpoint::UserList), 9);
    assert_eq!(plan.calls_for(Endpoint::GetToken), 1);
    assert_eq!(plan.total_calls, 21 + 2050 + 4 + 1 + 9 + 1);
    // Details dominate: 2050 calls, 8 in flight at 0.2 s, slower than 10,000/min.
    let details = plan
        .calls
        .iter()
        .find(|c| c.endpoint == "get_record_detail")
        .expect("details planned");
    assert!(
        (details.seconds - 2050.0 * 0.2 / 8.0).abs() < 1e-9,
        "{details:?}"
    );

    // Half the days → half the journals, in two windows of at most one month.
    let plan = Plan::build(&j, range("2026-10-20", "2026-11-05"), Some(&h));
    assert_eq!(plan.record_windows.len(), 2);
    assert_eq!(plan.journals, (2050.0_f64 * 16.0 / 31.0).round() as u64);
    // 12 days in October (≈794 journals, 8 pages), 4 in November (≈265, 3 pages).
    assert_eq!(plan.calls_for(Endpoint::RecordList), 8 + 3);
}

#[test]
fn filter_combinations_multiply_record_chains() {
    let j = job("[filters]\ntemplate_ids = [\"a\", \"b\"]\ncreators = [\"u1\", \"u2\", \"u3\"]\n[extract]\ndirectory = \"none\"\nstats = false\n");
    let combos = j.filters.combos();
    assert_eq!(combos.len(), 6);
    assert!(combos
        .iter()
        .all(|c| c.len() == 2 && c[0].key == "template_id" && c[1].key == "creator"));
    let plan = Plan::build(&j, range("2026-10-01", "2026-11-01"), None);
    assert!(matches!(
        plan.basis,
        Basis::Assumed {
            journals_per_day: 200,
            ..
        }
    ));
    // 6200 assumed journals over 6 chains: 1033.3 each → 11 pages each.
    assert_eq!(plan.calls_for(Endpoint::RecordList), 6 * 11);
    assert_eq!(plan.calls_for(Endpoint::StatList), 0);
    assert_eq!(plan.calls_for(Endpoint::UserList), 0);
    assert!(plan.notes.iter().any(|n| n.starts_with("no history")));
    let text = plan.to_string();
    assert!(
        text.contains("no history") && text.contains("2026-10-01"),
        "{text}"
    );
    let json = serde_json::to_value(&plan).expect("plan serialises");
    assert_eq!(json["record_windows"][0]["start_date"], "2026-10-01");
    assert_eq!(json["calls"][1]["endpoint"], "get_record_list");
}

#[test]
fn empty_windows_still_take_one_call() {
    let j = job("[plan]\njournals_per_day = 0\n");
    let plan = Plan::build(&j, range("2026-10-01", "2026-12-01"), None);
    assert_eq!(plan.calls_for(Endpoint::RecordList), 2);
    assert_eq!(plan.calls_for(Endpoint::RecordDetail), 0);
}

#[test]
fn wedrive_downloads_scale_history_when_asked_for() {
    let h = PlanHistory {
        days: 31,
        journals: 2000,
        templates: 4,
        departments: 9,
        wedrive_files: 500,
    };
    let off = Plan::build(&job(""), range("2026-10-01", "2026-11-01"), Some(&h));
    assert_eq!(off.calls_for(Endpoint::WedriveDownload), 0);
    assert!(!off
        .calls
        .iter()
        .any(|c| c.endpoint == "download_wedrive_file"));

    let j = job("[extract]\nwedrive_files = true\n");
    let plan = Plan::build(&j, range("2026-10-01", "2026-11-01"), Some(&h));
    assert_eq!(plan.calls_for(Endpoint::WedriveDownload), 500);
    assert_eq!(plan.calls_for(Endpoint::WedriveBytes), 500);
    assert_eq!(plan.total_calls, 20 + 2000 + 500 + 500 + 4 + 1 + 9 + 1);
    // A quarter of a file a journal: 8 days of 2000/31 a day.
    let plan = Plan::build(&j, range("2026-10-01", "2026-10-09"), Some(&h));
    let expected = ((2000.0_f64 * 8.0 / 31.0).round() * 0.25).round() as u64;
    assert_eq!(plan.calls_for(Endpoint::WedriveDownload), expected);
    assert!(plan
        .notes
        .iter()
        .any(|n| n.contains("wedrive files estimated")));

    let plan = Plan::build(&j, range("2026-10-01", "2026-11-01"), None);
    assert_eq!(plan.calls_for(Endpoint::WedriveDownload), 0);
    assert!(plan
        .notes
        .iter()
        .any(|n| n.starts_with("wedrive files are not estimated")));
}
