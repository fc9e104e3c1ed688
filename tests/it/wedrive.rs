//! `extract.wedrive_files = true` against the simulator over loopback: every wedrive file of the
//! range downloaded with the simulator's bytes, recorded, not fetched again, refused templates
//! as gaps, other errors failing with context; through the binary, `journal_attachments`
//! pointing at the files, and no download cookie, token or secret anywhere.
//!
//! What is expected is derived from the simulator's own organisation with a walker written
//! here, not the one under test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use wecom_journal::extract::{extract, ExtractError, ExtractOptions, ExtractSummary};
use wecom_journal::job::{
    DateRange, DirectorySource, ExtractSettings, Filters, Job, OutputSettings, PlanSettings,
    RangeSpec, Source,
};
use wecom_journal::sim::server::Sim;
use wecom_journal::sim::{Gentle, Org, SimConfig, SimHandle};
use wecom_journal::store::Store;
use wecom_journal::wecom::{ClientConfig, Control, ControlValue, Endpoint, Secret, WecomClient};

use crate::common::{date, files_under, scan_dataset, SimThread, FAST};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What a simulator of `config` serves for a fileid (a function of the seed and the fileid).
fn wedrive_content(config: &SimConfig, org: &Arc<Org>, fileid: &str) -> Vec<u8> {
    Sim::new(config.clone(), org.clone(), String::new()).wedrive_content(fileid)
}

impl SimThread {
    /// The bytes this simulator serves for `fileid`.
    fn content(&self, fileid: &str) -> Vec<u8> {
        wedrive_content(&self.config, &self.handle.org, fileid)
    }
}

/// The first two weeks of October 2026: weekly journals (the template with a WedriveFile
/// control) of the week of 5 October are in it.
fn weeks() -> DateRange {
    DateRange {
        start: date("2026-10-01"),
        end: date("2026-10-15"),
    }
}

fn sim_config(denied: Vec<String>) -> SimConfig {
    SimConfig {
        users: 20,
        start: date("2026-10-01"),
        days: 14,
        record_list_per_minute: FAST.record_list_per_minute,
        per_api_per_minute: FAST.per_api_per_minute,
        denied_template_ids: denied,
        // No withdrawals: these tests count downloads against every journal of the world.
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    }
}

fn job(sim: &SimHandle, dir: &Path, wedrive_files: bool) -> Job {
    Job {
        name: "wedrive-test".into(),
        path: None,
        source: Source {
            corp_id: sim.corp_id.clone(),
            secret: Secret::new(sim.secret.clone()),
            api_base: sim.base_url.clone(),
            timezone: chrono_tz::Asia::Shanghai,
            limits: FAST,
        },
        range: RangeSpec::Absolute(weeks()),
        filters: Filters::default(),
        extract: ExtractSettings {
            details: true,
            stats: false,
            directory: DirectorySource::None,
            wedrive_files,
            refresh_days: 7,
        },
        output: OutputSettings {
            dir: dir.to_path_buf(),
            storage: Default::default(),
            store_path: None,
            formats: vec![],
            reports: vec![],
            csv_bom: false,
            csv_escape_formulas: true,
            language: Default::default(),
            min_group_size: 3,
        },
        period_override: None,
        plan: PlanSettings::default(),
    }
}

async fn run(
    job: &Job,
    store: &Store,
    run_id: &str,
    now: &str,
) -> Result<ExtractSummary, ExtractError> {
    let mut config = ClientConfig::new(
        job.source.api_base.clone(),
        job.source.corp_id.clone(),
        job.source.secret.clone(),
    );
    config.limits = job.source.limits.clone();
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(100);
    let client = WecomClient::new(config).expect("a client");
    let opts = ExtractOptions {
        full_refresh: false,
        progress: false,
        now: DateTime::parse_from_rfc3339(now)
            .expect("a time")
            .with_timezone(&Utc),
        ..ExtractOptions::new(run_id)
    };
    extract(job, weeks(), &client, store, &opts).await
}

/// The fileids of WedriveFile controls, Table cells included (written here, independently of
/// the extraction's walker).
fn fileids_of(controls: &[Control], out: &mut Vec<String>) {
    for c in controls {
        if c.control == "WedriveFile" {
            if let ControlValue::WedriveFile { files } = &c.value {
                out.extend(files.iter().map(|f| f.fileid.clone()));
            }
        }
        if let ControlValue::Table { rows } = &c.value {
            for r in rows {
                fileids_of(&r.list, out);
            }
        }
    }
}

/// (journal uuid, fileid) → template id, for the journals of `range` in the simulator.
fn expected_files(org: &Org, range: DateRange) -> BTreeMap<(String, String), Option<String>> {
    let tz = chrono_tz::Asia::Shanghai;
    let ts = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .timestamp()
    };
    let (start, end) = (ts(range.start), ts(range.end));
    let mut out = BTreeMap::new();
    for j in org
        .journals
        .iter()
        .filter(|j| (start..end).contains(&j.report_time))
    {
        let mut ids = vec![];
        fileids_of(&j.apply_data.contents, &mut ids);
        for id in ids {
            out.insert((j.journal_uuid.clone(), id), j.template_id.clone());
        }
    }
    out
}

/// Every occurrence of any of `needles` in the files under `root` (and their names).
fn leaks(root: &Path, needles: &[String]) -> Vec<String> {
    let mut found = vec![];
    for path in files_under(root) {
        let bytes = fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for n in needles {
            if text.contains(n.as_str()) || path.to_string_lossy().contains(n.as_str()) {
                found.push(format!("{} holds {n}", path.display()));
            }
        }
    }
    found
}

/// The credentials a fresh simulator of `config` hands out: its first access token, then the
/// download cookie of each of these files. Both are functions of the seed (tokens in the order
/// issued), so they are what a run against the same fresh simulator was given.
fn credentials_of(config: SimConfig, files: &[(String, String)]) -> Vec<String> {
    let files = files.to_vec();
    // A plain thread of its own: callers may be inside a runtime.
    std::thread::spawn(move || credentials_here(config, &files))
        .join()
        .expect("the credentials thread")
}

fn credentials_here(config: SimConfig, files: &[(String, String)]) -> Vec<String> {
    let sim = SimThread::start(config);
    let client = WecomClient::new(ClientConfig::new(
        sim.base_url.clone(),
        sim.corp_id.clone(),
        Secret::new(sim.secret.clone()),
    ))
    .expect("a client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let token: serde_json::Value = reqwest::get(format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            sim.base_url, sim.corp_id, sim.secret
        ))
        .await
        .expect("gettoken answers")
        .json()
        .await
        .expect("gettoken JSON");
        let token = token["access_token"].as_str().expect("a token").to_string();
        assert!(token.len() >= 32);
        let mut out = vec![token];
        for (uuid, fileid) in files {
            let d = client
                .download_wedrive_file(uuid, fileid)
                .await
                .expect("the simulator gives a download");
            assert!(d.cookie_value.len() >= 16, "a cookie worth looking for");
            out.push(d.cookie_value);
        }
        out
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wedrive_file_is_downloaded_once_with_the_simulators_bytes() -> TestResult {
    let sim = SimThread::start(sim_config(vec![]));
    let dir = tempfile::tempdir()?;
    let job = job(&sim, dir.path(), true);
    let store = Store::open(dir.path().join("store.sqlite"))?;
    let want = expected_files(&sim.org, weeks());
    assert!(
        want.len() >= 10,
        "the weeks have wedrive files to download ({})",
        want.len()
    );

    let first = run(&job, &store, "r1", "2026-11-25T00:00:00Z").await?;
    assert!(first.gaps.is_empty(), "{:?}", first.gaps);
    assert_eq!(first.wedrive_downloaded, want.len() as u64);
    assert_eq!(first.wedrive_skipped, 0);
    assert_eq!(sim.calls(Endpoint::WedriveDownload), want.len() as u64);
    assert_eq!(sim.calls(Endpoint::WedriveBytes), want.len() as u64);

    let records = store.wedrive_downloads()?;
    let got: BTreeSet<(String, String)> = records
        .iter()
        .map(|r| (r.journal_uuid.clone(), r.fileid.clone()))
        .collect();
    assert_eq!(got, want.keys().cloned().collect::<BTreeSet<_>>());
    let mut total = 0;
    for r in &records {
        // The simulator's uuids and fileids are plain ASCII ids: kept as they are.
        assert_eq!(
            r.local_path,
            format!("files/{}/{}", r.journal_uuid, r.fileid)
        );
        let bytes = fs::read(dir.path().join(&r.local_path))?;
        assert_eq!(
            bytes,
            sim.content(&r.fileid),
            "bytes of {} / {}",
            r.journal_uuid,
            r.fileid
        );
        assert_eq!(r.bytes, bytes.len() as u64);
        total += r.bytes;
    }
    assert_eq!(first.wedrive_bytes, total);
    // Nothing but the files (no temporary left behind) under files/.
    assert_eq!(files_under(&dir.path().join("files")).len(), want.len());

    // A second run fetches nothing again.
    let second = run(&job, &store, "r2", "2026-11-26T00:00:00Z").await?;
    assert_eq!(second.wedrive_downloaded, 0);
    assert_eq!(second.wedrive_skipped, want.len() as u64);
    assert_eq!(sim.calls(Endpoint::WedriveDownload), want.len() as u64);

    // A recorded file gone from disk is fetched again, and only it.
    let gone = &records[records.len() / 2];
    fs::remove_file(dir.path().join(&gone.local_path))?;
    let third = run(&job, &store, "r3", "2026-11-27T00:00:00Z").await?;
    assert_eq!(third.wedrive_downloaded, 1);
    assert_eq!(sim.calls(Endpoint::WedriveDownload), want.len() as u64 + 1);
    assert_eq!(
        fs::read(dir.path().join(&gone.local_path))?,
        sim.content(&gone.fileid)
    );

    // No download cookie, nor the secret, in the store.
    let pairs: Vec<(String, String)> = want.keys().cloned().collect();
    let mut needles = credentials_of(sim_config(vec![]), &pairs[..5]);
    needles.push(sim.secret.clone());
    drop(store);
    assert_eq!(leaks(dir.path(), &needles), Vec::<String>::new());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_templates_are_gaps_and_other_errors_fail_with_context() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("store.sqlite"))?;
    // Details stored first, without files.
    let plain = SimThread::start(sim_config(vec![]));
    let want = expected_files(&plain.org, weeks());
    run(
        &job(&plain, dir.path(), false),
        &store,
        "r1",
        "2026-11-25T00:00:00Z",
    )
    .await?;
    assert!(store.wedrive_downloads()?.is_empty());
    let details = store.detail_raws()?;

    // Then the corp refuses the template with the files (the weekly one; the refusing
    // simulator still lists its journals, whose stored details are not fetched again): every
    // file is one gap of 301065, and the stage goes on.
    let templates: BTreeSet<String> = want.values().flatten().cloned().collect();
    assert_eq!(
        templates.len(),
        1,
        "only the weekly template has wedrive files"
    );
    let denied: Vec<String> = templates.into_iter().collect();
    let refusing = SimThread::start(sim_config(denied));
    let summary = run(
        &job(&refusing, dir.path(), true),
        &store,
        "r2",
        "2026-11-26T00:00:00Z",
    )
    .await?;
    assert_eq!(summary.wedrive_downloaded, 0);
    assert_eq!(summary.gaps.len(), 1, "{:?}", summary.gaps);
    let gap = &summary.gaps[0];
    assert_eq!(gap.errcode, 301065);
    assert_eq!(gap.endpoint, Endpoint::WedriveDownload.path());
    assert!(
        gap.what
            .starts_with(&format!("{} wedrive file(s): ", want.len())),
        "{}",
        gap.what
    );
    assert_eq!(refusing.calls(Endpoint::WedriveDownload), want.len() as u64);
    assert_eq!(refusing.calls(Endpoint::WedriveBytes), 0);
    assert!(store.wedrive_downloads()?.is_empty());
    assert!(!dir.path().join("files").exists());

    // A corp that does not know these journals (another seed): 301084 fails the stage, naming
    // the file and journal; nothing stored is lost.
    let stranger = SimThread::start(SimConfig {
        seed: 99,
        ..sim_config(vec![])
    });
    let err = run(
        &job(&stranger, dir.path(), true),
        &store,
        "r3",
        "2026-11-27T00:00:00Z",
    )
    .await
    .expect_err("an unknown journal fails the stage");
    match &err {
        ExtractError::Api { context, source } => {
            assert_eq!(source.errcode(), Some(301084), "{err}");
            assert!(
                context.starts_with("wedrive file ") && context.contains(" of journal "),
                "{context}"
            );
        }
        other => panic!("expected an API error, got {other}"),
    }
    assert_eq!(store.detail_raws()?, details);
    assert!(store.wedrive_downloads()?.is_empty());

    // And the corp itself, once it allows the template again, gives every file.
    let summary = run(
        &job(&plain, dir.path(), true),
        &store,
        "r4",
        "2026-11-28T00:00:00Z",
    )
    .await?;
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    assert_eq!(summary.wedrive_downloaded, want.len() as u64);
    Ok(())
}

const JOB: &str = r#"name = "wedrive-e2e"
[source]
corp_id = "${WECOM_CORP_ID}"
secret = "${WECOM_JOURNAL_SECRET}"
timezone = "Asia/Shanghai"
[range]
start = "2026-10-01"
end = "2026-10-15"
[extract]
details = true
stats = false
directory = "none"
wedrive_files = true
[output]
dir = "unused"
formats = ["parquet"]
reports = []
"#;

fn manifests(out: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    files_under(&out.join("runs"))
        .into_iter()
        .map(|p| {
            let v = serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect()
}

#[test]
fn run_sandbox_fills_local_path_and_writes_no_cookie_token_or_secret() -> TestResult {
    let dir = tempfile::tempdir()?;
    let job_path = dir.path().join("wedrive.toml");
    fs::write(&job_path, JOB)?;
    let out = dir.path().join("out");
    let args = [
        "run",
        job_path.to_str().unwrap(),
        "--sandbox",
        "--output",
        out.to_str().unwrap(),
    ];
    let run_logged = || {
        let mut cmd = crate::common::bin();
        // No withdrawals: the first run must end 0 for the log it compares.
        cmd.args(args)
            .env("WECOM_JOURNAL_LOG", "debug")
            .env(wecom_journal::sim::GENTLE_ENV, "withdrawals");
        cmd.output().expect("the binary runs")
    };
    let first = run_logged();
    let first_log = format!(
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(first.status.code(), Some(0), "{first_log}");

    // The simulator `--sandbox` serves for this range (without withdrawals, as the run above).
    let config = SimConfig {
        start: date("2026-10-01"),
        days: 14,
        timezone: chrono_tz::Asia::Shanghai,
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    };
    let org = Arc::new(Org::generate(&config));
    let range = DateRange {
        start: date("2026-10-01"),
        end: date("2026-10-15"),
    };
    let want = expected_files(&org, range);
    assert!(!want.is_empty());

    let attachments = scan_dataset(&out, "journal_attachments");
    let column = |name: &str| -> Vec<Option<String>> {
        attachments
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    };
    let (uuids, kinds, ids, paths) = (
        column("journal_uuid"),
        column("kind"),
        column("file_id"),
        column("local_path"),
    );
    let mut seen = BTreeSet::new();
    for i in 0..attachments.height() {
        let kind = kinds[i].as_deref().unwrap();
        if kind != "wedrive_file" {
            assert_eq!(paths[i], None, "a {kind} is not downloaded");
            continue;
        }
        let (uuid, fileid) = (uuids[i].clone().unwrap(), ids[i].clone().unwrap());
        let path = paths[i]
            .as_deref()
            .unwrap_or_else(|| panic!("no local_path for {uuid} / {fileid}"));
        assert_eq!(
            fs::read(out.join(path))?,
            wedrive_content(&config, &org, &fileid),
            "{path}"
        );
        seen.insert((uuid, fileid));
    }
    assert_eq!(seen, want.keys().cloned().collect::<BTreeSet<_>>());

    // A second run downloads nothing and still points at the files.
    let second = run_logged();
    let second_log = format!(
        "{}{}",
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(second.status.code(), Some(0), "{second_log}");
    let runs = manifests(&out);
    assert_eq!(runs.len(), 2);
    let downloads = |m: &serde_json::Value| m["calls"]["download_wedrive_file"].as_u64();
    let counts: BTreeSet<Option<u64>> = runs.iter().map(|(_, m)| downloads(m)).collect();
    assert!(
        counts.contains(&Some(want.len() as u64)),
        "the first run's manifest counts the downloads: {counts:?}"
    );
    assert!(
        counts.contains(&None) || counts.contains(&Some(0)),
        "the second run made none: {counts:?}"
    );
    let attachments = scan_dataset(&out, "journal_attachments");
    let filled = attachments
        .column("local_path")?
        .str()?
        .iter()
        .flatten()
        .count();
    assert_eq!(filled, want.len());

    // No cookie, token or secret in the logs, the manifests, the store or any output.
    let pairs: Vec<(String, String)> = want.keys().cloned().collect();
    let mut needles = credentials_of(config.clone(), &pairs);
    needles.push(config.secret.clone());
    for log in [&first_log, &second_log] {
        for n in &needles {
            assert!(!log.contains(n.as_str()), "the log holds {n}");
        }
        assert!(!log.contains("access_token="), "a token in the log");
    }
    assert_eq!(leaks(&out, &needles), Vec::<String>::new());
    let access_tokens: Vec<String> = vec!["access_token=".into()];
    assert_eq!(
        leaks(&out.join("runs"), &access_tokens),
        Vec::<String>::new()
    );
    Ok(())
}

/// A client's settings for the streaming test: a timeout far shorter than a whole download
/// (it is the idle timeout of a download: each read waits at most this), quick retries.
fn short_timeout(config: &mut ClientConfig) {
    config.timeout = Duration::from_millis(300);
    config.backoff_base = Duration::from_millis(5);
    config.backoff_max = Duration::from_millis(20);
}

#[test]
fn files_larger_than_the_buffer_and_slower_than_the_timeout_stream_and_a_failing_one_is_a_gap() {
    use wecom_journal::pipeline::{self, RunOptions};
    use wecom_journal::wecom::client::DOWNLOAD_BUFFER;

    let base = sim_config(vec![]);
    let org = Org::generate(&base);
    let want = expected_files(&org, weeks());
    assert!(want.len() > 2, "files to download: {}", want.len());
    let failing = want.keys().next().cloned().unwrap();
    // Four buffers and a bit each, in chunks 40 ms apart: 17 chunks, about 0.7 s a file, more
    // than twice the client's timeout of 0.3 s; each read well within it.
    let size = 4 * DOWNLOAD_BUFFER + 123;
    let sim = SimThread::start(SimConfig {
        wedrive_file_bytes: Some(size),
        wedrive_chunk_delay: Some(Duration::from_millis(40)),
        failing_wedrive_files: vec![failing.1.clone()],
        ..base
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let job_path = dir.path().join("stream.toml");
    crate::common::sim_job(
        &job_path,
        "stream",
        &sim,
        ("2026-10-01", "2026-10-15"),
        "[extract]\nstats = false\ndirectory = \"none\"\nwedrive_files = true\n",
        &out,
        "formats = [\"parquet\"]\n",
    );
    let job = wecom_journal::job::load(&job_path, &Default::default()).unwrap();
    let opts = RunOptions {
        range: weeks(),
        output_dir: out.clone(),
        tune_client: Some(short_timeout),
        ..RunOptions::of(&job)
    };
    let summary = pipeline::run_job(job, &opts).expect("the run starts");
    assert!(summary.error.is_none(), "{:?}", summary.error);

    // The failing file is a gap (the run finishes with gaps: exit 3), after its retries.
    assert_eq!(
        summary.status(),
        wecom_journal::sink::RunStatus::FinishedWithGaps
    );
    assert_eq!(
        summary.manifest.gaps.len(),
        1,
        "{:?}",
        summary.manifest.gaps
    );
    let gap = &summary.manifest.gaps[0];
    assert!(
        gap.what.contains(&failing.1) && gap.what.starts_with("1 wedrive file(s) not downloaded"),
        "{}",
        gap.what
    );
    assert_eq!(gap.endpoint.as_deref(), Some(Endpoint::WedriveBytes.path()));
    assert_eq!(
        sim.calls(Endpoint::WedriveBytes),
        (want.len() - 1) as u64 + 7,
        "every other file once, the failing one 1 + max_retries times"
    );

    // Every other file whole, its size and BLAKE3 in the store and in journal_attachments.
    let store = Store::open(out.join("store.sqlite")).unwrap();
    let records = store.wedrive_downloads().unwrap();
    assert_eq!(records.len(), want.len() - 1);
    for r in &records {
        let content = sim.content(&r.fileid);
        assert_eq!(content.len(), size);
        assert_eq!(fs::read(out.join(&r.local_path)).unwrap(), content);
        assert_eq!(r.bytes, size as u64);
        let hex = blake3::hash(&content).to_hex().to_string();
        assert_eq!(r.checksum.as_deref(), Some(hex.as_str()));
    }
    assert!(store
        .wedrive_download(&failing.0, &failing.1)
        .unwrap()
        .is_none());
    let temps: Vec<PathBuf> = files_under(&out.join("files"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");

    let attachments = scan_dataset(&out, "journal_attachments");
    let ids = attachments
        .column("file_id")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let bytes = attachments.column("bytes").unwrap().u64().unwrap().clone();
    let sums = attachments
        .column("checksum")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let mut checked = 0;
    for i in 0..attachments.height() {
        let id = ids.get(i).unwrap();
        match records.iter().find(|r| r.fileid == id) {
            Some(r) => {
                assert_eq!(bytes.get(i), Some(r.bytes), "{id}");
                assert_eq!(sums.get(i), r.checksum.as_deref(), "{id}");
                checked += 1;
            }
            None => assert_eq!((bytes.get(i), sums.get(i)), (None, None), "{id}"),
        }
    }
    assert_eq!(checked, records.len());
}
