"""Errors and skip reasons.

Two kinds of trouble, kept apart on purpose:

* A bad *input file* is not an exception. It becomes a ``Skipped`` record with a
  ``SkipReason`` and a one-line detail, is counted, reported, and the run goes on.
* A problem with the *run itself* raises a ``DedupError``:

    DedupError                 base class; the CLI turns it into "Error: ..." and exit 2
    ├── ConfigError            options that contradict each other or are out of range
    ├── InputError             a path given on the command line does not exist / cannot be walked
    ├── ExportError            the export file cannot be written
    ├── MissingExtra           an option needs an optional extra that is not installed (names the pip command)
    └── WorkerError            a worker process stopped without finishing (killed, out of memory)

* A signal that stops the run (the ``dedup`` program turns SIGINT, SIGTERM and SIGHUP into
  it) raises ``Interrupted``, a ``BaseException`` like ``KeyboardInterrupt``: no
  ``except Exception`` at a file boundary swallows it, and every ``finally`` on the way out
  (worker pool, spill folder, temporary export file) still runs. Its exit code is the
  shell's 128 + signal number.
"""

from __future__ import annotations

import errno
import signal
from enum import Enum


class DedupError(Exception):
    """Base class of every error that stops a run."""


class ConfigError(DedupError, ValueError):
    """Options that contradict each other or are out of range."""


class InputError(DedupError):
    """A path named by the user cannot be read at all."""


class ExportError(DedupError):
    """The export file could not be written."""


class MissingExtra(DedupError):
    """An option needs an optional dependency that is not installed (``--engine ray`` without ray)."""


class WorkerError(DedupError):
    """A worker process stopped without finishing its tasks (killed, or out of memory)."""


class Interrupted(BaseException):
    """A signal asked the run to stop; raised in the main thread by the program's handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """What a shell reports for a program killed by the signal: 128 + its number."""
        return 128 + self.signum

    def __str__(self) -> str:
        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        return f"stopped by {name}"


class SkipReason(str, Enum):
    """Why a file or record was left out; the value is what reports and exports show."""

    UNREADABLE = "unreadable"  # the OS refused: permissions, vanished file, I/O error
    BINARY = "binary"  # NUL bytes or a binary signature: not text
    EMPTY = "empty"  # no text left after decoding and extraction
    TOO_LARGE = "too-large"  # bigger than --max-bytes
    TOO_COMPLEX = "too-complex"  # HTML whose structure would take the parser unbounded time
    NOT_A_FILE = "not-a-file"  # a FIFO, socket or device: never read, it could block or never end
    DEDUP_OUTPUT = "dedup-output"  # an export written by dedup itself, not a document
    SYMLINK_LOOP = "symlink-loop"  # a link that leads back into a folder already walked
    BAD_RECORD = "bad-record"  # a JSON Lines line that is not JSON or has no text field
    EXTRACT_FAILED = "extract-failed"  # an unexpected parser error, caught at the file boundary
    CHANGED_DURING_SCAN = "changed-during-scan"  # re-read to rank it, it no longer held what was compared

    def __str__(self) -> str:
        return self.value


_ERRNO_DETAIL = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a folder",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EIO: "input/output error",
}


def os_detail(exc: OSError) -> str:
    """A short, lower-case, one-line reason for an OS error, without the path (rel names it)."""
    if exc.errno in _ERRNO_DETAIL:
        return _ERRNO_DETAIL[exc.errno]
    return " ".join((exc.strerror or str(exc) or type(exc).__name__).lower().split())
