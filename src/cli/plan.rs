//! `wecom-journal plan JOB`: the job's windows, calls per endpoint and ETA under its quotas,
//! printed as a table. No network call, and credentials need not resolve (only the job's shape
//! matters); reads the job's store only for the history of an earlier run.

use std::path::Path;

use crate::job::{self, LoadOptions, Plan, PlanHistory};

pub fn plan(path: &Path) -> u8 {
    let job = match job::load(
        path,
        &LoadOptions {
            skip_credentials: true,
            ..LoadOptions::default()
        },
    ) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("{e}");
            return super::exit::USAGE;
        }
    };
    let range = job.resolve_range(job.today());
    // TODO(lead): plan_history from store — if `<output.dir>/store.sqlite` exists, open it
    // read-only and pass `Store::plan_history()` here; without it the plan says "no history".
    let history: Option<PlanHistory> = None;
    let plan = Plan::build(&job, range, history.as_ref());
    print!("{plan}");
    super::exit::OK
}
