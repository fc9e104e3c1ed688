//! Details: one `get_record_detail` per listed journal the rule asks for, stored as it
//! arrives.

use std::collections::{HashSet, VecDeque};

use futures::stream::FuturesUnordered;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{
    needs_detail, Ctx, ExtractError, ExtractSummary, Leaf, RefusedItems, DAY_S, MAX_DETAIL_ATTEMPTS,
};
use crate::wecom::types::RecordDetailResponse;
use crate::wecom::{errcode, WecomError};

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
        // (the leaf that listed it, or none for a detail re-read whatever the range; its uuid)
        let mut pending: VecDeque<(Option<usize>, String)> = VecDeque::new();
        // uuids queued or in flight, so one listed by two windows is not fetched twice at once.
        let mut queued: HashSet<String> = HashSet::new();
        let mut next_leaf = 0;
        let mut in_flight = FuturesUnordered::new();
        let mut refused = RefusedItems::new("journal detail(s)");
        let mut not_given = RefusedItems::new("journal detail(s) not given");
        let mut reached_back = false;
        loop {
            while in_flight.len() < self.queue_cap && !self.stopping() {
                if let Some((leaf, uuid)) = pending.pop_front() {
                    in_flight.push(async move {
                        let result = self.client.get_record_detail(&uuid).await;
                        (leaf, uuid, result)
                    });
                    continue;
                }
                let (leaf, uuids) = match leaves.get(next_leaf) {
                    Some(leaf) => {
                        next_leaf += 1;
                        let w = leaf.window;
                        let uuids =
                            self.store
                                .window_uuids(&leaf.filter_key, w.start_ts, w.end_ts)?;
                        (Some(next_leaf - 1), uuids)
                    }
                    // Then, once, what is re-read whatever the range: details fetched while
                    // young (and still to settle) and gaps still to retry.
                    None if !reached_back => {
                        reached_back = true;
                        let refresh_s = i64::from(self.job.extract.refresh_days) * DAY_S;
                        let uuids = self.store.details_to_refresh(
                            self.as_of,
                            refresh_s,
                            MAX_DETAIL_ATTEMPTS,
                        )?;
                        (None, uuids)
                    }
                    None => break,
                };
                let mut wanted = 0;
                for uuid in uuids {
                    if !queued.contains(&uuid) && self.wants_detail(&uuid)? {
                        queued.insert(uuid.clone());
                        if leaf.is_none() {
                            summary.details_refreshed += 1;
                        }
                        pending.push_back((leaf, uuid));
                        wanted += 1;
                    } else if leaf.is_some() {
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
                    // `info` exactly as sent (numbers, escapes and spacing untouched).
                    let RecordDetailResponse {
                        info: mut detail,
                        info_raw,
                    } = fetched.value;
                    if detail.journal_uuid != uuid {
                        tracing::warn!(
                            "journal {uuid}: the detail says journal_uuid {:?}; stored under the uuid asked for",
                            detail.journal_uuid
                        );
                        detail.journal_uuid = uuid.clone();
                    }
                    if leaf.is_none() {
                        summary.touch(self.local_date(detail.report_time), self.range);
                    }
                    self.store
                        .put_detail(&detail, info_raw.get(), self.clock.ts())?;
                    summary.details_fetched += 1;
                }
                Err(err) if err.is_permission_gap() => {
                    refused.add(uuid, &err);
                }
                // Not sent: the run is stopping; the next run fetches it.
                Err(WecomError::Stopped { .. }) => continue,
                Err(err) if err.is_item_gap() => {
                    // The journal is gone (withdrawn) or this one item is bad: a named gap,
                    // retried by later runs a bounded number of times.
                    if leaf.is_none() {
                        if let Some(state) = self.store.detail_state(&uuid)? {
                            summary.touch(self.local_date(state.report_time), self.range);
                        }
                    }
                    let withdrawn = err.is(errcode::JOURNAL_INVALID_UUID);
                    self.store.put_detail_gap(
                        &uuid,
                        err.errcode(),
                        &err.to_string(),
                        self.clock.ts(),
                        withdrawn,
                    )?;
                    not_given.add(uuid, &err);
                }
                Err(err) => {
                    let listed = match leaf.map(|l| &leaves[l]) {
                        Some(w) => format!("listed in record window {}", self.describe(w.window)),
                        None => "re-read as it is younger than refresh_days".to_owned(),
                    };
                    return Err(ExtractError::Api {
                        context: format!("journal {uuid} ({listed})"),
                        source: err,
                    });
                }
            }
            bar.inc(1);
        }
        self.check_stop()?;
        for g in refused.into_gaps().into_iter().chain(not_given.into_gaps()) {
            tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
            summary.gaps.push(g);
        }
        bar.finish(&format!(
            "{} fetched, {} kept",
            summary.details_fetched, summary.details_skipped
        ));
        Ok(())
    }

    /// Whether to fetch a detail: by the detail rule ([`needs_detail`]) when stored; a gap
    /// (not given earlier) when tried fewer than [`MAX_DETAIL_ATTEMPTS`] times and not by this
    /// run (a full refresh tries it again whatever its attempts).
    fn wants_detail(&self, uuid: &str) -> Result<bool, ExtractError> {
        if let Some(gap) = self.store.detail_gap(uuid)? {
            if gap.last_at >= self.as_of
                || (gap.attempts >= MAX_DETAIL_ATTEMPTS && !self.opts.full_refresh)
            {
                return Ok(false);
            }
        }
        let state = self.store.detail_state(uuid)?;
        let job = &self.job.extract;
        Ok(needs_detail(
            state,
            self.as_of,
            job.refresh_days,
            self.opts.full_refresh,
        ))
    }
}
