"""CI check of the committed break atlas: re-run a deterministic sample of truth rows for real.

    python3 tests/atlas/verify.py ENVS_TSV

ENVS_TSV is the file `PICKLE_DOCTOR_ATLAS` names (tests/atlas/README.md): atlas name ->
python. For every (family, producer, target) pair of tests/atlas/truth.json whose target venv
is listed, it takes, for each verdict present in that pair (`ok`, `load`, `use`, `silent`),
the row whose sha256(family|producer|target|case) is smallest, then runs tests/atlas/run.py
for those cases in the target venv (`python -I`, empty cwd: real loads and calls, each case
in its own forked child) and compares load result, warnings, every call's status, error and
frame, and the verdict with the committed row. First it checks that
crates/knowledge/data/atlas/breaks.toml and docs/breaks.md are exactly what truth.json
generates (build.generated: no hand edits). Exit 1 on any difference (printed).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build


def read_envs(path: str) -> dict[str, str]:
    envs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "name" or len(parts) < 2:
                continue
            envs[parts[0]] = parts[1]
    return envs


def sample(rows: list[dict]) -> dict[tuple, list[dict]]:
    best: dict[tuple, dict] = {}
    for r in rows:
        h = hashlib.sha256(f"{r['family']}|{r['producer']}|{r['target']}|{r['case']}".encode()).hexdigest()
        key = (r["family"], r["producer"], r["target"], r["verdict"])
        if key not in best or h < best[key][0]:
            best[key] = (h, r)
    out: dict[tuple, list[dict]] = {}
    for (fam, p, t, _), (_, r) in sorted(best.items()):
        out.setdefault((fam, p, t), []).append(r)
    return out


def compare(want: dict, got_row: dict) -> list[str]:
    diffs = []
    if "crash" in got_row:
        return [f"child crashed: {got_row['crash']}"]
    load = got_row["load"]
    calls = [{k: v for k, v in c.items() if k != "got"} for c in got_row["calls"]]
    verdict, _ = build.verdict(load, calls)
    for k in ("ok", "error", "where", "warnings", "read_pickle"):
        if want["load"].get(k) != load.get(k):
            diffs.append(f"load.{k}: truth {want['load'].get(k)!r}, now {load.get(k)!r}")
    if verdict != want["verdict"]:
        diffs.append(f"verdict: truth {want['verdict']}, now {verdict}")
    if len(calls) != len(want["calls"]):
        diffs.append(f"calls: truth {len(want['calls'])}, now {len(calls)}")
    for a, b in zip(want["calls"], calls):
        for k in ("call", "status", "error", "where", "fresh"):
            if a.get(k) != b.get(k):
                diffs.append(f"{a['call']}.{k}: truth {a.get(k)!r}, now {b.get(k)!r}")
    return diffs


def main() -> int:
    envs = read_envs(sys.argv[1])
    with open(build.TRUTH, encoding="utf-8") as f:
        rows = json.load(f)["rows"]
    # No hand edits: the knowledge data and docs/breaks.md are what truth.json generates.
    stale = []
    for path, text in build.generated(rows).items():
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                stale.append(os.path.relpath(path, build.ROOT))
    if stale:
        print(f"atlas verify: {', '.join(stale)} differ from what tests/atlas/truth.json "
              "generates; rerun scripts/atlas.sh", file=sys.stderr)
        return 1
    groups = sample(rows)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    checked = skipped = 0
    failures: list[str] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as empty:
        for (fam, p, t), want_rows in groups.items():
            python = envs.get(t)
            if python is None:
                skipped += len(want_rows)
                continue
            names = [r["case"] for r in want_rows]
            proc = subprocess.run(
                [python, "-I", os.path.join(HERE, "run.py"), fam, os.path.join(build.FIXTURES, p), *names],
                cwd=empty, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                failures.append(f"{fam} {p}->{t}: run.py exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
                continue
            got = {r["name"]: r for r in json.loads(proc.stdout)["rows"]}
            for w in want_rows:
                checked += 1
                diffs = compare(w, got[w["case"]])
                if diffs:
                    failures.append(f"{fam} {p}->{t} {w['case']}:\n    " + "\n    ".join(diffs))
    dt = time.monotonic() - t0
    print(f"atlas verify: {checked} truth rows re-run over {len(groups)} pairs "
          f"({skipped} skipped: target venv not listed) in {dt:.0f} s; {len(failures)} differ",
          file=sys.stderr)
    for f in failures:
        print("DIFFERS: " + f, file=sys.stderr)
    if checked == 0:
        print("atlas verify: nothing checked", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
