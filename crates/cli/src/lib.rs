//! `pickle-doctor`, the command line: arguments, rendering, progress, exit codes.
//!
//! Everything a caller other than a terminal needs lives in the `doctor` facade; this crate
//! parses arguments, calls it, prints, and maps outcomes to exit codes (docs/design.md):
//! 0 clean, 1 found something (or a malformed file), 2 usage, I/O or internal error. It is a
//! library too so that the Python package's `pickle-doctor` console script runs the very same
//! command line in-process ([`run`]).

pub mod alloc;
mod args;
mod commands;
mod input;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

/// Makes panics one line on stderr, without a backtrace: a panic is a bug, and users must get
/// a report they can paste, not a wall of frames.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "pickle-doctor: internal error (please report): {msg}{loc}"
        );
    }));
}

/// Runs the command line `argv` (whose first item is the program name) and returns the exit
/// code. Never exits the process and never panics out: argument errors print clap's message
/// and return 2, panics are caught and return 2.
pub fn run<I, T>(argv: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    match std::panic::catch_unwind(|| commands::run(&cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            if is_broken_pipe(&e) {
                return 0;
            }
            let _ = writeln!(std::io::stderr(), "pickle-doctor: error: {e:#}");
            2
        }
        Err(_) => 2,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<doctor::Error>()
                .is_some_and(doctor::Error::is_broken_pipe)
    })
}
