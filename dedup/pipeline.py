"""scan(): the one module that knows the order of the stages.

read -> extract -> shingle -> signature -> candidates -> verify -> cluster -> cleanest.

Files are read, hashed and dropped a batch at a time; after that the run holds shingle
hashes, signatures and small records, never the corpus text (the cleanest-copy stage
re-reads just the cluster members). Batches may run in worker processes (``jobs``); their
results are consumed in input order, so ids, clusters and their order never depend on the
number of workers or on file-system order.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter as clock
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from . import candidates as cand
from . import cleanest, cluster, evidence, extract, prefer, read, shingle, signature, verify
from .cache import Cache, Chunk, Hit, Stamp, racy, skipped_from, slice_shingles, stat_key
from .config import ClusterMode, ScanConfig
from .engine import Engine, Startable, make_engine
from .errors import SkipReason, os_detail
from .records import (
    Cluster,
    DocBatch,
    DocInfo,
    DocKind,
    DocTable,
    Document,
    Locator,
    Match,
    Member,
    MemberRule,
    Pick,
    ScanResult,
    Skipped,
    SourceFile,
    Summary,
    text_digest,
)
from .shingle import Shingles, shingle_batch

try:
    import fcntl
except ImportError:  # Windows: no flock; spill folders of killed runs stay
    fcntl = None  # type: ignore[assignment]

#: Files handed to a worker at a time: enough to amortise the hand-over, small enough to
#: keep both cores busy to the end.
FILES_PER_TASK = 256


class Progress(Protocol):
    """What the pipeline tells about its progress; the CLI adapts it to rich."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _NoProgress:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def _hash_documents(docs: list[Document], config: ScanConfig) -> tuple[Shingles, NDArray[np.uint32]]:
    sh = shingle_batch([d.text for d in docs], config.shingle_size, config.char_shingle_size)
    return sh, signature.signatures(sh, config.num_perm, config.seed).matrix


@dataclass(frozen=True, slots=True)
class _Part:
    """Lines [start, stop) of a big JSON Lines file, hashed as a task of its own."""

    source: SourceFile
    start: int
    stop: int
    first_line: int


@dataclass(frozen=True, slots=True)
class _Task:
    """Work for one worker: whole files, or one part of a big file."""

    items: tuple[SourceFile | _Part, ...]
    completes: int  # how many sources are finished when this task is (0 for a file's first parts)
    storable: bool  # whole files only: the cache keeps files, not parts


_worker_files: dict[str, IO[bytes]] = {}  # spill folder -> this worker's file in it


def _packed(items: Sequence[SourceFile | _Part]) -> tuple[tuple[Any, ...] | _Part, ...]:
    """Task items as they cross the pipe: files as plain tuples. A named tuple pickles
    through a Python-level call, 3 µs a file: most of what handing out tasks cost the
    run's process, on the cores its workers need. A task holds files or one part, never
    both (``_tasks``), so the files convert in one C-level ``map``."""
    if items and isinstance(items[0], _Part):
        return tuple(items)
    return tuple(map(tuple, items))  # type: ignore[arg-type]


def _unpacked(packed: Sequence[tuple[Any, ...] | _Part]) -> list[SourceFile | _Part]:
    """The inverse of ``_packed``, in the worker."""
    if packed and isinstance(packed[0], _Part):
        return list(packed)  # type: ignore[arg-type]
    return list(map(SourceFile._make, packed))  # type: ignore[arg-type]


def _process_to_file(packed: Sequence[tuple[Any, ...] | _Part], config: ScanConfig, spill_dir: str) -> Chunk:
    """``_process`` in a worker, of ``_packed`` items: the shingle hashes go to the worker's
    own file in ``spill_dir`` (the run reads them from there), and only the rest crosses
    the pipe, with the anchors, the one part of the hashes the run needs in memory."""
    chunk = _process(_unpacked(packed), config)
    sh = chunk.shingles
    f = _worker_files.get(spill_dir)
    if f is None:
        f = _worker_files[spill_dir] = open(os.path.join(spill_dir, f"w{os.getpid()}.bin"), "ab")  # noqa: SIM115
    offset = f.tell()
    f.write(np.ascontiguousarray(sh.hashes, dtype=np.uint64).data)  # the array's memory: no bytes copy of 1 MB
    f.flush()
    light = Shingles(sh.offsets, np.zeros(0, np.uint64), sh.words, sh.line_hashes, sh.line_docs)
    anchors = cand.select_anchors(sh, config.anchor_bits)
    return dataclasses.replace(chunk, shingles=light, hashes_at=(f.name, offset), anchors=anchors)


def _with_hashes(chunk: Chunk) -> Chunk:
    """A chunk whose hashes a worker left in a file, with them read back in."""
    if chunk.hashes_at is None:
        return chunk
    path, offset = chunk.hashes_at
    sh = chunk.shingles
    with open(path, "rb") as f:
        hashes = np.fromfile(f, dtype=np.uint64, count=int(sh.offsets[-1]), offset=offset)
    full = Shingles(sh.offsets, hashes, sh.words, sh.line_hashes, sh.line_docs)
    return dataclasses.replace(chunk, shingles=full, hashes_at=None)


def _process(sources: Sequence[SourceFile | _Part], config: ScanConfig) -> Chunk:
    """Extract, shingle and sign a slice of files (runs in a worker process).

    Documents of several small files are hashed together (vectorised work wants batches),
    and the slice comes back as one Chunk: a few large arrays pickle far faster than one
    set per file.
    """
    docs: list[DocBatch] = []
    skipped: list[Skipped] = []
    counts = [0] * len(sources)
    parts: list[tuple[Shingles, NDArray[np.uint32]]] = []
    pending: list[Document] = []

    def flush() -> None:
        sh, matrix = _hash_documents(pending, config)
        parts.append((sh, matrix))
        docs.append(DocBatch.of(pending))  # the records, without their texts
        pending.clear()

    for i, source in enumerate(sources):
        items = (
            extract.extract_range(source.source, config, source.start, source.stop, source.first_line)
            if isinstance(source, _Part)
            else extract.extract(source, config)
        )
        for item in items:
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            pending.append(item)
            counts[i] += 1
            if len(pending) >= config.batch_size:
                flush()
    if pending:
        flush()
    matrix = np.concatenate([m for _, m in parts]) if parts else np.zeros((0, config.num_perm), np.uint32)
    return Chunk(
        DocBatch.concat(docs), tuple(skipped), _concat_shingles([sh for sh, _ in parts]), matrix, tuple(counts)
    )


def _tasks(sources: list[SourceFile], config: ScanConfig) -> Iterator[_Task]:
    """Files in groups of FILES_PER_TASK; a big JSON Lines file in line-aligned parts
    (found as they are handed out: the file is read once, while the first parts hash)."""
    group: list[SourceFile] = []
    for source in sources:
        split = extract.SPLIT_BYTES
        ranges = extract.jsonl_ranges(source, config, split) if source.size > split else None
        if ranges is None:
            group.append(source)
            if len(group) >= FILES_PER_TASK:
                yield _Task(tuple(group), len(group), True)
                group = []
            continue
        if group:
            yield _Task(tuple(group), len(group), True)
            group = []
        ahead = next(ranges, None)
        while ahead is not None:
            (start, stop, line), ahead = ahead, next(ranges, None)
            yield _Task((_Part(source, start, stop, line),), int(ahead is None), False)
    if group:
        yield _Task(tuple(group), len(group), True)


def _is_big(sources: list[SourceFile]) -> bool:
    """Worth worker processes: more than one task's files, or a file cut into parts."""
    return len(sources) > FILES_PER_TASK or any(s.size > extract.SPLIT_BYTES for s in sources)


def _run_tasks(tasks: Iterable[_Task], config: ScanConfig, engine: Engine | None, spill: SpillFolder) -> Iterator[Chunk]:
    """One Chunk per task, in task order: from the engine when given, else here. An engine
    whose workers share this machine's files leaves the hashes in the run's spill folder."""
    if engine is None:
        for task in tasks:
            yield _process(task.items, config)
        return
    if getattr(engine, "same_machine", False):
        work: Callable[[Any], Chunk] = functools.partial(_process_to_file, config=config, spill_dir=spill.path())
    else:
        work = functools.partial(_process_packed, config=config)
    yield from engine.map(work, (_packed(t.items) for t in tasks))


def _process_packed(packed: Sequence[tuple[Any, ...] | _Part], config: ScanConfig) -> Chunk:
    """``_process`` of ``_packed`` items, the whole chunk sent back."""
    return _process(_unpacked(packed), config)


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


#: Chunks between two returns of the C heap's free pages to the OS while hashing.
TRIM_EVERY = 32


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc


def _give_back_memory() -> None:
    """Return the C heap's free pages to the OS (glibc only). Hashing frees many mid-sized
    arrays; glibc keeps such memory for reuse, and it would count against the run's peak."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _stack(parts: list[NDArray[np.uint32]], num_perm: int) -> NDArray[np.uint32]:
    """The rows of all parts in one matrix; each part is dropped from the list once copied
    (and the heap given back now and then), so the peak is the matrix and a few parts, not
    twice the matrix."""
    out = np.empty((sum(len(p) for p in parts), num_perm), np.uint32)
    pos = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[pos : pos + len(part)] = part
        pos += len(part)
        del part
        if len(parts) % cand.RELEASE_EVERY == 0:
            _give_back_memory()
    return out


def _concat_shingles(parts: list[Shingles]) -> Shingles:
    if not parts:
        empty_u = np.zeros(0, np.uint64)
        empty_i = np.zeros(0, np.int64)
        return Shingles(np.zeros(1, np.int64), empty_u, empty_i, empty_u, empty_i)
    if len(parts) == 1:
        return parts[0]
    offsets = [np.zeros(1, np.int64)]
    base = 0
    doc_base = 0
    line_docs = []
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += int(p.offsets[-1])
        line_docs.append(p.line_docs + doc_base)
        doc_base += len(p)
    return Shingles(
        np.concatenate(offsets),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.words for p in parts]),
        np.concatenate([p.line_hashes for p in parts]),
        np.concatenate(line_docs),
    )


def _with_unique_ids(batch: DocBatch, taken: set[str]) -> DocBatch:
    """The batch with each record's id made unique among the run's ids so far (``taken``,
    which starts with every file's path and gets the batch's ids).

    A file keeps its path. A record whose qualified id is taken (a file named ``a.jsonl:x``,
    or an id repeated in one file) gets ``@L`` and its number appended until it is free.
    Batches come in file order whatever the workers or the cache, so the ids do too.
    """
    ids: list[str] | None = None
    for i, (doc_id, record) in enumerate(zip(batch.doc_ids, batch.records, strict=True)):
        if record is None:
            continue  # a whole file: its path, reserved in ``taken`` from the start
        unique = doc_id
        while unique in taken:
            unique = f"{unique}@L{record}"
        taken.add(unique)
        if unique != doc_id:
            if ids is None:
                ids = list(batch.doc_ids)
            ids[i] = unique
    return batch if ids is None else dataclasses.replace(batch, doc_ids=tuple(ids))


#: Shingle hashes kept in memory up to this many (512 MB); past it they go to a temporary
#: file that the exact check reads a set at a time.
SPILL_HASHES = 64 * 1024 * 1024


class _ShingleStore:
    """The run's shingle sets, appended a chunk at a time; big runs keep them on disk.

    A chunk's hashes come in memory (this process hashed them, or the cache had them) or
    already in a file: worker processes write theirs to a file of their own and send back
    where (see ``_process_to_file``), so the hashes never cross a pipe.
    Each document's set is located by (file, byte position); file -1 is memory.
    """

    def __init__(self) -> None:
        self._memory: list[NDArray[np.uint64]] = []
        self._in_memory = 0  # hashes held in self._memory
        self._files: list[IO[bytes]] = []  # file id -> open file
        self._file_ids: dict[str, int] = {}
        self._own: int | None = None  # id of this process's spill file, once spilled
        self._own_size = 0
        self._where: list[tuple[NDArray[np.int32], NDArray[np.int64]]] = []  # per chunk: file ids, positions
        self._offsets: list[NDArray[np.int64]] = [np.zeros(1, np.int64)]
        self._count = 0
        self._words: list[NDArray[np.int64]] = []
        self._line_hashes: list[NDArray[np.uint64]] = []
        self._line_docs: list[NDArray[np.int64]] = []
        self._docs = 0

    def add(self, sh: Shingles, at: tuple[str, int] | None = None) -> None:
        """A chunk's sets: ``sh.hashes`` in memory, or at (path, byte offset) when given."""
        self._offsets.append(sh.offsets[1:] + self._count)
        self._words.append(sh.words)
        self._line_hashes.append(sh.line_hashes)
        self._line_docs.append(sh.line_docs + self._docs)
        self._docs += len(sh)
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
        if self._own is None and self._in_memory + total > SPILL_HASHES:
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

    def finish(self) -> Shingles:
        """All documents' sets as one Shingles (read from the files when any are used)."""

        def cat(parts: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
            return np.concatenate(parts) if parts else np.zeros(0, dtype)

        offsets = np.concatenate(self._offsets)
        words = cat(self._words, np.int64)
        line_hashes = cat(self._line_hashes, np.uint64)
        line_docs = cat(self._line_docs, np.int64)
        self._offsets, self._words, self._line_hashes, self._line_docs = [], [], [], []
        if not self._files:
            hashes = np.concatenate(self._memory) if self._memory else np.zeros(0, np.uint64)
            self._memory = []
            return Shingles(offsets, hashes, words, line_hashes, line_docs)
        if self._memory:
            self._spill_memory()  # one place for every set: the files
        files = self._files
        for f in files:
            f.flush()
        spilled = _SpilledShingles(offsets, np.zeros(0, np.uint64), words, line_hashes, line_docs)
        object.__setattr__(spilled, "_fds", [f.fileno() for f in files])
        object.__setattr__(spilled, "_file", cat([ids for ids, _ in self._where], np.int32))
        object.__setattr__(spilled, "_pos", cat([pos for _, pos in self._where], np.int64))
        weakref.finalize(spilled, _close_all, files)  # the files go with the object
        self._files, self._where = [], []
        return spilled


def _close_all(files: list[IO[bytes]]) -> None:
    for f in files:
        f.close()


class _SpilledShingles(Shingles):
    """Shingles whose hashes stay in files: ``get`` reads one set with pread.

    Not a memory map: pages of a map that the exact check touches count as this process's
    memory until it ends (3 GB at a million documents); read pages stay in the OS cache.
    ``hashes`` is empty: only ``get`` may be used for the sets.
    """

    __slots__ = ("__weakref__", "_fds", "_file", "_pos")
    _fds: list[int]
    _file: NDArray[np.int32]
    _pos: NDArray[np.int64]

    def get(self, i: int) -> NDArray[np.uint64]:
        size = int(self.offsets[i + 1] - self.offsets[i])
        data = os.pread(self._fds[int(self._file[i])], size * 8, int(self._pos[i]))
        return np.frombuffer(data, dtype=np.uint64)


class _Hashing:
    """Stages 1-4 over all files: cached results where the cache has them, fresh ones else.

    Whatever goes wrong with the cache, the scan goes on: a cache that cannot be used is
    one warning and the scan runs without it; a damaged or missing value is a miss (damage
    is one warning for the run), and its files are hashed afresh."""

    def __init__(self, config: ScanConfig, cache_path: Path | None, warnings: list[str]) -> None:
        self.config = config
        self.warnings = warnings
        self.cache: Cache | None = None
        self.digests: dict[str, str] = {}  # rel -> content digest of the file (cache runs only)
        self.sources: list[SourceFile] = []
        self.stamps: list[Stamp | None] = []
        self._hits: list[Hit | None] | None = None
        self._damage_told = False
        self.started_ns = time.time_ns()  # before any file is read: the racy rule's reference
        if cache_path is not None:
            try:
                self.cache = Cache(cache_path, config)
            except (OSError, sqlite3.Error) as exc:
                warnings.append(f"signature cache not used ({cache_path}): {_cache_detail(exc)}")

    def stored_result(self, key: str | None, *, by_stat: bool = False) -> ScanResult | None:
        if key is None or self.cache is None:
            return None
        try:
            found = self.cache.result(key, by_stat=by_stat)
        except sqlite3.Error as exc:
            self._drop_cache(exc)
            return None
        if found is not None and self.cache.damaged:
            # The scan ends here (with a result stored earlier): say what was dropped.
            return dataclasses.replace(found, warnings=(*found.warnings, *self._damage_warning()))
        return found

    def store_result(self, key: str | None, result: ScanResult | None, stat_key: str | None) -> None:
        """Remember a result under its content key and its stat key (None: stored already).
        The stat key only when no file is racy: one changed in the tick the scan read it
        could change again without its stat showing it."""
        if key is None or self.cache is None or (result is not None and result.warnings):
            return
        if stat_key is not None and any(racy(s, self.started_ns) for s in self.sources):
            stat_key = None
        try:
            self.cache.store_result(key, result, stat_key)
        except (sqlite3.Error, ValueError) as exc:
            self._drop_cache(exc)

    def _drop_cache(self, exc: Exception) -> None:
        if self.cache is not None:
            self.warnings.append(f"signature cache not used ({self.cache.path}): {_cache_detail(exc)}")
            with contextlib.suppress(sqlite3.Error):
                self.cache.close()
        self.cache = None

    def _damage_warning(self) -> list[str]:
        """The run's one line about damaged cache values, the first time it is asked for."""
        if self.cache is None or not self.cache.damaged or self._damage_told:
            return []
        self._damage_told = True
        n = self.cache.damaged
        return [
            f"signature cache: {n} damaged value{'s' if n != 1 else ''} dropped and computed afresh"
        ]

    def look_up(self, sources: list[SourceFile]) -> None:
        """Stamp each file: its content digest, from the stat shortcut where the cache has it."""
        self.sources = sources
        self.stamps = [None] * len(sources)
        self._hits = None
        if self.cache is not None:
            try:
                self.cache.prefetch(sources)
            except sqlite3.Error as exc:
                self._drop_cache(exc)
        for i, src in enumerate(sources):
            if self.cache is None:
                break
            try:
                self.stamps[i] = self.cache.stamp(src)
            except OSError:
                pass  # unreadable now, or not a regular file any more: extraction says why (a skip)
            except sqlite3.Error as exc:
                self._drop_cache(exc)
        self.digests = {src.rel: st.digest for src, st in zip(sources, self.stamps, strict=True) if st is not None}

    def hits(self) -> list[Hit | None]:
        """Where the cache holds each stamped file's results (read when first needed)."""
        if self._hits is None:
            self._hits = [None] * len(self.sources)
            if self.cache is not None:
                try:
                    self.cache.prefetch_content([st.digest for st in self.stamps if st is not None])
                except sqlite3.Error as exc:
                    self._drop_cache(exc)
            for i, st in enumerate(self.stamps):
                if self.cache is None:
                    break
                if st is None:
                    continue
                try:
                    self._hits[i] = self.cache.hit(st)
                except (sqlite3.Error, ValueError) as exc:
                    self._drop_cache(exc)
            if self.cache is None:  # dropped on the way: nothing is served from it
                self._hits = [None] * len(self.sources)
        return self._hits

    def result_key(
        self, roots: Sequence[str], sources: list[SourceFile], walked: list[Skipped], *, by_stat: bool = False
    ) -> str | None:
        """What a whole scan result depends on, or None if a file's content is not known:
        the settings, the paths as given (and the folder they are relative to), each file's
        name, path and content digest (or, ``by_stat``, its stat as the cache compares it:
        the stat shortcut), and what the walk left out."""
        if self.cache is None or (not by_stat and any(st is None for st in self.stamps)):
            return None
        h = hashlib.blake2b(digest_size=16)
        head = [cleanest.RANKING_VERSION, evidence.EVIDENCE_VERSION, self.config.params(), list(roots), os.getcwd(),
                by_stat]  # fmt: skip
        h.update(json.dumps(head, sort_keys=True, default=str).encode("utf-8", "surrogatepass"))
        if by_stat:
            files = [f"{s.rel}\0{s.path}\0{stat_key(s)}" for s in sources]
        else:
            files = [f"{s.rel}\0{s.path}\0{st.digest}" for s, st in zip(sources, self.stamps, strict=True) if st]
        h.update("\n".join(files).encode("utf-8", "surrogatepass"))
        for sk in walked:
            h.update(f"\n{sk.rel}\0{sk.reason.value}\0{sk.detail}".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def run(
        self, sources: list[SourceFile], engine: Engine, spill: SpillFolder, progress: Progress
    ) -> Iterator[Chunk]:
        """Chunks covering all sources, in source order (after ``look_up``)."""
        hits, stamps = self.hits(), self.stamps
        # Runs of consecutive files: cached ones (served from their batches) and fresh ones.
        runs: list[tuple[bool, int, int]] = []
        for i, hit in enumerate(hits):
            cached = hit is not None
            if runs and runs[-1][0] == cached:
                runs[-1] = (cached, runs[-1][1], i + 1)
            else:
                runs.append((cached, i, i + 1))
        fresh_runs = [sources[lo:hi] for cached, lo, hi in runs if not cached]
        big = _is_big([s for run in fresh_runs for s in run])
        if (big or len(sources) >= PARALLEL_RANK_GROUPS) and isinstance(engine, Startable):
            engine.start()  # a big run: start the workers while this process is small
        mine, theirs = itertools.tee(t for run in fresh_runs for t in _tasks(run, self.config))
        fresh = zip(mine, _run_tasks(theirs, self.config, engine if big and engine.jobs > 1 else None, spill), strict=True)
        for cached, lo, hi in runs:
            if cached:
                yield from self._from_cache(sources[lo:hi], hits[lo:hi], stamps[lo:hi])
                progress.advance(hi - lo)
                continue
            pos = lo
            while pos < hi:
                task, chunk = next(fresh)
                n = task.completes
                if task.storable and self.cache is not None:
                    self._store(_with_hashes(chunk), sources[pos : pos + n], stamps[pos : pos + n])
                progress.advance(n)
                pos += n
                yield chunk

    def _from_cache(
        self, sources: list[SourceFile], hits: list[Hit | None], stamps: list[Stamp | None]
    ) -> Iterator[Chunk]:
        """The cached files of a run, one Chunk per batch they come from."""
        group: list[tuple[SourceFile, Hit, Stamp | None]] = []
        for source, hit, stamp in zip(sources, hits, stamps, strict=True):
            assert hit is not None
            if group and group[-1][1].batch != hit.batch:
                yield self._cached_chunk(group)
                group = []
            group.append((source, hit, stamp))
        if group:
            yield self._cached_chunk(group)

    def _cached_chunk(self, group: list[tuple[SourceFile, Hit, Stamp | None]]) -> Chunk:
        """The group's chunk from its batch; hashed afresh here if the batch is gone (pruned
        by another scan sharing the cache) or damaged."""
        batch = None
        if self.cache is not None:
            try:
                batch = self.cache.batch(group[0][1].batch)
            except sqlite3.Error as exc:
                self._drop_cache(exc)
        if batch is not None and any(hit.hi > len(batch.rows) for _, hit, _ in group):
            assert self.cache is not None
            self.cache.forget(group[0][1])  # ranges outside their batch: damaged rows
            batch = None
        if batch is None:
            sources = [source for source, _, _ in group]
            chunk = _process(sources, self.config)
            self._store(chunk, sources, [stamp for _, _, stamp in group])
            return chunk
        docs: list[DocBatch] = []
        skipped: list[Skipped] = []
        parts: list[Shingles] = []
        matrices: list[NDArray[np.uint32]] = []
        counts: list[int] = []
        # Consecutive files that are consecutive in the batch too are cut out in one piece.
        i = 0
        while i < len(group):
            j = i + 1
            while j < len(group) and group[j][1].lo == group[j - 1][1].hi:
                j += 1
            for source, hit, _ in group[i:j]:
                docs.append(batch.take(hit.lo, hit.hi, source))
                skipped.extend(skipped_from(hit.skipped, source.rel))
                counts.append(hit.hi - hit.lo)
            lo, hi = group[i][1].lo, group[j - 1][1].hi
            parts.append(slice_shingles(batch.shingles, lo, hi))
            matrices.append(batch.matrix[lo:hi])
            i = j
        return Chunk(
            DocBatch.concat(docs), tuple(skipped), _concat_shingles(parts), np.concatenate(matrices), tuple(counts)
        )

    def _store(self, chunk: Chunk, sources: list[SourceFile], stamps: list[Stamp | None]) -> None:
        if self.cache is None:
            return
        try:
            self.cache.store(chunk, sources, stamps)
        except (sqlite3.Error, ValueError) as exc:
            self._drop_cache(exc)

    def close(self) -> None:
        """Apply the cache's size policy when this run hashed anything, and close it."""
        if self.cache is not None:
            self.warnings.extend(self._damage_warning())
            try:
                if self.cache.misses or self.cache.damaged:
                    self.cache.prune()
                self.cache.close()
            except sqlite3.Error as exc:
                self.warnings.append(f"signature cache not saved: {_cache_detail(exc)}")
            self.cache = None


def _cache_detail(exc: Exception) -> str:
    """An error of the cache as one line (an OSError without its errno prefix)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if not exc.filename else f"{exc.strerror.lower()}: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__


class _LineCounts:
    """How many documents hold each short line (for spotting chrome across the corpus).

    Only lines held by three documents or more are kept: a line can count as chrome by its
    spread only when two documents outside a group hold it, besides a member. ``of(group)``
    gives the counts of just the group's own lines: that small table is all the ranking of
    the group reads, so it goes to a worker with the group and keys the ranking cache.
    """

    def __init__(self, shingles: Shingles) -> None:
        values, counts = np.unique(shingles.line_hashes, return_counts=True)
        keep = counts >= 3
        self.values, self.counts = values[keep], counts[keep]
        self.line_hashes = shingles.line_hashes
        self.doc_starts = np.searchsorted(shingles.line_docs, np.arange(len(shingles) + 1))

    def of(self, group: cluster.Group) -> dict[int, int]:
        """{line hash: documents holding it} for the short lines of the group's members."""
        starts = self.doc_starts
        mine = np.concatenate([self.line_hashes[starts[i] : starts[i + 1]] for i in group])
        if len(mine) == 0 or len(self.values) == 0:
            return {}
        pos = np.minimum(np.searchsorted(self.values, mine), len(self.values) - 1)
        found = self.values[pos] == mine
        return dict(zip(mine[found].tolist(), self.counts[pos[found]].tolist(), strict=True))


#: Below this many groups, ranking stays in this process (a pool costs more than it saves).
PARALLEL_RANK_GROUPS = 200


@dataclass(frozen=True, slots=True)
class _RankTask:
    """One group to rank: where its members' texts are, the digests of the texts as hashed,
    their tie-breaks and line counts."""

    group: cluster.Group
    where: tuple[tuple[Locator, DocKind], ...]
    digests: tuple[int, ...]
    prefer: tuple[int, ...]
    counts: dict[int, int]


@dataclass(frozen=True, slots=True)
class _Changed:
    """Members of a group whose text is not what was hashed any more: (document index, why)."""

    members: tuple[tuple[int, str], ...]


class _MembersChanged(Exception):
    """A group asked for has a member that changed since hashing (``_Ranking.changed`` says which)."""


def _verified_text(locator: Locator, kind: DocKind, digest: int, config: ScanConfig) -> str | _Changed:
    """A member's text re-read, if it is still the text that was hashed; else why not
    (as a ``_Changed`` with index -1: the caller knows the index)."""
    try:
        text = extract.load_text(locator, kind, config)
    except OSError as exc:
        return _Changed(((-1, f"changed after it was read: {os_detail(exc)} when read again to rank it"),))
    except (ValueError, RecursionError):
        return _Changed(((-1, "changed after it was read: it no longer holds the document it held"),))
    if text_digest(text) != digest:
        return _Changed(((-1, "changed after it was read: its text is not the text that was compared"),))
    return text


def _rank(
    group: cluster.Group, texts: list[str], task: _RankTask, config: ScanConfig, seqs: cleanest.Sequences | None = None
) -> list[Pick]:
    return cleanest.rank(group, texts, lambda h: task.counts.get(h, 0), config, list(task.prefer), seqs)


#: Groups sent to a worker at a time.
RANK_BATCH = 64


def _rank_tasks(tasks: list[_RankTask], config: ScanConfig) -> list[list[Pick] | _Changed]:
    """Rank groups in a worker: re-read their members (each checked against its digest),
    hash all their texts at once, score. A group with a changed member is not ranked: the
    run makes its groups again without that member."""
    read = [
        [_verified_text(locator, kind, digest, config) for (locator, kind), digest in zip(t.where, t.digests, strict=True)]
        for t in tasks
    ]
    ok: list[list[str]] = []
    for one in read:
        if all(isinstance(x, str) for x in one):
            ok.append(one)  # type: ignore[arg-type]
    seqs = shingle.sequences([t for group in ok for t in group], config.shingle_size, config.char_shingle_size)
    out: list[list[Pick] | _Changed] = []
    at = 0
    for task, texts in zip(tasks, read, strict=True):
        bad = tuple((i, x.members[0][1]) for i, x in zip(task.group, texts, strict=True) if isinstance(x, _Changed))
        if bad:
            out.append(_Changed(bad))
            continue
        out.append(_rank(task.group, texts, task, config, seqs[at : at + len(texts)]))  # type: ignore[arg-type]
        at += len(texts)
    return out


class _Ranking:
    """Stage 8 for the groups of a run: each group ranked once, from the cache, in workers
    (many groups) or here; texts re-read from disk, a bounded few at a time, and checked
    against the digest taken when they were hashed. A member that fails the check is in
    ``changed`` and out of every group (see ``groups``)."""

    def __init__(
        self, infos: DocTable, shingles: Shingles, config: ScanConfig, hashing: _Hashing, engine: Engine
    ) -> None:
        self.infos, self.config, self.engine = infos, config, engine
        self.lines = _LineCounts(shingles)
        self.cache = hashing.cache
        self.digests = hashing.digests
        self.params = json.dumps([cleanest.RANKING_VERSION, config.params()], sort_keys=True, default=str)
        self.done: dict[cluster.Group, list[Pick]] = {}
        self.new: dict[str, tuple[cluster.Group, list[Pick]]] = {}  # computed this run, for the cache
        self.changed: dict[int, str] = {}  # document index -> why its re-read failed
        self.text_of = functools.lru_cache(maxsize=1024)(self._load)  # a group's and its sub-groups'

    def _load(self, i: int) -> str | None:
        doc = self.infos[i]
        text = _verified_text(doc.locator, doc.kind, doc.digest, self.config)
        if isinstance(text, _Changed):
            self.changed[i] = text.members[0][1]
            return None
        return text

    def groups(
        self, matches: list[Match], mode: ClusterMode, exact: cluster.Exact | None = None
    ) -> tuple[list[cluster.Group], list[Match]]:
        """The clusters of the matches, each of members whose text is still what was
        compared, every group ranked; and the matches they were made of.

        A member found changed is dropped with its matches and the groups are made again
        (rankings of groups that did not change are kept), until a pass finds no change.
        """
        n = len(self.infos)
        live = matches
        while True:
            known = len(self.changed)
            parents = cluster.components(n, live)
            self.prepare(parents)
            if len(self.changed) == known:
                try:
                    groups = cluster.cluster(n, live, mode, lambda g: [p.index for p in self(g)], exact)
                    for g, parent in cluster.within(groups, parents).items():
                        # A star cut from a larger component keeps that component's ranking:
                        # its centre, which every member was measured against, stays first.
                        members = set(g)
                        self.done[g] = [p for p in self(parent) if p.index in members]
                    for g in groups:
                        self(g)
                    return groups, live
                except _MembersChanged:
                    pass
            gone = self.changed
            live = [m for m in live if m.a not in gone and m.b not in gone]

    def skipped(self) -> list[Skipped]:
        """The members found changed, as skips."""
        out = []
        for i, detail in sorted(self.changed.items()):
            info = self.infos[i]
            out.append(Skipped(info.rel if info.record is None else f"{info.rel}:{info.record}", CHANGED, detail))
        return out

    def _lookup(self, group: cluster.Group) -> tuple[_RankTask, str | None, list[Pick] | None]:
        """A group's task, its cache key (None without a cache) and its cached ranking, if any."""
        docs = [self.infos[i] for i in group]
        where = tuple((d.locator, d.kind) for d in docs)
        prefer = tuple(_FORM_RANK.get(d.kind, 9) * 2 + (d.encoding not in _UTF8) for d in docs)
        task = _RankTask(group, where, tuple(d.digest for d in docs), prefer, self.lines.of(group))
        key = self._key(task, [d.rel for d in docs])
        return task, key, self._cached(group, key)

    def _key(self, task: _RankTask, rels: list[str]) -> str | None:
        """What the ranking of a group depends on: its members' contents, forms and tie-breaks,
        their lines' counts and the settings. None without a cache, or when a member's
        content digest is unknown."""
        if self.cache is None:
            return None
        h = hashlib.blake2b(self.params.encode(), digest_size=16)
        for rel, (locator, kind), tie in zip(rels, task.where, task.prefer, strict=True):
            digest = self.digests.get(rel)
            if digest is None:
                return None
            h.update(f"\n{digest} {locator.offset} {locator.length} {kind} {tie}".encode())
        h.update(np.array(sorted(task.counts.items()), dtype=np.uint64).tobytes())
        return h.hexdigest()

    def prepare(self, groups: list[cluster.Group]) -> None:
        """Rank many groups at once: cached rankings first, the rest in the workers (tasks
        are made while the workers rank earlier ones) or, for few groups, here. A group
        with a changed member is left unranked (its member is in ``changed``)."""
        if not (self.engine.jobs > 1 and len(groups) >= PARALLEL_RANK_GROUPS):
            for group in groups:
                with contextlib.suppress(_MembersChanged):
                    self(group)
            return
        sent: collections.deque[list[tuple[_RankTask, str | None]]] = collections.deque()

        def batches() -> Iterator[list[_RankTask]]:
            batch: list[tuple[_RankTask, str | None]] = []
            for group in groups:
                if group in self.done:
                    continue
                task, key, cached = self._lookup(group)
                if cached is not None:
                    self.done[group] = cached
                    continue
                batch.append((task, key))
                if len(batch) == RANK_BATCH:
                    sent.append(batch)
                    yield [t for t, _ in batch]
                    batch = []
            if batch:
                sent.append(batch)
                yield [t for t, _ in batch]

        rank = functools.partial(_rank_tasks, config=self.config)
        for picks in self.engine.map(rank, batches()):
            for (task, key), one in zip(sent.popleft(), picks, strict=True):
                if isinstance(one, _Changed):
                    self.changed.update(one.members)
                else:
                    self._keep(task.group, key, one)

    def __call__(self, group: cluster.Group) -> list[Pick]:
        """The ranking of one group, cleanest first.

        Raises:
            _MembersChanged: a member's text is not what was hashed any more.
        """
        if group not in self.done:
            task, key, picks = self._lookup(group)
            if picks is None:
                texts = [self.text_of(i) for i in group]
                if any(t is None for t in texts):
                    raise _MembersChanged(group)
                picks = _rank(group, texts, task, self.config)  # type: ignore[arg-type]
                self._keep(group, key, picks)
            self.done[group] = picks
        return self.done[group]

    def _cached(self, group: cluster.Group, key: str | None) -> list[Pick] | None:
        if key is None or self.cache is None:
            return None
        try:
            found = self.cache.ranking(key)
        except sqlite3.Error:
            return None
        if found is None:
            return None
        return [Pick(group[pos], penalty, reasons) for pos, penalty, reasons in found]

    def _keep(self, group: cluster.Group, key: str | None, picks: list[Pick]) -> None:
        self.done[group] = picks
        if key is not None:
            self.new[key] = (group, picks)

    def save(self, warnings: list[str]) -> None:
        """Store this run's new rankings in the cache."""
        if self.cache is None or not self.new:
            return
        try:
            rows = {}
            for key, (group, picks) in self.new.items():
                where = {doc: pos for pos, doc in enumerate(group)}
                rows[key] = [(where[p.index], p.penalty, p.reasons) for p in picks]
            self.cache.store_rankings(rows)
        except sqlite3.Error as exc:
            warnings.append(f"signature cache not saved: {exc}")


def scan(
    paths: Sequence[Path | str] | Path | str,
    config: ScanConfig | None = None,
    *,
    progress: Progress | None = None,
    cache: Path | None = None,
    all_pairs: bool = False,
    engine_name: str = "local",
    engine_options: dict[str, Any] | None = None,
) -> ScanResult:
    """Find the near-duplicate groups among the documents under `paths`.

    Args:
        paths: folders and files to read (a single path is accepted too).
        config: every option; ``ScanConfig()`` when None.
        progress: receives stage starts and advances (the CLI shows them as bars).
        cache: a signature cache file to read and update (see cache.py); None for none.
        all_pairs: compare every pair of documents instead of the LSH and anchor candidates:
            the exact reference that ``dedup eval --exact`` measures the candidates against.
        engine_name: what runs the parallel work: "local" (worker processes) or "ray"; the
            result is the same.
        engine_options: the engine's own settings (for "ray": ``address``).

    Returns:
        The ScanResult: clusters with their cleanest copy first, skipped inputs, counts.

    Raises:
        InputError: a path does not exist.

    Example:
        >>> result = scan("samples")  # doctest: +SKIP
        >>> [m.doc_id for m in result.clusters[0].members]  # doctest: +SKIP
        ['000_8bcd120cc8060ff3.txt', '001_288da1160778f453.txt']
    """
    config = config or ScanConfig()
    progress = progress or _NoProgress()
    roots = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    skipped: list[Skipped] = []
    sources: list[SourceFile] = []
    timings: dict[str, float] = {}
    started = clock()
    progress.start("finding files", None)
    walked = list(read.walk(roots, config))  # the whole walk happens in that call
    for item in walked:
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            sources.append(item)
    progress.advance(len(walked))

    jobs = config.jobs or os.cpu_count() or 1
    infos = DocTable()
    store = _ShingleStore()
    anchor_parts: list[cand.Anchors] = []
    anchor_counts: list[int] = []
    matrices: list[NDArray[np.uint32]] = []
    taken_ids = {src.rel for src in sources}  # a file's id is its path, whatever records come before it
    warnings: list[str] = []
    timings["find"] = clock() - started
    started = clock()
    progress.start("hashing", len(sources))
    hashing = _Hashing(config, cache, warnings)
    engine = make_engine(engine_name, jobs, **(engine_options or {}))
    spill = SpillFolder()
    try:
        given = [str(r) for r in roots]
        # Not a file changed, came or went since this very scan: by their stat, then by content.
        stat_key = None if all_pairs else hashing.result_key(given, sources, skipped, by_stat=True)
        known = hashing.stored_result(stat_key, by_stat=True)
        key = None
        if known is None:
            hashing.look_up(sources)
            key = None if all_pairs else hashing.result_key(given, sources, skipped)
            known = hashing.stored_result(key)
            if known is not None:
                hashing.store_result(key, None, stat_key)  # touched files: their new stat is enough next time
        if known is not None:
            timings["hash"] = clock() - started
            return dataclasses.replace(known, timings=timings)

        def absorb(chunk: Chunk) -> None:
            """Keep what later stages need of a chunk: records (with unique ids), sets,
            anchors, signatures."""
            skipped.extend(chunk.skipped)
            batch = _with_unique_ids(chunk.docs, taken_ids)
            sh = chunk.shingles
            infos.extend(batch, sh.words.tolist(), sh.sizes().tolist())
            anchors = chunk.anchors if chunk.anchors is not None else cand.select_anchors(sh, config.anchor_bits)
            anchor_parts.append(anchors)
            anchor_counts.append(len(batch))
            store.add(sh, chunk.hashes_at)
            matrices.append(chunk.matrix)

        for n, chunk in enumerate(hashing.run(sources, engine, spill, progress), start=1):
            absorb(chunk)
            del chunk
            if n % TRIM_EVERY == 0:
                _give_back_memory()  # what the chunks so far left in the C heap
        timings["hash"] = clock() - started
        source_rels = {src.rel for src in sources}
        files = len(sources) - len({s.rel for s in skipped if s.reason in _FILE_LEVEL and s.rel in source_rels})

        shingles = store.finish()
        anchors = cand.Anchors.join(anchor_parts, anchor_counts, _give_back_memory)  # empties anchor_parts
        sigs = signature.Signatures(_stack(matrices, config.num_perm), config.num_perm, config.seed)
        _give_back_memory()

        started = clock()
        progress.start("comparing", None)
        if all_pairs:
            a, b = np.triu_indices(len(infos), k=1)
            pairs = np.stack([a, b], axis=1).astype(np.int64)
        else:
            pairs = cand.candidate_pairs(sigs, anchors, shingles.sizes(), config)
        del sigs, anchors  # half the run's memory, not needed past this point
        timings["candidates"] = clock() - started
        started = clock()
        matches = verify.verify(pairs, shingles, config, _text_loader(infos, config))
        timings["verify"] = clock() - started

        started = clock()
        progress.start("ranking copies", None)
        ranking = _Ranking(infos, shingles, config, hashing, engine)
        confirm = functools.partial(
            verify.verify, shingles=shingles, config=config, text_of=_text_loader(infos, config)
        )
        groups, matches = ranking.groups(matches, config.cluster_mode, cluster.Exact(shingles, config, confirm))
        skipped.extend(ranking.skipped())
        measured = {(m.a, m.b): m for m in matches}
        ranked = [ranking(g) for g in groups]
        ranked, preferred = prefer.prefer_groups(ranked, infos, config.prefer)  # --prefer, before the evidence
        found_evidence = evidence.measure(
            [[p.index for p in picks] for picks in ranked], shingles, lambda i: ranking.text_of(i) or "", config
        )
        clusters = tuple(
            _make_cluster(cid, picks, infos, shingles, measured, config, ev)
            for cid, (picks, ev) in enumerate(zip(ranked, found_evidence, strict=True), start=1)
        )
        clusters = prefer.mark(clusters, preferred)
        ranking.save(warnings)
        timings["cluster_and_rank"] = clock() - started
        duplicates = [m for c in clusters for m in c.members if m.dropped]  # supersets stay
        summary = Summary(
            files=files,
            documents=len(infos),
            skipped=len(skipped),
            clusters=len(clusters),
            duplicates=len(duplicates),
            bytes_saved=sum(m.size for m in duplicates),
            candidates=len(pairs),
            matches=len(matches),
        )
        found = ScanResult(
            roots=tuple(given),
            params=config.params(),
            summary=summary,
            clusters=clusters,
            skipped=tuple(sorted(skipped, key=lambda s: s.rel)),
            docs=infos,
            matches=tuple(matches),
            timings=timings,
            warnings=tuple(warnings),
        )
        if not ranking.changed:  # a run that saw files change is not one to serve again
            hashing.store_result(key, found, stat_key)
        hashing.close()
        return dataclasses.replace(found, warnings=tuple(warnings))  # and any the cache gave
    finally:
        hashing.close()
        engine.close()
        spill.close()


# Among copies of equal penalty, the handiest form wins: plain UTF-8 text first.
_FORM_RANK = {"text": 0, "markdown": 1, "jsonl": 2, "html": 3}
_UTF8 = frozenset({"utf-8", "utf_8", "ascii", "utf-8-sig"})

# Reasons that mean a whole file gave nothing (as opposed to one bad record in it).
_FILE_LEVEL = frozenset({SkipReason.UNREADABLE, SkipReason.BINARY, SkipReason.EMPTY, SkipReason.EXTRACT_FAILED,
                         SkipReason.NOT_A_FILE, SkipReason.TOO_COMPLEX, SkipReason.DEDUP_OUTPUT})  # fmt: skip
CHANGED = SkipReason.CHANGED_DURING_SCAN


def _text_loader(infos: Sequence[DocInfo], config: ScanConfig) -> Callable[[int], str]:
    """Texts by document index for the exact check's template test; a text that cannot be
    read again is empty there (the ranking stage reports the file as changed)."""

    @functools.lru_cache(maxsize=256)
    def text_of(i: int) -> str:
        doc = infos[i]
        try:
            return extract.load_text(doc.locator, doc.kind, config)
        except (OSError, ValueError, RecursionError):
            return ""

    return text_of


def _member_rule(
    known: Match | None, jaccard: float, inter: int, size: int, best_size: int, config: ScanConfig
) -> MemberRule:
    """Which rule joins a member to the cleanest copy, and in which direction."""
    if known is not None:
        rule: str | None = known.rule
    else:
        rule = verify.judge(jaccard, inter / min(size, best_size) if min(size, best_size) else 0.0, size, best_size,
                            config)  # fmt: skip
    if rule is None:
        return "chain"
    if rule == "jaccard":
        return "jaccard"
    return "inside-cleanest" if size < best_size or (size == best_size and inter == size) else "contains-cleanest"


def _make_cluster(
    cluster_id: int,
    picks: list[Pick],
    infos: Sequence[DocInfo],
    shingles: Shingles,
    measured: dict[tuple[int, int], Match],
    config: ScanConfig | None = None,
    found: Sequence[evidence.Evidence] | None = None,
) -> Cluster:
    """The reported cluster: each member measured against the cleanest copy, both ways, with
    the rule that joined it and its evidence (words of its own, the decision). A pair the
    exact check measured gives its overlap back; other pairs are measured here, and so is
    the evidence when not given (``scan`` measures all clusters' at once)."""
    config = config or ScanConfig()
    if found is None:
        found = evidence.measure([[p.index for p in picks]], shingles, _text_loader(infos, config), config)[0]
    sizes = shingles.offsets
    top = picks[0].index
    best_size = int(sizes[top + 1] - sizes[top])
    best: NDArray[np.uint64] | None = None
    members = []
    for pos, (pick, ev) in enumerate(zip(picks, found, strict=True)):
        info = infos[pick.index]
        size = int(sizes[pick.index + 1] - sizes[pick.index])
        known = measured.get((min(top, pick.index), max(top, pick.index)))
        if pos == 0:
            inter = size
        elif known is not None:
            inter = round(known.containment * min(size, best_size))  # containment = inter / smaller
        else:
            best = shingles.get(top) if best is None else best
            inter = verify.overlap(best, shingles.get(pick.index))
        union = best_size + size - inter
        jaccard = inter / union if union else 1.0
        reasons = pick.reasons
        if ev.decision == "superset":
            reasons = (f"superset: contains the kept copy plus {ev.unique_words:,} words of its own", *reasons)
        members.append(
            Member(
                doc_id=info.doc_id,
                rel=info.rel,
                words=info.words,
                size=info.size,
                cleanest=pos == 0,
                jaccard=jaccard,
                containment=inter / best_size if best_size else 1.0,
                penalty=pick.penalty,
                reasons=reasons,
                record=info.record,
                record_id=info.record_id,
                in_cleanest=inter / size if size else 1.0,
                rule="" if pos == 0 else _member_rule(known, jaccard, inter, size, best_size, config),
                own_words=ev.own_words,
                boilerplate_words=ev.boilerplate_words,
                decision=ev.decision,
            )
        )
    return Cluster(cluster_id, tuple(members))


def pair_measures(
    result: ScanResult, config: ScanConfig
) -> Callable[[str, str], tuple[float, float, float, float, str]]:
    """``measure(id_a, id_b) -> (Jaccard, containment, share of a in b, share of b in a, rule)``
    on the documents' shingle sets; the rule is the one that joins them directly ("jaccard",
    "a inside b", "b inside a"), or "" when none does.

    For the evaluation report: texts are re-read (and kept) only for the ids asked about.
    """
    by_id = {d.doc_id: d for d in result.docs}
    sets: dict[str, NDArray[np.uint64]] = {}

    def shingles_of(doc_id: str) -> NDArray[np.uint64]:
        if doc_id not in sets:
            info = by_id[doc_id]
            text = extract.load_text(info.locator, info.kind, config)
            sets[doc_id] = shingle_batch([text], config.shingle_size, config.char_shingle_size).get(0)
        return sets[doc_id]

    def measure(a: str, b: str) -> tuple[float, float, float, float, str]:
        x, y = shingles_of(a), shingles_of(b)
        inter = verify.overlap(x, y)
        jaccard, containment = verify.similarity(x, y)
        rule = verify.judge(jaccard, containment, len(x), len(y), config)
        inside = "a inside b" if len(x) <= len(y) else "b inside a"
        rule_text = inside if rule == "containment" else rule or ""
        return jaccard, containment, inter / len(x) if len(x) else 0.0, inter / len(y) if len(y) else 0.0, rule_text

    return measure


def candidate_loss(result: ScanResult, exact: ScanResult) -> tuple[int, int]:
    """(verified pairs the exhaustive comparison found, of those the candidates missed)."""
    ids = [d.doc_id for d in result.docs]

    def pairs(r: ScanResult) -> set[tuple[str, str]]:
        return {(ids[m.a], ids[m.b]) for m in r.matches}

    reference = pairs(exact)
    return len(reference), len(reference - pairs(result))
