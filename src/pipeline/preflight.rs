//! What `validate` and `run` check of a loaded job before any call, beyond what parsing sees:
//! the files a job names exist and read (today the `csv:` directory), so that a typo fails in
//! a second with the job file's place, not after the whole extraction. Reads only the files
//! the job names; writes nothing.

use crate::flatten::Directory;
use crate::job::{keys, DirectorySource, JobError, LoadedJob};

/// Checks what the job names beyond its own file; the error points at the key in the job file
/// (`file:line:col: message`) and, for a CSV that does not parse, names the CSV's line.
pub(crate) fn preflight(loaded: &LoadedJob) -> Result<(), JobError> {
    if let DirectorySource::Csv(path) = &loaded.job.extract.directory {
        Directory::from_csv(path).map_err(|e| {
            loaded.invalid_at(&keys::EXTRACT_DIRECTORY, format!("extract.directory: {e}"))
        })?;
    }
    Ok(())
}
