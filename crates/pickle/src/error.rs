//! Parse errors. Every error names the byte offset of the op it happened in.

use std::fmt;

use crate::opcode::Opcode;

/// Why a pickle could not be parsed further.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The data ended before a STOP opcode.
    MissingStop,
    /// A byte that is not one of the 68 opcodes.
    UnknownOpcode(u8),
    /// A fixed-size or counted argument runs past the end of the data.
    Truncated {
        /// Bytes the argument needs.
        needed: u64,
        /// Bytes left in the input.
        remaining: u64,
    },
    /// A text argument has no terminating newline.
    MissingNewline,
    /// A signed byte count is negative.
    NegativeCount(i64),
}

/// A parse error at a byte offset, with the opcode being read when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Offset of the opcode byte (or of the missing byte for [`ErrorKind::MissingStop`]).
    pub offset: u64,
    /// The opcode whose argument failed, when the opcode byte itself was read.
    pub opcode: Option<Opcode>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    #[cold]
    pub(crate) fn new(offset: u64, opcode: Option<Opcode>, kind: ErrorKind) -> Self {
        ParseError {
            offset,
            opcode,
            kind,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.opcode.map_or("?", Opcode::name);
        match &self.kind {
            ErrorKind::MissingStop => write!(f, "pickle data ends without a STOP opcode")?,
            ErrorKind::UnknownOpcode(b) => write!(f, "unknown opcode byte 0x{b:02x}")?,
            ErrorKind::Truncated { needed, remaining } => write!(
                f,
                "truncated {name} argument: needs {needed} bytes, {remaining} remain"
            )?,
            ErrorKind::MissingNewline => write!(f, "{name} argument has no terminating newline")?,
            ErrorKind::NegativeCount(n) => write!(f, "{name} has a negative byte count ({n})")?,
        }
        write!(f, " (at offset {})", self.offset)
    }
}

impl std::error::Error for ParseError {}

/// The C unpickler's message for a byte that is not an opcode (`load` in `Modules/_pickle.c`):
/// the byte itself when it is printable ASCII other than a quote or backslash, else `\xNN`.
/// `pickle.loads(b"xyz")` raises `UnpicklingError: invalid load key, 'x'.`, and
/// `pickle.loads(b"\xff")` `UnpicklingError: invalid load key, '\xff'.`
#[must_use]
pub fn invalid_load_key(byte: u8) -> String {
    if (0x20..=0x7e).contains(&byte) && byte != b'\'' && byte != b'\\' {
        format!("invalid load key, '{}'.", char::from(byte))
    } else {
        format!("invalid load key, '\\x{byte:02x}'.")
    }
}
