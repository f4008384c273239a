"""Where the run's shingle sets live once hashed: memory, or files past a threshold.

``SpillFolder`` is the run's private temporary folder (worker processes write their
chunks' hashes there); ``ShingleStore`` collects every chunk's sets and gives them back as
one ``records.ShingleSets``: ``Shingles`` in memory, or ``SpilledShingles`` whose sets are
read from the files one at a time. Later stages read sets only through that interface.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import weakref
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from .sets import Shingles

try:
    import fcntl
except ImportError:  # Windows: no flock; spill folders of killed runs stay
    fcntl = None  # type: ignore[assignment]


class SpillFolder:
    """The run's private temporary folder, where worker processes write shingle hashes
    (made on first use, gone at ``close``).

    Named ``dedup-<pid>-…`` and locked (``flock`` on its ``lock`` file) while the run
    lives, so that a later run can tell the folder of a run that was killed outright
    (SIGKILL, a power cut) and remove it (``remove_stale_spill_dirs``, called on creation).
    """

    def __init__(self) -> None:
        self._path: str | None = None
        self._lock: int | None = None
        remove_stale_spill_dirs()  # of earlier runs killed outright: a listing of one folder

    def path(self) -> str:
        """The folder, made now if it is not yet."""
        if self._path is None:
            path = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")
            self._lock = _lock_folder(path)
            self._path = path
        return self._path

    def close(self) -> None:
        """Remove the folder; open files in it (the run's shingle sets) stay readable until closed."""
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


#: The name of a run's spill folder in the temporary folder: this, the run's pid, "-", a
#: random part.
SPILL_PREFIX = "dedup-"
_SPILL_NAME = re.compile(re.escape(SPILL_PREFIX) + r"(\d+)-[A-Za-z0-9_]+")
_LOCK_NAME = "lock"


def _lock_folder(path: str) -> int | None:
    """Lock ``path``'s lock file for as long as the returned descriptor (and the workers
    forked holding it) live; None where there is no flock."""
    if fcntl is None:
        return None
    fd = os.open(os.path.join(path, _LOCK_NAME), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _owner_gone(path: str, pid: int) -> bool:
    """True if the run that made spill folder ``path`` has ended: its lock is free (the
    kernel frees it when the last process holding it dies, in any pid namespace), or,
    with no lock file, its pid names no process."""
    try:
        fd = os.open(os.path.join(path, _LOCK_NAME), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    except OSError:
        return False
    try:
        if fcntl is None:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: the run is alive
    finally:
        os.close(fd)
    return True


def remove_stale_spill_dirs(folder: str | None = None) -> list[str]:
    """Remove the spill folders of runs that ended without removing them (killed with
    SIGKILL, or the machine stopped) from ``folder`` (the temporary folder); return them.
    Only this user's folders named ``dedup-<pid>-…`` are looked at."""
    base = folder or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        m = _SPILL_NAME.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        if _owner_gone(entry.path, int(m.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


class ShingleStore:
    """The run's shingle sets, appended a chunk at a time; past ``spill_hashes`` hashes
    they go to a temporary file.

    A chunk's hashes come in memory (this process hashed them, or the cache had them) or
    already in a file: worker processes write theirs to a file of their own in the spill
    folder and send back where (see ``hashing.hash_files_to``), so the hashes never cross
    a pipe. Each document's set is located by (file, byte position); file -1 is memory.
    """

    def __init__(self, spill_hashes: int) -> None:
        self.spill_hashes = spill_hashes
        self._memory: list[NDArray[np.uint64]] = []
        self._in_memory = 0  # hashes held in self._memory
        self._files: list[IO[bytes]] = []  # file id -> open file
        self._file_ids: dict[str, int] = {}
        self._own: int | None = None  # id of this process's spill file, once spilled
        self._own_size = 0
        self._where: list[tuple[NDArray[np.int32], NDArray[np.int64]]] = []  # per chunk: file ids, positions
        self._count = 0
        self._parts: list[Shingles] = []  # per chunk: its sets without their hashes

    def add(self, sh: Shingles, at: tuple[str, int] | None = None) -> None:
        """A chunk's sets: ``sh.hashes`` in memory, or at (path, byte offset) when given."""
        self._parts.append(sh.without_hashes())
        first = sh.offsets[:-1].astype(np.int64)  # each set's first hash within the chunk
        total = int(sh.offsets[-1])
        self._count += total
        if at is not None:
            path, offset = at
            if path not in self._file_ids:
                self._file_ids[path] = len(self._files)
                self._files.append(open(path, "rb"))  # noqa: SIM115 (closed with the store's result)
            self._where.append((np.full(len(sh), self._file_ids[path], np.int32), offset + first * 8))
            return
        hashes = np.ascontiguousarray(sh.hashes, dtype=np.uint64)
        if self._own is None and self._in_memory + total > self.spill_hashes:
            self._spill_memory()
        if self._own is not None:
            self._files[self._own].write(hashes.tobytes())
            self._where.append((np.full(len(sh), self._own, np.int32), self._own_size + first * 8))
            self._own_size += hashes.nbytes
        else:
            self._where.append((np.full(len(sh), -1, np.int32), (self._in_memory + first) * 8))
            self._memory.append(hashes)
            self._in_memory += total

    def _spill_memory(self) -> None:
        """Move the sets held in memory to this process's spill file (same positions)."""
        # Unlinked at once by the OS; its data lives as long as the store's result.
        own = tempfile.TemporaryFile(prefix="dedup-shingles-")  # noqa: SIM115
        self._own = len(self._files)
        self._files.append(own)
        for part in self._memory:
            own.write(part.tobytes())
        self._own_size = self._in_memory * 8
        self._memory, self._in_memory = [], 0
        for ids, _pos in self._where:
            ids[ids == -1] = self._own

    def close(self) -> None:
        """Let go of a run that stops before ``finish``: its files close now, not whenever
        the collector finds them (a worker's file or this process's spill file)."""
        _close_all(self._files)
        self._files, self._memory, self._where, self._parts = [], [], [], []

    def finish(self) -> Shingles | SpilledShingles:
        """All documents' sets: in memory, or read from the files when any are used."""
        offsets, line_docs = Shingles.run_wide(self._parts)
        words = _cat([p.words for p in self._parts], np.int64)
        line_hashes = _cat([p.line_hashes for p in self._parts], np.uint64)
        self._parts = []
        if not self._files:
            hashes = _cat(self._memory, np.uint64)
            self._memory = []
            return Shingles(offsets, hashes, words, line_hashes, line_docs)
        if self._memory:
            self._spill_memory()  # one place for every set: the files
        files = self._files
        for f in files:
            f.flush()
        file_ids = _cat([ids for ids, _ in self._where], np.int32)
        positions = _cat([pos for _, pos in self._where], np.int64)
        self._files, self._where = [], []
        return SpilledShingles(Shingles(offsets, np.zeros(0, np.uint64), words, line_hashes, line_docs), files,
                               file_ids, positions)  # fmt: skip


def _cat(parts: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _close_all(files: list[IO[bytes]]) -> None:
    for f in files:
        f.close()


class SpilledShingles:
    """Shingle sets whose hashes stay in files: ``get`` reads one set with pread
    (``records.ShingleSets``; the files close with this object).

    Not a memory map: pages of a map that the exact check touches count as this process's
    memory until it ends (3 GB at a million documents); read pages stay in the OS cache.
    """

    __slots__ = ("__weakref__", "_fds", "_file", "_paths", "_pos", "_sets", "line_docs", "line_hashes", "offsets",
                 "words")  # fmt: skip

    def __init__(
        self, sets: Shingles, files: list[IO[bytes]], file_ids: NDArray[np.int32], positions: NDArray[np.int64]
    ) -> None:
        self._sets = sets  # offsets, words and lines; its hashes are empty
        self.offsets, self.words = sets.offsets, sets.words
        self.line_hashes, self.line_docs = sets.line_hashes, sets.line_docs
        self._fds = [f.fileno() for f in files]
        self._paths = [f.name if isinstance(f.name, str) else None for f in files]  # None: unlinked
        self._file, self._pos = file_ids, positions
        weakref.finalize(self, _close_all, files)

    def __len__(self) -> int:
        return len(self._sets)

    def sizes(self) -> NDArray[np.int64]:
        """Number of distinct shingles per document."""
        return self._sets.sizes()

    def get(self, i: int) -> NDArray[np.uint64]:
        """Document i's sorted, unique shingle hashes, read from its file."""
        size = int(self.offsets[i + 1] - self.offsets[i])
        data = os.pread(self._fds[int(self._file[i])], size * 8, int(self._pos[i]))
        return np.frombuffer(data, dtype=np.uint64)

    def hashes_of(self, lo: int, hi: int) -> NDArray[np.uint64]:
        """The sets of documents lo..hi-1, one after another: sets that lie one after another
        in one file (a hashing task's documents) are read with one pread."""
        if hi <= lo:
            return np.zeros(0, np.uint64)
        nbytes = (self.offsets[lo + 1 : hi + 1] - self.offsets[lo:hi]) * 8
        files, pos = self._file[lo:hi], self._pos[lo:hi]
        cut = np.flatnonzero((files[1:] != files[:-1]) | (pos[1:] != pos[:-1] + nbytes[:-1])) + 1
        parts = []
        for a, b in zip([0, *cut.tolist()], [*cut.tolist(), hi - lo], strict=True):
            size = int(pos[b - 1] + nbytes[b - 1] - pos[a])
            parts.append(np.frombuffer(os.pread(self._fds[int(files[a])], size, int(pos[a])), dtype=np.uint64))
        return _cat(parts, np.uint64)

    def locate(self, docs: NDArray[np.int64]) -> tuple[list[str | None], NDArray[np.int32], NDArray[np.int64]]:
        """Where the sets of ``docs`` lie, for a reader in another process of this machine:
        the files' paths (None for one that has no name), and each set's file and byte offset."""
        return list(self._paths), self._file[docs], self._pos[docs]
