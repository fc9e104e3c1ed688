//! The command line: argument definitions (clap derive) and one function per command, which
//! hands the work to [`crate::pipeline`] and prints what comes back. Owns exit codes, progress
//! and what the user sees (errors through the one printer, `report`); holds no stage logic
//! and no polars code. The only module that may print (the crate warns on `println!` /
//! `eprintln!` anywhere else).

// The one place that prints: the crate-level lint in lib.rs warns elsewhere.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod check;
mod load;
mod logging;
mod out;
mod plan;
mod report;
mod run;
mod schema;
mod sim;
mod validate;

/// Exit codes (README, "Commands").
pub mod exit {
    /// Done.
    pub(crate) const OK: u8 = 0;
    /// Failed.
    pub(crate) const FAILED: u8 = 1;
    /// Bad usage or a bad job file.
    pub(crate) const USAGE: u8 = 2;
    /// Finished, with gaps (each named in the manifest).
    pub(crate) const GAPS: u8 = 3;
    /// `check` found something to fix (each ✗ line says what and where).
    pub(crate) const CHECK_FAILED: u8 = 4;
    /// Not started: another run holds the job's output directory (sysexits' EX_TEMPFAIL, "try
    /// again later"; `--wait` queues instead).
    pub(crate) const LOCKED: u8 = 75;
    /// Interrupted by SIGINT (128 + 2, the shell's convention).
    pub(crate) const INTERRUPTED: u8 = 130;
    /// Interrupted by SIGTERM (128 + 15).
    pub(crate) const TERMINATED: u8 = 143;

    /// The exit code of a run interrupted by `signal`.
    pub(crate) fn of_signal(signal: crate::extract::StopSignal) -> u8 {
        match signal {
            crate::extract::StopSignal::Interrupt => INTERRUPTED,
            crate::extract::StopSignal::Terminate => TERMINATED,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "wecom-journal",
    version,
    about = "Export WeCom 汇报 / journal data into Parquet, CSV, XLSX and Arrow IPC, with compliance reports"
)]
pub(crate) struct Cli {
    /// Log format on standard error: `text` for people (colour only on a terminal, never
    /// under NO_COLOR), `json` for machines (every line one JSON object, errors, warnings and
    /// gaps included; no progress bar). The level: WECOM_JOURNAL_LOG (e.g. `warn`, `debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,

    /// Say only warnings and errors on standard error (no info logs, whatever
    /// WECOM_JOURNAL_LOG says; no progress bar); standard output is unchanged.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Extract, store, flatten, report and write the outputs of one or more jobs.
    Run(RunArgs),
    /// Show a job's windows, calls per endpoint and ETA under its quotas (no network).
    Plan {
        /// The job file (TOML; every key in docs/job-file.md).
        job: PathBuf,
        /// Plan this range instead of the job's: its first local day, YYYY-MM-DD (needs --end).
        #[arg(long, requires = "end")]
        start: Option<String>,
        /// The day after the range's last local day, YYYY-MM-DD (exclusive; needs --start).
        #[arg(long, requires = "start")]
        end: Option<String>,
        /// Output directory whose store holds earlier runs (default: the job's output.dir).
        #[arg(long)]
        output: Option<PathBuf>,
        /// `text`: the table for people; `json`: the whole plan as one object.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Plan as at this instant (RFC 3339): what a relative range resolves from.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Preflight a job against its corp: credentials, journal permission, trusted IP,
    /// visibility scope, templates, quotas, output and store; at most a few dozen calls.
    /// Exit 4 when a check fails.
    Check {
        /// The job file (TOML; every key in docs/job-file.md).
        job: PathBuf,
        /// Output directory to check, with its store (default: the job's output.dir).
        #[arg(long)]
        output: Option<PathBuf>,
        /// `text`: a line a check; `json`: the whole report as one object.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Parse and check job files; exit 2 with file:line:col: message on the first bad one.
    Validate {
        /// The job files (TOML; every key in docs/job-file.md).
        #[arg(required = true, value_name = "JOB")]
        jobs: Vec<PathBuf>,
    },
    /// Flatten, report and write from the store alone, without any API call.
    Rebuild {
        /// The job file (TOML; every key in docs/job-file.md).
        job: PathBuf,
        /// Output directory (default: the job's output.dir).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Rebuild as at this instant (RFC 3339): what a relative range resolves from.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Serve the built-in WeCom simulator until stopped.
    Sim(SimArgs),
    /// Print the output tables' schemas (or, with --job-file, every job-file key).
    Schema {
        /// `md`: Markdown tables (docs/schema.md); `json`: one object per table.
        #[arg(long, value_enum, default_value_t = SchemaFormat::Md)]
        format: SchemaFormat,
        /// Print the job-file keys' reference instead (docs/job-file.md, Markdown).
        #[arg(long, conflicts_with = "format")]
        job_file: bool,
    },
    /// Run jobs/monthly-compliance.toml against the in-process simulator and say where the files are.
    Demo {
        /// Output directory (default: the job's output.dir).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RunArgs {
    /// The job files, run one after the other (TOML; every key in docs/job-file.md).
    #[arg(required = true, value_name = "JOB")]
    pub(crate) jobs: Vec<PathBuf>,
    /// Start the simulator in-process and point the jobs at it.
    #[arg(long)]
    pub(crate) sandbox: bool,
    /// Override the job's range: its first local day, YYYY-MM-DD (inclusive; needs --end).
    #[arg(long, requires = "end")]
    pub(crate) start: Option<String>,
    /// Override the job's range: the day after its last local day, YYYY-MM-DD (exclusive;
    /// needs --start).
    #[arg(long, requires = "start")]
    pub(crate) end: Option<String>,
    /// Output directory (default: the job's output.dir).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Ignore what the store holds and fetch everything again.
    #[arg(long)]
    pub(crate) full_refresh: bool,
    /// The run's "now" (RFC 3339, e.g. 2026-11-02T06:15:00+08:00), default the real clock:
    /// what a relative range resolves from, what decides which windows are closed and which
    /// details and stats may still change, and the clock of the --sandbox simulator. For a
    /// scheduler replaying a logical date.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// When another run holds a job's output directory, wait for it instead of exiting 75.
    #[arg(long)]
    pub(crate) wait: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SimArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) addr: std::net::SocketAddr,
    /// Seed of the synthetic company: the same seed, the same people and journals.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// People in the synthetic company.
    #[arg(long, default_value_t = 60)]
    pub(crate) users: usize,
    /// Days of journals, ending yesterday (local time) unless --start is given.
    #[arg(long, default_value_t = 31)]
    pub(crate) days: u32,
    /// First day of journals (YYYY-MM-DD).
    #[arg(long)]
    pub(crate) start: Option<String>,
    /// The corp's time zone (IANA name): where its days, weeks and months begin.
    #[arg(long, default_value = "Asia/Shanghai")]
    pub(crate) timezone: String,
    /// Share of calls answered with an injected fault, from 0 to 1 (0.3: 30 %).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) fault_rate: f64,
    /// Corp id the simulator accepts.
    #[arg(long)]
    pub(crate) corp_id: Option<String>,
    /// Secret the simulator accepts.
    #[arg(long)]
    pub(crate) secret: Option<String>,
    /// Record-list calls a minute before 45009.
    #[arg(long, default_value_t = 600)]
    pub(crate) record_list_per_minute: u32,
    /// A template id the journal app may not read (answered with 301065); repeatable.
    #[arg(long = "deny-template", value_name = "TEMPLATE_ID")]
    pub(crate) deny_templates: Vec<String>,
    /// Name the weekly 安全巡检 template 周报 too: two templates of one name (then a detail
    /// without template_id whose cycle is not summarised is of no single template by name).
    #[arg(long)]
    pub(crate) twin_template_names: bool,
    /// The simulator's clock (RFC 3339, e.g. 2026-11-03T06:15:00+08:00): it serves the world as
    /// it is at that instant. Default: the real clock, read at every request.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// How long late reports keep coming after their cycle ends, and comments, read receipts
    /// and withdrawals after a journal is submitted: a number with d, h, m or s.
    #[arg(long, value_name = "DURATION", default_value = "2d")]
    pub(crate) late_horizon: String,
    /// Spare the client real behaviours, gentler than WeCom, for tests of something else only:
    /// comma-separated template-ids (every detail has its template_id), withdrawals (no
    /// journal is withdrawn), main-departments (every user has one).
    #[arg(long, value_name = "FLAGS", default_value = "")]
    pub(crate) gentle: String,
    /// Misconfigured: the app is not added under 汇报 → 可调用接口的应用 (every journal call
    /// answers 301065).
    #[arg(long)]
    pub(crate) app_not_authorised: bool,
    /// Misconfigured: the caller's IP is not among the app's trusted IPs (every call with a
    /// token answers 60020 naming the IP).
    #[arg(long)]
    pub(crate) untrusted_ip: bool,
    /// Misconfigured: the secret is not this corp's (gettoken answers 40001).
    #[arg(long)]
    pub(crate) wrong_secret_for_corp: bool,
    /// Misconfigured: the app's visibility scope hides the last N departments (the directory
    /// answers for the rest; users come without a hidden main department).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) hidden_departments: usize,
    /// Misconfigured: the secret is the 汇报 system app's (journal calls answer 48002).
    #[arg(long)]
    pub(crate) system_app_secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// The table for people.
    Text,
    /// The whole plan as one JSON object.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// A line a check, ✓ or ✗, each ✗ with its hint.
    Text,
    /// The whole report as one JSON object.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaFormat {
    Md,
    Json,
}

/// Runs the command line and gives the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && json_asked(std::env::args_os()) => {
            // Arguments that do not parse, under `--log-format json`: the one line a machine
            // reading standard error can parse, like every other line there.
            eprint!("{}", report::usage_json(&e.render().to_string()));
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    logging::init(cli.log_format, cli.quiet);
    let code = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Plan {
            job,
            start,
            end,
            output,
            format,
            now,
        } => plan::plan(&job, start.zip(end), output, format, now.as_deref()),
        Command::Check {
            job,
            output,
            format,
        } => check::check(&job, output.as_deref(), format),
        Command::Validate { jobs } => validate::validate(&jobs),
        Command::Rebuild { job, output, now } => run::rebuild(&job, output, now.as_deref()),
        Command::Sim(args) => sim::sim(args),
        Command::Schema { format, job_file } => schema::schema(format, job_file),
        Command::Demo { output } => run::demo(output),
    };
    ExitCode::from(code)
}

/// Whether the arguments ask for `--log-format json` (`--log-format json` or
/// `--log-format=json`, before any `--`), read from the raw arguments when clap could not
/// parse them.
fn json_asked(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.into_iter().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--") => return false,
            Some("--log-format=json") => return true,
            Some("--log-format") if args.next().is_some_and(|v| v == "json") => return true,
            _ => {}
        }
    }
    false
}

/// The instant `--now` gives, else the real clock; a bad one is reported (exit 2).
fn now_arg(now: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, u8> {
    match now {
        None => Ok(chrono::Utc::now()),
        Some(text) => crate::job::parse_instant(text).map_err(|e| {
            report::error(&anyhow::anyhow!("--now: {e}"));
            exit::USAGE
        }),
    }
}

#[cfg(test)]
mod tests;
