//! The WeCom client against the simulator over loopback: paging, decoding every control type,
//! faults, token expiry, errors that are not retried, secrets kept out of logs and errors, and
//! the rate limiter holding a fixed-window quota.

use crate::common::SimThread;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use futures::stream::{self, StreamExt, TryStreamExt};
use wecom_journal::sim::{SimConfig, SimHandle};
use wecom_journal::wecom::client::CallStats;
use wecom_journal::wecom::{
    errcode_meaning, ClientConfig, Control, ControlValue, JournalDetail, RecordListRequest, Secret,
    StatListRequest, WecomClient, WecomError,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The quota's "minute" in these tests, for the simulator and the client alike: the documented
/// quotas per a shorter period, so that following them does not make the tests slow.
const TEST_PERIOD: Duration = Duration::from_secs(1);

/// A small organisation: enough journals for every control shape, quick to fetch; its clock
/// after everything has happened.
fn small_sim(users: usize) -> SimConfig {
    SimConfig {
        users,
        days: 31,
        quota_period: TEST_PERIOD,
        ..SimConfig::default()
    }
    .settled()
}

/// The details of the journals that exist at the simulator's clock, as it serves them (a
/// withdrawn journal is listed but its detail answers 301084; most details leave
/// `template_id` out).
fn existing(sim: &SimHandle, config: &SimConfig) -> Vec<JournalDetail> {
    let now = config.now.expect("a fixed clock").timestamp();
    sim.org
        .at(now)
        .journals()
        .map(|j| j.served_detail())
        .collect()
}

/// A client for `sim` with test-sized backoffs (the policy is the same, only the waits shrink).
fn client_config(sim: &SimHandle) -> ClientConfig {
    let mut config = ClientConfig::new(
        sim.base_url.clone(),
        sim.corp_id.clone(),
        Secret::new(sim.secret.clone()),
    );
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(100);
    config.timeout = Duration::from_secs(5);
    config.quota_period = TEST_PERIOD;
    config
}

/// The journal window of the simulated month, as the API takes it: both bounds inclusive.
fn month_window(config: &SimConfig) -> (i64, i64) {
    let start = config.start.and_hms_opt(0, 0, 0).expect("midnight");
    let start = config
        .timezone
        .from_local_datetime(&start)
        .single()
        .expect("an unambiguous midnight");
    let start = start.timestamp();
    (start, start + i64::from(config.days) * 86_400 - 1)
}

/// Pages the record list of a window to its end.
async fn page_all(
    client: &WecomClient,
    window: (i64, i64),
    limit: u64,
) -> Result<Vec<String>, WecomError> {
    let mut ids = Vec::new();
    let mut cursor = 0;
    loop {
        let req = RecordListRequest {
            starttime: window.0,
            endtime: window.1,
            cursor,
            limit,
            filters: vec![],
        };
        let page = client.get_record_list(&req).await?.value;
        ids.extend(page.journaluuid_list);
        if page.endflag == 1 {
            return Ok(ids);
        }
        assert!(
            page.next_cursor > cursor,
            "the cursor must advance ({cursor} → {})",
            page.next_cursor
        );
        cursor = page.next_cursor;
    }
}

/// Every detail of `ids`, fetched with some concurrency, in the order of `ids`.
async fn details(client: &WecomClient, ids: &[String]) -> Result<Vec<JournalDetail>, WecomError> {
    stream::iter(ids.iter().cloned())
        .map(|id| {
            let client = client.clone();
            async move { client.get_record_detail(&id).await.map(|f| f.value.info) }
        })
        .buffered(8)
        .try_collect()
        .await
}

fn expected_ids(sim: &SimHandle, window: (i64, i64)) -> Vec<String> {
    sim.org
        .journals
        .iter()
        .filter(|j| (window.0..=window.1).contains(&j.report_time))
        .map(|j| j.journal_uuid.clone())
        .collect()
}

fn calls(stats: &CallStats, endpoint: &str) -> u64 {
    stats.calls.get(endpoint).copied().unwrap_or(0)
}

fn retries(stats: &CallStats) -> u64 {
    stats.retries.values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_a_month_of_records_to_the_end() -> TestResult {
    let config = small_sim(20);
    let sim = SimHandle::start(config.clone(), "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;
    let window = month_window(&config);
    // An odd page size, so the last page is partial.
    let ids = page_all(&client, window, 37).await?;
    let expected = expected_ids(&sim, window);
    assert!(
        expected.len() > 100,
        "the month should span several pages ({} journals)",
        expected.len()
    );
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no id is listed twice");
    assert_eq!(unique, expected.iter().collect::<BTreeSet<_>>());
    let stats = client.stats();
    assert_eq!(
        calls(&stats, "get_record_list"),
        expected.len().div_ceil(37) as u64
    );
    assert_eq!(
        calls(&stats, "gettoken"),
        1,
        "one token serves the whole run"
    );
    assert_eq!(retries(&stats), 0);
    Ok(())
}

/// Every control name in a list of controls, Table rows included.
fn control_names(controls: &[Control], into: &mut BTreeSet<String>) {
    for c in controls {
        into.insert(c.control.clone());
        if let ControlValue::Table { rows } = &c.value {
            for row in rows {
                control_names(&row.list, into);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_of_every_control_type_round_trip() -> TestResult {
    let config = small_sim(20);
    let sim = SimHandle::start(config.clone(), "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;
    let want = existing(&sim, &config);
    let ids: Vec<String> = want.iter().map(|j| j.journal_uuid.clone()).collect();
    let fetched = details(&client, &ids).await?;
    let mut seen = BTreeSet::new();
    for (got, want) in fetched.iter().zip(want.iter()) {
        assert_eq!(got, want, "journal {}", want.journal_uuid);
        control_names(&got.apply_data.contents, &mut seen);
    }
    assert_eq!(fetched.len(), want.len());
    for known in ControlValue::KNOWN_CONTROLS {
        assert!(
            seen.contains(*known),
            "no {known} control was fetched (saw {seen:?})"
        );
    }
    let unknown: Vec<&String> = seen
        .iter()
        .filter(|c| !ControlValue::KNOWN_CONTROLS.contains(&c.as_str()))
        .collect();
    assert!(
        !unknown.is_empty(),
        "an undocumented control type is fetched and kept"
    );
    // The raw body is kept for the store, and it decodes to the same value.
    let one = client.get_record_detail(&ids[0]).await?;
    let again: wecom_journal::wecom::RecordDetailResponse = serde_json::from_str(&one.raw)?;
    assert_eq!(again, one.value);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_directory_match_the_organisation() -> TestResult {
    let config = small_sim(20);
    let sim = SimHandle::start(config.clone(), "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;
    let window = month_window(&config);

    let templates: BTreeSet<&str> = sim
        .org
        .stats
        .iter()
        .map(|s| s.template_id.as_str())
        .collect();
    assert!(!templates.is_empty());
    for template in templates {
        let req = StatListRequest {
            template_id: template.to_string(),
            starttime: window.0,
            endtime: window.1,
        };
        let got = client.get_stat_list(&req).await?.value.stat_list;
        let want: Vec<_> = sim
            .org
            .stats
            .iter()
            .filter(|s| s.template_id == template)
            .filter(|s| (window.0..=window.1).contains(&(s.cycle_begin_time as i64)))
            .cloned()
            .collect();
        assert_eq!(got, want, "stat cycles of {template}");
    }

    let departments = client.department_list(None).await?.value.department;
    assert_eq!(departments, sim.org.departments);
    let mut users = BTreeMap::new();
    for d in &departments {
        for u in client.user_list(d.id).await?.value.userlist {
            assert!(
                u.department.contains(&d.id),
                "{} listed under {} it is not in",
                u.userid,
                d.id
            );
            users.insert(u.userid.clone(), u);
        }
    }
    let want: BTreeMap<_, _> = sim
        .org
        .users
        .iter()
        .map(|u| (u.userid.clone(), u.clone()))
        .collect();
    assert_eq!(users, want);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wedrive_files_download_with_their_cookie() -> TestResult {
    let sim = SimHandle::start(small_sim(20), "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;
    let (uuid, fileid) = sim
        .org
        .journals
        .iter()
        .find_map(|j| {
            j.apply_data.contents.iter().find_map(|c| match &c.value {
                ControlValue::WedriveFile { files } => files
                    .first()
                    .map(|f| (j.journal_uuid.clone(), f.fileid.clone())),
                _ => None,
            })
        })
        .ok_or("the simulator has a WedriveFile control")?;
    let download = client.download_wedrive_file(&uuid, &fileid).await?;
    assert!(!format!("{download:?}").contains(&download.cookie_value));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("file");
    let file = client.download_wedrive_bytes(&download, &path).await?;
    let bytes = std::fs::read(&path)?;
    assert_eq!(file.bytes, bytes.len() as u64);
    assert_eq!(file.checksum, blake3::hash(&bytes).to_hex().to_string());
    // The simulator's files begin by naming themselves.
    let head = format!("simulated wedrive file {fileid}\n");
    assert!(
        bytes.starts_with(head.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    // Without the cookie the download is refused: the client really sent it.
    let bare = reqwest::get(&download.download_url).await?;
    assert!(!bare.status().is_success(), "{}", bare.status());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_fault_rate_of_twenty_percent() -> TestResult {
    // Scaled quota period: each injected 45009 silences the endpoint for one period.
    let period = Duration::from_millis(200);
    let config = SimConfig {
        quota_period: period,
        ..small_sim(8)
    };
    let window = month_window(&config);

    let clean = SimHandle::start(config.clone(), "127.0.0.1:0".parse()?).await?;
    let clean_client = WecomClient::new(ClientConfig {
        quota_period: period,
        ..client_config(&clean)
    })?;
    let clean_ids = page_all(&clean_client, window, 10).await?;
    // The listed journals that exist (a withdrawn one answers 301084).
    let now = config.now.expect("a fixed clock").timestamp();
    let live = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .filter(|id| {
                clean
                    .org
                    .at(now)
                    .journal(id)
                    .is_some_and(|j| !j.is_withdrawn())
            })
            .cloned()
            .collect()
    };
    let clean_details = details(&clean_client, &live(&clean_ids)).await?;
    assert_eq!(retries(&clean_client.stats()), 0);

    let faulty = SimHandle::start(
        SimConfig {
            fault_rate: 0.2,
            ..config
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let client = WecomClient::new(ClientConfig {
        quota_period: period,
        max_retries: 12,
        ..client_config(&faulty)
    })?;
    let ids = page_all(&client, window, 10).await?;
    let got = details(&client, &live(&ids)).await?;
    assert_eq!(ids, clean_ids);
    assert_eq!(got, clean_details);

    let stats = client.stats();
    assert!(
        retries(&stats) > 10,
        "faults were met and retried: {stats:?}"
    );
    assert!(
        stats.quota_errors > 0,
        "injected 45009s were seen: {stats:?}"
    );
    assert!(calls(&stats, "get_record_detail") > clean_ids.len() as u64);
    let served = faulty.counters();
    for kind in ["busy", "quota", "http_502", "truncated"] {
        assert!(
            served.faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} fault was injected: {served:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_a_token_expired_mid_run() -> TestResult {
    let config = small_sim(10);
    let sim = SimHandle::start(config.clone(), "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;
    let want = existing(&sim, &config);
    let ids: Vec<String> = want.iter().map(|j| j.journal_uuid.clone()).collect();
    let (first, rest) = ids.split_at(ids.len() / 2);
    let mut got = details(&client, first).await?;
    assert_eq!(calls(&client.stats(), "gettoken"), 1);

    sim.expire_tokens();
    // Concurrent callers all meet the expired token; one refresh serves them all.
    got.extend(details(&client, rest).await?);
    assert_eq!(got, want);
    let stats = client.stats();
    assert_eq!(calls(&stats, "gettoken"), 2, "{stats:?}");
    assert!(
        retries(&stats) >= 1,
        "the call that met the expired token was retried: {stats:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_permission_is_a_clear_error_that_is_not_retried() -> TestResult {
    let org_templates = wecom_journal::sim::Org::generate(&small_sim(10)).stats;
    let denied = org_templates
        .first()
        .ok_or("a template with stats")?
        .template_id
        .clone();
    let config = SimConfig {
        denied_template_ids: vec![denied.clone()],
        ..small_sim(10)
    };
    let window = month_window(&config);
    let sim = SimHandle::start(config, "127.0.0.1:0".parse()?).await?;
    let client = WecomClient::new(client_config(&sim))?;

    let req = StatListRequest {
        template_id: denied.clone(),
        starttime: window.0,
        endtime: window.1,
    };
    let err = client
        .get_stat_list(&req)
        .await
        .err()
        .ok_or("a denied template is refused")?;
    assert_eq!(err.errcode(), Some(301065));
    assert!(err.is_permission_gap());
    let text = err.to_string();
    assert!(text.contains("/cgi-bin/oa/journal/get_stat_list"), "{text}");
    assert!(
        text.contains("301065") && text.contains(errcode_meaning(301065)),
        "{text}"
    );

    let stats = client.stats();
    assert_eq!(
        calls(&stats, "get_stat_list"),
        1,
        "exactly one call: {stats:?}"
    );
    assert_eq!(retries(&stats), 0);
    assert_eq!(
        sim_calls(&sim, "/cgi-bin/oa/journal/get_stat_list"),
        1,
        "the server saw one call"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Secrets

thread_local! {
    /// The log capture of the test running on this thread, if it asked for one.
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// A `tracing` writer into the current thread's capture buffer (nothing when there is none).
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(sink) = c.borrow().as_ref() {
                sink.lock().expect("log buffer").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures, until the guard drops, everything logged on this thread at TRACE level.
///
/// Why a global subscriber and not `tracing::subscriber::set_default`: tracing caches each
/// call site's interest process-wide, and a call site first reached by another test thread while
/// no subscriber exists can be cached as "never", silently emptying a thread-local capture. A
/// global subscriber whose filter asks "is this thread capturing?" on every event cannot be
/// cached away. (If another test installed a global subscriber first, the capture stays empty
/// and the test's "was anything logged" check fails loudly.)
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, impl Drop) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let capturing = tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
            CAPTURE.with(|c| c.borrow().is_some())
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| ThreadCapture)
            .with_filter(capturing);
        let _ = tracing_subscriber::registry().with(layer).try_init();
    });
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            CAPTURE.with(|c| c.borrow_mut().take());
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    CAPTURE.with(|c| *c.borrow_mut() = Some(buffer.clone()));
    (buffer, Release)
}

/// A loopback TCP proxy in front of the simulator that records every byte both ways, so the
/// test learns the tokens the simulator really issued (from the wire, not from the client).
struct WireTap {
    addr: SocketAddr,
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl WireTap {
    async fn start(target: SocketAddr) -> std::io::Result<WireTap> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let log = bytes.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    tokio::join!(copy_logged(ri, wo, log.clone()), copy_logged(ro, wi, log));
                });
            }
        });
        Ok(WireTap { addr, bytes })
    }

    /// Every access token seen on the wire: in `gettoken` answers and in request URLs.
    fn tokens(&self) -> BTreeSet<String> {
        let text = String::from_utf8_lossy(&self.bytes.lock().expect("wire log")).into_owned();
        let mut tokens = BTreeSet::new();
        for key in ["access_token=", "\"access_token\":\""] {
            for (at, _) in text.match_indices(key) {
                let value: String = text[at + key.len()..]
                    .chars()
                    .take_while(|c| !matches!(c, '&' | ' ' | '"' | '\r' | '\n'))
                    .collect();
                if !value.is_empty() {
                    tokens.insert(value);
                }
            }
        }
        tokens
    }
}

async fn copy_logged(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    log: Arc<Mutex<Vec<u8>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                log.lock().expect("wire log").extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// Logs (at TRACE, everything the client and its HTTP stack emit), errors and Debug output of
/// a run with a wrong secret, a fault-ridden run and an expired token never hold a credential.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_reach_logs_or_errors() -> TestResult {
    // This test's current-thread runtime runs every client task on this thread, while the
    // simulator runs on its own runtime, not captured.
    let (logs, _capture) = capture_logs();

    let period = Duration::from_millis(100);
    let config = SimConfig {
        quota_period: period,
        ..small_sim(6)
    };
    let window = month_window(&config);
    let sim = SimThread::start(config);
    let sim_addr: SocketAddr = sim
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()?;
    let tap = WireTap::start(sim_addr).await?;
    let base = format!("http://{}", tap.addr);
    let mut texts: Vec<String> = Vec::new();

    // 1. A wrong secret.
    let wrong = Secret::new("wrong-secret-0123456789");
    let mut config = client_config(&sim);
    config.api_base = base.clone();
    let bad_client = WecomClient::new(ClientConfig {
        secret: wrong.clone(),
        ..config.clone()
    })?;
    let err = bad_client
        .get_record_detail("x")
        .await
        .err()
        .ok_or("a wrong secret is refused")?;
    assert_eq!(err.endpoint(), Some("/cgi-bin/gettoken"));
    texts.push(err.to_string());
    texts.push(format!("{err:?}"));
    texts.push(format!("{bad_client:?}"));

    // 2. A good run, a token expired mid-run, then faults on every call until retries run out.
    let client = WecomClient::new(ClientConfig {
        quota_period: period,
        max_retries: 2,
        ..config.clone()
    })?;
    texts.push(format!("{client:?} {config:?}"));
    let ids = page_all(&client, window, 50).await?;
    details(&client, &ids[..5]).await?;
    sim.expire_tokens();
    details(&client, &ids[5..10]).await?;
    // Every call gets a fault; the slow ones still succeed, the others run out of retries.
    sim.set_fault_rate(1.0);
    let mut failures = 0;
    for id in &ids[10..30] {
        if let Err(err) = client.get_record_detail(id).await {
            failures += 1;
            texts.push(err.to_string());
            texts.push(format!("{err:?}"));
        }
    }
    assert!(failures >= 3, "faults made calls fail ({failures})");
    // 3. A server that is gone: connection errors carry the URL in reqwest.
    let gone = WecomClient::new(ClientConfig {
        api_base: "http://127.0.0.1:9".into(),
        max_retries: 1,
        ..config.clone()
    })?;
    let err = gone
        .get_record_list(&RecordListRequest {
            starttime: 0,
            endtime: 1,
            cursor: 0,
            limit: 1,
            filters: vec![],
        })
        .await;
    texts.push(format!(
        "{:?}",
        err.err().ok_or("nothing listens on port 9")?
    ));
    texts.push(format!("{:?}", client.stats()));

    let logs = String::from_utf8(logs.lock().expect("logs").clone())?;
    assert!(
        logs.contains("retrying"),
        "the run was logged at all:\n{logs}"
    );
    let tokens = tap.tokens();
    assert!(
        tokens.len() >= 2,
        "the wire shows the tokens issued before and after expiry: {tokens:?}"
    );
    let mut secrets: Vec<String> = tokens.into_iter().collect();
    secrets.push(sim.secret.clone());
    secrets.push(wrong.expose().to_string());
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a credential is in the logs:\n{logs}"
        );
        for t in &texts {
            assert!(!t.contains(secret.as_str()), "a credential is in {t}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_holds_a_fixed_window_quota() -> TestResult {
    const QUOTA: u32 = 10;
    const CALLS: u32 = 25;
    let period = Duration::from_secs(2);
    let config = SimConfig {
        record_list_per_minute: QUOTA,
        quota_period: period,
        ..small_sim(6)
    };
    let window = month_window(&config);
    let sim = SimHandle::start(config, "127.0.0.1:0".parse()?).await?;
    let mut client_config = client_config(&sim);
    client_config.quota_period = period;
    client_config.limits.record_list_per_minute = QUOTA;
    let client = WecomClient::new(client_config)?;

    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let req = RecordListRequest {
                    starttime: window.0,
                    endtime: window.1,
                    cursor: 0,
                    limit: 5,
                    filters: vec![],
                };
                client
                    .get_record_list(&req)
                    .await
                    .map(|f| f.value.journaluuid_list.len())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await??, 5);
    }
    let elapsed = started.elapsed();

    assert_eq!(client.stats().quota_errors, 0, "{:?}", client.stats());
    assert_eq!(
        calls(&client.stats(), "get_record_list"),
        u64::from(CALLS),
        "no call was repeated"
    );
    assert_eq!(sim_quota_errors(&sim), 0, "the server answered no 45009");
    // A lower bound only: CALLS calls at QUOTA per period need at least this many periods.
    let periods = CALLS.div_ceil(QUOTA) - 1;
    assert!(
        elapsed >= period * periods,
        "{CALLS} calls took only {elapsed:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Simulator counters

fn sim_calls(sim: &SimHandle, path: &str) -> u64 {
    sim.counters().calls_to(path)
}

fn sim_quota_errors(sim: &SimHandle) -> u64 {
    sim.counters().quota_exceeded
}
