"""The ``dedup`` program's entry point (console script and ``python -m dedup``).

It stays tiny and imports ``cli`` (numpy, the pipeline: a quarter of a second) only after
a Ctrl-C, SIGTERM or SIGHUP has a handler: one arriving while the modules load ends the
program with the same ``Error: stopped by SIGINT`` line and exit code (128 + the signal's
number) as one arriving later, not a KeyboardInterrupt traceback. ``cli.run`` then puts
its own handlers in place, which clean up what a run has made.
"""

from __future__ import annotations

# The C module, built into the interpreter and loaded at its start: ``signal`` itself
# builds its enums when first imported (milliseconds in which a Ctrl-C would still meet
# Python's default handler).
import _signal  # type: ignore[import-not-found]  # no stub: the same functions as signal
import os
import sys
from types import FrameType

#: The signals a run stops on, by name (``cli.STOP_SIGNALS``, which cannot be imported this early).
_NAMES = {getattr(_signal, name): name for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(_signal, name)}


def run() -> None:
    """Run the ``dedup`` program, stopping cleanly on a signal from its first moment."""
    for sig in _NAMES:
        _signal.signal(sig, _stopped_loading)
    from .cli import run as program

    program()


def _stopped_loading(signum: int, frame: FrameType | None) -> None:
    """A signal while the modules load: nothing was made yet, so nothing to clean up."""
    name = _NAMES.get(signum, f"signal {signum}")
    try:
        sys.stderr.write(f"Error: stopped by {name}\n")
        sys.stderr.flush()
    finally:
        os._exit(128 + signum)
