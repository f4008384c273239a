"""Leaving the ``dedup`` program after a signal stopped a run that used Ray.

Ray's C++ core worker registers its own clean-up with the C library's ``atexit``
(``CoreWorkerProcess::HandleAtExit``), which runs after the interpreter has finalised. A
run stopped by a signal leaves Ray calls unfinished (their object references held by the
stopped frames), and that clean-up then destroyed the core worker while its I/O thread
still ran a periodic task on it: a segmentation fault (exit 139) after the run's
``Error: stopped by SIGINT`` line, in about one run in three stopped mid-scan (a core
file's stack: ``TaskManager::RecordMetrics`` on the I/O thread, ``HandleAtExit`` on the
main one). So such a run leaves with ``os._exit`` once everything of its own is done:
the output is flushed and Python's ``atexit`` functions have run (temporary folders,
and Ray's ``shutdown``, which stops the Ray this run started).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

__all__ = ["leave_if_ray", "used_ray"]


def used_ray() -> bool:
    """Did this process load Ray? Only the Ray engine imports it, when a run asks for it."""
    return "ray" in sys.modules


def leave_if_ray(code: int) -> None:
    """End the process with ``code`` at once when it used Ray (see the module's docstring);
    otherwise return, for the caller's ``sys.exit``."""
    if used_ray():
        _leave(code)


def _leave(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing can reach it
            stream.flush()
    atexit._run_exitfuncs()  # what interpreter exit would run first: the run's own clean-up
    os._exit(code)
