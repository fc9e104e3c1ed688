//! `wecom-journal validate JOB…`: parses and checks each job file as a run would (every
//! `${VAR}` must resolve, a `csv:` directory must read), warnings said. Prints `ok: <path> (<name>)` per good file; on the first bad one
//! prints `file:line:col: message` (and a hint) to stderr and exits 2. Touches nothing but the
//! files read.

use std::path::PathBuf;

use super::exit;
use super::load::{load_job, Files};
use super::out::outln;
use crate::job::LoadOptions;

pub(crate) fn validate(jobs: &[PathBuf]) -> u8 {
    for path in jobs {
        match load_job(path, &LoadOptions::default(), Files::Check) {
            Ok(job) => outln!("ok: {} ({})", path.display(), job.name),
            Err(code) => return code,
        }
    }
    exit::OK
}
