//! Flattening: decoded responses → polars DataFrames with the fixed tables of design §4.
//!
//! Owns the output tables' schemas ([`schema`]), the rendering of every control type
//! ([`controls`]), the directory ([`directory`]) and the per-template wide pivot ([`wide`]).
//! Works batch by batch with no global state (the run streams the store in batches), reads
//! decoded responses, never calls the network and writes no file. Every frame it builds is
//! checked against its [`schema::TableSpec`] before it is returned.

pub mod controls;
pub mod directory;
pub mod local_paths;
pub mod schema;
pub mod wide;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::wecom::types::{report_type_name, JournalDetail, StatCycle, StatUserItems, UserRef};

pub use controls::{AttachmentKind, AttachmentRow, ControlRow};
pub use directory::{Directory, DirectoryDepartment, DirectoryUserEntry, UNKNOWN_DEPARTMENT};
pub use local_paths::LocalPaths;
pub use schema::{table, ColumnSpec, ColumnType, TableSpec, TABLES};
pub use wide::pivot_wide;

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

/// Values flatten kept but could not fully decode, counted by control name. Never a reason to
/// drop a row: those rows carry `value_json` (and a null `value_text` for unknown types).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    /// Controls of a type this crate does not know (`control` name → rows).
    pub unknown_control_types: BTreeMap<String, u64>,
    /// Controls of a known type whose value (or part of it) did not decode.
    pub undecodable_values: BTreeMap<String, u64>,
}

impl Warnings {
    pub fn unknown_control(&mut self, control: &str) {
        *self
            .unknown_control_types
            .entry(control.to_string())
            .or_default() += 1;
    }

    pub fn undecodable(&mut self, control: &str) {
        *self
            .undecodable_values
            .entry(control.to_string())
            .or_default() += 1;
    }

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

/// The two statistics tables.
#[derive(Debug, Clone)]
pub struct StatTables {
    pub stat_cycles: DataFrame,
    pub stat_items: DataFrame,
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");

/// Seconds → (milliseconds, local date as days since 1970-01-01), or an error naming `what`.
fn time_and_date(
    secs: i64,
    tz: Tz,
    what: impl FnOnce() -> String,
) -> Result<(i64, i32), FlattenError> {
    let err = |what: String| FlattenError::Timestamp {
        what,
        value: secs.into(),
    };
    let (Some(ms), Some(t)) = (secs.checked_mul(1000), DateTime::from_timestamp(secs, 0)) else {
        return Err(err(what()));
    };
    let days = t
        .with_timezone(&tz)
        .date_naive()
        .signed_duration_since(EPOCH)
        .num_days();
    let days = i32::try_from(days).map_err(|_| err(what()))?;
    Ok((ms, days))
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Column constructors: each gives exactly the polars type of its schema::ColumnType.

/// A String column from `String`s, `&str`s or `Cow<str>`s (borrowed text is copied once, into
/// the column's buffers).
fn str_col<T, S: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, S>,
{
    Series::new(name.into(), v).into_column()
}
/// [`str_col`] with nulls.
fn opt_str_col<T, S: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, S>,
{
    Series::new(name.into(), v).into_column()
}
fn u32_col(name: &str, v: Vec<u32>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn opt_u32_col(name: &str, v: Vec<Option<u32>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn u64_col(name: &str, v: Vec<u64>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn opt_u64_col(name: &str, v: Vec<Option<u64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn opt_i64_col(name: &str, v: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn opt_f64_col(name: &str, v: Vec<Option<f64>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn bool_col(name: &str, v: Vec<bool>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn opt_bool_col(name: &str, v: Vec<Option<bool>>) -> Column {
    Series::new(name.into(), v).into_column()
}
fn date_col(name: &str, days: Vec<i32>) -> Column {
    Series::new(name.into(), days).into_date().into_column()
}
fn time_col(name: &str, ms: Vec<i64>) -> Column {
    Series::new(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}
fn opt_time_col(name: &str, ms: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), ms)
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}
fn opt_list_str_col<S: AsRef<str>>(name: &str, v: &[Option<Vec<S>>]) -> Column {
    let values: usize = v.iter().flatten().map(Vec::len).sum();
    let mut b = ListStringChunkedBuilder::new(name.into(), v.len(), values);
    for item in v {
        match item {
            Some(list) => b.append_values_iter(list.iter().map(AsRef::as_ref)),
            None => b.append_null(),
        }
    }
    b.finish().into_series().into_column()
}
fn list_u64_col(name: &str, v: &[Vec<u64>]) -> Column {
    let values: usize = v.iter().map(Vec::len).sum();
    let mut b = ListPrimitiveChunkedBuilder::<UInt64Type>::new(
        name.into(),
        v.len(),
        values,
        DataType::UInt64,
    );
    for list in v {
        b.append_slice(list);
    }
    b.finish().into_series().into_column()
}

/// Assembles a frame and checks it against its table's schema.
fn frame(
    spec: &'static TableSpec,
    height: usize,
    columns: Vec<Column>,
) -> Result<DataFrame, FlattenError> {
    let df = DataFrame::new(height, columns).map_err(FlattenError::polars(spec.name))?;
    spec.check(&df).map_err(FlattenError::Schema)?;
    Ok(df)
}

// ---------------------------------------------------------------------------------------------
// Journals

/// Flattens one batch of journal details into the five journal tables.
///
/// Dates are local to `tz`; departments come from `dir`; a `wedrive_file` attachment's
/// `local_path` from `files` (null for a file not in it). Every control (Table cells too),
/// receiver and comment of the input is a row of the output; what did not fully decode is
/// counted in `warnings` and kept as `value_json`.
pub fn flatten_journals(
    details: &[JournalDetail],
    dir: &Directory,
    tz: Tz,
    files: &LocalPaths,
    warnings: &mut Warnings,
) -> Result<JournalTables, FlattenError> {
    let n = details.len();
    // journals
    let (mut j_uuid, mut j_tid, mut j_tname) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut j_time, mut j_date, mut j_sub) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut j_did, mut j_dname, mut j_sys) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut j_recv, mut j_read, mut j_comm) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // Rows borrow their text from `details` (ids, titles, `value_json`, …): it is copied once,
    // into the columns. At least one control row per top-level control (Table cells add more).
    let top_level_controls = details.iter().map(|d| d.apply_data.contents.len()).sum();
    let mut c_uuid: Vec<&str> = Vec::with_capacity(top_level_controls);
    let mut c_date = Vec::with_capacity(top_level_controls);
    let mut c_rows: Vec<ControlRow> = Vec::with_capacity(top_level_controls);
    let (mut a_uuid, mut a_date) = (Vec::new(), Vec::new());
    let mut a_rows: Vec<AttachmentRow> = Vec::new();
    // receivers
    let receivers = details.iter().map(|d| d.receivers.len()).sum();
    let (mut r_uuid, mut r_user, mut r_read, mut r_date): (Vec<&str>, Vec<&str>, _, _) = (
        Vec::with_capacity(receivers),
        Vec::with_capacity(receivers),
        Vec::with_capacity(receivers),
        Vec::with_capacity(receivers),
    );
    // comments
    let comments = details.iter().map(|d| d.comments.len()).sum();
    let (mut m_uuid, mut m_id, mut m_to, mut m_user): (Vec<&str>, _, _, Vec<&str>) = (
        Vec::with_capacity(comments),
        Vec::with_capacity(comments),
        Vec::with_capacity(comments),
        Vec::with_capacity(comments),
    );
    let (mut m_content, mut m_time, mut m_date): (Vec<&str>, _, _) = (
        Vec::with_capacity(comments),
        Vec::with_capacity(comments),
        Vec::with_capacity(comments),
    );

    for d in details {
        let uuid = d.journal_uuid.as_str();
        let (ms, date) =
            time_and_date(d.report_time, tz, || format!("journal {uuid} report_time"))?;

        let (controls_before, attachments_before) = (c_rows.len(), a_rows.len());
        controls::render_controls(
            &d.apply_data.contents,
            dir,
            tz,
            warnings,
            &mut c_rows,
            &mut a_rows,
        );
        let added = c_rows.len() - controls_before;
        c_uuid.extend(std::iter::repeat_n(uuid, added));
        c_date.extend(std::iter::repeat_n(date, added));
        let added = a_rows.len() - attachments_before;
        a_uuid.extend(std::iter::repeat_n(uuid, added));
        a_date.extend(std::iter::repeat_n(date, added));

        // Receivers in the order sent; a reader who is not listed as a receiver is still a row.
        let read = UserSet::new(&d.readed_receivers);
        let listed = UserSet::new(&d.receivers);
        let unlisted_readers = d
            .readed_receivers
            .iter()
            .filter(|u| !listed.contains(&u.userid));
        let before = r_uuid.len();
        let mut reads = 0u32;
        let mut seen_unlisted: Vec<&str> = Vec::new();
        for u in d.receivers.iter().chain(unlisted_readers) {
            if !listed.contains(&u.userid) {
                // Unlisted readers are few: a linear look-up beats hashing them.
                if seen_unlisted.contains(&u.userid.as_str()) {
                    continue;
                }
                seen_unlisted.push(&u.userid);
            }
            let has_read = read.contains(&u.userid);
            reads += u32::from(has_read);
            r_uuid.push(uuid);
            r_user.push(&u.userid);
            r_read.push(has_read);
            r_date.push(date);
        }

        for c in &d.comments {
            let (cms, _) = time_and_date(c.comment_time, tz, || {
                format!("journal {uuid} comment {} comment_time", c.commentid)
            })?;
            m_uuid.push(uuid);
            m_id.push(c.commentid);
            m_to.push((c.tocommentid != 0).then_some(c.tocommentid));
            m_user.push(&c.comment_userinfo.userid);
            m_content.push(&c.content);
            m_time.push(cms);
            m_date.push(date);
        }

        let (dept_id, dept_name) = dir.department_of(&d.submitter.userid);
        j_uuid.push(uuid);
        j_tid.push(d.template_id.as_deref());
        j_tname.push(d.template_name.as_str());
        j_time.push(ms);
        j_date.push(date);
        j_sub.push(d.submitter.userid.as_str());
        j_did.push(dept_id);
        j_dname.push(dept_name);
        j_recv.push(count_u32(r_uuid.len() - before));
        j_read.push(reads);
        j_comm.push(count_u32(d.comments.len()));
        j_sys.push(d.sys_journal_data.as_deref());
    }

    let journals = frame(
        &schema::JOURNALS,
        n,
        vec![
            str_col("journal_uuid", j_uuid),
            opt_str_col("template_id", j_tid),
            str_col("template_name", j_tname),
            time_col("report_time", j_time),
            date_col("report_date", j_date),
            str_col("submitter_userid", j_sub),
            opt_u64_col("department_id", j_did),
            str_col("department_name", j_dname),
            u32_col("receiver_count", j_recv),
            u32_col("read_count", j_read),
            u32_col("comment_count", j_comm),
            opt_str_col("sys_journal_data", j_sys),
        ],
    )?;
    let journal_controls = controls_frame(c_uuid, c_date, c_rows)?;
    // Only wedrive files are downloaded; a File control's media id is not a wedrive fileid.
    let a_local: Vec<Option<&str>> = a_rows
        .iter()
        .zip(&a_uuid)
        .map(|(a, uuid)| match a.kind {
            AttachmentKind::WedriveFile => files.get(uuid, a.file_id),
            AttachmentKind::File | AttachmentKind::Doc => None,
        })
        .collect();
    let journal_attachments = frame(
        &schema::JOURNAL_ATTACHMENTS,
        a_rows.len(),
        vec![
            str_col("journal_uuid", a_uuid),
            str_col(
                "control_id",
                a_rows.iter().map(|a| a.control_id).collect::<Vec<_>>(),
            ),
            str_col(
                "kind",
                a_rows.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(),
            ),
            str_col(
                "file_id",
                a_rows.iter().map(|a| a.file_id).collect::<Vec<_>>(),
            ),
            opt_str_col("name", a_rows.iter().map(|a| a.name).collect::<Vec<_>>()),
            opt_str_col("local_path", a_local),
            date_col("report_date", a_date),
        ],
    )?;
    let journal_receivers = frame(
        &schema::JOURNAL_RECEIVERS,
        r_uuid.len(),
        vec![
            str_col("journal_uuid", r_uuid),
            str_col("userid", r_user),
            bool_col("has_read", r_read),
            date_col("report_date", r_date),
        ],
    )?;
    let journal_comments = frame(
        &schema::JOURNAL_COMMENTS,
        m_uuid.len(),
        vec![
            str_col("journal_uuid", m_uuid),
            u64_col("comment_id", m_id),
            opt_u64_col("to_comment_id", m_to),
            str_col("userid", m_user),
            str_col("content", m_content),
            time_col("comment_time", m_time),
            date_col("report_date", m_date),
        ],
    )?;
    Ok(JournalTables {
        journals,
        journal_controls,
        journal_attachments,
        journal_receivers,
        journal_comments,
    })
}

/// A set of user ids of one journal's receiver list: a scan for the usual handful, a hash set
/// for long lists (a journal sent to a whole department).
enum UserSet<'a> {
    Few(&'a [UserRef]),
    Many(HashSet<&'a str>),
}

impl<'a> UserSet<'a> {
    const FEW: usize = 16;

    fn new(users: &'a [UserRef]) -> Self {
        if users.len() <= Self::FEW {
            UserSet::Few(users)
        } else {
            UserSet::Many(users.iter().map(|u| u.userid.as_str()).collect())
        }
    }

    fn contains(&self, userid: &str) -> bool {
        match self {
            UserSet::Few(users) => users.iter().any(|u| u.userid == userid),
            UserSet::Many(set) => set.contains(userid),
        }
    }
}

fn controls_frame(
    uuid: Vec<&str>,
    date: Vec<i32>,
    rows: Vec<ControlRow>,
) -> Result<DataFrame, FlattenError> {
    let n = rows.len();
    let mut seq = Vec::with_capacity(n);
    let (mut id, mut ty, mut title, mut title_en) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut parent, mut table_row, mut text, mut number) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut time, mut end, mut dur, mut options, mut json) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        seq.push(r.seq);
        id.push(r.control_id);
        ty.push(r.control_type);
        title.push(r.title);
        title_en.push(r.title_en);
        parent.push(r.parent_control_id);
        table_row.push(r.table_row);
        text.push(r.value_text);
        number.push(r.value_number);
        time.push(r.value_time);
        end.push(r.value_end_time);
        dur.push(r.value_duration_s);
        options.push(r.value_options);
        json.push(r.value_json);
    }
    frame(
        &schema::JOURNAL_CONTROLS,
        n,
        vec![
            str_col("journal_uuid", uuid),
            u32_col("seq", seq),
            str_col("control_id", id),
            str_col("control_type", ty),
            opt_str_col("title", title),
            opt_str_col("title_en", title_en),
            opt_str_col("parent_control_id", parent),
            opt_u32_col("table_row", table_row),
            opt_str_col("value_text", text),
            opt_f64_col("value_number", number),
            opt_time_col("value_time", time),
            opt_time_col("value_end_time", end),
            opt_i64_col("value_duration_s", dur),
            opt_list_str_col("value_options", &options),
            str_col("value_json", json),
            date_col("report_date", date),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Flattens stat cycles into `stat_cycles` (one row per template × cycle) and `stat_items`
/// (one row per user × cycle × status).
///
/// A user listed twice under the same status of a cycle is one row (the first listing); a
/// reporting user's first item gives `journal_uuid`, `report_time` and `is_late` (flag 1), and
/// `late` counts the reporting users whose first item is late.
pub fn flatten_stats(
    cycles: &[StatCycle],
    dir: &Directory,
    tz: Tz,
) -> Result<StatTables, FlattenError> {
    let n = cycles.len();
    let (mut c_tid, mut c_tname, mut c_type) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut c_begin, mut c_end, mut c_sbegin, mut c_send) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut c_expected, mut c_reported, mut c_late, mut c_unreported, mut c_date) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );

    let (mut i_tid, mut i_tname, mut i_type, mut i_begin, mut i_end) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut i_user, mut i_did, mut i_dname, mut i_status) = (vec![], vec![], vec![], vec![]);
    let (mut i_uuid, mut i_time, mut i_late, mut i_date) = (vec![], vec![], vec![], vec![]);

    for c in cycles {
        let what = |field: &str| format!("stat cycle of template {} {field}", c.template_id);
        let secs = |v: u64, field: &str| {
            i64::try_from(v).map_err(|_| FlattenError::Timestamp {
                what: what(field),
                value: v.into(),
            })
        };
        let (begin, date) =
            time_and_date(secs(c.cycle_begin_time, "cycle_begin_time")?, tz, || {
                what("cycle_begin_time")
            })?;
        let (end, _) = time_and_date(secs(c.cycle_end_time, "cycle_end_time")?, tz, || {
            what("cycle_end_time")
        })?;
        let (sbegin, _) = time_and_date(secs(c.stat_begin_time, "stat_begin_time")?, tz, || {
            what("stat_begin_time")
        })?;
        let (send, _) = time_and_date(secs(c.stat_end_time, "stat_end_time")?, tz, || {
            what("stat_end_time")
        })?;
        let report_type = report_type_name(c.report_type);

        let mut counts = [0u32; 2]; // reported, unreported
        let mut late = 0u32;
        let lists: [(&str, &[StatUserItems]); 2] = [
            ("reported", &c.report_list),
            ("unreported", &c.unreport_list),
        ];
        for (status_idx, (status, list)) in lists.into_iter().enumerate() {
            let mut seen = HashSet::new();
            for u in list {
                if !seen.insert(u.user.userid.as_str()) {
                    continue;
                }
                counts[status_idx] += 1;
                let first = if status_idx == 0 {
                    u.itemlist.first()
                } else {
                    None
                };
                let uuid = first
                    .map(|i| i.journaluuid.clone())
                    .filter(|s| !s.is_empty());
                let time = match first {
                    Some(i) if i.reporttime != 0 || uuid.is_some() => Some(
                        time_and_date(i.reporttime, tz, || {
                            format!("{} user {} reporttime", what("item"), u.user.userid)
                        })?
                        .0,
                    ),
                    _ => None,
                };
                let is_late = first.map(|i| i.flag == 1);
                late += u32::from(is_late == Some(true));
                let (dept_id, dept_name) = dir.department_of(&u.user.userid);
                i_tid.push(c.template_id.clone());
                i_tname.push(c.template_name.clone());
                i_type.push(report_type.to_string());
                i_begin.push(begin);
                i_end.push(end);
                i_user.push(u.user.userid.clone());
                i_did.push(dept_id);
                i_dname.push(dept_name);
                i_status.push(status.to_string());
                i_uuid.push(uuid);
                i_time.push(time);
                i_late.push(is_late);
                i_date.push(date);
            }
        }
        c_tid.push(c.template_id.clone());
        c_tname.push(c.template_name.clone());
        c_type.push(report_type.to_string());
        c_begin.push(begin);
        c_end.push(end);
        c_sbegin.push(sbegin);
        c_send.push(send);
        c_expected.push(counts[0] + counts[1]);
        c_reported.push(counts[0]);
        c_late.push(late);
        c_unreported.push(counts[1]);
        c_date.push(date);
    }

    let stat_cycles = frame(
        &schema::STAT_CYCLES,
        n,
        vec![
            str_col("template_id", c_tid),
            str_col("template_name", c_tname),
            str_col("report_type", c_type),
            time_col("cycle_begin", c_begin),
            time_col("cycle_end", c_end),
            time_col("stat_begin", c_sbegin),
            time_col("stat_end", c_send),
            u32_col("expected", c_expected),
            u32_col("reported", c_reported),
            u32_col("late", c_late),
            u32_col("unreported", c_unreported),
            date_col("cycle_date", c_date),
        ],
    )?;
    let rows = i_user.len();
    let stat_items = frame(
        &schema::STAT_ITEMS,
        rows,
        vec![
            str_col("template_id", i_tid),
            str_col("template_name", i_tname),
            str_col("report_type", i_type),
            time_col("cycle_begin", i_begin),
            time_col("cycle_end", i_end),
            str_col("userid", i_user),
            opt_u64_col("department_id", i_did),
            str_col("department_name", i_dname),
            str_col("status", i_status),
            opt_str_col("journal_uuid", i_uuid),
            opt_time_col("report_time", i_time),
            opt_bool_col("is_late", i_late),
            date_col("cycle_date", i_date),
        ],
    )?;
    Ok(StatTables {
        stat_cycles,
        stat_items,
    })
}

// ---------------------------------------------------------------------------------------------
// Directory

/// The `departments` and `users` tables of a directory.
pub fn directory_tables(dir: &Directory) -> Result<(DataFrame, DataFrame), FlattenError> {
    let depts: Vec<&DirectoryDepartment> = dir.departments().collect();
    let departments = frame(
        &schema::DEPARTMENTS,
        depts.len(),
        vec![
            u64_col("department_id", depts.iter().map(|d| d.id).collect()),
            str_col(
                "name",
                depts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ),
            opt_u64_col("parent_id", depts.iter().map(|d| d.parent_id).collect()),
            str_col(
                "path",
                depts.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let users = dir.users();
    let department_ids: Vec<Vec<u64>> = users.iter().map(|u| u.department_ids.clone()).collect();
    let users = frame(
        &schema::USERS,
        users.len(),
        vec![
            str_col(
                "userid",
                users.iter().map(|u| u.userid.as_str()).collect::<Vec<_>>(),
            ),
            opt_u64_col(
                "department_id",
                users.iter().map(|u| u.main_department).collect(),
            ),
            list_u64_col("department_ids", &department_ids),
        ],
    )?;
    Ok((departments, users))
}
