//! KNeighborsClassifier, by brute force over the pickled training set (`_fit_X`, `_y`):
//! exact pairwise distances in double (`Sub` of `[N, 1, F]` and `[n, F]`, then squared or
//! absolute, summed), `TopK` smallest, the neighbours' class indices one-hot encoded and
//! summed (weighted by `1/d` for `weights="distance"`, where a zero distance takes all the
//! weight, as scikit-learn's `_get_weights` does).
//!
//! Equal distances are ordered by `TopK`, which may differ from scikit-learn's KD-tree or
//! ball tree order when the k-th and (k+1)-th neighbours tie.

use onnx::{Elem, attr};

use crate::export::onnx::graph::{Classes, Graph, Outputs, Tensor};
use crate::export::onnx::registry::{Entry, Kind};
use crate::export::onnx::state::{Estimator, Refusal, Res};

/// The neighbours converters.
pub const CONVERTERS: &[Entry] = &[Entry {
    class: "KNeighborsClassifier",
    kind: Kind::Classifier,
    convert: knn_classifier,
}];

fn knn_classifier(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    if est.get("outputs_2d_").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Refusal::new(
            "KNeighborsClassifier fitted on several outputs: not supported",
        ));
    }
    let classes = Classes::of(est)?;
    let metric = est.str_opt("effective_metric_").unwrap_or_default();
    let p = est.get("p").and_then(|v| v.as_f64());
    let manhattan = match (metric.as_str(), p) {
        ("euclidean", _) | ("minkowski", Some(2.0)) | ("l2", _) => false,
        ("manhattan" | "cityblock" | "l1", _) | ("minkowski", Some(1.0)) => true,
        _ => {
            return Err(Refusal::new(format!(
                "KNeighborsClassifier with metric {metric:?} (p={p:?}): only euclidean and manhattan are supported"
            )));
        }
    };
    let weights = est.str_opt("weights").ok_or_else(|| {
        Refusal::new(
            "KNeighborsClassifier.weights is not \"uniform\" or \"distance\" (a callable?)",
        )
    })?;
    let distance = match weights.as_str() {
        "uniform" => false,
        "distance" => true,
        other => {
            return Err(Refusal::new(format!(
                "KNeighborsClassifier.weights is {other:?}"
            )));
        }
    };
    let k = usize::try_from(est.i64("n_neighbors")?)
        .map_err(|_| Refusal::new("KNeighborsClassifier.n_neighbors is negative"))?;
    let (fit_x, shape) = est.f64s("_fit_X")?;
    let (y, _) = est.i64s("_y")?;
    let [n, f] = shape.as_slice() else {
        return Err(Refusal::new("KNeighborsClassifier._fit_X is not 2-D"));
    };
    let (n, f) = (*n, *f);
    if f != x.width() || y.len() != n || k == 0 || k > n {
        return Err(Refusal::new(
            "KNeighborsClassifier's training data does not match its input or n_neighbors",
        ));
    }
    let kc = classes.len();
    if y.iter().any(|&c| c < 0 || c as usize >= kc) {
        return Err(Refusal::new(
            "KNeighborsClassifier._y holds an index outside classes_",
        ));
    }
    let xd = g.f64(x);
    let axes1 = g.ints("axes", &[1], &[1]);
    let x3 = g.op("Unsqueeze", &[&xd.name, &axes1], vec![], Elem::F64, None);
    let t = g.constant("fit_X", Elem::F64, &[n as i64, f as i64], &fit_x);
    let diff = g.op("Sub", &[&x3.name, &t], vec![], Elem::F64, None);
    let per = if manhattan {
        g.un("Abs", &diff)
    } else {
        g.bin("Mul", &diff, &diff.name.clone())
    };
    let axes2 = g.ints("axes", &[1], &[2]);
    let d = g.op(
        "ReduceSum",
        &[&per.name, &axes2],
        vec![attr::i("keepdims", 0)],
        Elem::F64,
        Some(n),
    );
    let kk = g.ints("k", &[1], &[k as i64]);
    let topk = g.b.node(
        "TopK",
        "",
        &[&d.name, &kk],
        &["knn_dist", "knn_index"],
        vec![
            attr::i("axis", 1),
            attr::i("largest", 0),
            attr::i("sorted", 1),
        ],
    );
    let yv = g.ints("fit_y", &[n as i64], &y);
    let cls = g.op(
        "Gather",
        &[&yv, &topk[1]],
        vec![attr::i("axis", 0)],
        Elem::I64,
        Some(k),
    );
    // One-hot by comparison with 0..K (onnxruntime has no double OneHot).
    let axes_last = g.ints("axes", &[1], &[2]);
    let cls3 = g.op(
        "Unsqueeze",
        &[&cls.name, &axes_last],
        vec![],
        Elem::I64,
        None,
    );
    let range: Vec<i64> = (0..kc as i64).collect();
    let ks = g.ints("class_index", &[kc as i64], &range);
    let eq = g.op("Equal", &[&cls3.name, &ks], vec![], Elem::Bool, None);
    let hot = g.op(
        "Cast",
        &[&eq.name],
        vec![attr::i("to", i64::from(Elem::F64.code()))],
        Elem::F64,
        None,
    );
    let hot = if distance {
        let dk = Tensor::matrix(topk[0].clone(), Elem::F64, k);
        let dist = if manhattan { dk } else { g.un("Sqrt", &dk) };
        let zero = g.scalar("zero", Elem::F64, 0.0);
        let is_zero = g.op("Equal", &[&dist.name, &zero], vec![], Elem::Bool, Some(k));
        let zf = g.cast(&is_zero, Elem::F64);
        let any = g.reduce("ReduceMax", &zf, 1, true);
        let any_b = g.op("Greater", &[&any.name, &zero], vec![], Elem::Bool, Some(1));
        let one = g.scalar("one", Elem::F64, 1.0);
        let inv = g.op("Div", &[&one, &dist.name], vec![], Elem::F64, Some(k));
        let w = g.op(
            "Where",
            &[&any_b.name, &zf.name, &inv.name],
            vec![],
            Elem::F64,
            Some(k),
        );
        let w3 = g.op("Unsqueeze", &[&w.name, &axes_last], vec![], Elem::F64, None);
        g.op("Mul", &[&hot.name, &w3.name], vec![], Elem::F64, None)
    } else {
        hot
    };
    let votes = g.op(
        "ReduceSum",
        &[&hot.name, &axes1],
        vec![attr::i("keepdims", 0)],
        Elem::F64,
        Some(kc),
    );
    let total = g.reduce("ReduceSum", &votes, 1, true);
    let probabilities = g.div_rows_safe(&votes, &total);
    let label = g.labels_from_scores(&votes, &classes);
    Ok(Outputs::Classifier {
        label,
        probabilities,
    })
}
