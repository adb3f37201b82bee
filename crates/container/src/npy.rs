//! numpy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! Layout: `\x93NUMPY`, major and minor version bytes, the header length (`<u2` for 1.0,
//! `<u4` for 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python dict literal
//! `{'descr': ..., 'fortran_order': ..., 'shape': (...), }` padded to a multiple of 64 (older
//! writers: 16) and ending in `\n`. Data follows: raw elements, or for object arrays (`|O`) a
//! pickle of the array.

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
}

impl Header {
    /// Whether the array holds Python objects (its data is a pickle).
    #[must_use]
    pub fn is_object(&self) -> bool {
        self.descr == "|O" || self.descr == "O"
    }

    /// Bytes per element, for plain typestr dtypes.
    #[must_use]
    pub fn itemsize(&self) -> Option<u64> {
        if self.descr.starts_with('[') {
            return None;
        }
        crate::numpy::typestr_itemsize(&self.descr)
    }

    /// Number of elements.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.shape.iter().product()
    }
}

fn damaged(reason: impl Into<String>, offset: usize) -> OpenError {
    OpenError::Damaged {
        what: "npy header".into(),
        offset: offset as u64,
        reason: reason.into(),
    }
}

/// Parses the header at the start of `data`.
///
/// # Errors
/// A wrong magic, an unknown version, a truncated or oversized header, or a dict without
/// `descr`, `fortran_order` and `shape`.
pub fn parse_header(data: &[u8]) -> Result<Header, OpenError> {
    if !data.starts_with(MAGIC) {
        return Err(damaged("missing \\x93NUMPY magic", 0));
    }
    let (major, minor) = match (data.get(6), data.get(7)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => return Err(damaged("truncated version", 6)),
    };
    let (len, start) = match major {
        1 => match data.get(8..10) {
            Some(b) => (usize::from(u16::from_le_bytes([b[0], b[1]])), 10),
            None => return Err(damaged("truncated header length", 8)),
        },
        2 | 3 => match data.get(8..12) {
            Some(b) => (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12),
            None => return Err(damaged("truncated header length", 8)),
        },
        v => return Err(damaged(format!("unknown format version {v}.{minor}"), 6)),
    };
    if len > MAX_HEADER {
        return Err(damaged(
            format!("header of {len} bytes exceeds {MAX_HEADER}"),
            8,
        ));
    }
    let text = data
        .get(start..start + len)
        .ok_or_else(|| damaged(format!("header needs {len} bytes"), start))?;
    let text = String::from_utf8_lossy(text);
    let descr = dict_value(&text, "descr").ok_or_else(|| damaged("no 'descr' key", start))?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.strip_suffix('\''))
        .map_or_else(|| descr.to_owned(), str::to_owned);
    let fortran_order = match dict_value(&text, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        _ => return Err(damaged("no boolean 'fortran_order' key", start)),
    };
    let shape_text = dict_value(&text, "shape").ok_or_else(|| damaged("no 'shape' key", start))?;
    let shape = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<u64>, _>>()
        .map_err(|_| damaged(format!("shape {shape_text} is not a tuple of ints"), start))?;
    Ok(Header {
        version: (major, minor),
        descr,
        fortran_order,
        shape,
        header_len: start + len,
    })
}

/// The text of `key`'s value in a Python dict literal: up to the comma that closes it at
/// bracket depth zero.
fn dict_value<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let pat = format!("'{key}':");
    let at = text.find(&pat)? + pat.len();
    let rest = &text[at..];
    let mut depth = 0i32;
    let mut in_str = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\'' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => {
                if depth == 0 {
                    return Some(rest[..i].trim());
                }
                depth -= 1;
            }
            ',' if !in_str && depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
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
        let hd = parse_header(&f).unwrap();
        assert_eq!(hd.descr, "<f8");
        assert_eq!(hd.shape, vec![3, 4]);
        assert_eq!(hd.itemsize(), Some(8));
        assert!(parse_header(&f[..12]).is_err());
    }

    #[test]
    fn structured_descr_is_kept_whole() {
        let t = "{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': True, 'shape': (2,), }";
        assert_eq!(dict_value(t, "descr"), Some("[('a', '<i4'), ('b', '<f8')]"));
        assert_eq!(dict_value(t, "shape"), Some("(2,)"));
    }
}
