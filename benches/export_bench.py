#!/usr/bin/env python3
"""export benchmark: `pickle-doctor export --to safetensors` against `torch.load` plus
`safetensors.torch.save_file`, on the same >= 2 GB checkpoint, in one run.

The checkpoint is the one benches/large_file.py writes (torch's zip layout, four float32
tensors, written without torch). Both sides produce a safetensors file of the same tensors;
the script checks that they hold equal tensors (safetensors.torch.load_file, torch.equal),
then reports best-of-N wall time and peak RSS (GNU /usr/bin/time) and the ratio, and writes
a table into docs/benchmarks.md between ``<!-- BEGIN export -->`` and ``<!-- END export -->``.

    python3 benches/export_bench.py --pickle-doctor target/release/pickle-doctor \
        --torch-python ~/.cache/pickle-doctor/venvs/torch/bin/python

The torch venv is the one tests/envs/torch.txt describes (torch is not in CI; this is a
local measurement, recorded with its date and versions).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import large_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN export -->", "<!-- END export -->"

TORCH_SIDE = """
import sys, torch
from safetensors.torch import save_file
sd = torch.load(sys.argv[1], weights_only=True)
save_file(sd, sys.argv[2], metadata={"format": "pt"})
"""

COMPARE = """
import sys, torch
from safetensors.torch import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for k in a:
    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]), k
print(len(a), "tensors equal")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pickle-doctor", required=True)
    ap.add_argument("--torch-python", required=True)
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    cache = Path(os.environ.get("PICKLE_DOCTOR_CACHE", Path.home() / ".cache" / "pickle-doctor"))
    ap.add_argument("--data-dir", type=Path, default=cache / "bench-data")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    size = int(args.size_gb * (1 << 30))
    ckpt = args.data_dir / f"checkpoint-{args.size_gb:g}gb.pt"
    if not ckpt.exists() or ckpt.stat().st_size < size:
        print(f"writing {ckpt}", file=sys.stderr)
        large_file.make_checkpoint(ckpt, size)
    ours = args.data_dir / "export-pickle-doctor.safetensors"
    theirs = args.data_dir / "export-torch.safetensors"

    pd = [args.pickle_doctor, "export", str(ckpt), "-o", str(ours)]
    torch_side = [args.torch_python, "-c", TORCH_SIDE, str(ckpt), str(theirs)]
    rows = []
    for name, argv in (("pickle-doctor export", pd), ("torch.load + save_file", torch_side)):
        # Drop the page cache's advantage between the two: both run warm, best of N.
        t, rss, status = large_file.measure(argv, args.runs)
        rows.append((name, t, rss, status))
        print(f"{name}: {t:.2f} s, {rss:.0f} MB ({status})", file=sys.stderr)
    check = subprocess.run([args.torch_python, "-c", COMPARE, str(ours), str(theirs)],
                           capture_output=True, text=True)
    equal = check.stdout.strip() if check.returncode == 0 else f"DIFFER: {check.stderr.strip()[-200:]}"
    print(equal, file=sys.stderr)
    versions = subprocess.run(
        [args.torch_python, "-c", "import torch, safetensors; print(torch.__version__, safetensors.__version__)"],
        capture_output=True, text=True).stdout.split()
    (pd_t, pd_rss), (tt, trss) = (rows[0][1], rows[0][2]), (rows[1][1], rows[1][2])
    lines = [
        BEGIN,
        f"Measured {datetime.date.today()} on this 2-core machine by `benches/export_bench.py`: "
        f"a {ckpt.stat().st_size / (1 << 30):.2f} GiB torch zip checkpoint (4 float32 tensors), best of "
        f"{args.runs} warm runs; torch {versions[0] if versions else '?'}, safetensors "
        f"{versions[1] if len(versions) > 1 else '?'}. Outputs compared: {equal}.",
        "",
        "| tool | wall time | peak RSS | vs pickle-doctor (time) |",
        "|---|---|---|---|",
    ]
    for name, t, rss, status in rows:
        note = "" if status == "ok" else f" ({status})"
        lines.append(f"| {name}{note} | {t:.2f} s | {rss:.0f} MB | {t / pd_t:.1f}× |")
    lines += ["", f"Goals: ≥ 3× faster ({tt / pd_t:.1f}×), peak RSS < 64 MB ({pd_rss:.0f} MB).", END]
    text = args.docs.read_text() if args.docs.exists() else ""
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## export --to safetensors (2 GB checkpoint)\n\n" + block + "\n"
    args.docs.write_text(text)
    return 0 if check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
