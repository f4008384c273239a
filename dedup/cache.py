"""A cache of what hashing files produced, so a rescan reads only the files that changed.

The cache is one SQLite file (default ``~/.cache/dedup/signatures.sqlite``; see
``default_path``). What hashing a slice of files gives is stored as one *batch*: the
documents' records, shingle sets, short-line hashes and signatures, concatenated. Each
file then points at its range of documents in a batch:

* ``seen``: (absolute path as bytes, parameters) -> the file's stat (device, inode, size,
  mtime and ctime in nanoseconds: what git's index compares), when its digest was read, and
  its content digest. A file whose stat is unchanged is not opened at all, unless it is
  *racy*: changed so close to when it was read that a later write in the same timestamp
  tick would not show in its stat (see ``RACY_NS``); a racy file is read again.
* ``content``: (content digest, parameters) -> (batch, first document, end) and the file's
  skipped records. A file that was touched or moved but holds the same bytes is found here
  after one read (BLAKE2b of its bytes), without extraction or hashing.
* ``batches``: the arrays, one value per batch of files hashed together, with the number
  of the last scan that used it (the size policy drops the least recently used: ``prune``).
* ``rankings``: the cleanest-copy ranking of a group, under a digest of everything it
  depends on (members' content digests and forms, the counts of their short lines across
  the corpus, the settings): an unchanged group is not re-read and re-ranked.
* ``results``: whole scan results, under a digest of the settings, the paths as given,
  and every file's name and content digest (and what the walk skipped). A rescan in which
  no file changed, came or went gives the stored result after the walk and a stat per file.
* ``result_stats``: the same results under a digest of the files' stats instead of their
  contents (the stat shortcut of ``seen``, for a whole folder; never for racy files).

Every stored value carries a checksum (BLAKE2b over the row), checked when it is read: a
damaged value (a disk error, a bit flip, a hand edit) is dropped and computed afresh, and
the run says so in one warning. A row that is missing (pruned by another scan sharing the
cache) is a miss, not an error.

A rescan of an unchanged folder therefore loads a few large values, not a row per file.
"Parameters" is a digest of every setting that changes what hashing gives (fields, shingle
sizes, permutations, seed) and of the cache layout's version, so a run with other settings
never reads entries it cannot use. SQLite transactions keep the file consistent when a run
is killed midway. A cache that cannot be opened or read is reported and the scan goes on
without it (see pipeline.py). The cache holds absolute paths: dedup creates its folder
0700 and its file 0600 (SQLite gives the -wal and -shm files the file's mode).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import re
import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from .config import ScanConfig
from .errors import DedupError, SkipReason
from .files import open_regular
from .records import (
    Cluster,
    DocBatch,
    DocTable,
    Match,
    Member,
    ScanResult,
    Skipped,
    SourceFile,
    Summary,
    document_id,
)
from .sets import Chunk, Shingles

#: Bump when the layout or any hash definition changes.
CACHE_VERSION = 7

# Each row's ``checksum`` is ``_checksum`` of its other values (see the module docstring).
# A batch's ``payload`` comes last: the columns before it sit in the row's first page, so the
# size policy reads ``used`` and ``bytes`` without the arrays. Batch ids are never reused
# (AUTOINCREMENT): a scan that looked a file up before another scan pruned its batch must
# find the batch gone, not a newer batch under the same id.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    path BLOB NOT NULL, params TEXT NOT NULL, stat TEXT NOT NULL, recorded_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, checksum BLOB NOT NULL, PRIMARY KEY (path, params)
);
CREATE TABLE IF NOT EXISTS content (
    digest TEXT NOT NULL, params TEXT NOT NULL, batch INTEGER NOT NULL, lo INTEGER NOT NULL,
    hi INTEGER NOT NULL, skipped TEXT NOT NULL, checksum BLOB NOT NULL, PRIMARY KEY (digest, params)
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, used INTEGER NOT NULL, bytes INTEGER NOT NULL, checksum BLOB NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rankings (key TEXT PRIMARY KEY, picks TEXT NOT NULL, checksum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, batches TEXT NOT NULL, checksum BLOB NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS result_stats (key TEXT PRIMARY KEY, result TEXT NOT NULL, checksum BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS content_batch ON content (batch);
CREATE INDEX IF NOT EXISTS batches_used ON batches (used, bytes);
"""

#: Whole scan results kept at most (the newest): one per folder a user rescans, roughly.
MAX_RESULTS = 8

_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))

#: Rankings kept at most: the oldest go first (a ranking costs a few milliseconds to redo).
MAX_RANKINGS = 1_000_000

#: The size policy. A batch (the stored hashing of up to 256 files) that none of the cache's
#: last KEEP_SCANS scans used is dropped with the entries that point into it; so are the
#: least recently used batches while their total passes MAX_BYTES (about 4 KB a document:
#: two million documents). Applied at the end of a scan that hashed anything, and by
#: ``dedup cache prune``, which can be given tighter limits.
KEEP_SCANS = 50
MAX_BYTES = 8 << 30

#: A file whose mtime or ctime is not older than the moment its digest was read, by this
#: margin, is *racy* (git's word): a write in the same timestamp tick would leave its stat
#: as it was, so its stat is not trusted and it is read by content again next time. 2 s is
#: the coarsest tick in common use (FAT and exFAT keep mtimes to 2 s; ext3, HFS+ and some
#: network file systems to 1 s); ext4, XFS, btrfs and tmpfs stamp with a clock that lags
#: real time by a few milliseconds. The cost: files written less than 2 s before a scan are
#: read again by the next one.
RACY_NS = 2_000_000_000

#: Keys per ``IN (...)`` query when looking up the rows a run needs.
_IN_CHUNK = 500

_SQLITE_MAGIC = b"SQLite format 3\x00"


class CacheError(DedupError):
    """The file at the cache path is not a signature cache (``dedup cache`` commands)."""


def default_path() -> Path:
    """$DEDUP_CACHE_DIR, else $XDG_CACHE_HOME/dedup, else ~/.cache/dedup; file signatures.sqlite."""
    folder = os.environ.get("DEDUP_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "dedup")
    return Path(folder) / "signatures.sqlite"


def params_key(config: ScanConfig) -> str:
    """A digest of the settings that shape a file's hashing result."""
    shaping = {
        "cache": CACHE_VERSION,
        "text_field": config.text_field,
        "id_field": config.id_field,
        "shingle_size": config.shingle_size,
        "char_shingle_size": config.char_shingle_size,
        "num_perm": config.num_perm,
        "seed": config.seed,
    }
    return hashlib.blake2b(json.dumps(shaping, sort_keys=True).encode(), digest_size=12).hexdigest()


#: Read size for content digests: below malloc's mmap threshold, so the buffer of each of
#: 100,000 small files is cheap to make (``f.read(1 MB)`` mapped and unmapped a megabyte a
#: file: a third of the digest's time on small files, and half of it on a 235 MB file).
DIGEST_BLOCK = 1 << 16


def content_digest(path: str | Path) -> str:
    """BLAKE2b of a file's bytes, read in blocks into one buffer.

    Raises:
        OSError: the path is not a regular file now (a FIFO put in its place does not block:
            ``open_regular``), or it cannot be read.
    """
    h = hashlib.blake2b(digest_size=16)
    buf = bytearray(DIGEST_BLOCK)
    view = memoryview(buf)
    with open_regular(path, buffering=0) as (f, _st):
        raw = cast(io.RawIOBase, f)  # unbuffered: a FileIO
        while n := raw.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def stat_key(source: SourceFile) -> str:
    """What tells a file's versions apart without reading it: what git's index compares."""
    return f"{source.dev}:{source.ino}:{source.size}:{source.mtime_ns}:{source.ctime_ns}"


def racy(source: SourceFile, recorded_ns: int) -> bool:
    """The file changed too close to ``recorded_ns`` for its stat to tell later writes apart."""
    return max(source.mtime_ns, source.ctime_ns) >= recorded_ns - RACY_NS


def _checksum(*parts: bytes | str | int) -> bytes:
    """BLAKE2b of a row's values, to find damage inside a valid SQLite file."""
    data = b"\0".join(p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass") for p in parts)
    return hashlib.blake2b(data, digest_size=8).digest()


@dataclass(frozen=True, slots=True)
class Stamp:
    """A file as it was looked up: its absolute path (bytes: any name), stat and content digest."""

    path: bytes
    stat: str  # stat_key
    digest: str
    by_stat: bool = False  # the digest came from ``seen``: the cache knows this path at this stat
    read_ns: int = 0  # when the digest was read (time.time_ns, just before): for the racy rule


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a cached file's documents are: a range of a batch, and the file's skips."""

    batch: int
    lo: int
    hi: int
    skipped: str  # JSON: [[rel suffix, reason, detail], ...]


# --- the batch payload: a JSON header line, then raw little-endian arrays -----------------

_ARRAYS = (
    ("offsets", np.int64),
    ("hashes", np.uint64),
    ("words", np.int64),
    ("line_hashes", np.uint64),
    ("line_docs", np.int64),
    ("matrix", np.uint32),
)


def _doc_rows(docs: DocBatch) -> list[list[object]]:
    """[record id, encoding, kind, size, offset, length, record, digest] per document. The
    document id is made from the path again (``document_id``), so a moved file gets its new ids."""
    rows: list[list[object]] = []
    columns = zip(*docs.columns(), strict=True)
    for _id, _rel, encoding, kind, size, _path, offset, length, record, record_id, digest in columns:
        rows.append([record_id, encoding, kind, size, offset, length, record, digest])
    return rows


def encode(chunk: Chunk) -> bytes:
    """Serialise the path-independent part of a chunk."""
    sh = chunk.shingles
    arrays: dict[str, NDArray[Any]] = {
        "offsets": sh.offsets,
        "hashes": sh.hashes,
        "words": sh.words,
        "line_hashes": sh.line_hashes,
        "line_docs": sh.line_docs,
        "matrix": chunk.matrix,
    }
    header = {
        "docs": _doc_rows(chunk.docs),
        "shape": list(chunk.matrix.shape),
        "lengths": [int(arrays[name].size) for name, _ in _ARRAYS],
    }
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    parts = [head, b"\n"]
    parts.extend(
        np.ascontiguousarray(arrays[name], dtype=np.dtype(dt).newbyteorder("<")).tobytes() for name, dt in _ARRAYS
    )
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded batch: document rows and arrays, to be cut into files' ranges."""

    rows: list[list[Any]]
    shingles: Shingles
    matrix: NDArray[np.uint32]

    def take(self, lo: int, hi: int, source: SourceFile) -> DocBatch:
        """Documents lo..hi-1, as the file now at `source` gives them."""
        rel, path = source.rel, source.path
        rows = self.rows[lo:hi]
        if not rows:
            return DocBatch()
        record_ids, encodings, kinds, sizes, offsets, lengths, records, digests = zip(*rows, strict=True)
        ids = tuple(map(document_id, (rel,) * len(rows), records, record_ids))
        n = len(rows)
        return DocBatch(
            ids, (rel,) * n, encodings, kinds, sizes, (path,) * n, offsets, lengths, records, record_ids, digests
        )


def decode(payload: bytes) -> Batch:
    """Read a batch back (arrays are views of the payload: no copy)."""
    end = payload.index(b"\n")
    header = json.loads(payload[:end].decode("utf-8", "surrogatepass"))
    pos = end + 1
    arrays: dict[str, NDArray[Any]] = {}
    for (name, dt), length in zip(_ARRAYS, header["lengths"], strict=True):
        dtype = np.dtype(dt).newbyteorder("<")
        arrays[name] = np.frombuffer(payload, dtype=dtype, count=length, offset=pos)
        pos += length * dtype.itemsize
    sh = Shingles(arrays["offsets"], arrays["hashes"], arrays["words"], arrays["line_hashes"], arrays["line_docs"])
    return Batch(header["docs"], sh, arrays["matrix"].reshape(header["shape"]))


def skipped_json(skipped: Sequence[Skipped], rel: str) -> str:
    """A file's skips with their rel made relative to the file (a moved file keeps them)."""
    if not skipped:
        return "[]"  # most files: no JSON encoder made for them
    rows = [[s.rel[len(rel) :] if s.rel.startswith(rel) else s.rel, s.reason.value, s.detail] for s in skipped]
    return json.dumps(rows)  # ASCII: the lone surrogates of undecodable names escaped, as SQLite text must be UTF-8


def skipped_from(text: str, rel: str) -> list[Skipped]:
    if text == "[]":
        return []  # the common case, without a JSON parse per file
    return [Skipped(rel + suffix, SkipReason(reason), detail) for suffix, reason, detail in json.loads(text)]


#: New batches are committed at most this often (a commit per batch of 256 files cost more
#: than their hashing); a run killed midway loses at most this much of its stored work.
COMMIT_EVERY_S = 2.0


class Cache:
    """The signature cache of one run: look files up, store new batches, commit."""

    def __init__(self, path: Path, config: ScanConfig) -> None:
        self.path = path
        self.params = params_key(config)
        self._db = _connect(path, create=True)
        try:
            self.generation = _next_generation(self._db)  # this scan's number: batches it uses get it
        except BaseException:
            self._db.close()
            raise
        # Rows looked up so far (None: not in the cache): path -> (stat, recorded_ns, digest),
        # and digest -> where its results are.
        self._seen: dict[bytes, tuple[str, int, str] | None] = {}
        self._content: dict[str, Hit | None] = {}
        self._loaded: tuple[int, Batch] | None = None
        self._used: set[int] = set()  # batches this run read or wrote
        self.hits = 0
        self.misses = 0
        self.damaged = 0  # damaged values found (and dropped) this run
        self._committed = time.monotonic()

    def close(self) -> None:
        try:
            self._mark_used(self._used)
            self._db.commit()
        finally:
            self._db.close()

    def _select_in(self, head: str, keys: Sequence[object]) -> Iterator[Any]:
        """Rows of ``head`` + ``IN (keys)``, a few hundred keys a query: the rows a run needs,
        not the whole table (a cache shared by many folders holds far more)."""
        for at in range(0, len(keys), _IN_CHUNK):
            part = keys[at : at + _IN_CHUNK]
            yield from self._db.execute(f"{head} ({','.join('?' * len(part))})", (self.params, *part))

    def _damage(self, sql: str, args: tuple[object, ...]) -> None:
        """Drop a damaged value (it is computed afresh); the run warns once (see pipeline.py)."""
        self.damaged += 1
        self._db.execute(sql, args)

    def prefetch(self, sources: Sequence[SourceFile]) -> None:
        """Read the ``seen`` rows of these files at once (``stamp`` then needs no query)."""
        keys = list(dict.fromkeys(os.fsencode(_absolute(s.path)) for s in sources))
        self._seen.update(dict.fromkeys(keys))
        head = "SELECT path, stat, recorded_ns, digest, checksum FROM seen WHERE params=? AND path IN"
        for path, stat, recorded_ns, digest, checksum in self._select_in(head, keys):
            if _seen_checksum(path, self.params, stat, recorded_ns, digest) != checksum:
                self._damage("DELETE FROM seen WHERE path=? AND params=?", (path, self.params))
                continue
            self._seen[path] = (stat, recorded_ns, digest)

    def lookup(self, source: SourceFile) -> tuple[Hit | None, Stamp]:
        """Where a file's results are if its stat or its content is known, and its stamp."""
        stamp = self.stamp(source)
        return self.hit(stamp), stamp

    def stamp(self, source: SourceFile) -> Stamp:
        """The file's stamp: its content digest from the stat shortcut, else read.

        Raises:
            OSError: the file cannot be read now, or is not a regular file any more.
        """
        path = os.fsencode(_absolute(source.path))
        if path not in self._seen:
            self.prefetch([source])
        row = self._seen[path]
        stat = stat_key(source)
        if row is not None and row[0] == stat and not racy(source, row[1]):
            return Stamp(path, stat, row[2], by_stat=True)
        read_ns = time.time_ns()
        return Stamp(path, stat, content_digest(source.path), read_ns=read_ns)

    def prefetch_content(self, digests: Sequence[str]) -> None:
        """Read the ``content`` rows of these digests at once (``hit`` then needs no query)."""
        keys = list(dict.fromkeys(digests))
        self._content.update(dict.fromkeys(keys))
        head = "SELECT digest, batch, lo, hi, skipped, checksum FROM content WHERE params=? AND digest IN"
        for digest, batch, lo, hi, skipped, checksum in self._select_in(head, keys):
            if _content_checksum(digest, self.params, batch, lo, hi, skipped) != checksum or not 0 <= lo <= hi:
                self._damage("DELETE FROM content WHERE digest=? AND params=?", (digest, self.params))
                continue
            self._content[digest] = Hit(batch, lo, hi, skipped)

    def hit(self, stamp: Stamp) -> Hit | None:
        """Where the results for a stamped file's content are, if cached."""
        if stamp.digest not in self._content:
            self.prefetch_content([stamp.digest])
        found = self._content[stamp.digest]
        if found is None:
            self.misses += 1
            return None
        if not stamp.by_stat:
            self._remember(stamp)  # moved or touched, same bytes: next time the stat will do
        self.hits += 1
        return found

    def batch(self, batch_id: int) -> Batch | None:
        """A stored batch (the last one read is kept: files of a batch come together), or None
        if it is gone (pruned by another scan meanwhile) or damaged (then it is dropped)."""
        if self._loaded is None or self._loaded[0] != batch_id:
            row = self._db.execute("SELECT checksum, payload FROM batches WHERE id=?", (batch_id,)).fetchone()
            if row is None:
                return None
            checksum, payload = row
            decoded = None
            if _checksum(payload) == checksum:
                with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):  # a bug, not damage
                    decoded = decode(payload)
            if decoded is None:
                self._damage("DELETE FROM batches WHERE id=?", (batch_id,))
                self._db.execute("DELETE FROM content WHERE batch=?", (batch_id,))
                return None
            self._loaded = (batch_id, decoded)
            self._used.add(batch_id)
        return self._loaded[1]

    def forget(self, hit: Hit) -> None:
        """Drop the content rows of a batch found unusable (a range outside it, say)."""
        self._damage("DELETE FROM content WHERE batch=?", (hit.batch,))

    def store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        """Remember a freshly hashed chunk and which files it holds (unless they changed since).
        All or nothing: a failure midway leaves no half-written rows."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")  # so that RELEASE below does not commit (see COMMIT_EVERY_S)
        self._db.execute("SAVEPOINT store")
        try:
            self._store(chunk, sources, stamps)
        except BaseException:
            self._db.execute("ROLLBACK TO store")
            self._db.execute("RELEASE store")
            raise
        self._db.execute("RELEASE store")
        if time.monotonic() - self._committed >= COMMIT_EVERY_S:
            self.commit()  # a killed run keeps what was committed; close() commits the rest

    def _store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        payload = encode(chunk)
        cur = self._db.execute(
            "INSERT INTO batches (used, bytes, checksum, payload) VALUES (?, ?, ?, ?)",
            (self.generation, len(payload), _checksum(payload), payload),
        )
        batch_id = cur.lastrowid
        assert batch_id is not None
        self._used.add(batch_id)
        lo = 0
        for source, stamp, count in zip(sources, stamps, chunk.counts, strict=True):
            hi = lo + count
            if stamp is not None and _unchanged(source.path, stamp):
                skips = [s for s in chunk.skipped if s.rel == source.rel or s.rel.startswith(source.rel + ":")]
                text = skipped_json(skips, source.rel)
                self._db.execute(
                    "INSERT OR REPLACE INTO content (digest, params, batch, lo, hi, skipped, checksum)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (stamp.digest, self.params, batch_id, lo, hi, text,
                     _content_checksum(stamp.digest, self.params, batch_id, lo, hi, text)),
                )  # fmt: skip
                self._remember(stamp)
            lo = hi

    def commit(self) -> None:
        self._db.commit()
        self._committed = time.monotonic()

    def ranking(self, key: str) -> list[tuple[int, float, tuple[str, ...]]] | None:
        """A stored ranking: (position in the group, penalty, reasons), cleanest first."""
        row = self._db.execute("SELECT picks, checksum FROM rankings WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            if _checksum(key, row[0]) != row[1]:
                raise ValueError("checksum")
            return [
                (int(pos), float(penalty), tuple(map(str, reasons))) for pos, penalty, reasons in json.loads(row[0])
            ]
        except (ValueError, TypeError):
            self._damage("DELETE FROM rankings WHERE key=?", (key,))
            return None

    def store_rankings(self, rows: dict[str, list[tuple[int, float, tuple[str, ...]]]]) -> None:
        """Remember rankings (see ``ranking``); the oldest go past MAX_RANKINGS."""
        texts = ((key, json.dumps(picks)) for key, picks in rows.items())
        self._db.executemany(
            "INSERT OR REPLACE INTO rankings (key, picks, checksum) VALUES (?, ?, ?)",
            ((key, text, _checksum(key, text)) for key, text in texts),
        )
        self._db.execute("DELETE FROM rankings WHERE rowid <= (SELECT MAX(rowid) FROM rankings) - ?", (MAX_RANKINGS,))
        self._db.commit()

    def result(self, key: str, *, by_stat: bool = False) -> ScanResult | None:
        """A stored scan result (see ``results`` in the module docstring), if there is one,
        by its content key, or by its stat key (``result_stats``)."""
        if by_stat:
            row = self._db.execute("SELECT result, checksum FROM result_stats WHERE key=?", (key,)).fetchone()
            if row is None:
                return None
            if _checksum(key, row[0]) != row[1]:
                self._damage("DELETE FROM result_stats WHERE key=?", (key,))
                return None
            key = row[0]
        row = self._db.execute("SELECT batches, checksum, payload FROM results WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        batches, checksum, payload = row
        try:
            if _checksum(key, batches, payload) != checksum:
                raise ValueError("checksum")
            found = decode_result(payload)
            used = [int(b) for b in json.loads(batches)]
        except (ValueError, TypeError, KeyError, IndexError, zlib.error):
            self._damage("DELETE FROM results WHERE key=?", (key,))
            self._db.execute("DELETE FROM result_stats WHERE result=?", (key,))
            return None
        self._used.update(used)  # the batches its files point at stay as recent as the result
        return found

    def store_result(self, key: str, result: ScanResult | None, stat_key: str | None = None) -> None:
        """Remember a scan's result (None: it is stored already) and its stat key; only the
        newest MAX_RESULTS are kept."""
        if result is not None:
            payload = encode_result(result)
            batches = json.dumps(sorted(self._used))
            self._db.execute(
                "INSERT OR REPLACE INTO results (key, batches, checksum, payload) VALUES (?, ?, ?, ?)",
                (key, batches, _checksum(key, batches, payload), payload),
            )
        if stat_key is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO result_stats (key, result, checksum) VALUES (?, ?, ?)",
                (stat_key, key, _checksum(stat_key, key)),
            )
        self._db.execute(
            "DELETE FROM results WHERE rowid NOT IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT ?)",
            (MAX_RESULTS,),
        )
        self._db.execute("DELETE FROM result_stats WHERE result NOT IN (SELECT key FROM results)")
        self._db.commit()

    def prune(self, keep_scans: int | None = None, max_bytes: int | None = None) -> Pruned:
        """Apply the size policy (by default ``KEEP_SCANS``, ``MAX_BYTES``) with this run's use counted."""
        self._mark_used(self._used)
        self._db.commit()
        keep = KEEP_SCANS if keep_scans is None else keep_scans
        return _prune(self._db, self.generation, keep, MAX_BYTES if max_bytes is None else max_bytes, self.path)

    def _mark_used(self, batch_ids: set[int]) -> None:
        self._db.executemany("UPDATE batches SET used=? WHERE id=?", ((self.generation, b) for b in sorted(batch_ids)))

    def _remember(self, stamp: Stamp) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO seen (path, params, stat, recorded_ns, digest, checksum) VALUES (?, ?, ?, ?, ?, ?)",
            (stamp.path, self.params, stamp.stat, stamp.read_ns, stamp.digest,
             _seen_checksum(stamp.path, self.params, stamp.stat, stamp.read_ns, stamp.digest)),
        )  # fmt: skip


def _seen_checksum(path: bytes, params: str, stat: str, recorded_ns: int, digest: str) -> bytes:
    return _checksum(path, params, stat, recorded_ns, digest)


def _content_checksum(digest: str, params: str, batch: int, lo: int, hi: int, skipped: str) -> bytes:
    return _checksum(digest, params, batch, lo, hi, skipped)


def _absolute(path: str) -> str:
    """``os.path.abspath``, without its cost for the paths the walk makes (already clean)."""
    if not path.startswith("/"):
        return os.path.abspath(path)
    if "/." in path or "//" in path:
        return os.path.normpath(path)
    return path


def _unchanged(path: str, stamp: Stamp) -> bool:
    """The file still has the stat it had when it was looked up (and hashed)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}" == stamp.stat


# --- the file: opening, layout, size policy; info, prune and clear for ``dedup cache`` ---


def _make_private(path: Path) -> None:
    """Create the cache's folder (0700) and file (0600) if missing: it holds absolute paths."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    os.close(fd)


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """The cache file in this version's layout; another layout (an older dedup) is started
    afresh rather than misread.

    Raises:
        OSError: the folder or file cannot be made (``create``).
        sqlite3.Error: the file is not an SQLite database, or cannot be written.
    """
    if create:
        _make_private(path)
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect in a new file: pruning gives space back
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint (the one step that syncs to disk in WAL mode) every 64 MB of log, not 4 MB:
        # a first scan writes about 4 KB a document, and synced every 4 MB it took 30% longer.
        db.execute("PRAGMA wal_autocheckpoint=16384")
        db.execute("PRAGMA cache_size=-65536")  # 64 MB of pages: a transaction of new batches stays in memory
        if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
            db.execute("BEGIN IMMEDIATE")  # one process resets it; another waits, then sees it done
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                old = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
                for table in _TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")  # our fixed table names
                db.execute(f"PRAGMA user_version={CACHE_VERSION}")
                db.executescript(_SCHEMA)  # commits
                if old:
                    db.execute("VACUUM")  # an old file: gives its space back and takes auto_vacuum
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)  # caches of older versions were world-readable
            else:
                db.commit()
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def _next_generation(db: sqlite3.Connection) -> int:
    """Count this scan (one short transaction: no lock is held across the run)."""
    with db:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('scans', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1"
        )
        return int(db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()[0])


@dataclass(frozen=True, slots=True)
class Pruned:
    """What pruning removed, and the cache's size on disk before and after."""

    batches: int
    contents: int
    files: int
    bytes_before: int
    bytes_after: int


def _disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.is_file())


def _prune(db: sqlite3.Connection, generation: int, keep_scans: int, max_bytes: int, path: Path) -> Pruned:
    """The size policy: batches unused for ``keep_scans`` scans go, then the least recently
    used while the rest pass ``max_bytes``; then the rows pointing into them, and the space."""
    before = _disk_size(path)
    batches = db.execute("DELETE FROM batches WHERE used <= ?", (generation - keep_scans,)).rowcount
    total = int(db.execute("SELECT COALESCE(SUM(bytes), 0) FROM batches").fetchone()[0])
    if total > max_bytes:
        drop = []
        for batch_id, size in db.execute("SELECT id, bytes FROM batches ORDER BY used, id").fetchall():
            if total <= max_bytes:
                break
            drop.append((batch_id,))
            total -= size
        db.executemany("DELETE FROM batches WHERE id=?", drop)
        batches += len(drop)
    contents = db.execute("DELETE FROM content WHERE batch NOT IN (SELECT id FROM batches)").rowcount
    # Batches no file points at any more (all their files changed or went away).
    batches += db.execute("DELETE FROM batches WHERE id NOT IN (SELECT batch FROM content)").rowcount
    files = db.execute(
        "DELETE FROM seen WHERE NOT EXISTS"
        " (SELECT 1 FROM content c WHERE c.digest = seen.digest AND c.params = seen.params)"
    ).rowcount
    db.commit()
    if batches or contents or files:
        db.execute("PRAGMA incremental_vacuum")  # freed pages back to the file system
        db.commit()
        with contextlib.suppress(sqlite3.OperationalError):  # busy: another scan is reading
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Pruned(batches, contents, files, before, _disk_size(path))


def _shown(path: Path) -> str:
    """A path for a one-line message: undecodable bytes and control characters escaped."""
    text = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _open_existing(path: Path) -> sqlite3.Connection | None:
    """An existing cache file for ``dedup cache``: None if there is none (or it is empty).

    Raises:
        CacheError: the path is a folder, or a file that is not a dedup cache.
    """
    shown = _shown(path)
    if path.is_dir():
        raise CacheError(f"the cache path is a folder, not a cache file: {shown}")
    try:
        with open_regular(path) as (f, _st):
            head = f.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheError(f"cannot read the cache file {shown}: {exc.strerror or exc}") from exc
    if not head:
        return None  # an empty file: what a scan killed as it created the cache leaves
    if head != _SQLITE_MAGIC:
        raise CacheError(f"not a dedup cache (not an SQLite file), left alone: {shown}")
    try:
        db = sqlite3.connect(path, timeout=30)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise CacheError(f"cannot read the cache file {shown}: {exc}") from exc
    if not tables & {"seen", "content", "batches"} and tables:
        db.close()
        raise CacheError(f"not a dedup cache (an SQLite file of something else), left alone: {shown}")
    return db


def info(path: Path) -> dict[str, object]:
    """What a cache file holds: for ``dedup cache info``.

    Raises:
        CacheError: the path is a folder, or not a dedup cache, or cannot be read.
    """
    db = _open_existing(path)
    if db is None:
        return {"path": str(path), "exists": False}
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != CACHE_VERSION:
            return {"path": str(path), "exists": True, "layout": version, "bytes": _disk_size(path)}
        count = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # fixed table names
            for table in ("seen", "content", "batches", "rankings", "results")
        }
        scans = db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()
    except sqlite3.Error as exc:
        raise CacheError(f"cannot read the cache file {_shown(path)}: {exc}") from exc
    finally:
        db.close()
    return {
        "path": str(path),
        "exists": True,
        "layout": version,
        "files": count["seen"],
        "contents": count["content"],
        "batches": count["batches"],
        "rankings": count["rankings"],
        "results": count["results"],
        "scans": scans[0] if scans else 0,
        "bytes": _disk_size(path),
    }


def prune(path: Path, keep_scans: int = KEEP_SCANS, max_bytes: int = MAX_BYTES) -> Pruned | None:
    """Apply the size policy to a cache file now (``dedup cache prune``); None if there is none.

    Raises:
        CacheError: the path is a folder, or not a dedup cache, or cannot be written.
    """
    db = _open_existing(path)
    if db is None:
        return None
    db.close()
    try:
        db = _connect(path, create=False)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot open the cache file {_shown(path)}: {exc}") from exc
    try:
        row = db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()
        return _prune(db, row[0] if row else 0, keep_scans, max_bytes, path)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot prune the cache file {_shown(path)}: {exc}") from exc
    finally:
        db.close()


def clear(path: Path) -> bool:
    """Delete a cache file (and its WAL side files); True if there was one.

    Raises:
        CacheError: the path is a folder or a file that is not a dedup cache (left alone).
        OSError: it cannot be deleted.
    """
    db = _open_existing(path)  # refuses what is not a cache
    if db is not None:
        db.close()
    found = False
    for p in [path, Path(f"{path}-wal"), Path(f"{path}-shm")]:
        if p.is_file():
            p.unlink()
            found = True
    return found


# --- whole results: JSON (documents as columns), compressed ---------------------------

_MATCH_COLUMNS = ("a", "b", "jaccard", "containment", "rule")


def encode_result(result: ScanResult) -> bytes:
    """Serialise a ScanResult but its timings (JSON escapes lone surrogates of odd names)."""
    columns = (result.docs if isinstance(result.docs, DocTable) else DocTable.of(result.docs)).columns()
    paths: dict[str, int] = {}  # records of one file share its path: stored once
    for p in columns["path"]:
        paths.setdefault(p, len(paths))
    body = {
        "roots": list(result.roots),
        "params": result.params,
        "summary": dataclasses.asdict(result.summary),
        "clusters": [
            [c.cluster_id, [[getattr(m, f) for f in _MEMBER_FIELDS] for m in c.members]] for c in result.clusters
        ],
        "skipped": [[s.rel, s.reason.value, s.detail] for s in result.skipped],
        "matches": {name: [getattr(m, name) for m in result.matches] for name in _MATCH_COLUMNS},
        "warnings": list(result.warnings),
    }
    docs = {"docs": {**columns, "path": [paths[p] for p in columns["path"]]}, "paths": list(paths)}
    # Two parts: the documents table is half the size, and is parsed only if it is used.
    main = zlib.compress(json.dumps(body, separators=(",", ":")).encode("ascii"), 1)
    table = zlib.compress(json.dumps(docs, separators=(",", ":")).encode("ascii"), 1)
    return len(main).to_bytes(8, "little") + main + table


def _doc_table(raw: bytes) -> DocTable:
    body = json.loads(raw)
    cols, paths = body["docs"], body["paths"]
    return DocTable.from_columns({**cols, "path": [paths[i] for i in cols["path"]]})


def decode_result(payload: bytes) -> ScanResult:
    """The ScanResult ``encode_result`` stored (timings empty)."""
    cut = 8 + int.from_bytes(payload[:8], "little")
    body = json.loads(zlib.decompress(payload[8:cut]))
    # Decompressed now (zlib's checksum catches a damaged value here), parsed when first used.
    docs = DocTable.deferred(functools.partial(_doc_table, zlib.decompress(payload[cut:])))
    matches = body["matches"]
    return ScanResult(
        roots=tuple(body["roots"]),
        params=body["params"],
        summary=Summary(**body["summary"]),
        clusters=tuple(Cluster(cid, tuple(_member(v) for v in members)) for cid, members in body["clusters"]),
        skipped=tuple(Skipped(rel, SkipReason(reason), detail) for rel, reason, detail in body["skipped"]),
        docs=docs,
        matches=tuple(map(Match, *(matches[name] for name in _MATCH_COLUMNS))),
        warnings=tuple(body["warnings"]),
    )


_MEMBER_FIELDS = tuple(f.name for f in dataclasses.fields(Member))
_REASONS = _MEMBER_FIELDS.index("reasons")  # the one field JSON gives back as a list


def _member(values: list[Any]) -> Member:
    values[_REASONS] = tuple(values[_REASONS])
    return Member(*values)
