//! Errors for operators: what went wrong, each of its causes once, and, when a person can fix
//! it, a hint apart from the message (uv's `error:` / `caused by:` / `hint:`). The pipeline and
//! the stages return errors with context; [`Diagnostic::of`] reads one into what the cli prints
//! and what the manifest records. The hints come from where the facts are: the errcode module
//! for API errors ([`crate::wecom::errcode`]), here for job files and the pipeline's own errors.

use std::error::Error;
use std::path::PathBuf;

use super::lock::{LockHolder, LOCK_FILE};
use crate::extract::StopSignal;
use crate::job::JobError;
use crate::wecom::WecomError;

/// Errors of the pipeline's own making (the stages' errors pass through it with context).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// `rebuild` needs what an earlier run stored.
    #[error("{}: no store to rebuild from", path.display())]
    NoStore { path: PathBuf },
    /// Another run (or rebuild) holds the output directory.
    #[error("{}: another run is using this output directory: {}", dir.display(), holder.as_ref().map(|h| h.to_string()).unwrap_or_else(|| "a run that is just starting".into()))]
    Locked {
        dir: PathBuf,
        holder: Option<LockHolder>,
    },
    /// Stopped by a signal while waiting for the output directory's lock (nothing was done).
    #[error("interrupted by {signal} while waiting for the output directory")]
    InterruptedWaiting { signal: StopSignal },
    /// Stopped by a signal while writing the outputs.
    #[error("interrupted by {signal}")]
    Interrupted { signal: StopSignal },
    /// The lock file could not be created or locked.
    #[error("{}: cannot lock the output directory: {source}", path.display())]
    LockFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PipelineError {
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            PipelineError::NoStore { .. } => Some(
                "run the job first (`wecom-journal run JOB`), or pass --output DIR with the \
                 directory an earlier run wrote its store.sqlite to"
                    .into(),
            ),
            PipelineError::Locked { .. } => Some(format!(
                "one run at a time per output directory: let that run finish, or pass --wait \
                 to start when it has (its lock, {LOCK_FILE}, is released when that process \
                 ends, even if it is killed)"
            )),
            PipelineError::InterruptedWaiting { .. }
            | PipelineError::Interrupted { .. }
            | PipelineError::LockFile { .. } => None,
        }
    }
}

/// An error read for a person: its message, its causes (outermost first, each once), a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) message: String,
    /// The chain of sources below the message, leaving out any whose text a line above already
    /// holds (an error that prints its source, as many do, would otherwise say it twice).
    pub(crate) causes: Vec<String>,
    /// The first hint found walking the chain from the outermost error.
    pub(crate) hint: Option<String>,
    /// The message starts with the place it is about (`FILE:LINE:COL: …`, a job file's error),
    /// as compilers print it, so that editors can jump there.
    pub(crate) located: bool,
}

impl Diagnostic {
    pub(crate) fn of(err: &anyhow::Error) -> Diagnostic {
        let message = err.to_string();
        let mut causes: Vec<String> = Vec::new();
        for cause in err.chain().skip(1) {
            let text = cause.to_string();
            let said = text.is_empty()
                || message.contains(&text)
                || causes.iter().any(|c| c.contains(&text));
            if !said {
                causes.push(text);
            }
        }
        Diagnostic {
            message,
            causes,
            hint: err.chain().find_map(hint_of),
            located: err.downcast_ref::<JobError>().is_some(),
        }
    }

    /// The message and its causes on one line, `: `-separated (for the manifest).
    pub(crate) fn one_line(&self) -> String {
        std::iter::once(self.message.as_str())
            .chain(self.causes.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(": ")
    }
}

/// The hint of one error of a chain, if its type has one.
fn hint_of(err: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = err.downcast_ref::<WecomError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<PipelineError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<JobError>() {
        return job_hint(e);
    }
    None
}

fn job_hint(err: &JobError) -> Option<String> {
    match err {
        JobError::Invalid { .. } => {
            Some("every job key, its type and its default: docs/job-file.md".into())
        }
        JobError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Some("check the path (the example jobs are in jobs/)".into())
        }
        JobError::Read { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("store s: cannot open: {source}")]
    struct Repeats {
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::other("disk on fire");
        let err = anyhow::Error::from(Repeats { source: io })
            .context("opening the store s")
            .context("run x failed");
        let d = Diagnostic::of(&err);
        assert_eq!(d.message, "run x failed");
        assert_eq!(
            d.causes,
            ["opening the store s", "store s: cannot open: disk on fire"]
        );
        assert_eq!(
            d.one_line(),
            "run x failed: opening the store s: store s: cannot open: disk on fire"
        );
        assert_eq!(d.hint, None);
        assert!(!d.located);
    }

    #[test]
    fn hints_come_from_anywhere_in_the_chain() {
        let api = WecomError::Api {
            endpoint: "/cgi-bin/gettoken",
            errcode: crate::wecom::errcode::INVALID_CORP_ID,
            errmsg: "invalid corpid".into(),
        };
        let err = anyhow::Error::from(api).context("extracting");
        let d = Diagnostic::of(&err);
        assert!(d.hint.unwrap().contains("[source] corp_id"));

        let err = anyhow::Error::from(PipelineError::NoStore {
            path: "/o/store.sqlite".into(),
        });
        let d = Diagnostic::of(&err);
        assert_eq!(d.message, "/o/store.sqlite: no store to rebuild from");
        assert!(d.hint.unwrap().starts_with("run the job first"));
    }

    #[test]
    fn job_errors_are_located_and_keep_their_text() {
        let err = anyhow::Error::from(JobError::Read {
            path: "jobs/nope.toml".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let d = Diagnostic::of(&err);
        assert!(d.located);
        assert!(
            d.message.starts_with("jobs/nope.toml: cannot read: "),
            "{d:?}"
        );
        assert!(d.causes.is_empty(), "the io error is in the message: {d:?}");
        assert!(d.hint.unwrap().contains("jobs/"));
    }
}
