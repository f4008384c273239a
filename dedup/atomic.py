"""Files written all or nothing: the exports, lists, decision tables and manifests.

A file is written to a temporary file beside the target, flushed, fsynced and then
renamed over the target with ``os.replace``, so the target holds either its old content or
the complete new file, never half of one. On failure the temporary file is removed and
``ExportError("cannot write <path>: <reason>")`` is raised. The path ``-`` means stdout.

Where a file goes: ``-`` is stdout; a path that does not exist yet, or a regular file, is
written atomically as above; anything else that exists (a device such as ``/dev/null``, a
FIFO, ``/dev/stdout``, a shell's ``>(...)``, a symbolic link) is opened and written
through, as the shell's ``>`` would, and never replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import ExportError

__all__ = ["process_alive", "reason_of", "temp_stem", "write_atomic", "write_text_atomic"]


def reason_of(exc: BaseException) -> str:
    """A one-line reason for a failed write."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())


def write_atomic(path: Path | str, write: Callable[[IO[Any]], None], *, binary: bool = False) -> None:
    """Write a file where ``path`` says (see "Where a file goes" above): stdout for ``-``;
    a new path or a regular file via a temp file in the same folder, fsync and os.replace;
    anything else that exists (a device, FIFO, ``/dev/stdout``, a symlink) written through.

    ``write`` gets a text file (UTF-8, no newline translation) or, when ``binary``, a
    binary one. A failure removes the temp file and raises ExportError; a regular target
    keeps its old content.
    """
    if str(path) == "-":
        _write_stdout(write, binary)
        return
    target = Path(path)
    try:
        kind = os.lstat(target).st_mode
    except FileNotFoundError:
        kind = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {reason_of(exc)}") from exc
    if kind is not None and not stat.S_ISREG(kind):
        _write_through(target, write, binary)
        return

    _remove_stale_temps(target)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{temp_stem(target.name)}.{os.getpid()}.", suffix=".tmp")
        with _wrap(os.fdopen(fd, "wb"), binary) as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; give the export the mode a plain open() would have.
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, Exception):
            raise ExportError(f"cannot write {path}: {reason_of(exc)}") from exc
        raise


def _wrap(raw: IO[bytes], binary: bool) -> IO[Any]:
    """``raw`` as the file ``write`` expects: itself, or UTF-8 text with "\\n" kept as is
    (csv writes its own CRLF)."""
    return raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _write_stdout(write: Callable[[IO[Any]], None], binary: bool) -> None:
    """Write to stdout; a closed pipe (``| head``) is left for the CLI to handle quietly."""
    out = sys.stdout
    if out is None:  # the program was started with stdout closed (>&-)
        raise ExportError("cannot write to stdout: it is closed")
    try:
        if binary:
            out.flush()
            write(out.buffer)
            out.buffer.flush()
        else:
            write(out)
            out.flush()
    except BrokenPipeError:
        raise  # the reader went away (| head): the CLI decides how quiet to be
    except (OSError, UnicodeError, ValueError, TypeError, AttributeError) as exc:
        raise ExportError(f"cannot write to stdout: {reason_of(exc)}") from exc


def _write_through(target: Path, write: Callable[[IO[Any]], None], binary: bool) -> None:
    """Open ``target`` for writing and write into it, as the shell's ``>`` does: for a
    device, a FIFO or a link, which a rename would replace instead of writing to."""
    try:
        with _wrap(open(target, "wb"), binary) as out:
            write(out)
            out.flush()
            if stat.S_ISREG(os.fstat(out.fileno()).st_mode):
                os.fsync(out.fileno())  # a link to a regular file; devices and FIFOs may refuse it
    except Exception as exc:
        raise ExportError(f"cannot write {target}: {reason_of(exc)}") from exc


_TEMP_PID = re.compile(r"\.(\d+)\.[^.]*\.tmp\Z")


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files of earlier writes of ``target`` whose process is gone (killed
    with SIGKILL, or the machine stopped): their names carry the writer's pid."""
    prefix = f".{temp_stem(target.name)}."
    try:
        names = [n for n in os.listdir(target.parent or ".") if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        m = _TEMP_PID.search(name[len(prefix) - 1 :])
        if m and not process_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


_STEM_BYTES = 100  # a longer name is cut and tagged: the temp name must fit 255 bytes


def temp_stem(name: str) -> str:
    """``name`` as the start of a temporary file's name beside it: itself when short, else
    its first bytes and a digest of the whole, so that a name near the file system's
    255-byte limit still leaves room for the pid and suffix."""
    raw = os.fsencode(name)
    if len(raw) <= _STEM_BYTES:
        return name
    tag = hashlib.blake2b(raw, digest_size=8).hexdigest()
    return f"{os.fsdecode(raw[:40])}~{tag}"


def process_alive(pid: int) -> bool:
    """True if a process ``pid`` exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, and belongs to someone else
    return True


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write any text (the evaluation's JSON) the same all-or-nothing way; ``-`` is stdout."""

    def write(out: IO[str]) -> None:
        out.write(text)

    write_atomic(path, write)


def _mode_for(target: Path) -> int:
    """The permission bits for the new file: the old file's, else 0666 less the umask."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o777
    umask = os.umask(0o077)  # read the umask; the stricter value in between only narrows
    os.umask(umask)
    return 0o666 & ~umask
