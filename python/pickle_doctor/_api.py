"""The functions of pickle_doctor: thin, typed wrappers over the native core."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from . import _errors, _native
from ._reports import CheckReport, Environment, ExportReport, FixReport, ScanReport

__all__ = ["check", "dis", "export", "fix", "main", "requirements", "scan", "scan_paths", "show"]

Source = Union[str, "os.PathLike[str]", "os.PathLike[bytes]", bytes, bytearray, memoryview]
PathArg = Union[str, "os.PathLike[str]", "os.PathLike[bytes]"]
PROGRAM = "pickle-doctor"


def _path(p: PathArg) -> str:
    if isinstance(p, str):
        return p
    if isinstance(p, os.PathLike):
        return os.fsdecode(os.fspath(p))
    raise TypeError(f"expected a path (str or os.PathLike), got {type(p).__name__}")


def _source(source: Source) -> str | bytes:
    """A path (str) or the file's bytes, as the native functions take them."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return _path(source)
    raise TypeError(f"source must be a path (str or os.PathLike) or bytes, got {type(source).__name__}")


def _opt_path(p: PathArg | None) -> str | None:
    return None if p is None else _path(p)


def _paths(paths: PathArg | Iterable[PathArg] | None) -> list[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        return [_path(paths)]
    return [_path(p) for p in paths]


def _policy(policy: PathArg) -> str:
    return _path(policy)


def scan(source: Source, *, policy: PathArg = "default") -> ScanReport:
    """Security verdict for one file (path or bytes), without running it.

    ``policy`` is "default", "strict" or the path of a policy TOML file. Raises ``Error`` when
    the file cannot be read; a malformed file gets the verdict "error" (or "unsafe").
    """
    text = _errors.call(_native.scan, _source(source), _policy(policy))
    return ScanReport.from_dict(json.loads(text))


def scan_paths(
    paths: PathArg | Iterable[PathArg],
    *,
    policy: PathArg = "default",
    jobs: int | None = None,
) -> list[ScanReport]:
    """``pickle-doctor scan PATH...``: files and directories, walked exactly as the CLI walks them
    (in parallel with ``jobs`` threads, default: one per core). Unreadable paths become reports
    with the verdict "error"; files met while walking that are not models are left out."""
    if jobs is not None and jobs < 1:
        raise _errors.UsageError(f"jobs must be at least 1, got {jobs}", "usage")
    text = _errors.call(_native.scan_paths, _paths(paths), _policy(policy), jobs)
    return [ScanReport.from_dict(f) for f in json.loads(text)["files"]]


def check(
    source: Source,
    *,
    python: PathArg | None = None,
    site_packages: PathArg | Iterable[PathArg] | None = None,
    python_version: str | None = None,
    main: PathArg | None = None,
    loader: str | None = None,
    encoding: str | None = None,
    errors: str | None = None,
) -> CheckReport:
    """Predicts whether the file loads in the target environment, without loading it.

    The target is ``python`` (an interpreter to probe), or ``site_packages`` directories with
    ``python_version`` ("3.11"), or by default the ``python3`` on PATH. ``main`` is the script
    that defines ``__main__``'s classes; ``loader`` forces the loader ("pickle", "joblib",
    "torch", ...). ``encoding`` ("ASCII", "latin1", "bytes") and ``errors`` ("strict", ...) are
    ``pickle.load``'s, for Python 2 strs (docs/python2-strings.md).
    """
    text = _errors.call(
        _native.check,
        _source(source),
        _opt_path(python),
        _paths(site_packages),
        python_version,
        _opt_path(main),
        loader,
        encoding,
        errors,
    )
    doc = json.loads(text)
    return CheckReport.from_dict(doc["files"][0], Environment.from_dict(doc["environment"]))


def requirements(
    source: Source,
    *,
    python: PathArg | None = None,
    site_packages: PathArg | Iterable[PathArg] | None = None,
    python_version: str | None = None,
) -> list[str]:
    """The distributions needed to load the file: "name==version" lines ("name" alone when the
    version is unknown; "numpy>=2" when only a lower bound is known)."""
    text = _errors.call(
        _native.requirements,
        _source(source),
        _opt_path(python),
        _paths(site_packages),
        python_version,
    )
    return [r["dist"] + (r["spec"] or "") for r in json.loads(text)]


def _maps(maps: Mapping[str, str] | Iterable[str]) -> list[str]:
    if isinstance(maps, Mapping):
        return [f"{k}={v}" for k, v in maps.items()]
    if isinstance(maps, str):
        return [maps]
    return [str(m) for m in maps]


def fix(
    source: PathArg,
    output: PathArg | None,
    *,
    python: PathArg | None = None,
    site_packages: PathArg | Iterable[PathArg] | None = None,
    python_version: str | None = None,
    main: PathArg | None = None,
    loader: str | None = None,
    encoding: str | None = None,
    errors: str | None = None,
    maps: Mapping[str, str] | Iterable[str] = (),
    dry_run: bool = False,
    force: bool = False,
) -> FixReport:
    """Repairs the file for the target and writes ``output`` only if the result is predicted to
    load (``force=True`` writes anyway; ``dry_run=True`` writes nothing, ``output`` may be None).

    ``maps`` are the CLI's ``--map`` rules: "old.module=new.module",
    "old.module:Name=new.module:Name", or a mapping {from: to}. A refusal is not an exception:
    ``report.refusal`` says why and ``report.output`` is None.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError("fix needs the path of the file, not its bytes")
    if output is None and not dry_run:
        raise _errors.UsageError("fix needs an output path (or dry_run=True)", "usage")
    text = _errors.call(
        _native.fix,
        _path(source),
        _opt_path(output),
        _opt_path(python),
        _paths(site_packages),
        python_version,
        _maps(maps),
        bool(dry_run),
        bool(force),
        _opt_path(main),
        loader,
        encoding,
        errors,
    )
    return FixReport.from_dict(json.loads(text))


def export(
    source: PathArg,
    output: PathArg | None,
    *,
    to: str = "safetensors",
    duplicate_shared: bool = False,
    force: bool = False,
    float64: bool = False,
    target_opset: int | None = None,
) -> ExportReport:
    """Writes the tensors of a torch checkpoint, or the arrays of an npy/npz/joblib file, to
    ``output`` as safetensors, bit for bit, without running the pickle (``output=None``: plan
    only). Tensors that cannot be exported (quantized, sparse, complex, big-endian, missing
    storage) are listed in ``report.refused`` and then nothing is written unless ``force``.

    ``to="onnx"`` writes a pickled or joblib-dumped scikit-learn model (estimator, Pipeline,
    ColumnTransformer) as an ONNX graph instead: input ``float_input`` (double with
    ``float64``), outputs ``label``/``probabilities`` or ``variable``; ``target_opset`` sets the
    default domain's opset (17). An unsupported step is in ``report.refused`` by its path and
    nothing is written.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError("export needs the path of the file, not its bytes")
    text = _errors.call(
        _native.export,
        _path(source),
        _opt_path(output),
        to,
        bool(duplicate_shared),
        bool(force),
        bool(float64),
        None if target_opset is None else int(target_opset),
    )
    return ExportReport.from_dict(json.loads(text))


def show(source: Source) -> dict[str, Any]:
    """The value graph as JSON (``pickle-doctor show --json``), see docs/show-json.md."""
    result: dict[str, Any] = json.loads(_errors.call(_native.show, _source(source)))
    return result


def dis(source: Source) -> str:
    """The listing ``python -m pickletools`` prints, without running anything."""
    return _errors.call(_native.dis, _source(source))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI in this process and returns its exit code.

    ``argv`` is like ``sys.argv`` (the default): ``argv[0]`` is the program name and is replaced
    by "pickle-doctor". Ctrl-C ends the process the way it ends the native binary.
    """
    args = list(sys.argv if argv is None else argv)
    native_argv = [PROGRAM, *(str(a) for a in args[1:])]
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    previous: Any = None
    restore = False
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
        restore = previous is not None  # None: a handler installed from C, which cannot be restored
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        return _errors.call(_native.main, native_argv)
    except BrokenPipeError:
        return _broken_pipe()
    except _errors.InputError as exc:
        if "Broken pipe" in str(exc):
            return _broken_pipe()
        raise
    finally:
        if restore:
            signal.signal(signal.SIGINT, previous)


def _broken_pipe() -> int:
    """The reader of stdout went away (``pickle-doctor dis x | head``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 1
