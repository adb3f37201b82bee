//! The symbolic pickle machine: runs a pickle's opcodes with `_pickle.c` semantics without
//! importing a module or calling anything.
//!
//! # Brief overview
//!
//! [`run`] executes every pickle in a byte stream and returns a [`Trace`]: the value graph
//! (sharing and cycles through the memo intact), every global in load order with how it is
//! used, every call, and per pickle the root value or the error that stopped it. Where Python
//! would import, the machine makes a [`Node::Global`]; where it would call, a [`Node::Object`].
//! Everything is bounded by [`Budgets`].
//!
//! ```
//! let trace = vm::run(b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94.");
//! assert!(trace.is_complete());
//! assert_eq!(trace.globals[0].dotted(), "posix.system");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod budget;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod literal;
mod machine;
pub mod plain;
mod trace;
mod value;

pub use budget::{Budget, Budgets};
pub use error::{VmError, VmErrorKind};
pub use machine::{Hooks, Machine, Mode, NoHooks, Resume};
pub use trace::{PickleRun, Py2Str, SideEffect, Trace, Trailing};
pub use value::{CallKind, Global, Name, Node, NodeId, Object, Uses, Value};

/// Runs every pickle in `data` with the default budgets.
#[must_use]
pub fn run(data: &[u8]) -> Trace<'_> {
    run_with(data, Budgets::default())
}

/// Runs every pickle in `data`, one after another, until the data ends or one fails. Bytes
/// after a STOP whose first op fails are not a pickle: they become [`Trace::trailing`].
#[must_use]
pub fn run_with(data: &[u8], budgets: Budgets) -> Trace<'_> {
    run_hooked(data, budgets, &mut NoHooks)
}

/// Like [`run_with`], building only what the security rules read. Plain data (see
/// [`plain`]) is only counted ([`Mode::Plain`]); anything else runs in [`Mode::Scan`] from
/// the start.
#[must_use]
pub fn run_scan(data: &[u8], budgets: Budgets) -> Trace<'_> {
    run_plain(data, budgets).unwrap_or_else(|| run_mode(data, budgets, Mode::Scan, &mut NoHooks))
}

/// The counts-only trace of `data` when it is a stream of plain-data pickles (see
/// [`plain`]); `None` when the machine must run.
#[must_use]
pub fn run_plain(data: &[u8], budgets: Budgets) -> Option<Trace<'static>> {
    plain::summarize(data, budgets).map(plain::Plain::into_trace)
}

/// [`run_plain`] for callers that never read op counts (see
/// [`plain::summarize_uncounted`]): the trace's `ops`, and each pickle's, are 0.
#[must_use]
pub fn run_plain_uncounted(data: &[u8], budgets: Budgets) -> Option<Trace<'static>> {
    plain::summarize_uncounted(data, budgets).map(plain::Plain::into_trace)
}

/// Like [`run_with`], with host hooks (see [`Hooks`]).
pub fn run_hooked<'a>(data: &'a [u8], budgets: Budgets, hooks: &mut dyn Hooks<'a>) -> Trace<'a> {
    run_mode(data, budgets, Mode::Full, hooks)
}

/// Runs every pickle in `data` in the given mode, with host hooks.
pub fn run_mode<'a>(
    data: &'a [u8],
    budgets: Budgets,
    mode: Mode,
    hooks: &mut dyn Hooks<'a>,
) -> Trace<'a> {
    let mut m = Machine::with_mode(data, budgets, mode);
    let mut pos = 0;
    loop {
        let end = m.run_pickle_with(pos, hooks);
        if pos > 0 && m.settle_trailing(pos) {
            break;
        }
        if m.trace().error().is_some() || end >= data.len() || end == pos {
            break;
        }
        pos = end;
    }
    m.finish()
}
