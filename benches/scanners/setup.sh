#!/usr/bin/env bash
# Build (once) the venv holding the peer scanners that benches/scanners/compare.py
# runs: picklescan, modelscan, fickling and modelaudit, pinned in requirements*.txt.
#
#   PY=$(benches/scanners/setup.sh)      # about 1.5 min the first time, instant after
#   "$PY" benches/scanners/compare.py --help
#
# The venv lives outside the repo, at
# ${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}/venvs/scanners. modelscan has a
# venv of its own nested in it (VENV/modelscan: it needs numpy 1.x, modelaudit numpy
# 2.4), and its entry point is linked into VENV/bin, so every CLI is in VENV/bin.
# A stamp file holds the sha256 of both requirements files plus the base interpreter's
# version: when it matches nothing is installed; when it does not, the venv is deleted
# and built again from scratch (pip never removes packages dropped from a requirements
# file).
#
# Progress goes to stderr; the last line on stdout is the venv's python.
# Needs python3 3.11 (the pins are cp311 wheels; PYTHON=... picks another interpreter)
# and PyPI.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
VENV="$CACHE/venvs/scanners"
REQ="$HERE/requirements.txt"
REQ_MODELSCAN="$HERE/requirements-modelscan.txt"
BASE_PYTHON="${PYTHON:-python3}"

want_stamp="$( { sha256sum "$REQ" "$REQ_MODELSCAN" | cut -d' ' -f1; "$BASE_PYTHON" -VV; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.requirements.sha256"

pip_install() {  # VENV_DIR REQUIREMENTS
    # --no-deps: the requirements files pin the whole closure, so pip has nothing to
    # resolve and cannot pull in a newer transitive version behind our back.
    "$1/bin/python" -m pip install --quiet --disable-pip-version-check \
        --only-binary ':all:' --no-deps -r "$2" >&2
    "$1/bin/python" -m pip check --disable-pip-version-check >&2
}

if [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$want_stamp" ]]; then
    echo "scanners venv up to date: $VENV" >&2
else
    echo "creating scanners venv: $VENV (from $REQ and $REQ_MODELSCAN)" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PYTHON" -m venv "$VENV"
    pip_install "$VENV" "$REQ"
    "$BASE_PYTHON" -m venv "$VENV/modelscan"
    pip_install "$VENV/modelscan" "$REQ_MODELSCAN"
    ln -s ../modelscan/bin/modelscan "$VENV/bin/modelscan"
    # Each CLI must at least start (fickling 0.1.12 dies at import without
    # typing_extensions, for example).
    PROMPTFOO_DISABLE_TELEMETRY=1 NO_ANALYTICS=1 HF_HUB_OFFLINE=1 \
        "$VENV/bin/python" - "$VENV/bin" >&2 <<'EOF'
import subprocess, sys
bin_dir = sys.argv[1]
for argv in (["picklescan", "--help"], ["modelscan", "--version"],
             ["fickling", "--version"], ["modelaudit", "--version"]):
    argv[0] = f"{bin_dir}/{argv[0]}"
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        sys.exit(f"{argv} failed with exit code {r.returncode}:\n{r.stderr.decode(errors='replace')}")
EOF
    # Written last, so an interrupted install is retried on the next run.
    echo "$want_stamp" > "$stamp_file"
fi

echo "$VENV/bin/python"
