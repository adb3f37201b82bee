#!/usr/bin/env python3
"""Checks safetensors files written by `pickle-doctor export` against the arrays numpy and
joblib themselves load from the originals, bit for bit.

    check_arrays.py PAIRS.json

PAIRS.json is a list of {"original": path, "exported": path, "kind": "npy"|"npz"|"joblib",
"refused": [names the exporter refused]}.
For each pair the original is loaded by its own library (np.load, joblib.load: these files
are the test suite's own benign fixtures) and the export is read by the `safetensors`
package (`safetensors.numpy.load_file`). Every array must be there under its name (npz keys;
"array" for an .npy; dict keys for a joblib dump of a dict), with the same dtype, shape and
C-order bytes, and nothing else may be there. Prints one JSON object per pair; exits 1 on
any difference.
"""

import json
import sys

import joblib
import numpy as np
from safetensors.numpy import load_file


def arrays_of(kind, path, refused):
    if kind == "npy":
        return {"array": np.load(path, allow_pickle=False)}
    if kind == "npz":
        # Object arrays (refused by the exporter) would need allow_pickle: they are not read.
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if k not in refused}
    obj = joblib.load(path)
    if isinstance(obj, np.ndarray):
        return {"array": obj}
    assert isinstance(obj, dict), f"{path}: a joblib dump of {type(obj).__name__}"
    return {k: v for k, v in obj.items() if isinstance(v, np.ndarray)}


def main():
    pairs = json.load(open(sys.argv[1]))
    bad = 0
    for p in pairs:
        want = arrays_of(p["kind"], p["original"], set(p.get("refused", [])))
        for name in p.get("refused", []):
            want.pop(name, None)
        got = load_file(p["exported"])
        problems = []
        if sorted(want) != sorted(got):
            problems.append(f"names {sorted(got)} != {sorted(want)}")
        for k in sorted(set(want) & set(got)):
            w = want[k].copy(order="C")
            g = got[k]
            if w.dtype.newbyteorder("<") != g.dtype.newbyteorder("<") or w.dtype.itemsize != g.dtype.itemsize:
                problems.append(f"{k}: dtype {g.dtype} != {w.dtype}")
            elif w.shape != g.shape:
                problems.append(f"{k}: shape {g.shape} != {w.shape}")
            elif w.astype(w.dtype.newbyteorder("<")).tobytes() != g.tobytes():
                problems.append(f"{k}: bytes differ")
        bad += bool(problems)
        print(json.dumps({"original": p["original"], "arrays": len(want), "problems": problems}))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
