//! What the command line says, where what it says is the interface, compared WHOLE (with
//! placeholders for paths, times, ports and WeCom's per-answer tokens): validate's verdicts,
//! the run summary line, gap lines, errors with their causes and hints. Logs are off, so
//! standard error holds only what the command itself says.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::TimeZone;
use wecom_journal::sink::{Manifest, RunStatus};
use wecom_journal::wecom::errcode;

use crate::common::{
    assert_output, bin, files_under, normalize, run_quiet, shipped_job, streams, SimProcess,
};

/// A job against an external API (the simulator as a process): credentials and base URL from
/// the environment.
fn real_job(dir: &Path, name: &str, start: &str, end: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    fs::write(
        &path,
        format!(
            "name = \"{name}\"\n\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\n\
             secret = \"${{WECOM_JOURNAL_SECRET}}\"\n\n[range]\nstart = \"{start}\"\n\
             end = \"{end}\"\n\n[output]\ndir = \"{}\"\nformats = [\"parquet\"]\n",
            dir.join("out").display()
        ),
    )
    .unwrap();
    path
}

/// The only manifest under `out`.
fn the_manifest(out: &Path) -> (PathBuf, Manifest) {
    let files = files_under(&out.join("runs"));
    assert_eq!(files.len(), 1, "one manifest: {files:?}");
    let text = fs::read_to_string(&files[0]).unwrap();
    (files[0].clone(), serde_json::from_str(&text).unwrap())
}

/// `<rows> rows in <n> tables`: each table's rows once, however many formats hold them.
fn rows(manifest: &Manifest) -> String {
    let rows: u64 = manifest.rows.values().sum();
    format!("{rows} rows in {} tables", manifest.rows.len())
}

#[test]
fn validate_says_ok_then_names_the_first_bad_file_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let job = |secret: &str| {
        format!(
            "name = \"cli-job\"\n\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\nsecret = \"{secret}\"\n\n\
             [range]\nstart = \"2026-10-01\"\nend = \"2026-10-08\"\n"
        )
    };
    let (good, bad) = (dir.path().join("good.toml"), dir.path().join("bad.toml"));
    fs::write(&good, job("${WECOM_JOURNAL_SECRET}")).unwrap();
    fs::write(&bad, job("${WECOM_NOPE}")).unwrap();
    let out = run_quiet(
        bin()
            .arg("validate")
            .args([&good, &bad, &good])
            .env("WECOM_CORP_ID", "ww-test")
            .env("WECOM_JOURNAL_SECRET", "test-secret"),
    );
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = streams(&out);
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    assert_output(&stdout, "ok: [DIR]/good.toml (cli-job)\n", &subs);
    assert_output(
        &stderr,
        "[DIR]/bad.toml:5:11: environment variable `WECOM_NOPE` is not set\n\
         hint: every job key, its type and its default: docs/job-file.md\n",
        &subs,
    );
}

#[test]
fn rebuild_without_a_store_says_so_and_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    let out = run_quiet(
        bin()
            .arg("rebuild")
            .arg(shipped_job("monthly-compliance.toml"))
            .arg("--output")
            .arg(&empty),
    );
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = streams(&out);
    assert_eq!(stdout, "");
    assert_output(
        &stderr,
        "error: rebuild monthly-compliance failed\n\
         \x20 caused by: [DIR]/empty/store.sqlite: no store to rebuild from\n\
         hint: run the job first (`wecom-journal run JOB`), or pass --output DIR with the \
         directory an earlier run wrote its store.sqlite to\n",
        &[(dir.path().to_str().unwrap(), "[DIR]")],
    );
    assert!(
        !empty.join("store.sqlite").exists(),
        "rebuild creates no store"
    );
}

/// A wrong secret: the error names the call and the errcode once, then says which credential
/// is wrong and where to find the right one; the failed run's manifest says the same.
#[test]
fn a_wrong_secret_is_an_error_with_the_errcodes_hint() {
    let sim = SimProcess::start(&["--users", "5", "--start", "2026-10-01", "--days", "3"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = real_job(dir.path(), "cli-secret", "2026-10-01", "2026-10-03");
    let out = run_quiet(
        bin()
            .arg("run")
            .arg(&job)
            .env("WECOM_API_BASE", &sim.base_url)
            .env("WECOM_CORP_ID", &sim.corp_id)
            .env("WECOM_JOURNAL_SECRET", "not-the-secret"),
    );
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = streams(&out);
    assert_eq!(stdout, "", "no summary line for a failed run");
    let cause = "record window [2026-10-01 00:00, 2026-10-03 00:00) (no filter), cursor 0: \
                 /cgi-bin/gettoken: errcode 40001 (invalid corp secret (or the secret does not \
                 belong to this corp)): invalid credential, hint: [TOKEN], from ip: \
                 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40001";
    let hint = errcode::hint(errcode::INVALID_SECRET, "").unwrap();
    assert_output(
        &stderr,
        &format!("error: run cli-secret failed\n  caused by: {cause}\nhint: {hint}\n"),
        &[],
    );
    let (_, manifest) = the_manifest(&dir.path().join("out"));
    assert_eq!(manifest.status, RunStatus::Failed);
    assert_eq!(
        normalize(&manifest.warnings.join("\n"), &[]),
        format!("failed: {cause}"),
        "the manifest says the cause once too"
    );
}

/// A template the app may not read: exit 3, a gap line per gap with the errcode's hint once,
/// and the summary line saying so.
#[test]
fn gaps_are_said_a_line_each_with_their_hint_and_the_summary_says_so() {
    // No withdrawals: this test compares every gap line whole, and 301084 gaps (covered in
    // tests/it/converge.rs) would add lines of their own.
    let (sim, org, weekly) = crate::common::sim_denying_a_weekly_template(10, 14);
    let dir = tempfile::tempdir().unwrap();
    let job = real_job(dir.path(), "cli-gaps", "2026-10-01", "2026-10-15");
    let out = run_quiet(
        bin()
            .arg("run")
            .arg(&job)
            .env("WECOM_API_BASE", &sim.base_url)
            .env("WECOM_CORP_ID", &sim.corp_id)
            .env("WECOM_JOURNAL_SECRET", &sim.secret),
    );
    assert_eq!(out.status.code(), Some(3));
    let (stdout, stderr) = streams(&out);
    let out_dir = dir.path().join("out");
    let (manifest_path, manifest) = the_manifest(&out_dir);
    assert_eq!(manifest.status, RunStatus::FinishedWithGaps);

    // One gap: the weekly template's details, counted from the simulator's organisation.
    let (start, end) = (
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 10, 15, 0, 0, 0)
            .unwrap()
            .timestamp(),
    );
    let denied = org
        .journals
        .iter()
        .filter(|j| {
            j.template_id.as_deref() == Some(weekly.id.as_str())
                && (start..end).contains(&j.report_time)
        })
        .count();
    assert_eq!(manifest.gaps.len(), 1, "{:?}", manifest.gaps);
    let gap = &manifest.gaps[0];
    assert!(
        gap.what.starts_with(&format!("{denied} journal detail")),
        "{gap:?}"
    );
    let hint = errcode::hint(errcode::JOURNAL_NO_PERMISSION, "").unwrap();
    assert_eq!(gap.hint.as_deref(), Some(hint.as_str()));

    let subs = [(out_dir.to_str().unwrap(), "[OUT]")];
    assert_output(
        &stderr,
        &format!(
            "gap: {} (/cgi-bin/oa/journal/get_record_detail errcode 301065): {}\nhint: {hint}\n",
            gap.what,
            normalize(&gap.detail, &[])
        ),
        &subs,
    );
    assert_output(
        &stdout,
        &format!(
            "cli-gaps: 2026-10-01..2026-10-15 finished with gaps → {} files ({}) in [OUT]; \
             manifest [OUT]/runs/[TIME]-cli-gaps.json\n",
            manifest.files.len(),
            rows(&manifest)
        ),
        &subs,
    );
    assert!(manifest_path.ends_with(format!("{}.json", manifest.run_id)));
}

/// A clean sandbox run says one line and nothing else; `rebuild` then says one line too.
#[test]
fn a_sandbox_run_says_one_summary_line_and_rebuild_one_more() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let job = shipped_job("monthly-compliance.toml");
    let out = run_quiet(
        bin()
            .arg("run")
            .arg(&job)
            .args([
                "--sandbox",
                "--start",
                "2026-10-05",
                "--end",
                "2026-10-12",
                "--output",
            ])
            .arg(&out_dir)
            // No withdrawals: the subject is a clean run, which says one line (a withdrawn
            // journal is a gap line and exit 3: tests/it/converge.rs).
            .env(wecom_journal::sim::GENTLE_ENV, "withdrawals"),
    );
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr, "",
        "a clean run says nothing on stderr with logs off"
    );
    let (_, manifest) = the_manifest(&out_dir);
    let subs = [(out_dir.to_str().unwrap(), "[OUT]")];
    assert_output(
        &stdout,
        &format!(
            "monthly-compliance: 2026-10-05..2026-10-12 done → {} files ({}) in [OUT]; \
             manifest [OUT]/runs/[TIME]-monthly-compliance.json\n",
            manifest.files.len(),
            rows(&manifest)
        ),
        &subs,
    );

    let out = run_quiet(bin().arg("rebuild").arg(&job).arg("--output").arg(&out_dir));
    let (stdout, stderr) = streams(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    assert_output(
        &stdout,
        "rebuilt monthly-compliance from its store; manifest \
         [OUT]/runs/[TIME]-monthly-compliance.json\n",
        &subs,
    );
}
