//! Standard output as a pipe's reader may close it: `wecom-journal plan JOB | head` ends when
//! `head` has its lines, so a write that finds the pipe closed (`EPIPE`) is not an error — the
//! rest of the output is dropped and the command ends with its own exit code. Any other write
//! error (a full disk under a redirect) is said once on standard error.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output cannot be written to: nothing more is tried.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output, unless it is closed.
pub(crate) fn print(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            super::report::error(&anyhow::Error::from(e).context("writing to standard output"));
        }
    }
}

/// `println!` that a closed pipe does not break ([`print`]).
macro_rules! outln {
    () => {
        $crate::cli::out::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::out::print(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that a closed pipe does not break ([`print`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::print(&format!($($arg)*))
    };
}

pub(crate) use {out, outln};
