#!/usr/bin/env python3
"""Instructions per opcode, per opcode family, for `scan`, `show --stats` and `dis`.

Wall-clock time on a shared 2-core machine is noise; instruction counts from
`valgrind --tool=callgrind` repeat to the last digit. Each family is a pickle that
is (nearly) all one kind of op — ints, floats, short strings, memo gets, dict/list/
tuple building, globals with REDUCE/BUILD, tiny FRAMEs — written at two sizes, and
each command runs under callgrind on both. The difference in instructions divided
by the difference in opcodes is the cost of one more op of that family, with the
process's fixed cost (start-up, argument parsing, reading the file) cancelled out.

Normally started by `benches/profile.sh`. Only the standard library is needed.

    benches/profile.py --pickle-doctor target/release/pickle-doctor
    benches/profile.py --pickle-doctor BIN --families ints,dicts --commands scan --no-docs

The callgrind output files of the large runs are kept in `--out-dir` (default
`$PICKLE_DOCTOR_CACHE/bench-data/profile/`), one per family and command, for
`callgrind_annotate FILE | head -40`.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docsection import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECTION = "families"

# Items per family at the two sizes. The small size is large enough that the
# per-op work dominates what differs between the two runs (memo growth, frame
# count), and the large one small enough that callgrind (~50× slower) finishes
# every family in well under a minute.
SMALL, LARGE = 20_000, 120_000


# --------------------------------------------------------------------------
# The families
# --------------------------------------------------------------------------


def dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=4)


def appends(items: list[bytes]) -> list[bytes]:
    """`items` (each one pushes one value) appended to a memoized list, 1000 per APPENDS, as
    the pickler batches them; returned as whole ops, for [`framed`]."""
    out = [b"]\x94"]
    for i in range(0, len(items), 1000):
        out += [b"(", *items[i:i + 1000], b"e"]
    return out


def framed(ops: list[bytes]) -> bytes:
    """Protocol 4 with `ops` in frames of about 64 KB, never splitting an op, as the pickler
    writes them."""
    out, frame, size = [b"\x80\x04"], [], 0

    def flush() -> None:
        out.append(b"\x95" + struct.pack("<Q", size) + b"".join(frame))

    for op in ops:
        if size + len(op) > 1 << 16 and frame:
            flush()
            frame, size = [], 0
        frame.append(op)
        size += len(op)
    if frame:
        flush()
    return b"".join(out) + b"."


def sbu(s: str) -> bytes:
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def stack_globals(n: int) -> bytes:
    # A naive (or hostile) writer that never memoizes: every item names its callable
    # afresh, so each costs two strings, STACK_GLOBAL and REDUCE.
    item = sbu("collections") + sbu("OrderedDict") + b"\x93)R"
    return framed(appends([item] * n))


def tiny_frames(n: int) -> bytes:
    # Every op in a frame of its own: FRAME is half of all ops.
    def frame(op: bytes) -> bytes:
        return b"\x95" + struct.pack("<Q", len(op)) + op

    out = [b"\x80\x04", frame(b"]\x94")]
    for i in range(0, n, 1000):
        out.append(frame(b"("))
        out += [frame(b"K" + bytes([j % 256])) for j in range(i, min(n, i + 1000))]
        out.append(frame(b"e"))
    return b"".join(out) + b"."


@dataclass
class Family:
    name: str
    what: str
    make: Callable[[int], bytes]


FAMILIES = [
    Family("ints", "`list(range(n))`: BININT1/BININT2/BININT",
           lambda n: dumps(list(range(n)))),
    Family("floats", "`[i * 0.5 ...]`: BINFLOAT", lambda n: dumps([i * 0.5 for i in range(n)])),
    Family("short-strings", "`[f's{i}' ...]`: SHORT_BINUNICODE + MEMOIZE",
           lambda n: dumps([f"s{i}" for i in range(n)])),
    Family("memo-get", "300 strings, then each again: BINGET/LONG_BINGET",
           lambda n: dumps((lambda ks: ks + [ks[i % 300] for i in range(n)])(
               [f"k{j}" for j in range(300)]))),
    Family("dicts", "`[{'a': 1, 'b': 2} ...]`: EMPTY_DICT MARK BINGET K SETITEMS",
           lambda n: dumps([{"a": 1, "b": 2} for _ in range(n)])),
    Family("lists", "`[[1, 2] ...]`: EMPTY_LIST MARK K APPENDS",
           lambda n: dumps([[1, 2] for _ in range(n)])),
    Family("tuples", "`[(i, 1) ...]`: BININT K TUPLE2",
           lambda n: dumps([(i, 1) for i in range(n)])),
    Family("reduce", "`datetime.date` objects: BINGET (global) SHORT_BINBYTES TUPLE1 REDUCE",
           lambda n: dumps([datetime.date(2000 + i % 20, 1 + i % 12, 1) for i in range(n)])),
    Family("build", "`argparse.Namespace(a=i)`: EMPTY_TUPLE NEWOBJ EMPTY_DICT SETITEM BUILD",
           lambda n: dumps([argparse.Namespace(a=i) for i in range(n)])),
    Family("stack-global", "unmemoized `collections.OrderedDict()`: 2 strings, STACK_GLOBAL, REDUCE",
           stack_globals),
    Family("frames", "every op in its own FRAME", tiny_frames),
    Family("mixed", "the issue's mixed rows: `{'id', 'name', 'score', 'tags'}` dicts",
           lambda n: dumps([{"id": i, "name": f"item-{i}", "score": i * 0.5,
                             "tags": ("a", "b", i % 7)} for i in range(n)])),
]

COMMANDS = {
    "scan": ["scan"],
    "show --stats": ["show", "--stats"],
    "dis": ["dis"],
}


def count_ops(data: bytes) -> int:
    return sum(1 for _ in pickletools.genops(io.BytesIO(data)))


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


def callgrind(pd: str, cmd: list[str], path: Path, out_file: Path) -> int:
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", pd, *cmd,
            str(path)]
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # scan exits 1 when it finds something unsafe (stack-global has no unsafe callable, but a
    # future rule might disagree); anything else is a failure worth stopping for.
    if p.returncode not in (0, 1):
        tail = "\n".join(p.stderr.strip().splitlines()[-8:])
        raise SystemExit(f"{' '.join(argv)} exited {p.returncode}:\n{tail}")
    for line in out_file.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {out_file}")


@dataclass
class Cell:
    per_op: float
    ops: int
    bytes_per_op: float
    total_large: int


def measure(pd: str, fam: Family, cmd_name: str, data_dir: Path, out_dir: Path) -> Cell:
    irs, ops, sizes = [], [], []
    for n in (SMALL, LARGE):
        path = data_dir / f"{fam.name}-{n}.pkl"
        slug = cmd_name.replace(" --", "-")
        out = out_dir / f"callgrind.{fam.name}.{slug}.{n}.out"
        irs.append(callgrind(pd, COMMANDS[cmd_name], path, out))
        ops.append(int((data_dir / f"{fam.name}-{n}.ops").read_text()))
        sizes.append(path.stat().st_size)
        if n == SMALL:
            out.unlink()
    d_ops = ops[1] - ops[0]
    return Cell((irs[1] - irs[0]) / d_ops, ops[1], (sizes[1] - sizes[0]) / d_ops, irs[1])


def ensure_data(fams: list[Family], data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for fam in fams:
        for n in (SMALL, LARGE):
            path = data_dir / f"{fam.name}-{n}.pkl"
            data = fam.make(n)
            # Regenerated every run (a second at most) and rewritten only on change, so a
            # changed recipe can never be measured on a stale file.
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
            (data_dir / f"{fam.name}-{n}.ops").write_text(str(count_ops(data)))


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def render(fams: list[Family], cmds: list[str], cells: dict, pd: str, elapsed: float) -> str:
    def sh(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    head = "| family | ops (large) | bytes/op | " + " | ".join(f"`{c}` Ir/op" for c in cmds) + " |"
    lines = [
        "## Instructions per opcode, by family (callgrind)",
        "",
        "Generated by `benches/profile.sh` (`benches/profile.py`); do not edit by hand.",
        "",
        f"Each family is a protocol-4 pickle of {SMALL:,} and of {LARGE:,} items, nearly all one "
        "kind of op. Every command runs once per size under `valgrind --tool=callgrind`; "
        "Ir/op = (instructions at the large size − at the small size) ÷ (ops at the large size "
        "− at the small size), so start-up and other fixed costs cancel. Ops are counted by "
        "`pickletools.genops`, every op including MARK, MEMOIZE, FRAME and STOP. Instruction "
        "counts repeat exactly from run to run; they rank where time goes, they are not time "
        "(a cache miss costs more than an add).",
        "",
        head,
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in cmds) + " |",
    ]
    for fam in fams:
        first = cells[(fam.name, cmds[0])]
        row = [f"{fam.name}", f"{first.ops:,}", f"{first.bytes_per_op:.1f}"]
        row += [f"{cells[(fam.name, c)].per_op:,.0f}" for c in cmds]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "What each family holds:", ""]
    lines += [f"- **{f.name}**: {f.what}" for f in fams]
    lines += [
        "",
        f"Machine: {os.cpu_count()} CPUs, {sh(['uname', '-srm'])}; {sh(['valgrind', '--version'])}; "
        f"pickle-doctor {sh([pd, '--version'])}, commit "
        f"{sh(['git', '-C', str(ROOT), 'describe', '--always', '--dirty'])}; "
        f"run took {elapsed:.0f} s.",
        "",
        "```sh",
        "benches/profile.sh                       # build, run every family, rewrite this section",
        "benches/profile.sh --families ints,dicts --commands scan --no-docs   # a quick look",
        "callgrind_annotate $PICKLE_DOCTOR_CACHE/bench-data/profile/callgrind.dicts.scan.120000.out | head -40",
        "```",
    ]
    return "\n".join(lines)


def main() -> int:
    cache = Path(os.environ.get("PICKLE_DOCTOR_CACHE") or Path.home() / ".cache" / "pickle-doctor")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pickle-doctor", required=True, help="path to the pickle-doctor binary")
    ap.add_argument("--families", help="comma-separated subset of: "
                    + ", ".join(f.name for f in FAMILIES))
    ap.add_argument("--commands", help="comma-separated subset of: scan, show, dis")
    ap.add_argument("--jobs", type=int, default=2, help="callgrind runs at once (default 2)")
    ap.add_argument("--out-dir", type=Path, default=cache / "bench-data" / "profile")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-docs", action="store_true", help="print the table only")
    args = ap.parse_args()

    pd = str(Path(args.pickle_doctor).resolve())
    fams = FAMILIES
    if args.families:
        want = args.families.split(",")
        unknown = set(want) - {f.name for f in FAMILIES}
        if unknown:
            ap.error(f"unknown families: {', '.join(sorted(unknown))}")
        fams = [f for f in FAMILIES if f.name in want]
    cmds = list(COMMANDS)
    if args.commands:
        alias = {"scan": "scan", "show": "show --stats", "dis": "dis"}
        cmds = [alias[c] for c in args.commands.split(",")]

    t0 = time.perf_counter()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    ensure_data(fams, args.out_dir)
    jobs = [(f, c) for f in fams for c in cmds]
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = ex.map(lambda fc: measure(pd, fc[0], fc[1], args.out_dir, args.out_dir), jobs)
        cells = {}
        for (f, c), cell in zip(jobs, results):
            cells[(f.name, c)] = cell
            print(f"{f.name:14} {c:13} {cell.per_op:8,.0f} Ir/op", file=sys.stderr, flush=True)
    body = render(fams, cmds, cells, pd, time.perf_counter() - t0)
    print(body)
    if not args.no_docs:
        write_section(args.docs, SECTION, body)
        print(f"wrote {args.docs} (section {SECTION})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
