//! What every input is fed to: the decoders the client, the store and the simulator use, then
//! (for what decodes) the flatten step through its public paths, a batch at a time. Besides
//! "no panic", what decodes must keep three promises, checked here: a detail's `info` text is
//! a slice of the body, exactly; the store's decoding of that text gives the client's journal;
//! and a decoded value encoded again decodes to itself.

use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::Serialize;

use wecom_journal::flatten::{
    directory_tables, flatten_journals, flatten_stats, Directory, LocalPaths, Warnings,
};
use wecom_journal::wecom::types::{
    Control, ControlValue, DepartmentListResponse, Envelope, JournalDetail, RecordDetailResponse,
    RecordListResponse, StatCycle, StatListResponse, TokenResponse, UserListResponse,
    WedriveDownload,
};

use super::seeds::Kind;

/// What the decoders made of one input, kept for the batch's flatten step.
#[derive(Default)]
pub struct Decoded {
    pub details: Vec<JournalDetail>,
    pub cycles: Vec<StatCycle>,
    pub departments: Option<DepartmentListResponse>,
    pub users: Option<UserListResponse>,
}

/// Counts of outcomes, for the report.
#[derive(Default, Debug, Clone, Copy)]
pub struct Outcomes {
    pub not_utf8: u64,
    pub envelope_errors: u64,
    pub api_errors: u64,
    pub decoded: u64,
    pub decode_errors: u64,
    pub flatten_batches: u64,
    pub flatten_errors: u64,
}

/// A broken promise (not a panic, but as much a finding).
#[derive(Debug)]
pub struct Broken(pub String);

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    what: &str,
    value: &T,
) -> Result<(), Broken> {
    let text = serde_json::to_string(value).map_err(|e| Broken(format!("{what}: encode: {e}")))?;
    let again: T = serde_json::from_str(&text).map_err(|e| {
        Broken(format!(
            "{what}: its own encoding does not decode: {e}: {text}"
        ))
    })?;
    if &again != value {
        return Err(Broken(format!(
            "{what}: decodes to another value after encoding: {value:?} vs {again:?}"
        )));
    }
    Ok(())
}

/// Decodes `text` as `T`, counting the outcome.
fn decode<T: DeserializeOwned>(text: &str, out: &mut Outcomes) -> Option<T> {
    match serde_json::from_str::<T>(text) {
        Ok(v) => {
            out.decoded += 1;
            Some(v)
        }
        Err(e) => {
            // Every error says something; a panic-free empty message would still be a bug.
            assert!(!e.to_string().is_empty(), "an empty decode error");
            out.decode_errors += 1;
            None
        }
    }
}

/// Feeds one input to the decoders of its kind (and, when `all` is set, of every kind), as
/// the client does: the envelope first, then the typed body.
pub fn decode_input(
    kind: Kind,
    bytes: &[u8],
    all: bool,
    out: &mut Outcomes,
    keep: &mut Decoded,
) -> Result<(), Broken> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        out.not_utf8 += 1;
        return Ok(());
    };
    // The client stops at a body that is not an envelope or carries an errcode; the store
    // decodes stored texts without one. The decoders below get every input either way.
    match serde_json::from_str::<Envelope>(text) {
        Err(_) => out.envelope_errors += 1,
        Ok(e) if e.errcode != 0 => out.api_errors += 1,
        Ok(_) => {}
    }
    if all || kind == Kind::Detail {
        if let Some(r) = decode::<RecordDetailResponse>(text, out) {
            detail_promises(text, &r)?;
            for c in Control::walk(&r.info.apply_data.contents) {
                // The simulator's encoding of every value.
                let _ = c.value.to_api_value();
                if c.value != ControlValue::Unknown {
                    let _ = serde_json::to_string(c).map_err(|e| Broken(e.to_string()))?;
                }
            }
            keep.details.push(r.info);
        }
    }
    if all || kind == Kind::RecordList {
        if let Some(r) = decode::<RecordListResponse>(text, out) {
            round_trip("record list", &r)?;
        }
    }
    if all || kind == Kind::StatList {
        if let Some(r) = decode::<StatListResponse>(text, out) {
            round_trip("stat list", &r)?;
            keep.cycles.extend(r.stat_list);
        }
    }
    if all || kind == Kind::DepartmentList {
        if let Some(r) = decode::<DepartmentListResponse>(text, out) {
            round_trip("department list", &r)?;
            keep.departments = Some(r);
        }
    }
    if all || kind == Kind::UserList {
        if let Some(r) = decode::<UserListResponse>(text, out) {
            round_trip("user list", &r)?;
            keep.users = Some(r);
        }
    }
    if all || kind == Kind::Other {
        if let Some(mut t) = decode::<TokenResponse>(text, out) {
            // The token never shows in Debug: Debug is the same whatever the token.
            let shown = format!("{t:?}");
            t.access_token = "another-token".into();
            if format!("{t:?}") != shown {
                return Err(Broken("TokenResponse's Debug shows the token".into()));
            }
        }
        if let Some(mut w) = decode::<WedriveDownload>(text, out) {
            let shown = format!("{w:?}");
            w.cookie_value = "another-cookie".into();
            w.download_url = "another-url".into();
            if format!("{w:?}") != shown {
                return Err(Broken("WedriveDownload's Debug shows a credential".into()));
            }
        }
    }
    Ok(())
}

fn detail_promises(text: &str, r: &RecordDetailResponse) -> Result<(), Broken> {
    let raw = r.info_raw.get();
    if !text.contains(raw) {
        return Err(Broken(format!(
            "info_raw is not a slice of the body: {raw}"
        )));
    }
    let stored: JournalDetail = serde_json::from_str(raw).map_err(|e| {
        Broken(format!(
            "the store cannot decode the info the client kept: {e}"
        ))
    })?;
    if stored != r.info {
        return Err(Broken(format!(
            "the store decodes another journal than the client: {stored:?} vs {:?}",
            r.info
        )));
    }
    round_trip("journal detail", &r.info)
}

/// The directory of a batch's department and user lists, when it has any.
pub fn batch_directory(batch: &[Decoded]) -> Option<Directory> {
    let mut departments = DepartmentListResponse::default();
    let mut users = vec![];
    for d in batch {
        if let Some(list) = &d.departments {
            departments
                .department
                .extend(list.department.iter().cloned());
        }
        if let Some(list) = &d.users {
            users.push(list.clone());
        }
    }
    if departments.department.is_empty() && users.is_empty() {
        return None;
    }
    Some(Directory::from_api(&departments, &users))
}

/// The flatten step over one batch: journals (and the wide pivot of one template), stats, and
/// the directory tables. Errors are outcomes; only panics and broken schemas are findings.
pub fn flatten_batch(
    batch: &[Decoded],
    base: &Directory,
    tz: Tz,
    out: &mut Outcomes,
) -> Result<(), Broken> {
    out.flatten_batches += 1;
    let own = batch_directory(batch);
    let dir = own.as_ref().unwrap_or(base);
    if own.is_some() {
        count(directory_tables(dir).map(|_| ()), out)?;
    }
    let details: Vec<JournalDetail> = batch.iter().flat_map(|d| d.details.clone()).collect();
    if !details.is_empty() {
        let mut warnings = Warnings::default();
        let files = downloaded_half(&details);
        match flatten_journals(&details, dir, tz, &files, &mut warnings) {
            Ok(_) => count(Ok(()), out)?,
            Err(e) => count(Err(e), out)?,
        }
    }
    let cycles: Vec<StatCycle> = batch.iter().flat_map(|d| d.cycles.clone()).collect();
    if !cycles.is_empty() {
        count(flatten_stats(&cycles, dir, tz).map(|_| ()), out)?;
    }
    Ok(())
}

/// Every other wedrive file of `details` as downloaded (the rest not), so that both kinds of
/// `local_path` are made.
fn downloaded_half(details: &[JournalDetail]) -> LocalPaths {
    let mut files = LocalPaths::none();
    let mut n = 0usize;
    for d in details {
        for c in Control::walk(&d.apply_data.contents) {
            if let ControlValue::WedriveFile { files: refs } = &c.value {
                for f in refs {
                    n += 1;
                    if n.is_multiple_of(2) {
                        files.insert(&d.journal_uuid, &f.fileid, &format!("wedrive/{n}"));
                    }
                }
            }
        }
    }
    files
}

/// Counts a flatten error; a frame that does not match its own schema is a bug, not an
/// outcome.
fn count(
    result: Result<(), wecom_journal::flatten::FlattenError>,
    out: &mut Outcomes,
) -> Result<(), Broken> {
    match result {
        Ok(()) => Ok(()),
        Err(wecom_journal::flatten::FlattenError::Schema(e)) => {
            Err(Broken(format!("a frame does not match its schema: {e}")))
        }
        Err(_) => {
            out.flatten_errors += 1;
            Ok(())
        }
    }
}
