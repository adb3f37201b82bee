"""Writes the ONNX agreement table of docs/export.md from recorded results.

    python tests/export/onnx/report.py FIXTURES RESULTS.json DOC.md

FIXTURES is tests/fixtures/sklearn-onnx (each model's meta.json holds skl2onnx's result in the
venv that wrote it: agreement with scikit-learn and wall time); RESULTS.json is what
`check.py BIN FIXTURES --results RESULTS.json` recorded for pickle-doctor (same comparison,
same rows; wall time of one `pickle-doctor export` process). The table replaces the text
between the `<!-- onnx-table:begin -->` and `<!-- onnx-table:end -->` markers of DOC.md.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

BEGIN = "<!-- onnx-table:begin -->"
END = "<!-- onnx-table:end -->"


def cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "n/a"
    if r.get("converted") is False or ("error" in r and "max_abs_diff" not in r):
        err = str(r.get("error", "failed")).replace("|", "/")
        return f"fails: {err[:70]}"
    diff = r.get("max_abs_diff", 0.0)
    mism = r.get("label_mismatches", 0)
    text = f"{diff:.1e}" if diff is not None else "NaN or shape differs"
    if mism:
        text += f", {mism} labels differ"
    return ("✓ " if r.get("ok") else "✗ ") + text


def main() -> None:
    fixtures, results_path, doc = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    ours = {
        (r["sklearn"], r["name"]): r
        for r in json.loads(results_path.read_text())
        if r["file"] == "model.pkl" and not r.get("options")
    }
    rows = []
    times: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, dict[str, int]] = {}
    for meta_path in sorted(fixtures.glob("*/*/meta.json")):
        meta = json.loads(meta_path.read_text())
        v, name = meta["sklearn"], meta["name"]
        s = meta["skl2onnx"]
        p = ours.get((v, name))
        rows.append((meta["family"], name, v, meta["class"].rsplit(".", 1)[-1], p, s))
        t = times.setdefault(v, {"pd": [], "s2o": []})
        c = counts.setdefault(v, {"n": 0, "pd": 0, "s2o": 0})
        c["n"] += 1
        c["pd"] += bool(p and p.get("ok"))
        c["s2o"] += bool(s.get("ok"))
        if p:
            t["pd"].append(p["time_s"])
        t["s2o"].append(s["time_s"])
    out = [
        "Summary (rows: every model pickled by that scikit-learn; agreement = labels equal to "
        "`predict`, values within rtol = atol = 1e-5; time = median wall time of one process):",
        "",
        "| scikit-learn | models | pickle-doctor agrees | skl2onnx 1.20.0 agrees"
        " | pickle-doctor time | skl2onnx time |",
        "|---|---|---|---|---|---|",
    ]
    for v in sorted(counts, key=lambda x: tuple(int(p) for p in x.split("."))):
        c, t = counts[v], times[v]
        pd_t = f"{statistics.median(t['pd']) * 1000:.0f} ms" if t["pd"] else "n/a"
        s_t = f"{statistics.median(t['s2o']) * 1000:.0f} ms"
        out.append(f"| {v} | {c['n']} | {c['pd']} | {c['s2o']} | {pd_t} | {s_t} |")
    out += [
        "",
        "Per model (cell: agreement and the largest absolute difference from scikit-learn's output):",
        "",
        "| family | model | estimator | scikit-learn | pickle-doctor | skl2onnx 1.20.0"
        " | pickle-doctor time | skl2onnx time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for family, name, v, cls, p, s in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
        pt = f"{p['time_s'] * 1000:.0f} ms" if p else "n/a"
        out.append(
            f"| {family} | {name} | {cls} | {v} | {cell(p)} | {cell(s)} | {pt} | {s['time_s'] * 1000:.0f} ms |"
        )
    text = doc.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + BEGIN + "\n" + "\n".join(out) + "\n" + END + tail)


if __name__ == "__main__":
    main()
