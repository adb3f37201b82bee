//! The value graph the symbolic machine builds.
//!
//! Small scalars live inline in [`Value`]; everything with identity (containers, strings,
//! globals, calls) is a [`Node`] in one arena, referred to by [`NodeId`]. Sharing through the
//! memo therefore stays sharing, cycles stay cycles, and a "billion laughs" of DUP/GET costs one
//! id per reference instead of a copy.

use std::borrow::Cow;

use pickle::Opcode;

/// Index of a node in the [`crate::Trace`] arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The arena index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A value on the stack, in the memo or inside a container.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits in 64 bits (larger ones are [`Node::BigInt`]).
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything else.
    Node(NodeId),
}

impl Value {
    /// The node this value refers to, if any.
    #[must_use]
    pub fn node(self) -> Option<NodeId> {
        match self {
            Value::Node(n) => Some(n),
            _ => None,
        }
    }
}

/// How an object came to be: the opcode that called the callable or class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `callable(*args)`.
    Reduce,
    /// `cls.__new__(cls, *args)`.
    NewObj,
    /// `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx,
    /// Protocol 1 `OBJ`: `cls(*args)` (or `cls.__new__(cls)` when there are no args).
    Obj,
    /// Protocol 0 `INST`: like OBJ with the class named inline.
    Inst,
}

impl CallKind {
    /// A short lowercase name, used in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Reduce => "reduce",
            CallKind::NewObj => "newobj",
            CallKind::NewObjEx => "newobj_ex",
            CallKind::Obj => "obj",
            CallKind::Inst => "inst",
        }
    }
}

/// The result of calling something, with everything later done to it.
///
/// BUILD, APPEND(S), SETITEM(S) and ADDITEMS on an object keep its identity (everything holding
/// a reference sees the change), so they are recorded on the object rather than as new nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Which opcode made it.
    pub kind: CallKind,
    /// The callable or class.
    pub callable: Value,
    /// The positional-argument tuple (a list of values for OBJ and INST).
    pub args: Value,
    /// NEWOBJ_EX keyword arguments.
    pub kwargs: Option<Value>,
    /// Offset of the calling opcode.
    pub offset: u64,
    /// States passed by BUILD, in order.
    pub state: Vec<Value>,
    /// Offset of the BUILD op that passed each state (parallel to `state`).
    pub built_at: Vec<u64>,
    /// Items added by APPEND/APPENDS (`.append` / `.extend`) or ADDITEMS (`.add`).
    pub items: Vec<Value>,
    /// Pairs set by SETITEM/SETITEMS (`__setitem__`).
    pub dict_items: Vec<(Value, Value)>,
}

/// A module or attribute name of a global: a literal string, or a value computed at load time.
#[derive(Debug, Clone, PartialEq)]
pub enum Name<'a> {
    /// Known from the bytes.
    Literal(Cow<'a, str>),
    /// STACK_GLOBAL got something other than a literal string (for example the result of a call).
    Dynamic(Value),
}

impl Name<'_> {
    /// The literal text, or `None` when dynamic.
    #[must_use]
    pub fn literal(&self) -> Option<&str> {
        match self {
            Name::Literal(s) => Some(s),
            Name::Dynamic(_) => None,
        }
    }
}

/// Bit set of the ways a global is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Uses(u8);

impl Uses {
    /// Called by REDUCE.
    pub const CALLED: Uses = Uses(1);
    /// Instantiated by NEWOBJ, NEWOBJ_EX, OBJ or INST.
    pub const INSTANTIATED: Uses = Uses(2);
    /// An object made from it was given state by BUILD (its `__setstate__` runs), or BUILD
    /// was applied to it directly.
    pub const BUILT: Uses = Uses(4);
    /// Passed inside the arguments of a call.
    pub const ARGUMENT: Uses = Uses(8);

    /// Adds a use.
    pub fn insert(&mut self, u: Uses) {
        self.0 |= u.0;
    }

    /// Whether `u` is among the uses.
    #[must_use]
    pub fn contains(self, u: Uses) -> bool {
        self.0 & u.0 == u.0
    }

    /// Names of the uses; `["referenced"]` when the global is only referenced.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (u, n) in [
            (Uses::CALLED, "called"),
            (Uses::INSTANTIATED, "instantiated"),
            (Uses::BUILT, "built"),
            (Uses::ARGUMENT, "argument"),
        ] {
            if self.contains(u) {
                v.push(n);
            }
        }
        if v.is_empty() {
            v.push("referenced");
        }
        v
    }
}

/// A global reference (GLOBAL, STACK_GLOBAL or INST), in load order.
#[derive(Debug, Clone, PartialEq)]
pub struct Global<'a> {
    /// The module.
    pub module: Name<'a>,
    /// The (possibly dotted) attribute name.
    pub name: Name<'a>,
    /// Offset of the opcode that named it.
    pub offset: u64,
    /// GLOBAL, STACK_GLOBAL or INST.
    pub opcode: Opcode,
    /// Index of the pickle in the stream.
    pub pickle: usize,
    /// The node standing for it.
    pub node: NodeId,
    /// How it is used.
    pub uses: Uses,
    /// The protocol in effect when it was named: the last PROTO before it in its pickle, 0
    /// without one. `find_class` maps Python 2 names (`_compat_pickle`) below protocol 3.
    pub protocol: u8,
}

impl Global<'_> {
    /// Whether module or name is computed at load time.
    #[must_use]
    pub fn is_dynamic(&self) -> bool {
        matches!(self.module, Name::Dynamic(_)) || matches!(self.name, Name::Dynamic(_))
    }

    /// `(module, name)` when both are literal.
    #[must_use]
    pub fn literal(&self) -> Option<(&str, &str)> {
        Some((self.module.literal()?, self.name.literal()?))
    }

    /// `module.name`, with `<dynamic>` for computed parts.
    #[must_use]
    pub fn dotted(&self) -> String {
        format!(
            "{}.{}",
            self.module.literal().unwrap_or("<dynamic>"),
            self.name.literal().unwrap_or("<dynamic>")
        )
    }
}

/// A node of the value graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// An int too large for `i64`: little-endian two's complement bytes.
    BigInt(Cow<'a, [u8]>),
    /// A `str`, as generalized UTF-8 (see `pickle::text`).
    Str(Cow<'a, [u8]>),
    /// A `bytes`.
    Bytes(Cow<'a, [u8]>),
    /// A `bytearray`.
    ByteArray(Cow<'a, [u8]>),
    /// A `list`.
    List(Vec<Value>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `dict`, in insertion order (later duplicates of a key are kept as written).
    Dict(Vec<(Value, Value)>),
    /// A `set`.
    Set(Vec<Value>),
    /// A `frozenset`.
    FrozenSet(Vec<Value>),
    /// A global; the index into [`crate::Trace::globals`].
    Global(u32),
    /// The result of a call.
    Object(Box<Object>),
    /// What `persistent_load(pid)` returns.
    PersistentId {
        /// The persistent id.
        pid: Value,
        /// Offset of PERSID/BINPERSID.
        offset: u64,
    },
    /// What the copyreg extension registry maps `code` to.
    Ext {
        /// The extension code.
        code: i64,
        /// Offset of EXT1/EXT2/EXT4.
        offset: u64,
    },
    /// An out-of-band buffer (NEXT_BUFFER): the `index`-th item of `buffers=`.
    Buffer {
        /// Position in the out-of-band buffer sequence.
        index: u64,
        /// Offset of NEXT_BUFFER.
        offset: u64,
    },
    /// A read-only memoryview of a value (READONLY_BUFFER).
    ReadOnly(Value),
}

impl Node<'_> {
    /// Python's type name for builtin nodes, or a description for symbolic ones.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::BigInt(_) => "int",
            Node::Str(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(_) => "dict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global(_) => "global",
            Node::Object(_) => "object",
            Node::PersistentId { .. } => "persistent id",
            Node::Ext { .. } => "extension",
            Node::Buffer { .. } => "buffer",
            Node::ReadOnly(_) => "memoryview",
        }
    }

    /// Calls `f` on every value this node refers to, in a stable order.
    pub fn for_each_child(&self, mut f: impl FnMut(Value)) {
        match self {
            Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                v.iter().copied().for_each(f);
            }
            Node::Dict(v) => {
                for &(k, x) in v {
                    f(k);
                    f(x);
                }
            }
            Node::Object(o) => {
                f(o.callable);
                f(o.args);
                if let Some(k) = o.kwargs {
                    f(k);
                }
                o.state.iter().copied().for_each(&mut f);
                o.items.iter().copied().for_each(&mut f);
                for &(k, x) in &o.dict_items {
                    f(k);
                    f(x);
                }
            }
            Node::PersistentId { pid, .. } => f(*pid),
            Node::ReadOnly(v) => f(*v),
            Node::BigInt(_)
            | Node::Str(_)
            | Node::Bytes(_)
            | Node::ByteArray(_)
            | Node::Global(_)
            | Node::Ext { .. }
            | Node::Buffer { .. } => {}
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn compact_layout() {
        eprintln!(
            "Value {} Option<Value> {} Node {}",
            std::mem::size_of::<Value>(),
            std::mem::size_of::<Option<Value>>(),
            std::mem::size_of::<Node<'_>>()
        );
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }
}
