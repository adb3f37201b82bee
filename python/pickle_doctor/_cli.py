"""The ``pickle-doctor`` console script: the native CLI, run in this process."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    # Like a native binary: a closed stdout pipe ends the process quietly.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    import pickle_doctor

    sys.exit(pickle_doctor.main())


if __name__ == "__main__":
    main()
