"""Writes the dev fixtures of `fix_usetime.rs`: small scikit-learn models whose pickles load
in newer scikit-learn releases and then fail on first use, or are refused by `check`.

Usage: PYTHON -I write_models.py OUT_DIR [PREFIX]   (run in the writer venv; see make.sh)

With PREFIX, only the models whose name starts with it.

Each model is written as OUT_DIR/<name>.pkl (pickle protocol 4) and its outputs, computed in
this venv by outputs.py, as OUT_DIR/<name>.json.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
from sklearn.ensemble import (
    AdaBoostClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rs = np.random.RandomState(0)
    X = rs.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    y3 = np.digitize(X[:, 0] + X[:, 2], [-0.5, 0.5])
    yr = X @ np.array([1.0, 2.0, -1.0, 0.5]) + rs.normal(size=120) * 0.1
    return X, y, y3, yr


def models() -> dict[str, object]:
    X, y, y3, yr = data()
    Xn = X.copy()
    Xn[::5, 0] = np.nan
    Xn[::9, 2] = np.nan
    ypos = np.exp(yr / 4)
    m: dict[str, object] = {}
    for strategy in ("mean", "median", "most_frequent", "constant"):
        m[f"imputer_{strategy}_logreg"] = make_pipeline(
            SimpleImputer(strategy=strategy), LogisticRegression()
        ).fit(Xn, y)
    m["imputer_mean_f32_ridge"] = make_pipeline(SimpleImputer(), Ridge()).fit(
        Xn.astype(np.float32), yr
    )
    m["imputer_alone"] = SimpleImputer(strategy="median").fit(Xn)
    m["hgb_clf_binary"] = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(Xn, y)
    m["hgb_clf_multi"] = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(Xn, y3)
    for loss in ("squared_error", "absolute_error", "poisson", "quantile"):
        target = ypos if loss == "poisson" else yr
        kw = {"quantile": 0.3} if loss == "quantile" else {}
        m[f"hgb_reg_{loss}"] = HistGradientBoostingRegressor(
            loss=loss, max_iter=15, random_state=0, **kw
        ).fit(Xn, target)
    for loss in ("log_loss", "exponential"):
        m[f"gb_clf_{loss}"] = GradientBoostingClassifier(
            loss=loss, n_estimators=15, max_depth=2, random_state=0
        ).fit(X, y)
    m["gb_clf_multi"] = GradientBoostingClassifier(
        n_estimators=10, max_depth=2, random_state=0
    ).fit(X, y3)
    for loss in ("squared_error", "absolute_error", "huber", "quantile"):
        kw = {"alpha": 0.3} if loss == "quantile" else {}
        m[f"gb_reg_{loss}"] = GradientBoostingRegressor(
            loss=loss, n_estimators=15, max_depth=2, random_state=0, **kw
        ).fit(X, yr)
    m["gb_reg_init_zero"] = GradientBoostingRegressor(
        init="zero", n_estimators=10, max_depth=2, random_state=0
    ).fit(X, yr)
    # SAMME.R (the default up to 1.5) is gone from 1.6, which uses a SAMME.R model with SAMME's
    # decision function: fix must refuse it there; a SAMME model predicts identically.
    for algorithm in ("SAMME", "SAMME.R"):
        name = "ada_" + algorithm.lower().replace(".", "_")
        m[name] = AdaBoostClassifier(
            n_estimators=5, algorithm=algorithm, random_state=0
        ).fit(X, y)
    return m


def main() -> None:
    out = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else ""
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    for name, model in models().items():
        if not name.startswith(prefix):
            continue
        path = os.path.join(out, name + ".pkl")
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=4)
        res = subprocess.run(
            [sys.executable, "-I", os.path.join(here, "outputs.py"), path],
            check=True,
            capture_output=True,
            text=True,
        )
        with open(os.path.join(out, name + ".json"), "w") as f:
            f.write(res.stdout)


if __name__ == "__main__":
    main()
