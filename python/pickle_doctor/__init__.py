"""pickle-doctor: read Python pickles and ML model files without running them.

>>> import pickle_doctor
>>> report = pickle_doctor.scan("model.pkl")          # security verdict, nothing runs
>>> report.verdict, [f.code for f in report.findings]
>>> pickle_doctor.check("model.pkl").verdict          # will it load in this environment?
>>> model = pickle_doctor.load("model.pkl")           # safe load: refuses anything that runs code

Every function takes a path (str or os.PathLike) or the file's bytes. Results are plain
dataclasses; ``to_dict()`` gives the CLI's ``--format json`` objects.
"""

from __future__ import annotations

from . import _native
from ._api import check, dis, export, fix, main, requirements, scan, scan_paths, show
from ._errors import Error, InputError, RewriteError, TargetError, UnsafePickleError, UsageError
from ._reports import (
    CheckReport,
    Environment,
    ExportedTensor,
    ExportReport,
    Finding,
    FixReport,
    FixSuggestion,
    GlobalStatus,
    Prediction,
    Refusal,
    Rename,
    Repair,
    Risk,
    ScanReport,
    TrailingBytes,
    Trouble,
)
from ._safe_load import LOADERS, load

__version__: str = _native.version()

__all__ = [
    "LOADERS",
    "CheckReport",
    "Environment",
    "Error",
    "ExportReport",
    "ExportedTensor",
    "Finding",
    "FixReport",
    "FixSuggestion",
    "GlobalStatus",
    "InputError",
    "Prediction",
    "Refusal",
    "Rename",
    "Repair",
    "RewriteError",
    "Risk",
    "ScanReport",
    "TargetError",
    "TrailingBytes",
    "Trouble",
    "UnsafePickleError",
    "UsageError",
    "__version__",
    "check",
    "dis",
    "export",
    "fix",
    "load",
    "main",
    "requirements",
    "scan",
    "scan_paths",
    "show",
]
