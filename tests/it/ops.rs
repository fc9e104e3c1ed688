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

/// A job against the simulator process, in every table format, with `extra` in `[output]`.
fn sim_job(dir: &Path, output_extra: &str) -> std::path::PathBuf {
    let path = dir.join("inject.toml");
    fs::write(
        &path,
        format!(
            "name = \"inject\"\n[source]\ncorp_id = \"${{WECOM_CORP_ID}}\"\n\
             secret = \"${{WECOM_JOURNAL_SECRET}}\"\n[range]\nstart = \"2026-10-01\"\n\
             end = \"2026-10-04\"\n[extract]\nstats = false\n[output]\ndir = \"out\"\n\
             formats = [\"parquet\", \"csv\", \"xlsx\"]\nreports = []\n{output_extra}"
        ),
    )
    .unwrap();
    path
}

/// Every journal text the simulator writes, made to start like a formula, in the store; then
/// `rebuild` writes the outputs from it.
fn rebuild_with_formulas(sim: &crate::common::SimProcess, job: &Path) -> Vec<&'static str> {
    let env = |cmd: &mut std::process::Command| {
        cmd.env("WECOM_API_BASE", &sim.base_url)
            .env("WECOM_CORP_ID", &sim.corp_id)
            .env("WECOM_JOURNAL_SECRET", &sim.secret);
    };
    let mut run = bin();
    run.arg("run").arg(job);
    env(&mut run);
    let out = run_quiet(&mut run);
    assert_eq!(out.status.code(), Some(0), "{}", streams(&out).1);
    // The simulator's work texts (its `forms::WORK`), as an employee could have typed them.
    let formulas = [
        (
            "完成接口联调",
            "=HYPERLINK(\"http://evil.example\",\"详情\")",
        ),
        ("修复线上问题 3 个", "+1+2"),
        ("客户拜访两家", "-3+4"),
        ("整理季度报表", "@SUM(A1:A9)"),
        ("参加需求评审", "\tTAB"),
        (
            "编写测试用例",
            "=HYPERLINK(\"http://evil.example\",\"详情\")",
        ),
        ("优化查询性能", "+1+2"),
        ("今日暂无工作", "-3+4"),
        ("跟进合同签署", "@SUM(A1:A9)"),
        ("招聘面试 4 场", "\tTAB"),
    ];
    let store = rusqlite::Connection::open(job.parent().unwrap().join("out/store.sqlite")).unwrap();
    for (from, to) in formulas {
        // The raw detail is JSON: the new text, JSON-escaped, replaces the old.
        let json = serde_json::to_string(to).unwrap();
        store
            .execute(
                "UPDATE details SET raw = replace(raw, ?1, ?2)",
                [format!("\"{from}\""), json],
            )
            .unwrap();
    }
    drop(store);
    let mut rebuild = bin();
    rebuild.arg("rebuild").arg(job);
    env(&mut rebuild);
    let out = run_quiet(&mut rebuild);
    assert_eq!(out.status.code(), Some(0), "{}", streams(&out).1);
    let mut distinct: Vec<&'static str> = formulas.iter().map(|(_, to)| *to).collect();
    distinct.dedup();
    distinct.sort();
    distinct.dedup();
    distinct
}

/// The text values of `journal_controls` in the Parquet dataset.
fn parquet_texts(out: &Path) -> Vec<String> {
    let frame = crate::common::scan_dataset(out, "journal_controls");
    frame
        .column("value_text")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// Every CSV file of `journal_controls`, concatenated.
fn csv_text(out: &Path) -> String {
    crate::common::files_under(&out.join("csv/tables/journal_controls"))
        .iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect()
}

/// The simulator the formula tests rewrite the texts of: three days of six people.
fn formula_sim() -> crate::common::SimProcess {
    crate::common::SimProcess::start(&[
        "--users",
        "6",
        "--start",
        "2026-10-01",
        "--days",
        "3",
        "--seed",
        "5",
        // No withdrawals: this run is the setup (it must end 0) for the formulas written
        // into the store; withdrawn journals' gaps are tested in converge.rs.
        "--gentle",
        "withdrawals",
    ])
    .unwrap()
}

#[test]
fn formula_text_is_exact_in_parquet_and_xlsx_and_neutralised_in_csv() {
    let sim = formula_sim();
    let dir = tempfile::tempdir().unwrap();
    let job = sim_job(dir.path(), "csv_bom = true\n");
    let formulas = rebuild_with_formulas(&sim, &job);
    let out = dir.path().join("out");

    // Parquet keeps the exact text; some journal says each formula.
    let texts = parquet_texts(&out);
    for f in &formulas {
        assert!(texts.iter().any(|t| t == f), "{f:?} in the Parquet");
    }
    let formula_cells = texts
        .iter()
        .filter(|t| formulas.contains(&t.as_str()))
        .count();

    // The CSV: each such cell starts with `'` (quoted by the CSV writer where it must be); no
    // cell starts with a formula character.
    let csv = csv_text(&out);
    let mut neutralised = 0;
    for f in &formulas {
        let plain = format!(",'{f},");
        let quoted = format!(",\"'{}\",", f.replace('"', "\"\""));
        neutralised += csv.matches(&plain).count() + csv.matches(&quoted).count();
    }
    assert_eq!(
        neutralised, formula_cells,
        "every formula cell neutralised:\n{csv}"
    );
    for f in &formulas {
        for bad in [format!(",{f}"), format!(",\"{}", f.replace('"', "\"\""))] {
            assert!(!csv.contains(&bad), "{bad:?} reaches the CSV");
        }
    }

    // XLSX: the text exactly, as a string cell, and no formula anywhere in the workbook.
    let xlsx = crate::common::workbooks_under(&out)
        .into_iter()
        .next()
        .expect("a workbook");
    let entries = crate::common::unzip(&xlsx);
    let sheets: String = entries
        .iter()
        .filter(|(name, _)| name.starts_with("xl/worksheets/"))
        .map(|(_, xml)| xml.as_str())
        .collect();
    assert!(
        !sheets.contains("<f>") && !sheets.contains("<f "),
        "no formula cell"
    );
    // Report sheets share their strings; the wide sheets (constant memory) write them inline.
    let shared = &format!("{}{sheets}", entries["xl/sharedStrings.xml"]);
    // Each formula the workbook's sheets show is there exactly, never neutralised.
    let xml_text = |f: &str| f.replace('&', "&amp;").replace('"', "&quot;");
    let shown: Vec<&&str> = formulas
        .iter()
        .filter(|f| {
            shared.contains(&format!(">{}<", xml_text(f))) || shared.contains(&format!(">{f}<"))
        })
        .collect();
    assert!(
        shown.len() >= 2,
        "formulas in the workbook's strings: {shown:?}"
    );
    for f in &formulas {
        assert!(
            !shared.contains(&format!(">'{f}")),
            "{f:?} neutralised in the workbook"
        );
    }
}

#[test]
fn csv_escape_formulas_false_keeps_the_exact_text() {
    let sim = formula_sim();
    let dir = tempfile::tempdir().unwrap();
    let job = sim_job(dir.path(), "csv_bom = true\ncsv_escape_formulas = false\n");
    let formulas = rebuild_with_formulas(&sim, &job);
    let csv = csv_text(&dir.path().join("out"));
    assert!(
        csv.contains(",+1+2,") && csv.contains(",@SUM(A1:A9),"),
        "{csv}"
    );
    for f in &formulas {
        assert!(!csv.contains(&format!("'{f}")), "{f:?} kept as it is");
    }
}

/// A run with a gap (a template the app may not read) and a warning (a quota above the
/// documented one), its logs on, stderr a file's worth of bytes (a pipe, not a terminal).
fn run_with_gap_and_warning(extra_args: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    // No withdrawals: the quiet test compares what is said whole with the one 301065 gap
    // line; 301084 gaps add lines of their own (converge.rs, cli.rs).
    let (sim, _, _) = crate::common::sim_denying_a_weekly_template(6, 14);
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("logs.toml");
    fs::write(
        &job,
        "name = \"logs\"\n[source]\ncorp_id = \"${WECOM_CORP_ID}\"\n\
         secret = \"${WECOM_JOURNAL_SECRET}\"\n[source.limits]\nrecord_list_per_minute = 700\n\
         [range]\nstart = \"2026-10-01\"\nend = \"2026-10-15\"\n[output]\ndir = \"out\"\n\
         formats = [\"parquet\"]\n",
    )
    .unwrap();
    let out = bin()
        .args(extra_args)
        .arg("run")
        .arg(&job)
        .env("WECOM_API_BASE", &sim.base_url)
        .env("WECOM_CORP_ID", &sim.corp_id)
        .env("WECOM_JOURNAL_SECRET", &sim.secret)
        .output()
        .unwrap();
    (out, dir)
}

#[test]
fn logs_to_a_file_carry_no_colour_and_json_logs_are_json_every_line() {
    let (out, _dir) = run_with_gap_and_warning(&[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains('\u{1b}'), "no ESC byte:\n{stderr:?}");
    // The text has its info logs, the warning, the gap.
    assert!(
        stderr.contains("INFO") && stderr.contains("run started"),
        "{stderr}"
    );
    assert!(stderr.contains("\nwarning: ") || stderr.starts_with("warning: "));
    assert!(stderr.contains("\ngap: "), "{stderr}");

    let (out, _dir) = run_with_gap_and_warning(&["--log-format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains('\u{1b}'));
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    let messages = |level: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["level"] == level)
            .map(|l| l["fields"]["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let warnings = messages("WARN");
    assert!(
        warnings
            .iter()
            .any(|m| m.contains("record_list_per_minute = 700 is above")),
        "the job's warning as JSON: {warnings:?}"
    );
    let gap = lines
        .iter()
        .find(|l| l["fields"]["count"].is_number())
        .expect("the gap line");
    assert_eq!(gap["fields"]["errcode"], 301065);
    assert!(gap["fields"]["hint"].is_string());
    assert!(messages("INFO").iter().any(|m| m == "run started"));
    // The summary stays on standard output, as text.
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("logs: 2026-10-01..2026-10-15 finished with gaps"));
}

#[test]
fn under_json_logs_a_usage_error_is_one_json_line_too() {
    // A bad flag, a missing argument, a bad value, no subcommand; the format flag before or
    // after the subcommand, in either spelling.
    let cases: [&[&str]; 5] = [
        &["--log-format", "json", "run", "--bogus", "x.toml"],
        &["plan", "--log-format=json"],
        &["--log-format", "json", "run", "x.toml", "--now", "--start"],
        &["sim", "--log-format", "json", "--fault-rate", "lots"],
        &["--log-format", "json"],
    ];
    for args in cases {
        let out = run_quiet(bin().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let (stdout, stderr) = streams(&out);
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        let lines: Vec<serde_json::Value> = stderr
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {l:?}"))
            })
            .collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line: {stderr}");
        assert_eq!(lines[0]["level"], "ERROR", "{args:?}");
        let message = lines[0]["fields"]["message"].as_str().unwrap();
        assert!(
            !message.is_empty() && !message.starts_with("error:"),
            "{args:?}: {message}"
        );
    }
    // The same error in the text format is clap's own lines.
    let out = run_quiet(bin().args(["run", "--bogus", "x.toml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(streams(&out)
        .1
        .starts_with("error: unexpected argument '--bogus' found\n"));
}

#[test]
fn quiet_says_only_warnings_errors_and_gaps() {
    let (out, dir) = run_with_gap_and_warning(&["--quiet"]);
    assert_eq!(out.status.code(), Some(3));
    let (stdout, stderr) = streams(&out);
    assert!(!stderr.contains("INFO"), "{stderr}");
    let job = dir.path().join("logs.toml");
    let subs = [(dir.path().to_str().unwrap(), "[DIR]")];
    // The job's warning, then (after the extraction's own WARN log lines of the gap) the gap
    // and its hint.
    let said: String = stderr
        .lines()
        .filter(|l| !l.contains(" WARN "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_output(
        &said,
        &format!(
            "warning: {}:6:26: source.limits.record_list_per_minute = 700 is above WeCom's \
             documented quota (600): unless the corp was granted more, WeCom answers errcode \
             45009 beyond it\n\
             gap: [..] (/cgi-bin/oa/journal/get_record_detail errcode 301065): [..]\n\
             hint: [..]\n",
            "[DIR]/logs.toml"
        ),
        &subs,
    );
    assert!(job.exists());
    assert!(stdout.starts_with("logs: "), "the summary is still said");
}

#[test]
fn an_invalid_log_filter_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "");
    let out = with_credentials(bin().arg("validate").arg(&job))
        .env("WECOM_JOURNAL_LOG", "info,=[")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_output(
        &streams(&out).1,
        "warning: WECOM_JOURNAL_LOG=\"info,=[\" is not a log filter ([..]); logging at `info`\n",
        &[],
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    // A pipe whose reading end is closed before the command starts: every write fails with
    // EPIPE, as `plan | head` does once head has its lines.
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    let job = crate::common::shipped_job("monthly-compliance.toml");
    for args in [&["plan"][..], &["validate"], &["schema", "--job-file"]] {
        let mut cmd = bin();
        with_credentials(&mut cmd).args(args);
        if args[0] != "schema" {
            cmd.arg(&job);
        }
        let out = cmd.stdout(write_end.try_clone().unwrap()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_run_that_lists_no_journal_says_so_with_its_range() {
    let sim =
        crate::common::SimProcess::start(&["--users", "3", "--start", "2026-10-01", "--days", "2"])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("empty.toml");
    fs::write(
        &job,
        "name = \"empty\"\n[source]\ncorp_id = \"${WECOM_CORP_ID}\"\n\
         secret = \"${WECOM_JOURNAL_SECRET}\"\n[range]\nstart = \"2026-08-01\"\n\
         end = \"2026-08-03\"\n[extract]\nstats = false\n[output]\ndir = \"out\"\n\
         formats = [\"parquet\"]\nreports = []\n",
    )
    .unwrap();
    let out = run_quiet(
        bin()
            .arg("run")
            .arg(&job)
            .env("WECOM_API_BASE", &sim.base_url)
            .env("WECOM_CORP_ID", &sim.corp_id)
            .env("WECOM_JOURNAL_SECRET", &sim.secret),
    );
    assert_eq!(out.status.code(), Some(0));
    let (stdout, stderr) = streams(&out);
    assert_output(
        &stderr,
        "warning: run empty: no journal listed in 2026-08-01..2026-08-03 (nor in the months it \
         touches); check the range, the filters and the app's visibility scope (`wecom-journal \
         check JOB`)\n",
        &[],
    );
    assert!(
        stdout.starts_with("empty: 2026-08-01..2026-08-03 done → "),
        "{stdout}"
    );
}
