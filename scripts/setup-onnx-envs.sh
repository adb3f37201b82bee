#!/usr/bin/env bash
# Create (or reuse) the venvs of the ONNX export tests.
#
#   scripts/setup-onnx-envs.sh onnx                  # the CI checker venv
#   scripts/setup-onnx-envs.sh sk-1.2 sk-1.3 sk-1.6 sk-1.9  # the fixture writers
#
# stdout: one line per venv, `NAME /path/to/venv/bin/python`, in the order asked for;
# nothing else. Progress goes to stderr.
#
#   onnx     tests/envs/onnx.txt           -> $cache/venvs/onnx
#            onnx, onnxruntime and numpy: runs tests/export/onnx/check.py in CI.
#   sk-X.Y   tests/envs/export/sk-X.Y.txt  -> $cache/venvs/export-sk-X.Y
#            scikit-learn X.Y with skl2onnx 1.20.0 and onnxruntime: runs
#            tests/export/onnx/make_models.py (scripts/make-onnx-fixtures.sh). Not needed in CI:
#            the fixtures it writes are committed.
#
# Like scripts/setup-test-env.sh: exact `==` pins, wheels only, and a stamp file holding the
# sha256 of the requirements file and the base interpreter's version; when it matches the
# venv is reused at once, otherwise it is deleted and rebuilt.
#
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create the venvs (default python3)
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"
cache_root="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
base_python="${PYTHON:-python3}"

log() { printf 'setup-onnx-envs: %s\n' "$*" >&2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

if [[ $# -eq 0 ]]; then
    set -- onnx
fi

stamp_of() {
    "$base_python" - "$1" <<'PY'
import hashlib, sys
h = hashlib.sha256()
h.update(sys.version.encode() + b"\0")
h.update(open(sys.argv[1], "rb").read())
print(h.hexdigest())
PY
}

for name in "$@"; do
    case "$name" in
        onnx) req="$repo_root/tests/envs/onnx.txt"; venv="$cache_root/venvs/onnx"; check="numpy onnx onnxruntime" ;;
        sk-*) req="$repo_root/tests/envs/export/$name.txt"; venv="$cache_root/venvs/export-$name"; check="numpy sklearn skl2onnx onnx onnxruntime joblib" ;;
        *) log "unknown venv $name (onnx, sk-1.2, sk-1.3, sk-1.6, sk-1.9)"; exit 1 ;;
    esac
    if [[ ! -f "$req" ]]; then
        log "missing $req"
        exit 1
    fi
    want="$(stamp_of "$req")"
    stamp="$venv/.requirements.sha256"
    if [[ -f "$stamp" && -x "$venv/bin/python" ]] && [[ "$(<"$stamp")" == "$want" ]]; then
        printf '%s %s\n' "$name" "$venv/bin/python"
        continue
    fi
    log "building $venv from $req"
    rm -rf -- "$venv"
    mkdir -p -- "$(dirname -- "$venv")"
    "$base_python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --only-binary=:all: --no-input -r "$req" >&2
    for m in $check; do
        "$venv/bin/python" -c "import $m" >&2
    done
    printf '%s\n' "$want" >"$stamp"
    log "$name ready"
    printf '%s %s\n' "$name" "$venv/bin/python"
done
