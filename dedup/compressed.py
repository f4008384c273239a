"""gzip and zstd files read as the stream they hold, in bounded memory.

``open_decompressed`` gives a file object over the decompressed bytes that JSON Lines
reading can take a line at a time and whole-file reading can cut at ``--max-bytes``: a
decompression bomb costs at most the limit plus one output step, never its full size.
Each call into the decompressor yields at most ``OUTPUT_STEP`` bytes (zlib's
``max_length``; for zstd, whose streaming call has no output bound, the input fed per
call shrinks as the ratio grows).

Damaged data raises ``CorruptInput`` with a one-line reason: bytes that are not gzip or
zstd, a checksum that does not match, a file cut short (zstd's streaming readers would
end a truncated frame quietly; here a frame that never ends is an error). Concatenated
gzip members and zstd frames are read as one stream, as ``zcat`` and ``zstdcat`` do.
zstd needs the ``zstandard`` package (the ``zstd`` extra).
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from .extras import require
from .files import open_regular

__all__ = ["OUTPUT_STEP", "CorruptInput", "DecompressingReader", "open_decompressed", "read_limited", "verify"]

#: Most decompressed bytes one decompressor call produces (what a bomb costs per step).
OUTPUT_STEP = 1 << 20
#: Compressed bytes read from the file at a time.
_INPUT_STEP = 1 << 16
#: Smallest zstd input fed per call: zstd's worst ratio (an RLE block, 4 bytes for 128 KiB)
#: times 64 bytes is 2 MiB, the first step's bound before the ratio is known.
_ZSTD_FIRST = 64


class CorruptInput(ValueError):
    """Compressed data that cannot be decompressed; ``detail`` says why, in one line."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _gunzip(f: BinaryIO) -> Iterator[bytes]:
    """The decompressed bytes of gzip members, one after another (NUL padding between or
    after them is skipped, as gzip does)."""
    d = zlib.decompressobj(31)
    fresh = True  # nothing of the current member fed yet
    pending = b""
    while True:
        if not pending:
            pending = f.read(_INPUT_STEP)
            if not pending:
                if not fresh:
                    tail = d.flush()
                    if tail:
                        yield tail
                    if not d.eof:
                        raise CorruptInput("gzip data cut short (the file is truncated)")
                return
        if fresh:
            pending = pending.lstrip(b"\0")
            if not pending:
                continue
        try:
            out = d.decompress(pending, OUTPUT_STEP)
        except zlib.error as exc:
            raise CorruptInput(f"not valid gzip data ({exc})") from None
        fresh = False
        if out:
            yield out
        if d.eof:
            pending = d.unused_data
            d = zlib.decompressobj(31)
            fresh = True
        else:
            pending = d.unconsumed_tail


def _unzstd(f: BinaryIO) -> Iterator[bytes]:
    """The decompressed bytes of zstd frames, one after another."""
    zstandard = require("zstandard", "zstd", "reading zstd files")
    dctx = zstandard.ZstdDecompressor()
    d = dctx.decompressobj()
    fresh = True
    pending = b""
    step = _ZSTD_FIRST
    while True:
        if not pending:
            pending = f.read(_INPUT_STEP)
            if not pending:
                if not fresh and not d.eof:
                    raise CorruptInput("zstd data cut short (the file is truncated)")
                return
        piece, pending = pending[:step], pending[step:]
        try:
            out = d.decompress(piece)
        except zstandard.ZstdError as exc:
            raise CorruptInput(f"not valid zstd data ({exc})") from None
        fresh = False
        if out:
            yield out
        # Feed as much input as should give about OUTPUT_STEP bytes at the ratio just seen.
        ratio = len(out) / len(piece)
        step = max(_ZSTD_FIRST, min(_INPUT_STEP, int(OUTPUT_STEP / max(ratio, 1.0))))
        if d.eof:
            pending = d.unused_data + pending
            d = dctx.decompressobj()
            fresh = True


_DECOMPRESSORS = {"gzip": _gunzip, "zstd": _unzstd}


class DecompressingReader(io.RawIOBase):
    """A raw, read-only file object over the decompressed bytes of ``f``.

    Seeking forward decompresses and discards; seeking back starts again from the top
    (``f`` must be seekable for that). Wrap it in ``io.BufferedReader`` for ``readline``.
    """

    def __init__(self, f: BinaryIO, form: str) -> None:
        super().__init__()
        self._f = f
        self._form = form
        self._start = f.tell()
        self._chunks = _DECOMPRESSORS[form](f)
        self._buf = memoryview(b"")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = memoryview(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence != os.SEEK_SET:
            raise io.UnsupportedOperation("seek from the end of a compressed stream")
        if offset < self._pos:
            self._f.seek(self._start)
            self._chunks = _DECOMPRESSORS[self._form](self._f)
            self._buf = memoryview(b"")
            self._pos = 0
        scratch = bytearray(min(OUTPUT_STEP, max(offset - self._pos, 1)))
        while self._pos < offset:
            view = memoryview(scratch)[: min(len(scratch), offset - self._pos)]
            if not self.readinto(view):
                break
        return self._pos


@contextmanager
def open_decompressed(path: str, form: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open a compressed regular file as its decompressed stream (buffered, with
    ``readline``), with the compressed file's ``fstat``.

    Raises:
        OSError: as ``files.open_regular``.
        MissingExtra: a zstd file without the ``zstandard`` package (raised on first read).
    """
    with open_regular(path) as (f, st):
        reader = io.BufferedReader(DecompressingReader(f, form), buffer_size=_INPUT_STEP)
        yield reader, st


def read_limited(f: BinaryIO, max_bytes: int) -> bytes | None:
    """All of ``f``, or None as soon as it holds more than ``max_bytes`` (read no further)."""
    data = f.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def verify(path: str, form: str) -> None:
    """Decompress a whole file and discard the bytes, so that damage is found before any of
    its records is used: deflate and zstd write garbage, not errors, past a flipped bit
    until the checksum at the end, and a garbled copy of a record could win its group.

    Raises:
        CorruptInput: the stream is damaged or cut short.
    """
    with open_decompressed(path, form) as (f, _st):
        while f.read(OUTPUT_STEP):
            pass
