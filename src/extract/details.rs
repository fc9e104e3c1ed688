//! Details: one `get_record_detail` per listed journal the rule asks for, stored as it
//! arrives.

use std::collections::{HashSet, VecDeque};

use futures::stream::FuturesUnordered;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{info_json, needs_detail, Ctx, ExtractError, ExtractSummary, Leaf, RefusedItems};
use crate::wecom::WecomError;

impl Ctx<'_> {
    /// Fetches the details the rule asks for, window after window, storing each as it
    /// arrives: `queue_cap` calls are under way at once, of which the client sends
    /// `max_in_flight` (the others wait for a slot, or a 45009 for its minute, without holding
    /// up the rest). Memory holds one window's uuids at a time.
    pub(super) async fn details(
        &self,
        leaves: &[Leaf],
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let mut bar = StageProgress::new("details", "details", Some(0), self.opts.progress);
        let mut pending: VecDeque<(usize, String)> = VecDeque::new();
        // uuids queued or in flight, so one listed by two windows is not fetched twice at once.
        let mut queued: HashSet<String> = HashSet::new();
        let mut next_leaf = 0;
        let mut in_flight = FuturesUnordered::new();
        let mut refused = RefusedItems::new("journal detail(s)");
        loop {
            while in_flight.len() < self.queue_cap && !self.stopping() {
                if let Some((leaf, uuid)) = pending.pop_front() {
                    in_flight.push(async move {
                        let result = self.client.get_record_detail(&uuid).await;
                        (leaf, uuid, result)
                    });
                    continue;
                }
                let Some(leaf) = leaves.get(next_leaf) else {
                    break;
                };
                next_leaf += 1;
                let mut wanted = 0;
                for uuid in self.store.window_uuids(
                    &leaf.filter_key,
                    leaf.window.start_ts,
                    leaf.window.end_ts,
                )? {
                    let state = self.store.detail_state(&uuid)?;
                    let job = &self.job.extract;
                    if !queued.contains(&uuid)
                        && needs_detail(state, self.as_of, job.refresh_days, self.opts.full_refresh)
                    {
                        queued.insert(uuid.clone());
                        pending.push_back((next_leaf - 1, uuid));
                        wanted += 1;
                    } else {
                        summary.details_skipped += 1;
                    }
                }
                bar.inc_length(wanted);
            }
            let (leaf, uuid, result) = match next_or_abandon(&self.opts.stop, &mut in_flight).await
            {
                Next::Item(item) => item,
                Next::Done | Next::Abandoned => break,
            };
            queued.remove(&uuid);
            match result {
                Ok(fetched) => {
                    let mut detail = fetched.value.info;
                    if detail.journal_uuid != uuid {
                        tracing::warn!(
                            "journal {uuid}: the detail says journal_uuid {:?}; stored under the uuid asked for",
                            detail.journal_uuid
                        );
                        detail.journal_uuid = uuid.clone();
                    }
                    let raw = info_json(&fetched.raw)
                        .unwrap_or_else(|| serde_json::to_string(&detail).unwrap_or_default());
                    self.store.put_detail(&detail, &raw, self.clock.ts())?;
                    summary.details_fetched += 1;
                }
                Err(err) if err.is_permission_gap() => {
                    refused.add(uuid, &err);
                }
                // Not sent: the run is stopping; the next run fetches it.
                Err(WecomError::Stopped { .. }) => continue,
                Err(err) => {
                    let w = &leaves[leaf];
                    return Err(ExtractError::Api {
                        context: format!(
                            "journal {uuid} (listed in record window {})",
                            self.describe(w.window)
                        ),
                        source: err,
                    });
                }
            }
            bar.inc(1);
        }
        self.check_stop()?;
        for g in refused.into_gaps() {
            tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
            summary.gaps.push(g);
        }
        bar.finish(&format!(
            "{} fetched, {} kept",
            summary.details_fetched, summary.details_skipped
        ));
        Ok(())
    }
}
