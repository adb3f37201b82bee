//! What an export writes: each tensor's name, type, shape and where its bytes are, the plain
//! data that goes into `__metadata__`, and what cannot be exported (refusals) or is left out.
//!
//! Names follow `state_dict`: dotted dict keys and list indices (`optimizer.state.0.exp_avg`),
//! and for a pickled `nn.Module` the names its `state_dict()` gives (parameters, then
//! persistent buffers, then submodules, recursively; `None` entries and non-persistent buffers
//! left out), found from the module's pickled `__dict__` (`_parameters`, `_buffers`,
//! `_non_persistent_buffers_set`, `_modules`).

use std::collections::{BTreeMap, HashMap, HashSet};

use container::{Format, MemberKind, Opened};
use serde::Serialize;
use vm::{Node, Trace, Value};

use super::dtype::{self, Dtype};
use crate::members::{self, MemberRun};
use crate::show::ByteRange;

pub(crate) use crate::members::Bytes;

/// What makes two names one tensor: storage key, dtype, first element, shape and stride.
pub(crate) type Identity = (String, Dtype, u64, Vec<u64>, Vec<u64>);

/// A tensor to write: a strided view over storage bytes.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) name: String,
    pub(crate) source: String,
    pub(crate) dtype: Dtype,
    /// Shape of the source view, in source elements.
    pub(crate) shape: Vec<u64>,
    /// Shape written to the header (F4 counts 4-bit values: the last dimension doubles).
    pub(crate) out_shape: Vec<u64>,
    /// Strides in elements.
    pub(crate) stride: Vec<u64>,
    /// Offset into the storage, in elements.
    pub(crate) offset: u64,
    pub(crate) storage: Bytes,
    /// Tied weights are the same (storage, dtype, offset, shape, stride), with elements.
    pub(crate) identity: Option<Identity>,
}

impl Planned {
    /// A whole numpy array (C or Fortran order) over its bytes.
    fn array(
        name: String,
        source: String,
        dtype: Dtype,
        shape: Vec<u64>,
        fortran: bool,
        storage: Bytes,
    ) -> Planned {
        let stride = if fortran {
            f_strides(&shape)
        } else {
            c_strides(&shape)
        };
        Planned {
            name,
            source,
            dtype,
            out_shape: shape.clone(),
            shape,
            stride,
            offset: 0,
            storage,
            identity: None,
        }
    }

    pub(crate) fn numel(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    pub(crate) fn nbytes(&self) -> Option<u64> {
        self.numel()?.checked_mul(dtype::source_size(self.dtype))
    }

    /// Whether the view is the C-contiguous run `[offset, offset + numel)`.
    pub(crate) fn contiguous(&self) -> bool {
        let mut expected = 1u64;
        for (&d, &s) in self.shape.iter().zip(&self.stride).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected = expected.saturating_mul(d);
        }
        true
    }
}

/// A tensor that cannot be exported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Its name (dotted path).
    pub name: String,
    /// Why.
    pub why: String,
}

/// A non-tensor value that is not plain data, so it is not in `__metadata__`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its dotted path.
    pub name: String,
    /// What it is.
    pub what: String,
}

/// Everything an export of one file would write.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub(crate) tensors: Vec<Planned>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) refused: Vec<Refused>,
}

use container::numpy::str_of;
use container::torch::{join, key_text};

/// The children of a container, each with the path component that names it: dict keys,
/// list and tuple indices, and an object's items, set items and pickled `__dict__` (its BUILD
/// state), as the tensor inventory names them. `skip_torch_metadata` leaves out the
/// `_metadata` attribute of an `OrderedDict` (torch's per-module version numbers).
fn children(trace: &Trace<'_>, v: Value, skip_torch_metadata: bool) -> Vec<(String, Value)> {
    match trace.node(v) {
        Some(Node::Dict(pairs)) => pairs
            .iter()
            .map(|&(k, x)| (key_text(trace, k), x))
            .collect(),
        Some(Node::List(items) | Node::Tuple(items)) => items
            .iter()
            .enumerate()
            .map(|(i, &x)| (i.to_string(), x))
            .collect(),
        Some(Node::Object(o)) => {
            let ordered_dict = skip_torch_metadata
                && callee(trace, v).is_some_and(|(m, n)| m == "collections" && n == "OrderedDict");
            let mut out: Vec<(String, Value)> = o
                .dict_items
                .iter()
                .map(|&(k, x)| (key_text(trace, k), x))
                .collect();
            out.extend(o.items.iter().enumerate().map(|(i, &x)| (i.to_string(), x)));
            if let Some(st) = state_dict(trace, v) {
                out.extend(
                    st.iter()
                        .map(|&(k, x)| (key_text(trace, k), x))
                        .filter(|(k, _)| !(ordered_dict && k == "_metadata")),
                );
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The callable of an object, as `module.name`.
fn callee(trace: &Trace<'_>, v: Value) -> Option<(String, String)> {
    let Some(Node::Object(o)) = trace.node(v) else {
        return None;
    };
    let (m, n) = trace.as_global(o.callable)?.literal()?;
    Some((m.to_owned(), n.to_owned()))
}

/// The pickled `__dict__` of an object (its BUILD state, or the dict part of a
/// `(dict, slotstate)` pair).
fn state_dict<'t>(trace: &'t Trace<'_>, v: Value) -> Option<&'t [(Value, Value)]> {
    let Some(Node::Object(o)) = trace.node(v) else {
        return None;
    };
    o.state.iter().find_map(|&s| match trace.node(s)? {
        Node::Dict(pairs) => Some(pairs.as_slice()),
        Node::Tuple(parts) => parts.iter().find_map(|&p| match trace.node(p)? {
            Node::Dict(pairs) => Some(pairs.as_slice()),
            _ => None,
        }),
        _ => None,
    })
}

fn lookup(trace: &Trace<'_>, pairs: &[(Value, Value)], key: &str) -> Option<Value> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| str_of(trace, *k).as_deref() == Some(key))
        .map(|&(_, v)| v)
}

/// Key/value pairs of a dict or an `OrderedDict` object.
fn pairs_of(trace: &Trace<'_>, v: Value) -> Option<Vec<(Value, Value)>> {
    match trace.node(v)? {
        Node::Dict(p) => Some(p.clone()),
        Node::Object(o) if !o.dict_items.is_empty() || o.state.is_empty() => {
            Some(o.dict_items.clone())
        }
        _ => None,
    }
}

/// An `nn.Module`'s pickled state: the dict with `_parameters`, `_buffers` and `_modules`.
fn module_state<'t>(trace: &'t Trace<'_>, v: Value) -> Option<&'t [(Value, Value)]> {
    let st = state_dict(trace, v)?;
    let has = |k| lookup(trace, st, k).is_some();
    (has("_parameters") && has("_buffers") && has("_modules")).then_some(st)
}

/// Every string in a set, list, tuple or `set(...)` call, a few levels down.
fn strings_in(trace: &Trace<'_>, v: Value, out: &mut HashSet<String>, depth: usize) {
    if depth > 4 {
        return;
    }
    match trace.node(v) {
        Some(Node::Str(_)) => {
            out.extend(str_of(trace, v));
        }
        Some(Node::Set(xs) | Node::FrozenSet(xs) | Node::List(xs) | Node::Tuple(xs)) => {
            for &x in xs {
                strings_in(trace, x, out, depth + 1);
            }
        }
        Some(Node::Object(o)) => {
            strings_in(trace, o.args, out, depth + 1);
            for &x in &o.items {
                strings_in(trace, x, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Renames inventory paths (`_modules.fc1._parameters.weight`) to `state_dict` names
/// (`fc1.weight`), and lists the inventory paths that `state_dict()` leaves out
/// (non-persistent buffers).
struct ModuleNames {
    /// Inventory path prefix of each module → its `state_dict` prefix.
    modules: HashMap<String, String>,
    /// Inventory paths of non-persistent buffers.
    hidden: HashSet<String>,
}

impl ModuleNames {
    fn find(trace: &Trace<'_>) -> ModuleNames {
        let mut names = ModuleNames {
            modules: HashMap::new(),
            hidden: HashSet::new(),
        };
        let mut seen = HashSet::new();
        for p in &trace.pickles {
            if let Some(root) = p.root {
                names.walk(trace, root, String::new(), None, &mut seen, 0);
            }
        }
        names
    }

    /// Walks containers like the tensor inventory does; `sd` is the `state_dict` prefix when
    /// inside a module.
    fn walk(
        &mut self,
        trace: &Trace<'_>,
        v: Value,
        path: String,
        sd: Option<String>,
        seen: &mut HashSet<usize>,
        depth: usize,
    ) {
        let Some(id) = v.node() else { return };
        if depth > 200 || !seen.insert(id.index()) {
            return;
        }
        if let Some(st) = module_state(trace, v) {
            let prefix = sd.unwrap_or_else(|| path.clone());
            self.modules.insert(path.clone(), prefix.clone());
            // A set: SET/FROZENSET nodes at protocol 4, `builtins.set([...])` below it.
            let mut hidden = HashSet::new();
            if let Some(set) = lookup(trace, st, "_non_persistent_buffers_set") {
                strings_in(trace, set, &mut hidden, 0);
            }
            if let Some(bufs) = lookup(trace, st, "_buffers").and_then(|b| pairs_of(trace, b)) {
                for (k, _) in bufs {
                    let name = key_text(trace, k);
                    if hidden.contains(&name) {
                        self.hidden.insert(join(&join(&path, "_buffers"), &name));
                    }
                }
            }
            if let Some(subs) = lookup(trace, st, "_modules").and_then(|m| pairs_of(trace, m)) {
                for (k, m) in subs {
                    let name = key_text(trace, k);
                    self.walk(
                        trace,
                        m,
                        join(&join(&path, "_modules"), &name),
                        Some(join(&prefix, &name)),
                        seen,
                        depth + 1,
                    );
                }
            }
            return;
        }
        for (k, x) in children(trace, v, false) {
            self.walk(trace, x, join(&path, &k), None, seen, depth + 1);
        }
    }

    /// The `state_dict` name of an inventory path, or `None` when `state_dict()` omits it.
    fn rename(&self, path: &str) -> Option<String> {
        if self.hidden.contains(path) {
            return None;
        }
        // The deepest module containing the path.
        let mut best: Option<(&str, &str)> = None;
        for (m, sd) in &self.modules {
            let inside = m.is_empty() || path.starts_with(&format!("{m}."));
            if inside && best.is_none_or(|(b, _)| m.len() > b.len()) {
                best = Some((m, sd));
            }
        }
        let Some((m, sd)) = best else {
            return Some(path.to_owned());
        };
        let rest = if m.is_empty() {
            path
        } else {
            &path[m.len() + 1..]
        };
        let rest = rest
            .strip_prefix("_parameters.")
            .or_else(|| rest.strip_prefix("_buffers."))
            .unwrap_or(rest);
        Some(join(sd, rest))
    }
}

fn describe(trace: &Trace<'_>, v: Value) -> String {
    match trace.node(v) {
        Some(Node::Object(_)) => callee(trace, v).map_or_else(
            || "an object".to_owned(),
            |(m, n)| format!("a {m}.{n} object"),
        ),
        Some(Node::Global(_)) => trace.as_global(v).map_or_else(
            || "a global".to_owned(),
            |g| format!("the global {}", g.dotted()),
        ),
        Some(n) => format!("a {}", n.type_name()),
        None => "a value".to_owned(),
    }
}

/// What the metadata walk needs besides the trace.
struct Leaves<'p> {
    /// Paths of tensors and of refused tensor-like objects: not metadata.
    taken: &'p HashSet<String>,
    /// Paths with a tensor below them.
    prefixes: HashSet<&'p str>,
    /// Inventory paths of modules: `state_dict()` holds only their tensors.
    modules: &'p ModuleNames,
}

/// Collects plain-data leaves (None, bool, int, float, str, and empty list or dict) by dotted
/// path into `metadata` as JSON text, walking dicts, lists and tuples down to them; lists the
/// rest as skipped.
fn leaves(trace: &Trace<'_>, taken: &HashSet<String>, modules: &ModuleNames, plan: &mut Plan) {
    let cx = Leaves {
        taken,
        prefixes: taken
            .iter()
            .flat_map(|p| {
                p.match_indices('.')
                    .map(move |(i, _)| &p[..i])
                    .chain(std::iter::once(""))
            })
            .collect(),
        modules,
    };
    let mut seen = HashSet::new();
    for p in &trace.pickles {
        if p.parent.is_none()
            && let Some(root) = p.root
        {
            leaf_walk(trace, &cx, root, String::new(), plan, &mut seen, 0);
        }
    }
}

fn leaf_walk(
    trace: &Trace<'_>,
    cx: &Leaves<'_>,
    v: Value,
    path: String,
    plan: &mut Plan,
    seen: &mut HashSet<usize>,
    depth: usize,
) {
    if cx.taken.contains(&path) || cx.modules.modules.contains_key(&path) || depth > 200 {
        return;
    }
    let leaf = |text: String, plan: &mut Plan| {
        if !path.is_empty() {
            plan.metadata.insert(path.clone(), text);
        }
    };
    let skip = |plan: &mut Plan| {
        plan.skipped.push(Skipped {
            what: describe(trace, v),
            name: if path.is_empty() {
                "<root>".to_owned()
            } else {
                path.clone()
            },
        });
    };
    match v {
        Value::None => return leaf("null".to_owned(), plan),
        Value::Bool(b) => return leaf(b.to_string(), plan),
        Value::Int(i) => return leaf(i.to_string(), plan),
        Value::Float(x) => {
            return match serde_json::Number::from_f64(x) {
                Some(n) => leaf(n.to_string(), plan),
                None => plan.skipped.push(Skipped {
                    name: path.clone(),
                    what: format!("the float {x} (not JSON)"),
                }),
            };
        }
        Value::Node(id) => {
            if !seen.insert(id.index()) {
                return;
            }
        }
    }
    let on_the_way = cx.prefixes.contains(path.as_str());
    let go = |x: Value, p: String, plan: &mut Plan, seen: &mut HashSet<usize>| {
        leaf_walk(trace, cx, x, p, plan, seen, depth + 1);
    };
    match trace.node(v) {
        Some(Node::Str(s)) => match std::str::from_utf8(s) {
            Ok(text) => leaf(serde_json::Value::from(text).to_string(), plan),
            Err(_) => skip(plan),
        },
        Some(Node::List(items) | Node::Tuple(items)) if items.is_empty() => {
            leaf("[]".to_owned(), plan);
        }
        Some(Node::Dict(pairs)) if pairs.is_empty() => leaf("{}".to_owned(), plan),
        Some(Node::List(_) | Node::Tuple(_) | Node::Dict(_)) => {
            for (k, x) in children(trace, v, true) {
                go(x, join(&path, &k), plan, seen);
            }
        }
        Some(Node::Object(o)) => {
            let ordered_dict =
                callee(trace, v).is_some_and(|(m, n)| m == "collections" && n == "OrderedDict");
            if !ordered_dict && !on_the_way {
                return skip(plan);
            }
            if ordered_dict && o.dict_items.is_empty() && !on_the_way {
                return leaf("{}".to_owned(), plan);
            }
            // `state_dict()` returns an OrderedDict whose `_metadata` attribute holds torch's
            // per-module version numbers: bookkeeping of the format, not the user's data.
            for (k, x) in children(trace, v, true) {
                go(x, join(&path, &k), plan, seen);
            }
        }
        _ => skip(plan),
    }
}

/// Tensors torch rebuilds in ways the dense inventory does not describe, by the path where
/// they sit: sparse, nested, and tensors without stored data.
fn special_tensors(trace: &Trace<'_>) -> Vec<(String, &'static str)> {
    let names = node_names(trace);
    let mut out = Vec::new();
    for (i, n) in trace.nodes.iter().enumerate() {
        let Node::Object(o) = n else { continue };
        let Some((m, name)) = trace.as_global(o.callable).and_then(|g| g.literal()) else {
            continue;
        };
        if !m.starts_with("torch") {
            continue;
        }
        let why = match name {
            n if n.starts_with("_rebuild_sparse") => {
                "a sparse tensor: safetensors stores dense arrays only; call .to_dense() in Python first"
            }
            "_rebuild_nested_tensor" => "a nested tensor: safetensors stores dense arrays only",
            "_rebuild_wrapper_subclass"
            | "_rebuild_device_tensor_from_numpy"
            | "_rebuild_meta_tensor_no_storage" => {
                "no storage: a tensor on the meta device (or a wrapper subclass) has no data in the file"
            }
            _ => continue,
        };
        let path = names
            .get(&i)
            .cloned()
            .unwrap_or_else(|| format!("<object at offset {}>", o.offset));
        out.push((path, why));
    }
    out
}

/// Plans a torch file's tensors.
pub(crate) fn torch(opened: &Opened<'_>, runs: &[(usize, MemberRun<'_>)]) -> Plan {
    let mut plan = Plan::default();
    let tar = (opened.format == Format::TorchTar)
        .then(|| container::torch::tar_tensors(opened).ok())
        .flatten();
    // A torch zip records its byte order: a big-endian machine's storages are byte-swapped,
    // which torch.load undoes and safetensors (little-endian) cannot express.
    let big_endian = opened
        .members
        .iter()
        .find(|m| m.name == "byteorder" || m.name.ends_with("/byteorder"))
        .is_some_and(|bo| bo.data.as_ref() != b"little");
    for (member_index, run) in runs {
        let member = &opened.members[*member_index];
        let trace = &run.trace;
        let modules = ModuleNames::find(trace);
        let specials = special_tensors(trace);
        let mut paths: HashSet<String> = HashSet::new();
        for (path, why) in &specials {
            paths.insert(path.clone());
            plan.refused.push(Refused {
                name: modules.rename(path).unwrap_or_else(|| path.clone()),
                why: (*why).to_owned(),
            });
        }
        let under_special = |p: &str| {
            specials
                .iter()
                .any(|(s, _)| p == s || p.starts_with(&format!("{s}.")))
        };
        let inventory = container::torch::tensors_with(trace, tar.as_ref());
        for t in inventory {
            if under_special(&t.path) {
                continue;
            }
            paths.insert(t.path.clone());
            let Some(name) = modules.rename(&t.path) else {
                continue;
            };
            let name = if name.is_empty() {
                "<root>".to_owned()
            } else {
                name
            };
            let refuse = |why: String, plan: &mut Plan| {
                plan.refused.push(Refused {
                    name: name.clone(),
                    why,
                });
            };
            if big_endian {
                refuse(
                    "big-endian: the archive's byteorder record is not \"little\" and safetensors is little-endian; load it with torch on any machine and save it again".to_owned(),
                    &mut plan,
                );
                continue;
            }
            if t.quantized {
                refuse(
                    format!(
                        "quantized tensor ({}): its scale and zero point have no place in safetensors; dequantize it in Python first",
                        t.dtype
                    ),
                    &mut plan,
                );
                continue;
            }
            let dtype = match dtype::from_torch(&t.dtype) {
                Ok(d) => d,
                Err(why) => {
                    refuse(why, &mut plan);
                    continue;
                }
            };
            let dims: Option<Vec<u64>> = t.shape.iter().map(|&d| u64::try_from(d).ok()).collect();
            let strides: Option<Vec<u64>> =
                t.stride.iter().map(|&d| u64::try_from(d).ok()).collect();
            let (Some(shape), Some(stride), Ok(offset)) =
                (dims, strides, u64::try_from(t.storage_offset))
            else {
                refuse("negative shape, stride or offset".to_owned(), &mut plan);
                continue;
            };
            if shape.len() != stride.len() {
                refuse("shape and stride differ in length".to_owned(), &mut plan);
                continue;
            }
            let mut out_shape = shape.clone();
            if dtype == Dtype::F4 {
                match out_shape
                    .last_mut()
                    .and_then(|d| d.checked_mul(2).map(|x| (d, x)))
                {
                    Some((d, x)) => *d = x,
                    None => {
                        refuse("a 0-d float4 pair has no F4 shape".to_owned(), &mut plan);
                        continue;
                    }
                }
            }
            let key = &t.storage.key;
            let located = members::torch_storage(opened, &member.name, key, tar.as_ref());
            let Some(storage) = located else {
                refuse(
                    format!(
                        "its storage {key} is not in the file ({})",
                        t.storage.location
                    ),
                    &mut plan,
                );
                continue;
            };
            plan.tensors.push(Planned {
                name,
                source: t.path.clone(),
                dtype,
                identity: Some((key.clone(), dtype, offset, shape.clone(), stride.clone())),
                out_shape,
                shape,
                stride,
                offset,
                storage,
            });
        }
        leaves(trace, &paths, &modules, &mut plan);
    }
    plan
}

/// C-order strides (in elements) of a shape.
fn c_strides(shape: &[u64]) -> Vec<u64> {
    let mut s = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1].saturating_mul(shape[i + 1]);
    }
    s
}

/// Fortran-order strides.
fn f_strides(shape: &[u64]) -> Vec<u64> {
    let mut s = vec![1u64; shape.len()];
    for i in 1..shape.len() {
        s[i] = s[i - 1].saturating_mul(shape[i - 1]);
    }
    s
}

/// Plans an npy, npz or joblib file's arrays.
pub(crate) fn numpy(opened: &Opened<'_>, budgets: vm::Budgets) -> Plan {
    let mut plan = Plan::default();
    for (i, m) in opened.members.iter().enumerate() {
        match &m.kind {
            MemberKind::Array(h) => {
                let name = m.name.strip_suffix(".npy").unwrap_or(&m.name).to_owned();
                let name = if name.is_empty() {
                    "array".to_owned()
                } else {
                    name
                };
                let dtype = match dtype::from_numpy(&h.descr) {
                    Ok(d) => d,
                    Err(why) => {
                        plan.refused.push(Refused { name, why });
                        continue;
                    }
                };
                let whole = ByteRange {
                    start: 0,
                    len: m.data.len() as u64,
                };
                plan.tensors.push(Planned::array(
                    name,
                    m.name.clone(),
                    dtype,
                    h.shape.clone(),
                    h.fortran_order,
                    Bytes::within(i, m.file_offset, whole),
                ));
            }
            // An npy holding a pickle is an object array.
            MemberKind::Pickle(_) if matches!(opened.format, Format::Npy | Format::Npz) => {
                let name = m.name.strip_suffix(".npy").unwrap_or(&m.name);
                plan.refused.push(Refused {
                    name: if name.is_empty() { "array" } else { name }.to_owned(),
                    why: "an object array (its elements are Python objects, pickled)".to_owned(),
                });
            }
            MemberKind::Pickle(_) => {
                let run = members::run(m, budgets);
                joblib_arrays(&run, i, m.file_offset, &mut plan);
            }
            _ => {}
        }
    }
    plan
}

/// The inline arrays of a joblib pickle, named by where their wrappers sit.
fn joblib_arrays(run: &MemberRun<'_>, member: usize, file_offset: Option<u64>, plan: &mut Plan) {
    let trace = &run.trace;
    let names = node_names(trace);
    let mut paths = HashSet::new();
    for (k, a) in run.arrays.iter().enumerate() {
        let name = a
            .wrapper
            .node()
            .and_then(|id| names.get(&id.index()).cloned())
            .unwrap_or_else(|| format!("array_{k}"));
        let name = if name.is_empty() {
            "array".to_owned()
        } else {
            name
        };
        paths.insert(name.clone());
        if a.object {
            plan.refused.push(Refused {
                name,
                why: "an object array (its elements are Python objects, pickled)".to_owned(),
            });
            continue;
        }
        let dtype = match dtype::from_numpy(&a.dtype) {
            Ok(d) => d,
            Err(why) => {
                plan.refused.push(Refused { name, why });
                continue;
            }
        };
        let Some(shape) = a
            .shape
            .iter()
            .map(|&d| u64::try_from(d).ok())
            .collect::<Option<Vec<u64>>>()
        else {
            plan.refused.push(Refused {
                name,
                why: "a negative dimension".to_owned(),
            });
            continue;
        };
        let range = ByteRange {
            start: a.data_offset as u64,
            len: a.nbytes as u64,
        };
        plan.tensors.push(Planned::array(
            name.clone(),
            name,
            dtype,
            shape,
            a.order == 'F',
            Bytes::within(member, file_offset, range),
        ));
    }
    let modules = ModuleNames {
        modules: HashMap::new(),
        hidden: HashSet::new(),
    };
    leaves(trace, &paths, &modules, plan);
}

/// The dotted path of every node reachable from the top-level pickles' roots (the first path
/// met), by node index.
fn node_names(trace: &Trace<'_>) -> HashMap<usize, String> {
    let mut names: HashMap<usize, String> = HashMap::new();
    let mut seen = HashSet::new();
    for p in &trace.pickles {
        if p.parent.is_none()
            && let Some(root) = p.root
        {
            name_nodes(trace, root, String::new(), &mut names, &mut seen, 0);
        }
    }
    names
}

/// Dotted paths of nodes, as the inventory names them.
fn name_nodes(
    trace: &Trace<'_>,
    v: Value,
    path: String,
    names: &mut HashMap<usize, String>,
    seen: &mut HashSet<usize>,
    depth: usize,
) {
    let Some(id) = v.node() else { return };
    if depth > 200 || !seen.insert(id.index()) {
        return;
    }
    names.entry(id.index()).or_insert_with(|| path.clone());
    for (k, x) in children(trace, v, false) {
        name_nodes(trace, x, join(&path, &k), names, seen, depth + 1);
    }
}
