"""The Python API's `fix` carries the use-time repairs of `crates/cli/tests/fix_usetime.rs`:
models written by scikit-learn 1.2.2 and 1.3.2 (tests/fix/usetime/, see make.sh) are fixed
for this interpreter (scikit-learn 1.9.1), loaded here, and every public method's outputs
are compared with the writer's (tests/fix/usetime/outputs.py): labels exactly, numbers
within 1e-5 relative."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pickle_doctor

ROOT = Path(__file__).resolve().parents[2]
USETIME = ROOT / "tests" / "fix" / "usetime"


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        if "numbers" in a and "numbers" in b:
            return a["shape"] == b["shape"] and all(
                (x is None and y is None)
                or (x is not None and y is not None and (x == y or math.isclose(x, y, rel_tol=1e-5)))
                for x, y in zip(a["numbers"], b["numbers"], strict=True)
            )
        if "raises" in a and "raises" in b:
            return a["raises"].split(":")[0] == b["raises"].split(":")[0]
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


CASES = [
    ("old", "imputer_mean_logreg", "sklearn-imputer-fill-dtype-added"),
    ("legacy", "hgb_reg_quantile", "sklearn-cyloss-pyx-unpickle-removed"),
    ("old", "hgb_clf_multi", "sklearn-hgb-preprocessor-added"),
    ("old", "gb_reg_huber", "sklearn-gb-losses-removed"),
    ("legacy", "gb_clf_log_loss", "sklearn-gb-losses-removed"),
]


@pytest.mark.parametrize(("writer", "name", "repair"), CASES)
def test_fix_repairs_and_predicts_like_the_writer(writer: str, name: str, repair: str, tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    src = USETIME / writer / f"{name}.pkl"
    out = tmp_path / "fixed.pkl"
    r = pickle_doctor.fix(src, out, python=sys.executable)
    assert r.refusal is None, r.refusal
    assert r.written and out.exists()
    assert repair in {x.id for x in r.repairs}, r.repairs
    got = json.loads(
        subprocess.run(
            [sys.executable, "-I", str(USETIME / "outputs.py"), str(out)],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        ).stdout
    )
    want = json.loads((USETIME / writer / f"{name}.json").read_text())
    assert "load" not in got, got
    bad = [m for m, v in want["methods"].items() if not same(v, got["methods"].get(m))]
    assert not bad, {m: got["methods"].get(m) for m in bad}


def test_fix_refuses_multiclass_gradient_boosting(tmp_path: Path) -> None:
    out = tmp_path / "fixed.pkl"
    r = pickle_doctor.fix(USETIME / "old" / "gb_clf_multi.pkl", out, python=sys.executable)
    assert r.refusal is not None and not out.exists()
    assert "sklearn.ensemble._gb_losses" in r.refusal.reason
