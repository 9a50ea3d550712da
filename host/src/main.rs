//! `zo`, the host command-line tool: train, infer, move weights, identify devices, list ports,
//! run the float baseline, print completions. See docs/CLI.md.
//!
//! Exit codes: 0 success, 1 failure (bad input file, device or I/O error), 2 bad command line,
//! 130 interrupted. Every error is one line on stderr naming the problem and the fix.

mod cmd;

use anyhow::Result;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use std::process::ExitCode;
use zo_host::cli::{Cli, Command};
use zo_host::session;

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    mark_env_port(&mut cli, &matches);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.chain().any(|c| c.is::<session::Interrupted>()) => {
            errln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(130)
        }
        Err(e) => {
            errln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

/// An error folded into one line: lines joined with `; `, runs of spaces collapsed.
fn one_line(s: &str) -> String {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Clap's errors, folded into one line (help and version print as usual).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            let text = e.render().to_string();
            let parts: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("Usage:")
                        && !l.starts_with("For more information")
                })
                .collect();
            let msg = parts.join(" ");
            let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
            let sub = std::env::args()
                .nth(1)
                .filter(|a| Cli::command().find_subcommand(a).is_some())
                .map(|a| format!("zo {a} --help"))
                .unwrap_or_else(|| "zo --help".into());
            errln!("error: {msg}; see `{sub}`");
            ExitCode::from(2)
        }
    }
}

/// Records whether `--port` came from ZO_PORT, so that an explicit `--board` wins over it:
/// the one place where the device arguments of every command are resolved.
fn mark_env_port(cli: &mut Cli, m: &ArgMatches) {
    let mut leaf = m;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let from_env = leaf.try_get_raw("port").is_ok()
        && leaf.value_source("port") == Some(ValueSource::EnvVariable);
    if let Some(connect) = cli.command.connect_mut() {
        connect.port_from_env = from_env;
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(a) => cmd::train::cmd_train(a),
        Command::Infer(a) => cmd::infer::cmd_infer(a),
        Command::Weights { action } => cmd::weights::cmd_weights(action),
        Command::Info(a) => cmd::info::cmd_info(a),
        Command::Ports(a) => cmd::info::cmd_ports(a),
        Command::Baseline(a) => cmd::baseline::cmd_baseline(a),
        Command::Flash(a) => cmd::flash::cmd_flash(a),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zo", &mut script);
            cmd::out(String::from_utf8_lossy(&script).trim_end());
            Ok(())
        }
    }
}
