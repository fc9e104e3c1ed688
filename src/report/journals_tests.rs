//! The journal totals folded batch by batch give the reports the journal rows give, and hold
//! rows by day × template × person, not by journal. Oracle: plain Rust over the journal list.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tests::{d, f64s, item, journal, journals, stat_items, strs, u64s, Journal, SALES};
use super::*;

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn folded(items: &[super::tests::Item], batches: &[Vec<Journal>], merge_at: usize) -> ReportInputs {
    let mut totals = JournalTotals::merging_at(merge_at);
    for batch in batches {
        totals.add(&journals(batch)).unwrap();
    }
    ReportInputs::with_totals(stat_items(items).lazy(), totals).unwrap()
}

/// Read rate by (period, template) in plain Rust: each uuid counted once, its first row's
/// figures.
fn oracle_read_rate(
    batches: &[Vec<Journal>],
    period: Period,
) -> BTreeMap<(String, String), (u64, u64, u64)> {
    let mut seen = BTreeSet::new();
    let mut out: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for j in batches.iter().flatten() {
        if !seen.insert(j.uuid) {
            continue;
        }
        let c = out
            .entry((period_label(j.date, period), j.template.to_owned()))
            .or_default();
        c.0 += 1;
        c.1 += u64::from(j.receivers);
        c.2 += u64::from(j.reads);
    }
    out
}

fn arb_batches() -> impl Strategy<Value = Vec<Vec<Journal>>> {
    let row = (0usize..4, 0usize..2, 0i64..70, 0usize..4, 0u32..6, 0u32..6);
    proptest::collection::vec(proptest::collection::vec(row, 0..12), 0..6).prop_map(|batches| {
        let users = ["u1", "u2", "u3", "u4"];
        let templates = ["T1", "T2"];
        batches
            .into_iter()
            .enumerate()
            .map(|(b, rows)| {
                rows.into_iter()
                    .map(|(k, t, day, u, receivers, reads)| Journal {
                        // Repeats only within a batch, as a run's batches are distinct.
                        uuid: leak(format!("b{b}-j{k}")),
                        template: templates[t],
                        date: d("2026-09-20") + chrono::Duration::days(day),
                        user: users[u],
                        receivers,
                        reads: reads.min(receivers),
                    })
                    .collect()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn folded_batches_give_the_read_rate_and_summary_of_the_rows(
        batches in arb_batches(),
        merge_at in 1usize..20,
        period in prop_oneof![Just(Period::Day), Just(Period::Week), Just(Period::Month)],
    ) {
        let items = [item("T1", "2026-10-07", "u1", SALES, true, false)];
        let totals = folded(&items, &batches, merge_at);
        let out = build(ReportKind::ReadRateByTemplate, &totals, period).unwrap();
        let (periods, templates) = (strs(&out, "period"), strs(&out, "template_id"));
        let (js, receivers, reads) =
            (u64s(&out, "journals"), u64s(&out, "receivers"), u64s(&out, "reads"));
        let mut got = BTreeMap::new();
        for row in 0..out.height() {
            let key = (periods[row].clone().unwrap(), templates[row].clone().unwrap());
            got.insert(key, (js[row], receivers[row], reads[row]));
        }
        prop_assert_eq!(got.len(), out.height(), "duplicate groups");
        prop_assert_eq!(&got, &oracle_read_rate(&batches, period));
        let names = strs(&out, "template_name");
        for row in 0..out.height() {
            prop_assert_eq!(names[row].clone(), templates[row].clone().map(|t| format!("{t} 日报")));
        }
        let rates = f64s(&out, "read_rate");
        for row in 0..out.height() {
            let want = (receivers[row] > 0).then(|| reads[row] as f64 / receivers[row] as f64);
            prop_assert_eq!(rates[row], want);
        }
        // The same frame, to the row and the type, as from the rows stacked whole.
        let all: Vec<Journal> = batches.iter().flatten().cloned().collect();
        let rows = ReportInputs::from_frames(&stat_items(&items), &journals(&all));
        let from_rows = build(ReportKind::ReadRateByTemplate, &rows, period).unwrap();
        prop_assert!(out.equals_missing(&from_rows), "{out}\n{from_rows}");
        prop_assert_eq!(summary(&totals).unwrap(), summary(&rows).unwrap());
        // A uuid's first row is the journal: its submitter counts, a repeat's does not.
        let mut uuids = BTreeSet::new();
        let users: BTreeSet<&str> = all
            .iter()
            .filter(|j| uuids.insert(j.uuid))
            .map(|j| j.user)
            .chain(["u1"])
            .collect();
        prop_assert_eq!(summary(&totals).unwrap().users as usize, users.len());
    }
}

#[test]
fn the_totals_hold_rows_by_day_template_and_person_however_many_journals() {
    // 10 days × 2 templates × 4 users = 80 groups; 4,000 journals in 40 batches.
    let (users, templates) = (["u1", "u2", "u3", "u4"], ["T1", "T2"]);
    let mut totals = JournalTotals::merging_at(50);
    let mut most_held = 0;
    for b in 0..40 {
        let batch: Vec<Journal> = (0..100)
            .map(|k| {
                let date = format!("2026-10-{:02}", 1 + k % 10);
                let j = journal("", templates[k % 2], &date, users[(k / 2) % 4], 3, 1);
                Journal {
                    uuid: leak(format!("b{b}-j{k}")),
                    ..j
                }
            })
            .collect();
        totals.add(&journals(&batch)).unwrap();
        most_held = most_held.max(totals.held_rows());
    }
    // At most twice the merged groups piled up, plus one batch's partials.
    assert!(most_held <= 3 * 80, "held {most_held} rows");
    let inputs = ReportInputs::with_totals(stat_items(&[]).lazy(), totals).unwrap();
    let s = summary(&inputs).unwrap();
    assert_eq!((s.journals, s.receivers, s.reads), (4_000, 12_000, 4_000));
    assert_eq!((s.users, s.templates), (4, 2));
    let out = build(ReportKind::ReadRateByTemplate, &inputs, Period::Month).unwrap();
    assert_eq!(u64s(&out, "journals"), [2_000, 2_000]);
}

#[test]
fn no_batch_gives_empty_reports_with_their_columns() {
    let inputs = ReportInputs::with_totals(stat_items(&[]).lazy(), JournalTotals::new()).unwrap();
    let out = build(ReportKind::ReadRateByTemplate, &inputs, Period::Week).unwrap();
    assert_eq!(out.height(), 0);
    assert_eq!(out.width(), 7);
    let s = summary(&inputs).unwrap();
    assert_eq!((s.journals, s.receivers, s.read_rate), (0, 0, None));
}
