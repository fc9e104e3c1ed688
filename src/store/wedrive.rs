//! Wedrive download records: which wedrive file of which journal was saved where, and how big
//! it was, and its checksum. Never the download URL or its cookie (credentials).

use rusqlite::{params, OptionalExtension};

use super::{Result, SqlContext, Store};

/// A wedrive file the extraction downloaded. Only where it is and what it was: the download URL
/// and its cookie are credentials (valid two hours) and are never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WedriveDownloadRecord {
    pub journal_uuid: String,
    pub fileid: String,
    /// Relative to the output directory (the store's directory), `/`-separated.
    pub local_path: String,
    pub bytes: u64,
    /// BLAKE3 of the bytes, lowercase hex; `None` for a file downloaded before schema 4.
    pub checksum: Option<String>,
    pub(crate) fetched_at: i64,
}

impl Store {
    /// The download record of a journal's wedrive file, if it was downloaded.
    pub fn wedrive_download(
        &self,
        journal_uuid: &str,
        fileid: &str,
    ) -> Result<Option<WedriveDownloadRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT local_path, bytes, checksum, fetched_at FROM wedrive_downloads
                 WHERE journal_uuid = ?1 AND fileid = ?2",
            )
            .ctx("reading a wedrive download record")?;
        stmt.query_row(params![journal_uuid, fileid], |r| {
            Ok(WedriveDownloadRecord {
                journal_uuid: journal_uuid.to_string(),
                fileid: fileid.to_string(),
                local_path: r.get(0)?,
                bytes: r.get::<_, i64>(1)? as u64,
                checksum: r.get(2)?,
                fetched_at: r.get(3)?,
            })
        })
        .optional()
        .ctx(format!(
            "reading the download record of wedrive file {fileid} of journal {journal_uuid}"
        ))
    }

    /// Records (or replaces) a downloaded wedrive file, once its bytes are in place.
    pub(crate) fn put_wedrive_download(&self, record: &WedriveDownloadRecord) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO wedrive_downloads (journal_uuid, fileid, local_path, bytes, checksum, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                record.journal_uuid,
                record.fileid,
                record.local_path,
                i64::try_from(record.bytes).unwrap_or(i64::MAX),
                record.checksum,
                record.fetched_at
            ],
        )
        .ctx(format!(
            "recording wedrive file {} of journal {}",
            record.fileid, record.journal_uuid
        ))?;
        Ok(())
    }

    /// Whether any wedrive download is recorded (a store without one needs no query per
    /// journal for them).
    pub(crate) fn has_wedrive_downloads(&self) -> Result<bool> {
        self.conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM wedrive_downloads)", [], |r| {
                r.get(0)
            })
            .ctx("checking for wedrive download records")
    }

    /// The download records of the given journals' wedrive files, by journal then fileid.
    pub(crate) fn wedrive_downloads_of<'a>(
        &self,
        journal_uuids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<WedriveDownloadRecord>> {
        let what = "reading wedrive download records";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT fileid, local_path, bytes, checksum, fetched_at FROM wedrive_downloads
                 WHERE journal_uuid = ?1 ORDER BY fileid",
            )
            .ctx(what)?;
        let mut out = Vec::new();
        for uuid in journal_uuids {
            let rows = stmt
                .query_map([uuid], |r| {
                    Ok(WedriveDownloadRecord {
                        journal_uuid: uuid.to_string(),
                        fileid: r.get(0)?,
                        local_path: r.get(1)?,
                        bytes: r.get::<_, i64>(2)? as u64,
                        checksum: r.get(3)?,
                        fetched_at: r.get(4)?,
                    })
                })
                .ctx(what)?;
            for row in rows {
                out.push(row.ctx(what)?);
            }
        }
        Ok(out)
    }

    /// Every download record, by journal then fileid.
    pub fn wedrive_downloads(&self) -> Result<Vec<WedriveDownloadRecord>> {
        let what = "listing wedrive download records";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT journal_uuid, fileid, local_path, bytes, checksum, fetched_at FROM wedrive_downloads
                 ORDER BY journal_uuid, fileid",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(WedriveDownloadRecord {
                    journal_uuid: r.get(0)?,
                    fileid: r.get(1)?,
                    local_path: r.get(2)?,
                    bytes: r.get::<_, i64>(3)? as u64,
                    checksum: r.get(4)?,
                    fetched_at: r.get(5)?,
                })
            })
            .ctx(what)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().ctx(what)
    }
}
