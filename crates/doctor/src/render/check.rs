//! `check` reports as text and JSON.

use std::io::{self, Write};

use crate::check::CheckReport;

/// The human-readable report.
///
/// # Errors
/// Writing fails.
pub fn text(out: &mut impl Write, reports: &[CheckReport]) -> io::Result<()> {
    for r in reports {
        let p = &r.prediction;
        writeln!(
            out,
            "{}: {} (loader: {})",
            r.path,
            p.verdict.as_str(),
            p.loader
        )?;
        if let Some(e) = &p.error {
            writeln!(out, "  error: {}", e.replace('\n', "\n         "))?;
        }
        for g in &p.globals {
            let place = if g.member.is_empty() {
                format!("@{}", g.offset)
            } else {
                format!("{}@{}", g.member, g.offset)
            };
            writeln!(
                out,
                "  {place:<16} {:<18} {}.{}  [{}] {}",
                g.status.as_str(),
                g.module,
                g.name,
                g.distribution.as_deref().unwrap_or("-"),
                g.reason
            )?;
        }
        for t in &r.trailing {
            writeln!(out, "  note: {}", t.note())?;
        }
        for risk in &p.risks {
            writeln!(out, "  risk: {} ({})", risk.message, risk.fix)?;
        }
        for f in &p.fixes {
            writeln!(out, "  fix: {} {} -> {}", f.kind, f.from, f.to)?;
        }
    }
    Ok(())
}

/// `check --format json`: `{"environment": ..., "files": [...]}`.
#[must_use]
pub fn json(environment: &serde_json::Value, reports: &[CheckReport]) -> String {
    super::pretty(&serde_json::json!({"environment": environment, "files": reports}))
}
