//! Single trees (DecisionTree, ExtraTree) and forests (RandomForest, ExtraTrees).
//!
//! - A classifier's leaf holds weighted class counts (scikit-learn ≤1.3) or fractions (≥1.4);
//!   dividing each leaf by its sum gives `predict_proba` for both (a zero sum stays zero, as
//!   scikit-learn's normaliser does). A forest averages its trees: each weight is divided by
//!   the number of trees. The label is the first maximum's class, as numpy's argmax.
//! - Forest sub-trees carry their own `classes_` of encoded floats; the labels are the
//!   top-level `classes_`.
//! - A regressor's leaf holds the prediction per output; forests average.

use super::emit::{self, Head};
use super::ensemble::{Ensemble, Tree};
use super::{SkTree, leaves, n_features};
use crate::export::onnx::graph::{Classes, Graph, Outputs, Tensor};
use crate::export::onnx::state::{Estimator, Refusal, Res};

/// The trees of a forest (`estimators_`), or the estimator itself for a single tree.
fn members<'t>(est: &Estimator<'t>) -> Res<Vec<Estimator<'t>>> {
    if !est.has("estimators_") {
        return Ok(vec![*est]);
    }
    let list = est.list("estimators_")?;
    if list.is_empty() {
        return Err(Refusal::new(format!("{}.estimators_ is empty", est.name)));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_estimator()
                .ok_or_else(|| Refusal::new(format!("{}.estimators_[{i}] is not a tree", est.name)))
        })
        .collect()
}

fn n_outputs(est: &Estimator<'_>) -> usize {
    est.get("n_outputs_")
        .and_then(|v| v.as_i64())
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1)
}

/// DecisionTreeClassifier, ExtraTreeClassifier, RandomForestClassifier, ExtraTreesClassifier.
pub(crate) fn classifier(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    if n_outputs(est) != 1 {
        return Err(Refusal::new(format!(
            "{} was fitted on {} outputs: multi-output tree classifiers are not supported (fit one classifier per output)",
            est.name,
            n_outputs(est)
        )));
    }
    let classes = Classes::of(est)?;
    let k = classes.len();
    if k < 2 {
        return Err(Refusal::new(format!(
            "{} was fitted on a single class: it always predicts classes_[0], and TreeEnsembleClassifier needs two classes or more",
            est.name
        )));
    }
    let nf = n_features(est)?;
    let trees = members(est)?;
    #[allow(clippy::cast_precision_loss)]
    let share = 1.0 / trees.len() as f64;
    let mut e = Ensemble::default();
    for (t, m) in trees.iter().enumerate() {
        let at = |r: Refusal| {
            if trees.len() > 1 {
                r.at(&format!("estimators_[{t}]"))
            } else {
                r
            }
        };
        let st = SkTree::of(m, nf).map_err(at)?;
        if st.width < k || st.n_outputs != 1 {
            return Err(at(Refusal::new(format!(
                "its tree has {} values per leaf for {k} classes",
                st.width
            ))));
        }
        let mut tree = Tree {
            leaves: Vec::new(),
            nodes: st.nodes.clone(),
        };
        for leaf in leaves(&st.nodes) {
            let row = &st.value(leaf, 0)[..k];
            let sum: f64 = row.iter().sum();
            for (c, &v) in row.iter().enumerate() {
                let w = if sum > 0.0 { v / sum * share } else { 0.0 };
                tree.leaves.push((leaf, c, w));
            }
        }
        e.trees.push(tree);
    }
    let (label, probabilities) = emit::classifier(g, x, &e, &classes, Head::Sums, false)?;
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}

/// DecisionTreeRegressor, ExtraTreeRegressor, RandomForestRegressor, ExtraTreesRegressor.
pub(crate) fn regressor(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let outputs = n_outputs(est);
    let nf = n_features(est)?;
    let trees = members(est)?;
    #[allow(clippy::cast_precision_loss)]
    let share = 1.0 / trees.len() as f64;
    let mut e = Ensemble::default();
    for (t, m) in trees.iter().enumerate() {
        let at = |r: Refusal| {
            if trees.len() > 1 {
                r.at(&format!("estimators_[{t}]"))
            } else {
                r
            }
        };
        let st = SkTree::of(m, nf).map_err(at)?;
        if st.n_outputs != outputs {
            return Err(at(Refusal::new(format!(
                "its tree has {} outputs, the model {outputs}",
                st.n_outputs
            ))));
        }
        let mut tree = Tree {
            leaves: Vec::new(),
            nodes: st.nodes.clone(),
        };
        for leaf in leaves(&st.nodes) {
            for o in 0..outputs {
                tree.leaves.push((leaf, o, st.value(leaf, o)[0] * share));
            }
        }
        e.trees.push(tree);
    }
    Ok(Outputs::Values(emit::regressor(g, x, &e, outputs, false)?))
}
