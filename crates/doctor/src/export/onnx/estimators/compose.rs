//! Pipeline and ColumnTransformer.
//!
//! A Pipeline chains its steps' converters; each intermediate output is rounded to the
//! input's type, as scikit-learn's transformers keep a float32 input float32. A
//! ColumnTransformer gathers each transformer's columns (ints, slices, bool masks, or names
//! through `feature_names_in_`), converts, and concatenates in `transformers_` order;
//! `'drop'` and empty selections are left out, `'passthrough'` (a string up to 1.3, an
//! identity FunctionTransformer from 1.4) copies its columns.

use onnx::Elem;

use crate::export::onnx::graph::{Graph, Outputs, Tensor};
use crate::export::onnx::registry::{self, Entry, Kind};
use crate::export::onnx::state::{Estimator, Refusal, Res, Val};

/// The composition converters.
pub const CONVERTERS: &[Entry] = &[
    Entry {
        class: "Pipeline",
        kind: Kind::Composition,
        convert: pipeline,
    },
    Entry {
        class: "ColumnTransformer",
        kind: Kind::Composition,
        convert: column_transformer,
    },
];

fn step_path(list: &str, i: usize, name: &str) -> String {
    format!("{list}[{i}] ('{name}')")
}

fn pipeline(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let steps = est.list("steps")?;
    if steps.is_empty() {
        return Err(Refusal::new("the Pipeline has no steps"));
    }
    let mut cur = x.clone();
    let last = steps.len() - 1;
    for (i, s) in steps.iter().enumerate() {
        let parts = s.as_list().ok_or_else(|| {
            Refusal::new(format!(
                "Pipeline.steps[{i}] is not a (name, estimator) pair"
            ))
        })?;
        let name = parts.first().and_then(Val::as_str).unwrap_or_default();
        let path = step_path("steps", i, &name);
        let Some(step) = parts.get(1) else {
            return Err(Refusal::new("not a (name, estimator) pair").at(&path));
        };
        if step.is_none() || step.as_str().as_deref() == Some("passthrough") {
            g.steps.push((path, "passthrough".to_owned()));
            if i == last {
                return Ok(Outputs::Values(cur));
            }
            continue;
        }
        if let Some(e) = step.as_estimator() {
            g.steps.push((path.clone(), e.dotted()));
        }
        let out = registry::convert(*step, g, &cur).map_err(|r| r.at(&path))?;
        if i == last {
            return Ok(out);
        }
        match out {
            Outputs::Values(v) => cur = g.cast(&v, x.elem),
            Outputs::Classifier { .. } => {
                return Err(Refusal::new(
                    "a classifier in the middle of a Pipeline (only the last step may predict)",
                )
                .at(&path));
            }
        }
    }
    Ok(Outputs::Values(cur))
}

/// The column indices a ColumnTransformer entry selects.
fn columns(sel: &Val<'_>, est: &Estimator<'_>, f: usize) -> Res<Vec<i64>> {
    let fi = i64::try_from(f).unwrap_or(i64::MAX);
    let norm = |i: i64| -> Res<i64> {
        let j = if i < 0 { i + fi } else { i };
        if (0..fi).contains(&j) {
            Ok(j)
        } else {
            Err(Refusal::new(format!(
                "column {i} is out of range for {f} features"
            )))
        }
    };
    let by_name = |n: &str| -> Res<i64> {
        let names = est.feature_names().ok_or_else(|| {
            Refusal::new(format!(
                "column {n:?} is selected by name but the ColumnTransformer has no feature_names_in_"
            ))
        })?;
        names
            .iter()
            .position(|x| x == n)
            .map(|p| p as i64)
            .ok_or_else(|| Refusal::new(format!("column {n:?} is not in feature_names_in_")))
    };
    if let Some(i) = sel.as_i64()
        && sel.as_bool().is_none()
    {
        return Ok(vec![norm(i)?]);
    }
    if let Some(n) = sel.as_str() {
        return Ok(vec![by_name(&n)?]);
    }
    // slice(start, stop, step)
    if let Some(("builtins" | "__builtin__", "slice")) = sel.class() {
        return slice_columns(sel, f);
    }
    let items: Vec<Val<'_>> = if let Some(a) = sel.as_array() {
        if a.descr.ends_with("b1") {
            let m = a
                .i64s()
                .ok_or_else(|| Refusal::new("an unreadable boolean column mask"))?;
            if m.len() != f {
                return Err(Refusal::new("a boolean column mask of the wrong length"));
            }
            return Ok((0..fi).filter(|&j| m[j as usize] != 0).collect());
        }
        if let Some(v) = a.i64s() {
            return v.into_iter().map(norm).collect();
        }
        if let Some(names) = a.strings() {
            return names.iter().map(|n| by_name(n)).collect();
        }
        return Err(Refusal::new(format!(
            "a column selection of dtype {}",
            a.descr
        )));
    } else if let Some(l) = sel.as_list() {
        l
    } else if let Some(data) = sel
        .as_estimator()
        .and_then(|e| e.get("data"))
        .and_then(|d| d.as_list())
    {
        // A UserList (1.5 to 1.7 pickle the remainder's columns as `_RemainderColsList`).
        data
    } else {
        let what = sel
            .class()
            .map(|(m, n)| format!("{m}.{n}"))
            .unwrap_or_else(|| "an unknown value".to_owned());
        return Err(Refusal {
            path: String::new(),
            why: format!("columns selected by {what} (a callable selector cannot be exported)"),
            list_supported: false,
        });
    };
    if !items.is_empty()
        && items
            .iter()
            .all(|v| v.as_bool().is_some() && matches!(v.v, vm::Value::Bool(_)))
    {
        if items.len() != f {
            return Err(Refusal::new("a boolean column mask of the wrong length"));
        }
        return Ok((0..fi)
            .filter(|&j| items[j as usize].as_bool() == Some(true))
            .collect());
    }
    items
        .iter()
        .map(|v| {
            if let Some(n) = v.as_str() {
                by_name(&n)
            } else {
                norm(
                    v.as_i64()
                        .ok_or_else(|| Refusal::new("a column that is not an int or a name"))?,
                )
            }
        })
        .collect()
}

fn slice_columns(sel: &Val<'_>, f: usize) -> Res<Vec<i64>> {
    let args = sel
        .as_estimator()
        .map(|e| e.args())
        .ok_or_else(|| Refusal::new("an unreadable slice"))?;
    let get = |i: usize| -> Res<Option<i64>> {
        match args.get(i) {
            None => Ok(None),
            Some(v) if v.is_none() => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                Refusal::new("a slice whose bounds are not ints (a slice of names)")
            }),
        }
    };
    let fi = f as i64;
    let step = get(2)?.unwrap_or(1);
    if step <= 0 {
        return Err(Refusal::new("a slice with a step that is not positive"));
    }
    let clamp = |v: i64| -> i64 {
        let v = if v < 0 { v + fi } else { v };
        v.clamp(0, fi)
    };
    let start = get(0)?.map_or(0, clamp);
    let stop = get(1)?.map_or(fi, clamp);
    Ok((start..stop).step_by(step as usize).collect())
}

fn column_transformer(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    if est.get("sparse_output_").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Refusal::new(
            "the ColumnTransformer outputs a sparse matrix (sparse_output_): not supported",
        ));
    }
    let f = x.width();
    let entries = est.list("transformers_")?;
    let mut parts: Vec<Tensor> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let t = e
            .as_list()
            .ok_or_else(|| Refusal::new(format!("transformers_[{i}] is not a tuple")))?;
        let name = t.first().and_then(Val::as_str).unwrap_or_default();
        let path = step_path("transformers", i, &name);
        let (Some(trans), Some(sel)) = (t.get(1), t.get(2)) else {
            return Err(Refusal::new("not a (name, transformer, columns) tuple").at(&path));
        };
        let kind = trans.as_str();
        if kind.as_deref() == Some("drop") {
            g.steps.push((path, "drop".to_owned()));
            continue;
        }
        let cols = columns(sel, est, f).map_err(|r| r.at(&path))?;
        if cols.is_empty() {
            continue;
        }
        let sub = g.columns(x, &cols);
        if kind.as_deref() == Some("passthrough") {
            g.steps.push((path, "passthrough".to_owned()));
            parts.push(sub);
            continue;
        }
        if let Some(e) = trans.as_estimator() {
            g.steps.push((path.clone(), e.dotted()));
        }
        match registry::convert(*trans, g, &sub).map_err(|r| r.at(&path))? {
            Outputs::Values(v) => parts.push(v),
            Outputs::Classifier { .. } => {
                return Err(Refusal::new("a classifier inside a ColumnTransformer").at(&path));
            }
        }
    }
    if parts.is_empty() {
        return Err(Refusal::new("the ColumnTransformer outputs no column"));
    }
    let elem = if parts.iter().all(|p| p.elem == x.elem) {
        x.elem
    } else {
        Elem::F64
    };
    Ok(Outputs::Values(g.concat(&parts, elem)))
}
