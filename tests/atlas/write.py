"""Writer of the break atlas: fit/build every case of one family, pickle it, record its outputs.

    python -I tests/atlas/write.py FAMILY OUTDIR

Runs in a producer venv (scripts/atlas.sh). Writes OUTDIR/<case>.pkl (pickle.dump, the
interpreter's default protocol, as `pickle.dump(model, f)` does) and OUTDIR/manifest.json:
the producer's versions and, per case, its class, parameters, calls and the writer's own
result of every call (cases.normalize). Deterministic: fixed seeds, single-threaded BLAS and
OpenMP (set by scripts/atlas.sh), sorted keys, no timestamps.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases


def versions() -> dict[str, str]:
    out = {"python": ".".join(str(x) for x in sys.version_info[:3])}
    import numpy

    out["numpy"] = numpy.__version__
    for mod, dist in (("sklearn", "scikit-learn"), ("pandas", "pandas")):
        try:
            out[dist] = __import__(mod).__version__
        except ImportError:
            pass
    return out


def class_of(obj: object) -> str:
    t = type(obj)
    return f"{t.__module__}:{t.__qualname__}"


def main() -> None:
    family, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    inputs = cases.load_inputs()
    warnings.simplefilter("ignore")
    if family == "sklearn":
        names = [m[0] for m in cases.SKLEARN_MODELS]
    elif family == "pandas":
        names = list(cases.PANDAS_OBJECTS)
    else:
        names = list(cases.NUMPY_OBJECTS)
    entries = []
    for name in names:
        obj, meta = cases.build(family, name, inputs)
        params = cases._deep(obj.get_params(deep=False)) if family == "sklearn" else {}
        with open(os.path.join(outdir, name + ".pkl"), "wb") as f:
            pickle.dump(obj, f)
        outputs: dict = {}
        calls = []
        skipped = {}
        for c in cases.family_calls(family):
            if family == "sklearn" and c not in ("repr", "get_params") and not hasattr(obj, c):
                continue
            try:
                # Every call on its own new object: a call that mutates its object (pandas
                # 2.1's StringArray.astype(str) does) must not change what later calls see.
                own, _ = cases.build(family, name, inputs)
                value = cases.call(family, name, own, c, inputs, meta, outputs)
            except Exception as e:  # noqa: BLE001 - a call the writer cannot make is not a case
                skipped[c] = f"{type(e).__name__}: {e}".splitlines()[0]
                continue
            calls.append(c)
            outputs[c] = cases.normalize(value)
        entries.append({
            "name": name,
            "class": class_of(obj),
            "params": params,
            "meta": meta,
            "calls": calls,
            "writer_skipped": skipped,
            "outputs": outputs,
        })
    manifest = {"family": family, "versions": versions(), "cases": entries}
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
