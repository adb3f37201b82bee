"""Checks `pickle-doctor export --to onnx` on every committed scikit-learn fixture.

    python tests/export/onnx/check.py BIN FIXTURES [--results OUT.json] [--sample K]

Runs in the `onnx` venv (tests/envs/onnx.txt: onnx, onnxruntime, numpy; no scikit-learn).
For each model directory FIXTURES/<version>/<name>/ (written by make_models.py) and each of
its pickles, it runs BIN to write the ONNX file (float32 input; and for the first file with
--float64, and with --target-opset 21), then

- ``onnx.checker.check_model(model, full_check=True)``;
- runs it in onnxruntime (CPU) on X.npy and compares with scikit-learn's recorded outputs
  (compare.py: labels exact, values within rtol = atol = 1e-5).

For FIXTURES/<version>/refuse/ it checks that each model is refused: exit 1, the offending
step's path and message in the JSON report, and no output file. Exits 1 listing every
failure. ``--results`` writes per-model numbers (agreement, export wall time) for
tests/export/onnx/report.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import compare  # noqa: E402


def export(binary: str, src: Path, dest: Path, *extra: str) -> tuple[int, dict[str, Any], float]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [binary, "export", str(src), "--to", "onnx", "-o", str(dest), "--format", "json", *extra],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        report = {"stdout": proc.stdout}
    if proc.stderr.strip():
        report["stderr"] = proc.stderr.strip()
    return proc.returncode, report, wall


def run_model(path: Path, x: np.ndarray) -> list[Any]:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    assert inp.name == "float_input", inp.name
    return sess.run(None, {inp.name: x})


def check_model_dir(binary: str, d: Path, tmp: Path, failures: list[str]) -> list[dict[str, Any]]:
    meta = json.loads((d / "meta.json").read_text())
    role = meta["role"]
    want = compare.expected(d, role)
    x32 = np.load(d / "X.npy")
    results = []
    variants = [(f, ()) for f in meta["files"]] + [
        (meta["files"][0], ("--float64",)),
        (meta["files"][0], ("--target-opset", "21")),
    ]
    for fname, extra in variants:
        label = f"{meta['sklearn']}/{meta['name']}/{fname} {' '.join(extra)}".strip()
        out = tmp / f"{meta['sklearn']}-{meta['name']}-{fname}{'-'.join(('', *extra))}.onnx"
        rc, report, wall = export(binary, d / fname, out, *extra)
        entry: dict[str, Any] = {
            "sklearn": meta["sklearn"],
            "name": meta["name"],
            "family": meta["family"],
            "file": fname,
            "float64": "--float64" in extra,
            "options": " ".join(extra),
            "time_s": round(wall, 4),
        }
        if rc != 0:
            why = "; ".join(f"{r['name']}: {r['why']}" for r in report.get("refused", []))
            entry.update(ok=False, error=why or report.get("stderr", f"exit {rc}"))
            failures.append(f"{label}: exit {rc}: {entry['error']}")
            results.append(entry)
            continue
        x = x32.astype(np.float64) if "--float64" in extra else x32
        try:
            got = run_model(out, x)
            names = [o["name"] for o in report["onnx"]["outputs"]]
            want_names = ["label", "probabilities"] if role == "classifier" else ["variable"]
            if names != want_names:
                raise AssertionError(f"outputs {names}, expected {want_names}")
            if meta.get("feature_names"):
                doc = onnx.load(str(out)).graph.input[0].doc_string
                if doc != "feature_names_in_: " + json.dumps(meta["feature_names"], separators=(",", ":")):
                    raise AssertionError(f"input doc_string {doc!r}")
            entry.update(compare.compare(role, got, want))
        except Exception as e:  # noqa: BLE001 - every failure is listed
            entry.update(ok=False, error=f"{type(e).__name__}: {e}")
        if not entry["ok"]:
            failures.append(f"{label}: {entry.get('error', entry)}")
        results.append(entry)
    return results


def check_refusals(binary: str, d: Path, tmp: Path, failures: list[str]) -> None:
    for case in json.loads((d / "refusals.json").read_text()):
        out = tmp / f"refused-{case['file']}.onnx"
        rc, report, _ = export(binary, d / case["file"], out)
        label = f"{d.parent.name}/refuse/{case['file']}"
        refused = report.get("refused", [])
        if rc != 1:
            failures.append(f"{label}: exit {rc}, expected 1")
        if out.exists():
            failures.append(f"{label}: a file was written")
        if not refused or refused[0]["name"] != case["path"] or case["contains"] not in refused[0]["why"]:
            failures.append(f"{label}: refused {refused}, expected {case['path']!r} with {case['contains']!r}")
        elif "supported:" not in refused[0]["why"]:
            failures.append(f"{label}: the refusal does not list what is supported")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("fixtures", type=Path)
    ap.add_argument("--results", type=Path)
    args = ap.parse_args()
    failures: list[str] = []
    results: list[dict[str, Any]] = []
    versions = sorted(p for p in args.fixtures.iterdir() if p.is_dir())
    if not versions:
        print(f"check.py: no fixtures under {args.fixtures}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for v in versions:
            for d in sorted(v.iterdir()):
                if d.name == "refuse":
                    check_refusals(args.binary, d, tmp, failures)
                elif (d / "meta.json").exists():
                    results.extend(check_model_dir(args.binary, d, tmp, failures))
    if args.results:
        args.results.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    n = len(results)
    print(f"check.py: {n - sum(not r['ok'] for r in results)}/{n} exports agree with scikit-learn", file=sys.stderr)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
