//! `pickle-doctor scan`.

mod json;
mod sarif;
mod text;
mod walk;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use analyze::security::{self, Finding, Policy, Severity};
use anyhow::{Context as _, Result};
use container::{MemberKind, Sniffed};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::args::{OutputFormat, ScanArgs};
use crate::{input, target};

/// A finding and where it is: the member it was found in, and where that member's bytes start
/// in the file when they are stored as is (so that offsets can be given in file coordinates).
pub(super) struct Located {
    pub(super) member: String,
    pub(super) member_start: Option<u64>,
    pub(super) finding: Finding,
}

/// The outcome for one file.
pub(super) struct Report {
    pub(super) path: String,
    pub(super) format: &'static str,
    pub(super) findings: Vec<Located>,
    pub(super) error: Option<String>,
    /// Findings at or above this severity make the file unsafe.
    pub(super) unsafe_at: Severity,
}

impl Report {
    pub(super) fn verdict(&self) -> &'static str {
        if self
            .findings
            .iter()
            .any(|l| l.finding.severity >= self.unsafe_at)
        {
            "unsafe"
        } else if self.error.is_some() {
            "error"
        } else {
            "clean"
        }
    }

    /// `file` or `file:member`.
    pub(super) fn place(&self, member: &str) -> String {
        if member.is_empty() {
            self.path.clone()
        } else {
            format!("{}:{member}", self.path)
        }
    }
}

/// Counts for the summary line.
pub(super) struct Summary {
    pub(super) scanned: usize,
    pub(super) skipped: usize,
}

/// The policy and the severity that makes a file unsafe, from `--policy`.
fn policy(arg: &str) -> Result<(Policy, Severity)> {
    let mut policy = Policy::default();
    match arg {
        "default" => Ok((policy, Severity::High)),
        "strict" => Ok((policy, Severity::Medium)),
        path => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read policy {path} (use default, strict or a TOML file)")
            })?;
            policy.extend(Policy::from_toml(&text).with_context(|| format!("policy {path}"))?);
            Ok((policy, Severity::High))
        }
    }
}

pub(crate) fn run(args: &ScanArgs) -> Result<ExitCode> {
    let (policy, unsafe_at) = policy(&args.policy)?;
    let (files, walk_errors) = walk::collect(&args.paths);
    let progress = progress_bar(args, files.len());
    let scan_all = || {
        files
            .par_iter()
            .map(|c| {
                let r = scan_file(&c.path, c.explicit, &policy, args);
                progress.inc(1);
                r
            })
            .collect::<Vec<_>>()
    };
    let scanned = match args.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .context("cannot start worker threads")?
            .install(scan_all),
        None => scan_all(),
    };
    progress.finish_and_clear();
    let skipped = scanned.iter().filter(|r| r.is_none()).count();
    let (loops, walk_errors): (Vec<_>, Vec<_>) = walk_errors.into_iter().partition(|e| e.is_loop);
    for l in loops {
        eprintln!("warning: {}: {}", l.path.display(), l.message);
    }
    let mut reports: Vec<Report> = walk_errors
        .into_iter()
        .map(|e| Report {
            path: e.path.display().to_string(),
            format: "unknown",
            findings: Vec::new(),
            error: Some(e.message),
            unsafe_at,
        })
        .collect();
    reports.extend(scanned.into_iter().flatten().map(|mut r| {
        r.unsafe_at = unsafe_at;
        r
    }));
    let summary = Summary {
        scanned: reports.len(),
        skipped,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Text => text::write(&mut out, &reports, &summary)?,
        OutputFormat::Json => json::write(&mut out, &reports)?,
        OutputFormat::Sarif => sarif::write(&mut out, &reports)?,
    }
    out.flush()?;
    if args.format != OutputFormat::Text && std::io::stderr().is_terminal() {
        eprintln!("{}", text::summary_line(&reports, &summary));
    }
    let unsafe_ = reports.iter().any(|r| r.verdict() == "unsafe");
    let errors = reports.iter().any(|r| r.verdict() == "error");
    Ok(ExitCode::from(if unsafe_ {
        1
    } else if errors {
        2
    } else {
        0
    }))
}

/// A progress bar on stderr when it is a terminal and there is more than one file.
fn progress_bar(args: &ScanArgs, files: usize) -> ProgressBar {
    if args.no_progress || files < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} files [{bar:30}] {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn scan_file(path: &Path, explicit: bool, policy: &Policy, args: &ScanArgs) -> Option<Report> {
    let shown = path.display().to_string();
    let fail = |format, msg: String| Report {
        path: shown.clone(),
        format,
        findings: Vec::new(),
        error: Some(msg),
        unsafe_at: Severity::High,
    };
    let data = match input::open(path) {
        Ok(d) => d,
        Err(e) => return Some(fail("unknown", format!("{e:#}"))),
    };
    // Files met while walking a directory are scanned only when they look like models.
    if !explicit
        && matches!(
            container::sniff(&data),
            Sniffed::Unknown | Sniffed::Empty | Sniffed::Html
        )
    {
        return None;
    }
    let opened = match container::open(&data, &args.limits.limits()) {
        Ok(o) => o,
        Err(e) => return Some(fail("unknown", e.to_string())),
    };
    let format = opened.format.name();
    // A text file that happens to start with an opcode letter ('S', 'c', '(' ...) is not a
    // protocol 0/1 pickle when its very first op cannot run; while walking, skip it.
    let plain_text = !explicit
        && opened.format == container::Format::Pickle
        && data.first() != Some(&0x80)
        && vm::run_with(&data, vm::Budgets::small())
            .error()
            .is_some_and(|e| e.offset == 0);
    if plain_text {
        return None;
    }
    if let Some(why) = opened.format.not_a_model() {
        return Some(fail(format, why.to_owned()));
    }
    let mut findings = Vec::new();
    for m in opened.pickles() {
        if !matches!(m.kind, MemberKind::Pickle(_)) {
            continue;
        }
        let run = target::run(m, args.limits.budgets());
        for finding in security::scan(&run.trace, policy) {
            findings.push(Located {
                member: m.name.clone(),
                member_start: m.file_offset,
                finding,
            });
        }
    }
    Some(Report {
        path: shown,
        format,
        findings,
        error: None,
        unsafe_at: Severity::High,
    })
}
