//! A target Python environment, read without running the file under analysis.
//!
//! [`Environment`] knows the search path, the extension suffixes, the builtin modules and the
//! installed distributions; [`finder`] finds modules as CPython's import system does;
//! [`Resolver`] decides whether `module.attr` exists, from Python source parsed with ruff's
//! parser, `.pyi` stubs, and the strings of extension binaries.

#![deny(missing_docs)]

pub mod classes;
pub mod cond;
pub mod definitions;
mod dist;
mod environment;
pub mod extension;
pub mod finder;
pub mod names;
mod probe;
mod pth;
mod resolve;
pub mod schema;

pub use dist::{Distribution, normalize};
pub use environment::{EnvError, Environment, Origin};
pub use finder::{Module, ModuleKind};
pub use probe::{Probe, ProbeError, probe};
pub use resolve::{Attr, ImportFailure, Resolver};
pub use schema::{Schema, Schemas};
