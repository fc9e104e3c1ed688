//! The output root: a local directory or an S3-compatible prefix (`s3://bucket/prefix`), and
//! the few operations every sink write goes through: put a file atomically, list a prefix,
//! read one back, delete one.
//!
//! Owns the storage client and its configuration; knows no format, table or job. Local writes go
//! to a hidden temporary name, are fsynced and renamed; S3 writes are one PUT (or a multipart
//! upload for large files), which S3 makes visible atomically at completion. S3 has no rename,
//! so callers that replace a file give the new one a new name and delete the old one afterwards
//! (see [`super::TableWriter`]).
//!
//! Configuration is the ecosystem's: the standard `AWS_*` environment (`AWS_ENDPOINT_URL`,
//! `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_ALLOW_HTTP`, web identity and instance credentials …, as object_store reads them),
//! overridden key by key by [`StorageSettings`] (a job file's `[output.storage]`). Credentials
//! come from the environment only: the settings have no field for one, and neither `Debug`,
//! `Display` nor any error of this module prints one.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

use super::temp_path_for;
pub use crate::job::StorageSettings;
use crate::wecom::Secret;

/// Files at least this large are uploaded in parts (S3's minimum part is 5 MiB).
const MULTIPART_THRESHOLD: usize = 16 << 20;

/// The environment variables whose values are credentials: scrubbed from every error text.
const SECRET_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// What went wrong talking to the output root. Messages never hold a credential.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("output location {location:?}: {why}")]
    Location { location: String, why: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{op} {url}: {message}")]
    Remote {
        op: &'static str,
        url: String,
        /// The store's error text, credentials scrubbed.
        message: String,
    },
}

impl StorageError {
    /// What an operator can do about it, when we know.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            StorageError::Location { .. } => Some(
                "use a local directory or s3://bucket/prefix; endpoint, region, path style and \
                 http go in [output.storage] or the AWS_* environment, credentials in the \
                 environment only",
            ),
            StorageError::Remote { message, .. }
                if message.contains("403") || message.contains("Forbidden") =>
            {
                Some("check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy")
            }
            StorageError::Remote { .. } => {
                Some("check the endpoint, region and bucket (AWS_ENDPOINT_URL, AWS_REGION)")
            }
            StorageError::Io { .. } => None,
        }
    }
}

/// An object under the root, as a listing returns it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredObject {
    /// Relative to the root, with `/` separators.
    pub path: String,
    pub(crate) bytes: u64,
}

/// Where a job's outputs go. Cheap to clone (the S3 client is shared).
#[derive(Clone)]
pub struct OutputRoot {
    kind: RootKind,
}

#[derive(Clone)]
enum RootKind {
    Local(PathBuf),
    S3(Arc<S3Root>),
}

struct S3Root {
    /// Process-unique, so the Delta writer can find this client again (see `super::delta`).
    id: u64,
    bucket: String,
    /// The key prefix, without leading or trailing `/` (may be empty).
    prefix: String,
    store: Arc<AmazonS3>,
    /// Non-secret, for `Debug` and error context.
    endpoint: Option<String>,
    region: Option<String>,
    /// Credential values, scrubbed from error texts.
    secrets: Vec<Secret>,
}

impl OutputRoot {
    /// A local directory (created when first written to).
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        OutputRoot {
            kind: RootKind::Local(dir.into()),
        }
    }

    /// `s3://bucket/prefix` or a local path, configured from `settings` and the process
    /// environment.
    pub fn parse(location: &str, settings: &StorageSettings) -> Result<Self, StorageError> {
        Self::parse_with_env(location, settings, std::env::vars())
    }

    /// [`OutputRoot::parse`] with an explicit environment (tests; embedding programs).
    pub fn parse_with_env<I, K, V>(
        location: &str,
        settings: &StorageSettings,
        env: I,
    ) -> Result<Self, StorageError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let bad = |why: String| StorageError::Location {
            location: location.to_owned(),
            why,
        };
        let Some((scheme, rest)) = location.split_once("://") else {
            return Ok(OutputRoot::local(location));
        };
        if scheme != "s3" {
            return Err(bad(format!(
                "unsupported scheme {scheme}:// (only s3:// and local paths)"
            )));
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name after s3://".into()));
        }
        let prefix = prefix.trim_matches('/').to_owned();
        if prefix.split('/').any(|part| part == "." || part == "..") || prefix.contains("//") {
            return Err(bad(
                "the prefix must not hold `.`, `..` or empty segments".into()
            ));
        }
        let root = build_s3(bucket, prefix, settings, env).map_err(bad)?;
        Ok(OutputRoot {
            kind: RootKind::S3(Arc::new(root)),
        })
    }

    /// Whether this root is on the local file system.
    pub(crate) fn is_local(&self) -> bool {
        matches!(self.kind, RootKind::Local(_))
    }

    /// The local directory, for a local root.
    pub(crate) fn local_dir(&self) -> Option<&Path> {
        match &self.kind {
            RootKind::Local(dir) => Some(dir),
            RootKind::S3(_) => None,
        }
    }

    /// The URL of `rel` under the root: `s3://bucket/prefix/rel`, or `file:///abs/dir/rel`
    /// (a relative local root is made absolute against the current directory).
    pub(crate) fn url_of(&self, rel: &str) -> Result<url::Url, StorageError> {
        let rel = checked_rel(rel)?;
        match &self.kind {
            RootKind::Local(dir) => {
                let dir = std::path::absolute(dir).map_err(|source| StorageError::Io {
                    path: dir.clone(),
                    source,
                })?;
                let path = dir.join(rel);
                url::Url::from_directory_path(&path).map_err(|()| StorageError::Location {
                    location: path.display().to_string(),
                    why: "cannot be written as a file:// URL".into(),
                })
            }
            RootKind::S3(s3) => {
                let text = format!("s3://{}/{}", s3.bucket, s3.key(rel));
                url::Url::parse(&text).map_err(|e| StorageError::Location {
                    location: text,
                    why: e.to_string(),
                })
            }
        }
    }

    /// Puts `bytes` at `rel` atomically; returns the size written.
    pub fn put(&self, rel: &str, bytes: impl Into<Bytes>) -> Result<u64, StorageError> {
        let rel = checked_rel(rel)?;
        let bytes = bytes.into();
        let size = bytes.len() as u64;
        match &self.kind {
            RootKind::Local(dir) => {
                let final_path = dir.join(rel);
                let temp = temp_path_for(&final_path);
                let write = || -> io::Result<()> {
                    if let Some(parent) = final_path.parent() {
                        fs::create_dir_all(parent)?;
                    }
                    let mut file = fs::File::create(&temp)?;
                    io::Write::write_all(&mut file, &bytes)?;
                    file.sync_all()
                };
                if let Err(source) = write() {
                    let _ = fs::remove_file(&temp);
                    return Err(StorageError::Io { path: temp, source });
                }
                rename_into_place(&temp, &final_path)?;
                Ok(size)
            }
            RootKind::S3(s3) => {
                let key = s3.store_path(rel);
                block_on(s3.store.put(&key, PutPayload::from(bytes)))
                    .map_err(|e| s3.error("uploading", rel, e))?;
                Ok(size)
            }
        }
    }

    /// Moves a finished local file (`staged`, already flushed and synced) to `rel`: a rename
    /// for a local root (`staged` must be on the same file system, e.g. beside the target), an
    /// upload for S3 (one PUT, or a multipart upload completed at the end), after which the
    /// staged file is removed. Returns the size.
    pub(crate) fn put_file(&self, rel: &str, staged: &Path) -> Result<u64, StorageError> {
        let rel = checked_rel(rel)?;
        let size = fs::metadata(staged)
            .map_err(|source| StorageError::Io {
                path: staged.to_path_buf(),
                source,
            })?
            .len();
        match &self.kind {
            RootKind::Local(dir) => {
                let final_path = dir.join(rel);
                if let Some(parent) = final_path.parent() {
                    fs::create_dir_all(parent).map_err(|source| StorageError::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                rename_into_place(staged, &final_path)?;
            }
            RootKind::S3(s3) => {
                let key = s3.store_path(rel);
                block_on(upload_file(s3.store.clone(), key, staged.to_path_buf()))
                    .map_err(|e| s3.error("uploading", rel, e))?;
                let _ = fs::remove_file(staged);
            }
        }
        Ok(size)
    }

    /// Reads `rel` whole.
    pub fn get(&self, rel: &str) -> Result<Bytes, StorageError> {
        let rel = checked_rel(rel)?;
        match &self.kind {
            RootKind::Local(dir) => {
                let path = dir.join(rel);
                fs::read(&path)
                    .map(Bytes::from)
                    .map_err(|source| StorageError::Io { path, source })
            }
            RootKind::S3(s3) => {
                let key = s3.store_path(rel);
                block_on(async { s3.store.get(&key).await?.bytes().await })
                    .map_err(|e| s3.error("reading", rel, e))
            }
        }
    }

    /// Every object under the directory `rel_dir` (`""` for the whole root), recursively,
    /// sorted by path. A directory that does not exist lists as empty.
    pub fn list(&self, rel_dir: &str) -> Result<Vec<StoredObject>, StorageError> {
        let rel_dir = if rel_dir.is_empty() {
            ""
        } else {
            checked_rel(rel_dir)?
        };
        let mut out = match &self.kind {
            RootKind::Local(dir) => {
                let mut out = Vec::new();
                list_local(dir, &dir.join(rel_dir), &mut out)?;
                out
            }
            RootKind::S3(s3) => {
                let prefix = s3.store_path(rel_dir);
                let metas: Vec<object_store::ObjectMeta> =
                    block_on(s3.store.list(Some(&prefix)).try_collect())
                        .map_err(|e| s3.error("listing", rel_dir, e))?;
                metas
                    .into_iter()
                    .map(|meta| StoredObject {
                        path: s3.relative(meta.location.as_ref()),
                        bytes: meta.size,
                    })
                    .collect()
            }
        };
        out.sort();
        Ok(out)
    }

    /// Deletes `rel`; a missing object is not an error.
    pub(crate) fn delete(&self, rel: &str) -> Result<(), StorageError> {
        let rel = checked_rel(rel)?;
        match &self.kind {
            RootKind::Local(dir) => {
                let path = dir.join(rel);
                match fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                    Err(source) => Err(StorageError::Io { path, source }),
                }
            }
            RootKind::S3(s3) => {
                let key = s3.store_path(rel);
                match block_on(s3.store.delete(&key)) {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(s3.error("deleting", rel, e)),
                }
            }
        }
    }

    /// The S3 client, its process-unique id and the bucket, for the Delta writer.
    pub(super) fn s3_store(&self) -> Option<(u64, Arc<dyn ObjectStore>)> {
        match &self.kind {
            RootKind::Local(_) => None,
            RootKind::S3(s3) => Some((s3.id, s3.store.clone() as Arc<dyn ObjectStore>)),
        }
    }

    /// Scrubs this root's credentials out of a text (an error message from a library that
    /// talked to the store for us).
    pub(super) fn scrub(&self, text: &str) -> String {
        match &self.kind {
            RootKind::Local(_) => text.to_owned(),
            RootKind::S3(s3) => s3.scrub(text),
        }
    }
}

impl fmt::Display for OutputRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RootKind::Local(dir) => write!(f, "{}", dir.display()),
            RootKind::S3(s3) if s3.prefix.is_empty() => write!(f, "s3://{}", s3.bucket),
            RootKind::S3(s3) => write!(f, "s3://{}/{}", s3.bucket, s3.prefix),
        }
    }
}

/// Names the location and the non-secret settings only (never the client, which holds the
/// credentials).
impl fmt::Debug for OutputRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RootKind::Local(dir) => f.debug_tuple("OutputRoot::Local").field(dir).finish(),
            RootKind::S3(s3) => f
                .debug_struct("OutputRoot::S3")
                .field("bucket", &s3.bucket)
                .field("prefix", &s3.prefix)
                .field("endpoint", &s3.endpoint)
                .field("region", &s3.region)
                .finish_non_exhaustive(),
        }
    }
}

impl S3Root {
    /// `prefix/rel` (or `rel` without a prefix).
    fn key(&self, rel: &str) -> String {
        match (self.prefix.is_empty(), rel.is_empty()) {
            (true, _) => rel.to_owned(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{rel}", self.prefix),
        }
    }

    fn store_path(&self, rel: &str) -> StorePath {
        StorePath::from(self.key(rel))
    }

    /// A store key made relative to the prefix.
    fn relative(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            return key.to_owned();
        }
        key.strip_prefix(&self.prefix)
            .map(|rest| rest.trim_start_matches('/'))
            .unwrap_or(key)
            .to_owned()
    }

    fn scrub(&self, text: &str) -> String {
        redact_all(text, &self.secrets)
    }

    fn error(&self, op: &'static str, rel: &str, e: object_store::Error) -> StorageError {
        StorageError::Remote {
            op,
            url: format!("s3://{}/{}", self.bucket, self.key(rel)),
            message: self.scrub(&e.to_string()),
        }
    }
}

fn build_s3<I, K, V>(
    bucket: &str,
    prefix: String,
    settings: &StorageSettings,
    env: I,
) -> Result<S3Root, String>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let mut builder = AmazonS3Builder::new();
    let mut secrets = Vec::new();
    let mut endpoint = None;
    let mut region = None;
    for (key, value) in env {
        let (key, value) = (key.as_ref(), value.as_ref());
        if !key.starts_with("AWS_") {
            continue;
        }
        if SECRET_ENV.contains(&key) {
            secrets.push(Secret::new(value));
        }
        if let Ok(config_key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            match config_key {
                AmazonS3ConfigKey::Endpoint => endpoint = Some(value.to_owned()),
                AmazonS3ConfigKey::Region => region = Some(value.to_owned()),
                AmazonS3ConfigKey::DefaultRegion if region.is_none() => {
                    region = Some(value.to_owned())
                }
                _ => {}
            }
            builder = builder.with_config(config_key, value);
        }
    }
    if let Some(value) = &settings.endpoint {
        builder = builder.with_endpoint(value);
        endpoint = Some(value.clone());
    }
    if let Some(value) = &settings.region {
        builder = builder.with_region(value);
        region = Some(value.clone());
    }
    if let Some(path_style) = settings.path_style {
        builder = builder.with_virtual_hosted_style_request(!path_style);
    }
    if let Some(allow) = settings.allow_http {
        builder = builder.with_allow_http(allow);
    }
    if let Some(endpoint) = &endpoint {
        let parsed = url::Url::parse(endpoint)
            .map_err(|e| format!("endpoint {endpoint:?} is not a URL: {e}"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                "the endpoint must not carry credentials: set AWS_ACCESS_KEY_ID and \
                        AWS_SECRET_ACCESS_KEY in the environment"
                    .into(),
            );
        }
    }
    let store = builder
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| redact_all(&e.to_string(), &secrets))?;
    Ok(S3Root {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        bucket: bucket.to_owned(),
        prefix,
        store: Arc::new(store),
        endpoint,
        region,
        secrets,
    })
}

/// Credentials shorter than this are not real ones (AWS key ids have 20 characters, secrets
/// 40) and replacing them would garble every message ("s" in "s3://…").
const MIN_SCRUBBED_LEN: usize = 6;

fn redact_all(text: &str, secrets: &[Secret]) -> String {
    let mut text = text.to_owned();
    for secret in secrets
        .iter()
        .filter(|s| s.expose().len() >= MIN_SCRUBBED_LEN)
    {
        text = text.replace(secret.expose(), "[redacted]");
    }
    text
}

/// A relative name given by a caller: `/`-separated, no empty, `.` or `..` segment.
fn checked_rel(rel: &str) -> Result<&str, StorageError> {
    let bad = |why: &str| StorageError::Location {
        location: rel.to_owned(),
        why: why.to_owned(),
    };
    if rel.is_empty() {
        return Err(bad("empty name"));
    }
    if rel.starts_with('/') || rel.contains('\\') || rel.contains('\0') {
        return Err(bad("must be a relative /-separated name"));
    }
    for component in Path::new(rel).components() {
        if !matches!(component, Component::Normal(_)) {
            return Err(bad("must not hold `.`, `..` or empty segments"));
        }
    }
    if rel.split('/').any(str::is_empty) {
        return Err(bad("must not hold empty segments"));
    }
    Ok(rel)
}

fn rename_into_place(from: &Path, to: &Path) -> Result<(), StorageError> {
    fs::rename(from, to).map_err(|source| {
        let _ = fs::remove_file(from);
        StorageError::Io {
            path: to.to_path_buf(),
            source,
        }
    })
}

fn list_local(root: &Path, dir: &Path, out: &mut Vec<StoredObject>) -> Result<(), StorageError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StorageError::Io { path, source }
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StorageError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            list_local(root, &path, out)?;
        } else if kind.is_file() {
            let bytes = entry.metadata().map_err(io_err(&path))?.len();
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<_> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(StoredObject {
                path: rel.join("/"),
                bytes,
            });
        }
    }
    Ok(())
}

/// Streams a local file to `key`: one PUT below [`MULTIPART_THRESHOLD`], else a multipart
/// upload that becomes visible only when completed (aborted on error).
async fn upload_file(
    store: Arc<AmazonS3>,
    key: StorePath,
    staged: PathBuf,
) -> Result<(), object_store::Error> {
    let io_error = |source: io::Error| object_store::Error::Generic {
        store: "local staging file",
        source: Box::new(source),
    };
    let mut file = tokio::fs::File::open(&staged).await.map_err(io_error)?;
    let mut upload =
        object_store::buffered::BufWriter::with_capacity(store, key, MULTIPART_THRESHOLD);
    match tokio::io::copy(&mut file, &mut upload).await {
        Ok(_) => upload.shutdown().await.map_err(io_error),
        Err(e) => {
            let _ = upload.abort().await;
            Err(io_error(e))
        }
    }
}

/// The runtime all storage and Delta IO runs on: the sinks are synchronous, their callers may
/// or may not be inside a runtime, and one client (with its connection pool) must live on one.
fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("wecom-journal-io")
            .enable_all()
            .build()
            .expect("building the storage IO runtime")
    })
}

/// Runs `future` to completion on the IO runtime, from any thread: a caller inside another
/// runtime cannot block it, so the wait happens on a scoped helper thread.
pub(super) fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return io_runtime().block_on(future);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| io_runtime().block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
