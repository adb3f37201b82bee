#!/usr/bin/env python3
"""Benchmark `pickle-doctor check` on a real random-forest pickle against the current venv.

    benches/check_bench.py --pickle-doctor target/release/pickle-doctor \
        --python ~/.cache/pickle-doctor/venvs/bench/bin/python \
        --file ~/.cache/pickle-doctor/bench-data/random-forest.pkl [--out docs/benchmarks.md]

Cold: the first run after the page cache is dropped (when this process may write
/proc/sys/vm/drop_caches; otherwise the first run of this process, and the table says so).
Warm: the best of --runs further runs. Side by side, in the same run: what a user does today
to find out, `python -c "import pickle; pickle.load(open(FILE, 'rb'))"` in the target venv
(which imports sklearn and numpy and runs the pickle). pickle-doctor starts the target
interpreter once (isolated) to learn its search path; that cost is included.
"""
import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

BEGIN = "<!-- BEGIN check -->"
END = "<!-- END check -->"


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(argv, env=None) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - t0, p.returncode


def measure(argv, runs: int):
    dropped = drop_caches()
    cold, rc = timed(argv)
    warm = min(timed(argv)[0] for _ in range(runs))
    return cold, warm, rc, dropped


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pickle-doctor", required=True)
    ap.add_argument("--python", required=True, help="the target venv's python")
    ap.add_argument("--file", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out")
    a = ap.parse_args()
    size = os.path.getsize(a.file)
    pd_argv = [a.pickle_doctor, "check", a.file, "--python", a.python]
    py_argv = [a.python, "-c", f"import pickle; pickle.load(open({a.file!r}, 'rb'))"]
    rows = []
    for label, argv in [("pickle-doctor check", pd_argv), ("python pickle.load (the real load)", py_argv)]:
        cold, warm, rc, dropped = measure(argv, a.runs)
        rows.append((label, cold, warm, rc, dropped))
        print(f"{label}: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms (rc {rc})", file=sys.stderr)
    pd_cold, pd_warm = rows[0][1], rows[0][2]
    py_cold, py_warm = rows[1][1], rows[1][2]
    cold_kind = "after dropping the page cache" if rows[0][4] else "first run (page cache not dropped: no permission)"
    body = "\n".join([
        f"## check ({datetime.date.today().isoformat()})",
        "",
        f"`pickle-doctor check` of `{Path(a.file).name}` ({size / 1e6:.1f} MB, RandomForestClassifier with 100 trees) "
        f"against the bench venv (`{a.python}`). Cold = {cold_kind}; warm = best of {a.runs}. Goal: under 200 ms cold.",
        "",
        "| command | cold | warm |",
        "|---|---:|---:|",
        f"| `pickle-doctor check` | {pd_cold * 1000:.0f} ms | {pd_warm * 1000:.0f} ms |",
        f"| `python -c 'pickle.load(...)'` in the venv | {py_cold * 1000:.0f} ms | {py_warm * 1000:.0f} ms |",
        f"| ratio (python / pickle-doctor) | {py_cold / pd_cold:.1f}x | {py_warm / pd_warm:.1f}x |",
        "",
    ])
    print(body)
    if a.out:
        doc = Path(a.out)
        text = doc.read_text() if doc.exists() else ""
        block = f"{BEGIN}\n{body}{END}"
        if BEGIN in text and END in text:
            pre, rest = text.split(BEGIN, 1)
            _, post = rest.split(END, 1)
            text = pre + block + post
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
