//! The run manifest from the stages' typed results: a run's id, what extract and the outputs
//! did, its gaps with their hints. The file itself is the sink's ([`sink::write_manifest`]).

use chrono::{DateTime, Utc};

use super::extract::Extracted;
use super::outputs::OutputsSummary;
use crate::extract;
use crate::sink::{self, Manifest};
use crate::wecom::errcode;

/// A run's id: its start time (UTC, to the millisecond, so ids sort by time) and the job's
/// name made safe for a file name: `20261101T020000123Z-monthly-compliance`.
pub(crate) fn run_id(job: &str, at: DateTime<Utc>) -> String {
    let job: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{job}", at.format("%Y%m%dT%H%M%S%3fZ"))
}

/// Adds an extraction's calls, time and gaps (its gaps only if it finished).
pub(crate) fn record_extract(manifest: &mut Manifest, extracted: &Extracted) {
    manifest.add_duration("extract", extracted.elapsed);
    manifest.add_call_stats(&extracted.calls);
    if let Ok(summary) = &extracted.result {
        manifest.gaps.extend(summary.gaps.iter().map(manifest_gap));
    }
}

/// Adds what the outputs wrote (also when they stopped half-way: what was written before).
pub(crate) fn record_outputs(manifest: &mut Manifest, outputs: &OutputsSummary) {
    for (table, rows) in &outputs.rows {
        manifest.add_rows(table, *rows);
    }
    manifest.add_files(outputs.files.iter().cloned());
    manifest.delta.extend(outputs.delta.iter().cloned());
    manifest.warnings.extend(outputs.warnings.iter().cloned());
    manifest.gaps.extend(outputs.gaps.iter().cloned());
    let d = &outputs.durations;
    for (stage, elapsed) in [
        ("flatten", d.flatten),
        ("sink_tables", d.sink_tables),
        ("report", d.report),
        ("workbook", d.workbook),
    ] {
        if let Some(elapsed) = elapsed {
            manifest.add_duration(stage, elapsed);
        }
    }
}

/// A gap as the manifest names it, with the errcode's hint.
fn manifest_gap(gap: &extract::Gap) -> sink::Gap {
    sink::Gap {
        what: gap.what.clone(),
        endpoint: Some(gap.endpoint.clone()),
        errcode: Some(gap.errcode),
        detail: gap.message.clone(),
        hint: errcode::hint(gap.errcode, &gap.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_are_file_names() {
        let at = DateTime::parse_from_rfc3339("2026-11-01T02:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            run_id("monthly compliance/1", at),
            "20261101T020000123Z-monthly_compliance_1"
        );
    }

    #[test]
    fn a_gap_carries_its_errcodes_hint() {
        let gap = manifest_gap(&extract::Gap {
            what: "template T stats".into(),
            endpoint: "/cgi-bin/oa/journal/get_stat_list".into(),
            errcode: errcode::JOURNAL_NO_PERMISSION,
            message: "no permission".into(),
        });
        assert_eq!(gap.hint, errcode::hint(errcode::JOURNAL_NO_PERMISSION, ""));
        assert!(gap.hint.is_some());
    }
}
