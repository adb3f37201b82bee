#!/usr/bin/env bash
# Create (or reuse) the reference venvs of the differential test matrix (tests/matrix/).
#
#   scripts/setup-matrix-envs.sh                 # all of: old current bare localpkg renamed legacy
#   scripts/setup-matrix-envs.sh old bare        # only these
#
# stdout: one line per venv, `NAME /path/to/venv/bin/python`, in the order asked for;
# nothing else. Progress goes to stderr.
#
# Venv NAME is built from tests/envs/matrix/NAME.txt into
#   ${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}/venvs/matrix-NAME
# the same way scripts/setup-test-env.sh builds the `fixtures` venv: exact `==` pins,
# `pip install --only-binary=:all:` (wheels only), and a stamp file holding a sha256 that
# marks a finished install. When the stamp matches, the venv is reused at once; when it
# does not (first run, edited pins or local package, another base interpreter, an
# interrupted install) the venv is deleted and rebuilt from scratch.
#
# The stamp covers the requirements file, the base interpreter's version and, for venvs
# with local packages, build.txt and every source file of those packages.
#
# Directives read from the requirements files (pip sees them as comments):
#   # @local DIR     build the package in DIR (relative to the requirements file) into a
#                    wheel, offline, and install it. The wheel is built in the build venv
#                    (tests/envs/matrix/build.txt: flit_core) with
#                    `pip wheel --no-build-isolation --no-index --no-deps`, then installed
#                    with `pip install --no-index --no-deps`. No network, nothing written
#                    into DIR, and no build tool in the target venv.
#   # @check MOD...  modules that must import in the finished venv (sanity check).
#
# Needs only python3 (3.11: the pins are cp311 wheels) and access to PyPI.
# Environment:
#   PICKLE_DOCTOR_CACHE   cache root (default $HOME/.cache/pickle-doctor)
#   PYTHON                interpreter used to create the venvs (default python3)
set -euo pipefail

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"
envs_dir="$repo_root/tests/envs/matrix"
cache_root="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
base_python="${PYTHON:-python3}"
all_names=(old current bare localpkg renamed legacy)

log() { printf 'setup-matrix-envs: %s\n' "$*" >&2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

if ! command -v "$base_python" >/dev/null 2>&1; then
    log "cannot find $base_python; set PYTHON=/path/to/python3"
    exit 1
fi

# Directive values of a requirements file: directive_values FILE local|check
directive_values() {
    sed -n "s/^#[[:space:]]*@$2[[:space:]]\{1,\}//p" -- "$1"
}

# has_requirements FILE: true when FILE has at least one non-comment, non-blank line.
has_requirements() {
    grep -qvE '^[[:space:]]*(#.*)?$' -- "$1"
}

# stamp_of FILE: sha256 over everything the venv is built from (see header).
stamp_of() {
    "$base_python" - "$1" "$envs_dir/build.txt" <<'PY'
import hashlib, os, re, sys
req, build = sys.argv[1], sys.argv[2]
h = hashlib.sha256()
def add(label, data):
    h.update(label.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
add("python", sys.version.encode())
text = open(req, "rb").read()
add("requirements", text)
locals_ = re.findall(rb"^#\s*@local\s+(\S+)", text, flags=re.M)
if locals_:
    add("build", open(build, "rb").read())
for rel in locals_:
    root = os.path.normpath(os.path.join(os.path.dirname(req), rel.decode()))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in ("__pycache__", "build", "dist") and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            add("file:" + os.path.relpath(path, root), open(path, "rb").read())
print(h.hexdigest())
PY
}

# make_venv DIR: a fresh venv at DIR. Falls back to a pip-less venv when ensurepip is
# missing (Debian/Ubuntu without python3-venv); pip_in then drives it with the base
# interpreter's pip (pip >= 22.3 understands --python).
make_venv() {
    rm -rf -- "$1"
    mkdir -p -- "$(dirname -- "$1")"
    if ! "$base_python" -m venv "$1" >&2; then
        log "python3 -m venv failed (no ensurepip?); retrying with --without-pip"
        rm -rf -- "$1"
        "$base_python" -m venv --without-pip "$1" >&2
    fi
}

# pip_in VENV ARGS...: run pip for VENV.
pip_in() {
    local venv="$1"
    shift
    if [[ -x "$venv/bin/pip" ]]; then
        "$venv/bin/python" -m pip "$@" >&2
    else
        "$base_python" -m pip --python "$venv/bin/python" "$@" >&2
    fi
}

# ensure_venv NAME REQUIREMENTS: build the venv if its stamp is stale; sets $venv_python.
ensure_venv() {
    local name="$1" requirements="$2"
    local venv="$cache_root/venvs/matrix-$name"
    local stamp="$venv/.matrix-requirements.sha256"
    venv_python="$venv/bin/python"

    if [[ ! -f "$requirements" ]]; then
        log "missing $requirements"
        exit 1
    fi
    local want
    want="$(stamp_of "$requirements")"
    if [[ -f "$stamp" && -x "$venv_python" ]] && [[ "$(<"$stamp")" == "$want" ]]; then
        return 0
    fi

    log "building venv $name at $venv (stamp $want)"
    make_venv "$venv"
    if has_requirements "$requirements"; then
        pip_in "$venv" install --only-binary=:all: --no-input -r "$requirements"
    fi

    local rel src wheel_dir
    while IFS= read -r rel; do
        [[ -n "$rel" ]] || continue
        src="$(cd -- "$(dirname -- "$requirements")" && cd -- "$rel" && pwd)"
        local target_python="$venv_python"
        ensure_venv build "$envs_dir/build.txt"
        local build_python="$venv_python"
        venv_python="$target_python"
        wheel_dir="$(mktemp -d)"
        log "building the wheel of $src offline"
        "$build_python" -m pip wheel --no-deps --no-build-isolation --no-index -w "$wheel_dir" "$src" >&2
        pip_in "$venv" install --no-index --no-deps "$wheel_dir"/*.whl
        rm -rf -- "$wheel_dir"
    done < <(directive_values "$requirements" local)

    local check
    check="$(directive_values "$requirements" check | tr '\n' ' ')"
    if [[ -n "${check// /}" ]]; then
        local stmt
        stmt="import $(printf '%s\n' $check | paste -sd, -)"
        log "$name: checking: $stmt"
        "$venv_python" -c "$stmt" >&2
    fi

    printf '%s\n' "$want" >"$stamp"
    log "$name ready"
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
    names=("${all_names[@]}")
fi

declare -a out
for name in "${names[@]}"; do
    ensure_venv "$name" "$envs_dir/$name.txt"
    out+=("$name $venv_python")
done
printf '%s\n' "${out[@]}"
