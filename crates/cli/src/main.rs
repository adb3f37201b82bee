//! `pickle-doctor`: reads Python pickles and ML model files without running them.
//!
//! This binary is glue: it parses arguments, calls the library crates and prints. Exit codes
//! follow DESIGN.md: 0 clean, 1 found something (or a malformed file), 2 usage, I/O or
//! internal error. A panic is a bug; it is caught and reported as exit 2 without a backtrace.

mod alloc;
mod args;
mod commands;
mod environment;
mod input;
mod render;
mod target;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: alloc::HugePageAlloc = alloc::HugePageAlloc;

fn main() -> ExitCode {
    // Panics are bugs, but users must get one line, not a backtrace.
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
    let cli = args::Cli::parse();
    match std::panic::catch_unwind(|| commands::run(&cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "pickle-doctor: error: {e:#}");
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
