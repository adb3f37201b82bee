//! numpy >= 2 random generators for numpy < 2 (knowledge: `numpy-bitgenerator-class-argument`).
//!
//! numpy 2 pickles `__bit_generator_ctor(<class MT19937>)` with BUILD state
//! `(state_dict, seed_seq)`, and `__randomstate_ctor(<bit generator>)` or
//! `__generator_ctor(<bit generator>)`. numpy 1.x looks the bit generator up by *name*,
//! takes a dict as its state, and its outer constructors take a name. Three edits, none of
//! which adds or removes a memo store:
//! - after the class is pushed: `POP` and push its name;
//! - the BUILD state tuple `(state_dict, seed_seq)`: its TUPLE2 becomes `POP`, leaving the
//!   dict (the seed sequence is built and dropped, as 1.x pickles never had one);
//! - after the outer constructor is pushed: `POP` and push `RandomState` or `Generator`
//!   themselves, which accept a bit generator instance in every numpy version.

use pickle::Opcode;

use crate::state::Note;
use crate::state::walk::{Kind, Walk};
use crate::stream::{Edits, push_str};

const PICKLE_MODULE: &str = "numpy.random._pickle";
const BIT_GENERATORS: [(&str, &str); 5] = [
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random._pcg64", "PCG64DXSM"),
    ("numpy.random._philox", "Philox"),
    ("numpy.random._sfc64", "SFC64"),
];

pub(crate) fn apply(w: &Walk, id: &str, edits: &mut Edits, done: &mut Vec<Note>) {
    let mut bitgens = Vec::new();
    for (node, _) in w.nodes.iter().enumerate() {
        let node = node as u32;
        let Some(((m, n), args)) = w.call_of(node) else {
            continue;
        };
        if (m, n) != (PICKLE_MODULE, "__bit_generator_ctor") {
            continue;
        }
        let Some(([class], _)) = w.tuple_of(args) else {
            continue;
        };
        let Some(g) = w.global_of(*class) else {
            continue;
        };
        let Some(&(_, name)) = BIT_GENERATORS.iter().find(|b| **b == g) else {
            continue;
        };
        let mut b = vec![Opcode::POP.byte()];
        push_str(&mut b, name);
        edits.insert_after(class.after, &b);
        bitgens.push(node);
        done.push(Note {
            id: id.to_owned(),
            item: class.push,
            what: format!("bit generator class {}.{name} passed by name", g.0),
        });
        for build in w.builds.iter().filter(|b| b.target == node) {
            let Some((items, op)) = w.tuple_of(build.state) else {
                continue;
            };
            if items.len() != 2 || !matches!(w.kind(items[0]), Kind::Dict(_)) {
                continue;
            }
            match op.mark {
                None => edits.replace(op.op, vec![Opcode::POP.byte()]),
                Some(mark) => {
                    edits.replace(mark, Vec::new());
                    edits.replace(op.op, vec![Opcode::POP.byte()]);
                }
            }
            done.push(Note {
                id: id.to_owned(),
                item: op.op,
                what: "bit generator state (state, seed_seq) reduced to the state dict".to_owned(),
            });
        }
    }
    for (node, _) in w.nodes.iter().enumerate() {
        let Kind::Call { callable, args } = &w.nodes[node] else {
            continue;
        };
        let Some((m, n)) = w.global_of(*callable) else {
            continue;
        };
        let class = match (m, n) {
            (PICKLE_MODULE, "__randomstate_ctor") => "numpy.random.mtrand\nRandomState\n",
            (PICKLE_MODULE, "__generator_ctor") => "numpy.random._generator\nGenerator\n",
            _ => continue,
        };
        let Some(([inner], _)) = w.tuple_of(*args) else {
            continue;
        };
        if !bitgens.contains(&inner.node) {
            continue;
        }
        let mut b = vec![Opcode::POP.byte(), Opcode::GLOBAL.byte()];
        b.extend_from_slice(class.as_bytes());
        edits.insert_after(callable.after, &b);
        done.push(Note {
            id: id.to_owned(),
            item: callable.push,
            what: format!(
                "{n}(<bit generator>) called as {}(<bit generator>)",
                class.replace('\n', ".").trim_end_matches('.')
            ),
        });
    }
}
