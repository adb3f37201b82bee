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
    let mut out = Vec::new();
    let mut seen = vec![false; trace.nodes.len()];
    for p in &trace.pickles {
        if let Some(root) = p.root {
            walk(trace, root, String::new(), &mut seen, &mut out, 0);
        }
    }
    out
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
    trace: &Trace<'_>,
    v: Value,
    path: String,
    seen: &mut [bool],
    out: &mut Vec<Tensor>,
    depth: usize,
) {
    let Some(id) = v.node() else { return };
    if depth > 200 || std::mem::replace(&mut seen[id.index()], true) {
        return;
    }
    if let Some(t) = tensor_of(trace, v, &path) {
        out.push(t);
        return;
    }
    match &trace.nodes[id.index()] {
        Node::Dict(pairs) => {
            for &(k, x) in pairs {
                walk(
                    trace,
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
                walk(trace, x, join(&path, &i.to_string()), seen, out, depth + 1);
            }
        }
        Node::Object(o) => {
            for &(k, x) in &o.dict_items {
                walk(
                    trace,
                    x,
                    join(&path, &key_text(trace, k)),
                    seen,
                    out,
                    depth + 1,
                );
            }
            for (i, &x) in o.items.iter().enumerate() {
                walk(trace, x, join(&path, &i.to_string()), seen, out, depth + 1);
            }
            for &s in &o.state {
                // State is a dict, or (dict, slotstate).
                match trace.node(s) {
                    Some(Node::Tuple(parts)) => {
                        for &p in parts {
                            walk_state(trace, p, &path, seen, out, depth + 1);
                        }
                    }
                    _ => walk_state(trace, s, &path, seen, out, depth + 1),
                }
            }
            walk(trace, o.args, path.clone(), seen, out, depth + 1);
        }
        _ => {}
    }
}

fn walk_state(
    trace: &Trace<'_>,
    s: Value,
    path: &str,
    seen: &mut [bool],
    out: &mut Vec<Tensor>,
    depth: usize,
) {
    match s.node().map(|id| &trace.nodes[id.index()]) {
        Some(Node::Dict(pairs)) => {
            if let Some(id) = s.node() {
                seen[id.index()] = true;
            }
            for &(k, x) in pairs {
                walk(
                    trace,
                    x,
                    join(path, &key_text(trace, k)),
                    seen,
                    out,
                    depth + 1,
                );
            }
        }
        _ => walk(trace, s, path.to_owned(), seen, out, depth + 1),
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
