"""The console script and ``pickle_doctor.main``; ``to_dict()`` equals the CLI's JSON."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

import pickle_doctor

from _helpers import REPO, foo_pickle


def run_cli(cli, *args, check_codes=(0, 1, 2)):
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert p.returncode in check_codes, (args, p.returncode, p.stderr)
    return p


@pytest.fixture(scope="module")
def scan_files(fixtures_dir, hostile_dir, lr_pickle, array_pickle):
    files = [
        lr_pickle,
        array_pickle,
        hostile_dir / "raw" / "global-reduce-p0.pkl",
        hostile_dir / "torch-zip" / "stack-global-memo.pt",
        hostile_dir / "joblib-zlib" / "nested-pickle.loads.joblib",
        hostile_dir / "npz-deflated" / "build-plants-setstate.npz",
        hostile_dir / "raw" / "truncated-after-reduce.pkl",
        fixtures_dir / "joblib" / "gradient-boosting.joblib.xz",
        fixtures_dir / "numpy" / "savez-object.npz",
        fixtures_dir / "opcodes" / "invalid-empty.pkl",
    ]
    for f in files:
        assert f.exists(), f
    return files


def test_scan_to_dict_equals_cli(cli, scan_files):
    p = run_cli(cli, "scan", "--format", "json", "--no-progress", *scan_files)
    cli_files = json.loads(p.stdout)["files"]
    api = [pickle_doctor.scan(f).to_dict() for f in scan_files]
    assert api == cli_files
    # the whole walk of a directory, too
    d = scan_files[-3].parent
    p = run_cli(cli, "scan", "--format", "json", "--no-progress", d)
    assert [r.to_dict() for r in pickle_doctor.scan_paths([d])] == json.loads(p.stdout)["files"]
    # strict policy
    p = run_cli(cli, "scan", "--format", "json", "--policy", "strict", *scan_files[:3])
    assert [pickle_doctor.scan(f, policy="strict").to_dict() for f in scan_files[:3]] == json.loads(p.stdout)["files"]


def test_check_to_dict_equals_cli(cli, fixtures_dir, lr_pickle, array_pickle, tmp_path):
    files = [lr_pickle, array_pickle, fixtures_dir / "joblib" / "random-forest.joblib.gz"]
    for f in files:
        p = run_cli(cli, "check", "--format", "json", "--python", sys.executable, f)
        doc = json.loads(p.stdout)
        r = pickle_doctor.check(f, python=sys.executable)
        assert r.to_dict() == doc["files"][0]
        assert r.environment.to_dict() == doc["environment"]
    empty = tmp_path / "site"
    empty.mkdir()
    p = run_cli(cli, "check", "--format", "json", "--site-packages", empty, "--python-version", "3.11", lr_pickle)
    doc = json.loads(p.stdout)
    r = pickle_doctor.check(lr_pickle, site_packages=[empty], python_version="3.11")
    assert r.to_dict() == doc["files"][0]
    assert r.environment.to_dict() == doc["environment"]
    assert r.verdict == "fails"


def test_fix_to_dict_equals_cli(cli, tmp_path):
    src = tmp_path / "foo.pkl"
    src.write_bytes(foo_pickle())
    site = tmp_path / "site"
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg" / "__init__.py").write_text("")
    (site / "mypkg" / "models.py").write_text("class Foo:\n    pass\n")
    target = ["--site-packages", site, "--python-version", "3.11"]
    # dry run
    p = run_cli(cli, "fix", "--format", "json", src, "--dry-run", "--map", "__main__=mypkg.models", *target)
    api = pickle_doctor.fix(
        src, None, site_packages=[site], python_version="3.11", maps=["__main__=mypkg.models"], dry_run=True
    )
    assert api.to_dict() == json.loads(p.stdout)
    # written
    out_cli, out_api = tmp_path / "cli.pkl", tmp_path / "api.pkl"
    p = run_cli(cli, "fix", "--format", "json", src, "-o", out_cli, "--map", "__main__=mypkg.models", *target)
    api = pickle_doctor.fix(src, out_api, site_packages=[site], python_version="3.11", maps=["__main__=mypkg.models"])
    doc = json.loads(p.stdout)
    assert doc["output"] == str(out_cli)
    assert api.to_dict() == {**doc, "output": str(out_api)}
    assert out_cli.read_bytes() == out_api.read_bytes()
    # refused
    p = run_cli(cli, "fix", "--format", "json", src, "-o", tmp_path / "no.pkl", *target)
    api = pickle_doctor.fix(src, tmp_path / "no.pkl", site_packages=[site], python_version="3.11")
    assert api.to_dict() == json.loads(p.stdout)
    assert api.refusal is not None


def test_requirements_match_cli(cli, lr_pickle):
    p = run_cli(cli, "requirements", "--python", sys.executable, lr_pickle)
    lines = [line.split("#")[0].strip() for line in p.stdout.splitlines() if line.strip()]
    assert pickle_doctor.requirements(lr_pickle, python=sys.executable) == lines


def test_dis_and_show_match_cli(cli, array_pickle, lr_pickle):
    assert run_cli(cli, "dis", array_pickle).stdout == pickle_doctor.dis(array_pickle)
    p = run_cli(cli, "show", "--json", lr_pickle)
    assert json.loads(p.stdout) == pickle_doctor.show(lr_pickle)


def test_main_in_process(capfd, lr_pickle, evil_pickle):
    # What the handler was before (a process started in the background inherits SIGINT
    # ignored, and Python then leaves it so).
    before = signal.getsignal(signal.SIGINT)
    assert pickle_doctor.main(["anything", "scan", "--format", "json", str(lr_pickle)]) == 0
    out = capfd.readouterr().out
    assert json.loads(out)["files"][0]["verdict"] == "clean"
    assert pickle_doctor.main(["pickle-doctor", "scan", str(evil_pickle)]) == 1
    assert "PD101" in capfd.readouterr().out
    assert pickle_doctor.main(["pickle-doctor", "--version"]) == 0
    assert pickle_doctor.__version__ in capfd.readouterr().out
    code = pickle_doctor.main(["pickle-doctor", "no-such-command"])
    assert code == 2
    assert capfd.readouterr().err
    # SIGINT is restored after the call
    assert signal.getsignal(signal.SIGINT) is before


def test_main_uses_sys_argv(capfd, monkeypatch, array_pickle):
    monkeypatch.setattr(sys, "argv", ["/some/where/pickle-doctor", "dis", str(array_pickle)])
    assert pickle_doctor.main() == 0
    assert capfd.readouterr().out == pickle_doctor.dis(array_pickle)


def test_console_script_exit_codes(cli, lr_pickle, evil_pickle, tmp_path):
    assert run_cli(cli, "scan", lr_pickle).returncode == 0
    assert run_cli(cli, "scan", evil_pickle).returncode == 1
    p = run_cli(cli, "dis", tmp_path / "missing.pkl")
    assert p.returncode == 2 and "missing.pkl" in p.stderr
    assert "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "pickle_doctor", "scan", str(evil_pickle)], capture_output=True)
    assert p.returncode == 1


def test_console_script_ctrl_c(cli):
    """Ctrl-C kills the console script like a native binary, even while Rust blocks in a read."""
    p = subprocess.Popen([cli, "dis", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"\x80\x02")
        p.stdin.flush()
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGINT
    assert b"Traceback" not in p.stderr.read()


def test_console_script_broken_pipe(cli, fixtures_dir):
    big = max((fixtures_dir / "corpus").glob("*.pkl"), key=lambda f: f.stat().st_size)
    p = subprocess.Popen([cli, "dis", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    p.wait(timeout=60)
    err = p.stderr.read().decode()
    assert "Traceback" not in err and "BrokenPipe" not in err and "panicked" not in err, err
    assert p.returncode in (0, 1, -signal.SIGPIPE), p.returncode


def test_env_not_needed_for_help(cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKLE_DOCTOR")}
    p = subprocess.run([cli, "--help"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "scan" in p.stdout


def test_export_to_dict_equals_cli(cli, tmp_path):
    torch_files = REPO / "tests" / "fixtures" / "torch" / "files"
    for src in (torch_files / "state_dict.pt", torch_files / "checkpoint.pt", REPO / "samples" / "array-p5.pkl"):
        out_cli, out_api = tmp_path / f"{src.stem}-cli.safetensors", tmp_path / f"{src.stem}-api.safetensors"
        p = run_cli(cli, "export", "--format", "json", src, "-o", out_cli)
        doc = json.loads(p.stdout)
        try:
            api = pickle_doctor.export(src, out_api)
        except pickle_doctor.Error as e:  # the CLI said it cannot export this file (exit 2)
            assert p.returncode == 2, (src, e)
            continue
        expected_output = None if doc["output"] is None else str(out_api)
        assert api.to_dict() == {**doc, "output": expected_output}, src
        assert type(api).from_dict(api.to_dict()) == api
        assert pickle.loads(pickle.dumps(api)) == api
        if doc["output"] is not None:
            assert out_cli.read_bytes() == out_api.read_bytes()
        dry = run_cli(cli, "export", "--format", "json", "--dry-run", src)
        assert pickle_doctor.export(src, None).to_dict() == json.loads(dry.stdout)
