"""The tree converters' float64 check: thresholds compared in double.

    <writer venv>/bin/python trees_check.py write OUT        # fit, pickle, sklearn outputs
    <onnx venv>/bin/python trees_check.py check OUT BIN       # export --float64, compare

make_models.py/check.py test every model on float32 rows (and, with --float64, on the same
float32 values as doubles). This adds rows that only a double input can carry: each split's
float64 threshold itself and its float64 neighbours. scikit-learn's DecisionTree, forests and
GradientBoosting cast X to float32 before comparing (so the export casts too), while
HistGradientBoosting compares float64 X with float64 thresholds (so the export keeps double
thresholds, `nodes_values_as_tensor`). `write` stores per model `<name>.pkl`, `X.npy`,
`predict.npy`, `predict_proba.npy` under OUT/<sklearn version>/; `check` exports with
`BIN export --to onnx --float64`, runs the ONNX checker (full_check) and onnxruntime, and
compares with compare.py's rule (labels exact outside near-ties, values rtol = atol = 1e-5).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "models"))


def write(out: Path) -> None:
    import make_models
    import sklearn
    import trees
    from sklearn.base import clone

    for name, est, kind in trees.MODELS:
        d = out / sklearn.__version__ / name
        d.mkdir(parents=True, exist_ok=True)
        model = clone(est)
        x_train, y_train, x_test = make_models.data(kind)
        model.fit(x_train, y_train)
        extra = trees.probe_rows(name, model, x_train, dtype=np.float64)
        x = np.concatenate([x_test] + ([extra] if extra is not None else []))
        (d / "model.pkl").write_bytes(pickle.dumps(model, protocol=4))
        np.save(d / "X.npy", x)
        for k, v in make_models.outputs(model, x, make_models.role_of(model)).items():
            np.save(d / f"{k}.npy", v.astype(str) if v.dtype == object else v)
        (d / "meta.json").write_text(
            json.dumps({"role": make_models.role_of(model)}) + "\n"
        )


def check(out: Path, binary: str) -> int:
    import compare
    import onnx
    import onnxruntime as ort

    failures = []
    n = 0
    for d in sorted(p.parent for p in out.glob("*/*/model.pkl")):
        n += 1
        dest = d / "model.f64.onnx"
        proc = subprocess.run(
            [
                binary,
                "export",
                str(d / "model.pkl"),
                "--to",
                "onnx",
                "--float64",
                "-o",
                str(dest),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            failures.append(f"{d}: {proc.stderr.strip()[-300:]}")
            continue
        onnx.checker.check_model(onnx.load(str(dest)), full_check=True)
        sess = ort.InferenceSession(str(dest), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"float_input": np.load(d / "X.npy")})
        role = json.loads((d / "meta.json").read_text())["role"]
        result = compare.compare(role, got, compare.expected(d, role))
        print(d.parent.name, d.name, json.dumps(result))
        if not result.get("ok"):
            failures.append(f"{d}: {result}")
    print(f"{n - len(failures)}/{n} agree in float64")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    else:
        sys.exit(check(Path(sys.argv[2]), sys.argv[3]))
