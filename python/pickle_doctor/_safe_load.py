"""Safe load: one static scan of the bytes, then a real load of the same bytes that may only
reach the globals the scan approved."""

from __future__ import annotations

import _compat_pickle
import copyreg
import importlib
import inspect
import io
import json
import os
import pickle
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Union

from . import _errors, _native
from ._errors import Error, UnsafePickleError, UsageError
from ._reports import ScanReport

__all__ = ["LOADERS", "load"]

#: The values ``load(..., loader=...)`` accepts.
LOADERS = ("pickle", "joblib", "numpy", "torch")

LoadSource = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes, bytearray, memoryview, IO[bytes]]
Pair = tuple[str, str]

# joblib < 0.10 kept arrays in sibling files that its loader opens with np.load(allow_pickle=True).
_LEGACY_JOBLIB = frozenset(
    (module, name)
    for module in ("joblib.numpy_pickle", "joblib.numpy_pickle_compat", "sklearn.externals.joblib.numpy_pickle")
    for name in ("NDArrayWrapper", "ZNDArrayWrapper")
)


def load(source: LoadSource, *, policy: str | os.PathLike[str] = "default", loader: str | None = None) -> Any:
    """Loads a pickle, joblib, numpy or torch file only if nothing in it can run code.

    The bytes are read once and scanned (``scan``'s rules and ``policy``). An "unsafe" verdict
    raises ``UnsafePickleError`` and nothing runs; an "error" verdict raises ``Error``. Otherwise
    the same bytes are loaded by the file's loader (or ``loader``: "pickle", "joblib", "numpy",
    "torch") whose ``find_class`` only returns the globals the scan approved, after
    ``_compat_pickle``'s renaming exactly as the unpickler applies it.
    """
    if loader is not None and loader not in LOADERS:
        raise UsageError(f"unknown loader {loader!r}: use one of {', '.join(LOADERS)}", "usage")
    data, where = _read_once(source)
    policy_arg = os.fsdecode(os.fspath(policy)) if isinstance(policy, os.PathLike) else policy
    plan = json.loads(_errors.call(_native.load_plan, data, policy_arg))
    report = ScanReport.from_dict(plan["report"])
    if report.verdict == "unsafe":
        raise UnsafePickleError(_unsafe_message(where, report), report.findings)
    if report.verdict != "clean":
        raise _errors.InputError(f"{where}: {report.error or 'cannot be read'}", "input")
    approved = frozenset((g["mapped_module"], g["mapped_name"]) for g in plan["globals"])
    fmt: str = plan["format"]
    kind = loader or _loader_for(fmt, where)
    if kind in ("pickle", "joblib", "numpy"):
        if plan.get("persistent_ids"):
            raise Error(
                f"{where}: the pickle uses persistent IDs, which only the library that wrote it "
                "can resolve (torch.load for torch files); safe load does not",
            )
        if plan.get("out_of_band_buffers"):
            raise Error(f"{where}: the pickle refers to out-of-band buffers (protocol 5), which a file cannot supply")
        legacy = approved & _LEGACY_JOBLIB
        if legacy:
            raise Error(
                f"{where}: written by joblib < 0.10 (arrays in sibling files, "
                f"{'.'.join(sorted(legacy)[0])}); safe load does not support it: re-save it with a current joblib"
            )
    if kind == "pickle":
        return _RestrictedUnpickler(io.BytesIO(data), approved, where).load()
    if kind == "joblib":
        return _load_joblib(data, approved, where)
    if kind == "numpy":
        return _load_numpy(data, approved, where)
    return _load_torch(data, fmt, approved, where)


def _read_once(source: LoadSource) -> tuple[bytes, str]:
    """The file's bytes, read once, and how to name it in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        shown = os.fsdecode(path)
        try:
            with open(path, "rb") as f:
                return f.read(), shown
        except OSError as exc:
            raise _errors.InputError(f"{shown}: {exc.strerror or exc}", "io") from None
    read = getattr(source, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("load needs a binary file object (opened with 'rb')")
        return bytes(data), str(getattr(source, "name", "<file>"))
    raise TypeError(f"source must be a path, bytes or a binary file object, got {type(source).__name__}")


def _unsafe_message(where: str, report: ScanReport) -> str:
    shown = []
    for f in report.findings[:3]:
        what = f" {f.global_name}" if f.global_name else ""
        shown.append(f"{f.code}{what} (offset {f.offset})")
    more = len(report.findings) - len(shown)
    tail = f" and {more} more" if more > 0 else ""
    return f"{where}: refused to load: {', '.join(shown) or 'unsafe'}{tail}"


def _loader_for(fmt: str, where: str) -> str:
    if fmt == "pickle":
        return "pickle"
    if fmt == "joblib":
        return "joblib"
    if fmt in ("npy", "npz"):
        return "numpy"
    if fmt == "torchscript":
        raise Error(
            f"{where}: a TorchScript archive holds code (torch.jit.load runs it); safe load does not load TorchScript"
        )
    if fmt.startswith("torch"):
        return "torch"
    raise Error(f"{where}: safe load reads pickle, joblib, numpy and torch files; this is a {fmt} file")


def _renamed(module: str, name: str) -> Pair:
    """(module, name) after _compat_pickle, as pickle renames it when the protocol is < 3."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        pair: Pair = _compat_pickle.NAME_MAPPING[(module, name)]
        return pair
    if module in _compat_pickle.IMPORT_MAPPING:
        return _compat_pickle.IMPORT_MAPPING[module], name
    return module, name


def _resolve_unrenamed(module: str, name: str) -> Any:
    """What ``find_class`` returns for a Python 2 name when the protocol is >= 3 (no renaming)."""
    sys.audit("pickle.find_class", module, name)
    __import__(module, level=0)
    obj = sys.modules[module]
    for part in name.split("."):
        if part == "<locals>":
            raise AttributeError(f"Can't get local attribute {name!r} on {obj!r}")
        obj = getattr(obj, part)
    return obj


class _Restricted:
    """``find_class`` that returns only the globals the scan approved.

    The scan approves pairs after ``_compat_pickle``'s renaming, which pickle applies only when the
    protocol is < 3; the C unpickler does not expose its protocol. So a name that renaming leaves
    alone must be approved as is, and a Python 2 name (``__builtin__``, ``copy_reg``, ...) is
    resolved explicitly to the approved pair: renamed when the scan approved the renamed pair,
    as is when it approved the name unrenamed (protocol >= 3). Either way the unpickler can only
    reach an approved pair, whatever its protocol."""

    _approved: frozenset[Pair] = frozenset()
    _where: str = "<bytes>"

    def find_class(self, module: str, name: str) -> Any:
        if not isinstance(module, str) or not isinstance(name, str):
            raise UnsafePickleError(f"{self._where}: refused a global whose name is not a string")
        pair = (module, name)
        renamed = _renamed(module, name)
        if renamed == pair:
            if pair in self._approved:
                return super().find_class(module, name)  # type: ignore[misc]
        else:
            # Renaming the renamed pair again must change nothing (it does not for any pair
            # models use; anydbm/whichdb -> dbm -> dbm.ndbm would): then pickle resolves it as given.
            if renamed in self._approved and _renamed(*renamed) == renamed:
                return super().find_class(*renamed)  # type: ignore[misc]
            if pair in self._approved:
                return _resolve_unrenamed(module, name)
        shown = f"{module}.{name}" + ("" if renamed == pair else f" (= {renamed[0]}.{renamed[1]})")
        raise UnsafePickleError(
            f"{self._where}: refused to load: the pickle reaches {shown}, which the scan did not approve"
        )

    def get_extension(self, code: int) -> None:
        # The pure-Python unpickler's extension cache would hand out an object without calling
        # find_class. (The scan refuses every extension code, PD104, before any loader runs.)
        key = copyreg._inverted_registry.get(code)  # type: ignore[attr-defined]
        if not key:
            raise UnsafePickleError(f"{self._where}: refused to load: unregistered extension code {code}")
        self.append(self.find_class(*key))  # type: ignore[attr-defined]


class _RestrictedUnpickler(_Restricted, pickle.Unpickler):
    """The C unpickler (what ``pickle.load`` uses), restricted."""

    def __init__(self, file: IO[bytes], approved: frozenset[Pair], where: str) -> None:
        super().__init__(file)
        self._approved = approved
        self._where = where


class _RestrictedPyUnpickler(_Restricted, pickle._Unpickler):  # type: ignore[name-defined,misc]
    """The pure-Python unpickler, restricted (joblib's nested pickles use it)."""

    def __init__(self, file: IO[bytes], approved: frozenset[Pair], where: str) -> None:
        super().__init__(file)
        self._approved = approved
        self._where = where


def _require(module: str, what: str, dist: str | None = None) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        dist = dist or module
        raise Error(f"safe load of a {what} file needs {dist}: pip install {dist}") from None


# --- joblib ----------------------------------------------------------------------------------


def _load_joblib(data: bytes, approved: frozenset[Pair], where: str) -> Any:
    _require("joblib", "joblib")
    from joblib import numpy_pickle_utils

    fobj = io.BytesIO(data)
    if numpy_pickle_utils._detect_compressor(fobj) == "compat":
        raise Error(
            f"{where}: written by joblib < 0.10 (a 'ZF' file); safe load does not support it: "
            "re-save it with a current joblib"
        )
    fobj.seek(0)
    cls = _joblib_unpickler_class()
    with _joblib_stream(fobj) as stream:
        u = cls.create(stream, approved, where)
        return u.load()


@contextmanager
def _joblib_stream(fobj: IO[bytes]) -> Iterator[IO[bytes]]:
    """joblib's decompressing stream over fobj (the helper's name changed across versions)."""
    from joblib import numpy_pickle_utils as u

    if hasattr(u, "_validate_fileobject_and_memmap"):
        with u._validate_fileobject_and_memmap(fobj, "<bytes>", None) as (stream, _):
            yield stream
    else:  # joblib < 1.5
        with u._read_fileobject(fobj, "<bytes>", None) as stream:
            yield stream


_joblib_class: Any = None


def _joblib_unpickler_class() -> Any:
    global _joblib_class
    if _joblib_class is not None:
        return _joblib_class
    from joblib import numpy_pickle

    base = numpy_pickle.NumpyUnpickler
    takes_byte_order = "ensure_native_byte_order" in inspect.signature(base.__init__).parameters

    class RestrictedNumpyUnpickler(_Restricted, base):  # type: ignore[misc,valid-type]
        dispatch = base.dispatch.copy()

        @classmethod
        def create(cls, stream: IO[bytes], approved: frozenset[Pair], where: str) -> Any:
            if takes_byte_order:
                u = cls("<bytes>", stream, True, mmap_mode=None)
            else:
                u = cls("<bytes>", stream, mmap_mode=None)
            u._approved = approved
            u._where = where
            return u

        def load_build(self) -> None:
            # joblib's BUILD, with the nested pickle of object arrays read by a restricted
            # unpickler whatever the joblib version, and legacy wrappers refused.
            pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]
            top = self.stack[-1]
            if type(top).__name__ in ("NDArrayWrapper", "ZNDArrayWrapper"):
                raise Error(f"{self._where}: joblib < 0.10 array wrappers (sibling files) are not supported")
            if not isinstance(top, numpy_pickle.NumpyArrayWrapper):
                return
            if self.np is None:
                raise Error("safe load of a joblib file with arrays needs numpy: pip install numpy")
            wrapper = self.stack.pop()
            if wrapper.dtype.hasobject:
                inner = _RestrictedPyUnpickler(self.file_handle, self._approved, self._where)
                inner.find_class = self.find_class  # type: ignore[method-assign]
                array = inner.load()
            elif takes_byte_order:
                array = wrapper.read(self, self.ensure_native_byte_order)
            else:
                array = wrapper.read(self)
            self.stack.append(array)

        dispatch[pickle.BUILD[0]] = load_build

    _joblib_class = RestrictedNumpyUnpickler
    return _joblib_class


# --- numpy -----------------------------------------------------------------------------------


def _load_numpy(data: bytes, approved: frozenset[Pair], where: str) -> Any:
    _require("numpy", "numpy")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _load_npz(data, approved, where)
    return _read_npy(io.BytesIO(data), approved, where, len(data))


def _load_npz(data: bytes, approved: frozenset[Pair], where: str) -> dict[str, Any]:
    """What ``dict(np.load(f, allow_pickle=True))`` returns, read with restricted unpicklers."""
    out: dict[str, Any] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.namelist():
            key = member[:-4] if member.endswith(".npy") else member
            raw = zf.read(member)
            if raw[:6] == b"\x93NUMPY":
                out[key] = _read_npy(io.BytesIO(raw), approved, f"{where}:{member}", len(raw))
            else:
                out[key] = raw
    return out


def _npformat() -> Any:
    """numpy's npy reader module (numpy 2 keeps the private helpers in numpy.lib._format_impl)."""
    try:
        from numpy.lib import _format_impl as impl  # numpy >= 2

        return impl
    except ImportError:
        from numpy.lib import format as npformat

        return npformat


def _read_npy(fp: IO[bytes], approved: frozenset[Pair], where: str, size: int) -> Any:
    npformat = _npformat()

    start = fp.tell()
    version = npformat.read_magic(fp)
    limit = max(size, 10000)
    try:
        _, _, dtype = npformat._read_array_header(fp, version, max_header_size=limit)
    except TypeError:  # numpy < 1.24: no max_header_size
        _, _, dtype = npformat._read_array_header(fp, version)
    if dtype.hasobject:
        # numpy's read_array would call pickle.load on the rest of the stream.
        return _RestrictedUnpickler(fp, approved, where).load()
    fp.seek(start)
    try:
        return npformat.read_array(fp, allow_pickle=False, max_header_size=limit)
    except TypeError:
        fp.seek(start)
        return npformat.read_array(fp, allow_pickle=False)


# --- torch -----------------------------------------------------------------------------------


def _load_torch(data: bytes, fmt: str, approved: frozenset[Pair], where: str) -> Any:
    torch = _require("torch", "torch")
    resolver = _RestrictedPyUnpickler(io.BytesIO(b""), approved, where)
    resolver.proto = 4  # exact names (no renaming), dotted names allowed, as torch reads them
    extra: list[Any] = []
    for module, name in sorted(approved):
        try:
            obj = resolver.find_class(module, name)
        except (ImportError, AttributeError):
            continue  # torch reports the missing global in its own words
        extra.append((obj, f"{module}.{name}"))
    with torch.serialization.safe_globals(extra):
        return torch.load(io.BytesIO(data), weights_only=True)
