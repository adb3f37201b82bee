//! Tree models: DecisionTree, ExtraTree, RandomForest and ExtraTrees (classifier and
//! regressor), GradientBoosting and HistGradientBoosting (classifier and regressor).
//!
//! Every family is read from its pickled state into one [`ensemble::Ensemble`] (nodes and leaf
//! weights) and written as a single ai.onnx.ml TreeEnsembleClassifier/Regressor ([`emit`]):
//!
//! - [`layout`] and [`nodes`]: the node records, parsed by the field names and offsets of the
//!   pickled structured dtype (56- or 64-byte `Tree` nodes, 52- or 56-byte HGB nodes);
//! - [`forest`]: single trees and forests (leaf counts or fractions, normalised per leaf);
//! - [`gb`]: GradientBoosting (learning rate, `init_` prior or constant, loss);
//! - [`hgb`]: HistGradientBoosting (baseline, loss link, NaN routing, no categorical splits).

mod emit;
mod ensemble;
mod forest;
mod gb;
mod hgb;
pub(crate) mod layout;
pub(crate) mod nodes;

use crate::export::onnx::registry::{Entry, Kind};
use crate::export::onnx::state::{Array, Estimator, Refusal, Res};

use layout::Layout;
use nodes::TreeNode;

/// The tree converters.
pub const CONVERTERS: &[Entry] = &[
    Entry {
        class: "DecisionTreeClassifier",
        kind: Kind::Classifier,
        convert: forest::classifier,
    },
    Entry {
        class: "DecisionTreeRegressor",
        kind: Kind::Regressor,
        convert: forest::regressor,
    },
    Entry {
        class: "ExtraTreeClassifier",
        kind: Kind::Classifier,
        convert: forest::classifier,
    },
    Entry {
        class: "ExtraTreeRegressor",
        kind: Kind::Regressor,
        convert: forest::regressor,
    },
    Entry {
        class: "RandomForestClassifier",
        kind: Kind::Classifier,
        convert: forest::classifier,
    },
    Entry {
        class: "RandomForestRegressor",
        kind: Kind::Regressor,
        convert: forest::regressor,
    },
    Entry {
        class: "ExtraTreesClassifier",
        kind: Kind::Classifier,
        convert: forest::classifier,
    },
    Entry {
        class: "ExtraTreesRegressor",
        kind: Kind::Regressor,
        convert: forest::regressor,
    },
    Entry {
        class: "GradientBoostingClassifier",
        kind: Kind::Classifier,
        convert: gb::classifier,
    },
    Entry {
        class: "GradientBoostingRegressor",
        kind: Kind::Regressor,
        convert: gb::regressor,
    },
    Entry {
        class: "HistGradientBoostingClassifier",
        kind: Kind::Classifier,
        convert: hgb::classifier,
    },
    Entry {
        class: "HistGradientBoostingRegressor",
        kind: Kind::Regressor,
        convert: hgb::regressor,
    },
];

/// The layout of a structured array's records.
fn layout_of(a: &Array<'_>, what: &str) -> Res<Layout> {
    let fields = a
        .fields()
        .ok_or_else(|| Refusal::new(format!("{what} is not a structured array ({})", a.descr)))?;
    let triples: Vec<(String, String, usize)> = fields
        .into_iter()
        .map(|f| (f.name, f.descr, f.offset))
        .collect();
    Layout::new(a.itemsize, &triples).map_err(|e| Refusal::new(format!("{what}: {e}")))
}

/// The records of a 1-D structured array: (layout, C-order bytes, count).
fn records(a: &Array<'_>, what: &str) -> Res<(Layout, Vec<u8>, usize)> {
    let layout = layout_of(a, what)?;
    let [count] = a.shape[..] else {
        return Err(Refusal::new(format!("{what} is not 1-D ({:?})", a.shape)));
    };
    let bytes = a
        .raw_c()
        .ok_or_else(|| Refusal::new(format!("{what}: its bytes are missing or short")))?;
    Ok((layout, bytes.into_owned(), count))
}

/// A fitted scikit-learn `Tree` (`tree_` of a DecisionTree/ExtraTree estimator).
pub(crate) struct SkTree {
    /// Nodes.
    pub(crate) nodes: Vec<TreeNode>,
    /// `values`, C order `(node_count, n_outputs, width)`.
    values: Vec<f64>,
    /// `n_outputs`.
    pub(crate) n_outputs: usize,
    /// Values per output (classes, or 1 for regression).
    pub(crate) width: usize,
}

impl SkTree {
    /// The values of `node` for `output`.
    pub(crate) fn value(&self, node: usize, output: usize) -> &[f64] {
        let at = (node * self.n_outputs + output) * self.width;
        &self.values[at..at + self.width]
    }

    /// Reads `est.tree_`, checking features against `n_features`.
    pub(crate) fn of(est: &Estimator<'_>, n_features: usize) -> Res<SkTree> {
        let tree = est.estimator("tree_")?;
        let (layout, bytes, count) = records(&tree.array("nodes")?, "tree_.nodes")?;
        let nodes = nodes::sklearn_tree(&layout, &bytes, count, n_features)
            .map_err(|e| Refusal::new(format!("tree_.nodes: {e}")))?;
        let (values, shape) = tree.f64s("values")?;
        let [n, n_outputs, width] = shape[..] else {
            return Err(Refusal::new(format!(
                "tree_.values has shape {shape:?}, not (nodes, outputs, values)"
            )));
        };
        if n != nodes.len() || n_outputs == 0 || width == 0 {
            return Err(Refusal::new(format!(
                "tree_.values has shape {shape:?} for {} nodes",
                nodes.len()
            )));
        }
        Ok(SkTree {
            nodes,
            values,
            n_outputs,
            width,
        })
    }
}

/// `n_features_in_` of an estimator.
fn n_features(est: &Estimator<'_>) -> Res<usize> {
    est.n_features().filter(|&n| n > 0).ok_or_else(|| {
        Refusal::new(format!(
            "{} has no n_features_in_ (fitted before scikit-learn 1.0, or not fitted)",
            est.name
        ))
    })
}

/// Indices of the leaves of a tree.
fn leaves(nodes: &[TreeNode]) -> impl Iterator<Item = usize> + '_ {
    nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n, TreeNode::Leaf))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::export::onnx::state::State;
    use crate::export::onnx::{DEFAULT_OPSET, OnnxOptions, build};

    /// Models the exporter must refuse, pickled by scikit-learn 1.2.2, 1.3.2, 1.6.1 and 1.9.1
    /// (`tests/export/onnx_tree_state.py`): each refusal names the reason.
    #[test]
    fn refusals_name_their_reason() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/sklearn-tree-state");
        let cases = [
            ("categorical", "categorical features"),
            (
                "multi-output",
                "multi-output tree classifiers are not supported",
            ),
            ("single-class", "fitted on a single class"),
            ("gb-init", "its own init estimator"),
        ];
        for version in ["1.2.2", "1.3.2", "1.6.1", "1.9.1"] {
            for (name, why) in cases {
                let data = std::fs::read(dir.join(version).join(format!("refusal-{name}.pkl")))
                    .expect("fixture");
                let trace = vm::run(&data);
                let st = State::new(&trace, &data, &[]);
                let opts = OnnxOptions {
                    float64: false,
                    opset: DEFAULT_OPSET,
                };
                let (summary, out) = build(&st, opts);
                let refusal = out.expect_err(name);
                assert!(
                    refusal.why.contains(why),
                    "{version} {name}: {} ({})",
                    refusal.why,
                    summary.estimator
                );
                assert_eq!(refusal.path, "<model>", "{version} {name}");
            }
        }
    }
}
