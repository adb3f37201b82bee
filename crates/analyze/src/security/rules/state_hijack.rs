use pickle::Opcode;
use vm::{Node, Trace, Value};

use super::{Check, Context, Rule};
use crate::security::{Finding, Severity};

pub(super) const RULE: Rule = Rule {
    code: "PD108",
    name: "state-hijack",
    doc: "## What it does
Reports BUILD ops used as `setattr` rather than to restore an object's data:
- BUILD applied to a global itself (a class or a module), which overwrites its attributes for
  the whole process;
- BUILD state that plants a callable under a name Python or the unpickler calls implicitly:
  `__setstate__`, `__reduce__`, `__getattr__`, `__call__`, ..., or `append`, `extend`, `add`
  and `__setitem__`, which APPENDS, ADDITEMS and SETITEMS call on non-builtin objects.

## Why is this bad?
BUILD with a `(None, slotstate)` pair calls `setattr(obj, key, value)` for every item. A first
BUILD can plant `__setstate__ = exec` on an instance, and a second BUILD then calls
`exec(state)`: code runs without a single REDUCE, and deny lists that only look at calls
miss it. The same trick overwrites module functions other code relies on (modelscan #85).

## Example
`c__main__\\nObj\\n)\\x81N}(V__setstate__\\ncbuiltins\\nexec\\nu\\x86b` then `Vprint(1)\\nb`.

## What to do
Do not load the file. Legitimate pickles restore plain data with BUILD.

## References
- https://github.com/python/cpython/blob/3.11/Modules/_pickle.c (`load_build`)
- https://github.com/protectai/modelscan/issues/85",
    check: Check::Trace(check),
};

/// Attribute names that Python or the unpickler look up and call on their own.
const IMPLICITLY_CALLED: &[&str] = &[
    "__setstate__",
    "__getstate__",
    "__reduce__",
    "__reduce_ex__",
    "__getattr__",
    "__getattribute__",
    "__setattr__",
    "__delattr__",
    "__call__",
    "__init__",
    "__new__",
    "__del__",
    "__class__",
    "__dict__",
    "__setitem__",
    "__getitem__",
    "__iter__",
    "__len__",
    "__hash__",
    "__eq__",
    "__repr__",
    "__str__",
    "__format__",
    "__bool__",
    "__index__",
    "__fspath__",
    "__enter__",
    "__exit__",
    "__set_name__",
    "__init_subclass__",
    "append",
    "extend",
    "add",
];

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let trace = cx.trace;
    for n in &trace.nodes {
        if let Node::Object(o) = n {
            for (&state, &at) in o.state.iter().zip(&o.built_at) {
                planted(trace, state, at, out);
            }
        }
    }
    for s in &trace.side_effects {
        if s.opcode != Opcode::BUILD {
            continue;
        }
        if let Some(g) = trace.as_global(s.target) {
            out.push(Finding {
                code: RULE.code,
                severity: Severity::Critical,
                global: Some(g.dotted()),
                offset: s.offset,
                message: format!(
                    "BUILD sets attributes on `{}` itself, changing it for everything in the process",
                    g.dotted()
                ),
                help: "do not load this file: legitimate pickles never give state to a class or module".to_owned(),
            });
        }
        for &state in &s.values {
            planted(trace, state, s.offset, out);
        }
    }
}

/// Reports callables planted by a BUILD state: a dict, or a `(state, slotstate)` pair.
fn planted(trace: &Trace<'_>, state: Value, offset: u64, out: &mut Vec<Finding>) {
    let dicts: Vec<&[(Value, Value)]> = match trace.node(state) {
        Some(Node::Dict(items)) => vec![items],
        Some(Node::Tuple(pair)) if pair.len() == 2 => pair
            .iter()
            .filter_map(|v| match trace.node(*v) {
                Some(Node::Dict(items)) => Some(items.as_slice()),
                _ => None,
            })
            .collect(),
        _ => return,
    };
    for (key, value) in dicts.into_iter().flatten() {
        let Some(Node::Str(name)) = trace.node(*key) else {
            continue;
        };
        let Some(name) = IMPLICITLY_CALLED
            .iter()
            .find(|n| n.as_bytes() == name.as_ref())
        else {
            continue;
        };
        let what = match trace.node(*value) {
            Some(Node::Global(_)) => trace
                .as_global(*value)
                .map_or_else(|| "a global".to_owned(), |g| format!("`{}`", g.dotted())),
            Some(Node::Object(_)) => "the result of a call".to_owned(),
            Some(Node::PersistentId { .. }) => "a persistent object".to_owned(),
            Some(Node::Ext { .. }) => "an extension-registry object".to_owned(),
            _ => continue,
        };
        out.push(Finding {
            code: RULE.code,
            severity: Severity::Critical,
            global: trace.as_global(*value).map(vm::Global::dotted),
            offset,
            message: format!(
                "BUILD plants {what} as `{name}`, which Python calls implicitly: the pickle runs it without REDUCE"
            ),
            help: "do not load this file: legitimate pickles restore plain data with BUILD".to_owned(),
        });
    }
}
