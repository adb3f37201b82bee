//! A disassembler whose output is byte-for-byte that of `python -m pickletools FILE`.
//!
//! `pickletools.dis` is more than a printer: it tracks a crude stack of "markobject or anything"
//! to indent MARK blocks and to annotate the ops that pop a mark with `(MARK at N)`, and it keeps
//! the set of memo keys to number MEMOIZE (`(as N)`) and to catch bad memo use. This module
//! reproduces that bookkeeping, and the sanity checks that abort a disassembly, with the same
//! messages.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::error::ParseError;
use crate::opcode::Opcode;
use crate::parse::{Arg, Op, Parser};
use crate::pyrepr;
use crate::text;

/// Why a disassembly stopped before STOP.
#[derive(Debug)]
pub enum DisError {
    /// The bytes could not be split into ops.
    Parse(ParseError),
    /// An argument `pickletools` could not decode, or a stack/memo check it makes failed.
    Invalid {
        /// Offset of the op.
        offset: u64,
        /// The op.
        opcode: Opcode,
        /// The message `pickletools` would raise.
        message: String,
    },
    /// Writing the listing failed.
    Io(io::Error),
}

impl std::fmt::Display for DisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisError::Parse(e) => e.fmt(f),
            DisError::Invalid {
                offset,
                opcode,
                message,
            } => write!(f, "{opcode}: {message} (at offset {offset})"),
            DisError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DisError {}

impl From<io::Error> for DisError {
    fn from(e: io::Error) -> Self {
        DisError::Io(e)
    }
}

/// What a successful disassembly found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisSummary {
    /// Offset just past STOP.
    pub end: u64,
    /// The highest protocol among the opcodes (`pickletools`' last line).
    pub highest_protocol: u8,
}

/// Memo keys as `pickletools` sees them: Python ints (text GET/PUT may hold any int).
#[derive(Default)]
struct MemoKeys {
    dense: Vec<bool>,
    sparse: HashSet<i128>,
    len: usize,
}

impl MemoKeys {
    const DENSE_LIMIT: i128 = 1 << 24;

    fn contains(&self, k: i128) -> bool {
        if (0..Self::DENSE_LIMIT).contains(&k) {
            self.dense.get(k as usize).copied().unwrap_or(false)
        } else {
            self.sparse.contains(&k)
        }
    }

    fn insert(&mut self, k: i128) {
        if (0..Self::DENSE_LIMIT).contains(&k) {
            let i = k as usize;
            if i >= self.dense.len() {
                self.dense.resize((i + 1).max(self.dense.len() * 2), false);
            }
            self.dense[i] = true;
        } else {
            self.sparse.insert(k);
        }
        self.len += 1;
    }
}

/// Disassembles one pickle starting at `start`, writing the listing to `out`.
///
/// Offsets printed are relative to `data`, as `pickletools` prints `tell()` of the file. On
/// error, every line before the failing op has been written (and, like `pickletools`, the line
/// of an op that fails a stack or memo check is written before the error is returned).
pub fn dis<W: Write>(data: &[u8], start: usize, out: &mut W) -> Result<DisSummary, DisError> {
    dis_with_skips(data, start, out, &[])
}

/// Bytes inside a pickle stream that are not opcodes: a container's raw data between two ops
/// (joblib writes array bytes right after the array wrapper's BUILD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Offset where the raw data starts (just after an op).
    pub at: usize,
    /// Offset where opcodes resume.
    pub to: usize,
    /// What the bytes are, printed in place of them.
    pub note: String,
}

/// Like [`dis`], but jumps over `skips`, printing each one's note on its own line.
pub fn dis_with_skips<W: Write>(
    data: &[u8],
    start: usize,
    out: &mut W,
    skips: &[Skip],
) -> Result<DisSummary, DisError> {
    const INDENT: &[u8; 4] = b"    ";
    // The emulated stack is only ever asked how deep it is and where its markobjects sit, so
    // it is kept as a depth plus the depths of the markobjects on it.
    let mut depth: usize = 0;
    let mut mark_depths: Vec<usize> = Vec::new();
    let mut markstack: Vec<u64> = Vec::new();
    let mut memo = MemoKeys::default();
    let mut maxproto = 0u8;
    let mut seen_any = false;
    // Lines are assembled straight into one output buffer, flushed in large blocks: one copy
    // per byte instead of two. Every per-op piece of known maximum length is appended as a
    // fixed-size copy then cut back (see `push_spaces`): a variable-length copy of a few bytes
    // is a call into memcpy/memset, and this loop runs once per op.
    const FLUSH_AT: usize = 1 << 16;
    let mut line: Vec<u8> = Vec::with_capacity(FLUSH_AT + 4096);
    let mut argbuf = String::with_capacity(64);
    // ": " then the opcode's repr left-aligned in 4 columns then " ", per opcode byte.
    let heads: [[u8; 7]; 256] = std::array::from_fn(|b| {
        let mut h = *b": ?    ";
        if let Some(op) = Opcode::from_byte(b as u8) {
            let code = op.code_repr().as_bytes();
            h[2..2 + code.len()].copy_from_slice(code);
        }
        h
    });
    let mut parser = Parser::new(data, start);

    let mut next_skip = 0; // skips are in stream order
    // Not a `for` loop: skips reposition the parser.
    #[allow(
        clippy::while_let_on_iterator,
        reason = "the body repositions the parser"
    )]
    while let Some(op) = parser.next() {
        let op = match op {
            Ok(op) => op,
            Err(e) => {
                out.write_all(&line)?;
                return Err(DisError::Parse(e));
            }
        };
        let invalid = |message: String| DisError::Invalid {
            offset: op.offset,
            opcode: op.opcode,
            message,
        };
        // pickletools decodes the argument before printing anything for the op. Integers,
        // the commonest arguments, cannot fail and are written straight into the line below.
        let numeric = matches!(op.arg, Arg::UInt(_) | Arg::Int(_));
        let has_arg = numeric || {
            argbuf.clear();
            match write_arg(&op, &mut argbuf) {
                Ok(b) => b,
                Err(m) => {
                    out.write_all(&line)?;
                    return Err(invalid(m));
                }
            }
        };

        if line.len() >= FLUSH_AT {
            out.write_all(&line)?;
            line.clear();
        }
        // "%5d: %-4s " without the formatting machinery.
        push_u64(&mut line, op.offset, 5);
        line.extend_from_slice(&heads[usize::from(op.opcode.byte())]);
        for _ in 0..markstack.len() {
            line.extend_from_slice(INDENT);
        }
        let name_len = op.opcode.name().len();
        let name_at = line.len();
        line.extend_from_slice(op.opcode.name_padded16());
        maxproto = if seen_any {
            maxproto.max(op.opcode.proto())
        } else {
            op.opcode.proto()
        };
        seen_any = true;

        let effect = op.opcode.stack_effect();
        let mut numtopop = usize::from(effect.before);
        let mut mark = Mark::None;
        let mut errormsg: Option<String> = None;
        let pops_mark = effect.mark_at.is_some()
            || (op.opcode == Opcode::POP && depth > 0 && mark_depths.last() == Some(&(depth - 1)));
        if pops_mark {
            if let Some(markpos) = markstack.pop() {
                mark = Mark::At(markpos);
                // Pop everything at and after the topmost markobject.
                depth = mark_depths.pop().unwrap_or(0);
                numtopop = effect.mark_at.map_or(0, usize::from);
            } else {
                mark = Mark::Missing;
                errormsg = Some("no MARK exists on stack".to_owned());
            }
        }

        let mut after = usize::from(effect.after);
        if op.opcode.is_put() {
            let idx = if op.opcode == Opcode::MEMOIZE {
                mark = Mark::As(memo.len as u64);
                Some(memo.len as i128)
            } else {
                memo_key(&op)
            };
            match idx {
                Some(i) if memo.contains(i) => {
                    errormsg = Some(format!(
                        "memo key {} already defined",
                        arg_text(&op, has_arg, &argbuf)
                    ));
                }
                _ if depth == 0 => {
                    errormsg = Some("stack is empty -- can't store into memo".to_owned());
                }
                _ if mark_depths.last() == Some(&(depth - 1)) => {
                    errormsg = Some("can't store markobject in the memo".to_owned());
                }
                Some(i) => memo.insert(i),
                None => {}
            }
        } else if op.opcode.is_get() {
            match memo_key(&op) {
                Some(i) if memo.contains(i) => after = 1,
                _ => {
                    errormsg = Some(format!(
                        "memo key {} has never been stored into",
                        arg_text(&op, has_arg, &argbuf)
                    ));
                }
            }
        }

        if has_arg || !matches!(mark, Mark::None) {
            // The name padded to 10 columns: the padded copy holds the spaces already.
            line.truncate(name_at + name_len.max(10));
            if has_arg {
                line.push(b' ');
                match op.arg {
                    Arg::UInt(n) => push_u64(&mut line, n, 0),
                    Arg::Int(n) => {
                        if n < 0 {
                            line.push(b'-');
                        }
                        push_u64(&mut line, u64::from(n.unsigned_abs()), 0);
                    }
                    _ => line.extend_from_slice(argbuf.as_bytes()),
                }
            }
            match mark {
                Mark::None => {}
                Mark::At(pos) => {
                    line.extend_from_slice(b" (MARK at ");
                    push_u64(&mut line, pos, 0);
                    line.push(b')');
                }
                Mark::As(n) => {
                    line.extend_from_slice(b" (as ");
                    push_u64(&mut line, n, 0);
                    line.push(b')');
                }
                Mark::Missing => line.extend_from_slice(b" no MARK exists on stack"),
            }
        } else {
            line.truncate(name_at + name_len);
        }
        line.push(b'\n');

        if let Some(message) = errormsg {
            out.write_all(&line)?;
            return Err(invalid(message));
        }
        if depth < numtopop {
            out.write_all(&line)?;
            return Err(invalid(format!(
                "tries to pop {numtopop} items from stack with only {depth} items"
            )));
        }
        depth -= numtopop;
        while mark_depths.last().is_some_and(|&m| m >= depth) {
            mark_depths.pop();
        }
        if effect.pushes_mark {
            markstack.push(op.offset);
            mark_depths.push(depth);
        }
        depth += after;
        while skips
            .get(next_skip)
            .is_some_and(|s| s.at < parser.position())
        {
            next_skip += 1;
        }
        if let Some(skip) = skips.get(next_skip).filter(|s| s.at == parser.position()) {
            next_skip += 1;
            line.extend_from_slice(b"       ");
            line.extend_from_slice(skip.note.as_bytes());
            line.push(b'\n');
            parser = Parser::new(data, skip.to);
        }
    }
    out.write_all(&line)?;
    writeln!(out, "highest protocol among opcodes = {maxproto}")?;
    if depth != 0 {
        return Err(DisError::Invalid {
            offset: parser.position().saturating_sub(1) as u64,
            opcode: Opcode::STOP,
            message: format!("stack not empty after STOP: {depth} items"),
        });
    }
    Ok(DisSummary {
        end: parser.position() as u64,
        highest_protocol: maxproto,
    })
}

/// What `pickletools` prints after an op's argument about marks and memo slots.
#[derive(Clone, Copy)]
enum Mark {
    None,
    /// `(MARK at N)`: the op popped the markobject pushed at offset N.
    At(u64),
    /// `(as N)`: MEMOIZE stored into slot N.
    As(u64),
    /// The op pops a mark and there is none.
    Missing,
}

/// The argument as the memo error messages quote it.
#[cold]
fn arg_text(op: &Op<'_>, has_arg: bool, argbuf: &str) -> String {
    match op.arg {
        Arg::UInt(n) => n.to_string(),
        Arg::Int(n) => n.to_string(),
        _ if has_arg => argbuf.to_owned(),
        _ => "None".to_owned(),
    }
}

/// Two decimal digits per entry, for [`push_u64`].
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `n` right-aligned in `width` (at most 5) columns. The digits are written in place
/// over a fixed-size run of spaces, then the line is cut back: no variable-length copy. Runs
/// two or three times per op, hence the hand-unrolled digit count and the 32-bit path.
#[inline(always)]
fn push_u64(out: &mut Vec<u8>, n: u64, width: usize) {
    const ROOM: usize = 24; // 20 digits at most, plus at most 4 spaces before them
    debug_assert!(width <= 5);
    let digits = count_digits(n);
    let at = out.len();
    let len = width.max(digits);
    out.extend_from_slice(&[b' '; ROOM]);
    let Some(room) = out.get_mut(at..at + ROOM) else {
        return;
    };
    let buf = &mut room[..len];
    let mut i = len;
    if let Ok(mut v) = u32::try_from(n) {
        while v >= 100 {
            let r = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        }
        put_last(buf, i, u64::from(v));
    } else {
        let mut v = n;
        while v >= 100 {
            let r = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        }
        put_last(buf, i, v);
    }
    out.truncate(at + len);
}

/// Writes the last one or two digits (`v < 100`) to end at `buf[i]`.
#[inline(always)]
fn put_last(buf: &mut [u8], i: usize, v: u64) {
    if v >= 10 {
        let r = v as usize * 2;
        buf[i - 2..i].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
    } else {
        buf[i - 1] = b'0' + v as u8;
    }
}

/// Decimal digits of `n`: a ladder for the offsets and arguments of real files, which are
/// small, `ilog10` beyond.
#[inline(always)]
fn count_digits(n: u64) -> usize {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1_000..=9_999 => 4,
        10_000..=99_999 => 5,
        100_000..=999_999 => 6,
        1_000_000..=9_999_999 => 7,
        10_000_000..=99_999_999 => 8,
        _ => n.ilog10() as usize + 1,
    }
}

/// The memo key of a GET/PUT-family op, as a Python int (text forms parse like `int()`).
fn memo_key(op: &Op<'_>) -> Option<i128> {
    match op.arg {
        Arg::UInt(n) => Some(i128::from(n)),
        Arg::Line(l) => match l {
            b"00" => Some(0),
            b"01" => Some(1),
            _ => py_int(l).and_then(|s| s.parse().ok()),
        },
        _ => None,
    }
}

/// Python's `int(bytes)` for base 10: surrounding whitespace, a sign, digits with single
/// underscores between them. Returns the canonical decimal string.
#[must_use]
pub fn py_int(s: &[u8]) -> Option<String> {
    let s = trim_ascii_ws(s);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'_' || digits[digits.len() - 1] == b'_' {
        return None;
    }
    let mut out = String::with_capacity(digits.len() + 1);
    let mut prev_us = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                prev_us = false;
                if !(out.is_empty() && c == b'0') {
                    out.push(c as char);
                }
            }
            b'_' if !prev_us => prev_us = true,
            _ => return None,
        }
    }
    if out.is_empty() {
        return Some("0".to_owned());
    }
    if neg {
        out.insert(0, '-');
    }
    Some(out)
}

/// Python's `float(bytes)`: surrounding whitespace, underscores between digits, `inf`/`nan`.
#[must_use]
pub fn py_float(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(trim_ascii_ws(s)).ok()?;
    let cleaned: String;
    let s = if s.contains('_') {
        let b = s.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_' {
                let ok = i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit();
                if !ok {
                    return None;
                }
            }
        }
        cleaned = s.replace('_', "");
        &cleaned
    } else {
        s
    };
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse().ok();
    }
    if body.chars().any(|c| c.is_ascii_alphabetic() && c != 'e') {
        return None;
    }
    s.parse().ok()
}

fn trim_ascii_ws(mut s: &[u8]) -> &[u8] {
    // int(bytes) and float(bytes) strip `Py_ISSPACE` characters: ASCII whitespace only.
    // (`str.isspace()` also counts \x1c-\x1f, but the text opcodes' lines are bytes.)
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    while s.first().is_some_and(ws) {
        s = &s[1..];
    }
    while s.last().is_some_and(ws) {
        s = &s[..s.len() - 1];
    }
    s
}

/// The argument as `pickletools` prints it (`repr(arg)`), or `None` for argument-less ops.
///
/// # Errors
/// The message of the `ValueError` (or decode error) `pickletools` raises for this argument.
pub fn arg_repr(op: &Op<'_>) -> Result<Option<String>, String> {
    let mut out = String::new();
    Ok(write_arg(op, &mut out)?.then_some(out))
}

/// Appends the argument as `pickletools` prints it to `out`; `Ok(false)` for argument-less ops.
///
/// # Errors
/// As [`arg_repr`].
pub fn write_arg(op: &Op<'_>, out: &mut String) -> Result<bool, String> {
    match (op.opcode, op.arg) {
        (_, Arg::None) => return Ok(false),
        (_, Arg::UInt(n)) => out.push_str(itoa::Buffer::new().format(n)),
        (_, Arg::Int(n)) => out.push_str(itoa::Buffer::new().format(n)),
        (_, Arg::Float(x)) => pyrepr::float_repr(out, x),
        (Opcode::INT | Opcode::GET | Opcode::PUT, Arg::Line(l)) => match l {
            b"00" => out.push_str("False"),
            b"01" => out.push_str("True"),
            _ => out.push_str(&py_int(l).ok_or_else(|| invalid_literal("int", l))?),
        },
        (Opcode::LONG, Arg::Line(l)) => {
            let l = l.strip_suffix(b"L").unwrap_or(l);
            out.push_str(&py_int(l).ok_or_else(|| invalid_literal("int", l))?);
        }
        (Opcode::FLOAT, Arg::Line(l)) => {
            let x = py_float(l)
                .ok_or_else(|| format!("could not convert string to float: {}", bytes_lit(l)))?;
            pyrepr::float_repr(out, x);
        }
        (Opcode::STRING, Arg::Line(l)) => {
            let inner = strip_quotes(l)?;
            let decoded = text::escape_decode(inner).map_err(|e| e.to_string())?;
            if !decoded.is_ascii() {
                return Err("'ascii' codec can't decode byte".to_owned());
            }
            pyrepr::str_repr(out, &decoded);
        }
        (Opcode::UNICODE, Arg::Line(l)) => {
            let decoded = text::raw_unicode_escape(l).map_err(|e| e.to_string())?;
            pyrepr::str_repr(out, &decoded);
        }
        (Opcode::PERSID, Arg::Line(l)) => {
            let decoded = noescape(l)?;
            pyrepr::str_repr(out, &decoded);
        }
        (_, Arg::Lines(a, b)) => {
            let mut joined = noescape(a)?;
            joined.push(b' ');
            joined.extend_from_slice(&noescape(b)?);
            pyrepr::str_repr(out, &joined);
        }
        (Opcode::BINSTRING | Opcode::SHORT_BINSTRING, Arg::Bytes(b)) => {
            pyrepr::str_repr(out, &text::latin1(b));
        }
        (Opcode::BINUNICODE | Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE8, Arg::Bytes(b)) => {
            text::validate_utf8_surrogatepass(b)
                .map_err(|e| format!("'utf-8' codec can't decode bytes: {e}"))?;
            pyrepr::str_repr(out, b);
        }
        (Opcode::LONG1 | Opcode::LONG4, Arg::Bytes(b)) => pyrepr::long_repr(out, b),
        (Opcode::BYTEARRAY8, Arg::Bytes(b)) => pyrepr::bytearray_repr(out, b),
        (_, Arg::Bytes(b)) => pyrepr::bytes_repr(out, b),
        (_, Arg::Line(l)) => pyrepr::bytes_repr(out, l),
    }
    Ok(true)
}

fn bytes_lit(b: &[u8]) -> String {
    let mut s = String::new();
    pyrepr::bytes_repr(&mut s, b);
    s
}

fn invalid_literal(kind: &str, l: &[u8]) -> String {
    format!(
        "invalid literal for {kind}() with base 10: {}",
        bytes_lit(l)
    )
}

fn strip_quotes(l: &[u8]) -> Result<&[u8], String> {
    for q in [b'"', b'\''] {
        if l.first() == Some(&q) {
            // Python's `data.endswith(q)` then `data[1:-1]`: a lone quote is both ends.
            if l.len() == 1 {
                return Ok(&[]);
            }
            if l.last() != Some(&q) {
                return Err(format!(
                    "strinq quote {} not found at both ends of {}",
                    bytes_lit(&[q]),
                    bytes_lit(l)
                ));
            }
            return Ok(&l[1..l.len() - 1]);
        }
    }
    Err(format!("no string quotes around {}", bytes_lit(l)))
}

/// `read_stringnl_noescape`: despite the name, `pickletools` runs `escape_decode` and an ASCII
/// decode over GLOBAL, INST and PERSID lines.
fn noescape(l: &[u8]) -> Result<Vec<u8>, String> {
    let d = text::escape_decode(l).map_err(|e| e.to_string())?;
    if !d.is_ascii() {
        return Err("'ascii' codec can't decode byte".to_owned());
    }
    Ok(d.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(data: &[u8]) -> String {
        let mut out = Vec::new();
        dis(data, 0, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn protocol_0_list_with_mark() {
        // Output checked against `python3 -m pickletools` (CPython 3.11.7).
        let got = listing(b"(lp0\nI1\naI2\na.");
        let want = "    0: (    MARK\n    1: l        LIST       (MARK at 0)\n    2: p    PUT        0\n    5: I    INT        1\n    8: a    APPEND\n    9: I    INT        2\n   12: a    APPEND\n   13: .    STOP\nhighest protocol among opcodes = 0\n";
        assert_eq!(got, want);
    }

    #[test]
    fn py_int_like_python() {
        assert_eq!(py_int(b" 1_000 ").as_deref(), Some("1000"));
        assert_eq!(py_int(b"-007").as_deref(), Some("-7"));
        assert_eq!(py_int(b"-0").as_deref(), Some("0"));
        assert_eq!(py_int(b"1__0"), None);
        assert_eq!(py_int(b"12L"), None);
    }
}
