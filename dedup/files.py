"""Opening input files: the one way dedup opens a file it was asked to read.

A path that was a regular file when the folder was walked may be anything by the time it
is opened (a FIFO, a device, a folder). ``open_regular`` opens without blocking and checks
what it opened, so such a path is refused with an ``OSError`` the caller turns into a skip,
instead of hanging the run on a FIFO with no writer.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

__all__ = ["NotRegularFileError", "open_regular", "special_kind"]


class NotRegularFileError(OSError):
    """The path is a FIFO, socket or device, not a file: ``kind`` says which."""

    def __init__(self, kind: str, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file", path)
        self.kind = kind


def special_kind(mode: int) -> str:
    """What a non-regular, non-folder file is, for a one-line reason: "FIFO", "socket"..."""
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


@contextmanager
def open_regular(path: str | os.PathLike[str], buffering: int = -1) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open a regular file for reading, with its ``fstat``.

    Raises:
        IsADirectoryError: the path is a folder now.
        NotRegularFileError: (an OSError, EINVAL) it is a FIFO, socket or device.
        OSError: the OS refused.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(special_kind(st.st_mode), str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: plain blocking reads from here on
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb", buffering=buffering) as f:
        yield f, st
