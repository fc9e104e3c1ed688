//! Quota usage: the API calls answered in the last hour per quota (a corp behind an API base),
//! endpoint and writing process, in buckets of time (a few hundred rows per endpoint, never a
//! row per call). A run loads what other processes spent so that its rate limiter's windows
//! continue theirs, and writes what it spends as it goes; `plan` reads it for its ETA.

use rusqlite::params;

use super::{Result, SqlContext, Store};

/// Calls answered in `[start_ms, start_ms + length_ms)` (unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaBucket {
    /// The endpoint's short name (`get_record_detail` …).
    pub endpoint: String,
    pub start_ms: i64,
    pub length_ms: i64,
    pub calls: u64,
}

/// A stored bucket with whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuotaBucket {
    /// The quota it counts against: the corp and API base (`corp_id@api_base`).
    pub(crate) quota_key: String,
    /// The process that made the calls (its token, unique per process).
    pub writer: String,
    pub(crate) bucket: QuotaBucket,
}

impl Store {
    /// The buckets of `quota_key` (every quota if `None`) that end after `since_ms`, oldest
    /// first (none in a store older than schema 4, opened read-only).
    pub fn quota_usage(
        &self,
        quota_key: Option<&str>,
        since_ms: i64,
    ) -> Result<Vec<StoredQuotaBucket>> {
        let what = "reading the quota usage";
        if self.schema_version < super::schema::SUPERSEDED_SINCE {
            // A store opened read-only as an older version wrote it: none recorded.
            return Ok(Vec::new());
        }
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT quota_key, writer, endpoint, start_ms, length_ms, calls FROM quota_usage
                 WHERE (?1 IS NULL OR quota_key = ?1) AND start_ms + length_ms > ?2
                 ORDER BY start_ms, quota_key, endpoint, writer",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(params![quota_key, since_ms], |r| {
                Ok(StoredQuotaBucket {
                    quota_key: r.get(0)?,
                    writer: r.get(1)?,
                    bucket: QuotaBucket {
                        endpoint: r.get(2)?,
                        start_ms: r.get(3)?,
                        length_ms: r.get(4)?,
                        calls: r.get::<_, i64>(5)?.max(0) as u64,
                    },
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }

    /// Replaces what `writer` spent of `quota_key` with `buckets` (its whole usage of the
    /// window kept), and forgets every bucket that ended before `forget_before_ms`, in one
    /// transaction.
    pub fn put_quota_usage(
        &self,
        quota_key: &str,
        writer: &str,
        buckets: &[QuotaBucket],
        forget_before_ms: i64,
    ) -> Result<()> {
        let what = "recording the quota usage";
        let mut conn = self.conn();
        let tx = super::write_tx(&mut conn).ctx(what)?;
        tx.execute(
            "DELETE FROM quota_usage WHERE (quota_key = ?1 AND writer = ?2) OR start_ms + length_ms <= ?3",
            params![quota_key, writer, forget_before_ms],
        )
        .ctx(what)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO quota_usage (quota_key, endpoint, writer, start_ms, length_ms, calls)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .ctx(what)?;
            for b in buckets.iter().filter(|b| b.calls > 0) {
                stmt.execute(params![
                    quota_key,
                    b.endpoint,
                    writer,
                    b.start_ms,
                    b.length_ms,
                    i64::try_from(b.calls).unwrap_or(i64::MAX)
                ])
                .ctx(what)?;
            }
        }
        tx.commit().ctx(what)
    }
}
