//! Writing an [`Ensemble`] as one ai.onnx.ml `TreeEnsembleClassifier` or
//! `TreeEnsembleRegressor` node (v1/v3 attributes; the ops are deprecated only from ml 5).
//!
//! Input precision: scikit-learn's `Tree.predict` casts X to float32, so a float32 graph input
//! with thresholds by the float32 rule is exact, and a double input is cast to float first.
//! HistGradientBoosting compares float64 X with float64 thresholds: with a double input (and
//! `ai.onnx.ml` ≥ 3) its thresholds go in `nodes_values_as_tensor` as doubles, so the
//! comparison stays in float64.

use onnx::{Elem, attr, tensor};

use super::ensemble::Ensemble;
use crate::export::onnx::graph::{Classes, Graph, Tensor};
use crate::export::onnx::state::{Refusal, Res};

/// How a classifier's summed scores become probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head {
    /// The sums are the probabilities (forests: normalised leaf fractions).
    Sums,
    /// Softmax over the K sums (multiclass log-loss).
    Softmax,
    /// One sum s: `p = σ(scale·s)`, probabilities `[1 - p, p]` (binary log-loss: scale 1;
    /// exponential loss: scale 2).
    Sigmoid(f64),
}

/// Whether the thresholds are compared in float64 (`*_as_tensor`) for input `x`: only when
/// the model itself compares float64 values, the input is double, and the ml opset has v3.
fn in_double(g: &Graph, x: &Tensor, model_in_f64: bool) -> bool {
    model_in_f64 && x.elem == Elem::F64 && g.settings.ml_opset >= 3
}

fn check_opset(g: &Graph) -> Res<()> {
    if g.settings.ml_opset >= 5 {
        return Err(Refusal::new(format!(
            "tree ensembles are written as TreeEnsembleClassifier/Regressor, which ai.onnx.ml {} deprecates; use ai.onnx.ml 3 (the default)",
            g.settings.ml_opset
        )));
    }
    Ok(())
}

/// The node attributes shared by both ops, and the input to feed (cast to float unless the
/// comparison stays in double).
fn common(
    g: &mut Graph,
    x: &Tensor,
    e: &Ensemble,
    model_in_f64: bool,
    leaf_prefix: &str,
    leaf_ids: &str,
) -> (Tensor, Vec<onnx::AttributeProto>) {
    let double = in_double(g, x, model_in_f64);
    let input = if double {
        x.clone()
    } else {
        g.cast(x, Elem::F32)
    };
    let a = e.attributes();
    let n = a.values_f64.len() as i64;
    let mut attrs = vec![
        attr::ints("nodes_treeids", a.tree_ids),
        attr::ints("nodes_nodeids", a.node_ids),
        attr::ints("nodes_featureids", a.feature_ids),
        attr::strings("nodes_modes", &a.modes),
        attr::ints("nodes_truenodeids", a.true_ids),
        attr::ints("nodes_falsenodeids", a.false_ids),
        attr::ints("nodes_missing_value_tracks_true", a.missing_tracks_true),
        attr::ints(&format!("{leaf_prefix}_treeids"), a.leaf_tree_ids),
        attr::ints(&format!("{leaf_prefix}_nodeids"), a.leaf_node_ids),
        attr::ints(leaf_ids, a.leaf_output_ids),
    ];
    let nw = a.leaf_weights_f64.len() as i64;
    if double {
        attrs.push(attr::t(
            "nodes_values_as_tensor",
            tensor::f64s("", &[n], &a.values_f64),
        ));
        attrs.push(attr::t(
            &format!("{leaf_prefix}_weights_as_tensor"),
            tensor::f64s("", &[nw], &a.leaf_weights_f64),
        ));
        if !e.base_values.is_empty() {
            attrs.push(attr::t(
                "base_values_as_tensor",
                tensor::f64s("", &[e.base_values.len() as i64], &e.base_values),
            ));
        }
    } else {
        attrs.push(attr::floats("nodes_values", a.values));
        attrs.push(attr::floats(
            &format!("{leaf_prefix}_weights"),
            a.leaf_weights,
        ));
        if !e.base_values.is_empty() {
            #[allow(clippy::cast_possible_truncation)]
            let b: Vec<f32> = e.base_values.iter().map(|&v| v as f32).collect();
            attrs.push(attr::floats("base_values", b));
        }
    }
    (input, attrs)
}

/// A classifier: the ensemble's sums (one per class, or one for a binary logit) through
/// `head`, and the label as the first maximum's class (numpy's argmax).
///
/// Written with a TreeEnsembleRegressor and standard ops rather than TreeEnsembleClassifier,
/// whose two-class output follows its own rules (a `p > 0.5` or `score > 0` test on the
/// second class, and a recomputed first column) instead of an argmax.
///
/// # Errors
/// An ml opset that deprecates the op.
pub(crate) fn classifier(
    g: &mut Graph,
    x: &Tensor,
    e: &Ensemble,
    classes: &Classes,
    head: Head,
    model_in_f64: bool,
) -> Res<(Tensor, Tensor)> {
    let k = classes.len();
    let probabilities = match head {
        Head::Sums => regressor(g, x, e, k, model_in_f64)?,
        Head::Softmax => {
            let s = regressor(g, x, e, k, model_in_f64)?;
            g.op(
                "Softmax",
                &[&s.name],
                vec![attr::i("axis", 1)],
                Elem::F32,
                Some(k),
            )
        }
        Head::Sigmoid(scale) => {
            let s = regressor(g, x, e, 1, model_in_f64)?;
            let s = if (scale - 1.0).abs() > 0.0 {
                let c = g.constant("scale", Elem::F32, &[], &[scale]);
                g.op("Mul", &[&s.name, &c], vec![], Elem::F32, Some(1))
            } else {
                s
            };
            let p = g.op("Sigmoid", &[&s.name], vec![], Elem::F32, Some(1));
            let one = g.constant("one", Elem::F32, &[], &[1.0]);
            let q = g.op("Sub", &[&one, &p.name], vec![], Elem::F32, Some(1));
            g.op(
                "Concat",
                &[&q.name, &p.name],
                vec![attr::i("axis", 1)],
                Elem::F32,
                Some(2),
            )
        }
    };
    let label = g.labels_from_scores(&probabilities, classes);
    Ok((label, probabilities))
}

/// A `TreeEnsembleRegressor` summing into `n_targets` columns (float).
///
/// # Errors
/// An ml opset that deprecates the op.
pub(crate) fn regressor(
    g: &mut Graph,
    x: &Tensor,
    e: &Ensemble,
    n_targets: usize,
    model_in_f64: bool,
) -> Res<Tensor> {
    check_opset(g)?;
    let (input, mut attrs) = common(g, x, e, model_in_f64, "target", "target_ids");
    attrs.push(attr::i("n_targets", n_targets as i64));
    attrs.push(attr::s("post_transform", "NONE"));
    attrs.push(attr::s("aggregate_function", "SUM"));
    let name = g.b.ml("TreeEnsembleRegressor", &[&input.name], attrs);
    Ok(Tensor::matrix(name, Elem::F32, n_targets))
}
