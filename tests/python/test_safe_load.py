"""Safe load: hostile files never run, benign files load exactly as their trusted loader loads them."""

from __future__ import annotations

import collections
import io
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import pickle_doctor
from pickle_doctor import Error, UnsafePickleError, UsageError, _safe_load

HERE = Path(__file__).resolve().parent


# --- hostile -----------------------------------------------------------------------------------


def test_hostile_corpus_never_runs(hostile_dir, hostile_manifest):
    """Every hostile file is refused before anything runs, proven by an audit hook (one process)."""
    p = subprocess.run(
        [sys.executable, str(HERE / "hostile_load.py"), str(hostile_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    print(
        f"\nhostile safe load: {r['total']} files, {r['unsafe']} UnsafePickleError, "
        f"{len(r['error'])} Error, {len(r['loaded'])} loaded, {len(r['other'])} other"
    )
    for path, msg in r["error"][:20]:
        print(f"  Error: {path}: {msg}")
    assert r["total"] == len(hostile_manifest)
    assert r["evidence"] == [], "payload evidence recorded by the audit hook"
    assert r["loaded"] == [], "hostile files loaded"
    assert r["other"] == [], "unexpected exceptions"
    assert r["missing_codes"] == []
    assert r["unsafe"] + len(r["error"]) == r["total"]
    # The hook works: it saw the control load's find_class and os.system.
    assert "pickle.find_class" in r["control_events"]
    assert "os.system" in r["control_events"]


# --- benign: equal to the trusted loader ------------------------------------------------------


def same(a, b, depth=0) -> bool:
    """Structural equality: numpy arrays by value (NaN equal), objects by type and __dict__."""
    if depth > 50:
        return True
    if type(a) is not type(b):
        return False
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None and isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.hasobject:
            return all(same(x, y, depth + 1) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, depth + 1) for x, y in zip(a, b))
    if hasattr(a, "equals") and callable(a.equals):  # pandas
        try:
            return bool(a.equals(b))
        except Exception:
            pass
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return same(vars(a), vars(b), depth + 1)
    try:
        if a == b:
            return True
    except Exception:
        pass
    if isinstance(a, (type, str, bytes, int, complex)) or callable(a):
        return False
    try:  # extension types (sklearn's Tree, ...): compare what they pickle as
        return same(a.__reduce_ex__(4)[1:], b.__reduce_ex__(4)[1:], depth + 1)
    except Exception:
        return False


def equal_loads(a, b) -> bool:
    try:
        if pickle.dumps(a, protocol=5) == pickle.dumps(b, protocol=5):
            return True
    except Exception:
        pass
    return same(a, b)


def trusted_load(path: Path, kind: str):
    if kind == "joblib":
        import joblib

        return joblib.load(path)
    if kind == "numpy":
        import numpy as np

        r = np.load(path, allow_pickle=True)
        if isinstance(r, np.lib.npyio.NpzFile):
            with r:
                return dict(r)
        return r
    with open(path, "rb") as f:
        return pickle.load(f)


# Files whose format safe load refuses by design (joblib < 0.10 reads sibling files with np.load).
REFUSED_BY_DESIGN = ("legacy-",)


def benign_files(fixtures_dir: Path, manifest: dict):
    for rel, info in sorted(manifest["files"].items()):
        if info["kind"] == "pickle":
            yield fixtures_dir / rel, "pickle"
    for c in manifest["containers"]:
        if c["kind"] == "joblib":
            yield fixtures_dir / c["path"], "joblib"
        elif c["kind"] in ("npy", "npz"):
            yield fixtures_dir / c["path"], "numpy"
    for f in sorted((HERE.parents[1] / "samples").iterdir()):
        yield f, "pickle"


def test_benign_loads_equal_trusted_loader(fixtures_dir, fixtures_manifest):
    counts = collections.Counter()
    failures = []
    for path, kind in benign_files(fixtures_dir, fixtures_manifest):
        try:
            expected = trusted_load(path, kind)
        except Exception:
            counts["skipped: the trusted loader fails"] += 1
            continue
        try:
            got = pickle_doctor.load(path)
        except Error as e:
            if path.name.startswith(REFUSED_BY_DESIGN) and not isinstance(e, UnsafePickleError):
                counts["refused by design (joblib < 0.10)"] += 1
            else:
                failures.append(f"{path}: {type(e).__name__}: {e}")
            continue
        except Exception as e:
            failures.append(f"{path}: {type(e).__name__}: {e}")
            continue
        if equal_loads(expected, got):
            counts[f"equal ({kind})"] += 1
        else:
            failures.append(f"{path}: differs from the trusted load")
    print("\nbenign safe load:", dict(sorted(counts.items())))
    assert not failures, "\n".join(failures[:30])
    assert counts["equal (pickle)"] > 500
    assert counts["equal (joblib)"] > 20
    assert counts["equal (numpy)"] > 20


# --- the restricted unpickler ------------------------------------------------------------------


def test_missing_approval_is_refused(monkeypatch):
    """Static/dynamic agreement: a global the plan does not approve is refused when reached."""
    data = pickle.dumps(collections.OrderedDict(a=1), protocol=4)
    assert pickle_doctor.load(data) == collections.OrderedDict(a=1)
    real = _safe_load._native.load_plan

    def without_ordereddict(data, policy):
        plan = json.loads(real(data, policy))
        plan["globals"] = [g for g in plan["globals"] if g["name"] != "OrderedDict"]
        return json.dumps(plan)

    monkeypatch.setattr(_safe_load._native, "load_plan", without_ordereddict)
    with pytest.raises(UnsafePickleError) as e:
        pickle_doctor.load(data)
    assert "collections.OrderedDict" in str(e.value)
    assert e.value.findings == []


def test_restricted_unpicklers_directly():
    data = pickle.dumps(collections.OrderedDict(a=1), protocol=2)
    ok = frozenset({("collections", "OrderedDict")})
    for cls in (_safe_load._RestrictedUnpickler, _safe_load._RestrictedPyUnpickler):
        with pytest.raises(UnsafePickleError):
            cls(io.BytesIO(data), frozenset(), "<t>").load()
        assert cls(io.BytesIO(data), ok, "<t>").load() == {"a": 1}


def test_python2_names_resolve_to_the_approved_pair():
    """A Python 2 name resolves to exactly the pair the scan approved, whatever the protocol."""
    p2 = b"\x80\x02c__builtin__\nset\n]K\x01a\x85R."
    p3 = b"\x80\x03c__builtin__\nset\n]K\x01a\x85R."
    renamed = frozenset({("builtins", "set")})
    unrenamed = frozenset({("__builtin__", "set")})
    for cls in (_safe_load._RestrictedUnpickler, _safe_load._RestrictedPyUnpickler):
        assert cls(io.BytesIO(p2), renamed, "<t>").load() == {1}
        with pytest.raises(ModuleNotFoundError):  # approved unrenamed: no renaming, as at protocol 3
            cls(io.BytesIO(p2), unrenamed, "<t>").load()
        assert cls(io.BytesIO(p3), renamed, "<t>").load() == {1}
        with pytest.raises(UnsafePickleError):
            cls(io.BytesIO(p2), frozenset({("__builtin__", "frozenset")}), "<t>").load()


def test_extension_codes_go_through_find_class():
    import copyreg

    copyreg.add_extension("collections", "OrderedDict", 0x7ABC)
    try:
        data = b"\x80\x02\x83\xbc\x7a)R."  # EXT2 0x7abc, EMPTY_TUPLE, REDUCE
        assert type(pickle.loads(data)) is collections.OrderedDict  # fills the extension caches
        # pickle._Unpickler's cache is bypassed: the code goes through find_class.
        with pytest.raises(UnsafePickleError):
            _safe_load._RestrictedPyUnpickler(io.BytesIO(data), frozenset(), "<t>").load()
        with pytest.raises(UnsafePickleError) as e:
            pickle_doctor.load(data)  # the scan refuses every extension code (PD104)
        assert "PD104" in str(e.value)
    finally:
        copyreg.remove_extension("collections", "OrderedDict", 0x7ABC)


def test_compat_pickle_mapping_protocol_2():
    """Protocol < 3 names Python 2 modules; find_class maps them exactly as pickle does."""
    # set([1]) as Python 2 wrote it: __builtin__.set, and copy_reg._reconstructor(object, object, None)
    data = b"\x80\x02c__builtin__\nset\n]K\x01a\x85R."
    plan = json.loads(_safe_load._native.load_plan(data, "default"))
    assert {(g["module"], g["name"], g["mapped_module"], g["mapped_name"]) for g in plan["globals"]} == {
        ("__builtin__", "set", "builtins", "set")
    }
    assert pickle_doctor.load(data) == {1}
    rec = b"ccopy_reg\n_reconstructor\n(c__builtin__\nobject\nc__builtin__\nobject\nNtR."
    assert type(pickle_doctor.load(rec)) is object
    # The same names at protocol 3 are not renamed: never approved as builtins.set.
    p3 = b"\x80\x03c__builtin__\nset\n]K\x01a\x85R."
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(p3)
    plan = json.loads(_safe_load._native.load_plan(p3, "default"))
    mapped = [(g["mapped_module"], g["mapped_name"]) for g in plan["globals"]]
    # The plan renames only below protocol 3, as pickle does.
    assert mapped == [("__builtin__", "set")]
    # The scan judges the name as Python 3 imports it, as written: an unknown function that is
    # called (PD103, high), so the safe load refuses what pickle itself cannot import.
    with pytest.raises(UnsafePickleError) as e:
        pickle_doctor.load(p3)
    assert "PD103 __builtin__.set" in str(e.value)


def test_python2_eval_is_refused():
    data = b"c__builtin__\neval\n(S'1+1'\ntR."
    with pytest.raises(UnsafePickleError) as e:
        pickle_doctor.load(data)
    assert e.value.findings


# --- sources, loaders, errors -------------------------------------------------------------------


def test_sources(lr_pickle):
    by_path = pickle_doctor.load(lr_pickle)
    for src in (str(lr_pickle), lr_pickle.read_bytes(), bytearray(lr_pickle.read_bytes())):
        assert equal_loads(pickle_doctor.load(src), by_path)
    with open(lr_pickle, "rb") as f:
        assert equal_loads(pickle_doctor.load(f), by_path)
    with pytest.raises(TypeError):
        pickle_doctor.load(io.StringIO("text"))
    with pytest.raises(TypeError):
        pickle_doctor.load(3.5)


def test_loader_override(fixtures_dir, lr_pickle):
    npy = fixtures_dir / "numpy" / "save-default.npy"
    assert (pickle_doctor.load(npy, loader="numpy") == pickle_doctor.load(npy)).all()
    assert equal_loads(pickle_doctor.load(lr_pickle, loader="pickle"), pickle_doctor.load(lr_pickle))
    with pytest.raises(UsageError):
        pickle_doctor.load(lr_pickle, loader="dill")


def test_unsafe_error(evil_pickle):
    with pytest.raises(UnsafePickleError) as e:
        pickle_doctor.load(evil_pickle)
    assert isinstance(e.value, pickle.UnpicklingError)
    assert "PD101" in str(e.value) and "os.system" in str(e.value)
    assert "\n" not in str(e.value)
    assert any(f.global_name == "os.system" for f in e.value.findings)
    with pytest.raises(UnsafePickleError):
        pickle_doctor.load(evil_pickle, policy="strict")


def test_error_verdicts(tmp_path):
    with pytest.raises(Error) as e:
        pickle_doctor.load(b"")
    assert not isinstance(e.value, UnsafePickleError)
    with pytest.raises(Error) as e:
        pickle_doctor.load(b"<!DOCTYPE html><html></html>")
    assert "HTML" in str(e.value)
    with pytest.raises(pickle_doctor.InputError) as e:
        pickle_doctor.load(tmp_path / "missing.pkl")
    assert "missing.pkl" in str(e.value)


def test_persistent_ids_refused():
    data = b"\x80\x02X\x03\x00\x00\x00abcQ."  # BINUNICODE 'abc', BINPERSID
    with pytest.raises(Error) as e:
        pickle_doctor.load(data)
    assert "persistent" in str(e.value) or isinstance(e.value, UnsafePickleError)


def test_zip_and_7z_refused(hostile_dir, tmp_path):
    import zipfile

    z = tmp_path / "plain.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("model/weights.pkl", pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(Error) as e:
        pickle_doctor.load(z)
    assert "zip" in str(e.value)


def test_torch_needs_torch(monkeypatch):
    files = HERE.parents[1] / "tests" / "fixtures" / "torch" / "files"
    state_dict = files / "state_dict.pt"
    real_import = _safe_load.importlib.import_module

    def no_torch(name, *a, **k):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(_safe_load.importlib, "import_module", no_torch)
    with pytest.raises(Error) as e:
        pickle_doctor.load(state_dict)
    assert "pip install torch" in str(e.value)
    with pytest.raises(Error) as e:
        pickle_doctor.load(files / "scripted.pt")
    assert "TorchScript" in str(e.value) or isinstance(e.value, UnsafePickleError)


def test_joblib_legacy_refused(fixtures_dir):
    for name in ("legacy-zfile.joblib", "legacy-ndarraywrapper.pkl"):
        with pytest.raises(Error) as e:
            pickle_doctor.load(fixtures_dir / "joblib" / name)
        assert "joblib < 0.10" in str(e.value), str(e.value)


def test_joblib_object_array_nested_pickle(fixtures_dir):
    """gradient-boosting's estimators_ is an object array: a nested pickle, read restricted too."""
    import joblib

    path = fixtures_dir / "joblib" / "gradient-boosting.joblib"
    got = pickle_doctor.load(path)
    assert equal_loads(got, joblib.load(path))
    assert got.estimators_.dtype == object
