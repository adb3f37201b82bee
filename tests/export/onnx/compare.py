"""How an ONNX model's outputs are compared with scikit-learn's own (shared by make_models.py,
which checks skl2onnx in the writer venv, and check.py, which checks pickle-doctor in CI).

- labels: exactly equal to ``predict``; rows whose two best probabilities are within 1e-5
  (near-ties, where float32 against float64 arithmetic may flip the argmax) are counted
  separately and do not fail;
- probabilities, scores, regression values and transforms:
  ``np.allclose(onnx, sklearn, rtol=1e-5, atol=1e-5)``, NaN equal to NaN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

RTOL = 1e-5
ATOL = 1e-5


def expected(model_dir: Path, role: str) -> dict[str, np.ndarray]:
    """scikit-learn's recorded outputs for a model directory."""
    out: dict[str, np.ndarray] = {}
    for name in ("predict", "predict_proba", "decision_function", "transform"):
        p = model_dir / f"{name}.npy"
        if p.exists():
            out[name] = np.load(p, allow_pickle=False)
    return out


def _values_diff(got: np.ndarray, want: np.ndarray) -> tuple[bool, float | None]:
    """(agree, largest absolute difference); the difference is None when the shapes or the
    NaN positions differ (JSON has no infinity)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.size != want.size:
        return False, None
    got = got.reshape(want.shape)
    ok = bool(np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True))
    both = ~(np.isnan(got) & np.isnan(want))
    diff = np.abs(got - want)[both]
    diff = diff[~np.isnan(diff)] if diff.size else diff
    nan_mismatch = bool(np.any(np.isnan(got) != np.isnan(want)))
    return ok, (None if nan_mismatch else float(diff.max()) if diff.size else 0.0)


def compare(role: str, outputs: list[Any], want: dict[str, np.ndarray]) -> dict[str, Any]:
    """Compares ONNX outputs (in graph order) with scikit-learn's."""
    result: dict[str, Any] = {"ok": True, "max_abs_diff": 0.0}
    if role == "classifier":
        label = np.asarray(outputs[0]).reshape(-1)
        probs = np.asarray(outputs[1])
        pred = want["predict"].reshape(-1)
        ref = want.get("predict_proba", want.get("decision_function"))
        if label.dtype.kind in "OUS" or pred.dtype.kind in "OUS":
            same = label.astype(str) == pred.astype(str)
        else:
            same = label.astype(np.int64) == pred.astype(np.int64)
        near = np.zeros(len(pred), dtype=bool)
        if "predict_proba" in want and want["predict_proba"].ndim == 2 and want["predict_proba"].shape[1] > 1:
            top = np.sort(want["predict_proba"], axis=1)
            near = (top[:, -1] - top[:, -2]) < 1e-5
        elif ref is not None:
            r = ref.reshape(len(pred), -1)
            if r.shape[1] == 1:
                near = np.abs(r[:, 0]) < 1e-5
            else:
                top = np.sort(r, axis=1)
                near = (top[:, -1] - top[:, -2]) < 1e-5
        bad = ~same & ~near
        result["label_mismatches"] = int(bad.sum())
        result["near_ties"] = int((~same & near).sum())
        if bad.any():
            result["ok"] = False
        if ref is not None:
            ok, diff = _values_diff(probs, ref.reshape(len(pred), -1))
            result["max_abs_diff"] = diff
            result["ok"] = result["ok"] and ok
    else:
        ref = want["transform"] if role == "transformer" else want["predict"]
        ok, diff = _values_diff(np.asarray(outputs[0]), ref)
        result["max_abs_diff"] = diff
        result["ok"] = ok
    return result
