//! One run per output directory at a time: an exclusive advisory lock (`flock`) on
//! `<output>/run.lock`, held for the whole run (and a rebuild) and released by the operating
//! system when the process ends however it ends, so a killed run never leaves it held. The file
//! says who holds it (pid, host, start time, job, run id) for the run that finds it taken:
//! that one refuses to start ([`PipelineError::Locked`], exit 75) or, asked to `--wait`, polls
//! until it is free. The file itself stays (removing it would let two runs lock two files).
//!
//! Holding the lock is what makes the store's `running` rows meaningful: a run that holds it
//! knows every other `running` row is a killed run, which it may resume.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PipelineError;
use crate::extract::Stop;

/// The lock file's name in the output directory.
pub const LOCK_FILE: &str = "run.lock";

/// How often a waiting run tries the lock again.
const WAIT_POLL: Duration = Duration::from_millis(250);

/// Who holds an output directory: what the lock file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub(crate) pid: u32,
    pub(crate) host: String,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) job: String,
    pub(crate) run_id: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {}, started {} (job {}, run {})",
            self.pid,
            self.host,
            self.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.job,
            self.run_id
        )
    }
}

impl LockHolder {
    /// This process, starting `run_id` of `job` now.
    pub(crate) fn this_process(job: &str, run_id: &str, started_at: DateTime<Utc>) -> LockHolder {
        LockHolder {
            pid: std::process::id(),
            host: host_name(),
            started_at,
            job: job.to_owned(),
            run_id: run_id.to_owned(),
        }
    }
}

/// The held lock of an output directory; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    pub path: PathBuf,
    /// Who took it: this run, with the id and start time it was given once the lock was held.
    pub(crate) holder: LockHolder,
}

impl RunLock {
    /// Takes the lock of `dir` (creating the directory and the file if needed) for `holder`.
    /// If another process holds it: [`PipelineError::Locked`] naming it, or with `wait`, try
    /// again every 250 ms until it is free or `stop` is thrown
    /// ([`PipelineError::InterruptedWaiting`]).
    /// `holder` is asked for once the lock is held, so that a run that waited starts (and is
    /// named, run ids being start times) when it runs: two runs started in the same
    /// millisecond, one waiting for the other, never share an id, a manifest or a store row.
    pub(crate) fn acquire(
        dir: &Path,
        holder: impl FnOnce() -> LockHolder,
        wait: bool,
        stop: &Stop,
    ) -> Result<RunLock, PipelineError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| PipelineError::LockFile {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let mut waiting_logged = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let mut held_by = read_holder(&mut file);
            // Taken a moment ago: its holder is writing who it is. Give it that moment.
            for _ in 0..25 {
                if held_by.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
                held_by = read_holder(&mut file);
            }
            if !wait {
                return Err(PipelineError::Locked {
                    dir: dir.to_path_buf(),
                    holder: held_by,
                });
            }
            if !waiting_logged {
                let by = held_by
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "another run".into());
                tracing::info!(dir = %dir.display(), "waiting for the run holding the output directory: {by}");
                waiting_logged = true;
            }
            if let Some(signal) = stop.signal() {
                return Err(PipelineError::InterruptedWaiting { signal });
            }
            std::thread::sleep(WAIT_POLL);
        }
        // Ours now: say who we are (a reader meanwhile sees an empty or a whole record).
        let holder = holder();
        let record = serde_json::to_string(&holder).unwrap_or_default();
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(format!("{record}\n").as_bytes()))
            .and_then(|()| file.flush());
        written.map_err(io)?;
        Ok(RunLock {
            _file: file,
            path,
            holder,
        })
    }
}

/// What the lock file says of its holder, if it says it whole.
fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// This machine's name: the kernel's, else `/etc/hostname`, else `$HOSTNAME`, else `unknown`.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(run: &str) -> LockHolder {
        LockHolder::this_process("job", run, Utc::now())
    }

    #[test]
    fn a_second_taker_is_refused_with_the_holder_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), || holder("r1"), false, &Stop::new()).unwrap();
        // flock locks belong to the open file: a second open in this process conflicts too.
        match RunLock::acquire(dir.path(), || holder("r2"), false, &Stop::new()) {
            Err(PipelineError::Locked {
                holder: Some(h), ..
            }) => {
                assert_eq!(h.run_id, "r1");
                assert_eq!(h.pid, std::process::id());
                assert!(!h.host.is_empty());
            }
            other => panic!("expected Locked with its holder, got {other:?}"),
        }
        drop(first);
        let second = RunLock::acquire(dir.path(), || holder("r2"), false, &Stop::new()).unwrap();
        let text = std::fs::read_to_string(&second.path).unwrap();
        assert!(text.contains("\"run_id\":\"r2\""), "{text}");
    }

    #[test]
    fn a_waiting_taker_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let _first = RunLock::acquire(dir.path(), || holder("r1"), false, &Stop::new()).unwrap();
        let stop = Stop::new();
        stop.trigger(crate::extract::StopSignal::Terminate);
        match RunLock::acquire(dir.path(), || holder("r2"), true, &stop) {
            Err(PipelineError::InterruptedWaiting { signal }) => {
                assert_eq!(signal, crate::extract::StopSignal::Terminate)
            }
            other => panic!("expected InterruptedWaiting, got {other:?}"),
        }
    }
}
