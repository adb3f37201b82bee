#!/usr/bin/env bash
# Writes the dev fixtures of crates/cli/tests/fix_usetime.rs with the writer venvs of the
# check matrix (scripts/setup-matrix-envs.sh): legacy = scikit-learn 1.2.2, old = 1.3.2; and
# the AdaBoost models with the atlas's 1.4.2 venv (scripts/setup-atlas-envs.sh sk-1.4): sk14.
# Deterministic: fixed data and random_state; pickles at protocol 4.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venvs="${PICKLE_DOCTOR_CACHE:-$HOME/.cache/pickle-doctor}/venvs"
for w in legacy old; do
  rm -rf "$here/$w"
  PYTHONHASHSEED=0 "$venvs/matrix-$w/bin/python" -I "$here/write_models.py" "$here/$w"
done
rm -rf "$here/sk14"
PYTHONHASHSEED=0 "$venvs/atlas-sk-1.4/bin/python" -I "$here/write_models.py" "$here/sk14" ada_
