//! PyTorch: the legacy (pre-1.6) stream format, the 0.1.x tar format, and the tensor inventory
//! of any torch pickle.
//!
//! Tensors are pickled as calls: `torch._utils._rebuild_tensor_v2(storage, storage_offset,
//! size, stride, requires_grad, backward_hooks, ...)` (v3 adds the dtype), wrapped by
//! `_rebuild_parameter` for parameters. The storage is a persistent id
//! `('storage', storage_type, key, location, numel[, view_metadata])`; its bytes live in the
//! zip record `<prefix>/data/<key>`, or after the pickles in the legacy format.

use std::borrow::Cow;

use vm::{Node, Trace, Value};

use crate::error::OpenError;
use crate::numpy::{shape, str_of, tuple};
use crate::{Format, Loader, Member, MemberKind, Opened};

/// Storage classes: (class name, dtype, element size in bytes).
const STORAGES: &[(&str, &str, u64)] = &[
    ("DoubleStorage", "torch.float64", 8),
    ("FloatStorage", "torch.float32", 4),
    ("HalfStorage", "torch.float16", 2),
    ("BFloat16Storage", "torch.bfloat16", 2),
    ("LongStorage", "torch.int64", 8),
    ("IntStorage", "torch.int32", 4),
    ("ShortStorage", "torch.int16", 2),
    ("CharStorage", "torch.int8", 1),
    ("ByteStorage", "torch.uint8", 1),
    ("BoolStorage", "torch.bool", 1),
    ("ComplexFloatStorage", "torch.complex64", 8),
    ("ComplexDoubleStorage", "torch.complex128", 16),
    ("QInt8Storage", "torch.qint8", 1),
    ("QUInt8Storage", "torch.quint8", 1),
    ("QInt32Storage", "torch.qint32", 4),
    ("QUInt4x2Storage", "torch.quint4x2", 1),
    ("QUInt2x4Storage", "torch.quint2x4", 1),
    ("UntypedStorage", "torch.uint8", 1),
];

/// dtypes that only `_rebuild_tensor_v3` names (with an `UntypedStorage`): element sizes.
const V3_DTYPES: &[(&str, u64)] = &[
    ("float64", 8),
    ("float32", 4),
    ("float16", 2),
    ("bfloat16", 2),
    ("int64", 8),
    ("int32", 4),
    ("int16", 2),
    ("int8", 1),
    ("uint8", 1),
    ("bool", 1),
    ("complex32", 4),
    ("complex64", 8),
    ("complex128", 16),
    ("uint16", 2),
    ("uint32", 4),
    ("uint64", 8),
    ("float8_e5m2", 1),
    ("float8_e4m3fn", 1),
    ("float8_e5m2fnuz", 1),
    ("float8_e4m3fnuz", 1),
    ("float8_e8m0fnu", 1),
    ("float4_e2m1fn_x2", 1),
    ("bits8", 1),
    ("bits16", 2),
    ("bits1x8", 1),
    ("bits2x4", 1),
    ("bits4x2", 1),
    ("qint8", 1),
    ("quint8", 1),
    ("qint32", 4),
    ("quint4x2", 1),
    ("quint2x4", 1),
];

/// Bytes per element of a torch dtype name (`torch.bfloat16` → 2).
#[must_use]
pub fn element_size(dtype: &str) -> Option<u64> {
    let name = dtype.strip_prefix("torch.").unwrap_or(dtype);
    V3_DTYPES.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
}

/// The record holding a storage's bytes: next to the pickle that names it, in a folder named
/// after the pickle (`archive/data.pkl` → `archive/data/<key>`; TorchScript's
/// `constants.pkl` → `constants/<key>`), as torch's readers look them up.
#[must_use]
pub fn storage_record(pickle_member: &str, key: &str) -> String {
    let stem = pickle_member.strip_suffix(".pkl").unwrap_or(pickle_member);
    format!("{stem}/{key}")
}

/// A storage persistent id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// Storage class name (`FloatStorage`, `UntypedStorage`, ...).
    pub class: String,
    /// The record key.
    pub key: String,
    /// Device location (`cpu`, `cuda:0`, ...).
    pub location: String,
    /// Elements (bytes for `UntypedStorage`).
    pub numel: u64,
}

impl Storage {
    /// dtype and element size of the storage class.
    #[must_use]
    pub fn class_dtype(&self) -> Option<(&'static str, u64)> {
        STORAGES
            .iter()
            .find(|(c, _, _)| *c == self.class)
            .map(|&(_, d, s)| (d, s))
    }
}

/// Reads a storage persistent id node.
#[must_use]
pub fn storage(trace: &Trace<'_>, v: Value) -> Option<Storage> {
    let Node::PersistentId { pid, .. } = trace.node(v)? else {
        return None;
    };
    let items = tuple(trace, *pid)?;
    let [tag, class, key, location, numel, ..] = items else {
        return None;
    };
    if str_of(trace, *tag).as_deref() != Some("storage") {
        return None;
    }
    let class = trace.as_global(*class)?.name.literal()?.to_owned();
    let key = str_of(trace, *key).or_else(|| match key {
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    })?;
    let Value::Int(numel) = numel else {
        return None;
    };
    Some(Storage {
        class,
        key,
        location: str_of(trace, *location).unwrap_or_default(),
        numel: *numel as u64,
    })
}

/// One tensor of a torch pickle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Where it sits: dict keys, list indices and object-state keys joined by `.`.
    pub path: String,
    /// `torch.float32`, ...
    pub dtype: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// Strides, in elements.
    pub stride: Vec<i64>,
    /// Offset into the storage, in elements.
    pub storage_offset: i64,
    /// `requires_grad`.
    pub requires_grad: bool,
    /// Whether it is a quantized tensor.
    pub quantized: bool,
    /// Its storage.
    pub storage: Storage,
    /// Offset of the offset pickle op that built it.
    pub offset: u64,
}

fn rebuild_name<'t>(trace: &'t Trace<'_>, v: Value) -> Option<(&'t str, &'t [Value])> {
    let Node::Object(o) = trace.node(v)? else {
        return None;
    };
    let g = trace.as_global(o.callable)?;
    let module = g.module.literal()?;
    if !module.starts_with("torch") {
        return None;
    }
    Some((g.name.literal()?, tuple(trace, o.args)?))
}

fn v3_dtype(trace: &Trace<'_>, v: Value) -> Option<String> {
    let g = trace.as_global(v)?;
    (g.module.literal()? == "torch").then(|| format!("torch.{}", g.name.literal().unwrap_or("?")))
}

/// Every tensor reachable from the pickle roots, depth-first in pickling order.
#[must_use]
pub fn tensors(trace: &Trace<'_>) -> Vec<Tensor> {
    tensors_with(trace, None)
}

/// Like [`tensors`], resolving the tar format's `persistent_load('<key>')` tensors through
/// the table read from its `tensors` and `storages` members.
#[must_use]
pub fn tensors_with(trace: &Trace<'_>, tar: Option<&TarTensors>) -> Vec<Tensor> {
    let mut out = Vec::new();
    let mut seen = vec![false; trace.nodes.len()];
    let cx = Cx { trace, tar };
    for p in &trace.pickles {
        if let Some(root) = p.root {
            walk(&cx, root, String::new(), &mut seen, &mut out, 0);
        }
    }
    out
}

/// What a walk needs besides the trace.
struct Cx<'t, 'a> {
    trace: &'t Trace<'a>,
    tar: Option<&'t TarTensors>,
}

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_owned()
    } else {
        format!("{path}.{part}")
    }
}

fn key_text(trace: &Trace<'_>, k: Value) -> String {
    match k {
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if b { "True" } else { "False" }.to_owned(),
        Value::None => "None".to_owned(),
        Value::Float(x) => x.to_string(),
        Value::Node(_) => str_of(trace, k).unwrap_or_else(|| "?".to_owned()),
    }
}

fn tensor_of(trace: &Trace<'_>, v: Value, path: &str) -> Option<Tensor> {
    let (name, args) = rebuild_name(trace, v)?;
    let Some(Node::Object(o)) = trace.node(v) else {
        return None;
    };
    match (name, args) {
        ("_rebuild_parameter" | "_rebuild_parameter_with_state", [data, rg, ..]) => {
            let mut t = tensor_of(trace, *data, path)?;
            t.requires_grad = matches!(rg, Value::Bool(true));
            Some(t)
        }
        (
            "_rebuild_tensor_v2" | "_rebuild_tensor_v3" | "_rebuild_qtensor",
            [st, off, size, stride, rest @ ..],
        ) => {
            let storage = storage(trace, *st)?;
            let quantized = name == "_rebuild_qtensor";
            let requires_grad = match (quantized, rest) {
                (true, [_, rg, ..]) | (false, [rg, ..]) => matches!(rg, Value::Bool(true)),
                _ => false,
            };
            let dtype = if name == "_rebuild_tensor_v3" {
                rest.get(2).and_then(|d| v3_dtype(trace, *d))
            } else {
                None
            }
            .or_else(|| storage.class_dtype().map(|(d, _)| d.to_owned()))
            .unwrap_or_else(|| "?".to_owned());
            let &Value::Int(off) = off else { return None };
            Some(Tensor {
                path: path.to_owned(),
                dtype,
                shape: shape(trace, *size)?,
                stride: shape(trace, *stride)?,
                storage_offset: off,
                requires_grad,
                quantized,
                storage,
                offset: o.offset,
            })
        }
        ("_rebuild_from_type_v2", [_func, _ty, inner, ..]) => {
            let inner_args = tuple(trace, *inner)?;
            inner_args.iter().find_map(|a| tensor_of(trace, *a, path))
        }
        _ => None,
    }
}

fn walk(
    cx: &Cx<'_, '_>,
    v: Value,
    path: String,
    seen: &mut [bool],
    out: &mut Vec<Tensor>,
    depth: usize,
) {
    let trace = cx.trace;
    let Some(id) = v.node() else { return };
    // A tensor reached again under another name (tied weights) is listed under each name;
    // containers are walked once, so this stays linear in the graph's edges.
    if let Some(t) = tensor_of(trace, v, &path) {
        out.push(t);
        return;
    }
    if depth > 200 || std::mem::replace(&mut seen[id.index()], true) {
        return;
    }
    if let (Some(tar), Some(Node::PersistentId { pid, offset })) = (cx.tar, trace.node(v))
        && let Some(t) = tar.tensor(&key_text(trace, *pid), &path, *offset)
    {
        out.push(t);
        return;
    }
    match &trace.nodes[id.index()] {
        Node::Dict(pairs) => {
            for &(k, x) in pairs {
                walk(
                    cx,
                    x,
                    join(&path, &key_text(trace, k)),
                    seen,
                    out,
                    depth + 1,
                );
            }
        }
        Node::List(items) | Node::Tuple(items) => {
            for (i, &x) in items.iter().enumerate() {
                walk(cx, x, join(&path, &i.to_string()), seen, out, depth + 1);
            }
        }
        Node::Object(o) => {
            for &(k, x) in &o.dict_items {
                walk(
                    cx,
                    x,
                    join(&path, &key_text(trace, k)),
                    seen,
                    out,
                    depth + 1,
                );
            }
            for (i, &x) in o.items.iter().enumerate() {
                walk(cx, x, join(&path, &i.to_string()), seen, out, depth + 1);
            }
            for &s in &o.state {
                // State is a dict, or (dict, slotstate).
                match trace.node(s) {
                    Some(Node::Tuple(parts)) => {
                        for &p in parts {
                            walk_state(cx, p, &path, seen, out, depth + 1);
                        }
                    }
                    _ => walk_state(cx, s, &path, seen, out, depth + 1),
                }
            }
            walk(cx, o.args, path.clone(), seen, out, depth + 1);
        }
        _ => {}
    }
}

fn walk_state(
    cx: &Cx<'_, '_>,
    s: Value,
    path: &str,
    seen: &mut [bool],
    out: &mut Vec<Tensor>,
    depth: usize,
) {
    let trace = cx.trace;
    match s.node().map(|id| &trace.nodes[id.index()]) {
        Some(Node::Dict(pairs)) => {
            if let Some(id) = s.node() {
                seen[id.index()] = true;
            }
            for &(k, x) in pairs {
                walk(cx, x, join(path, &key_text(trace, k)), seen, out, depth + 1);
            }
        }
        _ => walk(cx, s, path.to_owned(), seen, out, depth + 1),
    }
}

/// A storage's raw bytes in a legacy or tar file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageBlob {
    /// The storage key.
    pub key: String,
    /// Element count.
    pub numel: u64,
    /// Offset of the first data byte in the file.
    pub offset: u64,
    /// Data bytes.
    pub length: u64,
}

const LEGACY_MAGIC_P2: &[u8] = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// Whether `data` starts with the legacy format's magic-number pickle.
#[must_use]
pub fn is_legacy(data: &[u8]) -> bool {
    (data.len() > 14 && data[0] == 0x80 && data.get(2..14) == Some(LEGACY_MAGIC_P2))
        || data.starts_with(b"L119547037146038801333356L\n.")
}

fn damaged(what: &str, offset: usize, reason: impl Into<String>) -> OpenError {
    OpenError::Damaged {
        what: what.to_owned(),
        offset: offset as u64,
        reason: reason.into(),
    }
}

/// Opens the legacy format: five pickles (magic, protocol version, sys info, the object,
/// storage keys), then for each key in order an int64 element count and the raw bytes.
pub(crate) fn open_legacy(data: &[u8]) -> Result<Opened<'_>, OpenError> {
    const NAMES: [&str; 5] = [
        "magic_number.pkl",
        "protocol_version.pkl",
        "sys_info.pkl",
        "data.pkl",
        "storage_keys.pkl",
    ];
    let mut members = Vec::new();
    let mut pos = 0usize;
    let mut spans = Vec::new();
    for name in NAMES {
        let parsed = pickle::parse_one(data, pos);
        if let Some(e) = parsed.error {
            return Err(damaged(
                &format!("legacy torch {name}"),
                e.offset as usize,
                e.to_string(),
            ));
        }
        let end = parsed.end as usize;
        spans.push((pos, end));
        members.push(Member {
            name: name.to_owned(),
            kind: MemberKind::Pickle(Loader::Torch),
            data: Cow::Borrowed(&data[pos..end]),
            file_offset: Some(pos as u64),
        });
        pos = end;
    }
    // Element sizes come from the storage ids in the object pickle; the order from the keys.
    let (ms, me) = spans[3];
    let main = vm::run(&data[ms..me]);
    let mut sizes = std::collections::HashMap::new();
    for n in 0..main.nodes.len() {
        let v = Value::Node(vm::NodeId(n as u32));
        if let Some(s) = storage(&main, v) {
            let size = s.class_dtype().map_or(1, |(_, sz)| sz);
            sizes.insert(s.key.clone(), size);
        }
    }
    let (ks, ke) = spans[4];
    let keys_trace = vm::run(&data[ks..ke]);
    let keys: Vec<String> = keys_trace
        .pickles
        .first()
        .and_then(|p| p.root)
        .and_then(|r| match keys_trace.node(r) {
            Some(Node::List(items)) => {
                Some(items.iter().map(|k| key_text(&keys_trace, *k)).collect())
            }
            _ => None,
        })
        .ok_or_else(|| damaged("legacy torch storage keys", ks, "not a list"))?;
    let mut storages = Vec::new();
    for key in keys {
        let head = data.get(pos..pos + 8).ok_or_else(|| {
            damaged(
                &format!("legacy storage {key}"),
                pos,
                "missing element count",
            )
        })?;
        let numel = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
        let elem = sizes.get(&key).copied().unwrap_or(1);
        let length = numel.saturating_mul(elem);
        let start = pos + 8;
        let end = usize::try_from(length)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                damaged(
                    &format!("legacy storage {key}"),
                    pos,
                    format!("{length} bytes run past the end of the file"),
                )
            })?;
        members.push(Member {
            name: format!("data/{key}"),
            kind: MemberKind::Raw,
            data: Cow::Borrowed(&data[start..end]),
            file_offset: Some(start as u64),
        });
        storages.push(StorageBlob {
            key,
            numel,
            offset: start as u64,
            length,
        });
        pos = end;
    }
    Ok(Opened {
        format: Format::TorchLegacy,
        members,
        storages,
    })
}

/// Opens the 0.1.x tar format: members `sys_info`, `storages`, `tensors` and `pickle`.
pub(crate) fn open_tar(data: &[u8]) -> Result<Opened<'_>, OpenError> {
    let mut archive = tar::Archive::new(std::io::Cursor::new(data));
    let entries = archive
        .entries()
        .map_err(|e| damaged("tar archive", 0, e.to_string()))?;
    let mut members = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| damaged("tar entry", 0, e.to_string()))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let start = entry.raw_file_position() as usize;
        let size = entry.size() as usize;
        let bytes = data.get(start..start.saturating_add(size)).ok_or_else(|| {
            damaged(
                &format!("tar member {name}"),
                start,
                "runs past the end of the file",
            )
        })?;
        let kind = match name.as_str() {
            "sys_info" | "pickle" => MemberKind::Pickle(Loader::Torch),
            _ => MemberKind::Raw,
        };
        members.push(Member {
            name,
            kind,
            data: Cow::Borrowed(bytes),
            file_offset: Some(start as u64),
        });
    }
    if !members.iter().any(|m| m.name == "pickle") {
        return Err(damaged("torch tar", 0, "no 'pickle' member"));
    }
    Ok(Opened {
        format: Format::TorchTar,
        members,
        storages: Vec::new(),
    })
}

/// The 0.1.x tar format's tensor table: storages (`storages` member) and tensors (`tensors`
/// member) by key, as `torch.serialization`'s legacy tar loader reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TarTensors {
    /// Storages: key, class, location, element count, and where the bytes are in the file.
    pub storages: Vec<(String, Storage, StorageBlob)>,
    /// Tensors, by key.
    pub tensors: Vec<TarTensor>,
}

/// One entry of the tar format's `tensors` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarTensor {
    /// The key `persistent_load` receives.
    pub key: String,
    /// The storage it views.
    pub storage_key: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// Strides, in elements.
    pub stride: Vec<i64>,
    /// Offset into the storage, in elements.
    pub storage_offset: i64,
}

impl TarTensors {
    fn tensor(&self, key: &str, path: &str, offset: u64) -> Option<Tensor> {
        let t = self.tensors.iter().find(|t| t.key == key)?;
        let (_, storage, _) = self.storages.iter().find(|s| s.0 == t.storage_key)?;
        Some(Tensor {
            path: path.to_owned(),
            dtype: storage.class_dtype().map_or("?", |(d, _)| d).to_owned(),
            shape: t.shape.clone(),
            stride: t.stride.clone(),
            storage_offset: t.storage_offset,
            requires_grad: false,
            quantized: false,
            storage: storage.clone(),
            offset,
        })
    }

    /// Where a storage's bytes are.
    #[must_use]
    pub fn blob(&self, key: &str) -> Option<&StorageBlob> {
        self.storages.iter().find(|s| s.0 == key).map(|s| &s.2)
    }
}

/// Reads one pickle at `pos` of `data`, returning its trace and the offset after it.
fn read_pickle<'d>(
    data: &'d [u8],
    pos: usize,
    what: &str,
) -> Result<(Trace<'d>, usize), OpenError> {
    let mut m = vm::Machine::new(data, vm::Budgets::small());
    let end = m.run_pickle(pos);
    let t = m.finish();
    if let Some(e) = t.error() {
        return Err(damaged(what, e.offset as usize, e.to_string()));
    }
    Ok((t, end))
}

/// The leading pickle of a tar member: how many entries follow (capped).
fn read_count(data: &[u8], what: &str) -> Result<(i64, usize), OpenError> {
    let (t, end) = read_pickle(data, 0, what)?;
    let n = t.pickles[0]
        .root
        .and_then(|r| int_of(Some(&r)))
        .unwrap_or(0);
    Ok((n.clamp(0, 1 << 20), end))
}

fn root_items<'t>(t: &'t Trace<'_>) -> Option<&'t [Value]> {
    tuple(t, t.pickles.first()?.root?)
}

fn int_of(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

/// Reads the `storages` and `tensors` members of a tar-format file.
///
/// # Errors
/// A member that does not follow the layout, with the offset where it stops making sense.
pub fn tar_tensors(opened: &Opened<'_>) -> Result<TarTensors, OpenError> {
    let mut table = TarTensors::default();
    if let Some(m) = opened.member("storages") {
        let data: &[u8] = &m.data;
        let base = m.file_offset.unwrap_or(0);
        let (n, mut pos) = read_count(data, "tar storages count")?;
        for _ in 0..n {
            let (t, end) = read_pickle(data, pos, "tar storage header")?;
            let items =
                root_items(&t).ok_or_else(|| damaged("tar storage header", pos, "not a tuple"))?;
            let [key, location, class] = items else {
                return Err(damaged(
                    "tar storage header",
                    pos,
                    "not (key, location, storage_type)",
                ));
            };
            let key = key_text(&t, *key);
            let class = t
                .as_global(*class)
                .and_then(|g| g.name.literal())
                .unwrap_or("?")
                .to_owned();
            let location = str_of(&t, *location).unwrap_or_default();
            let head = data
                .get(end..end + 8)
                .ok_or_else(|| damaged("tar storage", end, "missing element count"))?;
            let numel = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
            let storage = Storage {
                class,
                key: key.clone(),
                location,
                numel,
            };
            let elem = storage.class_dtype().map_or(1, |(_, s)| s);
            let length = numel.saturating_mul(elem);
            let start = end + 8;
            let stop = usize::try_from(length)
                .ok()
                .and_then(|l| start.checked_add(l))
                .filter(|&e| e <= data.len())
                .ok_or_else(|| damaged("tar storage", end, "data runs past the member"))?;
            let blob = StorageBlob {
                key: key.clone(),
                numel,
                offset: base + start as u64,
                length,
            };
            table.storages.push((key, storage, blob));
            pos = stop;
        }
        // Then views: a list of (target key, root key, element offset, element count).
        if pos < data.len() {
            let (t, _) = read_pickle(data, pos, "tar storage views")?;
            let views: Vec<Value> = match t.pickles[0].root.and_then(|r| t.node(r)) {
                Some(Node::List(v) | Node::Tuple(v)) => v.clone(),
                _ => Vec::new(),
            };
            for v in views {
                let Some([target, root, off, numel]) = tuple(&t, v) else {
                    continue;
                };
                let (target, root) = (key_text(&t, *target), key_text(&t, *root));
                let (Some(off), Some(numel)) = (int_of(Some(off)), int_of(Some(numel))) else {
                    continue;
                };
                let Some((_, root_storage, root_blob)) =
                    table.storages.iter().find(|s| s.0 == root)
                else {
                    continue;
                };
                let elem = root_storage.class_dtype().map_or(1, |(_, s)| s);
                let storage = Storage {
                    key: target.clone(),
                    numel: numel as u64,
                    ..root_storage.clone()
                };
                let blob = StorageBlob {
                    key: target.clone(),
                    numel: numel as u64,
                    offset: root_blob.offset + off as u64 * elem,
                    length: numel as u64 * elem,
                };
                table.storages.push((target, storage, blob));
            }
        }
    }
    if let Some(m) = opened.member("tensors") {
        let data: &[u8] = &m.data;
        let (n, mut pos) = read_count(data, "tar tensors count")?;
        for _ in 0..n {
            let (t, end) = read_pickle(data, pos, "tar tensor header")?;
            let items =
                root_items(&t).ok_or_else(|| damaged("tar tensor header", pos, "not a tuple"))?;
            let [key, storage_id, _ty] = items else {
                return Err(damaged(
                    "tar tensor header",
                    pos,
                    "not (key, storage_id, tensor_type)",
                ));
            };
            let (key, storage_id) = (key_text(&t, *key), key_text(&t, *storage_id));
            let word = |at: usize, n: usize| -> Option<&[u8]> { data.get(at..at.checked_add(n)?) };
            let ndim = word(end, 4)
                .map(|b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                .filter(|&d| (0..=64).contains(&d))
                .ok_or_else(|| damaged("tar tensor", end, "bad ndim"))?
                as usize;
            let mut at = end + 8;
            let mut read_i64s = |k: usize| -> Result<Vec<i64>, OpenError> {
                let b = word(at, 8 * k).ok_or_else(|| damaged("tar tensor", at, "truncated"))?;
                at += 8 * k;
                Ok(b.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect())
            };
            let shape = read_i64s(ndim)?;
            let stride = read_i64s(ndim)?;
            let offset = read_i64s(1)?[0];
            table.tensors.push(TarTensor {
                key,
                storage_key: storage_id,
                shape,
                stride,
                storage_offset: offset,
            });
            pos = at;
        }
    }
    Ok(table)
}
