//! Stat responses: the raw `get_stat_list` body of each template's window, and its cycles read
//! back deduplicated across overlapping windows.

use rusqlite::{params, OptionalExtension};

use super::{Result, SqlContext, Store, StoreError};
use crate::wecom::types::{StatCycle, StatListResponse};

/// A stat response as stored.
#[derive(Debug, Clone)]
pub struct StoredStat {
    pub template_id: String,
    pub start_ts: i64,
    pub end_ts: i64,
    pub(crate) fetched_at: i64,
    pub raw: String,
    pub(crate) response: StatListResponse,
}

impl Store {
    /// When the stat window of a template was fetched, if stored.
    pub(crate) fn stat_fetched_at(
        &self,
        template_id: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Option<i64>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT fetched_at FROM stats WHERE template_id = ?1 AND start_ts = ?2 AND end_ts = ?3",
            params![template_id, start_ts, end_ts],
            |r| r.get(0),
        )
        .optional()
        .ctx(format!(
            "reading stat window {template_id} [{start_ts}, {end_ts})"
        ))
    }

    /// Every stored stat window `(start_ts, end_ts)`, of any template, in time order.
    pub(crate) fn stat_windows(&self) -> Result<Vec<(i64, i64)>> {
        let what = "listing the stored stat windows";
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT DISTINCT start_ts, end_ts FROM stats ORDER BY start_ts, end_ts")
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Stores (or replaces) the stat response of a template's window; `raw` is the whole body.
    /// What it says of templates (each journal's in `report_list`) is recorded beside it.
    pub fn put_stat(
        &self,
        template_id: &str,
        start_ts: i64,
        end_ts: i64,
        raw: &str,
        fetched_at: i64,
    ) -> Result<()> {
        let what = format!("storing stat window {template_id} [{start_ts}, {end_ts})");
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what.clone())?;
        tx.execute(
            "INSERT OR REPLACE INTO stats (template_id, start_ts, end_ts, raw, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![template_id, start_ts, end_ts, raw, fetched_at],
        )
        .ctx(what.clone())?;
        // What it says of templates; a body that does not decode teaches nothing (reading it
        // back reports it).
        if let Ok(response) = serde_json::from_str::<StatListResponse>(raw) {
            super::templates::learn_from_stats(&tx, &response)?;
        }
        tx.commit().ctx(what)
    }

    /// Calls `f` with each stored stat response whose window overlaps `[start_ts, end_ts)`,
    /// decoded, ordered by template and window. Responses of overlapping windows (from runs
    /// over different ranges) may repeat a cycle: [`Store::stat_cycles_in_range`] dedupes.
    pub fn stats_in_range<E>(
        &self,
        start_ts: i64,
        end_ts: i64,
        mut f: impl FnMut(StoredStat) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E>
    where
        E: From<StoreError>,
    {
        let what = "reading stat responses";
        let keys: Vec<(String, i64, i64)> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare(
                    "SELECT template_id, start_ts, end_ts FROM stats WHERE start_ts < ?2 AND end_ts > ?1
                     ORDER BY template_id, start_ts, end_ts",
                )
                .ctx(what)?;
            let rows = stmt
                .query_map(params![start_ts, end_ts], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .ctx(what)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?
        };
        // One response at a time: a year of a daily template is a large body.
        for (template_id, s, e) in keys {
            let row: Option<(String, i64)> = {
                let conn = self.conn();
                conn.query_row(
                    "SELECT raw, fetched_at FROM stats WHERE template_id = ?1 AND start_ts = ?2 AND end_ts = ?3",
                    params![template_id, s, e],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .ctx(what)?
            };
            let Some((raw, fetched_at)) = row else {
                continue;
            };
            let response: StatListResponse =
                serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                    what: format!("stat response of template {template_id} [{s}, {e})"),
                    source,
                })?;
            f(StoredStat {
                template_id,
                start_ts: s,
                end_ts: e,
                fetched_at,
                raw,
                response,
            })?;
        }
        Ok(())
    }

    /// The stored stat cycles that begin in `[start_ts, end_ts)`, each (template, cycle) once —
    /// from the most recently fetched response — ordered by template and cycle begin.
    pub fn stat_cycles_in_range(&self, start_ts: i64, end_ts: i64) -> Result<Vec<StatCycle>> {
        let mut best: std::collections::BTreeMap<(String, u64, u64), (i64, StatCycle)> =
            Default::default();
        self.stats_in_range(start_ts, end_ts, |stat: StoredStat| -> Result<()> {
            for cycle in stat.response.stat_list {
                let begin = cycle.cycle_begin_time as i64;
                if begin < start_ts || begin >= end_ts {
                    continue;
                }
                let key = (
                    cycle.template_id.clone(),
                    cycle.cycle_begin_time,
                    cycle.cycle_end_time,
                );
                match best.get(&key) {
                    Some((fetched_at, _)) if *fetched_at >= stat.fetched_at => {}
                    _ => {
                        best.insert(key, (stat.fetched_at, cycle));
                    }
                }
            }
            Ok(())
        })?;
        Ok(best.into_values().map(|(_, c)| c).collect())
    }
}
