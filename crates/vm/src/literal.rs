//! Text literals as the C unpickler (`Modules/_pickle.c`) reads them.
//!
//! Protocol 0 stores numbers as text, and `_pickle.c` does not parse them the way `int()` does:
//! INT first tries C `strtol` with base 0 (so `010` is octal 8 and `0x10` is 16), and only falls
//! back to `PyLong_FromString`; FLOAT accepts nothing after the number but the newline (so a
//! `\r\n` line ending is rejected). These functions reproduce those rules so that the symbolic
//! value is the value Python would build.

use num_bigint::BigInt;

/// An integer that may not fit in 64 bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IntLit {
    Small(i64),
    Big(BigInt),
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C `strtol(s, &end, 0)` followed by `_pickle.c`'s check that `*end` is `\n` or NUL.
fn strtol_base0(line: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < line.len() && is_c_space(line[i]) {
        i += 1;
    }
    let mut neg = false;
    if let Some(&c) = line.get(i)
        && (c == b'+' || c == b'-')
    {
        neg = c == b'-';
        i += 1;
    }
    let (radix, start) = match (line.get(i), line.get(i + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) if line.get(i + 2).is_some_and(u8::is_ascii_hexdigit) => {
            (16, i + 2)
        }
        (Some(b'0'), _) => (8, i),
        _ => (10, i),
    };
    let mut j = start;
    let mut acc: i128 = 0;
    while let Some(d) = line.get(j).and_then(|&c| (c as char).to_digit(radix)) {
        acc = acc * i128::from(radix) + i128::from(d);
        if acc > i128::from(i64::MAX) + 1 {
            return None; // ERANGE: fall back to PyLong_FromString
        }
        j += 1;
    }
    if j == start {
        return None;
    }
    // The rest of the C string must be the newline (excluded here) or start with NUL.
    if j < line.len() && line[j] != 0 {
        return None;
    }
    let v = if neg { -acc } else { acc };
    i64::try_from(v).ok()
}

/// `PyLong_FromString(s, NULL, 0)`: a Python int literal with optional surrounding whitespace.
fn pylong_base0(line: &[u8]) -> Option<IntLit> {
    let line = match memchr::memchr(0, line) {
        Some(n) => &line[..n],
        None => line,
    };
    // Py_ISSPACE, which (unlike Rust's `trim_ascii`) includes the vertical tab \x0b.
    let start = line
        .iter()
        .position(|&c| !is_c_space(c))
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|&c| !is_c_space(c))
        .map_or(start, |i| i + 1);
    let s = &line[start..end];
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, body, prefixed) = match s {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest, true),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest, true),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest, true),
        _ => (10, s, false),
    };
    let body = if prefixed {
        body.strip_prefix(b"_").unwrap_or(body)
    } else {
        body
    };
    if body.is_empty() || body.starts_with(b"_") || body.ends_with(b"_") {
        return None;
    }
    let mut digits = String::with_capacity(body.len());
    let mut prev_us = false;
    for &c in body {
        if c == b'_' {
            if prev_us {
                return None;
            }
            prev_us = true;
            continue;
        }
        prev_us = false;
        (c as char).to_digit(radix)?;
        digits.push(c as char);
    }
    // Base 0 forbids leading zeros in a non-zero decimal literal.
    if radix == 10
        && digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().any(|c| c != b'0')
    {
        return None;
    }
    let mut n = BigInt::parse_bytes(digits.as_bytes(), radix)?;
    if neg {
        n = -n;
    }
    Some(match i64::try_from(&n) {
        Ok(v) => IntLit::Small(v),
        Err(_) => IntLit::Big(n),
    })
}

/// The INT opcode. `Ok(Err(b))` is a bool (the `00`/`01` lines of protocol 0).
pub(crate) fn c_int(line: &[u8]) -> Option<Result<IntLit, bool>> {
    if let Some(v) = strtol_base0(line) {
        if line.len() == 2 && (v == 0 || v == 1) {
            return Some(Err(v == 1));
        }
        return Some(Ok(IntLit::Small(v)));
    }
    pylong_base0(line).map(Ok)
}

/// The LONG opcode: a trailing `L` is dropped, then `PyLong_FromString(s, NULL, 0)`.
pub(crate) fn c_long(line: &[u8]) -> Option<IntLit> {
    let line = line.strip_suffix(b"L").unwrap_or(line);
    pylong_base0(line)
}

/// GET/PUT text indices: `PyLong_FromString(s, NULL, 10)`.
pub(crate) fn c_index(line: &[u8]) -> Option<i128> {
    pickle::dis::py_int(line)?.parse().ok()
}

/// The FLOAT opcode: `PyOS_string_to_double`, then nothing but the newline (or NUL) may follow.
pub(crate) fn c_float(line: &[u8]) -> Option<f64> {
    let line = match memchr::memchr(0, line) {
        Some(n) => &line[..n],
        None => line,
    };
    let s = std::str::from_utf8(line).ok()?;
    let lower = s.to_ascii_lowercase();
    let body = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    let ok = !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return None;
    }
    let x: f64 = s.parse().ok()?;
    // Overflow raises OverflowError in CPython.
    if x.is_infinite() { None } else { Some(x) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_follows_strtol_then_pylong() {
        assert_eq!(c_int(b"010"), Some(Ok(IntLit::Small(8))));
        assert_eq!(c_int(b"0x10"), Some(Ok(IntLit::Small(16))));
        assert_eq!(c_int(b"01"), Some(Err(true)));
        assert_eq!(c_int(b"00"), Some(Err(false)));
        assert_eq!(c_int(b"1\r"), Some(Ok(IntLit::Small(1))));
        assert!(matches!(
            c_int(b"99999999999999999999"),
            Some(Ok(IntLit::Big(_)))
        ));
        assert_eq!(c_int(b"x"), None);
    }

    #[test]
    fn float_rejects_trailing_cr() {
        assert_eq!(c_float(b"1.5"), Some(1.5));
        assert_eq!(c_float(b"1.5\r"), None);
        assert!(c_float(b"nan").unwrap().is_nan());
    }
}
