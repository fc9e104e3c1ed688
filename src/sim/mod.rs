//! The built-in WeCom simulator: an axum server with the journal, token and directory endpoints
//! over a deterministic synthetic organisation (what it serves: the README's "The simulator").
//!
//! Owns the synthetic data ([`org`] builds it, [`world`] holds it and says what of it exists
//! at an instant), how it is written on the wire ([`wire`]) and the server ([`server`]); it
//! enforces the real API's rules and injects faults on request ([`faults`]). It must not use
//! the client or anything downstream: it is the other side of the wire, and tests compare the
//! pipeline's output with [`Org`] (the ground truth: [`Org::at`] is the world at an instant).
//!
//! Time-true: the world is generated from (seed, users, start, days, timezone, late horizon)
//! alone; [`SimConfig::now`] (or the real clock) only decides how much of it has happened. At
//! T the server lists the journals submitted by T — withdrawn ones too, as WeCom's list index
//! lags its withdrawals — answers 301084 for the detail of one withdrawn by T, serves the
//! comments and read receipts made by T, and a stat cycle only once summarised
//! ([`SUMMARISE_DELAY_S`] after its end) with the reports that exist at T (the rules in full:
//! [`world`]). Messy by default at realistic rates (numeric strings, `null` lists, details
//! without `template_id`, users without `main_department`, withdrawals; the rates: [`wire`],
//! [`org`] and the README's "The simulator"); [`Gentle`] spares a test one of them. Faults
//! include short reads and connection resets ([`Fault`]).
//!
//! Choices where WeCom's documentation is silent:
//! - record list `department` filter: a journal matches when its creator is a *direct* member
//!   of that department (any of the creator's `department` ids, not sub-departments); several
//!   filters of one key are alternatives, different keys must all match;
//! - both time bounds of the record list are inclusive (by `report_time`); stat cycles are
//!   those whose `cycle_begin_time` lies in `[starttime, endtime]`;
//! - a template in [`SimConfig::denied_template_ids`] answers 301065 to a record list filtered
//!   by it, to the details and wedrive files of its journals and to its stats, but its journals
//!   still appear in an unfiltered record list (so a client meets the gap on the details);
//! - an unknown `template_id` in `get_stat_list` is 301066;
//! - quotas are fixed windows aligned to multiples of `quota_period` since the Unix epoch.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use crate::wecom::types::{Department, DirectoryUser, JournalDetail, StatCycle};

pub mod faults;
mod gate;
mod misconfig;
pub mod org;
mod rng;
pub mod server;
pub mod wire;
pub mod world;

pub use faults::Fault;
pub(crate) use wire::Wire;
pub use world::{JournalAt, JournalLife, Org, OrgAt, SimCycle, SimTemplate, SUMMARISE_DELAY_S};

/// The late horizon by default: two days.
pub(crate) const DEFAULT_LATE_HORIZON: Duration = Duration::from_secs(2 * 86_400);

/// Behaviours of real WeCom a test may ask the simulator to spare it, one flag each (all off
/// by default). Each is gentler than WeCom and exists only for tests of something else, until
/// the pipeline copes with the real behaviour. Named on the command line (`sim --gentle`) and,
/// for the in-process simulator of `run --sandbox`, in [`GENTLE_ENV`], by [`Gentle::NAMES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gentle {
    /// `template-ids`: every detail carries its `template_id` (WeCom leaves it out of most).
    pub template_ids: bool,
    /// `withdrawals`: no journal is withdrawn (WeCom keeps listing a withdrawn journal and
    /// answers 301084 on its detail).
    pub withdrawals: bool,
    /// `main-departments`: every user has a `main_department` (WeCom leaves it out for some).
    pub main_departments: bool,
}

/// The environment variable `run --sandbox` and `demo` read [`Gentle`] flags from
/// (comma-separated names) for their in-process simulator (`RunOptions::sandbox_gentle`): for
/// tests of the pipeline only.
pub const GENTLE_ENV: &str = "WECOM_SIM_GENTLE";

impl Gentle {
    /// Every flag's name, as `--gentle` and [`GENTLE_ENV`] take them.
    pub(crate) const NAMES: [&'static str; 3] = ["template-ids", "withdrawals", "main-departments"];

    /// Flags from comma-separated names (blank: none).
    pub fn parse(text: &str) -> Result<Gentle, String> {
        let mut gentle = Gentle::default();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let flag = match name {
                "template-ids" => &mut gentle.template_ids,
                "withdrawals" => &mut gentle.withdrawals,
                "main-departments" => &mut gentle.main_departments,
                other => {
                    return Err(format!(
                        "{other:?} is not a gentle flag (one of {})",
                        Gentle::NAMES.join(", ")
                    ))
                }
            };
            *flag = true;
        }
        Ok(gentle)
    }

    /// The flags named in [`GENTLE_ENV`] (none when it is unset).
    pub(crate) fn from_env() -> Result<Gentle, String> {
        match std::env::var(GENTLE_ENV) {
            Ok(text) => Gentle::parse(&text).map_err(|e| format!("{GENTLE_ENV}: {e}")),
            Err(_) => Ok(Gentle::default()),
        }
    }
}

/// What the simulator serves and how it misbehaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub users: usize,
    /// First local day with journals.
    pub start: NaiveDate,
    /// Days with cycles, from `start` (late reports of the last ones may come after them).
    pub days: u32,
    pub timezone: chrono_tz::Tz,
    /// The simulator's clock: it serves the world as it is at this instant. `None` reads the
    /// real clock at every request. Tokens and quotas always run on the real clock.
    pub now: Option<DateTime<Utc>>,
    /// How long after a cycle's end late reports keep coming, and after a journal's
    /// `report_time` its comments, read receipts and withdrawal (two days by default).
    pub late_horizon: Duration,
    /// Real behaviours switched off for tests that are about something else.
    pub gentle: Gentle,
    pub corp_id: String,
    pub secret: String,
    /// The app is not added under 汇报 → 可调用接口的应用: every journal call answers 301065.
    /// This and the four below are a corp set up wrong on purpose (`sim/misconfig.rs` says where
    /// each applies).
    pub app_not_authorised: bool,
    /// The caller's IP is not among the app's trusted IPs: every call with a token answers
    /// 60020, its errmsg naming the IP as WeCom does (`…, from ip: 127.0.0.1, …`).
    pub untrusted_ip: bool,
    /// The secret is not this corp's (another corp's, or reset): `gettoken` answers 40001.
    pub wrong_secret_for_corp: bool,
    /// The app's visibility scope leaves out the last N departments (whole subtrees): the
    /// directory answers for the rest, whose users come without a hidden `main_department`.
    pub hidden_departments: usize,
    /// The secret is the 汇报 system app's, refused since 2023-12-01: journal calls answer 48002.
    pub system_app_secret: bool,
    /// Share of API calls (0.0–1.0) answered with an injected fault (-1, 45009, HTTP 502, a
    /// slow, a truncated or a short-read response, a connection reset), chosen
    /// deterministically from the seed.
    pub fault_rate: f64,
    /// The kinds of fault injected, each as likely (every kind when empty).
    pub fault_kinds: Vec<Fault>,
    /// Record-list calls accepted per `quota_period` before 45009 (600 a minute by default).
    pub record_list_per_minute: u32,
    /// Calls accepted per `quota_period` on every other endpoint.
    pub per_api_per_minute: u32,
    /// … and per hour (60 `quota_period`s, aligned to the epoch as the minutes are).
    pub per_api_per_hour: u32,
    /// The quota's "minute": 60 s, scaled down in tests.
    pub quota_period: Duration,
    /// Lifetime of an access token (`expires_in`).
    pub token_ttl: Duration,
    /// Templates the app may not read: 301065 (see the module doc for where).
    pub denied_template_ids: Vec<String>,
    /// The weekly 安全巡检 template is named 周报 too: two templates of one name, as two
    /// departments' weekly templates often are in a real corp. Then a detail without
    /// `template_id` that no stat list names yet (its cycle not summarised) is of no single
    /// known template by its name alone. Off by default only because the other tests name
    /// templates by their names; the world is otherwise the same.
    pub twin_template_names: bool,
    /// Wedrive files (bytes GET) served this size, when set (the generated text repeated).
    pub wedrive_file_bytes: Option<usize>,
    /// When set, wedrive bytes come in chunks of [`server::WEDRIVE_CHUNK`] bytes, this long
    /// apart (a slow link).
    pub wedrive_chunk_delay: Option<std::time::Duration>,
    /// Wedrive fileids whose bytes always answer HTTP 500 (a file that cannot be fetched).
    pub failing_wedrive_files: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 7,
            users: 60,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
            days: 31,
            timezone: chrono_tz::Asia::Shanghai,
            now: None,
            late_horizon: DEFAULT_LATE_HORIZON,
            gentle: Gentle::default(),
            corp_id: "wwsim0000000000001".into(),
            secret: "sim-journal-secret-not-a-real-one".into(),
            app_not_authorised: false,
            untrusted_ip: false,
            wrong_secret_for_corp: false,
            hidden_departments: 0,
            system_app_secret: false,
            fault_rate: 0.0,
            fault_kinds: Vec::new(),
            record_list_per_minute: 600,
            per_api_per_minute: 10_000,
            per_api_per_hour: 150_000,
            quota_period: Duration::from_secs(60),
            token_ttl: Duration::from_secs(7200),
            denied_template_ids: Vec::new(),
            twin_template_names: false,
            wedrive_file_bytes: None,
            wedrive_chunk_delay: None,
            failing_wedrive_files: Vec::new(),
        }
    }
}

impl SimConfig {
    /// An instant by which the world of this configuration has surely settled: the end of its
    /// days, plus the two days a straddling week may reach past them, plus the late horizon and
    /// the summarise delay (with an hour to spare). [`Org::settled_at`] is the exact instant.
    pub(crate) fn settled_at(&self) -> DateTime<Utc> {
        let end = self
            .start
            .checked_add_days(Days::new(u64::from(self.days) + 2))
            .unwrap_or(self.start);
        let end_ts = org::local_ts(&self.timezone, end, 0, 0);
        let horizon = i64::try_from(self.late_horizon.as_secs()).unwrap_or(i64::MAX / 4);
        let at = end_ts
            .saturating_add(horizon)
            .saturating_add(2 * SUMMARISE_DELAY_S);
        DateTime::from_timestamp(at, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// This configuration with its clock at [`SimConfig::settled_at`]: the whole world, as it
    /// finally is.
    pub fn settled(self) -> SimConfig {
        SimConfig {
            now: Some(self.settled_at()),
            ..self
        }
    }
}

/// Calls to one path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathCounts {
    /// Answered with errcode 0 (or file bytes).
    pub ok: u64,
    /// Answered with an errcode, an HTTP error, a cut body or a reset connection.
    pub failed: u64,
}

/// What the simulator has served; also served as JSON at `GET /sim/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCounters {
    /// By path (`/cgi-bin/oa/journal/get_record_list` …; wedrive bytes under `/sim/wedrive`).
    pub calls: std::collections::BTreeMap<String, PathCounts>,
    /// 45009 answers because a quota was used up (injected 45009 faults are not counted here).
    pub quota_exceeded: u64,
    /// Of those, because the hour's quota was (the rest: a minute's).
    pub(crate) hourly_quota_exceeded: u64,
    /// Injected faults in all.
    pub faults_injected: u64,
    /// Injected faults by kind: `busy`, `quota`, `http_502`, `slow`, `truncated`,
    /// `short_read`, `reset`.
    pub faults: std::collections::BTreeMap<String, u64>,
    pub tokens_issued: u64,
}

impl SimCounters {
    /// All calls to `path`, successful or not.
    pub fn calls_to(&self, path: &str) -> u64 {
        self.calls.get(path).map(|c| c.ok + c.failed).unwrap_or(0)
    }
}

/// A running simulator. Dropping it stops the server (without waiting); [`SimHandle::shutdown`]
/// stops it and waits.
pub struct SimHandle {
    pub base_url: String,
    pub corp_id: String,
    pub secret: String,
    pub org: Arc<Org>,
    pub addr: SocketAddr,
    sim: Arc<server::Sim>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .field("corp_id", &self.corp_id)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// Starts serving on `addr` (port 0 picks a free one) in the current tokio runtime.
    pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
        let listener = server::Listener {
            tcp: tokio::net::TcpListener::bind(addr).await?,
        };
        let addr = listener.tcp.local_addr()?;
        let base_url = format!("http://{addr}");
        let org = Arc::new(Org::generate(&config));
        let corp_id = config.corp_id.clone();
        let secret = config.secret.clone();
        let sim = Arc::new(server::Sim::new(config, org.clone(), base_url.clone()));
        let app = server::router(sim.clone()).into_make_service_with_connect_info::<server::Conn>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(SimHandle {
            base_url,
            corp_id,
            secret,
            org,
            addr,
            sim,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// What has been served so far.
    pub fn counters(&self) -> SimCounters {
        self.sim.counters()
    }

    /// Moves the world's clock to `now` (`None`: the real clock from now on), as a later
    /// `sim --now` would serve the same world.
    pub fn set_now(&self, now: Option<DateTime<Utc>>) {
        self.sim.set_now(now);
    }

    /// Every token issued so far answers 42001 (expired) from now on, as when a token expires
    /// in the middle of a run.
    pub fn expire_tokens(&self) {
        self.sim.expire_tokens();
    }

    /// Every access token issued so far that has not been forgotten (for tests that check a
    /// client never lets one out).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.sim.issued_tokens()
    }

    /// Changes the share of API calls that get an injected fault (clamped to 0..=1).
    pub fn set_fault_rate(&self, rate: f64) {
        self.sim.set_fault_rate(rate);
    }

    /// Holds every request from now on (the calls on the wire stay open) until [`resume`].
    ///
    /// [`resume`]: SimHandle::resume
    pub fn pause(&self) {
        self.sim.gate.pause();
    }

    /// Holds every request from the `nth` request to `path` on (counting from now), until
    /// [`SimHandle::resume`]: a test stops a client exactly there (to signal or kill it).
    pub fn pause_at(&self, path: &str, nth: u64) {
        self.sim.gate.pause_at(path, nth);
    }

    /// Answers the held requests and holds no more.
    pub fn resume(&self) {
        self.sim.gate.resume();
    }

    /// Requests held now.
    pub fn held_requests(&self) -> u64 {
        self.sim.gate.held()
    }

    /// Stops accepting connections, lets calls in flight finish (at most 5 s), and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
