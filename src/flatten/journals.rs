//! The five journal tables of a batch of details: `journals`, `journal_controls`,
//! `journal_attachments`, `journal_receivers` and `journal_comments`, one column builder each.
//!
//! [`flatten_journals`] walks the batch once and hands each detail to every builder; a builder
//! owns its table's columns and nothing else. Rows borrow their text from the details (ids,
//! titles, `value_json`, …): it is copied once, into the columns.

use std::collections::HashSet;

use chrono_tz::Tz;
use polars::prelude::*;

use super::columns::{
    bool_col, count_u32, date_col, frame, opt_f64_col, opt_i64_col, opt_list_str_col, opt_str_col,
    opt_time_col, opt_u32_col, opt_u64_col, str_col, time_and_date, time_col, u32_col, u64_col,
};
use super::controls::{self, AttachmentKind, AttachmentRow, ControlRow};
use super::directory::Directory;
use super::local_paths::{LocalFile, LocalPaths};
use super::{schema, FlattenError, JournalTables, Warnings};
use crate::wecom::types::{JournalDetail, UserRef};

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
    let mut journals = JournalColumns::with_capacity(details.len());
    // At least one control row per top-level control (Table cells add more).
    let mut controls =
        ControlColumns::with_capacity(details.iter().map(|d| d.apply_data.contents.len()).sum());
    let mut attachments = AttachmentColumns::default();
    let mut receivers =
        ReceiverColumns::with_capacity(details.iter().map(|d| d.receivers.len()).sum());
    let mut comments =
        CommentColumns::with_capacity(details.iter().map(|d| d.comments.len()).sum());

    for d in details {
        let uuid = d.journal_uuid.as_str();
        // A journal that cannot be placed in time is left out whole, and named.
        let (ms, date) = match placed(d, tz) {
            Ok(placed) => placed,
            Err(e) => {
                warnings.skip(e.to_string());
                continue;
            }
        };
        let at = RowOf { uuid, date };
        controls.render(d, at, dir, tz, warnings, &mut attachments);
        let read = receivers.push(d, at);
        comments.push(d, at, tz)?;
        journals.push(d, at, ms, dir, read);
    }

    Ok(JournalTables {
        journals: journals.finish()?,
        journal_controls: controls.finish()?,
        journal_attachments: attachments.finish(files)?,
        journal_receivers: receivers.finish()?,
        journal_comments: comments.finish()?,
    })
}

/// The journal's report time in milliseconds and its local report date, once every time it
/// carries (its report time, its comments') is one a table can hold; else what is not.
fn placed(d: &JournalDetail, tz: Tz) -> Result<(i64, i32), FlattenError> {
    let uuid = d.journal_uuid.as_str();
    let placed = time_and_date(d.report_time, tz, || format!("journal {uuid} report_time"))?;
    for c in &d.comments {
        time_and_date(c.comment_time, tz, || {
            format!("journal {uuid} comment {} comment_time", c.commentid)
        })?;
    }
    Ok(placed)
}

/// The journal a child row belongs to: the `journal_uuid` and `report_date` every child table
/// repeats.
#[derive(Debug, Clone, Copy)]
struct RowOf<'a> {
    uuid: &'a str,
    /// The journal's local report date, days since 1970-01-01.
    date: i32,
}

/// What the journal's receiver rows came to (its `receiver_count` and `read_count`).
#[derive(Debug, Clone, Copy)]
struct ReadCounts {
    receivers: u32,
    reads: u32,
}

// ---------------------------------------------------------------------------------------------
// journals

/// The columns of `journals`: one row per journal.
struct JournalColumns<'a> {
    uuid: Vec<&'a str>,
    template_id: Vec<Option<&'a str>>,
    template_name: Vec<&'a str>,
    report_time: Vec<i64>,
    report_date: Vec<i32>,
    submitter: Vec<&'a str>,
    department_id: Vec<Option<u64>>,
    department_name: Vec<String>,
    receiver_count: Vec<u32>,
    read_count: Vec<u32>,
    comment_count: Vec<u32>,
    sys_journal_data: Vec<Option<&'a str>>,
}

impl<'a> JournalColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        JournalColumns {
            uuid: Vec::with_capacity(n),
            template_id: Vec::with_capacity(n),
            template_name: Vec::with_capacity(n),
            report_time: Vec::with_capacity(n),
            report_date: Vec::with_capacity(n),
            submitter: Vec::with_capacity(n),
            department_id: Vec::with_capacity(n),
            department_name: Vec::with_capacity(n),
            receiver_count: Vec::with_capacity(n),
            read_count: Vec::with_capacity(n),
            comment_count: Vec::with_capacity(n),
            sys_journal_data: Vec::with_capacity(n),
        }
    }

    /// `ms`: the report time in milliseconds; `read`: what its receiver rows came to.
    fn push(
        &mut self,
        d: &'a JournalDetail,
        at: RowOf<'a>,
        ms: i64,
        dir: &Directory,
        read: ReadCounts,
    ) {
        let (dept_id, dept_name) = dir.department_of(&d.submitter.userid);
        self.uuid.push(at.uuid);
        self.template_id.push(d.template_id.as_deref());
        self.template_name.push(d.template_name.as_str());
        self.report_time.push(ms);
        self.report_date.push(at.date);
        self.submitter.push(d.submitter.userid.as_str());
        self.department_id.push(dept_id);
        self.department_name.push(dept_name);
        self.receiver_count.push(read.receivers);
        self.read_count.push(read.reads);
        self.comment_count.push(count_u32(d.comments.len()));
        self.sys_journal_data.push(d.sys_journal_data.as_deref());
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        frame(
            &schema::JOURNALS,
            self.uuid.len(),
            vec![
                str_col("journal_uuid", self.uuid),
                opt_str_col("template_id", self.template_id),
                str_col("template_name", self.template_name),
                time_col("report_time", self.report_time),
                date_col("report_date", self.report_date),
                str_col("submitter_userid", self.submitter),
                opt_u64_col("department_id", self.department_id),
                str_col("department_name", self.department_name),
                u32_col("receiver_count", self.receiver_count),
                u32_col("read_count", self.read_count),
                u32_col("comment_count", self.comment_count),
                opt_str_col("sys_journal_data", self.sys_journal_data),
            ],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// journal_controls and journal_attachments

/// The columns of `journal_controls`: one row per control value (Table cells too), rendered
/// by [`controls::render_controls`].
struct ControlColumns<'a> {
    uuid: Vec<&'a str>,
    date: Vec<i32>,
    rows: Vec<ControlRow<'a>>,
}

impl<'a> ControlColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        ControlColumns {
            uuid: Vec::with_capacity(n),
            date: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
        }
    }

    /// Renders the journal's controls, and the attachments they carry into `attachments`.
    fn render(
        &mut self,
        d: &'a JournalDetail,
        at: RowOf<'a>,
        dir: &'a Directory,
        tz: Tz,
        warnings: &mut Warnings,
        attachments: &mut AttachmentColumns<'a>,
    ) {
        let (controls_before, attachments_before) = (self.rows.len(), attachments.rows.len());
        controls::render_controls(
            &d.apply_data.contents,
            dir,
            tz,
            warnings,
            &mut self.rows,
            &mut attachments.rows,
        );
        let added = self.rows.len() - controls_before;
        self.uuid.extend(std::iter::repeat_n(at.uuid, added));
        self.date.extend(std::iter::repeat_n(at.date, added));
        attachments.rows_added(at, attachments.rows.len() - attachments_before);
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        let n = self.rows.len();
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
        for r in self.rows {
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
                str_col("journal_uuid", self.uuid),
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
                date_col("report_date", self.date),
            ],
        )
    }
}

/// The columns of `journal_attachments`: one row per file a File or WedriveFile control
/// carries (rendered with the controls, see [`ControlColumns::render`]).
#[derive(Default)]
struct AttachmentColumns<'a> {
    uuid: Vec<&'a str>,
    date: Vec<i32>,
    rows: Vec<AttachmentRow<'a>>,
}

impl<'a> AttachmentColumns<'a> {
    /// The last `added` rows are the journal `at`'s.
    fn rows_added(&mut self, at: RowOf<'a>, added: usize) {
        self.uuid.extend(std::iter::repeat_n(at.uuid, added));
        self.date.extend(std::iter::repeat_n(at.date, added));
    }

    /// `files`: where downloaded wedrive files are (their `local_path`, size, checksum).
    fn finish(self, files: &LocalPaths) -> Result<DataFrame, FlattenError> {
        let a_rows = self.rows;
        // Only wedrive files are downloaded; a File control's media id is not a wedrive fileid.
        let downloaded: Vec<Option<&LocalFile>> = a_rows
            .iter()
            .zip(&self.uuid)
            .map(|(a, uuid)| match a.kind {
                AttachmentKind::WedriveFile => files.file(uuid, a.file_id),
                AttachmentKind::File | AttachmentKind::Doc => None,
            })
            .collect();
        let a_local: Vec<Option<&str>> = downloaded
            .iter()
            .map(|f| f.map(|f| f.local_path.as_str()))
            .collect();
        let a_bytes: Vec<Option<u64>> =
            downloaded.iter().map(|f| f.and_then(|f| f.bytes)).collect();
        let a_checksum: Vec<Option<&str>> = downloaded
            .iter()
            .map(|f| f.and_then(|f| f.checksum.as_deref()))
            .collect();
        frame(
            &schema::JOURNAL_ATTACHMENTS,
            a_rows.len(),
            vec![
                str_col("journal_uuid", self.uuid),
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
                opt_u64_col("bytes", a_bytes),
                opt_str_col("checksum", a_checksum),
                date_col("report_date", self.date),
            ],
        )
    }
}

// ---------------------------------------------------------------------------------------------
// journal_receivers

/// The columns of `journal_receivers`: one row per receiver, and per reader not listed as one.
struct ReceiverColumns<'a> {
    uuid: Vec<&'a str>,
    userid: Vec<&'a str>,
    has_read: Vec<bool>,
    date: Vec<i32>,
}

impl<'a> ReceiverColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        ReceiverColumns {
            uuid: Vec::with_capacity(n),
            userid: Vec::with_capacity(n),
            has_read: Vec::with_capacity(n),
            date: Vec::with_capacity(n),
        }
    }

    /// Receivers in the order sent, each userid once (a list may repeat one); a reader who is
    /// not listed as a receiver is still a row, once.
    fn push(&mut self, d: &'a JournalDetail, at: RowOf<'a>) -> ReadCounts {
        let read = UserSet::new(&d.readed_receivers);
        let before = self.uuid.len();
        let mut reads = 0u32;
        let mut seen = SeenUsers::default();
        for u in d.receivers.iter().chain(&d.readed_receivers) {
            if !seen.insert(&u.userid) {
                continue;
            }
            let has_read = read.contains(&u.userid);
            reads += u32::from(has_read);
            self.uuid.push(at.uuid);
            self.userid.push(&u.userid);
            self.has_read.push(has_read);
            self.date.push(at.date);
        }
        ReadCounts {
            receivers: count_u32(self.uuid.len() - before),
            reads,
        }
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        frame(
            &schema::JOURNAL_RECEIVERS,
            self.uuid.len(),
            vec![
                str_col("journal_uuid", self.uuid),
                str_col("userid", self.userid),
                bool_col("has_read", self.has_read),
                date_col("report_date", self.date),
            ],
        )
    }
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

/// The userids of one journal met so far: a scan for the usual handful, a hash set once there
/// are many.
#[derive(Default)]
struct SeenUsers<'a> {
    few: Vec<&'a str>,
    many: HashSet<&'a str>,
}

impl<'a> SeenUsers<'a> {
    /// Whether `userid` is new (and now seen).
    fn insert(&mut self, userid: &'a str) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&userid) {
                return false;
            }
            self.few.push(userid);
            if self.few.len() > UserSet::FEW {
                self.many.extend(self.few.drain(..));
            }
            return true;
        }
        self.many.insert(userid)
    }
}

// ---------------------------------------------------------------------------------------------
// journal_comments

/// The columns of `journal_comments`: one row per comment, in the order sent.
struct CommentColumns<'a> {
    uuid: Vec<&'a str>,
    comment_id: Vec<u64>,
    to_comment_id: Vec<Option<u64>>,
    userid: Vec<&'a str>,
    content: Vec<&'a str>,
    comment_time: Vec<i64>,
    date: Vec<i32>,
}

impl<'a> CommentColumns<'a> {
    fn with_capacity(n: usize) -> Self {
        CommentColumns {
            uuid: Vec::with_capacity(n),
            comment_id: Vec::with_capacity(n),
            to_comment_id: Vec::with_capacity(n),
            userid: Vec::with_capacity(n),
            content: Vec::with_capacity(n),
            comment_time: Vec::with_capacity(n),
            date: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, d: &'a JournalDetail, at: RowOf<'a>, tz: Tz) -> Result<(), FlattenError> {
        for c in &d.comments {
            let (ms, _) = time_and_date(c.comment_time, tz, || {
                format!("journal {} comment {} comment_time", at.uuid, c.commentid)
            })?;
            self.uuid.push(at.uuid);
            self.comment_id.push(c.commentid);
            self.to_comment_id
                .push((c.tocommentid != 0).then_some(c.tocommentid));
            self.userid.push(&c.comment_userinfo.userid);
            self.content.push(&c.content);
            self.comment_time.push(ms);
            self.date.push(at.date);
        }
        Ok(())
    }

    fn finish(self) -> Result<DataFrame, FlattenError> {
        frame(
            &schema::JOURNAL_COMMENTS,
            self.uuid.len(),
            vec![
                str_col("journal_uuid", self.uuid),
                u64_col("comment_id", self.comment_id),
                opt_u64_col("to_comment_id", self.to_comment_id),
                str_col("userid", self.userid),
                str_col("content", self.content),
                time_col("comment_time", self.comment_time),
                date_col("report_date", self.date),
            ],
        )
    }
}
