"""Standard input as a file: ``dedup scan -`` reads JSON Lines, a JSON array or text piped in.

Standard input can be read once, and the ranking stage re-reads the members it ranks,
possibly in worker processes. So the first time ``-`` is met in a process its bytes are
copied, a block at a time, into a private temporary folder, and the walk gives that file
under the name ``-`` (ids ``-:<id>`` or ``-:<line>`` for records, ``-`` for text): every
later stage reads it as any other file, and ``--max-bytes`` applies as to a file of its
kind. The kind is told from the first byte that is not white space: ``{`` is JSON Lines,
``[`` a JSON array, anything else text (or HTML, sniffed as for files).

The folder is named and locked as the pipeline's spill folders are (``dedup-<pid>-…``
holding a locked ``lock`` file), so a run killed outright leaves nothing that the next
run does not remove; otherwise it goes when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import weakref
from typing import BinaryIO

__all__ = ["STDIN", "is_stdin_copy", "stdin_copies", "stdin_path"]

#: The path that names standard input on the command line, and the ``rel`` of its file.
STDIN = "-"
_BLOCK = 1 << 20
# The stream read -> its file, in this process (a library caller or a test may give another).
_spooled: weakref.WeakKeyDictionary[BinaryIO, tuple[int, str]] = weakref.WeakKeyDictionary()


def _kind_suffix(head: bytes) -> str:
    """The file ending that makes extraction read ``head``'s stream as its kind."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if text.startswith(b"{"):
        return ".jsonl"
    if text.startswith(b"["):
        return ".json"
    return ".txt"


def stdin_path(stream: BinaryIO | None = None) -> str:
    """The path of a file holding all of standard input (or ``stream``), copied on the
    first call in this process; later calls for the same stream give the same file.

    Raises:
        OSError: the temporary folder cannot be written.
    """
    source = stream if stream is not None else sys.stdin.buffer
    known = _spooled.get(source)
    if known is not None and known[0] == os.getpid():
        return known[1]
    folder = tempfile.mkdtemp(prefix=f"dedup-{os.getpid()}-")
    atexit.register(shutil.rmtree, folder, True)
    _lock(folder)
    head = b""
    while len(head) < 4096:
        block = source.read(4096 - len(head))
        if not block:
            break
        head += block
    path = os.path.join(folder, "stdin" + _kind_suffix(head))
    with open(path, "wb") as out:
        out.write(head)
        shutil.copyfileobj(source, out, _BLOCK)
    _spooled[source] = (os.getpid(), path)
    return path


def is_stdin_copy(path: str) -> bool:
    """Is ``path`` this process's copy of standard input? Outputs name it ``-``, never by
    the temporary path, which is gone when the run ends."""
    return any(pid == os.getpid() and path == copy for pid, copy in _spooled.values())


def stdin_copies() -> frozenset[str]:
    """The paths ``is_stdin_copy`` holds true of, for a caller asking of many paths."""
    return frozenset(copy for pid, copy in _spooled.values() if pid == os.getpid())


def _lock(folder: str) -> None:
    """Hold a lock on ``folder/lock`` until the process ends: the mark of a live run's folder."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the folder goes at exit
        return
    fd = os.open(os.path.join(folder, "lock"), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
