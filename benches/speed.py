#!/usr/bin/env python3
"""The speed goals of issue 15, measured side by side in one run, each with PASS or FAIL.

* `scan` ≥ 100× picklescan and ≥ 10× C `pickle.load` (load alone), on both dense files;
* `show --stats` ≥ 5× C `pickle.load` (whole process) with peak RSS ≤ ¼ of it;
* `dis` ≥ 100× `python -m pickletools` on both dense files, in each of 5 runs
  (each pickletools run is paired with the best of 3 `dis` runs around it; the worst pair
  counts);
* cost linear in size: the mixed file at 1×, 4× and 16×.

Plus, for the record: the 12 MB random forest, the 2 GB checkpoint, and an npz of 64
object arrays scanned with its members in parallel and with `--jobs 1`.

Normally started by `benches/run.sh --speed`, which builds the release binary with
`scripts/build-release.sh` (static-pie on linux-gnu) and the bench venv; picklescan comes from
the peer-scanner venv of `benches/scanners/setup.sh`. Results go between
`<!-- BEGIN speed -->` and `<!-- END speed -->` in docs/benchmarks.md.

Whole processes are timed with GNU time's peak RSS, as in bench.py; `pickle.load` alone is
timed inside the interpreter (bench.py's probe). On the dense files the commands the goals
compare run in 3 blocks spread over the file's section, best over all counting: this VM's host
slows it in spells of seconds (docs/benchmarks.md, stop 23).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from bench import PLAIN_LOAD, PROBE, Result, fmt_mb, log, measure, run_once  # noqa: E402
from docsection import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECTION = "speed"
MB = bench.MB
DIS_RUNS = 5
# `dis` runs per pair; the pair counts the best (see paired_dis).
DIS_TRIES = 3
# Blocks of runs of the commands the dense files' goals compare (see main's `tools`).
BLOCKS = 3


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def mixed_rows(n: int) -> list[dict]:
    return [{"id": i, "name": f"item-{i}", "score": i * 0.5, "tags": ("a", "b", i % 7)}
            for i in range(n)]


def make_mixed(rows: int):
    def make(path: Path) -> None:
        with path.open("wb") as f:
            bench.pickle_dump(mixed_rows(rows), f)
    return make


def make_npz(path: Path) -> None:
    # 64 object arrays, each member a pickle of 10,000 mixed rows: what parallel member
    # scanning is for. np.savez stores members uncompressed.
    import numpy as np

    arrays = {}
    for k in range(64):
        a = np.empty(10_000, dtype=object)
        a[:] = mixed_rows(10_000)
        arrays[f"rows{k:02d}"] = a
    with path.open("wb") as f:
        np.savez(f, **arrays)


def make_checkpoint(path: Path) -> None:
    import large_file

    large_file.make_checkpoint(path, 2 << 30)


@dataclass
class Data:
    name: str
    make: object
    recipe: str
    preimport: tuple[str, ...] = ()


def datasets() -> list[Data]:
    py = sys.version.split()[0]
    mixed = "v1 [{'id':i,'name':f'item-{i}','score':i*0.5,'tags':('a','b',i%7)}] protocol=4"
    return [
        Data("dicts-600k-p4.pkl", bench.make_dicts, f"v1 600k dicts protocol=4 python={py}"),
        Data("mixed-60k-p4.pkl", make_mixed(60_000), f"{mixed} n=60000 python={py}"),
        Data("mixed-240k-p4.pkl", make_mixed(240_000), f"{mixed} n=240000 python={py}"),
        Data("mixed-960k-p4.pkl", make_mixed(960_000), f"{mixed} n=960000 python={py}"),
        Data("random-forest.pkl", bench.make_random_forest, bench.DATASETS[1].recipe(),
             ("sklearn.ensemble",)),
        Data("rows-64-members.npz", make_npz,
             f"v1 np.savez 64 object arrays x 10000 mixed rows numpy={bench.dist_version('numpy')}"),
    ]


def ensure(data_dir: Path, ds: Data) -> Path:
    path = data_dir / ds.name
    stamp = data_dir / (ds.name + ".recipe")
    if path.exists() and stamp.exists() and stamp.read_text() == ds.recipe:
        return path
    log(f"generating {path} ...")
    tmp = path.with_name(path.name + ".tmp")
    ds.make(tmp)
    os.replace(tmp, path)
    stamp.write_text(ds.recipe)
    return path


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def paired_dis(pd: str, py: str, path: Path, runs: int, timeout: float) -> list[tuple[float, float]]:
    """`runs` pairs of (pickletools seconds, dis seconds), each pair run back to back so that
    both see the same machine load. A pair's `dis` time is the best of DIS_TRIES runs, one
    just before its `pickletools` run and the others just after, as every other command
    under 0.1 s is timed by its best. One `pickletools` run takes seconds and so averages
    over the host's spells, while a 30 ms `dis` run can land in one: in stop 23's runs,
    spells of a fraction of a second made `dis` 1.7× slower (three runs in a row of 55-61 ms
    against 31-36 ms), and bracketing the `pickletools` run puts the tries seconds apart."""
    pairs = []
    dis = [pd, "dis", str(path)]
    for i in range(runs):
        tries = [run_once(dis, timeout, rss=False)]
        pt = run_once([py, "-m", "pickletools", str(path)], timeout, rss=False)
        tries += [run_once(dis, timeout, rss=False) for _ in range(DIS_TRIES - 1)]
        for r, what in ((pt, "pickletools"), *((d, "dis") for d in tries)):
            if r.exit_code != 0 or r.timed_out:
                raise SystemExit(f"{what} failed on {path}: {r.stderr_tail[-500:]}")
        d = min(r.seconds for r in tries)
        pairs.append((pt.seconds, d))
        log(f"  dis pair {i + 1}/{runs}: pickletools {pt.seconds:.2f} s, dis {d:.3f} s "
            f"(best of {', '.join(f'{r.seconds:.3f}' for r in tries)}), {pt.seconds / d:.0f}×")
    return pairs


def merged(a: Result, b: Result) -> Result:
    """The runs of two measurements of the same command, as one."""
    return Result(a.label, a.argv, a.runs + b.runs, a.problem or b.problem,
                  a.warning or b.warning, a.probe + b.probe)


@dataclass
class Goal:
    name: str
    value: str
    target: str
    ok: bool | None  # None: not measured


def ratio(a: Result | None, b: Result | None) -> float | None:
    if not a or not b or not a.ok or not b.ok:
        return None
    return a.best_seconds / b.best_seconds


def fmt_x(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}×"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main() -> int:
    cache = Path(os.environ.get("PICKLE_DOCTOR_CACHE") or Path.home() / ".cache" / "pickle-doctor")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pickle-doctor", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--picklescan", default=str(cache / "venvs" / "scanners" / "bin" / "picklescan"))
    ap.add_argument("--quick", action="store_true",
                    help="1 run per command, 1 dis pair, no 2 GB checkpoint (a smoke test)")
    ap.add_argument("--runs", type=int, default=5, help="runs of fast commands (best counts)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--data-dir", type=Path, default=cache / "bench-data")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    dis_runs = 1 if args.quick else DIS_RUNS
    # bench.measure reads these: every command gets `runs` runs, slow ones (≥ 10 s) just one.
    margs = argparse.Namespace(runs_fast=runs, runs_slow=1, timeout=args.timeout)

    t0 = time.perf_counter()
    py = args.python
    pd = str(Path(shutil.which(args.pickle_doctor) or args.pickle_doctor).resolve())
    ps = args.picklescan if os.access(args.picklescan, os.X_OK) else None
    if ps is None:
        log(f"picklescan not found at {args.picklescan}: run benches/scanners/setup.sh")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data = {ds.name: (ds, ensure(args.data_dir, ds)) for ds in datasets()}
    ckpt = args.data_dir / "checkpoint-2gb.pt"
    if not args.quick and not ckpt.exists():
        log(f"generating {ckpt} (2 GB) ...")
        make_checkpoint(ckpt)
    load_before = bench.loadavg()

    def pd_cmd(label: str, argv: list[str], f: Path) -> Result:
        return measure(label, [pd, *argv, str(f)], margs)

    rows: dict[str, dict[str, Result]] = {}
    pairs: dict[str, list[tuple[float, float]]] = {}

    def tools(name: str, *, dense: bool, loads: bool = True, pdis: bool = True) -> None:
        ds, f = data[name] if name in data else (None, ckpt)
        log(f"\n== {f.name} ({fmt_mb(f.stat().st_size)} MB)")
        r: dict[str, Result] = {}
        # The commands the goals compare run in BLOCKS blocks, spread over this file's
        # section, and each one's best over all blocks counts: this VM's host slows every
        # process for seconds at a time, longer than one block of 20 runs lasts, so a single
        # block can land wholly in a slow spell (docs/benchmarks.md, stop 23). Within a block
        # `scan`'s runs are back to back, as a scanner meets one file after another. Timed
        # in alternation with the load-alone probe instead, its best was 4.0 ms against
        # 3.3 ms: each probe touches 36 MB, which evicts the binary and the kernel's state
        # from the CPU caches (a process that only reads 30 MB slows the next `scan` as much).
        blocks = BLOCKS if dense and not args.quick else 1
        pre = list(ds.preimport) if ds else []
        for block in range(blocks):
            if block:
                log(f"  block {block + 1} of {blocks}")
            part = {"scan": pd_cmd("pickle-doctor scan", ["scan"], f),
                    "show": pd_cmd("pickle-doctor show --stats", ["show", "--stats"], f)}
            if ps and not block:
                part["picklescan"] = measure("picklescan -p", [ps, "-p", str(f)], margs)
            if loads:
                part["load"] = measure("pickle.load (whole process)",
                                       [py, "-c", PLAIN_LOAD, str(f)], margs)
                part["probe"] = measure("pickle.load (load alone)",
                                        [py, "-c", PROBE, str(f), *pre], margs, probe=True)
            for key, res in part.items():
                r[key] = merged(r[key], res) if key in r else res
        if dense:
            pairs[name] = paired_dis(pd, py, f, dis_runs, args.timeout)
        elif pdis:
            r["dis"] = pd_cmd("pickle-doctor dis", ["dis"], f)
        rows[name] = r

    tools("dicts-600k-p4.pkl", dense=True)
    tools("mixed-60k-p4.pkl", dense=True)
    for name in ("mixed-240k-p4.pkl", "mixed-960k-p4.pkl"):
        log(f"\n== {name}")
        f = data[name][1]
        rows[name] = {k: pd_cmd(f"pickle-doctor {' '.join(a)}", a, f)
                      for k, a in (("scan", ["scan"]), ("show", ["show", "--stats"]),
                                   ("dis", ["dis"]))}
    tools("random-forest.pkl", dense=False)
    if not args.quick:
        tools("checkpoint-2gb.pt", dense=False, loads=False, pdis=False)

    npz = data["rows-64-members.npz"][1]
    log(f"\n== {npz.name} ({fmt_mb(npz.stat().st_size)} MB): members in parallel vs --jobs 1")
    par = {"parallel": pd_cmd("pickle-doctor scan", ["scan"], npz),
           "sequential": pd_cmd("pickle-doctor scan --jobs 1", ["scan", "--jobs", "1"], npz)}

    # ---------------------------------------------------------------- goals
    goals: list[Goal] = []
    for name, short in (("dicts-600k-p4.pkl", "30 MB dicts"), ("mixed-60k-p4.pkl", "mixed")):
        r = rows[name]
        x = ratio(r.get("picklescan"), r["scan"])
        goals.append(Goal(f"scan ≥ 100× picklescan ({short})", fmt_x(x), "≥ 100×",
                          None if x is None else x >= 100))
        x = ratio(r["probe"], r["scan"])
        goals.append(Goal(f"scan ≥ 10× pickle.load, load alone ({short})", fmt_x(x), "≥ 10×",
                          None if x is None else x >= 10))
        x = ratio(r["load"], r["show"])
        xa = ratio(r["probe"], r["show"])
        goals.append(Goal(f"show --stats ≥ 5× pickle.load, whole process ({short})",
                          f"{fmt_x(x)} (load alone: {fmt_x(xa)})", "≥ 5×",
                          None if x is None else x >= 5))
        rss = r["show"].peak_rss_mb / r["load"].peak_rss_mb if r["load"].ok else None
        goals.append(Goal(f"show --stats peak RSS ≤ ¼ of pickle.load's ({short})",
                          "n/a" if rss is None else f"{r['show'].peak_rss_mb:.1f} / "
                          f"{r['load'].peak_rss_mb:.1f} MB = {rss:.2f}", "≤ 0.25",
                          None if rss is None else rss <= 0.25))
        per_run = [pt / d for pt, d in pairs[name]]
        goals.append(Goal(f"dis ≥ 100× pickletools in each of {len(per_run)} runs ({short})",
                          "min " + fmt_x(min(per_run)) + " (runs: "
                          + ", ".join(f"{x:.0f}" for x in per_run) + ")", "≥ 100× every run",
                          min(per_run) >= 100))
    names = ["mixed-60k-p4.pkl", "mixed-240k-p4.pkl", "mixed-960k-p4.pkl"]
    lin_rows = []
    for cmd in ("scan", "show", "dis"):
        per_mb = []
        for n in names:
            res = rows[n].get(cmd)
            if cmd == "dis" and n in pairs:
                secs = min(d for _, d in pairs[n])
            else:
                secs = res.best_seconds
            per_mb.append(secs * 1000 / (data[n][1].stat().st_size / MB))
        lin_rows.append((cmd, per_mb))
        worst = per_mb[2] / min(per_mb[0], per_mb[1])
        goals.append(Goal(f"linear: `{'show --stats' if cmd == 'show' else cmd}` ms/MB at 1×/4×/16×",
                          " / ".join(f"{x:.1f}" for x in per_mb) + f" (16× ÷ best = {worst:.2f})",
                          "16× ≤ 1.25 × best", worst <= 1.25))

    body = render(rows, pairs, par, goals, lin_rows, data, ckpt, args, py, pd, ps, load_before,
                  time.perf_counter() - t0)
    print(body)
    for g in goals:
        log(f"{'PASS' if g.ok else ('n/a ' if g.ok is None else 'FAIL')}  {g.name}: {g.value}")
    if not args.no_docs:
        write_section(args.docs, SECTION, body)
        log(f"wrote {args.docs} (section {SECTION})")
    log(f"total: {time.perf_counter() - t0:.0f} s")
    return 0


def render(rows, pairs, par, goals, lin_rows, data, ckpt, args, py, pd, ps, load_before,
           elapsed) -> str:
    def size(name: str) -> float:
        f = data[name][1] if name in data else ckpt
        return f.stat().st_size

    def cell(r: Result | None) -> str:
        if r is None:
            return "—"
        if not r.ok:
            return r.problem or "failed"
        rss = ("Δ" if r.probe else "") + f"{r.peak_rss_mb:.0f}"
        return f"{r.best_seconds:.3f} s / {rss} MB"

    mode = "**--quick smoke run: 1 run per command; numbers are indicative only.**\n\n" \
        if args.quick else ""
    out = [
        "## Speed goals (issue 15)",
        "",
        "Generated by `benches/run.sh --speed` (`benches/speed.py`); do not edit by hand.",
        "",
        mode + f"Best of {1 if args.quick else args.runs} wall-clock runs per command (1 for "
        "commands that take ≥ 10 s, at least 20 for those under 0.1 s, whichever the tool), "
        "whole processes spawned directly from the bench "
        "interpreter (start-up included); peak RSS from one more run under GNU "
        "`/usr/bin/time -f %M`, not timed, since the wrapper's own fork and exec add ~1 ms; "
        "`pickle.load` alone is timed inside the interpreter (RSS: peak minus RSS before the "
        "load, marked Δ). On the two dense files, `scan`, `show --stats` and both `pickle.load` "
        f"timings run in {1 if args.quick else BLOCKS} blocks spread over the file's section, "
        "and each one's best over all blocks counts: the host slows this VM for seconds at a "
        "time. `dis` and `pickletools` run as "
        f"{len(next(iter(pairs.values())))} back-to-back pairs on the dense files (a pair's "
        f"`dis` time is the best of {DIS_TRIES} runs, one just before its `pickletools` run "
        "and the others just after), and each pair gives a ratio. "
        "`pickle-doctor` is the release build (`scripts/build-release.sh`). MB = 10⁶ bytes.",
        "",
        "### Goals",
        "",
        "| goal | measured | target | result |",
        "| --- | --- | --- | --- |",
        *[f"| {g.name} | {g.value} | {g.target} | "
          f"{'PASS' if g.ok else ('n/a' if g.ok is None else '**FAIL**')} |" for g in goals],
        "",
        "### Time / peak RSS per file",
        "",
        "| file | MB | `scan` | `show --stats` | `dis` | picklescan | `pickle.load` (process) "
        "| `pickle.load` (alone) | `pickletools` |",
        "| --- | ---: | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        if name in pairs:
            dis = f"{min(d for _, d in pairs[name]):.3f} s"
            pt = f"{min(p for p, _ in pairs[name]):.2f} s"
        else:
            dis, pt = cell(r.get("dis")), "—"
        out.append(f"| {name} | {size(name) / MB:.1f} | {cell(r.get('scan'))} | "
                   f"{cell(r.get('show'))} | {dis} | {cell(r.get('picklescan'))} | "
                   f"{cell(r.get('load'))} | {cell(r.get('probe'))} | {pt} |")
    out += [
        "",
        "`dis` and `pickletools` on the dense files: the best of the paired runs (RSS is not "
        "taken for them). The checkpoint is a torch zip: `pickle.load` cannot read it.",
        "",
        "### Linearity: the mixed file at 1×, 4×, 16× (ms per MB)",
        "",
        "| command | 1× | 4× | 16× |",
        "| --- | ---: | ---: | ---: |",
        *[f"| `{'show --stats' if c == 'show' else c}` | " + " | ".join(f"{x:.1f}" for x in v)
          + " |" for c, v in lin_rows],
        "",
        "### Members in parallel",
        "",
        f"`rows-64-members.npz` ({size('rows-64-members.npz') / MB:.1f} MB): 64 object arrays "
        "of 10,000 mixed rows, each a pickle member.",
        "",
        "| command | time / peak RSS |",
        "| --- | --- |",
        f"| `pickle-doctor scan` (members in parallel) | {cell(par['parallel'])} |",
        f"| `pickle-doctor scan --jobs 1` (one after the other) | {cell(par['sequential'])} |",
        f"| speed-up | {fmt_x(ratio(par['sequential'], par['parallel']))} |",
        "",
        "### Machine",
        "",
        *[f"- {k}: {v}" for k, v in bench.machine_info(py, pd, load_before)],
        f"- picklescan: {version(ps)}",
        f"- run took {elapsed:.0f} s",
        "",
        "### Commands",
        "",
        "```sh",
        "benches/run.sh --speed            # build, run everything (about 10 minutes), rewrite this",
        "benches/run.sh --speed --quick    # smoke test",
        "benches/run.sh --speed --pickle-doctor /path/to/pickle-doctor   # another build",
        "# per file F in $PICKLE_DOCTOR_CACHE/bench-data:",
        "pickle-doctor scan F; pickle-doctor show --stats F; pickle-doctor dis F > /dev/null",
        "picklescan -p F                   # venvs/scanners (benches/scanners/setup.sh)",
        f"python -c {shlex.quote(PLAIN_LOAD)} F",
        "python -c \"$PROBE\" F              # benches/bench.py: pickle.load alone",
        "python -m pickletools F > /dev/null",
        "pickle-doctor scan --jobs 1 rows-64-members.npz",
        "```",
    ]
    return "\n".join(out)


def version(ps: str | None) -> str:
    if not ps:
        return "not installed"
    p = subprocess.run([str(Path(ps).parent / "python"), "-c",
                        "import importlib.metadata as m; print(m.version('picklescan'))"],
                       capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
