//! `pickle-doctor show`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Result;
use container::{Format, Member, MemberKind, Opened};
use serde_json::json;
use vm::Trace;

use crate::args::ShowArgs;
use crate::input;
use crate::render::{json as jsonr, text::TextRenderer};
use crate::target::{self, Run};

/// A member to show, with its symbolic run when it is a pickle.
struct Shown<'o, 'a> {
    member: &'o Member<'a>,
    run: Option<Run<'o>>,
}

/// A tensor with where its bytes lie in the file.
struct TensorRow {
    tensor: container::torch::Tensor,
    member: String,
    data: Option<(u64, u64)>,
}

pub(crate) fn run(args: &ShowArgs) -> Result<ExitCode> {
    let (path, member) = target::split(&args.file);
    let shown = path.display().to_string();
    let data = input::open(&path)?;
    let opened = match container::open(&data, &args.limits.limits()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pickle-doctor: {shown}: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    if let Err(e) = target::ensure_model(&opened, &shown) {
        eprintln!("pickle-doctor: {e}");
        return Ok(ExitCode::from(1));
    }
    let selected: Vec<&Member<'_>> = match member.as_deref() {
        Some(_) => target::select(&opened, member.as_deref(), &shown)?,
        None => opened
            .members
            .iter()
            .filter(|m| matches!(m.kind, MemberKind::Pickle(_) | MemberKind::Array(_)))
            .collect(),
    };
    let budgets = args.limits.budgets();
    let shown_members: Vec<Shown<'_, '_>> = selected
        .into_iter()
        .map(|m| Shown {
            member: m,
            run: matches!(m.kind, MemberKind::Pickle(_)).then(|| target::run(m, budgets)),
        })
        .collect();
    let tensors = tensor_rows(&opened, &shown_members);

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.stats {
        for s in &shown_members {
            if let Some(r) = &s.run {
                if shown_members.len() > 1 || !s.member.name.is_empty() {
                    writeln!(out, "== {} ==", s.member.name)?;
                }
                write_stats(&mut out, &r.trace)?;
            }
        }
        if !tensors.is_empty() {
            writeln!(out, "tensors:      {}", tensors.len())?;
        }
    } else if args.json {
        write_json(
            &mut out,
            &shown,
            &opened,
            &shown_members,
            &tensors,
            args.full,
        )?;
    } else {
        write_text(&mut out, &opened, &shown_members, &tensors, args.full)?;
    }
    out.flush()?;
    drop(out);
    let mut code = ExitCode::SUCCESS;
    for s in &shown_members {
        if let Some(e) = s.run.as_ref().and_then(|r| r.trace.error()) {
            eprintln!("pickle-doctor: {}: {e}", target::display(&shown, s.member));
            code = ExitCode::from(1);
        }
    }
    // The process is about to exit: freeing millions of nodes one by one would only cost time.
    std::mem::forget(shown_members);
    Ok(code)
}

/// Tensors of a torch file, located in the archive.
fn tensor_rows(opened: &Opened<'_>, shown: &[Shown<'_, '_>]) -> Vec<TensorRow> {
    let torch_like = matches!(
        opened.format,
        Format::TorchZip { .. }
            | Format::TorchScript { .. }
            | Format::TorchLegacy
            | Format::TorchTar
    );
    if !torch_like {
        return Vec::new();
    }
    let tar = (opened.format == Format::TorchTar)
        .then(|| container::torch::tar_tensors(opened).ok())
        .flatten();
    let mut rows = Vec::new();
    for s in shown {
        let Some(run) = &s.run else { continue };
        for t in container::torch::tensors_with(&run.trace, tar.as_ref()) {
            let key = &t.storage.key;
            let data = opened
                .member(&container::torch::storage_record(&s.member.name, key))
                .and_then(|m| m.file_offset.map(|o| (o, m.data.len() as u64)))
                .or_else(|| {
                    opened
                        .storages
                        .iter()
                        .find(|b| &b.key == key)
                        .or_else(|| tar.as_ref().and_then(|t| t.blob(key)))
                        .map(|b| (b.offset, b.length))
                });
            rows.push(TensorRow {
                tensor: t,
                member: s.member.name.clone(),
                data,
            });
        }
    }
    rows
}

/// TorchScript code members, listed but not read.
fn code_files<'o>(opened: &'o Opened<'_>) -> Vec<&'o str> {
    opened
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::Code)
        .map(|m| m.name.as_str())
        .collect()
}

fn shape_text(shape: &[i64]) -> String {
    let parts: Vec<String> = shape.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn write_text(
    out: &mut impl Write,
    opened: &Opened<'_>,
    shown: &[Shown<'_, '_>],
    tensors: &[TensorRow],
    full: bool,
) -> Result<()> {
    let whole = shown.len() == 1 && shown[0].member.name.is_empty();
    if !whole {
        writeln!(out, "format: {}", opened.format.name())?;
    }
    for s in shown {
        if !whole {
            writeln!(out, "== {} ==", s.member.name)?;
        }
        match (&s.run, &s.member.kind) {
            (Some(run), _) => {
                write_trace_text(out, &run.trace, full)?;
                if !run.arrays.is_empty() {
                    writeln!(out, "arrays ({}):", run.arrays.len())?;
                    for (i, a) in run.arrays.iter().enumerate() {
                        let what = if a.object {
                            "object array: nested pickle".to_owned()
                        } else {
                            format!("{} bytes", a.nbytes)
                        };
                        writeln!(
                            out,
                            "  {i}: {} {} order {} at offset {} ({what})",
                            a.dtype,
                            shape_text(&a.shape),
                            a.order,
                            a.data_offset
                        )?;
                    }
                }
                for f in &run.external_files {
                    writeln!(out, "external file required: {}", f.filename)?;
                }
            }
            (None, MemberKind::Array(h)) => {
                let shape: Vec<i64> = h.shape.iter().map(|&d| d as i64).collect();
                writeln!(
                    out,
                    "<ndarray dtype='{}' shape={} order='{}' {} bytes at offset {}>",
                    h.descr,
                    shape_text(&shape),
                    if h.fortran_order { 'F' } else { 'C' },
                    s.member.data.len(),
                    s.member
                        .file_offset
                        .map_or_else(|| "?".to_owned(), |o| o.to_string())
                )?;
            }
            _ => {}
        }
    }
    let code = code_files(opened);
    if !code.is_empty() {
        writeln!(out, "code files ({}): {}", code.len(), code.join(", "))?;
    }
    if !tensors.is_empty() {
        writeln!(out, "tensors ({}):", tensors.len())?;
        for r in tensors {
            let t = &r.tensor;
            let data = r.data.map_or_else(
                || "data not in file".to_owned(),
                |(o, n)| format!("{n} bytes at {o}"),
            );
            writeln!(
                out,
                "  {}: {} {} stride {} offset {}{}{} storage {} ({}, {data})",
                if t.path.is_empty() { "<root>" } else { &t.path },
                t.dtype,
                shape_text(&t.shape),
                shape_text(&t.stride),
                t.storage_offset,
                if t.requires_grad {
                    " requires_grad"
                } else {
                    ""
                },
                if t.quantized { " quantized" } else { "" },
                t.storage.key,
                t.storage.location,
            )?;
        }
    }
    Ok(())
}

fn write_trace_text(out: &mut impl Write, trace: &Trace<'_>, full: bool) -> Result<()> {
    let mut r = TextRenderer::new(trace, full);
    let top: Vec<_> = trace
        .pickles
        .iter()
        .filter(|p| p.parent.is_none())
        .collect();
    for (i, p) in trace.pickles.iter().enumerate() {
        if top.len() > 1 || p.parent.is_some() {
            match p.parent {
                Some((parent, _)) => writeln!(
                    out,
                    "== nested pickle {i} at offset {} (in pickle {parent}) ==",
                    p.start
                )?,
                None => writeln!(out, "== pickle {i} at offset {} ==", p.start)?,
            }
        }
        match p.root {
            Some(v) => writeln!(out, "{}", r.value(v, 0, 0))?,
            None => writeln!(out, "<incomplete: the pickle stopped before STOP>")?,
        }
    }
    Ok(())
}

fn write_json(
    out: &mut impl Write,
    path: &str,
    opened: &Opened<'_>,
    shown: &[Shown<'_, '_>],
    tensors: &[TensorRow],
    full: bool,
) -> Result<()> {
    out.write_all(b"{\"path\":")?;
    jsonr::write_str(out, path.as_bytes())?;
    write!(out, ",\"format\":\"{}\"", opened.format.name())?;
    if let Format::Joblib { compression } = &opened.format {
        let c = compression.map_or(serde_json::Value::Null, |c| c.name().into());
        write!(out, ",\"compression\":{c}")?;
    }
    out.write_all(b",\"members\":[")?;
    for (i, s) in shown.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let m = s.member;
        let (kind, loader) = match m.kind {
            MemberKind::Pickle(l) => ("pickle", Some(format!("{l:?}").to_lowercase())),
            MemberKind::Array(_) => ("array", None),
            MemberKind::Raw => ("raw", None),
            MemberKind::Code => ("code", None),
        };
        let head = json!({
            "name": m.name, "kind": kind, "loader": loader,
            "offset": m.file_offset, "size": m.data.len(),
        });
        let head = head.to_string();
        // Open the object and append the member's own fields.
        out.write_all(&head.as_bytes()[..head.len() - 1])?;
        if let Some(run) = &s.run {
            out.write_all(b",\n")?;
            jsonr::write_trace_fields(out, &run.trace, full)?;
            let arrays: Vec<serde_json::Value> = run
                .arrays
                .iter()
                .map(|a| {
                    json!({"dtype": a.dtype, "shape": a.shape, "order": a.order.to_string(),
                           "nbytes": a.nbytes, "offset": a.data_offset, "object": a.object})
                })
                .collect();
            let external: Vec<&str> = run
                .external_files
                .iter()
                .map(|f| f.filename.as_str())
                .collect();
            write!(
                out,
                ",\"arrays\":{},\"external_files\":{}",
                json!(arrays),
                json!(external)
            )?;
        }
        if let MemberKind::Array(h) = &m.kind {
            let arr = json!({"dtype": h.descr, "shape": h.shape, "order": if h.fortran_order {"F"} else {"C"},
                             "version": [h.version.0, h.version.1], "nbytes": m.data.len()});
            write!(out, ",\"array\":{arr}")?;
        }
        out.write_all(b"}")?;
    }
    let code = code_files(opened);
    write!(out, "],\n\"code_files\":{},\n\"tensors\":", json!(code))?;
    let rows: Vec<serde_json::Value> = tensors
        .iter()
        .map(|r| {
            let t = &r.tensor;
            json!({
                "path": t.path, "dtype": t.dtype, "shape": t.shape, "stride": t.stride,
                "storage_offset": t.storage_offset, "requires_grad": t.requires_grad,
                "quantized": t.quantized, "storage_key": t.storage.key,
                "storage_class": t.storage.class, "location": t.storage.location,
                "storage_numel": t.storage.numel,
                "data_offset": r.data.map(|d| d.0), "data_length": r.data.map(|d| d.1),
                "member": r.member, "offset": t.offset,
            })
        })
        .collect();
    writeln!(out, "{}}}", json!(rows))?;
    Ok(())
}

fn write_stats(out: &mut impl Write, trace: &Trace<'_>) -> Result<()> {
    let protocols: Vec<String> = trace
        .pickles
        .iter()
        .map(|p| p.protocol.map_or("0/1".into(), |n| n.to_string()))
        .collect();
    let mut unique: Vec<String> = trace.globals.iter().map(vm::Global::dotted).collect();
    unique.sort();
    unique.dedup();
    writeln!(
        out,
        "pickles:      {} (protocol {})",
        trace.pickles.len(),
        protocols.join(", ")
    )?;
    writeln!(out, "ops:          {}", trace.ops)?;
    writeln!(out, "value nodes:  {}", trace.nodes.len())?;
    writeln!(out, "items:        {}", trace.items)?;
    writeln!(
        out,
        "memo entries: {}",
        trace.pickles.iter().map(|p| p.memo_entries).sum::<usize>()
    )?;
    writeln!(
        out,
        "globals:      {} ({} distinct)",
        trace.globals.len(),
        unique.len()
    )?;
    writeln!(out, "calls:        {}", trace.calls.len())?;
    match trace.error() {
        Some(e) => writeln!(out, "complete:     no: {e}")?,
        None => writeln!(out, "complete:     yes")?,
    }
    Ok(())
}
