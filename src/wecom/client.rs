//! The HTTP client: token cache, per-endpoint rate limits, retries with backoff, redaction.
//!
//! STUB: signatures are the contract other modules build on; the bodies are being written.

use std::time::Duration;

use super::error::WecomError;
use super::secret::Secret;
use super::types::*;

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            record_list_per_minute: 600,
            per_api_per_minute: 10_000,
            per_api_per_hour: 150_000,
            max_in_flight: 8,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://qyapi.weixin.qq.com` or the simulator's base URL (no trailing slash needed).
    pub api_base: String,
    pub corp_id: String,
    pub secret: Secret,
    pub limits: Limits,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of a retryable failure before giving up (-1 is retried at most 3 times).
    pub max_retries: u32,
    /// The length of the quota's "minute"; 60 s except in tests that scale quotas down.
    pub quota_period: Duration,
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
}

/// The WeCom client. Cheap to clone (shared state); safe to use from many tasks.
#[derive(Clone)]
pub struct WecomClient {
    _config: std::sync::Arc<ClientConfig>,
}

impl std::fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WecomClient").finish_non_exhaustive()
    }
}

impl WecomClient {
    pub fn new(config: ClientConfig) -> Result<Self, WecomError> {
        Ok(WecomClient {
            _config: std::sync::Arc::new(config),
        })
    }

    pub async fn get_record_list(
        &self,
        _req: &RecordListRequest,
    ) -> Result<Fetched<RecordListResponse>, WecomError> {
        todo!()
    }

    pub async fn get_record_detail(
        &self,
        _journal_uuid: &str,
    ) -> Result<Fetched<RecordDetailResponse>, WecomError> {
        todo!()
    }

    pub async fn get_stat_list(
        &self,
        _req: &StatListRequest,
    ) -> Result<Fetched<StatListResponse>, WecomError> {
        todo!()
    }

    pub async fn download_wedrive_file(
        &self,
        _journal_uuid: &str,
        _fileid: &str,
    ) -> Result<WedriveDownload, WecomError> {
        todo!()
    }

    /// GETs the bytes of a wedrive download with its cookie.
    pub async fn fetch_wedrive_bytes(
        &self,
        _download: &WedriveDownload,
    ) -> Result<Vec<u8>, WecomError> {
        todo!()
    }

    /// `department/list` (all departments visible to the app when `id` is `None`).
    pub async fn department_list(
        &self,
        _id: Option<u64>,
    ) -> Result<Fetched<DepartmentListResponse>, WecomError> {
        todo!()
    }

    /// `user/list?department_id=` (direct members only), with `main_department`.
    pub async fn user_list(
        &self,
        _department_id: u64,
    ) -> Result<Fetched<UserListResponse>, WecomError> {
        todo!()
    }

    pub fn stats(&self) -> CallStats {
        CallStats::default()
    }
}
