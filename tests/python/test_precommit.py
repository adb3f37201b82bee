"""The pre-commit hooks of .pre-commit-hooks.yaml, run by ``pre-commit try-repo`` on this repository.

try-repo installs the repository with ``pip install .`` (a maturin build). It runs offline: pip
finds maturin in PICKLE_DOCTOR_WHEELHOUSE, cargo builds in PICKLE_DOCTOR_PRECOMMIT_TARGET (kept
between runs; default target/precommit) with a quick release profile.
The hooks are tried at the repository's HEAD (uncommitted changes are not part of the test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import yaml

from _helpers import REPO, SAMPLES


def test_hooks_file():
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"pickle-doctor-scan", "pickle-doctor-check"}
    scan = hooks["pickle-doctor-scan"]
    assert scan["entry"] == "pickle-doctor scan --no-progress"
    assert scan["language"] == "python"
    assert scan["require_serial"] is True
    import re

    pattern = re.compile(scan["files"])
    for name in ("a.pkl", "b.pt", "c.joblib", "d.npz", "dir/e.ckpt", "f.dill"):
        assert pattern.search(name), name
    for name in ("a.py", "b.txt", "pkl"):
        assert not pattern.search(name), name


def test_try_repo(tmp_path, wheelhouse, evil_pickle):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(evil_pickle, work / "evil.pkl")
    shutil.copy(SAMPLES / "logistic-regression.pkl", work / "model.pkl")
    env = dict(
        os.environ,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        CARGO_NET_OFFLINE="true",
        # Its own target directory: builds from try-repo's fresh clones would otherwise invalidate
        # the repository's own artifacts (and back). Kept between runs, so dependencies build once.
        CARGO_TARGET_DIR=os.environ.get("PICKLE_DOCTOR_PRECOMMIT_TARGET", str(REPO / "target" / "precommit")),
        # A quick profile for a throwaway install (the hook scans a file or two): no optimisation,
        # no LTO, many codegen units, no debug info.
        CARGO_PROFILE_RELEASE_LTO="false",
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS="16",
        CARGO_PROFILE_RELEASE_DEBUG="false",
        CARGO_PROFILE_RELEASE_OPT_LEVEL="0",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    subprocess.run(["git", "init", "-q", "."], cwd=work, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=work, check=True, env=env)

    # The committed state (HEAD): uncommitted work in the checkout does not leak into the test.
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True)
    head = head.stdout.strip()

    def try_repo(*files):
        start = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "pickle-doctor-scan", "--ref", head]
            + ["--verbose", "--files", *files],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        print(f"\npre-commit try-repo {' '.join(files)}: exit {p.returncode} in {time.monotonic() - start:.0f} s")
        return p

    bad = try_repo("evil.pkl")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "PD101" in bad.stdout and "evil.pkl" in bad.stdout, bad.stdout
    good = try_repo("model.pkl")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
