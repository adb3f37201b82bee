#!/usr/bin/env bash
# Pickles of known writers that the break atlas itself does not write: the atlas's pandas
# cases written by pandas 3.1.1 (the atlas uses pandas 3.1 only as a target). They test the
# writer markers of crates/knowledge/data/producers.toml (crates/analyze/tests/
# producers_inferred.rs): every marker a fixture shows must imply a range holding its real
# writer version (manifest.json).
#
#   scripts/atlas-producer-fixtures.sh    # rewrites tests/atlas/producer-fixtures/pd-3.1
#
# Same writer and environment as scripts/atlas.sh (tests/atlas/write.py, `python -s -P`,
# clean environment, PYTHONHASHSEED=0): rerunning it leaves `git status` clean. The same
# harness guard too: the writer reloads its files (tests/atlas/run.py) and must repeat every
# output, so "a pandas 3.1 pickle in pandas 3.1 has no break" is observed, not assumed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
mkdir -p "$work/empty"
while read -r name python; do
    dir="$repo/tests/atlas/producer-fixtures/$name"
    rm -rf -- "$dir"
    (cd "$work/empty" && env -i PATH="$PATH" HOME="$work/empty" PYTHONHASHSEED=0 \
        OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        "$python" -s -P "$repo/tests/atlas/write.py" pandas "$dir")
    (cd "$work/empty" && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        "$python" -I "$repo/tests/atlas/run.py" pandas "$dir" >"$work/self.json")
    "${PYTHON:-python3}" - "$work/self.json" "$name" <<'PY'
import json
import sys

sys.path.insert(0, "tests/atlas")
import build

with open(sys.argv[1], encoding="utf-8") as f:
    rows = json.load(f)["rows"]
bad = [r["name"] for r in rows
       if "load" not in r or build.verdict(r["load"], r.get("calls", []))[0] != "ok"]
if bad or not rows:
    raise SystemExit(f"atlas-producer-fixtures: {sys.argv[2]} cannot reproduce its own outputs: {bad}")
PY
    printf 'atlas-producer-fixtures: %s written and reloaded\n' "$name" >&2
done < <(scripts/setup-atlas-envs.sh pd-3.1)
