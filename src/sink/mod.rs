//! Sinks: Parquet (zstd, statistics, Hive partitions), CSV (optional BOM), Arrow IPC, the XLSX
//! workbook, the run manifest and Delta Lake tables; every file written to a temporary name and
//! renamed into place, or uploaded whole, under an [`OutputRoot`] (a local directory or an
//! S3-compatible prefix).
//!
//! Owns file layout and formats; computes no metric. Its only network calls are to the output
//! root's object store. It must not touch the store, and writes only under the output root it
//! is given. It writes any frame it is handed: which frames, and the names of single files (a
//! report's, the workbook's), are the caller's (the pipeline's); no job or report logic lives
//! here.
//!
//! Layout under the output root (`<out>`):
//!
//! ```text
//! tables/<table>/report_month=YYYY-MM/part-0.parquet   a partitioned dataset (by a Date column)
//! tables/<table>/part-0.parquet                         an unpartitioned one
//! csv/tables/<table>/report_month=YYYY-MM/part-0.csv    the same datasets as CSV …
//! arrow/tables/<table>/report_month=YYYY-MM/part-0.arrow  … and as Arrow IPC files
//! <name>.parquet, csv/<name>.csv, arrow/<name>.arrow    a single frame (write_frame)
//! delta/<table>/                                        a Delta table (DeltaTableWriter)
//! <name>.xlsx                                           a workbook (write_workbook)
//! runs/<run_id>.json                                    the run manifest
//! ```
//!
//! CSV and Arrow datasets live in their own trees (not beside the Parquet files) so that Spark,
//! Trino, DuckDB or polars pointed at `tables/<table>/` see Parquet files only. Rows whose
//! partition date is null go to `report_month=__HIVE_DEFAULT_PARTITION__`, Hive's convention.
//!
//! Atomicity and idempotence: a file is written as `.<name>.<token>.tmp` in its final directory
//! and renamed over `<name>` by `finish()`, so a reader never sees half a file and a re-run
//! REPLACES the partitions it writes (it never appends to them); partitions it does not write are
//! left alone, except those declared with [`TableWriter::covers`], whose stale files are removed.
//! A writer dropped without `finish()` removes its temporary files. Every file is fsynced
//! before its rename and its directory after, so what a run reports written survives a power
//! loss; the temporary files of a run killed while writing are found by
//! [`leftover_temp_files`] for the next run to remove.
//!
//! On object storage (no rename) files are staged in a local directory and uploaded at
//! `finish()`; a replaced partition gets its new file under a new name (`part-<token>.<ext>`)
//! and the old one is deleted after, so a reader listing the prefix never finds the partition
//! empty. Delta tables (`delta/<table>/`, see [`DeltaTableWriter`]) replace months in one
//! atomic commit instead.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::job::Format;

mod arrow_bridge;
mod csv;
mod delta;
mod failpoint;
mod manifest;
mod parquet;
mod storage;
mod table;
mod xlsx;

pub(crate) use csv::CsvStyle;
pub use delta::{DeltaCommit, DeltaRun, DeltaTableWriter, DELTA_DIR};
pub use manifest::{write_manifest, Gap, Manifest, ManifestRange, RunStatus};
pub use storage::{OutputRoot, StorageError, StorageSettings, StoredObject};
pub use table::{TableWriter, DEFAULT_FLUSH_ROWS};
pub(crate) use xlsx::labels;
pub use xlsx::{
    frame_rows, local_time, write_workbook, Cell, ChartRow, ChartSheet, Highlight, SpillSheet,
    SummaryBlock, SummarySheet, TableSheet, TrendPoint, WorkbookOptions, WorkbookPlan,
};

/// Hive's directory name for rows whose partition value is null.
pub(crate) const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";
/// The Hive partition key of partitioned tables.
pub(crate) const PARTITION_KEY: &str = "report_month";

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing {path}: {source}")]
    Polars {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error("table {table}: {source}")]
    Frame {
        table: String,
        #[source]
        source: PolarsError,
    },
    #[error("table {table}: partition column `{column}` {problem}")]
    PartitionColumn {
        table: String,
        column: String,
        problem: String,
    },
    #[error("table {table}: a batch does not match the table's schema (set by its first batch): {source}")]
    SchemaMismatch {
        table: String,
        #[source]
        source: PolarsError,
    },
    #[error("workbook {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error("manifest {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid output name {name:?}: {why}")]
    BadName { name: String, why: &'static str },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("delta table {table}: {message}")]
    Delta { table: String, message: String },
}

/// A file a sink wrote (and renamed into place).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFile {
    /// Relative to the output root, with `/` separators.
    pub path: String,
    /// `parquet`, `csv`, `arrow` or `xlsx`.
    pub format: String,
    /// Data rows (headers excluded; for a workbook, the rows of all its sheets).
    pub rows: u64,
    pub bytes: u64,
}

/// The output root of a job. Every path a sink writes is under it.
///
/// Files are written in a local directory ([`OutputDir::root`]): the output directory itself
/// for a local root, a staging directory for object storage, from which each finished file is
/// uploaded (and removed) under the same relative path.
#[derive(Debug, Clone)]
pub struct OutputDir {
    root: PathBuf,
    target: OutputRoot,
}

impl OutputDir {
    /// A local output directory, created (with its parents) if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, SinkError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|source| SinkError::Io {
            path: root.clone(),
            source,
        })?;
        Ok(OutputDir {
            target: OutputRoot::local(&root),
            root,
        })
    }

    /// Writes under `target`; for object storage, files are staged in `staging` (created if
    /// missing; scratch space the caller may remove after the run). A local `target` is the
    /// same as [`OutputDir::new`] and ignores `staging`.
    pub fn on(target: OutputRoot, staging: impl Into<PathBuf>) -> Result<Self, SinkError> {
        if let Some(dir) = target.local_dir() {
            return OutputDir::new(dir);
        }
        let mut out = OutputDir::new(staging)?;
        out.target = target;
        Ok(out)
    }

    /// Where the sinks write files: the output directory, or the staging directory of a
    /// remote root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Where the files end up.
    pub(crate) fn target(&self) -> &OutputRoot {
        &self.target
    }

    /// Where a table's dataset lives in a format (see the module doc).
    pub fn table_dir(&self, format: Format, table: &str) -> PathBuf {
        match format {
            Format::Csv => self.root.join("csv").join("tables").join(table),
            Format::Arrow => self.root.join("arrow").join("tables").join(table),
            Format::Delta => self.root.join(DELTA_DIR).join(table),
            Format::Parquet | Format::Xlsx => self.root.join("tables").join(table),
        }
    }

    pub(crate) fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// `path` relative to the root, with `/` separators (for manifests).
    pub fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A relative name given by a caller, checked to stay under the root.
    fn checked_join(&self, rel: &str) -> Result<PathBuf, SinkError> {
        let bad = |why| SinkError::BadName {
            name: rel.to_owned(),
            why,
        };
        if rel.is_empty() {
            return Err(bad("empty"));
        }
        let path = Path::new(rel);
        for component in path.components() {
            match component {
                Component::Normal(_) => {}
                _ => return Err(bad("must be a relative path without `..`")),
            }
        }
        Ok(self.root.join(path))
    }
}

/// Checks a table or file name used as one path component.
fn check_component(name: &str) -> Result<(), SinkError> {
    let bad = |why| SinkError::BadName {
        name: name.to_owned(),
        why,
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(bad("must be a single path component"));
    }
    Ok(())
}

/// Writes one frame (a report) in each table format among `formats` (`xlsx` is the
/// workbook's business and `delta` holds tables only: both are skipped), each format in its own
/// tree as the datasets are: `<out>/<rel_name>.parquet`, `<out>/csv/<rel_name>.csv`,
/// `<out>/arrow/<rel_name>.arrow`. Each file goes through a temporary name (or is uploaded
/// whole).
pub fn write_frame(
    out: &OutputDir,
    rel_name: &str,
    frame: &DataFrame,
    formats: &[Format],
    csv: impl Into<CsvStyle>,
) -> Result<Vec<WrittenFile>, SinkError> {
    let csv = csv.into();
    let base = out.checked_join(rel_name)?;
    if base.file_name().is_none() {
        return Err(SinkError::BadName {
            name: rel_name.to_owned(),
            why: "has no file name",
        });
    }
    let mut frame = frame.clone();
    frame.rechunk_mut_par();
    let mut written = Vec::new();
    for format in table_formats(formats) {
        let tree = match format {
            Format::Csv => out.root.join("csv"),
            Format::Arrow => out.root.join("arrow"),
            _ => out.root.clone(),
        };
        let final_path = tree.join(format!("{rel_name}.{}", format.name()));
        let mut file =
            FileSink::create(format, &final_path, frame.schema(), csv, &BTreeSet::new())?;
        file.write(&frame)?;
        written.push(file.commit(out)?);
    }
    Ok(written)
}

/// Stacks batches of one schema into one frame (`None` for no batch); the chunks stay as they
/// are (callers rechunk when they need aligned chunks).
pub(crate) fn concat_frames(frames: Vec<DataFrame>) -> PolarsResult<Option<DataFrame>> {
    let mut iter = frames.into_iter();
    let Some(mut first) = iter.next() else {
        return Ok(None);
    };
    for frame in iter {
        first.vstack_mut_owned(frame)?;
    }
    Ok(Some(first))
}

/// The formats among `formats` that a dataset or report file is written in, deduplicated, in a
/// stable order.
fn table_formats(formats: &[Format]) -> Vec<Format> {
    let mut out: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| !matches!(f, Format::Xlsx | Format::Delta))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A process-unique suffix for temporary names, so two writers never share a temp file.
fn temp_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// `.<name>.<token>.tmp` beside `final_path`: hidden (dataset readers skip dot files) and in the
/// same directory, so the rename is atomic.
fn temp_path_for(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!(".{name}.{}.tmp", temp_token()))
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Puts a finished (and fsynced) temporary file in place under its final name and returns
/// its size: locally a rename, then an fsync of the directory so the rename itself survives a
/// power loss; on object storage an upload. `kind` names the file's kind for the test
/// failpoint reached just before ([`failpoint`]).
fn commit_file(
    out: &OutputDir,
    temp: &Path,
    final_path: &Path,
    kind: &str,
) -> Result<u64, SinkError> {
    failpoint::reached(&format!("sink:{kind}"));
    if !out.target.is_local() {
        return Ok(out.target.put_file(&out.relative(final_path), temp)?);
    }
    fs::rename(temp, final_path).map_err(io_err(final_path))?;
    let dir = final_path.parent().unwrap_or(Path::new("."));
    sync_dir(dir).map_err(io_err(dir))?;
    let bytes = fs::metadata(final_path).map_err(io_err(final_path))?.len();
    Ok(bytes)
}

/// fsyncs a directory (its entries: a rename into it). File systems that cannot sync a
/// directory say so with `EINVAL`; that is not an error worth failing a run for.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    match fs::File::open(dir).and_then(|d| d.sync_all()) {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// The temporary files of earlier runs killed while writing, under `out`: its own files and,
/// recursively, the sink's trees (`tables/`, `csv/`, `arrow/`, `runs/`) and `extra_trees` (the
/// caller's: reports, downloaded files). A temporary file is a hidden file ending in `.tmp`,
/// the only names [`temp_path_for`] (and the wedrive downloads) write and no final file has.
/// Only the caller that holds the output directory's run lock may remove them: another run's
/// files in progress would look the same. Symbolic links are never followed.
pub(crate) fn leftover_temp_files(
    out: &OutputDir,
    extra_trees: &[&str],
) -> io::Result<Vec<PathBuf>> {
    let is_temp = |name: &std::ffi::OsStr| {
        let name = name.to_string_lossy();
        name.starts_with('.') && name.ends_with(".tmp")
    };
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let trees = ["tables", "csv", "arrow", "runs"];
    for tree in trees.iter().chain(extra_trees) {
        dirs.push(out.root.join(tree));
    }
    // The root itself: its files only (the workbook, single frames), not what else lives there.
    for entry in read_dir_or_none(&out.root)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && is_temp(&entry.file_name()) {
            found.push(entry.path());
        }
    }
    while let Some(dir) = dirs.pop() {
        for entry in read_dir_or_none(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
                dirs.push(entry.path());
            } else if kind.is_file() && is_temp(&entry.file_name()) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The entries of `dir`, none if it does not exist.
fn read_dir_or_none(dir: &Path) -> io::Result<Vec<io::Result<fs::DirEntry>>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A file handle the format writers write through while we keep a second handle, so that once
/// a writer has written its footer we can flush and fsync the file (polars' batched writers do
/// not give their inner writer back).
#[derive(Clone)]
struct SharedFile(Arc<Mutex<BufWriter<fs::File>>>);

impl SharedFile {
    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, BufWriter<fs::File>>> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("file writer poisoned by a panic"))
    }

    fn flush_and_sync(&self) -> io::Result<()> {
        let mut file = self.lock()?;
        file.flush()?;
        file.get_ref().sync_all()
    }
}

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.lock()?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.lock()?.flush()
    }
}

enum FormatWriter {
    // Boxed: the Parquet writer is several times the size of the others.
    Parquet(Box<parquet::ParquetFile<SharedFile>>),
    Csv(polars::io::csv::write::BatchedWriter<SharedFile>, CsvStyle),
    Arrow(polars::io::ipc::BatchedWriter<SharedFile>),
}

/// One output file being written: its format writer, temporary and final paths, rows so far.
struct FileSink {
    format: Format,
    writer: FormatWriter,
    file: SharedFile,
    temp: PathBuf,
    final_path: PathBuf,
    rows: u64,
    committed: bool,
}

impl FileSink {
    /// `required`: columns written as Parquet `required` (see [`TableWriter::with_required`]).
    fn create(
        format: Format,
        final_path: &Path,
        schema: &Schema,
        csv: CsvStyle,
        required: &BTreeSet<String>,
    ) -> Result<Self, SinkError> {
        let dir = final_path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let temp = temp_path_for(final_path);
        let handle = fs::File::create(&temp).map_err(io_err(&temp))?;
        let file = SharedFile(Arc::new(Mutex::new(BufWriter::with_capacity(
            1 << 20,
            handle,
        ))));
        let polars_err = |source| SinkError::Polars {
            path: final_path.to_path_buf(),
            source,
        };
        let writer = match format {
            Format::Parquet => FormatWriter::Parquet(Box::new(
                parquet::ParquetFile::create(file.clone(), schema, required).map_err(polars_err)?,
            )),
            Format::Csv => FormatWriter::Csv(
                CsvWriter::new(file.clone())
                    .include_header(true)
                    .include_bom(csv.bom)
                    .batched(&csv::csv_schema(schema, csv))
                    .map_err(polars_err)?,
                csv,
            ),
            Format::Arrow => {
                let fields = arrow_ipc_fields(schema);
                FormatWriter::Arrow(
                    IpcWriter::new(file.clone())
                        // The oldest level writes large strings, not string views: every Arrow
                        // reader (pyarrow, DuckDB, Arrow JS) opens it.
                        .with_compat_level(CompatLevel::oldest())
                        .batched(schema, fields)
                        .map_err(polars_err)?,
                )
            }
            Format::Xlsx | Format::Delta => {
                let _ = fs::remove_file(&temp);
                return Err(SinkError::BadName {
                    name: final_path.display().to_string(),
                    why: "xlsx is written by write_workbook and delta by DeltaTableWriter, not \
                          as dataset files",
                });
            }
        };
        Ok(FileSink {
            format,
            writer,
            file,
            temp,
            final_path: final_path.to_path_buf(),
            rows: 0,
            committed: false,
        })
    }

    /// Writes a batch whose chunks are aligned (callers rechunk).
    fn write(&mut self, batch: &DataFrame) -> Result<(), SinkError> {
        let polars_err = |source| SinkError::Polars {
            path: self.final_path.clone(),
            source,
        };
        match &mut self.writer {
            FormatWriter::Parquet(w) => w.write(batch).map_err(polars_err)?,
            FormatWriter::Csv(w, style) => {
                let mut flat = csv::csv_ready(batch, *style).map_err(polars_err)?;
                flat.rechunk_mut();
                w.write_batch(&flat).map_err(polars_err)?
            }
            FormatWriter::Arrow(w) => w.write_batch(batch).map_err(polars_err)?,
        }
        self.rows += batch.height() as u64;
        Ok(())
    }

    /// Writes the footer, syncs, renames into place.
    fn commit(mut self, out: &OutputDir) -> Result<WrittenFile, SinkError> {
        let polars_err = |source| SinkError::Polars {
            path: self.final_path.clone(),
            source,
        };
        match &mut self.writer {
            FormatWriter::Parquet(w) => {
                w.finish().map_err(polars_err)?;
            }
            FormatWriter::Csv(w, _) => w.finish().map_err(polars_err)?,
            FormatWriter::Arrow(w) => w.finish().map_err(polars_err)?,
        }
        self.file.flush_and_sync().map_err(io_err(&self.temp))?;
        let bytes = commit_file(out, &self.temp, &self.final_path, self.format.name())?;
        self.committed = true;
        Ok(WrittenFile {
            path: out.relative(&self.final_path),
            format: self.format.name().to_owned(),
            rows: self.rows,
            bytes,
        })
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: an abandoned temporary file is hidden and never read, but litter.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The IPC field descriptions polars' default writer derives (no dictionaries: polars writes
/// none for the types our tables use), one per column, with a child per nested level.
fn arrow_ipc_fields(schema: &Schema) -> Vec<polars_arrow::io::ipc::IpcField> {
    let arrow_schema = schema.to_arrow(CompatLevel::oldest());
    polars_arrow::io::ipc::write::default_ipc_fields(arrow_schema.iter_values())
}

#[cfg(test)]
mod tests;
