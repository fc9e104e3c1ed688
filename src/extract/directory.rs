//! The directory: `department/list`, then `user/list` per department, stored as one snapshot.

use futures::stream::StreamExt;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{gap, Ctx, ExtractError, ExtractSummary};
use crate::job::DirectorySource;
use crate::wecom::WecomError;

impl Ctx<'_> {
    /// `department/list`, then `user/list` per department, stored as one snapshot. Fetched once
    /// per run (a resumed run keeps the snapshot of the run it resumes).
    pub(super) async fn directory(&self, summary: &mut ExtractSummary) -> Result<(), ExtractError> {
        match &self.job.extract.directory {
            DirectorySource::Api => {}
            // A CSV is read by the run itself; "none" has nothing to read.
            DirectorySource::Csv(_) | DirectorySource::None => return Ok(()),
        }
        if !self.opts.full_refresh
            && self
                .store
                .directory_fetched_at()?
                .is_some_and(|t| t >= self.as_of)
        {
            return Ok(());
        }
        let fetched_at = self.clock.ts();
        let departments = match self.client.department_list(None).await {
            Ok(fetched) => fetched,
            Err(err) if err.is_permission_gap() => {
                summary.gaps.push(gap("department list".into(), &err));
                return Ok(());
            }
            Err(WecomError::Stopped { .. }) => return self.check_stop(),
            Err(err) => {
                return Err(ExtractError::Api {
                    context: "department list".into(),
                    source: err,
                })
            }
        };
        let ids: Vec<u64> = departments.value.department.iter().map(|d| d.id).collect();
        let mut bar = StageProgress::new(
            "directory",
            "departments",
            Some(ids.len() as u64),
            self.opts.progress,
        );
        let stop = &self.opts.stop;
        let results = futures::stream::iter(ids)
            .take_while(|_| std::future::ready(!stop.is_stopped()))
            .map(|id| async move { (id, self.client.user_list(id).await) })
            .buffer_unordered(self.queue_cap);
        let mut results = std::pin::pin!(results);
        let mut lists = Vec::new();
        while let Next::Item((id, result)) = next_or_abandon(stop, &mut results).await {
            match result {
                Ok(fetched) => lists.push((id, fetched.raw)),
                Err(WecomError::Stopped { .. }) => continue,
                Err(err) if err.is_permission_gap() => {
                    summary
                        .gaps
                        .push(gap(format!("users of department {id}"), &err));
                }
                Err(err) => {
                    return Err(ExtractError::Api {
                        context: format!("users of department {id}"),
                        source: err,
                    })
                }
            }
            bar.inc(1);
        }
        // A snapshot is stored whole or not at all: a stopped run leaves the last one.
        self.check_stop()?;
        lists.sort_by_key(|(id, _)| *id);
        self.store
            .put_directory(fetched_at, &departments.raw, &lists)?;
        summary.directory_fetched = true;
        bar.finish(&format!("{} users lists", lists.len()));
        Ok(())
    }
}
