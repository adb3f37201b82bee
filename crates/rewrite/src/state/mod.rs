//! State-level repairs: changes to what a pickle builds, not to the names it imports.
//!
//! Each repair is a transform the knowledge base names in a break entry (`repair = "…"`),
//! applied only where a test has shown the result loads and equals the original.

use crate::stream::{Edits, Stream};

/// A state-level repair to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateRepair {}

/// One state-level repair done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The break it repairs.
    pub id: String,
    /// Offset of the op changed.
    pub offset: u64,
    /// What was done.
    pub what: String,
}

/// Applies `repairs` to `stream`.
#[must_use]
pub fn apply(_stream: &Stream<'_>, repairs: &[StateRepair]) -> (Edits, Vec<Repaired>) {
    match repairs.first() {
        None => (Edits::default(), Vec::new()),
        Some(r) => match *r {},
    }
}
