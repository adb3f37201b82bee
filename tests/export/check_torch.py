#!/usr/bin/env python3
"""Checks `pickle-doctor export` of the torch fixtures against what torch recorded when it
wrote them (tests/fixtures/torch/export/expected.json), without torch: the files are read
back by the `safetensors` package (`safetensors.deserialize`, raw bytes, so bf16 and f8 need
no numpy dtype) and every tensor's bytes are hashed and compared with torch's sha256 of
`t.contiguous()`.

    check_torch.py EXPECTED.json RUNS.json

RUNS.json maps each fixture name to {"code": exit code, "report": export --format json
document, "output": path asked for}. Exits 1 on any difference, printing them.
"""

import hashlib
import json
import os
import sys

from safetensors import deserialize, safe_open

CLASSES = {
    "quantized": "quantized",
    "sparse": "sparse",
    "complex": "complex",
    "big-endian": "big-endian",
    "no-storage": ("no storage", "not in the file"),
}


def check(name, want, run):
    problems = []
    report, code, out = run["report"], run["code"], run["output"]
    refused = {r["name"]: r["why"] for r in report.get("refused", [])}
    if want["refuse"]:
        if code != 1:
            problems.append(f"exit {code}, expected 1 (refused)")
        if os.path.exists(out):
            problems.append("a file was written although tensors were refused")
        for r in want["refuse"]:
            why = refused.get(r["name"])
            words = CLASSES[r["why"]]
            words = (words,) if isinstance(words, str) else words
            if why is None:
                problems.append(f"{r['name']} ({r['why']}) not refused; refused: {sorted(refused)}")
            elif not any(w in why for w in words):
                problems.append(f"{r['name']} refused for {why!r}, torch says {r['why']}")
        extra = set(refused) - {r["name"] for r in want["refuse"]}
        if extra:
            problems.append(f"refused beyond torch's record: {sorted(extra)}")
        return problems
    if code != 0:
        return [f"exit {code}: refused {refused}"]
    data = open(out, "rb").read()
    got = {n: t for n, t in deserialize(data)}
    expected = {t["name"]: t for t in want["tensors"]}
    expected_names = set(expected) - set(want["dropped_shared"])
    if set(got) != expected_names:
        problems.append(f"names: missing {sorted(expected_names - set(got))}, extra {sorted(set(got) - expected_names)}")
    for n in sorted(set(got) & expected_names):
        g, w = got[n], expected[n]
        digest = hashlib.sha256(bytes(g["data"])).hexdigest()
        if g["dtype"] != w["dtype"] or list(g["shape"]) != w["shape"]:
            problems.append(f"{n}: {g['dtype']} {g['shape']} != {w['dtype']} {w['shape']}")
        elif digest != w["sha256"]:
            problems.append(f"{n}: bytes differ from torch's t.contiguous()")
    with safe_open(out, framework="numpy") as f:
        meta = f.metadata() or {}
    if report["dropped_shared"] != want["dropped_shared"]:
        problems.append(f"dropped_shared {report['dropped_shared']} != {want['dropped_shared']}")
    for dropped, kept in want["dropped_shared"].items():
        if meta.get(dropped) != kept:
            problems.append(f"__metadata__[{dropped!r}] = {meta.get(dropped)!r}, expected {kept!r}")
    for key, value in want["metadata"].items():
        if key not in meta:
            problems.append(f"metadata {key} missing")
        elif json.loads(meta[key]) != value:
            problems.append(f"metadata {key} = {meta[key]} != {value!r}")
    extra_meta = set(meta) - set(want["metadata"]) - set(want["dropped_shared"]) - {"format"}
    if extra_meta:
        problems.append(f"metadata beyond torch's plain leaves: {sorted(extra_meta)}")
    skipped = {s["name"] for s in report["skipped"]}
    for key in want["non_plain"]:
        if key not in skipped:
            problems.append(f"non-plain {key} not listed as skipped ({sorted(skipped)})")
    return problems


def main():
    expected = json.load(open(sys.argv[1]))["files"]
    runs = json.load(open(sys.argv[2]))
    bad = 0
    for name, want in sorted(expected.items()):
        if name not in runs:
            print(f"{name}: not exported")
            bad += 1
            continue
        problems = check(name, want, runs[name])
        status = "ok" if not problems else "; ".join(problems)
        print(f"{name}: {len(want['tensors'])} tensors, {len(want['refuse'])} refusals: {status}")
        bad += bool(problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
