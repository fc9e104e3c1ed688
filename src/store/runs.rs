//! The `runs` table: each run's job, range, start, end, status and manifest, and which
//! unfinished run a new one resumes.

use rusqlite::{params, OptionalExtension};

use super::{Result, SqlContext, Store, StoreError};

/// A row of the `runs` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run_id: String,
    pub job: String,
    /// The resolved range, `YYYY-MM-DD..YYYY-MM-DD` (end exclusive).
    pub range: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `running` until finished; then `ok`, `gaps`, `failed`, or `interrupted` for a run that
    /// was killed and resumed by a later one.
    pub status: String,
    pub manifest: Option<String>,
}

impl Store {
    /// Records the start of a run and gives its as-of time: the start of the oldest unfinished
    /// run of the same job and range (the one a killed run left behind, which this one resumes),
    /// else `started_at`. Idempotent for the same `run_id`.
    pub fn start_run(&self, run_id: &str, job: &str, range: &str, started_at: i64) -> Result<i64> {
        let what = format!("recording the start of run {run_id}");
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what.clone())?;
        tx.execute(
            "INSERT OR IGNORE INTO runs (run_id, job, range, started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')",
            params![run_id, job, range, started_at],
        )
        .ctx(what.clone())?;
        let as_of: Option<i64> = tx
            .query_row(
                "SELECT min(started_at) FROM runs WHERE job = ?1 AND range = ?2 AND status = 'running'",
                params![job, range],
                |r| r.get(0),
            )
            .ctx(what.clone())?;
        tx.commit().ctx(what)?;
        Ok(as_of.unwrap_or(started_at).min(started_at))
    }

    /// Records how a run ended (`ok`, `gaps`, `failed`) with its manifest; unfinished runs of
    /// the same job and range that it resumed become `interrupted`.
    pub fn finish_run(
        &self,
        run_id: &str,
        status: &str,
        finished_at: i64,
        manifest: Option<&str>,
    ) -> Result<()> {
        let what = format!("recording the end of run {run_id}");
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(what.clone())?;
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
        tx.execute(
            "UPDATE runs SET status = 'interrupted' WHERE job = ?1 AND range = ?2 AND status = 'running' AND run_id <> ?3",
            params![job, range, run_id],
        )
        .ctx(what.clone())?;
        tx.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, manifest = ?4 WHERE run_id = ?1",
            params![run_id, status, finished_at, manifest],
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
                "SELECT run_id, job, range, started_at, finished_at, status, manifest FROM runs
                 ORDER BY started_at, run_id",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RunRecord {
                    run_id: r.get(0)?,
                    job: r.get(1)?,
                    range: r.get(2)?,
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    status: r.get(5)?,
                    manifest: r.get(6)?,
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }
}
