//! Job files through the real binary: `validate` on good and bad files (exit 2 and
//! `FILE:LINE:COL: message` pointing at the right line), the shipped `jobs/*.toml`, and `plan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::bin;

/// The command with a controlled environment: the two credentials set, no API base override.
fn cmd(args: &[&str], path: &Path) -> Command {
    let mut c = bin();
    c.args(args)
        .arg(path)
        .env("WECOM_CORP_ID", "ww-test-corp")
        .env("WECOM_JOURNAL_SECRET", "test-secret-value")
        .env_remove("WECOM_API_BASE")
        .env_remove("WECOM_NOPE");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("the wecom-journal binary runs")
}

fn repo_jobs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let mut jobs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("jobs/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    jobs.sort();
    jobs
}

/// A job that is good except for what a case changes.
const GOOD: &str = r#"name = "it-job"

[source]
corp_id = "${WECOM_CORP_ID}"
secret = "${WECOM_JOURNAL_SECRET}"
timezone = "Asia/Shanghai"

[source.limits]
max_in_flight = 4

[range]
start = "2026-10-01"
end = "2026-11-01"

[extract]
details = true
directory = "api"

[output]
formats = ["parquet", "csv"]
reports = ["late_rate_by_user"]
"#;

/// `(kind, the edit: replace .0 with .1)`. The line the error must point at is the one marked
/// `#<-` in the replacement, found by the test itself.
const BAD: &[(&str, &str, &str)] = &[
    (
        "toml syntax",
        "timezone = \"Asia/Shanghai\"",
        "timezone = \"Asia/Shanghai #<-",
    ),
    ("unknown top-level table", "[extract]", "[extrakt] #<-"),
    (
        "unknown key in a table",
        "directory = \"api\"",
        "directory = \"api\"\nverbose = true #<-",
    ),
    (
        "bad date",
        "start = \"2026-10-01\"",
        "start = \"2026-13-01\" #<-",
    ),
    (
        "start not before end",
        "end = \"2026-11-01\"",
        "end = \"2026-10-01\" #<-",
    ),
    (
        "missing variable",
        "secret = \"${WECOM_JOURNAL_SECRET}\"",
        "secret = \"${WECOM_NOPE}\" #<-",
    ),
    (
        "unknown report",
        "reports = [\"late_rate_by_user\"]",
        "reports = [\"late_rate_by_user\", \"late_rate_by_moon\"] #<-",
    ),
    (
        "unknown format",
        "formats = [\"parquet\", \"csv\"]",
        "formats = [\"parquet\", \"xls\"] #<-",
    ),
    (
        "bad timezone",
        "timezone = \"Asia/Shanghai\"",
        "timezone = \"Asia/Peking\" #<-",
    ),
    (
        "bad directory spec",
        "directory = \"api\"",
        "directory = \"ldap://corp\" #<-",
    ),
    ("wrong type", "details = true", "details = \"yes\" #<-"),
    ("zero limit", "max_in_flight = 4", "max_in_flight = 0 #<-"),
    (
        "both absolute and relative range",
        "end = \"2026-11-01\"",
        "end = \"2026-11-01\"\nlast = \"week\" #<-",
    ),
    (
        "bad relative range",
        "start = \"2026-10-01\"\nend = \"2026-11-01\"",
        "last = \"fortnight\" #<-",
    ),
    (
        "duplicate key",
        "details = true",
        "details = true\ndetails = false #<-",
    ),
    (
        "empty secret",
        "secret = \"${WECOM_JOURNAL_SECRET}\"",
        "secret = \"\" #<-",
    ),
    (
        "list of the wrong type",
        "reports = [\"late_rate_by_user\"]",
        "reports = \"late_rate_by_user\" #<-",
    ),
];

#[test]
fn good_job_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("good.toml");
    std::fs::write(&path, GOOD).expect("write job");
    let out = run(&mut cmd(&["validate"], &path));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("ok: {} (it-job)\n", path.display())
    );
}

#[test]
fn bad_jobs_exit_2_with_file_line_col() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(BAD.len() >= 10);
    for (i, (kind, from, to)) in BAD.iter().enumerate() {
        assert!(GOOD.contains(from), "case {kind}: the edit must apply");
        let text = GOOD.replacen(from, to, 1);
        let want_line = text
            .lines()
            .position(|l| l.contains("#<-"))
            .expect("marked line")
            + 1;
        let path = dir.path().join(format!("bad-{i}.toml"));
        std::fs::write(&path, &text).expect("write job");

        let out = run(&mut cmd(&["validate"], &path));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {kind}: stderr {stderr}");
        assert!(!stderr.contains("panicked"), "case {kind}: {stderr}");
        let prefix = format!("{}:{want_line}:", path.display());
        assert!(
            stderr.starts_with(&prefix),
            "case {kind}: want {prefix}… got {stderr}\n{text}"
        );
        // LINE:COL: message, the column a positive number within the line.
        let rest = &stderr[prefix.len()..];
        let (col, message) = rest.split_once(": ").expect("col: message");
        let col: usize = col
            .parse()
            .unwrap_or_else(|_| panic!("case {kind}: column in {stderr}"));
        let line_len = text
            .lines()
            .nth(want_line - 1)
            .expect("line")
            .chars()
            .count();
        assert!(
            col >= 1 && col <= line_len + 1,
            "case {kind}: col {col} in {stderr}"
        );
        assert!(!message.trim().is_empty(), "case {kind}");
        assert!(
            !stderr.contains("test-secret-value"),
            "case {kind}: the secret leaked: {stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "case {kind}: nothing on stdout for a bad job"
        );
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let check = |from: &str, to: &str, needles: &[&str]| {
        let path = dir.path().join("named.toml");
        std::fs::write(&path, GOOD.replacen(from, to, 1)).expect("write job");
        let out = run(&mut cmd(&["validate"], &path));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        for n in needles {
            assert!(stderr.contains(n), "want {n:?} in {stderr}");
        }
    };
    check(
        "secret = \"${WECOM_JOURNAL_SECRET}\"",
        "secret = \"${WECOM_NOPE}\"",
        &["WECOM_NOPE", ":5:11: "],
    );
    check(
        "[extract]",
        "[extrakt]",
        &["unknown key `extrakt`", ":15:2: "],
    );
    check(
        "reports = [\"late_rate_by_user\"]",
        "reports = [\"unreported_roster\", \"late_rate_by_moon\"]",
        &["late_rate_by_moon", ":21:33: "],
    );
    check(
        "max_in_flight = 4",
        "max_in_flight = 0",
        &["max_in_flight", "positive"],
    );
}

#[test]
fn missing_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.toml");
    let out = run(&mut cmd(&["validate"], &path));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}: cannot read: ", path.display())),
        "{stderr}"
    );
}

#[test]
fn validate_stops_at_the_first_bad_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.toml");
    let bad = dir.path().join("bad.toml");
    let never = dir.path().join("never.toml");
    std::fs::write(&good, GOOD).expect("write");
    std::fs::write(&bad, GOOD.replacen("[extract]", "[extrakt]", 1)).expect("write");
    std::fs::write(&never, GOOD).expect("write");
    let mut c = cmd(&["validate"], &good);
    c.arg(&bad).arg(&never);
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, format!("ok: {} (it-job)\n", good.display()));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("{}:", bad.display())));
}

#[test]
fn shipped_jobs_validate() {
    let jobs = repo_jobs();
    let names: Vec<String> = jobs
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    for want in [
        "daily-lake-ingest.toml",
        "monthly-compliance.toml",
        "weekly-late-roster.toml",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "jobs/{want} is shipped: {names:?}"
        );
    }
    let mut c = bin();
    c.arg("validate")
        .args(&jobs)
        .env("WECOM_CORP_ID", "ww-test-corp")
        .env("WECOM_JOURNAL_SECRET", "x")
        .env_remove("WECOM_API_BASE");
    let out = run(&mut c);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (path, name) in jobs.iter().zip(&names) {
        let job_name = name.trim_end_matches(".toml");
        assert!(
            stdout.contains(&format!("ok: {} ({job_name})", path.display())),
            "{stdout}"
        );
    }

    // Without the credentials in the environment they name the missing variable.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/monthly-compliance.toml");
    let out = run(bin()
        .arg("validate")
        .arg(&path)
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_JOURNAL_SECRET"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`WECOM_CORP_ID` is not set"));
}

#[test]
fn plan_prints_windows_and_calls() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/monthly-compliance.toml");
    // An empty output directory: a demo run in the checkout must not lend this plan history.
    let empty = tempfile::tempdir().expect("a temp dir");
    // plan needs no credentials: it makes no call.
    let out = run(bin()
        .arg("plan")
        .arg(&path)
        .arg("--output")
        .arg(empty.path())
        .env_remove("WECOM_CORP_ID")
        .env_remove("WECOM_JOURNAL_SECRET"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // October 2026 in Shanghai (UTC+8): one record window, midnight to midnight local.
    let midnight = |d: &str| {
        chrono::NaiveDateTime::parse_from_str(&format!("{d} 00:00:00"), "%Y-%m-%d %H:%M:%S")
            .expect("date")
            .and_utc()
            .timestamp()
            - 8 * 3600
    };
    let window_line = stdout
        .lines()
        .find(|l| {
            l.contains("2026-10-01")
                && l.contains("2026-11-01")
                && l.contains(&midnight("2026-10-01").to_string())
        })
        .unwrap_or_else(|| panic!("a window line for October in:\n{stdout}"));
    assert!(
        window_line.contains(&midnight("2026-11-01").to_string()),
        "{window_line}"
    );
    for endpoint in [
        "gettoken",
        "get_record_list",
        "get_record_detail",
        "get_stat_list",
        "department_list",
        "user_list",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(endpoint)),
            "{endpoint} in:\n{stdout}"
        );
    }
    assert!(stdout.contains("no history"), "{stdout}");
    assert!(stdout.contains("ETA"), "{stdout}");

    // The job assumes 80 journals a day: 31 days → 2480 details, 25 record pages.
    let calls_of = |endpoint: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{endpoint} ")))
            .expect("endpoint line");
        line.split_whitespace()
            .nth(1)
            .expect("calls column")
            .parse()
            .expect("a number")
    };
    assert_eq!(calls_of("get_record_detail"), 80 * 31);
    assert_eq!(calls_of("get_record_list"), (80 * 31_u64).div_ceil(100));

    // A bad job is a usage error for plan too.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, GOOD.replacen("[extract]", "[extrakt]", 1)).expect("write");
    let out = run(&mut cmd(&["plan"], &bad));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn docs_job_file_md_is_generated_from_the_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/job-file.md");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let out = run(bin().args(["schema", "--job-file"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("UTF-8 Markdown");
    assert_eq!(printed, wecom_journal::job::keys::to_markdown());
    // Every key of a shipped job is in the reference, under its table.
    for key in [
        "record_list_per_minute",
        "refresh_days",
        "csv_bom",
        "journals_per_day",
    ] {
        assert!(
            printed.contains(&format!("| `{key}` |")),
            "{key} in:\n{printed}"
        );
    }
    assert!(
        on_disk == printed,
        "docs/job-file.md is out of date with src/job/keys.rs; regenerate it with:\n    cargo run -- schema --job-file > docs/job-file.md"
    );
}
