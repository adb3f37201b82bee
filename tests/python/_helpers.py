"""Helpers shared by the test modules."""

from __future__ import annotations

import struct
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def foo_pickle() -> bytes:
    """Protocol 2: __main__.Foo() with state {'a': 1} (hand-assembled; nothing defines Foo)."""
    key = b"a"
    return b"\x80\x02c__main__\nFoo\nq\x00)\x81q\x01}q\x02X" + struct.pack("<I", len(key)) + key + b"K\x01sb."
