//! `plan` as the pipeline runs it: the job's plan, scaled by the history an earlier run left in
//! the job's store, if any. The store is opened read-only and never created; one that cannot be
//! read is reported and planned without (a plan is advice; the run that follows will say what
//! is wrong with the store).

use std::path::Path;

use crate::job::{DateRange, Job, Plan, PlanHistory};
use crate::store::{ListingHistory, Store, StoreError};

/// A job's plan, and why the store in its output directory was not used, if it was unreadable.
#[derive(Debug)]
pub struct PlannedJob {
    /// Its first note says where the estimate's basis came from.
    pub plan: Plan,
    pub store_unreadable: Option<anyhow::Error>,
}

/// Plans `range` of `job`, with the history of the store in `output_dir`.
pub fn plan(job: &Job, range: DateRange, output_dir: &Path) -> PlannedJob {
    let path = super::store_file(job, output_dir);
    let shown = path.display();
    let read = Store::open_read_only(&path).and_then(|store| match store {
        Some(store) => history_of(&store),
        None => Ok(None),
    });
    let (history, note, store_unreadable) = match read {
        Ok(Some(history)) => (
            Some(history),
            format!("history used: the earlier runs in the store {shown}"),
            None,
        ),
        Ok(None) if path.exists() => (
            None,
            format!("store {shown}: no record window paged to the end yet"),
            None,
        ),
        Ok(None) => (
            None,
            format!("store {shown}: none (run the job once, or pass --output DIR)"),
            None,
        ),
        Err(e) => {
            let note = format!("store {shown}: not readable ({e})");
            let problem = anyhow::Error::from(e).context("planning without history");
            (None, note, Some(problem))
        }
    };
    let mut plan = Plan::build(job, range, history.as_ref());
    plan.notes.insert(0, note);
    PlannedJob {
        plan,
        store_unreadable,
    }
}

/// What the store recorded of earlier listings, as the planner's history: the one place the
/// store's facts meet the planner's type (the store knows no planner type, the planner no
/// store).
fn history_of(store: &Store) -> Result<Option<PlanHistory>, StoreError> {
    Ok(store
        .plan_history()?
        .map(|listed: ListingHistory| PlanHistory {
            days: listed.days,
            journals: listed.journals,
            templates: listed.templates,
            departments: listed.departments,
            wedrive_files: listed.wedrive_files,
        }))
}
