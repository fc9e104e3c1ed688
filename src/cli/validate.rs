//! `wecom-journal validate JOB…`: parses and checks each job file as a run would (every
//! `${VAR}` must resolve). Prints `ok: <path> (<name>)` per good file; on the first bad one
//! prints `file:line:col: message` to stderr and exits 2. Touches nothing but the files read.

use std::path::PathBuf;

use crate::job::{self, LoadOptions};

pub fn validate(jobs: &[PathBuf]) -> u8 {
    for path in jobs {
        match job::load(path, &LoadOptions::default()) {
            Ok(job) => println!("ok: {} ({})", path.display(), job.name),
            Err(e) => {
                eprintln!("{e}");
                return super::exit::USAGE;
            }
        }
    }
    super::exit::OK
}
