#!/usr/bin/env bash
# Runs every test, installing what the tests need. Works on a fresh machine with only the
# Rust toolchain, python3 and pip (and access to crates.io and PyPI).
#
#   scripts/test.sh
#
# 1. Creates (once) the pinned Python venv with real numpy, scikit-learn and pandas.
# 2. Generates the fixture corpus with it: pickles of real objects at every protocol,
#    hand-assembled opcode cases, CPython's pickletester vectors, and plain data, each with
#    what CPython itself says about it (pickletools listing, pickle.loads result), and the
#    hostile corpus (raw-opcode payloads in every container, never loaded), and the check
#    matrix (scripts/matrix.sh: pinned reference venvs, fixtures written in them, every
#    fixture really loaded in every venv), and the `onnx` venv (onnx, onnxruntime) that checks
#    `export --to onnx` on the committed scikit-learn fixtures (crates/cli/tests/export_onnx.rs),
#    and the break atlas's target venvs (scripts/atlas-targets.sh; tests/atlas/verify.py re-runs
#    a sample of tests/atlas/truth.json in them).
# 3. Builds the release binary (scripts/build-release.sh), checks formatting and lints, then
#    runs the Rust test suite against that corpus.
# 4. Builds the Python wheel, installs it into a fresh venv and runs its checks
#    (scripts/test-python.sh: ruff, then pytest over the API, safe load, Dask and the hook).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
python="$(scripts/setup-test-env.sh | tail -n 1)"

fixtures="$cache/fixtures"
rm -rf "$fixtures"
echo "test.sh: generating fixtures into $fixtures" >&2
"$python" tests/fixtures/generate.py "$fixtures" >/dev/null

hostile="$cache/hostile"
rm -rf "$hostile"
echo "test.sh: writing the hostile corpus into $hostile" >&2
"$python" tests/hostile/generate.py "$hostile"

echo "test.sh: the ONNX checker venv (onnx, onnxruntime)" >&2
onnx_python="$(scripts/setup-onnx-envs.sh onnx | tail -n 1 | cut -d' ' -f2-)"

echo "test.sh: the check matrix (real venvs, real loads)" >&2
matrix_truth="$(scripts/matrix.sh | tail -n 1)"

# The break atlas (tests/atlas/README.md): its fixtures and truth are committed; CI builds only
# the target venvs (two new ones: atlas-sk-1.4, atlas-sk-1.6), lists them for the tests
# (PICKLE_DOCTOR_ATLAS) and re-runs a deterministic sample of truth rows for real.
echo "test.sh: the break atlas (target venvs, sample of truth rows re-run)" >&2
atlas_envs="$(scripts/atlas-targets.sh | tail -n 1)"
"${PYTHON:-python3}" tests/atlas/verify.py "$atlas_envs"

# The release binary, linked static-pie on linux-gnu (scripts/build-release.sh): the start-up
# tests check it is static and prints what the dev build prints.
echo "test.sh: the release binary (scripts/build-release.sh)" >&2
release_bin="$(scripts/build-release.sh | tail -n 1)"

export PICKLE_DOCTOR_RELEASE_BIN="$release_bin"
export PICKLE_DOCTOR_FIXTURES="$fixtures"
export PICKLE_DOCTOR_MATRIX="$matrix_truth"
export PICKLE_DOCTOR_HOSTILE="$hostile"
export PICKLE_DOCTOR_PYTHON="$python"
export PICKLE_DOCTOR_ONNX_PYTHON="$onnx_python"
export PICKLE_DOCTOR_ATLAS="$atlas_envs"
export PICKLE_DOCTOR_REQUIRE_FIXTURES=1
export INSTA_UPDATE=no

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
scripts/test-python.sh
