//! State-level repairs: changes to what a pickle builds, not to the names it imports.
//!
//! Each repair is named by a break entry of the knowledge base (`repair = "…"` in
//! `breaks.toml`), which also says for which versions it applies; `fix` turns on only those
//! whose break `check` detected for the target. Every repair here was checked by loading the
//! result in the target versions and comparing it with the original (`fix_matrix.rs`).

mod bit_generator;
mod cy_loss;
mod derived;
mod gb_losses;
mod ops;
mod pandas;
mod tree_nodes;
pub(crate) mod walk;

use crate::stream::{Edits, Stream};

/// A Python literal a repair sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
}

impl Eq for Literal {}

impl Literal {
    fn from_toml(v: Option<&toml::Value>) -> Option<Self> {
        Some(match v {
            None => Literal::None,
            Some(toml::Value::Boolean(b)) => Literal::Bool(*b),
            Some(toml::Value::Integer(n)) => Literal::Int(*n),
            Some(toml::Value::Float(x)) => Literal::Float(*x),
            Some(toml::Value::String(s)) => Literal::Str(s.clone()),
            Some(_) => return None,
        })
    }
}

/// A state-level repair to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateRepair {
    /// numpy >= 2 random generators for numpy < 2 (by name, state dict, outer class).
    BitGeneratorByName {
        /// The break id, for reports.
        id: String,
    },
    /// scikit-learn tree node records from 56 to 64 bytes (for >= 1.3).
    TreeNodesTo64 {
        /// The break id.
        id: String,
    },
    /// scikit-learn tree node records from 64 to 56 bytes (for < 1.3).
    TreeNodesTo56 {
        /// The break id.
        id: String,
    },
    /// pandas 3 NDArrayBacked states `(dtype, ndarray)` for pandas 2: an empty attribute dict.
    PandasNdarrayBackedState {
        /// The break id.
        id: String,
    },
    /// `StringDtype(storage, pd.NA)` for pandas < 2.3: `StringDtype(storage)`.
    PandasStringDtypeWithoutNa {
        /// The break id.
        id: String,
    },
    /// HistGradientBoosting without categorical features for scikit-learn 1.4+:
    /// `_preprocessor` (and `_is_categorical_remapped`) set to None, as 1.4's `fit` does.
    HgbPreprocessorNone {
        /// The break id.
        id: String,
    },
    /// SimpleImputer for scikit-learn 1.8+: `_fill_dtype` set to the pickled `_fit_dtype`.
    ImputerFillDtype {
        /// The break id.
        id: String,
    },
    /// GradientBoosting <= 1.3 for 1.4+: `_gb_losses` objects rebuilt as `sklearn._loss`
    /// objects, `n_trees_per_iteration_` added.
    GbLossesToLossObjects {
        /// The break id.
        id: String,
    },
    /// An attribute a newer `__init__` sets (a new hyper-parameter) and a method reads, set to
    /// its default (what the older release behaved as) on objects of these classes.
    AttributeDefault {
        /// The break id.
        id: String,
        /// `module:Name` alternatives separated by `|` (the break's `build_global`).
        classes: String,
        /// The attribute (the break's `state_lacks`).
        attr: String,
        /// Its value (the break's `default`; absent: None).
        value: Literal,
    },
    /// Cython loss objects pickled by `__pyx_unpickle_Cy*` called with their state.
    CyLossByConstructor {
        /// The break id.
        id: String,
    },
    /// Classifier trees from before scikit-learn 1.4 for 1.4+: node counts as fractions.
    TreeValuesAsFractions {
        /// The break id.
        id: String,
        /// Only pickles whose `_sklearn_version` is below this are changed.
        producer_until: String,
    },
}

impl StateRepair {
    /// The knowledge-base break this repair answers.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            StateRepair::BitGeneratorByName { id }
            | StateRepair::TreeNodesTo64 { id }
            | StateRepair::TreeNodesTo56 { id }
            | StateRepair::PandasNdarrayBackedState { id }
            | StateRepair::PandasStringDtypeWithoutNa { id }
            | StateRepair::HgbPreprocessorNone { id }
            | StateRepair::ImputerFillDtype { id }
            | StateRepair::GbLossesToLossObjects { id }
            | StateRepair::AttributeDefault { id, .. }
            | StateRepair::CyLossByConstructor { id }
            | StateRepair::TreeValuesAsFractions { id, .. } => id,
        }
    }

    /// The repair a knowledge-base break names, with what it needs from the break.
    #[must_use]
    pub fn from_break(b: &knowledge::Break) -> Option<Self> {
        let name = b.repair.as_deref()?;
        if name == "sklearn-attribute-default" {
            return Some(StateRepair::AttributeDefault {
                id: b.id.clone(),
                classes: b.detect_str("build_global")?.to_owned(),
                attr: b.detect_str("state_lacks")?.to_owned(),
                value: Literal::from_toml(b.detect.get("default"))?,
            });
        }
        Self::from_name(name, &b.id, b.producer_until.as_deref().unwrap_or_default())
    }

    /// The repair a knowledge-base `repair` name stands for.
    #[must_use]
    pub fn from_name(name: &str, id: &str, producer_until: &str) -> Option<Self> {
        let id = id.to_owned();
        Some(match name {
            "numpy-bit-generator-by-name" => StateRepair::BitGeneratorByName { id },
            "sklearn-tree-nodes-to-64" => StateRepair::TreeNodesTo64 { id },
            "sklearn-tree-nodes-to-56" => StateRepair::TreeNodesTo56 { id },
            "pandas-ndarraybacked-state-dict" => StateRepair::PandasNdarrayBackedState { id },
            "pandas-string-dtype-without-na" => StateRepair::PandasStringDtypeWithoutNa { id },
            "sklearn-hgb-preprocessor-none" => StateRepair::HgbPreprocessorNone { id },
            "sklearn-imputer-fill-dtype" => StateRepair::ImputerFillDtype { id },
            "sklearn-gb-losses-to-loss-objects" => StateRepair::GbLossesToLossObjects { id },
            "sklearn-cyloss-by-constructor" => StateRepair::CyLossByConstructor { id },
            "sklearn-tree-values-as-fractions" => StateRepair::TreeValuesAsFractions {
                id,
                producer_until: producer_until.to_owned(),
            },
            _ => return None,
        })
    }
}

/// One state-level repair done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The break it repairs.
    pub id: String,
    /// Offset of the op it starts at.
    pub offset: u64,
    /// What was done.
    pub what: String,
}

/// A repair done, at an item of the stream.
pub(crate) struct Note {
    pub(crate) id: String,
    pub(crate) item: usize,
    pub(crate) what: String,
}

/// Applies `repairs` to `stream`.
#[must_use]
pub fn apply(stream: &Stream<'_>, repairs: &[StateRepair]) -> (Edits, Vec<Repaired>) {
    let mut edits = Edits::default();
    let mut notes = Vec::new();
    if repairs.is_empty() {
        return (edits, Vec::new());
    }
    let w = walk::walk(stream);
    for r in repairs {
        match r {
            StateRepair::BitGeneratorByName { id } => {
                bit_generator::apply(&w, id, &mut edits, &mut notes);
            }
            StateRepair::TreeNodesTo64 { id } => tree_nodes::apply(
                &w,
                stream,
                id,
                tree_nodes::Direction::To64,
                &mut edits,
                &mut notes,
            ),
            StateRepair::TreeNodesTo56 { id } => tree_nodes::apply(
                &w,
                stream,
                id,
                tree_nodes::Direction::To56,
                &mut edits,
                &mut notes,
            ),
            StateRepair::PandasNdarrayBackedState { id } => {
                pandas::ndarray_backed_state(&w, id, &mut edits, &mut notes);
            }
            StateRepair::PandasStringDtypeWithoutNa { id } => {
                pandas::string_dtype_without_na(&w, id, &mut edits, &mut notes);
            }
            StateRepair::HgbPreprocessorNone { id } => {
                derived::hgb_preprocessor(&w, id, &mut edits, &mut notes);
            }
            StateRepair::ImputerFillDtype { id } => {
                derived::imputer_fill_dtype(&w, id, &mut edits, &mut notes);
            }
            StateRepair::GbLossesToLossObjects { id } => {
                gb_losses::apply(&w, stream, id, &mut edits, &mut notes);
            }
            StateRepair::AttributeDefault {
                id,
                classes,
                attr,
                value,
            } => {
                derived::attribute_default(&w, id, classes, attr, value, &mut edits, &mut notes);
            }
            StateRepair::CyLossByConstructor { id } => {
                cy_loss::apply(&w, stream, id, &mut edits, &mut notes);
            }
            StateRepair::TreeValuesAsFractions { id, producer_until } => {
                if w.str_values_of("_sklearn_version")
                    .any(|v| knowledge::in_range(v, "", producer_until))
                {
                    tree_nodes::normalize_values(&w, stream, id, &mut edits, &mut notes);
                }
            }
        }
    }
    let done = notes
        .into_iter()
        .map(|n| Repaired {
            id: n.id,
            offset: stream.items().get(n.item).map_or(0, |i| i.offset() as u64),
            what: n.what,
        })
        .collect();
    (edits, done)
}
