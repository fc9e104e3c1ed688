//! Streaming dataset writer: batches in, one file per partition and format out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use polars::prelude::*;

use super::{
    check_component, concat_frames, table_formats, temp_token, CsvStyle, FileSink, OutputDir,
    SinkError, WrittenFile, NULL_PARTITION, PARTITION_KEY,
};
use crate::job::Format;

/// Rows a partition buffers before they are encoded as one row group. Memory is bounded by
/// (partitions open at once) × this × row width, however many journals a run has.
pub const DEFAULT_FLUSH_ROWS: usize = 65_536;

/// Name of the scratch column holding a row's partition label while a batch is split.
const PARTITION_SCRATCH: &str = "__wecom_journal_partition__";

/// Writes one table as a dataset, in every requested format, from batches of any size.
///
/// ```text
/// let mut w = TableWriter::create(&out, "journals", Some("report_date"), &formats, csv_bom)?;
/// for batch in batches { w.write_batch(&batch)?; }
/// let files = w.finish()?;
/// ```
///
/// Each batch is split by partition (`report_month=YYYY-MM` of the partition column, a local
/// `Date`); each partition buffers up to `flush_rows` rows, then appends them as a row group to
/// its open batched writer per format. `finish()` writes the footers and renames every file over
/// `part-0.<ext>`, replacing what a previous run wrote there. On object storage each file is
/// uploaded as `part-<token>.<ext>`, then the partition's other `part-*.<ext>` files are deleted.
pub struct TableWriter {
    out: OutputDir,
    table: String,
    partition_column: Option<String>,
    formats: Vec<Format>,
    csv: CsvStyle,
    flush_rows: usize,
    /// Fixed by the first batch; later batches must match it (null columns are cast).
    schema: Option<SchemaRef>,
    /// By partition label (`2026-10`, the null label, or `""` when unpartitioned).
    partitions: BTreeMap<String, Partition>,
    /// Partition labels this run is responsible for (see [`TableWriter::covers`]).
    covered: BTreeSet<String>,
    /// Columns written as Parquet `required` (see [`TableWriter::with_required`]).
    required: BTreeSet<String>,
    /// Names this writer's files `part-<token>.<ext>` on a root without rename.
    file_token: Option<String>,
}

#[derive(Default)]
struct Partition {
    pending: Vec<DataFrame>,
    pending_rows: usize,
    files: Vec<FileSink>,
}

impl TableWriter {
    /// `partition_column`: a `Date` (or `Datetime`) column whose month names the partition;
    /// `None` for unpartitioned tables (`departments`, `users`). `formats` may include `xlsx`,
    /// which is ignored here.
    pub fn create(
        out: &OutputDir,
        table: &str,
        partition_column: Option<&str>,
        formats: &[Format],
        csv: impl Into<CsvStyle>,
    ) -> Result<Self, SinkError> {
        check_component(table)?;
        Ok(TableWriter {
            out: out.clone(),
            table: table.to_owned(),
            partition_column: partition_column.map(str::to_owned),
            formats: table_formats(formats),
            csv: csv.into(),
            flush_rows: DEFAULT_FLUSH_ROWS,
            schema: None,
            partitions: BTreeMap::new(),
            covered: BTreeSet::new(),
            required: BTreeSet::new(),
            file_token: (!out.target().is_local()).then(temp_token),
        })
    }

    /// Columns that hold no null (a table's non-nullable ones, e.g. from
    /// `TableSpec::columns`): Parquet files declare them `required`, and a batch with a null
    /// in one is refused. Others stay optional.
    pub fn with_required<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required.extend(columns.into_iter().map(Into::into));
        self
    }

    /// Rows per row group (and the per-partition buffer bound). At least 1.
    pub fn with_flush_rows(mut self, rows: usize) -> Self {
        self.flush_rows = rows.max(1);
        self
    }

    /// Declares the partitions (months as `YYYY-MM`) this run covers: at `finish()`, a covered
    /// partition that received no row has its old files removed, so a re-run after data went
    /// away leaves no stale rows. Partitions not declared and not written are left alone.
    /// Ignored for an unpartitioned table.
    pub fn covers<I, S>(&mut self, months: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.covered.extend(months.into_iter().map(Into::into));
    }

    /// Adds a batch. The first batch fixes the schema; a later batch with other column names
    /// is an error, one with all-null columns of another type is cast.
    pub fn write_batch(&mut self, batch: &DataFrame) -> Result<(), SinkError> {
        let batch = self.conform(batch)?;
        if batch.height() == 0 {
            return Ok(());
        }
        match self.partition_column.clone() {
            None => self.push("", batch),
            Some(column) => {
                for (label, part) in self.split(&batch, &column)? {
                    self.push(&label, part)?;
                }
                Ok(())
            }
        }
    }

    /// Flushes, writes footers and renames every file into place. Returns the files written,
    /// sorted by path.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, SinkError> {
        // An unpartitioned table that got only empty batches (no directory, say) is still
        // written, empty, so readers find the table with its columns rather than nothing.
        if self.partition_column.is_none() && self.partitions.is_empty() {
            if let Some(schema) = &self.schema {
                let empty = DataFrame::empty_with_schema(schema);
                self.partitions.insert(
                    String::new(),
                    Partition {
                        pending: vec![empty],
                        ..Partition::default()
                    },
                );
            }
        }
        let labels: Vec<String> = self.partitions.keys().cloned().collect();
        for label in &labels {
            self.flush(label)?;
        }
        let mut written = Vec::new();
        let partitions = std::mem::take(&mut self.partitions);
        for (_, partition) in partitions {
            for file in partition.files {
                written.push(file.commit(&self.out)?);
            }
        }
        // Without rename, the new files went up under new names: now retire the old ones.
        if self.file_token.is_some() {
            for file in &written {
                self.remove_old_parts(&file.path, Some(&file.path))?;
            }
        }
        // Covered partitions that got no row this run: remove what an earlier run left there.
        // (An unpartitioned table has no months: its one file was just replaced.)
        let covered = match self.partition_column {
            Some(_) => std::mem::take(&mut self.covered),
            None => BTreeSet::new(),
        };
        for month in &covered {
            if labels.contains(month) {
                continue;
            }
            for format in &self.formats {
                let path = self
                    .partition_dir(*format, month)
                    .join(self.part_file_name(*format));
                if self.file_token.is_some() {
                    self.remove_old_parts(&self.out.relative(&path), None)?;
                    continue;
                }
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(SinkError::Io { path, source }),
                }
                // Leave no empty partition directory behind (ignore "not empty").
                let _ = fs::remove_dir(self.partition_dir(*format, month));
            }
        }
        written.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(written)
    }

    fn conform(&mut self, batch: &DataFrame) -> Result<DataFrame, SinkError> {
        match &self.schema {
            None => {
                if let Some(column) = &self.partition_column {
                    check_partition_column(&self.table, column, batch.schema())?;
                }
                self.schema = Some(batch.schema().clone());
                Ok(batch.clone())
            }
            Some(schema) => {
                let mut batch = batch.clone();
                if batch.width() != schema.len() {
                    return Err(SinkError::SchemaMismatch {
                        table: self.table.clone(),
                        source: PolarsError::SchemaMismatch(
                            format!("{} columns, expected {}", batch.width(), schema.len()).into(),
                        ),
                    });
                }
                batch.ensure_matches_schema(schema).map_err(|source| {
                    SinkError::SchemaMismatch {
                        table: self.table.clone(),
                        source,
                    }
                })?;
                // `ensure_matches_schema` casts null columns only: any other difference is an error.
                if batch.schema() != schema {
                    return Err(SinkError::SchemaMismatch {
                        table: self.table.clone(),
                        source: PolarsError::SchemaMismatch(
                            format!("got {:?}, expected {:?}", batch.schema(), schema).into(),
                        ),
                    });
                }
                Ok(batch)
            }
        }
    }

    /// Splits a batch by the month of `column`, keeping row order within each part.
    fn split(
        &self,
        batch: &DataFrame,
        column: &str,
    ) -> Result<Vec<(String, DataFrame)>, SinkError> {
        let frame_err = |source| SinkError::Frame {
            table: self.table.clone(),
            source,
        };
        let labelled = batch
            .clone()
            .lazy()
            .with_column(
                month_label(column)
                    .fill_null(lit(NULL_PARTITION))
                    .alias(PARTITION_SCRATCH),
            )
            .collect()
            .map_err(frame_err)?;
        let parts = labelled
            .partition_by_stable([PARTITION_SCRATCH], true)
            .map_err(frame_err)?;
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            let label = part
                .column(PARTITION_SCRATCH)
                .and_then(|c| c.str().map(|s| s.get(0).map(str::to_owned)))
                .map_err(frame_err)?
                .unwrap_or_else(|| NULL_PARTITION.to_owned());
            let part = part.drop(PARTITION_SCRATCH).map_err(frame_err)?;
            out.push((label, part));
        }
        Ok(out)
    }

    fn push(&mut self, label: &str, part: DataFrame) -> Result<(), SinkError> {
        let partition = self.partitions.entry(label.to_owned()).or_default();
        partition.pending_rows += part.height();
        partition.pending.push(part);
        if partition.pending_rows >= self.flush_rows {
            self.flush(label)?;
        }
        Ok(())
    }

    /// Encodes a partition's buffered rows, opening its files on first use.
    fn flush(&mut self, label: &str) -> Result<(), SinkError> {
        let Some(schema) = self.schema.clone() else {
            return Ok(());
        };
        let frame_err = |source| SinkError::Frame {
            table: self.table.clone(),
            source,
        };
        let dirs: Vec<(Format, std::path::PathBuf)> = self
            .formats
            .iter()
            .map(|f| {
                (
                    *f,
                    self.partition_dir(*f, label).join(self.part_file_name(*f)),
                )
            })
            .collect();
        let csv = self.csv;
        let flush_rows = self.flush_rows;
        let required = &self.required;
        let Some(partition) = self.partitions.get_mut(label) else {
            return Ok(());
        };
        if partition.pending.is_empty() {
            return Ok(());
        }
        if partition.files.is_empty() {
            for (format, path) in dirs {
                partition
                    .files
                    .push(FileSink::create(format, &path, &schema, csv, required)?);
            }
        }
        let pending = std::mem::take(&mut partition.pending);
        partition.pending_rows = 0;
        let Some(mut frame) = concat_frames(pending).map_err(frame_err)? else {
            return Ok(());
        };
        frame.rechunk_mut_par();
        // A single write can exceed `flush_rows` (one huge batch): cut it into row groups.
        let mut offset = 0;
        while offset < frame.height() {
            let group = frame.slice(offset as i64, flush_rows);
            for file in &mut partition.files {
                file.write(&group)?;
            }
            offset += flush_rows;
        }
        Ok(())
    }

    fn partition_dir(&self, format: Format, label: &str) -> std::path::PathBuf {
        let dir = self.out.table_dir(format, &self.table);
        if self.partition_column.is_some() {
            dir.join(format!("{PARTITION_KEY}={label}"))
        } else {
            dir
        }
    }
}

impl TableWriter {
    /// `part-0.<ext>`, renamed over the previous one; `part-<token>.<ext>` without rename.
    fn part_file_name(&self, format: Format) -> String {
        match &self.file_token {
            None => format!("part-0.{}", format.name()),
            Some(token) => format!("part-{token}.{}", format.name()),
        }
    }

    /// Deletes the `part-*` files of `file`'s format in its directory on the output root,
    /// except `keep` (the file just written). Other files there are not ours and stay.
    fn remove_old_parts(&self, file: &str, keep: Option<&str>) -> Result<(), SinkError> {
        let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
        let ext = name.rsplit_once('.').map_or("", |(_, ext)| ext);
        let target = self.out.target();
        for object in target.list(dir)? {
            let Some(rest) = object
                .path
                .strip_prefix(dir)
                .and_then(|r| r.strip_prefix('/'))
            else {
                continue;
            };
            let ours = rest.starts_with("part-")
                && !rest.contains('/')
                && rest.ends_with(&format!(".{ext}"));
            if ours && Some(object.path.as_str()) != keep {
                target.delete(&object.path)?;
            }
        }
        Ok(())
    }
}

/// The partition label of a row: `YYYY-MM` of the (local) date `column`; null for a null date.
pub(super) fn month_label(column: &str) -> Expr {
    col(column).dt().strftime("%Y-%m")
}

fn check_partition_column(table: &str, column: &str, schema: &Schema) -> Result<(), SinkError> {
    let problem = match schema.get(column) {
        None => "is missing".to_owned(),
        Some(DataType::Date | DataType::Datetime(_, _)) => return Ok(()),
        Some(other) => format!("must be a Date, is {other}"),
    };
    Err(SinkError::PartitionColumn {
        table: table.to_owned(),
        column: column.to_owned(),
        problem,
    })
}
