//! Fuzzing the wire: arbitrary and mutated API responses fed to the decoders and to the
//! flatten step, which must answer each with a value or an error, never a panic (and keep the
//! promises checked in [`targets`]). See docs/fuzzing.md for the figures of the long run.
//!
//! `cargo test` runs a short, fixed number of inputs (the same ones every time). The long run:
//!
//! ```text
//! nice -n 19 cargo test --test fuzz_wire -- --inputs 10000000
//! ```
//!
//! Options: `--inputs N` (default 60,000), `--seed S` (default 1; input `i` depends on `S`
//! and `i` only), `--start I` (first input number), `--batch B` (inputs flattened together,
//! default 64), `--progress N` (a line every N inputs). Every fixture of tests/fixtures/fuzz
//! is replayed first. An input that panics (or breaks a promise) is written to
//! `target/fuzz_wire/crashes/` with its number, and the run exits 1.

mod mutate;
mod rng;
mod seeds;
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono_tz::Tz;

use rng::Rng;
use seeds::{Kind, Seed};
use targets::{Decoded, Outcomes};
use wecom_journal::flatten::Directory;

struct Options {
    inputs: u64,
    seed: u64,
    start: u64,
    batch: usize,
    progress: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        inputs: 60_000,
        seed: 1,
        start: 0,
        batch: 64,
        progress: 1_000_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{name} needs a number"))?;
            v.replace('_', "")
                .parse()
                .map_err(|_| format!("{name}: {v:?} is not a number"))
        };
        match arg.as_str() {
            "--inputs" => o.inputs = number("--inputs")?,
            "--seed" => o.seed = number("--seed")?,
            "--start" => o.start = number("--start")?,
            "--batch" => o.batch = number("--batch")?.max(1) as usize,
            "--progress" => o.progress = number("--progress")?.max(1),
            // What cargo's test runner may pass along (`--nocapture`, a filter): not ours.
            _ => {}
        }
    }
    Ok(o)
}

/// Time zones the batches are flattened in, in turn: the default, UTC, the extremes of the
/// offsets, and one with summer time.
const ZONES: [Tz; 5] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::UTC,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Pacific::Pago_Pago,
    chrono_tz::Europe::Berlin,
];

/// One input and where it came from.
struct Input {
    number: Option<u64>,
    origin: String,
    kind: Kind,
    bytes: Vec<u8>,
}

/// Panics are caught per input; the hook keeps their message (and where) instead of printing.
fn quiet_panics() -> Arc<Mutex<Option<String>>> {
    let last = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&last);
    panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *keep.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{message}{at}"));
    }));
    last
}

struct Run {
    base: Directory,
    last_panic: Arc<Mutex<Option<String>>>,
    crashes: PathBuf,
    findings: Vec<String>,
    outcomes: Outcomes,
}

impl Run {
    fn finding(&mut self, what: &str, input: &Input, message: String) {
        let name = match input.number {
            Some(n) => format!("{}-{n}.json", input.kind.name()),
            None => format!("replay-{}", sanitize(&input.origin)),
        };
        let path = self.crashes.join(name);
        let saved = std::fs::create_dir_all(&self.crashes)
            .and_then(|()| std::fs::write(&path, &input.bytes));
        let saved = match saved {
            Ok(()) => format!("saved as {}", path.display()),
            Err(e) => format!("not saved ({e})"),
        };
        let line = format!(
            "{what}: input {} (from {}): {message}; {saved}",
            input.number.map_or("-".into(), |n| n.to_string()),
            input.origin
        );
        eprintln!("{line}");
        self.findings.push(line);
    }

    fn take_panic(&self) -> String {
        self.last_panic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| "a panic".into())
    }

    /// Decodes one input; what decoded is kept for the batch.
    fn decode(&mut self, input: &Input, all: bool) -> Decoded {
        let mut keep = Decoded::default();
        let mut out = self.outcomes;
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            targets::decode_input(input.kind, &input.bytes, all, &mut out, &mut keep)
        }));
        self.outcomes = out;
        match result {
            Ok(Ok(())) => keep,
            Ok(Err(broken)) => {
                self.finding("broken promise", input, broken.0);
                Decoded::default()
            }
            Err(_) => {
                let message = self.take_panic();
                self.finding("panic in a decoder", input, message);
                Decoded::default()
            }
        }
    }

    /// Flattens a batch; when it panics, each of its inputs alone, to name the culprits.
    fn flatten(&mut self, batch: &[(Input, Decoded)], tz: Tz) {
        let decoded: Vec<&Decoded> = batch.iter().map(|(_, d)| d).collect();
        if self.flatten_decoded(&decoded, tz).is_ok() {
            return;
        }
        for (input, d) in batch {
            if let Err(message) = self.flatten_decoded(&[d], tz) {
                self.finding("panic or broken promise in flatten", input, message);
            }
        }
    }

    fn flatten_decoded(&mut self, batch: &[&Decoded], tz: Tz) -> Result<(), String> {
        let owned: Vec<Decoded> = batch
            .iter()
            .map(|d| Decoded {
                details: d.details.clone(),
                cycles: d.cycles.clone(),
                departments: d.departments.clone(),
                users: d.users.clone(),
            })
            .collect();
        let mut out = self.outcomes;
        let base = &self.base;
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            targets::flatten_batch(&owned, base, tz, &mut out)
        }));
        match result {
            Ok(Ok(())) => {
                self.outcomes = out;
                Ok(())
            }
            Ok(Err(broken)) => Err(broken.0),
            Err(_) => Err(self.take_panic()),
        }
    }
}

fn sanitize(origin: &str) -> String {
    Path::new(origin)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into())
}

/// Every regression fixture (any bytes), fed to every decoder and then flattened alone.
fn replay_regressions(run: &mut Run, dir: &Path) -> usize {
    let files = seeds::json_files(dir);
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let name = sanitize(&path.display().to_string());
        let input = Input {
            number: None,
            origin: path.display().to_string(),
            kind: Kind::of_file(&name),
            bytes,
        };
        let decoded = run.decode(&input, true);
        for tz in ZONES {
            if let Err(message) = run.flatten_decoded(&[&decoded], tz) {
                run.finding("regression fails in flatten", &input, message);
            }
        }
    }
    files.len()
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz_wire: {e}");
            std::process::exit(2);
        }
    };
    let sources = seeds::Sources::of_repository();
    let pool: Vec<Seed> = seeds::load(&sources);
    let mut run = Run {
        base: seeds::simulator_directory(),
        last_panic: quiet_panics(),
        crashes: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz_wire/crashes"),
        findings: vec![],
        outcomes: Outcomes::default(),
    };
    let regressions = replay_regressions(&mut run, &sources.regressions);
    println!(
        "fuzz_wire: {} seeds ({} from the real API examples at {}), {regressions} regressions replayed; \
         inputs {}..{} of seed {}",
        pool.len(),
        pool.iter()
            .filter(|s| sources
                .api_examples
                .as_ref()
                .is_some_and(|a| s.origin.starts_with(&*a.to_string_lossy())))
            .count(),
        sources
            .api_examples
            .as_ref()
            .map_or("(none found)".into(), |p| p.display().to_string()),
        o.start,
        o.start + o.inputs,
        o.seed
    );

    let started = Instant::now();
    let mut batch: Vec<(Input, Decoded)> = Vec::with_capacity(o.batch);
    let mut batches = 0usize;
    for number in o.start..o.start + o.inputs {
        let mut rng = Rng::for_input(o.seed, number);
        let seed = rng.pick(&pool);
        let input = Input {
            number: Some(number),
            origin: seed.origin.clone(),
            kind: seed.kind,
            bytes: mutate::input(seed, &mut rng, &pool),
        };
        let decoded = run.decode(&input, rng.one_in(8));
        batch.push((input, decoded));
        if batch.len() == o.batch {
            run.flatten(&batch, ZONES[batches % ZONES.len()]);
            batches += 1;
            batch.clear();
        }
        let done = number + 1 - o.start;
        if done % o.progress == 0 {
            let s = started.elapsed().as_secs_f64();
            println!(
                "fuzz_wire: {done} inputs in {s:.0} s ({:.0}/s), {} findings",
                done as f64 / s,
                run.findings.len()
            );
        }
    }
    if !batch.is_empty() {
        run.flatten(&batch, ZONES[batches % ZONES.len()]);
    }
    let s = started.elapsed().as_secs_f64();
    let c = run.outcomes;
    println!(
        "fuzz_wire: {} inputs in {s:.1} s ({:.0}/s): {} not UTF-8, {} not an envelope, {} API errors, \
         {} values decoded, {} decode errors, {} flatten batches, {} flatten errors",
        o.inputs,
        o.inputs as f64 / s.max(1e-9),
        c.not_utf8,
        c.envelope_errors,
        c.api_errors,
        c.decoded,
        c.decode_errors,
        c.flatten_batches,
        c.flatten_errors
    );
    let failed = run.findings.len();
    println!(
        "fuzz_wire: {} passed, {failed} failed",
        o.inputs + regressions as u64 - failed as u64
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
