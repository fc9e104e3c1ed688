//! Delta Lake tables: `<root>/delta/<table>/`, partitioned by `report_month` like the Parquet
//! datasets, written with delta-rs (without DataFusion) on a local or S3 root.
//!
//! Owns the Delta schema of a table and the commit that replaces its months; knows no job. A run
//! writes each table's new data files first (invisible to readers: no log entry names them),
//! then makes ONE commit that removes the files of every month it replaces and adds the new
//! ones, so a reader sees each month as it was before the run or after it, never between. The
//! commit carries an application transaction (`txn`: app id `wecom-journal/<job>`, version
//! [`DeltaRun::version`]): a writer that finds its version (or a later one) already committed
//! writes nothing, which makes a retried run idempotent and keeps an older run from replacing a
//! newer one's data.
//!
//! Types (Delta has no unsigned integers): `UInt64` → `decimal(20,0)` (exact), `UInt32` →
//! `long`, `Datetime(ms, UTC)` → `timestamp` (µs, UTC), lists → `array<…>`; the partition is a
//! `report_month` string column (`YYYY-MM`, null for rows without a date).
//!
//! Commits need put-if-absent: the local file system has it; on S3 it is a conditional PUT
//! (`If-None-Match: *`), which AWS S3, MinIO, Cloudflare R2 and Ceph honour.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Once, OnceLock};

use deltalake::arrow::datatypes::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{
    Action, ArrayType, DataType as DeltaType, DecimalType, PrimitiveType, StructField, StructType,
    Transaction,
};
use deltalake::logstore::{
    default_logstore, logstore_factories, object_store_factories, LogStore, LogStoreFactory,
    ObjectStoreFactory, ObjectStoreRef, StorageConfig,
};
use deltalake::operations::create::CreateBuilder;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaResult, DeltaTable, DeltaTableBuilder, DeltaTableError, ObjectStore};
use futures::TryStreamExt;
use polars::prelude::*;

use super::arrow_bridge::to_record_batches;
use super::storage::block_on;
use super::table::month_label;
use super::{check_component, OutputRoot, SinkError, DEFAULT_FLUSH_ROWS, PARTITION_KEY};
use crate::flatten::schema::{ColumnType, TableSpec};

/// The directory of the Delta tables under the output root.
pub const DELTA_DIR: &str = "delta";

/// The storage option naming the [`OutputRoot`] client a table on S3 is opened with.
const STORE_OPTION: &str = "wecom_journal_store";

/// The run a Delta commit belongs to: its application transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaRun {
    /// `wecom-journal/<job>`: one transaction stream per job.
    pub(crate) app_id: String,
    /// Grows from run to run and stays the same when a run is retried: the run's start time
    /// in milliseconds (see [`DeltaRun::new`]).
    pub(crate) version: i64,
    /// Recorded in the commit's `commitInfo`, for people reading the history.
    pub(crate) run_id: String,
}

impl DeltaRun {
    /// The transaction of run `run_id` of `job`, started at `started_at` (a retry of the same
    /// run must pass the same start time, e.g. the store's record of it).
    pub fn new(job: &str, run_id: &str, started_at: chrono::DateTime<chrono::Utc>) -> Self {
        DeltaRun {
            app_id: format!("wecom-journal/{job}"),
            version: started_at.timestamp_millis(),
            run_id: run_id.to_owned(),
        }
    }

    /// The transaction of run `run_id` of `job` over `range` (`YYYY-MM-DD..YYYY-MM-DD`): one
    /// stream per job and range, so that a resumed run of one range is not mistaken for done
    /// because another range's run committed since.
    pub(crate) fn of_range(job: &str, range: &str, run_id: &str, version: i64) -> Self {
        DeltaRun {
            app_id: format!("wecom-journal/{job}/{range}"),
            version,
            run_id: run_id.to_owned(),
        }
    }
}

/// What [`DeltaTableWriter::finish`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeltaCommit {
    pub(crate) table: String,
    /// The table's version after the call.
    pub version: u64,
    /// `false` when the run's transaction (or a later one) was already in the table: nothing
    /// was written.
    pub committed: bool,
    pub(crate) rows: u64,
    pub(crate) files_added: usize,
    pub files_removed: usize,
    /// Relative to the output root, e.g. `delta/journals`.
    pub(crate) path: String,
}

/// Writes one table's frames as a Delta table, in batches of any size.
///
/// ```text
/// let mut w = DeltaTableWriter::create(&root, &schema::JOURNALS, &run)?;
/// w.covers(["2026-10"]);
/// for batch in batches { w.write_batch(&batch)?; }
/// let commit = w.finish()?;
/// ```
pub struct DeltaTableWriter {
    root: OutputRoot,
    spec: TableSpec,
    rel: String,
    run: DeltaRun,
    /// Built from the table URL; loaded when the table exists.
    table: DeltaTable,
    exists: bool,
    /// `None` once the run is known to be committed already.
    writer: Option<RecordBatchWriter>,
    /// The data columns as arrow-rs writes them (the partition column last, when partitioned).
    arrow_schema: SchemaRef,
    months: BTreeSet<Option<String>>,
    covered: BTreeSet<String>,
    rows: u64,
}

impl DeltaTableWriter {
    /// Opens (or prepares to create) `<root>/delta/<spec.name>/`. Fails if the table exists
    /// with another schema or partitioning.
    pub fn create(root: &OutputRoot, spec: &TableSpec, run: &DeltaRun) -> Result<Self, SinkError> {
        check_component(spec.name)?;
        let rel = format!("{DELTA_DIR}/{}", spec.name);
        let err = |message: String| SinkError::Delta {
            table: spec.name.to_owned(),
            message: root.scrub(&message),
        };
        let url = root.url_of(&rel)?;
        let delta_schema = delta_schema(spec);
        let arrow_schema: deltalake::arrow::datatypes::Schema = (&delta_schema)
            .try_into_arrow()
            .map_err(|e| err(format!("arrow schema: {e}")))?;
        let arrow_schema = Arc::new(arrow_schema);
        let options = storage_options(root);
        let partitions = partition_columns(spec);
        let prepared = block_on(async {
            let mut table = DeltaTableBuilder::from_url(url.clone())?
                .with_storage_options(options.clone())
                .build()?;
            let exists = table.verify_deltatable_existence().await?;
            if exists {
                table.load().await?;
            }
            let done = match exists {
                true => {
                    let state = table.snapshot()?;
                    let seen = state
                        .transaction_version(table.log_store().as_ref(), &run.app_id)
                        .await?;
                    seen.is_some_and(|v| v >= run.version)
                }
                false => false,
            };
            let writer = match (done, exists) {
                (true, _) => None,
                (false, true) => Some(RecordBatchWriter::for_table(&table)?),
                (false, false) => Some(RecordBatchWriter::try_new(
                    url.as_str(),
                    arrow_schema.clone(),
                    Some(partitions.clone()),
                    Some(options.clone()),
                )?),
            };
            Ok::<_, DeltaTableError>((table, exists, writer))
        });
        let (table, exists, writer) = prepared.map_err(|e: DeltaTableError| err(e.to_string()))?;
        if exists {
            check_existing(&table, &delta_schema, &partitions).map_err(err)?;
        }
        let writer = writer.map(|w| w.with_writer_properties(writer_properties()));
        Ok(DeltaTableWriter {
            root: root.clone(),
            spec: *spec,
            rel,
            run: run.clone(),
            table,
            exists,
            writer,
            arrow_schema,
            months: BTreeSet::new(),
            covered: BTreeSet::new(),
            rows: 0,
        })
    }

    /// Declares months (`YYYY-MM`) this run replaces even if it writes no row in them: their
    /// old files are removed in the commit. Months written are always replaced.
    pub fn covers<I, S>(&mut self, months: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.covered.extend(months.into_iter().map(Into::into));
    }

    /// Whether the run's transaction was found in the table: batches are then ignored.
    #[cfg(test)]
    pub(crate) fn already_committed(&self) -> bool {
        self.writer.is_none()
    }

    /// Adds a batch: exactly the table's columns, in order, with their types.
    pub fn write_batch(&mut self, batch: &DataFrame) -> Result<(), SinkError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let table = self.spec.name.to_owned();
        self.spec.check(batch).map_err(|message| SinkError::Delta {
            table: table.clone(),
            message,
        })?;
        if batch.height() == 0 {
            return Ok(());
        }
        let frame_err = |source| SinkError::Frame {
            table: table.clone(),
            source,
        };
        let batch = match self.spec.partition_by {
            None => batch.clone(),
            Some(column) => {
                let labelled = batch
                    .clone()
                    .lazy()
                    .with_column(month_label(column).alias(PARTITION_KEY))
                    .collect()
                    .map_err(frame_err)?;
                let months = labelled
                    .column(PARTITION_KEY)
                    .and_then(|c| c.unique())
                    .map_err(frame_err)?;
                let months = months.str().map_err(frame_err)?;
                self.months
                    .extend(months.iter().map(|m| m.map(str::to_owned)));
                labelled
            }
        };
        let batches =
            to_record_batches(&batch, &self.arrow_schema).map_err(|e| SinkError::Delta {
                table: table.clone(),
                message: e.to_string(),
            })?;
        let root = &self.root;
        block_on(async {
            for batch in batches {
                writer.write(batch).await?;
            }
            Ok::<_, DeltaTableError>(())
        })
        .map_err(|e| SinkError::Delta {
            table: table.clone(),
            message: root.scrub(&e.to_string()),
        })?;
        self.rows += batch.height() as u64;
        Ok(())
    }

    /// Uploads the last data files and commits: remove the replaced months' files, add the
    /// new ones, record the run's transaction. One new table version, or none when the run
    /// was already committed.
    pub fn finish(mut self) -> Result<DeltaCommit, SinkError> {
        let Some(mut writer) = self.writer.take() else {
            let version = self.table.version().unwrap_or_default();
            return Ok(self.summary(version, false, 0, 0));
        };
        let replaced: BTreeSet<Option<String>> = self
            .months
            .iter()
            .cloned()
            .chain(self.covered.iter().cloned().map(Some))
            .collect();
        let (table, spec, run, exists) = (&self.table, &self.spec, &self.run, self.exists);
        let result = block_on(async {
            let adds = writer.flush().await?;
            let removes = match exists {
                true => files_to_remove(table, spec.partition_by.is_some(), &replaced).await?,
                false => Vec::new(),
            };
            let counts = (adds.len(), removes.len());
            let mut actions: Vec<Action> = removes.into_iter().map(Action::Remove).collect();
            actions.extend(adds.into_iter().map(Action::Add));
            let version = commit(table, exists, spec, run, actions, &replaced).await?;
            Ok::<_, DeltaTableError>((version, counts))
        });
        match result {
            Ok((version, (added, removed))) => Ok(self.summary(version, true, added, removed)),
            Err(e) => Err(SinkError::Delta {
                table: self.spec.name.to_owned(),
                message: self.root.scrub(&e.to_string()),
            }),
        }
    }

    fn summary(&self, version: u64, committed: bool, added: usize, removed: usize) -> DeltaCommit {
        DeltaCommit {
            table: self.spec.name.to_owned(),
            version,
            committed,
            rows: if committed { self.rows } else { 0 },
            files_added: added,
            files_removed: removed,
            path: self.rel.clone(),
        }
    }
}

/// The one commit of the run: a create (version 0) for a new table, else remove + add.
async fn commit(
    table: &DeltaTable,
    exists: bool,
    spec: &TableSpec,
    run: &DeltaRun,
    actions: Vec<Action>,
    replaced: &BTreeSet<Option<String>>,
) -> DeltaResult<u64> {
    let properties = CommitProperties::default()
        .with_application_transaction(Transaction::new(&run.app_id, run.version))
        .with_metadata([
            ("wecom_journal_run_id".to_owned(), run.run_id.clone().into()),
            ("wecom_journal_app_id".to_owned(), run.app_id.clone().into()),
        ]);
    let partitions = partition_columns(spec);
    if !exists {
        let created = CreateBuilder::new()
            .with_log_store(table.log_store())
            .with_table_name(spec.name)
            .with_comment(format!("wecom-journal table {}", spec.name))
            .with_columns(delta_schema(spec).fields().cloned())
            .with_partition_columns(partitions)
            .with_actions(actions)
            .with_commit_properties(properties)
            .with_save_mode(SaveMode::ErrorIfExists)
            .await?;
        return Ok(created.version().unwrap_or(0));
    }
    let predicate = (!partitions.is_empty()).then(|| month_predicate(replaced));
    let operation = DeltaOperation::Write {
        mode: SaveMode::Overwrite,
        partition_by: (!partitions.is_empty()).then_some(partitions),
        predicate,
    };
    let finalized = CommitBuilder::from(properties)
        .with_actions(actions)
        .build(Some(table.snapshot()?), table.log_store(), operation)
        .await?;
    Ok(finalized.version())
}

/// The active files of the replaced months (every file, for an unpartitioned table), as
/// remove actions.
async fn files_to_remove(
    table: &DeltaTable,
    partitioned: bool,
    replaced: &BTreeSet<Option<String>>,
) -> DeltaResult<Vec<deltalake::kernel::Remove>> {
    let log_store = table.log_store();
    let files: Vec<_> = table
        .snapshot()?
        .snapshot()
        .file_views(log_store.as_ref(), None)
        .try_collect()
        .await?;
    Ok(files
        .iter()
        .filter(|file| {
            !partitioned
                || replaced.contains(
                    &file
                        .partition_values_map()
                        .get(PARTITION_KEY)
                        .cloned()
                        .flatten(),
                )
        })
        .map(|file| file.remove_action(true))
        .collect())
}

/// `report_month IN ('2026-09', '2026-10')` (and `OR report_month IS NULL`), for the history.
fn month_predicate(replaced: &BTreeSet<Option<String>>) -> String {
    let months: Vec<String> = replaced
        .iter()
        .flatten()
        .map(|m| format!("'{}'", m.replace('\'', "''")))
        .collect();
    let mut predicate = match months.is_empty() {
        true => "false".to_owned(),
        false => format!("{PARTITION_KEY} IN ({})", months.join(", ")),
    };
    if replaced.contains(&None) {
        predicate.push_str(&format!(" OR {PARTITION_KEY} IS NULL"));
    }
    predicate
}

fn partition_columns(spec: &TableSpec) -> Vec<String> {
    match spec.partition_by {
        Some(_) => vec![PARTITION_KEY.to_owned()],
        None => Vec::new(),
    }
}

/// The Delta type of a column type (see the module doc).
pub(crate) fn delta_type(dtype: ColumnType) -> DeltaType {
    let id = || {
        DeltaType::Primitive(PrimitiveType::Decimal(
            DecimalType::try_new(20, 0).expect("20,0 is a valid decimal"),
        ))
    };
    match dtype {
        ColumnType::String => DeltaType::STRING,
        ColumnType::Boolean => DeltaType::BOOLEAN,
        ColumnType::UInt32 | ColumnType::Int64 => DeltaType::LONG,
        ColumnType::UInt64 => id(),
        ColumnType::Float64 => DeltaType::DOUBLE,
        ColumnType::Date => DeltaType::DATE,
        ColumnType::DatetimeMsUtc => DeltaType::TIMESTAMP,
        ColumnType::ListString => ArrayType::new(DeltaType::STRING, true).into(),
        ColumnType::ListUInt64 => ArrayType::new(id(), true).into(),
    }
}

/// The table's Delta schema: its columns, then `report_month` when partitioned.
pub(crate) fn delta_schema(spec: &TableSpec) -> StructType {
    let mut fields: Vec<StructField> = spec
        .columns
        .iter()
        .map(|c| StructField::new(c.name, delta_type(c.dtype), c.nullable))
        .collect();
    if spec.partition_by.is_some() {
        fields.push(StructField::new(PARTITION_KEY, DeltaType::STRING, true));
    }
    StructType::try_new(fields).expect("column names are unique (checked by the schema tests)")
}

/// An existing table must have our columns (names, types, nullability) and partitioning.
fn check_existing(
    table: &DeltaTable,
    want: &StructType,
    partitions: &[String],
) -> Result<(), String> {
    let state = table.snapshot().map_err(|e| e.to_string())?;
    let have = state.schema();
    let describe = |s: &StructType| -> Vec<(String, String, bool)> {
        s.fields()
            .map(|f| (f.name().clone(), f.data_type().to_string(), f.is_nullable()))
            .collect()
    };
    if describe(&have) != describe(want) {
        return Err(format!(
            "the table exists with other columns ({:?}) than this version writes ({:?}); \
             hint: write to a new output location, or remove the table to recreate it",
            describe(&have),
            describe(want)
        ));
    }
    let have_partitions: Vec<String> = state.metadata().partition_columns().to_vec();
    if have_partitions != partitions {
        return Err(format!(
            "the table is partitioned by {have_partitions:?}, not {partitions:?}"
        ));
    }
    Ok(())
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(DEFAULT_FLUSH_ROWS))
        .build()
}

/// Storage options that open a table on `root`: none for a local root; for S3, the id of the
/// root's client, which the factories below hand to delta-rs. Credentials never go through
/// delta-rs's options.
fn storage_options(root: &OutputRoot) -> HashMap<String, String> {
    let Some((id, store)) = root.s3_store() else {
        return HashMap::new();
    };
    register_s3();
    stores()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(id)
        .or_insert(store);
    HashMap::from([(STORE_OPTION.to_owned(), id.to_string())])
}

/// The S3 clients of the output roots that opened Delta tables, by root id.
fn stores() -> &'static Mutex<HashMap<u64, Arc<dyn ObjectStore>>> {
    static STORES: OnceLock<Mutex<HashMap<u64, Arc<dyn ObjectStore>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Teaches delta-rs the `s3://` scheme with our client (the deltalake-aws crate would bring a
/// second credential stack, the AWS SDK) and its default log store, which commits with a
/// conditional PUT.
fn register_s3() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let scheme = url::Url::parse("s3://").expect("a valid URL");
        object_store_factories().insert(scheme.clone(), Arc::new(RootStores));
        logstore_factories().insert(scheme, Arc::new(ConditionalPutLogStores));
    });
}

struct RootStores;

impl ObjectStoreFactory for RootStores {
    fn parse_url_opts(
        &self,
        url: &url::Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, deltalake::Path)> {
        let store = config
            .raw
            .get(STORE_OPTION)
            .and_then(|id| id.parse::<u64>().ok())
            .and_then(|id| {
                stores()
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get(&id)
                    .cloned()
            })
            .ok_or_else(|| {
                DeltaTableError::InvalidTableLocation(format!(
                    "{url}: s3 tables are opened through an OutputRoot"
                ))
            })?;
        Ok((store, deltalake::Path::from(url.path())))
    }
}

struct ConditionalPutLogStores;

impl LogStoreFactory for ConditionalPutLogStores {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &url::Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// The arrow-rs field of a column, as delta-rs writes it (for tests and the schema doc).
#[cfg(test)]
fn arrow_field(spec: &TableSpec, column: &str) -> Option<deltalake::arrow::datatypes::Field> {
    let schema: deltalake::arrow::datatypes::Schema =
        (&delta_schema(spec)).try_into_arrow().ok()?;
    schema.field_with_name(column).ok().cloned()
}

#[cfg(test)]
#[path = "delta_tests.rs"]
mod tests;
