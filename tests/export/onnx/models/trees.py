"""Tree models of the ONNX differential test (see make_models.py): DecisionTree, ExtraTree,
RandomForest, ExtraTrees, GradientBoosting and HistGradientBoosting, classifier and regressor.

`MODELS` are (name, unfitted estimator, data kind). A `nan-` kind is used where the running
scikit-learn can fit on missing values (found by trying, so each version gets what it
supports); NaN then reaches the splits' `missing_go_to_left`. `probe_rows` adds the inputs
that catch threshold and NaN-routing mistakes: for each split, rows whose feature is exactly
float32(threshold) and its float32 neighbours (thresholds are midpoints of float32 training
values, so a naive float32 cast of the threshold misroutes real values), and NaN in each
feature where the fitted model accepts NaN at predict time (scikit-learn ≥ 1.3 trees do even
when fitted without NaN).
"""

from __future__ import annotations

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])

MAX_PROBED_SPLITS = 80


def _fits_nan(est: BaseEstimator) -> bool:
    """Whether this scikit-learn fits `est` on data with NaN."""
    x = np.arange(24, dtype=np.float64).reshape(12, 2)
    x[::3, 0] = np.nan
    y = np.arange(12) % 2
    try:
        clone(est).fit(x, y)
    except ValueError:
        return False
    return True


def _nan(kind: str, est: BaseEstimator) -> str:
    return f"nan-{kind}" if _fits_nan(est) else kind


def _models() -> list[tuple[str, BaseEstimator, str]]:
    out: list[tuple[str, BaseEstimator, str]] = []

    def add(name: str, est: BaseEstimator, kind: str, nan: bool = True) -> None:
        # make_models.data() draws string and positive targets only without NaN.
        nan = nan and kind not in ("strings", "positive")
        out.append((name, est, _nan(kind, est) if nan else kind))

    add(
        "dt-multiclass",
        DecisionTreeClassifier(max_depth=6, random_state=0),
        "multiclass",
    )
    add("dt-binary", DecisionTreeClassifier(max_depth=5, random_state=0), "binary")
    add("dt-strings", DecisionTreeClassifier(max_depth=5, random_state=0), "strings")
    add(
        "dt-regressor", DecisionTreeRegressor(max_depth=6, random_state=0), "regression"
    )
    add(
        "extratree-multiclass",
        ExtraTreeClassifier(max_depth=6, random_state=0),
        "multiclass",
    )
    add(
        "extratree-regressor",
        ExtraTreeRegressor(max_depth=6, random_state=0),
        "regression",
    )
    add(
        "rf-multiclass",
        RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0),
        "multiclass",
    )
    add(
        "rf-binary",
        RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0),
        "binary",
    )
    add(
        "rf-regressor",
        RandomForestRegressor(n_estimators=6, max_depth=5, random_state=0),
        "regression",
    )
    add(
        "extratrees-multiclass",
        ExtraTreesClassifier(n_estimators=6, max_depth=5, random_state=0),
        "multiclass",
    )
    add(
        "extratrees-regressor",
        ExtraTreesRegressor(n_estimators=6, max_depth=5, random_state=0),
        "regression",
    )
    add(
        "gb-multiclass",
        GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0),
        "multiclass",
    )
    add(
        "gb-binary",
        GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0),
        "binary",
    )
    add(
        "gb-exponential",
        GradientBoostingClassifier(
            loss="exponential", n_estimators=8, max_depth=3, random_state=0
        ),
        "binary",
    )
    add(
        "gb-init-zero",
        GradientBoostingClassifier(init="zero", n_estimators=5, random_state=0),
        "strings",
    )
    add(
        "gb-regressor",
        GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0),
        "regression",
    )
    add(
        "gb-huber",
        GradientBoostingRegressor(
            loss="huber", n_estimators=10, max_depth=3, random_state=0
        ),
        "regression",
    )
    add(
        "gb-quantile",
        GradientBoostingRegressor(
            loss="quantile", alpha=0.7, n_estimators=10, max_depth=3, random_state=0
        ),
        "regression",
    )
    add(
        "hgb-multiclass",
        HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0),
        "multiclass",
    )
    add(
        "hgb-binary",
        HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0),
        "binary",
    )
    add(
        "hgb-strings",
        HistGradientBoostingClassifier(max_iter=6, max_depth=3, random_state=0),
        "strings",
    )
    for loss in ("squared_error", "absolute_error", "quantile"):
        kw = {"quantile": 0.3} if loss == "quantile" else {}
        add(
            f"hgb-{loss.replace('_', '-')}",
            HistGradientBoostingRegressor(
                loss=loss, max_iter=10, max_depth=4, random_state=0, **kw
            ),
            "regression",
        )
    losses = ["poisson", "gamma"] if VERSION >= (1, 3) else ["poisson"]
    for loss in losses:
        add(
            f"hgb-{loss}",
            HistGradientBoostingRegressor(
                loss=loss, max_iter=10, max_depth=4, random_state=0
            ),
            "positive",
        )
    return out


MODELS = _models()


def _splits(model: BaseEstimator) -> list[tuple[int, float]]:
    """(feature, float64 threshold) of every split."""
    out: list[tuple[int, float]] = []
    if hasattr(model, "_predictors"):
        for it in model._predictors:
            for p in it:
                n = p.nodes[p.nodes["is_leaf"] == 0]
                out += list(zip(n["feature_idx"].tolist(), n["num_threshold"].tolist()))
        return out
    trees = [model] if hasattr(model, "tree_") else list(np.ravel(model.estimators_))
    for t in trees:
        tr = t.tree_
        inner = tr.children_left >= 0
        out += list(zip(tr.feature[inner].tolist(), tr.threshold[inner].tolist()))
    return out


def _accepts_nan(model: BaseEstimator, x: np.ndarray) -> bool:
    probe = np.nan_to_num(x[:2]).copy()
    probe[0, 0] = np.nan
    try:
        model.predict(probe)
    except ValueError:
        return False
    return True


def probe_rows(
    name: str, model: BaseEstimator, x_train: np.ndarray, dtype: type = np.float32
) -> np.ndarray | None:
    """Rows on each split's threshold and its neighbours (float32(threshold) by default; with
    `dtype=np.float64` the float64 threshold itself, for `--float64`); NaN rows where
    accepted."""
    if (
        not hasattr(model, "tree_")
        and not hasattr(model, "estimators_")
        and not hasattr(model, "_predictors")
    ):
        return None
    base = np.nan_to_num(x_train[:40]).astype(dtype)
    splits = [(f, t) for f, t in _splits(model) if np.isfinite(t)]
    if len(splits) > MAX_PROBED_SPLITS:
        pick = np.random.RandomState(7).choice(
            len(splits), MAX_PROBED_SPLITS, replace=False
        )
        splits = [splits[i] for i in sorted(pick)]
    rows = []
    for i, (f, t) in enumerate(splits):
        c = dtype(t)
        for v in (np.nextafter(c, dtype(-np.inf)), c, np.nextafter(c, dtype(np.inf))):
            r = base[i % len(base)].copy()
            r[f] = v
            rows.append(r)
    if _accepts_nan(model, x_train):
        for f in range(base.shape[1]):
            r = base[:6].copy()
            r[:, f] = np.nan
            rows.extend(r)
        rows.append(np.full(base.shape[1], np.nan, dtype=dtype))
    return np.array(rows, dtype=np.float64) if rows else None
