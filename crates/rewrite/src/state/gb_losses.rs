//! GradientBoosting from scikit-learn <= 1.3 for 1.4+ (knowledge: `sklearn-gb-losses-removed`).
//!
//! Up to 1.3 the estimator's `_loss` is a `sklearn.ensemble._gb_losses` object
//! (`cls.__new__(cls)` + BUILD `{'K': ..., parameters}`); 1.4 removed that module and fits a
//! `sklearn._loss.loss` object instead, with `n_trees_per_iteration_` on the estimator and no
//! `_n_classes`. Each old loss becomes a call of its 1.4+ class with the parameters 1.4's
//! `_get_loss(sample_weight)` passes, taken from the old state:
//!
//! | ≤ 1.3 | 1.4+ |
//! |---|---|
//! | `LeastSquaresError` | `HalfSquaredError(sw)` |
//! | `LeastAbsoluteError` | `AbsoluteError(sw)` |
//! | `HuberLossFunction{alpha, gamma}` | `HuberLoss(sw, alpha, gamma)` (`delta` = the fitted `gamma`) |
//! | `QuantileLossFunction{alpha}` | `PinballLoss(sw, alpha)` |
//! | `BinomialDeviance` | `HalfBinomialLoss(sw)` |
//! | `ExponentialLoss` | `ExponentialLoss(sw)` |
//!
//! `MultinomialDeviance` is left alone (so `fix` refuses the file): 1.4's multinomial link
//! is symmetric, so with the old trees `decision_function` would be shifted by a per-row
//! constant (the mean log prior); `predict` and `predict_proba` would agree.
//!
//! `sw` is `True`: 1.4+ `fit` always passes a sample-weight array, so its losses have
//! `constant_hessian = False`, and the constructors only test `sample_weight is None`.
//! Calling the class (NEWOBJ → REDUCE) builds the object the target's own way, whatever
//! attributes that release has; the old BUILD state is popped.
//!
//! Edits, none adding or removing a memo store: the class global is replaced where it is
//! pushed (later memo fetches then get the new class); the empty args tuple becomes the
//! arguments; NEWOBJ becomes REDUCE; BUILD becomes POP. On the estimator's dict:
//! `n_trees_per_iteration_ = K` is added and `_n_classes` dropped. If any old loss in the
//! stream cannot be rewritten, nothing is.

use std::collections::HashMap;

use pickle::Opcode;

use crate::state::Note;
use crate::state::ops::{add_entry, float, int, opcode_at, replace_global};
use crate::state::tree_nodes::drop_entry;
use crate::state::walk::{Kind, Slot, Walk};
use crate::stream::{Edits, Item, Stream};

const OLD: &str = "sklearn.ensemble._gb_losses";
const NEW: &str = "sklearn._loss.loss";

/// The 1.4+ class and the parameters it takes after `sample_weight`, by old state key.
fn mapping(old: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match old {
        "LeastSquaresError" => ("HalfSquaredError", &[]),
        "LeastAbsoluteError" => ("AbsoluteError", &[]),
        "HuberLossFunction" => ("HuberLoss", &["alpha", "gamma"]),
        "QuantileLossFunction" => ("PinballLoss", &["alpha"]),
        "BinomialDeviance" => ("HalfBinomialLoss", &[]),
        "ExponentialLoss" => ("ExponentialLoss", &[]),
        _ => return None,
    })
}

/// A float of the state: a Python float, or a numpy float64 scalar
/// (`numpy.core.multiarray.scalar(dtype('f8'), 8 bytes)`, as `np.percentile` returns).
fn float_value(w: &Walk, stream: &Stream<'_>, v: Slot) -> Option<f64> {
    if let Some(x) = w.float_of(v) {
        return Some(x);
    }
    let ((m, n), args) = w.call_of(v.node)?;
    if n != "scalar" || !m.ends_with("multiarray") {
        return None;
    }
    let (a, _) = w.tuple_of(args)?;
    let [dtype, data] = a else { return None };
    let is_f8 = w.builds.iter().any(|b| {
        b.target == dtype.node
            && w.call_of(b.target).is_some_and(|((m, n), args)| {
                (m, n) == ("numpy", "dtype")
                    && w.tuple_of(args)
                        .and_then(|(a, _)| a.first().and_then(|s| w.str_of(*s)))
                        == Some("f8")
            })
            && w.tuple_of(b.state)
                .and_then(|(st, _)| st.get(1).and_then(|s| w.str_of(*s)))
                == Some("<")
    });
    if !is_f8 || !matches!(w.kind(*data), Kind::Bytes) {
        return None;
    }
    match stream.items().get(data.push)? {
        Item::Op(op) => match op.arg {
            pickle::Arg::Bytes(b) => Some(f64::from_le_bytes(b.try_into().ok()?)),
            _ => None,
        },
        _ => None,
    }
}

struct Plan {
    new_class: &'static str,
    args_op: usize,
    newobj_op: usize,
    build_op: usize,
    args: Vec<u8>,
    k: i64,
}

fn plan_one(w: &Walk, stream: &Stream<'_>, node: u32) -> Option<Plan> {
    let Kind::Call { callable, args } = w.kind_of(node) else {
        return None;
    };
    let (_, name) = w.global_of(*callable)?;
    let (new_class, params) = mapping(name)?;
    let newobj_op = w.origin[node as usize];
    if opcode_at(stream, newobj_op)? != Opcode::NEWOBJ {
        return None;
    }
    let (items, tuple) = w.tuple_of(*args)?;
    if !items.is_empty() || tuple.mark.is_some() || args.push != tuple.op {
        return None;
    }
    let mut builds = w.builds.iter().filter(|b| b.target == node);
    let build = builds.next()?;
    if builds.next().is_some() {
        return None;
    }
    let k = w
        .dict_get(build.state, "K")
        .and_then(|e| w.int_of(e.value))?;
    let mut a = vec![Opcode::NEWTRUE.byte()];
    for p in params {
        let v = w.dict_get(build.state, p)?.value;
        match *p {
            "K" => a.extend_from_slice(&int(w.int_of(v)?)?),
            _ => a.extend_from_slice(&float(float_value(w, stream, v)?)),
        }
    }
    a.push(
        match params.len() {
            0 => Opcode::TUPLE1,
            1 => Opcode::TUPLE2,
            _ => Opcode::TUPLE3,
        }
        .byte(),
    );
    Some(Plan {
        new_class,
        args_op: tuple.op,
        newobj_op,
        build_op: build.op,
        args: a,
        k,
    })
}

pub(crate) fn apply(
    w: &Walk,
    stream: &Stream<'_>,
    id: &str,
    edits: &mut Edits,
    done: &mut Vec<Note>,
) {
    // Every object made from an old loss class, and the global it was made from.
    let mut plans: HashMap<u32, Plan> = HashMap::new();
    let mut globals: HashMap<u32, &'static str> = HashMap::new();
    for node in 0..w.nodes.len() as u32 {
        let Kind::Call { callable, .. } = w.kind_of(node) else {
            continue;
        };
        if w.global_of(*callable).map(|g| g.0) != Some(OLD) {
            continue;
        }
        let Some(p) = plan_one(w, stream, node) else {
            return;
        };
        if globals
            .insert(callable.node, p.new_class)
            .is_some_and(|c| c != p.new_class)
        {
            return;
        }
        plans.insert(node, p);
    }
    // Old globals used for anything but those objects: leave the file alone.
    for node in 0..w.nodes.len() as u32 {
        if let Kind::Global(m, _) = w.kind_of(node)
            && m == OLD
            && !globals.contains_key(&node)
        {
            return;
        }
    }
    for (&g, new_class) in &globals {
        if replace_global(stream, w.origin[g as usize], NEW, new_class, edits).is_none() {
            return;
        }
    }
    let mut first = None;
    let mut names = Vec::new();
    for (node, p) in &plans {
        edits.replace(p.args_op, p.args.clone());
        edits.replace(p.newobj_op, vec![Opcode::REDUCE.byte()]);
        edits.replace(p.build_op, vec![Opcode::POP.byte()]);
        first = first.min(Some(p.newobj_op)).or(Some(p.newobj_op));
        names.push(p.new_class);
        // The estimators holding it.
        for b in &w.builds {
            let Some(e) = w.dict_get(b.state, "_loss") else {
                continue;
            };
            if e.value.node != *node {
                continue;
            }
            if w.dict_get(b.state, "n_trees_per_iteration_").is_none()
                && let Some(k) = int(p.k)
            {
                let _ = add_entry(w, b.state, "n_trees_per_iteration_", &k, edits);
            }
            if let Some(e) = w.dict_get(b.state, "_n_classes") {
                drop_entry(e, edits);
            }
        }
    }
    if let Some(item) = first {
        names.sort_unstable();
        done.push(Note {
            id: id.to_owned(),
            item,
            what: format!(
                "GradientBoosting losses rebuilt as {NEW} objects ({}), n_trees_per_iteration_ set",
                names.join(", ")
            ),
        });
    }
}
