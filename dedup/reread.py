"""Re-reading one record of a compressed or Parquet file without reading the file again
for each record.

The ranking stage re-reads every member of a group (``extract.load_text``). A plain file
is read at the record's byte span; a gzip or zstd stream and a Parquet column cannot be
entered in the middle. So each process keeps, per file, a *spool*: an anonymous temporary
file (gone when closed, and when the process ends) that holds the decompressed bytes, or
the text field's values, as far as the records asked for so far; the stream that fills it
stays open where it stopped. A file's records are then decompressed or decoded once per
process whatever order they are asked in, and memory holds only the open streams and, for
Parquet, two integers a row.

A spool is dropped and built again when its file's stat (size, times, inode) changes,
and never used in a process other than the one that built it (a forked worker inherits
the parent's objects, not their file positions). The text read through a spool is still
compared with the digest taken when the file was hashed (the ranking stage's
changed-during-scan check), so a spool can make a re-read cheap but never wrong.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO, cast

from .compressed import DecompressingReader
from .files import open_regular

__all__ = ["MAX_SPOOLS", "RowValue", "clear", "read_row", "read_span"]

#: Spools kept open per process (each holds a temporary file and, while it is not at the end
#: of its file, the open file and its decompressor). Least recently used are closed first.
MAX_SPOOLS = 16
#: Decompressed bytes copied into a spool at a time.
_STEP = 1 << 20

#: A Parquet row's text-field value as a spool gives it back: the string, or None for a
#: value that was not one (its record was skipped when the file was read).
RowValue = str | None


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class _Spool:
    """The decompressed bytes of one file, spooled to a temporary file as far as asked."""

    def __init__(self, path: str, form: str) -> None:
        self.pid = os.getpid()
        self._stack = contextlib.ExitStack()
        try:
            f, st = self._stack.enter_context(open_regular(path))
            self.key = _stat_key(st)
            self._stream: DecompressingReader | None = DecompressingReader(f, form)
            self._tmp: IO[bytes] = self._stack.enter_context(tempfile.TemporaryFile(prefix="dedup-reread-"))  # noqa: SIM115
        except BaseException:
            self._stack.close()
            raise
        self._have = 0

    def read(self, offset: int, length: int) -> bytes:
        end = offset + length
        while self._have < end and self._stream is not None:
            chunk = self._stream.read(_STEP)
            if not chunk:
                self._stream = None
                break
            os.pwrite(self._tmp.fileno(), chunk, self._have)
            self._have += len(chunk)
        return os.pread(self._tmp.fileno(), max(min(length, self._have - offset), 0), offset)

    def close(self) -> None:
        self._stack.close()


class _RowSpool:
    """One Parquet file's text-field values, row after row, spooled as UTF-8."""

    def __init__(self, path: str, rows: Callable[[BinaryIO], Iterator[RowValue]]) -> None:
        self.pid = os.getpid()
        self._stack = contextlib.ExitStack()
        try:
            f, st = self._stack.enter_context(open_regular(path))
            self.key = _stat_key(st)
            self._rows: Iterator[RowValue] | None = rows(f)
            self._tmp: IO[bytes] = self._stack.enter_context(tempfile.TemporaryFile(prefix="dedup-reread-"))  # noqa: SIM115
        except BaseException:
            self._stack.close()
            raise
        self._spans = array("q")  # (offset, length) a row; length -1: not a string
        self._have = 0

    def read(self, row: int) -> RowValue:
        while len(self._spans) // 2 <= row and self._rows is not None:
            value = next(self._rows, _END)
            if value is _END:
                self._rows = None
                break
            if isinstance(value, str):
                data = value.encode("utf-8", "surrogatepass")
                os.pwrite(self._tmp.fileno(), data, self._have)
                self._spans.extend((self._have, len(data)))
                self._have += len(data)
            else:
                self._spans.extend((0, -1))
        if not 0 <= row < len(self._spans) // 2:
            raise ValueError(f"no row {row} in the Parquet file")
        offset, length = self._spans[2 * row], self._spans[2 * row + 1]
        if length < 0:
            return None
        return os.pread(self._tmp.fileno(), length, offset).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        self._stack.close()


_END = object()
_spools: OrderedDict[tuple[str, str], _Spool | _RowSpool] = OrderedDict()


def _get(key: tuple[str, str], make: Callable[[], _Spool | _RowSpool]) -> _Spool | _RowSpool:
    """The process's spool for ``key``, made (or made again: the file changed) as needed."""
    path = key[0]
    spool = _spools.pop(key, None)
    if spool is not None and spool.pid == os.getpid():
        try:
            current = _stat_key(os.stat(path))
        except OSError:
            spool.close()
            raise
        if current != spool.key:
            spool.close()
            spool = None
    elif spool is not None:
        spool = None  # a forked copy of the parent's: its files' positions are shared
    if spool is None:
        spool = make()
    _spools[key] = spool
    while len(_spools) > MAX_SPOOLS:
        _, old = _spools.popitem(last=False)
        if old.pid == os.getpid():
            old.close()
    return spool


def read_span(path: str, form: str, offset: int, length: int) -> bytes:
    """Bytes ``[offset, offset + length)`` of the decompressed stream of compressed file
    ``path`` (fewer if the stream ends first).

    Raises:
        OSError: the file cannot be read any more.
        compressed.CorruptInput: the stream is damaged before ``offset + length``.
    """
    spool = cast(_Spool, _get((path, form), lambda: _Spool(path, form)))
    return spool.read(offset, length)


def read_row(path: str, field: str, row: int, rows: Callable[[BinaryIO], Iterator[RowValue]]) -> RowValue:
    """The value of row ``row`` (0-based) that ``rows`` gives for Parquet file ``path``: its
    text field's value, None if that was not a string. ``rows`` turns the open file into
    those values, in row order.

    Raises:
        OSError: the file cannot be read any more.
        ValueError: the file has fewer rows now.
    """
    spool = cast(_RowSpool, _get((path, "parquet:" + field), lambda: _RowSpool(path, rows)))
    return spool.read(row)


def clear() -> None:
    """Close every spool of this process (its temporary files go with them)."""
    while _spools:
        _, spool = _spools.popitem()
        if spool.pid == os.getpid():
            spool.close()
