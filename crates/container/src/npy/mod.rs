//! numpy `.npy` files (format versions 1.0, 2.0 and 3.0), read the way `numpy.load` reads
//! them (`numpy/lib/format.py`: `read_magic`, `_read_array_header`, `descr_to_dtype`).
//!
//! Layout: `\x93NUMPY`, major and minor version bytes, the header length (`<u2` for 1.0,
//! `<u4` for 2.0 and 3.0), then the header: a Python dict literal
//! `{'descr': ..., 'fortran_order': ..., 'shape': (...), }`, latin-1 (3.0: UTF-8), padded
//! with spaces to a multiple of 64 (older writers: 16) and ending in `\n`. Python 2 wrote
//! `(2L, 3L)` shapes and `u'<f8'` descrs; numpy still reads those in 1.0 and 2.0 headers.
//! Data follows: raw elements, or for dtypes holding objects a pickle of the array.

mod descr;
mod literal;

pub use descr::DtypeFacts;

use std::borrow::Cow;

use crate::error::OpenError;
use crate::{Format, Loader, Member, MemberKind, Opened};

/// The longest header read. numpy refuses more than 10000 bytes unless `allow_pickle=True`
/// (its guard for `ast.literal_eval`), but it writes such headers itself for wide structured
/// dtypes, and a scanner must read every file a loader might accept.
const MAX_HEADER: usize = 1 << 20;

/// The first bytes of every `.npy` file.
pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: (u8, u8),
    /// The `descr` value as written (a typestr, or a list for structured dtypes).
    pub descr: String,
    /// Whether data is in Fortran order.
    pub fortran_order: bool,
    /// Shape.
    pub shape: Vec<u64>,
    /// Bytes before the data (magic, version, length, header).
    pub header_len: usize,
    /// What the dtype means for the data.
    pub dtype: DtypeFacts,
}

impl Header {
    /// Whether the array holds Python objects, in any field (its data is a pickle).
    #[must_use]
    pub fn is_object(&self) -> bool {
        self.dtype.has_object
    }

    /// Bytes per element, when known.
    #[must_use]
    pub fn itemsize(&self) -> Option<u64> {
        self.dtype.itemsize
    }

    /// Number of elements.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .unwrap_or(u64::MAX)
    }

    /// Bytes of array data, when the item size is known.
    #[must_use]
    pub fn nbytes(&self) -> Option<u64> {
        self.itemsize().map(|s| s.saturating_mul(self.count()))
    }
}

fn damaged(reason: impl Into<String>, offset: usize) -> OpenError {
    OpenError::Damaged {
        what: "npy header".into(),
        offset: offset as u64,
        reason: reason.into(),
    }
}

/// Parses the header at the start of `data` as `numpy.load(allow_pickle=True)` does, and checks
/// that the data is long enough for a plain array (numpy refuses a short one).
///
/// # Errors
/// Whatever numpy refuses, at the offset of the part at fault: a wrong magic, a format version
/// other than 1.0, 2.0 and 3.0, a truncated or oversized header, a header that is not a dict
/// literal with exactly `descr`, `fortran_order` and `shape`, a shape that is not a tuple of
/// ints, a `fortran_order` that is not a bool, a `descr` that is not a dtype, data shorter than
/// the array.
pub fn parse_header(data: &[u8]) -> Result<Header, OpenError> {
    if !data.starts_with(MAGIC) {
        return Err(damaged("missing \\x93NUMPY magic", 0));
    }
    let (major, minor) = match (data.get(6), data.get(7)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => return Err(damaged("truncated version", 6)),
    };
    let (len, start) = match (major, minor) {
        (1, 0) => match data.get(8..10) {
            Some(b) => (usize::from(u16::from_le_bytes([b[0], b[1]])), 10),
            None => return Err(damaged("truncated header length", 8)),
        },
        (2 | 3, 0) => match data.get(8..12) {
            Some(b) => (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12),
            None => return Err(damaged("truncated header length", 8)),
        },
        (a, b) => {
            return Err(damaged(
                format!("format version {a}.{b}: numpy reads only 1.0, 2.0 and 3.0"),
                6,
            ));
        }
    };
    if len > MAX_HEADER {
        return Err(damaged(
            format!("header of {len} bytes exceeds {MAX_HEADER}"),
            8,
        ));
    }
    let raw = data
        .get(start..start + len)
        .ok_or_else(|| damaged(format!("header needs {len} bytes"), start))?;
    // Latin-1 maps bytes to code points one to one, so offsets in the text are file offsets.
    let text: Cow<'_, str> =
        if major == 3 {
            Cow::Borrowed(std::str::from_utf8(raw).map_err(|e| {
                damaged("header is not UTF-8 (format 3.0)", start + e.valid_up_to())
            })?)
        } else if raw.is_ascii() {
            Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default())
        } else {
            Cow::Owned(raw.iter().map(|&b| char::from(b)).collect())
        };
    let at = |text_offset: usize| start + raw_offset(&text, text_offset, major == 3);
    // numpy tries the text as is, then (1.0 and 2.0 only) without Python 2's `L` suffixes.
    let dict = match literal::parse(&text, false) {
        Ok(v) => v,
        Err(_) if major <= 2 => literal::parse(&text, true)
            .map_err(|e| damaged(format!("cannot parse header: {}", e.reason), at(e.offset)))?,
        Err(e) => {
            return Err(damaged(
                format!("cannot parse header: {}", e.reason),
                at(e.offset),
            ));
        }
    };
    let literal::Lit::Dict(pairs) = dict else {
        return Err(damaged("header is not a dictionary", start));
    };
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    for (k, v) in &pairs {
        match k {
            literal::Lit::Str(k) if k == "descr" => descr = Some(v),
            literal::Lit::Str(k) if k == "fortran_order" => fortran = Some(v),
            literal::Lit::Str(k) if k == "shape" => shape = Some(v),
            _ => {
                return Err(damaged(
                    "header keys are not exactly descr, fortran_order, shape",
                    start,
                ));
            }
        }
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return Err(damaged(
            "header keys are not exactly descr, fortran_order, shape",
            start,
        ));
    };
    let literal::Lit::Tuple(dims) = shape else {
        return Err(damaged("shape is not a tuple of ints", start));
    };
    let shape = dims
        .iter()
        .map(|d| match d {
            // A bool passes numpy's isinstance(x, int) check, but reading the data then fails
            // ("an integer is required"), so it is refused here too.
            literal::Lit::Int(n) => u64::try_from(n).map_err(|_| ()),
            _ => Err(()),
        })
        .collect::<Result<Vec<u64>, ()>>()
        .map_err(|()| damaged("shape is not a tuple of non-negative ints", start))?;
    let literal::Lit::Bool(fortran_order) = *fortran else {
        return Err(damaged("fortran_order is not a bool", start));
    };
    let facts = descr::dtype(descr)
        .map_err(|e| damaged(format!("descr is not a valid dtype descriptor: {e}"), start))?;
    let descr = match descr {
        literal::Lit::Str(s) => s.clone(),
        other => descr_text(other),
    };
    let header = Header {
        version: (major, minor),
        descr,
        fortran_order,
        shape,
        header_len: start + len,
        dtype: facts,
    };
    if !facts.has_object
        && let Some(need) = header.nbytes()
    {
        let have = data.len().saturating_sub(header.header_len) as u64;
        if have < need {
            return Err(damaged(
                format!("array data needs {need} bytes, {have} remain"),
                header.header_len,
            ));
        }
    }
    Ok(header)
}

/// The byte of the header that holds character `text_offset` of the decoded text: the same
/// for UTF-8 (3.0), one byte per character for latin-1.
fn raw_offset(text: &str, text_offset: usize, utf8: bool) -> usize {
    if utf8 {
        return text_offset;
    }
    text.get(..text_offset)
        .map_or(text_offset, |t| t.chars().count())
}

/// A literal as Python's `repr` prints it (for a structured `descr`).
fn descr_text(v: &literal::Lit) -> String {
    use literal::Lit;
    let join = |items: &[Lit]| items.iter().map(descr_text).collect::<Vec<_>>().join(", ");
    match v {
        Lit::Str(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Lit::Bytes(b) => format!(
            "b{}",
            descr_text(&Lit::Str(String::from_utf8_lossy(b).into()))
        ),
        Lit::Int(n) => n.to_string(),
        Lit::Float => "<float>".to_owned(),
        Lit::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Lit::None => "None".to_owned(),
        Lit::Tuple(t) if t.len() == 1 => format!("({},)", descr_text(&t[0])),
        Lit::Tuple(t) => format!("({})", join(t)),
        Lit::List(l) => format!("[{}]", join(l)),
        Lit::Set(l) => format!("{{{}}}", join(l)),
        Lit::Dict(d) => format!(
            "{{{}}}",
            d.iter()
                .map(|(k, v)| format!("{}: {}", descr_text(k), descr_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One `.npy` member: the array, or for object arrays the pickle after the header.
pub(crate) fn member<'a>(
    name: String,
    data: Cow<'a, [u8]>,
    file_offset: Option<u64>,
) -> Result<Member<'a>, OpenError> {
    let header = parse_header(&data)?;
    let start = header.header_len;
    let body = match data {
        Cow::Borrowed(b) => Cow::Borrowed(&b[start.min(b.len())..]),
        Cow::Owned(b) => Cow::Owned(b[start.min(b.len())..].to_vec()),
    };
    let kind = if header.is_object() {
        MemberKind::Pickle(Loader::Numpy)
    } else {
        MemberKind::Array(header)
    };
    Ok(Member {
        name,
        kind,
        data: body,
        file_offset: file_offset.map(|o| o + start as u64),
    })
}

/// Opens a `.npy` file.
pub(crate) fn open(data: &[u8]) -> Result<Opened<'_>, OpenError> {
    Ok(Opened {
        format: Format::Npy,
        members: vec![member(String::new(), Cow::Borrowed(data), Some(0))?],
        storages: Vec::new(),
        inventory: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_header() {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        let h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }";
        f.extend_from_slice(&(h.len() as u16).to_le_bytes());
        f.extend_from_slice(h);
        f.extend_from_slice(&[0u8; 96]);
        let hd = parse_header(&f).unwrap();
        assert_eq!(hd.descr, "<f8");
        assert_eq!(hd.shape, vec![3, 4]);
        assert_eq!(hd.itemsize(), Some(8));
        assert!(parse_header(&f[..12]).is_err());
        assert!(parse_header(&f[..f.len() - 1]).is_err(), "short data");
    }

    #[test]
    fn python2_header_reads_in_1_0_not_3_0() {
        let file = |major: u8, h: &[u8]| {
            let mut f = vec![0x93, b'N', b'U', b'M', b'P', b'Y', major, 0];
            if major == 1 {
                f.extend_from_slice(&(h.len() as u16).to_le_bytes());
            } else {
                f.extend_from_slice(&(h.len() as u32).to_le_bytes());
            }
            f.extend_from_slice(h);
            f.extend_from_slice(&[0u8; 48]);
            f
        };
        let h = b"{u'descr': u'<f8', u'fortran_order': False, u'shape': (2L, 3L), }\n";
        let hd = parse_header(&file(1, h)).unwrap();
        assert_eq!(
            (hd.descr.as_str(), hd.shape.as_slice()),
            ("<f8", &[2u64, 3][..])
        );
        assert!(parse_header(&file(3, h)).is_err());
        let t = b"{'descr': [('a', '<i4'), ('', '|V4'), ('b', 'O')], 'fortran_order': True, 'shape': (2,), }";
        let hd = parse_header(&file(2, t)).unwrap();
        assert!(hd.is_object());
        assert_eq!(hd.itemsize(), Some(16));
        assert_eq!(hd.descr, "[('a', '<i4'), ('', '|V4'), ('b', 'O')]");
    }
}
