"""Plain-Python half of the break atlas (no numpy): inputs, truth, knowledge data, docs.

    python3 tests/atlas/build.py inputs              # tests/atlas/fixtures/inputs.json
    python3 tests/atlas/build.py truth RAWDIR        # truth.json, knowledge data, docs/breaks.md
    python3 tests/atlas/build.py regen               # knowledge data + docs from truth.json

`truth` reads the raw per-pair results scripts/atlas.sh left in RAWDIR
(<family>__<producer>__<target>.json, written by run.py) and the manifests of
tests/atlas/fixtures/<producer>/, and writes, deterministically (sorted keys, no times):

  tests/atlas/truth.json                        one row per (producer, target, case)
  crates/knowledge/data/atlas/breaks.toml       condensed break entries (knowledge crate)
  docs/breaks.md                                the same, for people

The source URL of each entry comes from tests/atlas/sources.toml (hand-maintained input).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickletools
import random
import re
import sys

import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
TRUTH = os.path.join(HERE, "truth.json")
KNOWLEDGE = os.path.join(ROOT, "crates", "knowledge", "data", "atlas", "breaks.toml")
DOCS = os.path.join(ROOT, "docs", "breaks.md")
SOURCES = os.path.join(HERE, "sources.toml")

# Producer -> targets, per family. Atlas names are the venv names of scripts/setup-atlas-envs.sh.
SKLEARN = ["sk-1.1", "sk-1.2", "sk-1.3", "sk-1.4", "sk-1.6", "sk-1.9"]
PANDAS = ["pd-1.5", "pd-2.1", "pd-2.3", "pd-3.1"]
NUMPY = ["np-1.24", "np-1.26", "np-2.4"]
DIST = {"sklearn": "scikit-learn", "pandas": "pandas", "numpy": "numpy"}


def pairs() -> list[tuple[str, str, str]]:
    """(family, producer, target): every later version; numpy in both directions."""
    out = []
    for fam, names in (("sklearn", SKLEARN), ("pandas", PANDAS)):
        for i, p in enumerate(names):
            for t in names[i + 1:]:
                out.append((fam, p, t))
    for p in NUMPY:
        for t in NUMPY:
            if p != t:
                out.append(("numpy", p, t))
    return out


def producers() -> list[tuple[str, str]]:
    return [(f, p) for f, names in (("sklearn", SKLEARN), ("pandas", PANDAS[:-1]), ("numpy", NUMPY))
            for p in names]


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------


def make_inputs() -> dict:
    rng = random.Random(20261207)
    n = 30
    X = [[round(rng.uniform(-2, 2), 3) for _ in range(4)] for _ in range(n)]
    y_cls = [0 if r[0] + r[1] < -0.5 else (1 if r[0] + r[1] < 0.7 else 2) for r in X]
    y_reg = [round(1.5 * r[0] - 2 * r[1] + 0.5 * r[2] + rng.uniform(-0.1, 0.1), 4) for r in X]
    X_pos = [[abs(v) for v in r] for r in X]
    X_nan = [[None if rng.random() < 0.15 else v for v in r] for r in X]
    X_int = [[rng.choice([-1, 0, 1, 2, 3, 4]) for _ in range(2)] for _ in range(n)]
    colors, sizes = ["red", "green", "blue"], ["s", "m", "l"]
    S = [[rng.choice(colors), rng.choice(sizes)] for _ in range(n)]
    S_none = [[None if rng.random() < 0.15 else v for v in r] for r in S]
    X_ct = [[r[0], r[1], float(rng.randrange(3))] for r in X_nan]
    words = ["model", "pickle", "load", "predict", "tree", "forest", "data", "frame", "numpy", "break"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(3, 7))) for _ in range(n)]
    labels = [rng.choice(["cat", "dog", "fish"]) for _ in range(n)]
    return {"X": X, "y_cls": y_cls, "y_reg": y_reg, "X_pos": X_pos, "X_nan": X_nan, "X_int": X_int,
            "S": S, "S_none": S_none, "X_ct": X_ct, "texts": texts, "labels": labels}


def write_json(path: str, data: object) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------
# truth
# ---------------------------------------------------------------------------------------


def load_manifest(producer: str) -> dict:
    with open(os.path.join(FIXTURES, producer, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def verdict(load: dict, calls: list[dict]) -> tuple[str, dict | None]:
    """`ok` | `load` (fails at load) | `use` (a call raises) | `silent` (a call differs)."""
    if not load["ok"]:
        return "load", None
    for c in calls:
        if c["status"] == "error":
            return "use", c
    for c in calls:
        if c["status"] == "ok-different":
            return "silent", c
    return "ok", None


def build_truth(raw: str) -> list[dict]:
    rows = []
    manifests = {p: load_manifest(p) for _, p in producers()}
    for fam, p, t in pairs():
        with open(os.path.join(raw, f"{fam}__{p}__{t}.json"), encoding="utf-8") as f:
            res = json.load(f)
        man = manifests[p]
        by_name = {c["name"]: c for c in man["cases"]}
        for r in res["rows"]:
            case = by_name[r["name"]]
            if "crash" in r:
                load = {"ok": False, "error": r["crash"], "where": "", "warnings": []}
                calls: list[dict] = []
            else:
                load = r["load"]
                calls = [{k: v for k, v in c.items() if k != "got"} for c in r["calls"]]
            kind, first = verdict(load, calls)
            rows.append({
                "family": fam,
                "dist": DIST[fam],
                "producer": p,
                "target": t,
                "producer_versions": man["versions"],
                "target_versions": res["versions"],
                "case": r["name"],
                "class": case["class"],
                "file": f"tests/atlas/fixtures/{p}/{r['name']}.pkl",
                "load": load,
                "calls": calls,
                "verdict": kind,
                "first_failure": None if first is None else {
                    "call": first["call"], "status": first["status"],
                    "error": first.get("error"), "where": first.get("where"),
                    "fresh": first.get("fresh")},
            })
    rows.sort(key=lambda r: (r["family"], r["producer"], r["target"], r["case"]))
    return rows


# ---------------------------------------------------------------------------------------
# knowledge entries
# ---------------------------------------------------------------------------------------

ATTR_RE = re.compile(r"^AttributeError: '[^']+' object has no attribute '([^']+)'")


def load_sources() -> list[dict]:
    with open(SOURCES, "rb") as f:
        return tomllib.load(f)["source"]


def source_for(entry: dict, sources: list[dict]) -> tuple[str, str]:
    for s in sources:
        if s.get("dist") and s["dist"] != entry["dist"]:
            continue
        if s.get("class") and not re.search(s["class"], entry["class"]):
            continue
        if s.get("error") and not re.search(s["error"], entry["error"] or ""):
            continue
        if s.get("kind") and s["kind"] != entry["kind"]:
            continue
        if s.get("method") and s["method"] != entry["method"]:
            continue
        return s["url"], "changelog"
    # Fallback: the release notes of the first target version where the break shows (of the
    # producer, for a move to an older version: the newer release wrote what the older
    # cannot read). The atlas skips releases (scikit-learn 1.5, 1.7, 1.8; pandas 2.0, 2.2,
    # 3.0; numpy 1.25, 2.0-2.3), so the change may come from one in between.
    v = entry["target_versions"][0]
    if vkey(entry["producer_versions"][-1]) > vkey(v):
        v = entry["producer_versions"][-1]
    major_minor = ".".join(v.split(".")[:2])
    if entry["dist"] == "scikit-learn":
        return f"https://scikit-learn.org/stable/whats_new/v{major_minor}.html", "release-notes"
    if entry["dist"] == "pandas":
        return f"https://pandas.pydata.org/docs/whatsnew/v{v}.html", "release-notes"
    return f"https://numpy.org/doc/stable/release/{v}-notes.html", "release-notes"


# ---------------------------------------------------------------------------------------
# layouts: what a numpy / pandas fixture's pickle names, read without unpickling it
# ---------------------------------------------------------------------------------------

# Families whose pickles carry no producer version: their entries say which pickle layouts
# showed the break (check infers the producer range from the pickle's structure and matches
# the layout, crates/analyze/src/load/atlas.rs).
LAYOUT_FAMILIES = ("numpy", "pandas")
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
               "BINSTRING", "STRING"}


def normal_module(module: str) -> str:
    """numpy 2's `numpy._core` as numpy 1's `numpy.core`: one layout for both majors."""
    if module == "numpy._core" or module.startswith("numpy._core."):
        return "numpy.core" + module[len("numpy._core"):]
    return module


def layout(path: str) -> tuple[list[str], list[str]]:
    """(globals, dtypes) of a pickle file written by CPython's pickler: every global it names
    (`module.name`, `numpy._core` written `numpy.core`) and the descriptor strings passed to
    `numpy.dtype` (`f8`, `O8`, ...), each sorted and distinct. Read with pickletools (no
    unpickling): a global's module and name are the two strings pushed just before
    STACK_GLOBAL, a dtype's descriptor the first string pushed after `numpy.dtype`, as the
    pickler writes them (strings and globals fetched back from the memo included)."""
    with open(path, "rb") as f:
        data = f.read()
    globs: set[str] = set()
    dtypes: set[str] = set()
    memo: dict[int, object] = {}
    pushed: list[object] = []
    want_dtype = False
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        value: object = None
        if name in _STRING_OPS:
            value = arg.decode("latin-1") if isinstance(arg, bytes) else arg
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            value = memo.get(int(arg))
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
            continue
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = pushed[-1] if pushed else None
            continue
        elif name in ("GLOBAL", "INST", "STACK_GLOBAL"):
            if name == "STACK_GLOBAL":
                module, attr = pushed[-2], pushed[-1]
            else:
                module, attr = arg.split(" ", 1)
            value = ("global", f"{normal_module(str(module))}.{attr}")
            globs.add(value[1])
        elif not op.stack_after or name == "MARK":
            continue
        if want_dtype and isinstance(value, str):
            dtypes.add(value)
            want_dtype = False
        if value == ("global", "numpy.dtype"):
            want_dtype = True
        pushed.append(value)
    return sorted(globs), sorted(dtypes)


def layouts_of(rows: list[dict]) -> dict[str, tuple[list[str], list[str]]]:
    """file -> layout, for the rows of the layout families."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for r in rows:
        if r["family"] in LAYOUT_FAMILIES and r["file"] not in out:
            out[r["file"]] = layout(os.path.join(ROOT, r["file"]))
    return out



def version_of(row: dict, side: str) -> str:
    return row[f"{side}_versions"][row["dist"]]


def vkey(v: str) -> tuple:
    return tuple(int(x) if x.isdigit() else 0 for x in re.split(r"[.]", v))


def vpairs_text(pairs: set) -> list[str]:
    return [f"{p}->{t}" for p, t in sorted(pairs, key=lambda x: (vkey(x[0]), vkey(x[1])))]


def condense(rows: list[dict]) -> list[dict]:
    layouts = layouts_of(rows)
    groups: dict[tuple, dict] = {}
    for r in rows:
        if r["verdict"] == "ok":
            continue
        cause = ""
        if r["verdict"] == "load":
            call, error, where = None, r["load"]["error"], r["load"]["where"]
        else:
            f = r["first_failure"]
            call, error, where = f["call"], f["error"], f["where"]
            if r["verdict"] == "silent":
                cause = {"same": "library", "different": "pickle"}.get(f.get("fresh") or "", "unknown")
        key = (r["dist"], r["class"], r["verdict"], call, error, cause)
        g = groups.setdefault(key, {"producers": set(), "targets": set(), "cases": set(),
                                    "pairs": set(), "vpairs": set(), "where": set(),
                                    "layouts": {}})
        g["producers"].add(version_of(r, "producer"))
        g["targets"].add(version_of(r, "target"))
        g["cases"].add(r["case"])
        g["pairs"].add(f"{r['producer']}->{r['target']}")
        g["vpairs"].add((version_of(r, "producer"), version_of(r, "target")))
        if where:
            g["where"].add(where)
        if r["file"] in layouts:
            gl, dt = layouts[r["file"]]
            g["layouts"].setdefault((r["case"], tuple(gl), tuple(dt)), set()).add(
                (version_of(r, "producer"), version_of(r, "target")))
    # Per layout, the pairs whose rows of that layout were ok.
    ok_pairs: dict[tuple, set] = {}
    for r in rows:
        if r["verdict"] == "ok" and r["file"] in layouts:
            gl, dt = layouts[r["file"]]
            ok_pairs.setdefault((r["dist"], tuple(gl), tuple(dt)), set()).add(
                (version_of(r, "producer"), version_of(r, "target")))
    sources = load_sources()
    entries = []
    for (dist, cls, kind, call, error, cause), g in groups.items():
        attr = None
        m = ATTR_RE.match(error or "")
        if m:
            attr = m.group(1)
        digest = hashlib.sha256(f"{dist}|{cls}|{kind}|{call}|{error}|{cause}".encode()).hexdigest()[:8]
        short = cls.split(":")[-1]
        e = {
            "id": f"atlas-{dist}-{short}-{kind}{'-' + call if call else ''}-{digest}",
            "dist": dist,
            "class": cls,
            "kind": kind,
            "method": call or "",
            "attribute": attr or "",
            "error": error or "",
            "cause": cause,
            "producer_versions": sorted(g["producers"], key=vkey),
            "target_versions": sorted(g["targets"], key=vkey),
            "cases": sorted(g["cases"]),
            "pairs": sorted(g["pairs"]),
            "version_pairs": [f"{p}->{t}" for p, t in sorted(g["vpairs"], key=lambda x: (vkey(x[0]), vkey(x[1])))],
            "where": sorted(g["where"]),
            "layouts": [{"case": case, "globals": list(gl), "dtypes": list(dt),
                         "version_pairs": vpairs_text(vp),
                         "ok_version_pairs": vpairs_text(ok_pairs.get((dist, gl, dt), set()))}
                        for (case, gl, dt), vp in sorted(g["layouts"].items())],
        }
        e["producer_since"] = e["producer_versions"][0]
        e["producer_through"] = e["producer_versions"][-1]
        e["target_since"] = e["target_versions"][0]
        e["target_through"] = e["target_versions"][-1]
        e["source"], e["source_kind"] = source_for(e, sources)
        entries.append(e)
    entries.sort(key=lambda e: (e["dist"], e["class"], e["kind"], e["method"], e["id"]))
    return entries


def toml_str(s: str) -> str:
    # A JSON string with ensure_ascii is a valid TOML basic string.
    return json.dumps(s, ensure_ascii=True)


def toml_list(xs: list[str]) -> str:
    return "[" + ", ".join(toml_str(x) for x in xs) + "]"


def knowledge_text(entries: list[dict]) -> str:
    lines = [
        "# GENERATED by scripts/atlas.sh (tests/atlas/build.py) from tests/atlas/truth.json.",
        "# Do not edit: rerun the script. Row format and fields: tests/atlas/README.md.",
        "#",
        "# One [[entry]] per distinct (dist, class, kind, method, error) observed when pickles",
        "# written by one version were loaded and used in a later one (real loads and calls).",
        "#   kind       load (pickle.load raises) | use (loads; the first failing call raises)",
        "#              | silent (loads, every call runs, some output differs: labels exactly,",
        "#              numbers beyond 1e-5 relative)",
        "#   method     the first failing call (empty for load)",
        "#   attribute  for AttributeError, the missing attribute",
        "#   cause      silent only: pickle (an object built anew by the target gives the",
        "#              producer's output; only the unpickled one differs) | library (the",
        "#              fresh object differs the same way: the call itself changed) | unknown",
        "#   error      the exact last traceback line the user sees (`Type: message`)",
        "#   producer_versions / target_versions  the versions observed (producer_since..",
        "#              producer_through and target_since..target_through, inclusive, over the",
        "#              atlas versions; `version_pairs` / `pairs` list the exact",
        "#              producer->target pairs, by version / by atlas venv name)",
        "#   source     changelog entry (source_kind = changelog) or the release notes of the",
        "#              first target version showing it (source_kind = release-notes)",
        "#   [[entry.layout]]  numpy and pandas only (their pickles record no producer",
        "#              version): per case, the pickle's layout, read with pickletools",
        "#              (build.layout): `globals` it names (numpy._core written numpy.core)",
        "#              and the `dtypes` descriptors passed to numpy.dtype; `version_pairs`",
        "#              showing the break with it, `ok_version_pairs` where rows of the same",
        "#              dist and layout were ok",
        "",
        "schema_version = 1",
        "",
    ]
    for e in entries:
        lines.append("[[entry]]")
        for k in ("id", "dist", "class", "kind", "method", "attribute", "error", "cause"):
            lines.append(f"{k} = {toml_str(e[k])}")
        for k in ("producer_since", "producer_through", "target_since", "target_through"):
            lines.append(f"{k} = {toml_str(e[k])}")
        for k in ("producer_versions", "target_versions", "version_pairs", "pairs", "cases", "where"):
            lines.append(f"{k} = {toml_list(e[k])}")
        lines.append(f"source = {toml_str(e['source'])}")
        lines.append(f"source_kind = {toml_str(e['source_kind'])}")
        lines.append("")
        for lay in e["layouts"]:
            lines.append("[[entry.layout]]")
            lines.append(f"case = {toml_str(lay['case'])}")
            for k in ("globals", "dtypes", "version_pairs", "ok_version_pairs"):
                lines.append(f"{k} = {toml_list(lay[k])}")
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# docs/breaks.md
# ---------------------------------------------------------------------------------------


SILENT_TEXT = {
    "same": "output differs from the producer's; an object built anew by the target differs "
            "the same way (the library changed the call, not the pickle)",
    "different": "output differs from the producer's; an object built anew by the target "
                 "does not (the unpickled state is read differently)",
    "error": "output differs from the producer's",
}


def md_cell(s: str) -> str:
    s = s.replace("|", "\\|").replace("\n", " ⏎ ")
    if len(s) > 220:
        s = s[:217] + "..."
    return s


def docs_text(rows: list[dict], entries: list[dict]) -> str:
    out = [
        "# What breaks when you move a model from X to Y",
        "",
        "<!-- GENERATED by scripts/atlas.sh (tests/atlas/build.py): do not edit. -->",
        "",
        "Every row below was observed, not predicted: each object was built (models fitted on",
        "small seeded data) and pickled with `pickle.dump` by the producer version, then loaded",
        "with `pickle.load` in a fresh process of the target version, and every public method",
        "was called on the same inputs and compared with the producer's own outputs (labels",
        "exactly, numbers within 1e-5 relative). Kinds:",
        "",
        "- **load**: `pickle.load` raises;",
        "- **use**: the object loads, then its first call raises (the method is named);",
        "- **silent**: every call runs, but some output differs from the producer's.",
        "",
        "Warnings at load (`InconsistentVersionWarning`) are not counted as breaks.",
        "",
        "Versions (CPython 3.11): scikit-learn 1.1.3 stands in for 1.0 (1.0.x has no CPython",
        "3.11 wheel), then 1.2.2, 1.3.2, 1.4.2, 1.6.1, 1.9.1; pandas 1.5.3, 2.1.4, 2.3.3, 3.1.1;",
        "numpy 1.24.2, 1.26.4, 2.4.6 (both directions).",
        "",
        "## Summary per producer → target",
        "",
        "`silent (pickle)` counts the objects whose differing output an object built anew by",
        "the target does not share (the unpickled state is read differently).",
        "",
        "| library | producer → target | objects | ok | load | use | silent | silent (pickle) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    summary: dict[tuple, dict] = {}
    for r in rows:
        key = (r["dist"], version_of(r, "producer"), version_of(r, "target"))
        s = summary.setdefault(key, {"ok": 0, "load": 0, "use": 0, "silent": 0, "n": 0, "sp": 0})
        s[r["verdict"]] += 1
        s["n"] += 1
        if r["verdict"] == "silent" and r["first_failure"].get("fresh") == "different":
            s["sp"] += 1
    for (dist, p, t) in sorted(summary, key=lambda k: (k[0], vkey(k[1]), vkey(k[2]))):
        s = summary[(dist, p, t)]
        out.append(f"| {dist} | {p} → {t} | {s['n']} | {s['ok']} | {s['load']} | {s['use']} "
                   f"| {s['silent']} | {s['sp']} |")
    out += ["", "## Per producer → target", ""]
    by_pair: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["verdict"] != "ok":
            by_pair.setdefault((r["dist"], version_of(r, "producer"), version_of(r, "target")), []).append(r)
    for key in sorted(by_pair, key=lambda k: (k[0], vkey(k[1]), vkey(k[2]))):
        dist, p, t = key
        out += [f"### {dist} {p} → {t}", "", "| object | class | kind | method | error |", "|---|---|---|---|---|"]
        for r in sorted(by_pair[key], key=lambda r: r["case"]):
            if r["verdict"] == "load":
                m, err = "", r["load"]["error"]
            else:
                f = r["first_failure"]
                m = f["call"]
                err = f["error"] if r["verdict"] == "use" else SILENT_TEXT[f.get("fresh") or "error"]
            out.append(f"| {r['case']} | `{r['class']}` | {r['verdict']} | {m} | {md_cell(err or '')} |")
        out.append("")
    out += ["## Per class", "",
            "Each distinct break, with the versions it was seen in (inclusive) and its source.", ""]
    by_class: dict[tuple, list[dict]] = {}
    for e in entries:
        by_class.setdefault((e["dist"], e["class"]), []).append(e)
    for key in sorted(by_class):
        dist, cls = key
        out += [f"### `{cls}` ({dist})", "", "| kind | method | producers | targets | error | source |",
                "|---|---|---|---|---|---|"]
        for e in by_class[key]:
            err = e["error"] if e["kind"] != "silent" else SILENT_TEXT[
                {"library": "same", "pickle": "different"}.get(e["cause"], "error")]
            out.append(
                f"| {e['kind']} | {e['method']} | {', '.join(e['producer_versions'])} | "
                f"{', '.join(e['target_versions'])} | {md_cell(err)} | [{e['source_kind']}]({e['source']}) |")
        out.append("")
    return "\n".join(out)


def generated(rows: list[dict]) -> dict[str, str]:
    """Path -> text of every file generated from the truth rows."""
    entries = condense(rows)
    return {KNOWLEDGE: knowledge_text(entries), DOCS: docs_text(rows, entries)}


def main() -> None:
    cmd = sys.argv[1]
    if cmd == "inputs":
        write_json(os.path.join(FIXTURES, "inputs.json"), make_inputs())
    elif cmd == "pairs":
        for fam, p, t in pairs():
            print(fam, p, t)
    elif cmd == "selfpairs":
        for fam, p in producers():
            print(fam, p, p)
    elif cmd == "checkself":
        # Harness guard: every case reloaded by its own writer must load and repeat every
        # call identically, or the comparison itself is noisy.
        bad = []
        for fam, p in producers():
            with open(os.path.join(sys.argv[2], f"{fam}__{p}__{p}.json"), encoding="utf-8") as f:
                res = json.load(f)
            for r in res["rows"]:
                calls = r.get("calls", [])
                kind, first = verdict(r["load"], calls) if "load" in r else ("crash", None)
                if kind != "ok":
                    bad.append(f"{p} {r['name']}: {kind} {first or r.get('load') or r.get('crash')}")
        if bad:
            raise SystemExit("atlas: a writer cannot reproduce its own outputs:\n  " + "\n  ".join(bad))
    elif cmd == "producers":
        for fam, p in producers():
            print(fam, p)
    elif cmd == "regen":
        # The knowledge data and docs from the committed truth.json (no venvs needed).
        with open(TRUTH, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        for path, text in generated(rows).items():
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    elif cmd == "truth":
        rows = build_truth(sys.argv[2])
        write_json(TRUTH, {"schema_version": 1, "rows": rows})
        for path, text in generated(rows).items():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
