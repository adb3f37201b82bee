#!/usr/bin/env python3
"""Groups a callgrind profile of `pickle-doctor` into the costs of the symbolic VM.

Usage: scripts/vm_profile.py CALLGRIND.OUT

Each `file:function` self cost from `callgrind_annotate` goes to one bucket, by the function
it was inlined into and the file its code came from: memo ops (`memo_put`, `memo_index`,
`Memo`), container building (`set_items`, `add_items`, `collect_*`, `kept_pairs`, vector
growth), string checks (`from_utf8`), globals and calls (`call`, `global`,
`mark_arguments`, ...), opcode decoding (crates/pickle inlined into the run loop), the
allocator, freeing the graph, the security rules, and the dispatch loop itself (what remains
of `Machine::exec` and `Machine::run_one`). Everything else (start-up, reading the policy and
the file) is "other".
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict


def bucket(loc: str) -> str:
    file, _, func = loc.partition(":")
    if "drop_in_place" in func:
        return "freeing the graph (drop)"
    if any(k in file for k in ("malloc", "mimalloc", "alloc.rs")) or func.startswith(("mi_", "_mi_", "malloc", "free", "_int_", "unlink_chunk", "cfree", "realloc")):
        return "allocator (malloc/free/realloc)"
    if "analyze::" in func:
        return "security rules"
    if "from_utf8" in func or "validations.rs" in file or "text.rs" in file:
        return "string pushes (UTF-8 checks)"
    if "memo" in func.lower() or "Memo" in func:
        return "memo ops (PUT/GET/MEMOIZE)"
    if any(k in func for k in ("set_items", "add_items", "collect_", "kept_pairs", "append_elsewhere", "SpecFromIter", "extend_")):
        return "container building (MARK/DICT/SETITEMS/APPENDS/TUPLE*)"
    if any(k in func for k in ("::call", "::global", "mark_arguments", "mark_use", "literal_type", "stack_global_name", "side_effect")):
        return "globals/REDUCE/BUILD"
    if "vm::machine" in func and "crates/pickle/src/" in file:
        return "opcode decoding (parser, inlined)"
    if "vm::machine" in func or "vm::run" in func:
        return "dispatch (exec/run_one: match, stack, node arena, ints/floats, FRAME)"
    if "kernel" in file or "page" in func:
        return "kernel"
    return "other (start-up, policy, reading the file, output)"


def main() -> None:
    text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", out := sys.argv[1]],
                          capture_output=True, text=True, check=True).stdout
    del out
    total = 0
    cost: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(\(\s*[\d.]+%\)\s+)?(\S.*?)(\s\[.*\])?$", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        loc = m.group(3)
        if loc == "PROGRAM TOTALS":
            total = n
            continue
        if ":" not in loc or loc.startswith(("Ir", "--")):
            continue
        cost[bucket(loc)] += n
    print("| where | instructions | share |\n|---|---:|---:|")
    for k, v in sorted(cost.items(), key=lambda kv: -kv[1]):
        print(f"| {k} | {v:,} | {100 * v / total:.1f}% |")
    print(f"| **total** | **{total:,}** | 100% |")


if __name__ == "__main__":
    main()
