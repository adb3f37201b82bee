"""Every public method's outputs of a pickled scikit-learn model, as JSON.

Usage: PYTHON -I outputs.py MODEL.pkl  (prints one JSON document on stdout)

Run in the writer's venv on the original and in the target's venv on the file `fix` wrote;
`fix_usetime.rs` compares the two: labels exactly, numbers within 1e-5 relative.

The inputs are fixed (`inputs()`), the same in every venv. Each method gives
{"value": ...} or {"raises": "Type: message"} (the first line). A load failure prints
{"load": "Type: message"}.
"""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from typing import Any

import numpy as np

# Public methods called with X (and y for score); staged_* are listed whole.
METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "score_samples",
    "apply",
    "staged_predict",
    "staged_predict_proba",
    "staged_decision_function",
    "score",
)


def inputs(n_features: int, with_nan: bool) -> tuple[np.ndarray, np.ndarray]:
    """Fixed inputs, with some NaN for models that take them (imputers,
    HistGradientBoosting: `accepts_nan`), and labels."""
    rs = np.random.RandomState(7)
    X = rs.normal(size=(40, n_features))
    if with_nan:
        X[::7, 0] = np.nan
    y = (rs.uniform(size=40) > 0.5).astype(int)
    return X, y


def accepts_nan(model: Any) -> bool:
    """Decided by class names only, so that every venv decides alike."""
    name = type(model).__name__
    first = getattr(model, "steps", [[None, model]])[0][1]
    return "HistGradientBoosting" in name or type(first).__name__ == "SimpleImputer"


def value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OUS":
            return {"labels": [str(x) for x in v.ravel().tolist()], "shape": list(v.shape)}
        if v.dtype.kind in "iub":
            return {"labels": [int(x) for x in v.ravel().tolist()], "shape": list(v.shape)}
        return {
            "numbers": [None if np.isnan(x) else float(x) for x in v.astype(float).ravel()],
            "shape": list(v.shape),
        }
    if isinstance(v, (list, tuple)) or hasattr(v, "__next__"):
        return {"list": [value(x) for x in v]}
    if isinstance(v, (float, np.floating)):
        return {"numbers": [float(v)], "shape": []}
    if isinstance(v, (int, np.integer)):
        return {"labels": [int(v)], "shape": []}
    return {"repr": type(v).__name__}


def main() -> None:
    warnings.simplefilter("ignore")
    try:
        with open(sys.argv[1], "rb") as f:
            model = pickle.load(f)
    except Exception as e:  # noqa: BLE001 - the failure is the result
        print(json.dumps({"load": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}))
        return
    n = getattr(model, "n_features_in_", None)
    X, y = inputs(int(n), accepts_nan(model))
    # Classifiers have classes_ (a pipeline's is its last step's) in every release.
    if not hasattr(model, "classes_"):
        y = X[:, 1] * 2.0 + 1.0
    out: dict[str, Any] = {"type": type(model).__qualname__, "methods": {}}
    for name in METHODS:
        f = getattr(model, name, None)
        if not callable(f):
            continue
        try:
            r = f(X, y) if name == "score" else f(X)
            out["methods"][name] = {"value": value(r)}
        except AttributeError as e:
            # hasattr-style absence (available_if) is no method; anything else is a failure.
            msg = str(e).splitlines()[0] if str(e) else ""
            if "has no attribute '" + name + "'" in msg:
                continue
            out["methods"][name] = {"raises": f"AttributeError: {msg}"}
        except Exception as e:  # noqa: BLE001 - the failure is the result
            msg = str(e).splitlines()[0] if str(e) else ""
            out["methods"][name] = {"raises": f"{type(e).__name__}: {msg}"}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
