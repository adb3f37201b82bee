use std::io::Read;

use base64::Engine as _;
use vm::{CallKind, Node, Trace, Value};

use super::{Check, Context, Rule};
use crate::security::{Finding, scan_depth};

pub(super) const RULE: Rule = Rule {
    code: "PD106",
    name: "nested-pickle",
    doc: "## What it does
Finds pickles embedded as bytes and handed to a loader inside the pickle (`pickle.loads`,
`_pickle.loads`, `dill.loads`, `joblib.load`, `torch.load`, ...), also when the bytes are
wrapped in `zlib.decompress` or `base64.b64decode`, and scans them with every rule. Each
inner finding is reported as PD106, with the inner rule's code and severity, at the offset of
the loading call.

## Why is this bad?
The outer pickle can look like it only calls `pickle.loads`; the payload that runs commands
sits inside an opaque bytes literal, often compressed or base64-encoded to hide it.

## What to do
Treat the file as hostile: it loads code it carries inside itself.",
    check: Check::Trace(check),
};

/// Loaders whose first argument is a pickle stream.
const LOADERS: &[(&str, &str)] = &[
    ("pickle", "loads"),
    ("_pickle", "loads"),
    ("cPickle", "loads"),
    ("dill", "loads"),
    ("dill._dill", "loads"),
    ("cloudpickle", "loads"),
    ("torch.serialization", "load"),
    ("torch", "load"),
    ("torch.storage", "_load_from_bytes"),
    ("joblib", "load"),
    ("numpy", "load"),
    ("torch._inductor.config", "load_config"),
    ("torch._dynamo.config", "load_config"),
];

/// Largest decoded payload followed, and how deep pickles may nest.
const MAX_PAYLOAD: u64 = 64 << 20;
const MAX_DEPTH: usize = 4;

/// The callable's name as the loader imports it (Python 2 names mapped below protocol 3).
fn callee(trace: &Trace<'_>, v: Value) -> Option<(String, String)> {
    crate::security::names::loaded_name(trace.as_global(v)?)
}

/// The bytes a value evaluates to: a bytes literal, or `zlib.decompress` / base64 decoding
/// of one.
fn bytes_value(trace: &Trace<'_>, v: Value, depth: usize) -> Option<Vec<u8>> {
    match trace.node(v)? {
        Node::Bytes(b) | Node::ByteArray(b) | Node::Str(b) => Some(b.to_vec()),
        Node::Object(o) if o.kind == CallKind::Reduce && depth < 8 => {
            let (module, name) = callee(trace, o.callable)?;
            let Some(Node::Tuple(args)) = trace.node(o.args) else {
                return None;
            };
            let inner = bytes_value(trace, *args.first()?, depth + 1)?;
            match (module.as_str(), name.as_str()) {
                ("zlib", "decompress") => {
                    let mut out = Vec::new();
                    flate2::read::ZlibDecoder::new(&inner[..])
                        .take(MAX_PAYLOAD)
                        .read_to_end(&mut out)
                        .ok()?;
                    Some(out)
                }
                ("base64", "b64decode" | "standard_b64decode" | "decodebytes")
                | ("binascii", "a2b_base64") => {
                    let text: Vec<u8> = inner
                        .into_iter()
                        .filter(|c| !c.is_ascii_whitespace())
                        .collect();
                    base64::engine::general_purpose::STANDARD.decode(text).ok()
                }
                ("base64", "urlsafe_b64decode") => {
                    base64::engine::general_purpose::URL_SAFE.decode(inner).ok()
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn check(cx: &Context<'_, '_>, out: &mut Vec<Finding>) {
    let (trace, policy, depth) = (cx.trace, cx.policy, cx.depth);
    if depth >= MAX_DEPTH {
        return;
    }
    for &id in &trace.calls {
        let Some(Node::Object(o)) = trace.nodes.get(id.index()) else {
            continue;
        };
        let Some((module, name)) = callee(trace, o.callable) else {
            continue;
        };
        if !LOADERS.iter().any(|(m, n)| *m == module && *n == name) {
            continue;
        }
        let Some(Node::Tuple(args)) = trace.node(o.args) else {
            continue;
        };
        let Some(payload) = args.first().and_then(|a| bytes_value(trace, *a, 0)) else {
            continue;
        };
        let inner = vm::run_with(&payload, vm::Budgets::small());
        for f in scan_depth(&inner, policy, depth + 1) {
            out.push(Finding {
                code: RULE.code,
                severity: f.severity,
                global: f.global,
                offset: o.offset,
                message: format!(
                    "nested pickle passed to `{module}.{name}`: {} at its offset {}: {}",
                    f.code, f.offset, f.message
                ),
                help: f.help,
            });
        }
    }
}
