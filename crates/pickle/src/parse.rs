//! Zero-copy opcode parser.
//!
//! The parser only splits bytes into opcodes and arguments; it gives no meaning to them (that is
//! the VM's job) and never allocates per op. It is an iterator so that a 2 GB pickle can be
//! disassembled or executed symbolically without holding its ops in memory.

use crate::error::{ErrorKind, ParseError};
use crate::opcode::{ArgKind, Opcode};

/// An opcode argument, borrowed from the input.
///
/// Text and counted arguments keep their raw bytes so that the writer can reproduce the input
/// exactly and so that each consumer can decode them the way *its* reference does (the C
/// unpickler and `pickletools` disagree on several text forms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// The opcode takes no argument.
    None,
    /// An unsigned fixed-width integer (`uint1`, `uint2`, `uint4`, `uint8`).
    UInt(u64),
    /// A signed four-byte integer (`int4`).
    Int(i32),
    /// An eight-byte big-endian float.
    Float(f64),
    /// A text line without its terminating `\n` (a `\r` before it is kept).
    Line(&'a [u8]),
    /// Two text lines (GLOBAL and INST: module, then name), without their `\n`.
    Lines(&'a [u8], &'a [u8]),
    /// The payload of a counted argument (the count itself is implied by the slice length).
    Bytes(&'a [u8]),
}

/// One opcode with its argument and the byte offset of the opcode byte.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Op<'a> {
    /// Offset of the opcode byte from the start of the parsed buffer.
    pub offset: u64,
    /// The opcode.
    pub opcode: Opcode,
    /// Its argument.
    pub arg: Arg<'a>,
}

impl Op<'_> {
    /// Number of bytes the op occupies in its encoding (opcode byte, count prefix and payload).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        1 + match (self.opcode.arg_kind(), self.arg) {
            (ArgKind::U1, _) => 1,
            (ArgKind::U2, _) => 2,
            (ArgKind::U4 | ArgKind::I4, _) => 4,
            (ArgKind::U8 | ArgKind::F8, _) => 8,
            (_, Arg::Line(l)) => l.len() + 1,
            (_, Arg::Lines(a, b)) => a.len() + b.len() + 2,
            (ArgKind::Counted1, Arg::Bytes(b)) => 1 + b.len(),
            (ArgKind::Counted4, Arg::Bytes(b)) => 4 + b.len(),
            (ArgKind::Counted8, Arg::Bytes(b)) => 8 + b.len(),
            _ => 0,
        }
    }
}

/// Parses the ops of one pickle, from `start` through its STOP.
///
/// Iteration yields `Ok(op)` for each op, the STOP included, and ends after STOP. On malformed
/// input it yields one `Err` and then ends; every op before the error has already been yielded.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `data` starting at byte `start`. Offsets are relative to `data`.
    #[must_use]
    pub fn new(data: &'a [u8], start: usize) -> Self {
        Parser {
            data,
            pos: start.min(data.len()),
            done: false,
        }
    }

    /// The offset of the next byte to read: after STOP, the first byte after the pickle.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether STOP or an error has been reached.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.done
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, offset: usize, opcode: Option<Opcode>, kind: ErrorKind) -> ParseError {
        self.done = true;
        ParseError::new(offset as u64, opcode, kind)
    }

    #[inline]
    fn take(&mut self, n: usize, at: usize, op: Opcode) -> Result<&'a [u8], ParseError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => {
                let remain = self.data.len() - self.pos;
                Err(self.fail(
                    at,
                    Some(op),
                    ErrorKind::Truncated {
                        needed: n as u64,
                        remaining: remain as u64,
                    },
                ))
            }
        }
    }

    #[inline]
    fn line(&mut self, at: usize, op: Opcode) -> Result<&'a [u8], ParseError> {
        let rest = &self.data[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(self.fail(at, Some(op), ErrorKind::MissingNewline)),
        }
    }

    #[inline]
    fn fixed<const N: usize>(&mut self, at: usize, op: Opcode) -> Result<[u8; N], ParseError> {
        let s = self.take(N, at, op)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    // Inlined into the callers' loops: returning the op through memory costs a store-forwarding
    // stall per op (measured: a quarter of a symbolic run).
    #[inline(always)]
    fn read_op(&mut self) -> Result<Op<'a>, ParseError> {
        let at = self.pos;
        let Some(&byte) = self.data.get(at) else {
            return Err(self.fail(at, None, ErrorKind::MissingStop));
        };
        let Some(op) = Opcode::from_byte(byte) else {
            return Err(self.fail(at, None, ErrorKind::UnknownOpcode(byte)));
        };
        self.pos += 1;
        let arg = match op.arg_kind() {
            ArgKind::None => Arg::None,
            ArgKind::U1 => Arg::UInt(u64::from(self.fixed::<1>(at, op)?[0])),
            ArgKind::U2 => Arg::UInt(u64::from(u16::from_le_bytes(self.fixed(at, op)?))),
            ArgKind::U4 => Arg::UInt(u64::from(u32::from_le_bytes(self.fixed(at, op)?))),
            ArgKind::U8 => Arg::UInt(u64::from_le_bytes(self.fixed(at, op)?)),
            ArgKind::I4 => Arg::Int(i32::from_le_bytes(self.fixed(at, op)?)),
            ArgKind::F8 => Arg::Float(f64::from_be_bytes(self.fixed(at, op)?)),
            ArgKind::Line => Arg::Line(self.line(at, op)?),
            ArgKind::TwoLines => {
                let a = self.line(at, op)?;
                let b = self.line(at, op)?;
                Arg::Lines(a, b)
            }
            ArgKind::Counted1 => {
                let n = self.fixed::<1>(at, op)?[0];
                Arg::Bytes(self.take(usize::from(n), at, op)?)
            }
            ArgKind::Counted4 => {
                let raw = self.fixed::<4>(at, op)?;
                let n = if op.count_is_signed() {
                    let n = i32::from_le_bytes(raw);
                    if n < 0 {
                        return Err(self.fail(at, Some(op), ErrorKind::NegativeCount(n.into())));
                    }
                    n as u64
                } else {
                    u64::from(u32::from_le_bytes(raw))
                };
                Arg::Bytes(self.take_counted(n, at, op)?)
            }
            ArgKind::Counted8 => {
                let n = u64::from_le_bytes(self.fixed(at, op)?);
                Arg::Bytes(self.take_counted(n, at, op)?)
            }
        };
        if op == Opcode::STOP {
            self.done = true;
        }
        Ok(Op {
            offset: at as u64,
            opcode: op,
            arg,
        })
    }

    fn take_counted(&mut self, n: u64, at: usize, op: Opcode) -> Result<&'a [u8], ParseError> {
        match usize::try_from(n) {
            Ok(n) => self.take(n, at, op),
            Err(_) => {
                let remaining = (self.data.len() - self.pos) as u64;
                Err(self.fail(
                    at,
                    Some(op),
                    ErrorKind::Truncated {
                        needed: n,
                        remaining,
                    },
                ))
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Op<'a>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        Some(self.read_op())
    }
}

/// All ops of one pickle, and the error that ended it early, if any.
#[derive(Debug, Clone, Default)]
pub struct Parsed<'a> {
    /// Offset of the first op.
    pub start: u64,
    /// Offset just past STOP, or where parsing stopped.
    pub end: u64,
    /// Every op read, STOP included.
    pub ops: Vec<Op<'a>>,
    /// Why parsing stopped before STOP.
    pub error: Option<ParseError>,
}

/// Parses one pickle starting at `start` into a vector of ops.
#[must_use]
pub fn parse_one(data: &[u8], start: usize) -> Parsed<'_> {
    let mut p = Parser::new(data, start);
    let mut ops = Vec::new();
    let mut error = None;
    for r in p.by_ref() {
        match r {
            Ok(op) => ops.push(op),
            Err(e) => error = Some(e),
        }
    }
    Parsed {
        start: start as u64,
        end: p.position() as u64,
        ops,
        error,
    }
}

/// Parses every pickle in a stream of concatenated pickles (legacy torch, joblib, `pickle.dump`
/// called several times on one file). Stops at the end of the data or at the first error.
#[must_use]
pub fn parse_all(data: &[u8]) -> Vec<Parsed<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let parsed = parse_one(data, start);
        let stop = parsed.error.is_some() || parsed.end as usize >= data.len();
        start = parsed.end as usize;
        out.push(parsed);
        if stop {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_protocol_2_int() {
        let p = parse_one(b"\x80\x02K\x05.", 0);
        assert!(p.error.is_none());
        assert_eq!(p.ops.len(), 3);
        assert_eq!(p.ops[1].arg, Arg::UInt(5));
        assert_eq!(p.ops[2].offset, 4);
    }

    #[test]
    fn truncated_argument_names_offset_and_opcode() {
        let p = parse_one(b"\x80\x04X\x05\x00\x00\x00ab", 0);
        assert_eq!(p.ops.len(), 1);
        let e = p.error.unwrap();
        assert_eq!(e.offset, 2);
        assert_eq!(e.opcode, Some(Opcode::BINUNICODE));
        assert_eq!(
            e.to_string(),
            "truncated BINUNICODE argument: needs 5 bytes, 2 remain (at offset 2)"
        );
    }

    #[test]
    fn huge_count_does_not_allocate_or_panic() {
        let p = parse_one(b"\x8e\xff\xff\xff\xff\xff\xff\xff\xff", 0);
        assert!(matches!(p.error.unwrap().kind, ErrorKind::Truncated { .. }));
    }

    #[test]
    fn several_pickles() {
        let all = parse_all(b"K\x01.K\x02.");
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].start, 3);
    }
}
