//! One module per subcommand: each turns its arguments into a facade call, prints the result
//! and picks the exit code.

mod check;
mod dis;
mod export;
mod fix;
mod requirements;
mod rule;
mod scan;
mod show;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Runs the chosen subcommand; returns the exit code.
pub(crate) fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Dis(a) => dis::run(a),
        Command::Show(a) => show::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Rule(a) => rule::run(a),
        Command::Check(a) => check::run(a),
        Command::Requirements(a) => requirements::run(a),
        Command::Fix(a) => fix::run(a),
        Command::Export(a) => export::run(a),
    }
}
