//! Summaries over everything stored: how much the store holds, and what earlier runs saw for
//! the plan's estimate.

use super::directory::{count_directory_departments, count_directory_users};
use super::{Result, SqlContext, Store};
use crate::job::plan::PlanHistory;

/// How much the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub windows: u64,
    pub windows_done: u64,
    pub pages: u64,
    pub details: u64,
    pub stats: u64,
    pub directory_departments: u64,
    pub directory_users: u64,
    pub runs: u64,
}

impl Store {
    pub fn counts(&self) -> Result<StoreCounts> {
        let what = "counting stored rows";
        let conn = self.conn();
        let count = |sql: &str| {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .ctx(what)
        };
        let directory_users = count_directory_users(&conn)?;
        Ok(StoreCounts {
            windows: count("SELECT count(*) FROM record_windows")?,
            windows_done: count("SELECT count(*) FROM record_windows WHERE state = 'done'")?,
            pages: count("SELECT count(*) FROM record_pages")?,
            details: count("SELECT count(*) FROM details")?,
            stats: count("SELECT count(*) FROM stats")?,
            directory_departments: count_directory_departments(&conn)?,
            directory_users,
            runs: count("SELECT count(*) FROM runs")?,
        })
    }

    /// What earlier runs saw, for the plan, from the record windows paged to the end: the days
    /// those windows covered (their union, each up to when it was paged, since nothing later
    /// can be in its listing), the distinct journals they listed, the distinct templates of the
    /// stored details, the directory's departments and the wedrive files the details
    /// reference. `None` when no window was paged to the end. The days are those of the
    /// listing, not first..last journal: a month with its first and last journals on the 2nd
    /// and the 29th still covered the whole month.
    pub fn plan_history(&self) -> Result<Option<PlanHistory>> {
        let what = "summarising stored record windows";
        let conn = self.conn();
        let mut intervals: Vec<(i64, i64)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT DISTINCT start_ts, min(end_ts, max(paged_at, start_ts)) FROM record_windows
                     WHERE state = 'done' ORDER BY 1, 2",
                )
                .ctx(what)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .ctx(what)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)?
        };
        if intervals.is_empty() {
            return Ok(None);
        }
        intervals.sort_unstable();
        let mut covered_s = 0i64;
        let mut reach = i64::MIN;
        for (start, end) in intervals {
            let start = start.max(reach);
            if end > start {
                covered_s += end - start;
                reach = end;
            }
        }
        // Whole days (a DST day is 23 or 25 hours); at least one for any listing at all.
        let days = ((covered_s + 43_200) / 86_400).clamp(1, i64::from(u32::MAX)) as u32;
        let journals: i64 = conn
            .query_row(
                "SELECT count(DISTINCT j.value)
                 FROM record_windows w
                 JOIN record_pages p USING (filter_key, start_ts, end_ts), json_each(p.uuids) j
                 WHERE w.state = 'done'",
                [],
                |r| r.get(0),
            )
            .ctx("counting the journals of stored record windows")?;
        let templates: i64 = conn
            .query_row(
                "SELECT count(DISTINCT template_id) FROM details
                 WHERE template_id IS NOT NULL AND template_id <> ''",
                [],
                |r| r.get(0),
            )
            .ctx("counting the templates of stored details")?;
        let departments = count_directory_departments(&conn)?;
        // Wedrive files the stored details reference: the `wedrive_files` of every control
        // named WedriveFile, Table cells included (json_tree walks the nesting). Dispatch is
        // on the control's name, as everywhere: other controls carry the key as `[]`.
        let wedrive_files: i64 = conn
            .query_row(
                "SELECT coalesce(sum(json_array_length(d.raw, t.path || '.value.wedrive_files')), 0)
                 FROM details d, json_tree(d.raw, '$.apply_data') t
                 WHERE t.key = 'control' AND t.atom = 'WedriveFile'",
                [],
                |r| r.get(0),
            )
            .ctx("counting the wedrive files of stored details")?;
        Ok(Some(PlanHistory {
            days,
            journals: journals.max(0) as u64,
            templates: templates.clamp(0, i64::from(u32::MAX)) as u32,
            departments: departments.min(u64::from(u32::MAX)) as u32,
            wedrive_files: wedrive_files.max(0) as u64,
        }))
    }
}
