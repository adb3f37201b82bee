#!/usr/bin/env bash
# The break atlas: regenerate every committed output of tests/atlas/ from real venvs.
#
#   scripts/atlas.sh
#
# 1. scripts/setup-atlas-envs.sh builds (or reuses) the atlas venvs (scikit-learn 1.1.3,
#    1.2.2, 1.3.2, 1.4.2, 1.6.1, 1.9.1; pandas 1.5.3, 2.1.4, 2.3.3, 3.1.1; numpy 1.24.2,
#    1.26.4, 2.4.6).
# 2. tests/atlas/build.py inputs writes tests/atlas/fixtures/inputs.json (seeded, pure Python).
# 3. tests/atlas/write.py runs in every producer venv (`python -s -P`, empty cwd, clean
#    environment with PYTHONHASHSEED=0) and writes
#    tests/atlas/fixtures/<producer>/<case>.pkl + manifest.json (the writer's own outputs).
# 4. tests/atlas/run.py runs in every target venv for every later producer (numpy: both
#    directions) and loads + calls every case, each case in its own forked child.
#    Guard: every producer also reloads its own fixtures and must reproduce every output
#    (build.py checkself), so a difference in the atlas is never noise of the harness.
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
    # Not -I (it implies -E, which ignores PYTHONHASHSEED: sets inside some objects, e.g.
    # CountVectorizer's stop_words_, would pickle in a random order); a clean environment,
    # -s (no user site) and -P (no script dir on sys.path) instead.
    (cd "$work/empty" && env -i PATH="$PATH" HOME="$work/empty" PYTHONHASHSEED=0 \
        OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        "${py[$producer]}" -s -P "$repo/tests/atlas/write.py" "$family" "$dir")
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

# Harness guard: each writer reloads its own files and must repeat every output.
mkdir -p "$work/self"
"$base_python" tests/atlas/build.py selfpairs | while read -r family producer target; do
    (cd "$work/empty" && "${py[$target]}" -I "$repo/tests/atlas/run.py" "$family" \
        "$repo/tests/atlas/fixtures/$producer" >"$work/self/${family}__${producer}__${target}.json")
done
"$base_python" tests/atlas/build.py checkself "$work/self"
log "every writer reproduces its own outputs ($((SECONDS - t0)) s)"

"$base_python" tests/atlas/build.py truth "$work/raw"
log "truth, knowledge data and docs written ($((SECONDS - t0)) s)"
