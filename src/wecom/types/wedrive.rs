//! `journal/get_wedrive_file` (doc 98021): where to download a wedrive file attached to a
//! journal. The answer's URL and cookie are credentials: `Debug` leaves them out.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub(crate) struct WedriveDownloadRequest {
    pub(crate) journaluuid: String,
    pub(crate) fileid: String,
}

/// Where and how to fetch a wedrive file's bytes (valid two hours). Its cookie is a credential:
/// `Debug` leaves it out.
#[derive(Clone, Deserialize, Serialize, PartialEq)]
pub struct WedriveDownload {
    pub download_url: String,
    pub(crate) cookie_name: String,
    pub cookie_value: String,
}

impl std::fmt::Debug for WedriveDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WedriveDownload")
            .field("download_url", &"[redacted]")
            .field("cookie_name", &self.cookie_name)
            .field("cookie_value", &"[redacted]")
            .finish()
    }
}
