//! Summaries over everything stored: how much the store holds, and what earlier runs listed
//! ([`ListingHistory`], the facts `plan` scales to the range it plans). Plain facts of the
//! store: it knows no planner type.

use rusqlite::Connection;

use super::details::count_wedrive_files;
use super::directory::{count_directory_departments, count_directory_users};
use super::{Result, SqlContext, Store};

/// What earlier runs listed, from the record windows paged to the end.
///
/// The days are those of the listing, not first..last journal: a month with its first and
/// last journals on the 2nd and the 29th still covered the whole month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListingHistory {
    /// Days those windows covered: their union, each up to when it was paged.
    pub(crate) days: u32,
    /// Distinct journals they listed.
    pub(crate) journals: u64,
    /// Distinct templates of the stored details.
    pub(crate) templates: u32,
    /// Departments of the stored directory snapshot.
    pub(crate) departments: u32,
    /// Wedrive files the stored details reference (WedriveFile controls, Table cells
    /// included), as recorded with each detail.
    pub(crate) wedrive_files: u64,
}

/// How much the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub(crate) windows: u64,
    pub(crate) windows_done: u64,
    pub(crate) pages: u64,
    pub details: u64,
    pub stats: u64,
    pub(crate) directory_departments: u64,
    pub(crate) directory_users: u64,
    pub(crate) runs: u64,
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

    /// What earlier runs listed, from the record windows paged to the end (`None` when no
    /// window was): see [`ListingHistory`]. The plan scales it to the range it plans (the code
    /// that opens the store for `plan` hands it over as the planner's own type).
    pub(crate) fn plan_history(&self) -> Result<Option<ListingHistory>> {
        let conn = self.conn();
        let Some(days) = covered_days(&conn)? else {
            return Ok(None);
        };
        // `json_each` reads the store's own encoding of a page's uuid list (a JSON array of
        // strings that `put_page` wrote), not WeCom's JSON: counting its distinct members in
        // SQL is reading a column, as a child table of uuids would be, without one row per
        // uuid per page in the file.
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
        let wedrive_files = count_wedrive_files(&conn, self.schema_version)?;
        Ok(Some(ListingHistory {
            days,
            journals: journals.max(0) as u64,
            templates: templates.clamp(0, i64::from(u32::MAX)) as u32,
            departments: departments.min(u64::from(u32::MAX)) as u32,
            wedrive_files,
        }))
    }
}

/// The days the record windows paged to the end covered: their union, each up to when it was
/// paged (nothing later can be in its listing), in whole days; `None` when no window was
/// paged to the end.
fn covered_days(conn: &Connection) -> Result<Option<u32>> {
    let what = "summarising stored record windows";
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT start_ts, min(end_ts, max(paged_at, start_ts)) FROM record_windows
             WHERE state = 'done' ORDER BY 1, 2",
        )
        .ctx(what)?;
    let mut intervals = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .ctx(what)?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()
        .ctx(what)?;
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
    Ok(Some(
        ((covered_s + 43_200) / 86_400).clamp(1, i64::from(u32::MAX)) as u32,
    ))
}
