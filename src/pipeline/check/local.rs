//! The checks made without the network: the job file, its quotas, the output directory and
//! the store.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{CheckId, CheckLine};
use crate::job::{self, is_object_storage, Job, LoadOptions, StorageSettings};
use crate::pipeline::{store_file, Diagnostic};
use crate::sink::{OutputRoot, StorageError};
use crate::store::{Store, StoreError, SCHEMA_VERSION};
use crate::wecom::Limits;

/// The job file: that it parses, then that its credentials' `${VAR}`s are set. The job comes
/// back whenever its shape parses (the local checks need no credentials).
pub(super) fn job_file(path: &Path) -> (Option<Job>, CheckLine) {
    let shape = LoadOptions {
        skip_credentials: true,
        ..LoadOptions::default()
    };
    let job = match job::load(path, &shape) {
        Ok(job) => job,
        Err(e) => {
            let d = Diagnostic::of(&e.into());
            return (None, CheckLine::fail(CheckId::Job, d.message, d.hint));
        }
    };
    match job::load(path, &LoadOptions::default()) {
        Ok(job) => {
            let line = CheckLine::pass(
                CheckId::Job,
                format!(
                    "{} is valid (job {}, range {}) and its ${{VAR}}s are set",
                    path.display(),
                    job.name,
                    job.resolve_range(job.today())
                ),
            );
            (Some(job), line)
        }
        Err(e) => {
            let hint = "set the corp id and the secret the job's [source] names: `export \
                        WECOM_CORP_ID=ww… WECOM_JOURNAL_SECRET=…` (the 企业ID under 我的企业 → \
                        企业信息, My Company → Company Information; the app's Secret under 应用管理 \
                        → the app, App Management → the app)";
            let line = CheckLine::fail(
                CheckId::Job,
                Diagnostic::of(&e.into()).message,
                Some(hint.into()),
            );
            (Some(job), line)
        }
    }
}

/// The job's `[source.limits]` against the documented quotas (the defaults of [`Limits`]).
pub(super) fn quotas(job: &Job) -> CheckLine {
    let set = &job.source.limits;
    let documented = Limits::default();
    let over: Vec<(&str, u32, u32, &str)> = [
        (
            "record_list_per_minute",
            set.record_list_per_minute,
            documented.record_list_per_minute,
            "/min (doc 93393)",
        ),
        (
            "per_api_per_minute",
            set.per_api_per_minute,
            documented.per_api_per_minute,
            "/min per corp (doc 90454)",
        ),
        (
            "per_api_per_hour",
            set.per_api_per_hour,
            documented.per_api_per_hour,
            "/h per corp (doc 90454)",
        ),
    ]
    .into_iter()
    .filter(|(_, set, documented, _)| set > documented)
    .collect();
    if over.is_empty() {
        return CheckLine::pass(
            CheckId::Quotas,
            format!(
                "record list {}/min, other APIs {}/min and {}/h, at most {} in flight: within \
                 the documented quotas",
                set.record_list_per_minute,
                set.per_api_per_minute,
                set.per_api_per_hour,
                set.max_in_flight
            ),
        );
    }
    let said: Vec<String> = over
        .iter()
        .map(|(key, set, documented, unit)| {
            format!("{key} {set} is above the documented {documented}{unit}")
        })
        .collect();
    let lower: Vec<String> = over
        .iter()
        .map(|(key, _, documented, _)| format!("{key} to {documented}"))
        .collect();
    CheckLine::fail(
        CheckId::Quotas,
        said.join("; "),
        Some(format!(
            "lower [source.limits] {} or less: above a documented quota WeCom answers 45009 and \
             refuses the endpoint for the rest of the minute (or hour)",
            lower.join(", ")
        )),
    )
}

/// The output location is writable: for a local directory, a probe file is created in it (or
/// in its nearest existing ancestor, when the run would create it) and removed at once; for
/// object storage, a probe object is put under the prefix, read back and deleted.
pub(super) fn output(dir: &Path, storage: &StorageSettings) -> CheckLine {
    if is_object_storage(dir) {
        return object_storage_output(dir, storage);
    }
    let Some(existing) = dir.ancestors().find(|a| a.exists()).map(Path::to_path_buf) else {
        return CheckLine::fail(
            CheckId::Output,
            format!("{}: no part of this path exists", dir.display()),
            Some(writable_hint()),
        );
    };
    if !existing.is_dir() {
        return CheckLine::fail(
            CheckId::Output,
            format!("{} is a file, not a directory", existing.display()),
            Some(writable_hint()),
        );
    }
    if let Err(e) = probe(&existing) {
        return CheckLine::fail(
            CheckId::Output,
            format!("{} is not writable: {e}", existing.display()),
            Some(writable_hint()),
        );
    }
    let summary = if existing == dir {
        format!("{} is writable", dir.display())
    } else {
        format!(
            "{} does not exist yet; {} is writable, so the run can create it",
            dir.display(),
            existing.display()
        )
    };
    CheckLine::pass(CheckId::Output, summary)
}

/// `output.dir = "s3://…"`: the root is configured as a run configures it (`[output.storage]`
/// and the `AWS_*` environment), then a small probe object is put under the prefix, read back
/// and deleted. Errors name the object, never a credential.
fn object_storage_output(dir: &Path, storage: &StorageSettings) -> CheckLine {
    let location = dir.to_string_lossy();
    let fail = |e: StorageError| {
        let hint = e.hint().map(str::to_owned);
        CheckLine::fail(CheckId::Output, format!("{location}: {e}"), hint)
    };
    let root = match OutputRoot::parse(&location, storage) {
        Ok(root) => root,
        Err(e) => return fail(e),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!(".wecom-journal-check/{}-{nanos}.tmp", std::process::id());
    let body: &[u8] = b"wecom-journal check\n";
    let probed = root
        .put(&name, body)
        .and_then(|_| root.get(&name))
        .and_then(|read| {
            let deleted = root.delete(&name);
            deleted.map(|()| read)
        });
    match probed {
        Ok(read) if read.as_ref() == body => CheckLine::pass(
            CheckId::Output,
            format!("{location} is writable (a probe object was put, read back and deleted)"),
        ),
        Ok(_) => {
            let _ = root.delete(&name);
            CheckLine::fail(
                CheckId::Output,
                format!("{location}: the probe object read back differs from what was put"),
                Some("check that the endpoint is an S3-compatible store".into()),
            )
        }
        Err(e) => {
            let _ = root.delete(&name);
            fail(e)
        }
    }
}

fn writable_hint() -> String {
    "set output.dir in the job (or pass --output DIR) to a directory this user may write, or \
     give this user write access to it"
        .into()
}

/// Creates, writes and removes a hidden file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path: PathBuf = dir.join(format!(".wecom-journal-check.{}.tmp", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| f.write_all(b"wecom-journal check\n"));
    let removed = fs::remove_file(&path);
    written.and(removed)
}

/// The store's schema version, read without creating, migrating or locking it. The store is
/// local even for an object-storage output (`store.path`, or its default).
pub(super) fn store(job: &Job, dir: &Path) -> CheckLine {
    let path = store_file(job, dir);
    match Store::open_read_only(&path) {
        Ok(None) => CheckLine::pass(
            CheckId::Store,
            format!(
                "{}: none yet; the first run creates it (schema version {SCHEMA_VERSION})",
                path.display()
            ),
        ),
        Ok(Some(store)) if store.schema_version() == SCHEMA_VERSION => CheckLine::pass(
            CheckId::Store,
            format!(
                "{}: schema version {SCHEMA_VERSION}, this program's",
                path.display()
            ),
        ),
        Ok(Some(store)) => CheckLine::pass(
            CheckId::Store,
            format!(
                "{}: schema version {}; the next run migrates it to {SCHEMA_VERSION}",
                path.display(),
                store.schema_version()
            ),
        ),
        Err(e @ StoreError::SchemaTooNew { .. }) => CheckLine::fail(
            CheckId::Store,
            e.to_string(),
            Some(format!(
                "this wecom-journal reads schema version {SCHEMA_VERSION}: use the newer \
                 wecom-journal that wrote it, or another output.dir"
            )),
        ),
        Err(e) => CheckLine::fail(
            CheckId::Store,
            e.to_string(),
            Some(
                "the store is not a SQLite file this program can read: move it away (a run \
                 then starts a new one) or point output.dir elsewhere"
                    .into(),
            ),
        ),
    }
}
