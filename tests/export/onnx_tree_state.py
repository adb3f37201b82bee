"""Writes tiny pickles of real tree state, and what Python reads from them, for the unit tests
of the tree-node parser (`crates/doctor/src/export/onnx/estimators/trees/`).

Run once per scikit-learn venv (1.2.2, 1.3.2, 1.6.1, 1.9.1): it writes
`tests/fixtures/sklearn-tree-state/<sklearn version>/{tree.pkl,hgb.pkl,expected.json}`.
`tree.pkl` is a fitted `DecisionTreeClassifier.tree_` (a `sklearn.tree._tree.Tree`), `hgb.pkl`
a `TreePredictor` of a `HistGradientBoostingRegressor`; `expected.json` lists each node's
fields as numpy reads them from the structured array. `refusal-*.pkl` are fitted models the
exporter must refuse (categorical HGB, multi-output and single-class tree classifiers, a
user-supplied GradientBoosting `init`).
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.tree import DecisionTreeClassifier


def bits(a: np.ndarray) -> list[int]:
    """float64 values as their IEEE bits (JSON decimal is not bit-exact in every reader)."""
    return np.ascontiguousarray(a, dtype="<f8").view("<u8").tolist()


def main() -> None:
    out = Path(sys.argv[1]) / sklearn.__version__
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.7)
    dt = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    Xn = X.copy()
    Xn[::5, 1] = np.nan
    hgb = HistGradientBoostingRegressor(max_iter=1, max_depth=2, random_state=0).fit(
        Xn, y
    )
    tree = dt.tree_
    pred = hgb._predictors[0][0]
    (out / "tree.pkl").write_bytes(pickle.dumps(tree, protocol=4))
    (out / "hgb.pkl").write_bytes(pickle.dumps(pred, protocol=4))
    nodes = tree.__getstate__()["nodes"]
    has_missing = "missing_go_to_left" in nodes.dtype.names
    expected = {
        "tree": {
            "itemsize": nodes.dtype.itemsize,
            "offsets": {k: v[1] for k, v in nodes.dtype.fields.items()},
            "left": nodes["left_child"].tolist(),
            "right": nodes["right_child"].tolist(),
            "feature": nodes["feature"].tolist(),
            "threshold_bits": bits(nodes["threshold"]),
            "missing_go_to_left": nodes["missing_go_to_left"].tolist()
            if has_missing
            else None,
            "value_bits": bits(tree.value.ravel()),
            "value_shape": list(tree.value.shape),
        },
        "hgb": {
            "itemsize": pred.nodes.dtype.itemsize,
            "offsets": {k: v[1] for k, v in pred.nodes.dtype.fields.items()},
            "value_bits": bits(pred.nodes["value"]),
            "feature_idx": pred.nodes["feature_idx"].tolist(),
            "num_threshold_bits": bits(pred.nodes["num_threshold"]),
            "missing_go_to_left": pred.nodes["missing_go_to_left"].tolist(),
            "left": pred.nodes["left"].tolist(),
            "right": pred.nodes["right"].tolist(),
            "is_leaf": pred.nodes["is_leaf"].tolist(),
        },
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")

    Xc = X.copy()
    Xc[:, 0] = (Xc[:, 0] * 4).astype(int)
    refusals = {
        "categorical": HistGradientBoostingClassifier(
            max_iter=2, categorical_features=[0], random_state=0
        ).fit(Xc, y),
        "multi-output": DecisionTreeClassifier(max_depth=2).fit(X, np.c_[y, y > 0]),
        "single-class": DecisionTreeClassifier().fit(X, np.zeros(len(X), dtype=int)),
        "gb-init": GradientBoostingRegressor(n_estimators=2, init=DummyRegressor()).fit(
            X, y
        ),
    }
    for name, model in refusals.items():
        (out / f"refusal-{name}.pkl").write_bytes(pickle.dumps(model, protocol=4))


if __name__ == "__main__":
    main()
