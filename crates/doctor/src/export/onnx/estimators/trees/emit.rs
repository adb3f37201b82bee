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

/// onnxruntime's score transform after summing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    /// Raw sums.
    None,
    /// Sigmoid (binary: scores `[σ(-s), σ(s)]`).
    Logistic,
    /// Softmax over the classes.
    Softmax,
}

impl Post {
    fn name(self) -> &'static str {
        match self {
            Post::None => "NONE",
            Post::Logistic => "LOGISTIC",
            Post::Softmax => "SOFTMAX",
        }
    }
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

/// A `TreeEnsembleClassifier`: `(label, probabilities)`.
///
/// # Errors
/// An ml opset that deprecates the op.
pub fn classifier(
    g: &mut Graph,
    x: &Tensor,
    e: &Ensemble,
    classes: &Classes,
    post: Post,
    model_in_f64: bool,
) -> Res<(Tensor, Tensor)> {
    check_opset(g)?;
    let (input, mut attrs) = common(g, x, e, model_in_f64, "class", "class_ids");
    attrs.push(attr::s("post_transform", post.name()));
    let label_elem = match classes {
        Classes::Ints(v) => {
            attrs.push(attr::ints("classlabels_int64s", v.clone()));
            Elem::I64
        }
        Classes::Strings(v) => {
            attrs.push(attr::strings("classlabels_strings", v));
            Elem::Str
        }
    };
    let outs = g.b.node(
        "TreeEnsembleClassifier",
        onnx::ML,
        &[&input.name],
        &["label", "probabilities"],
        attrs,
    );
    let [label, probabilities] = <[String; 2]>::try_from(outs)
        .map_err(|_| Refusal::new("the classifier node has two outputs"))?;
    Ok((
        Tensor::vector(label, label_elem),
        Tensor::matrix(probabilities, Elem::F32, classes.len()),
    ))
}

/// A `TreeEnsembleRegressor` summing into `n_targets` columns (float).
///
/// # Errors
/// An ml opset that deprecates the op.
pub fn regressor(
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
