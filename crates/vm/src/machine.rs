//! The symbolic machine: `_pickle.c`'s `load()` loop with nothing imported and nothing called.
//!
//! Each opcode does to the stack, metastack and memo exactly what the C unpickler does, with the
//! same underflow rules (ops cannot pop below the innermost MARK, the "fence") and the same error
//! messages. Where Python would import or call, the machine makes a symbolic node instead and
//! records the event in the [`Trace`].

use std::borrow::Cow;
use std::collections::HashMap;

use pickle::{Arg, Op, Opcode, Parser, text};

use crate::budget::{Budget, Budgets};
use crate::error::{VmError, VmErrorKind};
use crate::literal::{self, IntLit};
use crate::trace::{PickleRun, SideEffect, Trace};
use crate::value::{CallKind, Global, Name, Node, NodeId, Object, Uses, Value};

/// What a run builds.
///
/// The security rules read the provenance of every callable (globals, calls, the strings
/// that name them), the argument tuples of calls, the states BUILD passes, and every value
/// that is not plain data. They never read a plain-data item of a list, set, dict or of an
/// object's appended items: a scalar, `str`, `bytes`, `bytearray`, big int or out-of-band
/// buffer there can neither be called, nor name a callable, nor plant one. [`Mode::Scan`]
/// drops exactly those items, which on data-heavy pickles is most of the graph and most of
/// its allocations. Everything else (nodes, ids, errors, budgets, globals and their uses) is
/// the same in both modes, so the two agree on every finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The whole value graph: `show`, `check`, `fix`, `export`.
    #[default]
    Full,
    /// Only what the security rules read (see the type's docs): `scan`.
    Scan,
    /// Counts only: the trace of a stream of plain-data pickles summarised by
    /// [`crate::plain`], with no value graph (see [`crate::plain::Plain::into_trace`]). A
    /// machine asked for this mode runs as [`Mode::Scan`].
    Plain,
}

/// Highest protocol CPython reads.
const HIGHEST_PROTOCOL: u8 = 5;

/// How deep pickles may nest inside pickles (joblib object arrays nest one level).
const MAX_NESTED_PICKLES: usize = 8;

/// What the machine does after a host hook has looked at a BUILD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Carry on with the next opcode.
    Continue,
    /// Raw data follows: continue parsing at this offset.
    SkipTo(usize),
    /// A complete nested pickle starts at this offset: run it (with its own stack and memo),
    /// then continue after its STOP.
    NestedPickleAt(usize),
}

/// Host extension points. The default does nothing, which is plain `pickle.load`.
pub trait Hooks<'a> {
    /// Called after every BUILD with the object just built and the offset after the op.
    fn after_build(&mut self, trace: &Trace<'a>, target: Value, pos: usize) -> Resume;
}

/// No hooks: plain `pickle.load` semantics.
pub struct NoHooks;

impl<'a> Hooks<'a> for NoHooks {
    fn after_build(&mut self, _: &Trace<'a>, _: Value, _: usize) -> Resume {
        Resume::Continue
    }
}

/// The memo: a dense vector for the usual 0, 1, 2, ... indices, a map for sparse ones.
///
/// Picklers memoize containers, strings and objects, which are nodes, so a dense slot holds
/// just a node id (4 bytes instead of a 16-byte [`Value`]); the rare memoized scalar lives in
/// the map. On a 600k-record file this saves 22 MB.
#[derive(Default)]
struct Memo {
    dense: Vec<u32>,
    sparse: HashMap<u64, Value>,
    len: usize,
}

/// A dense slot never written.
const EMPTY: u32 = u32::MAX;
/// A dense slot whose value is in `sparse`.
const IN_MAP: u32 = u32::MAX - 1;

impl Memo {
    #[inline]
    fn get(&self, idx: u64) -> Option<Value> {
        match usize::try_from(idx).ok().and_then(|i| self.dense.get(i)) {
            Some(&EMPTY) => None,
            Some(&IN_MAP) | None => self.sparse.get(&idx).copied(),
            Some(&id) => Some(Value::Node(NodeId(id))),
        }
    }

    /// Stores a value; returns whether the index is new.
    #[inline]
    fn put(&mut self, idx: u64, v: Value) -> bool {
        // The usual case: MEMOIZE or PUT of the next index, holding a node.
        if let Value::Node(NodeId(id)) = v
            && id < IN_MAP
            && idx == self.dense.len() as u64
        {
            self.dense.push(id);
            self.len += 1;
            return true;
        }
        self.put_slow(idx, v)
    }

    fn put_slow(&mut self, idx: u64, v: Value) -> bool {
        let dense_ok = usize::try_from(idx)
            .ok()
            .filter(|&i| i < self.dense.len().saturating_mul(2).saturating_add(1024));
        let new = if let Some(i) = dense_ok {
            if i >= self.dense.len() {
                self.dense.resize(i + 1, EMPTY);
            }
            let slot = match v {
                Value::Node(NodeId(id)) if id < IN_MAP => id,
                _ => {
                    self.sparse.insert(idx, v);
                    IN_MAP
                }
            };
            if slot != IN_MAP && self.dense[i] == IN_MAP {
                self.sparse.remove(&idx);
            }
            std::mem::replace(&mut self.dense[i], slot) == EMPTY
        } else {
            self.sparse.insert(idx, v).is_none()
        };
        if new {
            self.len += 1;
        }
        new
    }

    fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
        self.len = 0;
    }
}

/// Runs pickles symbolically and accumulates one [`Trace`].
///
/// Most callers want [`crate::run`]. The machine is exposed so that container readers can run
/// one pickle, skip raw bytes that follow it (joblib arrays, legacy torch storages) and resume.
pub struct Machine<'a> {
    data: &'a [u8],
    budgets: Budgets,
    trace: Trace<'a>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    /// Reused buffer for the items a scan keeps from one APPENDS.
    scratch: Vec<Value>,
    buffers: u64,
    /// The protocol in effect: the last PROTO of the current pickle, 0 before any (as the C
    /// unpickler's `self->proto`, which `find_class` reads).
    proto: u8,
    /// Whether plain-data container items are kept.
    mode: Mode,
}

type R<T> = Result<T, VmErrorKind>;

impl<'a> Machine<'a> {
    /// A machine over `data` with the given limits.
    #[must_use]
    pub fn new(data: &'a [u8], budgets: Budgets) -> Self {
        Self::with_mode(data, budgets, Mode::Full)
    }

    /// A machine over `data` with the given limits that builds what `mode` asks for.
    #[must_use]
    pub fn with_mode(data: &'a [u8], budgets: Budgets, mode: Mode) -> Self {
        // Real pickles make about one node per 16 bytes. Reserving that up front (virtual
        // memory only; pages are touched as nodes arrive) avoids the copy and the 3x peak of
        // growing a multi-million-entry vector by doubling.
        let mode = match mode {
            Mode::Plain => Mode::Scan,
            m => m,
        };
        let mut trace = Trace {
            mode,
            ..Trace::default()
        };
        trace
            .nodes
            .reserve((data.len() / 16).min(budgets.max_nodes));
        let mut memo = Memo::default();
        memo.dense.reserve((data.len() / 16).min(budgets.max_memo));
        Machine {
            data,
            budgets,
            trace,
            stack: Vec::new(),
            marks: Vec::new(),
            memo,
            scratch: Vec::new(),
            buffers: 0,
            proto: 0,
            mode,
        }
    }

    /// The trace so far.
    #[must_use]
    pub fn trace(&self) -> &Trace<'a> {
        &self.trace
    }

    /// Ends the run and returns the trace.
    #[must_use]
    pub fn finish(self) -> Trace<'a> {
        self.trace
    }

    /// After a pickle that ran to STOP, the one just run from `start`: when its very first op
    /// failed (not for a budget), nothing ran, so its bytes are trailing bytes, not a pickle.
    /// Moves them from `pickles` to [`Trace::trailing`] and returns true.
    pub fn settle_trailing(&mut self, start: usize) -> bool {
        let [.., before, last] = self.trace.pickles.as_slice() else {
            return false;
        };
        let error = match &last.error {
            Some(e)
                if e.offset == start as u64
                    && last.start == start as u64
                    && last.parent.is_none()
                    && before.error.is_none()
                    && !e.is_budget() =>
            {
                e.clone()
            }
            _ => return false,
        };
        self.trace.pickles.pop();
        self.trace.trailing = Some(crate::trace::Trailing {
            offset: start as u64,
            len: self.data.len().saturating_sub(start) as u64,
            error,
        });
        true
    }

    /// Runs one pickle from `start` through its STOP, appending a [`PickleRun`] to the trace.
    /// Returns the offset after the pickle (or where it failed).
    pub fn run_pickle(&mut self, start: usize) -> usize {
        self.run_pickle_with(start, &mut NoHooks)
    }

    /// Like [`Machine::run_pickle`], letting `hooks` act after each BUILD: container formats
    /// such as joblib put raw array bytes, or a whole nested pickle, right after the BUILD of
    /// an array wrapper, and only the host knows how many.
    pub fn run_pickle_with(&mut self, start: usize, hooks: &mut dyn Hooks<'a>) -> usize {
        self.run_one(start, hooks, None, 0)
    }

    fn run_one(
        &mut self,
        start: usize,
        hooks: &mut dyn Hooks<'a>,
        parent: Option<(usize, Value)>,
        depth: usize,
    ) -> usize {
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        self.proto = 0;
        let index = self.trace.pickles.len();
        self.trace.pickles.push(PickleRun {
            start: start as u64,
            end: start as u64,
            protocol: None,
            root: None,
            ops: 0,
            memo_entries: 0,
            error: None,
            parent,
            py2_non_ascii: None,
        });
        let mut run = self.trace.pickles[index].clone();
        if index >= self.budgets.max_pickles || depth > MAX_NESTED_PICKLES {
            run.error = Some(VmError {
                offset: start as u64,
                opcode: None,
                kind: VmErrorKind::Budget {
                    budget: Budget::Pickles,
                    limit: self.budgets.max_pickles.min(MAX_NESTED_PICKLES) as u64,
                },
            });
            self.trace.pickles[index] = run;
            return start;
        }
        let mut parser = Parser::new(self.data, start);
        // Not a `for` loop: the body asks the parser for its position and may move it.
        #[allow(
            clippy::while_let_on_iterator,
            reason = "the body repositions the parser"
        )]
        while let Some(op) = parser.next() {
            let op = match op {
                Ok(op) => op,
                Err(e) => {
                    run.error = Some(e.into());
                    break;
                }
            };
            run.ops += 1;
            self.trace.ops += 1;
            if self.trace.ops > self.budgets.max_ops {
                run.error = Some(VmError {
                    offset: op.offset,
                    opcode: Some(op.opcode),
                    kind: VmErrorKind::Budget {
                        budget: Budget::Ops,
                        limit: self.budgets.max_ops,
                    },
                });
                break;
            }
            if let Err(kind) = self.exec(&op, index, parser.position(), &mut run) {
                run.error = Some(VmError {
                    offset: op.offset,
                    opcode: Some(op.opcode),
                    kind,
                });
                break;
            }
            if op.opcode == Opcode::BUILD
                && let Some(&target) = self.stack.last()
            {
                match hooks.after_build(&self.trace, target, parser.position()) {
                    Resume::Continue => {}
                    Resume::SkipTo(to) => {
                        if to > self.data.len() {
                            run.error = Some(VmError {
                                offset: op.offset,
                                opcode: Some(op.opcode),
                                kind: VmErrorKind::InlineDataTruncated {
                                    needed: (to - parser.position()) as u64,
                                    remaining: (self.data.len() - parser.position()) as u64,
                                },
                            });
                            break;
                        }
                        parser = Parser::new(self.data, to);
                    }
                    Resume::NestedPickleAt(at) => {
                        // The nested pickle has its own stack and memo (a separate
                        // `pickle.load` call in the host); the outer ones resume after it.
                        let saved = (
                            std::mem::take(&mut self.stack),
                            std::mem::take(&mut self.marks),
                            std::mem::take(&mut self.memo),
                        );
                        let end = self.run_one(at, hooks, Some((index, target)), depth + 1);
                        (self.stack, self.marks, self.memo) = saved;
                        let nested_error = self.trace.pickles.last().and_then(|p| p.error.clone());
                        if let Some(e) = nested_error {
                            run.error = Some(e);
                            break;
                        }
                        parser = Parser::new(self.data, end);
                    }
                }
            }
        }
        run.end = parser.position() as u64;
        run.memo_entries = self.memo.len;
        let end = parser.position();
        self.trace.pickles[index] = run;
        end
    }

    #[inline]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline]
    fn push(&mut self, v: Value) -> R<()> {
        if self.stack.len() >= self.budgets.max_stack {
            return Err(budget(Budget::Stack, self.budgets.max_stack));
        }
        self.stack.push(v);
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(VmErrorKind::StackUnderflow);
        }
        self.stack.pop().ok_or(VmErrorKind::StackUnderflow)
    }

    #[inline]
    fn top(&self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(VmErrorKind::StackUnderflow);
        }
        self.stack
            .last()
            .copied()
            .ok_or(VmErrorKind::StackUnderflow)
    }

    fn marker(&mut self) -> R<usize> {
        self.marks.pop().ok_or(VmErrorKind::MarkMissing)
    }

    #[inline]
    fn node(&mut self, n: Node<'a>) -> R<Value> {
        if self.trace.nodes.len() >= self.budgets.max_nodes {
            return Err(budget(Budget::Nodes, self.budgets.max_nodes));
        }
        let id = NodeId(self.trace.nodes.len() as u32);
        self.trace.nodes.push(n);
        Ok(Value::Node(id))
    }

    #[inline]
    fn count_items(&mut self, n: usize) -> R<()> {
        self.trace.items += n;
        if self.trace.items > self.budgets.max_items {
            return Err(budget(Budget::Items, self.budgets.max_items));
        }
        Ok(())
    }

    fn get_node(&self, v: Value) -> Option<&Node<'a>> {
        v.node().map(|id| &self.trace.nodes[id.index()])
    }

    fn global(
        &mut self,
        module: Name<'a>,
        name: Name<'a>,
        offset: u64,
        opcode: Opcode,
        pickle: usize,
    ) -> R<Value> {
        let gi = self.trace.globals.len() as u32;
        let v = self.node(Node::Global(gi))?;
        let node = v.node().unwrap_or(NodeId(0));
        self.trace.globals.push(Global {
            module,
            name,
            offset,
            opcode,
            pickle,
            node,
            uses: Uses::default(),
            protocol: self.proto,
        });
        Ok(v)
    }

    fn mark_use(&mut self, v: Value, u: Uses) {
        if let Some(Node::Global(gi)) = self.get_node(v) {
            let gi = *gi as usize;
            self.trace.globals[gi].uses.insert(u);
        }
    }

    /// Marks globals reachable from call arguments (bounded: a few levels of plain containers).
    fn mark_arguments(&mut self, v: Value) {
        let mut work = vec![(v, 0u8)];
        let mut budget = 256;
        while let Some((v, depth)) = work.pop() {
            budget -= 1;
            if budget == 0 {
                return;
            }
            let Some(node) = self.get_node(v) else {
                continue;
            };
            match node {
                Node::Global(gi) => {
                    let gi = *gi as usize;
                    self.trace.globals[gi].uses.insert(Uses::ARGUMENT);
                }
                Node::Tuple(_)
                | Node::List(_)
                | Node::Dict(_)
                | Node::Set(_)
                | Node::FrozenSet(_)
                    if depth < 4 =>
                {
                    // Plain data is never a global nor leads to one: it is not walked, so
                    // the walk sees the same values whether or not the run kept it.
                    node.for_each_child(|c| {
                        if !is_plain(&self.trace.nodes, c) {
                            work.push((c, depth + 1));
                        }
                    });
                }
                _ => {}
            }
        }
    }

    /// The kind of a literal node or scalar Python would certainly reject as a call target,
    /// a class or an argument tuple; `None` for symbolic values whose type is unknown.
    fn literal_type(&self, v: Value) -> Option<&'static str> {
        match v {
            Value::None => Some("NoneType"),
            Value::Bool(_) => Some("bool"),
            Value::Int(_) => Some("int"),
            Value::Float(_) => Some("float"),
            Value::Node(id) => match &self.trace.nodes[id.index()] {
                Node::Global(_)
                | Node::Object(_)
                | Node::PersistentId { .. }
                | Node::Ext { .. }
                | Node::Buffer { .. }
                | Node::ReadOnly(_) => None,
                n => Some(n.type_name()),
            },
        }
    }

    fn call(
        &mut self,
        kind: CallKind,
        callable: Value,
        args: Value,
        kwargs: Option<Value>,
        offset: u64,
    ) -> R<Value> {
        let use_ = if kind == CallKind::Reduce {
            Uses::CALLED
        } else {
            Uses::INSTANTIATED
        };
        self.mark_use(callable, use_);
        self.mark_arguments(args);
        if let Some(k) = kwargs {
            self.mark_arguments(k);
        }
        let v = self.node(Node::Object(Box::new(Object {
            kind,
            callable,
            args,
            kwargs,
            offset,
            state: Vec::new(),
            built_at: Vec::new(),
            items: Vec::new(),
            dict_items: Vec::new(),
        })))?;
        if let Some(id) = v.node() {
            self.trace.calls.push(id);
        }
        Ok(v)
    }

    fn side_effect(&mut self, op: &Op<'_>, target: Value, values: Vec<Value>) {
        self.trace.side_effects.push(SideEffect {
            offset: op.offset,
            opcode: op.opcode,
            target,
            values,
        });
    }

    /// APPEND/APPENDS/ADDITEMS: items `stack[x..]` go to `stack[x-1]`.
    fn add_items(&mut self, op: &Op<'_>, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x == 0 {
            return Err(VmErrorKind::StackUnderflow);
        }
        if x == len {
            return Ok(());
        }
        self.count_items(len - x)?;
        let target = self.stack[x - 1];
        let is_add = op.opcode == Opcode::ADDITEMS;
        let scan = self.mode == Mode::Scan;
        let (nodes, stack) = (&mut self.trace.nodes, &self.stack[x..]);
        let Some(id) = target.node() else {
            return self.append_elsewhere(op, target, x);
        };
        // The kept items go straight from the stack to the container: a scan filters them
        // through a small buffer on the machine rather than a fresh vector.
        let kept: &[Value] = if scan {
            self.scratch.clear();
            self.scratch
                .extend(stack.iter().copied().filter(|&v| !is_plain(nodes, v)));
            &self.scratch
        } else {
            stack
        };
        let ok = match &mut nodes[id.index()] {
            Node::List(v) if !is_add => {
                extend_exact(v, kept);
                true
            }
            Node::Set(v) if is_add => {
                extend_exact(v, kept);
                true
            }
            Node::Object(o) => {
                o.items.extend_from_slice(kept);
                true
            }
            _ => false,
        };
        if !ok {
            return self.append_elsewhere(op, target, x);
        }
        self.stack.truncate(x);
        Ok(())
    }

    /// APPEND(S)/ADDITEMS on something other than a list, set or object: an error for a
    /// literal, a side effect for a symbolic value.
    fn append_elsewhere(&mut self, op: &Op<'_>, target: Value, x: usize) -> R<()> {
        let is_add = op.opcode == Opcode::ADDITEMS;
        if let Some(t) = self.literal_type(target) {
            let attr = if is_add { "add" } else { "append" };
            return Err(VmErrorKind::Type(format!(
                "'{t}' object has no attribute '{attr}'"
            )));
        }
        let values = self.stack[x..].to_vec();
        self.side_effect(op, target, values);
        self.stack.truncate(x);
        Ok(())
    }

    /// SETITEM/SETITEMS: pairs `stack[x..]` go to `stack[x-1]`.
    fn set_items(&mut self, op: &Op<'_>, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x == 0 {
            return Err(VmErrorKind::StackUnderflow);
        }
        if x == len {
            return Ok(());
        }
        if !(len - x).is_multiple_of(2) {
            return Err(VmErrorKind::Type("odd number of items for SETITEMS".into()));
        }
        self.count_items((len - x) / 2)?;
        let target = self.stack[x - 1];
        let ok = match target.node().map(|id| &self.trace.nodes[id.index()]) {
            Some(Node::Dict(_) | Node::Object(_)) => {
                let pairs = self.kept_pairs(x);
                match target.node().map(|id| &mut self.trace.nodes[id.index()]) {
                    Some(Node::Dict(v)) => extend_pairs(v, pairs),
                    Some(Node::Object(o)) => extend_pairs(&mut o.dict_items, pairs),
                    _ => {}
                }
                true
            }
            _ => false,
        };
        if !ok {
            if let Some(t) = self.literal_type(target) {
                return Err(VmErrorKind::Type(format!(
                    "'{t}' object does not support item assignment"
                )));
            }
            let values = self.stack[x..].to_vec();
            self.side_effect(op, target, values);
        }
        self.stack.truncate(x);
        Ok(())
    }

    /// The pairs `stack[x..]` a container keeps: all of them in a full run; in a scan, those
    /// with a key or value that is not plain data.
    fn kept_pairs(&self, x: usize) -> Vec<(Value, Value)> {
        let pairs = self.stack[x..].chunks_exact(2).map(|p| (p[0], p[1]));
        match self.mode {
            Mode::Full => pairs.collect(),
            Mode::Scan | Mode::Plain => pairs
                .filter(|&(k, v)| {
                    !is_plain(&self.trace.nodes, k) || !is_plain(&self.trace.nodes, v)
                })
                .collect(),
        }
    }

    /// Pops `stack[x..]` into a list or frozenset: all of it in a full run, what is not
    /// plain data in a scan. Counts every item against the budget either way.
    fn collect_kept(&mut self, x: usize) -> R<Vec<Value>> {
        if self.mode == Mode::Full {
            return self.collect_from(x);
        }
        let x = x.min(self.stack.len());
        self.count_items(self.stack.len() - x)?;
        let nodes = &self.trace.nodes;
        let items = self.stack[x..]
            .iter()
            .copied()
            .filter(|&v| !is_plain(nodes, v))
            .collect();
        self.stack.truncate(x);
        Ok(items)
    }

    fn collect_from(&mut self, x: usize) -> R<Vec<Value>> {
        let items = self.stack.split_off(x.min(self.stack.len()));
        self.count_items(items.len())?;
        Ok(items)
    }

    fn str_value(&mut self, s: Cow<'a, [u8]>) -> R<Value> {
        self.node(Node::Str(s))
    }

    fn int_value(&mut self, lit: IntLit) -> R<Value> {
        match lit {
            IntLit::Small(v) => Ok(Value::Int(v)),
            IntLit::Big(n) => self.node(Node::BigInt(Cow::Owned(n.to_signed_bytes_le()))),
        }
    }

    #[inline]
    fn memo_index(op: &Op<'_>) -> R<u64> {
        match op.arg {
            Arg::UInt(n) => Ok(n),
            Arg::Line(l) => match literal::c_index(l) {
                Some(i) if i >= 0 => u64::try_from(i).map_err(|_| bad_index(l)),
                Some(_) if op.opcode == Opcode::PUT => {
                    Err(VmErrorKind::BadArgument("negative PUT argument".into()))
                }
                _ => Err(bad_index(l)),
            },
            _ => Err(VmErrorKind::BadMemoIndex("(none)".into())),
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one arm per opcode reads best as one match"
    )]
    fn exec(&mut self, op: &Op<'a>, pickle: usize, pos: usize, run: &mut PickleRun) -> R<()> {
        let v = match op.opcode {
            Opcode::PROTO => {
                let Arg::UInt(p) = op.arg else {
                    return Err(bad_arg(op));
                };
                let p = p as u8;
                if p > HIGHEST_PROTOCOL {
                    return Err(VmErrorKind::UnsupportedProtocol(p));
                }
                run.protocol.get_or_insert(p);
                self.proto = p;
                return Ok(());
            }
            Opcode::FRAME => {
                let Arg::UInt(n) = op.arg else {
                    return Err(bad_arg(op));
                };
                let remaining = (self.data.len() - pos) as u64;
                if n > remaining {
                    return Err(VmErrorKind::FrameTruncated {
                        length: n,
                        remaining,
                    });
                }
                return Ok(());
            }
            Opcode::STOP => {
                run.root = Some(self.pop()?);
                return Ok(());
            }

            // Scalars.
            Opcode::NONE => Value::None,
            Opcode::NEWTRUE => Value::Bool(true),
            Opcode::NEWFALSE => Value::Bool(false),
            Opcode::BININT1 | Opcode::BININT2 => {
                let Arg::UInt(n) = op.arg else {
                    return Err(bad_arg(op));
                };
                Value::Int(n as i64)
            }
            Opcode::BININT => {
                let Arg::Int(n) = op.arg else {
                    return Err(bad_arg(op));
                };
                Value::Int(i64::from(n))
            }
            Opcode::BINFLOAT => {
                let Arg::Float(x) = op.arg else {
                    return Err(bad_arg(op));
                };
                Value::Float(x)
            }
            Opcode::INT => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                match literal::c_int(l) {
                    Some(Err(b)) => Value::Bool(b),
                    Some(Ok(i)) => self.int_value(i)?,
                    None => return Err(bad_literal("int", l)),
                }
            }
            Opcode::LONG => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                match literal::c_long(l) {
                    Some(i) => self.int_value(i)?,
                    None => return Err(bad_literal("int", l)),
                }
            }
            Opcode::LONG1 | Opcode::LONG4 => {
                let Arg::Bytes(b) = op.arg else {
                    return Err(bad_arg(op));
                };
                if b.len() <= 8 {
                    let neg = b.last().is_some_and(|&c| c & 0x80 != 0);
                    let mut buf = if neg { [0xff; 8] } else { [0; 8] };
                    buf[..b.len()].copy_from_slice(b);
                    Value::Int(i64::from_le_bytes(buf))
                } else {
                    self.node(Node::BigInt(Cow::Borrowed(b)))?
                }
            }
            Opcode::FLOAT => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                match literal::c_float(l) {
                    Some(x) => Value::Float(x),
                    None => {
                        return Err(VmErrorKind::BadArgument(
                            "could not convert string to float".into(),
                        ));
                    }
                }
            }

            // Strings and bytes.
            Opcode::STRING => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                let q = l.first().copied();
                if l.len() < 2 || !matches!(q, Some(b'\'' | b'"')) || l.last().copied() != q {
                    return Err(VmErrorKind::BadArgument(
                        "the STRING opcode argument must be quoted".into(),
                    ));
                }
                let decoded = text::escape_decode(&l[1..l.len() - 1])
                    .map_err(|e| VmErrorKind::BadArgument(format!("invalid STRING escape: {e}")))?;
                let non_ascii = !decoded.is_ascii();
                let s = match decoded {
                    Cow::Borrowed(b) => text::latin1(b),
                    Cow::Owned(b) => Cow::Owned(text::latin1(&b).into_owned()),
                };
                let v = self.str_value(s)?;
                note_py2_str(run, op.offset, non_ascii, v);
                v
            }
            Opcode::BINSTRING | Opcode::SHORT_BINSTRING => {
                let Arg::Bytes(b) = op.arg else {
                    return Err(bad_arg(op));
                };
                let v = self.str_value(text::latin1(b))?;
                note_py2_str(run, op.offset, !b.is_ascii(), v);
                v
            }
            Opcode::UNICODE => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                let s = text::raw_unicode_escape(l).map_err(|e| {
                    VmErrorKind::BadArgument(format!("'rawunicodeescape' codec can't decode: {e}"))
                })?;
                self.str_value(s)?
            }
            Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE | Opcode::BINUNICODE8 => {
                let Arg::Bytes(b) = op.arg else {
                    return Err(bad_arg(op));
                };
                // ASCII (most names and keys) is valid at a glance.
                if !b.is_ascii() {
                    text::validate_utf8_surrogatepass(b).map_err(|e| {
                        VmErrorKind::BadArgument(format!("'utf-8' codec can't decode: {e}"))
                    })?;
                }
                self.str_value(Cow::Borrowed(b))?
            }
            Opcode::BINBYTES | Opcode::SHORT_BINBYTES | Opcode::BINBYTES8 => {
                let Arg::Bytes(b) = op.arg else {
                    return Err(bad_arg(op));
                };
                self.node(Node::Bytes(Cow::Borrowed(b)))?
            }
            Opcode::BYTEARRAY8 => {
                let Arg::Bytes(b) = op.arg else {
                    return Err(bad_arg(op));
                };
                self.node(Node::ByteArray(Cow::Borrowed(b)))?
            }
            Opcode::NEXT_BUFFER => {
                let index = self.buffers;
                self.buffers += 1;
                self.node(Node::Buffer {
                    index,
                    offset: op.offset,
                })?
            }
            Opcode::READONLY_BUFFER => {
                let v = self.pop()?;
                self.node(Node::ReadOnly(v))?
            }

            // Containers.
            Opcode::EMPTY_LIST => self.node(Node::List(Vec::new()))?,
            Opcode::EMPTY_TUPLE => self.node(Node::Tuple(Vec::new()))?,
            Opcode::EMPTY_DICT => self.node(Node::Dict(Vec::new()))?,
            Opcode::EMPTY_SET => self.node(Node::Set(Vec::new()))?,
            Opcode::LIST => {
                let x = self.marker()?;
                let items = self.collect_kept(x)?;
                self.node(Node::List(items))?
            }
            Opcode::TUPLE => {
                let x = self.marker()?;
                let items = self.collect_from(x)?;
                self.node(Node::Tuple(items))?
            }
            Opcode::FROZENSET => {
                let x = self.marker()?;
                let items = self.collect_kept(x)?;
                self.node(Node::FrozenSet(items))?
            }
            Opcode::TUPLE1 | Opcode::TUPLE2 | Opcode::TUPLE3 => {
                let n = match op.opcode {
                    Opcode::TUPLE1 => 1,
                    Opcode::TUPLE2 => 2,
                    _ => 3,
                };
                if self.stack.len() < self.fence() + n {
                    return Err(VmErrorKind::StackUnderflow);
                }
                let items = self.collect_from(self.stack.len() - n)?;
                self.node(Node::Tuple(items))?
            }
            Opcode::DICT => {
                let x = self.marker()?;
                if !(self.stack.len() - x.min(self.stack.len())).is_multiple_of(2) {
                    return Err(VmErrorKind::Type("odd number of items for DICT".into()));
                }
                let x = x.min(self.stack.len());
                self.count_items(self.stack.len() - x)?;
                let pairs = self.kept_pairs(x);
                self.stack.truncate(x);
                self.node(Node::Dict(pairs))?
            }
            Opcode::APPEND => {
                let x = self.stack.len().wrapping_sub(1);
                return self.add_items(op, if self.stack.is_empty() { 0 } else { x });
            }
            Opcode::APPENDS | Opcode::ADDITEMS => {
                let x = self.marker()?;
                return self.add_items(op, x);
            }
            Opcode::SETITEM => {
                let len = self.stack.len();
                return self.set_items(op, len.saturating_sub(2));
            }
            Opcode::SETITEMS => {
                let x = self.marker()?;
                return self.set_items(op, x);
            }

            // Stack and memo.
            Opcode::POP => {
                let len = self.stack.len();
                if self.marks.last() == Some(&len) && !self.marks.is_empty() {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
                return Ok(());
            }
            Opcode::DUP => self.top()?,
            Opcode::MARK => {
                if self.marks.len() >= self.budgets.max_nesting {
                    return Err(budget(Budget::Nesting, self.budgets.max_nesting));
                }
                self.marks.push(self.stack.len());
                return Ok(());
            }
            Opcode::POP_MARK => {
                let x = self.marker()?;
                self.stack.truncate(x);
                return Ok(());
            }
            Opcode::GET | Opcode::BINGET | Opcode::LONG_BINGET => {
                let idx = Self::memo_index(op)?;
                self.memo.get(idx).ok_or(VmErrorKind::MemoMissing(idx))?
            }
            Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT => {
                let idx = Self::memo_index(op)?;
                let top = self.top()?;
                self.memo_put(idx, top)?;
                return Ok(());
            }
            Opcode::MEMOIZE => {
                let top = self.top()?;
                self.memo_put(self.memo.len as u64, top)?;
                return Ok(());
            }

            // Globals, calls and objects.
            Opcode::GLOBAL => {
                let Arg::Lines(m, n) = op.arg else {
                    return Err(bad_arg(op));
                };
                let (m, n) = (utf8_name(nonempty(m)?)?, utf8_name(nonempty(n)?)?);
                self.global(m, n, op.offset, op.opcode, pickle)?
            }
            Opcode::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let m = self.stack_global_name(module)?;
                let n = self.stack_global_name(name)?;
                self.global(m, n, op.offset, op.opcode, pickle)?
            }
            Opcode::REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                if let Some(t) = self.literal_type(callable) {
                    return Err(VmErrorKind::Type(format!("'{t}' object is not callable")));
                }
                if let Some(t) = self.literal_type(args)
                    && t != "tuple"
                {
                    return Err(VmErrorKind::Type(format!(
                        "argument list must be a tuple, not {t}"
                    )));
                }
                self.call(CallKind::Reduce, callable, args, None, op.offset)?
            }
            Opcode::NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                if self.literal_type(cls).is_some() {
                    return Err(VmErrorKind::Type(
                        "NEWOBJ class argument isn't a type object".into(),
                    ));
                }
                if self.literal_type(args).is_some_and(|t| t != "tuple") {
                    return Err(VmErrorKind::Type("NEWOBJ expected an arg tuple.".into()));
                }
                self.call(CallKind::NewObj, cls, args, None, op.offset)?
            }
            Opcode::NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                if let Some(t) = self.literal_type(cls) {
                    return Err(VmErrorKind::Type(format!(
                        "NEWOBJ_EX class argument must be a type, not {t}"
                    )));
                }
                if let Some(t) = self.literal_type(args).filter(|&t| t != "tuple") {
                    return Err(VmErrorKind::Type(format!(
                        "NEWOBJ_EX args argument must be a tuple, not {t}"
                    )));
                }
                if let Some(t) = self.literal_type(kwargs).filter(|&t| t != "dict") {
                    return Err(VmErrorKind::Type(format!(
                        "NEWOBJ_EX kwargs argument must be a dict, not {t}"
                    )));
                }
                self.call(CallKind::NewObjEx, cls, args, Some(kwargs), op.offset)?
            }
            Opcode::OBJ => {
                let x = self.marker()?;
                if self.stack.len() < x + 1 {
                    return Err(VmErrorKind::StackUnderflow);
                }
                let items = self.collect_from(x + 1)?;
                let cls = self.stack.pop().ok_or(VmErrorKind::StackUnderflow)?;
                let args = self.node(Node::Tuple(items))?;
                self.call(CallKind::Obj, cls, args, None, op.offset)?
            }
            Opcode::INST => {
                let Arg::Lines(m, n) = op.arg else {
                    return Err(bad_arg(op));
                };
                let x = self.marker()?;
                let (m, n) = (utf8_name(nonempty(m)?)?, utf8_name(nonempty(n)?)?);
                let cls = self.global(m, n, op.offset, op.opcode, pickle)?;
                let items = self.collect_from(x)?;
                let args = self.node(Node::Tuple(items))?;
                self.call(CallKind::Inst, cls, args, None, op.offset)?
            }
            Opcode::BUILD => {
                if self.stack.len() < self.fence() + 2 {
                    return Err(VmErrorKind::StackUnderflow);
                }
                let state = self.pop()?;
                let inst = self.top()?;
                self.count_items(1)?;
                let callable = match inst.node().map(|id| &mut self.trace.nodes[id.index()]) {
                    Some(Node::Object(o)) => {
                        o.state.push(state);
                        o.built_at.push(op.offset);
                        Some(o.callable)
                    }
                    _ => None,
                };
                match callable {
                    Some(c) => self.mark_use(c, Uses::BUILT),
                    None => {
                        if let Some(t) = self.literal_type(inst) {
                            return Err(VmErrorKind::Type(format!(
                                "'{t}' object has no attribute '__dict__'"
                            )));
                        }
                        self.mark_use(inst, Uses::BUILT);
                        self.side_effect(op, inst, vec![state]);
                    }
                }
                return Ok(());
            }
            Opcode::PERSID => {
                let Arg::Line(l) = op.arg else {
                    return Err(bad_arg(op));
                };
                if !l.is_ascii() {
                    return Err(VmErrorKind::BadArgument(
                        "persistent IDs in protocol 0 must be ASCII strings".into(),
                    ));
                }
                let pid = self.str_value(Cow::Borrowed(l))?;
                self.node(Node::PersistentId {
                    pid,
                    offset: op.offset,
                })?
            }
            Opcode::BINPERSID => {
                let pid = self.pop()?;
                self.node(Node::PersistentId {
                    pid,
                    offset: op.offset,
                })?
            }
            Opcode::EXT1 | Opcode::EXT2 => {
                let Arg::UInt(n) = op.arg else {
                    return Err(bad_arg(op));
                };
                self.ext(n as i64, op.offset)?
            }
            Opcode::EXT4 => {
                let Arg::Int(n) = op.arg else {
                    return Err(bad_arg(op));
                };
                self.ext(i64::from(n), op.offset)?
            }
        };
        self.push(v)
    }

    fn ext(&mut self, code: i64, offset: u64) -> R<Value> {
        if code <= 0 {
            return Err(VmErrorKind::BadArgument("EXT specifies code <= 0".into()));
        }
        self.node(Node::Ext { code, offset })
    }

    #[inline]
    fn memo_put(&mut self, idx: u64, v: Value) -> R<()> {
        if self.memo.len >= self.budgets.max_memo {
            return Err(budget(Budget::Memo, self.budgets.max_memo));
        }
        self.memo.put(idx, v);
        Ok(())
    }

    fn stack_global_name(&self, v: Value) -> R<Name<'a>> {
        match self.get_node(v) {
            Some(Node::Str(s)) => Ok(Name::Literal(match s {
                Cow::Borrowed(b) => String::from_utf8_lossy(b),
                Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
            })),
            _ if self.literal_type(v).is_some() => {
                Err(VmErrorKind::Type("STACK_GLOBAL requires str".into()))
            }
            _ => Ok(Name::Dynamic(v)),
        }
    }
}

/// Extends a container; the first batch allocates exactly what it needs. Most containers
/// receive one batch (pickle writes items in batches of 1000), and the default growth would
/// round two-element lists up to four slots: 20 MB on a 600k-record file.
#[inline]
fn extend_exact(v: &mut Vec<Value>, items: &[Value]) {
    if v.capacity() == 0 {
        v.reserve_exact(items.len());
    }
    v.extend_from_slice(items);
}

/// Extends a dict's pairs; the first batch allocates exactly what it needs (as
/// [`extend_exact`]).
#[inline]
fn extend_pairs(v: &mut Vec<(Value, Value)>, pairs: Vec<(Value, Value)>) {
    if v.is_empty() {
        *v = pairs;
    } else {
        v.extend(pairs);
    }
}

/// Whether a value is plain data: a scalar, or a `str`, `bytes`, `bytearray`, big int or
/// out-of-band buffer. Plain data cannot be called, name a callable or hold a value that
/// can; [`Mode::Scan`] does not keep it in lists, sets, dicts and appended object items.
#[inline]
fn is_plain(nodes: &[Node<'_>], v: Value) -> bool {
    match v {
        Value::Node(id) => matches!(
            nodes.get(id.index()),
            Some(
                Node::Str(_)
                    | Node::Bytes(_)
                    | Node::ByteArray(_)
                    | Node::BigInt(_)
                    | Node::Buffer { .. }
            )
        ),
        _ => true,
    }
}

/// Remembers the pickle's first non-ASCII Python 2 `str` (see [`PickleRun::py2_non_ascii`]).
fn note_py2_str(run: &mut PickleRun, offset: u64, non_ascii: bool, v: Value) {
    if non_ascii
        && run.py2_non_ascii.is_none()
        && let Some(node) = v.node()
    {
        run.py2_non_ascii = Some(crate::trace::Py2Str { offset, node });
    }
}

/// The parser pairs every opcode with its argument kind, so this only happens for ops built
/// by hand.
#[cold]
fn bad_arg(op: &Op<'_>) -> VmErrorKind {
    VmErrorKind::BadArgument(format!("{} cannot take argument {:?}", op.opcode, op.arg))
}

fn budget(b: Budget, limit: usize) -> VmErrorKind {
    VmErrorKind::Budget {
        budget: b,
        limit: limit as u64,
    }
}

fn bad_index(l: &[u8]) -> VmErrorKind {
    VmErrorKind::BadMemoIndex(String::from_utf8_lossy(l).into_owned())
}

fn bad_literal(kind: &str, l: &[u8]) -> VmErrorKind {
    VmErrorKind::BadArgument(format!(
        "invalid literal for {kind}() with base 0: {:?}",
        String::from_utf8_lossy(l)
    ))
}

/// GLOBAL and INST lines are decoded as strict UTF-8 by the C unpickler.
fn utf8_name(b: &[u8]) -> R<Name<'_>> {
    std::str::from_utf8(b)
        .map(|s| Name::Literal(Cow::Borrowed(s)))
        .map_err(|e| VmErrorKind::BadArgument(format!("'utf-8' codec can't decode: {e}")))
}

/// GLOBAL and INST lines: `_pickle.c` calls a line shorter than two bytes (newline
/// included) a bad readline, so an empty module or name stops the load.
fn nonempty(b: &[u8]) -> R<&[u8]> {
    if b.is_empty() {
        return Err(VmErrorKind::BadArgument(
            "pickle data was truncated".to_owned(),
        ));
    }
    Ok(b)
}
