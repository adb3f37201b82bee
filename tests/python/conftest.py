"""Shared fixtures of the Python suite.

The corpora come from scripts/test.sh through environment variables:

    PICKLE_DOCTOR_FIXTURES    the benign corpus (tests/fixtures/generate.py)
    PICKLE_DOCTOR_HOSTILE     the hostile corpus (tests/hostile/generate.py), never loaded by pickle
    PICKLE_DOCTOR_WHEELHOUSE  a directory holding the maturin wheel (the pre-commit test builds offline)

A missing variable fails the tests that need it, unless PICKLE_DOCTOR_ALLOW_SKIP=1.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from _helpers import SAMPLES


def required_dir(var: str) -> Path:
    value = os.environ.get(var)
    if not value or not Path(value).is_dir():
        why = f"{var} is not set" if not value else f"{var}={value} is not a directory"
        if os.environ.get("PICKLE_DOCTOR_ALLOW_SKIP") == "1":
            pytest.skip(f"{why} (PICKLE_DOCTOR_ALLOW_SKIP=1)")
        pytest.fail(f"{why}: run scripts/test.sh, or set it (PICKLE_DOCTOR_ALLOW_SKIP=1 skips instead)")
    return Path(value)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return required_dir("PICKLE_DOCTOR_FIXTURES")


@pytest.fixture(scope="session")
def hostile_dir() -> Path:
    return required_dir("PICKLE_DOCTOR_HOSTILE")


@pytest.fixture(scope="session")
def hostile_manifest(hostile_dir: Path) -> list[dict]:
    files = json.loads((hostile_dir / "manifest.json").read_text())["files"]
    assert len(files) > 3000, f"the hostile corpus has only {len(files)} files"
    return files


@pytest.fixture(scope="session")
def fixtures_manifest(fixtures_dir: Path) -> dict:
    return json.loads((fixtures_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return required_dir("PICKLE_DOCTOR_WHEELHOUSE")


@pytest.fixture(scope="session")
def cli() -> str:
    """The installed ``pickle-doctor`` console script (next to this interpreter)."""
    bindir = str(Path(sys.executable).parent)
    found = shutil.which("pickle-doctor", path=bindir) or shutil.which("pickle-doctor")
    if not found:
        pytest.fail("the pickle-doctor console script is not installed (scripts/test-python.sh installs the wheel)")
    return found


@pytest.fixture(scope="session")
def lr_pickle() -> Path:
    """A fitted scikit-learn LogisticRegression."""
    return SAMPLES / "logistic-regression.pkl"


@pytest.fixture(scope="session")
def array_pickle() -> Path:
    return SAMPLES / "array-p5.pkl"


@pytest.fixture(scope="session")
def evil_pickle(hostile_dir: Path) -> Path:
    """os.system via GLOBAL + REDUCE at protocol 0 (never loaded)."""
    return hostile_dir / "raw" / "global-reduce-p0.pkl"
