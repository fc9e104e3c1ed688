//! Journal details: the raw `info` JSON of each journal by uuid, with its report time,
//! template, submitter and fetch time, read back decoded in report-time order; and, beside
//! each, the facts the plan reads of it (the wedrive files it references), taken from the
//! decoded detail when it is stored so that no query walks control JSON.

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::WEDRIVE_FILES_SINCE;
use super::{Result, SqlContext, Store, StoreError};
use crate::wecom::types::{Control, ControlValue, JournalDetail};

/// Stored details decoded at a time by the walks over every detail (the migration that
/// records their wedrive files, and counting them in a store too old to have them recorded).
pub(super) const DECODE_PAGE: i64 = 500;

/// What the store knows of a detail, for the fetch rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailState {
    pub(crate) report_time: i64,
    pub fetched_at: i64,
    /// From when its comments and reads settle: its report time, or the end of its stat
    /// cycle when the stat lists name it (a weekly report is read all week).
    pub(crate) settles_from: i64,
}

impl Store {
    /// When the detail was fetched and what its report time is, if stored.
    pub fn detail_state(&self, journal_uuid: &str) -> Result<Option<DetailState>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT d.report_time, d.fetched_at, max(d.report_time, coalesce(jt.cycle_end, 0))
                 FROM details d LEFT JOIN journal_templates jt USING (journal_uuid)
                 WHERE d.journal_uuid = ?1",
            )
            .ctx("reading a detail's fetch time")?;
        stmt.query_row([journal_uuid], |r| {
            Ok(DetailState {
                report_time: r.get(0)?,
                fetched_at: r.get(1)?,
                settles_from: r.get(2)?,
            })
        })
        .optional()
        .ctx(format!("reading the fetch time of detail {journal_uuid}"))
    }

    /// Stores (or replaces) a detail: `raw` is the `info` object's JSON text, `detail` what it
    /// decodes to (the facts recorded beside it are taken from it).
    pub fn put_detail(&self, detail: &JournalDetail, raw: &str, fetched_at: i64) -> Result<()> {
        self.put_details(&[(detail, raw)], fetched_at)
    }

    /// Stores several details in one transaction.
    pub fn put_details(&self, details: &[(&JournalDetail, &str)], fetched_at: i64) -> Result<()> {
        let what = "storing details";
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO details (journal_uuid, template_id, report_time, submitter, raw, fetched_at, wedrive_files)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .ctx(what)?;
            for (d, raw) in details {
                stmt.execute(params![
                    d.journal_uuid,
                    d.template_id,
                    d.report_time,
                    d.submitter.userid,
                    raw,
                    fetched_at,
                    sql_count(wedrive_file_count(d))
                ])
                .ctx(format!("storing detail {}", d.journal_uuid))?;
                super::templates::learn_from_detail(&tx, d)?;
                // Given at last: no longer a gap.
                tx.execute(
                    "DELETE FROM detail_gaps WHERE journal_uuid = ?1",
                    [&d.journal_uuid],
                )
                .ctx(format!("clearing the gap of detail {}", d.journal_uuid))?;
            }
        }
        tx.commit().ctx(what)
    }

    /// Streams the stored details with `start_ts <= report_time < end_ts` in report-time order
    /// (uuid breaks ties), decoded, `batch_size` at a time. Each batch is read by its own query
    /// (keyset paging), so memory stays bounded and the store is not locked while `f` runs.
    pub fn details_in_range<E>(
        &self,
        start_ts: i64,
        end_ts: i64,
        batch_size: usize,
        mut f: impl FnMut(Vec<JournalDetail>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E>
    where
        E: From<StoreError>,
    {
        let batch_size = batch_size.max(1);
        let mut after: Option<(i64, String)> = None;
        loop {
            let rows = self.detail_batch(start_ts, end_ts, after.as_ref(), batch_size)?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = Some((last.0, last.1.clone()));
            let full = rows.len() == batch_size;
            f(decode_batch(rows)?)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// One keyset page of [`Store::details_in_range`] for callers that cannot run inside its
    /// callback (async stages): the stored details with `start_ts <= report_time < end_ts`
    /// after `after` (`(report_time, journal_uuid)` of the previous page's last detail), in
    /// report-time order, decoded, at most `limit`.
    pub(crate) fn details_page(
        &self,
        start_ts: i64,
        end_ts: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<JournalDetail>> {
        self.detail_batch(start_ts, end_ts, after, limit.max(1))?
            .into_iter()
            .map(|(_, uuid, raw)| decode_detail(uuid, &raw))
            .collect()
    }

    fn detail_batch(
        &self,
        start_ts: i64,
        end_ts: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>> {
        let what = "reading details by report time";
        let conn = self.conn();
        let (after_time, after_uuid) = match after {
            Some((t, u)) => (*t, u.as_str()),
            // Before every stored row: report times start at start_ts, uuids are never "".
            None => (i64::MIN, ""),
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT report_time, journal_uuid, raw FROM details
                 WHERE report_time >= ?1 AND report_time < ?2 AND (report_time, journal_uuid) > (?3, ?4)
                 ORDER BY report_time, journal_uuid LIMIT ?5",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(
                params![start_ts, end_ts, after_time, after_uuid, limit as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Distinct template ids of the stored details with `start_ts <= report_time < end_ts`.
    #[cfg(test)]
    pub(crate) fn template_ids_in_range(&self, start_ts: i64, end_ts: i64) -> Result<Vec<String>> {
        let what = "listing the templates of stored details";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT template_id FROM details
                 WHERE report_time >= ?1 AND report_time < ?2 AND template_id IS NOT NULL AND template_id <> ''
                 ORDER BY template_id",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(params![start_ts, end_ts], |r| r.get::<_, String>(0))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Every stored detail's uuid and raw JSON, by uuid (for comparisons and exports).
    pub fn detail_raws(&self) -> Result<Vec<(String, String)>> {
        let what = "reading raw details";
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT journal_uuid, raw FROM details ORDER BY journal_uuid")
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }
}

/// The wedrive files a detail references: the `wedrive_files` entries of each of its
/// WedriveFile controls, Table cells included (each entry counted, as the plan counts download
/// calls). Dispatch is on the control's name, as everywhere: other controls carry the key as
/// `[]`, and one that fills it is no wedrive attachment.
pub(super) fn wedrive_file_count(detail: &JournalDetail) -> u64 {
    Control::walk(&detail.apply_data.contents)
        .map(|c| match &c.value {
            ControlValue::WedriveFile { files } => files.len() as u64,
            _ => 0,
        })
        .sum()
}

/// A count as SQLite stores it.
fn sql_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Records `wedrive_files` for every stored detail, from its decoded raw JSON: the migration
/// of a store older than [`WEDRIVE_FILES_SINCE`], run inside its transaction. Gives how many
/// details it went through.
pub(super) fn fill_wedrive_files(conn: &Connection) -> Result<u64> {
    let mut update = conn
        .prepare("UPDATE details SET wedrive_files = ?2 WHERE journal_uuid = ?1")
        .ctx("recording the wedrive files of stored details")?;
    let mut n = 0;
    for_each_stored_detail(conn, |detail| {
        update
            .execute(params![
                detail.journal_uuid,
                sql_count(wedrive_file_count(detail))
            ])
            .ctx(format!(
                "recording the wedrive files of detail {}",
                detail.journal_uuid
            ))?;
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// The wedrive files of every stored detail (see [`wedrive_file_count`]). A store of schema
/// `version` older than [`WEDRIVE_FILES_SINCE`] (opened read-only, so never migrated) has
/// them in no column: they are counted from the decoded details, as the migration would.
pub(super) fn count_wedrive_files(conn: &Connection, version: i64) -> Result<u64> {
    if version >= WEDRIVE_FILES_SINCE {
        let n: i64 = conn
            .query_row(
                "SELECT coalesce(sum(wedrive_files), 0) FROM details",
                [],
                |r| r.get(0),
            )
            .ctx("counting the wedrive files of stored details")?;
        return Ok(n.max(0) as u64);
    }
    let mut n = 0;
    for_each_stored_detail(conn, |detail| {
        n += wedrive_file_count(detail);
        Ok(())
    })?;
    Ok(n)
}

/// Calls `f` with every stored detail, decoded, by uuid, [`DECODE_PAGE`] at a time: each page
/// is read whole (keyset paging) before `f` sees it, so `f` may write to `details` and memory
/// stays bounded.
pub(super) fn for_each_stored_detail(
    conn: &Connection,
    mut f: impl FnMut(&JournalDetail) -> Result<()>,
) -> Result<()> {
    let what = "reading stored details";
    let mut stmt = conn
        .prepare(
            "SELECT journal_uuid, raw FROM details WHERE journal_uuid > ?1
             ORDER BY journal_uuid LIMIT ?2",
        )
        .ctx(what)?;
    // Before every stored uuid: uuids are never "".
    let mut after = String::new();
    loop {
        let page = stmt
            .query_map(params![after, DECODE_PAGE], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .ctx(what)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(what)?;
        let full = page.len() as i64 == DECODE_PAGE;
        for (uuid, raw) in page {
            let detail: JournalDetail =
                serde_json::from_str(&raw).map_err(|source| StoreError::Decode {
                    what: format!("detail {uuid}"),
                    source,
                })?;
            f(&detail)?;
            after = uuid;
        }
        if !full {
            return Ok(());
        }
    }
}

/// A stored detail decoded, under the uuid it is stored by: the uuid that was asked for,
/// which the text may lack (one of the reference's examples has no `journal_uuid`) or spell
/// otherwise (extract warns then).
/// Decodes a page of stored details, in order. Decoding is the heaviest step of a rebuild
/// (see docs/benchmarks.md, "Rebuild"): the page is split over rayon's threads, so that the
/// core that flattens and writes the last page helps whenever it waits. The first detail that
/// does not decode is the error.
fn decode_batch(rows: Vec<(i64, String, String)>) -> Result<Vec<JournalDetail>> {
    use rayon::prelude::*;
    let decoded: Vec<Result<JournalDetail>> = rows
        .into_par_iter()
        .with_min_len(DECODE_CHUNK)
        .map(|(_, uuid, raw)| decode_detail(uuid, &raw))
        .collect();
    decoded.into_iter().collect()
}

/// Details decoded in one go by one thread of [`decode_batch`].
const DECODE_CHUNK: usize = 64;

/// Decodes without tracking the field path (the tracking wraps every value decoded: the
/// profile's largest share of decoding, docs/benchmarks.md), and only when that fails decodes
/// again with it, for an error that says where.
fn decode_detail(uuid: String, raw: &str) -> Result<JournalDetail> {
    let mut detail = match JournalDetail::decode_untracked(raw) {
        Ok(detail) => detail,
        Err(_) => serde_json::from_str(raw).map_err(|source| StoreError::Decode {
            what: format!("detail {uuid}"),
            source,
        })?,
    };
    detail.journal_uuid = uuid;
    Ok(detail)
}
