//! Stats: each template's stat windows (a year at most each) not stored complete.

use futures::stream::StreamExt;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{gap, needs_stat, range_window, stats_windows, Ctx, ExtractError, ExtractSummary};
use crate::job::DateRange;
use crate::wecom::types::StatListRequest;
use crate::wecom::WecomError;

impl Ctx<'_> {
    /// Fetches each template's stat windows (365 days at most each) not stored complete.
    pub(super) async fn stats(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let whole = range_window(range, self.tz);
        let templates = if self.job.filters.template_ids.is_empty() {
            self.store
                .template_ids_in_range(whole.start_ts, whole.end_ts)?
        } else {
            self.job.filters.template_ids.clone()
        };
        let mut tasks = Vec::new();
        for template in &templates {
            for window in stats_windows(range, self.tz) {
                let fetched_at =
                    self.store
                        .stat_fetched_at(template, window.start_ts, window.end_ts)?;
                if needs_stat(fetched_at, window, self.as_of, self.opts.full_refresh) {
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
                    endtime: window.api_endtime(),
                };
                let result = self.client.get_stat_list(&request).await;
                (template, window, result)
            })
            .buffer_unordered(self.queue_cap);
        let mut results = std::pin::pin!(results);
        while let Next::Item((template, window, result)) = next_or_abandon(stop, &mut results).await
        {
            match result {
                Ok(fetched) => {
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
                    let g = gap(
                        format!("template {template} stats {}", self.describe(window)),
                        &err,
                    );
                    tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
                    summary.gaps.push(g);
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
        self.check_stop()?;
        bar.finish(&format!(
            "{} fetched, {} stored complete",
            summary.stats_fetched, summary.stats_skipped
        ));
        Ok(())
    }
}
