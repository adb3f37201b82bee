"""The Python API: every function, every report type, errors, sources, pickling."""

from __future__ import annotations

import importlib.metadata
import io
import os
import pathlib
import pickle
import re
import sys

import pytest

import pickle_doctor
from pickle_doctor import (
    CheckReport,
    Environment,
    Error,
    Finding,
    FixReport,
    InputError,
    ScanReport,
    UnsafePickleError,
    UsageError,
)

from _helpers import foo_pickle


@pytest.fixture()
def foo_file(tmp_path: pathlib.Path) -> pathlib.Path:
    p = tmp_path / "foo.pkl"
    p.write_bytes(foo_pickle())
    return p


@pytest.fixture()
def mypkg(tmp_path: pathlib.Path) -> pathlib.Path:
    """A site-packages directory where mypkg.models defines Foo."""
    site = tmp_path / "site"
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg" / "__init__.py").write_text("")
    (site / "mypkg" / "models.py").write_text("class Foo:\n    pass\n")
    return site


# --- version ----------------------------------------------------------------------------------


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.\-+].*)?", pickle_doctor.__version__)
    assert importlib.metadata.version("pickle-doctor") == pickle_doctor.__version__


def test_public_names():
    for name in pickle_doctor.__all__:
        assert hasattr(pickle_doctor, name), name
    assert issubclass(UnsafePickleError, Error)
    assert issubclass(UnsafePickleError, pickle.UnpicklingError)
    assert issubclass(UsageError, ValueError)


# --- scan -------------------------------------------------------------------------------------


def test_scan_clean(lr_pickle):
    r = pickle_doctor.scan(lr_pickle)
    assert isinstance(r, ScanReport)
    assert r.verdict == "clean"
    assert r.error is None
    assert r.format == "pickle"
    assert r.path == str(lr_pickle)


def test_scan_unsafe(evil_pickle):
    r = pickle_doctor.scan(evil_pickle)
    assert r.verdict == "unsafe"
    assert "PD101" in r.codes
    f = next(f for f in r.findings if f.code == "PD101")
    assert isinstance(f, Finding)
    assert f.global_name == "os.system"
    assert f.severity in ("high", "critical")
    assert isinstance(f.offset, int)
    assert f.message and f.help


def test_scan_sources_agree(evil_pickle):
    by_str = pickle_doctor.scan(str(evil_pickle))
    by_path = pickle_doctor.scan(pathlib.Path(evil_pickle))
    data = evil_pickle.read_bytes()
    by_bytes = pickle_doctor.scan(data)
    by_bytearray = pickle_doctor.scan(bytearray(data))
    assert by_str == by_path
    for r in (by_bytes, by_bytearray):
        assert r.verdict == by_str.verdict
        assert r.findings == by_str.findings
        assert r.format == by_str.format


def test_scan_policy(lr_pickle, tmp_path):
    assert pickle_doctor.scan(lr_pickle, policy="strict").verdict == "clean"
    with pytest.raises(UsageError) as e:
        pickle_doctor.scan(lr_pickle, policy=str(tmp_path / "no-such-policy.toml"))
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.pkl"
    # scan reports it, as the CLI does (verdict "error", exit 2)
    r = pickle_doctor.scan(missing)
    assert (r.verdict, r.format, r.findings) == ("error", "unknown", [])
    assert "missing.pkl" in r.error and "\n" not in r.error
    # the other functions raise
    for call in (
        lambda: pickle_doctor.dis(missing),
        lambda: pickle_doctor.show(missing),
        lambda: pickle_doctor.check(missing, python=sys.executable),
        lambda: pickle_doctor.requirements(missing, python=sys.executable),
        lambda: pickle_doctor.load(missing),
    ):
        with pytest.raises(InputError) as e:
            call()
        msg = str(e.value)
        assert "\n" not in msg
        assert "missing.pkl" in msg
        assert e.value.kind == "io"


def test_scan_malformed():
    r = pickle_doctor.scan(b"\x80\x02]q\x00(K\x01K\x02")  # truncated: no STOP
    assert r.verdict in ("error", "unsafe")
    assert r.verdict == "unsafe" or r.error
    assert any(f.code == "PD105" for f in r.findings) or r.error


def test_scan_not_a_model():
    r = pickle_doctor.scan(b"")
    assert r.verdict == "error"
    assert r.format == "empty"
    assert "empty" in (r.error or "")


def test_scan_not_a_pickle(tmp_path):
    """A file whose first byte is not an opcode ran nothing: a low PD105 note, clean, as the
    CLI says, in pickle.load's own words (checked against this interpreter's pickle)."""
    data = b"xyz\n"
    with pytest.raises(pickle.UnpicklingError) as raised:
        pickle.loads(data)
    words = f"UnpicklingError: {raised.value}"
    path = tmp_path / "notes.pkl"
    path.write_bytes(data)
    for source in (data, path):
        r = pickle_doctor.scan(source)
        assert r.verdict == "clean", r
        assert r.error is None
        assert [(f.code, f.severity) for f in r.findings] == [("PD105", "low")]
        assert r.findings[0].message.startswith("not a pickle:")
        assert f"`{words}`" in r.findings[0].message
    c = pickle_doctor.check(path, python=sys.executable)
    assert c.verdict == "fails"
    assert c.error == words


def test_scan_type_error():
    with pytest.raises(TypeError):
        pickle_doctor.scan(42)  # type: ignore[arg-type]


def test_scan_paths(fixtures_dir, evil_pickle, tmp_path):
    reports = pickle_doctor.scan_paths([fixtures_dir / "joblib", evil_pickle, tmp_path / "nope"], jobs=2)
    assert all(isinstance(r, ScanReport) for r in reports)
    paths = [r.path for r in reports]
    assert str(tmp_path / "nope") == paths[-1], "a missing path is reported in its place"
    assert reports[-1].verdict == "error"
    assert str(evil_pickle) in paths
    # files that are not models (the .inventory.json files) are left out of walks
    assert not any(p.endswith(".json") for p in paths)
    assert sum(r.verdict == "unsafe" for r in reports) == 1
    # a single path works too, and jobs=1 gives the same result
    one = pickle_doctor.scan_paths(fixtures_dir / "joblib", jobs=1)
    assert one == [r for r in reports if r.path.startswith(str(fixtures_dir / "joblib"))]
    with pytest.raises(UsageError):
        pickle_doctor.scan_paths([evil_pickle], jobs=0)


# --- check / requirements ---------------------------------------------------------------------


def test_check_loads(lr_pickle):
    r = pickle_doctor.check(lr_pickle, python=sys.executable)
    assert isinstance(r, CheckReport)
    assert r.verdict == "loads", r
    assert r.error is None
    assert isinstance(r.environment, Environment)
    assert r.environment.python == ".".join(map(str, sys.version_info[:3]))
    mods = {(g.module, g.name) for g in r.globals}
    assert any(m.startswith("sklearn.") for m, _ in mods)
    assert all(g.status for g in r.globals)


def test_check_bare_target(lr_pickle, tmp_path):
    empty = tmp_path / "site"
    empty.mkdir()
    r = pickle_doctor.check(lr_pickle, site_packages=[empty], python_version="3.11")
    assert r.verdict == "fails"
    assert "ModuleNotFoundError" in (r.error or "")
    # bytes give the same prediction
    rb = pickle_doctor.check(lr_pickle.read_bytes(), site_packages=empty, python_version="3.11")
    assert (rb.verdict, rb.error, rb.globals) == (r.verdict, r.error, r.globals)


def test_check_errors(lr_pickle, tmp_path):
    with pytest.raises(InputError):
        pickle_doctor.check(tmp_path / "missing.pkl", python=sys.executable)
    with pytest.raises(UsageError):
        pickle_doctor.check(lr_pickle, python=sys.executable, loader="no-such-loader")
    with pytest.raises(UsageError):
        pickle_doctor.check(lr_pickle, site_packages=[tmp_path], python_version="three")
    with pytest.raises(Error) as e:
        pickle_doctor.check(lr_pickle, python=str(tmp_path / "no-python"))
    assert e.value.kind == "environment"


def test_check_malformed_pickle():
    data = b"\x80\x02]q\x00(K\x01K\x02"
    try:
        r = pickle_doctor.check(data, python=sys.executable)
    except InputError as e:  # the native layer may refuse a malformed stream outright
        assert "\n" not in str(e)
    else:
        assert r.verdict == "fails"
        assert r.error


def test_requirements(lr_pickle, tmp_path):
    lines = pickle_doctor.requirements(lr_pickle, python=sys.executable)
    import numpy
    import sklearn

    assert f"scikit-learn=={sklearn.__version__}" in lines
    assert f"numpy=={numpy.__version__}" in lines
    empty = tmp_path / "site"
    empty.mkdir()
    bare = pickle_doctor.requirements(lr_pickle, site_packages=[empty], python_version="3.11")
    # not installed: the producer version found in the data, or the bare name
    assert any(line.startswith("scikit-learn") for line in bare)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+((==|>=)[^ ]+)?", line) for line in bare), bare


# --- fix --------------------------------------------------------------------------------------


def test_fix_with_map(foo_file, mypkg, tmp_path):
    out = tmp_path / "fixed.pkl"
    r = pickle_doctor.fix(foo_file, out, site_packages=[mypkg], python_version="3.11", maps=["__main__=mypkg.models"])
    assert isinstance(r, FixReport)
    assert r.before.verdict == "fails"
    assert r.after is not None and r.after.verdict == "loads"
    assert r.output == str(out) and r.written
    assert r.refusal is None
    assert [(x.from_, x.to) for x in r.renames] == [("__main__:Foo", "mypkg.models:Foo")]
    assert out.exists()
    sys.path.insert(0, str(mypkg))
    try:
        obj = pickle.loads(out.read_bytes())
    finally:
        sys.path.remove(str(mypkg))
        for m in ("mypkg.models", "mypkg"):
            sys.modules.pop(m, None)
    assert type(obj).__module__ == "mypkg.models" and obj.a == 1
    # a mapping works like a list of FROM=TO rules
    r2 = pickle_doctor.fix(
        foo_file, None, site_packages=[mypkg], python_version="3.11", maps={"__main__": "mypkg.models"}, dry_run=True
    )
    assert r2.dry_run and r2.output is None
    assert r2.renames == r.renames


def test_fix_refusal(foo_file, mypkg, tmp_path):
    out = tmp_path / "fixed.pkl"
    r = pickle_doctor.fix(foo_file, out, site_packages=[mypkg], python_version="3.11")
    assert r.refusal is not None and r.refusal.reason
    assert r.output is None and not out.exists()


def test_fix_errors(foo_file, tmp_path):
    with pytest.raises(TypeError):
        pickle_doctor.fix(foo_pickle(), tmp_path / "x.pkl")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        pickle_doctor.fix(foo_file, None)
    with pytest.raises(UsageError):
        pickle_doctor.fix(foo_file, tmp_path / "x.pkl", maps=["no-equals-sign"], python=sys.executable)
    with pytest.raises(InputError):
        pickle_doctor.fix(tmp_path / "missing.pkl", tmp_path / "x.pkl", python=sys.executable)


# --- show / dis -------------------------------------------------------------------------------


def test_show(array_pickle):
    doc = pickle_doctor.show(array_pickle)
    assert isinstance(doc, dict)
    assert doc["format"] == "pickle"
    assert doc["path"] == str(array_pickle)
    assert doc["members"][0]["pickles"][0]["complete"] is True
    from_bytes = pickle_doctor.show(array_pickle.read_bytes())
    assert from_bytes["members"] == doc["members"]


def test_dis_matches_pickletools(array_pickle):
    import pickletools

    out = io.StringIO()
    pickletools.dis(array_pickle.read_bytes(), out=out)
    assert pickle_doctor.dis(array_pickle) == out.getvalue()
    assert pickle_doctor.dis(array_pickle.read_bytes()) == out.getvalue()


def test_dis_missing(tmp_path):
    with pytest.raises(InputError):
        pickle_doctor.dis(tmp_path / "missing.pkl")


# --- reports: round trips and pickling ----------------------------------------------------------


def _reports(lr_pickle, evil_pickle, foo_file, mypkg, tmp_path):
    fix = pickle_doctor.fix(
        foo_file,
        tmp_path / "rt.pkl",
        site_packages=[mypkg],
        python_version="3.11",
        maps=["__main__=mypkg.models"],
    )
    refused = pickle_doctor.fix(foo_file, None, site_packages=[mypkg], python_version="3.11", dry_run=True)
    return [
        pickle_doctor.scan(lr_pickle),
        pickle_doctor.scan(evil_pickle),
        pickle_doctor.check(lr_pickle, python=sys.executable),
        pickle_doctor.check(foo_file, site_packages=[mypkg], python_version="3.11"),
        fix,
        refused,
    ]


def test_round_trip_and_pickling(lr_pickle, evil_pickle, foo_file, mypkg, tmp_path):
    for r in _reports(lr_pickle, evil_pickle, foo_file, mypkg, tmp_path):
        d = r.to_dict()
        if isinstance(r, CheckReport):
            back = CheckReport.from_dict(d, r.environment)
        else:
            back = type(r).from_dict(d)
        assert back == r
        assert back.to_dict() == d
        for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(r, protocol=proto)) == r


def test_exceptions_pickle(evil_pickle, tmp_path):
    try:
        pickle_doctor.load(evil_pickle)
    except UnsafePickleError as e:
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is UnsafePickleError
        assert str(back) == str(e) and back.findings == e.findings and back.findings
    try:
        pickle_doctor.dis(tmp_path / "missing")
    except InputError as e:
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is InputError and str(back) == str(e) and back.kind == e.kind


def test_native_error_translation(monkeypatch):
    from pickle_doctor import _errors, _native

    for kind, cls in [
        ("io", InputError),
        ("input", InputError),
        ("environment", pickle_doctor.TargetError),
        ("usage", UsageError),
        ("rewrite", pickle_doctor.RewriteError),
        ("something-new", Error),
    ]:
        exc = _errors.translate(_native.NativeError(kind, "first line\nsecond line"))
        assert type(exc) is cls
        assert str(exc) == "first line second line"
    assert isinstance(_errors.translate(_native.NativeError("interrupted", "Ctrl-C")), KeyboardInterrupt)

    def interrupted(*args):
        raise _native.NativeError("interrupted", "interrupted")

    monkeypatch.setattr(_native, "scan", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pickle_doctor.scan(b"\x80\x02N.")


def test_pathlike_os_fspath(tmp_path, lr_pickle):
    class P(os.PathLike):
        def __fspath__(self):
            return str(lr_pickle)

    assert pickle_doctor.scan(P()).verdict == "clean"
    assert pickle_doctor.dis(P()) == pickle_doctor.dis(lr_pickle)


# Python 2's pickle.dumps({'name': 'caf\xe9'}, 0): the str is bytes (STRING opcodes).
PY2_DICT = b"(dp0\nS'name'\np1\nS'caf\\xe9'\np2\ns."


def test_check_python2_strings_as_pickle_load_decodes_them(tmp_path):
    empty = tmp_path / "site"
    empty.mkdir()
    with pytest.raises(UnicodeDecodeError) as real:
        pickle.loads(PY2_DICT)
    r = pickle_doctor.check(PY2_DICT, site_packages=[empty], python_version="3.11")
    assert (r.verdict, r.error) == ("fails", f"UnicodeDecodeError: {real.value}")
    assert [f.kind for f in r.fixes] == ["encoding"]
    for kwargs in ({"encoding": "latin1"}, {"encoding": "bytes"}, {"errors": "replace"}):
        pickle.loads(PY2_DICT, **kwargs)  # the real load succeeds
        r = pickle_doctor.check(PY2_DICT, site_packages=[empty], python_version="3.11", **kwargs)
        assert (r.verdict, r.error) == ("loads", None), kwargs
    with pytest.raises(UsageError):
        pickle_doctor.check(PY2_DICT, site_packages=[empty], python_version="3.11", encoding="utf-16")


_OLD_MODEL = """
class Model:
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X):
        self.coef_ = sum(X)
        return self
"""

_NEW_MODEL = """
class Model:
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X):
        self.coef_ = sum(X)
        self._scale = len(X)
        return self

    def predict(self, X):
        scale = self.coef_ / self._scale
        return [x * scale for x in X]
"""


def test_check_use_time_trouble_matches_python(tmp_path):
    """A model pickled by an older version of its class loads in the newer one, then its
    first ``predict`` raises: ``check`` names the method and the exact error, as Python
    really raises it (checked in a subprocess)."""
    import subprocess

    old, new = tmp_path / "old", tmp_path / "new"
    for d, src in ((old, _OLD_MODEL), (new, _NEW_MODEL)):
        d.mkdir()
        (d / "toymodel.py").write_text(src)
    made = tmp_path / "model.pkl"
    subprocess.run(
        [sys.executable, "-I", "-c",
         "import sys, pickle; sys.path.insert(0, sys.argv[1]); import toymodel; "
         "pickle.dump(toymodel.Model().fit([1, 2, 3]), open(sys.argv[2], 'wb'))",
         str(old), str(made)],
        check=True,
    )
    real = subprocess.run(
        [sys.executable, "-I", "-c",
         "import sys, pickle; sys.path.insert(0, sys.argv[1]); m = pickle.load(open(sys.argv[2], 'rb'))\n"
         "try:\n    m.predict([1])\nexcept Exception as e:\n    print(f'{type(e).__name__}: {e}')",
         str(new), str(made)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    r = pickle_doctor.check(made, site_packages=[new], python_version="3.11")
    assert r.verdict == "at-risk", r
    use = [t for t in r.troubles if t.kind == "use"]
    assert len(use) == 1, r.troubles
    t = use[0]
    assert (t.code, t.class_, t.method, t.attribute) == (
        "missing-attribute", "toymodel.Model", "predict", "_scale")
    assert t.error == real == "AttributeError: 'Model' object has no attribute '_scale'"
    assert t.to_dict()["class"] == "toymodel.Model"
    # The version that wrote it: nothing goes wrong.
    same = pickle_doctor.check(made, site_packages=[old], python_version="3.11")
    assert same.verdict == "loads" and same.troubles == []
    # fix refuses it, with the same trouble in its `after` prediction.
    f = pickle_doctor.fix(made, tmp_path / "fixed.pkl", site_packages=[new], python_version="3.11")
    assert f.refusal is not None and not (tmp_path / "fixed.pkl").exists(), f
    assert f.after is not None and f.after.troubles == r.troubles, f
    assert f.refusal.reason == f"loads, then fails at first use: {real}"
