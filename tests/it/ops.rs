//! The binary as an operator meets it (issue 14): validation that saves a run (files a job
//! names, relative to the job file; dates and quotas within reason), whole-output checked.

use std::fs;
use std::path::Path;

use crate::common::{assert_output, bin, run_quiet, streams};

const HINT: &str = "hint: every job key, its type and its default: docs/job-file.md\n";

/// A job in `dir/jobs/` with `extra` appended; credentials from the environment.
fn job_in(dir: &Path, extra: &str) -> std::path::PathBuf {
    let jobs = dir.join("jobs");
    fs::create_dir_all(&jobs).unwrap();
    let path = jobs.join("ops.toml");
    fs::write(
        &path,
        format!(
            "name = \"ops\"\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\n\
             secret = \"${{WECOM_JOURNAL_SECRET}}\"\n[range]\nstart = \"2026-10-01\"\n\
             end = \"2026-10-08\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn with_credentials(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("WECOM_CORP_ID", "ww-ops")
        .env("WECOM_JOURNAL_SECRET", "ops-secret")
}

#[test]
fn a_missing_directory_csv_fails_validate_and_run_at_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "[extract]\ndirectory = \"csv:missing.csv\"\n");
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    let want = format!(
        "[DIR]/jobs/ops.toml:9:13: extract.directory: reading [DIR]/jobs/missing.csv: No such \
         file or directory (os error 2)\n{HINT}"
    );
    let out = run_quiet(with_credentials(bin().arg("validate").arg(&job)));
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = streams(&out);
    assert_eq!(stdout, "");
    assert_output(&stderr, &want, &subs);

    // `run` stops there too, before any call: the API base is a closed port, and nothing is
    // written.
    let out = run_quiet(
        with_credentials(bin().arg("run").arg(&job)).env("WECOM_API_BASE", "http://127.0.0.1:9"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_output(&streams(&out).1, &want, &subs);
    assert!(!dir.path().join("jobs/output").exists());
}

#[test]
fn a_directory_csv_beside_the_job_is_found_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "[extract]\ndirectory = \"csv:org.csv\"\n");
    fs::write(
        dir.path().join("jobs/org.csv"),
        "userid,department_id\nzhangsan,2\n",
    )
    .unwrap();
    // The binary runs from the checkout, not the job's folder.
    let out = run_quiet(with_credentials(bin().arg("validate").arg(&job)));
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_output(
        &stdout,
        "ok: [DIR]/jobs/ops.toml (ops)\n",
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
    assert_eq!(stderr, "");

    // A CSV that does not parse: the job's place, and the CSV's line.
    fs::write(
        dir.path().join("jobs/org.csv"),
        "userid,department_id\nzhangsan,2\nlisi,two\n",
    )
    .unwrap();
    let out = run_quiet(with_credentials(bin().arg("validate").arg(&job)));
    assert_eq!(out.status.code(), Some(2));
    assert_output(
        &streams(&out).1,
        &format!(
            "[DIR]/jobs/ops.toml:9:13: extract.directory: [DIR]/jobs/org.csv:3: department_id: \
             [..]\n{HINT}"
        ),
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
}

#[test]
fn dates_and_quotas_out_of_reason_exit_2_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    let cases = [
        (
            "start = \"2026-10-01\"",
            "start = \"0000-01-01\"",
            "[DIR]/jobs/ops.toml:6:9: range.start: 0000-01-01 is before 2016-01-01: WeCom keeps \
             no journal that old\n",
        ),
        (
            "end = \"2026-10-08\"",
            "end = \"2226-10-08\"",
            "[DIR]/jobs/ops.toml:7:7: range.end: 2226-10-08 is after 2100-01-01, the latest date \
             a job may name\n",
        ),
        (
            "[range]",
            "[source.limits]\nper_api_per_hour = 600\n[range]",
            "[DIR]/jobs/ops.toml:6:20: source.limits.per_api_per_hour (600) is below \
             source.limits.per_api_per_minute (10000): an hour allows at least a minute's calls\n",
        ),
    ];
    for (from, to, want) in cases {
        let job = job_in(dir.path(), "");
        let text = fs::read_to_string(&job).unwrap().replacen(from, to, 1);
        fs::write(&job, text).unwrap();
        let out = run_quiet(with_credentials(bin().arg("validate").arg(&job)));
        assert_eq!(out.status.code(), Some(2), "{to}");
        assert_output(&streams(&out).1, &format!("{want}{HINT}"), &subs);
    }
}

#[test]
fn a_quota_above_the_documented_one_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(
        dir.path(),
        "[source.limits]\nrecord_list_per_minute = 1200\n",
    );
    let out = run_quiet(with_credentials(bin().arg("validate").arg(&job)));
    assert_eq!(out.status.code(), Some(0));
    let (stdout, stderr) = streams(&out);
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    assert_output(&stdout, "ok: [DIR]/jobs/ops.toml (ops)\n", &subs);
    assert_output(
        &stderr,
        "warning: [DIR]/jobs/ops.toml:9:26: source.limits.record_list_per_minute = 1200 is above \
         WeCom's documented quota (600): unless the corp was granted more, WeCom answers \
         errcode 45009 beyond it\n",
        &subs,
    );
}
