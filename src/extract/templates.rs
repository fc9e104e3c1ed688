//! Templates from the record list: the third of a journal's four template sources (the
//! detail's `template_id`, a stat list's `report_list`, the record list filtered by template,
//! a unique template name; README, "Templates"). For the stored details of the run's range
//! (and of what it re-read) whose template nothing names yet and whose `template_name` is no
//! single known template's, the record list filtered by each candidate template is paged over
//! the windows holding them; the journals it lists are recorded as that template's. Nothing of
//! these listings is kept but what they teach: the next run lists again only what is still
//! unknown.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::stream::StreamExt;

use super::{month_windows, range_window, Ctx, ExtractError, ExtractSummary, Window, PAGE_LIMIT};
use crate::job::DateRange;
use crate::wecom::types::{RecordFilter, RecordListRequest};
use crate::wecom::WecomError;

impl Ctx<'_> {
    /// Learns, from record lists filtered by template, the template of the journals no detail,
    /// stat list or unique name gives. Candidates for a journal: the ids its `template_name`
    /// is known under (when more than one), else every template the store knows.
    pub(super) async fn list_templates(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let span = match summary.touched {
            Some(t) => DateRange {
                start: range.start.min(t.start),
                end: range.end.max(t.end),
            },
            None => range,
        };
        let whole = range_window(span, self.tz);
        let unknown = self
            .store
            .journals_of_unknown_template(whole.start_ts, whole.end_ts)?;
        if unknown.is_empty() {
            return Ok(());
        }
        let facts = self.store.template_facts()?;
        let known = self.store.known_template_ids()?;
        let windows = month_windows(span, self.tz);
        // candidate template → the windows holding journals it may be the template of.
        let mut wanted: BTreeMap<&str, BTreeSet<Window>> = BTreeMap::new();
        let mut lacking: HashSet<&str> = HashSet::new();
        for j in &unknown {
            let candidates: Vec<&str> = match facts.ids_by_name.get(&j.template_name) {
                // The unique name gives it (flatten's last source).
                Some(ids) if ids.len() == 1 => continue,
                Some(ids) => ids.iter().map(String::as_str).collect(),
                None => known.iter().map(String::as_str).collect(),
            };
            let t = j.report_time;
            let Some(w) = windows.iter().find(|w| w.start_ts <= t && t < w.end_ts) else {
                continue;
            };
            lacking.insert(&j.journal_uuid);
            for c in candidates {
                wanted.entry(c).or_default().insert(*w);
            }
        }
        let tasks: Vec<(&str, Window)> = wanted
            .iter()
            .flat_map(|(t, ws)| ws.iter().map(move |w| (*t, *w)))
            .collect();
        tracing::info!(
            journals = lacking.len(),
            lists = tasks.len(),
            "listing records by template for journals of no known template"
        );
        let stop = &self.opts.stop;
        let results = futures::stream::iter(tasks)
            .take_while(|_| std::future::ready(!stop.is_stopped()))
            .map(|(template, w)| async move { (template, w, self.list_all(template, w).await) })
            .buffer_unordered(self.max_in_flight);
        let mut results = std::pin::pin!(results);
        while let Some((template, w, listed)) = results.next().await {
            let (uuids, calls) = listed?;
            summary.list_calls += calls;
            let Some(uuids) = uuids else { continue };
            let found: Vec<String> = uuids
                .into_iter()
                .filter(|u| lacking.contains(u.as_str()))
                .collect();
            if found.is_empty() {
                continue;
            }
            tracing::debug!(template, window = %self.describe(w), journals = found.len(), "templates from the record list");
            summary.templates_listed += found.len() as u64;
            self.store.learn_listed_templates(template, &found)?;
        }
        self.check_stop()
    }

    /// Every uuid the record list filtered by `template` gives for `w`, and the calls made;
    /// `None` when WeCom refuses it (a template the app may not read: its stats' or records'
    /// gap says so) or the run is stopping.
    async fn list_all(
        &self,
        template: &str,
        w: Window,
    ) -> Result<(Option<Vec<String>>, u64), ExtractError> {
        let filters = vec![RecordFilter {
            key: "template_id".into(),
            value: template.to_owned(),
        }];
        let (mut cursor, mut calls, mut uuids) = (0, 0, Vec::new());
        loop {
            let request = RecordListRequest {
                starttime: w.start_ts,
                endtime: w.record_endtime(),
                cursor,
                limit: PAGE_LIMIT,
                filters: filters.clone(),
            };
            calls += 1;
            match self.client.get_record_list(&request).await {
                Ok(fetched) => {
                    let page = fetched.value;
                    uuids.extend(page.journaluuid_list);
                    if page.endflag == 1 {
                        return Ok((Some(uuids), calls));
                    }
                    if page.next_cursor <= cursor {
                        return Err(ExtractError::Protocol(format!(
                            "record window {} (template_id={template}): paging does not \
                             advance (cursor {cursor}, next_cursor {}, endflag 0)",
                            self.describe(w),
                            page.next_cursor
                        )));
                    }
                    cursor = page.next_cursor;
                }
                Err(WecomError::Stopped { .. }) => return Ok((None, calls)),
                Err(err) if err.is_permission_gap() => {
                    tracing::debug!(template, "record list by template refused: {err}");
                    return Ok((None, calls));
                }
                Err(err) => {
                    return Err(ExtractError::Api {
                        context: format!(
                            "record window {} (template_id={template}), cursor {cursor}, for \
                             journals of no known template",
                            self.describe(w)
                        ),
                        source: err,
                    })
                }
            }
        }
    }
}
