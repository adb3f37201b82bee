//! One module per subcommand.

pub(crate) mod check;
mod dis;
mod fix;
mod requirements;
mod rule;
mod scan;
mod show;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Runs the chosen subcommand.
pub(crate) fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Dis(a) => dis::run(a),
        Command::Show(a) => show::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Rule(a) => rule::run(a),
        Command::Check(a) => check::run(a),
        Command::Requirements(a) => requirements::run(a),
        Command::Fix(a) => fix::run(a),
    }
}
