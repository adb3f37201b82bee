#!/usr/bin/env python3
"""Benchmarks of the Python layer: API overhead per call, and Dask throughput.

    python benches/python_api.py [--hostile DIR] [--fixtures DIR] [--write docs/benchmarks.md]

Run with the interpreter of the venv scripts/test-python.sh builds
($PICKLE_DOCTOR_CACHE/venvs/python-run/bin/python): it needs pickle_doctor installed, plus
distributed for the Dask rows. Prints a markdown table; --write replaces this benchmark's
section of the file (between its markers) or appends it.

Rows:
- per call: the native floor (`_native.version()`), `scan` of a 225-byte pickle through the API
  (path and bytes), the same scan as a `pickle-doctor scan --format json` subprocess, `check`
  with a static target (site-packages + version) and with `python=sys.executable` (an
  interpreter probe), and `load` (safe load) against `pickle.load` of the same file.
- throughput: files/s of `scan_paths` over the hostile and benign corpora, serial (jobs=1), on
  every core (jobs=None), and `pickle_doctor.dask.scan_paths` on a LocalCluster of 2 worker
  processes (cluster start-up excluded, walk included).
"""

from __future__ import annotations

import argparse
import datetime
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pickle_doctor
from pickle_doctor import _native

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "array-p5.pkl"
MODEL = REPO / "samples" / "logistic-regression.pkl"
START = "<!-- python-api:start -->"
END = "<!-- python-api:end -->"


def per_call(fn: Callable[[], Any], min_time: float = 1.0, max_calls: int = 20000) -> tuple[float, int]:
    """Median seconds per call over batches, running for about min_time."""
    fn()
    samples: list[float] = []
    calls = 0
    deadline = time.perf_counter() + min_time
    batch = 1
    while time.perf_counter() < deadline and calls < max_calls:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        dt = time.perf_counter() - t0
        samples.append(dt / batch)
        calls += batch
        if dt < 0.01:
            batch *= 2
    return statistics.median(samples), calls


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hostile", default=os.environ.get("PICKLE_DOCTOR_HOSTILE"))
    ap.add_argument("--fixtures", default=os.environ.get("PICKLE_DOCTOR_FIXTURES"))
    ap.add_argument("--write", help="markdown file to update (docs/benchmarks.md)")
    args = ap.parse_args()

    rows: list[tuple[str, str, str]] = []
    data = SAMPLE.read_bytes()
    cli = str(Path(sys.executable).parent / "pickle-doctor")

    t, n = per_call(_native.version)
    rows.append(("native floor: `_native.version()`", fmt_time(t), f"{n} calls"))
    t, n = per_call(lambda: pickle_doctor.scan(SAMPLE))
    rows.append((f"`scan(path)`, {len(data)}-byte pickle", fmt_time(t), f"{n} calls"))
    t, n = per_call(lambda: pickle_doctor.scan(data))
    rows.append(("`scan(bytes)`, same pickle", fmt_time(t), f"{n} calls"))
    t, n = per_call(lambda: _native.scan(str(SAMPLE), "default"))
    rows.append(("`_native.scan` (JSON string, no dataclasses)", fmt_time(t), f"{n} calls"))
    t, n = per_call(
        lambda: subprocess.run([cli, "scan", "--format", "json", str(SAMPLE)], capture_output=True, check=False),
        min_time=3.0,
        max_calls=200,
    )
    rows.append(("`pickle-doctor scan --format json` subprocess (console script)", fmt_time(t), f"{n} calls"))
    with tempfile.TemporaryDirectory() as site:
        t, n = per_call(lambda: pickle_doctor.check(MODEL, site_packages=[site], python_version="3.11"))
        rows.append(("`check`, static target (empty site-packages, 3.11)", fmt_time(t), f"{n} calls"))
    t, n = per_call(lambda: pickle_doctor.check(MODEL, python=sys.executable), min_time=3.0, max_calls=100)
    rows.append(("`check(python=sys.executable)` (probes the interpreter)", fmt_time(t), f"{n} calls"))
    t, n = per_call(lambda: pickle_doctor.load(MODEL))
    rows.append((f"`load` (safe load) of {MODEL.name}", fmt_time(t), f"{n} calls"))

    def plain_load() -> Any:
        with open(MODEL, "rb") as f:
            return pickle.load(f)

    t, n = per_call(plain_load)
    rows.append((f"`pickle.load` of {MODEL.name} (trusted, for comparison)", fmt_time(t), f"{n} calls"))

    throughput: list[tuple[str, str, str]] = []
    corpora = [p for p in (args.hostile, args.fixtures) if p]
    if corpora:
        files = len(pickle_doctor.scan_paths(corpora))
        for label, fn in [
            ("`scan_paths(jobs=1)`", lambda: pickle_doctor.scan_paths(corpora, jobs=1)),
            ("`scan_paths()` (all cores)", lambda: pickle_doctor.scan_paths(corpora)),
        ]:
            best = min(_timed(fn) for _ in range(3))
            throughput.append((label, f"{files / best:,.0f} files/s", f"{best:.2f} s for {files} files"))
        try:
            import pickle_doctor.dask as pd_dask
            from distributed import Client, LocalCluster
        except ImportError:
            print("distributed is not installed: no Dask row", file=sys.stderr)
        else:
            t0 = time.perf_counter()
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            with cluster, Client(cluster) as client:
                startup = time.perf_counter() - t0
                for bs in (250, 1000):
                    best = min(
                        _timed(lambda bs=bs: pd_dask.scan_paths(corpora, client=client, batch_size=bs))
                        for _ in range(3)
                    )
                    throughput.append(
                        (
                            f"`pickle_doctor.dask.scan_paths`, LocalCluster 2 processes, batch_size={bs}",
                            f"{files / best:,.0f} files/s",
                            f"{best:.2f} s for {files} files (cluster start {startup:.1f} s, excluded)",
                        )
                    )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        "## Python API and Dask (benches/python_api.py)",
        "",
        "Per call (median of batches; the API calls run in-process):",
        "",
        "| what | per call | runs |",
        "| --- | --- | --- |",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]
    if throughput:
        lines += [
            "",
            "Throughput over the hostile and benign corpora (best of 3):",
            "",
            "| how | throughput | time |",
            "| --- | --- | --- |",
            *[f"| {a} | {b} | {c} |" for a, b, c in throughput],
        ]
    lines += [
        "",
        (
            f"Measured {when} on {os.cpu_count()} cores (load average {load:.2f} at the end), "
            f"Python {platform.python_version()}, pickle-doctor {pickle_doctor.__version__}."
        ),
        END,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        target = Path(args.write)
        old = target.read_text() if target.exists() else ""
        if START in old and END in old:
            head, rest = old.split(START, 1)
            tail = rest.split(END, 1)[1].lstrip("\n")
            new = head + text + ("\n" + tail if tail else "")
        else:
            new = old.rstrip("\n") + "\n\n" + text
        target.write_text(new)
        print(f"updated {target}", file=sys.stderr)


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
