//! See inside: each pickle's value as a Python-like expression or a JSON value graph, and the
//! tensors of torch files with where their bytes lie.

use std::io::Write;

use std::io::Result as IoResult;

use container::{Format, Inventory, Member, MemberKind, Opened, gguf, onnx};
use serde_json::json;
use vm::Trace;

use crate::error::{Error, Result};
use crate::members::{self, MemberRun};
use crate::render::value::{json as jsonr, text::TextRenderer};
use crate::{Limits, target, trailing};

/// A member to show, with its symbolic run when it is a pickle.
struct Shown<'o, 'a> {
    member: &'o Member<'a>,
    run: Option<MemberRun<'o>>,
}

/// A byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Length.
    pub len: u64,
}

/// A tensor with where its bytes lie in the file.
#[derive(Debug, Clone)]
pub struct LocatedTensor {
    /// The tensor as the pickle describes it.
    pub tensor: container::torch::Tensor,
    /// The pickle member that describes it.
    pub member: String,
    /// Its storage's bytes in the file, when they are there.
    pub data: Option<ByteRange>,
}

/// What `show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowFormat {
    /// Each pickle's value as a Python-like expression.
    #[default]
    Text,
    /// The value graph as one JSON document (docs/show-json.md).
    Json,
    /// Counts only: a full symbolic run without rendering.
    Stats,
}

/// How to show a file.
#[derive(Debug, Clone, Default)]
pub struct ShowOptions {
    /// One member (`FILE:MEMBER`); default: every pickle and array member.
    pub member: Option<String>,
    /// The output format.
    pub format: ShowFormat,
    /// Every byte and array element instead of summaries.
    pub full: bool,
    /// Budgets.
    pub limits: Limits,
    /// Leave the value graphs allocated on return: a front end about to exit saves the time
    /// of freeing millions of nodes one by one.
    pub forget_on_return: bool,
    /// Build the value graph for `--stats` even when the data is plain (the plain-data pass,
    /// `vm::plain`, only counts). The output is the same; tests compare the two.
    pub full_graph: bool,
}

/// Members whose pickle stream stopped early: `(FILE:MEMBER, error)`. What was parsed before
/// the error was shown.
pub type Incomplete = Vec<(String, vm::VmError)>;

/// Shows `data` (named `path`) on `out`.
///
/// # Errors
/// The file cannot be opened ([`Error::Open`]), holds no model ([`Error::NotAModel`]), has
/// no such member, or writing fails.
pub fn show(
    out: &mut impl Write,
    data: &[u8],
    path: &str,
    opts: &ShowOptions,
) -> Result<Incomplete> {
    let opened =
        container::open_as_loader(data, &opts.limits.inflate).map_err(|e| Error::open(path, e))?;
    members::ensure_model(&opened, path)?;
    if let Some(inventory) = &opened.inventory {
        if opts.member.is_some() {
            // A data-only file has no members: say which there are (none).
            members::select(&opened, opts.member.as_deref(), path)?;
        }
        let io = |e| Error::io("standard output", "write", e);
        match opts.format {
            ShowFormat::Stats => writeln!(out, "tensors:      {}", inventory_len(inventory)),
            ShowFormat::Json => write_inventory_json(out, path, &opened.format, inventory),
            ShowFormat::Text => write_inventory_text(out, &opened.format, inventory),
        }
        .map_err(io)?;
        return Ok(Vec::new());
    }
    let selected: Vec<&Member<'_>> = match opts.member.as_deref() {
        Some(_) => members::select(&opened, opts.member.as_deref(), path)?,
        None => opened
            .members
            .iter()
            .filter(|m| matches!(m.kind, MemberKind::Pickle(_) | MemberKind::Array(_)))
            .collect(),
    };
    let budgets = opts.limits.budgets;
    // `--stats` only counts: plain data needs no value graph. Torch files read their tensors
    // from the graph, so they always get one.
    let counts_only = opts.format == ShowFormat::Stats
        && !opts.full_graph
        && !crate::members::is_torch(&opened.format);
    let shown_members: Vec<Shown<'_, '_>> = selected
        .into_iter()
        .map(|m| Shown {
            member: m,
            run: matches!(m.kind, MemberKind::Pickle(_)).then(|| {
                if counts_only {
                    members::run_for_stats(m, budgets)
                } else {
                    members::run(m, budgets)
                }
            }),
        })
        .collect();
    let tensors = tensor_rows(&opened, &shown_members);
    let io = |e| Error::io("standard output", "write", e);
    match opts.format {
        ShowFormat::Stats => {
            for s in &shown_members {
                if let Some(r) = &s.run {
                    if shown_members.len() > 1 || !s.member.name.is_empty() {
                        writeln!(out, "== {} ==", s.member.name).map_err(io)?;
                    }
                    write_stats(out, &r.trace).map_err(io)?;
                    if let Some(t) = trailing::of_member(&r.trace, s.member) {
                        writeln!(
                            out,
                            "trailing:     {} bytes at offset {}",
                            t.length, t.offset
                        )
                        .map_err(io)?;
                    }
                }
            }
            if !tensors.is_empty() {
                writeln!(out, "tensors:      {}", tensors.len()).map_err(io)?;
            }
        }
        ShowFormat::Json => {
            write_json(out, path, &opened, &shown_members, &tensors, opts.full).map_err(io)?;
        }
        ShowFormat::Text => {
            write_text(out, &opened, &shown_members, &tensors, opts.full).map_err(io)?;
        }
    }
    // A further pickle that stops early is trailing bytes to the loader, noted in the output.
    let incomplete: Incomplete = shown_members
        .iter()
        .filter_map(|s| {
            let trace = &s.run.as_ref()?.trace;
            if trailing::broken_tail(trace).is_some() {
                return None;
            }
            let e = trace.error()?;
            Some((target::place(path, &s.member.name), e.clone()))
        })
        .collect();
    if opts.forget_on_return {
        std::mem::forget(shown_members);
    }
    Ok(incomplete)
}

/// The tensors of a torch file with where their bytes lie in the file: what `show` lists and
/// what an export reads.
///
/// # Errors
/// The file cannot be opened.
pub fn locate_tensors(data: &[u8], path: &str, limits: &Limits) -> Result<Vec<LocatedTensor>> {
    let opened = container::open(data, &limits.inflate).map_err(|e| Error::open(path, e))?;
    let shown: Vec<Shown<'_, '_>> = opened
        .pickles()
        .map(|m| Shown {
            member: m,
            run: Some(members::run(m, limits.budgets)),
        })
        .collect();
    Ok(tensor_rows(&opened, &shown))
}

/// Tensors of a torch file, located in the archive.
fn tensor_rows(opened: &Opened<'_>, shown: &[Shown<'_, '_>]) -> Vec<LocatedTensor> {
    if !crate::members::is_torch(&opened.format) {
        return Vec::new();
    }
    let tar = (opened.format == Format::TorchTar)
        .then(|| container::torch::tar_tensors(opened).ok())
        .flatten();
    let mut rows = Vec::new();
    for s in shown {
        let Some(run) = &s.run else { continue };
        for t in container::torch::tensors_with(&run.trace, tar.as_ref()) {
            // Only bytes stored as is have a place in the file.
            let data = match members::torch_storage(
                opened,
                &s.member.name,
                &t.storage.key,
                tar.as_ref(),
            ) {
                Some(members::Bytes::File(r)) => Some(r),
                _ => None,
            };
            rows.push(LocatedTensor {
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
    tensors: &[LocatedTensor],
    full: bool,
) -> IoResult<()> {
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
                if let Some(t) = trailing::of_member(&run.trace, s.member) {
                    writeln!(out, "note: {}", t.note())?;
                }
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
                |r| format!("{} bytes at {}", r.len, r.start),
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

fn write_trace_text(out: &mut impl Write, trace: &Trace<'_>, full: bool) -> IoResult<()> {
    let mut r = TextRenderer::new(trace, full);
    // A further pickle that stops early is trailing bytes, noted after the values.
    let tail = trailing::broken_tail(trace);
    let top = trace
        .pickles
        .iter()
        .enumerate()
        .filter(|&(i, p)| p.parent.is_none() && Some(i) != tail)
        .count();
    for (i, p) in trace.pickles.iter().enumerate() {
        if Some(i) == tail {
            continue;
        }
        if top > 1 || p.parent.is_some() {
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
            None => match p.error.as_ref().and_then(|e| {
                (i == 0 && p.parent.is_none())
                    .then(|| analyze::security::not_a_pickle(e, p.start))
                    .flatten()
            }) {
                Some(raised) => writeln!(
                    out,
                    "<not a pickle: pickle.load fails on its first op with {raised}>"
                )?,
                None => writeln!(out, "<incomplete: the pickle stopped before STOP>")?,
            },
        }
    }
    Ok(())
}

fn write_json(
    out: &mut impl Write,
    path: &str,
    opened: &Opened<'_>,
    shown: &[Shown<'_, '_>],
    tensors: &[LocatedTensor],
    full: bool,
) -> IoResult<()> {
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
            let tail = trailing::of_member(&run.trace, m);
            write!(
                out,
                ",\"arrays\":{},\"external_files\":{},\"trailing\":{}",
                json!(arrays),
                json!(external),
                json!(tail)
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
                "data_offset": r.data.map(|d| d.start), "data_length": r.data.map(|d| d.len),
                "member": r.member, "offset": t.offset,
            })
        })
        .collect();
    writeln!(out, "{}}}", json!(rows))?;
    Ok(())
}

/// The lines `show --stats` prints for one pickle stream's trace.
///
/// # Errors
/// Writing fails.
pub fn write_stats(out: &mut impl Write, trace: &Trace<'_>) -> IoResult<()> {
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
    writeln!(out, "value nodes:  {}", trace.value_nodes())?;
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

fn inventory_len(inventory: &Inventory) -> usize {
    match inventory {
        Inventory::Safetensors(h) => h.tensors.len(),
        Inventory::Gguf(h) => h.tensors.len(),
        Inventory::Onnx(m) => m.tensors.len(),
    }
}

fn u64_shape_text(shape: &[u64]) -> String {
    let parts: Vec<String> = shape.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// A string for one line of text: escaped, and cut after 120 characters.
fn short_repr(s: &str) -> String {
    let n = s.chars().count();
    if n <= 120 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(120).collect();
        format!("{head:?}... ({n} characters)")
    }
}

fn gguf_value_text(v: &gguf::Value) -> String {
    match v {
        gguf::Value::Uint(x) => x.to_string(),
        gguf::Value::Int(x) => x.to_string(),
        gguf::Value::Float(x) => format!("{x:?}"),
        gguf::Value::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
        gguf::Value::String(s) => short_repr(s),
        gguf::Value::Array { item_type, len } => format!("[{len} {item_type} items]"),
    }
}

fn gguf_value_json(v: &gguf::Value) -> serde_json::Value {
    match v {
        gguf::Value::Uint(x) => json!(x),
        gguf::Value::Int(x) => json!(x),
        gguf::Value::Float(x) if x.is_finite() => json!(x),
        gguf::Value::Float(x) => json!({ "float": format!("{x}").to_lowercase() }),
        gguf::Value::Bool(b) => json!(b),
        gguf::Value::String(s) => json!(s),
        gguf::Value::Array { item_type, len } => {
            json!({"array": item_type.name(), "len": len})
        }
    }
}

fn onnx_dtype(code: i64) -> String {
    onnx::data_type_name(code).map_or_else(|| format!("type {code}"), str::to_owned)
}

fn write_inventory_text(
    out: &mut impl Write,
    format: &Format,
    inventory: &Inventory,
) -> IoResult<()> {
    match inventory {
        Inventory::Safetensors(h) => {
            writeln!(
                out,
                "format: {} (header {} bytes, data at {})",
                format.name(),
                h.header_len,
                h.data_start
            )?;
            match &h.metadata {
                Some(m) => {
                    writeln!(out, "metadata ({}):", m.len())?;
                    for (k, v) in m {
                        writeln!(out, "  {k}: {}", short_repr(v))?;
                    }
                }
                None => writeln!(out, "metadata: none")?,
            }
            writeln!(out, "tensors ({}):", h.tensors.len())?;
            for t in &h.tensors {
                writeln!(
                    out,
                    "  {}: {} {} {} bytes at {} (data_offsets [{}, {}])",
                    t.name,
                    t.dtype,
                    u64_shape_text(&t.shape),
                    t.len(),
                    t.file_offset,
                    t.data_offsets[0],
                    t.data_offsets[1]
                )?;
            }
        }
        Inventory::Gguf(h) => {
            writeln!(
                out,
                "format: {} (version {}, {}-endian, alignment {}, data at {})",
                format.name(),
                h.version,
                if h.big_endian { "big" } else { "little" },
                h.alignment,
                h.data_start
            )?;
            writeln!(out, "metadata ({}):", h.metadata.len())?;
            for kv in &h.metadata {
                writeln!(
                    out,
                    "  {}: {} = {}",
                    kv.key,
                    kv.value_type,
                    gguf_value_text(&kv.value)
                )?;
            }
            writeln!(out, "tensors ({}):", h.tensors.len())?;
            for t in &h.tensors {
                let size = t
                    .nbytes
                    .map_or_else(|| "size unknown".to_owned(), |n| format!("{n} bytes"));
                writeln!(
                    out,
                    "  {}: {} {} {size} at {} (offset {})",
                    t.name,
                    t.ggml_type,
                    u64_shape_text(&t.dims),
                    t.file_offset,
                    t.offset
                )?;
            }
        }
        Inventory::Onnx(m) => {
            let opsets: Vec<String> = m
                .opsets
                .iter()
                .map(|(d, v)| format!("{} {v}", if d.is_empty() { "ai.onnx" } else { d }))
                .collect();
            writeln!(
                out,
                "format: {} (ir_version {}, producer {:?} {:?}, opsets {})",
                format.name(),
                m.ir_version,
                m.producer_name,
                m.producer_version,
                opsets.join(", ")
            )?;
            writeln!(out, "graph: {:?}, {} nodes", m.graph_name, m.nodes)?;
            writeln!(out, "tensors ({}):", m.tensors.len())?;
            for t in &m.tensors {
                let data = match (&t.external, t.raw_data) {
                    (Some(e), _) => {
                        let loc = e.location.as_deref().unwrap_or("<no location>");
                        let span = match (e.offset, e.length) {
                            (Some(o), Some(n)) => format!(" (offset {o}, length {n})"),
                            (None, Some(n)) => format!(" (length {n})"),
                            (Some(o), None) => format!(" (offset {o})"),
                            (None, None) => String::new(),
                        };
                        let outside = if onnx::location_escapes(loc) {
                            ", OUTSIDE the model's folder"
                        } else {
                            ""
                        };
                        format!("external data in {loc:?}{span}{outside}")
                    }
                    (None, Some((o, n))) => format!("{n} bytes at {o}"),
                    (None, None) => "typed data fields".to_owned(),
                };
                let dims: Vec<String> = t.dims.iter().map(i64::to_string).collect();
                writeln!(
                    out,
                    "  {}: {} [{}] {}, {data}",
                    if t.name.is_empty() {
                        "<unnamed>"
                    } else {
                        &t.name
                    },
                    onnx_dtype(t.data_type),
                    dims.join(", "),
                    t.place.name()
                )?;
            }
        }
    }
    Ok(())
}

fn write_inventory_json(
    out: &mut impl Write,
    path: &str,
    format: &Format,
    inventory: &Inventory,
) -> IoResult<()> {
    // Keys in a fixed order: path and format first, as for pickle files.
    let mut doc: Vec<(&str, serde_json::Value)> = vec![
        ("path", json!(path)),
        ("format", json!(format.name())),
        ("members", json!([])),
        ("code_files", json!([])),
    ];
    match inventory {
        Inventory::Safetensors(h) => {
            doc.push((
                "header",
                json!({"header_len": h.header_len, "data_start": h.data_start}),
            ));
            let meta = h.metadata.as_ref().map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<serde_json::Map<_, _>>()
            });
            doc.push(("metadata", json!(meta)));
            let rows: Vec<serde_json::Value> = h
                .tensors
                .iter()
                .map(|t| {
                    json!({"path": t.name, "dtype": t.dtype.name(), "shape": t.shape,
                           "data_offsets": t.data_offsets, "data_offset": t.file_offset,
                           "data_length": t.len()})
                })
                .collect();
            doc.push(("tensors", json!(rows)));
        }
        Inventory::Gguf(h) => {
            doc.push((
                "header",
                json!({"version": h.version, "big_endian": h.big_endian,
                       "alignment": h.alignment, "data_start": h.data_start}),
            ));
            let meta: Vec<serde_json::Value> = h
                .metadata
                .iter()
                .map(|kv| {
                    json!({"key": kv.key, "type": kv.value_type.name(),
                           "value": gguf_value_json(&kv.value), "offset": kv.offset})
                })
                .collect();
            doc.push(("metadata", json!(meta)));
            let rows: Vec<serde_json::Value> = h
                .tensors
                .iter()
                .map(|t| {
                    json!({"path": t.name, "dtype": t.ggml_type.to_string(),
                           "ggml_type": t.ggml_type.0, "shape": t.dims, "offset": t.offset,
                           "data_offset": t.file_offset, "data_length": t.nbytes})
                })
                .collect();
            doc.push(("tensors", json!(rows)));
        }
        Inventory::Onnx(m) => {
            let opsets: Vec<serde_json::Value> = m
                .opsets
                .iter()
                .map(|(d, v)| json!({"domain": d, "version": v}))
                .collect();
            doc.push((
                "model",
                json!({"ir_version": m.ir_version, "producer_name": m.producer_name,
                       "producer_version": m.producer_version, "opset_import": opsets,
                       "graph": m.graph_name, "nodes": m.nodes}),
            ));
            let rows: Vec<serde_json::Value> = m
                .tensors
                .iter()
                .map(|t| {
                    let external = t.external.as_ref().map(|e| {
                        json!({"location": e.location, "offset": e.offset, "length": e.length,
                               "outside_folder": e.location.as_deref().is_some_and(onnx::location_escapes),
                               "entries": e.entries})
                    });
                    json!({"path": t.name, "dtype": onnx_dtype(t.data_type),
                           "data_type": t.data_type, "shape": t.dims, "place": t.place.name(),
                           "offset": t.offset,
                           "data_offset": t.raw_data.map(|r| r.0),
                           "data_length": t.raw_data.map(|r| r.1),
                           "external": external})
                })
                .collect();
            doc.push(("tensors", json!(rows)));
        }
    }
    out.write_all(b"{")?;
    for (i, (k, v)) in doc.iter().enumerate() {
        write!(out, "{}{}:{v}", if i > 0 { "," } else { "" }, json!(k))?;
    }
    writeln!(out, "}}")
}
