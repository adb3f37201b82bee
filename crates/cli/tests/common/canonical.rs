//! The canonical value form of `tests/fixtures/canonical.py`, computed from the VM's graph.
//!
//! Python builds the expected form from the object `pickle.loads` returned; this builds the
//! same form from the symbolic graph. Equality means the graph is what CPython builds:
//! values, types, container order, sharing and cycles.

use serde_json::{Map, Value as J, json};
use vm::{Node, Trace, Value};

struct Canon<'t, 'a> {
    trace: &'t Trace<'a>,
    ids: Vec<Option<usize>>,
    next: usize,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

/// A value this side cannot know (made by an extension code or a persistent id, which the
/// loading environment resolves); matches anything in [`matches`].
const WILDCARD: &str = "?";

/// Equality of canonical forms, where an `other` of type [`WILDCARD`] matches any `other`.
pub(crate) fn matches(want: &J, got: &J) -> bool {
    match (want, got) {
        (J::Object(w), J::Object(g)) => {
            if g.get("t") == Some(&J::from("other")) && g.get("type") == Some(&J::from(WILDCARD)) {
                return true;
            }
            w.len() == g.len()
                && w.iter()
                    .all(|(k, v)| g.get(k).is_some_and(|x| matches(v, x)))
        }
        (J::Array(w), J::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| matches(a, b))
        }
        _ => want == got,
    }
}

/// `json.dumps(v, sort_keys=True)` with Python's default separators.
pub(crate) fn py_dumps(v: &J) -> String {
    match v {
        J::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}: {}", J::String((*k).clone()), py_dumps(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        J::Array(a) => format!(
            "[{}]",
            a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Python builds a few plain types by calling builtins, and `pickle` itself emits those calls
/// for protocols that lack a dedicated opcode: `set([...])`, `frozenset([...])`,
/// `bytearray(b'...')` / `bytearray('...', 'latin-1')`, `bytes(())`, and
/// `_codecs.encode('...', 'latin1')` for bytes below protocol 3. Module names are mapped with
/// `_compat_pickle` (`__builtin__` is `builtins`). These are pure functions of their
/// arguments, so evaluating them here is what CPython does.
fn builtin_name(trace: &Trace<'_>, v: Value) -> Option<&'static str> {
    let g = trace.as_global(v)?;
    let (m, n) = (g.module.literal()?, g.name.literal()?);
    match (m, n) {
        ("builtins" | "__builtin__", "set") => Some("set"),
        ("builtins" | "__builtin__", "frozenset") => Some("frozenset"),
        ("builtins" | "__builtin__", "bytearray") => Some("bytearray"),
        ("builtins" | "__builtin__", "bytes") => Some("bytes"),
        ("_codecs", "encode") => Some("encode"),
        _ => None,
    }
}

/// Latin-1 bytes of a str node's code points (each below 256 for pickle's own encodings).
fn latin1_bytes(b: &[u8]) -> Option<Vec<u8>> {
    pickle::text::code_points(b)
        .map(|c| u8::try_from(c).ok())
        .collect()
}

impl Canon<'_, '_> {
    /// The bytes a bytes-producing value stands for: a bytes node or a pure builtin call.
    fn bytes_of(&self, v: Value) -> Option<Vec<u8>> {
        match self.trace.node(v)? {
            Node::Bytes(b) | Node::ByteArray(b) => Some(b.to_vec()),
            Node::Object(_) => match self.builtin_call(v.node()?.index())? {
                ("bytes" | "bytearray", b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// Evaluates a pure builtin call node: (`"bytes"|"bytearray"`, payload) or
    /// (`"set"|"frozenset"`, empty payload; items via `call_items`).
    fn builtin_call(&self, i: usize) -> Option<(&'static str, Vec<u8>)> {
        let Node::Object(o) = &self.trace.nodes[i] else {
            return None;
        };
        if o.kind != vm::CallKind::Reduce
            || !o.state.is_empty() && !matches!(o.state.as_slice(), [Value::None])
        {
            return None;
        }
        let name = builtin_name(self.trace, o.callable)?;
        let Some(Node::Tuple(args)) = self.trace.node(o.args) else {
            return None;
        };
        let str_arg = |v: Value| match self.trace.node(v) {
            Some(Node::Str(s)) => latin1_bytes(s),
            _ => None,
        };
        match (name, args.as_slice()) {
            ("encode", [s, _enc]) => Some(("bytes", str_arg(*s)?)),
            ("bytes", []) => Some(("bytes", Vec::new())),
            ("bytes", [x]) if matches!(self.trace.node(*x), Some(Node::Tuple(t)) if t.is_empty()) => {
                Some(("bytes", Vec::new()))
            }
            ("bytearray", []) => Some(("bytearray", Vec::new())),
            ("bytearray", [b]) => Some(("bytearray", self.bytes_of(*b)?)),
            ("bytearray", [s, _enc]) => Some(("bytearray", str_arg(*s)?)),
            ("set" | "frozenset", [] | [_]) => Some((name, Vec::new())),
            _ => None,
        }
    }

    /// The items passed to `set(...)` / `frozenset(...)`.
    fn call_items(&self, args: Value) -> Vec<Value> {
        match self.trace.node(args) {
            Some(Node::Tuple(a)) => match a.first().and_then(|v| self.trace.node(*v)) {
                Some(Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v)) => {
                    v.clone()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn fresh_id(&mut self, i: usize) -> Result<usize, usize> {
        if let Some(id) = self.ids[i] {
            return Err(id);
        }
        let id = self.next;
        self.next += 1;
        self.ids[i] = Some(id);
        Ok(id)
    }

    fn walk(&mut self, v: Value) -> J {
        match v {
            Value::None => json!({"t": "none"}),
            Value::Bool(b) => json!({"t": "bool", "v": b}),
            Value::Int(i) => json!({"t": "int", "v": i.to_string()}),
            Value::Float(x) => {
                let mut s = String::new();
                pickle::pyrepr::float_repr(&mut s, x);
                json!({"t": "float", "v": s})
            }
            Value::Node(id) => self.node(id.index()),
        }
    }

    fn items(&mut self, vs: &[Value]) -> Vec<J> {
        vs.iter().map(|v| self.walk(*v)).collect()
    }

    fn sorted_set(&mut self, vs: &[Value]) -> Vec<J> {
        let mut items = self.items(vs);
        items.sort_by_key(py_dumps);
        items.dedup();
        items
    }

    fn node(&mut self, i: usize) -> J {
        let trace = self.trace;
        match &trace.nodes[i] {
            Node::BigInt(b) => {
                let mut s = String::new();
                pickle::pyrepr::long_repr(&mut s, b);
                json!({"t": "int", "v": s})
            }
            Node::Str(b) => json!({"t": "str", "hex": hex(b)}),
            Node::Bytes(b) => json!({"t": "bytes", "hex": hex(b)}),
            Node::ByteArray(b) => match self.fresh_id(i) {
                Ok(id) => json!({"t": "bytearray", "id": id, "hex": hex(b)}),
                Err(id) => json!({"t": "ref", "id": id}),
            },
            Node::Tuple(v) => json!({"t": "tuple", "items": self.items(v)}),
            Node::FrozenSet(v) => json!({"t": "frozenset", "items": self.sorted_set(v)}),
            Node::List(v) => match self.fresh_id(i) {
                Ok(id) => json!({"t": "list", "id": id, "items": self.items(v)}),
                Err(id) => json!({"t": "ref", "id": id}),
            },
            Node::Set(v) => match self.fresh_id(i) {
                Ok(id) => json!({"t": "set", "id": id, "items": self.sorted_set(v)}),
                Err(id) => json!({"t": "ref", "id": id}),
            },
            Node::Dict(pairs) => match self.fresh_id(i) {
                Ok(id) => {
                    // Python dict semantics: a repeated key keeps its first position and
                    // takes the last value.
                    let mut out: Vec<(J, J)> = Vec::new();
                    for (k, v) in pairs {
                        let k = self.walk(*k);
                        let v = self.walk(*v);
                        match out.iter_mut().find(|(ek, _)| *ek == k) {
                            Some(slot) => slot.1 = v,
                            None => out.push((k, v)),
                        }
                    }
                    let items: Vec<J> = out.into_iter().map(|(k, v)| json!([k, v])).collect();
                    json!({"t": "dict", "id": id, "items": items})
                }
                Err(id) => json!({"t": "ref", "id": id}),
            },
            Node::Object(_) if self.builtin_call(i).is_some() => {
                let (kind, payload) = self.builtin_call(i).unwrap_or_default();
                match kind {
                    "bytes" => json!({"t": "bytes", "hex": hex(&payload)}),
                    "bytearray" => match self.fresh_id(i) {
                        Ok(id) => json!({"t": "bytearray", "id": id, "hex": hex(&payload)}),
                        Err(id) => json!({"t": "ref", "id": id}),
                    },
                    _ => {
                        let Node::Object(o) = &trace.nodes[i] else {
                            unreachable!()
                        };
                        let items = self.call_items(o.args);
                        if kind == "frozenset" {
                            json!({"t": "frozenset", "items": self.sorted_set(&items)})
                        } else {
                            match self.fresh_id(i) {
                                Ok(id) => {
                                    json!({"t": "set", "id": id, "items": self.sorted_set(&items)})
                                }
                                Err(id) => json!({"t": "ref", "id": id}),
                            }
                        }
                    }
                }
            }
            other => {
                let mut m = Map::new();
                m.insert("t".into(), "other".into());
                // The type of what an extension code or a persistent id stands for depends on
                // the loading environment (copyreg registry, persistent_load): a wildcard.
                let ty = match other {
                    Node::Object(o) => Some(
                        trace
                            .as_global(o.callable)
                            .map_or_else(|| WILDCARD.to_owned(), vm::Global::dotted),
                    ),
                    _ => Some(WILDCARD.to_owned()),
                };
                m.insert(
                    "type".into(),
                    ty.unwrap_or_else(|| other.type_name().into()).into(),
                );
                J::Object(m)
            }
        }
    }
}

/// The canonical form of the first pickle's root value.
pub(crate) fn canonical(trace: &Trace<'_>) -> Option<J> {
    let root = trace.pickles.first()?.root?;
    let mut c = Canon {
        trace,
        ids: vec![None; trace.nodes.len()],
        next: 0,
    };
    Some(c.walk(root))
}
