//! The built-in WeCom simulator: an axum server with the journal, token and directory endpoints
//! over a deterministic synthetic organisation (see `../shared/design.md` §8).
//!
//! Owns the synthetic data ([`org`]) and the server ([`server`]); it enforces the real API's
//! rules and injects faults on request. It must not use the client or anything downstream: it
//! is the other side of the wire, and tests compare the pipeline's output with [`Org`].
//!
//! STUB: signatures are the contract; bodies are being written.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;

pub use crate::wecom::types::{Department, DirectoryUser, JournalDetail, StatCycle};

/// What the simulator serves and how it misbehaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub users: usize,
    /// First local day with journals.
    pub start: NaiveDate,
    /// Days with journals, from `start`.
    pub days: u32,
    pub timezone: chrono_tz::Tz,
    pub corp_id: String,
    pub secret: String,
    /// Share of API calls (0.0–1.0) answered with an injected fault (-1, 45009, HTTP 502, a
    /// slow or a truncated response), chosen deterministically from the seed.
    pub fault_rate: f64,
    /// Record-list calls accepted per `quota_period` before 45009 (600 a minute by default).
    pub record_list_per_minute: u32,
    /// Calls accepted per `quota_period` on every other endpoint.
    pub per_api_per_minute: u32,
    /// The quota's "minute": 60 s, scaled down in tests.
    pub quota_period: Duration,
    /// Lifetime of an access token (`expires_in`).
    pub token_ttl: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 7,
            users: 60,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
            days: 31,
            timezone: chrono_tz::Asia::Shanghai,
            corp_id: "wwsim0000000000001".into(),
            secret: "sim-journal-secret-not-a-real-one".into(),
            fault_rate: 0.0,
            record_list_per_minute: 600,
            per_api_per_minute: 10_000,
            quota_period: Duration::from_secs(60),
            token_ttl: Duration::from_secs(7200),
        }
    }
}

/// The synthetic organisation: everything the simulator serves, for tests to compare against.
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub departments: Vec<Department>,
    pub users: Vec<DirectoryUser>,
    /// Every journal, ordered by `report_time`.
    pub journals: Vec<JournalDetail>,
    /// Every completed stat cycle of every template.
    pub stats: Vec<StatCycle>,
}

impl Org {
    pub fn generate(_config: &SimConfig) -> Org {
        todo!()
    }
}

/// A running simulator.
pub struct SimHandle {
    pub base_url: String,
    pub corp_id: String,
    pub secret: String,
    pub org: Arc<Org>,
}

impl SimHandle {
    /// Starts serving on `addr` (port 0 picks a free one) in the current tokio runtime.
    pub async fn start(_config: SimConfig, _addr: SocketAddr) -> std::io::Result<SimHandle> {
        todo!()
    }
}
