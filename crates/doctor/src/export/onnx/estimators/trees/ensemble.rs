//! A tree ensemble as ONNX's TreeEnsembleClassifier/Regressor (ai.onnx.ml 3) describe it: one
//! row per node (`nodes_*`), one row per leaf weight (`class_*` / `target_*`), and the
//! per-output base values. Every family (single trees, forests, gradient boosting, HGB) is
//! reduced to this, so the attribute rules live in one place:
//!
//! - the true branch is `x <= threshold` (`BRANCH_LEQ`), i.e. scikit-learn's left child;
//! - thresholds are the largest float32 ≤ the float64 threshold ([`f32_at_most`]), so that
//!   onnxruntime's float comparison routes every float32 input as scikit-learn does;
//! - `nodes_missing_value_tracks_true` is the node's `missing_go_to_left` (NaN follows the
//!   true branch only when it is 1).

use super::nodes::{TreeNode, f32_at_most};

/// One tree and its leaf weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    /// Nodes, indexed as in scikit-learn.
    pub(crate) nodes: Vec<TreeNode>,
    /// `(node, output, weight)`: what each leaf adds to which output (class or target).
    pub(crate) leaves: Vec<(usize, usize, f64)>,
}

/// A whole ensemble, summed.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Ensemble {
    /// The trees.
    pub(crate) trees: Vec<Tree>,
    /// Added to each output (empty: none).
    pub(crate) base_values: Vec<f64>,
}

/// The `nodes_*` and leaf attribute arrays, in the types the ai.onnx.ml 3 schema wants.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Attributes {
    /// `nodes_treeids`.
    pub(crate) tree_ids: Vec<i64>,
    /// `nodes_nodeids`.
    pub(crate) node_ids: Vec<i64>,
    /// `nodes_featureids`.
    pub(crate) feature_ids: Vec<i64>,
    /// `nodes_modes`: `BRANCH_LEQ` or `LEAF`.
    pub(crate) modes: Vec<&'static str>,
    /// `nodes_values` (float32 by the rule).
    pub(crate) values: Vec<f32>,
    /// The float64 thresholds (for `nodes_values_as_tensor` with a double input).
    pub(crate) values_f64: Vec<f64>,
    /// `nodes_truenodeids`.
    pub(crate) true_ids: Vec<i64>,
    /// `nodes_falsenodeids`.
    pub(crate) false_ids: Vec<i64>,
    /// `nodes_missing_value_tracks_true`.
    pub(crate) missing_tracks_true: Vec<i64>,
    /// Leaf rows: `class_treeids` / `target_treeids`.
    pub(crate) leaf_tree_ids: Vec<i64>,
    /// `class_nodeids` / `target_nodeids`.
    pub(crate) leaf_node_ids: Vec<i64>,
    /// `class_ids` / `target_ids`.
    pub(crate) leaf_output_ids: Vec<i64>,
    /// `class_weights` / `target_weights`.
    pub(crate) leaf_weights: Vec<f32>,
    /// The same weights in float64 (`*_as_tensor`).
    pub(crate) leaf_weights_f64: Vec<f64>,
}

fn id(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Ensemble {
    /// The attribute arrays.
    #[must_use]
    pub(crate) fn attributes(&self) -> Attributes {
        let mut a = Attributes::default();
        for (t, tree) in self.trees.iter().enumerate() {
            for (i, node) in tree.nodes.iter().enumerate() {
                a.tree_ids.push(id(t));
                a.node_ids.push(id(i));
                match *node {
                    TreeNode::Leaf => {
                        a.feature_ids.push(0);
                        a.modes.push("LEAF");
                        a.values.push(0.0);
                        a.values_f64.push(0.0);
                        a.true_ids.push(0);
                        a.false_ids.push(0);
                        a.missing_tracks_true.push(0);
                    }
                    TreeNode::Split {
                        feature,
                        threshold,
                        missing_left,
                        left,
                        right,
                    } => {
                        a.feature_ids.push(id(feature));
                        a.modes.push("BRANCH_LEQ");
                        a.values.push(f32_at_most(threshold));
                        a.values_f64.push(threshold);
                        a.true_ids.push(id(left));
                        a.false_ids.push(id(right));
                        a.missing_tracks_true.push(i64::from(missing_left));
                    }
                }
            }
            for &(node, output, w) in &tree.leaves {
                a.leaf_tree_ids.push(id(t));
                a.leaf_node_ids.push(id(node));
                a.leaf_output_ids.push(id(output));
                #[allow(clippy::cast_possible_truncation)]
                a.leaf_weights.push(w as f32);
                a.leaf_weights_f64.push(w);
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stump_becomes_three_rows_and_its_leaf_weights() {
        let e = Ensemble {
            trees: vec![Tree {
                nodes: vec![
                    TreeNode::Split {
                        feature: 1,
                        threshold: 0.1,
                        missing_left: true,
                        left: 1,
                        right: 2,
                    },
                    TreeNode::Leaf,
                    TreeNode::Leaf,
                ],
                leaves: vec![(1, 0, 0.25), (2, 0, 0.75)],
            }],
            base_values: vec![],
        };
        let a = e.attributes();
        assert_eq!(a.modes, ["BRANCH_LEQ", "LEAF", "LEAF"]);
        assert_eq!(a.true_ids, [1, 0, 0]);
        assert_eq!(a.false_ids, [2, 0, 0]);
        assert_eq!(a.missing_tracks_true, [1, 0, 0]);
        assert_eq!(a.feature_ids, [1, 0, 0]);
        assert!(f64::from(a.values[0]) <= 0.1);
        assert_eq!(a.leaf_node_ids, [1, 2]);
        assert_eq!(a.leaf_weights, [0.25, 0.75]);
    }
}
