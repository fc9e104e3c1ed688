//! Flattening: decoded responses → polars DataFrames with the fixed tables that
//! `docs/schema.md` describes.
//!
//! Owns the output tables' schemas ([`schema`]), the rendering of every control type
//! ([`controls`]) and the directory ([`directory`]).
//! Each table has one column builder: the five journal tables in `journals`, the two stat
//! tables in `stats`, the directory's two in `directory_tables`, all built from the typed
//! column constructors of `columns`.
//! Works batch by batch with no global state (the run streams the store in batches), reads
//! decoded responses, never calls the network and writes no file. Every frame it builds is
//! checked against its [`schema::TableSpec`] before it is returned.

mod columns;
pub mod controls;
pub mod directory;
mod directory_tables;
mod journals;
pub mod local_paths;
pub mod schema;
mod stats;
mod templates;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use polars::prelude::*;

pub use directory::{Directory, DirectoryDepartment, DirectoryUserEntry, UNKNOWN_DEPARTMENT};
pub use directory_tables::directory_tables;
pub use journals::flatten_journals;
pub use local_paths::{LocalFile, LocalPaths};
pub use schema::{table, ColumnSpec, ColumnType, TableSpec, TABLES};
pub use stats::flatten_stats;
pub(crate) use templates::{attribute_templates, TemplateKnowledge};

/// What went wrong while flattening, with what and where.
#[derive(Debug, thiserror::Error)]
pub enum FlattenError {
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what}: timestamp {value} is out of range")]
    Timestamp { what: String, value: i128 },
    #[error("building table {table}: {source}")]
    Polars {
        table: &'static str,
        source: PolarsError,
    },
    /// A built frame does not match its schema: a bug here, reported rather than written.
    #[error("{0}")]
    Schema(String),
}

impl FlattenError {
    fn polars(table: &'static str) -> impl FnOnce(PolarsError) -> FlattenError {
        move |source| FlattenError::Polars { table, source }
    }
}

/// Values flatten kept but could not fully decode, counted by control name: never a reason to
/// drop a row, those rows carry `value_json` (and a null `value_text` for unknown types). And
/// the items it had to leave out, each named: a journal with a time no table can hold (a
/// `report_time` past the year 262,000), which one bad item must not make a failed run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    /// Controls of a type this crate does not know (`control` name → rows).
    pub unknown_control_types: BTreeMap<String, u64>,
    /// Controls of a known type whose value (or part of it) did not decode.
    pub undecodable_values: BTreeMap<String, u64>,
    /// Journals left out, each with why (`journal …: timestamp … is out of range`).
    pub skipped: Vec<String>,
}

impl Warnings {
    /// Records a journal left out, and why.
    pub(crate) fn skip(&mut self, why: String) {
        self.skipped.push(why);
    }

    pub(crate) fn unknown_control(&mut self, control: &str) {
        *self
            .unknown_control_types
            .entry(control.to_string())
            .or_default() += 1;
    }

    pub(crate) fn undecodable(&mut self, control: &str) {
        *self
            .undecodable_values
            .entry(control.to_string())
            .or_default() += 1;
    }

    /// No value kept undecoded (the items left out are [`Warnings::skipped`], apart).
    pub fn is_empty(&self) -> bool {
        self.unknown_control_types.is_empty() && self.undecodable_values.is_empty()
    }

    /// Adds another batch's counts.
    pub fn merge(&mut self, other: &Warnings) {
        for (k, v) in &other.unknown_control_types {
            *self.unknown_control_types.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.undecodable_values {
            *self.undecodable_values.entry(k.clone()).or_default() += v;
        }
        self.skipped.extend(other.skipped.iter().cloned());
    }
}

impl fmt::Display for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = vec![];
        if !self.unknown_control_types.is_empty() {
            parts.push(format!(
                "unknown control types kept as value_json: {}",
                list(&self.unknown_control_types)
            ));
        }
        if !self.undecodable_values.is_empty() {
            parts.push(format!(
                "values that did not decode, kept as value_json: {}",
                list(&self.undecodable_values)
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The five journal-derived tables of one batch.
#[derive(Debug, Clone)]
pub struct JournalTables {
    pub journals: DataFrame,
    pub journal_controls: DataFrame,
    pub journal_attachments: DataFrame,
    pub journal_receivers: DataFrame,
    pub journal_comments: DataFrame,
}

impl JournalTables {
    /// `(table name, frame)` in the order of [`TABLES`].
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &DataFrame)> {
        [
            ("journals", &self.journals),
            ("journal_controls", &self.journal_controls),
            ("journal_attachments", &self.journal_attachments),
            ("journal_receivers", &self.journal_receivers),
            ("journal_comments", &self.journal_comments),
        ]
        .into_iter()
    }
}

/// The two statistics tables, and the cycles left out of them.
#[derive(Debug, Clone)]
pub struct StatTables {
    pub stat_cycles: DataFrame,
    pub stat_items: DataFrame,
    /// Cycles left out, each with why: one with a time no table can hold (the real
    /// `stat_end_time` of 18446744073709551615) would otherwise fail every cycle.
    pub skipped: Vec<String>,
}

#[cfg(test)]
mod tests;
