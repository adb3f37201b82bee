//! The names a pickle really makes Python look up, as the rules judge them.
//!
//! A global is judged under the name `find_class` imports, not the one written:
//! - below protocol 3 (the last PROTO before the op; none means 0), Python 2 names are mapped
//!   through `_compat_pickle` first (`httplib` → `http.client`, `__builtin__.eval` →
//!   `builtins.eval`), and from protocol 3 on they are not (`__builtin__` then fails to import);
//! - `builtins.getattr(receiver, 'attr')`, with a literal attribute and a receiver whose class
//!   the file names, is the attribute it fetches: `getattr(ZoneInfo, '_unpickle')` (how
//!   protocols 0–3 write a classmethod) is `zoneinfo.ZoneInfo._unpickle`, and `getattr([],
//!   'append')` (a bound method) is `builtins.list.append`. Anything else stays a call of
//!   `getattr`, a name resolver;
//! - `functools.partial(f, ...)` whose wrapped callables are all allowed names only binds
//!   arguments to them, and is not judged on its own (the wrapped names are globals of the
//!   file, judged as such).

use vm::{CallKind, Global, Node, Trace, Uses, Value};

use super::policy::{Judgement, Policy};

/// One name to judge.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    /// Offset to report.
    pub(crate) offset: u64,
    /// The module Python imports.
    pub(crate) module: String,
    /// The (possibly dotted) name Python looks up in it.
    pub(crate) name: String,
    /// How the pickle uses what the name gives.
    pub(crate) uses: Uses,
    /// How the file writes it, when that differs from `module.name`.
    pub(crate) written: Option<String>,
    /// A Python 2 name that `_compat_pickle` would map, named at protocol 3 or later, where
    /// Python 3 imports it as written (and normally fails to).
    pub(crate) python2_unmapped: Option<(String, String)>,
}

impl Judged {
    /// `module.name` as judged.
    pub(crate) fn dotted(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    /// `module.name`, followed by how the file writes it when that differs.
    pub(crate) fn shown(&self) -> String {
        match &self.written {
            Some(w) => format!("`{}` (written `{w}`)", self.dotted()),
            None => format!("`{}`", self.dotted()),
        }
    }
}

/// The name `find_class` looks up for a global.
pub(crate) fn loaded_name(g: &Global<'_>) -> Option<(String, String)> {
    let (module, name) = g.literal()?;
    Some(if g.protocol < 3 {
        knowledge::Knowledge::get().compat_map(module, name)
    } else {
        (module.to_owned(), name.to_owned())
    })
}

/// Every literal global of the trace, as judged (see the module docs).
pub(crate) fn judged<'t>(trace: &'t Trace<'t>, policy: &Policy) -> Vec<Judged> {
    let outside_calls = referenced_outside_calls(trace);
    let mut out = Vec::new();
    for g in &trace.globals {
        let Some((module, name)) = loaded_name(g) else {
            continue;
        };
        let written = (g.literal() != Some((module.as_str(), name.as_str()))).then(|| g.dotted());
        let python2_unmapped = g.literal().and_then(|(m, n)| {
            let mapped = knowledge::Knowledge::get().compat_map(m, n);
            (g.protocol >= 3 && mapped != (m.to_owned(), n.to_owned())).then_some(mapped)
        });
        let plain = Judged {
            offset: g.offset,
            module,
            name,
            uses: g.uses,
            written,
            python2_unmapped,
        };
        let only_called = !outside_calls.get(g.node.index()).copied().unwrap_or(true);
        match (plain.module.as_str(), plain.name.as_str()) {
            ("builtins", "getattr") if only_called => match resolve_getattrs(trace, policy, g) {
                Some(names) => out.extend(names),
                None => out.push(plain),
            },
            ("functools", "partial") if only_called && partial_of_allowed(trace, policy, g) => {}
            _ => out.push(plain),
        }
    }
    out
}

/// For every node, whether something refers to it other than as the callable of a call:
/// a container, an argument, a state, a root, a side effect.
fn referenced_outside_calls(trace: &Trace<'_>) -> Vec<bool> {
    let mut seen = vec![false; trace.nodes.len()];
    let mut mark = |v: Value| {
        if let Some(s) = v.node().and_then(|id| seen.get_mut(id.index())) {
            *s = true;
        }
    };
    for n in &trace.nodes {
        match n {
            // Every part of a call but its callable (the arguments are a tuple node of
            // their own, whose items are marked when it is visited).
            Node::Object(o) => {
                mark(o.args);
                o.kwargs.into_iter().for_each(&mut mark);
                o.state.iter().copied().for_each(&mut mark);
                o.items.iter().copied().for_each(&mut mark);
                for &(k, x) in &o.dict_items {
                    mark(k);
                    mark(x);
                }
            }
            other => other.for_each_child(&mut mark),
        }
    }
    for p in &trace.pickles {
        if let Some(r) = p.root {
            mark(r);
        }
    }
    for s in &trace.side_effects {
        mark(s.target);
        s.values.iter().copied().for_each(&mut mark);
    }
    seen
}

/// Calls whose callable is `g`.
fn calls_of<'t>(
    trace: &'t Trace<'t>,
    g: &Global<'_>,
) -> impl Iterator<Item = (Value, &'t vm::Object)> + 't {
    let target = Value::Node(g.node);
    trace
        .calls
        .iter()
        .filter_map(move |&id| match trace.nodes.get(id.index()) {
            Some(Node::Object(o)) if o.callable == target => Some((Value::Node(id), &**o)),
            _ => None,
        })
}

/// The positional arguments of a call.
fn args<'t>(trace: &'t Trace<'t>, o: &vm::Object) -> Option<&'t [Value]> {
    match trace.node(o.args)? {
        Node::Tuple(a) | Node::List(a) => Some(a),
        _ => None,
    }
}

/// `getattr(receiver, 'attr')` for every call of `g`, or `None` when one of them is not of
/// that form (the `getattr` is then judged as itself).
fn resolve_getattrs<'t>(
    trace: &'t Trace<'t>,
    policy: &Policy,
    g: &'t Global<'t>,
) -> Option<Vec<Judged>> {
    let mut out = Vec::new();
    for (result, o) in calls_of(trace, g) {
        if o.kind != CallKind::Reduce || o.kwargs.is_some() {
            return None;
        }
        let [receiver, attr] = args(trace, o)? else {
            return None;
        };
        let Some(Node::Str(attr)) = trace.node(*attr) else {
            return None;
        };
        let attr = std::str::from_utf8(attr).ok()?;
        let identifier = attr
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && attr.chars().all(|c| c == '_' || c.is_alphanumeric());
        if !identifier || policy.getattr_refused(attr) {
            return None;
        }
        let (module, class, what) = receiver_class(trace, *receiver)?;
        out.push(Judged {
            offset: o.offset,
            written: Some(format!("builtins.getattr({what}, {attr:?})")),
            module,
            name: format!("{class}.{attr}"),
            uses: uses_of(trace, result),
            python2_unmapped: None,
        });
    }
    (!out.is_empty()).then_some(out)
}

/// The class a getattr receiver is, or is an instance of: `(module, qualname, description)`.
fn receiver_class(trace: &Trace<'_>, v: Value) -> Option<(String, String, String)> {
    let builtin = |t: &str| {
        Some((
            "builtins".to_owned(),
            t.to_owned(),
            format!("<builtins.{t} object>"),
        ))
    };
    match v {
        Value::Int(_) => return builtin("int"),
        Value::Float(_) => return builtin("float"),
        Value::Bool(_) => return builtin("bool"),
        Value::None | Value::Node(_) => {}
    }
    match trace.node(v)? {
        Node::Global(_) => {
            let g = trace.as_global(v)?;
            let (m, n) = loaded_name(g)?;
            let what = format!("{m}.{n}");
            Some((m, n, what))
        }
        Node::Object(o) => {
            let cls = instance_class(trace, o)?;
            let g = trace.as_global(cls)?;
            let (m, n) = loaded_name(g)?;
            let what = format!("<{m}.{n} object>");
            Some((m, n, what))
        }
        Node::BigInt(_) => builtin("int"),
        Node::Str(_) => builtin("str"),
        Node::Bytes(_) => builtin("bytes"),
        Node::ByteArray(_) => builtin("bytearray"),
        Node::List(_) => builtin("list"),
        Node::Tuple(_) => builtin("tuple"),
        Node::Dict(_) => builtin("dict"),
        Node::Set(_) => builtin("set"),
        Node::FrozenSet(_) => builtin("frozenset"),
        _ => None,
    }
}

/// Builtin classes whose call builds an instance of themselves (`set([1])` at protocols 0–3).
const BUILTIN_TYPES: &[&str] = &[
    "set",
    "frozenset",
    "bytearray",
    "bytes",
    "complex",
    "int",
    "float",
    "str",
    "list",
    "dict",
    "tuple",
    "range",
    "slice",
    "bool",
];

/// The class of an object the pickle builds, when the file names it: `cls.__new__(cls)`
/// (NEWOBJ, OBJ, INST), `copyreg._reconstructor(cls, ...)` / `copyreg.__newobj__(cls, ...)`,
/// or a class called by REDUCE (a CapWords name, PEP 8).
fn instance_class(trace: &Trace<'_>, o: &vm::Object) -> Option<Value> {
    match o.kind {
        CallKind::NewObj | CallKind::NewObjEx | CallKind::Obj | CallKind::Inst => Some(o.callable),
        CallKind::Reduce => {
            let (m, n) = loaded_name(trace.as_global(o.callable)?)?;
            match (m.as_str(), n.as_str()) {
                ("copyreg", "_reconstructor" | "__newobj__" | "__newobj_ex__") => {
                    let first = *args(trace, o)?.first()?;
                    trace.as_global(first).map(|_| first)
                }
                ("builtins", t) if BUILTIN_TYPES.contains(&t) => Some(o.callable),
                _ if n
                    .rsplit('.')
                    .next()
                    .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_uppercase())) =>
                {
                    Some(o.callable)
                }
                _ => None,
            }
        }
    }
}

/// How the pickle uses a value (the result of a call): called, instantiated, given state,
/// passed to a call.
fn uses_of(trace: &Trace<'_>, v: Value) -> Uses {
    let mut uses = Uses::default();
    if let Some(Node::Object(o)) = trace.node(v)
        && !o.state.is_empty()
    {
        uses.insert(Uses::BUILT);
    }
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        if o.callable == v {
            uses.insert(match o.kind {
                CallKind::Reduce => Uses::CALLED,
                _ => Uses::INSTANTIATED,
            });
        } else if args(trace, o).is_some_and(|a| a.contains(&v)) {
            uses.insert(Uses::ARGUMENT);
        }
    }
    uses
}

/// Whether every call of `functools.partial` wraps an allowed name, in its arguments and in
/// any state BUILD gives the partial object (`partial.__setstate__` replaces the callable).
fn partial_of_allowed(trace: &Trace<'_>, policy: &Policy, g: &Global<'_>) -> bool {
    let allowed = |v: Value| {
        trace
            .as_global(v)
            .and_then(loaded_name)
            .is_some_and(|(m, n)| policy.judge(&m, &n) == Judgement::Allowed)
    };
    let mut any = false;
    for (_, o) in calls_of(trace, g) {
        any = true;
        let Some(first) = args(trace, o).and_then(|a| a.first().copied()) else {
            return false;
        };
        if !allowed(first) {
            return false;
        }
        for &state in &o.state {
            let func = match trace.node(state) {
                Some(Node::Tuple(t)) => t.first().copied(),
                _ => None,
            };
            if !func.is_some_and(allowed) {
                return false;
            }
        }
    }
    any
}
