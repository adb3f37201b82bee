//! GitHub Actions workflow annotations (`--format github`), in ruff's style:
//! `::error title=pickle-doctor (PD101),file=m.pkl::m.pkl@42: PD101 message`.
//!
//! A binary model file has no lines, so annotations are file-level. GitHub shows at most 10
//! error and 10 warning annotations per step (and 50 per job) and drops the rest silently, so
//! at most [`PER_LEVEL`] of each level are printed, worst first, and a plain summary line says
//! how many were left out and where to get them all (SARIF).

use std::io::{self, Write};

use analyze::load::Verdict;
use analyze::security::Severity;

use crate::check::CheckReport;
use crate::scan::ScanReport;

/// Annotations printed per level (error, warning, notice).
pub const PER_LEVEL: usize = 10;

/// An annotation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

struct Annotation {
    level: Level,
    title: String,
    file: String,
    message: String,
}

/// Escapes workflow-command data (`%`, CR, LF), as actions/toolkit does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: data escapes plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn write_all(out: &mut impl Write, mut annotations: Vec<Annotation>, tail: &str) -> io::Result<()> {
    // Stable: worst first, then in report order.
    annotations.sort_by_key(|a| a.level);
    let mut shown = [0usize; 3];
    let mut left_out = 0usize;
    for a in &annotations {
        let n = &mut shown[a.level as usize];
        if *n >= PER_LEVEL {
            left_out += 1;
            continue;
        }
        *n += 1;
        writeln!(
            out,
            "::{} title={},file={}::{}",
            a.level.as_str(),
            escape_property(&a.title),
            escape_property(&a.file),
            escape_data(&a.message)
        )?;
    }
    let more = if left_out > 0 {
        format!(
            " ({left_out} more not annotated: GitHub shows {PER_LEVEL} per level and step; use --format sarif with upload-sarif for all)"
        )
    } else {
        String::new()
    };
    writeln!(out, "{tail}{more}")
}

fn scan_level(s: Severity) -> Level {
    match s {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low => Level::Notice,
    }
}

/// Scan findings and errors as annotations, then `summary`.
///
/// # Errors
/// Writing fails.
pub fn scan(out: &mut impl Write, reports: &[ScanReport], summary: &str) -> io::Result<()> {
    let mut annotations = Vec::new();
    for r in reports {
        if let Some(e) = &r.error {
            annotations.push(Annotation {
                level: Level::Error,
                title: "pickle-doctor".to_owned(),
                file: r.path.clone(),
                message: format!("{}: error: {e}", r.path),
            });
        }
        for l in &r.findings {
            let f = &l.finding;
            annotations.push(Annotation {
                level: scan_level(f.severity),
                title: format!("pickle-doctor ({})", f.code),
                file: r.path.clone(),
                message: format!(
                    "{}@{}: {} [{}] {} (help: {})",
                    r.place(&l.member),
                    f.offset,
                    f.code,
                    f.severity,
                    f.message,
                    f.help
                ),
            });
        }
    }
    write_all(out, annotations, summary)
}

/// Check verdicts as annotations: `fails` is an error, `at-risk` a warning.
///
/// # Errors
/// Writing fails.
pub fn check(out: &mut impl Write, reports: &[CheckReport]) -> io::Result<()> {
    let mut annotations = Vec::new();
    let mut counts = [0usize; 3];
    for r in reports {
        let p = &r.prediction;
        counts[match p.verdict {
            Verdict::Loads => 0,
            Verdict::AtRisk => 1,
            Verdict::Fails => 2,
        }] += 1;
        let level = match p.verdict {
            Verdict::Loads => continue,
            Verdict::AtRisk => Level::Warning,
            Verdict::Fails => Level::Error,
        };
        let mut message = format!("{}: {} (loader: {})", r.path, p.verdict.as_str(), p.loader);
        if let Some(e) = &p.error {
            message.push_str(&format!("\n{e}"));
        }
        for risk in &p.risks {
            message.push_str(&format!("\nrisk: {} ({})", risk.message, risk.fix));
        }
        for f in &p.fixes {
            message.push_str(&format!("\nfix: {} {} -> {}", f.kind, f.from, f.to));
        }
        annotations.push(Annotation {
            level,
            title: format!("pickle-doctor check ({})", p.verdict.as_str()),
            file: r.path.clone(),
            message,
        });
    }
    let tail = format!(
        "{} checked: {} loads, {} at-risk, {} fails",
        reports.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    write_all(out, annotations, &tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_actions_toolkit() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn at_most_ten_per_level_then_a_summary() {
        let many: Vec<Annotation> = (0..25)
            .map(|i| Annotation {
                level: if i % 2 == 0 {
                    Level::Error
                } else {
                    Level::Notice
                },
                title: "t".into(),
                file: format!("f{i}"),
                message: "m".into(),
            })
            .collect();
        let mut out = Vec::new();
        write_all(&mut out, many, "done").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("::error ").count(), 10);
        assert_eq!(text.matches("::notice ").count(), 10);
        assert!(text.ends_with("done (5 more not annotated: GitHub shows 10 per level and step; use --format sarif with upload-sarif for all)\n"));
    }
}
