//! Python's `repr()` for the values that appear as opcode arguments.
//!
//! The disassembler must print exactly what `pickletools` prints, and `pickletools` prints
//! `repr(arg)`. Each function here follows the corresponding CPython routine
//! (`unicode_repr`, `bytes_repr`, `float_repr`, `long_to_decimal_string`).

mod unprintable;

use std::fmt::Write;

use crate::text::code_points;

/// `str.isprintable()` for one code point, per the reference interpreter's Unicode database.
#[must_use]
pub fn is_printable(cp: u32) -> bool {
    let table = &unprintable::UNPRINTABLE;
    // Binary search for the last range starting at or before cp.
    let idx = table.partition_point(|&(lo, _)| lo <= cp);
    if idx == 0 {
        return true;
    }
    let (_, hi) = table[idx - 1];
    cp > hi
}

/// `repr(s)` for a string held as generalized UTF-8 (see [`crate::text`]).
pub fn str_repr(out: &mut String, s: &[u8]) {
    let has_single = memchr::memchr(b'\'', s).is_some();
    let has_double = memchr::memchr(b'"', s).is_some();
    let quote = if has_single && !has_double { '"' } else { '\'' };
    out.push(quote);
    // Fast path: printable ASCII without quotes or backslashes is copied as is.
    if s.iter()
        .all(|&c| (0x20..=0x7e).contains(&c) && c != b'\\' && c != quote as u8)
    {
        out.push_str(std::str::from_utf8(s).unwrap_or_default());
        out.push(quote);
        return;
    }
    for cp in code_points(s) {
        match cp {
            _ if cp == quote as u32 || cp == u32::from(b'\\') => {
                out.push('\\');
                out.push(char::from_u32(cp).unwrap_or('?'));
            }
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0..=0x1f | 0x7f => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x20..=0x7e => out.push(cp as u8 as char),
            _ if is_printable(cp) => out.push(char::from_u32(cp).unwrap_or('?')),
            0x80..=0xff => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x100..=0xffff => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            _ => {
                let _ = write!(out, "\\U{cp:08x}");
            }
        }
    }
    out.push(quote);
}

/// `repr(b)` for bytes, without the `b` prefix handled by the caller in [`bytes_repr`].
///
/// `bytes` escapes only the quote it is delimited by; `bytearray` (CPython's
/// `bytearray_repr`) escapes `'` whatever the delimiter, so `bytearray(b"'")` prints as
/// `bytearray(b"\'")`. `always_escape_single` selects the second.
///
/// Model files carry megabytes of raw bytes (array data), so this works on runs of printable
/// bytes rather than byte by byte.
fn bytes_body(out: &mut String, b: &[u8], always_escape_single: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let has_single = memchr::memchr(b'\'', b).is_some();
    let has_double = memchr::memchr(b'"', b).is_some();
    let quote = if has_single && !has_double {
        b'"'
    } else {
        b'\''
    };
    let escaped = |c: u8| c == quote || c == b'\\' || (always_escape_single && c == b'\'');
    let plain = |c: u8| (0x20..=0x7e).contains(&c) && !escaped(c);
    out.reserve(b.len() + 2);
    out.push(quote as char);
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && plain(b[i]) {
            i += 1;
        }
        if i > start {
            // The run is printable ASCII, hence valid UTF-8.
            out.push_str(std::str::from_utf8(&b[start..i]).unwrap_or_default());
        }
        let Some(&c) = b.get(i) else { break };
        match c {
            _ if escaped(c) => {
                out.push('\\');
                out.push(c as char);
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ => {
                out.push_str("\\x");
                out.push(HEX[usize::from(c >> 4)] as char);
                out.push(HEX[usize::from(c & 15)] as char);
            }
        }
        i += 1;
    }
    out.push(quote as char);
}

/// `repr(b)` for a `bytes` object.
pub fn bytes_repr(out: &mut String, b: &[u8]) {
    out.push('b');
    bytes_body(out, b, false);
}

/// `repr(b)` for a `bytearray` object.
pub fn bytearray_repr(out: &mut String, b: &[u8]) {
    out.push_str("bytearray(b");
    bytes_body(out, b, true);
    out.push(')');
}

/// `repr(x)` for a float: the shortest round-tripping digits, fixed notation for decimal
/// exponents in (-4, 16], scientific otherwise, and always a `.0` or an exponent.
pub fn float_repr(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // ryu gives the shortest round-tripping digits, as CPython's dtoa mode 0 does; only the
    // layout differs, so take its digits and exponent and lay them out the Python way.
    let mut rbuf = ryu::Buffer::new();
    let r = rbuf.format_finite(x.abs()).as_bytes();
    let (mant, exp) = match r.iter().position(|&c| c == b'e') {
        Some(i) => (&r[..i], parse_exp(&r[i + 1..])),
        None => (r, 0),
    };
    // Digits without the point, and the position of the point within them.
    let mut digits = [0u8; 32];
    let mut nd = 0usize;
    let mut point = None;
    for &c in mant {
        if c == b'.' {
            point = Some(nd);
        } else if nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    let mut point = point.unwrap_or(nd) as i32 + exp;
    // Normalise: strip leading zeros (0.001 → "1", point -2) and trailing zeros.
    let mut start = 0usize;
    while start + 1 < nd && digits[start] == b'0' {
        start += 1;
        point -= 1;
    }
    while nd > start + 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    let digits = &digits[start..nd];
    let nd = digits.len() as i32;
    let decpt = point; // value = 0.DIGITS * 10^decpt
    let digits = std::str::from_utf8(digits).unwrap_or("0");
    if x.is_sign_negative() {
        out.push('-');
    }
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..-decpt {
                out.push('0');
            }
            out.push_str(digits);
        } else if decpt >= nd {
            out.push_str(digits);
            for _ in 0..decpt - nd {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt as usize]);
            out.push('.');
            out.push_str(&digits[decpt as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        out.push_str(if e < 0 { "e-" } else { "e+" });
        let e = e.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(e));
    }
}

fn parse_exp(b: &[u8]) -> i32 {
    let (neg, d) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let v = d
        .iter()
        .fold(0i32, |a, &c| a * 10 + i32::from(c.wrapping_sub(b'0')));
    if neg { -v } else { v }
}

/// `repr(n)` for `int.from_bytes(b, 'little', signed=True)` (LONG1 / LONG4 payloads).
pub fn long_repr(out: &mut String, le_twos_complement: &[u8]) {
    if le_twos_complement.len() <= 16 {
        let neg = le_twos_complement.last().is_some_and(|&b| b & 0x80 != 0);
        let mut buf = if neg { [0xffu8; 16] } else { [0u8; 16] };
        buf[..le_twos_complement.len()].copy_from_slice(le_twos_complement);
        let _ = write!(out, "{}", i128::from_le_bytes(buf));
    } else {
        let n = num_bigint::BigInt::from_signed_bytes_le(le_twos_complement);
        let _ = write!(out, "{n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        float_repr(&mut s, x);
        s
    }

    fn r(s: &str) -> String {
        let mut o = String::new();
        str_repr(&mut o, s.as_bytes());
        o
    }

    #[test]
    fn floats_match_python() {
        // Expected strings are what CPython 3.11 prints for repr(x).
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(-2.5e-300), "-2.5e-300");
        assert_eq!(f(5e-324), "5e-324");
        assert_eq!(f(123456789.125), "123456789.125");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e22), "1e+22");
        assert_eq!(f(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(100.0), "100.0");
        assert_eq!(f(0.001), "0.001");
        assert_eq!(f(1234567890123456.7), "1234567890123456.8");
        assert_eq!(f(12345678901234567.0), "1.2345678901234568e+16");
    }

    #[test]
    fn strings_match_python() {
        assert_eq!(r("it's"), "\"it's\"");
        assert_eq!(r("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(r("é\u{7f}\u{85}\u{200b}"), "'é\\x7f\\x85\\u200b'");
        assert_eq!(r("😀"), "'😀'");
    }

    #[test]
    fn bytearray_escapes_single_quote_in_double_quotes() {
        // Expected strings are what CPython 3.11 prints for repr(bytearray(...)) and repr(bytes).
        let ba = |b: &[u8]| {
            let mut s = String::new();
            bytearray_repr(&mut s, b);
            s
        };
        assert_eq!(ba(b"'"), "bytearray(b\"\\'\")");
        assert_eq!(ba(b"'\""), "bytearray(b'\\'\"')");
        assert_eq!(ba(b"\""), "bytearray(b'\"')");
        let mut s = String::new();
        bytes_repr(&mut s, b"'");
        assert_eq!(s, "b\"'\"");
    }

    #[test]
    fn longs() {
        let mut s = String::new();
        long_repr(&mut s, b"\x00\x80");
        assert_eq!(s, "-32768");
        s.clear();
        long_repr(&mut s, b"");
        assert_eq!(s, "0");
    }
}
