"""Scan millions of files with Dask: ``pickle_doctor.dask.scan_paths``.

The client walks the paths (exactly as the CLI and ``pickle_doctor.scan_paths`` walk them),
splits the files into batches and scans each batch in one task on the cluster; the result is
the list ``pickle_doctor.scan_paths`` returns, in the same order. Workers must have
pickle-doctor installed and see the same paths (a shared file system; reports name files as the
walk found them, so give absolute paths when workers run in another directory). See docs/dask.md.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any, Union

from . import _errors, _native
from ._reports import ScanReport

__all__ = ["scan_paths", "to_dataframe"]

PathArg = Union[str, "os.PathLike[str]"]


def _scan_batch(batch: list[tuple[str, bool]], policy: str) -> list[dict[str, Any]]:
    """One task: scan a batch of walked files in one thread. Returns plain dicts, which pickle
    cheaply between processes."""
    files = [(str(path), bool(explicit)) for path, explicit in batch]
    doc = json.loads(_errors.call(_native.scan_files, files, policy, 1))
    reports: list[dict[str, Any]] = doc["files"]
    return reports


def _walk(paths: list[str]) -> tuple[list[tuple[str, bool]], list[dict[str, Any]]]:
    doc = json.loads(_errors.call(_native.walk, paths))
    files = [(f["path"], bool(f["explicit"])) for f in doc["files"]]
    errors = []
    for e in doc["errors"]:
        if e.get("is_loop"):
            print(f"warning: {e['path']}: {e['message']}", file=sys.stderr)
        else:
            errors.append(
                {"path": e["path"], "format": "unknown", "verdict": "error", "error": e["message"], "findings": []}
            )
    return files, errors


def scan_paths(
    paths: PathArg | Iterable[PathArg],
    *,
    client: Any = None,
    policy: PathArg = "default",
    batch_size: int = 1000,
    dataframe: bool = False,
) -> Any:
    """``pickle_doctor.scan_paths`` on a Dask cluster.

    ``client`` is a ``distributed.Client`` (default: ``distributed.get_client()``, the current
    one). Files are scanned in tasks of ``batch_size`` files, each in one worker thread.
    ``policy`` is "default", "strict" or a policy file that every worker can read.

    Returns ``list[ScanReport]``, equal to ``pickle_doctor.scan_paths(paths, policy=policy)``;
    with ``dataframe=True`` a pandas DataFrame with one row per file instead (see
    ``to_dataframe``).
    """
    if batch_size < 1:
        raise _errors.UsageError(f"batch_size must be at least 1, got {batch_size}", "usage")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    path_list = [os.fsdecode(os.fspath(p)) for p in paths]
    policy_arg = os.fsdecode(os.fspath(policy))
    if policy_arg not in ("default", "strict") and os.path.exists(policy_arg):
        policy_arg = os.path.abspath(policy_arg)  # workers may run elsewhere
    if client is None:
        from distributed import get_client

        client = get_client()
    files, error_reports = _walk(path_list)
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    dicts: list[dict[str, Any]] = list(error_reports)
    if batches:
        futures = client.map(_scan_batch, batches, policy=policy_arg, pure=False)
        try:
            for result in client.gather(futures):
                dicts.extend(result)
        finally:
            for future in futures:
                future.release()
    reports = [ScanReport.from_dict(d) for d in dicts]
    return to_dataframe(reports) if dataframe else reports


def to_dataframe(reports: Iterable[ScanReport]) -> Any:
    """A pandas DataFrame with one row per file: path, format, verdict, error, codes (the
    distinct rule codes, comma-separated), findings (number) and the findings as dicts."""
    import pandas as pd

    rows = [
        {
            "path": r.path,
            "format": r.format,
            "verdict": r.verdict,
            "error": r.error,
            "codes": ",".join(r.codes),
            "n_findings": len(r.findings),
            "findings": [f.to_dict() for f in r.findings],
        }
        for r in reports
    ]
    columns = ["path", "format", "verdict", "error", "codes", "n_findings", "findings"]
    return pd.DataFrame(rows, columns=columns)
