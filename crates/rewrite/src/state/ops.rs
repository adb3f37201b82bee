//! Small op sequences the scikit-learn state repairs insert.

use pickle::Opcode;

use crate::state::tree_nodes::push_text;
use crate::state::walk::{Slot, Walk};
use crate::stream::{Edits, Item, Stream};

/// `GET idx` in its shortest binary form.
pub(crate) fn get(idx: u64) -> Option<Vec<u8>> {
    if let Ok(n) = u8::try_from(idx) {
        Some(vec![Opcode::BINGET.byte(), n])
    } else {
        let n = u32::try_from(idx).ok()?;
        let mut b = vec![Opcode::LONG_BINGET.byte()];
        b.extend_from_slice(&n.to_le_bytes());
        Some(b)
    }
}

/// A float, as BINFLOAT (big-endian, as pickle writes it).
pub(crate) fn float(x: f64) -> Vec<u8> {
    let mut b = vec![Opcode::BINFLOAT.byte()];
    b.extend_from_slice(&x.to_be_bytes());
    b
}

/// A small non-negative int.
pub(crate) fn int(n: i64) -> Option<Vec<u8>> {
    if let Ok(n) = u8::try_from(n) {
        Some(vec![Opcode::BININT1.byte(), n])
    } else {
        let n = i32::try_from(n).ok()?;
        let mut b = vec![Opcode::BININT.byte()];
        b.extend_from_slice(&n.to_le_bytes());
        Some(b)
    }
}

/// `GLOBAL module name` (readable by every protocol, unlike STACK_GLOBAL).
pub(crate) fn global(module: &str, name: &str) -> Vec<u8> {
    let mut b = vec![Opcode::GLOBAL.byte()];
    b.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    b
}

/// Sets `key: value` on the dict `state` after its last entry (or right after it is
/// pushed, when it has none): the dict is on top of the stack at both places.
pub(crate) fn add_entry(
    w: &Walk,
    state: Slot,
    key: &str,
    value: &[u8],
    edits: &mut Edits,
) -> Option<()> {
    let entries = w.entries_of(state)?;
    let after = match entries.last() {
        Some(e) => e.op,
        None => state.after,
    };
    let mut b = Vec::new();
    push_text(&mut b, w.protocol, key);
    b.extend_from_slice(value);
    b.push(Opcode::SETITEM.byte());
    edits.insert_after(after, &b);
    Some(())
}

/// The opcode of the op at `item`.
pub(crate) fn opcode_at(stream: &Stream<'_>, item: usize) -> Option<Opcode> {
    match stream.items().get(item)? {
        Item::Op(op) => Some(op.opcode),
        _ => None,
    }
}

/// Makes the global pushed at `origin` (a GLOBAL, or a STACK_GLOBAL whose two strings are
/// popped) push `module.name` instead; memo stores after it stay where they are.
pub(crate) fn replace_global(
    stream: &Stream<'_>,
    origin: usize,
    module: &str,
    name: &str,
    edits: &mut Edits,
) -> Option<()> {
    let mut b = match opcode_at(stream, origin)? {
        Opcode::GLOBAL => Vec::new(),
        Opcode::STACK_GLOBAL => vec![Opcode::POP.byte(), Opcode::POP.byte()],
        _ => return None,
    };
    b.extend_from_slice(&global(module, name));
    edits.replace(origin, b);
    Some(())
}
