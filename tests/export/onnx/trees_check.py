"""Standalone differential check of the tree converters (until the ONNX harness runs them).

    <sklearn venv>/bin/python trees_check.py write OUT        # fit, pickle, sklearn outputs
    <onnxruntime venv>/bin/python trees_check.py check OUT BIN [--float64]  # export, compare

`write` stores, per model, `<name>.pkl`, `<name>.X.npy` (float32 probes from
`models/trees.py`), `<name>.predict.npy` and `<name>.proba.npy` under OUT/<sklearn version>/.
`.f64.*` hold the same for float64 probes (the float64 thresholds themselves and their
float64 neighbours). `check` exports every pickle with `BIN export --to onnx`, runs the ONNX checker
(full_check) and onnxruntime, and compares: labels exactly (rows whose top two probabilities
are within 1e-5 are counted apart as near-ties), probabilities and values within
rtol = atol = 1e-5.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def write(out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "models"))
    import sklearn
    import trees

    d = out / sklearn.__version__
    d.mkdir(parents=True, exist_ok=True)
    for case in trees.cases():
        (d / f"{case.name}.pkl").write_bytes(pickle.dumps(case.model))
        for suffix, dtype in (("", np.float32), (".f64", np.float64)):
            X = trees.probe_rows(case, dtype=dtype)
            np.save(d / f"{case.name}{suffix}.X.npy", X)
            pred = case.model.predict(X)
            if pred.dtype == object:
                pred = pred.astype(str)
            np.save(d / f"{case.name}{suffix}.predict.npy", pred)
            if hasattr(case.model, "predict_proba"):
                np.save(d / f"{case.name}{suffix}.proba.npy", case.model.predict_proba(X))


def check(out: Path, binary: str, float64: bool = False) -> int:
    import onnx
    import onnxruntime as ort

    failures = 0
    results = []
    for pkl in sorted(out.glob("*/*.pkl")):
        name = pkl.name[: -len(".pkl")]
        version = pkl.parent.name
        suffix = ".f64" if float64 else ""
        onnx_path = pkl.with_suffix(f"{suffix}.onnx")
        t0 = time.perf_counter()
        r = subprocess.run(
            [binary, "export", str(pkl), "--to", "onnx", "-o", str(onnx_path)]
            + (["--float64"] if float64 else []),
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - t0
        row = {"version": version, "model": name + suffix, "export_s": round(took, 4)}
        if r.returncode != 0:
            row["error"] = (r.stdout + r.stderr).strip()[-400:]
            failures += 1
            results.append(row)
            print(json.dumps(row))
            continue
        m = onnx.load(str(onnx_path))
        onnx.checker.check_model(m, full_check=True)
        X = np.load(pkl.parent / f"{name}{suffix}.X.npy")
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        outs = {o.name: v for o, v in zip(sess.get_outputs(), sess.run(None, {"float_input": X}))}
        pred = np.load(pkl.parent / f"{name}{suffix}.predict.npy")
        proba_path = pkl.parent / f"{name}{suffix}.proba.npy"
        row["rows"] = len(X)
        row["nan_rows"] = int(np.isnan(X).any(axis=1).sum())
        ok = True
        if proba_path.exists():
            proba = np.load(proba_path)
            got = outs["probabilities"]
            row["max_diff"] = float(np.abs(got - proba).max())
            ok &= bool(np.allclose(got, proba, rtol=1e-5, atol=1e-5))
            top = np.sort(proba, axis=1)
            clear = (top[:, -1] - top[:, -2]) > 1e-5
            label = outs["label"]
            if label.dtype == object:
                label = label.astype(str)
            row["label_mismatch"] = int((label[clear] != pred[clear]).sum())
            row["near_ties"] = int((~clear).sum())
            row["near_tie_mismatch"] = int((label[~clear] != pred[~clear]).sum())
            ok &= row["label_mismatch"] == 0
        else:
            got = outs["variable"].reshape(pred.shape)
            diff = np.abs(got - pred)
            row["max_diff"] = float(diff.max())
            row["max_rel_diff"] = float((diff / np.maximum(np.abs(pred), 1e-12)).max())
            ok &= bool(np.allclose(got, pred, rtol=1e-5, atol=1e-5))
        row["ok"] = ok
        failures += not ok
        results.append(row)
        print(json.dumps(row))
    (out / f"results{'.f64' if float64 else ''}.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"{len(results) - failures}/{len(results)} agree")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    else:
        sys.exit(check(Path(sys.argv[2]), sys.argv[3], "--float64" in sys.argv[4:]))
