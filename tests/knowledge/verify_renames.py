#!/usr/bin/env python3
"""Checks the rename and shim entries of crates/knowledge/data/renames.toml against the real
packages of the venv running this script.

    VENV_PYTHON tests/knowledge/verify_renames.py crates/knowledge/data/renames.toml

For every [[rename]] whose `dist` is installed here at a version inside [since, until): the
`from` global must NOT resolve the way `find_class` resolves it (import the module, then walk
the attribute), and `to` must. For every [[refused]] in range: the module imports and each
of its names raises. For every [[shim]] in range: the shim module must import and
serve at least one name of its target. Entries whose distribution is missing or out of range
are not applicable here. Prints one JSON document: {"checked": {...}, "failures": [...]}.
Only library modules are imported; no pickle is loaded.
"""
import importlib
import importlib.metadata
import json
import sys
import tomllib
import warnings


def version_tuple(v):
    out = []
    for part in v.split("."):
        digits = ""
        for c in part:
            if not c.isdigit():
                break
            digits += c
        if not digits:
            break
        out.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(out)


def in_range(v, since, until):
    pad = lambda t: t + (0,) * (6 - len(t))  # noqa: E731
    v = pad(version_tuple(v))
    return (not since or v >= pad(version_tuple(since))) and (not until or v < pad(version_tuple(until)))


def installed(dist):
    if dist == "python":
        return "%d.%d.%d" % sys.version_info[:3]
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def resolves(module, name):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = importlib.import_module(module)
            for part in (name.split(".") if name else []):
                obj = getattr(obj, part)
        return True
    except Exception:
        return False


def names(module):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {n for n in dir(importlib.import_module(module)) if not n.startswith("__")}
    except Exception:
        return set()


def split(target):
    module, _, name = target.partition(":")
    return module, name


def main():
    data = tomllib.load(open(sys.argv[1], "rb"))
    checked, failures = {}, []
    for r in data.get("rename", []):
        v = installed(r["dist"])
        if v is None or not in_range(v, r.get("since", ""), r.get("until", "")):
            continue
        if not r.get("usable_as_plain_rename", True):
            continue
        fm, fn = split(r["from"])
        tm, tn = split(r["to"])
        if r["match"] == "exact":
            f_ok, t_ok = resolves(fm, fn), resolves(tm, tn)
        else:
            # A module entry: `to` imports, and `from` either does not or lacks names `to` has
            # (numpy 1.26's docstring-only `numpy._core` stub).
            t_ok = resolves(tm, "")
            f_ok = resolves(fm, "") and not (names(tm) - names(fm))
        checked[r["id"]] = {"dist": f"{r['dist']} {v}", "from_resolves": f_ok, "to_resolves": t_ok}
        if f_ok or not t_ok:
            failures.append(r["id"])
    for s in data.get("shim", []):
        v = installed(s["dist"])
        if v is None or not in_range(v, s.get("since", ""), s.get("until", "")):
            continue
        ok = resolves(s["module"], "")
        checked[s["id"]] = {"dist": f"{s['dist']} {v}", "shim_imports": ok}
        if not ok:
            failures.append(s["id"])
    # [[refused]]: the module imports, and each name raises AttributeError.
    for r in data.get("refused", []):
        v = installed(r["dist"])
        if v is None or not in_range(v, r.get("since", ""), r.get("until", "")):
            continue
        module_ok = resolves(r["module"], "")
        present = [n for n in r["names"] if resolves(r["module"], n)]
        checked[r["id"]] = {"dist": f"{r['dist']} {v}", "module_imports": module_ok, "present": present}
        if not module_ok or present:
            failures.append(r["id"])
    json.dump({"python": sys.version.split()[0], "checked": checked, "failures": failures}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
