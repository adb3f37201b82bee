#!/usr/bin/env bash
# Benchmark pickle-doctor against CPython's own tools (pickletools, C pickle).
#
#   benches/run.sh            # full run, rewrites the foundation section of docs/benchmarks.md
#   benches/run.sh --quick    # 1 run per command: a smoke test of the harness
#   benches/run.sh --pickle-doctor /path/to/bin ...   # skip the cargo build, use that binary
#   benches/run.sh --speed [--quick]   # issue 15's speed goals instead (benches/speed.py):
#                                      # PASS/FAIL per goal, the "speed" section; ~10 min
#
# Every other argument is passed to benches/bench.py (see `bench.py --help`).
#
# The venv and the generated pickles live outside the repo, under
# ${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}, so that reruns are fast
# and a `git clean` does not throw away minutes of data generation.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PICKLE_DOCTOR_CACHE="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
VENV="$PICKLE_DOCTOR_CACHE/venvs/bench"
REQ="$ROOT/benches/requirements.txt"
BASE_PYTHON="${PYTHON:-python3}"

# The stamp covers the requirements *and* the base interpreter's version: a venv
# is tied to the interpreter it was made from, so a new python3 must rebuild it.
want_stamp="$( { sha256sum "$REQ" | cut -d' ' -f1; "$BASE_PYTHON" -VV; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.requirements.sha256"

if [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" ]]; then
    echo "bench venv up to date: $VENV" >&2
else
    echo "creating bench venv: $VENV" >&2
    # Start from scratch rather than upgrading in place: pip does not remove
    # packages that were dropped from the requirements.
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
    # Written last, so an interrupted install is retried on the next run.
    echo "$want_stamp" > "$stamp_file"
fi

# A caller-supplied binary (a stand-in while the CLI is being written, or a
# build from another checkout) means there is nothing for us to build.
have_binary=0
script=bench.py
args=()
for arg in "$@"; do
    case "$arg" in
        --pickle-doctor|--pickle-doctor=*) have_binary=1 ;;
    esac
    if [[ "$arg" == --speed ]]; then script=speed.py; else args+=("$arg"); fi
done
if [[ $script == speed.py ]]; then
    # picklescan, pinned, in the peer scanners' venv.
    "$ROOT/benches/scanners/setup.sh" > /dev/null
fi

extra=()
if [[ $have_binary == 0 ]]; then
    # The release build (static-pie on linux-gnu), as a release ships it.
    extra=(--pickle-doctor "$("$ROOT/scripts/build-release.sh" | tail -n 1)")
fi

exec "$VENV/bin/python" "$ROOT/benches/$script" "${extra[@]}" "${args[@]}"
