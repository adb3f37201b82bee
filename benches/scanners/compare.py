#!/usr/bin/env python3
"""Compare pickle-doctor's `scan` with the peer scanners, file by file.

Peers: picklescan (also with --strict), modelscan, fickling and modelaudit, each run
through its own CLI, the way a CI job would run it. Run this with the python of the
venv that benches/scanners/setup.sh builds; the peers' entry points are taken from
that venv's bin/ (``--bin-dir`` to override). The harness itself is stdlib only.

    PY=$(benches/scanners/setup.sh)
    cargo build --release -p pickle-doctor
    "$PY" benches/scanners/compare.py \\
        --pickle-doctor target/release/pickle-doctor \\
        --hostile HOSTILE_DIR --benign BENIGN_DIR... --large BIG_FILE... \\
        --out docs/benchmarks.md

What it measures:

* Detection. Every file listed in HOSTILE_DIR/manifest.json is malicious; every file
  found under a --benign directory is benign. Each tool is run once per file
  (``--jobs`` files at a time, one tool at a time so that a tool only ever competes
  with itself for the cores) and its outcome is read from its exit code, as
  documented by the tool and verified on known samples:

      tool         clean  unsafe  could not scan
      pickle-doctor  0      1       2
      picklescan     0      1       2 (also when a dangerous import was found)
      modelscan      0      1       2 (errors), 3 (nothing scanned: skipped or unparsable)
      fickling       0      1       2 (not parsable as pickle)
      modelaudit     0      1       2 (operational error / inconclusive)

  (setup.sh gives modelscan a nested venv with numpy 1.26: its .npy scanner fails on
  numpy 2.x, which modelaudit requires.)

  A timeout, a signal, or a Python traceback ending stderr (an uncaught exception
  exits 1, which would otherwise read as "unsafe") is an error too.

* Time. The sum, over the corpus, of the wall time of each per-file invocation
  (process start-up included: that is what a per-file CI hook pays), and its ratio
  to pickle-doctor's sum. pickle-doctor is also run once per directory, which is how
  it is meant to be used; that is reported on its own line.

* Large files (``--large``): each tool on each file alone, sequentially, after the
  detection pass, with wall time and peak RSS (GNU time's %M; without /usr/bin/time,
  RUSAGE_CHILDREN of a small Python wrapper, whose own ~10 MB sets a floor).

Output: a markdown section between ``<!-- scanners:start -->`` and
``<!-- scanners:end -->`` in --out (appended at the end if the markers are absent),
and every per-file result as JSON in --raw-out.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
START = "<!-- scanners:start -->"
END = "<!-- scanners:end -->"
GNU_TIME = "/usr/bin/time"
MB = 1_000_000

DETECTED, CLEAN, ERROR = "detected", "clean", "error"
SYMBOL = {DETECTED: "✓", CLEAN: "✗", ERROR: "E"}

DEFAULT_BENIGN_EXT = "pkl,pickle,pt,pth,bin,joblib,npy,npz,tar,ckpt,model,sav,p"
# Never benign samples, whatever --benign-ext says: the fixtures' sidecar files.
SKIP_EXT = {"json", "txt", "dis", "md"}
SKIP_NAMES = {"manifest.json"}

DEFAULT_TOOLS = "pickle-doctor,picklescan,picklescan-strict,modelscan,fickling,modelaudit"

# Environment for every peer. The machines here have no network: modelaudit sends
# telemetry on every run unless told not to, and then waits on retries (about 7 s a
# file). The HF variables keep huggingface_hub (imported by modelaudit) from trying.
PEER_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "NO_ANALYTICS": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "COLUMNS": "200",
}

RUSAGE_WRAPPER = r"""
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc if rc >= 0 else 128 - rc)
"""

_TRACEBACK = "Traceback (most recent call last):"
_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(:.*)?$")


# --------------------------------------------------------------------------
# Running one command


@dataclass
class Run:
    rc: int | None  # None on timeout
    wall_s: float
    stdout: str
    stderr: str
    workdir: Path
    timed_out: bool = False
    peak_rss_kb: int | None = None


def _read(path: Path, limit: int | None = 32 * MB) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit) if limit is not None else f.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def run_cmd(argv: list[str], *, env: dict[str, str], workdir: Path, timeout: float,
            measure_rss: bool = False) -> Run:
    """Run argv with cwd=workdir, stdout/stderr to files there; kill its process group on timeout."""
    out_p, err_p = workdir / "stdout", workdir / "stderr"
    rss_p = workdir / "rss"
    full = list(argv)
    if measure_rss:
        if os.access(GNU_TIME, os.X_OK):
            full = [GNU_TIME, "-f", "%M", "-o", str(rss_p), *argv]
        else:
            full = [sys.executable, "-c", RUSAGE_WRAPPER, str(rss_p), *argv]
    with open(out_p, "wb") as out, open(err_p, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            rc = None
        wall = time.perf_counter() - t0
    peak = None
    if measure_rss and not timed_out:
        lines = [l for l in _read(rss_p).splitlines() if l.strip()]
        if lines and lines[-1].strip().isdigit():
            peak = int(lines[-1].strip())
    return Run(rc=rc, wall_s=wall, stdout=_read(out_p), stderr=_read(err_p), workdir=workdir,
               timed_out=timed_out, peak_rss_kb=peak)


# --------------------------------------------------------------------------
# Tools: how to invoke each, and how to read its outcome


def _python_crash(run: Run) -> str | None:
    """The exception line when stderr ends with an uncaught Python traceback."""
    err = run.stderr.rstrip()
    i = err.rfind(_TRACEBACK)
    if i < 0:
        return None
    tail = err[i:].splitlines()
    last = tail[-1] if tail else ""
    if last.startswith((" ", "\t")) or not _EXC_LINE.match(last.split(":", 1)[0]):
        return None
    return last.strip()[:200]


def _exception_line(text: str) -> str | None:
    """The exception line that ends the last traceback in text."""
    i = text.rfind(_TRACEBACK)
    if i < 0:
        return None
    for line in text[i:].splitlines()[1:]:
        if line and not line.startswith((" ", "\t")) and _EXC_LINE.match(line.split(":", 1)[0]):
            return line.strip()[:200]
    return None


def _first_lines(text: str, pattern: str, n: int = 2) -> str:
    rx = re.compile(pattern)
    hits = [l.strip() for l in text.splitlines() if rx.search(l)]
    return " | ".join(h[:200] for h in hits[:n])


def _load_json(path: Path):
    try:
        return json.loads(_read(path, None))  # modelaudit's report on a big pickle can exceed 50 MB
    except (ValueError, OSError):
        return None


Classify = Callable[[Run], "tuple[str, str, str]"]  # (outcome, reason, note)


def classify_pickle_doctor(run: Run) -> tuple[str, str, str]:
    doc = None
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        pass
    files = (doc or {}).get("files") or []
    verdict = files[0].get("verdict") if len(files) == 1 else None
    codes = sorted({f.get("code", "?") for f in (files[0].get("findings") or [])}) if len(files) == 1 else []
    note = ",".join(codes)
    expect = {0: "clean", 1: "unsafe", 2: "error"}.get(run.rc)
    if verdict is not None and expect is not None and verdict != expect:
        note = f"exit {run.rc} but JSON verdict {verdict}; {note}"
    if run.rc == 0:
        return CLEAN, "", note
    if run.rc == 1:
        return DETECTED, "", note
    if run.rc == 2:
        reason = (files[0].get("error") if len(files) == 1 else None) or run.stderr.strip()[:200] or "exit 2"
        return ERROR, f"exit 2: {reason}", note
    return ERROR, f"unexpected exit {run.rc}: {run.stderr.strip()[:200]}", note


def classify_picklescan(run: Run) -> tuple[str, str, str]:
    text = run.stdout + "\n" + run.stderr
    found = _first_lines(text, r"import '.*' FOUND")
    if run.rc == 0:
        note = _first_lines(text, r"could not parse", 1)
        return CLEAN, "", (f"exit 0 although {note}" if note else "")
    if run.rc == 1:
        return DETECTED, "", found
    if run.rc == 2:
        exc = _exception_line(text) if "Unhandled exception" in text else None
        reason = (f"unhandled {exc}" if exc else None) or _first_lines(text, r"ERROR|Unhandled exception|Error:", 1) or "exit 2"
        return ERROR, f"exit 2: {reason}", (f"also reported: {found}" if found else "")
    return ERROR, f"unexpected exit {run.rc}", ""


def classify_modelscan(run: Run) -> tuple[str, str, str]:
    report = _load_json(run.workdir / "report.json") or {}
    issues = report.get("issues") or []
    errors = report.get("errors") or []
    skipped = ((report.get("summary") or {}).get("skipped") or {}).get("skipped_files") or []
    issue_txt = " | ".join(i.get("description", "?")[:120] for i in issues[:2])
    err_txt = " | ".join(f"{e.get('category', '?')}: {e.get('description', '?')}"[:160] for e in errors[:2])
    if run.rc == 0:
        return CLEAN, "", ""
    if run.rc == 1:
        return DETECTED, "", issue_txt
    if run.rc == 2:
        reason = err_txt or _first_lines(run.stdout, r"^Exception:", 1) or "exit 2"
        return ERROR, f"exit 2: {reason}", (f"also reported: {issue_txt}" if issue_txt else "")
    if run.rc == 3:
        if err_txt:
            return ERROR, f"exit 3 (nothing scanned): {err_txt}", ""
        why = ""
        if skipped:
            why = f": skipped ({skipped[0].get('category', '?')}: {skipped[0].get('description', '?')})"[:200]
        return ERROR, f"exit 3 (nothing scanned){why}", ""
    if run.rc == 4:
        return ERROR, "exit 4 (usage error)", run.stdout.strip()[:200]
    return ERROR, f"unexpected exit {run.rc}", ""


FICKLING_SEVERITIES = ["LIKELY_SAFE", "POSSIBLY_UNSAFE", "SUSPICIOUS", "LIKELY_UNSAFE",
                       "LIKELY_OVERTLY_MALICIOUS", "OVERTLY_MALICIOUS"]


def _json_stream(text: str) -> list:
    """Concatenated JSON documents (fickling appends one per stacked pickle to --json-output)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError:
            return docs
        docs.append(doc)


def classify_fickling(run: Run) -> tuple[str, str, str]:
    docs = [d for d in _json_stream(_read(run.workdir / "fickling.json", None)) if isinstance(d, dict)]
    rank = lambda d: (FICKLING_SEVERITIES.index(d.get("severity")) if d.get("severity") in FICKLING_SEVERITIES else -1)  # noqa: E731
    report = max(docs, key=rank) if docs else {}
    sev = report.get("severity", "")
    if len(docs) > 1:
        sev = f"{sev} (worst of {len(docs)} stacked pickles)"
    if run.rc == 0:
        return CLEAN, "", sev
    if run.rc == 1:
        first = (report.get("analysis") or "").strip().splitlines()
        return DETECTED, "", f"{sev}: {first[0][:160]}" if first else sev
    if run.rc == 2:
        reason = _first_lines(run.stderr, r"failed to parse|Error", 1) or "exit 2"
        return ERROR, f"exit 2: {reason}", ""
    return ERROR, f"unexpected exit {run.rc}", ""


def classify_modelaudit(run: Run) -> tuple[str, str, str]:
    report = _load_json(run.workdir / "report.json") or {}
    rank = {"critical": 0, "warning": 1, "info": 2, "debug": 3}
    sev = lambda r: str(r.get("severity", "")).lower()  # noqa: E731
    records = [i for i in report.get("issues") or [] if isinstance(i, dict)]
    records += [c for c in report.get("checks") or [] if isinstance(c, dict) and c.get("status") == "failed"]
    records.sort(key=lambda r: rank.get(sev(r), 9))
    msgs = list(dict.fromkeys(f"{sev(r) or '?'}: {r.get('message', '?')}"[:160] for r in records))
    findings = " | ".join(m for m in msgs if m.split(":")[0] in ("critical", "warning"))[:400]
    if run.rc == 0:
        return CLEAN, "", ""
    if run.rc == 1:
        return DETECTED, "", findings or " | ".join(msgs[:2])
    if run.rc == 2:
        if report.get("has_errors"):
            errs = [m for m in msgs if "error" in m.lower()]
            return ERROR, "exit 2 (operational error)" + (f": {errs[0]}" if errs else ""), ""
        incomplete = []
        for r in (report.get("checks") or []) + (report.get("issues") or []):
            d = r.get("details") if isinstance(r, dict) else None
            if isinstance(d, dict) and d.get("analysis_incomplete"):
                ref = d.get("import_reference")
                incomplete.append(f"{r.get('message', '?')}" + (f" ({ref})" if ref else ""))
        if incomplete:
            return ERROR, f"exit 2 (inconclusive): {incomplete[0][:160]}", ""
        if report and not report.get("files_scanned"):
            return ERROR, "exit 2 (no file scanned)", ""
        if msgs:  # e.g. file_metadata scan_outcome "inconclusive" after an info-level failed check
            return ERROR, f"exit 2 (inconclusive): {msgs[0]}", ""
        return ERROR, "exit 2: " + (_first_lines(run.stdout + run.stderr, r"[Ee]rror", 1) or "no reason given"), ""
    return ERROR, f"unexpected exit {run.rc}", ""


@dataclass
class Tool:
    name: str
    package: str | None  # PyPI distribution, for the version; None for pickle-doctor
    argv: Callable[[Path], list[str]]  # file -> argv (cwd is a fresh per-run directory)
    display: str  # invocation as shown in the docs
    codes: str  # exit-code convention as shown in the docs
    classify: Classify
    python: bool = True  # a Python CLI: an uncaught exception exits 1
    version: str = "?"


def make_tools(names: list[str], pd: Path, bin_dir: Path, overrides: dict[str, str]) -> list[Tool]:
    b = lambda n: overrides.get(n) or str(bin_dir / n)  # noqa: E731
    all_tools = {
        "pickle-doctor": Tool(
            "pickle-doctor", None, lambda f: [str(pd), "scan", "--format", "json", str(f)],
            "pickle-doctor scan --format json FILE", "0 clean, 1 unsafe, 2 error",
            classify_pickle_doctor, python=False),
        "pickle-doctor-strict": Tool(
            "pickle-doctor-strict", None,
            lambda f: [str(pd), "scan", "--policy", "strict", "--format", "json", str(f)],
            "pickle-doctor scan --policy strict --format json FILE", "0 clean, 1 unsafe, 2 error",
            classify_pickle_doctor, python=False),
        "picklescan": Tool(
            "picklescan", "picklescan", lambda f: [b("picklescan"), "-p", str(f)],
            "picklescan -p FILE",
            "0 clean (also: not parsable and no global seen), 1 dangerous, 2 scan error (wins over 1)",
            classify_picklescan),
        "picklescan-strict": Tool(
            "picklescan-strict", "picklescan", lambda f: [b("picklescan"), "--strict", "-p", str(f)],
            "picklescan --strict -p FILE", "as picklescan; Suspicious globals count as dangerous",
            classify_picklescan),
        "modelscan": Tool(
            "modelscan", "modelscan",
            lambda f: [b("modelscan"), "-p", str(f), "-r", "json", "-o", "report.json", "--show-skipped"],
            "modelscan -p FILE -r json -o report.json --show-skipped (cwd: an empty directory, so no modelscan-settings.toml)",
            "0 clean, 1 issues, 2 errors (wins over 1), 3 nothing scanned (unsupported extension or parse error), 4 usage",
            classify_modelscan),
        "fickling": Tool(
            "fickling", "fickling",
            lambda f: [b("fickling"), "--check-safety", "--json-output", "fickling.json", str(f)],
            "fickling --check-safety --json-output fickling.json FILE",
            "0 LIKELY_SAFE, 1 anything above, 2 not parsable; an uncaught exception also exits 1",
            classify_fickling),
        "modelaudit": Tool(
            "modelaudit", "modelaudit",
            lambda f: [b("modelaudit"), "scan", "--no-cache", "-f", "json", "-o", "report.json", str(f)],
            "PROMPTFOO_DISABLE_TELEMETRY=1 modelaudit scan --no-cache -f json -o report.json FILE",
            "0 clean, 1 WARNING/CRITICAL findings (a pickle that fails to parse is one), 2 operational error or inconclusive",
            classify_modelaudit),
    }
    unknown = [n for n in names if n not in all_tools]
    if unknown:
        sys.exit(f"unknown tool(s): {', '.join(unknown)}; known: {', '.join(all_tools)}")
    return [all_tools[n] for n in names]


def tool_versions(tools: list[Tool], pd: Path) -> None:
    """Each peer's version, asked of the python next to its entry point (its venv's)."""
    code = ("import importlib.metadata as m, sys\n"
            "try: print(m.version(sys.argv[1]))\n"
            "except m.PackageNotFoundError: print('not installed')")
    for t in tools:
        if t.package is None:
            r = subprocess.run([str(pd), "--version"], capture_output=True, text=True)
            t.version = r.stdout.strip().split()[-1] if r.returncode == 0 and r.stdout.strip() else "?"
            continue
        # resolve(): modelscan's entry point is a link into its own nested venv
        py = Path(t.argv(Path("x"))[0]).resolve().parent / "python"
        r = subprocess.run([str(py), "-c", code, t.package], capture_output=True, text=True)
        t.version = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "?"


def scan_one(tool: Tool, path: Path, *, env: dict[str, str], scratch: Path, timeout: float,
             measure_rss: bool = False) -> tuple[Run, str, str, str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"{tool.name}-", dir=scratch))
    try:
        run = run_cmd(tool.argv(path.resolve()), env=env, workdir=workdir, timeout=timeout,
                      measure_rss=measure_rss)
        if run.timed_out:
            outcome, reason, note = ERROR, f"timeout (>{timeout:g} s)", ""
        elif run.rc is not None and run.rc < 0:
            outcome, reason, note = ERROR, f"killed by signal {-run.rc}", ""
        elif run.rc is not None and run.rc >= 128:
            outcome, reason, note = ERROR, f"killed by signal {run.rc - 128}", ""
        elif tool.python and run.rc == 1 and (exc := _python_crash(run)):
            outcome, reason, note = ERROR, f"crash: {exc}", ""
        else:
            outcome, reason, note = tool.classify(run)
        for p in {str(path.resolve()), str(path)}:
            reason, note = reason.replace(p, "FILE"), note.replace(p, "FILE")
        return run, outcome, reason, note
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------
# Corpus


@dataclass
class Sample:
    path: Path
    label: str  # "hostile" | "benign"
    display: str  # relative path as shown
    technique: str = ""
    container: str = ""


def load_hostile(d: Path, compare_only: bool = False) -> list[Sample]:
    manifest = d / "manifest.json"
    if not manifest.is_file():
        sys.exit(f"--hostile {d}: no manifest.json")
    doc = json.loads(manifest.read_text())
    out, missing = [], []
    for e in doc.get("files", []):
        if compare_only and not e.get("compare", True):
            continue
        p = d / e["path"]
        if not p.is_file():
            missing.append(e["path"])
            continue
        out.append(Sample(p, "hostile", e["path"], e.get("technique") or "?", e.get("container") or "?"))
    if missing:
        sys.exit(f"--hostile {d}: {len(missing)} files in manifest.json are missing, e.g. {missing[:3]}")
    return out


def walk_benign(dirs: list[Path], exts: set[str] | None, extensionless: bool) -> list[Sample]:
    out = []
    for d in dirs:
        if not d.is_dir():
            sys.exit(f"--benign {d}: not a directory")
        for root, subdirs, files in os.walk(d):
            subdirs[:] = sorted(s for s in subdirs if not s.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or name in SKIP_NAMES:
                    continue
                p = Path(root) / name
                if p.is_symlink() or not p.is_file():
                    continue
                ext = p.suffix[1:].lower() if p.suffix else ""
                if ext in SKIP_EXT:
                    continue
                if ext == "":
                    if not extensionless:
                        continue
                elif exts is not None and ext not in exts:
                    continue
                rel = p.relative_to(d)
                out.append(Sample(p, "benign", f"{d.name}/{rel}"))
    return out


# --------------------------------------------------------------------------
# Passes


@dataclass
class Result:
    tool: str
    label: str
    path: str
    technique: str
    container: str
    outcome: str
    rc: int | None
    wall_s: float
    reason: str = ""
    note: str = ""


def detection_pass(tools: list[Tool], samples: list[Sample], *, env: dict[str, str], scratch: Path,
                   timeout: float, jobs: int) -> list[Result]:
    results: list[Result] = []
    for tool in tools:
        t0 = time.perf_counter()
        lock = threading.Lock()
        done = 0

        def work(s: Sample) -> Result:
            nonlocal done
            run, outcome, reason, note = scan_one(tool, s.path, env=env, scratch=scratch, timeout=timeout)
            with lock:
                done += 1
                if done % 50 == 0:
                    print(f"  {tool.name}: {done}/{len(samples)}", file=sys.stderr)
            return Result(tool.name, s.label, s.display, s.technique, s.container, outcome, run.rc,
                          round(run.wall_s, 4), reason, note)

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            tool_results = list(ex.map(work, samples))
        results.extend(tool_results)
        counts = {k: sum(1 for r in tool_results if r.outcome == k) for k in (DETECTED, CLEAN, ERROR)}
        print(f"{tool.name} {tool.version}: {len(samples)} files in {time.perf_counter() - t0:.1f} s "
              f"({counts[DETECTED]} detected, {counts[CLEAN]} clean, {counts[ERROR]} errors)", file=sys.stderr)
    return results


@dataclass
class DirRun:
    label: str
    directory: str
    wall_s: float
    rc: int | None
    files_reported: int
    listed: int
    detected: int = 0
    clean: int = 0
    error: int = 0
    not_reported: int = 0
    disagree_with_per_file: list[str] = field(default_factory=list)


def pd_directory_pass(pd: Path, dirs: list[tuple[str, Path]], samples: list[Sample],
                      per_file: dict[str, str], *, scratch: Path, timeout: float) -> list[DirRun]:
    """pickle-doctor over each whole directory in one process, as it is used."""
    out = []
    for label, d in dirs:
        workdir = Path(tempfile.mkdtemp(prefix="pd-dir-", dir=scratch))
        run = run_cmd([str(pd), "scan", "--format", "json", str(d.resolve())], env=dict(os.environ),
                      workdir=workdir, timeout=timeout * 10)
        verdicts: dict[str, str] = {}
        try:
            for f in json.loads(run.stdout).get("files", []):
                verdicts[str(Path(f["path"]).resolve())] = f.get("verdict", "?")
        except ValueError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)
        mine = [s for s in samples if s.label == label and d.resolve() in s.path.resolve().parents]
        dr = DirRun(label, str(d), round(run.wall_s, 4), run.rc, len(verdicts), len(mine))
        for s in mine:
            v = verdicts.get(str(s.path.resolve()))
            o = {"unsafe": DETECTED, "clean": CLEAN, "error": ERROR}.get(v or "", None)
            if o is None:
                dr.not_reported += 1
                o = "not reported"
            else:
                setattr(dr, o, getattr(dr, o) + 1)
            if per_file.get(s.display) not in (None, o):
                dr.disagree_with_per_file.append(f"{s.display}: per-file {per_file[s.display]}, directory {o}")
        out.append(dr)
        print(f"pickle-doctor one process over {d}: {run.wall_s:.2f} s, {len(verdicts)} files reported, "
              f"{len(dr.disagree_with_per_file)} disagreements with per-file runs", file=sys.stderr)
    return out


@dataclass
class LargeResult:
    tool: str
    path: str
    size: int
    outcome: str
    rc: int | None
    wall_s: float  # best of the runs
    peak_rss_kb: int | None  # max over the runs
    reason: str = ""
    note: str = ""


def large_pass(tools: list[Tool], files: list[Path], *, env: dict[str, str], scratch: Path,
               timeout: float, runs: int) -> list[LargeResult]:
    out = []
    for f in files:
        size = f.stat().st_size
        for tool in tools:
            walls, rss, outcome, reason, note, rc = [], [], ERROR, "", "", None
            for _ in range(runs):
                run, outcome, reason, note = scan_one(tool, f, env=env, scratch=scratch,
                                                       timeout=timeout, measure_rss=True)
                rc = run.rc
                walls.append(run.wall_s)
                if run.peak_rss_kb is not None:
                    rss.append(run.peak_rss_kb)
                if run.timed_out:
                    break
            lr = LargeResult(tool.name, str(f), size, outcome, rc, round(min(walls), 4),
                             max(rss) if rss else None, reason, note[:300])
            out.append(lr)
            print(f"large {f.name} {tool.name}: {lr.wall_s:.2f} s, "
                  f"{(lr.peak_rss_kb or 0) / 1000:.0f} MB, {outcome} {reason}", file=sys.stderr)
    return out


# --------------------------------------------------------------------------
# Report


def _cell(s: object) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _pretty_path(p: str | Path) -> str:
    s = str(Path(p).resolve())
    cache = os.environ.get("PICKLE_DOCTOR_CACHE") or str(Path.home() / ".cache" / "pickle-doctor")
    cache = str(Path(cache).resolve())
    if s == cache or s.startswith(cache + os.sep):
        return "$PICKLE_DOCTOR_CACHE" + s[len(cache):]
    try:
        return str(Path(s).relative_to(ROOT))
    except ValueError:
        pass
    home = str(Path.home())
    return "~" + s[len(home):] if s.startswith(home + os.sep) else s


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "0/0"


def _ratio(x: float, base: float) -> str:
    if base <= 0:
        return "n/a"
    r = x / base
    return f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def _matrix_cell(outcomes: list[str]) -> str:
    if len(outcomes) <= 4:
        return "".join(SYMBOL[o] for o in outcomes)
    parts = [f"{outcomes.count(o)}{SYMBOL[o]}" for o in (DETECTED, CLEAN, ERROR) if outcomes.count(o)]
    return " ".join(parts)


def render(args, tools: list[Tool], samples: list[Sample], results: list[Result],
           dir_runs: list[DirRun], large: list[LargeResult], started: datetime.datetime,
           elapsed: float, loads: dict[str, tuple[float, float, float]]) -> str:
    large_load = loads.get("large")
    names = [t.name for t in tools]
    hostile = [s for s in samples if s.label == "hostile"]
    benign = [s for s in samples if s.label == "benign"]
    by = {(r.tool, r.label, r.path): r for r in results}

    def rs(tool: str, label: str) -> list[Result]:
        return [r for r in results if r.tool == tool and r.label == label]

    L: list[str] = []
    L.append("## Peer scanners: detection and speed")
    L.append("")
    L.append("Generated by `benches/scanners/compare.py`; do not edit by hand. "
             "The peers come from the pinned venv of `benches/scanners/setup.sh`.")
    L.append("")
    techniques = sorted({s.technique for s in hostile})
    containers = sorted({s.container for s in hostile})
    L.append(f"Corpus: **{len(hostile)} hostile** files ({len(techniques)} techniques, {len(containers)} containers) "
             f"listed in `{_pretty_path(args.hostile)}/manifest.json`; **{len(benign)} benign** files under "
             + ", ".join(f"`{_pretty_path(d)}`" for d in args.benign)
             + f" (extensions {args.benign_ext}" + (", and none" if not args.no_extensionless else "") + ").")
    L.append("")
    L.append(f"Each tool runs once per file, {args.jobs} files at a time (one tool at a time), "
             f"with a {args.timeout:g} s timeout. The outcome is read from the tool's exit code: "
             "**detected** (it says unsafe), **clean**, or **error** (it could not scan: its own error code, "
             "a crash, or the timeout). Benign errors are not false alarms, but a CI gate that fails on any "
             "non-zero exit code stops on them too. Time is the sum of the per-file wall times, process start-up "
             "included; the ratio compares each tool's total with pickle-doctor's.")
    L.append("")
    L.append("| tool | version | hostile detected | hostile missed | hostile errors | benign false alarms "
             "| benign errors | time hostile (s) | time benign (s) | ratio vs pickle-doctor |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    totals = {n: sum(r.wall_s for r in results if r.tool == n) for n in names}
    base = totals.get("pickle-doctor", 0.0)
    for t in tools:
        h, b_ = rs(t.name, "hostile"), rs(t.name, "benign")
        c = lambda lst, o: sum(1 for r in lst if r.outcome == o)  # noqa: E731
        L.append(f"| {t.name} | {t.version} | {_pct(c(h, DETECTED), len(h))} | {c(h, CLEAN)} | {c(h, ERROR)} "
                 f"| {c(b_, DETECTED)} | {c(b_, ERROR)} | {sum(r.wall_s for r in h):.3f} "
                 f"| {sum(r.wall_s for r in b_):.3f} | {_ratio(totals[t.name], base)} |")
    L.append("")
    for dr in dir_runs:
        agree = ("same verdicts as the per-file runs" if not dr.disagree_with_per_file
                 else f"**{len(dr.disagree_with_per_file)} verdicts differ from the per-file runs** "
                      f"(e.g. {_cell(dr.disagree_with_per_file[0])})")
        what = (f"{dr.detected} detected, {dr.clean} clean, {dr.error} errors"
                + (f", {dr.not_reported} not reported (not recognised as pickle or model files)"
                   if dr.not_reported else ""))
        L.append(f"- `pickle-doctor scan --format json {_pretty_path(dr.directory)}` (one process, {dr.label}): "
                 f"**{dr.wall_s:.3f} s** for {dr.files_reported} files reported (exit {dr.rc}); "
                 f"of the {dr.listed} {dr.label} files above: {what}; {agree}.")
    if dir_runs:
        L.append("")

    # Per-technique matrix
    L.append("### Detection by technique")
    L.append("")
    L.append("✓ detected, ✗ missed (exit code said clean), E error (could not scan, crash or timeout). "
             "Several files with the same technique and container get one symbol each, in path order "
             "(or counts, past four).")
    L.append("")
    L.append("| technique | container | files | " + " | ".join(names) + " |")
    L.append("| --- | --- | ---: | " + " | ".join(":---:" for _ in names) + " |")
    groups: dict[tuple[str, str], list[Sample]] = {}
    for s in hostile:
        groups.setdefault((s.technique, s.container), []).append(s)
    for (tech, cont), ss in sorted(groups.items()):
        ss = sorted(ss, key=lambda s: s.display)
        cells = [_matrix_cell([by[(n, "hostile", s.display)].outcome for s in ss]) for n in names]
        L.append(f"| {_cell(tech)} | {_cell(cont)} | {len(ss)} | " + " | ".join(cells) + " |")
    L.append("")
    if len(containers) > 1:
        L.append("Detected, by container:")
        L.append("")
        L.append("| container | files | " + " | ".join(names) + " |")
        L.append("| --- | ---: | " + " | ".join("---:" for _ in names) + " |")
        for cont in containers:
            ss = [s for s in hostile if s.container == cont]
            cells = []
            for n in names:
                d = sum(1 for s in ss if by[(n, "hostile", s.display)].outcome == DETECTED)
                e = sum(1 for s in ss if by[(n, "hostile", s.display)].outcome == ERROR)
                cells.append(f"{d}" + (f" ({e} E)" if e else ""))
            L.append(f"| {_cell(cont)} | {len(ss)} | " + " | ".join(cells) + " |")
        L.append("")

    # Benign false alarms and errors, by kind of file (extension)
    if benign:
        exts = sorted({(Path(s.display).suffix[1:].lower() or "(none)") for s in benign})
        L.append("### Benign files by extension")
        L.append("")
        L.append("Each cell: false alarms / errors.")
        L.append("")
        L.append("| extension | files | " + " | ".join(names) + " |")
        L.append("| --- | ---: | " + " | ".join("---:" for _ in names) + " |")
        for ext in exts:
            ss = [s for s in benign if (Path(s.display).suffix[1:].lower() or "(none)") == ext]
            cells = []
            for n in names:
                fa = sum(1 for s in ss if by[(n, "benign", s.display)].outcome == DETECTED)
                er = sum(1 for s in ss if by[(n, "benign", s.display)].outcome == ERROR)
                cells.append(f"{fa} / {er}")
            L.append(f"| {_cell(ext)} | {len(ss)} | " + " | ".join(cells) + " |")
        L.append("")

    # Why scans failed
    errs: dict[tuple[str, str, str], int] = {}
    for r in results:
        if r.outcome == ERROR:
            key = re.sub(r"\\x[0-9a-fA-F]{2}", r"\\xNN", r.reason.split(" | ")[0])
            key = re.sub(r"(?<!exit )(?<![\w\\])\d+(\.\d+)?", "N", key)[:160]
            errs[(r.tool, r.label, key)] = errs.get((r.tool, r.label, key), 0) + 1
    if errs:
        L.append("### Why scans failed")
        L.append("")
        L.append("| tool | files | reason (FILE: the file scanned; other numbers replaced by N) | count |")
        L.append("| --- | --- | --- | ---: |")
        for (tool, label, key), n in sorted(errs.items(), key=lambda kv: (names.index(kv[0][0]), kv[0][1], -kv[1])):
            L.append(f"| {tool} | {label} | {_cell(key)} | {n} |")
        L.append("")

    # Large files
    if large:
        L.append("### Large files")
        L.append("")
        load = f"; load average {large_load[0]:.2f} when this pass started" if large_load else ""
        L.append(f"Each tool alone on each file, one after another, with nothing else of this harness running{load}; "
                 f"best wall time of {args.large_runs} run(s) (timeout {args.large_timeout:g} s), "
                 "peak RSS from " + ("GNU `/usr/bin/time`" if os.access(GNU_TIME, os.X_OK)
                                     else "RUSAGE_CHILDREN of a Python wrapper (~10 MB floor)") + ".")
        L.append("")
        L.append("| file | size (MB) | tool | outcome | time (s) | peak RSS (MB) | time vs pickle-doctor "
                 "| RSS vs pickle-doctor |")
        L.append("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |")
        for f in dict.fromkeys(lr.path for lr in large):
            rows = [lr for lr in large if lr.path == f]
            pdr = next((lr for lr in rows if lr.tool == "pickle-doctor"), None)
            for lr in rows:
                t_s = f">{args.large_timeout:g}" if lr.reason.startswith("timeout") else f"{lr.wall_s:.2f}"
                rss = f"{lr.peak_rss_kb / 1000:.0f}" if lr.peak_rss_kb is not None else "?"
                tr = _ratio(lr.wall_s, pdr.wall_s) if pdr else "n/a"
                if lr.reason.startswith("timeout") and tr != "n/a":
                    tr = ">" + tr
                rr = (_ratio(lr.peak_rss_kb, pdr.peak_rss_kb)
                      if pdr and lr.peak_rss_kb and pdr.peak_rss_kb else "n/a")
                why = lr.reason if lr.outcome == ERROR else (lr.note if lr.outcome == DETECTED else "")
                outcome = lr.outcome + (f" ({_cell(why[:90])})" if why else "")
                L.append(f"| `{_pretty_path(f)}` | {lr.size / MB:.1f} | {lr.tool} | {outcome} | {t_s} | {rss} "
                         f"| {tr} | {rr} |")
        L.append("")

    # Invocations
    L.append("### How each tool was run")
    L.append("")
    L.append("Every peer runs with `" + " ".join(f"{k}={v}" for k, v in PEER_ENV.items())
             + "` and `HOME` set to an empty scratch directory (no user config, no cache); "
             "without the first, modelaudit waits about 7 s per file on telemetry retries when offline.")
    L.append("")
    L.append("| tool | command | exit codes |")
    L.append("| --- | --- | --- |")
    for t in tools:
        L.append(f"| {t.name} | `{_cell(t.display)}` | {_cell(t.codes)} |")
    L.append("")
    start_load = loads.get("start")
    L.append(f"Measured {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores"
             + (f" (load average {start_load[0]:.2f} at the start: anything above 0 is other work "
                "sharing the cores and slows every tool)" if start_load else "")
             + f", Python {platform.python_version()}, in {elapsed:.0f} s. Raw per-file results: "
             f"`{_pretty_path(args.raw_out)}`.")
    return "\n".join(L) + "\n"


def write_section(out: Path, body: str) -> None:
    text = out.read_text() if out.exists() else ""
    section = f"{START}\n{body}{END}\n"
    i, j = text.find(START), text.find(END)
    if i >= 0 and j > i:
        j_end = j + len(END)
        if text[j_end:j_end + 1] == "\n":
            j_end += 1
        text = text[:i] + section + text[j_end:]
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + section
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hostile", type=Path, required=True,
                    help="directory with manifest.json: {files: [{path, technique, container}]}")
    ap.add_argument("--benign", type=Path, nargs="+", default=[], help="directories of benign files (recursive)")
    ap.add_argument("--benign-ext", default=DEFAULT_BENIGN_EXT,
                    help=f"comma-separated extensions of benign files to scan, or '*' (default: {DEFAULT_BENIGN_EXT}); "
                         f"{', '.join(sorted(SKIP_EXT))} and manifest.json are always skipped")
    ap.add_argument("--no-extensionless", action="store_true", help="skip benign files without an extension")
    ap.add_argument("--large", type=Path, nargs="*", default=[], help="big files, timed one tool at a time")
    ap.add_argument("--pickle-doctor", type=Path, default=ROOT / "target" / "release" / "pickle-doctor")
    ap.add_argument("--bin-dir", type=Path, default=Path(sys.executable).parent,
                    help="bin/ of the scanners venv (default: this python's)")
    ap.add_argument("--bin", action="append", default=[], metavar="NAME=PATH",
                    help="entry point of one peer from elsewhere, e.g. modelscan=/other/venv/bin/modelscan "
                         "(its version is read from the python beside it)")
    ap.add_argument("--tools", default=DEFAULT_TOOLS,
                    help=f"comma-separated (default: {DEFAULT_TOOLS}; also: pickle-doctor-strict)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--raw-out", type=Path, default=HERE / "last-run.json")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per tool per file (default 120)")
    ap.add_argument("--large-timeout", type=float, default=None, help="per tool per large file (default: --timeout)")
    ap.add_argument("--large-runs", type=int, default=1, help="runs per tool per large file; best time kept")
    ap.add_argument("--settle", type=float, default=60.0,
                    help="before timing large files, wait up to this long for the load average to fall below 0.7")
    ap.add_argument("--jobs", type=int, default=2, help="files scanned in parallel in the detection pass")
    ap.add_argument("--keep-scratch", action="store_true")
    ap.add_argument("--compare-subset", action="store_true",
                    help="only the hostile files marked `compare: true` in the manifest (every technique as a "
                         "raw pickle, every container with three techniques): the peers start a process per file")
    args = ap.parse_args()
    if args.large_timeout is None:
        args.large_timeout = args.timeout

    pd = args.pickle_doctor.resolve()
    if not os.access(pd, os.X_OK):
        sys.exit(f"pickle-doctor binary not found: {pd} (cargo build --release -p pickle-doctor)")
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    if "pickle-doctor" not in names:
        names.insert(0, "pickle-doctor")  # the baseline of every ratio
    overrides = {}
    for spec in args.bin:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            sys.exit(f"--bin {spec}: expected NAME=PATH")
        overrides[name.strip()] = str(Path(path).expanduser().absolute())
    tools = make_tools(names, pd, args.bin_dir, overrides)
    for t in tools:
        if t.package and not os.access(t.argv(Path("x"))[0], os.X_OK):
            sys.exit(f"{t.argv(Path('x'))[0]} not found: run with the python of benches/scanners/setup.sh's venv, "
                     "or pass --bin-dir")
    tool_versions(tools, pd)

    exts = None if args.benign_ext.strip() == "*" else {
        e.strip().lstrip(".").lower() for e in args.benign_ext.split(",") if e.strip()}
    hostile = load_hostile(args.hostile, args.compare_subset)
    benign = walk_benign(args.benign, exts, not args.no_extensionless)
    samples = hostile + benign
    seen: set[str] = set()
    for s in samples:  # result keys must be unique
        if s.display in seen:
            sys.exit(f"two samples are both shown as {s.display}: give the --benign directories distinct names")
        seen.add(s.display)
    for f in args.large:
        if not f.is_file():
            sys.exit(f"--large {f}: not a file")
    print(f"{len(hostile)} hostile, {len(benign)} benign, {len(args.large)} large; tools: "
          + ", ".join(f"{t.name} {t.version}" for t in tools), file=sys.stderr)

    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="pd-scanners-"))
    home = scratch / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(PEER_ENV)
    env["HOME"] = str(home)
    for k in ("CI", "PYTHONPATH", "PYTHONHOME"):
        env.pop(k, None)
    loads: dict[str, tuple[float, float, float]] = {}
    if hasattr(os, "getloadavg"):
        loads["start"] = os.getloadavg()
        if loads["start"][0] > 0.5:
            print(f"warning: load average {loads['start'][0]:.2f}: other work is running, times will be inflated",
                  file=sys.stderr)
    try:
        results = detection_pass(tools, samples, env=env, scratch=scratch, timeout=args.timeout, jobs=args.jobs)
        per_file = {r.path: r.outcome for r in results if r.tool == "pickle-doctor"}
        dirs = [("hostile", args.hostile)] + [("benign", d) for d in args.benign]
        dir_runs = pd_directory_pass(pd, dirs, samples, per_file, scratch=scratch, timeout=args.timeout)
        if args.large and hasattr(os, "getloadavg"):
            # The detection pass's own processes linger in the 1-minute load average;
            # wait (up to --settle seconds) for it to fall before timing large files.
            deadline = time.monotonic() + args.settle
            while os.getloadavg()[0] > 0.7 and time.monotonic() < deadline:
                time.sleep(2)
            loads["large"] = os.getloadavg()
        large = large_pass(tools, args.large, env=env, scratch=scratch, timeout=args.large_timeout,
                           runs=args.large_runs)
    finally:
        if not args.keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"scratch kept: {scratch}", file=sys.stderr)
    elapsed = time.perf_counter() - t_start

    body = render(args, tools, samples, results, dir_runs, large, started, elapsed, loads)
    write_section(args.out, body)
    raw = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "argv": sys.argv,
        "cores": os.cpu_count(),
        "load_average": loads,
        "tools": [{"name": t.name, "version": t.version, "command": t.display, "exit_codes": t.codes}
                  for t in tools],
        "peer_env": PEER_ENV,
        "results": [asdict(r) for r in results],
        "pickle_doctor_directory_runs": [asdict(d) for d in dir_runs],
        "large": [asdict(lr) for lr in large],
    }
    args.raw_out.parent.mkdir(parents=True, exist_ok=True)
    args.raw_out.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} and {args.raw_out} in {elapsed:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
