#!/usr/bin/env bash
# Differential load matrix: real fixtures written in real venvs, loaded in real venvs.
#
#   scripts/matrix.sh            # prints the path of truth.json as the last stdout line
#   scripts/matrix.sh --force    # rewrite fixtures and truth even if nothing changed
#
# 1. scripts/setup-matrix-envs.sh creates (once) the venvs of tests/envs/matrix/*.txt:
#    old, current, bare, localpkg, renamed, legacy; scripts/setup-test-env.sh the
#    `fixtures` venv.
# 2. tests/matrix/write_fixtures.py runs in each writer venv (old, current, localpkg,
#    legacy) and writes $cache/matrix/fixtures/<writer>/ with a manifest.json.
# 3. tests/matrix/load_truth.py loads every fixture, plus the committed torch files
#    (tests/fixtures/torch/files), in every target venv (old, current, bare, localpkg,
#    renamed, legacy, fixtures), each in a fresh `python -I` subprocess in an empty cwd,
#    and writes $cache/matrix/truth.json. Nothing from tests/hostile is ever loaded.
#    Every writer is also a target, so the venvs built in step 1 (and their stamps,
#    hashed below) cover the writers.
#
# Re-runs: venvs are reused while their stamps match, and when the inputs of steps 2-3
# (venv stamps, the two scripts, the torch files) hash to the value stored next to
# truth.json, steps 2-3 are skipped as well.
#
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create venvs and run load_truth.py (default python3)
#   MATRIX_JOBS           parallel loads (default: number of CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."

force=0
if [[ "${1:-}" == "--force" ]]; then
    force=1
elif [[ $# -gt 0 ]]; then
    echo "usage: scripts/matrix.sh [--force]" >&2
    exit 2
fi

cache="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
base_python="${PYTHON:-python3}"
out="$cache/matrix"
fixtures="$out/fixtures"
truth="$out/truth.json"
stamp="$out/.truth-inputs.sha256"
torch_dir="tests/fixtures/torch/files"
writers=(old current localpkg legacy)
targets=(old current bare localpkg renamed legacy)

log() { printf 'matrix: %s\n' "$*" >&2; }
t0=$SECONDS

declare -A py
while read -r name python; do
    py[$name]="$python"
done < <(scripts/setup-matrix-envs.sh "${targets[@]}")
py[fixtures]="$(scripts/setup-test-env.sh | tail -n 1)"
log "venvs ready ($((SECONDS - t0)) s)"

# Everything steps 2-3 depend on.
want="$(
    {
        for name in "${targets[@]}"; do
            printf '%s %s\n' "$name" "$(cat "$cache/venvs/matrix-$name/.matrix-requirements.sha256")"
        done
        printf 'fixtures %s\n' "$(cat "$cache/venvs/fixtures/.fixtures-requirements.sha256")"
        sha256sum tests/matrix/write_fixtures.py tests/matrix/load_truth.py "$torch_dir"/*
        printf 'cache %s\n' "$cache"
    } | sha256sum | cut -d' ' -f1
)"
if [[ $force -eq 0 && -f "$truth" && -f "$stamp" ]] && [[ "$(<"$stamp")" == "$want" ]]; then
    log "truth.json is up to date ($((SECONDS - t0)) s)"
    printf '%s\n' "$truth"
    exit 0
fi
rm -f -- "$stamp"

t1=$SECONDS
rm -rf -- "$fixtures"
mkdir -p -- "$fixtures"
for writer in "${writers[@]}"; do
    "${py[$writer]}" tests/matrix/write_fixtures.py "$fixtures" --writer "$writer"
done
log "fixtures written ($((SECONDS - t1)) s)"

t2=$SECONDS
target_args=()
for name in "${targets[@]}" fixtures; do
    target_args+=(--target "$name=${py[$name]}")
done
"$base_python" tests/matrix/load_truth.py "$fixtures" "${target_args[@]}" --torch "$torch_dir" \
    -j "${MATRIX_JOBS:-$(nproc)}" -o "$truth"
log "truth written ($((SECONDS - t2)) s); total $((SECONDS - t0)) s"

printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$truth"
