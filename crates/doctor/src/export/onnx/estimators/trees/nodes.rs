//! Tree nodes from their pickled records: scikit-learn's `Tree` (`nodes` of `NODE_DTYPE`) and
//! HistGradientBoosting's `TreePredictor` (`nodes` of `PREDICTOR_RECORD_DTYPE`), read by field
//! name through [`Layout`], checked so that every tree is finite and acyclic (each child after
//! its parent, as both builders number nodes depth first), and the float32 threshold rule that
//! makes onnxruntime's float comparisons route exactly as scikit-learn's.

use super::layout::Layout;

/// One node of a binary decision tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TreeNode {
    /// A leaf; its values are kept by the caller, by node index.
    Leaf,
    /// `x[feature] <= threshold` goes left; NaN goes left when `missing_left`.
    Split {
        /// Feature index.
        feature: usize,
        /// The float64 threshold.
        threshold: f64,
        /// Where NaN goes.
        missing_left: bool,
        /// Left child index.
        left: usize,
        /// Right child index.
        right: usize,
    },
}

/// The largest float32 that is ≤ `t`: with it, `x32 <= w` in float32 holds exactly when
/// scikit-learn's `double(x32) <= t` does (a plain cast rounds to nearest, which can be above
/// `t` and send values between the two the wrong way).
#[must_use]
pub(crate) fn f32_at_most(t: f64) -> f32 {
    #[allow(clippy::cast_possible_truncation)]
    let f = t as f32;
    if f64::from(f) > t { f.next_down() } else { f }
}

fn child(v: Option<i64>, i: usize, n: usize, side: &str) -> Result<usize, String> {
    match v.and_then(|c| usize::try_from(c).ok()) {
        Some(c) if c > i && c < n => Ok(c),
        _ => Err(format!(
            "node {i}: its {side} child {} is not a later node of the {n}",
            v.map_or_else(|| "?".to_owned(), |c| c.to_string())
        )),
    }
}

fn feature(v: Option<i64>, i: usize, n_features: usize) -> Result<usize, String> {
    match v.and_then(|f| usize::try_from(f).ok()) {
        Some(f) if f < n_features => Ok(f),
        _ => Err(format!(
            "node {i}: feature {} is not one of the {n_features} inputs",
            v.map_or_else(|| "?".to_owned(), |c| c.to_string())
        )),
    }
}

fn threshold(t: f64, i: usize) -> Result<f64, String> {
    if t.is_nan() {
        return Err(format!("node {i}: the threshold is NaN"));
    }
    Ok(t)
}

/// The nodes of a scikit-learn `Tree` (`left_child`, `right_child`, `feature`, `threshold`,
/// and from 1.3 `missing_go_to_left`; a leaf has `left_child == right_child == -1`).
///
/// # Errors
/// Missing fields, a byte length that is not `count` records, a child that is not a later node,
/// a feature out of range or a NaN threshold.
pub(crate) fn sklearn_tree(
    layout: &Layout,
    bytes: &[u8],
    count: usize,
    n_features: usize,
) -> Result<Vec<TreeNode>, String> {
    let left = layout.require("left_child")?;
    let right = layout.require("right_child")?;
    let feat = layout.require("feature")?;
    let thr = layout.require("threshold")?;
    // Absent up to 1.2, whose trees refuse NaN at predict time.
    let missing = layout.field("missing_go_to_left");
    let mut out = Vec::with_capacity(count);
    for (i, r) in layout.records(bytes, count)?.into_iter().enumerate() {
        let (l, rt) = (left.int(r), right.int(r));
        if l == Some(-1) && rt == Some(-1) {
            out.push(TreeNode::Leaf);
            continue;
        }
        out.push(TreeNode::Split {
            feature: feature(feat.int(r), i, n_features)?,
            threshold: threshold(thr.float(r), i)?,
            missing_left: missing.is_some_and(|m| m.int(r).unwrap_or(0) != 0),
            left: child(l, i, count, "left")?,
            right: child(rt, i, count, "right")?,
        });
    }
    if out.is_empty() {
        return Err("the tree has no nodes".to_owned());
    }
    Ok(out)
}

/// The nodes of a HistGradientBoosting `TreePredictor` and each node's `value` (the leaves'
/// already include the learning rate).
///
/// # Errors
/// As [`sklearn_tree`], and categorical splits, which TreeEnsemble v3 cannot express.
pub(crate) fn hgb_predictor(
    layout: &Layout,
    bytes: &[u8],
    count: usize,
    n_features: usize,
) -> Result<(Vec<TreeNode>, Vec<f64>), String> {
    let value = layout.require("value")?;
    let feat = layout.require("feature_idx")?;
    let thr = layout.require("num_threshold")?;
    let missing = layout.require("missing_go_to_left")?;
    let left = layout.require("left")?;
    let right = layout.require("right")?;
    let is_leaf = layout.require("is_leaf")?;
    let categorical = layout.field("is_categorical");
    let mut nodes = Vec::with_capacity(count);
    let mut values = Vec::with_capacity(count);
    for (i, r) in layout.records(bytes, count)?.into_iter().enumerate() {
        values.push(value.float(r));
        if is_leaf.int(r).unwrap_or(0) != 0 {
            nodes.push(TreeNode::Leaf);
            continue;
        }
        if categorical.is_some_and(|c| c.int(r).unwrap_or(0) != 0) {
            return Err(format!(
                "node {i} splits a categorical feature (a bitset test), which ONNX TreeEnsemble v3 cannot express; refit with categorical_features=None, or one-hot encode in a Pipeline"
            ));
        }
        nodes.push(TreeNode::Split {
            feature: feature(feat.int(r), i, n_features)?,
            threshold: threshold(thr.float(r), i)?,
            missing_left: missing.int(r).unwrap_or(0) != 0,
            left: child(left.int(r), i, count, "left")?,
            right: child(right.int(r), i, count, "right")?,
        });
    }
    if nodes.is_empty() {
        return Err("the predictor has no nodes".to_owned());
    }
    Ok((nodes, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use crate::export::onnx::state::State;

    #[test]
    fn threshold_rule() {
        // 0.1 rounds up to float32 0.100000001490116…, so the rule steps one below.
        let t = 0.1f64;
        let w = f32_at_most(t);
        assert!(f64::from(w) <= t);
        assert!(f64::from(w.next_up()) > t);
        assert_eq!(f32_at_most(0.5), 0.5);
        assert_eq!(f32_at_most(f64::INFINITY), f32::INFINITY);
        assert_eq!(f32_at_most(f64::MAX), f32::MAX);
        assert_eq!(f32_at_most(-f64::MAX), f32::NEG_INFINITY);
        // Exhaustive near one value: x32 <= w iff double(x32) <= t.
        let t = 1.0f64 / 3.0;
        let w = f32_at_most(t);
        let mut x = w.next_down().next_down();
        for _ in 0..5 {
            assert_eq!(x <= w, f64::from(x) <= t);
            x = x.next_up();
        }
    }

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sklearn-tree-state")
    }

    /// The records of the `nodes` array of the pickle's root object, read through the
    /// exporter's own state view.
    fn root_nodes(data: &[u8]) -> (Layout, Vec<u8>, usize) {
        let trace = vm::run(data);
        let st = State::new(&trace, data, &[]);
        let root = st.roots()[0].as_estimator().expect("an object");
        let a = root.array("nodes").expect("nodes");
        super::super::records(&a, "nodes").expect("records")
    }

    fn f64s(j: &serde_json::Value) -> Vec<f64> {
        j.as_array()
            .unwrap()
            .iter()
            .map(|x| f64::from_bits(x.as_u64().unwrap()))
            .collect()
    }

    /// Real pickles from scikit-learn 1.2.2, 1.3.2, 1.6.1 and 1.9.1 (written by
    /// `tests/export/onnx_tree_state.py`), read as numpy reads them there.
    #[test]
    fn real_pickles_read_as_numpy_reads_them() {
        let mut seen = 0;
        for version in ["1.2.2", "1.3.2", "1.6.1", "1.9.1"] {
            let dir = fixtures().join(version);
            let expected: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();

            let data = std::fs::read(dir.join("tree.pkl")).unwrap();
            let (layout, bytes, n) = root_nodes(&data);
            let e = &expected["tree"];
            assert_eq!(layout.itemsize as u64, e["itemsize"].as_u64().unwrap());
            for (name, off) in e["offsets"].as_object().unwrap() {
                assert_eq!(
                    layout.require(name).unwrap().offset as u64,
                    off.as_u64().unwrap(),
                    "{version} {name}"
                );
            }
            let nodes = sklearn_tree(&layout, &bytes, n, 3).unwrap();
            let thr = f64s(&e["threshold_bits"]);
            let mgl = e["missing_go_to_left"].as_array();
            for (i, node) in nodes.iter().enumerate() {
                let l = e["left"][i].as_i64().unwrap();
                match *node {
                    TreeNode::Leaf => assert_eq!(l, -1),
                    TreeNode::Split {
                        feature,
                        threshold,
                        missing_left,
                        left,
                        right,
                    } => {
                        assert_eq!(left as i64, l);
                        assert_eq!(right as i64, e["right"][i].as_i64().unwrap());
                        assert_eq!(feature as i64, e["feature"][i].as_i64().unwrap());
                        assert_eq!(threshold.to_bits(), thr[i].to_bits());
                        let want = mgl.is_some_and(|m| m[i].as_u64() == Some(1));
                        assert_eq!(missing_left, want, "{version} node {i}");
                    }
                }
            }

            let data = std::fs::read(dir.join("hgb.pkl")).unwrap();
            let (layout, bytes, n) = root_nodes(&data);
            let e = &expected["hgb"];
            assert_eq!(layout.itemsize as u64, e["itemsize"].as_u64().unwrap());
            let (nodes, values) = hgb_predictor(&layout, &bytes, n, 3).unwrap();
            assert_eq!(values, f64s(&e["value_bits"]));
            let thr = f64s(&e["num_threshold_bits"]);
            let mut missing_seen = false;
            for (i, node) in nodes.iter().enumerate() {
                let leaf = e["is_leaf"][i].as_u64() == Some(1);
                match *node {
                    TreeNode::Leaf => assert!(leaf),
                    TreeNode::Split {
                        feature,
                        threshold,
                        missing_left,
                        left,
                        right,
                    } => {
                        assert!(!leaf);
                        assert_eq!(feature as i64, e["feature_idx"][i].as_i64().unwrap());
                        assert_eq!(threshold.to_bits(), thr[i].to_bits());
                        assert_eq!(left as u64, e["left"][i].as_u64().unwrap());
                        assert_eq!(right as u64, e["right"][i].as_u64().unwrap());
                        assert_eq!(missing_left, e["missing_go_to_left"][i].as_u64() == Some(1));
                        missing_seen |= missing_left;
                    }
                }
            }
            assert!(
                missing_seen,
                "{version}: the fixture should send NaN left somewhere"
            );
            seen += 1;
        }
        assert_eq!(seen, 4);
    }

    #[test]
    fn damaged_trees_are_refused() {
        let f = |n: &str, t: &str, o| (n.to_owned(), t.to_owned(), o);
        let layout = Layout::new(
            32,
            &[
                f("left_child", "<i8", 0),
                f("right_child", "<i8", 8),
                f("feature", "<i8", 16),
                f("threshold", "<f8", 24),
            ],
        )
        .unwrap();
        let rec = |l: i64, r: i64, ft: i64, t: f64| {
            let mut v = Vec::new();
            v.extend(l.to_le_bytes());
            v.extend(r.to_le_bytes());
            v.extend(ft.to_le_bytes());
            v.extend(t.to_le_bytes());
            v
        };
        // A cycle: node 0's child is itself.
        let b = rec(0, 0, 0, 1.0);
        assert!(
            sklearn_tree(&layout, &b, 1, 1)
                .unwrap_err()
                .contains("left child 0")
        );
        // A feature out of range.
        let mut b = rec(1, 2, 5, 1.0);
        b.extend(rec(-1, -1, -2, -2.0));
        b.extend(rec(-1, -1, -2, -2.0));
        assert!(
            sklearn_tree(&layout, &b, 3, 2)
                .unwrap_err()
                .contains("feature 5")
        );
        assert_eq!(sklearn_tree(&layout, &b, 3, 6).unwrap().len(), 3);
        assert!(sklearn_tree(&layout, &[], 0, 1).is_err());
    }
}
