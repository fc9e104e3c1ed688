//! Running one child process to its end: wall and CPU time, peak RSS (`wait4`'s `ru_maxrss`),
//! the machine's load before it, and optionally an RSS trace.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one run of a case came to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    /// The child's wall time; for DuckDB, its own `connect` → last file time.
    pub(crate) wall: Duration,
    /// The child's whole life, for DuckDB (interpreter start-up and `import duckdb` included).
    pub(crate) process_wall: Duration,
    pub(crate) peak_kib: u64,
    /// The child's CPU time, user + system (on a shared machine, steadier than the wall).
    pub(crate) cpu: Duration,
    /// 1-minute load average just before the run.
    pub(crate) load: f64,
    /// `some avg10` of /proc/pressure/io just before the run (%), NaN where not available.
    pub(crate) io_pressure: f64,
    /// `rebuild`: its manifest's `durations_ms` and `rows`; DuckDB: its rows.
    pub(crate) stages_ms: BTreeMap<String, u64>,
    pub(crate) rows: BTreeMap<String, u64>,
}

fn io_pressure() -> f64 {
    std::fs::read_to_string("/proc/pressure/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("some"))?
                .split_whitespace()
                .find_map(|f| f.strip_prefix("avg10="))?
                .parse()
                .ok()
        })
        .unwrap_or(f64::NAN)
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Waits for `pid` and returns whether it exited 0, its `ru_maxrss` (KiB: the peak RSS of the
/// child, and of any child of its own it waited for) and its CPU time (user + system).
fn wait_with_peak_rss(pid: u32) -> (bool, u64, Duration) {
    let pid = pid as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, valid zeroed; wait4 writes both out-parameters.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: the pointers are to live locals; `pid` is our own unwaited child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "wait4: {err}");
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (
        ok,
        usage.ru_maxrss as u64,
        time(usage.ru_utime) + time(usage.ru_stime),
    )
}

/// Samples `/proc/<pid>/status` VmRSS every 10 ms until `stop`.
fn trace_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<(u64, u64)>> {
    std::thread::spawn(move || {
        let t = Instant::now();
        let path = format!("/proc/{pid}/status");
        let mut samples = vec![];
        while !stop.load(Ordering::Relaxed) {
            let Ok(status) = std::fs::read_to_string(&path) else {
                break;
            };
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            if let Some(kib) = rss {
                samples.push((t.elapsed().as_millis() as u64, kib));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        samples
    })
}

/// Runs `cmd` to its end with its output in `log` files; panics (with its stderr) on failure.
pub(crate) fn measure(mut cmd: Command, log: &Path, trace: Option<PathBuf>) -> Sample {
    let load = load_average();
    let io_pressure = io_pressure();
    let stdout = File::create(log.with_extension("out")).expect("create the log");
    let stderr = File::create(log.with_extension("err")).expect("create the log");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let t = Instant::now();
    // Reaped by `wait_with_peak_rss` (wait4, for its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let tracer = trace
        .as_ref()
        .map(|_| trace_rss(child.id(), Arc::clone(&stop)));
    let (ok, peak_kib, cpu) = wait_with_peak_rss(child.id());
    let wall = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let (Some(tracer), Some(path)) = (tracer, trace) {
        let mut out = BufWriter::new(File::create(&path).expect("create the trace"));
        writeln!(out, "ms,rss_kib").expect("write the trace");
        for (ms, kib) in tracer.join().expect("the tracer") {
            writeln!(out, "{ms},{kib}").expect("write the trace");
        }
    }
    if !ok {
        let err = std::fs::read_to_string(log.with_extension("err")).unwrap_or_default();
        panic!("{cmd:?} failed:\n{err}");
    }
    Sample {
        wall,
        process_wall: wall,
        peak_kib,
        cpu,
        load,
        io_pressure,
        ..Sample::default()
    }
}
