//! The `runs` table: each run's job, range, start, end, status, error and manifest, and which
//! earlier run a new one resumes. [`RunStatus`] is the one set of statuses a run can have, in
//! the store and in the run's manifest alike.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{Result, SqlContext, Store, StoreError};

/// How a run stands: the `status` of its `runs` row and of its manifest (README, "Scheduling").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: in progress, or killed (SIGKILL, a crash, a power loss). A
    /// `running` row whose run holds no lock on the output directory is a killed run, which
    /// the next run of the same job and range resumes.
    Running,
    Succeeded,
    /// Finished, but some data could not be read (each named in the manifest's gaps); exit 3.
    FinishedWithGaps,
    /// Stopped by an error (recorded with it); exit 1. Never resumed.
    Failed,
    /// Stopped by SIGTERM or SIGINT after letting its calls in flight finish; exit 143 or 130.
    /// The next run of the same job and range resumes it.
    Interrupted,
    /// A killed or interrupted run that a later run of the same job and range resumed, and
    /// which that run has since finished (succeeded, with gaps, or failed).
    Superseded,
}

impl RunStatus {
    pub(crate) const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::FinishedWithGaps,
        RunStatus::Failed,
        RunStatus::Interrupted,
        RunStatus::Superseded,
    ];

    /// The name in the store and in manifests.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::FinishedWithGaps => "finished_with_gaps",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Superseded => "superseded",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a later run of the same job and range takes this one's work over (and its
    /// as-of time): a killed or interrupted run.
    pub(crate) fn is_resumable(self) -> bool {
        matches!(self, RunStatus::Running | RunStatus::Interrupted)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row of the `runs` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub(crate) run_id: String,
    pub(crate) job: String,
    /// The resolved range, `YYYY-MM-DD..YYYY-MM-DD` (end exclusive).
    pub(crate) range: String,
    pub(crate) started_at: i64,
    pub(crate) finished_at: Option<i64>,
    pub status: RunStatus,
    /// Why a `failed` run failed, or what stopped an interrupted one.
    pub error: Option<String>,
    pub(crate) manifest: Option<String>,
}

/// How a run ended, as [`Store::finish_run`] records it.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    pub status: RunStatus,
    pub finished_at: i64,
    pub error: Option<&'a str>,
    pub manifest: Option<&'a str>,
}

/// The statuses a run resumes from, as SQL (see [`RunStatus::is_resumable`]).
const RESUMABLE: &str = "('running', 'interrupted')";

impl Store {
    /// Records the start of a run and gives its as-of time: the start of the oldest killed or
    /// interrupted run of the same job and range (which this one resumes), else `started_at`.
    /// Idempotent for the same `run_id`. Only the holder of the output directory's run lock
    /// calls it, so a `running` row of another run is one that was killed.
    pub(crate) fn start_run(
        &self,
        run_id: &str,
        job: &str,
        range: &str,
        started_at: i64,
    ) -> Result<i64> {
        let what = format!("recording the start of run {run_id}");
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what.clone())?;
        tx.execute(
            "INSERT OR IGNORE INTO runs (run_id, job, range, started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')",
            params![run_id, job, range, started_at],
        )
        .ctx(what.clone())?;
        let as_of: Option<i64> = tx
            .query_row(
                &format!(
                    "SELECT min(started_at) FROM runs WHERE job = ?1 AND range = ?2 AND status IN {RESUMABLE}"
                ),
                params![job, range],
                |r| r.get(0),
            )
            .ctx(what.clone())?;
        tx.commit().ctx(what)?;
        Ok(as_of.unwrap_or(started_at).min(started_at))
    }

    /// Records how a run ended. A run that finished (succeeded, with gaps, or failed) closes
    /// the killed and interrupted runs of the same job and range it resumed: they become
    /// `superseded`. An interrupted run leaves them for the run that resumes it.
    pub fn finish_run(&self, run_id: &str, end: &RunEnd<'_>) -> Result<()> {
        let what = format!("recording the end of run {run_id}");
        if end.status == RunStatus::Running || end.status == RunStatus::Superseded {
            return Err(StoreError::Invalid(format!(
                "run {run_id} cannot end as {}",
                end.status
            )));
        }
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what.clone())?;
        let key: Option<(String, String)> = tx
            .query_row(
                "SELECT job, range FROM runs WHERE run_id = ?1",
                [run_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx(what.clone())?;
        let Some((job, range)) = key else {
            return Err(StoreError::Invalid(format!(
                "run {run_id} was never started in this store"
            )));
        };
        if end.status != RunStatus::Interrupted {
            tx.execute(
                &format!(
                    "UPDATE runs SET status = 'superseded' WHERE job = ?1 AND range = ?2 AND status IN {RESUMABLE} AND run_id <> ?3"
                ),
                params![job, range, run_id],
            )
            .ctx(what.clone())?;
        }
        tx.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4, manifest = ?5 WHERE run_id = ?1",
            params![
                run_id,
                end.status.as_str(),
                end.finished_at,
                end.error,
                end.manifest
            ],
        )
        .ctx(what.clone())?;
        tx.commit().ctx(what)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        let what = "listing runs";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT run_id, job, range, started_at, finished_at, status, error, manifest FROM runs
                 ORDER BY started_at, run_id",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                let status: String = r.get(5)?;
                Ok((
                    RunRecord {
                        run_id: r.get(0)?,
                        job: r.get(1)?,
                        range: r.get(2)?,
                        started_at: r.get(3)?,
                        finished_at: r.get(4)?,
                        status: RunStatus::Running,
                        error: r.get(6)?,
                        manifest: r.get(7)?,
                    },
                    status,
                ))
            })
            .ctx(what)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut record, status) = row.ctx(what)?;
            record.status = RunStatus::parse(&status).ok_or_else(|| {
                StoreError::Invalid(format!("run {}: unknown status {status:?}", record.run_id))
            })?;
            out.push(record);
        }
        Ok(out)
    }
}
