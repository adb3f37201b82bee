//! GGUF files (llama.cpp, ggml): magic `GGUF`, a version, counts, key-value metadata, tensor
//! infos, then the tensors' bytes from an aligned data section.
//!
//! The header is read the way `gguf-py`'s `GGUFReader` and ggml's `gguf.cpp` read it, with
//! every file-controlled number checked: versions 1 (32-bit counts and lengths), 2 and 3, either
//! byte order (a big-endian file shows a byte-swapped version); counts, string lengths and array
//! lengths bounded by the bytes left in the file and by [`MAX_ENTRIES`] and [`MAX_ARRAY_ITEMS`];
//! nested arrays bounded
//! by [`MAX_ARRAY_DEPTH`]; duplicate keys and tensor names refused; `general.alignment` a
//! non-zero power of two; each tensor's offset aligned and its bytes inside the file without
//! overlapping another's. Array items are checked and skipped, never kept (a vocabulary holds
//! hundreds of thousands of strings).
//!
//! Nothing here executes anything; a GGUF file stores data only.

use std::collections::HashSet;
use std::fmt;

use crate::OpenError;

/// The magic at offset 0.
pub const MAGIC: &[u8; 4] = b"GGUF";
/// The most key-value pairs or tensors a header may declare (each is kept: real files have tens
/// of pairs and up to tens of thousands of tensors).
pub const MAX_ENTRIES: u64 = 1 << 20;
/// The most items an array may declare (items are checked and skipped, not kept).
pub const MAX_ARRAY_ITEMS: u64 = 1 << 32;
/// How deep arrays of arrays may nest.
pub const MAX_ARRAY_DEPTH: usize = 8;
/// The most dimensions a tensor may have (ggml's `GGML_MAX_DIMS` is 4).
pub const MAX_DIMS: u32 = 8;
/// The alignment of the data section when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// The type of a metadata value (`gguf_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// 0.
    U8,
    /// 1.
    I8,
    /// 2.
    U16,
    /// 3.
    I16,
    /// 4.
    U32,
    /// 5.
    I32,
    /// 6.
    F32,
    /// 7.
    Bool,
    /// 8.
    String,
    /// 9.
    Array,
    /// 10.
    U64,
    /// 11.
    I64,
    /// 12.
    F64,
}

impl ValueType {
    fn from_code(code: u32) -> Option<ValueType> {
        Some(match code {
            0 => ValueType::U8,
            1 => ValueType::I8,
            2 => ValueType::U16,
            3 => ValueType::I16,
            4 => ValueType::U32,
            5 => ValueType::I32,
            6 => ValueType::F32,
            7 => ValueType::Bool,
            8 => ValueType::String,
            9 => ValueType::Array,
            10 => ValueType::U64,
            11 => ValueType::I64,
            12 => ValueType::F64,
            _ => return None,
        })
    }

    /// The name gguf-py gives it, lowercase (`uint32`, `string`, `array`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "uint8",
            ValueType::I8 => "int8",
            ValueType::U16 => "uint16",
            ValueType::I16 => "int16",
            ValueType::U32 => "uint32",
            ValueType::I32 => "int32",
            ValueType::F32 => "float32",
            ValueType::Bool => "bool",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::U64 => "uint64",
            ValueType::I64 => "int64",
            ValueType::F64 => "float64",
        }
    }

    /// Bytes of a scalar of this type; `None` for strings and arrays.
    fn size(self) -> Option<u64> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 | ValueType::F32 => Some(4),
            ValueType::U64 | ValueType::I64 | ValueType::F64 => Some(8),
            ValueType::String | ValueType::Array => None,
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A metadata value. Arrays are summarised by their item type and length.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An unsigned integer (uint8 to uint64).
    Uint(u64),
    /// A signed integer (int8 to int64).
    Int(i64),
    /// A float (float32 or float64).
    Float(f64),
    /// A bool.
    Bool(bool),
    /// A string (invalid UTF-8 replaced).
    String(String),
    /// An array: its item type and length (items are not kept).
    Array {
        /// The items' type.
        item_type: ValueType,
        /// How many items.
        len: u64,
    },
}

/// One key-value pair of the metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    /// The key (`general.architecture`).
    pub key: String,
    /// The value's type.
    pub value_type: ValueType,
    /// The value.
    pub value: Value,
    /// Where the pair starts in the file.
    pub offset: u64,
}

/// A ggml tensor type (`ggml_type`), kept as its number so that types newer than this list
/// still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GgmlType(pub u32);

impl GgmlType {
    /// `(name, values per block, bytes per block)` for the types ggml defines today
    /// (gguf-py 0.19 `GGML_QUANT_SIZES`).
    const TABLE: &'static [(u32, &'static str, u64, u64)] = &[
        (0, "F32", 1, 4),
        (1, "F16", 1, 2),
        (2, "Q4_0", 32, 18),
        (3, "Q4_1", 32, 20),
        (6, "Q5_0", 32, 22),
        (7, "Q5_1", 32, 24),
        (8, "Q8_0", 32, 34),
        (9, "Q8_1", 32, 40),
        (10, "Q2_K", 256, 84),
        (11, "Q3_K", 256, 110),
        (12, "Q4_K", 256, 144),
        (13, "Q5_K", 256, 176),
        (14, "Q6_K", 256, 210),
        (15, "Q8_K", 256, 292),
        (16, "IQ2_XXS", 256, 66),
        (17, "IQ2_XS", 256, 74),
        (18, "IQ3_XXS", 256, 98),
        (19, "IQ1_S", 256, 50),
        (20, "IQ4_NL", 32, 18),
        (21, "IQ3_S", 256, 110),
        (22, "IQ2_S", 256, 82),
        (23, "IQ4_XS", 256, 136),
        (24, "I8", 1, 1),
        (25, "I16", 1, 2),
        (26, "I32", 1, 4),
        (27, "I64", 1, 8),
        (28, "F64", 1, 8),
        (29, "IQ1_M", 256, 56),
        (30, "BF16", 1, 2),
        (34, "TQ1_0", 256, 54),
        (35, "TQ2_0", 256, 66),
        (39, "MXFP4", 32, 17),
        (40, "NVFP4", 64, 36),
        (41, "Q1_0", 128, 18),
    ];

    fn entry(self) -> Option<&'static (u32, &'static str, u64, u64)> {
        Self::TABLE.iter().find(|e| e.0 == self.0)
    }

    /// Its name (`Q4_K`), when known.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|e| e.1)
    }

    /// `(values per block, bytes per block)`, when known.
    #[must_use]
    pub fn block(self) -> Option<(u64, u64)> {
        self.entry().map(|e| (e.2, e.3))
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type {}", self.0),
        }
    }
}

/// One tensor info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Its name.
    pub name: String,
    /// Its dimensions as stored: ggml order, innermost (`ne[0]`) first.
    pub dims: Vec<u64>,
    /// Its type.
    pub ggml_type: GgmlType,
    /// Its offset relative to the data section, as stored.
    pub offset: u64,
    /// Where its bytes start in the file (`data_start + offset`).
    pub file_offset: u64,
    /// Its length in bytes, when the type is known.
    pub nbytes: Option<u64>,
    /// Where its info starts in the file.
    pub info_offset: u64,
}

/// A parsed GGUF header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The format version (1, 2 or 3).
    pub version: u32,
    /// Whether the file is big-endian.
    pub big_endian: bool,
    /// The metadata, in file order.
    pub metadata: Vec<KeyValue>,
    /// The tensor infos, in file order.
    pub tensors: Vec<TensorInfo>,
    /// The data section's alignment.
    pub alignment: u64,
    /// Where the data section starts in the file.
    pub data_start: u64,
}

impl Header {
    /// The metadata value for `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    }
}

/// Whether `data` starts with the GGUF magic and a version word.
#[must_use]
pub fn looks_like(data: &[u8]) -> bool {
    data.len() >= 8 && data.starts_with(MAGIC)
}

fn damaged(offset: u64, reason: impl Into<String>) -> OpenError {
    OpenError::Damaged {
        what: "GGUF file".to_owned(),
        offset,
        reason: reason.into(),
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    big: bool,
    wide: bool,
}

impl<'a> Reader<'a> {
    fn left(&self) -> u64 {
        (self.data.len() - self.pos) as u64
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], OpenError> {
        if n > self.left() {
            return Err(damaged(
                self.pos as u64,
                format!(
                    "{what} needs {n} bytes, the file has {} left (truncated?)",
                    self.left()
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N], OpenError> {
        let mut b: [u8; N] = self.take(N as u64, what)?.try_into().unwrap_or([0; N]);
        if self.big {
            b.reverse();
        }
        Ok(b)
    }

    fn u32(&mut self, what: &str) -> Result<u32, OpenError> {
        Ok(u32::from_le_bytes(self.fixed(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, OpenError> {
        Ok(u64::from_le_bytes(self.fixed(what)?))
    }

    /// A count or length: 32 bits in version 1, 64 after.
    fn size(&mut self, what: &str) -> Result<u64, OpenError> {
        if self.wide {
            self.u64(what)
        } else {
            self.u32(what).map(u64::from)
        }
    }

    fn string(&mut self, what: &str) -> Result<String, OpenError> {
        let at = self.pos as u64;
        let len = self.size(what)?;
        if len > self.left() {
            return Err(damaged(
                at,
                format!(
                    "{what} claims {len} bytes, the file has {} left",
                    self.left()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(self.take(len, what)?).into_owned())
    }

    /// Skips a string, checking its length.
    fn skip_string(&mut self, what: &str) -> Result<(), OpenError> {
        let len = self.size(what)?;
        self.take(len, what).map(|_| ())
    }

    fn value_type(&mut self, what: &str) -> Result<ValueType, OpenError> {
        let at = self.pos as u64;
        let code = self.u32(what)?;
        ValueType::from_code(code)
            .ok_or_else(|| damaged(at, format!("{what}: unknown value type {code}")))
    }

    fn value(&mut self, t: ValueType, key: &str) -> Result<Value, OpenError> {
        Ok(match t {
            ValueType::U8 => Value::Uint(u64::from(self.fixed::<1>(key)?[0])),
            ValueType::I8 => Value::Int(i64::from(self.fixed::<1>(key)?[0] as i8)),
            ValueType::U16 => Value::Uint(u64::from(u16::from_le_bytes(self.fixed(key)?))),
            ValueType::I16 => Value::Int(i64::from(i16::from_le_bytes(self.fixed(key)?))),
            ValueType::U32 => Value::Uint(u64::from(self.u32(key)?)),
            ValueType::I32 => Value::Int(i64::from(i32::from_le_bytes(self.fixed(key)?))),
            ValueType::F32 => Value::Float(f64::from(f32::from_le_bytes(self.fixed(key)?))),
            ValueType::Bool => Value::Bool(self.fixed::<1>(key)?[0] != 0),
            ValueType::String => Value::String(self.string(key)?),
            ValueType::U64 => Value::Uint(self.u64(key)?),
            ValueType::I64 => Value::Int(i64::from_le_bytes(self.fixed(key)?)),
            ValueType::F64 => Value::Float(f64::from_le_bytes(self.fixed(key)?)),
            ValueType::Array => {
                let (item_type, len) = self.skip_array(key, 1)?;
                Value::Array { item_type, len }
            }
        })
    }

    /// Reads an array's item type and length and skips its items.
    fn skip_array(&mut self, key: &str, depth: usize) -> Result<(ValueType, u64), OpenError> {
        let at = self.pos as u64;
        if depth > MAX_ARRAY_DEPTH {
            return Err(damaged(
                at,
                format!("{key}: arrays nested more than {MAX_ARRAY_DEPTH} deep"),
            ));
        }
        let item_type = self.value_type(key)?;
        let len = self.size(key)?;
        // Every item takes at least one byte (strings and arrays at least a length).
        let min = item_type.size().unwrap_or(if self.wide { 8 } else { 4 });
        if len > MAX_ARRAY_ITEMS || len.saturating_mul(min) > self.left() {
            return Err(damaged(
                at,
                format!(
                    "{key}: an array of {len} {item_type} items cannot fit in the {} bytes left",
                    self.left()
                ),
            ));
        }
        match item_type {
            ValueType::String => {
                for _ in 0..len {
                    self.skip_string(key)?;
                }
            }
            ValueType::Array => {
                for _ in 0..len {
                    self.skip_array(key, depth + 1)?;
                }
            }
            _ => {
                self.take(len * min, key)?;
            }
        }
        Ok((item_type, len))
    }
}

/// Parses the header of `data`, a whole GGUF file.
///
/// # Errors
/// [`OpenError::Damaged`] with the file offset of the problem: no magic, an unknown version,
/// counts or lengths past the end of the file or over [`MAX_ENTRIES`], an unknown value type,
/// a duplicate key or tensor name, a bad alignment, a tensor whose bytes are misaligned,
/// outside the file or overlap another's.
pub fn parse(data: &[u8]) -> Result<Header, OpenError> {
    if !data.starts_with(MAGIC) {
        return Err(damaged(0, "no GGUF magic"));
    }
    let mut r = Reader {
        data,
        pos: 4,
        big: false,
        wide: true,
    };
    let mut version = r.u32("the version")?;
    if version & 0xffff == 0 && version != 0 {
        r.big = true;
        version = version.swap_bytes();
    }
    if !(1..=3).contains(&version) {
        return Err(damaged(
            4,
            format!("unknown version {version} (1, 2 and 3 exist)"),
        ));
    }
    r.wide = version >= 2;
    let counts_at = r.pos as u64;
    let n_tensors = r.size("the tensor count")?;
    let n_kv = r.size("the key-value count")?;
    for (n, what) in [(n_tensors, "tensors"), (n_kv, "key-value pairs")] {
        // A tensor info or a pair takes at least 8 bytes (two empty lengths in version 1).
        if n > MAX_ENTRIES || n.saturating_mul(8) > r.left() {
            return Err(damaged(
                counts_at,
                format!(
                    "{n} {what} cannot fit in the {} bytes left (limit {MAX_ENTRIES})",
                    r.left()
                ),
            ));
        }
    }
    let mut metadata = Vec::new();
    let mut keys = HashSet::new();
    for _ in 0..n_kv {
        let offset = r.pos as u64;
        let key = r.string("a metadata key")?;
        let value_type = r.value_type(&key)?;
        let value = r.value(value_type, &key)?;
        if !keys.insert(key.clone()) {
            return Err(damaged(offset, format!("duplicate key {key:?}")));
        }
        metadata.push(KeyValue {
            key,
            value_type,
            value,
            offset,
        });
    }
    let mut alignment = DEFAULT_ALIGNMENT;
    if let Some(kv) = metadata.iter().find(|kv| kv.key == "general.alignment") {
        match (kv.value_type, &kv.value) {
            (ValueType::U32, Value::Uint(a)) if a.is_power_of_two() => alignment = *a,
            _ => {
                return Err(damaged(
                    kv.offset,
                    "general.alignment must be a non-zero power of two of type uint32",
                ));
            }
        }
    }
    let mut tensors = Vec::new();
    let mut names = HashSet::new();
    for _ in 0..n_tensors {
        let info_offset = r.pos as u64;
        let name = r.string("a tensor name")?;
        let n_dims = r.u32(&name)?;
        if n_dims > MAX_DIMS {
            return Err(damaged(
                info_offset,
                format!("tensor {name:?} has {n_dims} dimensions (at most {MAX_DIMS})"),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.size(&name)?);
        }
        let ggml_type = GgmlType(r.u32(&name)?);
        let offset = r.u64(&name)?;
        if !names.insert(name.clone()) {
            return Err(damaged(
                info_offset,
                format!("duplicate tensor name {name:?}"),
            ));
        }
        let bad = |why: String| damaged(info_offset, format!("tensor {name:?}: {why}"));
        let numel = dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .filter(|&n| n <= i64::MAX as u64)
            .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
        let nbytes = match ggml_type.block() {
            Some((block, size)) => {
                if dims.first().copied().unwrap_or(1) % block != 0 {
                    return Err(bad(format!(
                        "its first dimension is not a multiple of {ggml_type}'s block of {block}"
                    )));
                }
                Some(numel / block * size)
            }
            None => None,
        };
        tensors.push(TensorInfo {
            name,
            dims,
            ggml_type,
            offset,
            file_offset: 0,
            nbytes,
            info_offset,
        });
    }
    let end_of_infos = r.pos as u64;
    let data_start = end_of_infos.next_multiple_of(alignment);
    let file_len = data.len() as u64;
    for t in &mut tensors {
        let bad = |why: String| damaged(t.info_offset, format!("tensor {:?}: {why}", t.name));
        if t.offset % alignment != 0 {
            return Err(bad(format!(
                "offset {} is not a multiple of the alignment {alignment}",
                t.offset
            )));
        }
        let start = data_start
            .checked_add(t.offset)
            .ok_or_else(|| bad(format!("offset {} overflows", t.offset)))?;
        let end = start.checked_add(t.nbytes.unwrap_or(0));
        if end.is_none_or(|e| e > file_len) {
            return Err(bad(format!(
                "its {} bytes at offset {start} lie past the end of the {file_len}-byte file",
                t.nbytes.unwrap_or(0)
            )));
        }
        t.file_offset = start;
    }
    let mut spans: Vec<(u64, u64, &str)> = tensors
        .iter()
        .filter_map(|t| Some((t.file_offset, t.file_offset + t.nbytes?, t.name.as_str())))
        .filter(|s| s.1 > s.0)
        .collect();
    spans.sort_unstable();
    for w in spans.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(damaged(
                w[1].0,
                format!("tensors {:?} and {:?} overlap", w[0].2, w[1].2),
            ));
        }
    }
    Ok(Header {
        version,
        big_endian: r.big,
        metadata,
        tensors,
        alignment,
        data_start,
    })
}

/// Writing GGUF files for tests (a minimal `GGUFWriter`).
#[doc(hidden)]
pub mod testing {
    /// A metadata value to write.
    pub enum Kv<'a> {
        /// uint32.
        U32(u32),
        /// string.
        Str(&'a str),
        /// array of strings.
        Strs(&'a [&'a str]),
        /// float32.
        F32(f32),
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }

    /// A version-3 little-endian file with these pairs and `(name, dims, type, bytes)`
    /// tensors, laid out as gguf-py lays them out (32-byte alignment).
    #[must_use]
    pub fn file(kvs: &[(&str, Kv<'_>)], tensors: &[(&str, &[u64], u32, &[u8])]) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend((tensors.len() as u64).to_le_bytes());
        out.extend((kvs.len() as u64).to_le_bytes());
        for (k, v) in kvs {
            string(&mut out, k);
            match v {
                Kv::U32(x) => {
                    out.extend(4u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Kv::F32(x) => {
                    out.extend(6u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                Kv::Str(s) => {
                    out.extend(8u32.to_le_bytes());
                    string(&mut out, s);
                }
                Kv::Strs(items) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(8u32.to_le_bytes());
                    out.extend((items.len() as u64).to_le_bytes());
                    for s in *items {
                        string(&mut out, s);
                    }
                }
            }
        }
        let mut offset = 0u64;
        let mut offsets = Vec::new();
        for (name, dims, ty, bytes) in tensors {
            string(&mut out, name);
            out.extend((dims.len() as u32).to_le_bytes());
            for d in *dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(ty.to_le_bytes());
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + bytes.len() as u64).next_multiple_of(32);
        }
        for ((_, _, _, bytes), off) in tensors.iter().zip(offsets) {
            out.resize(out.len().next_multiple_of(32), 0);
            let start = out.len();
            debug_assert!((start as u64).is_multiple_of(32) && off <= start as u64);
            out.extend(*bytes);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Kv, file};
    use super::*;

    fn err(data: &[u8]) -> (u64, String) {
        match parse(data) {
            Err(OpenError::Damaged { offset, reason, .. }) => (offset, reason),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn sample() -> Vec<u8> {
        file(
            &[
                ("general.architecture", Kv::Str("llama")),
                ("llama.block_count", Kv::U32(2)),
                ("tokenizer.ggml.tokens", Kv::Strs(&["a", "b", "c"])),
                ("f", Kv::F32(0.5)),
            ],
            &[
                ("tok.weight", &[4, 2], 0, &[1; 32]),
                ("q", &[32], 8, &[2; 34]),
            ],
        )
    }

    #[test]
    fn parses_metadata_and_tensors() {
        let f = sample();
        assert!(looks_like(&f));
        let h = parse(&f).unwrap();
        assert_eq!((h.version, h.big_endian, h.alignment), (3, false, 32));
        assert_eq!(h.metadata.len(), 4);
        assert_eq!(
            h.get("general.architecture"),
            Some(&Value::String("llama".into()))
        );
        assert_eq!(h.get("llama.block_count"), Some(&Value::Uint(2)));
        assert_eq!(
            h.get("tokenizer.ggml.tokens"),
            Some(&Value::Array {
                item_type: ValueType::String,
                len: 3
            })
        );
        assert_eq!(h.get("f"), Some(&Value::Float(0.5)));
        assert_eq!(h.tensors.len(), 2);
        let t = &h.tensors[0];
        assert_eq!(
            (t.name.as_str(), &t.dims[..], t.ggml_type.name()),
            ("tok.weight", &[4u64, 2][..], Some("F32"))
        );
        assert_eq!(t.nbytes, Some(32));
        assert_eq!(&f[t.file_offset as usize..][..32], &[1; 32]);
        let q = &h.tensors[1];
        assert_eq!(
            (q.ggml_type.to_string(), q.nbytes),
            ("Q8_0".to_owned(), Some(34))
        );
        assert_eq!(&f[q.file_offset as usize..][..34], &[2; 34]);
        assert_eq!(h.data_start % 32, 0);
    }

    #[test]
    fn big_endian_and_version_1() {
        // Version 1: 32-bit counts and lengths.
        let mut f = b"GGUF".to_vec();
        f.extend(1u32.to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend(1u32.to_le_bytes());
        f.extend(1u32.to_le_bytes());
        f.extend(b"k");
        f.extend(4u32.to_le_bytes());
        f.extend(7u32.to_le_bytes());
        let h = parse(&f).unwrap();
        assert_eq!((h.version, h.get("k")), (1, Some(&Value::Uint(7))));
        // Big-endian version 3.
        let mut f = b"GGUF".to_vec();
        f.extend(3u32.to_be_bytes());
        f.extend(0u64.to_be_bytes());
        f.extend(1u64.to_be_bytes());
        f.extend(1u64.to_be_bytes());
        f.extend(b"k");
        f.extend(4u32.to_be_bytes());
        f.extend(7u32.to_be_bytes());
        let h = parse(&f).unwrap();
        assert!(h.big_endian);
        assert_eq!(h.get("k"), Some(&Value::Uint(7)));
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let f = sample();
        let h = parse(&f).unwrap();
        for n in 0..f.len() {
            let cut = &f[..n];
            let r = parse(cut);
            // Cutting only trailing tensor bytes or padding past the last tensor still fails:
            // the tensors' bytes must be in the file.
            assert!(r.is_err(), "prefix of {n} bytes parsed: {r:?}");
        }
        assert!(h.tensors.iter().all(|t| t.file_offset < f.len() as u64));
    }

    #[test]
    fn hostile_counts_lengths_and_offsets() {
        let mut f = b"GGUF".to_vec();
        f.extend(3u32.to_le_bytes());
        f.extend(u64::MAX.to_le_bytes());
        f.extend(0u64.to_le_bytes());
        let (off, why) = err(&f);
        assert_eq!(off, 8);
        assert!(why.contains("cannot fit"), "{why}");
        // A key length past the end.
        let mut f = b"GGUF".to_vec();
        f.extend(3u32.to_le_bytes());
        f.extend(0u64.to_le_bytes());
        f.extend(1u64.to_le_bytes());
        f.extend(u64::MAX.to_le_bytes());
        f.extend([0; 16]);
        let (off, why) = err(&f);
        assert_eq!(off, 24);
        assert!(why.contains("claims"), "{why}");
        // An array whose length cannot fit.
        let mut f = file(&[("a", Kv::Strs(&["x"]))], &[]);
        let len_at = 24 + 8 + 1 + 4 + 4;
        f[len_at..len_at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let (off, why) = err(&f);
        assert_eq!(off, (len_at - 4) as u64);
        assert!(why.contains("cannot fit"), "{why}");
        // Unknown value type.
        let mut f = file(&[("a", Kv::U32(1))], &[]);
        f[24 + 9] = 99;
        assert!(err(&f).1.contains("unknown value type 99"));
        // Bad version.
        let mut f = sample();
        f[4] = 9;
        assert!(err(&f).1.contains("unknown version 9"));
        // A tensor offset past the end, misaligned, or overflowing; a duplicate name.
        let base = file(&[], &[("t", &[8], 0, &[0; 32])]);
        let off_at = 24 + 9 + 4 + 8 + 4;
        for (value, want) in [
            (64u64, "past the end"),
            (3, "not a multiple"),
            (u64::MAX - 31, "overflows"),
        ] {
            let mut f = base.clone();
            f[off_at..off_at + 8].copy_from_slice(&value.to_le_bytes());
            let (off, why) = err(&f);
            assert_eq!(off, 24, "{why}");
            assert!(why.contains(want), "{why}");
        }
        let f = file(&[], &[("t", &[8], 0, &[0; 32]), ("t", &[8], 0, &[0; 32])]);
        assert!(err(&f).1.contains("duplicate tensor name"));
        let f = file(&[("k", Kv::U32(1)), ("k", Kv::U32(2))], &[]);
        assert!(err(&f).1.contains("duplicate key"));
        // Dimensions that overflow, too many dimensions, a bad block multiple.
        let f = file(&[], &[("t", &[1 << 32, 1 << 32], 0, &[])]);
        assert!(err(&f).1.contains("overflow"));
        let f = file(&[], &[("t", &[1; 9], 0, &[0; 4])]);
        assert!(err(&f).1.contains("9 dimensions"));
        let f = file(&[], &[("t", &[31], 8, &[0; 34])]);
        assert!(err(&f).1.contains("block of 32"));
        // Alignment.
        let f = file(&[("general.alignment", Kv::U32(3))], &[]);
        assert!(err(&f).1.contains("power of two"));
        let f = file(&[("general.alignment", Kv::U32(64))], &[]);
        assert_eq!(parse(&f).unwrap().alignment, 64);
    }

    #[test]
    fn overlapping_tensors_are_refused_unknown_types_kept() {
        let mut f = file(&[], &[("a", &[8], 0, &[0; 32]), ("b", &[8], 0, &[0; 32])]);
        // Point b at a's bytes.
        let b_off_at = 24 + (9 + 4 + 8 + 4 + 8) + 9 + 4 + 8 + 4;
        f[b_off_at..b_off_at + 8].copy_from_slice(&0u64.to_le_bytes());
        assert!(err(&f).1.contains("overlap"));
        let f = file(&[], &[("a", &[8], 77, &[0; 32])]);
        let h = parse(&f).unwrap();
        assert_eq!(
            (h.tensors[0].ggml_type.to_string(), h.tensors[0].nbytes),
            ("type 77".to_owned(), None)
        );
    }

    #[test]
    fn deep_arrays_are_bounded() {
        let mut f = b"GGUF".to_vec();
        f.extend(3u32.to_le_bytes());
        f.extend(0u64.to_le_bytes());
        f.extend(1u64.to_le_bytes());
        f.extend(1u64.to_le_bytes());
        f.extend(b"k");
        f.extend(9u32.to_le_bytes());
        for _ in 0..20 {
            f.extend(9u32.to_le_bytes());
            f.extend(1u64.to_le_bytes());
        }
        f.extend([0; 64]);
        assert!(err(&f).1.contains("nested more than"));
    }
}
