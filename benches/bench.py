#!/usr/bin/env python3
"""Benchmark pickle-doctor against the tools CPython ships for the same jobs.

Two comparisons, each on the same file, in one run, side by side:

* listing opcodes:  ``python -m pickletools FILE``   vs  ``pickle-doctor dis FILE``
* reading it all:   C ``pickle.load``                 vs  ``pickle-doctor show --stats FILE``

pickle-doctor never executes a pickle, so ``pickle.load`` is not a like-for-like
rival: it is the cost a user pays today to "just look at" a file, and the one
pickle-doctor has to beat to be worth reaching for.

Normally started by ``benches/run.sh``, which builds the release binary and
runs this under the bench venv (numpy and scikit-learn are needed both to make
``random-forest.pkl`` and for ``pickle.load`` to be able to read it).

Peak RSS is measured per command by GNU ``/usr/bin/time -f %M``, not by this
process. Linux seeds a new process's ``ru_maxrss`` with the RSS of whoever
forked it (the forked copy of the parent's memory counts until ``exec``), and
this script holds a few hundred MB after generating the data: measured directly,
every command would report at least that. ``time`` is a ~1 MB C program, so the
floor it imposes is below anything worth measuring. (A Python wrapper would
impose ~14 MB, more than a Rust CLI needs in total.)

Wall time is measured on runs *without* that wrapper. ``time`` forks and execs
the command itself, which adds about 1 ms to every run: nothing next to a
pickle.load of seconds, but a quarter of a 4 ms scan. So a command that is fast
on its first (wrapped) run gets its RSS from that run and its time from
``runs_fast`` further runs spawned directly (at least 20 when it takes under 0.1 s,
whatever the tool); a slow one (>= 10 s) keeps the wrapped runs for both, the wrapper
being lost in the noise.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN foundation -->"
END = "<!-- END foundation -->"

# A command whose first run takes at least this long counts as "slow" and gets
# --runs-slow repetitions instead of --runs-fast: pickletools on 30 MB takes
# minutes, and five of those would dominate the whole run for no extra insight.
SLOW_THRESHOLD_S = 10.0
# Commands whose first run takes less than this get at least QUICK_RUNS timed runs: a
# few-millisecond process is at the mercy of the machine's moment (on a shared 2-core VM,
# ±30% between runs), so its best needs more draws; they cost under 2 s.
QUICK_THRESHOLD_S = 0.1
QUICK_RUNS = 20

MB = 1_000_000  # decimal, to match "a ~30 MB file"; sizes and RSS use the same unit

GNU_TIME = "/usr/bin/time"


# --------------------------------------------------------------------------
# Data generation
# --------------------------------------------------------------------------


def make_dicts(path: Path) -> None:
    # Opcode-dense on purpose: many small objects, memo hits on every repeated
    # key, so the cost is per-opcode work rather than copying large blobs.
    # The recipe as given already lands at ~29.8 MB, so it is used unchanged.
    data = [
        {"id": i, "name": f"item{i}", "score": i * 0.5, "tags": ["a", "b"], "ok": i % 2 == 0}
        for i in range(600_000)
    ]
    with path.open("wb") as f:
        pickle_dump(data, f)


def make_random_forest(path: Path) -> None:
    # A real model, not a mock-up: numpy arrays via __reduce_ex__, sklearn
    # classes by GLOBAL/STACK_GLOBAL, nested estimators, i.e. what people
    # actually download. Fixed random_state keeps the bytes stable across runs
    # (given the pinned versions in requirements.txt).
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=10_000, n_features=20, n_informative=10, random_state=0)
    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1).fit(X, y)
    with path.open("wb") as f:
        pickle_dump(model, f)


def pickle_dump(obj, f) -> None:
    import pickle

    # Protocol 4 is pickle's default on 3.8+; spelled out so the files do not
    # change if the default does.
    pickle.dump(obj, f, protocol=4)


def dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class Dataset:
    name: str
    make: Callable[[Path], None]
    # Changing any part of the recipe regenerates the file: the recipe is
    # stored next to it and compared on every run.
    recipe: Callable[[], str]
    # Modules pickle.load will import while loading. The in-process probe
    # imports them *before* starting the clock, so "load alone" is the
    # unpickling, and their import cost shows up in the start-up table instead.
    preimport: list[str] = field(default_factory=list)


DATASETS = [
    Dataset(
        name="dicts-600k-p4.pkl",
        make=make_dicts,
        recipe=lambda: f"v1 600k dicts protocol=4 python={sys.version.split()[0]}",
    ),
    Dataset(
        name="random-forest.pkl",
        make=make_random_forest,
        recipe=lambda: (
            "v1 RandomForestClassifier(n_estimators=100, random_state=0) on "
            "make_classification(n_samples=10000, n_features=20, n_informative=10, random_state=0) "
            f"protocol=4 sklearn={dist_version('scikit-learn')} numpy={dist_version('numpy')}"
        ),
        preimport=["sklearn.ensemble"],
    ),
]


def ensure_data(data_dir: Path) -> dict[str, Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ds in DATASETS:
        path = data_dir / ds.name
        stamp = data_dir / (ds.name + ".recipe")
        recipe = ds.recipe()
        if path.exists() and stamp.exists() and stamp.read_text() == recipe:
            log(f"reusing {path} ({fmt_mb(path.stat().st_size)} MB)")
        else:
            log(f"generating {path} ...")
            t0 = time.perf_counter()
            # Write-then-rename: an interrupted run must not leave a truncated
            # file that the next run would happily reuse.
            tmp = path.with_name(path.name + ".tmp")
            ds.make(tmp)
            os.replace(tmp, path)
            stamp.write_text(recipe)
            log(f"generated {path}: {path.stat().st_size:,} bytes "
                f"({fmt_mb(path.stat().st_size)} MB) in {time.perf_counter() - t0:.1f} s")
        paths[ds.name] = path
    return paths


# --------------------------------------------------------------------------
# Measuring one command
# --------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    max_rss_kb: int  # 0 for a run not wrapped in /usr/bin/time
    exit_code: int
    timed_out: bool
    stdout: str  # only when captured, and only if small
    stdout_bytes: int | None  # only when captured
    stderr_tail: str
    # Whether `seconds` counts: False for the wrapped RSS run of a fast command.
    timed: bool = True
    # Pages the command (or /usr/bin/time and it) had to read from disk: this VM's host drops
    # page cache that no process has mapped for a minute (DAMON `pageout` of unmapped pages),
    # and a run that faults its binary back in is slower for it.
    major_faults: int = 0


def run_once(argv: list[str], timeout: float, capture_stdout: bool = False,
             rss: bool = True) -> Run:
    """Runs `argv` once; with `rss`, under /usr/bin/time for its peak RSS (which adds
    the wrapper's own fork and exec, about 1 ms, to the time)."""
    # stderr goes to a file, not a pipe: we block in wait4 and nobody would
    # drain a pipe, so a chatty child could deadlock on a full one.
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss_out, (
        tempfile.TemporaryFile() if capture_stdout else open(os.devnull, "wb")
    ) as out:
        # -o keeps time's report out of the command's own stderr.
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss_out.name, *argv] if rss else argv

        t0 = time.perf_counter()
        # Own session, so a timeout kills the whole group (time, the command,
        # and a stand-in shell script's children), not just the direct child.
        proc = subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)

        # A blocking wait4 plus an alarm, rather than Popen.wait(timeout=...), whose
        # polling sleeps of up to 50 ms would swamp a command of a few milliseconds, or
        # a threading.Timer: a thread started beside every timed command competes with
        # it for this machine's two vCPUs (a 4 ms `scan` had a median of 5-6 ms with
        # one, 4.3-4.7 ms without, over 4 rounds of 100 runs).
        timed_out = _Alarm.arm(proc.pid, timeout)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C included: do not leave a 20-minute job behind
            kill_group(proc.pid)
            os.wait4(proc.pid, 0)
            raise
        finally:
            _Alarm.disarm()
        elapsed = time.perf_counter() - t0
        # Tell Popen the child is reaped, or it would try to wait for it again.
        proc.returncode = os.waitstatus_to_exitcode(status)

        # time writes "Command exited with non-zero status N" before the
        # number on failure, and nothing at all if it was killed by the timeout.
        lines = rss_out.read().split()
        max_rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        err.seek(0)
        stderr_tail = err.read()[-2000:].decode(errors="replace")
        stdout, stdout_bytes = "", None
        if capture_stdout:
            stdout_bytes = os.fstat(out.fileno()).st_size
            if stdout_bytes <= 1 << 20:  # a disassembly can run to gigabytes
                out.seek(0)
                stdout = out.read().decode(errors="replace")
    return Run(elapsed, max_rss_kb, proc.returncode, timed_out.is_set(), stdout, stdout_bytes,
               stderr_tail, major_faults=usage.ru_majflt)


class _Alarm:
    """Kills the process group of the command being waited for when its time is up: a
    SIGALRM from `setitimer`, handled in the main thread (which `wait4` then returns to,
    PEP 475), so that no thread runs beside the command."""

    _pid: int | None = None
    _fired = threading.Event()

    @classmethod
    def arm(cls, pid: int, timeout: float) -> threading.Event:
        if signal.getsignal(signal.SIGALRM) is not cls._on_alarm:
            signal.signal(signal.SIGALRM, cls._on_alarm)
        cls._pid = pid
        cls._fired = threading.Event()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        return cls._fired

    @classmethod
    def disarm(cls) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        cls._pid = None

    @classmethod
    def _on_alarm(cls, _signum: int, _frame: object) -> None:
        if cls._pid is not None:
            cls._fired.set()
            kill_group(cls._pid)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass
class Result:
    label: str
    argv: list[str]
    runs: list[Run] = field(default_factory=list)
    # None when every run exited 0 in time; otherwise what goes in the table.
    problem: str | None = None
    # Set when the numbers exist but should not be trusted (see pd_measure).
    warning: str | None = None
    # For the in-process probe: what it printed (load time, RSS delta).
    probe: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.runs)

    @property
    def best_seconds(self) -> float:
        if self.probe:
            return min(p["load_s"] for p in self.probe)
        return min(r.seconds for r in self.runs if r.timed)

    @property
    def peak_rss_mb(self) -> float:
        # Largest over the runs: RSS barely varies between runs, and if it
        # does, the worse number is the honest one.
        if self.probe:
            return max(p["rss_delta_kb"] for p in self.probe) * 1024 / MB
        return max(r.max_rss_kb for r in self.runs) * 1024 / MB


def measure(label: str, argv: list[str], args, probe: bool = False) -> Result:
    res = Result(label, argv)
    # Run 0 is wrapped in /usr/bin/time for the RSS; if it was fast, its time is dropped
    # and `runs_fast` unwrapped runs follow (see the module docs).
    want = args.runs_fast
    slow = False
    i = 0
    while i < want + (0 if slow else 1):
        log(f"  {label}: run {i + 1} ...")
        # The in-process probe times itself, and its own ru_maxrss is only right when a
        # small process (time) forked it: it always runs wrapped.
        wrapped = i == 0 or slow or probe
        run = run_once(argv, args.timeout, capture_stdout=probe, rss=wrapped)
        if run.timed_out:
            res.problem = f"timeout (>{args.timeout:g} s)"
            log(f"  {label}: TIMEOUT after {args.timeout:g} s")
            break
        if run.exit_code != 0:
            res.problem = f"failed (exit {run.exit_code})"
            log(f"  {label}: FAILED with exit code {run.exit_code}: {shlex.join(argv)}")
            for line in run.stderr_tail.strip().splitlines()[-8:]:
                log(f"      | {line}")
            break
        if i == 0 and run.seconds >= SLOW_THRESHOLD_S:
            want, slow = args.runs_slow, True
        elif i == 0 and run.seconds < QUICK_THRESHOLD_S and want > 1:
            want = max(want, QUICK_RUNS)
        run.timed = slow or i > 0
        res.runs.append(run)
        msg = (f"  {label}: {run.seconds:.3f} s"
               + (f", {run.max_rss_kb * 1024 / MB:.1f} MB peak RSS" if wrapped else "")
               + (f", {run.major_faults} major faults" if run.major_faults else "")
               + ("" if run.timed else " (RSS run, time not counted)"))
        if probe:
            p = json.loads(run.stdout.strip().splitlines()[-1])
            res.probe.append(p)
            msg += (f" (whole process); load alone {p['load_s']:.3f} s, "
                    f"peak - RSS before = {p['rss_delta_kb'] * 1024 / MB:.1f} MB")
        log(msg)
        i += 1
    return res


# Runs in the bench interpreter: the unpickling alone, timed from inside, so
# interpreter start-up and module imports are not counted. RSS is read from
# /proc/self/statm just before the load (the current size, not a peak) and
# compared with the process's peak afterwards. tracemalloc is deliberately not
# used: it slows allocation-heavy code such as unpickling several-fold and only
# sees Python-heap allocations.
PROBE = r"""
import importlib, json, os, pickle, resource, sys, time
for name in sys.argv[2:]:
    importlib.import_module(name)
def rss_kb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024
before = rss_kb()
with open(sys.argv[1], 'rb') as f:
    t0 = time.perf_counter()
    obj = pickle.load(f)
    load_s = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({'load_s': load_s, 'rss_before_kb': before, 'peak_kb': peak,
                  'rss_delta_kb': peak - before}), flush=True)
# Skip tearing down millions of objects: nobody reads this process's total time.
os._exit(0)
"""

PLAIN_LOAD = "import pickle,sys; pickle.load(open(sys.argv[1],'rb'))"


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------


@dataclass
class Row:
    file: str
    size: int
    result: Result
    # The pickle-doctor result this row is compared with (None for the
    # pickle-doctor rows themselves).
    versus: Result | None
    note: str = ""


def bench_file(path: Path, ds: Dataset, py: str, pd: str, pd_problem: str | None, args) -> list[Row]:
    size = path.stat().st_size
    f = str(path)
    log(f"\n== {path.name} ({fmt_mb(size)} MB)")

    def pd_measure(label: str, argv: list[str]) -> Result:
        if pd_problem:
            return Result(label, argv, problem=pd_problem)
        res = measure(label, argv, args)
        if not res.ok and res.problem.startswith("failed"):
            # The CLI's exit codes: 2 for usage errors (an unknown subcommand
            # among them) and I/O, 1 when the file itself was rejected.
            sub = shlex.join(argv[1:-1])
            if res.problem.endswith("(exit 2)"):
                log(f"  note: `{sub}` failed with a usage error; the pickle-doctor CLI may not "
                    f"have this subcommand yet. Continuing with the other rows.")
                res.problem = f"not available: {res.problem}"
            else:
                log(f"  note: `{sub}` rejected this file (stderr above). Continuing.")
        elif res.ok:
            # A stub that exits 0 without doing anything would otherwise turn
            # into a spectacular, meaningless speed-up. One extra, unmeasured
            # run with stdout kept (a file costs more than /dev/null).
            check = run_once(argv, args.timeout, capture_stdout=True)
            if check.exit_code == 0 and check.stdout_bytes == 0:
                res.warning = "printed nothing"
                log(f"  warning: `{shlex.join(argv[1:-1])}` exited 0 but printed nothing: a stub "
                    f"or a stand-in? Its ratios are left out.")
        return res

    pickletools = measure("python -m pickletools", [py, "-m", "pickletools", f], args)
    dis = pd_measure("pickle-doctor dis", [pd, "dis", f])
    load = measure("pickle.load (whole process)", [py, "-c", PLAIN_LOAD, f], args)
    probe = measure("pickle.load (load alone, in-process)", [py, "-c", PROBE, f, *ds.preimport],
                    args, probe=True)
    show = pd_measure("pickle-doctor show --stats", [pd, "show", "--stats", f])

    note_probe = "time of `pickle.load` alone; RSS column is peak minus RSS just before the load"
    if ds.preimport:
        note_probe += f" (`{', '.join(ds.preimport)}` imported before the clock starts)"
    return [
        Row(path.name, size, pickletools, dis),
        Row(path.name, size, dis, None),
        Row(path.name, size, load, show),
        Row(path.name, size, probe, show, note=note_probe),
        Row(path.name, size, show, None),
    ]


def check_binary(pd: str) -> str | None:
    """Why pickle-doctor cannot be run at all, or None if it can."""
    p = Path(pd)
    if not p.exists():
        return "not available: binary not found"
    if not os.access(p, os.X_OK):
        return "not available: binary not executable"
    return None


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def fmt_mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f}"


def fmt_ratio(num: float, den: float) -> str:
    if den <= 0:
        return "n/a"
    return f"{num / den:.1f}×"


def table(rows: list[Row]) -> str:
    out = [
        "| file | size (MB) | tool | runs | time (s) | peak RSS (MB) | time ÷ pickle-doctor | RSS ÷ pickle-doctor |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        r = row.result
        tool = f"`{r.label}`" if r.label.startswith(("pickle-doctor", "python -m")) else r.label
        if row.note:
            tool += " ¹"
        if r.warning:
            tool += f" ⚠ {r.warning}"
        if r.ok:
            time_s = f"{r.best_seconds:.3f}"
            rss = ("Δ " if r.probe else "") + f"{r.peak_rss_mb:.1f}"
        else:
            time_s, rss = r.problem, "—"
        if row.versus is None:
            t_ratio = rss_ratio = "—"
        elif r.ok and row.versus.ok and not row.versus.warning:
            t_ratio = fmt_ratio(r.best_seconds, row.versus.best_seconds)
            rss_ratio = fmt_ratio(r.peak_rss_mb, row.versus.peak_rss_mb)
        else:
            t_ratio = rss_ratio = "n/a"
        out.append(f"| {row.file} | {fmt_mb(row.size)} | {tool} | {len(r.runs)} | {time_s} | {rss} "
                   f"| {t_ratio} | {rss_ratio} |")
    return "\n".join(out)


def startup_table(results: list[Result]) -> str:
    out = ["| command | runs | time (s) | peak RSS (MB) |", "| --- | ---: | ---: | ---: |"]
    for r in results:
        if r.ok:
            out.append(f"| `{r.label}` | {len(r.runs)} | {r.best_seconds:.3f} | {r.peak_rss_mb:.1f} |")
        else:
            out.append(f"| `{r.label}` | {len(r.runs)} | {r.problem} | — |")
    return "\n".join(out)


def machine_info(py: str, pd: str, load_before: str) -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass

    def cmd(argv: list[str]) -> str:
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            text = (p.stdout or p.stderr).strip().splitlines()
            return text[0] if p.returncode == 0 and text else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"

    uname = os.uname()
    return [
        ("date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("nproc", cmd(["nproc"])),
        ("CPU", cpu),
        ("memory", mem),
        ("kernel", f"{uname.sysname} {uname.release} {uname.machine}"),
        ("python", cmd([py, "-c", "import sys; print(sys.version.replace(chr(10), ' '))"])),
        ("numpy / scikit-learn", f"{dist_version('numpy')} / {dist_version('scikit-learn')}"),
        ("pickle-doctor", cmd([pd, "--version"])),
        ("git commit", cmd(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])),
        # Two cores, shared with whatever else runs: a busy machine shows here
        # before it shows as mysteriously slow numbers.
        ("load average (1/5/15 min) before / after", f"{load_before} / {loadavg()}"),
    ]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def shown(argv: list[str], py: str, pd: str, cache: Path) -> str:
    """A command as a reader can retype it: our long absolute paths shortened."""
    text = shlex.join(argv) + " > /dev/null"
    for long, short in ((shlex.quote(PROBE), '"$PROBE"'), (shlex.quote(PLAIN_LOAD), f'"{PLAIN_LOAD}"'),
                        (py, "python"), (pd, "pickle-doctor"),
                        (str(cache), "$PICKLE_DOCTOR_CACHE")):
        text = text.replace(long, short)
    return text


def footnotes(rows: list[Row]) -> list[str]:
    notes = dict.fromkeys(f"{r.file}: {r.note}" for r in rows if r.note)
    if not notes:
        return []
    return ["¹ In-process rows, timed inside the interpreter so that start-up (table below) is "
            "left out:", "", *[f"- {n}" for n in notes]]


def render(rows, startup, info, args, py, pd, cache) -> str:
    mode = ("**--quick smoke run: 1 run per command, numbers are indicative only.**\n\n"
            if args.quick else "")
    runs = ("N = 1, --quick" if args.quick else
            f"N = {args.runs_fast}, or {args.runs_slow} for commands whose first run takes "
            f"≥ {SLOW_THRESHOLD_S:g} s, or at least {QUICK_RUNS} for those under "
            f"{QUICK_THRESHOLD_S:g} s")
    lines = [
        "## Foundation: pickle-doctor vs pickletools and C pickle",
        "",
        "Generated by `benches/run.sh` (`benches/bench.py`); do not edit by hand.",
        "",
        mode + f"Time is the best of N wall-clock runs ({runs}), including process start-up, "
        "spawned directly. Peak RSS is the command's own maximum resident set size as reported "
        "by GNU `/usr/bin/time -f %M` on one more run (on every run for commands of ≥ 10 s), "
        "whose time is not counted: the wrapper adds ~1 ms. "
        "MB = 10⁶ bytes. The ratio columns divide each Python row by the pickle-doctor row it "
        "competes with (`pickletools` ↔ `dis`, `pickle.load` ↔ `show --stats`): 10× means "
        "pickle-doctor is ten times faster / smaller. "
        f"Each command is capped at {args.timeout:g} s.",
        "",
        table(rows),
        "",
        *footnotes(rows),
        "",
        "Interpreter start-up alone, for reading the whole-process rows:",
        "",
        startup_table(startup),
        "",
        "### Machine",
        "",
        *[f"- {k}: {v}" for k, v in info],
        "",
        "### Commands",
        "",
        "`python` is the bench venv's interpreter "
        "(`$PICKLE_DOCTOR_CACHE/venvs/bench/bin/python`, `$PICKLE_DOCTOR_CACHE` defaulting to "
        "`~/.cache/pickle-doctor`); the files are in `$PICKLE_DOCTOR_CACHE/bench-data/`. "
        "`$PROBE` is the in-process timing script in `benches/bench.py`.",
        "",
        "```sh",
        *[shown(r.argv, py, pd, cache) for r in startup],
        *[shown(r.result.argv, py, pd, cache) for r in rows],
        "```",
    ]
    return "\n".join(lines)


def write_section(doc: Path, body: str) -> None:
    # Only the text between our markers is ours: other harnesses write their
    # own sections into the same file later, and a rerun must not wipe them.
    block = f"{BEGIN}\n{body.rstrip()}\n{END}"
    if doc.exists():
        text = doc.read_text()
        start, end = text.find(BEGIN), text.find(END)
        if start != -1 and end > start:
            text = text[:start] + block + text[end + len(END):]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    else:
        text = (
            "# Benchmarks\n\n"
            "How fast and how lean pickle-doctor is next to the tools people already use.\n"
            "Each section sits between `<!-- BEGIN name -->` / `<!-- END name -->` markers and is\n"
            "rewritten by the harness that owns it; write notes outside the markers.\n\n"
            + block + "\n"
        )
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    cache = Path(os.environ.get("PICKLE_DOCTOR_CACHE") or Path.home() / ".cache" / "pickle-doctor")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pickle-doctor", required=True, help="path to the pickle-doctor binary")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for pickletools / pickle.load (default: this one, the bench venv)")
    ap.add_argument("--quick", action="store_true", help="1 run per command (smoke test)")
    ap.add_argument("--runs-fast", type=int, default=5, help="runs for fast commands (default 5)")
    ap.add_argument("--runs-slow", type=int, default=3,
                    help=f"runs for commands whose first run takes >= {SLOW_THRESHOLD_S:g} s (default 3)")
    ap.add_argument("--timeout", type=float, default=1200, help="per-run cap in seconds (default 1200)")
    ap.add_argument("--data-dir", type=Path, default=cache / "bench-data")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    args = ap.parse_args()
    if args.quick:
        args.runs_fast = args.runs_slow = 1

    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"{GNU_TIME} (GNU time) is needed to measure each command's peak RSS; "
                 "install it with `apt-get install time`.")

    t_start = time.perf_counter()
    py = args.python
    # A bare name means "the one on PATH", as it would in a shell.
    pd_arg = args.pickle_doctor
    pd = str(Path(shutil.which(pd_arg) or pd_arg if os.sep not in pd_arg else pd_arg).resolve())
    pd_problem = check_binary(pd)
    if pd_problem:
        log(f"pickle-doctor binary {pd}: {pd_problem}; its rows will say so.")

    paths = ensure_data(args.data_dir)
    load_before = loadavg()

    log("\n== interpreter start-up")
    startup = [
        measure("python -c pass", [py, "-c", "pass"], args),
        measure("python -c 'import sklearn.ensemble'", [py, "-c", "import sklearn.ensemble"], args),
    ]

    rows: list[Row] = []
    for ds in DATASETS:
        rows += bench_file(paths[ds.name], ds, py, pd, pd_problem, args)

    body = render(rows, startup, machine_info(py, pd, load_before), args, py, pd, cache)
    print(body)
    if not args.no_docs:
        write_section(args.docs, body)
        log(f"\nwrote {args.docs} (between {BEGIN} and {END})")
    log(f"total bench time: {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
