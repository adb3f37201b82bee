#!/usr/bin/env bash
# The Python package's checks: builds the wheel, installs it fresh, lints, runs the pytest suite.
#
#   scripts/test-python.sh [PYTEST ARGS...]
#
# 1. Creates (once, cached by the sha256 of tests/envs/python.txt) the venv with the test
#    dependencies at $PICKLE_DOCTOR_CACHE/venvs/python (pytest, numpy, scikit-learn, pandas,
#    dask, distributed, pre-commit, ruff, maturin; exact pins, wheels only).
# 2. Downloads the pinned maturin wheel into $PICKLE_DOCTOR_CACHE/wheelhouse: the pre-commit
#    test's `pip install .` of this repository runs offline from it (cargo builds it in
#    $PICKLE_DOCTOR_CACHE/target-precommit, which keeps its dependencies between runs).
# 3. Builds the wheel (`maturin build --release -o target/wheels`).
# 4. Creates a fresh venv $PICKLE_DOCTOR_CACHE/venvs/python-run, makes the cached dependencies
#    visible through a .pth file and installs the new wheel into it (--no-deps), so the tested
#    package is always the one just built.
# 5. `ruff check python tests/python`, then `pytest tests/python`.
#
# The suite reads PICKLE_DOCTOR_FIXTURES and PICKLE_DOCTOR_HOSTILE (set by scripts/test.sh,
# which generates both corpora); without them it fails unless PICKLE_DOCTOR_ALLOW_SKIP=1.
# Needs python3 (>= 3.11 for the pinned wheels), pip, the Rust toolchain and access to PyPI
# (and crates.io for the first build).
#
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create the venvs (default python3)
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"
cd "$repo_root"

requirements="$repo_root/tests/envs/python.txt"
cache_root="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
deps="$cache_root/venvs/python"
run="$cache_root/venvs/python-run"
wheelhouse="$cache_root/wheelhouse"
stamp="$deps/.python-requirements.sha256"
base_python="${PYTHON:-python3}"

log() { printf 'test-python: %s\n' "$*" >&2; }

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d' ' -f1
    else
        "$base_python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
started=$SECONDS

# 1. The dependency venv (cached).
want="$(sha256_of "$requirements")"
if [[ -f "$stamp" && -x "$deps/bin/python" && "$(<"$stamp")" == "$want" ]]; then
    log "dependencies: cached venv $deps"
else
    log "dependencies: building $deps (requirements sha256 $want)"
    rm -rf -- "$deps"
    mkdir -p -- "$(dirname -- "$deps")"
    "$base_python" -m venv "$deps" >&2
    "$deps/bin/python" -m pip install --only-binary=:all: --no-input -r "$requirements" >&2
    "$deps/bin/python" -m pip check >&2
    "$deps/bin/python" -c 'import numpy, sklearn, pandas, joblib, dask, distributed, pre_commit, pytest' >&2
    printf '%s\n' "$want" >"$stamp"
fi

# 2. The maturin wheel for offline builds of this repository (the pre-commit test).
maturin_pin="$(grep -E '^maturin==' "$requirements" | head -n 1)"
maturin_version="${maturin_pin#maturin==}"
mkdir -p -- "$wheelhouse"
if ! compgen -G "$wheelhouse/maturin-$maturin_version-*.whl" >/dev/null; then
    log "wheelhouse: downloading $maturin_pin into $wheelhouse"
    "$deps/bin/python" -m pip download --only-binary=:all: --no-deps -d "$wheelhouse" "$maturin_pin" >&2
fi

# 3. The wheel.
log "building the wheel (maturin build --release)"
build_start=$SECONDS
mkdir -p target/wheels
marker="$(mktemp)"
"$deps/bin/maturin" build --release --locked -i "$deps/bin/python" -o target/wheels >&2
wheel="$(find target/wheels -maxdepth 1 -name 'pickle_doctor-*.whl' -newer "$marker" -print | head -n 1)"
rm -f -- "$marker"
if [[ -z "$wheel" ]]; then
    log "maturin wrote no new wheel into target/wheels"
    exit 1
fi
log "built $wheel in $((SECONDS - build_start)) s"

# 4. A fresh venv with just the new wheel; the dependencies come from the cached venv.
rm -rf -- "$run"
"$base_python" -m venv --without-pip "$run" >&2
run_site="$("$run/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
deps_site="$("$deps/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n' "$deps_site" >"$run_site/_pickle_doctor_test_deps.pth"
"$deps/bin/python" -m pip --python "$run/bin/python" install --no-deps --no-input --quiet "$wheel" >&2
"$run/bin/python" -c 'import pickle_doctor, sys; print("test-python: pickle_doctor", pickle_doctor.__version__, "from", pickle_doctor.__file__, file=sys.stderr)'

# 5. Lint and test.
log "ruff check python tests/python"
"$deps/bin/ruff" check python tests/python
export PICKLE_DOCTOR_WHEELHOUSE="$wheelhouse"
# The pre-commit test's builds (pip install . of fresh clones) get their own target directory,
# kept in the cache: its dependencies compile once, and the repository's target/ is not disturbed.
export PICKLE_DOCTOR_PRECOMMIT_TARGET="${PICKLE_DOCTOR_PRECOMMIT_TARGET:-$cache_root/target-precommit}"
log "pytest tests/python"
test_start=$SECONDS
"$run/bin/python" -m pytest -p no:cacheprovider -q tests/python "$@"
log "pytest took $((SECONDS - test_start)) s; test-python.sh took $((SECONDS - started)) s"
