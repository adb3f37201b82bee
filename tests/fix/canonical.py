"""Canonical JSON dump of a loaded pickle / model file, for checking `pickle-doctor fix`.

Usage (working directory: an empty temp dir):

    PYTHON -I tests/fix/canonical.py LOADER FILE

LOADER is pickle | joblib | pandas | numpy | torch, loaded exactly as the runner of
tests/matrix/load_truth.py does:

    pickle  pickle.load(open(FILE, 'rb'))
    joblib  joblib.load(FILE)
    pandas  pandas.read_pickle(FILE)
    numpy   numpy.load(FILE, allow_pickle=True)   (an .npz becomes a dict of its members)
    torch   torch.load(FILE)

Prints one JSON document (sort_keys, compact) on stdout and exits 0. If loading fails it
prints `ERROR <Type>: <message>` on stderr and exits 3.

The dump is meant to compare an original file loaded in its writer venv with a repaired
copy (module paths renamed) loaded in another venv with other library versions (numpy
1.24 .. 2.x, scikit-learn 1.2 .. 1.9, pandas 2 .. 3, cloudpickle 2 .. 3). Hence:

* Types are named by ``type(obj).__qualname__`` only, never by module.
* Scalars are tagged: {"none": 1}, {"bool": b}, {"int": "<decimal>"}, {"str": s},
  {"bytes": "<hex>"}, {"float": "%.12g" text} ("nan", "inf", "-inf"; -0 -> "0"),
  {"complex": [re, im]}.
* Containers: {"list": [...]}, {"tuple": [...]}, {"set": [...]}, {"frozenset": [...]}
  (set items sorted by their canonical JSON), {"dict": [[k, v], ...]} (sorted by the
  canonical JSON of the key). Subclasses (OrderedDict, namedtuple, ...) add "type".
* Dates and times (datetime.date/time/datetime, pandas Timestamp): {"type", "iso"};
  timedeltas: {"type", "seconds"} (total seconds as a float).
* numpy: arrays {"ndarray": dtype.str ("|O" for object), "shape", "values" (tolist,
  canonicalised)}, structured arrays add "fields" [[name, dtype.str], ...]; a subclass
  adds "type". Scalars {"npscalar": dtype.str, "value"} (dtype.str rather than the class
  name: numpy 2 renamed bool_ to bool). dtype objects {"dtype": str, "fields"}.
  Random: Generator / RandomState / BitGenerator {"random": qualname, "state": bit
  generator state, "next": next 3 of random() / random_sample() drawn from a deepcopy}.
* pandas (only when pandas is already imported): Series / DataFrame / Index / Categorical /
  extension arrays as {"pandas": qualname, "dtype"/"dtypes": str(dtype), "values":
  to_numpy(dtype=object), "index", "columns", "name"...}. Inside pandas values NA, NaT,
  None and float nan are all "NA" and timestamps their isoformat string. A categorical
  dtype is {"category": category values, "ordered": bool} instead of "category"; a
  DatetimeIndex adds "freq" (freqstr) and "tz" (str). No dtype name is normalised: a
  pickle keeps its dtypes when loaded by another pandas (pandas 3's own "str" and
  "datetime64[us]" columns only come from pickles written by pandas 3).
* scikit-learn-like estimators (instances with callable get_params and fit):
  {"estimator": qualname, "params": the public attributes of vars(obj) that do not end
  in "_" (scikit-learn's hyper-parameters; get_params() depends on the running release),
  "outputs": {method: result}}
  for predict, predict_proba, decision_function, transform, score_samples, called on
  X = np.linspace(-2, 2, 5 * n).reshape(5, n) with n = n_features_in_ (no outputs
  without n_features_in_). A method that raises gives {"raises": exception qualname}.
* Enum members: {"enum": qualname, "name", "value"}.
* Functions, classes, methods: {"ref": qualname}; modules: {"module": last name part}.
* Other objects with a __dict__: {"object": qualname, "dict": vars(obj)}; else
  {"object": qualname, "reduce": [args, state, listitems, dictitems]} from
  __reduce_ex__(4); failing that {"repr": repr with " at 0x..." stripped}.
* A value inside itself: {"cycle": qualname}. Anything that raises while being dumped:
  {"error": exception qualname, "type": qualname}.
"""

if __name__ == "__main__":
    # Keep __main__ as bare as the `-c` module the load-truth runner runs in: nothing the
    # script defines must be reachable as __main__.<name> by a pickle.
    __import__("runpy").run_path(__file__, run_name="__pd_canonical__")
    raise SystemExit(0)

import contextlib
import copy
import datetime
import enum
import json
import math
import re
import sys
import types
import warnings

_ESTIMATOR_METHODS = ("predict", "predict_proba", "decision_function", "transform", "score_samples")
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def _qual(t):
    return getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or repr(t)


def _tname(obj):
    return _qual(type(obj))


def _float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return "%.12g" % x


def _key(item):
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


def _load(loader, path):
    if loader == "pickle":
        import pickle

        with open(path, "rb") as f:
            return pickle.load(f)
    if loader == "joblib":
        import joblib

        return joblib.load(path)
    if loader == "pandas":
        import pandas

        return pandas.read_pickle(path)
    if loader == "numpy":
        import numpy

        obj = numpy.load(path, allow_pickle=True)
        if hasattr(obj, "files"):  # NpzFile: members are unpickled on access
            obj = {k: obj[k] for k in obj.files}
        return obj
    if loader == "torch":
        import torch

        return torch.load(path)
    raise ValueError("unknown loader %r" % (loader,))


class _Canon:
    def __init__(self):
        self.active = set()  # ids of the objects being dumped (cycle guard)
        self.np = sys.modules.get("numpy")
        self.pd = sys.modules.get("pandas")

    # -- entry ---------------------------------------------------------------
    def __call__(self, obj):
        t = type(obj)
        # Immutable scalars first: no cycle tracking needed.
        if obj is None:
            return {"none": 1}
        if t is bool:
            return {"bool": obj}
        if t is int:
            return {"int": str(obj)}
        if t is float:
            return {"float": _float(obj)}
        if t is str:
            return {"str": obj}
        if t is bytes:
            return {"bytes": obj.hex()}
        if t is complex:
            return {"complex": [_float(obj.real), _float(obj.imag)]}
        oid = id(obj)
        if oid in self.active:
            return {"cycle": _tname(obj)}
        self.active.add(oid)
        try:
            return self._dispatch(obj)
        except RecursionError:
            raise
        except Exception as e:  # noqa: BLE001 - a dump must never die on one odd value
            return {"error": _tname(e), "type": _tname(obj)}
        finally:
            self.active.discard(oid)

    # -- dispatch ------------------------------------------------------------
    def _dispatch(self, obj):
        t = type(obj)
        if t in (list, tuple, set, frozenset, dict):
            return self._container(obj, None)
        if isinstance(obj, type):
            return {"ref": _qual(obj)}
        if isinstance(obj, types.ModuleType):
            return {"module": obj.__name__.rsplit(".", 1)[-1]}
        if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                            types.BuiltinMethodType, types.MethodWrapperType,
                            types.WrapperDescriptorType, types.MethodDescriptorType,
                            types.ClassMethodDescriptorType, types.LambdaType)):
            return {"ref": _qual(obj)}
        if isinstance(obj, bytearray):
            return {"bytearray": bytes(obj).hex()}
        np = self.np
        if np is not None:
            r = self._numpy(obj)
            if r is not None:
                return r
        pd = self.pd
        if pd is not None:
            r = self._pandas(obj)
            if r is not None:
                return r
        if (callable(getattr(obj, "get_params", None)) and callable(getattr(obj, "fit", None))):
            return self._estimator(obj)
        if isinstance(obj, (list, tuple, set, frozenset, dict)):
            return self._container(obj, _tname(obj))
        if isinstance(obj, enum.Enum):
            return {"enum": _tname(obj), "name": obj.name, "value": self(obj.value)}
        if isinstance(obj, (datetime.date, datetime.time)):
            return {"type": _tname(obj), "iso": obj.isoformat()}
        if isinstance(obj, datetime.timedelta):
            return {"type": _tname(obj), "seconds": _float(obj.total_seconds())}
        if isinstance(obj, int):  # int subclasses (IntEnum, ...)
            return {"type": _tname(obj), "int": str(int(obj))}
        if isinstance(obj, float):
            return {"type": _tname(obj), "float": _float(obj)}
        if isinstance(obj, str):
            return {"type": _tname(obj), "str": str(obj)}
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict):
            return {"object": _tname(obj), "dict": self._dict_items(d)}
        return self._reduce(obj)

    # -- containers ----------------------------------------------------------
    def _dict_items(self, d):
        items = [[self(k), self(v)] for k, v in list(d.items())]
        items.sort(key=lambda kv: _key(kv[0]))
        return items

    def _container(self, obj, typename):
        if isinstance(obj, dict):
            out = {"dict": self._dict_items(obj)}
        elif isinstance(obj, (set, frozenset)):
            items = sorted((self(i) for i in obj), key=_key)
            out = {"frozenset" if isinstance(obj, frozenset) else "set": items}
        elif isinstance(obj, tuple):
            out = {"tuple": [self(i) for i in obj]}
        else:
            out = {"list": [self(i) for i in obj]}
        if typename is not None:
            out["type"] = typename
            d = getattr(obj, "__dict__", None)
            if d:
                out["attrs"] = self._dict_items(d)
        return out

    # -- numpy ---------------------------------------------------------------
    def _numpy(self, obj):
        np = self.np
        if isinstance(obj, np.ndarray):
            out = {"ndarray": obj.dtype.str, "shape": list(obj.shape)}
            if obj.dtype.fields is not None:
                out["fields"] = [[n, obj.dtype.fields[n][0].str] for n in obj.dtype.names]
            if type(obj) is not np.ndarray:
                out["type"] = _tname(obj)
            out["values"] = self(obj.tolist())
            return out
        if isinstance(obj, np.generic):
            return {"npscalar": obj.dtype.str, "value": self(obj.item())}
        if isinstance(obj, np.dtype):
            out = {"dtype": obj.str}
            if obj.fields is not None:
                out["fields"] = [[n, obj.fields[n][0].str] for n in obj.names]
            return out
        rnd = getattr(np, "random", None)
        if rnd is None:
            return None
        if isinstance(obj, rnd.Generator):
            state = obj.bit_generator.state
            nxt = copy.deepcopy(obj).random(3)
        elif isinstance(obj, rnd.RandomState):
            state = obj.get_state(legacy=False)
            nxt = copy.deepcopy(obj).random_sample(3)
        elif isinstance(obj, rnd.BitGenerator):
            state = obj.state
            nxt = rnd.Generator(copy.deepcopy(obj)).random(3)
        else:
            return None
        return {"random": _tname(obj), "state": self(state), "next": self(nxt)}

    # -- pandas --------------------------------------------------------------
    def _pd_value(self, v):
        pd = self.pd
        if v is None or v is pd.NA or v is pd.NaT:
            return "NA"
        if isinstance(v, float) and v != v:
            return "NA"
        if self.np is not None and isinstance(v, self.np.generic):
            if isinstance(v, (self.np.floating, self.np.datetime64, self.np.timedelta64)) and pd.isna(v):
                return "NA"
        if isinstance(v, (datetime.date, datetime.time)):
            return v.isoformat()
        if isinstance(v, datetime.timedelta):
            return str(pd.Timedelta(v)) if hasattr(pd, "Timedelta") else str(v)
        return self(v)

    def _pd_values(self, values):
        return [self._pd_value(v) for v in values]

    def _pd_dtype(self, dtype):
        cats = getattr(dtype, "categories", None)
        if cats is not None and str(dtype) == "category":
            return {"category": self._pd_values(cats.to_numpy(dtype=object).tolist()),
                    "ordered": bool(dtype.ordered)}
        return str(dtype)

    def _pandas(self, obj):
        pd = self.pd
        if isinstance(obj, pd.DataFrame):
            cols = []
            for i in range(obj.shape[1]):
                col = obj.iloc[:, i]
                cols.append(self._pd_values(col.to_numpy(dtype=object).tolist()))
            return {"pandas": _tname(obj),
                    "columns": self(obj.columns),
                    "dtypes": [self._pd_dtype(d) for d in obj.dtypes.tolist()],
                    "values": cols,
                    "index": self(obj.index)}
        if isinstance(obj, pd.Series):
            return {"pandas": _tname(obj), "name": self(obj.name),
                    "dtype": self._pd_dtype(obj.dtype),
                    "values": self._pd_values(obj.to_numpy(dtype=object).tolist()),
                    "index": self(obj.index)}
        if isinstance(obj, pd.Index):
            out = {"pandas": _tname(obj), "name": self(obj.name),
                   "dtype": self._pd_dtype(obj.dtype),
                   "values": self._pd_values(obj.to_numpy(dtype=object).tolist())}
            if getattr(obj, "names", None) is not None and len(obj.names) > 1:
                out["names"] = [self(n) for n in obj.names]
            if isinstance(obj, pd.DatetimeIndex):
                out["freq"] = obj.freqstr
                out["tz"] = None if obj.tz is None else str(obj.tz)
            return out
        if isinstance(obj, pd.Categorical):
            return {"pandas": _tname(obj), "dtype": self._pd_dtype(obj.dtype),
                    "values": self._pd_values(obj.to_numpy(dtype=object).tolist())}
        ext = getattr(getattr(pd, "api", None), "extensions", None)
        if ext is not None and isinstance(obj, ext.ExtensionArray):
            return {"pandas": _tname(obj), "dtype": self._pd_dtype(obj.dtype),
                    "values": self._pd_values(obj.to_numpy(dtype=object).tolist())}
        if obj is pd.NA or obj is pd.NaT:
            return {"pandas": _tname(obj)}
        return None

    # -- estimators ----------------------------------------------------------
    def _params(self, obj):
        """The estimator's hyper-parameters, as stored in the object.

        scikit-learn keeps every __init__ parameter as a public attribute of the same name
        (fitted state ends in `_`, private state starts with `_`), so these are the public
        entries of vars(obj). get_params() itself is not used: it walks the *running*
        version's __init__ signature, so releases that add a parameter (monotonic_cst,
        transform_input, ...) make it raise AttributeError on older pickles, and releases
        that add, drop (LogisticRegression.multi_class) or re-default parameters change its
        result for the very same stored object.
        """
        d = getattr(obj, "__dict__", None)
        if not isinstance(d, dict):
            return obj.get_params(deep=False)
        return {k: v for k, v in d.items()
                if isinstance(k, str) and not k.startswith("_") and not k.endswith("_")}

    def _estimator(self, obj):
        try:
            params = self(self._params(obj))
        except Exception as e:  # noqa: BLE001
            params = {"raises": _tname(e)}
        out = {"estimator": _tname(obj), "params": params}
        n = getattr(obj, "n_features_in_", None)
        if n is None:
            return out
        try:
            n = int(n)
            import numpy as np
        except Exception:  # noqa: BLE001
            return out
        X = np.linspace(-2, 2, 5 * n).reshape(5, n)
        outputs = {}
        for name in _ESTIMATOR_METHODS:
            try:
                method = getattr(obj, name)
            except Exception:  # noqa: BLE001 - available_if hides methods via AttributeError
                continue
            if not callable(method):
                continue
            try:
                outputs[name] = self(method(X.copy()))
            except Exception as e:  # noqa: BLE001
                outputs[name] = {"raises": _tname(e)}
        out["outputs"] = outputs
        return out

    # -- everything else -----------------------------------------------------
    def _reduce(self, obj):
        try:
            rv = obj.__reduce_ex__(4)
        except Exception:  # noqa: BLE001
            rv = None
        if isinstance(rv, str):
            return {"ref": rv.rsplit(".", 1)[-1]}
        if isinstance(rv, tuple) and len(rv) >= 2:
            parts = list(rv[1:]) + [None] * (5 - len(rv))
            args, state, listitems, dictitems = parts[:4]
            if listitems is not None:
                listitems = list(listitems)
            if dictitems is not None:
                dictitems = dict(dictitems)
            return {"object": _tname(obj),
                    "reduce": [self(args), self(state), self(listitems), self(dictitems)]}
        try:
            text = repr(obj)
        except Exception as e:  # noqa: BLE001
            text = "<repr raised %s>" % _tname(e)
        return {"object": _tname(obj), "repr": _ADDR.sub("", text)}


def _bare_main():
    """Make __main__ look like the `-c` module of the load-truth runner.

    Pickles naming __main__.X then fail with the runner's exact message
    (`Can't get attribute 'X' on <module '__main__' (built-in)>`).
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__name__", None) != "__main__":
        return
    import importlib.machinery

    for name in ("__file__", "__cached__"):
        main.__dict__.pop(name, None)
    main.__doc__ = None
    main.__loader__ = importlib.machinery.BuiltinImporter


def _main(argv):
    # Options (after LOADER FILE):
    #   --path DIR          prepend DIR to sys.path (a module the repaired file now names)
    #   --main-module NAME  import NAME and copy its public names into __main__ first, the
    #                       way the training script's own __main__ held them when it dumped
    extra, main_module = [], None
    rest = list(argv[2:])
    while rest:
        opt = rest.pop(0)
        if opt == "--path" and rest:
            extra.append(rest.pop(0))
        elif opt == "--main-module" and rest:
            main_module = rest.pop(0)
        else:
            sys.stderr.write("unknown option %r\n" % opt)
            return 2
    if len(argv) < 2:
        sys.stderr.write("usage: canonical.py LOADER FILE [--path DIR] [--main-module NAME]\n")
        return 2
    loader, path = argv[:2]
    _bare_main()
    sys.path[:0] = extra
    if main_module:
        import importlib

        mod = importlib.import_module(main_module)
        main = sys.modules["__main__"]
        for name, value in vars(mod).items():
            if not name.startswith("__"):
                setattr(main, name, value)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    with contextlib.redirect_stdout(sys.stderr):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                obj = _load(loader, path)
            except Exception as e:  # noqa: BLE001
                msg = str(e)
                sys.stderr.write("ERROR %s: %s\n" % (_tname(e), msg) if msg else "ERROR %s\n" % _tname(e))
                return 3
            dump = _Canon()(obj)
    text = json.dumps(dump, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__pd_canonical__":
    raise SystemExit(_main(sys.argv[1:]))
