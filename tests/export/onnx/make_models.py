"""Writes the ONNX differential test's fixtures for the scikit-learn of the running venv.

    python tests/export/onnx/make_models.py OUT_ROOT [FAMILY...]

Run in each writer venv (scripts/make-onnx-fixtures.sh: export-sk-1.2, export-sk-1.3, export-sk-1.6,
export-sk-1.9, built from tests/envs/export/). For every model of tests/export/onnx/models/*.py
it fits the model on the fixed data of its kind and writes, under OUT_ROOT/<sklearn X.Y.Z>/<name>/:

- ``model.pkl`` (``pickle.dump``, protocol 4; some models also ``model.joblib``),
- ``X.npy``: float32 test rows (random rows, the model's probe rows, NaN rows for nan kinds),
- scikit-learn's own outputs on X: ``predict.npy``, ``predict_proba.npy``,
  ``decision_function.npy``, ``transform.npy`` (whichever the model has),
- ``meta.json``: name, family, kind, role (classifier/regressor/transformer), and the
  skl2onnx 1.20.0 result on the same pickle in this venv: whether it converted, its agreement
  with scikit-learn (tests/export/onnx/compare.py), and its wall time in a fresh process
  (importing scikit-learn and skl2onnx, unpickling, converting, saving).

FAMILY (a file stem of models/, or `refuse`) limits the run to those families, so that one
family's fixtures can be regenerated without touching the others'. It also writes
OUT_ROOT/<version>/refuse/: models that must be refused, with refusals.json
giving the step path and a part of the message for each.

Nothing here is made up: every expected value is what scikit-learn computed.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare  # noqa: E402

N_TRAIN = 120
N_TEST = 48
N_FEATURES = 4


def data(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test) for a data kind, from a fixed seed."""
    rng = np.random.RandomState(0)
    if kind.startswith("counts"):
        x = rng.randint(0, 4, size=(N_TRAIN + N_TEST, N_FEATURES)).astype(np.float64)
        if kind == "counts":
            # Unknown categories in the test rows (handle_unknown="ignore": all zeros).
            x[N_TRAIN:, 0] = np.where(np.arange(N_TEST) % 7 == 0, 9.0, x[N_TRAIN:, 0])
    else:
        x = rng.randn(N_TRAIN + N_TEST, N_FEATURES) * np.array([1.0, 3.0, 0.5, 10.0])
    # Round to float32 so that training values are exactly what the float32 input carries.
    x = x.astype(np.float32).astype(np.float64)
    score = x[:, 0] + 0.5 * x[:, 1] - 0.2 * x[:, 3] + rng.randn(len(x)) * 0.3
    if kind.endswith("binary"):
        y = (score > 0).astype(np.int64)
    elif kind.endswith("multiclass") or kind.startswith("counts"):
        y = np.digitize(score, [-1.0, 1.0]).astype(np.int64)
    elif kind == "strings":
        y = np.array(["low", "mid", "high"], dtype=object)[np.digitize(score, [-1.0, 1.0])]
    elif kind == "positive":
        y = np.exp(0.3 * np.tanh(score)) + 0.1
    else:
        y = score
    if kind.startswith("nan-"):
        mask = rng.rand(*x.shape) < 0.15
        mask[:, 2] = False
        x[mask] = np.nan
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:]


def load_families(only: list[str]) -> list[tuple[str, Any]]:
    out = []
    for path in sorted((HERE / "models").glob("*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(f"models_{path.stem}", path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out.append((path.stem, mod))
    return out


def role_of(model: Any) -> str:
    if is_classifier(model):
        return "classifier"
    if hasattr(model, "predict"):
        return "regressor"
    return "transformer"


def dense(a: Any) -> np.ndarray:
    return np.asarray(a.toarray() if hasattr(a, "toarray") else a)


def outputs(model: Any, x: np.ndarray, role: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if role == "transformer":
        out["transform"] = dense(model.transform(x))
        return out
    out["predict"] = np.asarray(model.predict(x))
    for m in ("predict_proba", "decision_function"):
        if hasattr(model, m):
            try:
                out[m] = np.asarray(getattr(model, m)(x))
            except (AttributeError, NotImplementedError):
                pass
    return out


SKL2ONNX = r"""
import sys, time, json, pickle
t0 = time.perf_counter()
import numpy as np
import sklearn
from skl2onnx import to_onnx
model = pickle.load(open(sys.argv[1], "rb"))
x = np.load(sys.argv[2])[:1].astype(np.float32)
opsets = {"": 17, "ai.onnx.ml": 3}
try:
    onx = to_onnx(model, x, options={"zipmap": False}, target_opset=opsets)
except (NameError, RuntimeError, TypeError, ValueError):
    onx = to_onnx(model, x, target_opset=opsets)
open(sys.argv[3], "wb").write(onx.SerializeToString())
print(json.dumps({"inner_time_s": time.perf_counter() - t0}))
"""


def skl2onnx_result(model_dir: Path, x: np.ndarray, role: str, want: dict[str, np.ndarray]) -> dict[str, Any]:
    onnx_path = model_dir / "skl2onnx.onnx"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", SKL2ONNX, str(model_dir / "model.pkl"), str(model_dir / "X.npy"), str(onnx_path)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {"time_s": round(wall, 4)}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        result.update(converted=False, ok=False, error=last[:300])
        onnx_path.unlink(missing_ok=True)
        return result
    result["converted"] = True
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        got = sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})
        result.update(compare.compare(role, got, want))
    except Exception as e:  # noqa: BLE001 - recorded, not raised: this is the anchor's failure
        result.update(ok=False, error=f"onnxruntime: {type(e).__name__}: {str(e)[:240]}")
    onnx_path.unlink(missing_ok=True)
    return result


class CustomScaler(StandardScaler):
    """A subclass defined outside scikit-learn: must be refused as a custom class."""


def write_refusals(root: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC

    d = root / "refuse"
    d.mkdir(parents=True, exist_ok=True)
    x, y, _ = data("binary")
    cases = [
        ("svc.pkl", SVC(), "<model>", "sklearn.svm._classes.SVC is not supported"),
        (
            "pipe-unsupported-step.pkl",
            Pipeline([("scaler", StandardScaler()), ("reg", KNeighborsRegressor())]),
            "steps[1] ('reg')",
            "KNeighborsRegressor is not supported",
        ),
        (
            "pipe-callable.pkl",
            Pipeline([("log", FunctionTransformer(np.abs)), ("clf", LogisticRegression())]),
            "steps[0] ('log')",
            "FunctionTransformer calls numpy",
        ),
        (
            "pipe-custom-class.pkl",
            Pipeline([("scaler", CustomScaler()), ("clf", LogisticRegression())]),
            "steps[0] ('scaler')",
            "is a custom class",
        ),
    ]
    meta = []
    for fname, model, path, contains in cases:
        model.fit(x, y)
        with open(d / fname, "wb") as f:
            pickle.dump(model, f, protocol=4)
        meta.append({"file": fname, "path": path, "contains": contains})
    (d / "refusals.json").write_text(json.dumps(meta, indent=1) + "\n")


def main() -> None:
    out_root = Path(sys.argv[1]) / sklearn.__version__
    only = sys.argv[2:]
    out_root.mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    index = 0
    for family, mod in load_families(only):
        probe = getattr(mod, "probe_rows", None)
        for name, est, kind in mod.MODELS:
            assert name not in names, f"duplicate model name {name}"
            names.add(name)
            model = clone(est)
            x_train, y_train, x_test = data(kind)
            model.fit(x_train, y_train)
            names_in = getattr(mod, "FEATURE_NAMES", {}).get(name)
            if names_in is not None:
                first = model.steps[0][1] if hasattr(model, "steps") else model
                first.feature_names_in_ = np.array(names_in, dtype=object)
            rows = [x_test]
            if probe is not None:
                extra = probe(name, model, x_train)
                if extra is not None and len(extra):
                    rows.append(np.asarray(extra, dtype=np.float64))
            x = np.concatenate(rows).astype(np.float32)
            role = role_of(model)
            d = out_root / name
            d.mkdir(parents=True, exist_ok=True)
            np.save(d / "X.npy", x, allow_pickle=False)
            with open(d / "model.pkl", "wb") as f:
                pickle.dump(model, f, protocol=4)
            files = ["model.pkl"]
            if index % 3 == 0:
                joblib.dump(model, d / "model.joblib")
                files.append("model.joblib")
            index += 1
            want = outputs(model, x, role)
            for k, v in want.items():
                if v.dtype == object:
                    v = v.astype(str)
                np.save(d / f"{k}.npy", v, allow_pickle=False)
            want = compare.expected(d, role)
            meta = {
                "name": name,
                "family": family,
                "kind": kind,
                "role": role,
                "class": f"{type(model).__module__}.{type(model).__name__}",
                "sklearn": sklearn.__version__,
                "files": files,
                "rows": int(len(x)),
                "feature_names": names_in,
                "skl2onnx": skl2onnx_result(d, x, role, want),
            }
            (d / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, allow_nan=False) + "\n")
            s = meta["skl2onnx"]
            print(f"{sklearn.__version__} {name}: skl2onnx ok={s.get('ok')} {s.get('error', '')}", file=sys.stderr)
    if not only or "refuse" in only:
        write_refusals(out_root)


if __name__ == "__main__":
    main()
