//! Attributes a newer scikit-learn reads in `predict`/`transform` but only its own `fit` sets,
//! derived from the state the way that `fit` computes them (knowledge:
//! `sklearn-hgb-preprocessor-added`, `sklearn-imputer-fill-dtype-added`).
//!
//! - HistGradientBoosting (1.4+): `fit` sets `_preprocessor = None` and
//!   `_is_categorical_remapped = None` when `is_categorical_` is None (no categorical
//!   features). With categorical features it builds a fitted ColumnTransformer, which the
//!   old state cannot give: such files are left alone (and `fix` refuses them).
//! - SimpleImputer (1.8+): `fit` sets `_fill_dtype = X.dtype`, the validated input's dtype,
//!   which is exactly what `_validate_input` stores as `_fit_dtype` during the same fit. The
//!   new entry fetches the pickled `_fit_dtype` object from the memo.

use crate::state::ops::{add_entry, get};
use crate::state::walk::{Kind, Walk};
use crate::state::{Literal, Note};
use crate::stream::Edits;

const HGB_MODULE: &str = "sklearn.ensemble._hist_gradient_boosting.gradient_boosting";
const HGB: [&str; 2] = [
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
];

pub(crate) fn hgb_preprocessor(w: &Walk, id: &str, edits: &mut Edits, done: &mut Vec<Note>) {
    for b in &w.builds {
        let Some((m, n)) = w.class_of(b.target) else {
            continue;
        };
        if m != HGB_MODULE || !HGB.contains(&n) {
            continue;
        }
        if w.entries_of(b.state).is_none() || w.dict_get(b.state, "_preprocessor").is_some() {
            continue;
        }
        let no_categories = w
            .dict_get(b.state, "is_categorical_")
            .is_some_and(|e| matches!(w.kind(e.value), Kind::None));
        if !no_categories {
            continue;
        }
        let none = [pickle::Opcode::NONE.byte()];
        let mut added = vec!["_preprocessor"];
        if add_entry(w, b.state, "_preprocessor", &none, edits).is_none() {
            continue;
        }
        if w.dict_get(b.state, "_is_categorical_remapped").is_none()
            && add_entry(w, b.state, "_is_categorical_remapped", &none, edits).is_some()
        {
            added.push("_is_categorical_remapped");
        }
        done.push(Note {
            id: id.to_owned(),
            item: b.op,
            what: format!(
                "{n}: {} = None, as fit sets them without categorical features",
                added.join(" and ")
            ),
        });
    }
}

/// The ops that push a literal.
fn literal(protocol: u8, v: &Literal) -> Option<Vec<u8>> {
    use pickle::Opcode;
    Some(match v {
        Literal::None => vec![Opcode::NONE.byte()],
        Literal::Bool(true) => vec![Opcode::NEWTRUE.byte()],
        Literal::Bool(false) => vec![Opcode::NEWFALSE.byte()],
        Literal::Int(n) => crate::state::ops::int(*n)?,
        Literal::Float(x) => crate::state::ops::float(*x),
        Literal::Str(s) => {
            let mut b = Vec::new();
            crate::state::tree_nodes::push_text(&mut b, protocol, s);
            b
        }
    })
}

fn shown(v: &Literal) -> String {
    match v {
        Literal::None => "None".to_owned(),
        Literal::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Literal::Int(n) => n.to_string(),
        Literal::Float(x) => format!("{x:?}"),
        Literal::Str(s) => format!("{s:?}"),
    }
}

pub(crate) fn attribute_default(
    w: &Walk,
    id: &str,
    classes: &str,
    attr: &str,
    value: &Literal,
    edits: &mut Edits,
    done: &mut Vec<Note>,
) {
    if w.protocol < 2 {
        return;
    }
    let Some(bytes) = literal(w.protocol, value) else {
        return;
    };
    let mut n = 0;
    let mut first = None;
    let mut names = Vec::new();
    for b in &w.builds {
        let Some((m, c)) = w.class_of(b.target) else {
            continue;
        };
        if !classes
            .split('|')
            .any(|p| p.split_once(':') == Some((m, c)))
        {
            continue;
        }
        if w.entries_of(b.state).is_none() || w.dict_get(b.state, attr).is_some() {
            continue;
        }
        if add_entry(w, b.state, attr, &bytes, edits).is_some() {
            n += 1;
            first.get_or_insert(b.op);
            if !names.contains(&c) {
                names.push(c);
            }
        }
    }
    if let Some(item) = first {
        done.push(Note {
            id: id.to_owned(),
            item,
            what: format!(
                "{n} objects ({}): {attr} = {}, its default",
                names.join(", "),
                shown(value)
            ),
        });
    }
}

pub(crate) fn imputer_fill_dtype(w: &Walk, id: &str, edits: &mut Edits, done: &mut Vec<Note>) {
    for b in &w.builds {
        if w.class_of(b.target) != Some(("sklearn.impute._base", "SimpleImputer")) {
            continue;
        }
        if w.entries_of(b.state).is_none() || w.dict_get(b.state, "_fill_dtype").is_some() {
            continue;
        }
        let Some(fit) = w.dict_get(b.state, "_fit_dtype") else {
            continue;
        };
        let Some(value) = w.memo_of.get(&fit.value.node).and_then(|i| get(*i)) else {
            continue;
        };
        if add_entry(w, b.state, "_fill_dtype", &value, edits).is_some() {
            done.push(Note {
                id: id.to_owned(),
                item: b.op,
                what: "SimpleImputer: _fill_dtype = _fit_dtype (both X.dtype in fit)".to_owned(),
            });
        }
    }
}
