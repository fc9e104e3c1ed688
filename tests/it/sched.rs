//! The binary as a scheduler runs it (cron, a Kubernetes CronJob, Airflow retries): two runs of
//! one job at once, SIGTERM in the middle of a run, SIGKILL at every stage and while writing
//! every kind of output, and what each leaves behind for the next run. Against a simulator on
//! loopback that a test can hold mid-stage (`SimHandle::pause_at`), with no timing assumed:
//! every wait is for an event (a held request, a stopped process, a line on stderr).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use polars::prelude::DataFrame;
use wecom_journal::sim::server::{
    GETTOKEN, RECORD_DETAIL, RECORD_LIST, STAT_LIST, USER_LIST, WEDRIVE_BYTES,
};
use wecom_journal::sim::{Gentle, SimConfig};
use wecom_journal::sink::{Manifest, RunStatus};
use wecom_journal::store::Store;

use crate::common::{
    assert_same_tables, bin, date, files_under, is_stopped, send_signal, sim_job, sorted_tables,
    store_content, wait_until, SimThread, Stderr, StoreContent,
};

const RANGE: (&str, &str) = ("2026-10-01", "2026-10-22");

/// Every stage the job runs: details, wedrive files, stats, the directory; every format.
const SECTIONS: &str = "[source.limits]\nmax_in_flight = 4\n\n[extract]\ndetails = true\n\
                        stats = true\ndirectory = \"api\"\nwedrive_files = true\nrefresh_days = 7\n";
const OUTPUT: &str = "formats = [\"parquet\", \"csv\", \"arrow\", \"xlsx\"]\n";

fn sim() -> SimThread {
    SimThread::start(SimConfig {
        users: 12,
        start: date(RANGE.0),
        days: 21,
        // No withdrawals: the queued run must find nothing to do (no detail call), and every
        // later run retries a withdrawn journal's 301084 gap (converge.rs tests that).
        gentle: Gentle {
            withdrawals: true,
            ..Gentle::default()
        },
        ..SimConfig::default()
    })
}

/// A job writing to `<dir>/<name>`, its file `<dir>/<name>.toml`.
fn job(dir: &Path, name: &str, sim: &SimThread) -> (PathBuf, PathBuf) {
    let out = dir.join(name);
    let path = dir.join(format!("{name}.toml"));
    sim_job(&path, name, sim, RANGE, SECTIONS, &out, OUTPUT);
    (path, out)
}

fn spawn_run(job: &Path, args: &[&str]) -> Child {
    run_command(job, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn run_command(job: &Path, args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.arg("run").arg(job).args(args);
    cmd
}

/// Runs the job to its end and gives the exit code.
fn run_to_end(job: &Path) -> i32 {
    let out = run_command(job, &[]).output().expect("the binary runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0,
        "the run exited {code}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

/// An uninterrupted run's tables and store, to compare the others with.
struct Reference {
    tables: BTreeMap<&'static str, DataFrame>,
    store: StoreContent,
}

fn reference(dir: &Path, sim: &SimThread) -> Reference {
    let (path, out) = job(dir, "reference", sim);
    run_to_end(&path);
    Reference {
        tables: sorted_tables(&out),
        store: store_content(&out),
    }
}

fn assert_like_reference(out: &Path, want: &Reference, what: &str) {
    assert_same_tables(out, &want.tables, what);
    let got = store_content(out);
    assert_eq!(got.details, want.store.details, "{what}: details");
    assert_eq!(got.windows, want.store.windows, "{what}: record windows");
    assert_eq!(got.stats, want.store.stats, "{what}: stats");
    assert_eq!(got.downloads, want.store.downloads, "{what}: wedrive files");
    assert!(!got.downloads.is_empty(), "{what}: the job downloads files");
}

fn manifests(out: &Path) -> Vec<Manifest> {
    files_under(&out.join("runs"))
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

fn calls(m: &Manifest, endpoint: &str) -> u64 {
    m.calls.get(endpoint).copied().unwrap_or(0)
}

/// Waits for the first of two children to exit; gives (its index, its exit code).
fn first_to_exit(children: &mut [Child; 2]) -> (usize, i32) {
    let mut exited = None;
    wait_until("one of the two runs exits", || {
        for (i, c) in children.iter_mut().enumerate() {
            if let Some(status) = c.try_wait().expect("try_wait") {
                exited = Some((i, status.code().unwrap_or(-1)));
                return true;
            }
        }
        false
    });
    exited.expect("one exited")
}

#[test]
fn two_runs_of_one_job_started_together_one_runs_the_other_exits_75() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &sim);
    let (path, out) = job(dir.path(), "contended", &sim);

    // Every request held: whichever run takes the lock is caught at its first call, mid-run.
    sim.pause();
    let mut runs = [spawn_run(&path, &[]), spawn_run(&path, &[])];
    let (loser, code) = first_to_exit(&mut runs);
    assert_eq!(code, 75, "the run that found the directory taken");
    let winner = 1 - loser;
    assert!(
        runs[winner].try_wait().unwrap().is_none(),
        "the other runs on"
    );
    wait_until("the winner's first call reaches the simulator", || {
        sim.held_requests() > 0
    });
    let loser_err = Stderr::of(&mut runs[loser]).rest().join("\n");
    let pid = runs[winner].id();
    assert!(
        loser_err.contains(&format!(
            "another run is using this output directory: pid {pid} on host "
        )) && loser_err.contains("started ")
            && loser_err.contains("--wait"),
        "names the holder and the way out:\n{loser_err}"
    );
    sim.resume();
    let status = runs[winner].wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(manifests(&out).len(), 1, "the refused run wrote nothing");
    assert_like_reference(&out, &want, "after a refused second run");
}

#[test]
fn with_wait_the_second_run_queues_then_finds_nothing_to_do() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &sim);
    let (path, out) = job(dir.path(), "queued", &sim);

    sim.pause();
    let mut runs = [spawn_run(&path, &["--wait"]), spawn_run(&path, &["--wait"])];
    wait_until("one run's first call reaches the simulator", || {
        sim.held_requests() > 0
    });
    // The other says it waits, and for whom.
    let mut stderr = [Stderr::of(&mut runs[0]), Stderr::of(&mut runs[1])];
    let needle = "waiting for the run holding the output directory";
    let mut waiting = None;
    wait_until("one run says it waits", || {
        waiting = (0..2).find_map(|i| stderr[i].poll(needle).map(|line| (i, line)));
        waiting.is_some()
    });
    let (waiter, line) = waiting.unwrap();
    let holder = runs[1 - waiter].id();
    assert!(line.contains(&format!("pid {holder} on host ")), "{line}");
    sim.resume();
    for (i, run) in runs.iter_mut().enumerate() {
        assert_eq!(run.wait().unwrap().code(), Some(0), "run {i}");
    }
    let ms = manifests(&out);
    assert_eq!(ms.len(), 2);
    let (first, second): (Vec<&Manifest>, Vec<&Manifest>) =
        ms.iter().partition(|m| calls(m, "get_record_detail") > 0);
    assert_eq!(
        (first.len(), second.len()),
        (1, 1),
        "one run fetched, one did not"
    );
    let second = second[0];
    assert_eq!(calls(second, "get_record_list"), 0, "nothing listed again");
    assert_eq!(calls(second, "download_wedrive_file"), 0);
    assert_eq!(calls(second, "get_stat_list"), 0);
    assert_eq!(second.status, RunStatus::Succeeded);
    assert_like_reference(&out, &want, "after a queued second run");
}

#[test]
fn sigterm_mid_run_leaves_a_manifest_and_a_resumable_store_then_no_temp_file() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &sim);
    let (path, out) = job(dir.path(), "terminated", &sim);

    // Held at the 20th detail, SIGTERMed there; the calls on the wire then answered.
    sim.pause_at(RECORD_DETAIL, 20);
    let mut run = spawn_run(&path, &[]);
    wait_until("the run reaches its 20th detail", || {
        sim.held_requests() > 0
    });
    send_signal(&run, libc::SIGTERM);
    let mut stderr = Stderr::of(&mut run);
    stderr.wait_for("SIGTERM: stopping");
    sim.resume();
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let lines = stderr.rest().join("\n");
    assert!(lines.contains("run interrupted by SIGTERM"), "{lines}");

    let ms = manifests(&out);
    assert_eq!(ms.len(), 1, "the interrupted run wrote its manifest");
    let m = &ms[0];
    assert_eq!(m.status, RunStatus::Interrupted);
    assert_eq!(m.error.as_deref(), Some("interrupted by SIGTERM"));
    let fetched = calls(m, "get_record_detail");
    assert!(
        (20..want.store.details.len() as u64).contains(&fetched),
        "stopped mid-run: {fetched} detail calls"
    );
    let store = Store::open(out.join("store.sqlite")).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Interrupted);
    let stored = store.counts().unwrap().details;
    assert_eq!(
        stored, fetched,
        "every detail answered before the stop is stored"
    );
    drop(store);

    // Temporary files as runs killed while writing leave them, in the output trees; and one in
    // a folder of the operator's under the output directory, and one outside it.
    let planted = [
        out.join("tables/journals/report_month=2026-10/.part-0.parquet.1-0-0.tmp"),
        out.join("csv/tables/users/.part-0.csv.1-1-0.tmp"),
        out.join("files/u/.f.1.tmp"),
        out.join("runs/.x.json.1-2-0.tmp"),
        out.join(".terminated.xlsx.1-3-0.tmp"),
    ];
    let kept = [
        out.join("notes/.mine.tmp"),
        dir.path().join(".elsewhere.tmp"),
    ];
    for p in planted.iter().chain(&kept) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"half a file").unwrap();
    }

    // The next run resumes it (its as-of time) and ends like an uninterrupted run.
    run_to_end(&path);
    let store = Store::open(out.join("store.sqlite")).unwrap();
    let statuses: Vec<RunStatus> = store.runs().unwrap().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Superseded, RunStatus::Succeeded]);
    let resumed = manifests(&out)
        .into_iter()
        .find(|m| m.status == RunStatus::Succeeded)
        .unwrap();
    assert_eq!(
        calls(&resumed, "get_record_detail") + fetched,
        want.store.details.len() as u64,
        "the resumed run fetched only the details the first had not"
    );
    drop(store);
    assert_like_reference(&out, &want, "after SIGTERM and a re-run");
    let temps: Vec<PathBuf> = files_under(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert_eq!(
        temps,
        vec![kept[0].clone()],
        "only the operator's own file is left"
    );
    assert!(
        kept[1].exists(),
        "nothing outside the output directory is touched"
    );
}

/// Where a run is SIGKILLed: held by the simulator at a call of a stage, or stopped by a
/// failpoint with a file of a kind written whole under its temporary name.
enum KillPoint {
    Call(&'static str, u64),
    Failpoint(&'static str),
}

#[test]
fn sigkill_at_every_stage_and_output_then_a_rerun_ends_like_an_uninterrupted_run() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &sim);
    let points = [
        ("token", KillPoint::Call(GETTOKEN, 1)),
        ("records", KillPoint::Call(RECORD_LIST, 1)),
        ("details", KillPoint::Call(RECORD_DETAIL, 30)),
        ("wedrive", KillPoint::Call(WEDRIVE_BYTES, 2)),
        ("stats", KillPoint::Call(STAT_LIST, 2)),
        ("directory", KillPoint::Call(USER_LIST, 2)),
        ("parquet", KillPoint::Failpoint("sink:parquet")),
        ("csv", KillPoint::Failpoint("sink:csv")),
        ("arrow", KillPoint::Failpoint("sink:arrow")),
        ("xlsx", KillPoint::Failpoint("sink:xlsx")),
        ("manifest", KillPoint::Failpoint("sink:manifest")),
    ];
    for (name, point) in points {
        let (path, out) = job(dir.path(), &format!("killed-{name}"), &sim);
        let mut cmd = run_command(&path, &[]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        match point {
            KillPoint::Call(at, nth) => {
                sim.pause_at(at, nth);
                let mut run = cmd.spawn().unwrap();
                wait_until(&format!("{name}: the run is held at {at}"), || {
                    sim.held_requests() > 0
                });
                run.kill().unwrap(); // SIGKILL
                run.wait().unwrap();
                sim.resume();
            }
            KillPoint::Failpoint(fp) => {
                let mut run = cmd.env("WECOM_JOURNAL_FAILPOINT", fp).spawn().unwrap();
                let pid = run.id();
                wait_until(&format!("{name}: the run stops at {fp}"), || {
                    is_stopped(pid) || run.try_wait().unwrap().is_some()
                });
                assert!(
                    run.try_wait().unwrap().is_none(),
                    "{name}: the run ended before its failpoint"
                );
                run.kill().unwrap();
                run.wait().unwrap();
                let temps = files_under(&out)
                    .into_iter()
                    .filter(|p| p.to_string_lossy().ends_with(".tmp"))
                    .count();
                assert!(temps > 0, "{name}: killed while a file was half-way");
            }
        }
        run_to_end(&path);
        assert_like_reference(&out, &want, &format!("killed at {name}"));
        let left: Vec<PathBuf> = files_under(&out)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
}

#[test]
fn a_manifest_that_cannot_be_written_fails_the_run_and_the_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // `runs` taken by a file: the manifest cannot be written there.
    std::fs::write(out.join("runs"), b"not a directory").unwrap();
    let job = crate::common::shipped_job("monthly-compliance.toml");
    let result = bin()
        .arg("run")
        .arg(&job)
        .args([
            "--sandbox",
            "--start",
            "2026-10-01",
            "--end",
            "2026-10-04",
            "--output",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("writing the manifest"), "{stderr}");
    assert!(result.stdout.is_empty(), "no summary line for a failed run");
    let store = Store::open(out.join("store.sqlite")).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(
        runs[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("writing the manifest")),
        "{:?}",
        runs[0].error
    );
}
