"""The compiled fast path of shingling and MinHash, and the switch between it and NumPy.

``dedup._kernel`` (dedup/_kernel.c, built by setup.py when a C compiler is present) computes
exactly what ``shingle.shingle_batch`` and ``signature.signatures`` compute with NumPy, bit for
bit, several times faster. Those two functions call `shingle_batch` and `minhash` here when
`available()`; otherwise they run their NumPy code. Set ``DEDUP_NO_KERNEL=1`` to force the
NumPy path (tests and benchmarks compare the two in one process this way).

What stays in Python: ``tokens.fold`` (NFKC + casefold) of every text that is not pure ASCII
(for ASCII the fold is ``lower()``, which the C scan applies as it reads), and the Unicode
category lookups that fill ``tokens.class_table()``, which the C code reads. The table is filled
lazily, 256 code points at a time, for the blocks the C code reports it has met unfilled.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray

from . import tokens as _tk
from .sets import Shingles


class _KernelModule(Protocol):
    """The functions dedup/_kernel.c defines (see their docstrings there)."""

    def shingle(
        self, texts: list[str], k: int, char_k: int, table: NDArray[np.uint8], /
    ) -> tuple[bytearray, bytearray, bytearray, bytearray, bytearray] | list[int]: ...

    def minhash(
        self,
        hashes: NDArray[np.uint64],
        offsets: NDArray[np.int64],
        a: NDArray[np.uint32],
        b: NDArray[np.uint32],
        out: NDArray[np.uint32],
        /,
    ) -> None: ...

    def constants(self) -> dict[str, object]: ...


_kernel: _KernelModule | None
try:
    _kernel = cast(_KernelModule, importlib.import_module(f"{__package__}._kernel"))
except ImportError:  # not built: no compiler at install time, or a source tree without build_ext
    _kernel = None

_BLOCK = 256  # code points per class-table block the C code reports (BLOCK_SHIFT there)


def built() -> bool:
    """Whether the C extension is importable (whatever DEDUP_NO_KERNEL says)."""
    return _kernel is not None


def available() -> bool:
    """Whether shingling and MinHash run in the C kernel: built, compatible, not disabled."""
    return _kernel is not None and os.environ.get("DEDUP_NO_KERNEL", "") in ("", "0") and compatible()


@lru_cache(maxsize=1)
def compatible() -> bool:
    """The compiled constants equal tokens.py's, `_QUOTES` is invisible to tokens, and the
    fold of ASCII text is ``lower()``.

    The C code does not apply the quote/dash map: it maps separators to separators, and a
    separator only matters through its class (and "\\n"). It lowercases pure ASCII texts
    itself instead of calling `fold`. If someone changes any of that in tokens.py, the
    kernel is turned off with a warning instead of returning different hashes.
    """
    assert _kernel is not None
    c = _kernel.constants()
    same = (
        c["base"] == _tk.BASE
        and c["golden"] == _tk.GOLDEN
        and c["position"] == _tk.POSITION
        and c["short_line_tokens"] == _tk.SHORT_LINE_TOKENS
        and c["max_shingle_size"] == _tk.MAX_SHINGLE_SIZE
        and c["empty"] == int(np.iinfo(np.uint32).max)
    )
    quotes_are_separators = all(
        _tk.classify(cp) == _tk.SEP and cp != 10
        for pair in _tk.QUOTES.items()
        for cp in (pair[0], ord(str(pair[1])))
    )
    ascii_chars = "".join(map(chr, range(128)))
    ascii_fold_is_lower = _tk.fold(ascii_chars) == ascii_chars.lower()
    if not (same and quotes_are_separators and ascii_fold_is_lower):
        warnings.warn(
            "dedup._kernel does not match dedup.tokens (rebuild it); using the NumPy path",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


def minhash_isa() -> str:
    """The instruction set the MinHash loop runs with ("avx2", "sse4.1" or "generic")."""
    return str(_kernel.constants()["minhash_isa"]) if _kernel is not None else "none"


def _fill_blocks(table: NDArray[np.uint8], blocks: list[int]) -> None:
    """Fill the class table for whole 256-code-point blocks (values as `_classify` gives)."""
    for block in blocks:
        lo = block * _BLOCK
        table[lo : lo + _BLOCK] = [_tk.classify(cp) for cp in range(lo, lo + _BLOCK)]


def shingle_batch(texts: Sequence[str], k: int, char_k: int, table: NDArray[np.uint8] | None = None) -> Shingles:
    """`shingle.shingle_batch` in C (sizes already checked; `table` for tests only)."""
    assert _kernel is not None
    # Pure ASCII texts go as they are: their fold is lower(), which the C scan does for
    # free on the fly (it lowercases A-Z, a no-op on folded text).
    folded = [t if t.isascii() else _tk.fold(t) for t in texts]
    if table is None:
        table = _tk.class_table()
    result = _kernel.shingle(folded, k, char_k, table)
    if isinstance(result, list):  # code points of classes not looked up yet: fill, go again
        _fill_blocks(table, result)
        result = _kernel.shingle(folded, k, char_k, table)
        if isinstance(result, list):
            raise RuntimeError(f"class table blocks still unknown after filling: {result[:5]}")
    offsets, hashes, words, line_hashes, line_docs = result
    return Shingles(
        np.frombuffer(offsets, dtype=np.int64),
        np.frombuffer(hashes, dtype=np.uint64),
        np.frombuffer(words, dtype=np.int64),
        np.frombuffer(line_hashes, dtype=np.uint64),
        np.frombuffer(line_docs, dtype=np.int64),
    )


def minhash(shingles: Shingles, a: NDArray[np.uint32], b: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """The ``(n_docs, num_perm)`` signature matrix of `signature.signatures`, in C."""
    assert _kernel is not None
    out = np.empty((len(shingles), len(a)), dtype=np.uint32)
    _kernel.minhash(
        np.ascontiguousarray(shingles.hashes, dtype=np.uint64),
        np.ascontiguousarray(shingles.offsets, dtype=np.int64),
        np.ascontiguousarray(a, dtype=np.uint32),
        np.ascontiguousarray(b, dtype=np.uint32),
        out,
    )
    return out
