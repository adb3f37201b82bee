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

/// Reads a storage persistent id node (`None` if it is not one, or names a negative element
/// count).
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
    // A negative element count is no storage torch could have written.
    let &Value::Int(numel) = numel else {
        return None;
    };
    Some(Storage {
        class,
        key,
        location: str_of(trace, *location).unwrap_or_default(),
        numel: u64::try_from(numel).ok()?,
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

/// `path.part`, or `part` at the root: how inventory paths (and `state_dict` names) are built.
#[must_use]
pub fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_owned()
    } else {
        format!("{path}.{part}")
    }
}

/// A dict key as a path component (ints and strings as Python prints them).
#[must_use]
pub fn key_text(trace: &Trace<'_>, k: Value) -> String {
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
    damaged_at(what, offset as u64, reason)
}

fn damaged_at(what: &str, offset: u64, reason: impl Into<String>) -> OpenError {
    OpenError::Damaged {
        what: what.to_owned(),
        offset,
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
        inventory: None,
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
        inventory: None,
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

/// Reads one pickle at `pos` of `data` (a member starting at file offset `base`), returning
/// its trace and the offset after it.
fn read_pickle<'d>(
    data: &'d [u8],
    base: u64,
    pos: usize,
    what: &str,
) -> Result<(Trace<'d>, usize), OpenError> {
    let mut m = vm::Machine::new(data, vm::Budgets::small());
    let end = m.run_pickle(pos);
    let t = m.finish();
    if let Some(e) = t.error() {
        return Err(damaged_at(
            what,
            base.saturating_add(e.offset),
            e.to_string(),
        ));
    }
    Ok((t, end))
}

/// The leading pickle of a tar member: how many entries follow (capped).
fn read_count(data: &[u8], base: u64, what: &str) -> Result<(i64, usize), OpenError> {
    let (t, end) = read_pickle(data, base, 0, what)?;
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

/// Where a storage view's bytes are, checked: `offset` and `numel` (in elements of `elem`
/// bytes, as the file gives them) must be non-negative, and the view must lie inside `root`.
fn view_blob(
    key: &str,
    root: &StorageBlob,
    offset: i64,
    numel: i64,
    elem: u64,
) -> Result<StorageBlob, String> {
    let offset = u64::try_from(offset).map_err(|_| format!("negative element offset {offset}"))?;
    let numel = u64::try_from(numel).map_err(|_| format!("negative element count {numel}"))?;
    let start = offset
        .checked_mul(elem)
        .ok_or_else(|| format!("element offset {offset} overflows"))?;
    let length = numel
        .checked_mul(elem)
        .ok_or_else(|| format!("element count {numel} overflows"))?;
    let end = start
        .checked_add(length)
        .ok_or_else(|| format!("view of {numel} elements at {offset} overflows"))?;
    if end > root.length {
        return Err(format!(
            "view of bytes {start}..{end} runs past its root storage {} ({} bytes)",
            root.key, root.length
        ));
    }
    Ok(StorageBlob {
        key: key.to_owned(),
        numel,
        // Inside the root, which lies inside the file: no overflow.
        offset: root.offset + start,
        length,
    })
}

/// Checks a tar tensor entry against its storage: no negative size, stride or offset, and its
/// last element (`storage_offset + Σ (size−1)·stride`) inside the storage's `numel` elements.
fn check_tar_tensor(t: &TarTensor, numel: Option<u64>) -> Result<(), String> {
    if let Some(s) = t.shape.iter().find(|&&s| s < 0) {
        return Err(format!("negative size {s}"));
    }
    if let Some(s) = t.stride.iter().find(|&&s| s < 0) {
        return Err(format!("negative stride {s}"));
    }
    let offset = u64::try_from(t.storage_offset)
        .map_err(|_| format!("negative storage offset {}", t.storage_offset))?;
    // An empty tensor reads nothing.
    if t.shape.contains(&0) {
        return Ok(());
    }
    let mut last = offset;
    for (&size, &stride) in t.shape.iter().zip(&t.stride) {
        // Both non-negative: checked above.
        let step = (size.unsigned_abs() - 1)
            .checked_mul(stride.unsigned_abs())
            .and_then(|d| last.checked_add(d))
            .ok_or_else(|| "size and stride overflow".to_owned())?;
        last = step;
    }
    match numel {
        Some(n) if last >= n => Err(format!(
            "element {last} lies past the storage's {n} elements"
        )),
        _ => Ok(()),
    }
}

/// Reads the `storages` and `tensors` members of a tar-format file.
///
/// Every count, offset, size and stride comes from the file, so all arithmetic on them is
/// checked: a negative value, an overflow, a storage view outside its root storage or a
/// tensor outside its storage is an error, never a wrapped number.
///
/// # Errors
/// A member that does not follow the layout, with the file offset where it stops making sense.
pub fn tar_tensors(opened: &Opened<'_>) -> Result<TarTensors, OpenError> {
    let mut table = TarTensors::default();
    if let Some(m) = opened.member("storages") {
        let data: &[u8] = &m.data;
        let base = m.file_offset.unwrap_or(0);
        let at = |pos: usize| base.saturating_add(pos as u64);
        let (n, mut pos) = read_count(data, base, "tar storages count")?;
        for _ in 0..n {
            let (t, end) = read_pickle(data, base, pos, "tar storage header")?;
            let items = root_items(&t)
                .ok_or_else(|| damaged_at("tar storage header", at(pos), "not a tuple"))?;
            let [key, location, class] = items else {
                return Err(damaged_at(
                    "tar storage header",
                    at(pos),
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
            let head = end
                .checked_add(8)
                .and_then(|e| data.get(end..e))
                .ok_or_else(|| damaged_at("tar storage", at(end), "missing element count"))?;
            let numel = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
            let storage = Storage {
                class,
                key: key.clone(),
                location,
                numel,
            };
            let elem = storage.class_dtype().map_or(1, |(_, s)| s);
            let start = end + 8;
            let length = numel.checked_mul(elem).ok_or_else(|| {
                damaged_at(
                    "tar storage",
                    at(end),
                    format!("{numel} elements of {elem} bytes overflow"),
                )
            })?;
            let stop = usize::try_from(length)
                .ok()
                .and_then(|l| start.checked_add(l))
                .filter(|&e| e <= data.len())
                .ok_or_else(|| damaged_at("tar storage", at(end), "data runs past the member"))?;
            let blob = StorageBlob {
                key: key.clone(),
                numel,
                offset: at(start),
                length,
            };
            table.storages.push((key, storage, blob));
            pos = stop;
        }
        // Then views: a list of (target key, root key, element offset, element count).
        if pos < data.len() {
            let (t, _) = read_pickle(data, base, pos, "tar storage views")?;
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
                let blob = view_blob(&target, root_blob, off, numel, elem).map_err(|reason| {
                    damaged_at(&format!("tar storage view {target}"), at(pos), reason)
                })?;
                let storage = Storage {
                    key: target.clone(),
                    numel: blob.numel,
                    ..root_storage.clone()
                };
                table.storages.push((target, storage, blob));
            }
        }
    }
    if let Some(m) = opened.member("tensors") {
        let data: &[u8] = &m.data;
        let base = m.file_offset.unwrap_or(0);
        let at = |pos: usize| base.saturating_add(pos as u64);
        let (n, mut pos) = read_count(data, base, "tar tensors count")?;
        for _ in 0..n {
            let (t, end) = read_pickle(data, base, pos, "tar tensor header")?;
            let items = root_items(&t)
                .ok_or_else(|| damaged_at("tar tensor header", at(pos), "not a tuple"))?;
            let [key, storage_id, _ty] = items else {
                return Err(damaged_at(
                    "tar tensor header",
                    at(pos),
                    "not (key, storage_id, tensor_type)",
                ));
            };
            let (key, storage_id) = (key_text(&t, *key), key_text(&t, *storage_id));
            let word = |at: usize, n: usize| -> Option<&[u8]> { data.get(at..at.checked_add(n)?) };
            // ndim is an int32 (then 4 bytes of padding), sizes, strides and the offset int64s.
            let ndim = word(end, 4)
                .map(|b| i32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                .and_then(|d| usize::try_from(d).ok())
                .filter(|&d| d <= 64)
                .ok_or_else(|| damaged_at("tar tensor", at(end), "bad ndim"))?;
            let mut cursor = end;
            let mut read_i64s = |skip: usize, k: usize| -> Result<Vec<i64>, OpenError> {
                let from = cursor.saturating_add(skip);
                let b = word(from, 8 * k)
                    .ok_or_else(|| damaged_at("tar tensor", at(from), "truncated"))?;
                cursor = from + 8 * k;
                Ok(b.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect())
            };
            let shape = read_i64s(8, ndim)?;
            let stride = read_i64s(0, ndim)?;
            let offset = read_i64s(0, 1)?[0];
            let tensor = TarTensor {
                key,
                storage_key: storage_id,
                shape,
                stride,
                storage_offset: offset,
            };
            let numel = table.blob(&tensor.storage_key).map(|b| b.numel);
            check_tar_tensor(&tensor, numel).map_err(|reason| {
                damaged_at(&format!("tar tensor {}", tensor.key), at(end), reason)
            })?;
            table.tensors.push(tensor);
            pos = cursor;
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    //! Crafted 0.1.x tar files: every integer the tensor table reads is file-controlled, so
    //! bad ones must give errors (these run with overflow checks: a wrap would panic).

    use super::*;

    /// A pickle int of any `i64` (LONG1, 8 bytes of two's complement).
    fn int(i: i64) -> Vec<u8> {
        let mut v = vec![0x8a, 8];
        v.extend_from_slice(&i.to_le_bytes());
        v
    }

    fn pickle(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0x80, 2];
        v.extend_from_slice(body);
        v.push(b'.');
        v
    }

    /// `storages`: one FloatStorage `1` with `numel` elements (of which `data` bytes are
    /// present), then the views list `(target, root, offset, numel)`.
    fn storages(numel: u64, data: &[u8], views: &[(i64, i64, i64, i64)]) -> Vec<u8> {
        let mut m = pickle(&int(1));
        let mut head = int(1);
        head.extend_from_slice(b"X\x03\x00\x00\x00cpu");
        head.extend_from_slice(b"ctorch\nFloatStorage\n\x87");
        m.extend(pickle(&head));
        m.extend_from_slice(&numel.to_le_bytes());
        m.extend_from_slice(data);
        let mut list = b"](".to_vec();
        for &(target, root, off, n) in views {
            list.push(b'(');
            for x in [target, root, off, n] {
                list.extend(int(x));
            }
            list.push(b't');
        }
        list.push(b'e');
        m.extend(pickle(&list));
        m
    }

    /// `tensors`: one tensor `7` on storage `storage`.
    fn tensors(storage: i64, shape: &[i64], stride: &[i64], offset: i64) -> Vec<u8> {
        let mut m = pickle(&int(1));
        let mut head = int(7);
        head.extend(int(storage));
        head.extend_from_slice(b"ctorch\nFloatTensor\n\x87");
        m.extend(pickle(&head));
        m.extend_from_slice(&i32::try_from(shape.len()).unwrap().to_le_bytes());
        m.extend_from_slice(&[0; 4]);
        for x in shape.iter().chain(stride).chain([&offset]) {
            m.extend_from_slice(&x.to_le_bytes());
        }
        m
    }

    fn tar_file(storages: &[u8], tensors: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in [
            ("sys_info", pickle(b"}")),
            ("pickle", pickle(&int(0))),
            ("storages", storages.to_vec()),
            ("tensors", tensors.to_vec()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            h.set_cksum();
            b.append_data(&mut h, name, data.as_slice()).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// The table of a crafted file, or the error's (what, offset, reason), checking that the
    /// offset lies inside `member`.
    fn table(file: &[u8], member: &str) -> Result<TarTensors, (String, String)> {
        let opened = open_tar(file).unwrap();
        let m = opened.member(member).unwrap();
        let (start, end) = (
            m.file_offset.unwrap(),
            m.file_offset.unwrap() + m.data.len() as u64,
        );
        tar_tensors(&opened).map_err(|e| match e {
            OpenError::Damaged {
                what,
                offset,
                reason,
            } => {
                assert!((start..end).contains(&offset), "{offset} outside {member}");
                (what, reason)
            }
            e => panic!("{e}"),
        })
    }

    const FOUR_FLOATS: [u8; 16] = [0; 16];

    #[test]
    fn well_formed_tar_table_locates_views_and_tensors() {
        let file = tar_file(
            &storages(4, &FOUR_FLOATS, &[(2, 1, 1, 3)]),
            &tensors(2, &[3], &[1], 0),
        );
        let t = table(&file, "storages").unwrap();
        let root = t.blob("1").unwrap();
        let view = t.blob("2").unwrap();
        assert_eq!((root.numel, root.length), (4, 16));
        assert_eq!(
            (view.numel, view.offset, view.length),
            (3, root.offset + 4, 12)
        );
        assert_eq!(t.tensors.len(), 1);
        assert_eq!(t.tensors[0].shape, vec![3]);
    }

    #[test]
    fn negative_view_offset_is_an_error_not_a_wrap() {
        let file = tar_file(
            &storages(4, &FOUR_FLOATS, &[(2, 1, -1, 1)]),
            &tensors(1, &[], &[], 0),
        );
        let (what, reason) = table(&file, "storages").unwrap_err();
        assert_eq!(what, "tar storage view 2");
        assert!(reason.contains("negative element offset -1"), "{reason}");
    }

    #[test]
    fn negative_view_count_is_an_error() {
        let file = tar_file(
            &storages(4, &FOUR_FLOATS, &[(2, 1, 0, -4)]),
            &tensors(1, &[], &[], 0),
        );
        let (_, reason) = table(&file, "storages").unwrap_err();
        assert!(reason.contains("negative element count"), "{reason}");
    }

    #[test]
    fn huge_view_numbers_are_errors_not_overflow_panics() {
        for (off, n) in [(1 << 62, 1), (0, i64::MAX), (i64::MAX / 4, i64::MAX / 4)] {
            let file = tar_file(
                &storages(4, &FOUR_FLOATS, &[(2, 1, off, n)]),
                &tensors(1, &[], &[], 0),
            );
            let (what, reason) = table(&file, "storages").unwrap_err();
            assert_eq!(what, "tar storage view 2", "{off} {n}");
            assert!(
                reason.contains("overflows") || reason.contains("runs past"),
                "{reason}"
            );
        }
    }

    #[test]
    fn view_past_its_root_storage_is_an_error() {
        let file = tar_file(
            &storages(4, &FOUR_FLOATS, &[(2, 1, 3, 2)]),
            &tensors(1, &[], &[], 0),
        );
        let (_, reason) = table(&file, "storages").unwrap_err();
        assert_eq!(
            reason,
            "view of bytes 12..20 runs past its root storage 1 (16 bytes)"
        );
        // Ending exactly at the root's end is fine.
        let file = tar_file(
            &storages(4, &FOUR_FLOATS, &[(2, 1, 2, 2)]),
            &tensors(1, &[], &[], 0),
        );
        assert!(table(&file, "storages").is_ok());
    }

    #[test]
    fn huge_storage_element_count_is_an_error() {
        let file = tar_file(
            &storages(u64::MAX, &FOUR_FLOATS, &[]),
            &tensors(1, &[], &[], 0),
        );
        let (what, reason) = table(&file, "storages").unwrap_err();
        assert_eq!(what, "tar storage");
        assert!(reason.contains("overflow"), "{reason}");
        let file = tar_file(&storages(100, &FOUR_FLOATS, &[]), &tensors(1, &[], &[], 0));
        let (_, reason) = table(&file, "storages").unwrap_err();
        assert_eq!(reason, "data runs past the member");
    }

    #[test]
    fn tensors_with_negative_or_out_of_storage_numbers_are_errors() {
        let cases: [(&[i64], &[i64], i64, &str); 6] = [
            (&[2], &[1], -1, "negative storage offset -1"),
            (&[-2], &[1], 0, "negative size -2"),
            (&[2], &[-1], 0, "negative stride -1"),
            (
                &[2],
                &[1],
                3,
                "element 4 lies past the storage's 4 elements",
            ),
            (
                &[2, 2],
                &[3, 1],
                0,
                "element 4 lies past the storage's 4 elements",
            ),
            (
                &[i64::MAX, 3],
                &[i64::MAX, 1],
                0,
                "size and stride overflow",
            ),
        ];
        for (shape, stride, offset, want) in cases {
            let file = tar_file(
                &storages(4, &FOUR_FLOATS, &[]),
                &tensors(1, shape, stride, offset),
            );
            let (what, reason) = table(&file, "tensors").unwrap_err();
            assert_eq!((what.as_str(), reason.as_str()), ("tar tensor 7", want));
        }
        // In bounds, and empty tensors anywhere: fine.
        for (shape, stride, offset) in [
            (&[2, 2][..], &[2, 1][..], 0),
            (&[0], &[1], 99),
            (&[], &[], 3),
        ] {
            let file = tar_file(
                &storages(4, &FOUR_FLOATS, &[]),
                &tensors(1, shape, stride, offset),
            );
            assert!(
                table(&file, "tensors").is_ok(),
                "{shape:?} {stride:?} {offset}"
            );
        }
    }

    #[test]
    fn negative_storage_numel_in_a_persistent_id_is_not_a_storage() {
        // _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', -1), 0, (2,), (1,), False, {})
        let mut p =
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage".to_vec();
        p.extend_from_slice(b"ctorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu");
        p.extend(int(-1));
        p.extend_from_slice(b"tQK\x00K\x02\x85K\x01\x85\x89}tR.");
        let trace = vm::run(&p);
        assert!(trace.error().is_none(), "{:?}", trace.error());
        assert!(super::tensors(&trace).is_empty());
        // The same with a real count is a tensor.
        let n = p.iter().position(|&b| b == 0x8a).unwrap();
        p[n + 2..n + 10].copy_from_slice(&2i64.to_le_bytes());
        let trace = vm::run(&p);
        let found = super::tensors(&trace);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].storage.numel, 2);
    }
}
