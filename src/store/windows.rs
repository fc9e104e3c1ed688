//! Record windows and their pages: where paging each (filter combination, window) stands, and
//! the uuids each stored page lists. A page and its window's state move in one transaction.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};

use super::{Result, SqlContext, Store, StoreError};
use crate::wecom::types::RecordFilter;

/// The filter combination of a record window, in the canonical text used as its key: the JSON
/// of the filters in the order the request carries them (`[]` without filters).
pub fn filter_key(filters: &[RecordFilter]) -> String {
    // Serialising a Vec of two-string structs cannot fail.
    serde_json::to_string(filters).unwrap_or_else(|_| "[]".to_string())
}

/// Where paging a record window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Some pages stored; paging continues from the last page's `next_cursor`.
    Partial,
    /// Paged to `endflag = 1`.
    Done,
    /// Answered 301066 and halved: its halves are windows of their own.
    Split,
}

impl WindowState {
    fn as_str(self) -> &'static str {
        match self {
            WindowState::Partial => "partial",
            WindowState::Done => "done",
            WindowState::Split => "split",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "partial" => Ok(WindowState::Partial),
            "done" => Ok(WindowState::Done),
            "split" => Ok(WindowState::Split),
            other => Err(StoreError::Invalid(format!(
                "unknown record window state {other:?}"
            ))),
        }
    }
}

/// A record window as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub filter_key: String,
    pub start_ts: i64,
    pub end_ts: i64,
    pub state: WindowState,
    /// Pages stored so far.
    pub pages: u32,
    /// uuids listed so far (over all pages).
    pub journals: u64,
    /// The cursor to continue from (the last page's `next_cursor`).
    pub(crate) next_cursor: u64,
    /// When paging of this window started (unix s): the window is final once `paged_at >=
    /// end_ts`, as nothing can be added to a closed window after that.
    pub(crate) paged_at: i64,
}

impl WindowRecord {
    /// Paged to the end after the window had closed: never paged again.
    pub(crate) fn is_final(&self) -> bool {
        match self.state {
            WindowState::Done => self.paged_at >= self.end_ts,
            WindowState::Split => true,
            WindowState::Partial => false,
        }
    }
}

/// One page of a record window to store.
#[derive(Debug, Clone)]
pub struct PageRecord<'a> {
    pub filter_key: &'a str,
    pub start_ts: i64,
    pub end_ts: i64,
    /// The cursor the page was asked with.
    pub cursor: u64,
    pub uuids: &'a [String],
    pub next_cursor: u64,
    /// `endflag = 1`: the window is done with this page.
    pub last: bool,
    /// When paging of the window started (kept from the first page).
    pub paged_at: i64,
}

impl Store {
    /// The stored state of a window, if it was ever paged.
    pub(crate) fn record_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Option<WindowRecord>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT state, pages, journals, next_cursor, paged_at FROM record_windows
                 WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
                params![filter_key, start_ts, end_ts],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .ctx(format!(
                "reading record window {filter_key} [{start_ts}, {end_ts})"
            ))?;
        row.map(|(state, pages, journals, next_cursor, paged_at)| {
            Ok(WindowRecord {
                filter_key: filter_key.to_string(),
                start_ts,
                end_ts,
                state: WindowState::parse(&state)?,
                pages: pages as u32,
                journals: journals as u64,
                next_cursor: next_cursor as u64,
                paged_at,
            })
        })
        .transpose()
    }

    /// Starts (or restarts) paging a window from its first page: any earlier listing of it is
    /// dropped, in the same transaction that records the new start, so the window never reads
    /// as done with a half listing.
    pub fn begin_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
    ) -> Result<()> {
        let what = format!("starting record window {filter_key} [{start_ts}, {end_ts})");
        self.reset_window(filter_key, start_ts, end_ts, paged_at, "partial", &what)
    }

    /// Stores one page and advances its window (to `done` on the last page), in one transaction.
    pub fn put_page(&self, page: &PageRecord<'_>) -> Result<()> {
        let what = || {
            format!(
                "storing a page of record window {} [{}, {}) at cursor {}",
                page.filter_key, page.start_ts, page.end_ts, page.cursor
            )
        };
        let uuids = serde_json::to_string(page.uuids).map_err(|source| StoreError::Decode {
            what: what(),
            source,
        })?;
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what())?;
        let (pages, journals): (i64, i64) = tx
            .query_row(
                "SELECT pages, journals FROM record_windows WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
                params![page.filter_key, page.start_ts, page.end_ts],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx(what())?
            .unwrap_or((0, 0));
        tx.execute(
            "INSERT OR REPLACE INTO record_pages (filter_key, start_ts, end_ts, page_no, cursor, next_cursor, uuids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                page.filter_key,
                page.start_ts,
                page.end_ts,
                pages,
                page.cursor as i64,
                page.next_cursor as i64,
                uuids
            ],
        )
        .ctx(what())?;
        let state = if page.last {
            WindowState::Done
        } else {
            WindowState::Partial
        };
        tx.execute(
            "INSERT INTO record_windows (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (filter_key, start_ts, end_ts) DO UPDATE SET
                 state = excluded.state, pages = excluded.pages, journals = excluded.journals,
                 next_cursor = excluded.next_cursor",
            params![
                page.filter_key,
                page.start_ts,
                page.end_ts,
                state.as_str(),
                pages + 1,
                journals + page.uuids.len() as i64,
                page.next_cursor as i64,
                page.paged_at
            ],
        )
        .ctx(what())?;
        tx.commit().ctx(what())
    }

    /// Records that a window answered 301066 and was halved; its halves are paged on their own.
    pub(crate) fn put_window_split(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
    ) -> Result<()> {
        let what = format!("marking record window {filter_key} [{start_ts}, {end_ts}) split");
        self.reset_window(filter_key, start_ts, end_ts, paged_at, "split", &what)
    }

    /// Drops a window's pages and sets it to `state` with nothing listed, in one transaction,
    /// so the window never reads as done with a half listing.
    fn reset_window(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
        paged_at: i64,
        state: &str,
        what: &str,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what)?;
        tx.execute(
            "DELETE FROM record_pages WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3",
            params![filter_key, start_ts, end_ts],
        )
        .ctx(what)?;
        tx.execute(
            "INSERT INTO record_windows (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at)
             VALUES (?1, ?2, ?3, ?5, 0, 0, 0, ?4)
             ON CONFLICT (filter_key, start_ts, end_ts) DO UPDATE SET
                 state = excluded.state, pages = 0, journals = 0, next_cursor = 0, paged_at = excluded.paged_at",
            params![filter_key, start_ts, end_ts, paged_at, state],
        )
        .ctx(what)?;
        tx.commit().ctx(what)
    }

    /// The uuids a window's stored pages list, in page order, each once.
    pub fn window_uuids(
        &self,
        filter_key: &str,
        start_ts: i64,
        end_ts: i64,
    ) -> Result<Vec<String>> {
        let what =
            || format!("reading the uuids of record window {filter_key} [{start_ts}, {end_ts})");
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT uuids FROM record_pages WHERE filter_key = ?1 AND start_ts = ?2 AND end_ts = ?3
                 ORDER BY page_no",
            )
            .ctx(what())?;
        let pages = stmt
            .query_map(params![filter_key, start_ts, end_ts], |r| {
                r.get::<_, String>(0)
            })
            .ctx(what())?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for page in pages {
            let page = page.ctx(what())?;
            let uuids: Vec<String> =
                serde_json::from_str(&page).map_err(|source| StoreError::Decode {
                    what: what(),
                    source,
                })?;
            for uuid in uuids {
                if seen.insert(uuid.clone()) {
                    out.push(uuid);
                }
            }
        }
        Ok(out)
    }

    /// Every stored window, ordered by filter combination and start.
    pub fn record_windows(&self) -> Result<Vec<WindowRecord>> {
        let what = "listing record windows";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at
                 FROM record_windows ORDER BY filter_key, start_ts, end_ts",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .ctx(what)?;
        let mut out = Vec::new();
        for row in rows {
            let (filter_key, start_ts, end_ts, state, pages, journals, next_cursor, paged_at) =
                row.ctx(what)?;
            out.push(WindowRecord {
                filter_key,
                start_ts,
                end_ts,
                state: WindowState::parse(&state)?,
                pages: pages as u32,
                journals: journals as u64,
                next_cursor: next_cursor as u64,
                paged_at,
            });
        }
        Ok(out)
    }
}
