#!/usr/bin/env bash
# Regenerate the committed fixtures of the ONNX differential test.
#
#   scripts/make-onnx-fixtures.sh [FAMILY...]
#
# For each writer venv (scripts/setup-onnx-envs.sh sk-1.2 sk-1.3 sk-1.6 sk-1.9) runs
# tests/export/onnx/make_models.py into tests/fixtures/sklearn-onnx/. FAMILY (a file stem of
# tests/export/onnx/models/, or `refuse`) limits the run; without it every family is written
# again and the old fixtures are removed first. Commit the result with this script.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/sklearn-onnx
if [[ $# -eq 0 ]]; then
    rm -rf -- "$out"
fi
mkdir -p "$out"
while read -r name py; do
    echo "make-onnx-fixtures: $name" >&2
    "$py" tests/export/onnx/make_models.py "$out" "$@"
done < <(scripts/setup-onnx-envs.sh sk-1.2 sk-1.3 sk-1.6 sk-1.9)
