"""Handing the C heap's free pages back to the OS while a big run collects its chunks.

Hashing frees many mid-sized arrays (each chunk's shingle sets, anchors and signature rows,
once copied into the run's columns); glibc keeps such memory for reuse, and it counts
against the run's peak. ``give_back`` returns it (glibc only; elsewhere a no-op). The
figure that keeps it is in docs/benchmarks.md ("Returning freed memory while hashing").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

#: Chunks collected between two returns of the freed heap.
EVERY = 32


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc


def give_back() -> None:
    """Return the C heap's free pages to the OS (glibc's ``malloc_trim(0)``)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
