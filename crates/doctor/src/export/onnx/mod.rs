//! `export --to onnx`: a scikit-learn model's ONNX graph, written from its pickled state alone.
//!
//! The pickle (or joblib dump) is run symbolically, never loaded. [`state`] views the root
//! object as an [`state::Estimator`] (class, `__dict__`, typed getters over numpy arrays and
//! scalars); [`registry`] finds its converter by class; the converter writes ONNX nodes with
//! [`graph::Graph`] (crate `onnx`: prost messages compiled from the vendored `onnx.proto`).
//! The graph follows skl2onnx's conventions without ZipMap: input `float_input` `[N, F]`
//! (float, or double with `--float64`); classifiers output `label` and `probabilities`,
//! regressors and transformers `variable`.
//!
//! Nothing is written unless the whole model converts: a refusal names the offending step's
//! path (`steps[1] ('clf')`) and lists what is supported. The file is written to a temporary
//! file and renamed into place.
//!
//! # Adding converters (the interface the tree converters use)
//!
//! A family module under `estimators/` exposes `pub const CONVERTERS: &[registry::Entry]`,
//! each entry a class name, a [`registry::Kind`] and a [`registry::Convert`] function:
//!
//! ```ignore
//! fn convert(est: &Estimator<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs>
//! ```
//!
//! - `est` reads the fitted state: `est.f64("learning_rate")`, `est.i64s("classes_")`,
//!   `est.array("nodes")?.fields()` / `.raw_c()` for structured arrays, `est.list("estimators_")`,
//!   `est.get("init_")?.as_estimator()`, `est.array("estimators_")?.objects()` for object
//!   arrays. Every getter returns a [`state::Refusal`] when the attribute is missing or has
//!   another type; never panic.
//! - `x` is `[N, F]` with `x.elem` F32 or F64 (`g.settings.input` is the graph input's type).
//!   Tree ops compute in float: `g.cast(x, Elem::F32)`.
//! - Add initializers and nodes with `g.b` (`onnx::GraphBuilder`: `node`, `op`, `ml`,
//!   `init_*`; attributes from `onnx::attr`, which always set `AttributeProto.type`).
//!   ML-domain nodes are imported at `g.settings.ml_opset` (3 by default).
//! - Return [`graph::Outputs::Classifier`] (`label` `[N]` int64/string from the estimator's
//!   own `classes_`, see [`graph::Classes`] and `Graph::labels_from_index`, and
//!   `probabilities` `[N, K]`) or [`graph::Outputs::Values`] (`[N, k]`). The caller names
//!   them and casts float outputs to the input's type.

pub mod estimators;
pub mod graph;
pub mod registry;
pub mod state;

use std::collections::BTreeMap;

use onnx::{Dim, Elem, GraphBuilder};
use serde::Serialize;

use graph::{Graph, Outputs, Settings, Tensor};
use state::{Refusal, State, Val};

/// Default versions: what current onnxruntime (1.14 up to 1.32) loads.
pub const DEFAULT_OPSET: i64 = 17;
/// Default `ai.onnx.ml` version.
pub const DEFAULT_ML_OPSET: i64 = 3;
/// Lowest `--target-opset` (Softmax/ReduceSum/Split semantics of opset 13 are used).
pub const MIN_OPSET: i64 = 13;
/// Highest `--target-opset`.
pub const MAX_OPSET: i64 = 21;

/// The IR version that goes with an opset (as skl2onnx pairs them).
#[must_use]
pub fn ir_version(opset: i64) -> i64 {
    match opset {
        ..=18 => 8,
        19..=20 => 9,
        _ => 10,
    }
}

/// A graph input or output, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Io {
    /// Its name.
    pub name: String,
    /// Element type (`float`, `double`, `int64`, `string`).
    pub elem: &'static str,
    /// Shape, `"N"` for the batch.
    pub shape: Vec<String>,
}

/// What an ONNX export wrote (or would write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnnxSummary {
    /// The root estimator's class (`sklearn.pipeline.Pipeline`).
    pub estimator: String,
    /// Every estimator converted, by path (`steps[0] ('scaler')`), with its class.
    pub steps: Vec<(String, String)>,
    /// The graph input.
    pub input: Option<Io>,
    /// The graph outputs.
    pub outputs: Vec<Io>,
    /// `ModelProto.ir_version`.
    pub ir_version: i64,
    /// `opset_import`, by domain.
    pub opsets: BTreeMap<String, i64>,
    /// Number of nodes.
    pub nodes: usize,
    /// The classes this build converts (listed when something was refused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported: Vec<&'static str>,
}

/// Options of an ONNX export.
#[derive(Debug, Clone, Copy)]
pub struct OnnxOptions {
    /// Double input (`--float64`).
    pub float64: bool,
    /// The default domain's opset.
    pub opset: i64,
}

/// The outcome of converting one opened file: the summary, and the model's bytes or the
/// refusal.
pub(crate) type Built = (OnnxSummary, std::result::Result<Vec<u8>, Refusal>);

/// The number of input features of an estimator, looking through compositions.
fn n_features(v: Val<'_>) -> Option<usize> {
    let est = v.as_estimator()?;
    if let Some(n) = est.n_features() {
        return Some(n);
    }
    if est.name == "Pipeline" {
        for step in est.list("steps").ok()? {
            let pair = step.as_list()?;
            let inner = pair.get(1)?;
            if inner.is_none() || inner.as_str().is_some() {
                continue;
            }
            return n_features(*inner);
        }
    }
    None
}

fn feature_names(v: Val<'_>) -> Option<Vec<String>> {
    let est = v.as_estimator()?;
    if let Some(n) = est.feature_names() {
        return Some(n);
    }
    if est.name == "Pipeline" {
        let steps = est.list("steps").ok()?;
        let pair = steps.first()?.as_list()?;
        return feature_names(*pair.get(1)?);
    }
    None
}

/// Converts the root object of `st` into a model.
pub(crate) fn build(st: &State<'_>, opts: OnnxOptions) -> Built {
    let ir = ir_version(opts.opset);
    let mut summary = OnnxSummary {
        estimator: String::new(),
        steps: Vec::new(),
        input: None,
        outputs: Vec::new(),
        ir_version: ir,
        opsets: BTreeMap::new(),
        nodes: 0,
        supported: Vec::new(),
    };
    let result = build_inner(st, opts, &mut summary);
    if let Err(r) = &result
        && r.list_supported
    {
        summary.supported = registry::supported();
    }
    (summary, result)
}

fn build_inner(
    st: &State<'_>,
    opts: OnnxOptions,
    summary: &mut OnnxSummary,
) -> std::result::Result<Vec<u8>, Refusal> {
    let Some(root) = st.roots().into_iter().next() else {
        return Err(Refusal::new("the pickle holds no object").at("<model>"));
    };
    let est = registry::estimator(root).map_err(|r| r.at("<model>"))?;
    summary.estimator = est.dotted();
    registry::entry(&est).map_err(|r| r.at("<model>"))?;
    let Some(features) = n_features(root) else {
        return Err(Refusal::new(format!(
            "{} has no n_features_in_: cannot size the input (fitted by scikit-learn < 1.0, or not fitted)",
            est.name
        ))
        .at("<model>"));
    };
    let elem = if opts.float64 { Elem::F64 } else { Elem::F32 };
    let mut g = Graph {
        b: GraphBuilder::new(&format!("pickle-doctor {}", est.name)),
        settings: Settings {
            input: elem,
            opset: opts.opset,
            ml_opset: DEFAULT_ML_OPSET,
        },
        steps: Vec::new(),
    };
    // Output names are reserved first so that no intermediate value takes them.
    for name in ["label", "probabilities", "variable"] {
        g.b.reserve(name);
    }
    let doc = feature_names(root).map(|n| {
        format!(
            "feature_names_in_: {}",
            serde_json::to_string(&n).unwrap_or_default()
        )
    });
    let width = i64::try_from(features).unwrap_or(i64::MAX);
    let input = g.b.input(
        "float_input",
        elem,
        &[Dim::batch(), Dim::Value(width)],
        doc.as_deref(),
    );
    summary.input = Some(Io {
        name: input.clone(),
        elem: elem.name(),
        shape: vec!["N".to_owned(), features.to_string()],
    });
    let x = Tensor::matrix(input, elem, features);
    g.steps.push(("<model>".to_owned(), est.dotted()));
    let out = registry::convert(root, &mut g, &x);
    summary.steps = std::mem::take(&mut g.steps);
    let out = out.map_err(|r| {
        if r.path.is_empty() {
            r.at("<model>")
        } else {
            r
        }
    })?;
    let mut outs = Vec::new();
    let mut finish = |g: &mut Graph, t: &Tensor, name: &str| {
        let t = if matches!(t.elem, Elem::F32 | Elem::F64) {
            g.cast(t, elem)
        } else {
            t.clone()
        };
        g.b.alias(&t.name, name);
        let mut dims = vec![Dim::batch()];
        let mut shape = vec!["N".to_owned()];
        if let Some(c) = t.cols {
            dims.push(Dim::Value(i64::try_from(c).unwrap_or(i64::MAX)));
            shape.push(c.to_string());
        }
        g.b.output(name, t.elem, &dims);
        outs.push(Io {
            name: name.to_owned(),
            elem: t.elem.name(),
            shape,
        });
    };
    match out {
        Outputs::Classifier {
            label,
            probabilities,
        } => {
            finish(&mut g, &label, "label");
            finish(&mut g, &probabilities, "probabilities");
        }
        Outputs::Values(v) => finish(&mut g, &v, "variable"),
    }
    summary.outputs = outs;
    summary.nodes = g.b.node_count();
    summary.opsets.insert(String::new(), opts.opset);
    if g.b.uses_domain(onnx::ML) {
        summary.opsets.insert(onnx::ML.to_owned(), DEFAULT_ML_OPSET);
    }
    let version = env!("CARGO_PKG_VERSION");
    Ok(g.b.finish(
        summary.ir_version,
        &[("", opts.opset), (onnx::ML, DEFAULT_ML_OPSET)],
        version,
    ))
}

/// The scikit-learn pickle member of an opened file, or why there is none.
fn model_member<'o, 'a>(
    opened: &'o container::Opened<'a>,
    shown: &str,
) -> crate::Result<&'o container::Member<'a>> {
    if crate::members::is_torch(&opened.format) {
        return Err(crate::Error::Usage(format!(
            "{shown}: a torch file: --to onnx converts scikit-learn models (pickles and joblib dumps); export torch weights with --to safetensors"
        )));
    }
    crate::members::loaded_members(opened)
        .into_iter()
        .next()
        .ok_or_else(|| {
            crate::Error::Usage(format!(
                "{shown}: no pickle inside ({}): --to onnx converts pickled scikit-learn models",
                opened.format.name()
            ))
        })
}

/// Plans and converts an opened file; the model's bytes, or the refusal.
pub(crate) fn convert_opened(
    opened: &container::Opened<'_>,
    opts: &super::ExportOptions,
    shown: &str,
) -> crate::Result<Built> {
    let opset = opts.target_opset.unwrap_or(DEFAULT_OPSET);
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        return Err(crate::Error::Usage(format!(
            "--target-opset {opset}: this exporter writes opsets {MIN_OPSET} to {MAX_OPSET}"
        )));
    }
    let member = model_member(opened, shown)?;
    let run = crate::members::run(member, opts.limits.budgets);
    if let Some(e) = run.trace.error() {
        return Err(crate::Error::Usage(format!(
            "{}: the pickle is damaged, so the model cannot be trusted: {e}",
            crate::target::place(shown, &member.name)
        )));
    }
    let st = State::new(&run.trace, &member.data, &run.arrays);
    Ok(build(
        &st,
        OnnxOptions {
            float64: opts.float64,
            opset,
        },
    ))
}

/// `export --to onnx`: converts, then writes atomically (unless a dry run or refused).
pub(crate) fn run(
    opened: &container::Opened<'_>,
    opts: &super::ExportOptions,
    shown: String,
) -> crate::Result<super::ExportReport> {
    let (summary, bytes) = convert_opened(opened, opts, &shown)?;
    let mut report = super::ExportReport {
        path: shown,
        format: opened.format.name().to_owned(),
        output: None,
        dry_run: opts.output.is_none(),
        tensors: Vec::new(),
        dropped_shared: BTreeMap::new(),
        metadata: BTreeMap::new(),
        skipped: Vec::new(),
        refused: Vec::new(),
        file_bytes: 0,
        onnx: None,
    };
    match bytes {
        Err(r) => {
            let mut why = r.why;
            if r.list_supported {
                why.push_str(&format!(
                    "; supported: {}",
                    registry::supported().join(", ")
                ));
            }
            report.refused.push(super::Refused { name: r.path, why });
        }
        Ok(bytes) => {
            report.file_bytes = bytes.len() as u64;
            if let Some(dest) = &opts.output {
                write_atomically(dest, &bytes)?;
                report.output = Some(dest.display().to_string());
            }
        }
    }
    report.onnx = Some(summary);
    Ok(report)
}

/// Writes `bytes` to a temporary file beside `dest`, then renames it into place: a partial
/// file is never left behind.
fn write_atomically(dest: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    use std::io::Write;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let shown = dest.display().to_string();
    let mut tmp = tempfile::Builder::new()
        .prefix(".pickle-doctor-export-")
        .tempfile_in(&dir)
        .map_err(|e| {
            crate::Error::io(
                format!("a temporary file in {}", dir.display()),
                "create",
                e,
            )
        })?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| crate::Error::io(&shown, "write", e))?;
    tmp.persist(dest)
        .map_err(|e| crate::Error::io(&shown, "write", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ir_versions_follow_the_opset_as_skl2onnx_pairs_them() {
        assert_eq!(ir_version(13), 8);
        assert_eq!(ir_version(DEFAULT_OPSET), 8);
        assert_eq!(ir_version(18), 8);
        assert_eq!(ir_version(19), 9);
        assert_eq!(ir_version(MAX_OPSET), 10);
    }
}
