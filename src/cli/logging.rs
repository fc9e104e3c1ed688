//! Logging on standard error, clean for machines: colour only for a terminal (and never under
//! `NO_COLOR`), one JSON object a line under `--log-format json` — the printer's errors,
//! warnings and gaps ([`super::report`]) included — and `--quiet` for warnings and errors only.
//! Progress bars are drawn only for a terminal in the text format ([`progress_bars`]).

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use super::LogFormat;

/// The environment variable holding a log filter (`info`, `warn`, `wecom_journal=debug` …).
pub(crate) const LOG_ENV: &str = "WECOM_JOURNAL_LOG";

/// How standard error is written, fixed once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    pub(crate) format: LogFormat,
    pub(crate) quiet: bool,
    /// Standard error is a terminal.
    pub(crate) terminal: bool,
}

static STYLE: OnceLock<Style> = OnceLock::new();

/// The style [`init`] fixed (text, not quiet, no terminal before it).
pub(crate) fn style() -> Style {
    STYLE.get().copied().unwrap_or(Style {
        format: LogFormat::Text,
        quiet: false,
        terminal: false,
    })
}

/// Whether a run draws progress bars: for a person at a terminal, in the text format, not
/// `--quiet`.
pub(crate) fn progress_bars() -> bool {
    let style = style();
    style.terminal && style.format == LogFormat::Text && !style.quiet
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, as no-color.org says).
fn no_color(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Installs the subscriber; an invalid `WECOM_JOURNAL_LOG` is said (as a warning) and the
/// default level used.
pub(crate) fn init(format: LogFormat, quiet: bool) {
    let terminal = std::io::stderr().is_terminal();
    let _ = STYLE.set(Style {
        format,
        quiet,
        terminal,
    });
    let default = if quiet { "warn" } else { "info" };
    let (filter, invalid) = match std::env::var(LOG_ENV) {
        Err(_) => (EnvFilter::new(default), None),
        Ok(text) => match EnvFilter::try_new(&text) {
            // `--quiet` is asked for this once: it outranks the environment's level.
            Ok(_) if quiet => (EnvFilter::new(default), None),
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new(default), Some((text, e))),
        },
    };
    let ansi = terminal && !no_color(std::env::var_os("NO_COLOR"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Some((text, e)) = invalid {
        super::report::warning(&anyhow::anyhow!(
            "{LOG_ENV}={text:?} is not a log filter ({e}); logging at `{default}`"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_is_set_and_not_empty() {
        assert!(no_color(Some("1".into())));
        assert!(!no_color(Some("".into())));
        assert!(!no_color(None));
    }
}
