//! The journal side of the reports as running totals: what `read_rate_by_template` and the
//! summary need of the journals, folded batch by batch into one row per day × template ×
//! submitter × department, so that a run of a million journals holds a few thousand rows for
//! its reports instead of a million.
//!
//! Both ways in reach the reports through the same *partials* (see [`PARTIAL_KEYS`]): a frame
//! of journal rows ([`super::ReportInputs::new`]) is reduced to them lazily, a stream of
//! batches ([`JournalTotals`]) folds each batch into them; the reports then roll the partials
//! up. Merging partials is exact: counts and sums add, and a group's template name is the
//! first non-null one in stream order (`name_seq` says which journal gave it), as a
//! `first()` over the journal rows would pick.

use polars::prelude::*;

use super::ReportError;

/// The partials' grouping columns: every journal column a report or the summary groups by or
/// counts distinct values of.
pub(super) const PARTIAL_KEYS: [&str; 5] = [
    "report_date",
    "template_id",
    "submitter_userid",
    "department_id",
    "department_name",
];

/// The rows of distinct journals (one per `journal_uuid`, in first-seen order) reduced to
/// partials; `seq_offset` is the stream position of the first row.
pub(super) fn partials_of_distinct(distinct: LazyFrame, seq_offset: u64) -> LazyFrame {
    let rows = distinct.with_row_index("seq", None).with_columns([
        when(col("template_name").is_not_null())
            .then(col("seq").cast(DataType::UInt64) + lit(seq_offset))
            .otherwise(lit(NULL).cast(DataType::UInt64))
            .alias("name_seq"),
        lit(1u64).alias("journals"),
        col("receiver_count")
            .fill_null(lit(0u64))
            .cast(DataType::UInt64)
            .alias("receivers"),
        col("read_count")
            .fill_null(lit(0u64))
            .cast(DataType::UInt64)
            .alias("reads"),
    ]);
    merge(rows)
}

/// Partials (or a stack of them) merged to one row per [`PARTIAL_KEYS`] group.
pub(super) fn merge(partials: LazyFrame) -> LazyFrame {
    partials
        .group_by(PARTIAL_KEYS.map(col))
        .agg([
            first_name(),
            col("name_seq").min(),
            col("journals").sum(),
            col("receivers").sum(),
            col("reads").sum(),
        ])
        .select(partial_columns())
}

/// A group's template name: the first non-null one in stream order.
pub(super) fn first_name() -> Expr {
    col("template_name")
        .sort_by(
            [col("name_seq")],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .first()
}

fn partial_columns() -> Vec<Expr> {
    PARTIAL_KEYS
        .into_iter()
        .chain([
            "template_name",
            "name_seq",
            "journals",
            "receivers",
            "reads",
        ])
        .map(col)
        .collect()
}

/// Partial rows a [`JournalTotals`] lets pile up before merging them, at least.
const MERGE_AT_LEAST: usize = 50_000;

/// The reports' journal figures, folded batch by batch (see the module doc). The batches must
/// hold distinct journals between them (the store keeps one detail per `journal_uuid`, so a
/// run's batches do); a uuid repeated inside one batch counts once, as in the reports.
pub(crate) struct JournalTotals {
    /// Partials not merged yet; the first is the merged result of all before it.
    parts: Vec<DataFrame>,
    /// Rows in `parts`.
    rows: usize,
    /// Rows of the last merge: the next merges once twice as many piled up (amortised).
    merged_rows: usize,
    /// Journal rows seen (the stream position of the next one).
    seen: u64,
    /// Partial rows let pile up before merging, at least ([`MERGE_AT_LEAST`] unless a test
    /// asks for merges sooner).
    merge_at: usize,
}

impl Default for JournalTotals {
    fn default() -> Self {
        JournalTotals {
            parts: Vec::new(),
            rows: 0,
            merged_rows: 0,
            seen: 0,
            merge_at: MERGE_AT_LEAST,
        }
    }
}

impl JournalTotals {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Merges once `rows` partial rows piled up (and twice the last merge's).
    #[cfg(test)]
    pub(super) fn merging_at(rows: usize) -> Self {
        JournalTotals {
            merge_at: rows.max(1),
            ..Self::default()
        }
    }

    /// Folds in a batch of journal rows with at least [`super::JOURNALS_COLUMNS`].
    pub(crate) fn add(&mut self, journals: &DataFrame) -> Result<(), ReportError> {
        const REPORT: &str = "journal totals";
        let err = |source| ReportError::Polars {
            report: REPORT,
            source,
        };
        let lazy = journals.clone().lazy();
        super::check_columns(&lazy, "journals", super::JOURNALS_COLUMNS, REPORT)?;
        let part = partials_of_distinct(super::distinct_rows(lazy), self.seen)
            .collect()
            .map_err(err)?;
        self.seen += journals.height() as u64;
        self.rows += part.height();
        self.parts.push(part);
        if self.rows >= self.merge_at.max(2 * self.merged_rows) {
            self.merge().map_err(err)?;
        }
        Ok(())
    }

    /// Partial rows held now (bounded by days × templates × people, not by journals).
    #[cfg(test)]
    pub(crate) fn held_rows(&self) -> usize {
        self.rows
    }

    fn merge(&mut self) -> PolarsResult<()> {
        let parts: Vec<LazyFrame> = std::mem::take(&mut self.parts)
            .into_iter()
            .map(IntoLazy::lazy)
            .collect();
        let merged = match parts.len() {
            0 => return Ok(()),
            _ => merge(concat(parts, UnionArgs::default())?).collect()?,
        };
        self.rows = merged.height();
        self.merged_rows = merged.height();
        self.parts.push(merged);
        Ok(())
    }

    /// The merged partials, or `None` when no batch came.
    pub(super) fn finish(mut self) -> PolarsResult<Option<DataFrame>> {
        if self.parts.is_empty() {
            return Ok(None);
        }
        self.merge()?;
        Ok(self.parts.pop())
    }
}
