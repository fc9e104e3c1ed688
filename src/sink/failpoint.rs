//! Failpoints for the kill tests: with `WECOM_JOURNAL_FAILPOINT=sink:<kind>` in its environment
//! (`<kind>` one of `parquet`, `csv`, `arrow`, `xlsx`, `manifest`), the process stops itself
//! (SIGSTOP, every thread at once) the first time a file of that kind is written whole under its
//! temporary name but not yet renamed, so that a test can SIGKILL it exactly there and check
//! that the next run ends with the same outputs. Unset (always, outside those tests), a
//! failpoint costs one comparison.

use std::sync::OnceLock;

/// The environment variable that names the failpoint to stop at.
pub(crate) const FAILPOINT_ENV: &str = "WECOM_JOURNAL_FAILPOINT";

/// Stops the process if `point` is the failpoint its environment names (once).
pub(crate) fn reached(point: &str) {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    let wanted = WANTED.get_or_init(|| std::env::var(FAILPOINT_ENV).ok());
    if wanted.as_deref() != Some(point) {
        return;
    }
    static STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if STOPPED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    tracing::warn!(failpoint = point, "failpoint reached: stopping the process");
    stop_self();
}

#[cfg(unix)]
fn stop_self() {
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGSTOP);
}

#[cfg(not(unix))]
fn stop_self() {
    std::process::abort();
}
