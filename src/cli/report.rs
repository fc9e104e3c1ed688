//! The one printer of errors, warnings and gaps on standard error, uv's pattern:
//!
//! ```text
//! error: run monthly-compliance failed
//!   caused by: opening the store output/monthly-compliance/store.sqlite
//!   caused by: store output/monthly-compliance/store.sqlite: cannot open: unable to open database file
//! hint: …
//! ```
//!
//! Each cause once (see [`Diagnostic`]); the hint apart from the message. An error that names
//! its own place first (a job file's `FILE:LINE:COL: message`) is printed as it is, as compilers
//! print theirs, so that editors can jump to it. Logging goes through `tracing`, not here.

use std::collections::BTreeSet;

use crate::pipeline::Diagnostic;
use crate::sink::Gap;
use crate::wecom::errcode;

/// How bad a printed problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Prints `err` as an error.
pub fn error(err: &anyhow::Error) {
    eprint!("{}", render(Severity::Error, err));
}

/// Prints `err` as a warning (the command goes on).
pub fn warning(err: &anyhow::Error) {
    eprint!("{}", render(Severity::Warning, err));
}

/// Prints a gap a line, then each distinct hint once.
pub fn gaps(gaps: &[Gap]) {
    eprint!("{}", render_gaps(gaps));
}

/// The lines [`error`] and [`warning`] print, each ending in a newline.
pub fn render(severity: Severity, err: &anyhow::Error) -> String {
    let d = Diagnostic::of(err);
    let mut out = match (severity, d.located) {
        (Severity::Error, true) => format!("{}\n", d.message),
        (Severity::Error, false) => format!("error: {}\n", d.message),
        (Severity::Warning, _) => format!("warning: {}\n", d.message),
    };
    for cause in &d.causes {
        out.push_str(&format!("  caused by: {cause}\n"));
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!("hint: {hint}\n"));
    }
    out
}

/// `gap: <what> (<endpoint> errcode <n>): <detail>` a gap, then `hint: …` for each distinct
/// hint, in order of first appearance.
pub fn render_gaps(gaps: &[Gap]) -> String {
    let mut out = String::new();
    for gap in gaps {
        out.push_str(&format!(
            "gap: {} ({} errcode {}): {}\n",
            gap.what,
            gap.endpoint.as_deref().unwrap_or("-"),
            gap.errcode.unwrap_or(errcode::OK),
            gap.detail
        ));
    }
    let mut seen = BTreeSet::new();
    for hint in gaps.iter().filter_map(|g| g.hint.as_deref()) {
        if seen.insert(hint) {
            out.push_str(&format!("hint: {hint}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobError;
    use crate::pipeline::PipelineError;

    #[test]
    fn errors_print_their_causes_once_and_the_hint_last() {
        let err = anyhow::Error::from(PipelineError::NoStore {
            path: "o/store.sqlite".into(),
        })
        .context("rebuild x failed");
        assert_eq!(
            render(Severity::Error, &err),
            "error: rebuild x failed\n  caused by: o/store.sqlite: no store to rebuild from\n\
             hint: run the job first (`wecom-journal run JOB`), or pass --output DIR with the \
             directory an earlier run wrote its store.sqlite to\n"
        );
        let plain = anyhow::anyhow!("disk on fire");
        assert_eq!(render(Severity::Warning, &plain), "warning: disk on fire\n");
    }

    #[test]
    fn a_job_file_error_starts_with_its_place() {
        let err = anyhow::Error::from(JobError::Invalid {
            path: "jobs/x.toml".into(),
            line: 3,
            col: 9,
            message: "bad date".into(),
        });
        assert_eq!(
            render(Severity::Error, &err),
            "jobs/x.toml:3:9: bad date\nhint: every job key, its type and its default: \
             docs/job-file.md\n"
        );
    }

    #[test]
    fn gaps_then_each_hint_once() {
        let gap = |what: &str| Gap {
            what: what.into(),
            endpoint: Some("/cgi-bin/oa/journal/get_stat_list".into()),
            errcode: Some(errcode::JOURNAL_NO_PERMISSION),
            detail: "no permission".into(),
            hint: Some("add the app".into()),
        };
        assert_eq!(
            render_gaps(&[gap("template a"), gap("template b")]),
            "gap: template a (/cgi-bin/oa/journal/get_stat_list errcode 301065): no permission\n\
             gap: template b (/cgi-bin/oa/journal/get_stat_list errcode 301065): no permission\n\
             hint: add the app\n"
        );
        assert_eq!(render_gaps(&[]), "");
    }
}
