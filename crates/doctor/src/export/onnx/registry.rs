//! Which scikit-learn classes convert, and the dispatch from a pickled value to its converter.
//!
//! Each family module (`estimators::linear`, `estimators::preprocessing`,
//! `estimators::compose`, `estimators::neighbors`, `estimators::trees`) exposes a
//! `CONVERTERS: &[Entry]` table; [`all`] chains them. A class converts when its module is
//! scikit-learn's (`sklearn.…`) and its name is in a table: a subclass defined elsewhere is a
//! custom class and is refused, since its methods may compute something else.

use super::graph::{Graph, Outputs, Tensor};
use super::state::{Estimator, Refusal, Res, Val};

/// A converter: writes the estimator's prediction (or transform) of `x` into the graph.
///
/// `x` is `[N, F]` float or double (the input, or the previous step's output). The converter
/// returns its outputs; the caller names them (`label`/`probabilities`/`variable`) and casts
/// floats to the input's type.
pub type Convert = fn(&Estimator<'_>, &mut Graph, &Tensor) -> Res<Outputs>;

/// What an estimator is, for the refusal message and the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Predicts labels and probabilities.
    Classifier,
    /// Predicts values.
    Regressor,
    /// Transforms features.
    Transformer,
    /// Chains or combines others.
    Composition,
}

/// One supported class.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The class name (`LogisticRegression`).
    pub class: &'static str,
    /// What it is.
    pub kind: Kind,
    /// Its converter.
    pub convert: Convert,
}

/// Every supported class, in family order.
pub fn all() -> impl Iterator<Item = &'static Entry> {
    use super::estimators::{compose, linear, neighbors, preprocessing, trees};
    linear::CONVERTERS
        .iter()
        .chain(trees::CONVERTERS)
        .chain(preprocessing::CONVERTERS)
        .chain(compose::CONVERTERS)
        .chain(neighbors::CONVERTERS)
}

/// The supported class names, for messages.
#[must_use]
pub fn supported() -> Vec<&'static str> {
    all().map(|e| e.class).collect()
}

/// The entry for an estimator, or why there is none.
///
/// # Errors
/// A custom class (not defined in scikit-learn) or an unsupported scikit-learn class.
pub fn entry(est: &Estimator<'_>) -> Res<&'static Entry> {
    let sklearn = est.module == "sklearn" || est.module.starts_with("sklearn.");
    if !sklearn {
        return Err(Refusal {
            path: String::new(),
            why: format!(
                "{} is a custom class, not scikit-learn's: its methods may compute anything",
                est.dotted()
            ),
            list_supported: true,
        });
    }
    all().find(|e| e.class == est.name).ok_or_else(|| Refusal {
        path: String::new(),
        why: format!("{} is not supported", est.dotted()),
        list_supported: true,
    })
}

/// Converts any pickled value that should be an estimator.
///
/// # Errors
/// Not an estimator (a function, a plain value), or [`entry`]'s and the converter's refusals.
pub fn convert(v: Val<'_>, g: &mut Graph, x: &Tensor) -> Res<Outputs> {
    let est = estimator(v)?;
    let e = entry(&est)?;
    (e.convert)(&est, g, x)
}

/// Views a pickled value as an estimator, refusing functions and plain values.
///
/// # Errors
/// A callable (function or class object) or anything that is not an instance.
pub fn estimator<'t>(v: Val<'t>) -> Res<Estimator<'t>> {
    if v.is_global() {
        let (m, n) = v.class().unwrap_or(("?", "?"));
        return Err(Refusal {
            path: String::new(),
            why: format!(
                "a callable ({m}.{n}), not a fitted estimator: its code cannot be exported"
            ),
            list_supported: true,
        });
    }
    v.as_estimator().ok_or_else(|| Refusal {
        path: String::new(),
        why: "not an estimator instance".to_owned(),
        list_supported: true,
    })
}
