//! Errors of the symbolic machine: what the C unpickler would raise, and exhausted budgets.

use std::fmt;

use pickle::{Opcode, ParseError};

use crate::budget::Budget;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VmErrorKind {
    /// The bytes could not be parsed.
    Parse(ParseError),
    /// An op pops more than the stack holds above the current MARK
    /// (`_pickle.UnpicklingError: unpickling stack underflow`).
    StackUnderflow,
    /// An op needs a MARK and there is none (`could not find MARK`).
    MarkMissing,
    /// GET of an index never PUT (`Memo value not found at index N`).
    MemoMissing(u64),
    /// A PUT index that is negative or not an int.
    BadMemoIndex(String),
    /// PROTO above 5 (`unsupported pickle protocol: N`).
    UnsupportedProtocol(u8),
    /// FRAME announces more bytes than remain (`pickle data was truncated`).
    FrameTruncated {
        /// Announced length.
        length: u64,
        /// Bytes remaining.
        remaining: u64,
    },
    /// Raw data that a container says follows an op runs past the end of the data.
    InlineDataTruncated {
        /// Bytes the data needs.
        needed: u64,
        /// Bytes remaining.
        remaining: u64,
    },
    /// A text argument the C unpickler rejects, with its message.
    BadArgument(String),
    /// A type error the C unpickler raises, e.g. `STACK_GLOBAL requires str`.
    Type(String),
    /// A budget ran out.
    Budget {
        /// Which one.
        budget: Budget,
        /// Its limit.
        limit: u64,
    },
}

/// An error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmError {
    /// Offset of the op.
    pub offset: u64,
    /// The op, when known.
    pub opcode: Option<Opcode>,
    /// What happened.
    pub kind: VmErrorKind,
}

impl VmError {
    /// Whether the run stopped on a budget rather than on invalid data.
    #[must_use]
    pub fn is_budget(&self) -> bool {
        matches!(self.kind, VmErrorKind::Budget { .. })
    }
}

impl From<ParseError> for VmError {
    fn from(e: ParseError) -> Self {
        VmError {
            offset: e.offset,
            opcode: e.opcode,
            kind: VmErrorKind::Parse(e),
        }
    }
}

impl VmError {
    /// The message alone: no op name, no offset.
    #[must_use]
    pub fn kind_message(&self) -> String {
        let full = VmError {
            offset: self.offset,
            opcode: None,
            kind: self.kind.clone(),
        }
        .to_string();
        let suffix = format!(" (at offset {})", self.offset);
        full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let VmErrorKind::Parse(e) = &self.kind {
            return e.fmt(f);
        }
        if let Some(op) = self.opcode {
            write!(f, "{op}: ")?;
        }
        match &self.kind {
            VmErrorKind::Parse(_) => unreachable!("handled above"),
            VmErrorKind::StackUnderflow => f.write_str("unpickling stack underflow")?,
            VmErrorKind::MarkMissing => f.write_str("could not find MARK")?,
            VmErrorKind::MemoMissing(i) => write!(f, "Memo value not found at index {i}")?,
            VmErrorKind::BadMemoIndex(s) => write!(f, "invalid memo index {s}")?,
            VmErrorKind::UnsupportedProtocol(p) => write!(f, "unsupported pickle protocol: {p}")?,
            VmErrorKind::FrameTruncated { length, remaining } => write!(
                f,
                "pickle data was truncated (FRAME of {length} bytes, {remaining} remain)"
            )?,
            VmErrorKind::InlineDataTruncated { needed, remaining } => write!(
                f,
                "inline array data truncated: needs {needed} bytes, {remaining} remain"
            )?,
            VmErrorKind::BadArgument(m) | VmErrorKind::Type(m) => f.write_str(m)?,
            VmErrorKind::Budget { budget, limit } => {
                write!(f, "budget exceeded: more than {limit} {}", budget.name())?;
            }
        }
        write!(f, " (at offset {})", self.offset)
    }
}

impl std::error::Error for VmError {}
