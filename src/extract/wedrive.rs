//! Wedrive files (`extract.wedrive_files = true`): the files attached through WedriveFile
//! controls of the range's stored details (Table cells included), downloaded into
//! `<output dir>/files/<journal_uuid>/<fileid>` and recorded in the store (whose records the
//! pipeline hands to flatten as `journal_attachments.local_path`).
//!
//! The output directory is the store's directory (`<output.dir>/store.sqlite`, README "The demo
//! and its output"), so the files always sit beside the store that records them, whatever
//! `--output` said.
//!
//! Owns the layout under `files/` and the file-name sanitising. Talks to WeCom only through
//! [`WecomClient`](crate::wecom::WecomClient) and keeps state only through [`Store`]. A download answer (URL and cookie,
//! a credential valid two hours) lives only in memory for the one GET it serves: it is never
//! stored, logged or put in an error.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use futures::stream::FuturesUnordered;

use super::progress::StageProgress;
use super::stop::{next_or_abandon, Next};
use super::{range_window, Ctx, ExtractError, ExtractSummary, RefusedItems};
use crate::job::DateRange;
use crate::store::{Store, WedriveDownloadRecord};
use crate::wecom::client::{classify_errcode, Verdict};
use crate::wecom::types::{Control, ControlValue};
use crate::wecom::WecomError;

/// The directory under the output directory that holds the downloaded files.
pub(crate) const FILES_DIR: &str = "files";

/// Details read from the store at a time while queueing downloads (memory stays bounded).
const DETAIL_PAGE: usize = 500;

/// Longest file name written (bytes); longer sanitised ids are cut and suffixed with a hash.
const MAX_NAME: usize = 200;

/// The fileids of the WedriveFile controls among `controls`, Table cells included, depth-first,
/// each once; empty fileids (nothing to download) are left out. Dispatch is on the control's
/// type, never on which key of the value is filled.
pub(crate) fn wedrive_fileids(controls: &[Control]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in Control::walk(controls) {
        if let ControlValue::WedriveFile { files } = &c.value {
            for f in files {
                if !f.fileid.is_empty() && !out.contains(&f.fileid) {
                    out.push(f.fileid.clone());
                }
            }
        }
    }
    out
}

/// An id as one safe file name: ASCII letters, digits, `-` and `_` as they are, `.` too
/// except in the first place; every other byte (`/`, `\`, `%`, `~`, spaces, non-ASCII …)
/// as `%XX`. Different ids give different names (a name longer than [`MAX_NAME`] is cut and
/// ends in `~` and a hash of the whole id, and `~` is otherwise always escaped); `.` and `..`
/// cannot come out, nor a hidden file.
pub(crate) fn safe_file_name(id: &str) -> String {
    if id.is_empty() {
        // Never the output of the escaping below (which always writes `%XX`).
        return "%".to_string();
    }
    let mut out = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_NAME {
        // All ASCII by now: any byte index is a char boundary.
        out.truncate(MAX_NAME - 17);
        out.push_str(&format!("~{:016x}", fnv1a(id.as_bytes())));
    }
    out
}

/// FNV-1a, 64 bits: a stable hash (the same in every build) for cut names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where a journal's wedrive file goes, relative to the output directory, `/`-separated (the
/// `local_path` of the store and of `journal_attachments`).
pub(crate) fn relative_path(journal_uuid: &str, fileid: &str) -> String {
    format!(
        "{FILES_DIR}/{}/{}",
        safe_file_name(journal_uuid),
        safe_file_name(fileid)
    )
}

/// The output directory of a store: the directory it lives in.
fn output_root(store: &Store) -> PathBuf {
    match store.path().parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// One file to download.
#[derive(Debug, Clone)]
struct FileTask {
    journal_uuid: String,
    fileid: String,
}

/// Why one download failed.
enum FileError {
    Api(WecomError),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Ctx<'_> {
    /// Downloads the wedrive files of the range's stored details not downloaded yet,
    /// `queue_cap` under way at once; details are read a page at a time. A file refused
    /// (301065 …) or failing after its retries is a gap; one that cannot be written fails the
    /// run.
    pub(super) async fn wedrive(
        &self,
        range: DateRange,
        summary: &mut ExtractSummary,
    ) -> Result<(), ExtractError> {
        let root = output_root(self.store);
        let whole = range_window(range, self.tz);
        let mut bar = StageProgress::new("wedrive", "files", Some(0), self.opts.progress);
        let mut pending: VecDeque<FileTask> = VecDeque::new();
        let mut after: Option<(i64, String)> = None;
        let mut details_done = false;
        let mut in_flight = FuturesUnordered::new();
        let mut refused = RefusedItems::new("wedrive file(s)");
        let mut failed = RefusedItems::new("wedrive file(s) not downloaded after retries");
        loop {
            while in_flight.len() < self.queue_cap && !self.stopping() {
                if let Some(task) = pending.pop_front() {
                    let root = &root;
                    in_flight.push(async move {
                        let result = self.download(root, &task).await;
                        (task, result)
                    });
                    continue;
                }
                if details_done {
                    break;
                }
                let page = self.store.details_page(
                    whole.start_ts,
                    whole.end_ts,
                    after.as_ref(),
                    DETAIL_PAGE,
                )?;
                let Some(last) = page.last() else {
                    details_done = true;
                    break;
                };
                after = Some((last.report_time, last.journal_uuid.clone()));
                let mut wanted = 0;
                for detail in &page {
                    for fileid in wedrive_fileids(&detail.apply_data.contents) {
                        if self.is_downloaded(&root, &detail.journal_uuid, &fileid)? {
                            summary.wedrive_skipped += 1;
                        } else {
                            pending.push_back(FileTask {
                                journal_uuid: detail.journal_uuid.clone(),
                                fileid,
                            });
                            wanted += 1;
                        }
                    }
                }
                bar.inc_length(wanted);
            }
            let (task, result) = match next_or_abandon(&self.opts.stop, &mut in_flight).await {
                Next::Item(item) => item,
                Next::Done | Next::Abandoned => break,
            };
            let what = || {
                format!(
                    "wedrive file {} of journal {}",
                    task.fileid, task.journal_uuid
                )
            };
            match result {
                Ok(record) => {
                    self.store.put_wedrive_download(&record)?;
                    summary.wedrive_downloaded += 1;
                    summary.wedrive_bytes += record.bytes;
                }
                Err(FileError::Api(err)) if err.is_permission_gap() => {
                    refused.add(format!("{} of {}", task.fileid, task.journal_uuid), &err);
                }
                // Not sent: the run is stopping; the next run downloads it.
                Err(FileError::Api(WecomError::Stopped { .. })) => continue,
                // A file is an attachment, not the journal: one that cannot be fetched after
                // its retries is a gap of the run (the next run tries it again).
                Err(FileError::Api(err)) if unavailable(&err) => {
                    tracing::warn!("{}: {err}", what());
                    failed.add(format!("{} of {}", task.fileid, task.journal_uuid), &err);
                }
                Err(FileError::Api(source)) => {
                    return Err(ExtractError::Api {
                        context: what(),
                        source,
                    })
                }
                Err(FileError::Io { path, source }) => {
                    return Err(ExtractError::Io {
                        context: format!("{}: writing {}", what(), path.display()),
                        source,
                    })
                }
            }
            bar.inc(1);
        }
        self.check_stop()?;
        for g in refused.into_gaps().into_iter().chain(failed.into_gaps()) {
            tracing::warn!(what = %g.what, errcode = g.errcode, "gap: {}", g.message);
            summary.gaps.push(g);
        }
        bar.finish(&format!(
            "{} downloaded ({} bytes), {} already there",
            summary.wedrive_downloaded, summary.wedrive_bytes, summary.wedrive_skipped
        ));
        Ok(())
    }

    /// Recorded, still on disk with the recorded size, and (under a full refresh) downloaded by
    /// this run or the one it resumes.
    fn is_downloaded(&self, root: &Path, uuid: &str, fileid: &str) -> Result<bool, ExtractError> {
        let Some(record) = self.store.wedrive_download(uuid, fileid)? else {
            return Ok(false);
        };
        if self.opts.full_refresh && record.fetched_at < self.as_of {
            return Ok(false);
        }
        Ok(std::fs::metadata(root.join(&record.local_path))
            .is_ok_and(|m| m.is_file() && m.len() == record.bytes))
    }

    /// `download_wedrive_file`, then the GET with its cookie streaming the bytes into a
    /// temporary name beside the target (fsynced), renamed over it, and the directory fsynced:
    /// a reader never sees half a file, and a recorded file survives a power loss.
    async fn download(
        &self,
        root: &Path,
        task: &FileTask,
    ) -> Result<WedriveDownloadRecord, FileError> {
        let download = self
            .client
            .download_wedrive_file(&task.journal_uuid, &task.fileid)
            .await
            .map_err(FileError::Api)?;
        let local_path = relative_path(&task.journal_uuid, &task.fileid);
        let target = root.join(&local_path);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FileError::Io { path, source }
        };
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
        }
        // A name no final file has (they never start with `.`), unique per process so two runs
        // of one job cannot interleave their writes; a killed run's is removed by the next.
        let tmp = target.with_file_name(format!(
            ".{}.{}.tmp",
            safe_file_name(&task.fileid),
            std::process::id()
        ));
        let fetched = self.client.download_wedrive_bytes(&download, &tmp).await;
        drop(download);
        let file = match fetched {
            Ok(file) => file,
            Err(WecomError::Io { path, message, .. }) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(FileError::Io {
                    path,
                    source: std::io::Error::other(message),
                });
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(FileError::Api(e));
            }
        };
        if let Err(e) = tokio::fs::rename(&tmp, &target).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(&target)(e));
        }
        if let Some(dir) = target.parent() {
            sync_dir(dir).await.map_err(io(dir))?;
        }
        Ok(WedriveDownloadRecord {
            journal_uuid: task.journal_uuid.clone(),
            fileid: task.fileid.clone(),
            local_path,
            bytes: file.bytes,
            checksum: Some(file.checksum),
            fetched_at: self.clock.ts(),
        })
    }
}

/// Whether a download failed for the file's own sake, after its retries: its URL timed out or
/// answered an HTTP error, or WeCom stayed busy. Anything else (a journal WeCom does not know,
/// an answer of the wrong shape) is the extraction's failure, not a gap.
fn unavailable(err: &WecomError) -> bool {
    match err {
        WecomError::Transport { .. } => true,
        WecomError::Api { errcode, .. } => {
            matches!(classify_errcode(*errcode), Verdict::Backoff { .. })
        }
        _ => false,
    }
}

/// fsyncs a directory (a rename into it); file systems that cannot say `EINVAL`, not an error.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_path_buf();
    let synced = tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?;
    match synced {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wecom::types::{LangText, TableRow, WedriveRef};

    fn wedrive(id: &str, ids: &[&str]) -> Control {
        Control::new(
            id,
            vec![LangText {
                text: "微盘文件".into(),
                lang: None,
            }],
            ControlValue::WedriveFile {
                files: ids
                    .iter()
                    .map(|f| WedriveRef {
                        fileid: f.to_string(),
                    })
                    .collect(),
            },
        )
    }

    #[test]
    fn fileids_come_from_wedrive_controls_and_table_cells_once_each() {
        let table = Control::new(
            "Table-1",
            vec![],
            ControlValue::Table {
                rows: vec![
                    TableRow {
                        list: vec![wedrive("W-2", &["c", "a"])],
                    },
                    TableRow {
                        list: vec![Control::new(
                            "Table-2",
                            vec![],
                            ControlValue::Table {
                                rows: vec![TableRow {
                                    list: vec![wedrive("W-3", &["d", ""])],
                                }],
                            },
                        )],
                    },
                ],
            },
        );
        // Another control type with a filled wedrive_files key is not a wedrive attachment.
        let mut value = ControlValue::Text { text: "x".into() }.to_api_value();
        value["wedrive_files"] = serde_json::json!([{"fileid": "no"}]);
        let text = Control::from_raw(
            "Text",
            "Text-1",
            vec![],
            serde_json::value::to_raw_value(&value).unwrap(),
        );
        let text: Control = serde_json::from_value(serde_json::to_value(&text).unwrap()).unwrap();
        let controls = vec![wedrive("W-1", &["a", "b"]), table, text];
        assert_eq!(wedrive_fileids(&controls), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(safe_file_name("wdf0123abc"), "wdf0123abc");
        assert_eq!(safe_file_name("a/b"), "a%2Fb");
        assert_eq!(safe_file_name("a%2Fb"), "a%252Fb");
        assert_eq!(safe_file_name(".."), "%2E.");
        assert_eq!(safe_file_name("."), "%2E");
        assert_eq!(safe_file_name("x.pdf"), "x.pdf");
        assert_eq!(safe_file_name("a\\b c"), "a%5Cb%20c");
        assert_eq!(safe_file_name("文"), "%E6%96%87");
        assert_eq!(safe_file_name(""), "%");
        let long_a = "a/".repeat(300);
        let long_b = format!("{}x", "a/".repeat(300));
        let (a, b) = (safe_file_name(&long_a), safe_file_name(&long_b));
        assert!(a.len() <= MAX_NAME && b.len() <= MAX_NAME, "{a}");
        assert_ne!(a, b);
        assert!(a.contains('~'));
        for name in [&a, &b] {
            assert!(!name.contains('/') && !name.starts_with('.'));
        }
        assert_eq!(relative_path("u/1", "f"), "files/u%2F1/f");
    }
}
