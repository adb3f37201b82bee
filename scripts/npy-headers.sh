#!/usr/bin/env bash
# Regenerates tests/npy/corpus/: the .npy/.npz header corpus and what real numpy.load
# (numpy 1.24, 1.26 and 2.x, from the matrix venvs) does with each file. The result is
# committed; crates/cli/tests/npy_headers.rs reads it.
#
#   scripts/npy-headers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/npy/corpus
declare -A py
while read -r name python; do
    py[$name]="$python"
done < <(scripts/setup-matrix-envs.sh legacy old current)
"${py[current]}" tests/npy/headers.py write "$out"
for v in legacy old current; do
    "${py[$v]}" tests/npy/headers.py load "$out"
done
