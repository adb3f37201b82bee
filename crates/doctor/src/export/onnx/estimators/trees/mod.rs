//! Tree models: DecisionTree, RandomForest, ExtraTrees (classifier and regressor),
//! GradientBoosting and HistGradientBoosting.
//!
//! Owned by the `trees` work (issue #13). Until it lands every class here is listed but
//! refused with "not yet supported", so the registry, the refusal message and the harness
//! already know them.

use crate::export::onnx::graph::{Graph, Outputs, Tensor};
use crate::export::onnx::registry::{Entry, Kind};
use crate::export::onnx::state::{Estimator, Refusal, Res};

fn not_yet(est: &Estimator<'_>, _g: &mut Graph, _x: &Tensor) -> Res<Outputs> {
    Err(Refusal::new(format!(
        "{} is not yet supported by this build",
        est.dotted()
    )))
}

/// The tree converters.
pub const CONVERTERS: &[Entry] = &[
    Entry {
        class: "DecisionTreeClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "DecisionTreeRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
    Entry {
        class: "ExtraTreeClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "ExtraTreeRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
    Entry {
        class: "RandomForestClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "RandomForestRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
    Entry {
        class: "ExtraTreesClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "ExtraTreesRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
    Entry {
        class: "GradientBoostingClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "GradientBoostingRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
    Entry {
        class: "HistGradientBoostingClassifier",
        kind: Kind::Classifier,
        convert: not_yet,
    },
    Entry {
        class: "HistGradientBoostingRegressor",
        kind: Kind::Regressor,
        convert: not_yet,
    },
];
