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

use serde_json::Value;

use super::LogFormat;

use crate::pipeline::Diagnostic;
use crate::sink::Gap;
use crate::wecom::errcode;

/// How bad a printed problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// Prints `err` as an error.
pub(crate) fn error(err: &anyhow::Error) {
    eprint!("{}", in_style(Severity::Error, err));
}

/// Prints `err` as a warning (the command goes on).
pub(crate) fn warning(err: &anyhow::Error) {
    eprint!("{}", in_style(Severity::Warning, err));
}

/// Prints the gaps, those of one cause on one line with their count, then each distinct hint
/// once.
pub(crate) fn gaps(gaps: &[Gap]) {
    let text = match super::logging::style().format {
        LogFormat::Text => render_gaps(gaps),
        LogFormat::Json => render_gaps_json(gaps, &now()),
    };
    eprint!("{text}");
}

fn in_style(severity: Severity, err: &anyhow::Error) -> String {
    match super::logging::style().format {
        LogFormat::Text => render(severity, err),
        LogFormat::Json => render_json(severity, err, &now()),
    }
}

/// A usage error as clap renders it (`error: …`, tips, `Usage: …`) as one JSON line: the
/// first line its `message`, the rest its `details`, one string a line.
pub(crate) fn usage_json(rendered: &str) -> String {
    render_usage_json(rendered, &now())
}

fn render_usage_json(rendered: &str, timestamp: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad usage");
    let mut fields = serde_json::Map::new();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    fields.insert("message".into(), message.into());
    let details: Vec<Value> = lines.map(Value::from).collect();
    if !details.is_empty() {
        fields.insert("details".into(), details.into());
    }
    json_line(timestamp, "ERROR", fields)
}

/// The time a JSON line carries, as the log lines' `timestamp`.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The lines [`error`] and [`warning`] print, each ending in a newline.
pub(crate) fn render(severity: Severity, err: &anyhow::Error) -> String {
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

/// [`render`] as one JSON line, shaped as the log lines are (`timestamp`, `level`, `fields`
/// with the `message`), its causes and hint as fields.
pub(crate) fn render_json(severity: Severity, err: &anyhow::Error, timestamp: &str) -> String {
    let d = Diagnostic::of(err);
    let mut fields = serde_json::Map::new();
    fields.insert("message".into(), d.message.into());
    if !d.causes.is_empty() {
        fields.insert("causes".into(), d.causes.into());
    }
    if let Some(hint) = d.hint {
        fields.insert("hint".into(), hint.into());
    }
    let level = match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARN",
    };
    json_line(timestamp, level, fields)
}

fn json_line(timestamp: &str, level: &str, fields: serde_json::Map<String, Value>) -> String {
    let line = serde_json::json!({ "timestamp": timestamp, "level": level, "fields": fields });
    format!("{line}\n")
}

/// Gaps of one cause: the same endpoint, errcode and detail.
struct GapGroup<'g> {
    first: &'g Gap,
    count: usize,
    /// What the first [`NAMED_GAPS`] gaps of the cause are.
    named: Vec<&'g str>,
}

/// Gaps of one cause named one by one (a few templates to grant); beyond, `and N more`.
const NAMED_GAPS: usize = 3;

impl GapGroup<'_> {
    /// `a`, `a; b; c`, or `a and N more` when the cause has more than [`NAMED_GAPS`] gaps.
    fn what(&self) -> String {
        if self.count <= NAMED_GAPS {
            self.named.join("; ")
        } else {
            format!("{} and {} more", self.first.what, self.count - 1)
        }
    }
}

fn group_gaps(gaps: &[Gap]) -> Vec<GapGroup<'_>> {
    let mut groups: Vec<GapGroup<'_>> = Vec::new();
    for gap in gaps {
        let same = |g: &&mut GapGroup<'_>| {
            g.first.endpoint == gap.endpoint
                && g.first.errcode == gap.errcode
                && g.first.detail == gap.detail
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(group) => {
                group.count += 1;
                if group.named.len() < NAMED_GAPS {
                    group.named.push(&gap.what);
                }
            }
            None => groups.push(GapGroup {
                first: gap,
                count: 1,
                named: vec![&gap.what],
            }),
        }
    }
    groups
}

/// `gap: <what> (<endpoint> errcode <n>): <detail>` a cause — up to three gaps sharing it
/// named (`<what>; <what>`), more as `<what> and N more`, in order of first appearance — then
/// `hint: …` for each distinct hint.
pub(crate) fn render_gaps(gaps: &[Gap]) -> String {
    let mut out = String::new();
    for group in group_gaps(gaps) {
        let gap = group.first;
        out.push_str(&format!(
            "gap: {} ({} errcode {}): {}\n",
            group.what(),
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

/// [`render_gaps`] as JSON lines: one a cause, with its count and hint.
pub(crate) fn render_gaps_json(gaps: &[Gap], timestamp: &str) -> String {
    let mut out = String::new();
    for group in group_gaps(gaps) {
        let gap = group.first;
        let mut fields = serde_json::Map::new();
        fields.insert("message".into(), format!("gap: {}", gap.detail).into());
        fields.insert("what".into(), group.what().into());
        fields.insert("count".into(), group.count.into());
        if let Some(endpoint) = &gap.endpoint {
            fields.insert("endpoint".into(), endpoint.clone().into());
        }
        if let Some(code) = gap.errcode {
            fields.insert("errcode".into(), code.into());
        }
        if let Some(hint) = &gap.hint {
            fields.insert("hint".into(), hint.clone().into());
        }
        out.push_str(&json_line(timestamp, "WARN", fields));
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
        // Gaps of one cause are one line: a few named, more with a count.
        assert_eq!(
            render_gaps(&[gap("template a"), gap("template b"), gap("template c")]),
            "gap: template a; template b; template c (/cgi-bin/oa/journal/get_stat_list \
             errcode 301065): no permission\n\
             hint: add the app\n"
        );
        let four = [gap("a"), gap("b"), gap("c"), gap("d")];
        assert_eq!(
            render_gaps(&four),
            "gap: a and 3 more (/cgi-bin/oa/journal/get_stat_list errcode 301065): \
             no permission\n\
             hint: add the app\n"
        );
        let mut other = gap("window w");
        other.detail = "not allowed".into();
        assert_eq!(
            render_gaps(&[gap("template a"), other, gap("template b")]),
            "gap: template a; template b (/cgi-bin/oa/journal/get_stat_list errcode 301065): \
             no permission\n\
             gap: window w (/cgi-bin/oa/journal/get_stat_list errcode 301065): not allowed\n\
             hint: add the app\n"
        );
        assert_eq!(render_gaps(&[]), "");
        assert_eq!(
            render_gaps_json(&[gap("template a"), gap("template b")], "T"),
            "{\"timestamp\":\"T\",\"level\":\"WARN\",\"fields\":{\"message\":\"gap: no permission\",\
             \"what\":\"template a; template b\",\"count\":2,\"endpoint\":\"/cgi-bin/oa/journal/get_stat_list\",\
             \"errcode\":301065,\"hint\":\"add the app\"}}\n"
        );
    }

    #[test]
    fn a_usage_error_is_one_json_line() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' \
                        as a value, use '-- --bogus'\n\nUsage: wecom-journal run <JOBS>...\n\n\
                        For more information, try '--help'.\n";
        assert_eq!(
            render_usage_json(rendered, "T"),
            "{\"timestamp\":\"T\",\"level\":\"ERROR\",\"fields\":{\"message\":\
             \"unexpected argument '--bogus' found\",\"details\":[\"tip: to pass '--bogus' as \
             a value, use '-- --bogus'\",\"Usage: wecom-journal run <JOBS>...\",\
             \"For more information, try '--help'.\"]}}\n"
        );
    }

    #[test]
    fn json_errors_are_one_line_with_their_causes_and_hint() {
        let err = anyhow::Error::from(PipelineError::NoStore {
            path: "o/store.sqlite".into(),
        })
        .context("rebuild x failed");
        let line = render_json(Severity::Error, &err, "T");
        assert_eq!(line.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["fields"]["message"], "rebuild x failed");
        assert_eq!(
            v["fields"]["causes"],
            serde_json::json!(["o/store.sqlite: no store to rebuild from"])
        );
        assert!(v["fields"]["hint"]
            .as_str()
            .unwrap()
            .starts_with("run the job first"));
    }
}
