//! Errors opening a container. Each says where, in the file or in a member.

use std::fmt;

/// Why a file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// The content matches no known format.
    Unknown {
        /// The first bytes, for the message.
        first_bytes: Vec<u8>,
    },
    /// A zip archive whose directory cannot be read.
    Zip(String),
    /// A member or header that is damaged, at a byte offset.
    Damaged {
        /// What was being read.
        what: String,
        /// Offset in the file (or in the inflated stream).
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Decompression failed.
    Decompress {
        /// The compressor.
        compression: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// Decompressed data exceeds the budget (a decompression bomb, or a budget to raise).
    TooLarge {
        /// What was being inflated.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Unknown { first_bytes } => {
                write!(
                    f,
                    "unknown format: first bytes are {first_bytes:02x?} (not a pickle, zip, tar, npy, safetensors, GGUF, ONNX or known compression)"
                )
            }
            OpenError::Zip(e) => write!(f, "cannot read zip archive: {e}"),
            OpenError::Damaged {
                what,
                offset,
                reason,
            } => write!(f, "damaged {what}: {reason} (at offset {offset})"),
            OpenError::Decompress {
                compression,
                reason,
            } => write!(f, "cannot decompress {compression} data: {reason}"),
            OpenError::TooLarge { what, limit } => write!(
                f,
                "{what} inflates past the {limit}-byte budget (raise it with --max-inflated-bytes if the file is trusted)"
            ),
        }
    }
}

impl std::error::Error for OpenError {}
