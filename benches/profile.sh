#!/usr/bin/env bash
# Instructions per opcode, per opcode family, under callgrind (see benches/profile.py).
#
#   benches/profile.sh                                  # build, profile all, rewrite the
#                                                       # "families" section of docs/benchmarks.md
#   benches/profile.sh --pickle-doctor BIN ...          # use that binary, no build
#   benches/profile.sh --families dicts,frames --commands scan --no-docs
#
# Needs valgrind and python3 (standard library only). About 7 minutes for everything on
# 2 cores (stack-global under scan dominates); the callgrind files are kept under $PICKLE_DOCTOR_CACHE/bench-data/profile/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PICKLE_DOCTOR_CACHE="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
command -v valgrind > /dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 2; }

extra=()
if [[ " $* " != *" --pickle-doctor"* ]]; then
    (cd "$ROOT" && cargo build --release -p pickle-doctor)
    extra=(--pickle-doctor "${CARGO_TARGET_DIR:-$ROOT/target}/release/pickle-doctor")
fi
exec "${PYTHON:-python3}" "$ROOT/benches/profile.py" "${extra[@]}" "$@"
