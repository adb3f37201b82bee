#!/usr/bin/env python3
"""Ground truth of the differential matrix: load every fixture in every target venv.

Usage:
  python3 tests/matrix/load_truth.py FIXTURES_DIR --target NAME=PYTHON [--target ...]
                                     [--torch DIR] [-o truth.json] [-j JOBS] [--timeout S]
  python3 tests/matrix/load_truth.py --summarize truth.json

FIXTURES_DIR holds one folder per writer, each with the manifest.json written by
tests/matrix/write_fixtures.py. --torch DIR adds the committed torch files (*.pt,
*.tar; default tests/fixtures/torch/files), loaded with loader `torch`. Nothing under a
folder named `hostile` is ever loaded.

Every (fixture, target) pair runs in its own fresh interpreter of the target venv:

    PYTHON -I -c "__import__('runpy').run_path(RUNNER, run_name='__pd_load_runner__')" LOADER FILE RESULT

with the working directory set to a new empty temp dir. `-I` (isolated mode) ignores
PYTHON* variables and user site-packages and, since 3.11, keeps the script dir / cwd out
of sys.path. `__main__` is therefore the bare `-c` module,
`<module '__main__' (built-in)>`, with nothing defined in it (the runner runs in its own
namespace). The runner imports the loader, then loads the file the way a user would:

    pickle  pickle.load(open(FILE, 'rb'))          (the C unpickler, _pickle)
            a fixture with `encoding` in its manifest entry is loaded with
            pickle.load(f, encoding=E) / numpy.load(FILE, allow_pickle=True, encoding=E),
            and its rows carry `encoding`
    joblib  joblib.load(FILE)
    pandas  pandas.read_pickle(FILE)
    numpy   numpy.load(FILE, allow_pickle=True)
    torch   torch.load(FILE)                         (defaults of the installed torch)

Warnings are recorded with warnings.simplefilter("always") around the load, so they are a
superset of what a user sees with the default filters (which hide most
DeprecationWarnings); repeats are folded into `count`.

Output: one JSON document
  {"target_names": [NAME, ...] (in the order given),
   "targets": {NAME: {python, version, platform, extension_suffixes, sys_path,
                      site_packages, purelib, distributions}},
   "rows": [{fixture, writer, target, loader, protocol, outcome, loader_missing,
             error_type, error_type_qualified, error_message, error_line, error_full,
             error_traceback, error_context, error_frame, warnings, loader_warnings,
             loaded_type, seconds, cpu_seconds}, ...]}

  outcome        "loads" or "fails" ("crash"/"timeout" if the interpreter died or hung)
  loader_missing true when the failure is the loader's own import (`import joblib`, ...)
  error_type     the exception class's __qualname__ ("UnpicklingError")
  error_type_qualified  as a traceback prints it ("_pickle.UnpicklingError")
  error_message  str(exc)
  error_line     "<error_type>: <first line of str(exc)>" (just the type if str(exc) is empty)
  error_full     "<error_type>: <str(exc)>" (every line)
  error_traceback  traceback.format_exception_only(): the last line(s) of the traceback
  error_context  error_line of each chained exception (__cause__ or __context__), innermost last
  error_frame    "file:function" of the innermost Python traceback frame (file relative to
                 site-packages; "<caller>:load" when the error came straight out of the C
                 unpickler called by the runner)
  warnings       [{category, category_qualified, message, filename, lineno, count,
                  shown_by_default}] during load; filename is relative to site-packages,
                  or "<caller>" when the warning is attributed to the code that called the
                  loader (stacklevel past C code); shown_by_default applies the
                  interpreter's default filters, taking "<caller>" to be a __main__ script
  loader_warnings  the same, while importing the loader
  loaded_type    for `loads`: the loaded object's type ("sklearn.pipeline.Pipeline")
  seconds, cpu_seconds  wall time of the subprocess, CPU time it used (not part of the truth)
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_TORCH = os.path.join(REPO, "tests", "fixtures", "torch", "files")

RUNNER = r'''
import sys


def _loader(spec):
    # "LOADER:ENCODING" (pickle, numpy): the `encoding` argument of pickle.load / numpy.load.
    name, _, encoding = spec.partition(":")
    kwargs = {"encoding": encoding} if encoding else {}
    if name == "pickle":
        import pickle

        def load(path):
            with open(path, "rb") as f:
                return pickle.load(f, **kwargs)
        return load
    if name == "joblib":
        import joblib
        return joblib.load
    if name == "pandas":
        import pandas
        return pandas.read_pickle
    if name == "numpy":
        import numpy

        def load(path):
            obj = numpy.load(path, allow_pickle=True, **kwargs)
            if hasattr(obj, "files"):  # NpzFile: members are unpickled on access
                obj = {k: obj[k] for k in obj.files}
            return obj
        return load
    if name == "torch":
        import torch
        return torch.load
    raise ValueError("unknown loader %r" % (name,))


_RUNNER_FILE = __file__
_DEFAULT_FILTERS = None  # warnings.filters as the interpreter started (snapshot in _main)


def _site_relative(path):
    if path == _RUNNER_FILE:
        return "<caller>"
    for entry in sorted(sys.path, key=len, reverse=True):
        if entry and path.startswith(entry.rstrip("/") + "/"):
            return path[len(entry.rstrip("/")) + 1:]
    return path


def _type_names(t):
    mod = getattr(t, "__module__", None) or "builtins"
    qual = getattr(t, "__qualname__", t.__name__)
    return qual, (qual if mod in ("builtins", "__main__") else mod + "." + qual)


def _line(e):
    qual, _ = _type_names(type(e))
    try:
        msg = str(e)
    except Exception as err:  # noqa: BLE001
        msg = "<str() failed: %r>" % (err,)
    first = msg.split("\n", 1)[0]
    return qual, msg, (qual + ": " + first if msg else qual), (qual + ": " + msg if msg else qual)


def _error(e):
    import traceback

    qual, full_type = _type_names(type(e))
    _, msg, line, full = _line(e)
    context = []
    seen = {id(e)}
    cur = e
    while True:
        nxt = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        context.append(_line(nxt)[2])
        cur = nxt
    frame = None
    tb = traceback.extract_tb(e.__traceback__)
    if tb:
        frame = "%s:%s" % (_site_relative(tb[-1].filename), tb[-1].name)
    return {
        "error_type": qual,
        "error_type_qualified": full_type,
        "error_message": msg,
        "error_line": line,
        "error_full": full,
        "error_traceback": "".join(traceback.format_exception_only(type(e), e)).rstrip("\n"),
        "error_context": context,
        "error_frame": frame,
    }


def _warnings(caught):
    out = []
    index = {}
    for w in caught:
        qual, full_type = _type_names(w.category)
        key = (full_type, str(w.message))
        if key in index:
            out[index[key]]["count"] += 1
            continue
        index[key] = len(out)
        out.append({"category": qual, "category_qualified": full_type, "message": str(w.message),
                    "filename": _site_relative(str(w.filename)), "lineno": w.lineno, "count": 1,
                    "shown_by_default": _shown_by_default(w)})
    return out


def _shown_by_default(w):
    """Would the interpreter's default filters show this warning to a script calling the loader?

    A warning attributed to the loader's caller (filename "<caller>") is taken to come from
    a user's __main__ script, which is what the default DeprecationWarning filter keys on.
    """
    module = "__main__" if w.filename == _RUNNER_FILE else w.filename
    if module.endswith(".py"):
        module = module[:-3]
    def matched(pattern, text):  # as warnings.py / _warnings.c: str compares equal, re matches
        if pattern is None:
            return True
        if isinstance(pattern, str):
            return pattern == text
        return bool(pattern.match(text))

    for action, msg, cat, mod, ln in _DEFAULT_FILTERS:
        if (matched(msg, str(w.message)) and issubclass(w.category, cat) and matched(mod, module)
                and (ln == 0 or ln == w.lineno)):
            return action != "ignore"
    return True


def _main():
    global _DEFAULT_FILTERS
    import warnings

    _DEFAULT_FILTERS = list(warnings.filters)
    loader_name, path, result_path = sys.argv[1:4]
    res = {"outcome": None, "loader_missing": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load = _loader(loader_name)
        except BaseException as e:  # noqa: BLE001 - record whatever the user would see
            load = None
            res.update(_error(e), outcome="fails", loader_missing=True)
    res["loader_warnings"] = _warnings(caught)
    res["warnings"] = []
    if load is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                obj = load(path)
            except BaseException as e:  # noqa: BLE001
                res.update(_error(e), outcome="fails")
            else:
                t = type(obj)
                res["outcome"] = "loads"
                res["loaded_type"] = _type_names(t)[1]
        res["warnings"] = _warnings(caught)
    import json
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    res["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
    with open(result_path, "w") as f:
        json.dump(res, f)


_main()
'''

ENV_PROBE = r'''
import importlib.machinery, json, site, sys, sysconfig
from importlib import metadata
print(json.dumps({
    "python": sys.executable,
    "version": sys.version,
    "version_info": list(sys.version_info[:3]),
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "platform": sysconfig.get_platform(),
    "extension_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "sys_path": sys.path,
    "site_packages": site.getsitepackages(),
    "purelib": sysconfig.get_paths()["purelib"],
    "distributions": dict(sorted((d.metadata["Name"], d.version) for d in metadata.distributions())),
}))
'''

ERROR_FIELDS = ("error_type", "error_type_qualified", "error_message", "error_line", "error_full",
                "error_traceback", "error_context", "error_frame")


def refuse_hostile(path):
    parts = os.path.realpath(path).split(os.sep)
    if "hostile" in parts:
        raise SystemExit(f"load_truth: refusing to load {path}: it is under a 'hostile' folder")


def read_fixtures(fixtures_dir, torch_dir):
    fixtures = []
    for writer in sorted(os.listdir(fixtures_dir)):
        manifest = os.path.join(fixtures_dir, writer, "manifest.json")
        if not os.path.isfile(manifest):
            continue
        with open(manifest) as f:
            doc = json.load(f)
        root = os.path.realpath(fixtures_dir)
        for e in doc["fixtures"]:
            path = os.path.join(fixtures_dir, e["file"])
            if not os.path.realpath(path).startswith(root + os.sep):
                raise SystemExit(f"load_truth: {manifest}: {e['file']!r} is outside {fixtures_dir}")
            refuse_hostile(path)
            fixtures.append({"fixture": e["file"], "writer": e["writer"], "loader": e["loader"],
                             "protocol": e.get("protocol"), "path": path})
            if e.get("encoding"):  # pickle.load / numpy.load(..., encoding=...)
                fixtures[-1]["encoding"] = e["encoding"]
    if torch_dir:
        for name in sorted(os.listdir(torch_dir)):
            if not name.endswith((".pt", ".tar", ".pth", ".bin")):
                continue
            path = os.path.join(torch_dir, name)
            refuse_hostile(path)
            fixtures.append({"fixture": "torch/" + name, "writer": "torch", "loader": "torch",
                             "protocol": None, "path": path})
    return fixtures


def probe_env(python):
    out = subprocess.run([python, "-I", "-c", ENV_PROBE], capture_output=True, text=True, check=True,
                         cwd=tempfile.gettempdir())
    return json.loads(out.stdout)


def run_one(runner_path, target, python, fx, timeout):
    code = "__import__('runpy').run_path(%r, run_name='__pd_load_runner__')" % runner_path
    with tempfile.TemporaryDirectory(prefix="pd-load-") as tmp:
        cwd = os.path.join(tmp, "cwd")
        os.mkdir(cwd)
        result = os.path.join(tmp, "result.json")
        t0 = time.monotonic()
        row = {"fixture": fx["fixture"], "writer": fx["writer"], "target": target,
               "loader": fx["loader"], "protocol": fx["protocol"]}
        spec = fx["loader"]
        if fx.get("encoding"):
            row["encoding"] = fx["encoding"]
            spec += ":" + fx["encoding"]
        try:
            proc = subprocess.run([python, "-I", "-c", code, spec, os.path.abspath(fx["path"]), result],
                                  cwd=cwd, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            row.update(outcome="timeout", loader_missing=False, warnings=[], loader_warnings=[])
            row["seconds"] = round(time.monotonic() - t0, 3)
            return row
        seconds = round(time.monotonic() - t0, 3)
        if proc.returncode != 0 or not os.path.exists(result):
            row.update(outcome="crash", loader_missing=False, returncode=proc.returncode,
                       stderr_tail=proc.stderr[-2000:], warnings=[], loader_warnings=[])
            row["seconds"] = seconds
            return row
        with open(result) as f:
            res = json.load(f)
    row["outcome"] = res["outcome"]
    row["loader_missing"] = res["loader_missing"]
    for k in ERROR_FIELDS:
        row[k] = res.get(k)
    row["warnings"] = res["warnings"]
    row["loader_warnings"] = res["loader_warnings"]
    row["loaded_type"] = res.get("loaded_type")
    row["seconds"] = seconds
    row["cpu_seconds"] = res.get("cpu_seconds")
    return row


def run(args):
    targets = []
    for spec in args.target:
        name, sep, python = spec.partition("=")
        if not sep or not name or not python:
            raise SystemExit(f"load_truth: --target wants NAME=PYTHON, got {spec!r}")
        targets.append((name, python))
    torch_dir = None if args.no_torch else args.torch
    fixtures = read_fixtures(args.fixtures_dir, torch_dir)
    if not fixtures:
        raise SystemExit(f"load_truth: no fixtures under {args.fixtures_dir}")

    t0 = time.monotonic()
    envs = {name: probe_env(python) for name, python in targets}
    with tempfile.TemporaryDirectory(prefix="pd-runner-") as rdir:
        runner = os.path.join(rdir, "pd_load_runner.py")
        with open(runner, "w") as f:
            f.write(RUNNER)
        jobs = [(name, python, fx) for name, python in targets for fx in fixtures]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(lambda j: run_one(runner, j[0], j[1], j[2], args.timeout), jobs))
    elapsed = time.monotonic() - t0
    order = {name: i for i, (name, _) in enumerate(targets)}
    rows.sort(key=lambda r: (order[r["target"]], r["fixture"]))
    doc = {
        "generated_by": "tests/matrix/load_truth.py",
        "fixtures_dir": os.path.abspath(args.fixtures_dir),
        "torch_dir": os.path.abspath(torch_dir) if torch_dir else None,
        "fixture_count": len(fixtures),
        "target_count": len(targets),
        "target_names": [name for name, _ in targets],
        "row_count": len(rows),
        "seconds": round(elapsed, 1),
        "targets": envs,
        "rows": rows,
    }
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    print(f"load_truth: {len(rows)} loads ({len(fixtures)} fixtures x {len(targets)} targets) "
          f"in {elapsed:.1f} s with {args.jobs} jobs", file=sys.stderr)
    summarize(doc, sys.stderr)


def summarize(doc, out):
    rows = doc["rows"]
    targets = doc.get("target_names") or sorted({r["target"] for r in rows})
    writers = sorted({r["writer"] for r in rows})
    counts = collections.Counter((r["writer"], r["target"], r["outcome"]) for r in rows)
    print("\nwriter -> target: loads/fails (loader missing)", file=out)
    head = "writer \\ target".ljust(16) + "".join(t.rjust(14) for t in targets)
    print(head, file=out)
    for w in writers:
        cells = []
        for t in targets:
            ok = counts[(w, t, "loads")]
            bad = sum(counts[(w, t, o)] for o in ("fails", "crash", "timeout"))
            miss = sum(1 for r in rows if r["writer"] == w and r["target"] == t and r.get("loader_missing"))
            cells.append((f"{ok}/{bad}" + (f" ({miss})" if miss else "")).rjust(14))
        print(w.ljust(16) + "".join(cells), file=out)
    cpu = collections.Counter()
    for r in rows:
        cpu[r["target"]] += r.get("cpu_seconds") or 0
    print("\nCPU seconds of the loads per target: "
          + ", ".join(f"{t} {cpu[t]:.0f}" for t in targets) + f"; total {sum(cpu.values()):.0f}", file=out)
    total = collections.Counter(r["outcome"] for r in rows)
    print("\noutcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())), file=out)
    envs = doc.get("targets") if isinstance(doc.get("targets"), dict) else {}

    def portable(r):
        line = r["error_line"]
        purelib = envs.get(r["target"], {}).get("purelib")
        return line.replace(purelib, "<site-packages>") if purelib else line

    lines = collections.Counter(portable(r) for r in rows if r["outcome"] == "fails")
    print(f"\ndistinct error lines ({len(lines)}; the target's site-packages shown as <site-packages>):",
          file=out)
    for line, n in sorted(lines.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{n:5d}  {line}", file=out)
    warns = collections.Counter()
    for r in rows:
        for w in r["warnings"]:
            warns[(w["category"], w["shown_by_default"])] += w["count"]
    print("\nwarnings during loads (category, shown by default: count):", file=out)
    for (cat, shown), n in sorted(warns.items()):
        print(f"{n:5d}  {cat} {'shown' if shown else 'hidden'}", file=out)
    others = [r for r in rows if r["outcome"] in ("crash", "timeout")]
    for r in others:
        print(f"  {r['outcome']}: {r['target']} {r['fixture']}", file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixtures_dir", nargs="?")
    ap.add_argument("--target", action="append", default=[], metavar="NAME=PYTHON")
    ap.add_argument("--torch", default=DEFAULT_TORCH, help="torch files dir (default: %(default)s)")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch files")
    ap.add_argument("-o", "--output", help="write the JSON here (default: stdout)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per load (default: %(default)s)")
    ap.add_argument("--summarize", metavar="TRUTH_JSON", help="print the summary of an existing truth.json")
    args = ap.parse_args()
    if args.summarize:
        with open(args.summarize) as f:
            summarize(json.load(f), sys.stdout)
        return
    if not args.fixtures_dir or not args.target:
        ap.error("FIXTURES_DIR and at least one --target NAME=PYTHON are required")
    run(args)


if __name__ == "__main__":
    main()
