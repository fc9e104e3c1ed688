//! `wecom-journal plan JOB [--output DIR] [--format text|json]`: the job's windows, calls per
//! endpoint and ETA under its quotas. No network call, and credentials need not resolve (only
//! the job's shape matters). Reads the job's store, if an earlier run left one, for the history
//! the estimate scales; opens it read-only and never creates one.

use std::path::{Path, PathBuf};

use super::PlanFormat;
use crate::job::{self, LoadOptions, Plan, PlanHistory};
use crate::store::{store_path, ListingHistory, Store};

pub fn plan(path: &Path, output: Option<PathBuf>, format: PlanFormat) -> u8 {
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
    let store = store_path(output.as_deref().unwrap_or(&job.output.dir));
    let (history, source) = read_history(&store);
    let mut plan = Plan::build(&job, range, history.as_ref());
    plan.notes.insert(0, source);
    match format {
        PlanFormat::Text => print!("{plan}"),
        PlanFormat::Json => match serde_json::to_string_pretty(&plan) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: encoding the plan as JSON: {e}");
                return super::exit::FAILED;
            }
        },
    }
    super::exit::OK
}

/// The history in the store at `path`, if any, and a note saying where the estimate's basis
/// came from. A store that cannot be read is reported and planned without (a plan is advice;
/// the run that follows will say what is wrong with the store).
fn read_history(path: &Path) -> (Option<PlanHistory>, String) {
    let shown = path.display();
    let read = Store::open_read_only(path).and_then(|store| match store {
        Some(store) => store.plan_history().map(|listed| listed.map(plan_history)),
        None => Ok(None),
    });
    match read {
        Ok(Some(history)) => (
            Some(history),
            format!("history used: the earlier runs in the store {shown}"),
        ),
        Ok(None) if path.exists() => (
            None,
            format!("store {shown}: no record window paged to the end yet"),
        ),
        Ok(None) => (
            None,
            format!("store {shown}: none (run the job once, or pass --output DIR)"),
        ),
        Err(e) => {
            eprintln!("warning: {e}; planning without history");
            (None, format!("store {shown}: not readable ({e})"))
        }
    }
}

/// The store's facts of earlier listings as the planner's history: the same facts, since the
/// store knows no planner type and the planner no store.
fn plan_history(listed: ListingHistory) -> PlanHistory {
    PlanHistory {
        days: listed.days,
        journals: listed.journals,
        templates: listed.templates,
        departments: listed.departments,
        wedrive_files: listed.wedrive_files,
    }
}
