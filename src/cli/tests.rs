//! The command line's own promises: every argument and flag says what it is.

use clap::{CommandFactory, Parser};

use super::Cli;

#[test]
fn every_argument_and_flag_has_a_help_line() {
    let mut missing = Vec::new();
    let root = Cli::command();
    let mut commands = vec![(root.get_name().to_string(), root.clone())];
    commands.extend(
        root.get_subcommands()
            .map(|c| (format!("{} {}", root.get_name(), c.get_name()), c.clone())),
    );
    for (name, command) in &commands {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{name}: {id}"));
            }
        }
        if command.get_about().is_none() {
            missing.push(format!("{name}: (the command itself)"));
        }
    }
    assert!(missing.is_empty(), "no help line: {missing:?}");
}

#[test]
fn start_and_end_come_together_for_run_and_plan() {
    for command in ["run", "plan"] {
        let err =
            Cli::try_parse_from(["wecom-journal", command, "j.toml", "--start", "2026-10-01"])
                .unwrap_err();
        assert_eq!(
            err.kind(),
            clap::error::ErrorKind::MissingRequiredArgument,
            "{command}"
        );
        assert!(err.to_string().contains("--end"), "{command}: {err}");
        assert!(Cli::try_parse_from([
            "wecom-journal",
            command,
            "j.toml",
            "--start",
            "2026-10-01",
            "--end",
            "2026-10-08"
        ])
        .is_ok());
    }
}

#[test]
fn json_logs_are_found_in_arguments_clap_could_not_parse() {
    let asked = |args: &[&str]| super::json_asked(args.iter().map(std::ffi::OsString::from));
    assert!(asked(&["wj", "--log-format", "json", "run", "--bogus"]));
    assert!(asked(&["wj", "plan", "--log-format=json"]));
    assert!(!asked(&["wj", "--log-format", "text", "run"]));
    assert!(!asked(&["wj", "run", "--", "--log-format=json"]));
    assert!(!asked(&["wj", "--log-format"]));
}
