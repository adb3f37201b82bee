//! Decoders for the text forms pickles use, reproducing CPython's codecs.
//!
//! Python strings may hold lone surrogates (`'\ud800'`), which Rust's `str` cannot. Decoded text is
//! therefore kept as *generalized UTF-8*: UTF-8 in which surrogate code points are encoded like
//! any other 3-byte sequence. That is exactly `s.encode('utf-8', 'surrogatepass')` in Python, so
//! the common case (BINUNICODE payloads) needs no copy at all.

use std::borrow::Cow;

/// Why text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte position inside the decoded argument.
    pub position: usize,
    /// CPython's reason, e.g. `invalid start byte`.
    pub reason: &'static str,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in position {}", self.reason, self.position)
    }
}

/// Validates UTF-8 that may contain encoded surrogates (`'utf-8', 'surrogatepass'`).
pub fn validate_utf8_surrogatepass(b: &[u8]) -> Result<(), DecodeError> {
    // Fast path: ordinary UTF-8 is the overwhelming case.
    if std::str::from_utf8(b).is_ok() {
        return Ok(());
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let err = |reason| DecodeError {
            position: i,
            reason,
        };
        let (len, min, lo2, hi2) = match c {
            0x00..=0x7f => {
                i += 1;
                continue;
            }
            0xc2..=0xdf => (2, 0, 0x80, 0xbf),
            0xe0 => (3, 0, 0xa0, 0xbf),
            0xe1..=0xef => (3, 0, 0x80, 0xbf), // 0xed admits surrogates here
            0xf0 => (4, 0, 0x90, 0xbf),
            0xf1..=0xf3 => (4, 0, 0x80, 0xbf),
            0xf4 => (4, 0, 0x80, 0x8f),
            _ => return Err(err("invalid start byte")),
        };
        let _ = min;
        if i + 1 >= b.len() {
            return Err(err("unexpected end of data"));
        }
        if !(lo2..=hi2).contains(&b[i + 1]) {
            return Err(err("invalid continuation byte"));
        }
        for k in 2..len {
            match b.get(i + k) {
                None => return Err(err("unexpected end of data")),
                Some(x) if (0x80..=0xbf).contains(x) => {}
                Some(_) => return Err(err("invalid continuation byte")),
            }
        }
        i += len;
    }
    Ok(())
}

/// Iterates the code points of generalized UTF-8 (assumed valid).
pub fn code_points(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let c = *b.get(i)?;
        let (len, init) = match c {
            0x00..=0x7f => (1, u32::from(c)),
            0xc0..=0xdf => (2, u32::from(c & 0x1f)),
            0xe0..=0xef => (3, u32::from(c & 0x0f)),
            _ => (4, u32::from(c & 0x07)),
        };
        let mut cp = init;
        for k in 1..len {
            cp = (cp << 6) | u32::from(b.get(i + k).copied().unwrap_or(0x80) & 0x3f);
        }
        i += len;
        Some(cp)
    })
}

/// Appends code point `cp` to `out` as generalized UTF-8.
pub fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (cp >> 6) as u8, 0x80 | (cp & 0x3f) as u8]),
        0x800..=0xffff => out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xf0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3f) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

/// Decodes latin-1 bytes into generalized UTF-8, borrowing when the input is ASCII.
#[must_use]
pub fn latin1(b: &[u8]) -> Cow<'_, [u8]> {
    if b.is_ascii() {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len() + b.len() / 2);
    for &c in b {
        push_code_point(&mut out, u32::from(c));
    }
    Cow::Owned(out)
}

/// CPython's `raw-unicode-escape` decoder (the UNICODE opcode): bytes are latin-1 except
/// `\uXXXX` and `\UXXXXXXXX` after an odd number of backslashes.
pub fn raw_unicode_escape(b: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    if b.is_ascii() && memchr::memchr(b'\\', b).is_none() {
        return Ok(Cow::Borrowed(b));
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            push_code_point(&mut out, u32::from(b[i]));
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i] == b'\\' {
            out.push(b'\\');
            i += 1;
        }
        if (i - start) % 2 == 0 || i >= b.len() || (b[i] != b'u' && b[i] != b'U') {
            continue;
        }
        out.pop();
        let count = if b[i] == b'u' { 4 } else { 8 };
        i += 1;
        let mut cp: u32 = 0;
        for _ in 0..count {
            let d = b.get(i).and_then(|&c| (c as char).to_digit(16));
            let Some(d) = d else {
                return Err(DecodeError {
                    position: start + (i - start) - 1,
                    reason: if count == 4 {
                        "truncated \\uXXXX escape"
                    } else {
                        "truncated \\UXXXXXXXX escape"
                    },
                });
            };
            cp = (cp << 4) | d;
            i += 1;
        }
        if cp > 0x10ffff {
            return Err(DecodeError {
                position: start,
                reason: "\\Uxxxxxxxx out of range",
            });
        }
        push_code_point(&mut out, cp);
    }
    Ok(Cow::Owned(out))
}

/// CPython's `codecs.escape_decode` (used for STRING and, by `pickletools`, for GLOBAL lines).
pub fn escape_decode(b: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    if memchr::memchr(b'\\', b).is_none() {
        return Ok(Cow::Borrowed(b));
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else {
            return Err(DecodeError {
                position: i,
                reason: "Trailing \\ in string",
            });
        };
        i += 2;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = |k: usize| b.get(k).and_then(|&c| (c as char).to_digit(16));
                match (hex(i), hex(i + 1)) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => {
                        return Err(DecodeError {
                            position: i - 2,
                            reason: "invalid \\x escape",
                        });
                    }
                }
            }
            _ => {
                out.push(b'\\');
                out.push(e);
            }
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_unicode_escape_follows_backslash_parity() {
        assert_eq!(&*raw_unicode_escape(br"a\u00e9").unwrap(), "aé".as_bytes());
        assert_eq!(&*raw_unicode_escape(br"\\u00e9").unwrap(), br"\\u00e9");
        assert!(raw_unicode_escape(br"\u12").is_err());
    }

    #[test]
    fn surrogates_round_trip() {
        let mut v = Vec::new();
        push_code_point(&mut v, 0xd800);
        validate_utf8_surrogatepass(&v).unwrap();
        assert_eq!(code_points(&v).collect::<Vec<_>>(), vec![0xd800]);
        assert!(validate_utf8_surrogatepass(b"\xff").is_err());
    }

    #[test]
    fn escape_decode_octal_hex() {
        assert_eq!(&*escape_decode(br"a\x41\101\n").unwrap(), b"aAA\n");
        assert!(escape_decode(br"\x4").is_err());
    }
}
