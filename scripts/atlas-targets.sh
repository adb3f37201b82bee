#!/usr/bin/env bash
# The TARGET venvs of the break atlas, for tests (CI): build (or reuse) them and describe them.
#
#   envs_file="$(scripts/atlas-targets.sh | tail -n 1)"
#
# Builds, through scripts/setup-atlas-envs.sh, every atlas venv a truth row loads into
# (sk-1.2 sk-1.3 sk-1.4 sk-1.6 sk-1.9 pd-2.1 pd-2.3 pd-3.1 np-1.24 np-1.26 np-2.4; not the
# producer-only sk-1.1 and pd-1.5: their fixtures are committed) and writes
# $PICKLE_DOCTOR_CACHE/atlas/envs.tsv, whose path it prints as the last stdout line. That file
# is what PICKLE_DOCTOR_ATLAS names: a header line, then one tab-separated line per atlas name
#   name  python  python_version  numpy  scikit-learn  pandas     (`-` = not installed)
# (tests/atlas/README.md). Only two venvs are new to CI (atlas-sk-1.4, atlas-sk-1.6); the rest
# are the matrix and fixtures venvs scripts/test.sh builds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}"
targets=(sk-1.2 sk-1.3 sk-1.4 sk-1.6 sk-1.9 pd-2.1 pd-2.3 pd-3.1 np-1.24 np-1.26 np-2.4)
out="$cache/atlas/envs.tsv"
mkdir -p "$cache/atlas"

tmp="$(mktemp)"
printf 'name\tpython\tpython_version\tnumpy\tscikit-learn\tpandas\n' >"$tmp"
while read -r name python; do
    versions="$("$python" -I -c '
from importlib import metadata
import sys
def v(d):
    try:
        return metadata.version(d)
    except metadata.PackageNotFoundError:
        return "-"
print("%d.%d.%d" % sys.version_info[:3], v("numpy"), v("scikit-learn"), v("pandas"), sep="\t")
')"
    printf '%s\t%s\t%s\n' "$name" "$python" "$versions" >>"$tmp"
done < <(scripts/setup-atlas-envs.sh "${targets[@]}")
mv -- "$tmp" "$out"
printf '%s\n' "$out"
