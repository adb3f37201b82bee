//! Text diagnostics in ruff's style: `file:member@offset: CODE [severity] message`, then help.

use std::io::Write;

use crate::scan::{ScanReport, ScanVerdict};

/// Counts for the summary line.
pub struct Summary {
    /// Files reported.
    pub scanned: usize,
    /// Files met while walking that are not model files.
    pub skipped: usize,
}

/// Writes one line per finding and the summary line.
///
/// # Errors
/// Writing fails.
pub fn write(
    out: &mut impl Write,
    reports: &[ScanReport],
    summary: &Summary,
) -> std::io::Result<()> {
    for r in reports {
        if let Some(e) = &r.error {
            writeln!(out, "{}: error: {e}", r.path)?;
        }
        for l in &r.findings {
            let f = &l.finding;
            writeln!(
                out,
                "{}@{}: {} [{}] {}",
                r.place(&l.member),
                f.offset,
                f.code,
                f.severity,
                f.message
            )?;
            writeln!(out, "  help: {}", f.help)?;
        }
    }
    writeln!(out, "{}", summary_line(reports, summary))?;
    Ok(())
}

/// `3 files scanned (2 skipped: not model files): 1 unsafe, 2 clean, 0 errors`.
#[must_use]
pub fn summary_line(reports: &[ScanReport], summary: &Summary) -> String {
    let count = |v: ScanVerdict| reports.iter().filter(|r| r.verdict == v).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let skipped = if summary.skipped > 0 {
        format!(" ({} skipped: not model files)", summary.skipped)
    } else {
        String::new()
    };
    format!(
        "{} scanned{skipped}: {} unsafe, {} clean, {}",
        plural(summary.scanned, "file"),
        count(ScanVerdict::Unsafe),
        count(ScanVerdict::Clean),
        plural(count(ScanVerdict::Error), "error"),
    )
}
