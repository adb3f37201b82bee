//! A small structural walk of a stream for state-level repairs: which op pushed each value,
//! what tuples, calls and dicts were built from which values, and which BUILD applied which
//! state to which object.
//!
//! Unlike the symbolic machine in `vm`, every value remembers *where* it was pushed, so a
//! repair can insert ops right after a push (after its memo store, so that memo indices do
//! not move) or replace the op that holds some bytes.

use std::collections::HashMap;

use pickle::{Arg, Opcode};

use crate::stream::{Stream, for_each_op};

/// A value on the stack: the node it is, the op that pushed it here, and the item after
/// which a replacement for it can be inserted (the push, or the memo store right after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) node: u32,
    pub(crate) push: usize,
    pub(crate) after: usize,
}

/// How a tuple was built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TupleOp {
    /// The TUPLE/TUPLE1/2/3 op.
    pub(crate) op: usize,
    /// The MARK, for `MARK ... TUPLE`.
    pub(crate) mark: Option<usize>,
}

/// One `key: value` set into a dict, and the SETITEM(S) op that did it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) key: Slot,
    pub(crate) value: Slot,
    pub(crate) op: usize,
    pub(crate) opcode: Opcode,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Str(String),
    /// A bytes or bytearray op at this item.
    Bytes,
    Int(i64),
    /// A BINFLOAT: its value.
    Float(f64),
    None,
    Global(String, String),
    Tuple(Vec<Slot>, TupleOp),
    /// REDUCE or NEWOBJ.
    Call {
        callable: Slot,
        args: Slot,
    },
    Dict(Vec<Entry>),
    Other,
}

/// A BUILD: `state` applied to `target` at item `op`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Build {
    pub(crate) target: u32,
    pub(crate) state: Slot,
    pub(crate) op: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub(crate) nodes: Vec<Kind>,
    /// Item of the op that created each node.
    pub(crate) origin: Vec<usize>,
    pub(crate) builds: Vec<Build>,
    /// The highest protocol seen (PROTO ops).
    pub(crate) protocol: u8,
    /// The first memo index each memoized node was stored at.
    pub(crate) memo_of: HashMap<u32, u64>,
}

#[derive(Default)]
struct Frame {
    /// `None` is a MARK.
    stack: Vec<Option<Slot>>,
    /// The items of the MARKs on the stack, innermost last.
    marks: Vec<usize>,
    memo: HashMap<u64, Slot>,
}

impl Walk {
    pub(crate) fn kind_of(&self, node: u32) -> &Kind {
        &self.nodes[node as usize]
    }

    pub(crate) fn kind(&self, s: Slot) -> &Kind {
        &self.nodes[s.node as usize]
    }

    pub(crate) fn str_of(&self, s: Slot) -> Option<&str> {
        match self.kind(s) {
            Kind::Str(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn int_of(&self, s: Slot) -> Option<i64> {
        match self.kind(s) {
            Kind::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn float_of(&self, s: Slot) -> Option<f64> {
        match self.kind(s) {
            Kind::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// The entries of a dict value.
    pub(crate) fn entries_of(&self, s: Slot) -> Option<&[Entry]> {
        match self.kind(s) {
            Kind::Dict(e) => Some(e),
            _ => None,
        }
    }

    /// The class a NEWOBJ object (`cls.__new__(cls)`, what copyreg does for plain objects
    /// at protocol 2+) or a REDUCE call was made from.
    pub(crate) fn class_of(&self, node: u32) -> Option<(&str, &str)> {
        self.call_of(node).map(|(g, _)| g)
    }

    pub(crate) fn global_of(&self, s: Slot) -> Option<(&str, &str)> {
        match self.kind(s) {
            Kind::Global(m, n) => Some((m, n)),
            _ => None,
        }
    }

    pub(crate) fn tuple_of(&self, s: Slot) -> Option<(&[Slot], TupleOp)> {
        match self.kind(s) {
            Kind::Tuple(items, op) => Some((items, *op)),
            _ => None,
        }
    }

    /// `(callable global, args)` of a REDUCE/NEWOBJ node.
    pub(crate) fn call_of(&self, node: u32) -> Option<((&str, &str), Slot)> {
        match &self.nodes[node as usize] {
            Kind::Call { callable, args } => Some((self.global_of(*callable)?, *args)),
            _ => None,
        }
    }

    /// The entry of a dict with a string key.
    pub(crate) fn dict_get(&self, s: Slot, key: &str) -> Option<&Entry> {
        match self.kind(s) {
            Kind::Dict(entries) => entries
                .iter()
                .rev()
                .find(|e| self.str_of(e.key) == Some(key)),
            _ => None,
        }
    }

    /// Every string set under `key` in any dict.
    pub(crate) fn str_values_of<'w>(&'w self, key: &'w str) -> impl Iterator<Item = &'w str> {
        self.nodes.iter().flat_map(move |k| match k {
            Kind::Dict(entries) => entries
                .iter()
                .filter(|e| self.str_of(e.key) == Some(key))
                .filter_map(|e| self.str_of(e.value))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    fn add(&mut self, kind: Kind, item: usize) -> Slot {
        let node = self.nodes.len() as u32;
        self.nodes.push(kind);
        self.origin.push(item);
        Slot {
            node,
            push: item,
            after: item,
        }
    }
}

fn text(op: Opcode, arg: Arg<'_>) -> Option<String> {
    match (op, arg) {
        (Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE | Opcode::BINUNICODE8, Arg::Bytes(b)) => {
            std::str::from_utf8(b).ok().map(str::to_owned)
        }
        (Opcode::SHORT_BINSTRING | Opcode::BINSTRING, Arg::Bytes(b)) if b.is_ascii() => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        _ => None,
    }
}

/// The index a PUT/GET names (binary or text form).
pub(crate) fn memo_index(arg: Arg<'_>) -> Option<u64> {
    match arg {
        Arg::UInt(n) => Some(n),
        Arg::Line(l) => std::str::from_utf8(l).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// Walks `stream`.
pub(crate) fn walk(stream: &Stream<'_>) -> Walk {
    let mut w = Walk::default();
    for_each_op(stream, |f: &mut Frame, i, op| {
        let pop = |f: &mut Frame| match f.stack.pop() {
            Some(Some(s)) => Some(s),
            Some(None) => {
                f.marks.pop();
                None
            }
            None => None,
        };
        let pop_mark = |f: &mut Frame| -> (Vec<Slot>, Option<usize>) {
            let mut items = Vec::new();
            let mut mark = None;
            while let Some(s) = f.stack.pop() {
                match s {
                    Some(s) => items.push(s),
                    None => {
                        mark = f.marks.pop();
                        break;
                    }
                }
            }
            items.reverse();
            (items, mark)
        };
        if let Some(t) = text(op.opcode, op.arg) {
            let s = w.add(Kind::Str(t), i);
            f.stack.push(Some(s));
            return;
        }
        match op.opcode {
            Opcode::PROTO => {
                if let Arg::UInt(n) = op.arg {
                    w.protocol = w.protocol.max(n as u8);
                }
            }
            Opcode::FRAME => {}
            Opcode::BINFLOAT => {
                let x = match op.arg {
                    Arg::Float(x) => x,
                    _ => f64::NAN,
                };
                let s = w.add(Kind::Float(x), i);
                f.stack.push(Some(s));
            }
            Opcode::NONE => {
                let s = w.add(Kind::None, i);
                f.stack.push(Some(s));
            }
            Opcode::SHORT_BINBYTES | Opcode::BINBYTES | Opcode::BINBYTES8 | Opcode::BYTEARRAY8 => {
                let s = w.add(Kind::Bytes, i);
                f.stack.push(Some(s));
            }
            Opcode::BININT1 | Opcode::BININT2 | Opcode::BININT => {
                let n = match op.arg {
                    Arg::UInt(n) => n as i64,
                    Arg::Int(n) => i64::from(n),
                    _ => 0,
                };
                let s = w.add(Kind::Int(n), i);
                f.stack.push(Some(s));
            }
            Opcode::GLOBAL => {
                let kind = match op.arg {
                    Arg::Lines(m, n) => match (std::str::from_utf8(m), std::str::from_utf8(n)) {
                        (Ok(m), Ok(n)) => Kind::Global(m.to_owned(), n.to_owned()),
                        _ => Kind::Other,
                    },
                    _ => Kind::Other,
                };
                let s = w.add(kind, i);
                f.stack.push(Some(s));
            }
            Opcode::STACK_GLOBAL => {
                let n = pop(f);
                let m = pop(f);
                let kind = match (m.and_then(|m| w.str_of(m)), n.and_then(|n| w.str_of(n))) {
                    (Some(m), Some(n)) => Kind::Global(m.to_owned(), n.to_owned()),
                    _ => Kind::Other,
                };
                let s = w.add(kind, i);
                f.stack.push(Some(s));
            }
            Opcode::EMPTY_TUPLE | Opcode::TUPLE1 | Opcode::TUPLE2 | Opcode::TUPLE3 => {
                let n = match op.opcode {
                    Opcode::TUPLE1 => 1,
                    Opcode::TUPLE2 => 2,
                    Opcode::TUPLE3 => 3,
                    _ => 0,
                };
                let mut items: Vec<Slot> = (0..n).filter_map(|_| pop(f)).collect();
                items.reverse();
                let s = w.add(Kind::Tuple(items, TupleOp { op: i, mark: None }), i);
                f.stack.push(Some(s));
            }
            Opcode::TUPLE => {
                let (items, mark) = pop_mark(f);
                let s = w.add(Kind::Tuple(items, TupleOp { op: i, mark }), i);
                f.stack.push(Some(s));
            }
            Opcode::EMPTY_DICT => {
                let s = w.add(Kind::Dict(Vec::new()), i);
                f.stack.push(Some(s));
            }
            Opcode::SETITEM => {
                let v = pop(f);
                let k = pop(f);
                if let (Some(k), Some(v), Some(Some(d))) = (k, v, f.stack.last())
                    && let Kind::Dict(e) = &mut w.nodes[d.node as usize]
                {
                    e.push(Entry {
                        key: k,
                        value: v,
                        op: i,
                        opcode: op.opcode,
                    });
                }
            }
            Opcode::SETITEMS => {
                let (items, _) = pop_mark(f);
                if let Some(Some(d)) = f.stack.last()
                    && let Kind::Dict(e) = &mut w.nodes[d.node as usize]
                {
                    for pair in items.chunks_exact(2) {
                        e.push(Entry {
                            key: pair[0],
                            value: pair[1],
                            op: i,
                            opcode: op.opcode,
                        });
                    }
                }
            }
            Opcode::REDUCE | Opcode::NEWOBJ => {
                let args = pop(f);
                let callable = pop(f);
                let kind = match (callable, args) {
                    (Some(callable), Some(args)) => Kind::Call { callable, args },
                    _ => Kind::Other,
                };
                let s = w.add(kind, i);
                f.stack.push(Some(s));
            }
            Opcode::BUILD => {
                let state = pop(f);
                if let (Some(state), Some(Some(t))) = (state, f.stack.last()) {
                    w.builds.push(Build {
                        target: t.node,
                        state,
                        op: i,
                    });
                }
            }
            Opcode::MEMOIZE | Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT => {
                let idx = if op.opcode == Opcode::MEMOIZE {
                    f.memo.len() as u64
                } else {
                    memo_index(op.arg).unwrap_or(u64::MAX)
                };
                if let Some(Some(top)) = f.stack.last_mut() {
                    if top.after + 1 == i {
                        top.after = i;
                    }
                    f.memo.insert(idx, *top);
                    w.memo_of.entry(top.node).or_insert(idx);
                }
            }
            Opcode::GET | Opcode::BINGET | Opcode::LONG_BINGET => {
                let got = memo_index(op.arg).and_then(|n| f.memo.get(&n).copied());
                let s = match got {
                    Some(s) => Slot {
                        node: s.node,
                        push: i,
                        after: i,
                    },
                    None => w.add(Kind::Other, i),
                };
                f.stack.push(Some(s));
            }
            Opcode::DUP => {
                let top = f.stack.last().copied().flatten();
                f.stack.push(top);
            }
            Opcode::MARK => {
                f.stack.push(None);
                f.marks.push(i);
            }
            Opcode::POP => {
                pop(f);
            }
            Opcode::POP_MARK => {
                pop_mark(f);
            }
            _ => {
                let e = op.opcode.stack_effect();
                if let Some(below) = e.mark_at {
                    pop_mark(f);
                    for _ in 0..below {
                        pop(f);
                    }
                } else {
                    for _ in 0..e.before {
                        pop(f);
                    }
                }
                for _ in 0..e.after {
                    let s = w.add(Kind::Other, i);
                    f.stack.push(Some(s));
                }
            }
        }
    });
    w
}
