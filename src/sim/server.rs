//! The simulator's HTTP side (axum): WeCom's paths and JSON shapes, the real rules (tokens,
//! quotas, windows, limits, permissions) and injected faults, over a generated [`Org`].
//!
//! Like WeCom, every API error is HTTP 200 with `errcode` / `errmsg`. Order of checks on an API
//! call: access token (41001 / 40014 / 42001) → a misconfiguration set on purpose (60020,
//! 48002, 301065: `sim/misconfig.rs`) → quota of that endpoint's fixed window (45009; every
//! call with a valid token counts) → injected fault → the endpoint's own checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::faults::{Fault, FaultPlan, SLOW_RESPONSE};
use super::misconfig::{self, Visibility};
use super::rng::{hash_str, mix, Rng, ALNUM};
use super::{Org, SimConfig, SimCounters};
use crate::wecom::errcode;
use crate::wecom::types::{
    Control, ControlValue, RecordDetailRequest, RecordListRequest, StatListRequest,
    WedriveDownloadRequest,
};

pub const GETTOKEN: &str = "/cgi-bin/gettoken";
pub const RECORD_LIST: &str = "/cgi-bin/oa/journal/get_record_list";
pub const RECORD_DETAIL: &str = "/cgi-bin/oa/journal/get_record_detail";
pub const STAT_LIST: &str = "/cgi-bin/oa/journal/get_stat_list";
pub const WEDRIVE_DOWNLOAD: &str = "/cgi-bin/oa/journal/download_wedrive_file";
pub const DEPARTMENT_LIST: &str = "/cgi-bin/department/list";
pub const USER_LIST: &str = "/cgi-bin/user/list";
pub const USER_LIST_ID: &str = "/cgi-bin/user/list_id";
/// Where `download_url` points (followed by `/<fileid>`); counted under this name.
pub const WEDRIVE_BYTES: &str = "/sim/wedrive";
pub const STATS: &str = "/sim/stats";

/// The cookie `download_wedrive_file` hands out and the bytes URL requires.
pub const WEDRIVE_COOKIE: &str = "wedrive_ticket";

/// The size of the chunks a slow wedrive download comes in (`wedrive_chunk_delay`).
pub const WEDRIVE_CHUNK: usize = 16 * 1024;

/// Longest record-list window: "one month", read by the SDKs as 31 days.
pub const MAX_RECORD_WINDOW_S: i64 = 31 * 86_400;
/// Longest stat-list window: one year (366 days, a leap year's).
pub const MAX_STAT_WINDOW_S: i64 = 366 * 86_400;

/// Everything the handlers share.
pub struct Sim {
    config: SimConfig,
    org: Arc<Org>,
    base_url: String,
    by_uuid: HashMap<String, usize>,
    /// userid → every department the user is in (the record list's `department` filter).
    user_departments: HashMap<String, Vec<u64>>,
    /// wedrive fileid → index of the journal that references it.
    wedrive_files: HashMap<String, usize>,
    /// What the app's visibility scope hides ([`SimConfig::hidden_departments`]).
    visibility: Visibility,
    tokens: Mutex<Tokens>,
    /// endpoint path → (window number, calls in that window).
    quotas: Mutex<HashMap<&'static str, (u64, u64)>>,
    /// … and the same for the hour's window.
    hourly: Mutex<HashMap<&'static str, (u64, u64)>>,
    faults: FaultPlan,
    counters: Mutex<SimCounters>,
    pub(crate) gate: super::gate::Gate,
}

struct Tokens {
    rng: Rng,
    /// token → when it expires.
    live: HashMap<String, Instant>,
}

/// What a handler answers, before fault handling turns it into HTTP.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A JSON body (errcode 0 or not), HTTP 200.
    Json(Value),
    /// HTTP 200 whose JSON body was cut short.
    Truncated(String),
    /// An HTTP error status with a short body.
    Status(StatusCode, &'static str),
    /// File bytes.
    File { name: String, bytes: Vec<u8> },
    /// File bytes in chunks of [`WEDRIVE_CHUNK`], a delay apart.
    SlowFile {
        name: String,
        bytes: Vec<u8>,
        delay: std::time::Duration,
    },
}

impl Reply {
    fn ok(fields: Value) -> Reply {
        let mut m = Map::new();
        m.insert("errcode".into(), json!(errcode::OK));
        m.insert("errmsg".into(), json!("ok"));
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        Reply::Json(Value::Object(m))
    }

    /// An error the way WeCom words it: the message, a hint and where to read more.
    fn error(code: i64, message: &str) -> Reply {
        let hint = format!("[{}_{:x}]", unix_ms() / 1000, mix(unix_ms()) & 0xFFFF);
        Reply::Json(json!({
            "errcode": code,
            "errmsg": format!(
                "{message}, hint: {hint}, from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={code}"
            ),
        }))
    }

    fn errcode(&self) -> Option<i64> {
        match self {
            Reply::Json(v) => Some(
                v.get("errcode")
                    .and_then(Value::as_i64)
                    .unwrap_or(errcode::OK),
            ),
            _ => None,
        }
    }

    fn is_success(&self) -> bool {
        match self {
            Reply::Json(_) => self.errcode() == Some(errcode::OK),
            Reply::File { .. } | Reply::SlowFile { .. } => true,
            Reply::Truncated(_) | Reply::Status(..) => false,
        }
    }

    fn truncated(self) -> Reply {
        match self {
            Reply::Json(v) => {
                let text = v.to_string();
                let mut cut = text.len() / 2;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                Reply::Truncated(text[..cut].to_string())
            }
            other => other,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let json_type = [(header::CONTENT_TYPE, "application/json; charset=UTF-8")];
        match self {
            Reply::Json(v) => (json_type, v.to_string()).into_response(),
            Reply::Truncated(text) => (json_type, text).into_response(),
            Reply::Status(status, body) => {
                (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
            }
            Reply::File { name, bytes } => (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                bytes,
            )
                .into_response(),
            Reply::SlowFile { name, bytes, delay } => {
                let chunks: Vec<Vec<u8>> =
                    bytes.chunks(WEDRIVE_CHUNK).map(<[u8]>::to_vec).collect();
                let stream = futures::stream::iter(chunks).then(move |chunk| async move {
                    tokio::time::sleep(delay).await;
                    Ok::<_, std::convert::Infallible>(Bytes::from(chunk))
                });
                (
                    [
                        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"{name}\""),
                        ),
                    ],
                    axum::body::Body::from_stream(stream),
                )
                    .into_response()
            }
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not take the whole simulator down with a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Decodes a request body: bad JSON is 47001 (WeCom's "data format error"), JSON of the wrong
/// shape (missing or mistyped fields) is 301066.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Reply::error(
            errcode::JOURNAL_BAD_PARAMETERS,
            &format!("invalid request parameters: {e}"),
        ),
        _ => Reply::error(errcode::DATA_FORMAT_ERROR, "data format error"),
    })
}

fn walk_wedrive(controls: &[Control], out: &mut Vec<String>) {
    for c in Control::walk(controls) {
        if let ControlValue::WedriveFile { files } = &c.value {
            out.extend(files.iter().map(|f| f.fileid.clone()));
        }
    }
}

impl Sim {
    pub fn new(config: SimConfig, org: Arc<Org>, base_url: String) -> Sim {
        let by_uuid = org
            .journals
            .iter()
            .enumerate()
            .map(|(i, j)| (j.journal_uuid.clone(), i))
            .collect();
        let user_departments = org
            .users
            .iter()
            .map(|u| (u.userid.clone(), u.department.clone()))
            .collect();
        let mut wedrive_files = HashMap::new();
        for (i, j) in org.journals.iter().enumerate() {
            let mut ids = Vec::new();
            walk_wedrive(&j.apply_data.contents, &mut ids);
            for id in ids {
                wedrive_files.insert(id, i);
            }
        }
        let visibility = Visibility::new(&org, config.hidden_departments);
        Sim {
            visibility,
            tokens: Mutex::new(Tokens {
                rng: Rng::derived(config.seed, 2),
                live: HashMap::new(),
            }),
            quotas: Mutex::new(HashMap::new()),
            hourly: Mutex::new(HashMap::new()),
            faults: FaultPlan::of_kinds(config.seed, config.fault_rate, &config.fault_kinds),
            counters: Mutex::new(SimCounters::default()),
            gate: Default::default(),
            config,
            org,
            base_url,
            by_uuid,
            user_departments,
            wedrive_files,
        }
    }

    pub fn counters(&self) -> SimCounters {
        lock(&self.counters).clone()
    }

    pub fn set_fault_rate(&self, rate: f64) {
        self.faults.set_rate(rate);
    }

    /// Every token issued and not yet forgotten.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.tokens).live.keys().cloned().collect()
    }

    /// A misconfiguration set on purpose refusing a call to `path` ([`misconfig`]).
    fn refuse(&self, path: &'static str) -> Result<(), Reply> {
        match misconfig::refusal(&self.config, path) {
            Some((code, message)) => Err(Reply::error(code, message)),
            None => Ok(()),
        }
    }

    /// Every token issued so far is expired from now on (42001).
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for exp in lock(&self.tokens).live.values_mut() {
            *exp = now;
        }
    }

    fn denied(&self, template_id: Option<&str>) -> bool {
        template_id.is_some_and(|t| self.config.denied_template_ids.iter().any(|d| d == t))
    }

    fn count(&self, path: &'static str, reply: &Reply, fault: Option<Fault>) {
        let mut c = lock(&self.counters);
        let entry = c.calls.entry(path.to_string()).or_default();
        if reply.is_success() {
            entry.ok += 1;
        } else {
            entry.failed += 1;
        }
        if let Some(f) = fault {
            c.faults_injected += 1;
            *c.faults.entry(f.name().to_string()).or_default() += 1;
        }
    }

    fn check_token(&self, query: &HashMap<String, String>) -> Result<(), Reply> {
        let token = query.get("access_token").map(String::as_str).unwrap_or("");
        if token.is_empty() {
            return Err(Reply::error(
                errcode::ACCESS_TOKEN_MISSING,
                "access_token missing",
            ));
        }
        match lock(&self.tokens).live.get(token) {
            None => Err(Reply::error(
                errcode::INVALID_ACCESS_TOKEN,
                "invalid access_token",
            )),
            Some(expires) if Instant::now() >= *expires => Err(Reply::error(
                errcode::ACCESS_TOKEN_EXPIRED,
                "access_token expired",
            )),
            Some(_) => Ok(()),
        }
    }

    /// Fixed windows aligned to multiples of `quota_period` (and of 60 of them, the hour) since
    /// the epoch, like WeCom's minute and hour: once a limit is used up, the rest of its window
    /// answers 45009. The record list has its minute's quota only.
    fn check_quota(&self, path: &'static str) -> Result<(), Reply> {
        let period_ms = (self.config.quota_period.as_millis() as u64).max(1);
        let now = unix_ms();
        let over = |windows: &Mutex<HashMap<&'static str, (u64, u64)>>, len_ms: u64, limit: u64| {
            let window = now / len_ms;
            let mut q = lock(windows);
            let slot = q.entry(path).or_insert((window, 0));
            if slot.0 != window {
                *slot = (window, 0);
            }
            slot.1 += 1;
            slot.1 > limit
        };
        let (minute_limit, hourly) = if path == RECORD_LIST {
            (self.config.record_list_per_minute, false)
        } else {
            (self.config.per_api_per_minute, true)
        };
        let minute_over = over(&self.quotas, period_ms, u64::from(minute_limit));
        let hour_over = hourly
            && over(
                &self.hourly,
                period_ms.saturating_mul(60),
                u64::from(self.config.per_api_per_hour),
            );
        if minute_over || hour_over {
            let mut c = lock(&self.counters);
            c.quota_exceeded += 1;
            c.hourly_quota_exceeded += u64::from(hour_over && !minute_over);
            return Err(Reply::error(
                errcode::FREQUENCY_LIMITED,
                "api freq out of limit",
            ));
        }
        Ok(())
    }

    /// The common path of every API call with an access token.
    async fn api(
        &self,
        path: &'static str,
        query: &HashMap<String, String>,
        handler: impl FnOnce(&Sim) -> Reply,
    ) -> Response {
        self.gate.pass(path).await;
        let mut fault = None;
        let reply = match self
            .check_token(query)
            .and_then(|()| self.refuse(path))
            .and_then(|()| self.check_quota(path))
        {
            Err(reply) => reply,
            Ok(()) => {
                fault = self.faults.roll();
                match fault {
                    None => handler(self),
                    Some(Fault::Busy) => Reply::error(errcode::SYSTEM_BUSY, "system busy"),
                    Some(Fault::Quota) => {
                        Reply::error(errcode::FREQUENCY_LIMITED, "api freq out of limit")
                    }
                    Some(Fault::BadGateway) => Reply::Status(
                        StatusCode::BAD_GATEWAY,
                        "<html><body><h1>502 Bad Gateway</h1></body></html>",
                    ),
                    Some(Fault::Slow) => {
                        tokio::time::sleep(SLOW_RESPONSE).await;
                        handler(self)
                    }
                    Some(Fault::Truncated) => handler(self).truncated(),
                }
            }
        };
        self.count(path, &reply, fault);
        reply.into_response()
    }

    fn gettoken(&self, query: &HashMap<String, String>) -> Reply {
        let corpid = query.get("corpid").map(String::as_str).unwrap_or("");
        let secret = query.get("corpsecret").map(String::as_str).unwrap_or("");
        if corpid.is_empty() {
            return Reply::error(errcode::CORP_ID_MISSING, "corpid missing");
        }
        if secret.is_empty() {
            return Reply::error(errcode::SECRET_MISSING, "corpsecret missing");
        }
        if corpid != self.config.corp_id {
            return Reply::error(errcode::INVALID_CORP_ID, "invalid corpid");
        }
        if secret != self.config.secret || self.config.wrong_secret_for_corp {
            return Reply::error(errcode::INVALID_SECRET, "invalid credential");
        }
        let ttl = self.config.token_ttl;
        let token = {
            let mut t = lock(&self.tokens);
            if t.live.len() > 10_000 {
                // Forget long-dead tokens (they then read as unknown, 40014).
                let now = Instant::now();
                t.live.retain(|_, exp| *exp + ttl > now);
            }
            let token = t.rng.token(ALNUM, 64);
            t.live.insert(token.clone(), Instant::now() + ttl);
            token
        };
        lock(&self.counters).tokens_issued += 1;
        Reply::ok(json!({ "access_token": token, "expires_in": ttl.as_secs_f64().ceil() as u64 }))
    }

    fn record_list(&self, body: &[u8]) -> Reply {
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
        let journals = &self.org.journals;
        let lo = journals.partition_point(|j| j.report_time < req.starttime);
        let hi = journals
            .partition_point(|j| j.report_time <= req.endtime)
            .max(lo);
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

    /// The journal a detail or wedrive call names, as WeCom answers for it: 301084 for an
    /// unknown uuid, 301065 for a template the app may not read.
    fn readable_journal(&self, journal_uuid: &str) -> Result<&crate::wecom::JournalDetail, Reply> {
        let journal = self
            .by_uuid
            .get(journal_uuid)
            .and_then(|&i| self.org.journals.get(i))
            .ok_or_else(|| Reply::error(errcode::JOURNAL_INVALID_UUID, "invalid journaluuid"))?;
        if self.denied(journal.template_id.as_deref()) {
            return Err(Reply::error(
                errcode::JOURNAL_NO_PERMISSION,
                "no permission to pull journal data of this template",
            ));
        }
        Ok(journal)
    }

    fn record_detail(&self, body: &[u8]) -> Reply {
        let req: RecordDetailRequest = match parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let journal = match self.readable_journal(&req.journaluuid) {
            Ok(j) => j,
            Err(reply) => return reply,
        };
        match serde_json::to_value(journal) {
            Ok(info) => Reply::ok(json!({ "info": info })),
            Err(_) => Reply::error(errcode::JOURNAL_INTERNAL_ERROR, "internal error"),
        }
    }

    fn stat_list(&self, body: &[u8]) -> Reply {
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
        let cycles: Vec<_> = self
            .org
            .stats
            .iter()
            .filter(|s| s.template_id == req.template_id)
            .filter(|s| (req.starttime..=req.endtime).contains(&(s.cycle_begin_time as i64)))
            .collect();
        match serde_json::to_value(cycles) {
            Ok(list) => Reply::ok(json!({ "stat_list": list })),
            Err(_) => Reply::error(errcode::JOURNAL_INTERNAL_ERROR, "internal error"),
        }
    }

    fn cookie_value(&self, fileid: &str) -> String {
        let h = hash_str(fileid);
        format!(
            "{:016x}{:016x}",
            mix(self.config.seed ^ h),
            mix(h.wrapping_add(self.config.seed))
        )
    }

    fn wedrive_download(&self, body: &[u8]) -> Reply {
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
        if owner.map(|j| &j.journal_uuid) != Some(&journal.journal_uuid) {
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

    fn wedrive_bytes(&self, fileid: &str, headers: &HeaderMap) -> Reply {
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

    fn department_list(&self, query: &HashMap<String, String>) -> Reply {
        let id = match query.get("id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match s.parse::<u64>() {
                Ok(id) => Some(id),
                Err(_) => return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id"),
            },
        };
        let Some(list) = super::org::departments_under(&self.org, id) else {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        };
        if id.is_some_and(|id| self.visibility.hides(id)) {
            return no_privilege();
        }
        let department: Vec<Value> = list
            .iter()
            .filter(|d| !self.visibility.hides(d.id))
            .map(|d| json!({ "id": d.id, "name": d.name, "parentid": d.parentid, "order": 100_000_000 - d.id }))
            .collect();
        Reply::ok(json!({ "department": department }))
    }

    fn user_list(&self, query: &HashMap<String, String>) -> Reply {
        let Some(raw) = query
            .get("department_id")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            return Reply::error(errcode::INVALID_DEPARTMENT_LIST, "invalid department list");
        };
        let Ok(id) = raw.parse::<u64>() else {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        };
        if !self.org.departments.iter().any(|d| d.id == id) {
            return Reply::error(errcode::INVALID_DEPARTMENT_ID, "invalid party id");
        }
        if self.visibility.hides(id) {
            return no_privilege();
        }
        let users: Vec<_> = super::org::members_of(&self.org, id)
            .into_iter()
            .map(|u| self.visibility.user(u))
            .collect();
        match serde_json::to_value(users) {
            Ok(list) => Reply::ok(json!({ "userlist": list })),
            Err(_) => Reply::error(errcode::SYSTEM_BUSY, "system busy"),
        }
    }
}

/// 60011, a department outside the app's visibility scope, as WeCom words it.
fn no_privilege() -> Reply {
    Reply::error(
        errcode::NO_PRIVILEGE,
        "no privilege to access/modify contact/party/agent",
    )
}

type Q = Query<HashMap<String, String>>;

/// The router over a shared [`Sim`].
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route(GETTOKEN, get(gettoken))
        .route(RECORD_LIST, post(record_list))
        .route(RECORD_DETAIL, post(record_detail))
        .route(STAT_LIST, post(stat_list))
        .route(WEDRIVE_DOWNLOAD, post(wedrive_download))
        .route(DEPARTMENT_LIST, get(department_list))
        .route(USER_LIST, get(user_list))
        .route(USER_LIST_ID, post(user_list_id))
        .route("/sim/wedrive/{fileid}", get(wedrive_bytes))
        .route(STATS, get(stats))
        .with_state(sim)
}

async fn gettoken(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.gate.pass(GETTOKEN).await;
    let reply = sim.gettoken(&q);
    sim.count(GETTOKEN, &reply, None);
    reply.into_response()
}

async fn record_list(State(sim): State<Arc<Sim>>, Query(q): Q, body: Bytes) -> Response {
    sim.api(RECORD_LIST, &q, |s| s.record_list(&body)).await
}

async fn record_detail(State(sim): State<Arc<Sim>>, Query(q): Q, body: Bytes) -> Response {
    sim.api(RECORD_DETAIL, &q, |s| s.record_detail(&body)).await
}

async fn stat_list(State(sim): State<Arc<Sim>>, Query(q): Q, body: Bytes) -> Response {
    sim.api(STAT_LIST, &q, |s| s.stat_list(&body)).await
}

async fn wedrive_download(State(sim): State<Arc<Sim>>, Query(q): Q, body: Bytes) -> Response {
    sim.api(WEDRIVE_DOWNLOAD, &q, |s| s.wedrive_download(&body))
        .await
}

async fn department_list(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(DEPARTMENT_LIST, &q, |s| s.department_list(&q))
        .await
}

async fn user_list(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(USER_LIST, &q, |s| s.user_list(&q)).await
}

/// `user/list_id` needs the contacts-sync secret; the journal app's secret is refused.
async fn user_list_id(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(USER_LIST_ID, &q, |_| {
        Reply::error(errcode::API_FORBIDDEN, "api forbidden")
    })
    .await
}

async fn wedrive_bytes(
    State(sim): State<Arc<Sim>>,
    Path(fileid): Path<String>,
    headers: HeaderMap,
) -> Response {
    sim.gate.pass(WEDRIVE_BYTES).await;
    let reply = sim.wedrive_bytes(&fileid, &headers);
    sim.count(WEDRIVE_BYTES, &reply, None);
    reply.into_response()
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    Reply::Json(json!(sim.counters())).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_json_on_a_char_boundary() {
        let r = Reply::ok(json!({"info": "汇报汇报汇报汇报"})).truncated();
        match r {
            Reply::Truncated(t) => {
                assert!(serde_json::from_str::<Value>(&t).is_err());
                assert!(!t.is_empty());
            }
            other => panic!("expected a truncated body, got {other:?}"),
        }
    }

    #[test]
    fn bad_json_is_47001_wrong_shape_is_301066() {
        let e = parse::<RecordListRequest>(b"{not json").unwrap_err();
        assert_eq!(e.errcode(), Some(47001));
        let e = parse::<RecordListRequest>(br#"{"endtime": 5}"#).unwrap_err();
        assert_eq!(e.errcode(), Some(301066));
    }
}
