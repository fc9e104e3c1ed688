//! Details WeCom would not give: a journal withdrawn after it was listed (301084), a detail
//! that answers 301066 or does not decode. Each is recorded with its errcode, message and how
//! often it was tried, so that a later run retries it a bounded number of times instead of
//! failing on it, and the manifest names it.

use rusqlite::{params, OptionalExtension};

use super::{Result, SqlContext, Store};

/// A detail recorded as not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailGap {
    pub(crate) journal_uuid: String,
    /// WeCom's errcode; `None` for a body that did not decode.
    pub(crate) errcode: Option<i64>,
    pub(crate) message: String,
    /// Fetches that failed so.
    pub(crate) attempts: u32,
    pub(crate) first_at: i64,
    pub(crate) last_at: i64,
}

impl Store {
    /// Records a failed fetch of a detail (one more attempt). With `drop_detail` (the journal
    /// no longer exists: withdrawn) a detail stored earlier is deleted, in the same transaction,
    /// so the tables lose it as a full run would never have it.
    pub(crate) fn put_detail_gap(
        &self,
        journal_uuid: &str,
        errcode: Option<i64>,
        message: &str,
        at: i64,
        drop_detail: bool,
    ) -> Result<()> {
        let what = format!("recording the gap of detail {journal_uuid}");
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what.clone())?;
        tx.execute(
            "INSERT INTO detail_gaps (journal_uuid, errcode, message, attempts, first_at, last_at)
             VALUES (?1, ?2, ?3, 1, ?4, ?4)
             ON CONFLICT (journal_uuid) DO UPDATE SET errcode = ?2, message = ?3,
                 attempts = attempts + 1, last_at = ?4",
            params![journal_uuid, errcode, message, at],
        )
        .ctx(what.clone())?;
        if drop_detail {
            tx.execute(
                "DELETE FROM details WHERE journal_uuid = ?1",
                [journal_uuid],
            )
            .ctx(what.clone())?;
        }
        tx.commit().ctx(what)
    }

    /// The recorded gap of a detail, if any.
    pub(crate) fn detail_gap(&self, journal_uuid: &str) -> Result<Option<DetailGap>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT journal_uuid, errcode, message, attempts, first_at, last_at
                 FROM detail_gaps WHERE journal_uuid = ?1",
            )
            .ctx("reading a detail's gap")?;
        stmt.query_row([journal_uuid], row_gap)
            .optional()
            .ctx(format!("reading the gap of detail {journal_uuid}"))
    }

    /// Every recorded detail gap, by uuid.
    pub fn detail_gaps(&self) -> Result<Vec<DetailGap>> {
        let what = "reading the detail gaps";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT journal_uuid, errcode, message, attempts, first_at, last_at
                 FROM detail_gaps ORDER BY journal_uuid",
            )
            .ctx(what)?;
        let rows = stmt.query_map([], row_gap).ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// The details a run re-reads whatever its range, by report time: every stored detail last
    /// fetched before `as_of` less than `refresh_s` after it settles from (its report time, or
    /// its stat cycle's end: its comments and reads could still change), and every gap tried fewer than `max_attempts` times, none of them
    /// tried at or after `as_of` (by this run).
    pub(crate) fn details_to_refresh(
        &self,
        as_of: i64,
        refresh_s: i64,
        max_attempts: u32,
    ) -> Result<Vec<String>> {
        let what = "listing the details to refresh";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT journal_uuid FROM (
                     SELECT d.journal_uuid, d.report_time AS t
                     FROM details d LEFT JOIN journal_templates jt USING (journal_uuid)
                     WHERE d.fetched_at < ?1
                       AND d.fetched_at < max(d.report_time, coalesce(jt.cycle_end, 0)) + ?2
                     UNION ALL
                     SELECT journal_uuid, first_at AS t FROM detail_gaps
                     WHERE last_at < ?1 AND attempts < ?3
                 ) GROUP BY journal_uuid ORDER BY min(t), journal_uuid",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(params![as_of, refresh_s, max_attempts], |r| r.get(0))
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }
}

fn row_gap(r: &rusqlite::Row<'_>) -> rusqlite::Result<DetailGap> {
    Ok(DetailGap {
        journal_uuid: r.get(0)?,
        errcode: r.get(1)?,
        message: r.get(2)?,
        attempts: r.get(3)?,
        first_at: r.get(4)?,
        last_at: r.get(5)?,
    })
}
