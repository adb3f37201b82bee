#!/usr/bin/env python3
"""Writes picklescan's deny and allow lists (`_unsafe_globals` and `_safe_globals` in
picklescan/scanner.py) as JSON, for crates/analyze/tests/policy.rs, which checks that the
security data denies every name on the first and allows every name on the second.
Run it with a Python that has picklescan installed (a throwaway venv):

    python3 -m venv /tmp/ps && /tmp/ps/bin/pip install picklescan==1.0.5
    /tmp/ps/bin/python crates/analyze/scripts/picklescan_globals.py \
        > crates/analyze/tests/data/picklescan_unsafe_globals.json
"""
import json
import sys
from importlib.metadata import version

from picklescan import scanner

doc = {
    "picklescan": version("picklescan"),
    "source": "https://github.com/mmaitre314/picklescan/blob/v%s/src/picklescan/scanner.py"
    % version("picklescan"),
    "unsafe_globals": {
        m: ("*" if names == "*" else sorted(names if isinstance(names, (set, list)) else [names]))
        for m, names in sorted(scanner._unsafe_globals.items())
    },
    "safe_globals": {m: sorted(names) for m, names in sorted(scanner._safe_globals.items())},
}
json.dump(doc, sys.stdout, indent=1)
sys.stdout.write("\n")
