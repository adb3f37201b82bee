//! Rendering a [`vm::Trace`] for people (`text`) and programs (`json`).
//!
//! Both renderers walk the value graph from each pickle's root. A node referenced more than
//! once gets an id where it is first printed and is referred to by that id afterwards, so
//! output size stays linear in the graph even for "billion laughs" pickles, and cycles end.

pub(crate) mod json;
pub(crate) mod text;

use vm::{Node, Trace};

/// Nodes deeper than this are elided; keeps recursion bounded on hostile nesting.
pub(crate) const MAX_DEPTH: usize = 500;

/// Arrays with more data bytes than this are summarised unless `--full` is given.
pub(crate) const LARGE_ARRAY_BYTES: usize = 64;

/// Immutable atoms up to this size are repeated rather than given an id.
const SMALL_ATOM: usize = 64;

/// Which nodes need an id: those referenced more than once, except globals and small atoms
/// (whose identity Python does not promise and whose repetition is cheap).
pub(crate) fn needs_id(trace: &Trace<'_>) -> Vec<bool> {
    let counts = trace.ref_counts();
    trace
        .nodes
        .iter()
        .zip(counts)
        .map(|(n, c)| {
            c > 1
                && match n {
                    Node::Global(_) => false,
                    Node::Str(b) | Node::Bytes(b) | Node::BigInt(b) => b.len() > SMALL_ATOM,
                    _ => true,
                }
        })
        .collect()
}
