"""The native calls release the GIL while Rust works, and Ctrl-C interrupts a long scan."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pickle_doctor


def test_other_threads_run_during_a_native_call(hostile_dir: pathlib.Path) -> None:
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    start = ticks
    time.sleep(0.01)
    before = ticks
    reports = pickle_doctor.scan_paths([hostile_dir], jobs=1)
    during = ticks - before
    done.set()
    t.join()
    assert len(reports) > 3000
    # With the GIL held for the whole scan, the counting thread would barely advance (a switch
    # interval at most); released, it counts all along.
    assert during > 100_000, (start, before, during)


def test_ctrl_c_interrupts_a_long_scan(tmp_path: pathlib.Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for i in range(40_000):
        (many / f"{i}.pkl").write_bytes(b"\x80\x04K\x01.")
    script = textwrap.dedent(
        f"""
        import os, signal, threading, time
        import pickle_doctor
        # As at a terminal: a process started in the background inherits SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        t = time.monotonic()
        try:
            pickle_doctor.scan_paths([{str(many)!r}], jobs=1)
        except KeyboardInterrupt:
            print("interrupted", round(time.monotonic() - t, 2))
        else:
            print("finished", round(time.monotonic() - t, 2))
        """
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    word, seconds = p.stdout.split()
    # A full scan of 40,000 files takes about a second; the interrupt stops it between files.
    assert word == "interrupted", p.stdout
    assert float(seconds) < 1.5, p.stdout
