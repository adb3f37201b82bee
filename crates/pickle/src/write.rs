//! The writer: ops back to bytes.
//!
//! Because [`Arg`] keeps text and counted arguments as their raw bytes, writing the ops a parse
//! produced gives back the input byte for byte. `fix` builds on this: it edits a few ops and
//! writes the rest untouched.

use crate::opcode::{ArgKind, Opcode};
use crate::parse::{Arg, Op};

/// Why an op cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    /// The op that could not be written.
    pub opcode: Opcode,
    /// Why.
    pub reason: &'static str,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.opcode, self.reason)
    }
}

impl std::error::Error for WriteError {}

/// Appends the encoding of `op` to `out`.
///
/// # Errors
/// When the argument does not fit the opcode: wrong variant, an integer out of range, a
/// newline inside a text argument, or a payload too long for its count prefix.
pub fn write_op(out: &mut Vec<u8>, op: &Op<'_>) -> Result<(), WriteError> {
    let err = |reason| WriteError {
        opcode: op.opcode,
        reason,
    };
    out.push(op.opcode.byte());
    match (op.opcode.arg_kind(), op.arg) {
        (ArgKind::None, Arg::None) => {}
        (ArgKind::U1, Arg::UInt(n)) => {
            out.push(u8::try_from(n).map_err(|_| err("value does not fit in 1 byte"))?);
        }
        (ArgKind::U2, Arg::UInt(n)) => out.extend_from_slice(
            &u16::try_from(n)
                .map_err(|_| err("value does not fit in 2 bytes"))?
                .to_le_bytes(),
        ),
        (ArgKind::U4, Arg::UInt(n)) => out.extend_from_slice(
            &u32::try_from(n)
                .map_err(|_| err("value does not fit in 4 bytes"))?
                .to_le_bytes(),
        ),
        (ArgKind::U8, Arg::UInt(n)) => out.extend_from_slice(&n.to_le_bytes()),
        (ArgKind::I4, Arg::Int(n)) => out.extend_from_slice(&n.to_le_bytes()),
        (ArgKind::F8, Arg::Float(x)) => out.extend_from_slice(&x.to_be_bytes()),
        (ArgKind::Line, Arg::Line(l)) => {
            if memchr::memchr(b'\n', l).is_some() {
                return Err(err("newline inside a text argument"));
            }
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        (ArgKind::TwoLines, Arg::Lines(a, b)) => {
            if memchr::memchr(b'\n', a).is_some() || memchr::memchr(b'\n', b).is_some() {
                return Err(err("newline inside a text argument"));
            }
            out.extend_from_slice(a);
            out.push(b'\n');
            out.extend_from_slice(b);
            out.push(b'\n');
        }
        (ArgKind::Counted1, Arg::Bytes(b)) => {
            out.push(u8::try_from(b.len()).map_err(|_| err("payload longer than 255 bytes"))?);
            out.extend_from_slice(b);
        }
        (ArgKind::Counted4, Arg::Bytes(b)) => {
            let limit = if op.opcode.count_is_signed() {
                i32::MAX as usize
            } else {
                u32::MAX as usize
            };
            if b.len() > limit {
                return Err(err("payload too long for a 4-byte count"));
            }
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        (ArgKind::Counted8, Arg::Bytes(b)) => {
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
        _ => return Err(err("argument does not match the opcode")),
    }
    Ok(())
}

/// Encodes a sequence of ops.
///
/// # Errors
/// The first op that cannot be encoded (see [`write_op`]).
pub fn write_ops<'a>(ops: impl IntoIterator<Item = &'a Op<'a>>) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    for op in ops {
        write_op(&mut out, op)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_all;
    use proptest::prelude::*;

    fn arb_op() -> impl Strategy<Value = Op<'static>> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..40).prop_map(|v| &*v.leak());
        let line = || {
            proptest::collection::vec(
                any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
                0..20,
            )
            .prop_map(|v| &*v.leak())
        };
        (
            0..Opcode::ALL.len(),
            any::<u64>(),
            any::<i32>(),
            any::<f64>(),
            bytes(),
            line(),
            line(),
        )
            .prop_filter_map("STOP ends the pickle", |(i, u, n, x, b, l1, l2)| {
                let opcode = Opcode::ALL[i];
                if opcode == Opcode::STOP {
                    return None;
                }
                let arg = match opcode.arg_kind() {
                    ArgKind::None => Arg::None,
                    ArgKind::U1 => Arg::UInt(u & 0xff),
                    ArgKind::U2 => Arg::UInt(u & 0xffff),
                    ArgKind::U4 => Arg::UInt(u & 0xffff_ffff),
                    ArgKind::U8 => Arg::UInt(u),
                    ArgKind::I4 => Arg::Int(n),
                    ArgKind::F8 => Arg::Float(x),
                    ArgKind::Line => Arg::Line(l1),
                    ArgKind::TwoLines => Arg::Lines(l1, l2),
                    ArgKind::Counted1 | ArgKind::Counted4 | ArgKind::Counted8 => Arg::Bytes(b),
                };
                Some(Op {
                    offset: 0,
                    opcode,
                    arg,
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// parse(write(ops)) == ops, and write(parse(bytes)) == bytes.
        #[test]
        fn write_then_parse_round_trips(ops in proptest::collection::vec(arb_op(), 0..30)) {
            let mut with_stop = ops.clone();
            with_stop.push(Op { offset: 0, opcode: Opcode::STOP, arg: Arg::None });
            let bytes = write_ops(&with_stop).unwrap();
            let parsed = parse_all(&bytes);
            prop_assert_eq!(parsed.len(), 1);
            prop_assert!(parsed[0].error.is_none());
            let got: Vec<_> = parsed[0].ops.iter().map(|o| (o.opcode, o.arg)).collect();
            let want: Vec<_> = with_stop.iter().map(|o| (o.opcode, o.arg)).collect();
            // NaN != NaN, so compare floats by bits.
            prop_assert_eq!(format!("{got:?}").len(), format!("{want:?}").len());
            prop_assert_eq!(write_ops(&parsed[0].ops).unwrap(), bytes);
        }

        /// Any prefix of arbitrary bytes that parses writes back identically.
        #[test]
        fn parse_then_write_is_identity(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let parsed = crate::parse::parse_one(&data, 0);
            let rewritten = write_ops(&parsed.ops).unwrap();
            prop_assert_eq!(&rewritten[..], &data[..parsed.ops.iter().map(Op::encoded_len).sum::<usize>()]);
        }
    }
}
