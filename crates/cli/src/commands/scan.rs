//! `pickle-doctor scan`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyze::security::{self, Finding, Policy, Severity};
use anyhow::{Context as _, Result};
use container::{MemberKind, Sniffed};
use serde_json::json;

use crate::args::{OutputFormat, ScanArgs};
use crate::{input, target};

/// The outcome for one file.
struct Report {
    path: String,
    format: &'static str,
    findings: Vec<(String, Finding)>,
    error: Option<String>,
    /// Findings at or above this severity make the file unsafe.
    unsafe_at: Severity,
}

impl Report {
    fn verdict(&self) -> &'static str {
        if self
            .findings
            .iter()
            .any(|(_, f)| f.severity >= self.unsafe_at)
        {
            "unsafe"
        } else if self.error.is_some() {
            "error"
        } else {
            "clean"
        }
    }
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
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, true, &mut files);
    }
    let mut reports = Vec::new();
    for (path, explicit) in files {
        if let Some(mut r) = scan_file(&path, explicit, &policy, args) {
            r.unsafe_at = unsafe_at;
            reports.push(r);
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Text => write_text(&mut out, &reports)?,
        OutputFormat::Json => write_json(&mut out, &reports)?,
    }
    out.flush()?;
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

/// Files under `path`: the path itself, or every file below a directory. Symlinked
/// directories are not followed, so link loops end.
fn collect(path: &Path, explicit: bool, out: &mut Vec<(PathBuf, bool)>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        out.push((path.to_path_buf(), explicit));
        return;
    };
    if meta.is_dir() {
        let Ok(rd) = std::fs::read_dir(path) else {
            out.push((path.to_path_buf(), explicit));
            return;
        };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            collect(&e, false, out);
        }
    } else if meta.file_type().is_symlink() && std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        // A link to a directory: skipped (it may loop).
    } else {
        out.push((path.to_path_buf(), explicit));
    }
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
        for f in security::scan(&run.trace, policy) {
            findings.push((m.name.clone(), f));
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

fn write_text(out: &mut impl Write, reports: &[Report]) -> Result<()> {
    for r in reports {
        if let Some(e) = &r.error {
            writeln!(out, "{}: error: {e}", r.path)?;
        }
        for (member, f) in &r.findings {
            let place = if member.is_empty() {
                r.path.clone()
            } else {
                format!("{}:{member}", r.path)
            };
            writeln!(
                out,
                "{place}@{}: {} [{}] {}",
                f.offset, f.code, f.severity, f.message
            )?;
            writeln!(out, "  help: {}", f.help)?;
        }
    }
    let count = |v: &str| reports.iter().filter(|r| r.verdict() == v).count();
    writeln!(
        out,
        "{} file{} scanned: {} unsafe, {} clean, {} error{}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        count("unsafe"),
        count("clean"),
        count("error"),
        if count("error") == 1 { "" } else { "s" },
    )?;
    Ok(())
}

fn write_json(out: &mut impl Write, reports: &[Report]) -> Result<()> {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let findings: Vec<serde_json::Value> = r
                .findings
                .iter()
                .map(|(member, f)| {
                    json!({"code": f.code, "severity": f.severity.as_str(), "global": f.global,
                           "member": if member.is_empty() { None } else { Some(member) },
                           "offset": f.offset, "message": f.message, "help": f.help})
                })
                .collect();
            json!({"path": r.path, "format": r.format, "verdict": r.verdict(),
                   "error": r.error, "findings": findings})
        })
        .collect();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&json!({ "files": files }))?
    )?;
    Ok(())
}
