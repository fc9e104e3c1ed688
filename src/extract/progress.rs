//! Progress of the extraction stages: an indicatif bar per stage (count and rate) when stderr
//! is a terminal, plain `tracing` info lines otherwise (cron, CI, Airflow logs).

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a stage logs a line when there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct StageProgress {
    stage: &'static str,
    unit: &'static str,
    bar: Option<ProgressBar>,
    done: u64,
    total: Option<u64>,
    started: Instant,
    last_log: Instant,
}

impl StageProgress {
    pub(crate) fn new(
        stage: &'static str,
        unit: &'static str,
        total: Option<u64>,
        terminal: bool,
    ) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({per_sec}, {elapsed})"
            } else {
                "{prefix:>10} {spinner} {pos} {msg} ({per_sec}, {elapsed})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(stage);
            bar.set_message(unit);
            bar
        });
        if bar.is_none() {
            match total {
                Some(total) => tracing::info!(stage, total, "{stage}: starting ({total} {unit})"),
                None => tracing::info!(stage, "{stage}: starting"),
            }
        }
        let now = Instant::now();
        StageProgress {
            stage,
            unit,
            bar,
            done: 0,
            total,
            started: now,
            last_log: now,
        }
    }

    pub(crate) fn inc_length(&mut self, n: u64) {
        self.total = Some(self.total.unwrap_or(0) + n);
        if let Some(bar) = &self.bar {
            bar.inc_length(n);
        }
    }

    pub(crate) fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                let (stage, unit, done) = (self.stage, self.unit, self.done);
                match self.total {
                    Some(total) => tracing::info!(
                        stage,
                        done,
                        total,
                        "{stage}: {done}/{total} {unit} ({rate:.1}/s)"
                    ),
                    None => tracing::info!(stage, done, "{stage}: {done} {unit} ({rate:.1}/s)"),
                }
            }
            None => {}
        }
    }

    /// Ends the stage with a summary line.
    pub(crate) fn finish(self, summary: &str) {
        let elapsed = self.started.elapsed();
        match &self.bar {
            Some(bar) => bar.finish_with_message(format!("{} {}", self.unit, summary)),
            None => tracing::info!(
                stage = self.stage,
                done = self.done,
                elapsed_ms = elapsed.as_millis() as u64,
                "{}: done, {} {} in {:.1} s{}{}",
                self.stage,
                self.done,
                self.unit,
                elapsed.as_secs_f64(),
                if summary.is_empty() { "" } else { ", " },
                summary
            ),
        }
    }
}
