//! Where downloaded wedrive files are, how big and their checksum: the `local_path`, `bytes`
//! and `checksum` of `journal_attachments`, handed to [`super::flatten_journals`] as data.
//! Flatten does not know who downloaded them or where that was recorded; the caller (the
//! pipeline, from the store's download records) fills the map.

use std::collections::HashMap;

/// A downloaded file: where it was saved (relative to the output directory), and its size and
/// checksum when they were recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub(crate) local_path: String,
    pub(crate) bytes: Option<u64>,
    /// BLAKE3 of the bytes, lowercase hex.
    pub(crate) checksum: Option<String>,
}

/// Downloaded wedrive files by (journal uuid, fileid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalPaths {
    by_file: HashMap<(String, String), LocalFile>,
}

impl LocalPaths {
    /// No file downloaded: every `local_path` is null.
    pub fn none() -> LocalPaths {
        LocalPaths::default()
    }

    /// A file saved at `local_path`, of unknown size and checksum.
    pub fn insert(&mut self, journal_uuid: &str, fileid: &str, local_path: &str) {
        self.insert_file(
            journal_uuid,
            fileid,
            LocalFile {
                local_path: local_path.to_owned(),
                bytes: None,
                checksum: None,
            },
        );
    }

    pub(crate) fn insert_file(&mut self, journal_uuid: &str, fileid: &str, file: LocalFile) {
        self.by_file
            .insert((journal_uuid.to_owned(), fileid.to_owned()), file);
    }

    /// The file `fileid` of the journal, if it was downloaded.
    pub(crate) fn file(&self, journal_uuid: &str, fileid: &str) -> Option<&LocalFile> {
        if self.by_file.is_empty() {
            return None;
        }
        self.by_file
            .get(&(journal_uuid.to_owned(), fileid.to_owned()))
    }
}
