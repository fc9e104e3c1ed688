//! The output tables (the README's "Output tables and reports"): names, column order, types,
//! nullability and a one-line meaning per column. This is the public contract the sinks, the
//! reports and every downstream reader rely on; `wecom-journal schema` prints it and
//! `docs/schema.md` is generated from it.
//!
//! Owns only the description; the frames are built in the sibling modules, which check what they
//! build against it ([`TableSpec::check`]).

use polars::prelude::{DataType, PlSmallStr, Schema, TimeUnit, TimeZone};
use serde_json::{json, Value};

/// The type of an output column, as a small closed set (every table uses only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Boolean,
    UInt32,
    UInt64,
    Int64,
    Float64,
    /// A local calendar date (days since 1970-01-01).
    Date,
    /// Milliseconds since the epoch, time zone UTC.
    DatetimeMsUtc,
    ListString,
    ListUInt64,
}

impl ColumnType {
    /// The polars type of the column.
    pub(crate) fn dtype(self) -> DataType {
        match self {
            ColumnType::String => DataType::String,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::UInt32 => DataType::UInt32,
            ColumnType::UInt64 => DataType::UInt64,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Date => DataType::Date,
            ColumnType::DatetimeMsUtc => {
                DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            }
            ColumnType::ListString => DataType::List(Box::new(DataType::String)),
            ColumnType::ListUInt64 => DataType::List(Box::new(DataType::UInt64)),
        }
    }

    /// How the type is written in the schema documents.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ColumnType::String => "String",
            ColumnType::Boolean => "Boolean",
            ColumnType::UInt32 => "UInt32",
            ColumnType::UInt64 => "UInt64",
            ColumnType::Int64 => "Int64",
            ColumnType::Float64 => "Float64",
            ColumnType::Date => "Date",
            ColumnType::DatetimeMsUtc => "Datetime(ms, UTC)",
            ColumnType::ListString => "List(String)",
            ColumnType::ListUInt64 => "List(UInt64)",
        }
    }
}

/// One column of an output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub dtype: ColumnType,
    /// Whether the column may hold nulls.
    pub nullable: bool,
    pub(crate) meaning: &'static str,
}

/// One output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    /// What one row is.
    pub(crate) grain: &'static str,
    /// The local `Date` column the sinks partition by (`report_month=YYYY-MM`), if any.
    pub partition_by: Option<&'static str>,
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// The polars schema of the table, columns in order.
    pub fn polars_schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| (PlSmallStr::from_static(c.name), c.dtype.dtype()))
            .collect()
    }

    pub fn column(&self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }

    /// Checks that `frame` has exactly this table's columns, in order, with their types, and no
    /// null where the column is not nullable. A failure is a bug in the builder, reported as an
    /// error naming the table and column rather than a panic.
    pub(crate) fn check(&self, frame: &polars::prelude::DataFrame) -> Result<(), String> {
        let got: Vec<(String, DataType)> = frame
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect();
        let want: Vec<(String, DataType)> = self
            .columns
            .iter()
            .map(|c| (c.name.to_string(), c.dtype.dtype()))
            .collect();
        if got != want {
            return Err(format!(
                "table {}: columns {got:?} differ from the schema {want:?}",
                self.name
            ));
        }
        for spec in self.columns.iter().filter(|c| !c.nullable) {
            let nulls = frame.column(spec.name).map(|c| c.null_count()).unwrap_or(0);
            if nulls > 0 {
                return Err(format!(
                    "table {}: column {} holds {nulls} null(s) but is not nullable",
                    self.name, spec.name
                ));
            }
        }
        Ok(())
    }
}

const fn col(
    name: &'static str,
    dtype: ColumnType,
    nullable: bool,
    meaning: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        dtype,
        nullable,
        meaning,
    }
}

use ColumnType as T;

const REPORT_DATE: ColumnSpec = col(
    "report_date",
    T::Date,
    false,
    "local date (job time zone) of the journal's report_time; partitions the table",
);

pub(crate) const JOURNALS: TableSpec = TableSpec {
    name: "journals",
    grain: "journal",
    partition_by: Some("report_date"),
    columns: &[
        col(
            "journal_uuid",
            T::String,
            false,
            "the journal's uuid (journaluuid)",
        ),
        col(
            "template_id",
            T::String,
            true,
            "template id, when the detail carries it",
        ),
        col(
            "template_name",
            T::String,
            false,
            "template name (汇报 form)",
        ),
        col(
            "report_time",
            T::DatetimeMsUtc,
            false,
            "when the journal was submitted",
        ),
        REPORT_DATE,
        col(
            "submitter_userid",
            T::String,
            false,
            "userid of the submitter",
        ),
        col(
            "department_id",
            T::UInt64,
            true,
            "submitter's main department (without one, the first department listed for them); null when the directory has none for them",
        ),
        col(
            "department_name",
            T::String,
            false,
            "name of that department, or `unknown`",
        ),
        col(
            "receiver_count",
            T::UInt32,
            false,
            "rows of journal_receivers for the journal",
        ),
        col("read_count", T::UInt32, false, "receivers who have read it"),
        col("comment_count", T::UInt32, false, "comments on it"),
        col(
            "sys_journal_data",
            T::String,
            true,
            "rich text of the special 汇报 template, kept whole",
        ),
    ],
};

pub(crate) const JOURNAL_CONTROLS: TableSpec = TableSpec {
    name: "journal_controls",
    grain: "control value (table cells too)",
    partition_by: Some("report_date"),
    columns: &[
        col("journal_uuid", T::String, false, "the journal"),
        col("seq", T::UInt32, false, "0-based order of the control in its journal, depth-first (a Table, then its cells row by row)"),
        col("control_id", T::String, false, "control id as sent (may be empty)"),
        col("control_type", T::String, false, "control name as sent: Text, Selector, … or an undocumented one"),
        col("title", T::String, true, "title in zh_CN, or the first title"),
        col("title_en", T::String, true, "English title, when one is sent"),
        col("parent_control_id", T::String, true, "id of the Table holding this cell; null at top level"),
        col("table_row", T::UInt32, true, "0-based row of the Table holding this cell; null at top level"),
        col("value_text", T::String, true, "readable rendering (options, names, local dates joined with 、); null for unknown types"),
        col("value_number", T::Float64, true, "Number, Money and Formula values"),
        col("value_time", T::DatetimeMsUtc, true, "Date value; DateRange begin"),
        col("value_end_time", T::DatetimeMsUtc, true, "DateRange end"),
        col("value_duration_s", T::Int64, true, "DateRange duration in seconds"),
        col("value_options", T::ListString, true, "Selector: the chosen options' texts"),
        col("value_json", T::String, false, "the exact original value JSON"),
        REPORT_DATE,
    ],
};

pub(crate) const JOURNAL_ATTACHMENTS: TableSpec = TableSpec {
    name: "journal_attachments",
    grain: "file / wedrive file / doc referenced by a control (table cells too)",
    partition_by: Some("report_date"),
    columns: &[
        col("journal_uuid", T::String, false, "the journal"),
        col("control_id", T::String, false, "the control referencing it"),
        col("kind", T::String, false, "file, wedrive_file or doc"),
        col(
            "file_id",
            T::String,
            false,
            "file_id, wedrive fileid or docid",
        ),
        col(
            "name",
            T::String,
            true,
            "file name, or a doc's URL, when known",
        ),
        col(
            "local_path",
            T::String,
            true,
            "where the run saved the bytes; null unless downloaded",
        ),
        col(
            "bytes",
            T::UInt64,
            true,
            "the downloaded file's size; null unless downloaded",
        ),
        col(
            "checksum",
            T::String,
            true,
            "BLAKE3 of the downloaded bytes, lowercase hex (`b3sum` prints the same); null unless downloaded",
        ),
        REPORT_DATE,
    ],
};

pub(crate) const JOURNAL_RECEIVERS: TableSpec = TableSpec {
    name: "journal_receivers",
    grain: "receiver of a journal",
    partition_by: Some("report_date"),
    columns: &[
        col("journal_uuid", T::String, false, "the journal"),
        col("userid", T::String, false, "the receiver"),
        col(
            "has_read",
            T::Boolean,
            false,
            "whether the receiver has read it (readed_receivers)",
        ),
        REPORT_DATE,
    ],
};

pub(crate) const JOURNAL_COMMENTS: TableSpec = TableSpec {
    name: "journal_comments",
    grain: "comment",
    partition_by: Some("report_date"),
    columns: &[
        col("journal_uuid", T::String, false, "the journal"),
        col(
            "comment_id",
            T::UInt64,
            false,
            "comment id (exact; may exceed 2^53)",
        ),
        col(
            "to_comment_id",
            T::UInt64,
            true,
            "the comment answered; null when 0 (none)",
        ),
        col("userid", T::String, false, "author"),
        col("content", T::String, false, "text of the comment"),
        col(
            "comment_time",
            T::DatetimeMsUtc,
            false,
            "when it was written",
        ),
        REPORT_DATE,
    ],
};

pub(crate) const STAT_CYCLES: TableSpec = TableSpec {
    name: "stat_cycles",
    grain: "template × cycle",
    partition_by: Some("cycle_date"),
    columns: &[
        col("template_id", T::String, false, "template"),
        col("template_name", T::String, false, "template name"),
        col(
            "report_type",
            T::String,
            false,
            "day, week, month (other for an undocumented code)",
        ),
        col("cycle_begin", T::DatetimeMsUtc, false, "start of the cycle"),
        col("cycle_end", T::DatetimeMsUtc, false, "end of the cycle"),
        col(
            "stat_begin",
            T::DatetimeMsUtc,
            false,
            "start of the counting window",
        ),
        col(
            "stat_end",
            T::DatetimeMsUtc,
            false,
            "end of the counting window",
        ),
        col("expected", T::UInt32, false, "reported + unreported"),
        col("reported", T::UInt32, false, "users who reported"),
        col(
            "late",
            T::UInt32,
            false,
            "users who reported late (flag 1 on every item: one on time counts on time)",
        ),
        col("unreported", T::UInt32, false, "users who did not report"),
        col(
            "cycle_date",
            T::Date,
            false,
            "local date of cycle_begin; partitions the table",
        ),
    ],
};

pub(crate) const STAT_ITEMS: TableSpec = TableSpec {
    name: "stat_items",
    grain: "user × cycle × status",
    partition_by: Some("cycle_date"),
    columns: &[
        col("template_id", T::String, false, "template"),
        col("template_name", T::String, false, "template name"),
        col(
            "report_type",
            T::String,
            false,
            "day, week, month (other for an undocumented code)",
        ),
        col("cycle_begin", T::DatetimeMsUtc, false, "start of the cycle"),
        col("cycle_end", T::DatetimeMsUtc, false, "end of the cycle"),
        col("userid", T::String, false, "the user"),
        col(
            "department_id",
            T::UInt64,
            true,
            "user's main department (without one, the first department listed for them); null when the directory has none for them",
        ),
        col(
            "department_name",
            T::String,
            false,
            "name of that department, or `unknown`",
        ),
        col("status", T::String, false, "reported or unreported"),
        col(
            "journal_uuid",
            T::String,
            true,
            "the user's first on-time journal of the cycle, else their first; null when unreported",
        ),
        col(
            "report_time",
            T::DatetimeMsUtc,
            true,
            "when that journal was submitted; null when unreported",
        ),
        col(
            "is_late",
            T::Boolean,
            true,
            "whether the user was late: every journal of the cycle late; null when unreported",
        ),
        col(
            "cycle_date",
            T::Date,
            false,
            "local date of cycle_begin; partitions the table",
        ),
    ],
};

pub(crate) const DEPARTMENTS: TableSpec = TableSpec {
    name: "departments",
    grain: "directory department",
    partition_by: None,
    columns: &[
        col("department_id", T::UInt64, false, "department id"),
        col("name", T::String, false, "department name"),
        col(
            "parent_id",
            T::UInt64,
            true,
            "parent department; null for a root",
        ),
        col(
            "path",
            T::String,
            false,
            "names from the root down, joined with / (总部/研发/后端)",
        ),
    ],
};

pub(crate) const USERS: TableSpec = TableSpec {
    name: "users",
    grain: "directory user",
    partition_by: None,
    columns: &[
        col("userid", T::String, false, "the user"),
        col(
            "department_id",
            T::UInt64,
            true,
            "main department; null when the directory gives none",
        ),
        col(
            "department_ids",
            T::ListUInt64,
            false,
            "every department the user belongs to",
        ),
    ],
};

/// Every output table, in the order the documents list them.
pub static TABLES: &[TableSpec] = &[
    JOURNALS,
    JOURNAL_CONTROLS,
    JOURNAL_ATTACHMENTS,
    JOURNAL_RECEIVERS,
    JOURNAL_COMMENTS,
    STAT_CYCLES,
    STAT_ITEMS,
    DEPARTMENTS,
    USERS,
];

/// The table called `name`.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// The schema as Markdown (the content of `docs/schema.md`).
pub fn to_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Output tables\n\n");
    out.push_str(
        "<!-- Generated by `wecom-journal schema --format md > docs/schema.md`; do not edit by hand. -->\n\n",
    );
    out.push_str(
        "Times are `Datetime(ms, UTC)`; `Date` columns are local dates in the job's time zone. \
         IDs stay exact (`UInt64`, never through a float). Table and column names are a stable \
         contract.\n",
    );
    out.push_str(
        "\nThese tables keep UTC in every format (Parquet, CSV, Arrow IPC, Delta), for programs. \
         The reports' CSV files are for people: their instants are the job's local time with \
         the offset (`2026-10-01 00:00:00+08:00`, which a spreadsheet reads as a date), and \
         days are plain local dates; the reports' Parquet and Arrow files keep UTC. The \
         workbook shows local times (Excel has no time zones).\n",
    );
    out.push_str(
        "\nDelta tables (`delta/<table>/`) have the same columns in Delta's types, which have no \
         unsigned integers: `UInt64` is `decimal(20,0)` (exact), `UInt32` is `long`, \
         `Datetime(ms, UTC)` is `timestamp` (µs, UTC), `List(…)` is `array<…>`; partitioned \
         tables add the partition column `report_month` (string `YYYY-MM`).\n",
    );
    for t in TABLES {
        out.push_str(&format!("\n## `{}`\n\nOne row per {}.", t.name, t.grain));
        if let Some(p) = t.partition_by {
            out.push_str(&format!(
                " Partition date: `{p}` (the sinks write `report_month=YYYY-MM`)."
            ));
        }
        out.push_str("\n\n| column | type | nullable | meaning |\n|---|---|---|---|\n");
        for c in t.columns {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name,
                c.dtype.label(),
                if c.nullable { "yes" } else { "no" },
                c.meaning.replace('|', "\\|")
            ));
        }
    }
    out
}

/// The schema as JSON: `{"tables": [{"name", "grain", "partition_by", "columns": [{"name",
/// "dtype", "nullable", "meaning"}]}]}`.
pub(crate) fn to_json_value() -> Value {
    let tables: Vec<Value> = TABLES
        .iter()
        .map(|t| {
            let columns: Vec<Value> = t
                .columns
                .iter()
                .map(|c| json!({"name": c.name, "dtype": c.dtype.label(), "nullable": c.nullable, "meaning": c.meaning}))
                .collect();
            json!({"name": t.name, "grain": t.grain, "partition_by": t.partition_by, "columns": columns})
        })
        .collect();
    json!({ "tables": tables })
}

/// [`to_json_value`], pretty-printed.
pub(crate) fn to_json() -> String {
    let mut s = serde_json::to_string_pretty(&to_json_value()).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_tables_with_unique_column_names() {
        assert_eq!(TABLES.len(), 9);
        for t in TABLES {
            let mut names = t.column_names();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                t.columns.len(),
                "duplicate column in {}",
                t.name
            );
            if let Some(p) = t.partition_by {
                assert_eq!(
                    t.column(p).map(|c| c.dtype),
                    Some(ColumnType::Date),
                    "{}",
                    t.name
                );
            }
        }
        assert!(table("journals").is_some());
        assert!(table("nope").is_none());
    }

    #[test]
    fn json_lists_every_column() {
        let v = to_json_value();
        let n: usize = v["tables"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t["columns"].as_array().map_or(0, |c| c.len()))
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(n, TABLES.iter().map(|t| t.columns.len()).sum::<usize>());
    }
}
