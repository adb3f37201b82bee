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
    /// The same summary with every op count at 0, as [`summarize_uncounted`] gives it.
    #[must_use]
    pub fn without_op_counts(mut self) -> Self {
        self.ops = 0;
        for pickle in &mut self.pickles {
            pickle.ops = 0;
        }
        self
    }

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
/// Highest protocol CPython reads (as the machine).
const HIGHEST_PROTOCOL: u8 = 5;

/// Counted arguments at or above this length are left to the machine (a negative signed
/// count reads as one).
const MAX_COUNT4: u32 = 1 << 31;

/// State kept across the pickles of a stream (buffers are reused).
struct Pass<'d> {
    data: &'d [u8],
    pos: usize,
    /// Kinds on the stack: a buffer whose first `sp` bytes are live (the stack pointer is a
    /// local of [`Pass::pickle`]); it grows, up to the stack budget, only when full.
    stack: Vec<u8>,
    marks: Vec<usize>,
    memo: Vec<u8>,
    /// The memo's length at the last STOP. Derivable from `memo`, but kept: reading
    /// `memo.len()` after the loop instead made the `scan` of the mixed benchmark file
    /// 0.45 ms slower (the loop's register allocation follows such details).
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
    summarize_with::<true>(data, budgets)
}

/// [`summarize`] for callers that never read op counts, such as `scan`, whose rules read the
/// pickles' extents, protocols, globals and calls but not how many ops ran. Every `ops` of
/// the result is 0; everything else is as [`summarize`] gives it.
///
/// Counting is what it saves: this 60-arm loop has more live values than registers, and the
/// op counter, touched by every op, was the one kept on the stack, so each op's increment
/// waited on the previous op's store (about 0.3 ms of a 3.6 ms `scan` of the mixed benchmark
/// file). The op budget needs no count when the data cannot hold more ops than it allows
/// (every op takes a byte); when it can, this counts as [`summarize`] does.
#[must_use]
pub fn summarize_uncounted(data: &[u8], budgets: Budgets) -> Option<Plain> {
    if data.len() as u64 > budgets.max_ops {
        return summarize_with::<true>(data, budgets).map(Plain::without_op_counts);
    }
    summarize_with::<false>(data, budgets)
}

fn summarize_with<const COUNT_OPS: bool>(data: &[u8], budgets: Budgets) -> Option<Plain> {
    if data.is_empty() {
        return None;
    }
    let mut pass = Pass {
        data,
        pos: 0,
        stack: vec![0; 256.min(budgets.max_stack)],
        marks: Vec::with_capacity(16),
        // Picklers memoize about one value per 16 bytes: reserved (not touched) up front, the
        // memo never copies itself while growing.
        memo: Vec::with_capacity((data.len() / 16).min(budgets.max_memo)),
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
        let (protocol, ops) = pass.pickle::<COUNT_OPS>()?;
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
    ///
    /// The loop keeps its state in locals and reads arguments through macros: kept in
    /// registers, the commonest ops cost a few instructions each.
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per opcode reads best as one match, as in the machine"
    )]
    fn pickle<const COUNT_OPS: bool>(&mut self) -> Option<(Option<u8>, u64)> {
        let data = self.data;
        let (max_stack, max_memo, max_nesting) = (self.max_stack, self.max_memo, self.max_nesting);
        let stack = &mut self.stack;
        let marks = &mut self.marks;
        let memo = &mut self.memo;
        marks.clear();
        memo.clear();
        let mut pos = self.pos;
        let mut sp = 0usize;
        // The innermost MARK's stack position (0 without one): ops cannot pop below it.
        let mut fence = 0usize;
        let mut nodes = self.nodes;
        let mut items = self.items;
        let mut protocol = None;
        let mut ops = 0u64;

        // `n` bytes of argument.
        macro_rules! take {
            ($n:expr) => {{
                // The count first: reading it moves `pos`.
                let n: usize = $n;
                let end = pos.checked_add(n)?;
                let s = data.get(pos..end)?;
                pos = end;
                s
            }};
        }
        macro_rules! byte {
            () => {{
                let b = *data.get(pos)?;
                pos += 1;
                b
            }};
        }
        macro_rules! le {
            ($t:ty, $n:expr) => {{
                let b: [u8; $n] = take!($n).try_into().ok()?;
                <$t>::from_le_bytes(b)
            }};
        }
        // A 4-byte count, signed or not: large ones (and negative ones) go to the machine.
        macro_rules! count4 {
            () => {{
                let n = le!(u32, 4);
                if n >= MAX_COUNT4 {
                    return None;
                }
                n as usize
            }};
        }
        macro_rules! count8 {
            () => {
                usize::try_from(le!(u64, 8)).ok()?
            };
        }
        // The top of the stack, above the fence.
        macro_rules! top {
            () => {{
                if sp <= fence {
                    return None;
                }
                *stack.get(sp - 1)?
            }};
        }
        // Pops the top MARK: its stack position and how many values lie above it.
        macro_rules! pop_mark {
            () => {{
                let x = marks.pop()?;
                fence = marks.last().copied().unwrap_or(0);
                (x, sp.checked_sub(x)?)
            }};
        }
        macro_rules! node {
            ($k:expr) => {{
                nodes += 1;
                $k
            }};
        }
        // A UTF-8 string (strict UTF-8: the rarer surrogates go to the machine).
        macro_rules! string {
            ($n:expr) => {{
                let s = take!($n);
                if !s.is_ascii() && std::str::from_utf8(s).is_err() {
                    return None;
                }
                node!(K_STR)
            }};
        }
        // LONG1/LONG4: an int in 8 bytes is a scalar, a longer one a node.
        macro_rules! long {
            ($n:expr) => {{
                let n = $n;
                take!(n);
                if n > 8 {
                    nodes += 1;
                }
                K_INT
            }};
        }
        // The memo is dense: an index past its end (a sparse memo, which no pickler writes)
        // goes to the machine, so its length is its number of entries and every slot below
        // it is set.
        macro_rules! get {
            ($i:expr) => {
                *memo.get($i)?
            };
        }
        // Stores a kind in the memo: at its end (a new entry) or over an entry. The machine
        // fails any PUT, even over an entry, once the memo is full.
        macro_rules! put {
            ($i:expr, $k:expr) => {{
                let (i, k): (usize, u8) = ($i, $k);
                if memo.len() >= max_memo {
                    return None;
                }
                if i == memo.len() {
                    memo.push(k);
                } else {
                    *memo.get_mut(i)? = k;
                }
            }};
        }

        loop {
            let op = byte!();
            if COUNT_OPS {
                ops += 1;
            }
            let kind = match op {
                // Counted strings: the commonest ops of data pickles come first.
                0x8c => {
                    let n = usize::from(byte!());
                    string!(n)
                }
                b'X' => string!(count4!()),
                0x8d => string!(count8!()),
                0x94 => {
                    // MEMOIZE
                    let top = top!();
                    put!(memo.len(), top);
                    continue;
                }
                b'h' => get!(usize::from(byte!())),
                b'j' => get!(le!(u32, 4) as usize),
                b'q' => {
                    let i = usize::from(byte!());
                    put!(i, top!());
                    continue;
                }
                b'r' => {
                    let i = le!(u32, 4) as usize;
                    put!(i, top!());
                    continue;
                }
                b'K' => {
                    take!(1);
                    K_INT
                }
                b'M' => {
                    take!(2);
                    K_INT
                }
                b'J' => {
                    take!(4);
                    K_INT
                }
                b'G' => {
                    take!(8);
                    K_FLOAT
                }
                b'N' => K_NONE,
                0x88 | 0x89 => K_BOOL,
                0x8a => long!(usize::from(byte!())),
                0x8b => long!(count4!()),
                b'C' => {
                    let n = usize::from(byte!());
                    take!(n);
                    node!(K_BYTES)
                }
                b'B' => {
                    take!(count4!());
                    node!(K_BYTES)
                }
                0x8e => {
                    take!(count8!());
                    node!(K_BYTES)
                }
                0x96 => {
                    take!(count8!());
                    node!(K_BYTEARRAY)
                }

                // Containers.
                b'}' => node!(K_DICT),
                b']' => node!(K_LIST),
                b')' => node!(K_TUPLE),
                0x8f => node!(K_SET),
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if sp < fence + n {
                        return None;
                    }
                    sp -= n;
                    items += n;
                    node!(tuple_kind(stack.get(sp..sp + n)?))
                }
                b't' => {
                    let (x, n) = pop_mark!();
                    let kind = tuple_kind(stack.get(x..sp)?);
                    items += n;
                    sp = x;
                    node!(kind)
                }
                b'l' => {
                    let (x, n) = pop_mark!();
                    items += n;
                    sp = x;
                    node!(K_LIST)
                }
                0x91 => {
                    // FROZENSET
                    let (x, n) = pop_mark!();
                    if !all_hashable(stack.get(x..sp)?) {
                        return None;
                    }
                    items += n;
                    sp = x;
                    node!(K_FROZENSET)
                }
                b'd' => {
                    let (x, n) = pop_mark!();
                    if n % 2 != 0 || !keys_hashable(stack.get(x..sp)?) {
                        return None;
                    }
                    // The machine counts a DICT's keys and values, a SETITEMS's pairs.
                    items += n;
                    sp = x;
                    node!(K_DICT)
                }
                b'a' => {
                    // APPEND: the list is below the item, both above the fence.
                    if sp < fence + 2 || *stack.get(sp - 2)? != K_LIST {
                        return None;
                    }
                    items += 1;
                    sp -= 1;
                    continue;
                }
                b'e' | 0x90 => {
                    // APPENDS, ADDITEMS: the target just below the MARK, above the fence.
                    let (x, n) = pop_mark!();
                    let target = if op == b'e' { K_LIST } else { K_SET };
                    if x <= fence || *stack.get(x - 1)? != target {
                        return None;
                    }
                    if target == K_SET && !all_hashable(stack.get(x..sp)?) {
                        return None;
                    }
                    items += n;
                    sp = x;
                    continue;
                }
                b's' => {
                    if sp < fence + 3
                        || *stack.get(sp - 3)? != K_DICT
                        || *stack.get(sp - 2)? >= UNHASHABLE
                    {
                        return None;
                    }
                    items += 1;
                    sp -= 2;
                    continue;
                }
                b'u' => {
                    let (x, n) = pop_mark!();
                    if x <= fence
                        || *stack.get(x - 1)? != K_DICT
                        || n % 2 != 0
                        || !keys_hashable(stack.get(x..sp)?)
                    {
                        return None;
                    }
                    items += n / 2;
                    sp = x;
                    continue;
                }

                // Stack.
                b'(' => {
                    if marks.len() >= max_nesting {
                        return None;
                    }
                    marks.push(sp);
                    fence = sp;
                    continue;
                }
                b'0' => {
                    // POP drops the top MARK when nothing was pushed after it (as `_pickle.c`).
                    if !marks.is_empty() && fence == sp {
                        marks.pop();
                        fence = marks.last().copied().unwrap_or(0);
                    } else {
                        let _ = top!();
                        sp -= 1;
                    }
                    continue;
                }
                b'1' => {
                    let (x, _) = pop_mark!();
                    sp = x;
                    continue;
                }
                b'2' => top!(),

                // Framing and the end.
                0x80 => {
                    let p = byte!();
                    if p > HIGHEST_PROTOCOL {
                        return None;
                    }
                    protocol.get_or_insert(p);
                    continue;
                }
                0x95 => {
                    let n = le!(u64, 8);
                    if n > (data.len() - pos) as u64 {
                        return None;
                    }
                    continue;
                }
                b'.' => {
                    let _ = top!();
                    self.pos = pos;
                    self.memo_entries = memo.len();
                    self.nodes = nodes;
                    self.items = items;
                    return Some((protocol, ops));
                }
                _ => return None,
            };
            // Push. The buffer grows only when full, and never past the stack budget (the
            // machine fails a push onto a stack of `max_stack` values).
            if sp < stack.len() {
                stack[sp] = kind;
            } else {
                if sp >= max_stack {
                    return None;
                }
                let grown = stack.len().saturating_mul(2).clamp(sp + 1, max_stack);
                stack.resize(grown, 0);
                *stack.get_mut(sp)? = kind;
            }
            sp += 1;
        }
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

/// Whether every kind is hashable: they all lie below `UNHASHABLE` (8), so their OR does too,
/// and any other kind sets a bit of 8 or above.
#[inline]
fn all_hashable(items: &[u8]) -> bool {
    items.iter().fold(0, |a, &k| a | k) < UNHASHABLE
}

/// Whether every key of `key, value, key, value, ...` can be hashed.
#[inline]
fn keys_hashable(pairs: &[u8]) -> bool {
    pairs.iter().step_by(2).fold(0, |a, &k| a | k) < UNHASHABLE
}
