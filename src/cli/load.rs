//! Loading a job file as every command does: parse it, say its warnings, and (for the commands
//! that read what it names) check those files before any call ([`pipeline::preflight`]). A bad
//! job is printed as `file:line:col: message` and gives exit 2.

use std::path::Path;

use super::{exit, report};
use crate::job::{self, Job, LoadOptions};
use crate::pipeline;

/// Whether a command reads the files a job names (the `csv:` directory) and so checks them
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Files {
    Check,
    Skip,
}

/// Loads the job at `path`, printing its warnings; a bad job is printed and gives
/// `Err(exit::USAGE)`.
pub(crate) fn load_job(path: &Path, options: &LoadOptions, files: Files) -> Result<Job, u8> {
    let loaded = job::load_located(path, options).map_err(|e| {
        report::error(&e.into());
        exit::USAGE
    })?;
    for warning in &loaded.warnings {
        report::warning(&anyhow::Error::from(warning.clone()));
    }
    if files == Files::Check {
        pipeline::preflight(&loaded).map_err(|e| {
            report::error(&e.into());
            exit::USAGE
        })?;
    }
    Ok(loaded.job)
}
