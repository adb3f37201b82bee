//! `show --json`: the value graph as one JSON document (schema: docs/show-json.md).

use std::io::{self, Write};

use base64::Engine as _;
use pickle::text::code_points;
use vm::{Name, Node, Trace, Value};

/// Writes `s` (generalized UTF-8) as a JSON string; lone surrogates become `\udXXX` escapes,
/// which JSON allows, so no text is lost.
pub(crate) fn write_str(out: &mut impl Write, s: &[u8]) -> io::Result<()> {
    out.write_all(b"\"")?;
    if let Ok(plain) = std::str::from_utf8(s) {
        let mut start = 0;
        for (i, c) in plain.bytes().enumerate() {
            let esc: Option<&[u8]> = match c {
                b'"' => Some(b"\\\""),
                b'\\' => Some(b"\\\\"),
                b'\n' => Some(b"\\n"),
                b'\r' => Some(b"\\r"),
                b'\t' => Some(b"\\t"),
                0..=0x1f => None,
                _ => continue,
            };
            out.write_all(&plain.as_bytes()[start..i])?;
            match esc {
                Some(e) => out.write_all(e)?,
                None => write!(out, "\\u{c:04x}")?,
            }
            start = i + 1;
        }
        out.write_all(&plain.as_bytes()[start..])?;
    } else {
        for cp in code_points(s) {
            match cp {
                0x22 => out.write_all(b"\\\"")?,
                0x5c => out.write_all(b"\\\\")?,
                0..=0x1f | 0xd800..=0xdfff => write!(out, "\\u{cp:04x}")?,
                _ => {
                    let c = char::from_u32(cp).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.write_all(c.encode_utf8(&mut buf).as_bytes())?;
                }
            }
        }
    }
    out.write_all(b"\"")
}

/// Renders values of one trace.
pub(crate) struct JsonRenderer<'t, 'a> {
    trace: &'t Trace<'a>,
    needs_id: Vec<bool>,
    seen: Vec<bool>,
    full: bool,
}

impl<'t, 'a> JsonRenderer<'t, 'a> {
    pub(crate) fn new(trace: &'t Trace<'a>, full: bool) -> Self {
        JsonRenderer {
            trace,
            needs_id: super::needs_id(trace),
            seen: vec![false; trace.nodes.len()],
            full,
        }
    }

    fn list(&mut self, out: &mut impl Write, vs: &[Value], depth: usize) -> io::Result<()> {
        out.write_all(b"[")?;
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            self.value(out, *v, depth + 1)?;
        }
        out.write_all(b"]")
    }

    fn pairs(
        &mut self,
        out: &mut impl Write,
        ps: &[(Value, Value)],
        depth: usize,
    ) -> io::Result<()> {
        out.write_all(b"[")?;
        for (i, (k, v)) in ps.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"[")?;
            self.value(out, *k, depth + 1)?;
            out.write_all(b",")?;
            self.value(out, *v, depth + 1)?;
            out.write_all(b"]")?;
        }
        out.write_all(b"]")
    }

    fn name(&mut self, out: &mut impl Write, n: &Name<'_>, depth: usize) -> io::Result<()> {
        match n {
            Name::Literal(s) => write_str(out, s.as_bytes()),
            Name::Dynamic(v) => {
                out.write_all(b"{\"dynamic\":")?;
                self.value(out, *v, depth + 1)?;
                out.write_all(b"}")
            }
        }
    }

    /// Writes one value.
    pub(crate) fn value(&mut self, out: &mut impl Write, v: Value, depth: usize) -> io::Result<()> {
        match v {
            Value::None => out.write_all(b"null"),
            Value::Bool(b) => out.write_all(if b { b"true" } else { b"false" }),
            Value::Int(i) => write!(out, "{i}"),
            Value::Float(x) if x.is_finite() => {
                let s = serde_json::to_string(&x).unwrap_or_else(|_| "null".into());
                out.write_all(s.as_bytes())
            }
            Value::Float(x) => {
                let s = if x.is_nan() {
                    "nan"
                } else if x > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                write!(out, "{{\"float\":\"{s}\"}}")
            }
            Value::Node(id) => self.node(out, id, depth),
        }
    }

    fn node(&mut self, out: &mut impl Write, id: vm::NodeId, depth: usize) -> io::Result<()> {
        let i = id.index();
        let trace = self.trace;
        let Some(node) = trace.nodes.get(i) else {
            return out.write_all(b"null");
        };
        if self.needs_id[i] {
            if self.seen[i] {
                return write!(out, "{{\"ref\":{i}}}");
            }
            self.seen[i] = true;
        }
        if depth > super::MAX_DEPTH {
            return write!(
                out,
                "{{\"truncated\":\"nesting deeper than {}\"}}",
                super::MAX_DEPTH
            );
        }
        if matches!(node, Node::Str(_)) {
            // Strings are plain JSON strings; large shared ones still get an id wrapper.
            if self.needs_id[i] {
                write!(out, "{{\"id\":{i},\"str\":")?;
            }
            if let Node::Str(s) = node {
                write_str(out, s)?;
            }
            if self.needs_id[i] {
                out.write_all(b"}")?;
            }
            return Ok(());
        }
        out.write_all(b"{")?;
        if self.needs_id[i] {
            write!(out, "\"id\":{i},")?;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        match node {
            Node::Str(_) => unreachable!("handled above"),
            Node::BigInt(b) => {
                let mut s = String::new();
                pickle::pyrepr::long_repr(&mut s, b);
                write!(out, "\"int\":\"{s}\"")?;
            }
            Node::Bytes(b) | Node::ByteArray(b) => {
                let key = if matches!(node, Node::Bytes(_)) {
                    "bytes"
                } else {
                    "bytearray"
                };
                write!(out, "\"{key}\":\"{}\",\"len\":{}", b64.encode(b), b.len())?;
            }
            Node::List(v) => {
                out.write_all(b"\"list\":")?;
                self.list(out, v, depth)?;
            }
            Node::Tuple(v) => {
                out.write_all(b"\"tuple\":")?;
                self.list(out, v, depth)?;
            }
            Node::Set(v) => {
                out.write_all(b"\"set\":")?;
                self.list(out, v, depth)?;
            }
            Node::FrozenSet(v) => {
                out.write_all(b"\"frozenset\":")?;
                self.list(out, v, depth)?;
            }
            Node::Dict(p) => {
                out.write_all(b"\"dict\":")?;
                self.pairs(out, p, depth)?;
            }
            Node::Global(g) => {
                let g = &trace.globals[*g as usize];
                if g.is_dynamic() {
                    out.write_all(b"\"global\":null,\"module\":")?;
                    self.name(out, &g.module, depth)?;
                    out.write_all(b",\"name\":")?;
                    self.name(out, &g.name, depth)?;
                } else {
                    out.write_all(b"\"global\":")?;
                    write_str(out, g.dotted().as_bytes())?;
                }
                write!(out, ",\"offset\":{}", g.offset)?;
            }
            Node::Object(o) => {
                let summary = if self.full {
                    None
                } else {
                    container::numpy::array_summary(trace, Value::Node(id))
                        .filter(|s| s.nbytes > super::LARGE_ARRAY_BYTES)
                };
                if let Some(s) = summary {
                    out.write_all(b"\"ndarray\":{\"dtype\":")?;
                    write_str(out, s.dtype.as_bytes())?;
                    write!(
                        out,
                        ",\"shape\":{:?},\"order\":\"{}\",\"nbytes\":{}}},\"offset\":{}",
                        s.shape,
                        if s.fortran_order { "F" } else { "C" },
                        s.nbytes,
                        o.offset
                    )?;
                } else {
                    out.write_all(b"\"call\":")?;
                    self.value(out, o.callable, depth + 1)?;
                    write!(
                        out,
                        ",\"kind\":\"{}\",\"offset\":{},\"args\":",
                        o.kind.as_str(),
                        o.offset
                    )?;
                    self.value(out, o.args, depth + 1)?;
                    if let Some(k) = o.kwargs {
                        out.write_all(b",\"kwargs\":")?;
                        self.value(out, k, depth + 1)?;
                    }
                    match o.state.as_slice() {
                        [] => {}
                        [s] => {
                            out.write_all(b",\"state\":")?;
                            self.value(out, *s, depth + 1)?;
                        }
                        many => {
                            out.write_all(b",\"states\":")?;
                            self.list(out, many, depth)?;
                        }
                    }
                    if !o.items.is_empty() {
                        out.write_all(b",\"items\":")?;
                        self.list(out, &o.items, depth)?;
                    }
                    if !o.dict_items.is_empty() {
                        out.write_all(b",\"dict_items\":")?;
                        self.pairs(out, &o.dict_items, depth)?;
                    }
                }
            }
            Node::PersistentId { pid, offset } => {
                out.write_all(b"\"persistent_id\":")?;
                self.value(out, *pid, depth + 1)?;
                write!(out, ",\"offset\":{offset}")?;
            }
            Node::Ext { code, offset } => write!(out, "\"ext\":{code},\"offset\":{offset}")?,
            Node::Buffer { index, offset } => {
                write!(out, "\"buffer\":{index},\"offset\":{offset}")?
            }
            Node::ReadOnly(v) => {
                out.write_all(b"\"readonly\":")?;
                self.value(out, *v, depth + 1)?;
            }
        }
        out.write_all(b"}")
    }
}

/// Writes the `"pickles"`, `"globals"` and `"side_effects"` fields of one member (no braces).
pub(crate) fn write_trace_fields(
    out: &mut impl Write,
    trace: &Trace<'_>,
    full: bool,
) -> io::Result<()> {
    let mut r = JsonRenderer::new(trace, full);
    out.write_all(b"\"pickles\":[")?;
    for (i, p) in trace.pickles.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(
            out,
            "\n{{\"index\":{i},\"offset\":{},\"end\":{},\"protocol\":",
            p.start, p.end
        )?;
        match p.protocol {
            Some(n) => write!(out, "{n}")?,
            None => out.write_all(b"null")?,
        }
        if let Some((parent, _)) = p.parent {
            write!(out, ",\"nested_in\":{parent}")?;
        }
        write!(
            out,
            ",\"ops\":{},\"complete\":{},\"error\":",
            p.ops,
            p.error.is_none()
        )?;
        match &p.error {
            Some(e) => {
                out.write_all(b"{\"message\":")?;
                write_str(out, e.to_string().as_bytes())?;
                write!(out, ",\"offset\":{}", e.offset)?;
                out.write_all(b",\"opcode\":")?;
                match e.opcode {
                    Some(op) => write!(out, "\"{op}\"")?,
                    None => out.write_all(b"null")?,
                }
                out.write_all(b"}")?;
            }
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"value\":")?;
        match p.root {
            Some(v) => r.value(out, v, 0)?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"],\n\"globals\":[")?;
    for (i, g) in trace.globals.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n{\"module\":")?;
        r.name(out, &g.module, 0)?;
        out.write_all(b",\"name\":")?;
        r.name(out, &g.name, 0)?;
        write!(
            out,
            ",\"offset\":{},\"opcode\":\"{}\",\"pickle\":{},\"dynamic\":{},\"uses\":{:?}}}",
            g.offset,
            g.opcode,
            g.pickle,
            g.is_dynamic(),
            g.uses.names()
        )?;
    }
    out.write_all(b"],\n\"side_effects\":[")?;
    for (i, s) in trace.side_effects.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(
            out,
            "{{\"offset\":{},\"opcode\":\"{}\",\"target\":",
            s.offset, s.opcode
        )?;
        r.value(out, s.target, 0)?;
        out.write_all(b",\"values\":")?;
        r.list(out, &s.values, 0)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]")
}
