//! `wecom-journal validate JOB…`: parses and checks each job file as a run would (every
//! `${VAR}` must resolve). Prints `ok: <path> (<name>)` per good file; on the first bad one
//! prints `file:line:col: message` (and a hint) to stderr and exits 2. Touches nothing but the
//! files read.

use std::path::PathBuf;

use super::{exit, report};
use crate::job::{self, LoadOptions};

pub fn validate(jobs: &[PathBuf]) -> u8 {
    for path in jobs {
        match job::load(path, &LoadOptions::default()) {
            Ok(job) => println!("ok: {} ({})", path.display(), job.name),
            Err(e) => {
                report::error(&e.into());
                return exit::USAGE;
            }
        }
    }
    exit::OK
}
