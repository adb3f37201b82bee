//! State-level repairs: changes to what a pickle builds, not to the names it imports.
//!
//! Each repair is named by a break entry of the knowledge base (`repair = "…"` in
//! `breaks.toml`), which also says for which versions it applies; `fix` turns on only those
//! whose break `check` detected for the target. Every repair here was checked by loading the
//! result in the target versions and comparing it with the original (`fix_matrix.rs`).

mod bit_generator;
mod pandas;
mod tree_nodes;
pub(crate) mod walk;

use crate::stream::{Edits, Stream};

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
    /// Classifier trees from before scikit-learn 1.4 for 1.4+: node counts as fractions.
    TreeValuesAsFractions {
        /// The break id.
        id: String,
        /// Only pickles whose `_sklearn_version` is below this are changed.
        producer_until: String,
    },
}

impl StateRepair {
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
