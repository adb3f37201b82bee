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
