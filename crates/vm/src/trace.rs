//! The trace: everything a run learned, for the analyses downstream.

use pickle::Opcode;

use crate::error::VmError;
use crate::machine::Mode;
use crate::value::{Global, Node, NodeId, Value};

/// One pickle of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct PickleRun {
    /// Offset of its first op.
    pub start: u64,
    /// Offset after STOP, or where it stopped.
    pub end: u64,
    /// The PROTO it declares (absent for protocols 0 and 1).
    pub protocol: Option<u8>,
    /// What STOP returned; `None` when the pickle did not finish, and in a plain-data summary
    /// ([`crate::Mode::Plain`]), which keeps no values.
    pub root: Option<Value>,
    /// Ops executed.
    pub ops: u64,
    /// Memo entries at the end.
    pub memo_entries: usize,
    /// Why it stopped early. Everything before the error is still in the trace.
    pub error: Option<VmError>,
    /// For a pickle nested inside another (joblib object arrays): the enclosing pickle's
    /// index and the object whose data it is.
    pub parent: Option<(usize, Value)>,
    /// The first Python 2 `str` (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) holding a byte
    /// above 0x7f: the one a loader decoding with `encoding='ASCII'` (pickle.load's
    /// default) fails on. Later ones cannot matter: the load stops at the first.
    pub py2_non_ascii: Option<Py2Str>,
}

/// A Python 2 `str` of a pickle: its op and the [`crate::Node::Str`] holding its bytes
/// (decoded as latin-1, which maps every byte to the code point of the same value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Py2Str {
    /// Offset of the op.
    pub offset: u64,
    /// The str node.
    pub node: crate::NodeId,
}

/// Bytes after a pickle's STOP that are not another pickle: the first op there fails, so even
/// a loader that went on reading would stop before doing anything. `pickle.load` reads one
/// pickle and never looks at them; a trailing newline is the usual case.
#[derive(Debug, Clone, PartialEq)]
pub struct Trailing {
    /// Offset just past the STOP.
    pub offset: u64,
    /// Bytes from there to the end of the data.
    pub len: u64,
    /// Why they are not a pickle: the error of their first op.
    pub error: VmError,
}

/// A mutation of a value whose type the machine cannot know (a BUILD on a persistent id, an
/// APPEND to an extension object): recorded so that nothing the pickle does is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct SideEffect {
    /// Offset of the op.
    pub offset: u64,
    /// BUILD, APPEND(S), SETITEM(S) or ADDITEMS.
    pub opcode: Opcode,
    /// What it was applied to.
    pub target: Value,
    /// The state, items or key/value pairs (flattened).
    pub values: Vec<Value>,
}

/// Everything one run learned.
#[derive(Debug, Clone, Default)]
pub struct Trace<'a> {
    /// The value graph arena.
    pub nodes: Vec<Node<'a>>,
    /// Every global in load order.
    pub globals: Vec<Global<'a>>,
    /// Every call (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST) in load order, as object nodes.
    pub calls: Vec<NodeId>,
    /// Mutations of values of unknown type.
    pub side_effects: Vec<SideEffect>,
    /// The pickles of the stream, in order.
    pub pickles: Vec<PickleRun>,
    /// Bytes after the last pickle that are not a pickle (not counted in `pickles`).
    pub trailing: Option<Trailing>,
    /// Ops executed over all pickles.
    pub ops: u64,
    /// Container items held, over all pickles (the budgeted quantity). Counted the same in
    /// both modes: a scan counts the items it drops.
    pub items: usize,
    /// What the run built: the whole graph, only what the security rules read, or (for
    /// plain data) counts only.
    pub mode: Mode,
    /// Value nodes a plain-data summary counted without making them ([`Mode::Plain`]).
    pub(crate) plain_nodes: usize,
}

impl<'a> Trace<'a> {
    /// Value nodes the run made: `nodes.len()`, or for a plain-data summary
    /// ([`Mode::Plain`], whose `nodes` is empty) the count the full machine would make.
    #[must_use]
    pub fn value_nodes(&self) -> usize {
        match self.mode {
            Mode::Plain => self.plain_nodes,
            Mode::Full | Mode::Scan => self.nodes.len(),
        }
    }

    /// The node a value refers to.
    #[must_use]
    pub fn node(&self, v: Value) -> Option<&Node<'a>> {
        v.node().and_then(|id| self.nodes.get(id.index()))
    }

    /// The global a value refers to, if it is one.
    #[must_use]
    pub fn as_global(&self, v: Value) -> Option<&Global<'a>> {
        match self.node(v) {
            Some(Node::Global(i)) => self.globals.get(*i as usize),
            _ => None,
        }
    }

    /// The first error of the stream, if any pickle failed.
    #[must_use]
    pub fn error(&self) -> Option<&VmError> {
        self.pickles.iter().find_map(|p| p.error.as_ref())
    }

    /// Whether every pickle ran to STOP.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.error().is_none()
    }

    /// How many references point at each node (from containers, objects, roots and
    /// side effects). Renderers use it to decide which nodes need an id.
    #[must_use]
    pub fn ref_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.nodes.len()];
        let mut bump = |v: Value| {
            if let Some(id) = v.node()
                && let Some(c) = counts.get_mut(id.index())
            {
                *c = c.saturating_add(1);
            }
        };
        for n in &self.nodes {
            n.for_each_child(&mut bump);
        }
        for p in &self.pickles {
            if let Some(r) = p.root {
                bump(r);
            }
        }
        for s in &self.side_effects {
            bump(s.target);
            s.values.iter().copied().for_each(&mut bump);
        }
        counts
    }
}
