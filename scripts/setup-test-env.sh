#!/usr/bin/env bash
# Create (or reuse) the Python venv used to generate pickle fixtures.
#
#   scripts/setup-test-env.sh            # prints the venv's python as the last stdout line
#   PY=$(scripts/setup-test-env.sh)      # stdout carries nothing else; progress goes to stderr
#
# The venv lives at ${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}/venvs/fixtures
# and is built from tests/envs/fixtures.txt (exact pins, wheels only).
# A stamp file holding the sha256 of fixtures.txt marks a finished install; when
# it matches, the script returns at once. When it does not (first run, edited
# pins, interrupted install) the venv is deleted and rebuilt from scratch.
#
# Needs only python3 (>= 3.11 for the pinned wheels) and network access to PyPI.
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create the venv (default python3)
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"
requirements="$repo_root/tests/envs/fixtures.txt"

cache_root="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
venv="$cache_root/venvs/fixtures"
venv_python="$venv/bin/python"
stamp="$venv/.fixtures-requirements.sha256"
base_python="${PYTHON:-python3}"

log() { printf 'setup-test-env: %s\n' "$*" >&2; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 -- "$1" | cut -d' ' -f1
    else
        "$base_python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}

if [[ ! -f "$requirements" ]]; then
    log "missing $requirements"
    exit 1
fi
want="$(sha256_of "$requirements")"

# Fast path: finished install for exactly these requirements.
if [[ -f "$stamp" && -x "$venv_python" ]] && [[ "$(<"$stamp")" == "$want" ]]; then
    printf '%s\n' "$venv_python"
    exit 0
fi

if ! command -v "$base_python" >/dev/null 2>&1; then
    log "cannot find $base_python; set PYTHON=/path/to/python3"
    exit 1
fi

log "building venv at $venv (requirements sha256 $want)"
rm -rf -- "$venv"
mkdir -p -- "$(dirname -- "$venv")"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
pip_args=(install --only-binary=:all: --no-input -r "$requirements")

if "$base_python" -m venv "$venv" >&2; then
    "$venv_python" -m pip "${pip_args[@]}" >&2
else
    # Some distributions ship python3 without ensurepip (Debian/Ubuntu without
    # python3-venv). Fall back to a pip-less venv and drive it with the base
    # interpreter's pip (pip >= 22.3 understands --python).
    log "python3 -m venv failed (no ensurepip?); retrying with --without-pip"
    rm -rf -- "$venv"
    "$base_python" -m venv --without-pip "$venv" >&2
    "$base_python" -m pip --python "$venv_python" "${pip_args[@]}" >&2
fi

# Sanity check: the libraries the generator needs import cleanly.
"$venv_python" -c 'import numpy, pandas, sklearn, scipy, joblib, lz4.frame' >&2

printf '%s\n' "$want" >"$stamp"
log "ready"
printf '%s\n' "$venv_python"
