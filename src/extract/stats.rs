//! Stats: each known template's stat windows (a year at most each) still open, whatever the
//! run's range.

use std::collections::BTreeSet;

use futures::stream::StreamExt;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{
    latest_cycle_end, needs_stat, stats_windows, Ctx, ExtractError, ExtractSummary, GapTally,
    Window,
};
use crate::job::DateRange;
use crate::wecom::types::StatListRequest;
use crate::wecom::WecomError;

impl Ctx<'_> {
    /// Fetches each known template's stat windows (365 days at most each) still open: those of
    /// the run's range and those stored by earlier runs, so cycles that may still move are
    /// fetched again whatever the range. Templates: the job's `template_ids`, else every
    /// template the store knows (learnt from details, stat lists, its history).
    pub(super) async fn stats(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let templates = if self.job.filters.template_ids.is_empty() {
            self.store.known_template_ids()?
        } else {
            self.job.filters.template_ids.clone()
        };
        // The range's windows, and every window stored before (of any template): each stays
        // open until its cycles are settled, whatever this run's range, and a template learnt
        // later gets the windows of the store's history too.
        let mut windows: BTreeSet<Window> = stats_windows(range, self.tz).into_iter().collect();
        windows.extend(
            self.store
                .stat_windows()?
                .into_iter()
                .map(|(start_ts, end_ts)| Window { start_ts, end_ts }),
        );
        let refresh_days = self.job.extract.refresh_days;
        let mut tasks = Vec::new();
        for template in &templates {
            for &window in &windows {
                let fetched_at =
                    self.store
                        .stat_fetched_at(template, window.start_ts, window.end_ts)?;
                let latest_end = latest_cycle_end(window, self.tz);
                let full = self.opts.full_refresh;
                if needs_stat(fetched_at, latest_end, self.as_of, refresh_days, full) {
                    tasks.push((template.clone(), window));
                } else {
                    summary.stats_skipped += 1;
                }
            }
        }
        let mut bar = StageProgress::new(
            "stats",
            "stat windows",
            Some(tasks.len() as u64),
            self.opts.progress,
        );
        let stop = &self.opts.stop;
        let results = futures::stream::iter(tasks)
            .take_while(|_| std::future::ready(!stop.is_stopped()))
            .map(|(template, window)| async move {
                let request = StatListRequest {
                    template_id: template.clone(),
                    starttime: window.start_ts,
                    endtime: window.stats_endtime(),
                };
                let result = self.client.get_stat_list(&request).await;
                (template, window, result)
            })
            .buffer_unordered(self.queue_cap);
        let mut results = std::pin::pin!(results);
        let mut refused = GapTally::default();
        while let Next::Item((template, window, result)) = next_or_abandon(stop, &mut results).await
        {
            match result {
                Ok(fetched) => {
                    for c in &fetched.value.stat_list {
                        summary.touch(self.local_date(c.cycle_begin_time as i64), range);
                    }
                    self.store.put_stat(
                        &template,
                        window.start_ts,
                        window.end_ts,
                        &fetched.raw,
                        self.clock.ts(),
                    )?;
                    summary.stats_fetched += 1;
                }
                Err(WecomError::Stopped { .. }) => continue,
                Err(err) if err.is_permission_gap() => {
                    let subject = format!("{} stats", self.template_label(&template)?);
                    refused.add(subject, window, &err);
                }
                Err(err) => {
                    return Err(ExtractError::Api {
                        context: format!("stats of template {template} {}", self.describe(window)),
                        source: err,
                    })
                }
            }
            bar.inc(1);
        }
        self.tally_gaps(refused, "stat window", summary);
        self.check_stop()?;
        bar.finish(&format!(
            "{} fetched, {} settled",
            summary.stats_fetched, summary.stats_skipped
        ));
        Ok(())
    }
}
