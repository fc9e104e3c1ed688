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
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use super::faults::{Fault, FaultPlan, SLOW_RESPONSE};
use super::misconfig::{self, Visibility};
use super::rng::{mix, Rng, ALNUM};
use super::{Org, OrgAt, SimConfig, SimCounters};
use crate::wecom::errcode;

mod conn;
mod directory;
mod journal;

pub(crate) use conn::{Conn, Listener};

use journal::walk_wedrive;

pub const GETTOKEN: &str = "/cgi-bin/gettoken";
pub const RECORD_LIST: &str = "/cgi-bin/oa/journal/get_record_list";
pub const RECORD_DETAIL: &str = "/cgi-bin/oa/journal/get_record_detail";
pub const STAT_LIST: &str = "/cgi-bin/oa/journal/get_stat_list";
pub(crate) const WEDRIVE_DOWNLOAD: &str = "/cgi-bin/oa/journal/download_wedrive_file";
pub(crate) const DEPARTMENT_LIST: &str = "/cgi-bin/department/list";
pub(crate) const DEPARTMENT_SIMPLELIST: &str = "/cgi-bin/department/simplelist";
pub const USER_LIST: &str = "/cgi-bin/user/list";
pub(crate) const USER_SIMPLELIST: &str = "/cgi-bin/user/simplelist";
pub(crate) const USER_GET: &str = "/cgi-bin/user/get";
pub(crate) const USER_LIST_ID: &str = "/cgi-bin/user/list_id";
/// Where `download_url` points (followed by `/<fileid>`); counted under this name.
pub const WEDRIVE_BYTES: &str = "/sim/wedrive";
pub(crate) const STATS: &str = "/sim/stats";

/// The cookie `download_wedrive_file` hands out and the bytes URL requires.
pub(crate) const WEDRIVE_COOKIE: &str = "wedrive_ticket";

/// The size of the chunks a slow wedrive download comes in (`wedrive_chunk_delay`).
pub(crate) const WEDRIVE_CHUNK: usize = 16 * 1024;

/// Longest record-list window: "one month", read by the SDKs as 31 days.
pub(crate) const MAX_RECORD_WINDOW_S: i64 = 31 * 86_400;
/// Longest stat-list window: one year (366 days, a leap year's).
pub(crate) const MAX_STAT_WINDOW_S: i64 = 366 * 86_400;

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
    /// The world's clock: `None` reads the real clock at each request.
    clock: Mutex<Option<DateTime<Utc>>>,
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
    /// HTTP 200 announcing this whole body's `Content-Length`, of which only the first half
    /// is sent before the connection closes.
    ShortRead(String),
    /// No answer: the connection is reset.
    Reset,
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
            Reply::Truncated(_) | Reply::ShortRead(_) | Reply::Reset | Reply::Status(..) => false,
        }
    }

    /// This answer's body, sent only half way.
    fn short_read(self) -> Reply {
        match self {
            Reply::Json(v) => Reply::ShortRead(v.to_string()),
            other => other,
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
            Reply::ShortRead(text) => {
                let length = text.len();
                let mut half = text.into_bytes();
                half.truncate(length / 2);
                let stream = futures::stream::iter([
                    Ok(Bytes::from(half)),
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "a short read on purpose",
                    )),
                ])
                // The pause between lets hyper flush the half before the error closes the
                // connection, so the client really reads it.
                .then(|item| async move {
                    tokio::task::yield_now().await;
                    item
                });
                (
                    [
                        (
                            header::CONTENT_TYPE,
                            "application/json; charset=UTF-8".to_string(),
                        ),
                        (header::CONTENT_LENGTH, length.to_string()),
                    ],
                    axum::body::Body::from_stream(stream),
                )
                    .into_response()
            }
            Reply::Reset => {
                let mut response = Response::default();
                response.extensions_mut().insert(conn::ResetConnection);
                response
            }
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
            clock: Mutex::new(config.now),
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

    pub(crate) fn counters(&self) -> SimCounters {
        lock(&self.counters).clone()
    }

    pub(crate) fn set_fault_rate(&self, rate: f64) {
        self.faults.set_rate(rate);
    }

    /// Sets the world's clock (`None`: the real clock from now on).
    pub(crate) fn set_now(&self, now: Option<DateTime<Utc>>) {
        *lock(&self.clock) = now;
    }

    /// The world as it is now, by the world's clock.
    fn world(&self) -> OrgAt<'_> {
        let now = lock(&self.clock).unwrap_or_else(Utc::now);
        self.org.at(now.timestamp())
    }

    /// Every token issued and not yet forgotten.
    pub(crate) fn issued_tokens(&self) -> Vec<String> {
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
    pub(crate) fn expire_tokens(&self) {
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
                    Some(Fault::ShortRead) => handler(self).short_read(),
                    Some(Fault::Reset) => Reply::Reset,
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
pub(crate) fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route(GETTOKEN, get(gettoken))
        .route(RECORD_LIST, post(record_list))
        .route(RECORD_DETAIL, post(record_detail))
        .route(STAT_LIST, post(stat_list))
        .route(WEDRIVE_DOWNLOAD, post(wedrive_download))
        .route(DEPARTMENT_LIST, get(department_list))
        .route(DEPARTMENT_SIMPLELIST, get(department_simplelist))
        .route(USER_LIST, get(user_list))
        .route(USER_SIMPLELIST, get(user_simplelist))
        .route(USER_GET, get(user_get))
        .route(USER_LIST_ID, post(user_list_id))
        .route("/sim/wedrive/{fileid}", get(wedrive_bytes))
        .route(STATS, get(stats))
        .layer(axum::middleware::from_fn(conn::resets))
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

async fn department_simplelist(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(DEPARTMENT_SIMPLELIST, &q, |s| s.department_simplelist(&q))
        .await
}

async fn user_simplelist(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(USER_SIMPLELIST, &q, |s| s.user_simplelist(&q))
        .await
}

async fn user_get(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    sim.api(USER_GET, &q, |s| s.user_get(&q)).await
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
    use crate::wecom::types::RecordListRequest;

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
