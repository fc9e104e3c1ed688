//! The HTTP client: token cache, per-endpoint rate limits, retries with backoff, redaction.
//!
//! Owns every request to WeCom and the policy around it: one cached access token shared by all
//! callers ([`token`]), the quotas of each endpoint and the bound on calls in flight
//! ([`ratelimit`]), which failures are retried and how long to wait ([`retry`]), decoding the
//! `errcode` envelope and then the typed body (the raw body is returned too, for the store),
//! wedrive downloads streamed to a file ([`download`]), and counters of calls and retries.
//! [`WecomClient::stop_new_calls`] lets the calls on the wire finish and sends no other. It never lets a credential out: the corp secret and the
//! tokens are kept in [`Secret`]s, request URLs are dropped from transport errors, and every
//! error text is scrubbed before anyone sees it. It knows nothing of jobs, windows or paging
//! strategy; that is the extraction's business.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errcode;
use super::error::WecomError;
use super::secret::{redact, Secret};
use super::types::*;

mod call;
mod download;
mod ratelimit;
mod retry;
mod token;

pub use download::{DownloadedFile, DOWNLOAD_BUFFER};
pub(crate) use ratelimit::{QuotaUsage, UsageBucket};
pub(crate) use retry::{classify_errcode, Verdict};

/// The endpoints this client calls; each has its own rate limit and call counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    GetToken,
    RecordList,
    RecordDetail,
    StatList,
    WedriveDownload,
    WedriveBytes,
    DepartmentList,
    UserList,
}

impl Endpoint {
    pub const ALL: [Endpoint; 8] = [
        Endpoint::GetToken,
        Endpoint::RecordList,
        Endpoint::RecordDetail,
        Endpoint::StatList,
        Endpoint::WedriveDownload,
        Endpoint::WedriveBytes,
        Endpoint::DepartmentList,
        Endpoint::UserList,
    ];

    /// The path under the API base (also the endpoint's name in errors and manifests).
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::GetToken => "/cgi-bin/gettoken",
            Endpoint::RecordList => "/cgi-bin/oa/journal/get_record_list",
            Endpoint::RecordDetail => "/cgi-bin/oa/journal/get_record_detail",
            Endpoint::StatList => "/cgi-bin/oa/journal/get_stat_list",
            Endpoint::WedriveDownload => "/cgi-bin/oa/journal/download_wedrive_file",
            Endpoint::WedriveBytes => "wedrive download_url",
            Endpoint::DepartmentList => "/cgi-bin/department/list",
            Endpoint::UserList => "/cgi-bin/user/list",
        }
    }

    /// The endpoint of a [`Endpoint::name`].
    pub(crate) fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// A short stable name for manifests and plans (`get_record_list` …).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::GetToken => "gettoken",
            Endpoint::RecordList => "get_record_list",
            Endpoint::RecordDetail => "get_record_detail",
            Endpoint::StatList => "get_stat_list",
            Endpoint::WedriveDownload => "download_wedrive_file",
            Endpoint::WedriveBytes => "wedrive_bytes",
            Endpoint::DepartmentList => "department_list",
            Endpoint::UserList => "user_list",
        }
    }
}

/// Quotas, defaulting to the documented ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Record-list calls a minute (doc 93393: 600).
    pub record_list_per_minute: u32,
    /// Calls a minute for every other API (WeCom's general per-corp quota: 10,000).
    pub per_api_per_minute: u32,
    /// … and an hour (150,000).
    pub per_api_per_hour: u32,
    /// Calls in flight at once (too many gives 45033).
    pub max_in_flight: usize,
    /// How long one call may wait in all for quotas WeCom says are spent (45009), before it
    /// fails: these waits never spend a retry. The pacing of the client's own quotas is not
    /// counted (a long backfill waits hours for the hourly quota by design).
    pub max_quota_wait: Duration,
}

/// [`Limits::max_quota_wait`] by default: an hour's block and one more.
pub const DEFAULT_MAX_QUOTA_WAIT: Duration = Duration::from_secs(2 * 3600);

impl Limits {
    /// The documented quotas, 8 calls in flight and [`DEFAULT_MAX_QUOTA_WAIT`]: the defaults of
    /// a job's `[source.limits]` (`job::keys` reads them from here).
    pub(crate) const DOCUMENTED: Limits = Limits {
        record_list_per_minute: 600,
        per_api_per_minute: 10_000,
        per_api_per_hour: 150_000,
        max_in_flight: 8,
        max_quota_wait: DEFAULT_MAX_QUOTA_WAIT,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DOCUMENTED
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://qyapi.weixin.qq.com` or the simulator's base URL (no trailing slash needed).
    pub api_base: String,
    pub corp_id: String,
    pub secret: Secret,
    pub limits: Limits,
    /// Per-request timeout of API calls; for wedrive downloads, the longest wait for the next
    /// bytes (an idle timeout: a large file may take as long as it keeps coming).
    pub timeout: Duration,
    /// Retries of a retryable failure before giving up (-1 is retried at most 3 times).
    pub max_retries: u32,
    /// The length of the quota's "minute"; 60 s except in tests that scale quotas down.
    pub quota_period: Duration,
    /// The first retry waits about this long (half of it fixed, half random); each further
    /// retry doubles it.
    pub backoff_base: Duration,
    /// No single backoff waits longer than this.
    pub backoff_max: Duration,
}

impl ClientConfig {
    pub fn new(api_base: impl Into<String>, corp_id: impl Into<String>, secret: Secret) -> Self {
        ClientConfig {
            api_base: api_base.into(),
            corp_id: corp_id.into(),
            secret,
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
            max_retries: 6,
            quota_period: Duration::from_secs(60),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// A decoded response together with the exact body, which the store keeps.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    pub value: T,
    pub raw: String,
}

/// Counters of one client's life: calls (HTTP requests made) and retries, per endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallStats {
    pub calls: std::collections::BTreeMap<&'static str, u64>,
    pub retries: std::collections::BTreeMap<&'static str, u64>,
    /// errcode 45009 answers received (a client that follows its limits should see none).
    pub quota_errors: u64,
    /// Times an endpoint was blocked for the rest of a minute (or an hour) after 45009s in a
    /// row: the corp's quota spent by someone else. Stray 45009s block nothing.
    pub(crate) quota_blocks: u64,
}

/// The WeCom client. Cheap to clone (shared state); safe to use from many tasks.
#[derive(Clone)]
pub struct WecomClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    /// `api_base` without a trailing slash.
    base: String,
    http: reqwest::Client,
    /// For wedrive downloads: no total timeout (the idle one is applied per read).
    download_http: reqwest::Client,
    token: token::TokenCache,
    limits: ratelimit::RateLimits,
    in_flight: tokio::sync::Semaphore,
    /// Set by [`WecomClient::stop_new_calls`]; waits end when it is.
    stopping: call::Stopping,
    stats: Mutex<CallStats>,
}

impl std::fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config's Debug redacts the secret; tokens are not in it at all.
        f.debug_struct("WecomClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One request, as the retry loop replays it.
struct Call {
    endpoint: Endpoint,
    method: reqwest::Method,
    /// The full URL for endpoints outside the API base (a wedrive download URL).
    url: Option<String>,
    query: Vec<(&'static str, String)>,
    json_body: Option<Vec<u8>>,
    cookie: Option<HeaderValue>,
}

impl Call {
    fn get(endpoint: Endpoint, query: Vec<(&'static str, String)>) -> Call {
        Call {
            endpoint,
            method: reqwest::Method::GET,
            url: None,
            query,
            json_body: None,
            cookie: None,
        }
    }

    fn post<B: Serialize>(endpoint: Endpoint, body: &B) -> Result<Call, WecomError> {
        let json = serde_json::to_vec(body).map_err(|e| WecomError::Decode {
            endpoint: endpoint.path(),
            message: format!("cannot encode the request body: {e}"),
        })?;
        Ok(Call {
            endpoint,
            method: reqwest::Method::POST,
            url: None,
            query: Vec::new(),
            json_body: Some(json),
            cookie: None,
        })
    }
}

impl WecomClient {
    pub fn new(config: ClientConfig) -> Result<Self, WecomError> {
        let base = config.api_base.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            WecomError::Config(format!("api_base {:?} is not a URL: {e}", redact(&base)))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(WecomError::Config(format!(
                "api_base {:?} must be http:// or https://",
                redact(&base)
            )));
        }
        if config.corp_id.trim().is_empty() {
            return Err(WecomError::Config("corp_id is empty".into()));
        }
        if config.secret.is_empty() {
            return Err(WecomError::Config("the corp secret is empty".into()));
        }
        if config.limits.max_in_flight == 0 {
            return Err(WecomError::Config(
                "max_in_flight must be at least 1".into(),
            ));
        }
        if config.quota_period.is_zero() {
            return Err(WecomError::Config(
                "quota_period must be longer than zero".into(),
            ));
        }
        let limits = ratelimit::RateLimits::new(&config.limits, config.quota_period)?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(config.limits.max_in_flight)
            .build()
            .map_err(|e| {
                WecomError::Config(format!(
                    "cannot build the HTTP client: {}",
                    redact(&e.to_string())
                ))
            })?;
        let download_http = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(config.limits.max_in_flight)
            .build()
            .map_err(|e| {
                WecomError::Config(format!(
                    "cannot build the HTTP client: {}",
                    redact(&e.to_string())
                ))
            })?;
        let in_flight = tokio::sync::Semaphore::new(config.limits.max_in_flight);
        Ok(WecomClient {
            inner: Arc::new(Inner {
                config,
                base,
                http,
                download_http,
                token: token::TokenCache::default(),
                limits,
                in_flight,
                stopping: call::Stopping::default(),
                stats: Mutex::new(CallStats::default()),
            }),
        })
    }

    /// Sends no new request from now on: calls on the wire finish, every other (waiting for a
    /// slot, a quota, a retry) fails at once with [`WecomError::Stopped`]. For a run asked to
    /// stop (SIGTERM).
    pub(crate) fn stop_new_calls(&self) {
        self.inner.stopping.set();
        self.inner.in_flight.close();
    }

    /// What this client spent of the quotas lately (the last hour), for the next process.
    pub(crate) fn quota_usage(&self) -> QuotaUsage {
        self.inner.limits.usage()
    }

    /// Counts what earlier processes spent of the quotas (from the store), before any call.
    pub(crate) fn preload_quota_usage(&self, usage: &QuotaUsage) {
        self.inner.limits.preload(usage);
    }

    pub async fn get_record_list(
        &self,
        req: &RecordListRequest,
    ) -> Result<Fetched<RecordListResponse>, WecomError> {
        self.call_api(Call::post(Endpoint::RecordList, req)?).await
    }

    pub async fn get_record_detail(
        &self,
        journal_uuid: &str,
    ) -> Result<Fetched<RecordDetailResponse>, WecomError> {
        let req = RecordDetailRequest {
            journaluuid: journal_uuid.to_string(),
        };
        self.call_api(Call::post(Endpoint::RecordDetail, &req)?)
            .await
    }

    pub async fn get_stat_list(
        &self,
        req: &StatListRequest,
    ) -> Result<Fetched<StatListResponse>, WecomError> {
        self.call_api(Call::post(Endpoint::StatList, req)?).await
    }

    pub async fn download_wedrive_file(
        &self,
        journal_uuid: &str,
        fileid: &str,
    ) -> Result<WedriveDownload, WecomError> {
        let req = WedriveDownloadRequest {
            journaluuid: journal_uuid.to_string(),
            fileid: fileid.to_string(),
        };
        let fetched: Fetched<WedriveDownload> = self
            .call_api(Call::post(Endpoint::WedriveDownload, &req)?)
            .await?;
        Ok(fetched.value)
    }

    /// GETs the bytes of a wedrive download with its cookie and streams them into `path`
    /// (created or truncated, fsynced; see [`download`]): retried like any call, each attempt
    /// writing the file afresh. The caller renames it into place, or removes it on failure.
    pub async fn download_wedrive_bytes(
        &self,
        download: &WedriveDownload,
        path: &std::path::Path,
    ) -> Result<DownloadedFile, WecomError> {
        let endpoint = Endpoint::WedriveBytes;
        let cookie = HeaderValue::from_str(&format!(
            "{}={}",
            download.cookie_name, download.cookie_value
        ))
        .map_err(|_| WecomError::Decode {
            endpoint: endpoint.path(),
            message: "the download cookie is not a valid header value".into(),
        })?;
        let mut cookie = cookie;
        cookie.set_sensitive(true);
        let call = Call {
            endpoint,
            method: reqwest::Method::GET,
            url: Some(download.download_url.clone()),
            query: Vec::new(),
            json_body: None,
            cookie: Some(cookie),
        };
        let mut extra = vec![Secret::new(download.cookie_value.clone())];
        extra.retain(|s| !s.is_empty());
        let call = &call;
        self.with_retries(call, &extra, no_token, |_| self.attempt_to_file(call, path))
            .await
    }

    /// `department/list` (all departments visible to the app when `id` is `None`).
    pub async fn department_list(
        &self,
        id: Option<u64>,
    ) -> Result<Fetched<DepartmentListResponse>, WecomError> {
        let query = id
            .map(|id| vec![("id", id.to_string())])
            .unwrap_or_default();
        self.call_api(Call::get(Endpoint::DepartmentList, query))
            .await
    }

    /// `user/list?department_id=` (direct members only), with `main_department`.
    pub async fn user_list(
        &self,
        department_id: u64,
    ) -> Result<Fetched<UserListResponse>, WecomError> {
        self.call_api(Call::get(
            Endpoint::UserList,
            vec![("department_id", department_id.to_string())],
        ))
        .await
    }

    /// Makes sure the client holds an access token, calling `gettoken` when it has none: the
    /// answer to "are the corp id and the secret accepted?" without any other call. The token
    /// stays inside the client.
    pub(crate) async fn authenticate(&self) -> Result<(), WecomError> {
        self.token().await.map(|_| ())
    }

    /// Calls and retries so far, per endpoint name, and the 45009s received.
    pub fn stats(&self) -> CallStats {
        let mut stats = self
            .inner
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        stats.quota_blocks = self.inner.limits.blocks();
        stats
    }

    // -----------------------------------------------------------------------------------------

    async fn call_api<T: DeserializeOwned>(&self, call: Call) -> Result<Fetched<T>, WecomError> {
        let endpoint = call.endpoint.path();
        let lease = || async { self.token().await.map(Some) };
        let call = &call;
        self.with_retries(call, &[], lease, |lease| async move {
            let bytes = self.attempt(call, lease.as_ref()).await?;
            decode_api::<T>(endpoint, bytes)
        })
        .await
    }

    /// A token for one call: the cached one, or a fresh one from `gettoken`.
    async fn token(&self) -> Result<token::TokenLease, WecomError> {
        self.inner.token.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<(Secret, Duration), WecomError> {
        let config = &self.inner.config;
        let call = Call::get(
            Endpoint::GetToken,
            vec![
                ("corpid", config.corp_id.clone()),
                ("corpsecret", config.secret.expose().to_string()),
            ],
        );
        // Not `call_api`, which asks for a token: the loop here runs without one.
        let endpoint = Endpoint::GetToken.path();
        let call = &call;
        let fetched: Fetched<TokenResponse> = self
            .with_retries(call, &[], no_token, |_| async move {
                decode_api(endpoint, self.attempt(call, None).await?)
            })
            .await?;
        let TokenResponse {
            access_token,
            expires_in,
        } = fetched.value;
        if access_token.is_empty() {
            return Err(WecomError::Decode {
                endpoint: Endpoint::GetToken.path(),
                message: "the answer has no access_token".into(),
            });
        }
        // WeCom says 7200; a missing or silly value gets a short life rather than none.
        let ttl = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0).max(1));
        tracing::info!(
            endpoint = Endpoint::GetToken.name(),
            expires_in,
            "access token refreshed"
        );
        Ok((Secret::new(access_token), ttl))
    }

    fn count(&self, f: impl FnOnce(&mut CallStats)) {
        f(&mut self.inner.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Removes every credential from an error's texts: query parameters by name ([`redact`]),
    /// and the literal values of the secret, the token used and any `extra` (a cookie).
    fn scrub(&self, err: WecomError, token: Option<&Secret>, extra: &[Secret]) -> WecomError {
        let secrets: Vec<&Secret> = std::iter::once(&self.inner.config.secret)
            .chain(token)
            .chain(extra)
            .collect();
        let clean = |text: String| -> String {
            let mut text = redact(&text);
            for s in &secrets {
                if !s.is_empty() {
                    text = text.replace(s.expose(), "[redacted]");
                }
            }
            text
        };
        match err {
            WecomError::Api {
                endpoint,
                errcode,
                errmsg,
            } => WecomError::Api {
                endpoint,
                errcode,
                errmsg: clean(errmsg),
            },
            WecomError::Transport {
                endpoint,
                message,
                retryable,
            } => WecomError::Transport {
                endpoint,
                message: clean(message),
                retryable,
            },
            WecomError::Decode { endpoint, message } => WecomError::Decode {
                endpoint,
                message: clean(message),
            },
            WecomError::Config(message) => WecomError::Config(clean(message)),
            WecomError::Io {
                endpoint,
                path,
                message,
            } => WecomError::Io {
                endpoint,
                path,
                message: clean(message),
            },
            WecomError::Stopped { endpoint } => WecomError::Stopped { endpoint },
        }
    }
}

/// The lease source of calls made without an access token.
fn no_token() -> std::future::Ready<Result<Option<token::TokenLease>, WecomError>> {
    std::future::ready(Ok(None))
}

/// A reqwest failure as a transport error: without its URL (which carries the token or the
/// secret), with its causes (which say what actually went wrong), redacted all the same.
fn transport_error(endpoint: Endpoint, err: reqwest::Error) -> WecomError {
    let retryable = !err.is_builder() && !err.is_redirect();
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "the body was cut off"
    } else {
        "request failed"
    };
    let err = err.without_url();
    let mut message = format!("{kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    WecomError::Transport {
        endpoint: endpoint.path(),
        message: redact(&message),
        retryable,
    }
}

/// Decodes an API answer: the `errcode` envelope first (absent means success), then the typed
/// body. A body that is not complete JSON (cut off, or not JSON at all) is a retryable
/// transport failure; complete JSON of the wrong shape is a decode error.
fn decode_api<T: DeserializeOwned>(
    endpoint: &'static str,
    bytes: Vec<u8>,
) -> Result<Fetched<T>, WecomError> {
    let len = bytes.len();
    let raw = String::from_utf8(bytes).map_err(|e| WecomError::Transport {
        endpoint,
        message: format!("the body ({len} bytes) is not valid UTF-8 (cut off?): {e}"),
        retryable: true,
    })?;
    let envelope: Envelope = serde_json::from_str(&raw).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof | serde_json::error::Category::Syntax => {
            WecomError::Transport {
                endpoint,
                message: format!("the body ({len} bytes) is not complete JSON: {e}"),
                retryable: true,
            }
        }
        _ => WecomError::Decode {
            endpoint,
            message: format!("bad errcode envelope: {e}"),
        },
    })?;
    if envelope.errcode != errcode::OK {
        return Err(WecomError::Api {
            endpoint,
            errcode: envelope.errcode,
            errmsg: envelope.errmsg,
        });
    }
    let value = serde_json::from_str::<T>(&raw).map_err(|e| WecomError::Decode {
        endpoint,
        message: e.to_string(),
    })?;
    Ok(Fetched { value, raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_errcode_is_success_and_raw_is_kept() {
        let raw = r#"{"department":[{"id":"2","name":"研发","parentid":1}]}"#;
        let f: Fetched<DepartmentListResponse> = decode_api("/d", raw.as_bytes().to_vec()).unwrap();
        assert_eq!(f.raw, raw);
        assert_eq!(f.value.department[0].id, 2);
    }

    #[test]
    fn api_errors_name_endpoint_errcode_and_meaning() {
        let raw = br#"{"errcode":301065,"errmsg":"no permission"}"#.to_vec();
        let err = decode_api::<RecordListResponse>("/cgi-bin/oa/journal/get_record_list", raw)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/cgi-bin/oa/journal/get_record_list") && text.contains("301065"),
            "{text}"
        );
        assert!(
            text.contains(crate::wecom::errcode_meaning(301065)),
            "{text}"
        );
        assert_eq!(retry::classify(&err), Verdict::GiveUp);
    }

    #[test]
    fn cut_off_bodies_are_retryable_and_wrong_shapes_are_not() {
        let whole = r#"{"errcode":0,"errmsg":"ok","journaluuid_list":["a","b"],"next_cursor":2,"endflag":1}"#;
        for cut in [0, 1, 10, whole.len() / 2, whole.len() - 1] {
            let err = decode_api::<RecordListResponse>("/x", whole.as_bytes()[..cut].to_vec())
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    WecomError::Transport {
                        retryable: true,
                        ..
                    }
                ),
                "cut at {cut}: {err}"
            );
        }
        // Cut inside a multi-byte character.
        let zh = "{\"errmsg\":\"好\"}".as_bytes();
        let err = decode_api::<Envelope>("/x", zh[..zh.len() - 3].to_vec()).unwrap_err();
        assert!(
            matches!(
                err,
                WecomError::Transport {
                    retryable: true,
                    ..
                }
            ),
            "{err}"
        );
        let wrong = br#"{"errcode":0,"journaluuid_list":"not a list"}"#.to_vec();
        let err = decode_api::<RecordListResponse>("/x", wrong).unwrap_err();
        assert!(matches!(err, WecomError::Decode { .. }), "{err}");
    }

    #[test]
    fn configuration_is_checked() {
        let ok = ClientConfig::new("http://127.0.0.1:1/", "ww1", Secret::new("s"));
        assert!(WecomClient::new(ok.clone()).is_ok());
        let bad = [
            ClientConfig {
                api_base: "not a url".into(),
                ..ok.clone()
            },
            ClientConfig {
                secret: Secret::new(""),
                ..ok.clone()
            },
            ClientConfig {
                corp_id: " ".into(),
                ..ok.clone()
            },
            ClientConfig {
                limits: Limits {
                    max_in_flight: 0,
                    ..Limits::default()
                },
                ..ok.clone()
            },
        ];
        for config in bad {
            assert!(matches!(
                WecomClient::new(config),
                Err(WecomError::Config(_))
            ));
        }
    }
}
