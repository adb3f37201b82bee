//! Preprocessing: StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler, Normalizer,
//! SimpleImputer, OneHotEncoder (numeric categories), PCA, and FunctionTransformer when it is
//! the identity (`func=None`, what ColumnTransformer's fitted `'passthrough'` becomes).
//!
//! Arithmetic is in double with standard ops. `Normalizer(norm="max")` divides by the largest
//! *absolute* value (`Abs`, `ReduceMax`), not by ONNX-ML's `MAX`, which drops the `Abs`.

use onnx::Elem;

use crate::export::onnx::graph::{Graph, Outputs, Tensor};
use crate::export::onnx::registry::{Entry, Kind};
use crate::export::onnx::state::{Estimator, Refusal, Res};

/// The preprocessing converters.
pub const CONVERTERS: &[Entry] = &[
    Entry {
        class: "StandardScaler",
        kind: Kind::Transformer,
        convert: standard,
    },
    Entry {
        class: "MinMaxScaler",
        kind: Kind::Transformer,
        convert: minmax,
    },
    Entry {
        class: "MaxAbsScaler",
        kind: Kind::Transformer,
        convert: maxabs,
    },
    Entry {
        class: "RobustScaler",
        kind: Kind::Transformer,
        convert: robust,
    },
    Entry {
        class: "Normalizer",
        kind: Kind::Transformer,
        convert: normalizer,
    },
    Entry {
        class: "SimpleImputer",
        kind: Kind::Transformer,
        convert: imputer,
    },
    Entry {
        class: "OneHotEncoder",
        kind: Kind::Transformer,
        convert: one_hot,
    },
    Entry {
        class: "PCA",
        kind: Kind::Transformer,
        convert: pca,
    },
    Entry {
        class: "FunctionTransformer",
        kind: Kind::Transformer,
        convert: function,
    },
];

/// A per-feature vector attribute (or `None` when absent or `None`), checked against F.
fn per_feature(est: &Estimator<'_>, key: &str, f: usize) -> Res<Option<Vec<f64>>> {
    if est.is_none(key) {
        return Ok(None);
    }
    let (v, _) = est.f64s(key)?;
    if v.len() != f {
        return Err(Refusal::new(format!(
            "{}.{key} has {} entries for {f} features",
            est.name,
            v.len()
        )));
    }
    Ok(Some(v))
}

fn row(g: &mut Graph, base: &str, v: &[f64]) -> String {
    g.constant(base, Elem::F64, &[1, v.len() as i64], v)
}

/// `(x - center) / scale`, each optional.
fn center_scale(
    g: &mut Graph,
    x: &Tensor,
    center: Option<&[f64]>,
    scale: Option<&[f64]>,
) -> Tensor {
    let mut y = g.f64(x);
    if let Some(c) = center {
        let c = row(g, "offset", c);
        y = g.bin("Sub", &y, &c);
    }
    if let Some(s) = scale {
        let s = row(g, "scale", s);
        y = g.bin("Div", &y, &s);
    }
    y
}

fn standard(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let f = x.width();
    let mean = if est.get("with_mean").and_then(|v| v.as_bool()) == Some(false) {
        None
    } else {
        per_feature(est, "mean_", f)?
    };
    let scale = if est.get("with_std").and_then(|v| v.as_bool()) == Some(false) {
        None
    } else {
        per_feature(est, "scale_", f)?
    };
    Ok(Outputs::Values(center_scale(
        g,
        x,
        mean.as_deref(),
        scale.as_deref(),
    )))
}

fn robust(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let f = x.width();
    let center = per_feature(est, "center_", f)?;
    let scale = per_feature(est, "scale_", f)?;
    Ok(Outputs::Values(center_scale(
        g,
        x,
        center.as_deref(),
        scale.as_deref(),
    )))
}

fn maxabs(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let scale = per_feature(est, "scale_", x.width())?;
    Ok(Outputs::Values(center_scale(g, x, None, scale.as_deref())))
}

fn minmax(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let f = x.width();
    let scale = per_feature(est, "scale_", f)?
        .ok_or_else(|| Refusal::new("MinMaxScaler has no scale_ (not fitted?)"))?;
    let min = per_feature(est, "min_", f)?
        .ok_or_else(|| Refusal::new("MinMaxScaler has no min_ (not fitted?)"))?;
    let y = g.f64(x);
    let s = row(g, "scale", &scale);
    let m = row(g, "min", &min);
    let y = g.bin("Mul", &y, &s);
    let mut y = g.bin("Add", &y, &m);
    if est.get("clip").and_then(|v| v.as_bool()) == Some(true) {
        let range = est.list("feature_range")?;
        let (Some(lo), Some(hi)) = (
            range.first().and_then(|v| v.as_f64()),
            range.get(1).and_then(|v| v.as_f64()),
        ) else {
            return Err(Refusal::new(
                "MinMaxScaler.feature_range is not two numbers",
            ));
        };
        let lo = g.scalar("lo", Elem::F64, lo);
        let hi = g.scalar("hi", Elem::F64, hi);
        y = g.op("Clip", &[&y.name, &lo, &hi], vec![], Elem::F64, y.cols);
    }
    Ok(Outputs::Values(y))
}

fn normalizer(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let norm = est.str_opt("norm").unwrap_or_else(|| "l2".to_owned());
    let y = g.f64(x);
    let n = match norm.as_str() {
        "l1" => {
            let a = g.un("Abs", &y);
            g.reduce("ReduceSum", &a, 1, true)
        }
        "l2" => {
            let sq = g.bin("Mul", &y, &y.name.clone());
            let s = g.reduce("ReduceSum", &sq, 1, true);
            g.un("Sqrt", &s)
        }
        "max" => {
            let a = g.un("Abs", &y);
            g.reduce("ReduceMax", &a, 1, true)
        }
        other => {
            return Err(Refusal::new(format!("Normalizer.norm is {other:?}")));
        }
    };
    Ok(Outputs::Values(g.div_rows_safe(&y, &n)))
}

/// The value `missing_values` stands for: NaN (`np.nan`, `None`, `pd.NA`) or a number.
fn missing_value(est: &Estimator<'_>) -> Res<Option<f64>> {
    let Some(v) = est.get("missing_values") else {
        return Ok(None);
    };
    if v.is_none() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(m) if m.is_nan() => Ok(None),
        Some(m) => Ok(Some(m)),
        None => Err(Refusal::new(
            "SimpleImputer.missing_values is not a number (string data cannot be a float input)",
        )),
    }
}

/// A `[N, F]` bool mask of missing entries.
fn missing_mask(g: &mut Graph, y: &Tensor, missing: Option<f64>) -> Tensor {
    match missing {
        None => g.op("IsNaN", &[&y.name], vec![], Elem::Bool, y.cols),
        Some(m) => {
            let mv = g.scalar("missing", Elem::F64, m);
            g.op("Equal", &[&y.name, &mv], vec![], Elem::Bool, y.cols)
        }
    }
}

fn imputer(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let f = x.width();
    let stats = per_feature(est, "statistics_", f)?
        .ok_or_else(|| Refusal::new("SimpleImputer has no statistics_ (not fitted?)"))?;
    let missing = missing_value(est)?;
    let keep_empty = est.get("keep_empty_features").and_then(|v| v.as_bool()) == Some(true);
    let y = g.f64(x);
    let mask = missing_mask(g, &y, missing);
    // A feature all missing during fit has NaN statistics: dropped, unless
    // keep_empty_features (then filled with 0 for the mean/median/most_frequent strategies).
    let fill: Vec<f64> = stats
        .iter()
        .map(|s| if s.is_nan() && keep_empty { 0.0 } else { *s })
        .collect();
    let s = row(g, "statistics", &fill);
    let filled = g.op(
        "Where",
        &[&mask.name, &s, &y.name],
        vec![],
        Elem::F64,
        Some(f),
    );
    let keep: Vec<i64> = (0..f)
        .filter(|&j| keep_empty || !stats[j].is_nan())
        .map(|j| j as i64)
        .collect();
    let mut out = if keep.len() == f {
        filled
    } else {
        g.columns(&filled, &keep)
    };
    if est.get("add_indicator").and_then(|v| v.as_bool()) == Some(true) {
        let ind = est.estimator("indicator_")?;
        let (features, _) = ind.i64s("features_")?;
        if !features.is_empty() {
            let m = g.columns(&mask, &features);
            let mf = g.cast(&m, Elem::F64);
            out = g.concat(&[out, mf], Elem::F64);
        }
    }
    Ok(Outputs::Values(out))
}

fn one_hot(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    if est.get("_infrequent_enabled").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Refusal::new(
            "OneHotEncoder groups infrequent categories (min_frequency/max_categories): not supported",
        ));
    }
    let cats = est.list("categories_")?;
    if cats.len() != x.width() {
        return Err(Refusal::new(format!(
            "OneHotEncoder has {} category lists for {} features",
            cats.len(),
            x.width()
        )));
    }
    let drop: Vec<Option<i64>> = match est.get("drop_idx_") {
        Some(v) if !v.is_none() => {
            let a = v
                .as_array()
                .ok_or_else(|| Refusal::new("OneHotEncoder.drop_idx_ is not an array"))?;
            match a.objects() {
                Some(items) => items.iter().map(|i| i.as_i64()).collect(),
                None => a
                    .i64s()
                    .ok_or_else(|| Refusal::new("OneHotEncoder.drop_idx_ is not integral"))?
                    .into_iter()
                    .map(Some)
                    .collect(),
            }
        }
        _ => vec![None; cats.len()],
    };
    if drop.len() != cats.len() {
        return Err(Refusal::new("OneHotEncoder.drop_idx_ has the wrong length"));
    }
    let y = g.f64(x);
    let mut parts = Vec::new();
    for (j, c) in cats.iter().enumerate() {
        let a = c.as_array().ok_or_else(|| {
            Refusal::new(format!("OneHotEncoder.categories_[{j}] is not an array"))
        })?;
        let Some(values) = a.f64s() else {
            return Err(Refusal::new(format!(
                "OneHotEncoder.categories_[{j}] ({}) is not numeric: string categories need a string input",
                a.descr
            )));
        };
        if values.iter().any(|v| v.is_nan()) {
            return Err(Refusal::new(format!(
                "OneHotEncoder.categories_[{j}] holds NaN: not supported"
            )));
        }
        let kept: Vec<f64> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| drop[j] != Some(*i as i64))
            .map(|(_, v)| *v)
            .collect();
        if kept.is_empty() {
            continue;
        }
        let col = g.columns(&y, &[j as i64]);
        let cv = row(g, "categories", &kept);
        let eq = g.op(
            "Equal",
            &[&col.name, &cv],
            vec![],
            Elem::Bool,
            Some(kept.len()),
        );
        parts.push(g.cast(&eq, Elem::F64));
    }
    if parts.is_empty() {
        return Err(Refusal::new("OneHotEncoder outputs no column"));
    }
    Ok(Outputs::Values(g.concat(&parts, Elem::F64)))
}

fn pca(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let f = x.width();
    let (comp, shape) = est.f64s("components_")?;
    let [k, cf] = shape.as_slice() else {
        return Err(Refusal::new("PCA.components_ is not 2-D"));
    };
    let (k, cf) = (*k, *cf);
    if cf != f {
        return Err(Refusal::new(format!(
            "PCA.components_ has {cf} features for {f} inputs"
        )));
    }
    let mean = per_feature(est, "mean_", f)?;
    let mut y = g.f64(x);
    if let Some(m) = mean {
        let m = row(g, "mean", &m);
        y = g.bin("Sub", &y, &m);
    }
    let mut w = vec![0.0; f * k];
    for r in 0..k {
        for j in 0..f {
            w[j * k + r] = comp[r * f + j];
        }
    }
    let mut out = g.affine(&y, &w, f, k, None);
    if est.get("whiten").and_then(|v| v.as_bool()) == Some(true) {
        let (ev, _) = est.f64s("explained_variance_")?;
        if ev.len() != k {
            return Err(Refusal::new("PCA.explained_variance_ has the wrong length"));
        }
        let sd: Vec<f64> = ev.iter().map(|v| v.sqrt()).collect();
        let s = row(g, "scale", &sd);
        out = g.bin("Div", &out, &s);
    }
    Ok(Outputs::Values(out))
}

/// FunctionTransformer: only the identity (`func=None`) converts; a function is code.
fn function(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    if !est.is_none("func") {
        let what = est
            .get("func")
            .and_then(|f| f.class())
            .map(|(m, n)| format!("{m}.{n}"))
            .unwrap_or_else(|| "a callable".to_owned());
        return Err(Refusal {
            path: String::new(),
            why: format!("FunctionTransformer calls {what}: its code cannot be exported"),
            list_supported: true,
        });
    }
    Ok(Outputs::Values(g.cast(x, x.elem)))
}
