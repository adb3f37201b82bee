//! scikit-learn tree node records across 1.3 (knowledge: `sklearn-tree-node-dtype-*`).
//!
//! scikit-learn 1.3 added `missing_go_to_left` (u1 at byte 56, padded to 64) to the node
//! record, and `Tree.__setstate__` accepts only its own layout. The node dtype is pickled once
//! (`numpy.dtype('V56', False, True)` + BUILD with the names, the fields and the itemsize)
//! and fetched from the memo by every other tree, so the dtype is edited where it is defined
//! and every node array that uses it gets its records re-laid:
//! - 56 → 64: `'V56'` becomes `'V64'`, the name and the field `(dtype('u1'), 56)` are added,
//!   the itemsize becomes 64, and each record gets `missing_go_to_left` plus 7 zero bytes;
//! - 64 → 56: the reverse, the name and the field popped right after they are pushed (their
//!   memo stores stay, so no memo index moves), each record cut to 56 bytes.
//!
//! `missing_go_to_left` is what scikit-learn itself stores for a tree fitted without missing
//! values: 1 when the left child saw more samples than the right (`n_left > n_right`).
//!
//! The optional `values` repair: scikit-learn 1.4 stores class *fractions* in `tree_.value`
//! and no longer normalises in `predict_proba`, so a classifier tree pickled before 1.4 is
//! given fractions (each node's counts divided by their sum), which is what 1.4+ would have
//! stored for the same fit.
//!
//! Node data travels as BINBYTES (protocol 3+, via `_reconstruct` + BUILD), as
//! `_codecs.encode(text, 'latin1')` (protocol 2), as a BYTEARRAY8 for `_frombuffer`
//! (protocol 5), or as raw bytes after a joblib `NumpyArrayWrapper`.

use pickle::Opcode;

use crate::state::Note;
use crate::state::walk::{Entry, Kind, Slot, Walk};
use crate::stream::{Edits, Gap, Item, Stream, push_str};

const NAMES_56: [&str; 7] = [
    "left_child",
    "right_child",
    "feature",
    "threshold",
    "impurity",
    "n_node_samples",
    "weighted_n_node_samples",
];
const MGL: &str = "missing_go_to_left";

/// Which way to re-lay the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    To64,
    To56,
}

/// Where an array's bytes are.
enum Data {
    /// A bytes/bytearray op.
    Op(usize),
    /// `_codecs.encode(text, 'latin1')`: the text op.
    Latin1(usize),
    /// A joblib gap item.
    Gap(usize),
}

struct DtypeDef {
    node: u32,
    v_slot: Slot,
    names: Slot,
    fields: Slot,
    itemsize: Slot,
}

fn find_dtype(w: &Walk, from: usize) -> Option<DtypeDef> {
    for b in &w.builds {
        let Some(((m, n), args)) = w.call_of(b.target) else {
            continue;
        };
        if (m, n) != ("numpy", "dtype") {
            continue;
        }
        let Some((a, _)) = w.tuple_of(args) else {
            continue;
        };
        let Some(v) = a.first() else { continue };
        if w.str_of(*v) != Some(&format!("V{from}")) {
            continue;
        }
        let Some((st, _)) = w.tuple_of(b.state) else {
            continue;
        };
        if st.len() != 8 || w.int_of(st[5]) != Some(from as i64) {
            continue;
        }
        let Some((names, _)) = w.tuple_of(st[3]) else {
            continue;
        };
        let names: Vec<&str> = names.iter().filter_map(|s| w.str_of(*s)).collect();
        let want: Vec<&str> = if from == 56 {
            NAMES_56.to_vec()
        } else {
            NAMES_56.iter().copied().chain([MGL]).collect()
        };
        if names != want {
            continue;
        }
        return Some(DtypeDef {
            node: b.target,
            v_slot: *v,
            names: st[3],
            fields: st[4],
            itemsize: st[5],
        });
    }
    None
}

/// Every array whose dtype is `dtype`: where its bytes are.
fn arrays_of(w: &Walk, stream: &Stream<'_>, dtype: u32) -> Vec<Data> {
    let mut out = Vec::new();
    let data_of = |s: Slot| -> Option<Data> {
        match w.kind(s) {
            Kind::Bytes => Some(Data::Op(s.push)),
            Kind::Call { .. } => {
                let ((m, n), args) = w.call_of(s.node)?;
                if (m, n) != ("_codecs", "encode") {
                    return None;
                }
                let (a, _) = w.tuple_of(args)?;
                let text = a.first()?;
                w.str_of(*text)?;
                Some(Data::Latin1(text.push))
            }
            _ => None,
        }
    };
    for b in &w.builds {
        // _reconstruct(...) + BUILD (1, shape, dtype, fortran, data)
        if let Some((st, _)) = w.tuple_of(b.state)
            && st.len() == 5
            && st[2].node == dtype
            && let Some(((_, n), _)) = w.call_of(b.target)
            && n == "_reconstruct"
            && let Some(d) = data_of(st[4])
        {
            out.push(d);
        }
        // joblib: NumpyArrayWrapper + BUILD {..., 'dtype': dtype}, data right after.
        if let Some(e) = w.dict_get(b.state, "dtype")
            && e.value.node == dtype
            && let Some(((_, n), _)) = w.call_of(b.target)
            && n == "NumpyArrayWrapper"
            && let Some(Item::Gap(Gap::AlignedArray { .. } | Gap::Raw { .. })) =
                stream.items().get(b.op + 1)
        {
            out.push(Data::Gap(b.op + 1));
        }
    }
    // _frombuffer(bytearray, dtype, shape, order)
    for node in 0..w.nodes.len() as u32 {
        if let Some(((_, n), args)) = w.call_of(node)
            && n == "_frombuffer"
            && let Some((a, _)) = w.tuple_of(args)
            && a.len() == 4
            && a[1].node == dtype
            && let Some(d) = data_of(a[0])
        {
            out.push(d);
        }
    }
    out
}

fn read_bytes(stream: &Stream<'_>, d: &Data) -> Option<Vec<u8>> {
    match *d {
        Data::Op(i) => match stream.items()[i] {
            Item::Op(op) => match op.arg {
                pickle::Arg::Bytes(b) => Some(b.to_vec()),
                _ => None,
            },
            _ => None,
        },
        Data::Latin1(i) => match stream.items()[i] {
            Item::Op(op) => match op.arg {
                pickle::Arg::Bytes(b) => std::str::from_utf8(b)
                    .ok()?
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect(),
                _ => None,
            },
            _ => None,
        },
        Data::Gap(i) => match stream.items()[i] {
            Item::Gap(Gap::AlignedArray {
                data_start,
                data_end,
                ..
            })
            | Item::Gap(Gap::Raw {
                start: data_start,
                end: data_end,
            }) => Some(stream.data()[data_start..data_end].to_vec()),
            _ => None,
        },
    }
}

fn write_bytes(stream: &Stream<'_>, d: &Data, bytes: Vec<u8>, edits: &mut Edits) {
    match *d {
        Data::Op(i) => {
            let Item::Op(op) = stream.items()[i] else {
                return;
            };
            let mut out = Vec::with_capacity(bytes.len() + 9);
            if op.opcode == Opcode::BYTEARRAY8 {
                out.push(Opcode::BYTEARRAY8.byte());
                out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            } else if let Ok(n) = u8::try_from(bytes.len()) {
                out.push(Opcode::SHORT_BINBYTES.byte());
                out.push(n);
            } else if let Ok(n) = u32::try_from(bytes.len()) {
                out.push(Opcode::BINBYTES.byte());
                out.extend_from_slice(&n.to_le_bytes());
            } else {
                out.push(Opcode::BINBYTES8.byte());
                out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            }
            out.extend_from_slice(&bytes);
            edits.replace(i, out);
        }
        Data::Latin1(i) => {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            let mut out = vec![Opcode::BINUNICODE.byte()];
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
            edits.replace(i, out);
        }
        Data::Gap(i) => edits.replace_gap_data(i, bytes),
    }
}

fn i64_at(rec: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(rec[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// Re-lays node records; `None` when the length is not a whole number of records.
fn relayout(data: &[u8], dir: Direction) -> Option<Vec<u8>> {
    match dir {
        Direction::To64 => {
            if !data.len().is_multiple_of(56) {
                return None;
            }
            let recs: Vec<&[u8]> = data.chunks_exact(56).collect();
            let samples = |i: i64| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| recs.get(i))
                    .map_or(0, |r| i64_at(r, 40))
            };
            let mut out = Vec::with_capacity(recs.len() * 64);
            for r in &recs {
                let (left, right) = (i64_at(r, 0), i64_at(r, 8));
                let mgl = u8::from(left != -1 && samples(left) > samples(right));
                out.extend_from_slice(r);
                out.push(mgl);
                out.extend_from_slice(&[0; 7]);
            }
            Some(out)
        }
        Direction::To56 => {
            if !data.len().is_multiple_of(64) {
                return None;
            }
            Some(
                data.chunks_exact(64)
                    .flat_map(|r| r[..56].to_vec())
                    .collect(),
            )
        }
    }
}

/// Pushes a string the way the stream's protocol can read.
pub(crate) fn push_text(out: &mut Vec<u8>, protocol: u8, s: &str) {
    if protocol >= 4 {
        push_str(out, s);
    } else {
        out.push(Opcode::BINUNICODE.byte());
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
}

pub(crate) fn apply(
    w: &Walk,
    stream: &Stream<'_>,
    id: &str,
    dir: Direction,
    edits: &mut Edits,
    done: &mut Vec<Note>,
) {
    let (from, to) = match dir {
        Direction::To64 => (56, 64),
        Direction::To56 => (64, 56),
    };
    let Some(def) = find_dtype(w, from) else {
        return;
    };
    if w.protocol < 2 {
        return;
    }
    let arrays = arrays_of(w, stream, def.node);
    // Re-lay every array first: if one cannot be read, change nothing.
    let mut new_data = Vec::new();
    for d in &arrays {
        let Some(old) = read_bytes(stream, d) else {
            return;
        };
        let Some(new) = relayout(&old, dir) else {
            return;
        };
        new_data.push(new);
    }
    let Kind::Dict(entries) = w.kind(def.fields) else {
        return;
    };
    let Some((names, names_op)) = w.tuple_of(def.names) else {
        return;
    };
    let Some(last_entry) = entries.last().copied() else {
        return;
    };
    // The dtype's own string, then the itemsize.
    let mut b = vec![Opcode::POP.byte()];
    push_text(&mut b, w.protocol, &format!("V{to}"));
    edits.insert_after(def.v_slot.after, &b);
    let mut size = vec![Opcode::POP.byte()];
    size.extend_from_slice(&[Opcode::BININT1.byte(), to as u8]);
    edits.insert_after(def.itemsize.after, &size);
    match dir {
        Direction::To64 => {
            let mut name = Vec::new();
            push_text(&mut name, w.protocol, MGL);
            edits.insert_before(names_op.op, &name);
            edits.insert_after(last_entry.op, &u1_field(w.protocol));
        }
        Direction::To56 => {
            let Some(n) = names.iter().find(|s| w.str_of(**s) == Some(MGL)) else {
                return;
            };
            edits.insert_after(n.after, &[Opcode::POP.byte()]);
            let Some(e) = entries.iter().find(|e| w.str_of(e.key) == Some(MGL)) else {
                return;
            };
            drop_entry(e, edits);
        }
    }
    for (d, new) in arrays.iter().zip(new_data) {
        write_bytes(stream, d, new, edits);
    }
    done.push(Note {
        id: id.to_owned(),
        item: w.origin[def.node as usize],
        what: format!(
            "tree node dtype V{from} -> V{to} ({}), {} node arrays re-laid",
            match dir {
                Direction::To64 => "missing_go_to_left = n_left > n_right",
                Direction::To56 => "missing_go_to_left dropped",
            },
            arrays.len()
        ),
    });
}

/// Pops a dict entry right after its key and value are pushed (SETITEMS), or turns its
/// SETITEM into two POPs.
pub(crate) fn drop_entry(e: &Entry, edits: &mut Edits) {
    if e.opcode == Opcode::SETITEM {
        edits.replace(e.op, vec![Opcode::POP.byte(), Opcode::POP.byte()]);
    } else {
        edits.insert_after(e.key.after, &[Opcode::POP.byte()]);
        edits.insert_after(e.value.after, &[Opcode::POP.byte()]);
    }
}

/// `'missing_go_to_left': (numpy.dtype('u1', False, True) with its BUILD state, 56)` as a
/// SETITEM on the fields dict.
fn u1_field(protocol: u8) -> Vec<u8> {
    let mut b = Vec::new();
    push_text(&mut b, protocol, MGL);
    b.push(Opcode::GLOBAL.byte());
    b.extend_from_slice(b"numpy\ndtype\n");
    push_text(&mut b, protocol, "u1");
    b.extend_from_slice(&[
        Opcode::NEWFALSE.byte(),
        Opcode::NEWTRUE.byte(),
        Opcode::TUPLE3.byte(),
        Opcode::REDUCE.byte(),
        Opcode::MARK.byte(),
        Opcode::BININT1.byte(),
        3,
    ]);
    push_text(&mut b, protocol, "|");
    b.extend_from_slice(&[
        Opcode::NONE.byte(),
        Opcode::NONE.byte(),
        Opcode::NONE.byte(),
    ]);
    b.push(Opcode::BININT.byte());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.push(Opcode::BININT.byte());
    b.extend_from_slice(&(-1i32).to_le_bytes());
    b.extend_from_slice(&[
        Opcode::BININT1.byte(),
        0,
        Opcode::TUPLE.byte(),
        Opcode::BUILD.byte(),
        Opcode::BININT1.byte(),
        56,
        Opcode::TUPLE2.byte(),
        Opcode::SETITEM.byte(),
    ]);
    b
}

/// Divides each node's class counts by their sum (scikit-learn >= 1.4 stores fractions).
pub(crate) fn normalize_values(
    w: &Walk,
    stream: &Stream<'_>,
    id: &str,
    edits: &mut Edits,
    done: &mut Vec<Note>,
) {
    let mut count = 0;
    let mut first = None;
    for b in &w.builds {
        let Some(((m, n), _)) = w.call_of(b.target) else {
            continue;
        };
        if (m, n) != ("sklearn.tree._tree", "Tree") {
            continue;
        }
        let Some(values) = w.dict_get(b.state, "values") else {
            continue;
        };
        let Some((data, classes)) = array_data(w, stream, values.value) else {
            continue;
        };
        if classes < 2 {
            continue;
        }
        let Some(old) = read_bytes(stream, &data) else {
            continue;
        };
        if !old.len().is_multiple_of(8 * classes) {
            continue;
        }
        let mut new = Vec::with_capacity(old.len());
        for row in old.chunks_exact(8 * classes) {
            let v: Vec<f64> = row
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            // numpy sums fewer than 8 elements left to right.
            let sum: f64 = v.iter().fold(0.0, |a, x| a + x);
            for x in v {
                let y = if sum == 0.0 { x } else { x / sum };
                new.extend_from_slice(&y.to_le_bytes());
            }
        }
        write_bytes(stream, &data, new, edits);
        count += 1;
        first.get_or_insert(b.op);
    }
    if let Some(item) = first {
        done.push(Note {
            id: id.to_owned(),
            item,
            what: format!("{count} classifier trees: node class counts stored as fractions"),
        });
    }
}

/// An array value's data and the length of its last axis (f8 arrays only).
fn array_data(w: &Walk, stream: &Stream<'_>, arr: Slot) -> Option<(Data, usize)> {
    let last = |shape: Slot| -> Option<usize> {
        let (dims, _) = w.tuple_of(shape)?;
        usize::try_from(w.int_of(*dims.last()?)?).ok()
    };
    let f8 = |dtype: Slot| -> bool {
        w.builds.iter().any(|b| {
            b.target == dtype.node
                && w.call_of(b.target).is_some_and(|((m, n), args)| {
                    (m, n) == ("numpy", "dtype")
                        && w.tuple_of(args)
                            .and_then(|(a, _)| a.first().and_then(|s| w.str_of(*s)))
                            == Some("f8")
                })
        })
    };
    // _reconstruct + BUILD
    for b in w.builds.iter().filter(|b| b.target == arr.node) {
        if let Some((st, _)) = w.tuple_of(b.state)
            && st.len() == 5
            && f8(st[2])
        {
            let data = match w.kind(st[4]) {
                Kind::Bytes => Data::Op(st[4].push),
                Kind::Call { .. } => {
                    let (_, args) = w.call_of(st[4].node)?;
                    Data::Latin1(w.tuple_of(args)?.0.first()?.push)
                }
                _ => return None,
            };
            return Some((data, last(st[1])?));
        }
        if let Some(e) = w.dict_get(b.state, "dtype")
            && f8(e.value)
            && let Some(Item::Gap(Gap::AlignedArray { .. } | Gap::Raw { .. })) =
                stream.items().get(b.op + 1)
        {
            let shape = w.dict_get(b.state, "shape")?;
            return Some((Data::Gap(b.op + 1), last(shape.value)?));
        }
    }
    // _frombuffer(buf, dtype, shape, order)
    if let Some(((_, n), args)) = w.call_of(arr.node)
        && n == "_frombuffer"
        && let Some((a, _)) = w.tuple_of(args)
        && a.len() == 4
        && f8(a[1])
        && matches!(w.kind(a[0]), Kind::Bytes)
    {
        return Some((Data::Op(a[0].push), last(a[2])?));
    }
    None
}
