//! scikit-learn's Cython loss objects across releases (knowledge:
//! `sklearn-cyloss-pyx-unpickle-removed`).
//!
//! Up to 1.5, Cython pickles `sklearn._loss._loss.CyX` as
//! `__pyx_unpickle_CyX(CyX, checksum, state)`: a helper that 1.6 removed (only
//! `CyHalfMultinomialLoss` kept it), and whose checksum is tied to the Cython that built the
//! release. 1.6+ reduces them to `CyX(*state)`; the old `state` tuple is exactly the
//! constructor's arguments (`()`, `(quantile,)` for CyPinballLoss, `(delta,)` for
//! CyHuberLoss, `(power,)` for the Tweedie losses). So each helper call becomes a call of
//! the class itself, which loads in every release from 1.1 on:
//! - the helper's global is replaced where it is pushed by the class's global (later memo
//!   fetches of it are calls of the same helper, so they get the class too);
//! - `POP` after the class argument and after the checksum, and the args TUPLE3 removed,
//!   so that REDUCE calls the class with the state tuple.
//!
//! The Python loss object holding it (`sklearn._loss.loss.X`, made by `cls.__new__(cls)`)
//! is then called instead (NEWOBJ → REDUCE with its empty args): its constructor sets the
//! attributes the target's release has (1.9 added `xp` and `device`), and the pickled
//! state, applied by the BUILD that follows, overrides the rest as before.

use std::collections::HashMap;

use pickle::Opcode;

use crate::state::Note;
use crate::state::ops::{opcode_at, replace_global};
use crate::state::walk::{Kind, Walk};
use crate::stream::{Edits, Stream};

const MODULE: &str = "sklearn._loss._loss";
const HELPER: &str = "__pyx_unpickle_";

pub(crate) fn apply(
    w: &Walk,
    stream: &Stream<'_>,
    id: &str,
    edits: &mut Edits,
    done: &mut Vec<Note>,
) {
    let mut globals: HashMap<u32, String> = HashMap::new();
    let mut calls = Vec::new();
    for node in 0..w.nodes.len() as u32 {
        let Kind::Call { callable, args } = w.kind_of(node) else {
            continue;
        };
        let Some((m, n)) = w.global_of(*callable) else {
            continue;
        };
        let Some(class) = n.strip_prefix(HELPER) else {
            continue;
        };
        if m != MODULE || !class.starts_with("Cy") {
            continue;
        }
        let Some((items, tuple)) = w.tuple_of(*args) else {
            return;
        };
        if items.len() != 3
            || args.push != tuple.op
            || w.global_of(items[0]) != Some((MODULE, class))
            || w.int_of(items[1]).is_none()
            || w.tuple_of(items[2]).is_none()
            || opcode_at(stream, w.origin[node as usize]) != Some(Opcode::REDUCE)
        {
            return;
        }
        if globals
            .insert(callable.node, class.to_owned())
            .is_some_and(|c| c != class)
        {
            return;
        }
        calls.push((node, items[0], items[1], tuple));
    }
    if calls.is_empty() {
        return;
    }
    for (g, class) in &globals {
        if replace_global(stream, w.origin[*g as usize], MODULE, class, edits).is_none() {
            return;
        }
    }
    let mut first = None;
    for (node, class_arg, checksum, tuple) in &calls {
        edits.insert_after(class_arg.after, &[Opcode::POP.byte()]);
        edits.insert_after(checksum.after, &[Opcode::POP.byte()]);
        edits.replace(tuple.op, Vec::new());
        if let Some(mark) = tuple.mark {
            edits.replace(mark, Vec::new());
        }
        first.get_or_insert(w.origin[*node as usize]);
    }
    // The Python loss objects holding them, called rather than `__new__`ed.
    let cy: Vec<u32> = calls.iter().map(|c| c.0).collect();
    let mut called = 0;
    for b in &w.builds {
        let Some(e) = w.dict_get(b.state, "closs") else {
            continue;
        };
        if !cy.contains(&e.value.node) {
            continue;
        }
        let Kind::Call { callable, args } = w.kind_of(b.target) else {
            continue;
        };
        if w.global_of(*callable).map(|g| g.0) != Some("sklearn._loss.loss") {
            continue;
        }
        let newobj = w.origin[b.target as usize];
        if opcode_at(stream, newobj) != Some(Opcode::NEWOBJ)
            || !w.tuple_of(*args).is_some_and(|(a, _)| a.is_empty())
        {
            continue;
        }
        edits.replace(newobj, vec![Opcode::REDUCE.byte()]);
        called += 1;
    }
    if let Some(item) = first {
        let mut names: Vec<&str> = globals.values().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        done.push(Note {
            id: id.to_owned(),
            item,
            what: format!(
                "{} Cython losses ({}) called with their state instead of {HELPER}*; {called} loss objects called",
                calls.len(),
                names.join(", ")
            ),
        });
    }
}
