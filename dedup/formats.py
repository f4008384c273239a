"""Which form a file's name says it has: its compression, its kind, and whether it is read
a record at a time (so that ``--max-bytes`` bounds each record, not the file).

A leaf module: the walk (stage 1) and extraction (stage 2) both ask it, and it imports
nothing of dedup's. Names are matched case-insensitively, as ``Path.suffix`` gives them.

Example:
    >>> inner_suffix("dump/part-0.JSONL.gz"), compression("dump/part-0.JSONL.gz")
    ('.jsonl', 'gzip')
"""

from __future__ import annotations

import os

__all__ = [
    "COMPRESSIONS",
    "JSONL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "compression",
    "inner_suffix",
    "read_by_record",
]

#: Compressed files by ending: decompressed as they are read (compressed.py).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


def _suffix(name: str) -> str:
    """The extension, lower case, with its dot ("" for none), as ``Path.suffix`` gives it."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def compression(path: str) -> str | None:
    """ "gzip" or "zstd" when the name ends in ``.gz`` or ``.zst``/``.zstd``, else None."""
    return COMPRESSIONS.get(_suffix(os.path.basename(path)))


def inner_suffix(path: str) -> str:
    """The ending that says the kind, under any compression ending: ``.jsonl`` for
    ``a.jsonl.gz``, ``.txt`` for ``a.txt``, "" for ``a.gz``."""
    name = os.path.basename(path)
    suffix = _suffix(name)
    if suffix in COMPRESSIONS:
        return _suffix(name[: -len(suffix)])
    return suffix


def read_by_record(path: str) -> bool:
    """True for files read a record at a time (JSON Lines, compressed or not, and Parquet):
    for them ``--max-bytes`` is a limit per record, not on the file."""
    suffix = inner_suffix(path)
    if suffix in JSONL_SUFFIXES:
        return True
    return suffix in PARQUET_SUFFIXES and compression(path) is None
