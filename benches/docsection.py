"""Rewrite one generated section of docs/benchmarks.md, leaving the others alone.

Each harness owns the text between `<!-- BEGIN name -->` and `<!-- END name -->`; a rerun
replaces only that text, and a section not yet in the file is appended at its end.
"""

from __future__ import annotations

from pathlib import Path


def write_section(doc: Path, name: str, body: str) -> None:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start, stop = text.find(begin), text.find(end)
    if start != -1 and stop > start:
        text = text[:start] + block + text[stop + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
