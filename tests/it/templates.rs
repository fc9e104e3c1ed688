//! Templates always known (issue 9): a journal whose detail lacks `template_id`, that no stat
//! list names yet (its cycle not summarised) and whose name two templates share gets its
//! template from the record list filtered by template. Checked against the simulator's ground
//! truth: every journal's true template.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use wecom_journal::sim::SimConfig;

use crate::common::{bin, files_under, run_quiet, scan_dataset, sim_job, streams, SimThread};

#[test]
fn a_journal_of_a_shared_name_not_yet_in_any_stat_list_gets_its_template_from_the_record_list() {
    // Sunday 26 October 00:30 in Shanghai: the week of 19–25 October has ended and is not
    // summarised yet (an hour after its end), so no stat list names its journals.
    let now = "2026-10-25T16:30:00Z";
    let t = now.parse::<DateTime<Utc>>().unwrap();
    let sim = SimThread::start(SimConfig {
        users: 16,
        start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days: 31,
        now: Some(t),
        twin_template_names: true,
        ..SimConfig::default()
    });
    let org = &sim.org;
    let tz = chrono_tz::Asia::Shanghai;
    let in_range = |ts: i64| {
        let day = tz.timestamp_opt(ts, 0).unwrap().date_naive();
        day < NaiveDate::from_ymd_opt(2026, 10, 26).unwrap()
    };
    let weekly_names: Vec<&str> = org
        .templates
        .iter()
        .filter(|t| t.report_type == 3)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(weekly_names, ["周报", "周报"], "two templates of one name");
    let world = org.at(t.timestamp());
    let truth: BTreeMap<String, String> = world
        .journals()
        .filter(|j| in_range(j.report_time()))
        .map(|j| (j.uuid().to_string(), j.template_id().to_string()))
        .collect();
    // The case under test exists: a weekly journal whose detail has no template_id and whose
    // cycle no stat list holds at T.
    let needs_the_list = world
        .journals()
        .filter(|j| in_range(j.report_time()) && !j.life.serves_template_id)
        .filter(|j| {
            org.template(j.template_id())
                .is_some_and(|t| t.report_type == 3)
        })
        .filter(|j| {
            j.life
                .cycle
                .is_some_and(|c| org.cycles[c].summarised_at > t.timestamp())
        })
        .count();
    assert!(needs_the_list > 0, "no journal needs the record list");

    let dir = tempfile::tempdir().unwrap();
    let (job, out) = (dir.path().join("tpl.toml"), dir.path().join("out"));
    sim_job(
        &job,
        "tpl",
        &sim,
        ("2026-10-01", "2026-10-26"),
        "",
        &out,
        "formats = [\"parquet\"]\nreports = []",
    );
    let run = run_quiet(bin().args(["run", job.to_str().unwrap(), "--now", now]));
    let (_, stderr) = streams(&run);
    // Withdrawn journals listed in the range are gaps (exit 3); nothing else is.
    let withdrawn = world.withdrawn().any(|j| in_range(j.report_time()));
    assert_eq!(
        run.status.code(),
        Some(if withdrawn { 3 } else { 0 }),
        "{stderr}"
    );

    let journals = scan_dataset(&out, "journals");
    let uuids = journals.column("journal_uuid").unwrap().str().unwrap();
    let templates = journals.column("template_id").unwrap().str().unwrap();
    let got: BTreeMap<String, String> = uuids
        .iter()
        .zip(templates.iter())
        .map(|(u, t)| (u.unwrap().to_string(), t.unwrap_or("").to_string()))
        .collect();
    assert_eq!(got, truth, "every journal's true template");
    let manifest = files_under(&out.join("runs")).pop().unwrap();
    let manifest = std::fs::read_to_string(manifest).unwrap();
    assert!(!manifest.contains("no known template"), "{manifest}");
}
