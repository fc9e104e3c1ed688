//! The bench's Markdown tables: medians, ratios to DuckDB, `rebuild`'s stage times.

use std::collections::BTreeMap;

use crate::child::Sample;
use crate::Case;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k == 0 {
        f64::NAN
    } else if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

fn secs(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.wall.as_secs_f64()).collect()
}

fn peaks_mib(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.peak_kib as f64 / 1024.0).collect()
}

fn spread(v: &[f64], digits: usize) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.digits$}–{hi:.digits$}")
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) type Results = BTreeMap<(u64, Case), Vec<Sample>>;

pub(crate) fn print_tables(results: &Results) {
    println!();
    println!("| journals | what | wall, median (range) | CPU (user + sys), median | peak RSS, median (range) | load, I/O pressure before each run |");
    println!("|---:|---|---:|---:|---:|---|");
    for ((n, case), samples) in results {
        let loads: Vec<String> = samples
            .iter()
            .map(|s| format!("{:.1} / {:.0} %", s.load, s.io_pressure))
            .collect();
        println!(
            "| {} | {} | {:.2} s ({} s) | {:.1} s | {:.0} MiB ({} MiB) | {} |",
            thousands(*n),
            case.describe(),
            median(secs(samples)),
            spread(&secs(samples), 2),
            median(samples.iter().map(|s| s.cpu.as_secs_f64()).collect()),
            median(peaks_mib(samples)),
            spread(&peaks_mib(samples), 0),
            loads.join(", "),
        );
    }

    let mut sizes: Vec<u64> = results.keys().map(|(n, _)| *n).collect();
    sizes.dedup();
    println!();
    println!("| journals | case | DuckDB's time ÷ ours (goal ≥ 3) | DuckDB's CPU ÷ ours | our peak RSS ÷ DuckDB's (goal ≤ 0.2) |");
    println!("|---:|---|---:|---:|---:|");
    for n in &sizes {
        let Some(duck) = results.get(&(*n, Case::DuckDb)) else {
            continue;
        };
        for case in [Case::Parquet, Case::All] {
            let Some(ours) = results.get(&(*n, case)) else {
                continue;
            };
            let cpu = |v: &[Sample]| median(v.iter().map(|s| s.cpu.as_secs_f64()).collect());
            println!(
                "| {} | {} | {:.2} | {:.2} | {:.2} |",
                thousands(*n),
                case.describe(),
                median(secs(duck)) / median(secs(ours)),
                cpu(duck) / cpu(ours),
                median(peaks_mib(ours)) / median(peaks_mib(duck)),
            );
        }
    }

    println!();
    println!("Stage times of `rebuild` (manifest `durations_ms`, medians; `flatten` includes reading and decoding the store on a second thread and writing each batch):");
    println!();
    println!("| journals | case | flatten | sink_tables | report | workbook | rows written |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    for ((n, case), samples) in results {
        if *case == Case::DuckDb {
            continue;
        }
        let stage = |name: &str| -> String {
            if samples.iter().all(|s| !s.stages_ms.contains_key(name)) {
                return "—".into();
            }
            let v: Vec<f64> = samples
                .iter()
                .map(|s| s.stages_ms.get(name).copied().unwrap_or(0) as f64 / 1000.0)
                .collect();
            format!("{:.2} s", median(v))
        };
        let rows = samples.first().map(|s| &s.rows);
        let rows = ["journals", "journal_controls", "journal_comments"]
            .iter()
            .filter_map(|t| Some(format!("{t} {}", thousands(*rows?.get(*t)?))))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "| {} | {} | {} | {} | {} | {} | {rows} |",
            thousands(*n),
            case.describe(),
            stage("flatten"),
            stage("sink_tables"),
            stage("report"),
            stage("workbook"),
        );
    }
    for ((n, case), samples) in results {
        if *case != Case::DuckDb {
            continue;
        }
        let s = &samples[0];
        let version = s.stages_ms.keys().next().cloned().unwrap_or_default();
        let process: Vec<f64> = samples
            .iter()
            .map(|s| s.process_wall.as_secs_f64())
            .collect();
        println!(
            "\n{version} at {}: rows {:?}; whole process (Python start-up and import included) {:.2} s median",
            thousands(*n),
            s.rows,
            median(process)
        );
    }
}
