//! `show`: each pickle's value as a Python-like expression.
//!
//! Calls are written as Python would perform them: `mod.f(args)` for REDUCE,
//! `mod.Cls.__new__(args)` for NEWOBJ (the class argument is implied), then
//! `.__setstate__(state)` for BUILD, `.extend([...])` for APPENDS and `.update({...})` for
//! SETITEMS. Short containers stay on one line; long ones get one item per line.

use pickle::pyrepr;
use vm::{CallKind, Name, Node, Trace, Value};

const WIDTH: usize = 100;
const SHORT_BYTES: usize = 64;
const SHORT_STR: usize = 300;

/// Renders values of one trace.
pub(crate) struct TextRenderer<'t, 'a> {
    trace: &'t Trace<'a>,
    needs_id: Vec<bool>,
    seen: Vec<bool>,
    full: bool,
}

fn join(open: &str, parts: &[String], close: &str, indent: usize) -> String {
    let inline_len: usize =
        parts.iter().map(|p| p.len() + 2).sum::<usize>() + open.len() + close.len();
    if indent + inline_len <= WIDTH && parts.iter().all(|p| !p.contains('\n')) {
        return format!("{open}{}{close}", parts.join(", "));
    }
    let pad = " ".repeat(indent + 4);
    let mut s = String::from(open);
    s.push('\n');
    for p in parts {
        s.push_str(&pad);
        s.push_str(p);
        s.push_str(",\n");
    }
    s.push_str(&" ".repeat(indent));
    s.push_str(close);
    s
}

impl<'t, 'a> TextRenderer<'t, 'a> {
    pub(crate) fn new(trace: &'t Trace<'a>, full: bool) -> Self {
        TextRenderer {
            trace,
            needs_id: super::needs_id(trace),
            seen: vec![false; trace.nodes.len()],
            full,
        }
    }

    fn items(&mut self, vs: &[Value], indent: usize, depth: usize) -> Vec<String> {
        vs.iter()
            .map(|v| self.value(*v, indent + 4, depth + 1))
            .collect()
    }

    fn pairs(&mut self, ps: &[(Value, Value)], indent: usize, depth: usize) -> Vec<String> {
        ps.iter()
            .map(|(k, v)| {
                let k = self.value(*k, indent + 4, depth + 1);
                let v = self.value(*v, indent + 4, depth + 1);
                format!("{k}: {v}")
            })
            .collect()
    }

    fn name(&mut self, n: &Name<'_>, indent: usize, depth: usize) -> String {
        match n {
            Name::Literal(s) => s.to_string(),
            Name::Dynamic(v) => format!("<dynamic {}>", self.value(*v, indent, depth + 1)),
        }
    }

    /// Renders one value at the given indentation.
    pub(crate) fn value(&mut self, v: Value, indent: usize, depth: usize) -> String {
        let mut s = String::new();
        match v {
            Value::None => s.push_str("None"),
            Value::Bool(b) => s.push_str(if b { "True" } else { "False" }),
            Value::Int(i) => s = i.to_string(),
            Value::Float(x) => pyrepr::float_repr(&mut s, x),
            Value::Node(id) => s = self.node(id, indent, depth),
        }
        s
    }

    fn node(&mut self, id: vm::NodeId, indent: usize, depth: usize) -> String {
        let i = id.index();
        let trace = self.trace;
        let Some(node) = trace.nodes.get(i) else {
            return "<?>".into();
        };
        let mut anchor = String::new();
        if self.needs_id[i] {
            if self.seen[i] {
                return format!("#{i}");
            }
            self.seen[i] = true;
            anchor = format!("#{i}=");
        }
        if depth > super::MAX_DEPTH {
            return format!("{anchor}<nesting deeper than {}>", super::MAX_DEPTH);
        }
        let mut s = String::new();
        match node {
            Node::BigInt(b) => pyrepr::long_repr(&mut s, b),
            Node::Str(b) => {
                if !self.full && b.len() > SHORT_STR {
                    let cut = b[..SHORT_STR]
                        .iter()
                        .rposition(|&c| c & 0xc0 != 0x80)
                        .unwrap_or(0);
                    pyrepr::str_repr(&mut s, &b[..cut]);
                    s.push_str(&format!("...<{} bytes>", b.len()));
                } else {
                    pyrepr::str_repr(&mut s, b);
                }
            }
            Node::Bytes(b) | Node::ByteArray(b) => {
                let short = self.full || b.len() <= SHORT_BYTES;
                let shown = if short { &b[..] } else { &b[..16] };
                if matches!(node, Node::Bytes(_)) {
                    pyrepr::bytes_repr(&mut s, shown);
                } else {
                    pyrepr::bytearray_repr(&mut s, shown);
                }
                if !short {
                    s.push_str(&format!("...<{} bytes>", b.len()));
                }
            }
            Node::List(v) => {
                let parts = self.items(v, indent, depth);
                s = join("[", &parts, "]", indent);
            }
            Node::Tuple(v) => {
                let parts = self.items(v, indent, depth);
                s = if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    join("(", &parts, ")", indent)
                };
            }
            Node::Set(v) | Node::FrozenSet(v) => {
                let parts = self.items(v, indent, depth);
                let frozen = matches!(node, Node::FrozenSet(_));
                s = match (parts.is_empty(), frozen) {
                    (true, false) => "set()".into(),
                    (true, true) => "frozenset()".into(),
                    (false, false) => join("{", &parts, "}", indent),
                    (false, true) => join("frozenset({", &parts, "})", indent),
                };
            }
            Node::Dict(p) => {
                let parts = self.pairs(p, indent, depth);
                s = join("{", &parts, "}", indent);
            }
            Node::Global(g) => {
                let g = &trace.globals[*g as usize];
                let m = self.name(&g.module, indent, depth);
                let n = self.name(&g.name, indent, depth);
                s = format!("{m}.{n}");
            }
            Node::Object(o) => {
                if !self.full
                    && let Some(a) = container::numpy::array_summary(trace, Value::Node(id))
                        .filter(|a| a.nbytes > super::LARGE_ARRAY_BYTES)
                {
                    let shape: Vec<String> = a.shape.iter().map(i64::to_string).collect();
                    let shape = if shape.len() == 1 {
                        format!("({},)", shape[0])
                    } else {
                        format!("({})", shape.join(", "))
                    };
                    return format!(
                        "{anchor}<ndarray dtype='{}' shape={shape} order='{}' {} bytes>",
                        a.dtype,
                        if a.fortran_order { 'F' } else { 'C' },
                        a.nbytes
                    );
                }
                let callee = self.value(o.callable, indent, depth + 1);
                let args: Vec<String> = match trace.node(o.args) {
                    Some(Node::Tuple(t)) => self.items(t, indent, depth),
                    _ => vec![format!("*{}", self.value(o.args, indent + 4, depth + 1))],
                };
                let mut args = args;
                if let Some(k) = o.kwargs {
                    args.push(format!("**{}", self.value(k, indent + 4, depth + 1)));
                }
                let head = match o.kind {
                    CallKind::Reduce | CallKind::Obj | CallKind::Inst => format!("{callee}("),
                    CallKind::NewObj | CallKind::NewObjEx => format!("{callee}.__new__("),
                };
                s = join(&head, &args, ")", indent);
                // In the order pickle writes them: list items, dict items, then BUILD.
                if !o.items.is_empty() {
                    let parts = self.items(&o.items, indent, depth);
                    s.push_str(&join(".extend([", &parts, "])", indent));
                }
                if !o.dict_items.is_empty() {
                    let parts = self.pairs(&o.dict_items, indent, depth);
                    s.push_str(&join(".update({", &parts, "})", indent));
                }
                for st in &o.state {
                    let st = self.value(*st, indent, depth + 1);
                    s.push_str(&format!(".__setstate__({st})"));
                }
            }
            Node::PersistentId { pid, .. } => {
                let pid = self.value(*pid, indent, depth + 1);
                s = format!("persistent_load({pid})");
            }
            Node::Ext { code, .. } => s = format!("copyreg.extension({code})"),
            Node::Buffer { index, .. } => s = format!("<out-of-band buffer {index}>"),
            Node::ReadOnly(v) => {
                let v = self.value(*v, indent, depth + 1);
                s = format!("memoryview({v}).toreadonly()");
            }
        }
        anchor + &s
    }
}
