//! Named limits that bound the work and memory of one run.
//!
//! A pickle is a program; a hostile one can ask for unbounded work. Every resource the machine
//! grows is counted against a limit, and hitting one stops the run with an error that names the
//! limit, so the user knows which flag to raise.

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Opcodes executed.
    Ops,
    /// Memo entries.
    Memo,
    /// Stack depth.
    Stack,
    /// Nodes in the value graph.
    Nodes,
    /// Items held by containers and objects, in total.
    Items,
    /// MARK nesting depth.
    Nesting,
    /// Pickles in one stream.
    Pickles,
}

impl Budget {
    /// The limit's name, as used in messages and flags.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Budget::Ops => "ops",
            Budget::Memo => "memo entries",
            Budget::Stack => "stack depth",
            Budget::Nodes => "value nodes",
            Budget::Items => "container items",
            Budget::Nesting => "nesting",
            Budget::Pickles => "pickles per stream",
        }
    }
}

/// Limits for one run. The defaults admit any real model file we know of (a 2 GB pickle of
/// small objects) while keeping the worst case to a few GB of memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Maximum opcodes executed, over all pickles.
    pub max_ops: u64,
    /// Maximum memo entries in one pickle.
    pub max_memo: usize,
    /// Maximum stack depth.
    pub max_stack: usize,
    /// Maximum value-graph nodes.
    pub max_nodes: usize,
    /// Maximum container items (list elements, dict pairs, object state, ...), in total.
    pub max_items: usize,
    /// Maximum MARK nesting depth.
    pub max_nesting: usize,
    /// Maximum pickles read from one stream.
    pub max_pickles: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_ops: 1 << 31,
            max_memo: 1 << 26,
            max_stack: 1 << 24,
            max_nodes: 1 << 27,
            max_items: 1 << 28,
            max_nesting: 1 << 16,
            max_pickles: 1 << 16,
        }
    }
}

impl Budgets {
    /// Small limits, for fuzzing and for scanning untrusted uploads.
    #[must_use]
    pub fn small() -> Self {
        Budgets {
            max_ops: 1 << 20,
            max_memo: 1 << 16,
            max_stack: 1 << 16,
            max_nodes: 1 << 18,
            max_items: 1 << 20,
            max_nesting: 1 << 10,
            max_pickles: 64,
        }
    }
}
