//! `pickle-doctor scan`.

use std::io::{BufWriter, IsTerminal, Write};

use anyhow::Result;
use doctor::ScanVerdict;
use doctor::render::scan_text::{self, Summary};
use doctor::scan::{Hooks, ScanOptions};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{OutputFormat, ScanArgs};
use crate::input;

pub(crate) fn run(args: &ScanArgs) -> Result<u8> {
    let opts = ScanOptions {
        limits: args.limits.limits(),
        jobs: args.jobs,
        read: input::read_mode(),
        // One file and the process exits: freeing its traces node by node would only cost
        // time. A walk over many files frees each one's as it goes.
        forget_traces: matches!(args.paths.as_slice(), [p] if p.is_file()),
        ..ScanOptions::with_policy(&args.policy)?
    };
    let progress = progress_bar(args);
    let tick = || progress.inc(1);
    let run = doctor::scan::scan_paths(
        &args.paths,
        &opts,
        Hooks {
            on_file: Some(&tick),
            cancel: None,
        },
    )?;
    progress.finish_and_clear();
    for l in &run.loops {
        eprintln!("warning: {}: {}", l.path.display(), l.message);
    }
    let reports = &run.files;
    let summary = Summary {
        scanned: reports.len(),
        skipped: run.skipped,
    };
    let line = scan_text::summary_line(reports, &summary);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Text => scan_text::write(&mut out, reports, &summary)?,
        OutputFormat::Json => doctor::render::scan_json(&mut out, reports)?,
        OutputFormat::Sarif => doctor::render::sarif::write(&mut out, reports)?,
        OutputFormat::Github => doctor::render::github::scan(&mut out, reports, &line)?,
    }
    out.flush()?;
    if matches!(args.format, OutputFormat::Json | OutputFormat::Sarif)
        && std::io::stderr().is_terminal()
    {
        eprintln!("{line}");
    }
    let any = |v: ScanVerdict| reports.iter().any(|r| r.verdict == v);
    Ok(if any(ScanVerdict::Unsafe) {
        1
    } else if any(ScanVerdict::Error) {
        2
    } else {
        0
    })
}

/// A progress bar on stderr when it is a terminal. Its length is unknown until the walk is
/// done, so it counts files.
fn progress_bar(args: &ScanArgs) -> ProgressBar {
    let single_file = args.paths.len() == 1 && !args.paths[0].is_dir();
    if args.no_progress || single_file || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::no_length();
    if let Ok(style) = ProgressStyle::with_template("{spinner} scanned {pos} files ({per_sec})") {
        bar.set_style(style);
    }
    bar
}
