//! Pickle opcodes: a zero-copy parser, a `pickletools`-identical disassembler and a writer.
//!
//! # Brief overview
//!
//! A pickle is a program for a small stack machine. This crate reads that program without
//! running it: [`Parser`] yields each [`Op`] with its byte offset, borrowing arguments from the
//! input; [`dis()`] prints the listing `python -m pickletools` prints; [`write_ops`] turns ops
//! back into bytes, so that a rewrite changes only the ops it means to.
//!
//! ```
//! use pickle::{Opcode, Parser};
//! let ops: Vec<_> = Parser::new(b"\x80\x04K\x2a.", 0).collect::<Result<_, _>>().unwrap();
//! assert_eq!(ops[1].opcode, Opcode::BININT1);
//! assert_eq!(ops[1].offset, 2);
//! ```
//!
//! No I/O and no `unsafe` here: the crate sees only `&[u8]`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dis;
mod error;
mod opcode;
mod parse;
pub mod pyrepr;
pub mod text;
mod write;

pub use dis::{DisError, DisSummary, Skip, dis, dis_with_skips};
pub use error::{ErrorKind, ParseError, invalid_load_key};
pub use opcode::{ArgKind, Opcode, StackEffect};
pub use parse::{Arg, Op, Parsed, Parser, parse_all, parse_one};
pub use write::{WriteError, write_op, write_ops};
