//! `wecom-journal check JOB [--output DIR] [--format text|json]`: the preflight's report
//! ([`crate::pipeline::check`]), a line a check — `✓` passed, `✗` failed with a `hint:` line
//! saying what to change and where, `-` not checked — then how many checks failed and how
//! many calls were made. Exit 0 when every check passed, [`exit::CHECK_FAILED`] otherwise.

use std::path::Path;

use super::out::{out, outln};
use super::{exit, report, CheckFormat};
use crate::pipeline::check::{self, CheckReport, Status};

pub(crate) fn check(job: &Path, output: Option<&Path>, format: CheckFormat) -> u8 {
    let report = check::check(job, output);
    match format {
        CheckFormat::Text => out!("{}", render(&report)),
        CheckFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => outln!("{json}"),
            Err(e) => {
                report::error(&anyhow::Error::from(e).context("encoding the check as JSON"));
                return exit::FAILED;
            }
        },
    }
    if report.passed {
        exit::OK
    } else {
        exit::CHECK_FAILED
    }
}

/// The text report, each line ending in a newline.
fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    // A hint already printed (one cause failing several checks) is pointed at, not repeated.
    let mut said: Vec<(&str, &str)> = Vec::new();
    for line in &report.checks {
        let mark = match line.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skipped => "-",
        };
        let label = line.check.label();
        out.push_str(&format!("{mark} {label}: {}\n", line.summary));
        if let Some(hint) = line.hint.as_deref() {
            match said.iter().find(|(h, _)| *h == hint) {
                Some((_, first)) => out.push_str(&format!("  hint: as for {first} above\n")),
                None => {
                    out.push_str(&format!("  hint: {hint}\n"));
                    said.push((hint, label));
                }
            }
        }
    }
    let (failed, skipped) = (report.count(Status::Fail), report.count(Status::Skipped));
    let verdict = match (failed, skipped) {
        (0, 0) => format!("all {} checks passed", report.checks.len()),
        (0, s) => format!("no check failed, {s} not checked"),
        (f, 0) => format!("{f} of {} checks failed", report.checks.len()),
        (f, s) => format!(
            "{f} of {} checks failed, {s} not checked",
            report.checks.len()
        ),
    };
    let calls = match report.total_calls {
        0 => "no call to WeCom".to_string(),
        n => {
            let each: Vec<String> = report
                .calls
                .iter()
                .map(|(endpoint, n)| format!("{endpoint} {n}"))
                .collect();
            let calls = if n == 1 { "call" } else { "calls" };
            format!("{n} {calls} to WeCom ({})", each.join(", "))
        }
    };
    out.push_str(&format!("{verdict}; {calls}\n"));
    out
}
