//! `export` reports as text (the JSON is the serialized [`ExportReport`]).

use std::io::{self, Write};

use crate::export::ExportReport;

/// The human-readable report.
///
/// # Errors
/// Writing fails.
pub fn text(out: &mut impl Write, r: &ExportReport) -> io::Result<()> {
    if let Some(o) = &r.onnx {
        return onnx_text(out, r, o);
    }
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

/// An ONNX export: the estimator, its steps, the graph's input and outputs, refusals.
fn onnx_text(
    out: &mut impl Write,
    r: &ExportReport,
    o: &crate::export::onnx::OnnxSummary,
) -> io::Result<()> {
    writeln!(out, "{} ({}): {}", r.path, r.format, o.estimator)?;
    for (path, class) in &o.steps {
        writeln!(out, "  {path}: {class}")?;
    }
    let io = |x: &crate::export::onnx::Io| format!("{} {}[{}]", x.name, x.elem, x.shape.join(", "));
    if r.refused.is_empty() {
        if let Some(i) = &o.input {
            writeln!(out, "  input: {}", io(i))?;
        }
        let outs: Vec<String> = o.outputs.iter().map(io).collect();
        writeln!(out, "  outputs: {}", outs.join(", "))?;
        let opsets: Vec<String> = o
            .opsets
            .iter()
            .map(|(d, v)| format!("{}={v}", if d.is_empty() { "ai.onnx" } else { d }))
            .collect();
        writeln!(
            out,
            "  {} nodes, IR {}, opsets {}, {} bytes",
            o.nodes,
            o.ir_version,
            opsets.join(" "),
            r.file_bytes
        )?;
    }
    for x in &r.refused {
        writeln!(out, "  refused: {}: {}", x.name, x.why)?;
    }
    match (&r.output, r.dry_run, r.refused.is_empty()) {
        (Some(p), _, _) => writeln!(out, "  wrote {p}"),
        (None, true, true) => writeln!(out, "  dry run: nothing written"),
        (None, _, _) => writeln!(out, "  nothing written"),
    }
}
