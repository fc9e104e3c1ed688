//! Where downloaded wedrive files are: the `local_path` of `journal_attachments`, handed to
//! [`super::flatten_journals`] as data. Flatten does not know who downloaded them or where that
//! was recorded; the caller (the pipeline, from the store's download records) fills the map.

use std::collections::HashMap;

/// Downloaded wedrive files by (journal uuid, fileid): the path each was saved at, relative to
/// the output directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalPaths {
    by_file: HashMap<(String, String), String>,
}

impl LocalPaths {
    /// No file downloaded: every `local_path` is null.
    pub fn none() -> LocalPaths {
        LocalPaths::default()
    }

    pub fn insert(&mut self, journal_uuid: &str, fileid: &str, local_path: &str) {
        self.by_file.insert(
            (journal_uuid.to_owned(), fileid.to_owned()),
            local_path.to_owned(),
        );
    }

    /// Where the file `fileid` of the journal was saved, if it was.
    pub fn get(&self, journal_uuid: &str, fileid: &str) -> Option<&str> {
        if self.by_file.is_empty() {
            return None;
        }
        self.by_file
            .get(&(journal_uuid.to_owned(), fileid.to_owned()))
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }
}
