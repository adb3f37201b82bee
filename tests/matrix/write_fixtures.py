#!/usr/bin/env python3
"""Write the fixtures of the differential load matrix with the libraries of one venv.

Usage:  <writer venv python> tests/matrix/write_fixtures.py OUTDIR [--writer NAME]

Run once per *writer* venv (scripts/setup-matrix-envs.sh: old, current, localpkg, legacy).
NAME defaults to the venv's directory name without its `matrix-` prefix. The script
deletes and rewrites OUTDIR/NAME/ and writes OUTDIR/NAME/manifest.json:

  {"writer": NAME, "python": "3.11.7 ...", "versions": {"numpy": "2.4.6", ...},
   "fixtures": [{"file": "NAME/sk-forest-p4.pkl", "writer": NAME, "loader": "pickle",
                 "protocol": 4, "group": "sklearn", "description": "...",
                 "size": 1234, "sha256": "..."}, ...]}

`file` is relative to OUTDIR. `loader` says how a user would load the file and how
tests/matrix/load_truth.py loads it: `pickle` (pickle.load), `joblib` (joblib.load),
`pandas` (pandas.read_pickle) or `numpy` (numpy.load(allow_pickle=True)).
`protocol` is the pickle protocol of the (outermost) pickle stream, read back from the
written bytes (decompressed for joblib compress=3, after the header for .npy), or null
for a .npy file that holds no pickle.

What gets written depends on what the venv has (each group is skipped if its library
is missing): numpy, sklearn, joblib, pandas, cloudpickle, `__main__` objects, and plain
data (current writer only: plain data is the same bytes from any CPython 3.11). A venv
with mlkit (the local package of the localpkg venv) writes mlkit objects only: its numpy
is the current venv's, so its numpy fixtures would repeat current's byte for byte. The
legacy writer (scikit-learn 1.2.2, numpy 1.24) writes a small set of its own only
(write_legacy): the pre-1.3 tree node dtype and EuclideanDistance that the matrix is
there for, at protocols 4 and 2, and one joblib dump; nothing more, to keep the matrix
(every fixture times every target) small.

Deterministic: fixed seeds and data; the script re-executes itself with
PYTHONHASHSEED=0 so that set order inside pickles is stable, and feeds cloudpickle a
seeded uuid4 for its class tracker ids. cloudpickle fixtures embed this script's path
(co_filename), so they differ between checkouts, not between runs.

Classes and functions defined below at module level (Point, Pair, main_scale, ...)
are pickled as `__main__.<name>`: this file must be run as a script.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    _env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse
import collections
import datetime
import decimal
import fractions
import hashlib
import importlib
import importlib.metadata
import json
import pickle
import shutil
import struct
import warnings
import zlib

sys.dont_write_bytecode = True

OFFSET = 10


# --------------------------------------------------------------------------
# __main__ objects: pickled by reference as __main__.<name> (plain pickle, joblib)
# or by value (cloudpickle).
# --------------------------------------------------------------------------

class Point:
    """A plain class from the training script."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Pair:
    """Defined in the writer script; cloudpickle pickles it by value."""

    scale = 3

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def total(self):
        return (self.a + self.b) * self.scale


def main_scale(x):
    """A plain function from the training script (uses the module global OFFSET)."""
    return 2 * x + OFFSET


class Outer:
    class Inner:
        """Nested class: qualname Outer.Inner (dotted lookup from protocol 4 on)."""

        def __init__(self, v):
            self.v = v


# --------------------------------------------------------------------------
# Bookkeeping
# --------------------------------------------------------------------------

def have(module):
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def dist_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def pickle_protocol(data):
    """Protocol of a pickle stream: the PROTO argument, or 0/1 from the opcodes."""
    if data[:1] == b"\x80" and len(data) >= 2:
        return data[1]
    import pickletools

    binary = False
    try:
        for op, _arg, _pos in pickletools.genops(data):
            if op.proto >= 1:
                binary = True
    except Exception:  # noqa: BLE001
        pass
    return 1 if binary else 0


def npy_pickle_offset(data):
    """Offset of the payload after a .npy header, or None if not .npy."""
    if data[:6] != b"\x93NUMPY":
        return None
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", data[8:10])
        return 10 + hlen
    (hlen,) = struct.unpack("<I", data[8:12])
    return 12 + hlen


def file_protocol(path, loader):
    with open(path, "rb") as f:
        data = f.read()
    if loader == "numpy":
        off = npy_pickle_offset(data)
        if off is None or data[off:off + 1] != b"\x80":
            return None  # not a pickled (object) array
        return pickle_protocol(data[off:])
    if loader == "joblib" and data[:1] == b"\x78":  # zlib stream (compress=3)
        return pickle_protocol(zlib.decompressobj().decompress(data, 64))
    if loader == "joblib" and data[:2] == b"ZF":  # joblib <= 0.9 zfile: 21-byte header, zlib
        return pickle_protocol(zlib.decompressobj().decompress(data[21:].lstrip(b" "), 64))
    return pickle_protocol(data)


class Writer:
    def __init__(self, root, writer):
        self.root = root
        self.writer = writer
        self.dir = os.path.join(root, writer)
        self.entries = []

    def add(self, name, loader, group, description, write, protocol=None, encoding=None):
        path = os.path.join(self.dir, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write(path)
        with open(path, "rb") as f:
            data = f.read()
        got = file_protocol(path, loader)
        if protocol is not None and got != protocol:
            raise SystemExit(f"{name}: wrote protocol {got}, wanted {protocol}")
        self.entries.append({
            "file": f"{self.writer}/{name}",
            "writer": self.writer,
            "loader": loader,
            "protocol": got,
            "group": group,
            "description": description,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        })
        if encoding is not None:  # loaded with pickle.load / numpy.load(..., encoding=ENCODING)
            self.entries[-1]["encoding"] = encoding

    # Shorthands per loader ------------------------------------------------
    def pickle(self, name, group, description, obj, protocol):
        def write(path):
            with open(path, "wb") as f:
                pickle.dump(obj, f, protocol=protocol)
        self.add(name, "pickle", group, description, write, protocol)

    def raw(self, name, group, description, data, loader="pickle", encoding=None):
        def write(path):
            with open(path, "wb") as f:
                f.write(data)
        self.add(name, loader, group, description, write, encoding=encoding)


# --------------------------------------------------------------------------
# Fixture groups
# --------------------------------------------------------------------------

def training_data():
    import numpy as np

    rs = np.random.RandomState(0)
    X = rs.standard_normal((40, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def write_numpy(w):
    import numpy as np

    g = "numpy"
    core = "numpy._core" if np.__version__ >= "2" else "numpy.core"
    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    for p in (2, 4, 5):
        how = ("numpy.core.numeric._frombuffer + PickleBuffer" if p == 5 and core == "numpy.core"
               else "numpy._core.numeric._frombuffer + PickleBuffer" if p == 5
               else f"{core}.multiarray._reconstruct + BUILD")
        w.pickle(f"np-array-f8-p{p}.pkl", g, f"float64 2x3 array at protocol {p} ({how})", arr, p)
    w.pickle("np-array-object-p4.pkl", g, "object-dtype array [1, 'a', None, 2.5]",
             np.array([1, "a", None, 2.5], dtype=object), 4)
    scalars = [np.float64(1.5), np.int32(7), np.bool_(True), np.dtype("<M8[ns]"),
               np.datetime64("2024-01-02", "D")]
    for p in (2, 4):
        w.pickle(f"np-scalars-p{p}.pkl", g,
                 f"numpy scalars float64/int32/bool_, a datetime64 dtype and value ({core}.multiarray.scalar)",
                 scalars, p)
    w.pickle("np-randomstate-p4.pkl", g,
             "np.random.RandomState(42) (numpy.random._pickle.__randomstate_ctor; BitGenerator "
             "passed as a name in numpy 1.x, as the class in numpy 2.x)",
             np.random.RandomState(42), 4)
    w.pickle("np-generator-p4.pkl", g,
             "np.random.default_rng(42) Generator (__generator_ctor + PCG64 bit generator)",
             np.random.default_rng(42), 4)

    def save(obj):
        return lambda path: np.save(path, obj, allow_pickle=True)

    w.add("np-object.npy", "numpy", g, "np.save of an object array (pickle inside the .npy)",
          save(np.array([{"a": 1}, [1, 2], None], dtype=object)))
    w.add("np-float.npy", "numpy", g, "np.save of a float64 array (no pickle inside)",
          save(np.linspace(0, 1, 5)))


def write_numpy_names(w):
    """numpy's scalar types and other top-level names pickled by reference (`numpy.float64`).

    numpy 1.x binds them in `numpy.core.numerictypes` through `globals()[key] = ...`, reached
    by `from .core import *` chains, and `numpy/__init__.py` defines `__getattr__`: a file
    that loads in the writer's own venv must be `loads` there, not `at-risk`.
    """
    import numpy as np

    names = ["float64", "float32", "float16", "int8", "int16", "int32", "int64", "uint8",
             "uint16", "uint32", "uint64", "intc", "intp", "longlong", "ulonglong", "bool_",
             "complex64", "complex128", "clongdouble", "longdouble", "str_", "bytes_", "void",
             "object_", "datetime64", "timedelta64", "generic", "number", "integer",
             "signedinteger", "unsignedinteger", "inexact", "floating", "complexfloating",
             "flexible", "character", "ndarray", "dtype", "matrix", "recarray", "record",
             "memmap", "errstate", "finfo", "iinfo", "poly1d", "ufunc", "half", "single",
             "double", "csingle", "cdouble", "short", "ushort", "byte", "ubyte"]
    classes = [getattr(np, n) for n in names if hasattr(np, n)]
    for p in (2, 4):
        w.pickle(f"np-names-p{p}.pkl", "numpy",
                 f"numpy's scalar types and top-level classes by reference (numpy.float64, ...), protocol {p}",
                 classes, p)
    values = [np.float64(1.5), np.float32(2.5), np.int8(-3), np.uint64(7), np.complex64(1j),
              np.longdouble(0.25), np.str_("s"), np.bytes_(b"b"), np.datetime64("2024-01-02"),
              np.timedelta64(3, "s"), np.dtype("float32"), np.dtype([("a", "<i4"), ("b", "<f8")]),
              np.dtype("U3"), np.dtype("M8[ms]")]
    w.pickle("np-scalars-dtypes-p4.pkl", "numpy",
             "numpy scalars of many types and dtypes (float32, int8, uint64, complex64, longdouble, "
             "str_, bytes_, datetime64, timedelta64, structured and unicode dtypes), protocol 4", values, 4)


def sklearn_models():
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    X, y = training_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "logreg": LogisticRegression().fit(X, y),
            "sgd": SGDClassifier(max_iter=5, tol=None, random_state=np.random.RandomState(0)).fit(X, y),
            "dtree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y),
            "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
            "gb": GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y),
            "knn": KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree").fit(X, y),
            "scaler": StandardScaler().fit(X),
            "pipeline": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y),
        }


def write_sklearn(w, models):
    g = "sklearn"
    w.pickle("sk-logreg-p4.pkl", g, "fitted LogisticRegression", models["logreg"], 4)
    w.pickle("sk-logreg-p5.pkl", g, "fitted LogisticRegression at protocol 5 (arrays via _frombuffer)",
             models["logreg"], 5)
    w.pickle("sk-sgd-randomstate-p4.pkl", g,
             "SGDClassifier whose random_state is a np.random.RandomState (BitGenerator ctor inside)",
             models["sgd"], 4)
    w.pickle("sk-dtree-p4.pkl", g, "DecisionTreeClassifier(max_depth=3): Tree state with the node dtype",
             models["dtree"], 4)
    w.pickle("sk-forest-p4.pkl", g, "RandomForestClassifier(n_estimators=3): trees + node dtype",
             models["forest"], 4)
    w.pickle("sk-gb-p4.pkl", g,
             "GradientBoostingClassifier(n_estimators=3) (sklearn < 1.4: sklearn.ensemble._gb_losses)",
             models["gb"], 4)
    w.pickle("sk-knn-p4.pkl", g,
             "KNeighborsClassifier(algorithm='kd_tree'): KDTree + dist metric (EuclideanDistance64)",
             models["knn"], 4)
    w.pickle("sk-scaler-p4.pkl", g, "fitted StandardScaler", models["scaler"], 4)
    w.pickle("sk-pipeline-p4.pkl", g, "Pipeline(StandardScaler, LogisticRegression)",
             models["pipeline"], 4)
    w.pickle("sk-pipeline-p2.pkl", g,
             "Pipeline(StandardScaler, LogisticRegression) at protocol 2 (copy_reg/__builtin__ names)",
             models["pipeline"], 2)


def write_joblib(w, models):
    import joblib
    import numpy as np

    g = "joblib"

    def dump(obj, **kw):
        return lambda path: joblib.dump(obj, path, **kw)

    arrays = {"f8": np.arange(12, dtype=np.float64).reshape(3, 4),
              "i4": np.arange(5, dtype=np.int32), "obj": np.array(["a", None], dtype=object)}
    w.add("np-arrays.joblib", "joblib", g,
          "joblib.dump of a dict of arrays (float64, int32, object), compress=0: raw array bytes inline",
          dump(arrays))
    w.add("np-arrays-c3.joblib", "joblib", g, "the same dict of arrays, compress=3 (zlib)",
          dump(arrays, compress=3))
    if models:
        w.add("sk-forest.joblib", "joblib", g, "joblib.dump of the RandomForestClassifier, compress=0",
              dump(models["forest"]))
        w.add("sk-forest-c3.joblib", "joblib", g, "the RandomForestClassifier, compress=3 (zlib)",
              dump(models["forest"], compress=3))
        w.add("sk-pipeline.joblib", "joblib", g, "joblib.dump of the Pipeline, compress=0",
              dump(models["pipeline"]))
    w.add("main-point.joblib", "joblib", g,
          "joblib.dump of __main__.Point(1, 2) (default protocol; joblib uses the pure-Python unpickler)",
          dump(Point(1, 2)))
    w.add("main-point-p2.joblib", "joblib", g,
          "joblib.dump of __main__.Point(1, 2) at protocol 2 (pure-Python getattr wording)",
          dump(Point(1, 2), protocol=2), protocol=2)


def write_pandas(w):
    import numpy as np
    import pandas as pd

    g = "pandas"
    df = pd.DataFrame({
        "i": np.arange(4, dtype=np.int64),
        "f": [0.5, 1.5, np.nan, 3.0],
        "s": ["a", "b", "c", None],
        "c": pd.Categorical(["x", "y", "x", "z"]),
        "t": pd.date_range("2024-01-01", periods=4, freq="D"),
    })
    dfdesc = ("DataFrame with int64, float64, inferred string (object in pandas 2, str in pandas 3), "
              "category and datetime64 columns")
    w.pickle("pd-dataframe-p4.pkl", g, dfdesc, df, 4)
    w.add("pd-dataframe.to_pickle.pkl", "pandas", g, dfdesc + "; written with DataFrame.to_pickle",
          df.to_pickle)
    s_string = pd.Series(["a", None, "c"], dtype="string", name="s")
    sdesc = "Series with dtype='string' (StringDtype; pandas 3 also pickles its na_value)"
    w.pickle("pd-series-string-p4.pkl", g, sdesc, s_string, 4)
    w.add("pd-series-string.to_pickle.pkl", "pandas", g, sdesc + "; written with Series.to_pickle",
          s_string.to_pickle)
    w.pickle("pd-series-inferred-str-p4.pkl", g,
             "Series(['a', 'b', None]) without a dtype (object in pandas 2, str = StringDtype(na_value=nan) in 3)",
             pd.Series(["a", "b", None], name="t"), 4)
    idx = pd.date_range("2024-01-01", periods=3, freq="D", name="day")
    w.pickle("pd-datetimeindex-p4.pkl", g, "tz-naive DatetimeIndex (freq D)", idx, 4)
    tz = pd.date_range("2024-03-30", periods=3, freq="D", tz="Europe/Berlin")
    tzdesc = "tz-aware DatetimeIndex, Europe/Berlin (pytz in pandas 2, zoneinfo in pandas 3)"
    w.pickle("pd-datetimeindex-tz-p4.pkl", g, tzdesc, tz, 4)
    w.add("pd-datetimeindex-tz.to_pickle.pkl", "pandas", g, tzdesc + "; written with pandas.to_pickle",
          lambda path: pd.to_pickle(tz, path))
    w.pickle("pd-categorical-p4.pkl", g, "ordered Categorical ['lo', 'hi', 'lo']",
             pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True), 4)


def write_cloudpickle(w):
    import cloudpickle

    g = "cloudpickle"
    v = cloudpickle.__version__

    def cp(obj):
        def write(path):
            # cloudpickle tags each class pickled by value with uuid.uuid4().hex (its
            # "class tracker id"); a fixed sequence keeps the output deterministic.
            import random
            import uuid

            rng = random.Random(f"{w.writer}/{os.path.basename(path)}")
            real = uuid.uuid4
            uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
            try:
                with open(path, "wb") as f:
                    cloudpickle.dump(obj, f)
            finally:
                uuid.uuid4 = real
        return write

    w.add("cp-lambda.pkl", "pickle", g,
          f"cloudpickle {v} of `lambda x: x * 2 + OFFSET` (code object by value)",
          cp(lambda x: x * 2 + OFFSET))
    w.add("cp-function.pkl", "pickle", g,
          f"cloudpickle {v} of __main__.main_scale, a plain function (by value, with its global)",
          cp(main_scale))
    w.add("cp-class.pkl", "pickle", g,
          f"cloudpickle {v} of the class __main__.Pair itself (dynamic class by value)", cp(Pair))
    w.add("cp-instance.pkl", "pickle", g,
          f"cloudpickle {v} of Pair(1, 2), an instance of a __main__ class (class by value)",
          cp(Pair(1, 2)))


def write_main(w):
    g = "main"
    for p in (0, 2, 4):
        w.pickle(f"main-point-p{p}.pkl", g, f"plain pickle of __main__.Point(1, 2) at protocol {p}",
                 Point(1, 2), p)
    w.pickle("main-function-p4.pkl", g, "plain pickle of the function __main__.main_scale (by reference)",
             main_scale, 4)
    w.pickle("main-nested-p4.pkl", g,
             "plain pickle of __main__.Outer.Inner(5) (dotted qualname, protocol 4)", Outer.Inner(5), 4)


def plain_data():
    return {
        "ints": [0, 1, -1, 255, 65536, 2**40, -(2**70)],
        "floats": [0.5, -1e300, float("inf")],
        "text": "héllo ✓",
        "bytes": b"\x00\xffabc",
        "list": [1, [2, [3]]],
        "tuple": (1, "two", 3.0),
        "set": {1, 2, 3},
        "frozenset": frozenset({"a", "b"}),
        "none_bool": [None, True, False],
        "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        "date": datetime.date(2024, 2, 29),
        "timedelta": datetime.timedelta(days=1, seconds=2),
        "utc": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        "decimal": decimal.Decimal("3.14159"),
        "fraction": fractions.Fraction(1, 3),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "complex": 1 + 2j,
    }


def write_plain(w):
    for p in range(0, pickle.HIGHEST_PROTOCOL + 1):
        w.pickle(f"plain-data-p{p}.pkl", "plain",
                 f"stdlib data (dict/list/set/tuple/frozenset/datetime/Decimal/Fraction/OrderedDict/complex) at protocol {p}",
                 plain_data(), p)


def write_trailing(w):
    """Bytes after STOP, which every loader ignores (it reads one pickle): a newline, CRLF,
    padding, text, a second pickle, a cut-off second pickle; inside an .npy object array and
    after a joblib dump too. And .npy headers as Python 2 numpy wrote them (`(2L,)` longs,
    `u'...'` strings, 16-byte alignment), which numpy still reads."""
    g = "trailing"
    value = {"weights": [1.5, 2.5], "name": "m"}
    second = pickle.dumps([3, 4], protocol=4)
    for p, tail, what in ((2, b"\n", "a newline"), (4, b"\r\n", "CRLF"),
                          (5, b"\x00" * 16, "NUL padding"), (0, b"garbage\n", "text"),
                          (4, second, "a second pickle"), (4, second[:-2], "a cut-off second pickle")):
        slug = what.replace(" ", "-")
        w.raw(f"trailing-{slug}-p{p}.pkl", g, f"protocol {p} pickle followed by {what}",
              pickle.dumps(value, protocol=p) + tail)
    if have("numpy"):
        import numpy as np

        def npy_then_newline(path):
            np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
            with open(path, "ab") as f:
                f.write(b"\n")
        w.add("trailing-npy-object-newline.npy", "numpy", g,
              "np.save of an object array, then a newline after the pickle", npy_then_newline)

        def npy_py2(header, data):
            h = header.encode("latin1")
            h += b" " * ((-(10 + len(h) + 1)) % 16) + b"\n"
            return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data
        w.raw("py2-header-float.npy", g, "format 1.0 header as Python 2 wrote it: (2L, 3L), u'<f8'",
              npy_py2("{u'descr': u'<f8', u'fortran_order': False, u'shape': (2L, 3L), }",
                      struct.pack("<6d", *range(6))), loader="numpy")
        w.raw("py2-header-object.npy", g, "Python 2 header for an object array (protocol 2 list)",
              npy_py2("{'descr': '|O', 'fortran_order': False, 'shape': (2L,), }",
                      pickle.dumps([1, "a"], protocol=2)), loader="numpy")
    if have("joblib"):
        import joblib

        def joblib_then_newline(path):
            joblib.dump(value, path)
            with open(path, "ab") as f:
                f.write(b"\n")
        w.add("trailing-joblib-newline.joblib", "joblib", g, "joblib.dump, then a newline",
              joblib_then_newline)


def write_legacy(w, models):
    """The legacy writer's own small set (scikit-learn 1.2.2): the classic 1.2 -> 1.3 breaks.

    Trees pickle the pre-1.3 node dtype (no `missing_go_to_left`); the kd-tree of the
    KNeighborsClassifier (default metric: minkowski, p=2) holds a
    sklearn.metrics._dist_metrics.EuclideanDistance (EuclideanDistance64 from 1.3 on).
    """
    import joblib
    import numpy as np

    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    for p in (4, 2):
        w.pickle(f"np-array-f8-p{p}.pkl", "numpy",
                 f"float64 2x3 array at protocol {p} (numpy 1.24: numpy.core.multiarray._reconstruct)",
                 arr, p)
        w.pickle(f"sk-logreg-p{p}.pkl", "sklearn", f"fitted LogisticRegression (sklearn 1.2.2), protocol {p}",
                 models["logreg"], p)
        w.pickle(f"sk-dtree-p{p}.pkl", "sklearn",
                 f"DecisionTreeClassifier(max_depth=3): pre-1.3 node dtype (7 fields, no missing_go_to_left), "
                 f"protocol {p}", models["dtree"], p)
        w.pickle(f"sk-forest-p{p}.pkl", "sklearn",
                 f"RandomForestClassifier(n_estimators=3): trees with the pre-1.3 node dtype, protocol {p}",
                 models["forest"], p)
        w.pickle(f"sk-knn-p{p}.pkl", "sklearn",
                 f"KNeighborsClassifier(algorithm='kd_tree'), default metric: KDTree + EuclideanDistance "
                 f"(pre-1.3 name), protocol {p}", models["knn"], p)
    w.add("sk-forest.joblib", "joblib", "joblib",
          "joblib.dump of the RandomForestClassifier (pre-1.3 node dtype), compress=0",
          lambda path: joblib.dump(models["forest"], path))

    # The set is only worth having while it really holds the old names and layout.
    def data(name):
        with open(os.path.join(w.dir, name), "rb") as f:
            return f.read()
    for p in (4, 2):
        knn = data(f"sk-knn-p{p}.pkl")
        if b"EuclideanDistance" not in knn or b"EuclideanDistance64" in knn:
            raise SystemExit(f"legacy: sk-knn-p{p}.pkl does not reference EuclideanDistance")
        if b"missing_go_to_left" in data(f"sk-dtree-p{p}.pkl"):
            raise SystemExit(f"legacy: sk-dtree-p{p}.pkl has the 1.3 node dtype")


def write_mlkit(w):
    import numpy as np
    import mlkit
    import mlkit.compat
    from mlkit.models import Pipeline, Scaler, make_default
    from mlkit.nn.layers import Dense

    g = "mlkit"
    X, _ = training_data()
    scaler = Scaler().fit(X)
    dense = Dense(3, 2)
    pipe = Pipeline([("scale", scaler), ("dense", dense)])
    for p in (2, 4):
        w.pickle(f"mlkit-scaler-p{p}.pkl", g, f"fitted mlkit.models.Scaler (numpy arrays inside), protocol {p}",
                 scaler, p)
        w.pickle(f"mlkit-dense-p{p}.pkl", g, f"mlkit.nn.layers.Dense(3, 2), protocol {p}", dense, p)
        w.pickle(f"mlkit-make-default-p{p}.pkl", g,
                 f"the function mlkit.models.make_default by reference, protocol {p}", make_default, p)
        w.pickle(f"mlkit-compat-removed-helper-p{p}.pkl", g,
                 f"the function mlkit.compat.removed_helper (absent in v2, whose compat.__getattr__ "
                 f"raises AttributeError), protocol {p}", mlkit.compat.removed_helper, p)
    w.pickle("mlkit-pipeline-p4.pkl", g, "mlkit.models.Pipeline of a fitted Scaler and a Dense", pipe, 4)
    w.pickle("mlkit-encoder-p4.pkl", g,
             "mlkit.Encoder instance (class defined in mlkit._api with __module__ 'mlkit', reached via "
             "`from ._api import *` and __all__)", mlkit.Encoder(["a", "b"]), 4)
    w.pickle("mlkit-encode-p4.pkl", g, "the function mlkit.encode (defined in mlkit._api, exported via __all__)",
             mlkit.encode, 4)
    w.pickle("mlkit-compat-legacy-scaler-p4.pkl", g,
             "mlkit.compat.LegacyScaler instance (v2 serves the name from compat.__getattr__, with a "
             "DeprecationWarning)", mlkit.compat.LegacyScaler().fit(X), 4)
    w.pickle("mlkit-compat-legacy-default-p4.pkl", g,
             "the function mlkit.compat.legacy_default (v2: compat.__getattr__)", mlkit.compat.legacy_default, 4)
    w.pickle("mlkit-classes-p0.pkl", g, "the classes mlkit.models.Scaler and mlkit.nn.layers.Dense at protocol 0",
             [Scaler, Dense], 0)
    w.add("mlkit-objects.npy", "numpy", g, "np.save of an object array holding a Scaler and a Dense",
          lambda path: np.save(path, np.array([scaler, dense, None], dtype=object), allow_pickle=True))


def write_control_names(w):
    """Names with control characters: errors print them as repr (`No module named
    '__builtin__\\r'`) except the pure-Python unpickler's `module 'm' has no attribute 'n'`
    (str). A Python 2 pickle written in text mode on Windows ends its lines with CRLF."""
    g = "names"
    crlf = b"(lp0\r\nc__builtin__\r\nlist\r\np1\r\na."
    ctl = b"cbuiltins\nli\x01st\n."
    quote = b"cbuiltins\nli'st\n."
    tab = b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x03l\tt\x93."
    for name, data, what in (("crlf-global-p0", crlf, "protocol 0 written with CRLF line ends: GLOBAL '__builtin__\\r' 'list\\r'"),
                             ("ctl-attr-p0", ctl, "GLOBAL builtins 'li\\x01st' (a control character in the name)"),
                             ("quote-attr-p0", quote, "GLOBAL builtins \"li'st\" (a quote in the name)"),
                             ("tab-attr-p4", tab, "STACK_GLOBAL builtins 'l\\tt' (a tab in the name)")):
        w.raw(f"{name}.pkl", g, what, data)
        w.raw(f"{name}.joblib.pkl", g, what + "; joblib.load (the pure-Python unpickler)", data, loader="joblib")


def write_broken_streams(w):
    """Streams the unpickler rejects: the error is `_pickle`'s own text, nothing else."""
    g = "broken"
    for name, data, what in (
            ("memo-missing-binget", b"h\x05.", "BINGET 5 with an empty memo"),
            ("memo-missing-get", b"g5\n.", "GET 5 with an empty memo"),
            ("stack-underflow-pop", b"0.", "POP on an empty stack"),
            ("stack-underflow-setitem", b"K\x01K\x02s.", "SETITEM with no dict below"),
            ("mark-missing", b"e.", "APPENDS without a MARK"),
            ("frame-truncated", b"\x80\x04\x95\x30\x00\x00\x00\x00\x00\x00\x00N.",
             "FRAME of 48 bytes with 2 left")):
        w.raw(f"{name}.pkl", g, what, data)


# --------------------------------------------------------------------------
# Python 2 files: assembled from the opcodes Python 2's pickle wrote (no Python 2 exists
# here). A Python 2 `str` is bytes: STRING (protocol 0), SHORT_BINSTRING / BINSTRING
# (protocols 1-2). Python 3 decodes them with the loader's `encoding` ('ASCII' by default).
# --------------------------------------------------------------------------

class S(bytes):
    """A Python 2 `str` (bytes pickled as STRING / BINSTRING)."""


class G:
    """A global (`GLOBAL module name`)."""

    def __init__(self, module, name):
        self.module, self.name = module, name


class R:
    """`callable(*args)` (REDUCE)."""

    def __init__(self, func, args):
        self.func, self.args = func, args


class NewObj:
    """`cls.__new__(cls)` as Python 2's protocol 2 wrote a new-style instance (NEWOBJ)."""

    def __init__(self, cls):
        self.cls = cls


class B:
    """`obj` with `__setstate__(state)` / `__dict__.update(state)` (BUILD)."""

    def __init__(self, obj, state):
        self.obj, self.state = obj, state


def py2_str_repr(s):
    """Python 2's repr of a str, as protocol 0 STRING writes it."""
    quote = b'"' if b"'" in s and b'"' not in s else b"'"
    out = bytearray(quote)
    for c in s:
        if c == quote[0] or c == 0x5C:
            out += b"\\" + bytes([c])
        elif c == 0x09:
            out += b"\\t"
        elif c == 0x0A:
            out += b"\\n"
        elif c == 0x0D:
            out += b"\\r"
        elif c < 0x20 or c >= 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out + quote)


class Py2Pickler:
    """Writes a value tree (S, G, R, NewObj, B, int, float, bool, None, tuple, list, dict)
    with the opcodes Python 2's pickle.dumps(obj, protocol) emitted."""

    def __init__(self, protocol):
        self.p = protocol
        self.out = bytearray(b"\x80" + bytes([protocol]) if protocol >= 2 else b"")
        self.memo = 0

    def put(self):
        if self.p == 0:
            self.out += b"p%d\n" % self.memo
        elif self.memo < 256:
            self.out += b"q" + bytes([self.memo])
        else:
            self.out += b"r" + struct.pack("<I", self.memo)
        self.memo += 1

    def dump(self, obj):
        self.save(obj)
        self.out += b"."
        return bytes(self.out)

    def save(self, o):
        p, out = self.p, self.out
        if o is None:
            out += b"N"
        elif o is True or o is False:
            if p >= 2:
                out += b"\x88" if o else b"\x89"
            else:
                out += b"I01\n" if o else b"I00\n"
        elif isinstance(o, int):
            if p == 0:
                out += b"I%d\n" % o
            elif 0 <= o < 256:
                out += b"K" + bytes([o])
            elif 0 <= o < 65536:
                out += b"M" + struct.pack("<H", o)
            else:
                out += b"J" + struct.pack("<i", o)
        elif isinstance(o, float):
            out += b"F" + repr(o).encode() + b"\n" if p == 0 else b"G" + struct.pack(">d", o)
        elif isinstance(o, S):
            if p == 0:
                out += b"S" + py2_str_repr(o) + b"\n"
            elif len(o) < 256:
                out += b"U" + bytes([len(o)]) + o
            else:
                out += b"T" + struct.pack("<i", len(o)) + o
            self.put()
        elif isinstance(o, G):
            out += b"c" + o.module.encode() + b"\n" + o.name.encode() + b"\n"
            self.put()
        elif isinstance(o, tuple):
            if not o:
                out += b")" if p >= 1 else b"(t"
            elif p >= 2 and len(o) <= 3:
                for x in o:
                    self.save(x)
                out += b"\x85\x86\x87"[len(o) - 1:len(o)]
            else:
                out += b"("
                for x in o:
                    self.save(x)
                out += b"t"
            self.put()
        elif isinstance(o, list):
            out += b"]" if p >= 1 else b"(l"
            self.put()
            if o:
                out += b"(" if p >= 1 else b""
                for x in o:
                    self.save(x)
                    if p == 0:
                        out += b"a"
                if p >= 1:
                    out += b"e"
        elif isinstance(o, dict):
            out += b"}" if p >= 1 else b"(d"
            self.put()
            if o:
                out += b"(" if p >= 1 else b""
                for k, v in o.items():
                    self.save(k)
                    self.save(v)
                    if p == 0:
                        out += b"s"
                if p >= 1:
                    out += b"u"
        elif isinstance(o, R):
            self.save(o.func)
            self.save(o.args)
            out += b"R"
            self.put()
        elif isinstance(o, NewObj):
            self.save(o.cls)
            out += b")\x81"
            self.put()
        elif isinstance(o, B):
            self.save(o.obj)
            self.save(o.state)
            out += b"b"
        else:
            raise TypeError(f"py2 pickler: {type(o).__name__}")


def py2_dumps(obj, protocol):
    return Py2Pickler(protocol).dump(obj)


def py2_dtype(code, endian, flags=0):
    """numpy.dtype(code, 0, 1) with the 8-tuple state Python 2's numpy pickled."""
    return B(R(G("numpy", "dtype"), (S(code), 0, 1)), (3, S(endian), None, None, None, -1, -1, flags))


def py2_ndarray(shape, dtype, data):
    """numpy.core.multiarray._reconstruct(ndarray, (0,), 'b') with BUILD
    (1, shape, dtype, fortran, data): data is a str (raw bytes) or, for object arrays, a list."""
    return B(R(G("numpy.core.multiarray", "_reconstruct"), (G("numpy", "ndarray"), (0,), S(b"b"))),
             (1, shape, dtype, False, data))


def py2_npy(payload_pickle, descr, shape):
    """A version 1.0 .npy file as Python 2's numpy wrote it (header padded to 16 bytes)."""
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {shape!r}, }}"
    pad = 16 - (10 + len(header) + 1) % 16
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + payload_pickle


def py2_zfile(data):
    """joblib <= 0.9's zfile: 'ZF', the length in hex padded to 19 bytes, zlib data."""
    return b"ZF" + f"0x{len(data):x}".ljust(19).encode() + zlib.compress(data, 3)


def write_python2(w):
    """Python 2 pickles (current writer only: the bytes are made here, not by a library).

    Each file that holds a non-ASCII Python 2 str is also loaded with encoding='latin1'
    and encoding='bytes' (manifest `encoding`, loaders pickle and numpy); pandas.read_pickle
    and joblib.load have no encoding option and use their own fallback or wrapper.
    """
    g = "python2"
    f8 = struct.pack("<3d", 0.0, 1.0, 2.0)  # arange(3.0): 1.0 is 00..f0 3f, a non-ASCII byte
    dt_state = S(b"\x07\xe0\x01\x02\x03\x04\x05\x00\x00\x06")  # 2016-01-02 03:04:05.000006
    trees = {
        "dict-ascii": ({S(b"name"): S(b"cafe"), S(b"n"): 1, S(b"ok"): True, S(b"f"): 0.5},
                       "dict of ASCII str keys and values"),
        "dict-latin": ({S(b"name"): S(b"caf\xe9"), S(b"n"): 1},
                       "dict whose str value 'caf\\xe9' has a non-ASCII byte"),
        "datetime": (R(G("datetime", "datetime"), (dt_state,)),
                     "datetime.datetime(2016, 1, 2, 3, 4, 5, 6): its state str holds byte 0xe0"),
        "nparray-f8": (py2_ndarray((3,), py2_dtype(b"f8", b"<"), S(f8)),
                       "numpy float64 array [0, 1, 2] (_reconstruct + BUILD, data as a str)"),
        "nparray-object": (py2_ndarray((3,), py2_dtype(b"O8", b"|", 63), [S(b"caf\xe9"), 1, None]),
                           "numpy object array ['caf\\xe9', 1, None]"),
        "nparray-object-ascii": (py2_ndarray((3,), py2_dtype(b"O8", b"|", 63), [S(b"cafe"), 1, None]),
                                 "numpy object array ['cafe', 1, None]"),
    }
    latin = {"dict-latin", "datetime", "nparray-f8", "nparray-object"}
    for key, (tree, what) in trees.items():
        for p in (0, 1, 2):
            data = py2_dumps(tree, p)
            name = f"py2-{key}-p{p}"
            w.raw(f"{name}.pkl", g, f"Python 2 pickle, protocol {p}: {what}", data)
            if key in latin:
                for enc in ("latin1", "bytes"):
                    w.raw(f"{name}.{enc}.pkl", g,
                          f"Python 2 pickle, protocol {p}: {what}; pickle.load(f, encoding={enc!r})",
                          data, encoding=enc)
        if key in ("dict-latin", "datetime", "nparray-object"):
            data = py2_dumps(tree, 2)
            w.raw(f"py2-{key}-p2.pandas.pkl", g, f"Python 2 pickle, protocol 2: {what}; pandas.read_pickle",
                  data, loader="pandas")
    for key in ("nparray-object", "nparray-object-ascii"):
        tree, what = trees[key]
        data = py2_npy(py2_dumps(tree, 2), "|O", (3,))
        w.raw(f"py2-{key}.npy", g, f"Python 2 numpy.save of an {what[6:]} (.npy 1.0, pickle protocol 2)",
              data, loader="numpy")
        if key == "nparray-object":
            for enc in ("latin1", "bytes"):
                w.raw(f"py2-{key}.{enc}.npy", g,
                      f"Python 2 numpy.save of an {what[6:]}; numpy.load(f, allow_pickle=True, encoding={enc!r})",
                      data, loader="numpy", encoding=enc)

    # joblib 0.10-0.11 under Python 2: one file, the pickle (protocol 2) with a
    # NumpyArrayWrapper per array, each followed by the array's raw bytes (no alignment
    # padding before joblib 0.12); compress=3 zlib-compresses the whole file.
    def wrapper(shape, dtype):
        return B(NewObj(G("joblib.numpy_pickle", "NumpyArrayWrapper")),
                 {S(b"subclass"): G("numpy", "ndarray"), S(b"shape"): shape, S(b"order"): S(b"C"),
                  S(b"dtype"): dtype, S(b"allow_mmap"): True})

    def joblib010(label):
        # The wrapper's BUILD is followed by the array bytes, then the pickle goes on.
        head = Py2Pickler(2)
        head.out += b"}"
        head.put()
        head.out += b"("
        head.save(S(b"weights"))
        head.save(wrapper((3,), py2_dtype(b"f8", b"<")))
        body = bytes(head.out) + f8
        tail = Py2Pickler(2)
        tail.out = bytearray()
        tail.memo = head.memo
        tail.save(S(b"label"))
        tail.save(S(label))
        tail.out += b"u."
        return body + bytes(tail.out)

    for key, label in (("ascii", b"cafe"), ("latin", b"caf\xe9")):
        data = joblib010(label)
        what = f"{{'weights': float64 array, 'label': {label.decode('latin1')!r}}}"
        w.raw(f"py2-joblib010-{key}.pkl", g, f"joblib 0.10-0.11 dump under Python 2 of {what}", data,
              loader="joblib")
        w.raw(f"py2-joblib010-{key}-z.pkl", g,
              f"joblib 0.10-0.11 dump under Python 2 of {what}, compress=3 (zlib stream)",
              zlib.compress(data, 3), loader="joblib")

    # joblib <= 0.9 under Python 2: the pickle holds an NDArrayWrapper naming a companion
    # .npy file; compress=True wrote a zfile whose ZNDArrayWrapper names a companion zfile of
    # the raw array bytes.
    npy_f8 = py2_npy(f8, "<f8", (3,))
    for key, label in (("ascii", b"cafe"), ("latin", b"caf\xe9")):
        name = f"py2-joblib09-{key}.pkl"
        side = name + "_01.npy"
        nd = B(NewObj(G("joblib.numpy_pickle", "NDArrayWrapper")),
               {S(b"filename"): S(side.encode()), S(b"subclass"): G("numpy", "ndarray"),
                S(b"allow_mmap"): True})
        with open(os.path.join(w.dir, side), "wb") as f:
            f.write(npy_f8)
        w.raw(name, g, f"joblib 0.9 dump under Python 2: NDArrayWrapper + companion {side}, label "
              f"{label.decode('latin1')!r}", py2_dumps({S(b"weights"): nd, S(b"label"): S(label)}, 2),
              loader="joblib")
        zname = f"py2-joblib09-{key}-z.pkl"
        zside = zname + "_01.npy.z"
        znd = B(NewObj(G("joblib.numpy_pickle", "ZNDArrayWrapper")),
                {S(b"filename"): S(zside.encode()),
                 S(b"init_args"): (G("numpy", "ndarray"), (0,), S(b"b")),
                 S(b"state"): (1, (3,), py2_dtype(b"f8", b"<"), False)})
        with open(os.path.join(w.dir, zside), "wb") as f:
            f.write(py2_zfile(f8))
        w.raw(zname, g, f"joblib 0.9 dump under Python 2, compress=True: zfile with a ZNDArrayWrapper + "
              f"companion zfile {zside}, label {label.decode('latin1')!r}",
              py2_zfile(py2_dumps({S(b"weights"): znd, S(b"label"): S(label)}, 2)), loader="joblib")


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--writer", help="writer name (default: venv dir name without 'matrix-')")
    args = ap.parse_args()

    if Point.__module__ != "__main__":
        raise SystemExit("run write_fixtures.py as a script")
    writer = args.writer or os.path.basename(sys.prefix).removeprefix("matrix-")
    w = Writer(os.path.abspath(args.outdir), writer)
    shutil.rmtree(w.dir, ignore_errors=True)
    os.makedirs(w.dir)

    groups = []
    models = None
    local = have("mlkit")  # the localpkg writer writes mlkit objects only (its numpy is current's)
    if writer == "legacy":  # a small set of its own only (see write_legacy)
        write_legacy(w, sklearn_models())
        groups += ["numpy", "sklearn", "joblib"]
    else:
        if have("numpy") and not local:
            write_numpy(w)
            if writer == "old":  # numpy 1.26: names bound through star imports and globals()
                write_numpy_names(w)
            groups.append("numpy")
        if have("sklearn"):
            models = sklearn_models()
            write_sklearn(w, models)
            groups.append("sklearn")
        if have("joblib") and have("numpy"):
            write_joblib(w, models)
            groups.append("joblib")
        if have("pandas"):
            write_pandas(w)
            groups.append("pandas")
        if have("cloudpickle"):
            write_cloudpickle(w)
            groups.append("cloudpickle")
        if local:
            write_mlkit(w)
            groups.append("mlkit")
        else:
            write_main(w)
            groups.append("main")
        if writer == "current":
            write_plain(w)
            groups.append("plain")
            write_python2(w)
            groups.append("python2")
            write_control_names(w)
            groups.append("names")
            write_broken_streams(w)
            groups.append("broken")
            write_trailing(w)
            groups.append("trailing")

    versions = {name: dist_version(name) for name in (
        "numpy", "scipy", "scikit-learn", "pandas", "joblib", "cloudpickle", "mlkit",
        "python-dateutil", "pytz", "tzdata", "threadpoolctl")}
    manifest = {
        "writer": writer,
        "python": sys.version,
        "executable": sys.executable,
        "versions": {k: v for k, v in versions.items() if v is not None},
        "groups": groups,
        "fixtures": sorted(w.entries, key=lambda e: e["file"]),
    }
    with open(os.path.join(w.dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"write_fixtures: {writer}: {len(w.entries)} files in {w.dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
