//! `wecom-journal sim`: serve the built-in simulator until SIGINT / SIGTERM.
//!
//! The first line of standard output is `base_url=… corp_id=… secret=…` (flushed at once), so a
//! script or a test can start it with `--addr 127.0.0.1:0` and read where it listens. The secret
//! printed is the simulator's own, never a real one.

use std::io::Write;

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Days, NaiveDate, Utc};

use super::report;
use crate::sim::{Gentle, SimConfig, SimHandle};

/// The simulator's configuration from the command line, or a message saying what is wrong.
fn config(args: &super::SimArgs) -> Result<SimConfig, String> {
    let defaults = SimConfig::default();
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(format!(
            "--fault-rate {} is not between 0 and 1",
            args.fault_rate
        ));
    }
    let timezone: chrono_tz::Tz = args.timezone.trim().parse().map_err(|_| {
        format!(
            "--timezone {:?} is not an IANA time zone (Asia/Shanghai, Europe/Berlin)",
            args.timezone
        )
    })?;
    let start = match &args.start {
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|e| format!("--start {s:?} is not a date YYYY-MM-DD: {e}"))?,
        None => {
            // The days end yesterday, local time.
            let today = Utc::now().with_timezone(&timezone).date_naive();
            today
                .checked_sub_days(Days::new(args.days as u64))
                .ok_or_else(|| format!("--days {} reaches before the earliest date", args.days))?
        }
    };
    if start
        .checked_add_days(Days::new(args.days as u64 + 1))
        .is_none()
    {
        return Err(format!(
            "--start {start} with --days {} goes past the latest date",
            args.days
        ));
    }
    if args.record_list_per_minute == 0 {
        return Err("--record-list-per-minute must be at least 1".into());
    }
    let now = match &args.now {
        None => None,
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s.trim())
                .map_err(|e| {
                    format!(
                        "--now {s:?} is not an RFC 3339 instant (2026-11-03T06:15:00+08:00): {e}"
                    )
                })?
                .with_timezone(&Utc),
        ),
    };
    let late_horizon = duration(&args.late_horizon)
        .map_err(|e| format!("--late-horizon {:?}: {e}", args.late_horizon))?;
    let gentle = Gentle::parse(&args.gentle).map_err(|e| format!("--gentle: {e}"))?;
    Ok(SimConfig {
        seed: args.seed,
        users: args.users,
        start,
        days: args.days,
        timezone,
        corp_id: args.corp_id.clone().unwrap_or(defaults.corp_id.clone()),
        secret: args.secret.clone().unwrap_or(defaults.secret.clone()),
        fault_rate: args.fault_rate,
        record_list_per_minute: args.record_list_per_minute,
        denied_template_ids: args.deny_templates.clone(),
        twin_template_names: args.twin_template_names,
        now,
        late_horizon,
        gentle,
        app_not_authorised: args.app_not_authorised,
        untrusted_ip: args.untrusted_ip,
        wrong_secret_for_corp: args.wrong_secret_for_corp,
        hidden_departments: args.hidden_departments,
        system_app_secret: args.system_app_secret,
        ..defaults
    })
}

/// A duration written as a whole number and a unit: `2d`, `36h`, `90m`, `3600s`.
fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| "not a whole number followed by d, h, m or s".to_string())?;
    let unit_s = match unit {
        "d" => 86_400,
        "h" => 3600,
        "m" => 60,
        "s" => 1,
        _ => return Err("the unit must be d, h, m or s (as in 2d)".into()),
    };
    n.checked_mul(unit_s)
        .filter(|s| *s <= 366 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| "longer than a year".to_string())
}

pub(crate) fn sim(args: super::SimArgs) -> u8 {
    let config = match config(&args) {
        Ok(c) => c,
        Err(message) => {
            report::error(&anyhow!("sim: {message}"));
            return super::exit::USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report::error(&anyhow::Error::from(e).context("sim: cannot start the async runtime"));
            return super::exit::FAILED;
        }
    };
    runtime.block_on(async move {
        let (start, days, users) = (config.start, config.days, config.users);
        let handle = match SimHandle::start(config, args.addr).await {
            Ok(h) => h,
            Err(e) => {
                let e = anyhow::Error::from(e).context(format!("sim: cannot listen on {}", args.addr));
                report::error(&e);
                return super::exit::FAILED;
            }
        };
        {
            let mut out = std::io::stdout().lock();
            let printed = writeln!(out, "base_url={} corp_id={} secret={}", handle.base_url, handle.corp_id, handle.secret)
                .and_then(|()| out.flush());
            if let Err(e) = printed {
                report::error(&anyhow::Error::from(e).context("sim: cannot write to standard output"));
                return super::exit::FAILED;
            }
        }
        tracing::info!(
            "simulator serving {} journals of {users} users over {days} days from {start}; stop with Ctrl-C",
            handle.org.journals.len()
        );
        wait_for_stop().await;
        tracing::info!("simulator stopping");
        handle.shutdown().await;
        super::exit::OK
    })
}

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> super::super::SimArgs {
        let mut argv = vec!["wecom-journal", "sim"];
        argv.extend_from_slice(extra);
        match super::super::Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(super::super::Command::Sim(a)) => a,
            other => panic!("not a sim command: {other:?}"),
        }
    }

    #[test]
    fn defaults_end_yesterday_in_shanghai() {
        let c = config(&args(&["--days", "10"])).unwrap();
        let today = Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        assert_eq!(c.start + Days::new(10), today);
        assert_eq!(c.days, 10);
    }

    #[test]
    fn explicit_values_are_used_and_bad_ones_refused() {
        let c = config(&args(&[
            "--start",
            "2026-10-01",
            "--seed",
            "3",
            "--secret",
            "s",
            "--corp-id",
            "c",
        ]))
        .unwrap();
        assert_eq!(
            (c.start, c.seed, c.secret.as_str(), c.corp_id.as_str()),
            (NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), 3, "s", "c")
        );
        assert!(config(&args(&["--start", "2026-13-01"]))
            .unwrap_err()
            .contains("--start"));
        assert!(config(&args(&["--fault-rate", "1.5"]))
            .unwrap_err()
            .contains("--fault-rate"));
    }

    #[test]
    fn the_timezone_is_read_and_a_bad_one_refused() {
        assert_eq!(
            config(&args(&[])).unwrap().timezone,
            chrono_tz::Asia::Shanghai
        );
        let c = config(&args(&["--timezone", "Europe/Berlin"])).unwrap();
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        let e = config(&args(&["--timezone", "Mars/Olympus"])).unwrap_err();
        assert!(e.starts_with("--timezone \"Mars/Olympus\" is not"), "{e}");
    }

    #[test]
    fn now_and_late_horizon_are_read_and_bad_ones_refused() {
        let c = config(&args(&[])).unwrap();
        assert_eq!(
            (c.now, c.late_horizon),
            (None, Duration::from_secs(2 * 86_400))
        );
        let c = config(&args(&[
            "--now",
            "2026-11-03T06:15:00+08:00",
            "--late-horizon",
            "36h",
        ]))
        .unwrap();
        assert_eq!(
            c.now.map(|t| t.to_rfc3339()),
            Some("2026-11-02T22:15:00+00:00".to_string())
        );
        assert_eq!(c.late_horizon, Duration::from_secs(36 * 3600));
        for (text, secs) in [("0s", 0), ("90m", 5400), ("1d", 86_400)] {
            assert_eq!(duration(text), Ok(Duration::from_secs(secs)));
        }
        let e = config(&args(&["--now", "2026-11-03"])).unwrap_err();
        assert!(
            e.starts_with("--now \"2026-11-03\" is not an RFC 3339 instant"),
            "{e}"
        );
        let c = config(&args(&["--gentle", "withdrawals, template-ids"])).unwrap();
        assert_eq!(
            c.gentle,
            Gentle {
                template_ids: true,
                withdrawals: true,
                main_departments: false
            }
        );
        let e = config(&args(&["--gentle", "withdrawal"])).unwrap_err();
        assert_eq!(
            e,
            "--gentle: \"withdrawal\" is not a gentle flag (one of template-ids, withdrawals, main-departments)"
        );
        for bad in ["2", "d", "2w", "-1d", "400d"] {
            let e = config(&args(&[&format!("--late-horizon={bad}")])).unwrap_err();
            assert!(e.starts_with(&format!("--late-horizon {bad:?}: ")), "{e}");
        }
    }

    #[test]
    fn each_misconfiguration_flag_sets_its_field() {
        let plain = config(&args(&[])).unwrap();
        assert!(!plain.app_not_authorised && !plain.untrusted_ip && !plain.system_app_secret);
        assert!(!plain.wrong_secret_for_corp);
        assert_eq!(plain.hidden_departments, 0);
        let c = config(&args(&[
            "--app-not-authorised",
            "--untrusted-ip",
            "--wrong-secret-for-corp",
            "--hidden-departments",
            "3",
            "--system-app-secret",
        ]))
        .unwrap();
        assert!(c.app_not_authorised && c.untrusted_ip && c.system_app_secret);
        assert!(c.wrong_secret_for_corp);
        assert_eq!(c.hidden_departments, 3);
    }
}
