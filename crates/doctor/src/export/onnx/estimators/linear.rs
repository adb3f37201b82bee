//! Linear models: LogisticRegression, LinearSVC, SGDClassifier; LinearRegression, Ridge,
//! Lasso, ElasticNet, SGDRegressor, LinearSVR.
//!
//! Everything is computed in double with standard ops (`MatMul`, `Add`, `Sigmoid`,
//! `Softmax`), as scikit-learn computes `X @ coef_.T + intercept_` in float64, and rounded
//! once at the end. Labels come from the decision function the way `predict` does it:
//! `classes_[d > 0]` for one column, `classes_[argmax]` otherwise (the first maximum, like
//! numpy).

use onnx::{Elem, attr};

use crate::export::onnx::graph::{Classes, Graph, Outputs, Tensor};
use crate::export::onnx::registry::{Entry, Kind};
use crate::export::onnx::state::{Estimator, Refusal, Res};

/// The linear converters.
pub const CONVERTERS: &[Entry] = &[
    Entry {
        class: "LogisticRegression",
        kind: Kind::Classifier,
        convert: logistic,
    },
    Entry {
        class: "LinearSVC",
        kind: Kind::Classifier,
        convert: svc,
    },
    Entry {
        class: "SGDClassifier",
        kind: Kind::Classifier,
        convert: sgd_classifier,
    },
    Entry {
        class: "LinearRegression",
        kind: Kind::Regressor,
        convert: regressor,
    },
    Entry {
        class: "Ridge",
        kind: Kind::Regressor,
        convert: regressor,
    },
    Entry {
        class: "Lasso",
        kind: Kind::Regressor,
        convert: regressor,
    },
    Entry {
        class: "ElasticNet",
        kind: Kind::Regressor,
        convert: regressor,
    },
    Entry {
        class: "SGDRegressor",
        kind: Kind::Regressor,
        convert: regressor,
    },
    Entry {
        class: "LinearSVR",
        kind: Kind::Regressor,
        convert: regressor,
    },
];

/// `coef_` transposed to `[F, K]` row-major, with F and K.
fn coef(est: &Estimator<'_>, x: &Tensor) -> Res<(Vec<f64>, usize, usize)> {
    let (c, shape) = est.f64s("coef_")?;
    let (k, f) = match shape.as_slice() {
        [f] => (1, *f),
        [k, f] => (*k, *f),
        _ => {
            return Err(Refusal::new(format!(
                "{}.coef_ has shape {shape:?}",
                est.name
            )));
        }
    };
    if f != x.width() {
        return Err(Refusal::new(format!(
            "{}.coef_ has {f} features but its input has {}",
            est.name,
            x.width()
        )));
    }
    let mut w = vec![0.0; f * k];
    for r in 0..k {
        for j in 0..f {
            w[j * k + r] = c[r * f + j];
        }
    }
    Ok((w, f, k))
}

/// `intercept_`: a number, or an array of K.
fn intercept(est: &Estimator<'_>, k: usize) -> Res<Vec<f64>> {
    let Some(v) = est.get("intercept_") else {
        return Ok(vec![0.0; k]);
    };
    if let Some(x) = v.as_f64() {
        return Ok(vec![x; k]);
    }
    let a = v
        .as_array()
        .and_then(|a| a.f64s())
        .ok_or_else(|| Refusal::new(format!("{}.intercept_ is not numeric", est.name)))?;
    match a.len() {
        n if n == k => Ok(a),
        1 => Ok(vec![a[0]; k]),
        n => Err(Refusal::new(format!(
            "{}.intercept_ has {n} entries for {k} outputs",
            est.name
        ))),
    }
}

/// The decision function `[N, K]` in double.
fn decision(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Tensor> {
    let (w, f, k) = coef(est, x)?;
    let b = intercept(est, k)?;
    Ok(g.affine(x, &w, f, k, Some(&b)))
}

/// Labels as `predict` computes them from the decision function.
fn labels(g: &mut Graph, d: &Tensor, classes: &Classes) -> Tensor {
    if d.width() == 1 {
        let zero = g.scalar("zero", d.elem, 0.0);
        let pos = g.op("Greater", &[&d.name, &zero], vec![], Elem::Bool, Some(1));
        let idx = g.op(
            "Cast",
            &[&pos.name],
            vec![attr::i("to", i64::from(Elem::I64.code()))],
            Elem::I64,
            Some(1),
        );
        let shape = g.ints("shape", &[1], &[-1]);
        let flat = g.op("Reshape", &[&idx.name, &shape], vec![], Elem::I64, None);
        g.labels_from_index(&flat, classes)
    } else {
        g.labels_from_scores(d, classes)
    }
}

fn check_classes(est: &Estimator<'_>, d: &Tensor, classes: &Classes) -> Res<()> {
    let k = classes.len();
    let ok = (k == 2 && d.width() == 1) || (k > 2 && d.width() == k);
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(format!(
            "{} has {k} classes and {} coefficient rows",
            est.name,
            d.width()
        )))
    }
}

/// OvR probabilities: `expit(d)`, each row divided by its sum (a zero row becomes uniform).
fn ovr_proba(g: &mut Graph, d: &Tensor) -> Tensor {
    let p = g.sigmoid(d);
    if d.width() == 1 {
        return g.binary_probs(&p);
    }
    normalise_rows(g, &p)
}

/// Divides each row by its sum; an all-zero row becomes uniform (`_predict_proba_lr`).
fn normalise_rows(g: &mut Graph, p: &Tensor) -> Tensor {
    let k = p.width();
    let s = g.reduce("ReduceSum", p, 1, true);
    let zero = g.scalar("zero", p.elem, 0.0);
    let is_zero = g.op("Equal", &[&s.name, &zero], vec![], Elem::Bool, Some(1));
    let ones = g.constant("ones", p.elem, &[1, k as i64], &vec![1.0; k]);
    let p1 = g.op(
        "Where",
        &[&is_zero.name, &ones, &p.name],
        vec![],
        p.elem,
        Some(k),
    );
    let kk = g.scalar("k", p.elem, k as f64);
    let s1 = g.op(
        "Where",
        &[&is_zero.name, &kk, &s.name],
        vec![],
        p.elem,
        Some(1),
    );
    g.bin("Div", &p1, &s1.name)
}

fn logistic(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let classes = Classes::of(est)?;
    let d = decision(est, g, x)?;
    check_classes(est, &d, &classes)?;
    // scikit-learn <= 1.7 keeps `multi_class`; 1.8 removed it (binary is then OvR-like,
    // multiclass multinomial).
    let mc = est.str_opt("multi_class");
    let solver = est.str_opt("solver").unwrap_or_default();
    let binary = classes.len() == 2;
    let ovr = match mc.as_deref() {
        Some("ovr" | "warn") => true,
        Some("multinomial") => false,
        Some("auto") => binary || solver == "liblinear" || solver == "newton-cholesky",
        Some("deprecated") => binary || solver == "liblinear",
        None => binary,
        Some(other) => {
            return Err(Refusal::new(format!(
                "LogisticRegression.multi_class is {other:?}"
            )));
        }
    };
    let probabilities = if ovr {
        ovr_proba(g, &d)
    } else if binary {
        // softmax([-d, d]) = expit(2d): scikit-learn's binary multinomial.
        let two = g.scalar("two", d.elem, 2.0);
        let d2 = g.bin("Mul", &d, &two);
        let p = g.sigmoid(&d2);
        g.binary_probs(&p)
    } else {
        g.softmax(&d)
    };
    let label = labels(g, &d, &classes);
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}

/// LinearSVC: no probabilities; `probabilities` holds the decision function (`[N, 1]` for
/// two classes), as skl2onnx does.
fn svc(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let classes = Classes::of(est)?;
    let d = decision(est, g, x)?;
    check_classes(est, &d, &classes)?;
    let label = labels(g, &d, &classes);
    Ok(Outputs::Classifier {
        label,
        probabilities: d,
    })
}

fn sgd_classifier(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let classes = Classes::of(est)?;
    let d = decision(est, g, x)?;
    check_classes(est, &d, &classes)?;
    let loss = est.str_opt("loss").unwrap_or_default();
    let probabilities = match loss.as_str() {
        "log_loss" | "log" => ovr_proba(g, &d),
        "modified_huber" => {
            // (clip(d, -1, 1) + 1) / 2; multiclass rows normalised (zero rows uniform).
            let lo = g.scalar("lo", d.elem, -1.0);
            let hi = g.scalar("hi", d.elem, 1.0);
            let c = g.op("Clip", &[&d.name, &lo, &hi], vec![], d.elem, d.cols);
            let one = g.scalar("one", d.elem, 1.0);
            let half = g.scalar("half", d.elem, 0.5);
            let c1 = g.bin("Add", &c, &one);
            let p = g.bin("Mul", &c1, &half);
            if d.width() == 1 {
                g.binary_probs(&p)
            } else {
                normalise_rows(g, &p)
            }
        }
        // No predict_proba: the decision function, as LinearSVC.
        _ => d.clone(),
    };
    let label = labels(g, &d, &classes);
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}

fn regressor(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let d = decision(est, g, x)?;
    Ok(Outputs::Values(d))
}
