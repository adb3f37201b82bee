//! The plain-data pass: a pickle stream that only builds plain data, counted without a
//! value graph.
//!
//! Most pickles a scanner meets are data: dicts, lists and tuples of strings and numbers, no
//! global, no call. For those the security rules have nothing to read, and `show --stats`
//! only counts. Building the value graph costs a node per string and container and a `Vec`
//! per container; this pass instead walks the bytes once and keeps one byte per stack slot
//! and memo entry (the value's *kind*: dict, list, tuple, str, int, ...), never the values,
//! with no allocation per op.
//!
//! It accepts a conservative subset of the opcodes (see [`summarize`]) and gives up, returning
//! `None`, on anything else and on anything unusual at all: an op the subset lacks (every
//! import, call, BUILD, extension, persistent id, text op of protocol 0), a stack underflow,
//! a missing MARK, a memo GET of an unset index, a sparse memo index, an APPEND to something
//! other than a list, SETITEMS on something other than a dict, an odd number of dict items,
//! an unhashable dict key or set item, invalid UTF-8, truncated data, a bad PROTO or FRAME,
//! bytes after the last STOP, or any count near a [`Budgets`] limit. Giving up is always
//! safe: the caller then runs the full machine from the start. When it succeeds, the full
//! machine would have run every pickle of the stream to its STOP with no error, no global,
//! no call, no side effect and no trailing bytes, and made exactly the counts [`Plain`]
//! reports (ops, value nodes, container items, memo entries); `tests/plain_fast_path.rs` in
//! `crates/doctor` and the `plain_fast_path_differential` fuzz target check that claim
//! against the machine.

use crate::budget::Budgets;
use crate::machine::Mode;
use crate::trace::{PickleRun, Trace};

/// One pickle of a plain stream, as [`crate::PickleRun`] would record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainPickle {
    /// Offset of its first op.
    pub start: u64,
    /// Offset after its STOP.
    pub end: u64,
    /// The first PROTO it declares (absent for protocols 0 and 1).
    pub protocol: Option<u8>,
    /// Ops executed, STOP included.
    pub ops: u64,
    /// Memo entries at the end.
    pub memo_entries: usize,
}

/// What the full machine would report for a stream of plain pickles, without the values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plain {
    /// The pickles, in order; the last ends where the data ends.
    pub pickles: Vec<PlainPickle>,
    /// Ops over all pickles.
    pub ops: u64,
    /// Value nodes the full machine makes (strings, bytes, big ints, containers).
    pub nodes: usize,
    /// Container items counted against [`Budgets::max_items`].
    pub items: usize,
}

impl Plain {
    /// The trace of a plain stream as the rules and `show --stats` read it: the pickles with
    /// their extents, protocols, op counts and memo entries, no error, no global, no call, no
    /// side effect, no trailing bytes, and the run's counts. It holds no value graph:
    /// `nodes` is empty, every root is `None`, [`Trace::value_nodes`] gives the count and
    /// `mode` is [`Mode::Plain`].
    #[must_use]
    pub fn into_trace(self) -> Trace<'static> {
        let pickles = self
            .pickles
            .iter()
            .map(|p| PickleRun {
                start: p.start,
                end: p.end,
                protocol: p.protocol,
                root: None,
                ops: p.ops,
                memo_entries: p.memo_entries,
                error: None,
                parent: None,
                py2_non_ascii: None,
            })
            .collect();
        Trace {
            pickles,
            ops: self.ops,
            items: self.items,
            mode: Mode::Plain,
            plain_nodes: self.nodes,
            ..Trace::default()
        }
    }
}

// Kinds. Those below `UNHASHABLE` can be dict keys and set items.
const K_NONE: u8 = 0;
const K_BOOL: u8 = 1;
const K_INT: u8 = 2;
const K_FLOAT: u8 = 3;
const K_STR: u8 = 4;
const K_BYTES: u8 = 5;
const K_TUPLE: u8 = 6;
const K_FROZENSET: u8 = 7;
/// First kind that cannot be hashed.
const UNHASHABLE: u8 = 8;
/// A tuple holding something unhashable.
const K_TUPLE_UNHASHABLE: u8 = 8;
const K_LIST: u8 = 9;
const K_DICT: u8 = 10;
const K_SET: u8 = 11;
const K_BYTEARRAY: u8 = 12;
/// A memo slot never written.
const UNSET: u8 = 0xff;

/// Highest protocol CPython reads (as the machine).
const HIGHEST_PROTOCOL: u8 = 5;

/// Counted arguments at or above this length are left to the machine (a negative signed
/// count reads as one).
const MAX_COUNT4: u32 = 1 << 31;

/// How far past the memo's end a PUT may write before the pass gives up.
const MAX_MEMO_SKIP: usize = 1024;

/// State of one pickle.
struct Pass<'d> {
    data: &'d [u8],
    pos: usize,
    stack: Vec<u8>,
    marks: Vec<usize>,
    memo: Vec<u8>,
    memo_entries: usize,
    nodes: usize,
    items: usize,
    max_stack: usize,
    max_memo: usize,
    max_nesting: usize,
}

/// Summarises `data` if it is a stream of plain-data pickles (see the module docs), or
/// returns `None` when the full machine must run. The accepted opcodes: PROTO, FRAME, STOP,
/// MARK, POP, POP_MARK, DUP, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, EMPTY_SET, TUPLE,
/// TUPLE1-3, LIST, DICT, FROZENSET, APPEND, APPENDS, SETITEM, SETITEMS, ADDITEMS, MEMOIZE,
/// BINPUT, LONG_BINPUT, BINGET, LONG_BINGET, NONE, NEWTRUE, NEWFALSE, BININT, BININT1,
/// BININT2, LONG1, LONG4, BINFLOAT, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8,
/// SHORT_BINBYTES, BINBYTES, BINBYTES8 and BYTEARRAY8.
#[must_use]
pub fn summarize(data: &[u8], budgets: Budgets) -> Option<Plain> {
    if data.is_empty() {
        return None;
    }
    let mut pass = Pass {
        data,
        pos: 0,
        stack: Vec::with_capacity(64),
        marks: Vec::with_capacity(16),
        memo: Vec::new(),
        memo_entries: 0,
        nodes: 0,
        items: 0,
        max_stack: budgets.max_stack,
        max_memo: budgets.max_memo,
        max_nesting: budgets.max_nesting,
    };
    let mut out = Plain::default();
    while pass.pos < data.len() {
        if out.pickles.len() >= budgets.max_pickles {
            return None;
        }
        let start = pass.pos;
        let (protocol, ops) = pass.pickle()?;
        out.ops += ops;
        out.pickles.push(PlainPickle {
            start: start as u64,
            end: pass.pos as u64,
            protocol,
            ops,
            memo_entries: pass.memo_entries,
        });
    }
    // Every limit below is checked where the machine checks it, or here for the monotonic
    // totals: the machine fails as soon as one goes over, so a total over it means an error.
    if out.ops > budgets.max_ops || pass.nodes > budgets.max_nodes || pass.items > budgets.max_items
    {
        return None;
    }
    out.nodes = pass.nodes;
    out.items = pass.items;
    Some(out)
}

impl Pass<'_> {
    /// Runs one pickle from `self.pos` through its STOP. Returns its first PROTO and its op
    /// count, or `None` to give up.
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per opcode reads best as one match, as in the machine"
    )]
    fn pickle(&mut self) -> Option<(Option<u8>, u64)> {
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        self.memo_entries = 0;
        let mut protocol = None;
        let mut ops = 0u64;
        let data = self.data;
        loop {
            let op = *data.get(self.pos)?;
            self.pos += 1;
            ops += 1;
            let kind = match op {
                // Counted strings: the commonest ops of data pickles come first.
                0x8c => {
                    let n = usize::from(self.u8()?);
                    self.string(n)?
                }
                b'X' => {
                    let n = self.count4()?;
                    self.string(n)?
                }
                0x8d => {
                    let n = self.count8()?;
                    self.string(n)?
                }
                0x94 => {
                    // MEMOIZE
                    let top = self.top()?;
                    self.put(self.memo_entries, top)?;
                    continue;
                }
                b'h' => {
                    let i = usize::from(self.u8()?);
                    self.get(i)?
                }
                b'j' => {
                    let i = self.u32()? as usize;
                    self.get(i)?
                }
                b'q' => {
                    let i = usize::from(self.u8()?);
                    let top = self.top()?;
                    self.put(i, top)?;
                    continue;
                }
                b'r' => {
                    let i = self.u32()? as usize;
                    let top = self.top()?;
                    self.put(i, top)?;
                    continue;
                }
                b'K' => {
                    self.skip(1)?;
                    K_INT
                }
                b'M' => {
                    self.skip(2)?;
                    K_INT
                }
                b'J' => {
                    self.skip(4)?;
                    K_INT
                }
                b'G' => {
                    self.skip(8)?;
                    K_FLOAT
                }
                b'N' => K_NONE,
                0x88 | 0x89 => K_BOOL,
                0x8a => {
                    let n = usize::from(self.u8()?);
                    self.long(n)?
                }
                0x8b => {
                    let n = self.count4()?;
                    self.long(n)?
                }
                b'C' => {
                    let n = usize::from(self.u8()?);
                    self.bytes(n, K_BYTES)?
                }
                b'B' => {
                    let n = self.count4()?;
                    self.bytes(n, K_BYTES)?
                }
                0x8e => {
                    let n = self.count8()?;
                    self.bytes(n, K_BYTES)?
                }
                0x96 => {
                    let n = self.count8()?;
                    self.bytes(n, K_BYTEARRAY)?
                }

                // Containers.
                b'}' => self.node(K_DICT),
                b']' => self.node(K_LIST),
                b')' => self.node(K_TUPLE),
                0x8f => self.node(K_SET),
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let len = self.stack.len();
                    if len < self.fence() + n {
                        return None;
                    }
                    let kind = tuple_kind(&self.stack[len - n..]);
                    self.stack.truncate(len - n);
                    self.items += n;
                    self.node(kind)
                }
                b't' => {
                    let (x, n) = self.pop_mark()?;
                    let kind = tuple_kind(self.stack.get(x..)?);
                    self.items += n;
                    self.stack.truncate(x);
                    self.node(kind)
                }
                b'l' => {
                    let (x, n) = self.pop_mark()?;
                    self.items += n;
                    self.stack.truncate(x);
                    self.node(K_LIST)
                }
                0x91 => {
                    // FROZENSET
                    let (x, n) = self.pop_mark()?;
                    if !all_hashable(self.stack.get(x..)?) {
                        return None;
                    }
                    self.items += n;
                    self.stack.truncate(x);
                    self.node(K_FROZENSET)
                }
                b'd' => {
                    let (x, n) = self.pop_mark()?;
                    if n % 2 != 0 || !keys_hashable(self.stack.get(x..)?) {
                        return None;
                    }
                    // The machine counts a DICT's keys and values, a SETITEMS's pairs.
                    self.items += n;
                    self.stack.truncate(x);
                    self.node(K_DICT)
                }
                b'a' => {
                    // APPEND: the list is below the item, both above the fence.
                    let len = self.stack.len();
                    if len < self.fence() + 2 || self.stack[len - 2] != K_LIST {
                        return None;
                    }
                    self.items += 1;
                    self.stack.truncate(len - 1);
                    continue;
                }
                b'e' | 0x90 => {
                    // APPENDS, ADDITEMS: the target just below the MARK, above the fence.
                    let (x, n) = self.pop_mark()?;
                    let target = if op == b'e' { K_LIST } else { K_SET };
                    if x <= self.fence() || self.stack[x - 1] != target {
                        return None;
                    }
                    if target == K_SET && !all_hashable(self.stack.get(x..)?) {
                        return None;
                    }
                    self.items += n;
                    self.stack.truncate(x);
                    continue;
                }
                b's' => {
                    let len = self.stack.len();
                    if len < self.fence() + 3
                        || self.stack[len - 3] != K_DICT
                        || self.stack[len - 2] >= UNHASHABLE
                    {
                        return None;
                    }
                    self.items += 1;
                    self.stack.truncate(len - 2);
                    continue;
                }
                b'u' => {
                    let (x, n) = self.pop_mark()?;
                    if x <= self.fence()
                        || self.stack[x - 1] != K_DICT
                        || n % 2 != 0
                        || !keys_hashable(self.stack.get(x..)?)
                    {
                        return None;
                    }
                    self.items += n / 2;
                    self.stack.truncate(x);
                    continue;
                }

                // Stack.
                b'(' => {
                    if self.marks.len() >= self.max_nesting {
                        return None;
                    }
                    self.marks.push(self.stack.len());
                    continue;
                }
                b'0' => {
                    // POP drops the top MARK when nothing was pushed after it (as `_pickle.c`).
                    let len = self.stack.len();
                    if self.marks.last() == Some(&len) {
                        self.marks.pop();
                    } else {
                        self.top()?;
                        self.stack.pop();
                    }
                    continue;
                }
                b'1' => {
                    let (x, _) = self.pop_mark()?;
                    self.stack.truncate(x);
                    continue;
                }
                b'2' => self.top()?,

                // Framing and the end.
                0x80 => {
                    let p = self.u8()?;
                    if p > HIGHEST_PROTOCOL {
                        return None;
                    }
                    protocol.get_or_insert(p);
                    continue;
                }
                0x95 => {
                    let n = self.u64()?;
                    if n > (data.len() - self.pos) as u64 {
                        return None;
                    }
                    continue;
                }
                b'.' => {
                    self.top()?;
                    return Some((protocol, ops));
                }
                _ => return None,
            };
            if self.stack.len() >= self.max_stack {
                return None;
            }
            self.stack.push(kind);
        }
    }

    /// Pops the top MARK: its stack position and how many values lie above it.
    #[inline]
    fn pop_mark(&mut self) -> Option<(usize, usize)> {
        let x = self.marks.pop()?;
        Some((x, self.stack.len().checked_sub(x)?))
    }

    #[inline]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// The top of the stack, above the fence.
    #[inline]
    fn top(&self) -> Option<u8> {
        if self.stack.len() <= self.fence() {
            return None;
        }
        self.stack.last().copied()
    }

    #[inline]
    fn node(&mut self, kind: u8) -> u8 {
        self.nodes += 1;
        kind
    }

    #[inline]
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    #[inline]
    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    #[inline]
    fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn u32(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    }

    #[inline]
    fn u64(&mut self) -> Option<u64> {
        let b: [u8; 8] = self.take(8)?.try_into().ok()?;
        Some(u64::from_le_bytes(b))
    }

    /// A 4-byte count, signed or not: large ones are left to the machine.
    #[inline]
    fn count4(&mut self) -> Option<usize> {
        let n = self.u32()?;
        (n < MAX_COUNT4).then_some(n as usize)
    }

    #[inline]
    fn count8(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    /// A UTF-8 string of `n` bytes (strict UTF-8: the rarer surrogates go to the machine).
    #[inline]
    fn string(&mut self, n: usize) -> Option<u8> {
        let s = self.take(n)?;
        if !s.is_ascii() && std::str::from_utf8(s).is_err() {
            return None;
        }
        Some(self.node(K_STR))
    }

    #[inline]
    fn bytes(&mut self, n: usize, kind: u8) -> Option<u8> {
        self.skip(n)?;
        Some(self.node(kind))
    }

    /// LONG1/LONG4: an int in 8 bytes is a scalar, a longer one a node.
    #[inline]
    fn long(&mut self, n: usize) -> Option<u8> {
        self.skip(n)?;
        if n > 8 {
            self.nodes += 1;
        }
        Some(K_INT)
    }

    #[inline]
    fn get(&self, i: usize) -> Option<u8> {
        match self.memo.get(i) {
            Some(&k) if k != UNSET => Some(k),
            _ => None,
        }
    }

    /// Stores a kind in the memo, densely: an index far past the end goes to the machine.
    #[inline]
    fn put(&mut self, i: usize, kind: u8) -> Option<()> {
        if self.memo_entries >= self.max_memo {
            return None;
        }
        if i == self.memo.len() {
            self.memo.push(kind);
            self.memo_entries += 1;
            return Some(());
        }
        if i > self.memo.len() {
            // The machine keeps an index below twice its dense length plus 1024 dense;
            // this bound is inside that and grows the memo by at most 1024 slots per op.
            if i - self.memo.len() >= MAX_MEMO_SKIP {
                return None;
            }
            self.memo.resize(i + 1, UNSET);
        }
        if std::mem::replace(&mut self.memo[i], kind) == UNSET {
            self.memo_entries += 1;
        }
        Some(())
    }
}

/// The kind of a tuple of these items.
#[inline]
fn tuple_kind(items: &[u8]) -> u8 {
    if all_hashable(items) {
        K_TUPLE
    } else {
        K_TUPLE_UNHASHABLE
    }
}

#[inline]
fn all_hashable(items: &[u8]) -> bool {
    items.iter().all(|&k| k < UNHASHABLE)
}

/// Whether every key of `key, value, key, value, ...` can be hashed.
#[inline]
fn keys_hashable(pairs: &[u8]) -> bool {
    pairs.iter().step_by(2).all(|&k| k < UNHASHABLE)
}
