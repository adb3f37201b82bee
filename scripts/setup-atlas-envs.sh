#!/usr/bin/env bash
# Create (or reuse) the venvs of the break atlas (tests/atlas/, scripts/atlas.sh).
#
#   scripts/setup-atlas-envs.sh                    # every atlas venv
#   scripts/setup-atlas-envs.sh sk-1.4 pd-1.5      # only these
#
# stdout: one line per venv, `NAME /path/to/venv/bin/python`, in the order asked for;
# nothing else. Progress goes to stderr.
#
# Atlas names and the venvs behind them. Where an existing project venv has the wanted
# versions it is reused (built by its own script), so CI builds it once:
#   sk-1.1  atlas-sk-1.1     tests/envs/atlas/sk-1.1.txt   scikit-learn 1.1.3 (stands in for 1.0: no cp311 wheel)
#   sk-1.2  matrix-legacy    scripts/setup-matrix-envs.sh  scikit-learn 1.2.2, numpy 1.24.2
#   sk-1.3  matrix-old       scripts/setup-matrix-envs.sh  scikit-learn 1.3.2, numpy 1.26.4, pandas 2.1.4
#   sk-1.4  atlas-sk-1.4     tests/envs/atlas/sk-1.4.txt   scikit-learn 1.4.2, numpy 1.26.4
#   sk-1.6  atlas-sk-1.6     tests/envs/atlas/sk-1.6.txt   scikit-learn 1.6.1, numpy 1.26.4
#   sk-1.9  matrix-current   scripts/setup-matrix-envs.sh  scikit-learn 1.9.1, numpy 2.4.6, pandas 3.1.1
#   pd-1.5  atlas-pd-1.5     tests/envs/atlas/pd-1.5.txt   pandas 1.5.3, numpy 1.24.2
#   pd-2.1  matrix-old                                     pandas 2.1.4
#   pd-2.3  fixtures         scripts/setup-test-env.sh     pandas 2.3.3, numpy 2.4.6
#   pd-3.1  matrix-current                                 pandas 3.1.1
#   np-1.24 matrix-legacy                                  numpy 1.24.2
#   np-1.26 matrix-old                                     numpy 1.26.4
#   np-2.4  matrix-current                                 numpy 2.4.6
#
# The atlas-* venvs are built like scripts/setup-onnx-envs.sh builds its own: exact `==`
# pins, `pip install --only-binary=:all:` (wheels only), and a stamp file holding the
# sha256 of the requirements file and the base interpreter's version; when it matches the
# venv is reused at once, otherwise it is deleted and rebuilt. `# @check MOD...` lines name
# modules that must import in the finished venv.
#
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create the venvs (default python3)
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"
cache_root="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
base_python="${PYTHON:-python3}"
all_names=(sk-1.1 sk-1.2 sk-1.3 sk-1.4 sk-1.6 sk-1.9 pd-1.5 pd-2.1 pd-2.3 pd-3.1 np-1.24 np-1.26 np-2.4)

log() { printf 'setup-atlas-envs: %s\n' "$*" >&2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

stamp_of() {
    "$base_python" - "$1" <<'PY'
import hashlib, sys
h = hashlib.sha256()
h.update(sys.version.encode() + b"\0")
h.update(open(sys.argv[1], "rb").read())
print(h.hexdigest())
PY
}

# own_venv NAME: build (or reuse) atlas-NAME from tests/envs/atlas/NAME.txt; prints its python.
own_venv() {
    local name="$1"
    local req="$repo_root/tests/envs/atlas/$name.txt"
    local venv="$cache_root/venvs/atlas-$name"
    if [[ ! -f "$req" ]]; then
        log "missing $req"
        exit 1
    fi
    local want stamp="$venv/.requirements.sha256"
    want="$(stamp_of "$req")"
    if [[ -f "$stamp" && -x "$venv/bin/python" ]] && [[ "$(<"$stamp")" == "$want" ]]; then
        printf '%s\n' "$venv/bin/python"
        return 0
    fi
    log "building $venv from $req"
    local started=$SECONDS
    rm -rf -- "$venv"
    mkdir -p -- "$(dirname -- "$venv")"
    "$base_python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --only-binary=:all: --no-input -r "$req" >&2
    local check m
    check="$(sed -n 's/^#[[:space:]]*@check[[:space:]]\{1,\}//p' -- "$req")"
    for m in $check; do
        "$venv/bin/python" -c "import $m" >&2
    done
    printf '%s\n' "$want" >"$stamp"
    log "atlas-$name ready in $((SECONDS - started))s"
    printf '%s\n' "$venv/bin/python"
}

# matrix_venv NAME: a venv of scripts/setup-matrix-envs.sh; prints its python.
matrix_venv() {
    "$script_dir/setup-matrix-envs.sh" "$1" | tail -n 1 | cut -d' ' -f2-
}

if [[ $# -eq 0 ]]; then
    set -- "${all_names[@]}"
fi

declare -a out
for name in "$@"; do
    case "$name" in
        sk-1.1 | sk-1.4 | sk-1.6 | pd-1.5) py="$(own_venv "$name")" ;;
        sk-1.2 | np-1.24) py="$(matrix_venv legacy)" ;;
        sk-1.3 | pd-2.1 | np-1.26) py="$(matrix_venv old)" ;;
        sk-1.9 | pd-3.1 | np-2.4) py="$(matrix_venv current)" ;;
        pd-2.3) py="$("$script_dir/setup-test-env.sh" | tail -n 1)" ;;
        *) log "unknown atlas venv $name (${all_names[*]})"; exit 1 ;;
    esac
    out+=("$name $py")
done
printf '%s\n' "${out[@]}"
