#!/usr/bin/env bash
# The break atlas: regenerate every committed output of tests/atlas/ from real venvs.
#
#   scripts/atlas.sh
#
# 1. scripts/setup-atlas-envs.sh builds (or reuses) the atlas venvs (scikit-learn 1.1.3,
#    1.2.2, 1.3.2, 1.4.2, 1.6.1, 1.9.1; pandas 1.5.3, 2.1.4, 2.3.3, 3.1.1; numpy 1.24.2,
#    1.26.4, 2.4.6).
# 2. tests/atlas/build.py inputs writes tests/atlas/fixtures/inputs.json (seeded, pure Python).
# 3. tests/atlas/write.py runs in every producer venv (`python -I`, empty cwd) and writes
#    tests/atlas/fixtures/<producer>/<case>.pkl + manifest.json (the writer's own outputs).
# 4. tests/atlas/run.py runs in every target venv for every later producer (numpy: both
#    directions) and loads + calls every case, each case in its own forked child.
# 5. tests/atlas/build.py truth condenses the results into tests/atlas/truth.json,
#    crates/knowledge/data/atlas/breaks.toml and docs/breaks.md.
#
# Deterministic: fixed seeds, single-threaded BLAS/OpenMP, sorted keys, no timestamps, venv
# paths written as <site-packages>. Running it twice leaves `git status` clean.
# Not run in CI (scripts/test.sh re-verifies a sample: tests/atlas/verify.py).
#
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                base interpreter (default python3; needs 3.11 for tomllib)
#   ATLAS_JOBS            parallel target runs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

base_python="${PYTHON:-python3}"
jobs="${ATLAS_JOBS:-2}"
log() { printf 'atlas: %s\n' "$*" >&2; }
t0=$SECONDS

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
export PYTHONDONTWRITEBYTECODE=1

declare -A py
while read -r name python; do
    py[$name]="$python"
done < <(scripts/setup-atlas-envs.sh)
log "venvs ready ($((SECONDS - t0)) s)"

"$base_python" tests/atlas/build.py inputs

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
mkdir -p "$work/empty" "$work/raw"

while read -r family producer; do
    dir="$repo/tests/atlas/fixtures/$producer"
    rm -rf -- "$dir"
    log "writing $family fixtures in $producer"
    (cd "$work/empty" && "${py[$producer]}" -I "$repo/tests/atlas/write.py" "$family" "$dir")
done < <("$base_python" tests/atlas/build.py producers)
log "fixtures written ($((SECONDS - t0)) s)"

export work repo
"$base_python" tests/atlas/build.py pairs | while read -r family producer target; do
    printf '%s %s %s %s\n' "$family" "$producer" "$target" "${py[$target]}"
done | xargs -P "$jobs" -L 1 bash -c '
    cd "$work/empty"
    "$4" -I "$repo/tests/atlas/run.py" "$1" "$repo/tests/atlas/fixtures/$2" >"$work/raw/$1__$2__$3.json"
    printf "atlas: %s %s -> %s done\n" "$1" "$2" "$3" >&2
' _
log "targets run ($((SECONDS - t0)) s)"

"$base_python" tests/atlas/build.py truth "$work/raw"
log "truth, knowledge data and docs written ($((SECONDS - t0)) s)"
