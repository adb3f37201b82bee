//! `export` reports as text (the JSON is the serialized [`ExportReport`]).

use std::io::{self, Write};

use crate::export::ExportReport;

/// The human-readable report.
///
/// # Errors
/// Writing fails.
pub fn text(out: &mut impl Write, r: &ExportReport) -> io::Result<()> {
    writeln!(
        out,
        "{} ({}): {} tensors, {} bytes",
        r.path,
        r.format,
        r.tensors.len(),
        r.file_bytes
    )?;
    for t in &r.tensors {
        let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
        let view = if t.contiguous {
            ""
        } else {
            " (strided view, written contiguous)"
        };
        let from = if t.source == t.name {
            String::new()
        } else {
            format!(" from {}", t.source)
        };
        writeln!(
            out,
            "  {} {} [{}]{from}{view}",
            t.name,
            t.dtype,
            shape.join(", ")
        )?;
    }
    for (dropped, kept) in &r.dropped_shared {
        writeln!(out, "  tied: {dropped} = {kept} (written once)")?;
    }
    for (k, v) in &r.metadata {
        writeln!(out, "  metadata: {k} = {v}")?;
    }
    for s in &r.skipped {
        writeln!(out, "  skipped: {} ({}: not plain data)", s.name, s.what)?;
    }
    for x in &r.refused {
        writeln!(out, "  refused: {}: {}", x.name, x.why)?;
    }
    match (&r.output, r.dry_run, r.refused.is_empty()) {
        (Some(o), _, _) => writeln!(out, "  wrote {o}")?,
        (None, true, _) => writeln!(out, "  dry run: nothing written")?,
        (None, false, false) => writeln!(
            out,
            "  nothing written: {} refused (--force writes the rest)",
            r.refused.len()
        )?,
        (None, false, true) => writeln!(out, "  nothing written")?,
    }
    Ok(())
}
