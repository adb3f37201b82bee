//! safetensors files: an 8-byte little-endian header length `N`, `N` bytes of JSON, then the
//! tensors' bytes back to back.
//!
//! The header is validated the way the reference reader (`safetensors` 0.8,
//! `SafeTensors::deserialize`) validates it, with checked arithmetic throughout:
//! - `N` is at most [`MAX_HEADER_SIZE`] and the header lies inside the file;
//! - the header is UTF-8 JSON that starts with `{` (trailing spaces are allowed), one object
//!   whose values are tensors `{"dtype", "shape", "data_offsets"}` (other keys ignored, as the
//!   reference reader ignores them), plus an optional `__metadata__` string-to-string map;
//! - sorted by their offsets, the tensors cover the byte buffer from 0 to its end with no gap
//!   and no overlap, each `end - begin` is `numel * bits / 8` (sub-byte dtypes must end on a
//!   byte), and the buffer ends exactly at the end of the file.
//!
//! Stricter than the reference: a tensor name or metadata key given twice is an error (the
//! format disallows it; serde keeps the last one, so two readers could disagree on a file).
//!
//! Nothing here unpickles or executes anything: a safetensors file stores data only.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::OpenError;

/// The largest header the reference reader accepts (`MAX_HEADER_SIZE`), in bytes.
pub const MAX_HEADER_SIZE: u64 = 100_000_000;

/// A safetensors element type, in the reference crate's enum order (`Ord` follows it: the
/// reference writer lays tensors out by descending dtype, then by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dtype {
    /// `BOOL`: 8 bits.
    Bool,
    /// `F4`: 4-bit float (e2m1), two per byte.
    F4,
    /// `F6_E2M3`: 6-bit float.
    F6E2M3,
    /// `F6_E3M2`: 6-bit float.
    F6E3M2,
    /// `U8`.
    U8,
    /// `I8`.
    I8,
    /// `F8_E5M2`.
    F8E5M2,
    /// `F8_E4M3` (torch's `float8_e4m3fn`).
    F8E4M3,
    /// `F8_E8M0` (torch's `float8_e8m0fnu`).
    F8E8M0,
    /// `F8_E4M3FNUZ`.
    F8E4M3Fnuz,
    /// `F8_E5M2FNUZ`.
    F8E5M2Fnuz,
    /// `I16`.
    I16,
    /// `U16`.
    U16,
    /// `F16`.
    F16,
    /// `BF16`.
    BF16,
    /// `I32`.
    I32,
    /// `U32`.
    U32,
    /// `F32`.
    F32,
    /// `C64`: complex of two `F32`.
    C64,
    /// `F64`.
    F64,
    /// `I64`.
    I64,
    /// `U64`.
    U64,
}

impl Dtype {
    /// Every dtype, in enum order.
    pub const ALL: [Dtype; 22] = [
        Dtype::Bool,
        Dtype::F4,
        Dtype::F6E2M3,
        Dtype::F6E3M2,
        Dtype::U8,
        Dtype::I8,
        Dtype::F8E5M2,
        Dtype::F8E4M3,
        Dtype::F8E8M0,
        Dtype::F8E4M3Fnuz,
        Dtype::F8E5M2Fnuz,
        Dtype::I16,
        Dtype::U16,
        Dtype::F16,
        Dtype::BF16,
        Dtype::I32,
        Dtype::U32,
        Dtype::F32,
        Dtype::C64,
        Dtype::F64,
        Dtype::I64,
        Dtype::U64,
    ];

    /// The name in the header (`"BF16"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::F4 => "F4",
            Dtype::F6E2M3 => "F6_E2M3",
            Dtype::F6E3M2 => "F6_E3M2",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::F8E5M2 => "F8_E5M2",
            Dtype::F8E4M3 => "F8_E4M3",
            Dtype::F8E8M0 => "F8_E8M0",
            Dtype::F8E4M3Fnuz => "F8_E4M3FNUZ",
            Dtype::F8E5M2Fnuz => "F8_E5M2FNUZ",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::F32 => "F32",
            Dtype::C64 => "C64",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
        }
    }

    /// The dtype with this header name (exact, case-sensitive, as the reference reader).
    #[must_use]
    pub fn parse(name: &str) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bits per element (`bitsize()` in the reference crate).
    #[must_use]
    pub fn bits(self) -> u64 {
        match self {
            Dtype::F4 => 4,
            Dtype::F6E2M3 | Dtype::F6E3M2 => 6,
            Dtype::Bool
            | Dtype::U8
            | Dtype::I8
            | Dtype::F8E5M2
            | Dtype::F8E4M3
            | Dtype::F8E8M0
            | Dtype::F8E4M3Fnuz
            | Dtype::F8E5M2Fnuz => 8,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 16,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 32,
            Dtype::C64 | Dtype::F64 | Dtype::I64 | Dtype::U64 => 64,
        }
    }

    /// The dtype for a torch dtype name (`torch.bfloat16` or `bfloat16`), for the types torch
    /// and safetensors share; `None` for the others (complex128, quantized types, ...).
    /// `float4_e2m1fn_x2` maps to [`Dtype::F4`]: torch's shape counts bytes (two values each),
    /// safetensors' counts values, so the last dimension doubles.
    #[must_use]
    pub fn from_torch(name: &str) -> Option<Dtype> {
        let name = name.strip_prefix("torch.").unwrap_or(name);
        Some(match name {
            "bool" => Dtype::Bool,
            "uint8" => Dtype::U8,
            "int8" => Dtype::I8,
            "int16" | "short" => Dtype::I16,
            "uint16" => Dtype::U16,
            "float16" | "half" => Dtype::F16,
            "bfloat16" => Dtype::BF16,
            "int32" | "int" => Dtype::I32,
            "uint32" => Dtype::U32,
            "float32" | "float" => Dtype::F32,
            "float64" | "double" => Dtype::F64,
            "int64" | "long" => Dtype::I64,
            "uint64" => Dtype::U64,
            "complex64" | "cfloat" => Dtype::C64,
            "float8_e4m3fn" => Dtype::F8E4M3,
            "float8_e5m2" => Dtype::F8E5M2,
            "float8_e8m0fnu" => Dtype::F8E8M0,
            "float8_e4m3fnuz" => Dtype::F8E4M3Fnuz,
            "float8_e5m2fnuz" => Dtype::F8E5M2Fnuz,
            "float4_e2m1fn_x2" => Dtype::F4,
            _ => return None,
        })
    }

    /// The dtype for a little-endian (or byte-order-free) numpy `descr` such as `<f4` or
    /// `|b1`; `None` for big-endian and types safetensors lacks.
    #[must_use]
    pub fn from_numpy_descr(descr: &str) -> Option<Dtype> {
        Some(match descr {
            "|b1" => Dtype::Bool,
            "|u1" => Dtype::U8,
            "|i1" => Dtype::I8,
            "<i2" => Dtype::I16,
            "<u2" => Dtype::U16,
            "<f2" => Dtype::F16,
            "<i4" => Dtype::I32,
            "<u4" => Dtype::U32,
            "<f4" => Dtype::F32,
            "<c8" => Dtype::C64,
            "<f8" => Dtype::F64,
            "<i8" => Dtype::I64,
            "<u8" => Dtype::U64,
            _ => return None,
        })
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One tensor of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Its name (the header key).
    pub name: String,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape (row-major, no strides).
    pub shape: Vec<u64>,
    /// `[begin, end)` relative to the start of the byte buffer, as in the header.
    pub data_offsets: [u64; 2],
    /// Where its bytes start in the file (`data_start + begin`).
    pub file_offset: u64,
}

impl TensorInfo {
    /// Its length in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.data_offsets[1] - self.data_offsets[0]
    }

    /// Whether it stores no bytes (a 0 in the shape).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its bytes in the file the header was parsed from.
    #[must_use]
    pub fn bytes<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        let start = self.file_offset as usize;
        &file[start..start + self.len() as usize]
    }
}

/// A validated safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `N`: the JSON header's length in bytes (padding included).
    pub header_len: u64,
    /// Where the byte buffer starts in the file: `8 + N`.
    pub data_start: u64,
    /// `__metadata__`, in header order; `None` when absent or `null`.
    pub metadata: Option<Vec<(String, String)>>,
    /// The tensors, in buffer order (by `data_offsets`; the reference writer also writes the
    /// header in this order).
    pub tensors: Vec<TensorInfo>,
}

/// Whether `data` starts like a safetensors file: a header length that fits in the file and
/// under [`MAX_HEADER_SIZE`]... or not (a hostile or truncated length is still reported as a
/// damaged safetensors file), followed by `{` and the start of a JSON key or the end of the
/// object.
#[must_use]
pub fn looks_like(data: &[u8]) -> bool {
    let Some(n) = data.get(..8) else {
        return false;
    };
    let n = u64::from_le_bytes(n.try_into().unwrap_or_default());
    // A length whose top bytes are set is not a header length but something else's bytes.
    (2..1 << 40).contains(&n)
        && data.get(8) == Some(&b'{')
        && data
            .get(9)
            .is_some_and(|&b| matches!(b, b'"' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
}

fn damaged(offset: u64, reason: impl Into<String>) -> OpenError {
    OpenError::Damaged {
        what: "safetensors file".to_owned(),
        offset,
        reason: reason.into(),
    }
}

/// Parses and validates the header of `data`, a whole safetensors file.
///
/// # Errors
/// [`OpenError::Damaged`] with the file offset of the problem: a header length over
/// [`MAX_HEADER_SIZE`] or past the end of the file, a header that is not UTF-8 JSON of the
/// expected shape (unknown dtype, missing field, non-string metadata, duplicate name), tensors
/// that leave a gap, overlap, disagree with their shape, or do not cover the file.
pub fn parse(data: &[u8]) -> Result<Header, OpenError> {
    let Some(n) = data.get(..8) else {
        return Err(damaged(
            0,
            format!(
                "{} bytes: too short for the 8-byte header length",
                data.len()
            ),
        ));
    };
    let n = u64::from_le_bytes(n.try_into().unwrap_or_default());
    if n > MAX_HEADER_SIZE {
        return Err(damaged(
            0,
            format!("header length {n} is over the {MAX_HEADER_SIZE}-byte limit"),
        ));
    }
    let data_start = n + 8;
    let file_len = data.len() as u64;
    if data_start > file_len {
        return Err(damaged(
            0,
            format!("header length {n} runs past the end of the {file_len}-byte file"),
        ));
    }
    let raw = &data[8..data_start as usize];
    let text = std::str::from_utf8(raw)
        .map_err(|e| damaged(8 + e.valid_up_to() as u64, "the header is not valid UTF-8"))?;
    if !text.starts_with('{') {
        return Err(damaged(8, "the header does not start with '{'"));
    }
    let parsed: RawHeader = serde_json::from_str(text).map_err(|e| {
        damaged(
            8 + json_offset(raw, &e),
            format!("invalid header JSON: {e}"),
        )
    })?;
    let mut tensors: Vec<TensorInfo> = parsed
        .tensors
        .into_iter()
        .map(|(name, t)| TensorInfo {
            name,
            dtype: t.dtype,
            shape: t.shape,
            data_offsets: [t.data_offsets.0, t.data_offsets.1],
            file_offset: 0,
        })
        .collect();
    tensors.sort_by_key(|t| t.data_offsets);
    let mut expected = 0u64;
    for t in &mut tensors {
        let [begin, end] = t.data_offsets;
        let at = data_start.saturating_add(begin);
        if begin != expected || end < begin {
            let why = if begin > expected {
                format!("leaves a gap: the previous tensor ends at {expected}")
            } else if begin < expected {
                format!("overlaps the previous tensor, which ends at {expected}")
            } else {
                "ends before it begins".to_owned()
            };
            return Err(damaged(
                at,
                format!(
                    "tensor {:?} has data_offsets [{begin}, {end}] and {why}",
                    t.name
                ),
            ));
        }
        let overflow = || damaged(at, format!("tensor {:?}: its size overflows", t.name));
        let numel = t
            .shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(overflow)?;
        let nbits = numel.checked_mul(t.dtype.bits()).ok_or_else(overflow)?;
        if nbits % 8 != 0 {
            return Err(damaged(
                at,
                format!(
                    "tensor {:?}: {numel} {} values do not end on a byte boundary",
                    t.name, t.dtype
                ),
            ));
        }
        if end - begin != nbits / 8 {
            return Err(damaged(
                at,
                format!(
                    "tensor {:?}: {} {:?} needs {} bytes, data_offsets [{begin}, {end}] hold {}",
                    t.name,
                    t.dtype,
                    t.shape,
                    nbits / 8,
                    end - begin
                ),
            ));
        }
        t.file_offset = at;
        expected = end;
    }
    let end = data_start.checked_add(expected);
    if end != Some(file_len) {
        return Err(damaged(
            data_start.saturating_add(expected).min(file_len),
            format!(
                "the tensors cover {expected} bytes after the header, but the file has {} there",
                file_len - data_start
            ),
        ));
    }
    Ok(Header {
        header_len: n,
        data_start,
        metadata: parsed.metadata,
        tensors,
    })
}

/// The byte offset in `raw` of a serde_json error (it counts lines and 1-based byte columns).
fn json_offset(raw: &[u8], e: &serde_json::Error) -> u64 {
    let line_start = if e.line() <= 1 {
        0
    } else {
        raw.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(e.line() - 2)
            .map_or(raw.len(), |(i, _)| i + 1)
    };
    (line_start + e.column().saturating_sub(1)).min(raw.len()) as u64
}

/// The header as JSON says it, before validation.
struct RawHeader {
    metadata: Option<Vec<(String, String)>>,
    tensors: Vec<(String, RawTensor)>,
}

#[derive(serde::Deserialize)]
struct RawTensor {
    dtype: Dtype,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

impl<'de> serde::Deserialize<'de> for Dtype {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        Dtype::parse(&s).ok_or_else(|| {
            let names: Vec<&str> = Dtype::ALL.iter().map(|d| d.name()).collect();
            de::Error::custom(format!(
                "unknown dtype {s:?}, expected one of {}",
                names.join(", ")
            ))
        })
    }
}

impl<'de> serde::Deserialize<'de> for RawHeader {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = RawHeader;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of tensors")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeader, A::Error> {
        let mut out = RawHeader {
            metadata: None,
            tensors: Vec::new(),
        };
        let mut seen_metadata = false;
        let mut names = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "__metadata__" {
                if seen_metadata {
                    return Err(de::Error::custom("duplicate key \"__metadata__\""));
                }
                seen_metadata = true;
                out.metadata = map.next_value::<Option<Metadata>>()?.map(|m| m.0);
            } else {
                let t: RawTensor = map.next_value()?;
                if !names.insert(key.clone()) {
                    return Err(de::Error::custom(format!("duplicate tensor name {key:?}")));
                }
                out.tensors.push((key, t));
            }
        }
        Ok(out)
    }
}

/// `__metadata__`: strings only, keys unique, in order.
struct Metadata(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Metadata;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metadata, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                let mut keys = std::collections::HashSet::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if !keys.insert(k.clone()) {
                        return Err(de::Error::custom(format!(
                            "duplicate __metadata__ key {k:?}"
                        )));
                    }
                    out.push((k, v));
                }
                Ok(Metadata(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    fn err(data: &[u8]) -> (u64, String) {
        match parse(data) {
            Err(OpenError::Damaged { offset, reason, .. }) => (offset, reason),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_tensors_metadata_and_offsets() {
        let h = r#"{"__metadata__":{"format":"pt","b":"c"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"BF16","shape":[0,3],"data_offsets":[8,8]},"x":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}  "#;
        let f = file(h, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(looks_like(&f));
        let p = parse(&f).unwrap();
        assert_eq!(p.header_len, h.len() as u64);
        assert_eq!(p.data_start, 8 + h.len() as u64);
        assert_eq!(
            p.metadata,
            Some(vec![
                ("format".to_owned(), "pt".to_owned()),
                ("b".to_owned(), "c".to_owned())
            ])
        );
        let names: Vec<&str> = p.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["w", "e", "x"]);
        assert_eq!(p.tensors[0].dtype, Dtype::F32);
        assert_eq!(p.tensors[0].bytes(&f), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(p.tensors[1].is_empty());
        assert_eq!(p.tensors[2].shape, Vec::<u64>::new());
        assert_eq!(p.tensors[2].file_offset, p.data_start + 8);
    }

    #[test]
    fn empty_header_and_null_metadata() {
        let p = parse(&file("{}", b"")).unwrap();
        assert!(p.tensors.is_empty() && p.metadata.is_none());
        let p = parse(&file(r#"{"__metadata__":null}"#, b"")).unwrap();
        assert!(p.metadata.is_none());
        // Unknown fields in a tensor are ignored, as by the reference reader.
        let p = parse(&file(
            r#"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1],"extra":[1]}}"#,
            b"\x07",
        ))
        .unwrap();
        assert_eq!(p.tensors[0].dtype, Dtype::I8);
    }

    #[test]
    fn sub_byte_dtypes_must_end_on_a_byte() {
        parse(&file(
            r#"{"a":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#,
            b"\0\0",
        ))
        .unwrap();
        parse(&file(
            r#"{"a":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}"#,
            b"\0\0\0",
        ))
        .unwrap();
        let (_, why) = err(&file(
            r#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}"#,
            b"\0",
        ));
        assert!(why.contains("byte boundary"), "{why}");
    }

    #[test]
    fn hostile_lengths_are_errors_with_offsets() {
        // Header length over the limit.
        let mut f = (MAX_HEADER_SIZE + 1).to_le_bytes().to_vec();
        f.extend_from_slice(b"{\"a\":1}");
        assert!(looks_like(&f));
        let (off, why) = err(&f);
        assert_eq!(off, 0);
        assert!(why.contains("limit"), "{why}");
        // Header length past the end of the file.
        let mut f = 1000u64.to_le_bytes().to_vec();
        f.extend_from_slice(b"{\"a\":1}");
        assert!(err(&f).1.contains("past the end"));
        // u64::MAX never wraps.
        let mut f = u64::MAX.to_le_bytes().to_vec();
        f.extend_from_slice(b"{}");
        assert_eq!(err(&f).0, 0);
        // Too short for the length.
        assert!(err(b"\x02\0\0").1.contains("too short"));
        // Offsets and shapes that overflow.
        let (_, why) = err(&file(
            r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
            &[0; 8],
        ));
        assert!(why.contains("overflows"), "{why}");
        let (_, why) = err(&file(
            r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551615]}}"#,
            &[0; 8],
        ));
        assert!(why.contains("needs 1 bytes"), "{why}");
        let (_, why) = err(&file(
            r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}"#,
            &[0; 8],
        ));
        assert!(why.contains("gap"), "{why}");
    }

    #[test]
    fn gaps_overlaps_sizes_and_coverage() {
        let t = |a: &str| format!(r#"{{{a}}}"#);
        let h = t(r#""a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}"#);
        let (off, why) = err(&file(&h, b"\0\0"));
        assert!(why.contains("gap"), "{why}");
        assert_eq!(off, 8 + h.len() as u64 + 1);
        let (_, why) = err(&file(
            &t(
                r#""a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}"#,
            ),
            b"\0\0",
        ));
        assert!(why.contains("overlaps"), "{why}");
        let (_, why) = err(&file(
            &t(r#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}"#),
            b"\0\0\0\0",
        ));
        assert!(why.contains("needs 8 bytes"), "{why}");
        let h = t(r#""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#);
        let (off, why) = err(&file(&h, b"\0\0"));
        assert!(why.contains("cover 1 bytes"), "{why}");
        assert_eq!(off, 8 + h.len() as u64 + 1);
        // Truncated data: the header promises more than the file has.
        let (_, why) = err(&file(
            &t(r#""a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}"#),
            b"\0",
        ));
        assert!(why.contains("cover 4 bytes"), "{why}");
    }

    #[test]
    fn header_json_errors_point_into_the_header() {
        let (off, why) = err(&file("{}\0\0", b""));
        assert_eq!(off, 8 + 2, "{why}");
        let (off, why) = err(&file(
            "{\n\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
            &[0; 4],
        ));
        assert!(why.contains("unknown dtype \"f32\""), "{why}");
        assert!(off > 10 && off < 8 + 25, "{off}");
        for (h, want) in [
            (r#"{"__metadata__":{"k":1}}"#, "invalid type"),
            (
                r#"{"__metadata__":{"k":"a","k":"b"}}"#,
                "duplicate __metadata__ key",
            ),
            (
                r#"{"__metadata__":{},"__metadata__":{}}"#,
                "duplicate key \"__metadata__\"",
            ),
            (
                r#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#,
                "duplicate tensor name",
            ),
            (
                r#"{"a":{"dtype":"U8","data_offsets":[0,0]}}"#,
                "missing field `shape`",
            ),
            (
                r#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#,
                "invalid value",
            ),
            (
                r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#,
                "invalid header JSON",
            ),
            (r#"{"a":"x"}"#, "invalid type"),
            (r#"{"a":{"#, "EOF"),
        ] {
            let (off, why) = err(&file(h, b""));
            assert!(why.contains(want), "{h}: {why}");
            assert!(off >= 8 && off <= 8 + h.len() as u64, "{h}: {off}");
        }
        let mut f = file("{\"\u{e9}\":1}", b"");
        f[10] = 0xff;
        let (off, why) = err(&f);
        assert_eq!(off, 10, "{why}");
    }

    #[test]
    fn sniffing_needs_a_plausible_length_and_a_brace() {
        assert!(!looks_like(
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}"
        ));
        assert!(!looks_like(b"\x01\0\0\0\0\0\0\0{"));
        assert!(!looks_like(b"short"));
        assert!(looks_like(&file("{}", b"")));
    }

    #[test]
    fn dtype_names_bits_and_foreign_names() {
        for d in Dtype::ALL {
            assert_eq!(Dtype::parse(d.name()), Some(d));
        }
        assert!(Dtype::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Dtype::BF16.bits(), 16);
        assert_eq!(Dtype::F6E3M2.bits(), 6);
        assert_eq!(
            Dtype::from_torch("torch.float8_e4m3fn"),
            Some(Dtype::F8E4M3)
        );
        assert_eq!(Dtype::from_torch("bfloat16"), Some(Dtype::BF16));
        assert_eq!(Dtype::from_torch("torch.complex128"), None);
        assert_eq!(Dtype::from_torch("torch.qint8"), None);
        assert_eq!(Dtype::from_numpy_descr("<f4"), Some(Dtype::F32));
        assert_eq!(Dtype::from_numpy_descr(">f4"), None);
    }
}
