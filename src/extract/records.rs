//! Records: every record window of every filter combination paged to its end, each page
//! stored as it arrives; a window answering 301066 is halved. Windows run `max_in_flight` at a
//! time, each window's pages in cursor order.

use std::collections::VecDeque;

use futures::stream::FuturesUnordered;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{
    describe_filters, filter_combinations, month_windows, window_action, Ctx, ExtractError,
    ExtractSummary, GapTally, Leaf, Window, WindowAction, WindowOutcome, WindowTask, PAGE_LIMIT,
};
use crate::job::DateRange;
use crate::store::{filter_key, PageRecord};
use crate::wecom::types::{RecordFilter, RecordListRequest};
use crate::wecom::{errcode, Endpoint, WecomError};

impl Ctx<'_> {
    /// Pages every window of every filter combination (up to `max_in_flight` windows at once,
    /// each window's pages in cursor order) and returns the leaf windows whose listings are
    /// stored.
    pub(super) async fn records(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<Vec<Leaf>, ExtractError> {
        let combos = filter_combinations(&self.job.filters);
        let keys: Vec<String> = combos.iter().map(|c| filter_key(c)).collect();
        let mut queue: VecDeque<WindowTask> = VecDeque::new();
        for window in month_windows(range, self.tz) {
            for combo in 0..combos.len() {
                queue.push_back(WindowTask { combo, window });
            }
        }
        let mut bar = StageProgress::new(
            "records",
            "windows",
            Some(queue.len() as u64),
            self.opts.progress,
        );
        let mut leaves = Vec::new();
        let mut refused = GapTally::default();
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.max_in_flight && !self.stopping() {
                let Some(task) = queue.pop_front() else { break };
                let (filters, key) = (&combos[task.combo], &keys[task.combo]);
                in_flight.push(async move {
                    (
                        task.clone(),
                        self.page_window(filters, key, task.window).await,
                    )
                });
            }
            let (task, outcome) = match next_or_abandon(&self.opts.stop, &mut in_flight).await {
                Next::Item(item) => item,
                Next::Done | Next::Abandoned => break,
            };
            match outcome? {
                WindowOutcome::Stopped { calls } => summary.list_calls += calls,
                WindowOutcome::Listed { journals, calls } => {
                    summary.windows_paged += 1;
                    summary.list_calls += calls;
                    summary.journals_listed += journals;
                    leaves.push(Leaf {
                        filter_key: keys[task.combo].clone(),
                        window: task.window,
                    });
                }
                WindowOutcome::Skipped { journals } => {
                    summary.windows_skipped += 1;
                    summary.journals_listed += journals;
                    leaves.push(Leaf {
                        filter_key: keys[task.combo].clone(),
                        window: task.window,
                    });
                }
                WindowOutcome::Split { calls } => {
                    summary.list_calls += calls;
                    if calls > 0 {
                        summary.windows_split += 1;
                    }
                    // `Split` is only returned for a window that has halves.
                    if let Some((a, b)) = task.window.halves() {
                        queue.push_front(WindowTask {
                            combo: task.combo,
                            window: b,
                        });
                        queue.push_front(WindowTask {
                            combo: task.combo,
                            window: a,
                        });
                        bar.inc_length(2);
                    }
                }
                WindowOutcome::Refused { err, calls } => {
                    summary.list_calls += calls;
                    let subject = self.list_subject(&combos[task.combo])?;
                    refused.add(subject, task.window, &err);
                }
            }
            bar.inc(1);
        }
        self.tally_gaps(refused, "record window", summary);
        self.check_stop()?;
        // Leaves in time order, so details are fetched (and stored) oldest first.
        leaves.sort_by(|a, b| (a.window, &a.filter_key).cmp(&(b.window, &b.filter_key)));
        bar.finish(&format!(
            "{} paged, {} stored, {} list calls, {} journals",
            summary.windows_paged,
            summary.windows_skipped,
            summary.list_calls,
            summary.journals_listed
        ));
        Ok(leaves)
    }

    /// What a refused record list names: `record list (<filters>)`, a template filter as
    /// [`Ctx::template_label`] says it (the template to grant the app).
    fn list_subject(&self, filters: &[RecordFilter]) -> Result<String, ExtractError> {
        if filters.is_empty() {
            return Ok("record list (no filter)".into());
        }
        let mut named = Vec::new();
        for f in filters {
            named.push(match f.key.as_str() {
                "template_id" => self.template_label(&f.value)?,
                _ => format!("{}={}", f.key, f.value),
            });
        }
        Ok(format!("record list ({})", named.join(", ")))
    }

    /// Pages one window of one filter combination to `endflag = 1`, storing each page as it
    /// arrives; a window that answers 301066 is marked split (the caller pages its halves).
    async fn page_window(
        &self,
        filters: &[RecordFilter],
        key: &str,
        w: Window,
    ) -> Result<WindowOutcome, ExtractError> {
        let stored = self.store.record_window(key, w.start_ts, w.end_ts)?;
        let (mut cursor, paged_at) =
            match window_action(stored.as_ref(), self.as_of, self.opts.full_refresh) {
                WindowAction::Skip => {
                    return Ok(WindowOutcome::Skipped {
                        journals: stored.as_ref().map(|s| s.journals).unwrap_or(0),
                    })
                }
                WindowAction::Split => return Ok(WindowOutcome::Split { calls: 0 }),
                WindowAction::Page => {
                    let paged_at = self.clock.ts();
                    self.store
                        .begin_window(key, w.start_ts, w.end_ts, paged_at)?;
                    (0, paged_at)
                }
                WindowAction::Continue { cursor } => (
                    cursor,
                    stored.as_ref().map(|s| s.paged_at).unwrap_or(self.as_of),
                ),
            };
        let mut restarted = cursor == 0;
        let mut calls = 0u64;
        let mut journals = stored
            .as_ref()
            .filter(|_| cursor != 0)
            .map(|s| s.journals)
            .unwrap_or(0);
        loop {
            if self.stopping() {
                // The listing stays partial at `cursor`: the next run continues it.
                return Ok(WindowOutcome::Stopped { calls });
            }
            let request = RecordListRequest {
                starttime: w.start_ts,
                endtime: w.record_endtime(),
                cursor,
                limit: PAGE_LIMIT,
                filters: filters.to_vec(),
            };
            calls += 1;
            match self.client.get_record_list(&request).await {
                Ok(fetched) => {
                    let page = fetched.value;
                    let last = page.endflag == 1;
                    if !last && page.next_cursor <= cursor {
                        return Err(ExtractError::Protocol(format!(
                            "{}: record window {} ({}): paging does not advance (cursor {cursor}, next_cursor {}, endflag 0)",
                            Endpoint::RecordList.path(),
                            self.describe(w),
                            describe_filters(filters),
                            page.next_cursor
                        )));
                    }
                    journals += page.journaluuid_list.len() as u64;
                    if let Some(t) = filters.iter().find(|f| f.key == "template_id") {
                        // A list filtered by template names its journals' template.
                        self.store
                            .learn_listed_templates(&t.value, &page.journaluuid_list)?;
                    }
                    self.store.put_page(&PageRecord {
                        filter_key: key,
                        start_ts: w.start_ts,
                        end_ts: w.end_ts,
                        cursor,
                        uuids: &page.journaluuid_list,
                        next_cursor: page.next_cursor,
                        last,
                        paged_at,
                    })?;
                    if last {
                        return Ok(WindowOutcome::Listed { journals, calls });
                    }
                    cursor = page.next_cursor;
                }
                Err(WecomError::Stopped { .. }) => return Ok(WindowOutcome::Stopped { calls }),
                Err(err) if err.is(errcode::JOURNAL_BAD_PARAMETERS) && !restarted => {
                    // A stored cursor from a killed run that the API no longer accepts: page
                    // the window again from its start (once).
                    restarted = true;
                    self.store
                        .begin_window(key, w.start_ts, w.end_ts, paged_at)?;
                    cursor = 0;
                    journals = 0;
                }
                Err(err) if err.is(errcode::JOURNAL_BAD_PARAMETERS) && w.halves().is_some() => {
                    tracing::info!(
                        "record window {} ({}) answered {}: halving it",
                        self.describe(w),
                        describe_filters(filters),
                        errcode::JOURNAL_BAD_PARAMETERS,
                    );
                    self.store
                        .put_window_split(key, w.start_ts, w.end_ts, paged_at)?;
                    return Ok(WindowOutcome::Split { calls });
                }
                Err(err) if err.is_permission_gap() => {
                    return Ok(WindowOutcome::Refused { err, calls });
                }
                Err(err) => {
                    let halved = if err.is(errcode::JOURNAL_BAD_PARAMETERS) {
                        ", halved down to a day"
                    } else {
                        ""
                    };
                    return Err(ExtractError::Api {
                        context: format!(
                            "record window {} ({}), cursor {cursor}{halved}",
                            self.describe(w),
                            describe_filters(filters)
                        ),
                        source: err,
                    });
                }
            }
        }
    }
}
