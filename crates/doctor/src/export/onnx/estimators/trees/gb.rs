//! GradientBoostingClassifier and GradientBoostingRegressor.
//!
//! - `estimators_` is an object array `(n_estimators_, K)` of DecisionTreeRegressor (K = 1 for
//!   binary and regression, n_classes for multiclass); tree `(i, k)` adds `learning_rate ×
//!   leaf value` to output k (GB leaves are not pre-scaled, unlike HGB's).
//! - The start is `init_`'s: a DummyClassifier's `class_prior_` through the loss link, a
//!   DummyRegressor's `constant_`, or zeros for `init='zero'`. A user-supplied `init`
//!   estimator is refused (its predictions are not in the pickle's state).
//! - Multiclass starts from `log(prior)` up to 1.3 (`_gb_losses`, clipped at float32 eps) and
//!   from the centred `log(prior) - mean(log(prior))` from 1.4 (`_loss`, float64 eps);
//!   softmax makes both the same probabilities, and each version's own is written.
//! - Binary log-loss is `σ(s)` and exponential loss `σ(2s)` (with a start of `logit(p)`,
//!   resp. `logit(p) / 2`); multiclass is a softmax.

use super::emit::{self, Head};
use super::ensemble::{Ensemble, Tree};
use super::{SkTree, leaves, n_features};
use crate::export::onnx::graph::{Classes, Graph, Outputs, Tensor};
use crate::export::onnx::state::{Estimator, Refusal, Res, Val};

/// The trees, row-major `(stages, per_stage)`.
fn stages<'t>(est: &Estimator<'t>) -> Res<(Vec<Estimator<'t>>, usize, usize)> {
    let a = est.array("estimators_")?;
    let [n, k] = a.shape[..] else {
        return Err(Refusal::new(format!(
            "{}.estimators_ has shape {:?}, not (stages, trees per stage)",
            est.name, a.shape
        )));
    };
    let items = a
        .objects()
        .ok_or_else(|| Refusal::new(format!("{}.estimators_ is not an object array", est.name)))?;
    if n == 0 || k == 0 {
        return Err(Refusal::new(format!("{}.estimators_ is empty", est.name)));
    }
    let trees = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_estimator().ok_or_else(|| {
                Refusal::new(format!(
                    "{}.estimators_[{}, {}] is not a tree",
                    est.name,
                    i / k,
                    i % k
                ))
            })
        })
        .collect::<Res<Vec<_>>>()?;
    Ok((trees, n, k))
}

/// The summed trees, scaled by the learning rate, each tree `(i, k)` into output `k`.
fn ensemble(est: &Estimator<'_>, per_stage: usize) -> Res<Ensemble> {
    let nf = n_features(est)?;
    let lr = est.f64("learning_rate")?;
    let (trees, _, k) = stages(est)?;
    if k != per_stage {
        return Err(Refusal::new(format!(
            "{}.estimators_ has {k} trees per stage, expected {per_stage}",
            est.name
        )));
    }
    let mut e = Ensemble::default();
    for (i, m) in trees.iter().enumerate() {
        let st =
            SkTree::of(m, nf).map_err(|r| r.at(&format!("estimators_[{}, {}]", i / k, i % k)))?;
        let mut tree = Tree {
            leaves: Vec::new(),
            nodes: st.nodes.clone(),
        };
        for leaf in leaves(&st.nodes) {
            tree.leaves.push((leaf, i % k, st.value(leaf, 0)[0] * lr));
        }
        e.trees.push(tree);
    }
    Ok(e)
}

/// `init_`: `None` for `init='zero'`, else the Dummy estimator (a user-supplied `init` is
/// refused).
fn init<'t>(est: &Estimator<'t>) -> Res<Option<Estimator<'t>>> {
    if let Some(v) = est.get("init")
        && !v.is_none()
        && v.as_str().as_deref() != Some("zero")
    {
        return Err(Refusal::new(format!(
            "{} was given its own init estimator; its predictions are not part of the pickled state",
            est.name
        )));
    }
    let v: Val<'t> = est
        .get("init_")
        .ok_or_else(|| Refusal::new(format!("{} has no init_ (not fitted?)", est.name)))?;
    if v.as_str().as_deref() == Some("zero") {
        return Ok(None);
    }
    v.as_estimator()
        .map(Some)
        .ok_or_else(|| Refusal::new(format!("{}.init_ is not an estimator", est.name)))
}

/// Whether the loss objects are 1.4+'s `sklearn._loss` (else `_gb_losses`).
fn new_losses(est: &Estimator<'_>) -> bool {
    est.get("_loss")
        .and_then(|v| v.class())
        .is_some_and(|(m, _)| m.starts_with("sklearn._loss"))
}

/// GradientBoostingClassifier.
pub(crate) fn classifier(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let classes = Classes::of(est)?;
    let k = classes.len();
    if k < 2 {
        return Err(Refusal::new(format!(
            "{} has fewer than two classes",
            est.name
        )));
    }
    let loss = est.str("loss")?;
    let exponential = match loss.as_str() {
        "log_loss" | "deviance" => false,
        "exponential" if k == 2 => true,
        other => {
            return Err(Refusal::new(format!(
                "{} loss {other:?} with {k} classes is not supported (log_loss, or exponential for two classes)",
                est.name
            )));
        }
    };
    let per_stage = if k == 2 { 1 } else { k };
    let mut e = ensemble(est, per_stage)?;
    let new = new_losses(est);
    // float32 eps up to 1.3, float64 eps from 1.4.
    let eps = if new {
        f64::EPSILON
    } else {
        f64::from(f32::EPSILON)
    };
    let prior = match init(est)? {
        None => None,
        Some(d) if d.name == "DummyClassifier" => {
            let (p, _) = d.f64s("class_prior_").map_err(|r| r.at("init_"))?;
            if p.len() != k {
                return Err(Refusal::new(format!(
                    "init_.class_prior_ has {} entries for {k} classes",
                    p.len()
                )));
            }
            Some(
                p.iter()
                    .map(|&q| q.clamp(eps, 1.0 - eps))
                    .collect::<Vec<f64>>(),
            )
        }
        Some(d) => {
            return Err(Refusal::new(format!(
                "init_ is a {}, not the DummyClassifier scikit-learn makes",
                d.dotted()
            )));
        }
    };
    let head = if k == 2 {
        let base = prior.map_or(0.0, |p| {
            let logit = (p[1] / (1.0 - p[1])).ln();
            if exponential { 0.5 * logit } else { logit }
        });
        e.base_values = vec![base];
        Head::Sigmoid(if exponential { 2.0 } else { 1.0 })
    } else {
        e.base_values = match prior {
            None => vec![0.0; k],
            Some(p) => {
                let logs: Vec<f64> = p.iter().map(|q| q.ln()).collect();
                #[allow(clippy::cast_precision_loss)]
                let mean = if new {
                    logs.iter().sum::<f64>() / k as f64
                } else {
                    0.0
                };
                logs.iter().map(|l| l - mean).collect()
            }
        };
        Head::Softmax
    };
    let (label, probabilities) = emit::classifier(g, x, &e, &classes, head, false)?;
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}

/// GradientBoostingRegressor (every loss predicts the raw sum).
pub(crate) fn regressor(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let mut e = ensemble(est, 1)?;
    let base = match init(est)? {
        None => 0.0,
        Some(d) if d.name == "DummyRegressor" => {
            let (c, _) = d.f64s("constant_").map_err(|r| r.at("init_"))?;
            match c[..] {
                [c] => c,
                _ => {
                    return Err(Refusal::new(format!(
                        "init_.constant_ has {} entries, expected one",
                        c.len()
                    )));
                }
            }
        }
        Some(d) => {
            return Err(Refusal::new(format!(
                "init_ is a {}, not the DummyRegressor scikit-learn makes",
                d.dotted()
            )));
        }
    };
    e.base_values = vec![base];
    Ok(Outputs::Values(emit::regressor(g, x, &e, 1, false)?))
}
