"""Target side of the break atlas: load every fixture of one producer, repeat every call.

    python -I tests/atlas/run.py FAMILY PRODUCER_DIR [--files DIR] [CASE...] > rows.json

Runs in a target venv, started by scripts/atlas.sh as `python -I` in an empty directory.
Each case is loaded in its own forked child (the parent has imported nothing but numpy and
the standard library, so no case sees modules another case's load imported), with
`pickle.load` on the file, then every call the writer recorded is made on the same inputs
and compared with the writer's result (cases.same). Only fixtures this project wrote itself
are loaded, never a hostile file.

Output: a JSON list, one object per case (see tests/atlas/README.md, "raw rows").
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases

TIMEOUT_S = 120


def _where(e: BaseException) -> str:
    """The innermost frame, relative to site-packages (or the file name)."""
    tb = traceback.extract_tb(e.__traceback__)
    if not tb:
        return ""
    fr = tb[-1]
    if os.path.abspath(fr.filename) == os.path.abspath(__file__):
        return ""  # raised by pickle.load itself (find_class, C code)
    path = fr.filename.replace("\\", "/")
    for marker in ("/site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = os.path.basename(path)
    return f"{path}:{fr.lineno} in {fr.name}"


def _site_packages() -> list[str]:
    import sysconfig

    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return sorted((os.path.realpath(p) for p in paths), key=len, reverse=True) + sorted(paths, key=len, reverse=True)


SITE = _site_packages()


def error_text(e: BaseException) -> str:
    """The exception as the last line(s) of a traceback show it: `Type: message`.

    The target venv's site-packages directory is written `<site-packages>` so the text does
    not depend on where the venv lives.
    """
    lines = traceback.format_exception_only(type(e), e)
    text = lines[0].rstrip("\n") if lines else type(e).__name__
    for p in SITE:
        text = text.replace(p, "<site-packages>")
    return text


def _warn_list(caught: list) -> list[str]:
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    return sorted(seen)


def run_case(path: str, case: dict, family: str, inputs: dict) -> dict:
    result: dict = {"load": None, "calls": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open(path, "rb") as f:
            data = f.read()
        try:
            with open(path, "rb") as f:
                obj = pickle.load(f)
        except BaseException as e:  # noqa: BLE001 - recorded verbatim
            result["load"] = {"ok": False, "error": error_text(e), "where": _where(e),
                              "warnings": _warn_list(caught)}
            if family == "pandas":
                result["load"]["read_pickle"] = read_pickle(path)
            return result
        t = type(obj)
        result["load"] = {"ok": True, "error": None, "where": None,
                          "warnings": _warn_list(caught),
                          "class": f"{t.__module__}:{t.__qualname__}"}
    if family == "pandas":
        result["load"]["read_pickle"] = read_pickle(path)
    for c in case["calls"]:
        row: dict = {"call": c}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                # Every call on its own freshly unpickled object (the first one for the first
                # call), as the writer made every call on its own new object: a call that
                # mutates its object must not change what later calls see.
                if result["calls"]:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        obj = pickle.loads(data)
                value = cases.call(family, case["name"], obj, c, inputs, case["meta"],
                                   case["outputs"])
                got = cases.normalize(value)
            except BaseException as e:  # noqa: BLE001 - recorded verbatim
                row.update(status="error", error=error_text(e), where=_where(e))
                result["calls"].append(row)
                continue
        if c in cases.UNCOMPARED_CALLS and family == "sklearn":
            row["status"] = "ok"
        elif cases.same(case["outputs"][c], got):
            row["status"] = "ok-identical"
        else:
            row["status"] = "ok-different"
            row["got"] = got
            row["fresh"] = fresh_verdict(family, case, c, inputs, got)
        result["calls"].append(row)
    return result


def read_pickle(path: str) -> dict:
    """The same file through `pandas.read_pickle`, which retries with pandas' own unpickler
    (class renames of older pandas) when plain pickle.load fails: `{ok, error}`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pandas

            pandas.read_pickle(path)
        except BaseException as e:  # noqa: BLE001 - recorded verbatim
            return {"ok": False, "error": error_text(e)}
    return {"ok": True, "error": None}


def fresh_verdict(family: str, case: dict, c: str, inputs: dict, got: dict) -> str:
    """Control for a differing output: the same call on the object built (fitted) anew by
    the target version. `same` = the fresh object gives the loaded object's output (the
    library changed what the call computes, not the pickle); `different` = only the
    unpickled object differs; `error` = the fresh object could not be built or called."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj, meta = cases.build(family, case["name"], inputs)
            value = cases.call(family, case["name"], obj, c, inputs, meta, case["outputs"])
            return "same" if cases.same(got, cases.normalize(value)) else "different"
    except BaseException:  # noqa: BLE001
        return "error"


def in_child(path: str, case: dict, family: str, inputs: dict) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        import signal

        signal.alarm(TIMEOUT_S)
        try:
            res = run_case(path, case, family, inputs)
            data = json.dumps(res, sort_keys=True).encode()
        except BaseException as e:  # noqa: BLE001
            data = json.dumps({"crash": error_text(e)}).encode()
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        while True:
            b = f.read(65536)
            if not b:
                break
            chunks.append(b)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return {"crash": f"child died (signal {sig}, status {status})"}
    return json.loads(b"".join(chunks))


def versions() -> dict[str, str]:
    out = {"python": ".".join(str(x) for x in sys.version_info[:3])}
    from importlib import metadata

    for dist in ("numpy", "scikit-learn", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def main() -> None:
    args = sys.argv[1:]
    files_dir = None
    if "--files" in args:
        # Load <DIR>/<case>.pkl (e.g. a repaired file written by `fix`) instead of the
        # producer's, and still compare with the producer's outputs.
        i = args.index("--files")
        files_dir = args[i + 1]
        del args[i:i + 2]
    family, producer_dir = args[0], args[1]
    import importlib

    import numpy  # noqa: F401 - every case needs it; imported once before forking

    with open(os.path.join(producer_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    # Import the modules the pickles name once, before forking, so every child does not pay
    # for it (scikit-learn submodules take seconds). A module that fails to import here is
    # simply imported (and fails) again by pickle.load in the child, with its real error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in manifest["cases"]:
            try:
                importlib.import_module(case["class"].split(":")[0])
            except BaseException:  # noqa: BLE001, S110 - see above
                pass
    inputs = cases.load_inputs()
    only = set(args[2:])
    rows = []
    for case in manifest["cases"]:
        if only and case["name"] not in only:
            continue
        path = os.path.join(files_dir or producer_dir, case["name"] + ".pkl")
        if files_dir and not os.path.exists(path):
            continue
        res = in_child(path, case, family, inputs)
        res["name"] = case["name"]
        rows.append(res)
    json.dump({"versions": versions(), "rows": rows}, sys.stdout, sort_keys=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
