"""Tree model factories for the ONNX differential test (issue #13).

Each factory fits one estimator on fixed data, in whatever scikit-learn the running venv has
(1.2.2, 1.3.2, 1.9.1), and says whether it accepts NaN at predict time. `probe_rows` adds the
inputs that catch threshold and NaN-routing mistakes: for every split, rows whose feature is
exactly float32(threshold) and its float32 neighbours, and rows with NaN in each feature where
the model accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.base import BaseEstimator
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


@dataclass
class Case:
    """One fitted model and the data it was fitted on."""

    name: str
    model: BaseEstimator
    X: np.ndarray
    nan: bool


def data(n: int = 240, f: int = 4, seed: int = 0) -> np.ndarray:
    """float32-representable features (as most real data is), in float64."""
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, f)).astype(np.float32).astype(np.float64)


def with_nan(X: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.RandomState(seed)
    Xn = X.copy()
    Xn[rng.rand(*X.shape) < 0.08] = np.nan
    return Xn


def y_multi(X: np.ndarray) -> np.ndarray:
    s = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1])
    return np.digitize(s, [-0.5, 0.6])


def y_binary(X: np.ndarray) -> np.ndarray:
    return (np.nan_to_num(X[:, 0]) * np.nan_to_num(X[:, 2]) > 0.1).astype(np.int64)


def y_reg(X: np.ndarray) -> np.ndarray:
    Z = np.nan_to_num(X)
    return 2.0 * Z[:, 0] - Z[:, 1] ** 2 + 0.3 * Z[:, 3]


def y_positive(X: np.ndarray) -> np.ndarray:
    Z = np.nan_to_num(X)
    return np.exp(0.5 * Z[:, 0] - 0.3 * Z[:, 1]).round(3) + 0.01


def fit(
    model: BaseEstimator, X: np.ndarray, y: Callable[[np.ndarray], np.ndarray], nan_fit: bool
) -> tuple[BaseEstimator, np.ndarray, bool]:
    """Fits on NaN-laden data when `nan_fit` and the estimator accepts it, else on clean
    data; returns the model, its training X, and whether predict accepts NaN."""
    if nan_fit:
        Xn = with_nan(X)
        try:
            return model.fit(Xn, y(Xn)), Xn, True
        except ValueError:
            pass
    model.fit(X, y(X))
    probe = X[:3].copy()
    probe[0, 0] = np.nan
    try:
        model.predict(probe)
        accepts = True
    except ValueError:
        accepts = False
    return model, X, accepts


def cases() -> list[Case]:
    X = data()
    out: list[Case] = []

    def add(name: str, model: BaseEstimator, y: Callable[[np.ndarray], np.ndarray], nan_fit: bool = True) -> None:
        m, Xf, nan = fit(model, X, y, nan_fit)
        out.append(Case(name, m, Xf, nan))

    add("DecisionTreeClassifier", DecisionTreeClassifier(max_depth=6, random_state=0), y_multi)
    add("DecisionTreeClassifier-binary", DecisionTreeClassifier(max_depth=5, random_state=0), y_binary)
    add("DecisionTreeClassifier-str", DecisionTreeClassifier(max_depth=5, random_state=0),
        lambda Z: np.array(["ant", "bee", "cat"], dtype=object)[y_multi(Z)])
    add("DecisionTreeRegressor", DecisionTreeRegressor(max_depth=6, random_state=0), y_reg)
    add("DecisionTreeRegressor-multi", DecisionTreeRegressor(max_depth=5, random_state=0),
        lambda Z: np.c_[y_reg(Z), y_positive(Z)])
    add("ExtraTreeClassifier", ExtraTreeClassifier(max_depth=6, random_state=0), y_multi)
    add("ExtraTreeRegressor", ExtraTreeRegressor(max_depth=6, random_state=0), y_reg)
    add("RandomForestClassifier", RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0), y_multi)
    add("RandomForestClassifier-binary", RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0), y_binary)
    add("RandomForestRegressor", RandomForestRegressor(n_estimators=6, max_depth=5, random_state=0), y_reg)
    add("ExtraTreesClassifier", ExtraTreesClassifier(n_estimators=6, max_depth=5, random_state=0), y_multi)
    add("ExtraTreesRegressor", ExtraTreesRegressor(n_estimators=6, max_depth=5, random_state=0), y_reg)
    add("GradientBoostingClassifier", GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0), y_multi)
    add("GradientBoostingClassifier-binary", GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0), y_binary)
    add("GradientBoostingClassifier-exponential",
        GradientBoostingClassifier(loss="exponential", n_estimators=8, max_depth=3, random_state=0), y_binary)
    add("GradientBoostingClassifier-zero", GradientBoostingClassifier(init="zero", n_estimators=5, random_state=0), y_multi)
    add("GradientBoostingRegressor", GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0), y_reg)
    add("GradientBoostingRegressor-huber",
        GradientBoostingRegressor(loss="huber", n_estimators=10, max_depth=3, random_state=0), y_reg)
    add("GradientBoostingRegressor-quantile",
        GradientBoostingRegressor(loss="quantile", alpha=0.7, n_estimators=10, max_depth=3, random_state=0), y_reg)
    add("HistGradientBoostingClassifier", HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0), y_multi)
    add("HistGradientBoostingClassifier-binary", HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0), y_binary)
    for loss in ["squared_error", "absolute_error", "poisson", "gamma", "quantile"]:
        if loss == "gamma" and VERSION < (1, 3):
            continue
        kw = {"quantile": 0.3} if loss == "quantile" else {}
        y = y_positive if loss in ("poisson", "gamma") else y_reg
        add(f"HistGradientBoostingRegressor-{loss}",
            HistGradientBoostingRegressor(loss=loss, max_iter=10, max_depth=4, random_state=0, **kw), y)
    return out


def thresholds(model: BaseEstimator) -> list[tuple[int, float]]:
    """(feature, float64 threshold) of every split of a tree model."""
    out: list[tuple[int, float]] = []
    trees: list[object] = []
    if hasattr(model, "tree_"):
        trees = [model]
    elif hasattr(model, "_predictors"):
        for it in model._predictors:
            for p in it:
                n = p.nodes[p.nodes["is_leaf"] == 0]
                out += list(zip(n["feature_idx"].tolist(), n["num_threshold"].tolist()))
    else:
        trees = list(np.ravel(model.estimators_))
    for t in trees:
        tr = t.tree_
        inner = tr.children_left >= 0
        out += list(zip(tr.feature[inner].tolist(), tr.threshold[inner].tolist()))
    return out


def probe_rows(case: Case, limit: int = 400, dtype: type = np.float32) -> np.ndarray:
    """Test inputs: training rows, rows exactly on the threshold (float32(threshold), or the
    float64 threshold itself for `dtype=np.float64`) and its neighbours in that type for
    each split, and NaN rows where the model accepts them."""
    X = case.X.astype(dtype)
    base = np.nan_to_num(X[: min(len(X), 120)])
    rows = [X[:120]]
    ths = thresholds(case.model)
    rng = np.random.RandomState(7)
    if len(ths) > limit:
        ths = [ths[i] for i in rng.choice(len(ths), limit, replace=False)]
    for i, (f, t) in enumerate(ths):
        if not np.isfinite(t):
            continue  # HGB's +inf: every non-missing value goes left
        c = dtype(t)
        for v in (np.nextafter(c, dtype(-np.inf)), c, np.nextafter(c, dtype(np.inf))):
            r = base[i % len(base)].copy()
            r[f] = v
            rows.append(r[None, :])
    if case.nan:
        for f in range(X.shape[1]):
            r = base[:10].copy()
            r[:, f] = np.nan
            rows.append(r)
        r = base[:2].copy()
        r[:] = np.nan
        rows.append(r)
    else:
        rows = [np.nan_to_num(r) for r in rows]
    return np.concatenate(rows).astype(dtype)
