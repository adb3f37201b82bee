//! HistGradientBoostingClassifier and HistGradientBoostingRegressor.
//!
//! - `_predictors[i][k]` is a `TreePredictor` whose `nodes` (packed `PREDICTOR_RECORD_DTYPE`,
//!   52 bytes in 1.2 and 56 from 1.3) hold `num_threshold`, `missing_go_to_left` and leaf
//!   `value`s that already include the learning rate; tree `(i, k)` adds to output k.
//! - The start is `_baseline_prediction`; the loss (`_loss`, and its `link`) says what follows:
//!   binary log-loss `σ(s)`, multiclass softmax, identity for squared/absolute error and quantile, and `exp` for the
//!   log-link losses (poisson, gamma).
//! - scikit-learn compares float64 X with float64 thresholds: float32 inputs are exact with the
//!   float32 threshold rule, and double inputs keep double thresholds.
//! - Categorical splits (bitsets) are refused.

use onnx::Elem;

use super::emit::{self, Head};
use super::ensemble::{Ensemble, Tree};
use super::{leaves, n_features, nodes, records};
use crate::export::onnx::graph::{Classes, Graph, Outputs, Tensor};
use crate::export::onnx::state::{Estimator, Refusal, Res};

/// The loss's class name, from `_loss`.
fn loss_class(est: &Estimator<'_>) -> Res<String> {
    let l = est
        .get("_loss")
        .and_then(|v| v.class())
        .ok_or_else(|| Refusal::new(format!("{} has no _loss object (not fitted?)", est.name)))?;
    Ok(l.1.to_owned())
}

/// Refuses models with categorical features.
fn no_categorical(est: &Estimator<'_>) -> Res<()> {
    let categorical = est
        .get("is_categorical_")
        .and_then(|v| v.as_array())
        .and_then(|a| a.i64s())
        .is_some_and(|v| v.iter().any(|&b| b != 0));
    let preprocessed = !est.is_none("_preprocessor");
    if categorical || preprocessed {
        return Err(Refusal::new(format!(
            "{} has categorical features (bitset splits), which ONNX TreeEnsemble v3 cannot express; refit with categorical_features=None, or one-hot encode them in a Pipeline",
            est.name
        )));
    }
    Ok(())
}

/// The predictors as one ensemble, tree `(i, k)` into output `k`, plus the baseline.
fn ensemble(est: &Estimator<'_>) -> Res<(Ensemble, usize)> {
    no_categorical(est)?;
    let nf = n_features(est)?;
    let k = est
        .i64("n_trees_per_iteration_")
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| Refusal::new(format!("{}.n_trees_per_iteration_ is missing", est.name)))?;
    let (baseline, _) = est.f64s("_baseline_prediction")?;
    if baseline.len() != k {
        return Err(Refusal::new(format!(
            "{}._baseline_prediction has {} values for {k} trees per iteration",
            est.name,
            baseline.len()
        )));
    }
    let iterations = est.list("_predictors")?;
    let mut e = Ensemble {
        trees: Vec::new(),
        base_values: baseline,
    };
    for (i, it) in iterations.iter().enumerate() {
        let preds = it.as_list().filter(|p| p.len() == k).ok_or_else(|| {
            Refusal::new(format!(
                "{}._predictors[{i}] is not a list of {k} predictors",
                est.name
            ))
        })?;
        for (j, p) in preds.iter().enumerate() {
            let at = format!("_predictors[{i}][{j}]");
            let p = p
                .as_estimator()
                .ok_or_else(|| Refusal::new(format!("{at} is not a TreePredictor")))?;
            let (layout, bytes, count) = records(
                &p.array("nodes").map_err(|r| r.at(&at))?,
                &format!("{at}.nodes"),
            )?;
            let (nodes, values) = nodes::hgb_predictor(&layout, &bytes, count, nf)
                .map_err(|e| Refusal::new(format!("{at}.nodes: {e}")))?;
            let leaves = leaves(&nodes).map(|n| (n, j, values[n])).collect();
            e.trees.push(Tree { nodes, leaves });
        }
    }
    if e.trees.is_empty() {
        // No iteration: a single leaf adding nothing, so the baseline is the prediction.
        for j in 0..k {
            e.trees.push(Tree {
                nodes: vec![nodes::TreeNode::Leaf],
                leaves: vec![(0, j, 0.0)],
            });
        }
    }
    Ok((e, k))
}

/// HistGradientBoostingClassifier.
pub(crate) fn classifier(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let classes = Classes::of(est)?;
    let loss = loss_class(est)?;
    let (e, k) = ensemble(est)?;
    let head = match (loss.as_str(), classes.len(), k) {
        ("HalfBinomialLoss", 2, 1) => Head::Sigmoid(1.0),
        ("HalfMultinomialLoss", n, k) if n == k && n > 2 => Head::Softmax,
        (l, n, k) => {
            return Err(Refusal::new(format!(
                "{} with loss {l}, {n} classes and {k} trees per iteration is not supported",
                est.name
            )));
        }
    };
    let (label, probabilities) = emit::classifier(g, x, &e, &classes, head, true)?;
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}

/// HistGradientBoostingRegressor.
pub(crate) fn regressor(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let loss = loss_class(est)?;
    let log_link = match loss.as_str() {
        "HalfSquaredError" | "AbsoluteError" | "PinballLoss" => false,
        "HalfPoissonLoss" | "HalfGammaLoss" => true,
        other => {
            return Err(Refusal::new(format!(
                "{} loss {other} is not supported (squared_error, absolute_error, quantile, poisson, gamma)",
                est.name
            )));
        }
    };
    let (e, k) = ensemble(est)?;
    let raw = emit::regressor(g, x, &e, k, true)?;
    if !log_link {
        return Ok(Outputs::Values(raw));
    }
    Ok(Outputs::Values(g.op(
        "Exp",
        &[&raw.name],
        vec![],
        Elem::F32,
        raw.cols,
    )))
}
