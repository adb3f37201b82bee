"""Safe-loads every file of the hostile corpus in this one process, with an audit hook that
records what payloads do (run by test_safe_load.py; prints one JSON document).

    python hostile_load.py HOSTILE_DIR

Events are recorded only while ``pickle_doctor.load`` runs. The loaders' modules are imported
before the loop, so an ``import`` event during a load means the pickle imported something.
"""

from __future__ import annotations

# Everything the load path may import, imported up front.
import collections
import io  # noqa: F401
import json
import os
import pickle
import sys
import zipfile  # noqa: F401

import joblib.numpy_pickle  # noqa: F401
import numpy  # noqa: F401
import numpy.lib.format  # noqa: F401

import pickle_doctor

# Audit events that mean a payload (or any unpickling at all) ran.
EVIDENCE_PREFIXES = (
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.kill",
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.truncate",
    "os.chmod",
    "os.mkdir",
    "os.symlink",
    "os.link",
    "os.putenv",
    "os.unsetenv",
    "subprocess.Popen",
    "pty.spawn",
    "socket.",
    "shutil.",
    "exec",
    "compile",
    "builtins.input",
    "code.__new__",
    "function.__new__",
    "marshal.",
    "ctypes.",
    "webbrowser.open",
    "urllib.Request",
    "http.client.",
    "import",
    "pickle.find_class",
    "tempfile.",
)

recording = False
events: list[tuple[str, str]] = []


def _writes(args: tuple) -> bool:
    mode = args[1] if len(args) > 1 else "r"
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))


def hook(event: str, args: tuple) -> None:
    if not recording:
        return
    if event == "open":
        if _writes(args):
            events.append((event, repr(args)[:200]))
        return
    if event.startswith(EVIDENCE_PREFIXES):
        events.append((event, repr(args)[:200]))


def main() -> None:
    global recording
    root = sys.argv[1]
    manifest = json.load(open(os.path.join(root, "manifest.json")))["files"]
    sys.addaudithook(hook)
    result = {
        "total": len(manifest),
        "unsafe": 0,
        "error": [],
        "loaded": [],
        "other": [],
        "missing_codes": [],
        "evidence": [],
    }
    for entry in manifest:
        path = os.path.join(root, entry["path"])
        events.clear()
        recording = True
        try:
            pickle_doctor.load(path)
        except pickle_doctor.UnsafePickleError as e:
            result["unsafe"] += 1
            codes = {f.code for f in e.findings}
            missing = sorted(set(entry["expect"]) - codes)
            if missing:
                result["missing_codes"].append([entry["path"], missing])
        except pickle_doctor.Error as e:
            result["error"].append([entry["path"], str(e)])
        except BaseException as e:  # noqa: BLE001 - everything else is a failure
            result["other"].append([entry["path"], f"{type(e).__name__}: {e}"[:300]])
        else:
            result["loaded"].append(entry["path"])
        finally:
            recording = False
        if events:
            result["evidence"].append([entry["path"], events[:5]])
    # Controls: the hook sees what it must see.
    events.clear()
    recording = True
    pickle_doctor.load(pickle.dumps(collections.OrderedDict(a=1), protocol=4))
    os.system("true")
    recording = False
    result["control_events"] = sorted({e for e, _ in events})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
