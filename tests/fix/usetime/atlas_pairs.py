"""`pickle-doctor fix` over every scikit-learn row of the break atlas (tests/atlas/truth.json)
whose file fails to load, raises at first use or predicts differently in its target.

Usage: python3 atlas_pairs.py PICKLE_DOCTOR_BIN ENVS_TSV OUT_JSON

ENVS_TSV lists the target venvs by atlas name (`scripts/atlas-targets.sh` writes it and prints
its path; the tests read it from PICKLE_DOCTOR_ATLAS). Pairs whose target it does not list are
skipped, and counted.

For each (producer, target) pair the failing cases are fixed for the target venv into a temp
dir, then tests/atlas/run.py (the atlas's own runner, `--files`) loads every written file in
the target venv and repeats every call the writer recorded, comparing with the writer's
outputs (labels exactly, numbers within 1e-5 relative). Each case is `repaired` (loads, every
call identical), `refused` (fix wrote nothing; its reason), or `failed` (written, but fails or
differs: a bug). Prints the counts; writes every row to OUT_JSON.

CI runs the same check as crates/cli/tests/fix_atlas.rs (ratcheted counts, 0 written files
that fail or differ); this script is for a look at every row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def target_pythons(tsv: str) -> dict[str, str]:
    """Atlas name -> python, from the envs.tsv (`name<TAB>python<TAB>...`, one header line)."""
    with open(tsv) as f:
        lines = f.read().splitlines()[1:]
    return {fields[0]: fields[1] for fields in (line.split("\t") for line in lines) if len(fields) > 1}


def broken(row: dict) -> bool:
    return not row["load"]["ok"] or any(
        c["status"] in ("error", "ok-different") for c in row["calls"]
    )


def main() -> None:
    binary, tsv, out = sys.argv[1:4]
    pythons = target_pythons(tsv)
    skipped = 0
    with open(os.path.join(ROOT, "tests/atlas/truth.json")) as f:
        rows = json.load(f)["rows"]
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r["family"] == "sklearn" and broken(r):
            pairs[(r["producer"], r["target"])].append(r["case"])
    results = []
    for (producer, target), cases in sorted(pairs.items()):
        python = pythons.get(target)
        if python is None:
            skipped += len(cases)
            print(producer, target, f"skipped: {target} is not in {tsv}", flush=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            refused = {}
            for case in cases:
                src = os.path.join(ROOT, "tests/atlas/fixtures", producer, case + ".pkl")
                dst = os.path.join(tmp, case + ".pkl")
                p = subprocess.run(
                    [binary, "fix", src, "-o", dst, "--python", python, "--format", "json"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if p.returncode != 0 or not os.path.exists(dst):
                    try:
                        reason = json.loads(p.stdout)["refusal"]["reason"]
                    except Exception:  # noqa: BLE001
                        reason = f"exit {p.returncode}: {p.stderr.strip()[:200]}"
                    refused[case] = reason
            written = [c for c in cases if c not in refused]
            got = {}
            if written:
                p = subprocess.run(
                    [python, "-I", os.path.join(ROOT, "tests/atlas/run.py"), "sklearn",
                     os.path.join(ROOT, "tests/atlas/fixtures", producer), "--files", tmp, *written],
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                    check=False,
                )
                for r in json.loads(p.stdout or "{\"rows\": []}")["rows"]:
                    got[r["name"]] = r
            for case in cases:
                row = {"producer": producer, "target": target, "case": case}
                if case in refused:
                    row.update(outcome="refused", reason=refused[case])
                else:
                    r = got.get(case)
                    bad = (
                        "no result" if r is None
                        else r["load"]["error"] if not r["load"]["ok"]
                        else next(
                            (f"{c['call']}: {c.get('error') or c['status']}" for c in r["calls"]
                             if c["status"] in ("error", "ok-different")),
                            None,
                        )
                    )
                    row.update(outcome="failed" if bad else "repaired", reason=bad)
                results.append(row)
                print(producer, target, case, row["outcome"], (row.get("reason") or "")[:120], flush=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    n = defaultdict(int)
    for r in results:
        n[r["outcome"]] += 1
    print(f"{len(results)} broken atlas rows: {n['repaired']} repaired, {n['refused']} refused, "
          f"{n['failed']} failed; {skipped} skipped (target venv not listed)")


if __name__ == "__main__":
    main()
