//! The journal endpoints: record list, detail, stats and wedrive downloads, serving the world
//! as it is at the simulator's clock.

use axum::http::{header, HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::{
    parse, Reply, Sim, MAX_RECORD_WINDOW_S, MAX_STAT_WINDOW_S, WEDRIVE_BYTES, WEDRIVE_COOKIE,
};
use crate::sim::rng::{hash_str, mix, Rng, ALNUM};
use crate::sim::JournalAt;
use crate::wecom::errcode;
use crate::wecom::types::{
    Control, ControlValue, RecordDetailRequest, RecordListRequest, StatListRequest,
    WedriveDownloadRequest,
};

pub(super) fn walk_wedrive(controls: &[Control], out: &mut Vec<String>) {
    for c in Control::walk(controls) {
        if let ControlValue::WedriveFile { files } = &c.value {
            out.extend(files.iter().map(|f| f.fileid.clone()));
        }
    }
}

impl Sim {
    pub(super) fn record_list(&self, body: &[u8]) -> Reply {
        let req: RecordListRequest = match parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if req.starttime > req.endtime {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: starttime after endtime",
            );
        }
        if req.endtime - req.starttime > MAX_RECORD_WINDOW_S {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: time range over one month",
            );
        }
        if req.limit == 0 || req.limit > 100 {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: limit must be 1..=100",
            );
        }
        let mut creators = Vec::new();
        let mut departments = Vec::new();
        let mut templates = Vec::new();
        for f in &req.filters {
            if f.key.len() > 256 || f.value.len() > 256 {
                return Reply::error(
                    errcode::JOURNAL_BAD_PARAMETERS,
                    "invalid request parameters: filter over 256 bytes",
                );
            }
            match f.key.as_str() {
                "creator" => creators.push(f.value.as_str()),
                "department" => match f.value.trim().parse::<u64>() {
                    Ok(d) => departments.push(d),
                    Err(_) => {
                        return Reply::error(
                            errcode::JOURNAL_BAD_PARAMETERS,
                            "invalid request parameters: department filter",
                        )
                    }
                },
                "template_id" => templates.push(f.value.as_str()),
                _ => {
                    return Reply::error(
                        errcode::JOURNAL_BAD_PARAMETERS,
                        "invalid request parameters: unknown filter key",
                    )
                }
            }
        }
        if templates.iter().any(|t| self.denied(Some(*t))) {
            return Reply::error(
                errcode::JOURNAL_NO_PERMISSION,
                "no permission to pull journal data of this template",
            );
        }
        // Only what has been submitted by now; withdrawn journals stay listed.
        let until = req.endtime.min(self.world().t);
        let journals = &self.org.journals;
        let lo = journals.partition_point(|j| j.report_time < req.starttime);
        let hi = journals.partition_point(|j| j.report_time <= until).max(lo);
        // Filters: different keys must all match, values of one key are alternatives.
        let matching = journals[lo..hi].iter().filter(|j| {
            (creators.is_empty() || creators.contains(&j.submitter.userid.as_str()))
                && (templates.is_empty()
                    || j.template_id
                        .as_deref()
                        .is_some_and(|t| templates.contains(&t)))
                && (departments.is_empty()
                    || self
                        .user_departments
                        .get(&j.submitter.userid)
                        .is_some_and(|ds| ds.iter().any(|d| departments.contains(d))))
        });
        let cursor = usize::try_from(req.cursor).unwrap_or(usize::MAX);
        let limit = req.limit as usize;
        let mut page = Vec::new();
        let mut total = 0usize;
        for (i, j) in matching.enumerate() {
            if i >= cursor && page.len() < limit {
                page.push(j.journal_uuid.as_str());
            }
            total = i + 1;
        }
        let next_cursor = cursor.min(total) + page.len();
        Reply::ok(json!({
            "journaluuid_list": page,
            "next_cursor": next_cursor,
            "endflag": u8::from(next_cursor >= total),
        }))
    }

    /// The journal a detail or wedrive call names, as it is now, as WeCom answers for it:
    /// 301084 for an unknown uuid (or one not yet submitted) and for a withdrawn journal, 301065
    /// for a template the app may not read.
    pub(super) fn readable_journal(&self, journal_uuid: &str) -> Result<JournalAt<'_>, Reply> {
        let invalid = || Reply::error(errcode::JOURNAL_INVALID_UUID, "invalid journaluuid");
        let journal = self
            .by_uuid
            .get(journal_uuid)
            .and_then(|&i| self.world().journal_by_index(i))
            .ok_or_else(invalid)?;
        if self.denied(Some(journal.template_id())) {
            return Err(Reply::error(
                errcode::JOURNAL_NO_PERMISSION,
                "no permission to pull journal data of this template",
            ));
        }
        if journal.is_withdrawn() {
            return Err(invalid());
        }
        Ok(journal)
    }

    pub(super) fn record_detail(&self, body: &[u8]) -> Reply {
        let req: RecordDetailRequest = match parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let journal = match self.readable_journal(&req.journaluuid) {
            Ok(j) => j,
            Err(reply) => return reply,
        };
        Reply::ok(json!({ "info": self.org.wire.detail(&journal) }))
    }

    pub(super) fn stat_list(&self, body: &[u8]) -> Reply {
        let req: StatListRequest = match parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        if req.starttime > req.endtime || req.endtime - req.starttime > MAX_STAT_WINDOW_S {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: time range over one year",
            );
        }
        if !self.org.templates.iter().any(|t| t.id == req.template_id) {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: template_id",
            );
        }
        if self.denied(Some(&req.template_id)) {
            return Reply::error(
                errcode::JOURNAL_NO_PERMISSION,
                "no permission to pull journal data of this template",
            );
        }
        // Only cycles summarised by now, with the reports that exist now.
        let world = self.world();
        let cycles: Vec<Value> = self
            .org
            .cycles
            .iter()
            .filter(|c| c.template_id() == req.template_id)
            .filter(|c| (req.starttime..=req.endtime).contains(&c.begin()))
            .filter_map(|c| world.stat_cycle(c))
            .map(|s| self.org.wire.stat_cycle(&s))
            .collect();
        Reply::ok(json!({ "stat_list": cycles }))
    }

    pub(super) fn cookie_value(&self, fileid: &str) -> String {
        let h = hash_str(fileid);
        format!(
            "{:016x}{:016x}",
            mix(self.config.seed ^ h),
            mix(h.wrapping_add(self.config.seed))
        )
    }

    pub(super) fn wedrive_download(&self, body: &[u8]) -> Reply {
        let req: WedriveDownloadRequest = match parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let journal = match self.readable_journal(&req.journaluuid) {
            Ok(j) => j,
            Err(reply) => return reply,
        };
        let owner = self
            .wedrive_files
            .get(&req.fileid)
            .and_then(|&i| self.org.journals.get(i));
        if owner.map(|j| j.journal_uuid.as_str()) != Some(journal.uuid()) {
            return Reply::error(
                errcode::JOURNAL_BAD_PARAMETERS,
                "invalid request parameters: fileid not in this journal",
            );
        }
        Reply::ok(json!({
            "download_url": format!("{}{}/{}", self.base_url, WEDRIVE_BYTES, req.fileid),
            "cookie_name": WEDRIVE_COOKIE,
            "cookie_value": self.cookie_value(&req.fileid),
        }))
    }

    /// The bytes of a wedrive file: deterministic text, a few KB (or `wedrive_file_bytes`:
    /// the text repeated to that size).
    pub fn wedrive_content(&self, fileid: &str) -> Vec<u8> {
        let mut rng = Rng::derived(self.config.seed ^ hash_str(fileid), 3);
        let lines = 40 + rng.below(200);
        let mut out = format!("simulated wedrive file {fileid}\n");
        for i in 0..lines {
            out.push_str(&format!("{i:04} {}\n", rng.token(ALNUM, 48)));
        }
        let text = out.into_bytes();
        match self.config.wedrive_file_bytes {
            Some(size) => text.iter().copied().cycle().take(size).collect(),
            None => text,
        }
    }

    pub(super) fn wedrive_bytes(&self, fileid: &str, headers: &HeaderMap) -> Reply {
        if !self.wedrive_files.contains_key(fileid) {
            return Reply::Status(StatusCode::NOT_FOUND, "not found");
        }
        let expected = format!("{WEDRIVE_COOKIE}={}", self.cookie_value(fileid));
        let has_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| c.trim() == expected);
        if !has_cookie {
            return Reply::Status(StatusCode::FORBIDDEN, "forbidden");
        }
        if self
            .config
            .failing_wedrive_files
            .iter()
            .any(|f| f == fileid)
        {
            return Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
        let (name, bytes) = (format!("{fileid}.txt"), self.wedrive_content(fileid));
        match self.config.wedrive_chunk_delay {
            Some(delay) => Reply::SlowFile { name, bytes, delay },
            None => Reply::File { name, bytes },
        }
    }
}
